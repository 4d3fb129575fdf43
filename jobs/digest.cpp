#include "jobs/digest.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "crm/notices.h"
#include "crm/review.h"
#include "jobs/digest_mail.h"
#include "jobs/digest_owner.h"

namespace crmh::jobs {
namespace digest {
namespace {

namespace fs = std::filesystem;
constexpr int kTrendWeeks = 12;

const date::time_zone* Zone(const JobConfig& job) {
  const date::time_zone* tz = LookupZone(job.time_zone);
  return tz ? tz : LookupZone("UTC");
}

std::string LocalTime(SysSeconds t, const date::time_zone* tz, const char* fmt) {
  return date::format(fmt, date::make_zoned(tz, t));
}

struct JournalRow {
  std::string job, kind, status, started, finished, message;
  bool dry = false;
  nlohmann::json counts;
};

long long Num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<long long>(it->get<double>()) : it->get<long long>();
}

double Seconds(const std::string& from, const std::string& to) {
  auto a = ParseSqlTime(from), b = ParseSqlTime(to);
  if (!a || !b) return 0;
  return static_cast<double>((*b - *a).count());
}

Result<NoticesSummary> ReadNotices(crm::Db& db, SysSeconds now) {
  auto open = crm::ListNotices(db, "", /*open_only=*/true);
  if (!open) return open.error();
  NoticesSummary n;
  for (const auto& row : *open) {
    ++n.open;
    if (row.prune_after <= now + std::chrono::days{7}) ++n.due_soon;
    if (!n.next_due || row.prune_after < *n.next_due) n.next_due = row.prune_after;
  }
  return n;
}

// The newest scored week at or before `week` (ISO labels sort as text), of any score job.
Result<Leaderboard> ReadLeaderboard(crm::Db& db, const std::string& week) {
  Leaderboard board;
  Status st = crm::Guard("reading the score weeks", [&] {
    soci::indicator ind = soci::i_null;
    db.sql() << fmt::format("SELECT job, week FROM {} WHERE week <= :w ORDER BY week DESC, job "
                            "LIMIT 1",
                            db.State("score_weeks")),
        soci::use(week), soci::into(board.job, ind), soci::into(board.week);
    if (ind != soci::i_ok) board.job.clear(), board.week.clear();
  });
  if (!st) return st.error();
  if (board.job.empty()) return board;
  auto rows = crm::LoadScores(db, board.job, board.week);
  if (!rows) return rows.error();
  board.rows = std::move(*rows);
  std::sort(board.rows.begin(), board.rows.end(),
            [](const crm::ScoreRow& x, const crm::ScoreRow& y) { return x.rank < y.rank; });
  return board;
}

std::string FirstChars(std::string_view s, size_t n) {
  // n UTF-8 code points (a name's initial may be multi-byte).
  size_t i = 0, seen = 0;
  while (i < s.size() && seen < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    i += len;
    ++seen;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

// "Jane D. · j***@example.com · ***67" from the CRM row; the last name is always cut to its
// initial, emails and phones are masked unless the options say otherwise.
std::string SurvivorLabel(crm::Db& db, const Config& cfg, const DigestOptions& o,
                          const std::string& id) {
  const Mapping& m = cfg.mapping;
  std::vector<std::pair<std::string, std::string>> cols;  // logical, column
  for (const char* f : {"first_name", "last_name", "email", "phone"}) {
    auto it = m.fields.find(f);
    if (it != m.fields.end() && !it->second.column.empty() && !it->second.related) {
      cols.emplace_back(f, it->second.column);
    }
  }
  std::map<std::string, std::string> v;
  if (!cols.empty()) {
    std::string select;
    for (const auto& [f, c] : cols) select += (select.empty() ? "" : ", ") + db.Q(c);
    Status st = crm::Guard("", [&] {
      soci::row r;
      db.sql() << fmt::format("SELECT {} FROM {} WHERE {} = :id", select, db.Q(m.contacts_table),
                              db.Q(m.id_column)),
          soci::use(id), soci::into(r);
      if (!db.sql().got_data()) return;
      for (size_t i = 0; i < cols.size(); ++i) v[cols[i].first] = crm::CellText(r, i);
    });
    (void)st;  // a contact we cannot read is shown by id only
  }
  std::string name = v["first_name"];
  if (!v["last_name"].empty()) name += (name.empty() ? "" : " ") + FirstChars(v["last_name"], 1) + ".";
  std::string out = name.empty() ? "contact " + id : name;
  if (!v["email"].empty()) out += " · " + (o.mask_emails ? MaskEmail(v["email"]) : v["email"]);
  if (!v["phone"].empty()) out += " · " + (o.mask_phones ? MaskPhone(v["phone"]) : v["phone"]);
  return out;
}

}  // namespace

Week WeekOf(SysSeconds t, const date::time_zone* tz) {
  auto local = date::make_zoned(tz, t).get_local_time();
  auto day = date::floor<date::days>(local);
  date::weekday wd{day};
  auto monday = day - (wd - date::Monday);
  auto to_utc = [&](date::local_days d) {
    return std::chrono::floor<std::chrono::seconds>(
        tz->to_sys(date::local_seconds(d), date::choose::earliest));
  };
  Week w;
  w.start = to_utc(monday);
  w.end = to_utc(monday + date::days{7});
  w.label = IsoWeek(w.start, tz);
  return w;
}

Week Shift(const Week& w, int weeks, const date::time_zone* tz) {
  // Noon of the Monday moved by whole weeks lands in the wanted week whatever DST does.
  return WeekOf(w.start + std::chrono::hours(12) + date::days{7 * weeks}, tz);
}

std::string ArchiveDir(const Config& cfg, const JobConfig& job) {
  if (!job.digest.archive_dir.empty()) return job.digest.archive_dir;
  return (fs::path(cfg.state.directory) / "digests").string();
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string MaskEmail(std::string_view email) {
  auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return FirstChars(email, 1) + "***" + std::string(email.substr(at));
}

std::string MaskPhone(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (digits.size() < 4) return "***";
  return "***" + digits.substr(digits.size() - 2);
}

Result<Model> BuildModel(crm::Db& db, const Config& cfg, const JobConfig& job, SysSeconds now) {
  const date::time_zone* tz = Zone(job);
  Model m;
  m.title = job.digest.title;
  m.time_zone = job.time_zone;
  m.generated_at = now;
  m.week = WeekOf(now, tz);
  if (job.digest.week == "previous") m.week = Shift(m.week, -1, tz);
  m.previous = Shift(m.week, -1, tz);

  std::vector<Week> weeks;
  for (int i = kTrendWeeks - 1; i >= 0; --i) weeks.push_back(Shift(m.week, -i, tz));
  const std::string from = FormatSqlTime(weeks.front().start);
  const std::string to = FormatSqlTime(m.week.end);

  std::vector<JournalRow> journal;
  struct ReviewRow {
    long long id;
    std::string status, created, decided;
  };
  std::vector<ReviewRow> reviews;
  std::vector<long long> flags_open(weeks.size(), 0);
  // week label → (field → filled, total) of the week's latest audit run
  std::map<std::string, std::string> latest_audit;
  std::map<std::string, std::map<std::string, std::pair<long long, long long>>> audit;

  Status st = crm::Guard("reading the state tables for the digest", [&] {
    {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format(
               "SELECT job, kind, status, dry_run, CAST(started_at AS CHAR), "
               "CAST(finished_at AS CHAR), counts, message FROM {} WHERE started_at >= :f AND "
               "started_at < :t ORDER BY started_at, run_id",
               db.State("runs")),
           soci::use(from), soci::use(to));
      for (const auto& r : rs) {
        JournalRow j;
        j.job = crm::CellText(r, 0);
        j.kind = crm::CellText(r, 1);
        j.status = crm::CellText(r, 2);
        j.dry = crm::CellInt(r, 3) != 0;
        j.started = crm::CellText(r, 4);
        j.finished = crm::CellText(r, 5);
        j.counts = nlohmann::json::parse(crm::CellText(r, 6), nullptr, false);
        if (!j.counts.is_object()) j.counts = nlohmann::json::object();
        j.message = crm::CellText(r, 7);
        journal.push_back(std::move(j));
      }
    }
    {
      soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
          "SELECT id, status, CAST(created_at AS CHAR), CAST(decided_at AS CHAR) FROM {}",
          db.State("review"));
      for (const auto& r : rs) {
        reviews.push_back({crm::CellInt(r, 0), crm::CellText(r, 1), crm::CellText(r, 2),
                           crm::CellText(r, 3)});
      }
    }
    for (size_t i = 0; i < weeks.size(); ++i) {
      std::string end = FormatSqlTime(weeks[i].end);
      db.sql() << fmt::format("SELECT COUNT(*) FROM {} WHERE opened_at < :e AND (cleared_at IS "
                              "NULL OR cleared_at >= :e2)",
                              db.State("flags")),
          soci::use(end), soci::use(end), soci::into(flags_open[i]);
    }
    {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format(
               "SELECT week, MAX(run_id) FROM {} WHERE week >= :a AND week <= :b GROUP BY week",
               db.State("audit_snapshots")),
           soci::use(weeks.front().label), soci::use(weeks.back().label));
      for (const auto& r : rs) latest_audit[crm::CellText(r, 0)] = crm::CellText(r, 1);
    }
    for (const auto& [week, run] : latest_audit) {
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format("SELECT field, SUM(filled), SUM(total) FROM {} WHERE "
                                           "run_id = :r GROUP BY field ORDER BY field",
                                           db.State("audit_snapshots")),
           soci::use(run));
      for (const auto& r : rs) {
        audit[week][crm::CellText(r, 0)] = {crm::CellInt(r, 1), crm::CellInt(r, 2)};
      }
    }
    {
      soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
          "SELECT code, COUNT(*) FROM {} WHERE cleared_at IS NULL GROUP BY code ORDER BY 2 DESC, 1",
          db.State("flags"));
      for (const auto& r : rs) m.flags_by_code.emplace_back(crm::CellText(r, 0), crm::CellInt(r, 1));
    }
  });
  if (!st) return st.error();

  auto headline = [&](size_t wi) {
    const Week& w = weeks[wi];
    const std::string a = FormatSqlTime(w.start), b = FormatSqlTime(w.end);
    Headline h;
    for (const auto& j : journal) {
      if (j.started < a || j.started >= b || j.dry || j.kind == "digest") continue;
      if (j.status == "running") continue;
      if (j.status == "skipped") {
        ++h.skips;
        continue;
      }
      ++h.runs;
      if (j.status == "failed" || j.status == "refused" || j.status == "interrupted") ++h.runs_failed;
      if (j.kind == "dedup") {
        h.contacts_merged += Num(j.counts, "contacts_merged");
        if (j.status == "ok" || j.status == "interrupted") {
          h.duplicates_found += Num(j.counts, "clusters_auto");
        }
      }
      if (j.kind == "standardize" && j.status == "ok") {
        auto it = j.counts.find("fields_changed");
        if (it != j.counts.end() && it->is_object()) {
          for (const auto& [rule, n] : it->items()) {
            if (n.is_number()) h.fields_standardized += n.get<long long>();
          }
        }
      }
    }
    for (const auto& r : reviews) {
      if (r.created >= a && r.created < b) ++h.duplicates_found;
      bool open_at_end = r.created < b && (r.status == "open" || (!r.decided.empty() && r.decided >= b));
      if (open_at_end) ++h.review_open;
    }
    h.flags_open = flags_open[wi];
    if (auto it = audit.find(w.label); it != audit.end()) {
      long long filled = 0, total = 0;
      for (const auto& [field, ft] : it->second) {
        if (field.empty()) {
          h.contacts = ft.second;
        } else {
          filled += ft.first;
          total += ft.second;
        }
      }
      if (total > 0) h.completeness_pct = std::round(1000.0 * filled / total) / 10.0;
    }
    return h;
  };
  for (size_t i = 0; i < weeks.size(); ++i) {
    Headline h = headline(i);
    m.trend.push_back({weeks[i].label, h.contacts_merged, h.flags_open, h.duplicates_found,
                       h.completeness_pct});
    if (i + 2 == weeks.size()) m.before = h;
    if (i + 1 == weeks.size()) m.now = h;
  }
  if (auto it = audit.find(m.week.label); it != audit.end()) {
    for (const auto& [field, ft] : it->second) {
      if (field.empty()) continue;
      double pct = ft.second == 0 ? 100.0 : std::round(1000.0 * ft.first / ft.second) / 10.0;
      m.fields.push_back({field, ft.first, ft.second, pct});
    }
  }

  // What needs a human: the review items open now, the oldest first.
  std::vector<crm::ReviewItem> open;
  {
    auto items = crm::ListReview(db, "open", 100000);
    if (!items) return items.error();
    open = std::move(*items);
  }
  std::sort(open.begin(), open.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  m.review_total = static_cast<long long>(open.size());
  for (const auto& it : open) {
    if (static_cast<int>(m.review.size()) >= job.digest.review_limit) break;
    ReviewLine line;
    line.id = it.id;
    line.score = it.score;
    line.members = it.members;
    line.created_at = it.created_at;
    line.survivor = SurvivorLabel(db, cfg, job.digest, it.survivor);
    m.review.push_back(std::move(line));
  }

  // Job health: every configured job and every job the journal knows in the window.
  std::map<std::string, JobHealth> health;
  for (const auto& j : cfg.jobs) health[j.name] = JobHealth{j.name, j.kind};
  const std::string wa = FormatSqlTime(m.week.start), wb = FormatSqlTime(m.week.end);
  for (const auto& j : journal) {
    if (j.dry || j.started >= wb) continue;
    JobHealth& h = health[j.job];
    h.job = j.job;
    if (h.kind.empty()) h.kind = j.kind;
    if (j.status == "running") {
      h.last_status = "running";
      h.last_started = "now";
      continue;
    }
    h.last_status = j.status;
    if (auto t = ParseSqlTime(j.started)) h.last_started = LocalTime(*t, tz, "%a %Y-%m-%d %H:%M %Z");
    h.last_message = j.message;
    h.last_seconds = j.finished.empty() ? 0 : Seconds(j.started, j.finished);
    if (j.started < wa) continue;
    if (j.status == "ok") ++h.ok;
    else if (j.status == "failed") ++h.failed;
    else if (j.status == "refused") ++h.refused;
    else if (j.status == "interrupted") ++h.interrupted;
    else if (j.status == "skipped") ++h.skipped;
    h.max_seconds = std::max(h.max_seconds, h.last_seconds);
  }
  for (auto& [name, h] : health) m.health.push_back(std::move(h));

  auto notices = ReadNotices(db, now);
  if (!notices) return notices.error();
  m.notices = *notices;
  auto scores = ReadLeaderboard(db, m.week.label);
  if (!scores) return scores.error();
  m.scores = std::move(*scores);
  return m;
}

