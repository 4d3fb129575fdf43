#include "jobs/score.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "crm/ledger.h"
#include "jobs/audit.h"

namespace crmh::jobs {

SysSeconds IsoWeekStart(SysSeconds t, const date::time_zone* tz) {
  if (!tz) tz = date::locate_zone("UTC");
  auto local = date::make_zoned(tz, t).get_local_time();
  auto day = date::floor<date::days>(local);
  date::weekday wd{day};
  auto monday = day - (wd - date::Monday);
  // A midnight that does not exist (a DST gap at 00:00) maps to the transition.
  return date::make_zoned(tz, date::local_seconds{monday}, date::choose::earliest).get_sys_time();
}

std::vector<long long> SplitPoints(const std::vector<double>& weights) {
  std::vector<long long> out(weights.size(), 0);
  double sum = 0;
  for (double w : weights) sum += std::max(0.0, w);
  if (sum <= 0) return out;
  std::vector<std::pair<double, size_t>> rest;
  long long given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    double raw = 10000.0 * std::max(0.0, weights[i]) / sum;
    out[i] = static_cast<long long>(std::floor(raw));
    given += out[i];
    rest.push_back({raw - std::floor(raw), i});
  }
  std::stable_sort(rest.begin(), rest.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < 10000 && k < rest.size(); ++k, ++given) {
    if (weights[rest[k].second] > 0) {
      ++out[rest[k].second];
    } else {
      --given;
    }
  }
  return out;
}

namespace {

// The components in report order.
const std::vector<std::string>& ComponentNames() {
  static const std::vector<std::string> k = {"completeness", "validity", "duplicates",
                                             "improvement", "staleness"};
  return k;
}

double Points(long long centi) { return static_cast<double>(centi) / 100.0; }

// 1 when column `col` of the row aliased `a` is non-blank.
std::string FilledCol(const crm::Db& db, const std::string& a, const std::string& col) {
  std::string c = a + "." + db.Q(col);
  return fmt::format("CASE WHEN {0} IS NOT NULL AND TRIM(CAST({0} AS CHAR)) <> '' THEN 1 ELSE 0 END",
                     c);
}

struct Acc {
  long long records = 0;
  double completeness_sum = 0;  // Σ per-record weighted completeness
  long long complete = 0;       // records with every mandatory field filled
  long long valid = 0;          // records without an open flag
  long long stale = 0;
  long long needed_fixing = 0;  // at the baseline week: incomplete or flagged (and still live)
  long long improved = 0;       // of those, better now (credited)
  long long fixed_by_us = 0;    // better now because crm-hygiene enriched them (not credited)
  long long merged_away = 0;    // needed fixing at the baseline, since merged away by dedup
  long long duplicates = 0;     // created by this user, merged away by dedup this week
};

}  // namespace

