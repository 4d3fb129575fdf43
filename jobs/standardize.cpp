#include "jobs/standardize.h"

#include <fmt/format.h>

#include <algorithm>

#include "crm/ledger.h"

namespace crmh::jobs {
namespace {

bool IsEmailField(const std::string& f) { return f == "email" || f == "email2"; }

const std::vector<std::string>& TextFields() {
  static const std::vector<std::string> k = {
      "first_name", "last_name", "email",    "email2", "phone",    "mobile", "company",
      "address1",   "address2",  "city",     "postcode", "region", "country"};
  return k;
}

// Shortened for labels: the ledger label says what changed without dumping whole values.
std::string Show(const std::string& v) {
  std::string out = v.size() > 40 ? v.substr(0, 40) + "…" : v;
  return "'" + out + "'";
}

}  // namespace

std::string TrimWhitespace(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    size_t width = 1;
    if (c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) == 0xA0) {
      space = true;  // U+00A0 NO-BREAK SPACE, common in pasted data
      width = 2;
    }
    if (space) {
      pending_space = !out.empty();
      i += width - 1;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

std::string LowercaseEmail(std::string_view v) {
  std::string out = TrimWhitespace(v);
  out.erase(std::remove(out.begin(), out.end(), ' '), out.end());  // no spaces inside an address
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status StandardizeJob::Plan(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const JobConfig& job = ctx.job;
  bool trim = std::find(job.rules.begin(), job.rules.end(), "trim_whitespace") != job.rules.end();
  bool lower = std::find(job.rules.begin(), job.rules.end(), "lowercase_email") != job.rules.end();

  std::vector<std::pair<std::string, std::string>> fields;  // logical → column
  long long skipped_related = 0;
  for (const auto& f : job.fields.empty() ? TextFields() : job.fields) {
    auto it = m.fields.find(f);
    if (it == m.fields.end()) continue;
    if (it->second.related) {
      ++skipped_related;  // values on related tables (SuiteCRM email_addresses) come later
      continue;
    }
    fields.emplace_back(f, it->second.column);
  }
  auto cols = crm::OrderedColumns(db, m.contacts_table);
  if (!cols) return cols.error();
  std::string select = fmt::format("CAST({} AS CHAR), {}", db.Q(m.id_column),
                                   crm::RowTextExpr(db, *cols, ""));
  for (const auto& [f, col] : fields) select += ", " + db.Q(col);
  std::string where = m.soft_delete.empty()
                          ? ""
                          : fmt::format(" WHERE COALESCE({}, 0) = 0", db.Q(m.soft_delete));
  std::string modified_by, updated_at;
  if (auto it = m.fields.find("modified_by"); it != m.fields.end() && !it->second.related &&
                                              !ctx.cfg.system_user.empty()) {
    modified_by = it->second.column;
  }
  if (auto it = m.fields.find("updated_at"); it != m.fields.end() && !it->second.related) {
    updated_at = it->second.column;
  }
  std::string now = FormatSqlTime(ctx.clock.Now());

  long long scanned = 0;
  std::map<std::string, long long> by_rule;
  nlohmann::json samples = nlohmann::json::array();
  plan_.clear();
  ChangeSet current;
  Status st = crm::Guard("planning standardize", [&] {
    soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
        "SELECT {} FROM {}{} ORDER BY {}", select, db.Q(m.contacts_table), where,
        db.Q(m.id_column));
    for (const auto& r : rs) {
      ++scanned;
      RowOp op;
      op.kind = OpKind::kUpdate;
      op.table = m.contacts_table;
      op.id_column = m.id_column;
      op.id = crm::CellText(r, 0);
      op.expect = crm::CellText(r, 1);
      std::string label;
      for (size_t i = 0; i < fields.size(); ++i) {
        if (r.get_indicator(2 + i) == soci::i_null) continue;
        const auto& [f, col] = fields[i];
        std::string before = crm::CellText(r, 2 + i);
        std::string after = before;
        std::string rule;
        if (lower && IsEmailField(f)) {
          after = LowercaseEmail(before);
          rule = "lowercase_email";
        } else if (trim) {
          after = TrimWhitespace(before);
          rule = "trim_whitespace";
        }
        if (after == before) continue;
        by_rule[rule] += 1;
        op.set.emplace_back(col, after);
        label += fmt::format("{}{}({}) {} → {}", label.empty() ? "" : ", ", rule, f, Show(before),
                             Show(after));
        if (samples.size() < 10) {
          samples.push_back({{"id", op.id}, {"field", f}, {"rule", rule}, {"before", before},
                             {"after", after}});
        }
      }
      if (op.set.empty()) continue;
      if (!modified_by.empty()) op.set.emplace_back(modified_by, ctx.cfg.system_user);
      if (!updated_at.empty()) op.set.emplace_back(updated_at, now);
      op.note = label;
      current.ops.push_back(std::move(op));
      if (static_cast<int>(current.ops.size()) >= job.batch_size) {
        plan_.push_back(std::move(current));
        current = ChangeSet{};
      }
    }
  });
  if (!st) return st;
  if (!current.ops.empty()) plan_.push_back(std::move(current));
  for (auto& cs : plan_) {
    cs.label = fmt::format("{} {}..{} ({} rows)", m.contacts_table, cs.ops.front().id,
                           cs.ops.back().id, cs.ops.size());
  }

  long long rows = 0;
  for (const auto& cs : plan_) rows += static_cast<long long>(cs.ops.size());
  report.counts["contacts_scanned"] = scanned;
  report.counts["rows_planned"] = rows;
  report.counts["change_sets_planned"] = plan_.size();
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& [rule, n] : by_rule) rules[rule] = n;
  report.counts["fields_changed"] = rules;
  if (skipped_related > 0) report.counts["related_fields_skipped"] = skipped_related;
  report.details["plan"] = DescribePlan(plan_);
  report.details["samples"] = samples;
  report.message = fmt::format("{} of {} contacts need standardizing in {} change set(s)", rows,
                               scanned, plan_.size());
  // Limits are checked at plan time too, so a dry run already says it would be refused.
  return CheckLimits(db, plan_, {job.max_rows, job.max_fraction});
}

Status StandardizeJob::Apply(RunContext& ctx, RunReport& report) {
  if (Status st = ApplyGuarded(ctx, plan_, report); !st) return st;
  report.message = fmt::format("{} row(s) standardized in {} change set(s); {} set(s) skipped "
                               "because a row changed since the plan",
                               report.counts["rows_changed"].get<long long>(),
                               report.counts["change_sets_applied"].get<long long>(),
                               report.counts["changed_since_plan"].get<long long>());
  return Status::Ok();
}

}  // namespace crmh::jobs
