#include "jobs/digest_owner.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "crm/flags.h"
#include "crm/notices.h"
#include "jobs/audit.h"

namespace crmh::jobs::digest {

// Shared with jobs/digest.cpp (defined there).
std::string Centi(long long c);
std::string SignedCenti(long long c);
std::string Badges(const crm::ScoreRow& r);

namespace {

constexpr size_t kChunk = 500;  // contact ids per IN (...) lookup

const date::time_zone* ZoneOf(const std::string& name) {
  const date::time_zone* tz = LookupZone(name);
  return tz ? tz : LookupZone("UTC");
}

std::string Day(SysSeconds t, const std::string& zone) {
  return date::format("%Y-%m-%d", date::make_zoned(ZoneOf(zone), t));
}

std::string FirstCodePoint(std::string_view s) {
  if (s.empty()) return {};
  unsigned char c = static_cast<unsigned char>(s[0]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  return std::string(s.substr(0, std::min(len, s.size())));
}

struct ContactInfo {
  std::string owner, label;
};

// Owner and masked label of the given live contacts, looked up in chunks.
std::map<std::string, ContactInfo> LookupContacts(crm::Db& db, const Config& cfg, const DigestOptions& o,
                                                  const std::vector<std::string>& ids) {
  const Mapping& m = cfg.mapping;
  std::vector<std::pair<std::string, std::string>> cols;  // logical, column
  for (const char* f : {"owner", "first_name", "last_name", "email", "phone"}) {
    auto it = m.fields.find(f);
    if (it != m.fields.end() && !it->second.column.empty() && !it->second.related) {
      cols.emplace_back(f, it->second.column);
    }
  }
  std::map<std::string, ContactInfo> out;
  if (cols.empty() || cols.front().first != "owner") return out;  // no owner column: no owners
  std::string select = "CAST(" + db.Q(m.id_column) + " AS CHAR)";
  for (const auto& [f, c] : cols) select += ", " + db.Q(c);
  std::string live = m.soft_delete.empty() ? "" : fmt::format(" AND ({0} IS NULL OR {0} = 0)", db.Q(m.soft_delete));
  for (size_t i = 0; i < ids.size(); i += kChunk) {
    std::string in;
    for (size_t k = i; k < std::min(ids.size(), i + kChunk); ++k) {
      in += (in.empty() ? "" : ", ") + db.Literal(ids[k]);
    }
    soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
        "SELECT {} FROM {} WHERE {} IN ({}){}", select, db.Q(m.contacts_table), db.Q(m.id_column), in, live);
    for (const auto& r : rs) {
      std::map<std::string, std::string> v;
      for (size_t c = 0; c < cols.size(); ++c) v[cols[c].first] = crm::CellText(r, c + 1);
      std::string name = v["first_name"];
      if (!v["last_name"].empty()) name += (name.empty() ? "" : " ") + FirstCodePoint(v["last_name"]) + ".";
      std::string id = crm::CellText(r, 0);
      std::string label = name.empty() ? "contact " + id : name;
      if (!v["email"].empty()) label += " · " + (o.mask_emails ? MaskEmail(v["email"]) : v["email"]);
      if (!v["phone"].empty()) label += " · " + (o.mask_phones ? MaskPhone(v["phone"]) : v["phone"]);
      out[id] = {v["owner"], label};
    }
  }
  return out;
}

std::map<std::string, std::string> OwnerEmails(crm::Db& db, const Mapping& m) {
  std::map<std::string, std::string> out;
  if (m.users_table.empty() || m.users_email.empty()) return out;
  soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
      "SELECT CAST({} AS CHAR), {} FROM {}", db.Q(m.users_id), db.Q(m.users_email), db.Q(m.users_table));
  for (const auto& r : rs) {
    std::string e = crm::CellText(r, 1);
    if (e.find('@') != std::string::npos && e.find_first_of(" <>\r\n,") == std::string::npos) {
      out[crm::CellText(r, 0)] = e;
    }
  }
  return out;
}

double Num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::vector<ScoreAdvice> Advice(const crm::ScoreRow& row, const std::vector<std::string>& mandatory) {
  std::vector<ScoreAdvice> out;
  auto comps = nlohmann::json::parse(row.components_json, nullptr, false);
  if (!comps.is_object()) return out;
  std::string fields;
  for (const auto& f : mandatory) fields += (fields.empty() ? "" : ", ") + f;
  for (const auto& [name, c] : comps.items()) {
    if (!c.is_object() || !c.value("available", true)) continue;
    ScoreAdvice a{name, Num(c, "points"), Num(c, "max"), ""};
    if (a.max - a.points < 0.005) continue;
    auto n = [&](const char* k) { return static_cast<long long>(Num(c, k)); };
    if (name == "completeness") {
      a.how = fmt::format("{} of your {} records miss a mandatory field{}: fill them in.",
                          n("records") - n("complete_records"), n("records"),
                          fields.empty() ? "" : " (" + fields + ")");
    } else if (name == "validity") {
      a.how = fmt::format("{} of your {} records have an open validation flag: fix the ones listed "
                          "below (a flag clears at the next standardize run).",
                          n("records") - n("records_without_open_flags"), n("records"));
    } else if (name == "duplicates") {
      a.how = fmt::format("{} duplicate(s) of contacts you created were found: search the CRM "
                          "before adding a contact.",
                          n("duplicates_created"));
    } else if (name == "improvement") {
      a.how = fmt::format("You improved {} of the {} records that needed it since the last scored "
                          "week: each record you complete or fix counts.",
                          n("improved"), n("needed_fixing"));
    } else if (name == "staleness") {
      a.how = fmt::format("{} of your records had no activity for {} days: contact them, or let "
                          "them go when prune announces them.",
                          n("stale"), n("stale_days"));
    } else {
      a.how = "See `crm-hygiene run <score job> --json` for this component.";
    }
    out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(), [](const ScoreAdvice& x, const ScoreAdvice& y) {
    return x.max - x.points > y.max - y.points;
  });
  return out;
}

}  // namespace