namespace {

std::string Delta(long long now, long long before) {
  long long d = now - before;
  if (d == 0) return "±0";
  return d > 0 ? fmt::format("+{}", d) : fmt::format("−{}", -d);
}

std::string Pct(const std::optional<double>& v) { return v ? fmt::format("{:.1f}%", *v) : "n/a"; }

std::string DeltaPct(const std::optional<double>& now, const std::optional<double>& before) {
  if (!now || !before) return "n/a";
  double d = std::round((*now - *before) * 10) / 10;
  if (d == 0) return "±0 pts";
  return d > 0 ? fmt::format("+{:.1f} pts", d) : fmt::format("−{:.1f} pts", -d);
}

std::string Count(const std::optional<long long>& v) { return v ? std::to_string(*v) : "n/a"; }

std::string DeltaOpt(const std::optional<long long>& now, const std::optional<long long>& before) {
  if (!now || !before) return "n/a";
  return Delta(*now, *before);
}

struct HeadRow {
  std::string label, now, before, change;
};

std::vector<HeadRow> HeadRows(const Model& m) {
  const Headline &a = m.now, &b = m.before;
  auto row = [](std::string l, long long x, long long y) {
    return HeadRow{std::move(l), std::to_string(x), std::to_string(y), Delta(x, y)};
  };
  return {
      {"contacts", Count(a.contacts), Count(b.contacts), DeltaOpt(a.contacts, b.contacts)},
      row("hygiene job runs", a.runs, b.runs),
      row("runs failed / refused / interrupted", a.runs_failed, b.runs_failed),
      row("runs skipped", a.skips, b.skips),
      row("duplicate clusters found", a.duplicates_found, b.duplicates_found),
      row("contacts merged", a.contacts_merged, b.contacts_merged),
      row("duplicates waiting for review", a.review_open, b.review_open),
      row("fields standardized", a.fields_standardized, b.fields_standardized),
      row("validation flags open", a.flags_open, b.flags_open),
      {"completeness (mandatory fields)", Pct(a.completeness_pct), Pct(b.completeness_pct),
       DeltaPct(a.completeness_pct, b.completeness_pct)},
  };
}

std::string Dates(const Model& m) {
  const date::time_zone* tz = LookupZone(m.time_zone);
  if (!tz) tz = LookupZone("UTC");
  return fmt::format("{} – {}", LocalTime(m.week.start, tz, "%a %d %b"),
                     LocalTime(m.week.end - std::chrono::seconds(1), tz, "%a %d %b %Y"));
}

}  // namespace

