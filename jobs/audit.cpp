#include "jobs/audit.h"

#include <fmt/format.h>

#include <algorithm>

#include <cmath>
#include <map>

#include "crm/scores.h"

namespace crmh::jobs {
namespace {

double Pct(long long filled, long long total) {
  return total == 0 ? 100.0 : std::round(1000.0 * static_cast<double>(filled) / total) / 10.0;
}

}  // namespace

std::map<std::string, std::string> OwnerNames(crm::Db& db, const Mapping& m) {
  std::map<std::string, std::string> names;
  if (m.users_table.empty() || m.users_name.empty()) return names;
  soci::rowset<soci::row> us = db.sql().prepare << fmt::format(
      "SELECT CAST({} AS CHAR), {} FROM {}", db.Q(m.users_id), db.Q(m.users_name),
      db.Q(m.users_table));
  for (const auto& r : us) names[crm::CellText(r, 0)] = crm::CellText(r, 1);
  return names;
}

// SQL that is 1 when the logical field holds a non-blank value for contact alias c.
std::string FilledExpr(crm::Db& db, const Mapping& m, const FieldMap& f) {
  if (!f.related) {
    std::string col = "c." + db.Q(f.column);
    return fmt::format("CASE WHEN {0} IS NOT NULL AND TRIM(CAST({0} AS CHAR)) <> '' THEN 1 ELSE 0 END",
                       col);
  }
  const RelatedField& r = *f.related;
  std::string where;
  for (const auto& [col, v] : r.where) where += fmt::format(" AND l.{} = {}", db.Q(col), db.Literal(v));
  return fmt::format(
      "CASE WHEN EXISTS (SELECT 1 FROM {} l JOIN {} t ON t.{} = l.{} WHERE l.{} = c.{}{} AND "
      "t.{} IS NOT NULL AND TRIM(CAST(t.{} AS CHAR)) <> '') THEN 1 ELSE 0 END",
      db.Q(r.link_table), db.Q(r.table), db.Q(r.key), db.Q(r.link_target), db.Q(r.link_contact),
      db.Q(m.id_column), where, db.Q(r.column), db.Q(r.column));
}

std::string ActivityExpr(const crm::Db& db, const Mapping& m, const ActivitySource& a) {
  if (a.child.empty()) return fmt::format("CAST(c.{} AS CHAR)", db.Q(a.column));
  auto ch = std::find_if(m.children.begin(), m.children.end(),
                         [&](const ChildRef& r) { return r.name == a.child; });
  if (ch == m.children.end()) return "NULL";
  std::string where = fmt::format("x.{} = c.{}", db.Q(ch->column), db.Q(m.id_column));
  if (!ch->type_column.empty()) {
    where += fmt::format(" AND x.{} = {}", db.Q(ch->type_column), db.Literal(ch->type_value));
  }
  if (!ch->soft_delete.empty()) {
    where += fmt::format(" AND COALESCE(x.{}, 0) = 0", db.Q(ch->soft_delete));
  }
  return fmt::format("(SELECT CAST(MAX(x.{}) AS CHAR) FROM {} x WHERE {})", db.Q(a.column),
                     db.Q(ch->table), where);
}

Status AuditJob::Plan(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const JobConfig& job = ctx.job;
  std::vector<std::string> fields;
  for (const auto& f : job.mandatory) {
    if (!m.fields.count(f)) {
      return Error::Config(fmt::format("job '{}': mandatory field '{}' is not mapped (mapping.fields)",
                                       job.name, f));
    }
    fields.push_back(f);
  }
  auto owner_it = m.fields.find("owner");
  std::string owner_expr = owner_it != m.fields.end() && !owner_it->second.column.empty()
                               ? fmt::format("COALESCE(CAST(c.{} AS CHAR), '')",
                                             db.Q(owner_it->second.column))
                               : std::string("''");
  std::string select = owner_expr + " AS owner_id, COUNT(*)";
  std::string all_filled;
  for (const auto& f : fields) {
    std::string e = FilledExpr(db, m, m.fields.at(f));
    select += fmt::format(", SUM({})", e);
    all_filled += (all_filled.empty() ? "" : " * ") + fmt::format("({})", e);
  }
  select += fmt::format(", SUM({})", all_filled.empty() ? "1" : all_filled);
  std::string where = m.soft_delete.empty()
                          ? ""
                          : fmt::format(" WHERE COALESCE(c.{}, 0) = 0", db.Q(m.soft_delete));
  std::string sql = fmt::format("SELECT {} FROM {} c{} GROUP BY {} ORDER BY 1", select,
                                db.Q(m.contacts_table), where, owner_expr);

  struct OwnerRow {
    long long total = 0, complete = 0;
    std::vector<long long> filled;
  };
  std::map<std::string, OwnerRow> owners;
  std::map<std::string, std::string> names;
  Status st = crm::Guard("auditing completeness", [&] {
    soci::rowset<soci::row> rs = db.sql().prepare << sql;
    for (const auto& r : rs) {
      OwnerRow o;
      o.total = crm::CellInt(r, 1);
      for (size_t i = 0; i < fields.size(); ++i) o.filled.push_back(crm::CellInt(r, 2 + i));
      o.complete = crm::CellInt(r, 2 + fields.size());
      owners[crm::CellText(r, 0)] = std::move(o);
    }
    names = OwnerNames(db, m);
  });
  if (!st) return st;

  auto weight = [&](const std::string& f) {
    auto it = job.weights.find(f);
    return it == job.weights.end() ? 1.0 : it->second;
  };
  auto weighted = [&](const OwnerRow& o) {
    double num = 0, den = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
      num += weight(fields[i]) * static_cast<double>(o.filled[i]);
      den += weight(fields[i]) * static_cast<double>(o.total);
    }
    return den == 0 ? 100.0 : std::round(1000.0 * num / den) / 10.0;
  };