Status ScoreJob::Plan(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const JobConfig& job = ctx.job;
  const ScoreOptions& opt = job.score;

  auto owner_it = m.fields.find("owner");
  if (owner_it == m.fields.end() || owner_it->second.related || owner_it->second.column.empty()) {
    return Error::Config(fmt::format(
        "job '{}': score needs the owner / assigned user column (mapping.fields.owner)", job.name));
  }
  std::vector<std::string> fields;
  std::vector<double> fweights;
  bool related_mandatory = false;
  for (const auto& f : job.mandatory) {
    auto it = m.fields.find(f);
    if (it == m.fields.end()) {
      return Error::Config(fmt::format("job '{}': mandatory field '{}' is not mapped (mapping.fields)",
                                       job.name, f));
    }
    if (it->second.related) related_mandatory = true;
    fields.push_back(f);
    auto w = job.weights.find(f);
    fweights.push_back(w == job.weights.end() ? 1.0 : w->second);
  }
  double wsum = 0;
  for (double w : fweights) wsum += w;

  const SysSeconds now = ctx.clock.Now();
  const date::time_zone* tz = LookupZone(job.time_zone);
  const std::string week = IsoWeek(now, tz);
  const SysSeconds week_start = IsoWeekStart(now, tz);
  const std::string now_sql = FormatSqlTime(now);
  const std::string week_start_sql = FormatSqlTime(week_start);
  const std::string stale_cutoff = FormatSqlTime(now - std::chrono::days(opt.stale_days));

  auto prev = crm::PreviousScoreWeek(db, job.name, week);
  if (!prev) return prev.error();
  std::unordered_map<std::string, crm::RecordQuality> base;
  std::map<std::string, crm::ScoreRow> prev_scores;
  if (*prev) {
    auto q = crm::LoadRecordQualities(db, job.name, (*prev)->week);
    if (!q) return q.error();
    for (auto& r : *q) base.emplace(r.contact_id, std::move(r));
    auto ps = crm::LoadScores(db, job.name, (*prev)->week);
    if (!ps) return ps.error();
    for (auto& r : *ps) prev_scores.emplace(r.owner, std::move(r));
  }

  // --- what we read ---
  std::string select = fmt::format("CAST(c.{} AS CHAR), COALESCE(CAST(c.{} AS CHAR), '')",
                                   db.Q(m.id_column), db.Q(owner_it->second.column));
  for (const auto& f : fields) select += ", " + FilledExpr(db, m, m.fields.at(f));
  const size_t act0 = 2 + fields.size();
  size_t nact = 0;
  for (const auto& a : m.activity) {
    select += ", " + ActivityExpr(db, m, a);
    ++nact;
  }
  const bool staleness_available = nact > 0;
  std::optional<size_t> created_col;
  if (auto it = m.fields.find("created_at"); staleness_available && it != m.fields.end() &&
                                             !it->second.related && !it->second.column.empty()) {
    created_col = act0 + nact;
    select += fmt::format(", CAST(c.{} AS CHAR)", db.Q(it->second.column));
  }
  const std::string active =
      m.soft_delete.empty() ? "" : fmt::format(" WHERE COALESCE(c.{}, 0) = 0", db.Q(m.soft_delete));

  // Duplicates are charged to whoever created them (created_by), else to the record's owner.
  std::string creator_col = owner_it->second.column;
  if (auto it = m.fields.find("created_by");
      it != m.fields.end() && !it->second.related && !it->second.column.empty()) {
    creator_col = it->second.column;
  }

  std::map<std::string, Acc> acc;
  std::unordered_set<std::string> flagged;
  std::unordered_set<std::string> enriched_by_us;
  std::unordered_set<std::string> merged_since_baseline;  // dedup losers since the baseline
  std::unordered_set<std::string> live;
  std::map<std::string, long long> dups_by_creator;
  long long unassigned = 0;
  std::map<std::string, std::string> names;
  records_.clear();

  Status st = crm::Guard("scoring", [&] {
    {
      soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
          "SELECT DISTINCT contact_id FROM {} WHERE cleared_at IS NULL", db.State("flags"));
      for (const auto& r : rs) flagged.insert(crm::CellText(r, 0));
    }
    const std::string runs = db.State("runs");
    const std::string ledger = db.State("ledger");
    const std::string shadow = db.State("bk_" + m.contacts_table);
    // Records crm-hygiene itself made more complete since the baseline (a merge filling a
    // survivor's empty field): their improvement is ours, not the owner's. Runs are placed in
    // time by their journal row (the injected clock), not by wall-clock ledger stamps.
    if (*prev) {
      const std::string since = FormatSqlTime((*prev)->scored_at);
      long long touched = 0;
      db.sql() << fmt::format("SELECT COUNT(*) FROM {} l JOIN {} r ON r.run_id = l.run_id WHERE "
                              "l.table_name = :t AND r.started_at >= :s AND r.started_at <= :n",
                              ledger, runs),
          soci::use(m.contacts_table), soci::use(since), soci::use(now_sql), soci::into(touched);
      if (touched > 0) {
        std::string before = "0", after = "0";
        if (!related_mandatory) {
          for (const auto& f : fields) {
            const std::string& col = m.fields.at(f).column;
            before += " + " + FilledCol(db, "b", col);
            after += " + " + FilledCol(db, "a", col);
          }
        }
        // The after-image: a typed image 'a' (runs before state V9), else the ledger row's
        // after_text, split into its values here (crm::SplitRowText). A missing image, a text
        // that does not split into the table's columns, or a mandatory field we cannot see in the
        // contacts row (a related table), counts as ours: when in doubt, nobody earns credit.
        std::vector<size_t> mandatory_at;  // positions of the mandatory columns in the row text
        bool positions_known = !related_mandatory;
        auto cols = crm::OrderedColumns(db, m.contacts_table);
        if (!cols) throw std::runtime_error(cols.error().message);
        for (const auto& f : fields) {
          if (related_mandatory) break;
          auto it = std::find(cols->begin(), cols->end(), m.fields.at(f).column);
          if (it == cols->end()) positions_known = false;
          else mandatory_at.push_back(static_cast<size_t>(it - cols->begin()));
        }
        std::string join = "b.crmh_run_id = l.run_id AND b.crmh_set = l.set_no AND b.crmh_op = "
                           "l.op_no AND b.crmh_image = 'b'";
        std::string join_a = "a.crmh_run_id = l.run_id AND a.crmh_set = l.set_no AND a.crmh_op = "
                             "l.op_no AND a.crmh_image = 'a'";
        soci::rowset<soci::row> rs =
            (db.sql().prepare << fmt::format(
                 "SELECT l.row_id, CASE WHEN b.crmh_op IS NULL THEN 1 WHEN {} THEN 1 WHEN "
                 "a.crmh_op IS NULL THEN 2 WHEN ({}) > ({}) THEN 1 ELSE 0 END, {}, CASE WHEN "
                 "l.after_text IS NULL THEN '' ELSE {}(l.after_text) END FROM {} l JOIN {} r ON "
                 "r.run_id = l.run_id LEFT JOIN {} b ON {} LEFT JOIN {} a ON {} WHERE l.table_name "
                 "= :t AND r.started_at >= :s AND r.started_at <= :n",
                 related_mandatory ? "1 = 1" : "1 = 0", after, before, before,
                 db.mysql() ? "HEX" : "hex", ledger, runs, shadow, join, shadow, join_a),
             soci::use(m.contacts_table), soci::use(since), soci::use(now_sql));
        for (const auto& r : rs) {
          long long verdict = crm::CellInt(r, 1);
          if (verdict == 2) {  // no typed after-image: the ledger's text
            verdict = 1;
            const std::string hex = crm::CellText(r, 3);
            std::string text;
            for (size_t i = 0; i + 1 < hex.size(); i += 2) {
              text += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
            }
            auto values = hex.empty() ? std::nullopt : crm::SplitRowText(db, text);
            if (positions_known && values && values->size() == cols->size()) {
              long long filled = 0;
              for (size_t at : mandatory_at) {
                const auto& v = (*values)[at];
                filled += v && v->find_first_not_of(' ') != std::string::npos ? 1 : 0;
              }
              verdict = filled > crm::CellInt(r, 2) ? 1 : 0;
            }
          }
          if (verdict != 0) enriched_by_us.insert(crm::CellText(r, 0));
        }
      }
    }
    // Contacts dedup merged away since the baseline (not restored): a record that needed fixing
    // and is gone this way was fixed by nobody — it leaves the improvement count (docs/score.md).
    // A removal is any of the engine's removing ops: soft_delete, delete, and archive (a row
    // moved to the state schema is as gone as a deleted one).
    if (*prev) {
      const std::string since = FormatSqlTime((*prev)->scored_at);
      soci::rowset<soci::row> rs =
          (db.sql().prepare << fmt::format(
               "SELECT l.row_id FROM {} l JOIN {} r ON r.run_id = l.run_id WHERE r.kind = 'dedup' "
               "AND l.table_name = :t AND l.op IN ('soft_delete', 'delete', 'archive') AND l.restored_at IS "
               "NULL AND r.started_at >= :s AND r.started_at <= :n",
               ledger, runs),
           soci::use(m.contacts_table), soci::use(since), soci::use(now_sql));
      for (const auto& r : rs) merged_since_baseline.insert(crm::CellText(r, 0));
    }
    // Duplicates dedup merged away this week, charged to their creator (from the before-image,
    // which exists for soft and hard deletes alike). A restored merge was no duplicate.
    {
      long long merged = 0;
      db.sql() << fmt::format("SELECT COUNT(*) FROM {} l JOIN {} r ON r.run_id = l.run_id WHERE "
                              "r.kind = 'dedup' AND l.table_name = :t AND l.op IN ('soft_delete', "
                              "'delete', 'archive') AND l.restored_at IS NULL AND r.started_at >= :ws AND "
                              "r.started_at <= :n",
                              ledger, runs),
          soci::use(m.contacts_table), soci::use(week_start_sql), soci::use(now_sql),
          soci::into(merged);
      if (merged > 0) {
        soci::rowset<soci::row> rs =
            (db.sql().prepare << fmt::format(
                 "SELECT COALESCE(CAST(b.{} AS CHAR), '') FROM {} l JOIN {} r ON r.run_id = "
                 "l.run_id LEFT JOIN {} b ON b.crmh_run_id = l.run_id AND b.crmh_set = l.set_no "
                 "AND b.crmh_op = l.op_no AND b.crmh_image = 'b' WHERE r.kind = 'dedup' AND "
                 "l.table_name = :t AND l.op IN ('soft_delete', 'delete', 'archive') AND l.restored_at IS "
                 "NULL AND r.started_at >= :ws AND r.started_at <= :n",
                 db.Q(creator_col), ledger, runs, shadow),
             soci::use(m.contacts_table), soci::use(week_start_sql), soci::use(now_sql));
        for (const auto& r : rs) ++dups_by_creator[crm::CellText(r, 0)];
      }
    }
    soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
        "SELECT {} FROM {} c{}", select, db.Q(m.contacts_table), active);
    for (const auto& r : rs) {
      std::string id = crm::CellText(r, 0);
      std::string owner = crm::CellText(r, 1);
      if (owner.empty()) {
        ++unassigned;
        continue;
      }
      Acc& a = acc[owner];
      ++a.records;
      if (*prev) live.insert(id);
      double num = 0;
      bool complete = true;
      for (size_t i = 0; i < fields.size(); ++i) {
        bool filled = crm::CellInt(r, 2 + i) != 0;
        if (filled) num += fweights[i];
        complete = complete && filled;
      }
      const double c = wsum > 0 ? num / wsum : 1.0;
      a.completeness_sum += c;
      if (complete) ++a.complete;
      const bool is_flagged = flagged.count(id) > 0;
      if (!is_flagged) ++a.valid;
      if (staleness_available) {
        std::string last;
        for (size_t i = 0; i < nact; ++i) last = std::max(last, crm::CellText(r, act0 + i));
        if (created_col) last = std::max(last, crm::CellText(r, *created_col));
        if (last.empty() || last.substr(0, 19) < stale_cutoff) ++a.stale;
      }
      crm::RecordQuality q{id, owner, c, is_flagged};
      const long long ppm = std::llround(c * 1e6);
      if (auto b = base.find(id); b != base.end()) {
        const long long base_ppm = std::llround(b->second.completeness * 1e6);
        if (base_ppm < 1000000 || b->second.flagged) {
          ++a.needed_fixing;
          // Better: more complete without gaining a flag, or a flag gone without losing a field.
          const bool better = (ppm > base_ppm && (b->second.flagged || !is_flagged)) ||
                              (b->second.flagged && !is_flagged && ppm >= base_ppm);
          // A cleared flag is the owner's work even when a crm-hygiene run also touched the
          // record: no run clears a flag (a merge never replaces a survivor's value, standardize
          // never turns a flagged value into a valid one).
          const bool flag_cleared = b->second.flagged && !is_flagged;
          if (better) {
            if (enriched_by_us.count(id) && !flag_cleared) {
              ++a.fixed_by_us;
            } else {
              ++a.improved;
            }
          }
        }
      }
      records_.push_back(std::move(q));
    }
    names = OwnerNames(db, m);
  });
  if (!st) return st;
  long long merged_away_total = 0;
  for (const auto& [id, b] : base) {
    if (live.count(id) || !merged_since_baseline.count(id)) continue;
    if (std::llround(b.completeness * 1e6) >= 1000000 && !b.flagged) continue;
    if (auto it = acc.find(b.owner); it != acc.end()) {
      ++it->second.merged_away;
      ++merged_away_total;
    }
  }

  long long dups_attributed = 0, dups_unattributed = 0;
  for (const auto& [creator, n] : dups_by_creator) {
    auto it = acc.find(creator);
    if (it == acc.end()) {
      dups_unattributed += n;
    } else {
      it->second.duplicates += n;
      dups_attributed += n;
    }
  }

  // --- points ---
  const bool improvement_available = prev->has_value();
  std::vector<double> cweights;
  for (const auto& name : ComponentNames()) {
    bool available = (name != "improvement" || improvement_available) &&
                     (name != "staleness" || staleness_available);
    auto it = opt.components.find(name);
    cweights.push_back(available && it != opt.components.end() ? it->second : 0.0);
  }
  const std::vector<long long> max_centi = SplitPoints(cweights);
  auto unavailable_why = [&](const std::string& name) -> std::string {
    if (name == "improvement" && !improvement_available) {
      return "no earlier scored week to compare against";
    }
    if (name == "staleness" && !staleness_available) return "no activity source is mapped";
    return "weight 0";
  };

  struct Scored {
    std::string owner;
    crm::ScoreRow row;
    nlohmann::json j;
    const Acc* a;
  };
  std::vector<Scored> scored;
  for (const auto& [owner, a] : acc) {
    const double n = static_cast<double>(a.records);
    std::vector<double> share = {
        a.completeness_sum / n,
        static_cast<double>(a.valid) / n,
        std::max(0.0, 1.0 - opt.duplicate_penalty * static_cast<double>(a.duplicates) / n),
        a.needed_fixing == 0 ? 1.0
                             : static_cast<double>(a.improved) / static_cast<double>(a.needed_fixing),
        1.0 - static_cast<double>(a.stale) / n,
    };
    nlohmann::json comps = nlohmann::json::object();
    long long total = 0;
    for (size_t i = 0; i < ComponentNames().size(); ++i) {
      const std::string& name = ComponentNames()[i];
      nlohmann::json cj;
      if (max_centi[i] == 0) {
        cj = {{"points", 0.0}, {"max", 0.0}, {"available", false}, {"why", unavailable_why(name)}};
      } else {
        const long long p = std::min(max_centi[i], std::llround(static_cast<double>(max_centi[i]) * share[i]));
        total += p;
        cj = {{"points", Points(p)}, {"max", Points(max_centi[i])}, {"share", share[i]}};
      }
      if (name == "completeness") {
        cj["records"] = a.records;
        cj["complete_records"] = a.complete;
        cj["weighted_filled"] = a.completeness_sum;
      } else if (name == "validity") {
        cj["records"] = a.records;
        cj["records_without_open_flags"] = a.valid;
      } else if (name == "duplicates") {
        cj["records"] = a.records;
        cj["duplicates_created"] = a.duplicates;
        cj["penalty"] = opt.duplicate_penalty;
      } else if (name == "improvement") {
        cj["needed_fixing"] = a.needed_fixing;
        cj["improved"] = a.improved;
        cj["fixed_by_crm_hygiene"] = a.fixed_by_us;
        cj["merged_away"] = a.merged_away;
        cj["baseline_week"] = *prev ? nlohmann::json((*prev)->week) : nlohmann::json(nullptr);
      } else if (name == "staleness") {
        cj["records"] = a.records;
        cj["stale"] = a.stale;
        cj["stale_days"] = opt.stale_days;
      }
      comps[name] = cj;
    }
    Scored s{owner, {}, nlohmann::json::object(), &a};
    s.row.owner = owner;
    s.row.name = names.count(owner) ? names[owner] : "";
    s.row.score_centi = total;
    s.row.records = a.records;
    s.row.components_json = comps.dump();
    if (auto p = prev_scores.find(owner); p != prev_scores.end()) {
      s.row.delta_centi = total - p->second.score_centi;
    }
    const bool streaking = total >= std::llround(opt.streak_min_score * 100);
    const auto p = prev_scores.find(owner);
    s.row.streak = streaking ? (p != prev_scores.end() ? p->second.streak : 0) + 1 : 0;
    s.j = {{"owner", owner}, {"name", s.row.name}, {"score", Points(total)}, {"records", a.records},
           {"components", comps}};
    scored.push_back(std::move(s));
  }
  std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
    if (x.row.score_centi != y.row.score_centi) return x.row.score_centi > y.row.score_centi;
    return x.owner < y.owner;
  });
  long long best_delta = 0;
  for (const auto& s : scored) best_delta = std::max(best_delta, s.row.delta_centi.value_or(0));

  // History of earlier weeks (oldest first), then this one.
  std::map<std::string, nlohmann::json> history;
  if (*prev && job.trend_weeks > 1) {
    auto h = crm::ScoreHistory(db, job.name, job.trend_weeks - 1, (*prev)->week);
    if (!h) return h.error();
    for (const auto& r : *h) {
      history[r.owner].push_back({{"week", r.week}, {"score", Points(r.score_centi)}, {"rank", r.rank}});
    }
  }

  rows_.clear();
  nlohmann::json users = nlohmann::json::array();
  nlohmann::json most_improved = nlohmann::json::array();
  long long improved_total = 0, ours_total = 0, records_total = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    Scored& s = scored[i];
    s.row.rank = i > 0 && scored[i - 1].row.score_centi == s.row.score_centi
                     ? scored[i - 1].row.rank
                     : static_cast<int>(i) + 1;
    std::vector<std::string> badges;
    if (s.row.rank == 1) badges.push_back("top_score");
    if (best_delta > 0 && s.row.delta_centi == best_delta) {
      badges.push_back("most_improved");
      most_improved.push_back(s.owner);
    }
    if (s.a->valid == s.a->records) badges.push_back("clean_sheet");
    if (s.a->complete == s.a->records) badges.push_back("complete_book");
    if (s.row.streak >= 3) badges.push_back("on_a_roll");
    s.row.badges_json = nlohmann::json(badges).dump();
    improved_total += s.a->improved;
    ours_total += s.a->fixed_by_us;
    records_total += s.a->records;
    s.j["rank"] = s.row.rank;
    s.j["delta"] = s.row.delta_centi ? nlohmann::json(Points(*s.row.delta_centi)) : nlohmann::json(nullptr);
    s.j["streak"] = s.row.streak;
    s.j["badges"] = badges;
    nlohmann::json h = history.count(s.owner) ? history[s.owner] : nlohmann::json::array();
    h.push_back({{"week", week}, {"score", Points(s.row.score_centi)}, {"rank", s.row.rank}});
    s.j["history"] = h;
    users.push_back(s.j);
    rows_.push_back(s.row);
  }

  nlohmann::json maxima = nlohmann::json::object();
  for (size_t i = 0; i < ComponentNames().size(); ++i) maxima[ComponentNames()[i]] = Points(max_centi[i]);
  week_ = {job.name, week, ctx.run_id, now};
  report.counts["users"] = scored.size();
  report.counts["records"] = records_total;
  report.counts["unassigned_records"] = unassigned;
  report.counts["improved_records"] = improved_total;
  report.counts["fixed_by_crm_hygiene"] = ours_total;
  report.counts["merged_away_needing_fixing"] = merged_away_total;
  report.counts["duplicates_attributed"] = dups_attributed;
  report.counts["duplicates_unattributed"] = dups_unattributed;
  report.details["week"] = week;
  report.details["week_start"] = FormatRfc3339(week_start);
  report.details["baseline_week"] = *prev ? nlohmann::json((*prev)->week) : nlohmann::json(nullptr);
  report.details["mandatory"] = fields;
  report.details["component_max"] = maxima;
  report.details["most_improved"] = most_improved;
  report.details["users"] = users;
  report.message =
      scored.empty()
          ? fmt::format("no owned records to score for {}", week)
          : fmt::format("{} users scored for {}; first: {} ({:.2f})", scored.size(), week,
                        scored[0].row.name.empty() ? scored[0].owner : scored[0].row.name,
                        Points(scored[0].row.score_centi));
  return Status::Ok();
}

Status ScoreJob::Record(RunContext& ctx, RunReport&) {
  return crm::SaveScoreWeek(ctx.db, week_, rows_, records_);
}

}  // namespace crmh::jobs