std::string Subject(const Model& m) {
  return fmt::format("{} {}: {} merged, {} waiting for review, completeness {}", m.title,
                     m.week.label, m.now.contacts_merged, m.now.review_open,
                     Pct(m.now.completeness_pct));
}

std::string Centi(long long c) { return fmt::format("{:.2f}", static_cast<double>(c) / 100.0); }
std::string SignedCenti(long long c) { return (c > 0 ? "+" : "") + Centi(c); }

std::string Badges(const crm::ScoreRow& r) {
  std::string out;
  auto j = nlohmann::json::parse(r.badges_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& b : j) {
    if (!b.is_string()) continue;
    out += (out.empty() ? "" : ", ") + b.get<std::string>();
  }
  return out;
}

// The owner whose score rose most since the previous scored week (none if nobody rose).
const crm::ScoreRow* MostImproved(const Leaderboard& board) {
  const crm::ScoreRow* best = nullptr;
  for (const auto& r : board.rows) {
    if (r.delta_centi && *r.delta_centi > 0 && (!best || *r.delta_centi > *best->delta_centi)) best = &r;
  }
  return best;
}

// "  N contact(s) announced for pruning; M due within 7 days (next: DATE)" or "  none".
std::string NoticesLine(const Model& m) {
  if (m.notices.open == 0) return "  No contacts are announced for pruning.";
  std::string next;
  if (m.notices.next_due) {
    const date::time_zone* tz = LookupZone(m.time_zone);
    next = LocalTime(*m.notices.next_due, tz ? tz : LookupZone("UTC"), "%Y-%m-%d");
  }
  return fmt::format("  {} contact(s) announced for pruning; {} due within 7 days (the first on {}).",
                     m.notices.open, m.notices.due_soon, next);
}