std::string FlagAdvice(const std::string& code) {
  static const std::map<std::string, std::string> k = {
      {"email_syntax", "not a valid address: correct it, or clear the field"},
      {"email_typo_domain", "the domain looks mistyped: check it against the suggestion"},
      {"email_disposable", "a throwaway mailbox: ask the contact for a lasting address"},
      {"email_role", "a role mailbox (info@, sales@): add the person's own address"},
      {"phone_invalid", "not a valid number: check the digits and the country code"},
      {"phone_type", "the number's type does not fit the field (e.g. a landline as mobile)"},
      {"placeholder", "placeholder data (test, N/A, 555-01xx): enter the real value or remove it"},
      {"name_is_email", "the name field holds an address: move it to the email field"},
      {"name_is_phone", "the name field holds a number: move it to the phone field"},
      {"country_unknown", "an unknown country: use its name or ISO code"},
  };
  auto it = k.find(code);
  return it == k.end() ? "check the value" : it->second;
}

std::string OwnerFileName(const std::string& owner) {
  std::string out;
  for (unsigned char c : owner) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("_{:02X}", c);  // injective: '_' itself becomes _5F
    }
  }
  return out.empty() ? "_" : out;
}

Result<std::vector<OwnerDigest>> BuildOwnerDigests(crm::Db& db, const Config& cfg,
                                                   const JobConfig& job, const Model& m) {
  const DigestOptions& o = job.digest;
  std::map<std::string, OwnerDigest> by_owner;
  Status st = crm::Guard("reading the per-owner digests", [&] {
    auto flags = crm::ListFlags(db, /*open_only=*/true);
    if (!flags) throw std::runtime_error(flags.error().message);
    auto notices = crm::ListNotices(db, "", /*open_only=*/true);
    if (!notices) throw std::runtime_error(notices.error().message);
    std::set<std::string> ids;
    for (const auto& f : *flags) ids.insert(f.contact_id);
    for (const auto& n : *notices) ids.insert(n.contact_id);
    auto contacts = LookupContacts(db, cfg, o, std::vector<std::string>(ids.begin(), ids.end()));
    auto names = OwnerNames(db, cfg.mapping);
    auto emails = OwnerEmails(db, cfg.mapping);

    auto digest_of = [&](const std::string& owner) -> OwnerDigest& {
      OwnerDigest& d = by_owner[owner];
      d.owner = owner;
      return d;
    };
    // Flags of live contacts, by their owner now (a flag follows the contact to a new owner).
    for (const auto& f : *flags) {
      auto c = contacts.find(f.contact_id);
      if (c == contacts.end() || c->second.owner.empty()) continue;
      OwnerDigest& d = digest_of(c->second.owner);
      ++d.flags_total;
      d.flags.push_back({f.contact_id, c->second.label, f.field, f.code, f.detail});
    }
    // Notices by the owner recorded when the contact was announced (the contact may be gone).
    for (const auto& n : *notices) {
      auto c = contacts.find(n.contact_id);
      std::string owner = c != contacts.end() && !c->second.owner.empty() ? c->second.owner : n.owner;
      if (owner.empty()) continue;
      OwnerDigest& d = digest_of(owner);
      ++d.notices_total;
      d.notices.push_back({n.job, n.contact_id, c != contacts.end() ? c->second.label : "contact " + n.contact_id,
                           n.reasons, n.prune_after});
    }
    std::vector<std::string> mandatory;
    if (const JobConfig* sj = cfg.FindJob(m.scores.job)) mandatory = sj->mandatory;
    for (const auto& r : m.scores.rows) {
      if (r.owner.empty()) continue;
      OwnerDigest& d = digest_of(r.owner);
      d.score = r;
      d.owners_ranked = static_cast<int>(m.scores.rows.size());
      d.advice = Advice(r, mandatory);
    }
    for (auto& [owner, d] : by_owner) {
      if (auto it = names.find(owner); it != names.end()) d.name = it->second;
      if (auto it = o.owners.find(owner); it != o.owners.end()) {
        d.email = it->second;
      } else if (auto by_name = o.owners.find(d.name); !d.name.empty() && by_name != o.owners.end()) {
        d.email = by_name->second;
      } else if (auto e = emails.find(owner); e != emails.end()) {
        d.email = e->second;
      }
      if (d.name.empty() && d.score) d.name = d.score->name;
      std::sort(d.flags.begin(), d.flags.end(), [](const OwnerFlag& x, const OwnerFlag& y) {
        return std::tie(x.contact_id, x.field, x.code) < std::tie(y.contact_id, y.field, y.code);
      });
      std::sort(d.notices.begin(), d.notices.end(), [](const OwnerNotice& x, const OwnerNotice& y) {
        return std::tie(x.prune_after, x.contact_id) < std::tie(y.prune_after, y.contact_id);
      });
      if (d.flags.size() > static_cast<size_t>(o.owner_limit)) d.flags.resize(static_cast<size_t>(o.owner_limit));
      if (d.notices.size() > static_cast<size_t>(o.owner_limit)) d.notices.resize(static_cast<size_t>(o.owner_limit));
    }
  });
  if (!st) return st.error();
  std::vector<OwnerDigest> out;
  for (auto& [owner, d] : by_owner) out.push_back(std::move(d));
  return out;
}