  OwnerRow all;
  all.filled.assign(fields.size(), 0);
  nlohmann::json owners_json = nlohmann::json::array();
  cells_.clear();
  for (const auto& [owner, o] : owners) {
    all.total += o.total;
    all.complete += o.complete;
    nlohmann::json fj = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i) {
      all.filled[i] += o.filled[i];
      fj[fields[i]] = Pct(o.filled[i], o.total);
      cells_.push_back({owner, fields[i], o.filled[i], o.total});
    }
    cells_.push_back({owner, "", o.complete, o.total});
    owners_json.push_back({{"owner", owner},
                           {"name", names.count(owner) ? names[owner] : ""},
                           {"contacts", o.total},
                           {"complete_contacts", o.complete},
                           {"completeness_pct", weighted(o)},
                           {"fields_pct", fj}});
  }
  nlohmann::json fields_json = nlohmann::json::object();
  for (size_t i = 0; i < fields.size(); ++i) {
    fields_json[fields[i]] = {{"filled", all.filled[i]},
                              {"total", all.total},
                              {"pct", Pct(all.filled[i], all.total)}};
  }
  report.counts["contacts"] = all.total;
  report.counts["complete_contacts"] = all.complete;
  report.counts["owners"] = owners.size();
  report.counts["completeness_pct"] = weighted(all);
  report.details["fields"] = fields_json;
  report.details["owners"] = owners_json;

  // Trend: the weighted completeness of earlier weeks (their stored weekly snapshots, weighed with
  // today's weights) and this run's, oldest first.
  const std::string week = IsoWeek(report.started_at, LookupZone(job.time_zone));
  auto stored = crm::AuditWeeks(db, job.name, job.trend_weeks, week);
  if (!stored) return stored.error();
  // week → owner → field → (filled, total)
  std::map<std::string, std::map<std::string, std::map<std::string, std::pair<long long, long long>>>>
      weeks;
  for (const auto& c : *stored) {
    if (c.week != week) weeks[c.week][c.owner][c.field] = {c.filled, c.total};
  }
  while (!weeks.empty() && static_cast<int>(weeks.size()) > job.trend_weeks - 1) weeks.erase(weeks.begin());
  for (const auto& c : cells_) weeks[week][c.owner][c.field] = {c.filled, c.total};
  auto weighted_cells = [&](const std::map<std::string, std::pair<long long, long long>>& fs) {
    double num = 0, den = 0;
    for (const auto& [f, ft] : fs) {
      if (f.empty()) continue;
      num += weight(f) * static_cast<double>(ft.first);
      den += weight(f) * static_cast<double>(ft.second);
    }
    return den == 0 ? 100.0 : std::round(1000.0 * num / den) / 10.0;
  };
  nlohmann::json trend = nlohmann::json::array();
  for (const auto& [w, by_owner] : weeks) {
    std::map<std::string, std::pair<long long, long long>> total;
    nlohmann::json per_owner = nlohmann::json::object();
    for (const auto& [owner, fs] : by_owner) {
      per_owner[owner] = weighted_cells(fs);
      for (const auto& [f, ft] : fs) {
        total[f].first += ft.first;
        total[f].second += ft.second;
      }
    }
    trend.push_back({{"week", w}, {"completeness_pct", weighted_cells(total)}, {"owners", per_owner}});
  }
  report.details["week"] = week;
  report.details["trend"] = trend;
  report.message = fmt::format("{} contacts, {} complete, weighted completeness {}%", all.total,
                               all.complete, weighted(all));
  return Status::Ok();
}

Status AuditJob::Record(RunContext& ctx, RunReport& report) {
  const date::time_zone* tz = LookupZone(ctx.job.time_zone);
  const std::string week = IsoWeek(report.started_at, tz);
  if (Status st = crm::SaveAuditSnapshot(ctx.db, ctx.run_id, week, cells_); !st) return st;
  // The weekly snapshot: the last run of an ISO week replaces that week's cells (trends).
  return crm::SaveAuditWeek(ctx.db, ctx.job.name, week, ctx.run_id, report.started_at, cells_);
}

}  // namespace crmh::jobs