std::string RenderText(const Model& m) {
  std::string o;
  o += fmt::format("{} — week {} ({}, {})\n\n", m.title, m.week.label, m.time_zone, Dates(m));
  o += fmt::format("HEADLINE{:>40}{:>12}{:>12}\n", "this week", "last week", "change");
  for (const auto& r : HeadRows(m)) {
    o += fmt::format("  {:<36}{:>10}{:>12}{:>12}\n", r.label, r.now, r.before, r.change);
  }
  o += "\nNEEDS A HUMAN\n";
  if (m.review_total == 0) {
    o += "  No duplicates are waiting for review.\n";
  } else {
    o += fmt::format("  {} duplicate cluster(s) wait for review: crm-hygiene review list\n",
                     m.review_total);
    for (const auto& r : m.review) {
      std::string members;
      for (const auto& id : r.members) members += (members.empty() ? "" : ", ") + id;
      o += fmt::format("  #{:<5} score {:.2f}  {}  (records {})\n", r.id, r.score, r.survivor,
                       members);
    }
    if (m.review_total > static_cast<long long>(m.review.size())) {
      o += fmt::format("  … and {} more\n", m.review_total - static_cast<long long>(m.review.size()));
    }
  }
  o += "\nVALIDATION FLAGS OPEN\n";
  if (m.flags_by_code.empty()) o += "  none\n";
  for (const auto& [code, n] : m.flags_by_code) o += fmt::format("  {:<28}{:>8}\n", code, n);
  o += "\nCOMPLETENESS BY FIELD (latest audit of the week)\n";
  if (m.fields.empty()) o += "  no audit ran this week\n";
  for (const auto& f : m.fields) {
    o += fmt::format("  {:<16}{:>7.1f}%  ({} of {})\n", f.field, f.pct, f.filled, f.total);
  }
  o += "\n12-WEEK TREND\n";
  o += fmt::format("  {:<10}{:>10}{:>10}{:>12}{:>14}\n", "week", "found", "merged", "flags open",
                   "completeness");
  for (const auto& t : m.trend) {
    o += fmt::format("  {:<10}{:>10}{:>10}{:>12}{:>14}\n", t.week, t.duplicates_found,
                     t.contacts_merged, t.flags_open, Pct(t.completeness_pct));
  }
  o += "\nPRUNE NOTICES\n";
  o += NoticesLine(m) + "\n";
  if (m.notices.open > 0) {
    o += "  list them: crm-hygiene notices; keep one: crm-hygiene rescue CONTACT_ID\n";
  }
  o += "\nOWNER SCORES\n";
  if (m.scores.rows.empty()) {
    o += "  No owner scores yet (no score job has run).\n";
  } else {
    o += fmt::format("  week {} (job {}); score = the sum of its components (run score --json)\n",
                     m.scores.week, m.scores.job);
    o += fmt::format("  {:<5}{:<24}{:>8}{:>9}  {}\n", "rank", "owner", "score", "change", "badges");
    for (const auto& r : m.scores.rows) {
      o += fmt::format("  {:<5}{:<24}{:>8}{:>9}  {}\n", r.rank, FirstChars(r.name.empty() ? r.owner : r.name, 23),
                       Centi(r.score_centi), r.delta_centi ? SignedCenti(*r.delta_centi) : "new",
                       Badges(r));
    }
    if (const crm::ScoreRow* best = MostImproved(m.scores)) {
      o += fmt::format("  most improved: {} ({})\n", best->name.empty() ? best->owner : best->name,
                       SignedCenti(*best->delta_centi));
    }
  }
  o += "\nJOB HEALTH (this week)\n";
  o += fmt::format("  {:<22}{:<12}{:>4}{:>7}{:>8}{:>8}{:>8}  {}\n", "job", "kind", "ok", "failed",
                   "refused", "interr.", "skipped", "last run");
  for (const auto& h : m.health) {
    std::string last = h.last_status.empty()    ? "never"
                       : h.last_status == "running" ? "running now"
                                                    : fmt::format("{} {} ({:.0f}s)", h.last_status, h.last_started,
                                         h.last_seconds);
    o += fmt::format("  {:<22}{:<12}{:>4}{:>7}{:>8}{:>8}{:>8}  {}\n", h.job, h.kind, h.ok,
                     h.failed, h.refused, h.interrupted, h.skipped, last);
  }
  o += fmt::format("\nGenerated {} by crm-hygiene.\n", FormatRfc3339(m.generated_at));
  return o;
}