namespace {

std::string Who(const OwnerDigest& d) { return d.name.empty() ? "owner " + d.owner : d.name; }

std::string ScoreLine(const OwnerDigest& d) {
  const crm::ScoreRow& r = *d.score;
  std::string s = fmt::format("{} out of 100, rank {} of {}", Centi(r.score_centi), r.rank, d.owners_ranked);
  s += r.delta_centi ? fmt::format(" ({} since the week before)", SignedCenti(*r.delta_centi)) : " (first scored week)";
  std::string badges = Badges(r);
  if (!badges.empty()) s += "; badges: " + badges;
  return s;
}

}  // namespace

std::string OwnerSubject(const Model& m, const OwnerDigest& d) {
  std::string s = fmt::format("{} {} for {}: {} flag(s) to fix, {} contact(s) to be pruned", m.title,
                              m.week.label, Who(d), d.flags_total, d.notices_total);
  if (d.score) s += ", score " + Centi(d.score->score_centi);
  return s;
}

std::string RenderOwnerText(const Model& m, const OwnerDigest& d) {
  std::string o;
  o += fmt::format("{} — week {} — for {}\n\n", m.title, m.week.label, Who(d));
  o += "YOUR SCORE\n";
  if (!d.score) {
    o += "  Not scored yet (no score job has run for your records).\n";
  } else {
    o += fmt::format("  {} (week {})\n", ScoreLine(d), m.scores.week);
    if (d.advice.empty()) o += "  Every component is at its maximum. Keep it so.\n";
    for (const auto& a : d.advice) {
      o += fmt::format("  {:<13}{:>6.2f} of {:>5.2f}  {}\n", a.component, a.points, a.max, a.how);
    }
  }
  o += fmt::format("\nVALIDATION FLAGS TO FIX ({})\n", d.flags_total);
  if (d.flags_total == 0) o += "  None: nothing of yours is flagged.\n";
  for (const auto& f : d.flags) {
    o += fmt::format("  contact {:<8} {}  {}: {}{} — {}\n", f.contact_id, f.contact, f.field, f.code,
                     f.detail.empty() ? "" : " (" + f.detail + ")", FlagAdvice(f.code));
  }
  if (d.flags_total > static_cast<long long>(d.flags.size())) {
    o += fmt::format("  … and {} more\n", d.flags_total - static_cast<long long>(d.flags.size()));
  }
  o += fmt::format("\nCONTACTS ANNOUNCED FOR PRUNING ({})\n", d.notices_total);
  if (d.notices_total == 0) o += "  None.\n";
  for (const auto& n : d.notices) {
    o += fmt::format("  contact {:<8} {}  {}  pruned from {}; keep it: crm-hygiene rescue {}\n", n.contact_id,
                     n.contact, n.reasons, Day(n.prune_after, m.time_zone), n.contact_id);
  }
  if (d.notices_total > static_cast<long long>(d.notices.size())) {
    o += fmt::format("  … and {} more (crm-hygiene notices)\n",
                     d.notices_total - static_cast<long long>(d.notices.size()));
  }
  o += fmt::format("\nThe team's digest: week {}. Generated {} by crm-hygiene.\n", m.week.label,
                   FormatRfc3339(m.generated_at));
  return o;
}

