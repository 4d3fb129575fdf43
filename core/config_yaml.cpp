// YAML → Config. The only place that knows the file's shape.
//
// Strictness is deliberate (DESIGN.md invariant 7): every key is known, every error says
// file:line:column, duplicate keys are errors. yaml-cpp 0.7 silently keeps the first of two
// duplicate keys, so a separate event pass (DuplicateKeyFinder) looks for them first.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/time_util.h"
#include <fmt/format.h>

namespace crmh {
namespace {

struct ConfigError {
  std::string message;  // already "file:line:col: ..."
};

std::string Where(std::string_view file, const YAML::Mark& m) {
  // yaml-cpp marks are 0-based; editors count from 1.
  return fmt::format("{}:{}:{}", file, m.line + 1, m.column + 1);
}

// Walks the event stream and reports the first key that appears twice in one mapping.
class DuplicateKeyFinder : public YAML::EventHandler {
 public:
  explicit DuplicateKeyFinder(std::string file) : file_(std::move(file)) {}
  std::optional<std::string> error;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Value(m, "~"); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Value(m, "*alias"); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    Value(m, value);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Value(m, "");  // a sequence used as a key is not a string key; counts as a value
    frames_.push_back({false, true, {}});
  }
  void OnSequenceEnd() override { frames_.pop_back(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Value(m, "");
    frames_.push_back({true, true, {}});
  }
  void OnMapEnd() override { frames_.pop_back(); }

 private:
  struct Frame {
    bool is_map;
    bool expect_key;
    std::set<std::string> keys;
  };

  // Every node start goes through here: in a map it alternates key, value.
  void Value(const YAML::Mark& m, const std::string& text) {
    if (frames_.empty() || !frames_.back().is_map) return;
    Frame& f = frames_.back();
    if (f.expect_key && !error) {
      if (!f.keys.insert(text).second) {
        error = fmt::format("{}: duplicate key '{}' (yaml would silently keep the first one)",
                            Where(file_, m), text);
      }
    }
    f.expect_key = !f.expect_key;
  }

  std::string file_;
  std::vector<Frame> frames_;
};

// A mapping node whose keys are checked off as they are read; Finish() rejects the rest.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string_view file, std::string what)
      : node_(node), file_(file), what_(std::move(what)) {
    if (!node_.IsMap()) {
      throw ConfigError{fmt::format("{}: {} must be a mapping (key: value lines)",
                                    Where(file_, node_.Mark()), what_)};
    }
  }

  const YAML::Node& node() const { return node_; }
  std::string_view file() const { return file_; }

  // Returns the child node (possibly undefined) and marks the key as known.
  YAML::Node Get(const std::string& key) {
    known_.push_back(key);
    return node_[key];
  }
  bool Has(const std::string& key) {
    known_.push_back(key);
    return node_[key].IsDefined() && !node_[key].IsNull();
  }