std::string RenderHtml(const Model& m, const std::vector<Chart>& charts, ImageRefs refs) {
  auto e = [](std::string_view s) { return HtmlEscape(s); };
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += fmt::format("<title>{} {}</title>", e(m.title), e(m.week.label));
  o += "<style>body{font-family:sans-serif;color:#222;max-width:760px;margin:1em auto;padding:0 1em}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid "
       "#ddd;text-align:right}td:first-child,th:first-child{text-align:left}h2{margin-top:1.5em;"
       "font-size:1.1em;border-bottom:2px solid #4a7}code{background:#f3f3f3;padding:1px 4px}"
       ".muted{color:#777}</style></head><body>\n";
  o += fmt::format("<h1>{} — week {}</h1>\n<p class=\"muted\">{} ({})</p>\n", e(m.title),
                   e(m.week.label), e(Dates(m)), e(m.time_zone));
  o += "<h2>Headline</h2>\n<table><tr><th></th><th>this week</th><th>last week</th><th>change</th></tr>\n";
  for (const auto& r : HeadRows(m)) {
    o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", e(r.label), e(r.now),
                     e(r.before), e(r.change));
  }
  o += "</table>\n";
  auto img = [&](const Chart& c) {
    std::string src = refs == ImageRefs::kCid ? "cid:" + c.cid : "data:image/png;base64," + Base64(c.png);
    return fmt::format("<p><img src=\"{}\" alt=\"{}\" width=\"640\"></p>\n", e(src), e(c.alt));
  };
  for (const auto& c : charts) {
    if (c.name == "trend.png" || c.name == "completeness_trend.png") o += img(c);
  }
  o += "<h2>Needs a human</h2>\n";
  if (m.review_total == 0) {
    o += "<p>No duplicates are waiting for review.</p>\n";
  } else {
    o += fmt::format("<p>{} duplicate cluster(s) wait for review: <code>crm-hygiene review list</code>, "
                     "then <code>review approve ID</code> or <code>review reject ID</code>.</p>\n",
                     m.review_total);
    o += "<table><tr><th>item</th><th>score</th><th>survivor</th><th>records</th></tr>\n";
    for (const auto& r : m.review) {
      std::string members;
      for (const auto& id : r.members) members += (members.empty() ? "" : ", ") + id;
      o += fmt::format("<tr><td>#{}</td><td>{:.2f}</td><td>{}</td><td>{}</td></tr>\n", r.id, r.score,
                       e(r.survivor), e(members));
    }
    o += "</table>\n";
    if (m.review_total > static_cast<long long>(m.review.size())) {
      o += fmt::format("<p class=\"muted\">… and {} more.</p>\n",
                       m.review_total - static_cast<long long>(m.review.size()));
    }
  }
  o += "<h2>Validation flags open</h2>\n";
  if (m.flags_by_code.empty()) {
    o += "<p>None.</p>\n";
  } else {
    o += "<table><tr><th>code</th><th>open</th></tr>\n";
    for (const auto& [code, n] : m.flags_by_code) {
      o += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", e(code), n);
    }
    o += "</table>\n";
  }
  o += "<h2>Completeness by field</h2>\n";
  if (m.fields.empty()) {
    o += "<p>No audit ran this week.</p>\n";
  } else {
    for (const auto& c : charts) {
      if (c.name == "fields.png") o += img(c);
    }
    o += "<table><tr><th>field</th><th>filled</th><th>of</th><th>%</th></tr>\n";
    for (const auto& f : m.fields) {
      o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}%</td></tr>\n", e(f.field),
                       f.filled, f.total, f.pct);
    }
    o += "</table>\n";
  }
  o += "<h2>Prune notices</h2>\n";
  o += "<p>" + e(NoticesLine(m).substr(2)) + "</p>\n";
  if (m.notices.open > 0) {
    o += "<p>List them: <code>crm-hygiene notices</code>; keep one: <code>crm-hygiene rescue "
         "CONTACT_ID</code>.</p>\n";
  }
  o += "<h2>Owner scores</h2>\n";
  if (m.scores.rows.empty()) {
    o += "<p class=\"muted\">No owner scores yet (no score job has run).</p>\n";
  } else {
    o += fmt::format("<p>Week {} (job {}); each score is the sum of its components "
                     "(<code>crm-hygiene run {} --json</code> shows them).</p>\n",
                     e(m.scores.week), e(m.scores.job), e(m.scores.job));
    o += "<table><tr><th>rank</th><th>owner</th><th>score</th><th>change</th><th>badges</th></tr>\n";
    for (const auto& r : m.scores.rows) {
      o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", r.rank,
                       e(r.name.empty() ? r.owner : r.name), Centi(r.score_centi),
                       r.delta_centi ? e(SignedCenti(*r.delta_centi)) : "new", e(Badges(r)));
    }
    o += "</table>\n";
    if (const crm::ScoreRow* best = MostImproved(m.scores)) {
      o += fmt::format("<p>Most improved: {} ({}).</p>\n", e(best->name.empty() ? best->owner : best->name),
                       e(SignedCenti(*best->delta_centi)));
    }
  }
  o += "<h2>Job health (this week)</h2>\n<table><tr><th>job</th><th>kind</th><th>ok</th><th>failed</th>"
       "<th>refused</th><th>interrupted</th><th>skipped</th><th>last run</th><th>took</th></tr>\n";
  for (const auto& h : m.health) {
    o += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        e(h.job), e(h.kind), h.ok, h.failed, h.refused, h.interrupted, h.skipped,
        h.last_status.empty() ? "never" : e(h.last_status + " " + h.last_started),
        h.last_status.empty() || h.last_status == "running" ? "" : fmt::format("{:.0f}s", h.last_seconds));
  }
  o += "</table>\n";
  o += fmt::format("<h2>12-week trend</h2>\n<table><tr><th>week</th><th>found</th><th>merged</th>"
                   "<th>flags open</th><th>completeness</th></tr>\n");
  for (const auto& t : m.trend) {
    o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", e(t.week),
                     t.duplicates_found, t.contacts_merged, t.flags_open, e(Pct(t.completeness_pct)));
  }
  o += "</table>\n";
  o += fmt::format("<p class=\"muted\">Generated {} by crm-hygiene.</p>\n</body></html>\n",
                   e(FormatRfc3339(m.generated_at)));
  return o;
}

}  // namespace digest

