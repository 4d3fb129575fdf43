#include "jobs/standardize.h"

#include <fmt/format.h>

#include <algorithm>

#include "crm/ledger.h"

namespace crmh::jobs {
namespace {

bool IsEmailField(std::string_view f) { return f == "email" || f == "email2"; }
bool IsPhoneField(std::string_view f) { return f == "phone" || f == "mobile"; }
bool IsNameField(std::string_view f) { return f == "first_name" || f == "last_name"; }
std::string AsciiLower(std::string v) {
  for (char& c : v) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return v;
}
// "+16502530000" or "+16502530000 ext. 12": what phone_e164 writes.
bool IsE164Text(std::string_view v) {
  const size_t ext = v.find(" ext. ");
  auto digits = [](std::string_view d) {
    return !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return v.size() > 1 && v[0] == '+' && digits(v.substr(1, ext == std::string_view::npos ? v.npos : ext - 1)) &&
         (ext == std::string_view::npos || digits(v.substr(ext + 6)));
}
bool Validated(std::string_view f) {
  return IsEmailField(f) || IsPhoneField(f) || IsNameField(f) || f == "company" || f == "country";
}

std::string Digits(std::string_view v) {
  std::string d;
  for (char c : v) {
    if (c >= '0' && c <= '9') d += c;
  }
  return d;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

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

const std::vector<std::string>& StandardizeRules() {
  static const std::vector<std::string> k = {"trim_whitespace",   "lowercase_email",
                                             "phone_e164",        "country_canonical",
                                             "name_case",         "company_suffix"};
  return k;
}

std::string CompanySuffix(std::string_view v) {
  struct Form {
    std::string_view spelling, canonical;
  };
  // clang-format off
  static constexpr Form kForms[] = {
      {"inc", "Inc."}, {"inc.", "Inc."}, {"ltd", "Ltd"}, {"ltd.", "Ltd"},
      {"llc", "LLC"}, {"llc.", "LLC"}, {"l.l.c.", "LLC"}, {"l.l.c", "LLC"},
      {"llp", "LLP"}, {"llp.", "LLP"}, {"l.l.p.", "LLP"}, {"l.l.p", "LLP"},
      {"gmbh", "GmbH"}, {"gmbh.", "GmbH"}, {"corp", "Corp."}, {"corp.", "Corp."},
      {"ag", "AG"}, {"a.g.", "AG"}};
  // clang-format on
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t end = v.size();
  while (end > 0 && space(v[end - 1])) --end;
  size_t begin = end;
  while (begin > 0 && !space(v[begin - 1])) --begin;
  bool other_token = false;
  for (size_t i = 0; i < begin; ++i) other_token = other_token || !space(v[i]);
  if (begin == end || !other_token) return std::string(v);
  std::string token(v.substr(begin, end - begin));
  std::string lower = token;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const auto& f : kForms) {
    if (lower == f.spelling) {
      return std::string(v.substr(0, begin)) + std::string(f.canonical) + std::string(v.substr(end));
    }
  }
  return std::string(v);
}

struct Standardizer::Region {
  explicit Region(const std::string& code) : norm(match::NormalizeOptions{code, true}), phones(code) {}
  match::Normalizer norm;
  match::PhoneChecker phones;
};

Standardizer::Standardizer(std::vector<std::string> rules, std::string default_region)
    : rules_(std::move(rules)), default_region_(std::move(default_region)) {}

Standardizer::~Standardizer() = default;

Standardizer::Region& Standardizer::ForRegion(std::string_view region) {
  const std::string_view key = region.empty() ? std::string_view(default_region_) : region;
  auto it = regions_.find(key);
  if (it == regions_.end()) {
    it = regions_.emplace(std::string(key), std::make_unique<Region>(std::string(key))).first;
  }
  return *it->second;
}

bool Standardizer::On(std::string_view rule) const {
  return std::find(rules_.begin(), rules_.end(), rule) != rules_.end();
}

std::string Standardizer::PhoneE164(std::string_view value, std::string_view region) {
  Region& r = ForRegion(region);
  std::optional<std::string> e164 = r.norm.PhoneE164(value);
  if (!e164) return std::string(value);
  match::PhoneFacts f = r.phones.Check(value);
  if (!f.valid || f.national_number.empty()) return std::string(value);
  // Every digit the rep typed after the country/trunk prefix must survive: a suffix libphonenumber
  // dropped (an extension it did not recognize) means leave the value alone.
  if (!Digits(value).ends_with(f.national_number + f.extension)) return std::string(value);
  return *e164 + (f.extension.empty() ? "" : " ext. " + f.extension);
}

std::string Standardizer::CountryCode(std::string_view value) {
  return ForRegion({}).norm.CountryCode(value);
}

std::string Standardizer::CountryCanonical(std::string_view value) {
  std::string code = CountryCode(value);
  if (code.empty()) return std::string(value);
  std::string name = match::CountryName(code);
  return name.empty() ? std::string(value) : name;
}

std::string Standardizer::Apply(std::string_view field, std::string_view value,
                                std::vector<std::string>* applied, std::string_view region) {
  std::string v(value);
  auto step = [&](const char* rule, bool applies, auto&& fn) {
    if (!applies || !On(rule)) return;
    std::string after = fn(v);
    if (after == v) return;
    v = std::move(after);
    if (applied) applied->push_back(rule);
  };
  step("trim_whitespace", true, [](const std::string& x) { return TrimWhitespace(x); });
  for (const auto& alias : aliases_) {
    if (alias.field != field) continue;
    const std::string key = AsciiLower(TrimWhitespace(v));
    for (const auto& [from, to] : alias.map) {
      if (AsciiLower(TrimWhitespace(from)) != key) continue;
      if (to != v) {
        v = to;
        if (applied) applied->push_back(alias.name);
      }
      break;
    }
  }
  step("lowercase_email", IsEmailField(field), [](const std::string& x) { return LowercaseEmail(x); });
  if (IsPhoneField(field) && On("phone_e164")) {
    std::string after = PhoneE164(v, region);
    if (phone_format_ != "e164" && (after != v || IsE164Text(after))) {
      // After E.164 (a value it left alone stays alone, unless it already is E.164).
      const size_t ext = after.find(" ext. ");
      const std::string core = after.substr(0, ext);
      const std::string fmt_region = region.empty() ? default_region_ : std::string(region);
      std::string formatted = match::FormatPhone(core, phone_format_, fmt_region);
      if (formatted != core) after = formatted + (ext == std::string::npos ? "" : after.substr(ext));
    }
    if (after != v) {
      v = std::move(after);
      if (applied) applied->push_back(phone_format_ == "e164" ? "phone_e164" : "phone_" + phone_format_);
    }
  }
  step("country_canonical", field == "country",
       [this](const std::string& x) { return CountryCanonical(x); });
  // Junk ("asdf", "TEST") is flagged, not polished into "Asdf".
  step("name_case", IsNameField(field), [&](const std::string& x) {
    return match::PlaceholderReason(field, x).empty() ? match::NameCase(x) : x;
  });
  step("company_suffix", field == "company", [](const std::string& x) { return CompanySuffix(x); });
  return v;
}

std::vector<match::Finding> Standardizer::Validate(std::string_view field, std::string_view value,
                                                   std::string_view region) {
  Region& r = ForRegion(region);
  return match::ValidateValue(field, value, r.norm, r.phones);
}

namespace {

std::string DescribeRelated(const RelatedField& r) {
  return fmt::format("{}.{} via {}", r.table, r.column, r.link_table);
}

}  // namespace

Status CheckStandardizeJob(const Mapping& m, const JobConfig& job) {
  auto related = [&](const std::string& field) -> const RelatedField* {
    auto it = m.fields.find(field);
    return it != m.fields.end() && it->second.related ? &*it->second.related : nullptr;
  };
  const char* why =
      "a row there can be shared by other records (another contact, an account, a lead), so "
      "crm-hygiene does not rewrite it";
  for (const auto& a : job.aliases) {
    if (const RelatedField* r = related(a.field)) {
      return Error::Config(fmt::format(
          "job '{}': alias table '{}' rewrites '{}', which the mapping reads from a related table "
          "({}): {}; drop the alias table or map '{}' to a column of {}",
          job.name, a.name, a.field, DescribeRelated(*r), why, a.field, m.contacts_table));
    }
  }
  const bool phones = std::find(job.rules.begin(), job.rules.end(), "phone_e164") != job.rules.end();
  if (phones && job.phone_format != "e164") {
    for (const auto& f : job.fields.empty() ? TextFields() : job.fields) {
      const RelatedField* r = IsPhoneField(f) ? related(f) : nullptr;
      if (!r) continue;
      return Error::Config(fmt::format(
          "job '{}': phone_format '{}' would rewrite '{}', which the mapping reads from a related "
          "table ({}): {}; map '{}' to a column of {}, or leave it out of options.fields",
          job.name, job.phone_format, f, DescribeRelated(*r), why, f, m.contacts_table));
    }
  }
  return Status::Ok();
}

Status StandardizeJob::Plan(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const JobConfig& job = ctx.job;
  if (Status ok = CheckStandardizeJob(m, job); !ok) return ok;
  Standardizer standardizer(job.rules, job.default_region);
  standardizer.SetPhoneFormat(job.phone_format);
  standardizer.SetAliases(job.aliases);

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
  flag_fields_.clear();
  flags_.clear();
  int first_idx = -1, last_idx = -1;
  if (job.flags) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (Validated(fields[i].first)) flag_fields_.push_back(fields[i].first);
      if (fields[i].first == "first_name") first_idx = static_cast<int>(i);
      if (fields[i].first == "last_name") last_idx = static_cast<int>(i);
    }
    if (first_idx >= 0 && last_idx >= 0) flag_fields_.push_back("name");
  }
  auto cols = crm::OrderedColumns(db, m.contacts_table);
  if (!cols) return cols.error();
  std::string select = fmt::format("CAST({} AS CHAR), {}", db.Q(m.id_column),
                                   crm::RowTextExpr(db, *cols, ""));
  for (const auto& [f, col] : fields) select += ", " + db.Q(col);
  // The contact's country is the region of its national phone numbers, read even when the job
  // does not touch the country field.
  std::optional<size_t> country_col;
  const bool country_touched = std::any_of(fields.begin(), fields.end(),
                                           [](const auto& f) { return f.first == "country"; });
  if (auto it = m.fields.find("country"); it != m.fields.end() && !it->second.related) {
    country_col = 2 + fields.size();
    select += ", " + db.Q(it->second.column);
  }
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
  std::map<std::string, long long> by_rule, by_code, samples_per_rule;
  nlohmann::json samples = nlohmann::json::array();
  plan_.clear();
  ChangeSet current;
  Status st = crm::Guard("planning standardize", [&] {
    soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
        "SELECT {} FROM {}{} ORDER BY {}", select, db.Q(m.contacts_table), where,
        db.Q(m.id_column));
    std::vector<std::optional<std::string>> after_values(fields.size());
    for (const auto& r : rs) {
      ++scanned;
      RowOp op;
      op.kind = OpKind::kUpdate;
      op.table = m.contacts_table;
      op.id_column = m.id_column;
      op.id = crm::CellText(r, 0);
      op.expect = crm::CellText(r, 1);
      std::string label;
      const size_t row_flags = flags_.size();
      // The region is the country this run leaves on the contact (after its alias tables and
      // country rule): a national number written for "Deutchland" → "Germany" must be German on
      // the next run too, or phone_format national would rewrite its own output.
      std::string region;
      if (country_col && r.get_indicator(*country_col) != soci::i_null) {
        std::string country = crm::CellText(r, *country_col);
        if (country_touched) country = standardizer.Apply("country", country, nullptr, {});
        region = standardizer.CountryCode(country);
      }
      for (size_t i = 0; i < fields.size(); ++i) {
        after_values[i].reset();
        if (r.get_indicator(2 + i) == soci::i_null) continue;
        const auto& [f, col] = fields[i];
        std::string before = crm::CellText(r, 2 + i);
        std::vector<std::string> applied;
        std::string after = standardizer.Apply(f, before, &applied, region);
        if (job.flags && Validated(f)) {
          for (auto& finding : standardizer.Validate(f, after, region)) {
            ++by_code[finding.code];
            flags_.push_back({op.id, f, std::move(finding.code), std::move(finding.detail)});
          }
        }
        after_values[i] = after;
        if (after == before) continue;
        for (const auto& rule : applied) by_rule[rule] += 1;
        const std::string rules = Join(applied, "+");
        op.set.emplace_back(col, after);
        label += fmt::format("{}{}({}) {} → {}", label.empty() ? "" : ", ", rules, f, Show(before),
                             Show(after));
        // A few per rule combination, so a dry run shows every rule at work.
        if (samples.size() < 40 && ++samples_per_rule[rules] <= 5) {
          samples.push_back({{"id", op.id}, {"field", f}, {"rule", rules}, {"rules", applied},
                             {"before", before}, {"after", after}});
        }
      }
      if (first_idx >= 0 && last_idx >= 0) {
        const auto& first = after_values[static_cast<size_t>(first_idx)];
        const auto& last = after_values[static_cast<size_t>(last_idx)];
        bool placeholder_already =
            std::any_of(flags_.begin() + static_cast<std::ptrdiff_t>(row_flags), flags_.end(),
                        [](const auto& fl) {
                          return fl.code == match::kPlaceholder && IsNameField(fl.field);
                        });
        std::string why = first && last && !placeholder_already
                              ? match::PlaceholderFullName(*first, *last)
                              : std::string();
        if (!why.empty()) {
          ++by_code[std::string(match::kPlaceholder)];
          flags_.push_back({op.id, "name", std::string(match::kPlaceholder), why});
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
  if (job.flags) {
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, n] : by_code) codes[code] = n;
    report.counts["flags"] = codes;
  }
  if (skipped_related > 0) report.counts["related_fields_skipped"] = skipped_related;
  report.details["plan"] = DescribePlan(plan_);
  report.details["samples"] = samples;
  report.message = fmt::format("{} of {} contacts need standardizing in {} change set(s)", rows,
                               scanned, plan_.size());
  if (job.flags) report.message += fmt::format("; {} validation flag(s)", flags_.size());
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

Status StandardizeJob::Record(RunContext& ctx, RunReport& report) {
  if (!ctx.job.flags) return Status::Ok();
  auto synced = crm::SyncFlags(ctx.db, ctx.run_id, ctx.clock.Now(), flag_fields_, flags_);
  if (!synced) return synced.error();
  report.counts["flags_opened"] = synced->opened;
  report.counts["flags_kept"] = synced->kept;
  report.counts["flags_cleared"] = synced->cleared;
  report.message += fmt::format("; flags: {} opened, {} still open, {} cleared", synced->opened,
                                synced->kept, synced->cleared);
  return Status::Ok();
}

}  // namespace crmh::jobs