  std::string Str(const std::string& key, std::string def = {}) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull()) return def;
    if (!n.IsScalar()) Fail(n, fmt::format("'{}' must be a single value", key));
    return n.Scalar();
  }
  std::string Required(const std::string& key) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull() || !n.IsScalar() || n.Scalar().empty()) {
      Fail(n.IsDefined() ? n : node_, fmt::format("{}: '{}' is required", what_, key));
    }
    return n.Scalar();
  }
  bool Bool(const std::string& key, bool def) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull()) return def;
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
      Fail(n, fmt::format("'{}' must be true or false, not '{}'", key, Text(n)));
    }
    return b;
  }
  long Int(const std::string& key, long def, long lo, long hi) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull()) return def;
    long v = 0;
    if (!n.IsScalar() || !YAML::convert<long>::decode(n, v)) {
      Fail(n, fmt::format("'{}' must be a whole number, not '{}'", key, Text(n)));
    }
    if (v < lo || v > hi) Fail(n, fmt::format("'{}' must be between {} and {}", key, lo, hi));
    return v;
  }
  double Double(const YAML::Node& n, const std::string& key) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
      Fail(n, fmt::format("'{}' must be a number, not '{}'", key, Text(n)));
    }
    return v;
  }
  std::chrono::seconds Duration(const std::string& key, std::chrono::seconds def) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull()) return def;
    auto d = ParseDuration(n.IsScalar() ? n.Scalar() : "");
    if (!d) Fail(n, fmt::format("'{}': {}", key, d.error().message));
    return *d;
  }
  std::string OneOf(const std::string& key, std::string def, const std::vector<std::string>& ok) {
    YAML::Node n = Get(key);
    if (!n.IsDefined() || n.IsNull()) return def;
    std::string v = n.IsScalar() ? n.Scalar() : "";
    if (std::find(ok.begin(), ok.end(), v) == ok.end()) {
      std::string all;
      for (const auto& o : ok) all += (all.empty() ? "" : ", ") + o;
      std::string hint = Suggest(v, ok);
      Fail(n, fmt::format("'{}' must be one of {}, not '{}'{}", key, all, Text(n),
                          hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    return v;
  }
  std::vector<std::string> StrList(const std::string& key) {
    YAML::Node n = Get(key);
    std::vector<std::string> out;
    if (!n.IsDefined() || n.IsNull()) return out;
    if (n.IsScalar()) return {n.Scalar()};
    if (!n.IsSequence()) Fail(n, fmt::format("'{}' must be a list", key));
    for (const auto& item : n) {
      if (!item.IsScalar()) Fail(item, fmt::format("'{}' items must be single values", key));
      out.push_back(item.Scalar());
    }
    return out;
  }

  // Rejects every key that was not asked for, suggesting the closest known one.
  void Finish() {
    for (const auto& kv : node_) {
      std::string key = kv.first.Scalar();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string hint = Suggest(key, known_);
      Fail(kv.first, fmt::format("unknown key '{}' in {}{}", key, what_,
                                 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
  }

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& msg) const {
    throw ConfigError{fmt::format("{}: {}", Where(file_, at.Mark()), msg)};
  }

 private:
  static std::string Text(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : "(a block)"; }

  YAML::Node node_;
  std::string_view file_;
  std::string what_;
  std::vector<std::string> known_;
};

// SQL identifiers from the config are validated here and quoted by crm/ when used; they are
// never pasted raw. Letters, digits, _ and $, not starting with a digit, at most 64 bytes.
void CheckIdent(MapReader& r, const YAML::Node& at, const std::string& what,
                const std::string& ident) {
  static const std::regex kIdent("[A-Za-z_][A-Za-z0-9_$]{0,63}");
  if (ident.empty()) return;
  if (!std::regex_match(ident, kIdent)) {
    r.Fail(at, fmt::format("{} '{}' is not a valid table/column name (letters, digits, _ and $; "
                           "at most 64)",
                           what, ident));
  }
}

std::string Ident(MapReader& r, const std::string& key, std::string def = {}) {
  YAML::Node at = r.Get(key);
  std::string v = r.Str(key, std::move(def));
  CheckIdent(r, at.IsDefined() ? at : r.node(), key, v);
  return v;
}

const std::vector<std::string>& LogicalFields() {
  static const std::vector<std::string> k = {
      "first_name", "last_name", "email",      "email2",     "phone",      "mobile",
      "company",    "address1",  "address2",   "city",       "postcode",   "region",
      "country",    "birthdate", "owner",      "created_by", "modified_by", "created_at",
      "updated_at", "opt_out",   "do_not_call"};
  return k;
}

FieldMap ParseField(MapReader& parent, const std::string& key, const YAML::Node& n) {
  FieldMap f;
  if (n.IsScalar()) {
    f.column = n.Scalar();
    CheckIdent(parent, n, key, f.column);
    return f;
  }
  MapReader r(n, parent.file(), fmt::format("field '{}'", key));
  RelatedField rel;
  rel.table = Ident(r, "table");
  rel.column = Ident(r, "column");
  rel.key = Ident(r, "key", "id");
  rel.link_table = Ident(r, "link_table");
  rel.link_contact = Ident(r, "link_contact");
  rel.link_target = Ident(r, "link_target");
  if (r.Has("where")) {
    MapReader w(r.Get("where"), parent.file(), "where");
    for (const auto& kv : w.node()) {
      std::string col = kv.first.Scalar();
      CheckIdent(w, kv.first, "where column", col);
      w.Get(col);
      rel.where[col] = kv.second.Scalar();
    }
  }
  r.Finish();
  if (rel.table.empty() || rel.column.empty() || rel.link_table.empty() ||
      rel.link_contact.empty() || rel.link_target.empty()) {
    r.Fail(n, fmt::format("field '{}' from a related table needs table, column, link_table, "
                          "link_contact and link_target",
                          key));
  }
  f.related = std::move(rel);
  return f;
}

void ParseMapping(const YAML::Node& node, std::string_view file, Mapping& m) {
  MapReader r(node, file, "mapping");
  std::string profile = r.OneOf("profile", "generic", {"generic", "suitecrm", "custom"});
  if (profile != "custom") {
    auto p = BuiltinProfile(profile);
    if (!p) r.Fail(node, p.error().message);
    m = *p;
  } else {
    m = Mapping{};
  }
  m.profile = profile;
  if (r.Has("contacts")) {
    MapReader c(r.Get("contacts"), file, "mapping.contacts");
    m.contacts_table = Ident(c, "table", m.contacts_table);
    m.id_column = Ident(c, "id", m.id_column);
    m.soft_delete = Ident(c, "soft_delete", m.soft_delete);
    m.extension_table = Ident(c, "extension_table", m.extension_table);
    m.extension_id = Ident(c, "extension_id", m.extension_id);
    c.Finish();
  }
  if (r.Has("fields")) {
    YAML::Node fields = r.Get("fields");
    MapReader f(fields, file, "mapping.fields");
    for (const auto& kv : fields) {
      std::string key = kv.first.Scalar();
      const auto& known = LogicalFields();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string hint = Suggest(key, known);
        f.Fail(kv.first,
               fmt::format("unknown logical field '{}'{} (use mapping.extra for other columns)",
                           key, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      f.Get(key);
      if (kv.second.IsNull() || (kv.second.IsScalar() && kv.second.Scalar().empty())) {
        m.fields.erase(key);  // an admin may unmap a profile's field
      } else {
        m.fields[key] = ParseField(f, key, kv.second);
      }
    }
  }
  if (r.Has("extra")) {
    YAML::Node at = r.Get("extra");
    m.extra = r.StrList("extra");
    for (const auto& e : m.extra) CheckIdent(r, at, "extra column", e);
  }
  // A child reference; `grand`: an entry of mapping.grandchildren (with its parent).
  auto parse_ref = [&](const YAML::Node& item, bool grand) {
    MapReader c(item, file, grand ? "a grandchild reference" : "a child reference");
    ChildRef ref;
    ref.name = c.Required("name");
    ref.table = Ident(c, "table");
    ref.column = Ident(c, "column");
    ref.type_column = Ident(c, "type_column");
    ref.type_value = c.Str("type_value");
    ref.id_column = Ident(c, "id", "id");
    ref.soft_delete = Ident(c, "soft_delete");
    ref.optional = c.Bool("optional", false);
    if (grand) {
      ref.parent = c.Required("parent");
    } else {
      YAML::Node uk = c.Get("unique_key");
      ref.unique_key = c.StrList("unique_key");
      for (const auto& u : ref.unique_key) CheckIdent(c, uk, "unique_key column", u);
      ref.on_conflict = c.OneOf("on_conflict", "block", {"dedupe", "keep_both", "block"});
      ref.primary_flag = Ident(c, "primary_flag");
    }
    c.Finish();
    if (ref.table.empty() || ref.column.empty()) {
      c.Fail(item, fmt::format("a {} reference needs table and column", grand ? "grandchild" : "child"));
    }
    if (ref.type_column.empty() != ref.type_value.empty()) {
      c.Fail(item, "type_column and type_value go together (polymorphic link)");
    }
    return ref;
  };
  if (r.Has("children")) {
    YAML::Node seq = r.Get("children");
    if (!seq.IsSequence()) r.Fail(seq, "mapping.children must be a list");
    m.children.clear();
    for (const auto& item : seq) m.children.push_back(parse_ref(item, false));
  }
  if (r.Has("grandchildren")) {
    YAML::Node seq = r.Get("grandchildren");
    if (!seq.IsSequence()) r.Fail(seq, "mapping.grandchildren must be a list");
    m.grandchildren.clear();
    for (const auto& item : seq) m.grandchildren.push_back(parse_ref(item, true));
  }
  {
    // A profile's grandchildren whose parent an admin's own mapping.children dropped go with it.
    const bool own = r.Has("grandchildren");
    YAML::Node gnode = own ? r.Get("grandchildren") : node;
    if (!own) {
      std::set<std::string> known;
      for (const auto& c : m.children) known.insert(c.name);
      std::vector<ChildRef> kept;
      for (const auto& g : m.grandchildren) {  // profiles list parents before their children
        if (known.count(g.parent)) {
          known.insert(g.name);
          kept.push_back(g);
        }
      }
      m.grandchildren = std::move(kept);
    }
    // Names unique across both lists; every parent known; no cycle; bounded depth.
    std::map<std::string, std::string> parent_of;  // name → parent ("" = the contact)
    for (const auto& c : m.children) parent_of[c.name] = "";
    for (const auto& g : m.grandchildren) {
      if (!parent_of.emplace(g.name, g.parent).second) {
        r.Fail(gnode, fmt::format("mapping.grandchildren: the name '{}' is used twice (names are "
                                "shared with mapping.children)",
                                g.name));
      }
    }
    for (const auto& g : m.grandchildren) {
      int depth = 1;
      std::string at = g.name;
      std::set<std::string> seen{at};
      while (!parent_of[at].empty()) {
        const std::string up = parent_of[at];
        if (!parent_of.count(up)) {
          r.Fail(gnode, fmt::format("mapping.grandchildren '{}' names parent '{}', which neither "
                                  "mapping.children nor mapping.grandchildren defines",
                                  at, up));
        }
        if (!seen.insert(up).second) {
          r.Fail(gnode, fmt::format("mapping.grandchildren '{}': its parents form a cycle through "
                                  "'{}'",
                                  g.name, up));
        }
        at = up;
        if (++depth > kMaxReferenceDepth) {
          r.Fail(gnode, fmt::format("mapping.grandchildren '{}' nests more than {} levels below the "
                                  "contact",
                                  g.name, kMaxReferenceDepth));
        }
      }
    }
  }
  if (r.Has("activity")) {
    YAML::Node seq = r.Get("activity");
    if (!seq.IsSequence()) r.Fail(seq, "mapping.activity must be a list");
    m.activity.clear();
    for (const auto& item : seq) {
      MapReader a(item, file, "an activity source");
      ActivitySource s;
      s.column = Ident(a, "column");
      s.child = a.Str("child");
      a.Finish();
      if (s.column.empty()) a.Fail(item, "an activity source needs a column");
      m.activity.push_back(std::move(s));
    }
  }
  if (r.Has("users")) {
    MapReader u(r.Get("users"), file, "mapping.users");
    m.users_table = Ident(u, "table", m.users_table);
    m.users_id = Ident(u, "id", m.users_id);
    m.users_name = Ident(u, "name", m.users_name);
    m.users_email = Ident(u, "email", m.users_email);
    u.Finish();
  }
  r.Finish();
  // Cross-references inside the mapping.
  for (const auto& a : m.activity) {
    if (a.child.empty()) continue;
    bool found = false;
    for (const auto& c : m.children) found = found || c.name == a.child;
    if (!found) {
      r.Fail(node, fmt::format("mapping.activity names child '{}', which mapping.children does "
                               "not define",
                               a.child));
    }
  }
}

void ParseDedupOptions(MapReader& o, const std::string& name, DedupOptions& d) {
  auto probability = [&](const char* key, double def) {
    if (!o.Has(key)) return def;
    YAML::Node n = o.Get(key);
    double v = o.Double(n, key);
    if (v <= 0 || v >= 1) o.Fail(n, fmt::format("job '{}': '{}' must be between 0 and 1", name, key));
    return v;
  };
  d.auto_threshold = probability("auto_threshold", d.auto_threshold);
  d.review_threshold = probability("review_threshold", d.review_threshold);
  if (d.review_threshold > d.auto_threshold) {
    YAML::Node at = o.node()["review_threshold"];
    if (!at.IsDefined()) at = o.node()["auto_threshold"];
    o.Fail(at, fmt::format("job '{}': review_threshold {} is above auto_threshold {}", name,
                       d.review_threshold, d.auto_threshold));
  }
  d.auto_merge = o.Bool("auto_merge", d.auto_merge);
  d.household_guard = o.Bool("household_guard", d.household_guard);
  d.require_identifier = o.Bool("require_identifier", d.require_identifier);
  d.survivor = o.OneOf("survivor", d.survivor, {"most_complete", "oldest", "most_recent_activity"});
  if (o.Has("default_region")) {
    YAML::Node n = o.Get("default_region");
    d.default_region = o.Str("default_region");
    if (d.default_region.size() != 2 || !std::isupper(static_cast<unsigned char>(d.default_region[0])) ||
        !std::isupper(static_cast<unsigned char>(d.default_region[1]))) {
      o.Fail(n, fmt::format("job '{}': default_region '{}' must be an ISO 3166 code such as US or DE",
                            name, d.default_region));
    }
  }
  d.email_provider_rules = o.Bool("email_provider_rules", d.email_provider_rules);
  d.max_block = static_cast<int>(o.Int("max_block", d.max_block, 2, 100000));
  d.max_cluster = static_cast<int>(o.Int("max_cluster", d.max_cluster, 2, 1000));
  d.threads = static_cast<int>(o.Int("threads", d.threads, 1, 64));
  d.page_size = static_cast<int>(o.Int("page_size", d.page_size, 100, 1000000));
  d.plan_batch = static_cast<int>(o.Int("plan_batch", d.plan_batch, 1, 100000));
  d.sweep_cache = o.Bool("sweep_cache", d.sweep_cache);
  for (const char* which : {"m", "u"}) {
    if (!o.Has(which)) continue;
    MapReader fields(o.Get(which), o.file(), fmt::format("job '{}' options.{}", name, which));
    for (const auto& kv : fields.node()) {
      std::string field = kv.first.Scalar();
      fields.Get(field);
      MapReader levels(kv.second, o.file(), fmt::format("options.{}.{}", which, field));
      for (const auto& lv : levels.node()) {
        std::string level = lv.first.Scalar();
        levels.Get(level);
        if (level.empty() || level.size() > 1 || level[0] < '1' || level[0] > '9') {
          levels.Fail(lv.first, fmt::format("options.{}.{}: level '{}' must be 1..9", which,
                                            field, level));
        }
        double v = levels.Double(lv.second, level);
        if (v <= 0 || v >= 1) {
          levels.Fail(lv.second, fmt::format("options.{}.{}.{} must be between 0 and 1", which,
                                             field, level));
        }
        (std::string(which) == "m" ? d.m : d.u)[field][level[0] - '0'] = v;
      }
    }
  }
}

// prune: {child, column, in, not_in} (crmh::PruneCondition).
PruneCondition ParsePruneCondition(MapReader& parent, const YAML::Node& n, const std::string& what) {
  MapReader c(n, parent.file(), what);
  PruneCondition cond;
  cond.where = Where(parent.file(), n.Mark());
  cond.child = c.Str("child");
  cond.column = Ident(c, "column");
  cond.in = c.StrList("in");
  cond.not_in = c.StrList("not_in");
  c.Finish();
  if (cond.column.empty() && cond.child.empty()) c.Fail(n, what + " needs a column (or a child)");
  if (cond.column.empty() && (!cond.in.empty() || !cond.not_in.empty())) {
    c.Fail(n, what + ": in/not_in need a column");
  }
  if (!cond.in.empty() && !cond.not_in.empty()) c.Fail(n, what + ": use in or not_in, not both");
  return cond;
}

void ParsePruneOptions(MapReader& o, const std::string& name, PruneOptions& p) {
  p.action = o.OneOf("action", p.action, {"soft_delete", "delete", "archive"});
  p.notice_days = static_cast<int>(o.Int("notice_days", p.notice_days, 0, 3650));
  p.notice_only = o.Bool("notice_only", p.notice_only);
  p.rescue_days = static_cast<int>(o.Int("rescue_days", p.rescue_days, 0, 36500));
  auto cond = [&](MapReader& r, const char* key) -> std::optional<PruneCondition> {
    if (!r.Has(key)) return std::nullopt;
    return ParsePruneCondition(r, r.Get(key), fmt::format("job '{}' options {}", name, key));
  };
  if (o.Has("criteria")) {
    MapReader c(o.Get("criteria"), o.file(), fmt::format("job '{}' options.criteria", name));
    p.inactive_months = static_cast<int>(c.Int("inactive_months", 0, 0, 1200));
    p.never_contacted_months = static_cast<int>(c.Int("never_contacted_months", 0, 0, 1200));
    p.opted_out = c.Bool("opted_out", false);
    p.bounced = cond(c, "bounced");
    p.invalid_email = c.Bool("invalid_email", false);
    c.Finish();
  }
  if (p.inactive_months == 0 && p.never_contacted_months == 0 && !p.opted_out && !p.bounced &&
      !p.invalid_email) {
    o.Fail(o.node(), fmt::format("job '{}': a prune job needs at least one criterion (options."
                                 "criteria: inactive_months, never_contacted_months, opted_out, "
                                 "bounced, invalid_email)",
                                 name));
  }
  if (o.Has("protect")) {
    MapReader r(o.Get("protect"), o.file(), fmt::format("job '{}' options.protect", name));
    p.created_within_days = static_cast<int>(r.Int("created_within_days", 0, 0, 36500));
    p.customer = cond(r, "customer");
    p.legal_hold = cond(r, "legal_hold");
    p.open_deals = cond(r, "open_deals");
    if (r.Has("keep_if")) {
      YAML::Node seq = r.Get("keep_if");
      if (!seq.IsSequence()) r.Fail(seq, "keep_if must be a list of conditions");
      for (const auto& item : seq) {
        p.keep_if.push_back(ParsePruneCondition(r, item, fmt::format("job '{}' keep_if", name)));
      }
    }
    r.Finish();
  }
  if (o.Has("children")) {
    MapReader c(o.Get("children"), o.file(), fmt::format("job '{}' options.children", name));
    for (const auto& kv : c.node()) {
      std::string child = kv.first.Scalar();
      p.children[child] = c.OneOf(child, "delete", {"delete", "detach", "block", "keep"});
      if (p.children[child] == "keep" && p.action != "soft_delete") {
        c.Fail(kv.second, fmt::format("job '{}': child '{}' cannot be kept when the contact is "
                                      "deleted (it would be left orphaned): delete, detach or block",
                                      name, child));
      }
    }
  }
}

// prune pacing (pt-archiver's --sleep, --sleep-coef, --run-time, --max-lag, Threads_running).
void ParsePrunePacing(MapReader& o, const std::string& name, PruneOptions& p) {
  auto number = [&](const char* key, double& out) {
    if (!o.Has(key)) return;
    YAML::Node n = o.Get(key);
    out = o.Double(n, key);
    if (out < 0 || out > 3600) {
      o.Fail(n, fmt::format("job '{}': {} must be between 0 and 3600", name, key));
    }
  };
  number("sleep", p.sleep);
  number("sleep_coef", p.sleep_coef);
  p.connections = static_cast<int>(o.Int("connections", p.connections, 1, 8));
  p.max_runtime = o.Duration("max_runtime", p.max_runtime);
  if (o.Has("max_threads_running")) {
    p.max_threads_running = o.Int("max_threads_running", 0, 0, 100000);
  }
  if (o.Has("max_replica_lag")) p.max_replica_lag = o.Duration("max_replica_lag", {});
  if (o.Has("replica_dsns")) {
    YAML::Node seq = o.Get("replica_dsns");
    if (!seq.IsSequence()) o.Fail(seq, fmt::format("job '{}': replica_dsns must be a list", name));
    if (!p.max_replica_lag) {
      o.Fail(seq, fmt::format("job '{}': replica_dsns needs max_replica_lag", name));
    }
    for (const auto& item : seq) {
      MapReader d(item, o.file(), fmt::format("job '{}' replica_dsns", name));
      PruneOptions::ReplicaDsn r;
      r.host = d.Str("host");
      r.port = static_cast<int>(d.Int("port", 0, 0, 65535));
      r.socket = d.Str("socket");
      r.user = d.Str("user");
      r.password_file = d.Str("password_file");
      r.password_credential = d.Str("password_credential");
      if (d.Has("password")) {
        d.Fail(d.node()["password"], "a password is never written in the YAML: use password_file "
                                     "or password_credential");
      }
      d.Finish();
      if (r.host.empty() && r.socket.empty()) d.Fail(item, "a replica needs a host or a socket");
      p.replica_dsns.push_back(std::move(r));
    }
  }
  p.throttle_check = o.Duration("throttle_check", p.throttle_check);
  if (p.throttle_check.count() < 1) {
    o.Fail(o.Get("throttle_check"), fmt::format("job '{}': throttle_check must be at least 1s",
                                                name));
  }
}

// score: component weights (points before rescaling), staleness, the duplicate penalty and the
// streak threshold (docs/score.md).
void ParseScoreOptions(MapReader& o, const std::string& name, ScoreOptions& sc) {
  if (o.Has("components")) {
    MapReader c(o.Get("components"), o.file(), "components");
    const std::vector<std::string> known = {"completeness", "validity", "duplicates",
                                            "improvement", "staleness"};
    for (const auto& kv : c.node()) {
      std::string comp = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), comp) == known.end()) {
        std::string hint = Suggest(comp, known);
        c.Fail(kv.first, fmt::format("job '{}': unknown score component '{}'{} (components: "
                                     "completeness, validity, duplicates, improvement, staleness)",
                                     name, comp,
                                     hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      c.Get(comp);
      double v = c.Double(kv.second, comp);
      if (v < 0 || v > 100) c.Fail(kv.second, fmt::format("job '{}': component '{}' must be between 0 and 100", name, comp));
      sc.components[comp] = v;
    }
    double sum = 0;
    for (const auto& [k, v] : sc.components) sum += v;
    if (sum <= 0) c.Fail(c.node(), fmt::format("job '{}': the score components weigh nothing", name));
  }
  sc.stale_days = static_cast<int>(o.Int("stale_days", sc.stale_days, 1, 36500));
  if (o.Has("duplicate_penalty")) {
    YAML::Node n = o.Get("duplicate_penalty");
    sc.duplicate_penalty = o.Double(n, "duplicate_penalty");
    if (sc.duplicate_penalty < 0 || sc.duplicate_penalty > 1000) {
      o.Fail(n, fmt::format("job '{}': duplicate_penalty must be between 0 and 1000", name));
    }
  }
  if (o.Has("streak_min_score")) {
    YAML::Node n = o.Get("streak_min_score");
    sc.streak_min_score = o.Double(n, "streak_min_score");
    if (sc.streak_min_score < 0 || sc.streak_min_score > 100) {
      o.Fail(n, fmt::format("job '{}': streak_min_score must be between 0 and 100", name));
    }
  }
}

void ParseDigestOptions(MapReader& o, const std::string& name, DigestOptions& d) {
  YAML::Node rcpt = o.Get("recipients");
  d.recipients = o.StrList("recipients");
  for (const auto& a : d.recipients) {
    if (a.find('@') == std::string::npos || a.find_first_of(" <>\r\n,") != std::string::npos) {
      o.Fail(rcpt, fmt::format("job '{}': recipient '{}' is not an email address", name, a));
    }
  }
  YAML::Node from = o.Get("from");
  d.from = o.Str("from");
  if (!d.from.empty() && (d.from.find('@') == std::string::npos ||
                          d.from.find_first_of(" <>\r\n,") != std::string::npos)) {
    o.Fail(from, fmt::format("job '{}': from '{}' is not an email address", name, d.from));
  }
  YAML::Node url = o.Get("smtp_url");
  d.smtp_url = o.Str("smtp_url");
  if (!d.smtp_url.empty() && d.smtp_url.rfind("smtp://", 0) != 0 &&
      d.smtp_url.rfind("smtps://", 0) != 0) {
    o.Fail(url, fmt::format("job '{}': smtp_url '{}' must start with smtp:// or smtps://", name,
                            d.smtp_url));
  }
  d.starttls = o.OneOf("starttls", "try", {"off", "try", "required"});
  d.smtp_user = o.Str("smtp_user");
  d.smtp_password_file = o.Str("smtp_password_file");
  d.smtp_password_credential = o.Str("smtp_password_credential");
  if (o.Has("smtp_password")) {
    o.Fail(o.node()["smtp_password"],
           "a password is never written in the YAML: use smtp_password_file or "
           "smtp_password_credential (systemd LoadCredential=)");
  }
  d.mask_emails = o.Bool("mask_emails", true);
  d.mask_phones = o.Bool("mask_phones", true);
  d.archive_dir = o.Str("archive_dir");
  d.week = o.OneOf("week", "previous", {"previous", "current"});
  d.retries = static_cast<int>(o.Int("retries", 3, 0, 20));
  d.retry_backoff = o.Duration("retry_backoff", std::chrono::seconds{30});
  d.list_unsubscribe = o.Str("list_unsubscribe");
  d.title = o.Str("title", d.title);
  d.review_limit = static_cast<int>(o.Int("review_limit", 20, 0, 1000));
  YAML::Node hook = o.Get("webhook_url");
  d.webhook_url = o.Str("webhook_url");
  if (!d.webhook_url.empty() && d.webhook_url.rfind("https://", 0) != 0 &&
      d.webhook_url.rfind("http://", 0) != 0) {
    o.Fail(hook, fmt::format("job '{}': webhook_url '{}' must start with https:// or http://", name,
                             d.webhook_url));
  }
  if (!d.recipients.empty() && (d.from.empty() || d.smtp_url.empty())) {
    o.Fail(rcpt, fmt::format("job '{}': recipients need 'from' and 'smtp_url'", name));
  }
  d.per_owner = o.Bool("per_owner", false);
  if (d.per_owner && !d.smtp_url.empty() && d.from.empty()) {
    o.Fail(url, fmt::format("job '{}': per_owner mail needs 'from'", name));
  }
  d.owner_limit = static_cast<int>(o.Int("owner_limit", 50, 0, 10000));
  if (o.Has("owners")) {
    YAML::Node owners = o.Get("owners");
    if (!owners.IsMap()) o.Fail(owners, fmt::format("job '{}': owners must map an owner id or user name to an address", name));
    for (const auto& kv : owners) {
      std::string addr = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (addr.find('@') == std::string::npos || addr.find_first_of(" <>\r\n,") != std::string::npos) {
        o.Fail(kv.second, fmt::format("job '{}': owners: '{}' is not an email address", name, addr));
      }
      d.owners[kv.first.Scalar()] = addr;
    }
  }
}

void ParseJob(const std::string& name, const YAML::Node& node, std::string_view file,
              JobConfig& j) {
  MapReader r(node, file, fmt::format("job '{}'", name));
  j.name = name;
  j.config_line = Where(file, node.Mark());
  j.kind = r.OneOf("kind", "", {"audit", "standardize", "retention", "dedup", "prune", "score", "digest"});
  if (j.kind.empty()) {
    r.Fail(node, fmt::format("job '{}' needs a kind (audit, standardize, retention, dedup, prune, score, digest)", name));
  }
  j.enabled = r.Bool("enabled", true);
  YAML::Node sched = r.Get("schedule");
  j.schedule = r.Str("schedule");
  YAML::Node tz = r.Get("time_zone");
  j.time_zone = r.Str("time_zone", "UTC");
  if (!LookupZone(j.time_zone)) {
    r.Fail(tz, fmt::format("unknown time zone '{}' (an IANA name such as Europe/Berlin)",
                           j.time_zone));
  }
  j.dst_gap = r.OneOf("dst_gap", "run_at_transition", {"skip", "run_at_transition"}) == "skip"
                  ? calendar::DstGap::kSkip
                  : calendar::DstGap::kRunAtTransition;
  j.persistent = r.Bool("persistent", false);
  j.jitter = r.Duration("jitter", std::chrono::seconds{0});
  j.overlap = r.OneOf("overlap", "skip", {"skip", "queue"}) == "queue" ? Overlap::kQueue
                                                                        : Overlap::kSkip;
  j.starting_deadline = r.Duration("starting_deadline", std::chrono::seconds{0});
  j.max_rows = r.Int("max_rows", j.max_rows, 0, 1'000'000'000);
  if (r.Has("max_fraction")) {
    YAML::Node mf = r.Get("max_fraction");
    j.max_fraction = r.Double(mf, "max_fraction");
    if (j.max_fraction < 0 || j.max_fraction > 1) r.Fail(mf, "'max_fraction' must be between 0 and 1");
  }
  j.batch_size = static_cast<int>(r.Int("batch_size", j.batch_size, 1, 100000));
  j.dump = r.Bool("dump", false);
  if (!j.schedule.empty()) {
    auto s = calendar::Schedule::Parse(j.schedule);
    if (!s) r.Fail(sched, fmt::format("job '{}': {}", name, s.error().message));
    if (!s->zone().empty() && tz.IsDefined() && s->zone() != j.time_zone) {
      r.Fail(tz, fmt::format("job '{}': time_zone '{}' contradicts the zone '{}' written in its "
                             "schedule '{}'",
                             name, j.time_zone, s->zone(), j.schedule));
    }
    if (!s->zone().empty()) j.time_zone = s->zone();
  }
  if (r.Has("options")) {
    MapReader o(r.Get("options"), file, fmt::format("job '{}' options", name));
    if (j.kind == "audit" || j.kind == "score") {
      j.trend_weeks = static_cast<int>(o.Int("trend_weeks", j.trend_weeks, 1, 520));
      j.mandatory = o.StrList("mandatory");
      const auto& known = LogicalFields();
      for (const auto& f : j.mandatory) {
        if (std::find(known.begin(), known.end(), f) == known.end()) {
          std::string hint = Suggest(f, known);
          o.Fail(o.node()["mandatory"],
                 fmt::format("job '{}': unknown mandatory field '{}'{}", name, f,
                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
      }
      if (o.Has("weights")) {
        MapReader w(o.Get("weights"), file, "weights");
        for (const auto& kv : w.node()) {
          std::string f = kv.first.Scalar();
          w.Get(f);
          j.weights[f] = w.Double(kv.second, f);
        }
      }
    }
    if (j.kind == "dedup") ParseDedupOptions(o, name, j.dedup);
    if (j.kind == "prune") ParsePruneOptions(o, name, j.prune);
    if (j.kind == "prune") ParsePrunePacing(o, name, j.prune);
    if (j.kind == "score") ParseScoreOptions(o, name, j.score);
    if (j.kind == "digest") ParseDigestOptions(o, name, j.digest);
    if (j.kind == "retention") {
      j.retention_days = static_cast<int>(o.Int("retention_days", 30, 1, 3650));
    }
    if (j.kind == "standardize") {
      YAML::Node rules = o.Get("rules");
      j.rules = o.StrList("rules");
      // Keep in step with jobs::StandardizeRules() (config_test checks it).
      const std::vector<std::string> known_rules = {"trim_whitespace",   "lowercase_email",
                                                    "phone_e164",        "country_canonical",
                                                    "name_case",         "company_suffix"};
      for (const auto& rule : j.rules) {
        if (std::find(known_rules.begin(), known_rules.end(), rule) == known_rules.end()) {
          std::string hint = Suggest(rule, known_rules);
          o.Fail(rules, fmt::format("job '{}': unknown rule '{}'{} (rules: trim_whitespace, "
                                    "lowercase_email, phone_e164, country_canonical, name_case, "
                                    "company_suffix)",
                                    name, rule,
                                    hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
      }
      if (o.Has("default_region")) {
        YAML::Node n = o.Get("default_region");
        j.default_region = o.Str("default_region");
        if (j.default_region.size() != 2 ||
            !std::isupper(static_cast<unsigned char>(j.default_region[0])) ||
            !std::isupper(static_cast<unsigned char>(j.default_region[1]))) {
          o.Fail(n, fmt::format("job '{}': default_region '{}' must be an ISO 3166 code such as "
                                "US or DE",
                                name, j.default_region));
        }
      }
      j.flags = o.Bool("flags", j.flags);
      j.phone_format = o.OneOf("phone_format", j.phone_format, {"e164", "national", "international"});
      if (o.Has("aliases")) {
        MapReader al(o.Get("aliases"), file, "aliases");
        for (const auto& kv : al.node()) {
          std::string rule = kv.first.Scalar();
          al.Get(rule);
          static const std::regex kRule("[a-z][a-z0-9_]{0,39}");
          if (!std::regex_match(rule, kRule) || std::find(known_rules.begin(), known_rules.end(),
                                                          rule) != known_rules.end()) {
            al.Fail(kv.first, fmt::format("job '{}': alias rule name '{}' must be lowercase "
                                          "letters, digits or '_' and not a built-in rule's name",
                                          name, rule));
          }
          MapReader ar(kv.second, file, fmt::format("alias rule '{}'", rule));
          AliasRule a;
          a.name = rule;
          YAML::Node fnode = ar.Get("field");
          a.field = ar.Required("field");
          const auto& known_fields = LogicalFields();
          if (std::find(known_fields.begin(), known_fields.end(), a.field) == known_fields.end()) {
            std::string hint = Suggest(a.field, known_fields);
            ar.Fail(fnode, fmt::format("job '{}': alias rule '{}': unknown field '{}'{}", name, rule,
                                       a.field,
                                       hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
          }
          YAML::Node mnode = ar.Get("map");
          if (!mnode.IsDefined() || !mnode.IsMap() || mnode.size() == 0) {
            ar.Fail(mnode.IsDefined() ? mnode : kv.second,
                    fmt::format("job '{}': alias rule '{}' needs a non-empty map: {{from: to}}", name, rule));
          }
          for (const auto& mv : mnode) {
            if (!mv.first.IsScalar() || !mv.second.IsScalar()) {
              ar.Fail(mv.first, fmt::format("job '{}': alias rule '{}': map entries are text: text", name, rule));
            }
            a.map.emplace_back(mv.first.Scalar(), mv.second.Scalar());
          }
          ar.Finish();
          j.aliases.push_back(std::move(a));
        }
      }
      YAML::Node fields = o.Get("fields");
      j.fields = o.StrList("fields");
      const auto& known = LogicalFields();
      for (const auto& f : j.fields) {
        if (std::find(known.begin(), known.end(), f) == known.end()) {
          std::string hint = Suggest(f, known);
          o.Fail(fields, fmt::format("job '{}': unknown field '{}'{}", name, f,
                                     hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
      }
    }
    o.Finish();
  }
  if (j.kind == "standardize" && j.rules.empty()) j.rules = {"trim_whitespace", "lowercase_email"};
  if (j.kind == "prune" && !node["options"].IsDefined()) {
    r.Fail(node, fmt::format("job '{}': a prune job needs options.criteria (inactive_months, "
                             "never_contacted_months, opted_out, bounced, invalid_email)",
                             name));
  }
  if ((j.kind == "audit" || j.kind == "score") && j.mandatory.empty()) {
    j.mandatory = {"first_name", "last_name", "email", "phone", "country"};
  }
  r.Finish();
}

// http: {listen: 127.0.0.1:9187, refresh: 60s}. Loopback only: the endpoints carry no
// authentication, so anything wider goes through a reverse proxy the admin configures.
void ParseHttp(const YAML::Node& node, std::string_view file, HttpConfig& http) {
  MapReader h(node, file, "http");
  YAML::Node listen = h.Get("listen");
  http.listen = h.Required("listen");
  http.refresh = h.Duration("refresh", http.refresh);
  h.Finish();
  if (http.refresh.count() < 1) h.Fail(h.node()["refresh"], "'refresh' must be >= 1s");
  // host:port, [v6]:port
  static const std::regex kListen(R"(^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+|localhost)):([0-9]{1,5})$)");
  std::smatch m;
  const std::string& text = http.listen;
  if (!std::regex_match(text, m, kListen)) {
    h.Fail(listen, fmt::format("'listen' must be ADDRESS:PORT (127.0.0.1:9187 or [::1]:9187), not '{}'",
                               text));
  }
  std::string addr = m[1].matched ? m[1].str() : m[2].str();
  if (addr == "localhost") addr = "127.0.0.1";
  long port = std::stol(m[3].str());
  if (port > 65535) h.Fail(listen, fmt::format("'listen': port {} is above 65535", port));
  const bool loopback = addr == "::1" || std::regex_match(addr, std::regex(R"(127\.\d{1,3}\.\d{1,3}\.\d{1,3})"));
  if (!loopback) {
    h.Fail(listen, fmt::format("'listen': {} is not a loopback address; the endpoints have no "
                               "authentication — listen on 127.0.0.1 or ::1 and put a reverse "
                               "proxy in front for remote scrapes", addr));
  }
  http.address = addr;
  http.port = static_cast<int>(port);
}

Config Parse(std::string_view text, std::string_view file) {
  Config cfg;
  cfg.source = std::string(file);
  YAML::Node root;
  {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DuplicateKeyFinder dups{std::string(file)};
    try {
      while (parser.HandleNextDocument(dups)) {
      }
    } catch (const YAML::Exception& e) {
      throw ConfigError{fmt::format("{}: {}", Where(file, e.mark), e.msg)};
    }
    if (dups.error) throw ConfigError{*dups.error};
    root = YAML::Load(std::string(text));
  }
  if (!root.IsDefined() || root.IsNull()) {
    throw ConfigError{fmt::format("{}:1:1: the configuration file is empty", file)};
  }
  MapReader r(root, file, "the top level");
  cfg.instance_id = r.Str("instance_id");
  if (cfg.instance_id.empty()) {
    // Stable across restarts, so a restarted daemon recognises its own interrupted runs.
    char host[256] = {};
    cfg.instance_id = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "localhost";
  }
  cfg.system_user = r.Str("system_user");

  {
    MapReader d(r.Get("database"), file, "database");
    auto& db = cfg.database;
    db.backend = d.OneOf("backend", "sqlite", {"sqlite", "mysql"}) == "mysql" ? Backend::kMysql
                                                                             : Backend::kSqlite;
    db.path = d.Str("path");
    db.host = d.Str("host", "localhost");
    db.port = static_cast<int>(d.Int("port", 3306, 1, 65535));
    db.socket = d.Str("socket");
    db.user = d.Str("user");
    YAML::Node dbname = d.Get("name");
    db.name = d.Str("name");
    CheckIdent(d, dbname, "database name", db.name);
    db.password_file = d.Str("password_file");
    db.password_credential = d.Str("password_credential");
    if (d.Has("password")) {
      d.Fail(d.node()["password"],
             "a password is never written in the YAML: use password_file or password_credential "
             "(systemd LoadCredential=)");
    }
    if (d.Has("tls")) {
      MapReader t(d.Get("tls"), file, "database.tls");
      db.tls.mode = t.OneOf("mode", "preferred",
                            {"disabled", "preferred", "required", "verify_ca", "verify_identity"});
      db.tls.ca = t.Str("ca");
      db.tls.cert = t.Str("cert");
      db.tls.key = t.Str("key");
      t.Finish();
    }
    db.connect_timeout = d.Duration("connect_timeout", std::chrono::seconds{10});
    db.galera = d.OneOf("galera", "refuse", {"refuse", "allow"});
    d.Finish();
    if (db.backend == Backend::kSqlite && db.path.empty()) {
      d.Fail(d.node(), "database.path is required for the sqlite backend");
    }
    if (db.backend == Backend::kMysql && (db.name.empty() || db.user.empty())) {
      d.Fail(d.node(), "database.name and database.user are required for the mysql backend");
    }
  }
  if (r.Has("state")) {
    MapReader s(r.Get("state"), file, "state");
    cfg.state.schema = Ident(s, "schema");
    cfg.state.table_prefix = Ident(s, "table_prefix", cfg.state.table_prefix);
    cfg.state.directory = s.Str("directory", cfg.state.directory);
    s.Finish();
  }
  if (r.Has("mapping")) {
    ParseMapping(r.Get("mapping"), file, cfg.mapping);
  } else {
    cfg.mapping = *BuiltinProfile("generic");
  }
  if (r.Has("daemon")) {
    MapReader d(r.Get("daemon"), file, "daemon");
    cfg.daemon.stop_timeout = d.Duration("stop_timeout", cfg.daemon.stop_timeout);
    cfg.daemon.clock_recheck = d.Duration("clock_recheck", cfg.daemon.clock_recheck);
    cfg.daemon.db_retry = d.Duration("db_retry", cfg.daemon.db_retry);
    cfg.daemon.db_give_up = d.Duration("db_give_up", cfg.daemon.db_give_up);
    d.Finish();
    if (cfg.daemon.clock_recheck.count() < 1) d.Fail(d.node(), "clock_recheck must be >= 1s");
  }
  if (r.Has("jobs")) {
    YAML::Node jobs = r.Get("jobs");
    MapReader jr(jobs, file, "jobs");
    for (const auto& kv : jobs) {
      std::string name = kv.first.Scalar();
      static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
      if (!std::regex_match(name, kName)) {
        jr.Fail(kv.first, fmt::format("job name '{}' must be letters, digits, '-', '_' or '.'", name));
      }
      jr.Get(name);
      JobConfig j;
      ParseJob(name, kv.second, file, j);
      cfg.jobs.push_back(std::move(j));
    }
  }
  if (r.Has("http")) ParseHttp(r.Get("http"), file, cfg.http);
  r.Finish();
  return cfg;
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name) {
  try {
    Config c = Parse(yaml_text, file_name);
    c.hash = ShortHash(yaml_text);
    return c;
  } catch (const ConfigError& e) {
    return Error::Config(e.message);
  } catch (const YAML::Exception& e) {
    return Error::Config(fmt::format("{}: {}", Where(file_name, e.mark), e.msg));
  } catch (const std::exception& e) {
    // A safety net: bad input must be an error message, never a crash.
    return Error::Config(fmt::format("{}: {}", file_name, e.what()));
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Config(fmt::format("{}: cannot read the configuration file", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

}  // namespace crmh