Status DigestJob::Plan(RunContext& ctx, RunReport& report) {
  auto m = digest::BuildModel(ctx.db, ctx.cfg, ctx.job, ctx.clock.Now());
  if (!m) return m.error();
  model_ = std::move(*m);
  const digest::Headline& h = model_->now;
  report.counts["runs"] = h.runs;
  report.counts["runs_failed"] = h.runs_failed;
  report.counts["skips"] = h.skips;
  report.counts["duplicates_found"] = h.duplicates_found;
  report.counts["contacts_merged"] = h.contacts_merged;
  report.counts["review_open"] = h.review_open;
  report.counts["fields_standardized"] = h.fields_standardized;
  report.counts["flags_open"] = h.flags_open;
  if (h.contacts) report.counts["contacts"] = *h.contacts;
  if (h.completeness_pct) report.counts["completeness_pct"] = *h.completeness_pct;
  report.details["week"] = model_->week.label;
  report.details["week_start"] = FormatRfc3339(model_->week.start);
  report.details["week_end"] = FormatRfc3339(model_->week.end);
  report.details["notices_open"] = model_->notices.open;
  report.details["scores_week"] = model_->scores.week;
  report.message = fmt::format("digest {}: {} merged, {} waiting for review, {} flags open",
                               model_->week.label, h.contacts_merged, h.review_open, h.flags_open);
  return Status::Ok();
}

