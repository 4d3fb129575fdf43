#include "daemon/digest_pages.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "jobs/digest.h"

namespace crmh {
namespace {

namespace fs = std::filesystem;

http::Response Text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

std::string DigestArchiveDir(const Config& cfg) {
  for (const auto& j : cfg.jobs) {
    if (j.kind == "digest") return jobs::digest::ArchiveDir(cfg, j);
  }
  JobConfig none;
  return jobs::digest::ArchiveDir(cfg, none);
}

bool IsIsoWeekLabel(const std::string& s) {
  if (s.size() != 8 || s[4] != '-' || s[5] != 'W') return false;
  for (size_t i : {0, 1, 2, 3, 6, 7}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  int w = (s[6] - '0') * 10 + (s[7] - '0');
  return w >= 1 && w <= 53;
}

http::Response DigestPage(const std::string& archive_dir, const std::string& rest) {
  std::string week = rest;
  if (week == "latest") {
    // ISO week labels sort chronologically as text (four-digit years).
    week.clear();
    std::error_code ec;
    for (fs::directory_iterator it(archive_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() != ".html" || !it->is_regular_file(ec)) continue;
      std::string stem = p.stem().string();
      if (IsIsoWeekLabel(stem) && stem > week) week = stem;
    }
    if (week.empty()) return Text(404, "no digest has been archived yet\n");
  } else if (!IsIsoWeekLabel(week)) {
    return Text(400, "bad request: use /digest/latest or /digest/YYYY-Www (e.g. /digest/2026-W48)\n");
  }
  fs::path path = fs::path(archive_dir) / (week + ".html");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Text(404, fmt::format("no digest archived for {}\n", week));
  std::ostringstream body;
  body << in.rdbuf();
  return {200, "text/html; charset=utf-8", body.str()};
}

}  // namespace crmh