std::string RenderOwnerHtml(const Model& m, const OwnerDigest& d) {
  auto e = [](std::string_view s) { return HtmlEscape(s); };
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += fmt::format("<title>{} {} — {}</title>", e(m.title), e(m.week.label), e(Who(d)));
  o += "<style>body{font-family:sans-serif;color:#222;max-width:760px;margin:1em auto;padding:0 1em}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid "
       "#ddd;text-align:left;vertical-align:top}h2{margin-top:1.5em;font-size:1.1em;border-bottom:2px "
       "solid #4a7}code{background:#f3f3f3;padding:1px 4px}.muted{color:#777}</style></head><body>\n";
  o += fmt::format("<h1>{} — week {}</h1>\n<p>For <b>{}</b>: your records that need attention.</p>\n",
                   e(m.title), e(m.week.label), e(Who(d)));
  o += "<h2>Your score</h2>\n";
  if (!d.score) {
    o += "<p class=\"muted\">Not scored yet (no score job has run for your records).</p>\n";
  } else {
    o += fmt::format("<p><b>{}</b> (week {}).</p>\n", e(ScoreLine(d)), e(m.scores.week));
    if (d.advice.empty()) {
      o += "<p>Every component is at its maximum. Keep it so.</p>\n";
    } else {
      o += "<p>How to raise it, the biggest gain first:</p>\n<table><tr><th>component</th><th>points</th>"
           "<th>of</th><th>how</th></tr>\n";
      for (const auto& a : d.advice) {
        o += fmt::format("<tr><td>{}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td></tr>\n", e(a.component),
                         a.points, a.max, e(a.how));
      }
      o += "</table>\n";
    }
  }
  o += fmt::format("<h2>Validation flags to fix ({})</h2>\n", d.flags_total);
  if (d.flags_total == 0) {
    o += "<p>None: nothing of yours is flagged.</p>\n";
  } else {
    o += "<table><tr><th>contact</th><th>field</th><th>problem</th><th>what to do</th></tr>\n";
    for (const auto& f : d.flags) {
      o += fmt::format("<tr><td>#{} {}</td><td>{}</td><td><code>{}</code>{}</td><td>{}</td></tr>\n",
                       e(f.contact_id), e(f.contact), e(f.field), e(f.code),
                       f.detail.empty() ? "" : " " + e(f.detail), e(FlagAdvice(f.code)));
    }
    o += "</table>\n";
    if (d.flags_total > static_cast<long long>(d.flags.size())) {
      o += fmt::format("<p class=\"muted\">… and {} more.</p>\n",
                       d.flags_total - static_cast<long long>(d.flags.size()));
    }
  }
  o += fmt::format("<h2>Contacts announced for pruning ({})</h2>\n", d.notices_total);
  if (d.notices_total == 0) {
    o += "<p>None.</p>\n";
  } else {
    o += "<p>They will be removed from the date shown unless they see activity or you keep them.</p>\n"
         "<table><tr><th>contact</th><th>why</th><th>pruned from</th><th>keep it</th></tr>\n";
    for (const auto& n : d.notices) {
      o += fmt::format("<tr><td>#{} {}</td><td>{}</td><td>{}</td><td><code>crm-hygiene rescue {}</code></td></tr>\n",
                       e(n.contact_id), e(n.contact), e(n.reasons), e(Day(n.prune_after, m.time_zone)),
                       e(n.contact_id));
    }
    o += "</table>\n";
    if (d.notices_total > static_cast<long long>(d.notices.size())) {
      o += fmt::format("<p class=\"muted\">… and {} more (<code>crm-hygiene notices</code>).</p>\n",
                       d.notices_total - static_cast<long long>(d.notices.size()));
    }
  }
  o += fmt::format("<p class=\"muted\">Generated {} by crm-hygiene.</p>\n</body></html>\n",
                   e(FormatRfc3339(m.generated_at)));
  return o;
}

}  // namespace crmh::jobs::digest