Status DigestJob::Record(RunContext& ctx, RunReport& report) {
  namespace fs = std::filesystem;
  const digest::Model& m = *model_;
  const DigestOptions& o = ctx.job.digest;
  auto charts = digest::RenderCharts(m);
  if (!charts) return charts.error();
  const std::string text = digest::RenderText(m);

  // The archive first: whatever happens to the mail, the digest is kept.
  fs::path dir = digest::ArchiveDir(ctx.cfg, ctx.job);
  fs::path path = dir / (m.week.label + ".html");
  {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error::Failed(fmt::format("cannot create the digest archive {}: {}", dir.string(), ec.message()));
    fs::path tmp = dir / fmt::format(".{}.html.{}", m.week.label, ::getpid());
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << digest::RenderHtml(m, *charts, digest::ImageRefs::kDataUri);
      f.close();
      if (!f) return Error::Failed(fmt::format("cannot write {}", tmp.string()));
    }
    fs::rename(tmp, path, ec);
    if (ec) return Error::Failed(fmt::format("cannot write {}: {}", path.string(), ec.message()));
    std::ofstream t(dir / (m.week.label + ".txt"), std::ios::binary | std::ios::trunc);
    t << text;
  }
  report.counts["archived"] = 1;
  report.details["archive"] = path.string();
  report.message += "; archived " + path.string();

  std::vector<std::string> failures;
  const bool mail = o.send && !o.recipients.empty() && !o.smtp_url.empty();
  report.counts["delivered"] = 0;
  if (mail) {
    auto msg = digest::BuildMessage(o, m, text, digest::RenderHtml(m, *charts, digest::ImageRefs::kCid),
                                    *charts, ctx.clock.Now(), ctx.run_id);
    auto password = digest::ReadSmtpPassword(o);
    if (!password) return password.error();
    digest::Delivery d = digest::Send(o, msg, *password, ctx.stop_requested);
    report.counts["recipients"] = static_cast<long long>(o.recipients.size());
    report.counts["delivery_attempts"] = d.attempts;
    report.counts["delivered"] = d.delivered ? 1 : 0;
    report.counts["delivery_failed"] = d.delivered ? 0 : 1;
    report.details["message_id"] = msg.message_id;
    if (d.delivered) {
      report.message += fmt::format("; mailed to {} recipient(s)", o.recipients.size());
    } else {
      failures.push_back(fmt::format("delivery to {} failed after {} attempt(s): {}", o.smtp_url,
                                     d.attempts, d.error));
    }
  }
  if (o.send && !o.webhook_url.empty()) {
    digest::Delivery d =
        digest::PostWebhook(o, digest::WebhookJson(m, path.string()), ctx.stop_requested);
    report.counts["webhook_attempts"] = d.attempts;
    report.counts["webhook_delivered"] = d.delivered ? 1 : 0;
    report.counts["webhook_failed"] = d.delivered ? 0 : 1;
    if (d.delivered) {
      report.message += "; webhook posted";
    } else {
      failures.push_back(fmt::format("webhook to {} failed after {} attempt(s): {}",
                                     digest::UrlHost(o.webhook_url),
                                     d.attempts, d.error));
    }
  }
  if (o.per_owner) {
    Status st = RecordOwners(ctx, report, dir.string(), failures);
    if (!st) return st;
  }
  if (!failures.empty()) {
    std::string all;
    for (const auto& f : failures) all += (all.empty() ? "" : "; ") + f;
    return Error::Failed(fmt::format("digest {}: {}; the digest is archived at {}", m.week.label, all,
                                     path.string()));
  }
  return Status::Ok();
}

}  // namespace crmh::jobs

