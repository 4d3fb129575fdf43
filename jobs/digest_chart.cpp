// The digest's charts, drawn with cairo into PNG bytes (no files: the archive embeds them as
// data: URIs, the mail as inline parts).
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "jobs/digest.h"

namespace crmh::jobs::digest {
namespace {

constexpr int kW = 640, kH = 240;
constexpr double kLeft = 56, kRight = 24, kTop = 48, kBottom = 36;

struct Rgb {
  double r, g, b;
};
constexpr Rgb kInk{0.13, 0.13, 0.13}, kGrid{0.87, 0.87, 0.87}, kGreen{0.27, 0.6, 0.4},
    kBlue{0.22, 0.42, 0.75}, kOrange{0.9, 0.5, 0.15};

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

void Color(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

void Text(cairo_t* cr, double x, double y, const std::string& s, double size, Rgb c,
          double align = 0) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  Color(cr, c);
  cairo_move_to(cr, x - align * ext.x_advance, y);
  cairo_show_text(cr, s.c_str());
}

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A white canvas with a title; returns the PNG once `draw` has drawn on it.
Result<std::string> Canvas(const std::string& title, const std::function<void(cairo_t*)>& draw) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, kW, kH), &cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return Error::Failed("cairo could not create an image surface");
  }
  {
    Context cr(cairo_create(surface.get()), &cairo_destroy);
    cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    Text(cr.get(), kLeft, 20, title, 13, kInk);
    draw(cr.get());
  }
  std::string png;
  if (cairo_surface_write_to_png_stream(surface.get(), &Append, &png) != CAIRO_STATUS_SUCCESS) {
    return Error::Failed("cairo could not encode a PNG");
  }
  return png;
}

struct Series {
  std::string name;
  Rgb color;
  std::vector<std::optional<double>> values;
};

double NiceMax(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double s : {1.0, 2.0, 5.0, 10.0}) {
    if (s * p >= v) return s * p;
  }
  return 10 * p;
}

void LineChart(cairo_t* cr, const std::vector<std::string>& labels, const std::vector<Series>& series,
               double max, const std::string& unit) {
  const double w = kW - kLeft - kRight, h = kH - kTop - kBottom;
  const size_t n = labels.size();
  auto x = [&](size_t i) { return kLeft + (n <= 1 ? w / 2 : w * static_cast<double>(i) / (n - 1)); };
  auto y = [&](double v) { return kTop + h - h * v / max; };
  cairo_set_line_width(cr, 1);
  for (int g = 0; g <= 4; ++g) {
    double v = max * g / 4;
    Color(cr, kGrid);
    cairo_move_to(cr, kLeft, y(v));
    cairo_line_to(cr, kLeft + w, y(v));
    cairo_stroke(cr);
    Text(cr, kLeft - 6, y(v) + 4, fmt::format("{:g}{}", v, unit), 10, kInk, 1);
  }
  for (size_t i = 0; i < n; ++i) {
    // "2026-W48" → "W48"
    std::string l = labels[i].size() > 5 ? labels[i].substr(5) : labels[i];
    Text(cr, x(i), kH - kBottom + 16, l, 10, kInk, 0.5);
  }
  double lx = kLeft;
  for (const auto& s : series) {
    Color(cr, s.color);
    cairo_set_line_width(cr, 2.5);
    bool pen = false;
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (!s.values[i]) {
        pen = false;
        continue;
      }
      if (pen) cairo_line_to(cr, x(i), y(*s.values[i]));
      else cairo_move_to(cr, x(i), y(*s.values[i]));
      pen = true;
    }
    cairo_stroke(cr);
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (!s.values[i]) continue;
      cairo_arc(cr, x(i), y(*s.values[i]), 3, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_rectangle(cr, lx, 27, 12, 8);
    cairo_fill(cr);
    Text(cr, lx + 16, 35, s.name, 11, kInk);
    lx += 24 + 7.0 * static_cast<double>(s.name.size());
  }
}

}  // namespace

Result<std::vector<Chart>> RenderCharts(const Model& m) {
  std::vector<Chart> out;
  std::vector<std::string> labels;
  Series found{"duplicates found", kBlue, {}}, merged{"contacts merged", kGreen, {}},
      flags{"flags open", kOrange, {}}, complete{"completeness %", kGreen, {}};
  double max = 0;
  for (const auto& t : m.trend) {
    labels.push_back(t.week);
    found.values.emplace_back(static_cast<double>(t.duplicates_found));
    merged.values.emplace_back(static_cast<double>(t.contacts_merged));
    flags.values.emplace_back(static_cast<double>(t.flags_open));
    complete.values.push_back(t.completeness_pct);
    max = std::max({max, static_cast<double>(t.duplicates_found),
                    static_cast<double>(t.contacts_merged), static_cast<double>(t.flags_open)});
  }
  auto trend = Canvas("Duplicates and validation flags, 12 weeks", [&](cairo_t* cr) {
    LineChart(cr, labels, {found, merged, flags}, NiceMax(max), "");
  });
  if (!trend) return trend.error();
  out.push_back({"trend-" + m.week.label + "@crm-hygiene", "trend.png",
                 "Duplicates found, contacts merged and validation flags open over 12 weeks", *trend});

  auto comp = Canvas("Completeness of the mandatory fields, 12 weeks", [&](cairo_t* cr) {
    LineChart(cr, labels, {complete}, 100, "%");
  });
  if (!comp) return comp.error();
  out.push_back({"completeness-" + m.week.label + "@crm-hygiene", "completeness_trend.png",
                 "Completeness of the mandatory fields over 12 weeks", *comp});

  if (!m.fields.empty()) {
    auto fields = Canvas("Completeness by field (latest audit)", [&](cairo_t* cr) {
      const double top = kTop + 4, h = kH - top - 12;
      const double bar = std::min(22.0, h / static_cast<double>(m.fields.size()));
      const double x0 = 120, w = kW - x0 - 70;
      for (size_t i = 0; i < m.fields.size(); ++i) {
        const auto& f = m.fields[i];
        double y = top + bar * static_cast<double>(i);
        Text(cr, x0 - 8, y + bar * 0.7, f.field, 11, kInk, 1);
        Color(cr, kGrid);
        cairo_rectangle(cr, x0, y + 2, w, bar - 4);
        cairo_fill(cr);
        Color(cr, f.pct >= 90 ? kGreen : f.pct >= 70 ? kOrange : Rgb{0.8, 0.25, 0.2});
        cairo_rectangle(cr, x0, y + 2, w * f.pct / 100.0, bar - 4);
        cairo_fill(cr);
        Text(cr, x0 + w + 6, y + bar * 0.7, fmt::format("{:.1f}%", f.pct), 11, kInk);
      }
    });
    if (!fields) return fields.error();
    out.push_back({"fields-" + m.week.label + "@crm-hygiene", "fields.png",
                   "Completeness by mandatory field", *fields});
  }
  return out;
}

}  // namespace crmh::jobs::digest