namespace crmh::jobs {

// Per-owner digests: archived under <dir>/owners/<week>/, mailed to each owner with an address
// when the run sends. After one owner's mail has failed every attempt, the others get one attempt
// each (a dead server should not hold the run for owners × retries × backoff); every failure is
// counted and named in the run's message.
Status DigestJob::RecordOwners(RunContext& ctx, RunReport& report, const std::string& archive_dir,
                               std::vector<std::string>& failures) {
  namespace fs = std::filesystem;
  const digest::Model& m = *model_;
  const DigestOptions& o = ctx.job.digest;
  auto owners = digest::BuildOwnerDigests(ctx.db, ctx.cfg, ctx.job, m);
  if (!owners) return owners.error();
  fs::path dir = fs::path(archive_dir) / "owners" / m.week.label;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::Failed(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  const bool mail = o.send && !o.smtp_url.empty() && !o.from.empty();
  std::string password;
  if (mail) {
    auto pw = digest::ReadSmtpPassword(o);
    if (!pw) return pw.error();
    password = *pw;
  }
  long long archived = 0, delivered = 0, failed = 0, no_address = 0, attempts = 0;
  for (const auto& d : *owners) {
    const std::string text = digest::RenderOwnerText(m, d);
    const std::string html = digest::RenderOwnerHtml(m, d);
    const std::string base = digest::OwnerFileName(d.owner);
    fs::path tmp = dir / fmt::format(".{}.html.{}", base, ::getpid());
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << html;
      f.close();
      if (!f) return Error::Failed(fmt::format("cannot write {}", tmp.string()));
    }
    fs::rename(tmp, dir / (base + ".html"), ec);
    if (ec) return Error::Failed(fmt::format("cannot write {}: {}", (dir / (base + ".html")).string(), ec.message()));
    std::ofstream(dir / (base + ".txt"), std::ios::binary | std::ios::trunc) << text;
    ++archived;
    if (!mail) continue;
    if (d.email.empty()) {
      ++no_address;
      continue;
    }
    DigestOptions one = o;
    one.recipients = {d.email};
    if (failed > 0) one.retries = 0;
    auto msg = digest::BuildMessage(one, m, text, html, {}, ctx.clock.Now(), ctx.run_id,
                                    digest::OwnerSubject(m, d));
    digest::Delivery dl = digest::Send(one, msg, password, ctx.stop_requested);
    attempts += dl.attempts;
    if (dl.delivered) {
      ++delivered;
    } else {
      ++failed;
      failures.push_back(fmt::format("the digest of owner {} failed after {} attempt(s): {}", d.owner,
                                     dl.attempts, dl.error));
    }
  }
  report.counts["owner_digests"] = archived;
  report.details["owner_archive"] = dir.string();
  if (mail) {
    report.counts["owner_mails_delivered"] = delivered;
    report.counts["owner_mails_failed"] = failed;
    report.counts["owner_delivery_attempts"] = attempts;
    report.counts["owners_without_address"] = no_address;
  }
  report.message += fmt::format("; {} owner digest(s) archived", archived);
  if (mail) report.message += fmt::format(", {} mailed", delivered);
  return Status::Ok();
}

}  // namespace crmh::jobs
