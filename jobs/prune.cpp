#include "jobs/prune.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <set>
#include <tuple>
#include <unordered_map>

#include "crm/checkpoints.h"
#include "crm/ledger.h"
#include "crm/notices.h"
#include "crm/schema.h"
#include "crm/text_rows.h"
#include "jobs/audit.h"
#include "jobs/read_ahead.h"

namespace crmh::jobs {
namespace {

using std::chrono::days;

// Timestamps as text from either backend ("2026-01-02 03:04:05", maybe with fractions or a 'T').
std::optional<SysSeconds> ParseTs(std::string text) {
  if (text.size() < 19) {
    if (text.size() == 10) text += " 00:00:00";  // a DATE column
    else return std::nullopt;
  }
  text = text.substr(0, 19);
  if (text[10] == 'T') text[10] = ' ';
  return ParseSqlTime(text);
}

// A 0/1 test column as text: true unless NULL, empty or zero (CellInt's reading of it).
bool TextTrue(std::string_view v) {
  if (v.empty() || v == "0") return false;
  if (v == "1") return true;  // what the tests' CASE … THEN 1 ELSE 0 gives: no parse per cell
  return std::trunc(std::strtod(std::string(v).c_str(), nullptr)) != 0;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string InList(const crm::Db& db, const std::vector<std::string>& values) {
  std::string s;
  for (const auto& v : values) s += (s.empty() ? "" : ", ") + db.Literal(v);
  return s;
}

const ChildRef* FindChild(const Mapping& m, const std::string& name) {
  for (const auto& c : m.children) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// "ch.parent_type = 'Contacts'" and "COALESCE(ch.deleted, 0) = 0" pieces for a child reference.
std::string ChildFilter(const crm::Db& db, const ChildRef& ref, bool live_only,
                        const std::string& a = "ch") {
  std::string f;
  if (!ref.type_column.empty()) {
    f += fmt::format(" AND {}.{} = {}", a, db.Q(ref.type_column), db.Literal(ref.type_value));
  }
  if (live_only && !ref.soft_delete.empty()) {
    f += fmt::format(" AND COALESCE({}.{}, 0) = 0", a, db.Q(ref.soft_delete));
  }
  return f;
}

// What a prune does to the rows of a reference: nothing, sets their deleted flag, or removes
// them (delete/archive).
enum class Mode { kNone, kSoft, kHard };

// One reference the prune follows: a mapping.children entry (its column holds the contact id)
// or a mapping.grandchildren entry (its column holds the id of a row of reference `parent`).
struct RefNode {
  const ChildRef* ref = nullptr;
  int parent = -1;  // index into the graph; -1 = the contact
  int level = 1;
  std::string policy;           // delete | detach | block | keep
  Mode parent_mode = Mode::kNone, mode = Mode::kNone;
  bool live_only = false;       // only live rows are touched (or block)
};

// What planning a set reads before it builds the set (see PruneJob::Plan): per reference, its
// rows as (id, text, link value); the extension rows and the contacts as (id, text).
struct SetRows {
  std::vector<std::vector<std::array<std::string, 3>>> nodes;
  std::vector<std::array<std::string, 3>> ext, contacts;
};

// A column test on alias `a`: in / not_in / "set" (not NULL, not '', not 0).
std::string ColumnTest(const crm::Db& db, const std::string& a, const PruneCondition& c) {
  std::string col = a + "." + db.Q(c.column);
  if (!c.in.empty()) return fmt::format("CAST({} AS CHAR) IN ({})", col, InList(db, c.in));
  if (!c.not_in.empty()) {
    return fmt::format("({0} IS NULL OR CAST({0} AS CHAR) NOT IN ({1}))", col, InList(db, c.not_in));
  }
  return fmt::format("({0} IS NOT NULL AND CAST({0} AS CHAR) NOT IN ('', '0'))", col);
}

// 1 when the condition holds for contact alias c, else 0.
std::string ConditionExpr(const crm::Db& db, const Mapping& m, const PruneCondition& c) {
  if (c.child.empty()) return fmt::format("CASE WHEN {} THEN 1 ELSE 0 END", ColumnTest(db, "c", c));
  const ChildRef& ref = *FindChild(m, c.child);
  return fmt::format("CASE WHEN EXISTS (SELECT 1 FROM {} ch WHERE ch.{} = c.{}{}{}) THEN 1 ELSE 0 END",
                     db.Q(ref.table), db.Q(ref.column), db.Q(m.id_column),
                     ChildFilter(db, ref, /*live_only=*/true),
                     c.column.empty() ? "" : " AND " + ColumnTest(db, "ch", c));
}

// 1 when the logical field is set (not NULL, not '', not 0); related fields through their link.
std::string FieldSetExpr(const crm::Db& db, const Mapping& m, const FieldMap& f) {
  if (!f.related) {
    PruneCondition c;
    c.column = f.column;
    return ConditionExpr(db, m, c);
  }
  const RelatedField& r = *f.related;
  std::string where;
  for (const auto& [col, v] : r.where) where += fmt::format(" AND l.{} = {}", db.Q(col), db.Literal(v));
  return fmt::format(
      "CASE WHEN EXISTS (SELECT 1 FROM {} l JOIN {} t ON t.{} = l.{} WHERE l.{} = c.{}{} AND "
      "t.{} IS NOT NULL AND CAST(t.{} AS CHAR) NOT IN ('', '0')) THEN 1 ELSE 0 END",
      db.Q(r.link_table), db.Q(r.table), db.Q(r.key), db.Q(r.link_target), db.Q(r.link_contact),
      db.Q(m.id_column), where, db.Q(r.column), db.Q(r.column));
}

std::string PolicyOf(const PruneOptions& p, const std::string& child);
Result<std::vector<RefNode>> RefGraph(crm::Db& db, const Mapping& m, const PruneOptions& p);
Status CheckForeignKeys(crm::Db& db, const Mapping& m, const PruneOptions& p,
                        const std::vector<RefNode>& nodes, const std::string& job);

// Every table/column the options name must exist: a config error (exit 2) before anything runs.
Status CheckOptions(crm::Db& db, const Mapping& m, const JobConfig& job) {
  const PruneOptions& p = job.prune;
  auto bad = [&](const std::string& where, const std::string& msg) {
    return Error::Config(fmt::format("{}: job '{}': {}", where.empty() ? job.config_line : where,
                                     job.name, msg));
  };
  std::map<std::string, std::set<std::string>> cols;
  auto columns = [&](const std::string& table) -> Result<const std::set<std::string>*> {
    auto it = cols.find(table);
    if (it == cols.end()) {
      auto c = crm::ListColumns(db, table);
      if (!c) return c.error();
      it = cols.emplace(table, std::move(*c)).first;
    }
    return &it->second;
  };
  auto check = [&](const PruneCondition& c) -> Status {
    std::string table = m.contacts_table;
    if (!c.child.empty()) {
      const ChildRef* ref = FindChild(m, c.child);
      if (!ref) return bad(c.where, fmt::format("child '{}' is not in mapping.children", c.child));
      table = ref->table;
    }
    if (c.column.empty()) return Status::Ok();
    auto have = columns(table);
    if (!have) return have.error();
    if (!(*have)->count(c.column)) {
      return bad(c.where, fmt::format("column {}.{} does not exist", table, c.column));
    }
    return Status::Ok();
  };
  std::vector<const PruneCondition*> all;
  for (const auto* o : {&p.bounced, &p.customer, &p.legal_hold, &p.open_deals}) {
    if (*o) all.push_back(&**o);
  }
  for (const auto& k : p.keep_if) all.push_back(&k);
  for (const auto* c : all) {
    if (Status st = check(*c); !st) return st;
  }
  for (const auto& [child, policy] : p.children) {
    bool grand = false;
    for (const auto& g : m.grandchildren) grand = grand || g.name == child;
    if (!FindChild(m, child) && !grand) {
      return bad("", fmt::format("options.children names '{}', which neither mapping.children "
                                 "nor mapping.grandchildren defines",
                                 child));
    }
  }
  if (p.action == "soft_delete" && m.soft_delete.empty()) {
    return bad("", "action soft_delete needs mapping.contacts.soft_delete (the CRM's deleted flag); "
                   "use action: delete");
  }
  if ((p.inactive_months > 0 || p.never_contacted_months > 0) && m.activity.empty()) {
    return bad("", "inactive_months / never_contacted_months need mapping.activity");
  }
  auto direct = [&](const char* f) {
    auto it = m.fields.find(f);
    return it != m.fields.end() && !it->second.related;
  };
  if ((p.never_contacted_months > 0 || p.created_within_days > 0) && !direct("created_at")) {
    return bad("", "never_contacted_months / created_within_days need the created_at field mapped "
                   "to a contacts column");
  }
  if (p.opted_out && !m.fields.count("opt_out")) {
    return bad("", "criteria.opted_out needs the opt_out field mapped");
  }
  // The second level: the columns a followed grandchild names exist; `keep` only where its
  // rows would not be orphaned; every foreign key onto a removed table is mapped.
  auto graph = RefGraph(db, m, p);
  if (!graph) return graph.error();
  for (const auto& n : *graph) {
    if (n.parent < 0) continue;
    const ChildRef& g = *n.ref;
    auto have = columns(g.table);
    if (!have) return have.error();
    if ((*have)->empty()) {
      return bad("", fmt::format("mapping.grandchildren '{}': table {} does not exist (mark it "
                                 "optional: true if the CRM may lack it)",
                                 g.name, g.table));
    }
    for (const std::string* c : {&g.column, &g.id_column, &g.type_column, &g.soft_delete}) {
      if (!c->empty() && !(*have)->count(*c)) {
        return bad("", fmt::format("mapping.grandchildren '{}': column {}.{} does not exist",
                                   g.name, g.table, *c));
      }
    }
    if (n.policy == "keep" && n.parent_mode == Mode::kHard) {
      return bad("", fmt::format("options.children.{}: '{}' rows cannot be kept when their "
                                 "parent '{}' rows are removed (they would be left orphaned): "
                                 "delete, detach or block",
                                 g.name, g.name, g.parent));
    }
  }
  return CheckForeignKeys(db, m, p, *graph, job.name);
}

std::string PolicyOf(const PruneOptions& p, const std::string& child) {
  auto it = p.children.find(child);
  return it == p.children.end() ? "delete" : it->second;
}

// The reference graph a prune follows, parents before children (docs/prune.md "Second-level
// rows"): a reference is followed only below rows the prune removes or soft-deletes; what it
// does to its own rows follows its policy, the same rules at every level: `delete` removes rows
// whose parent row is removed (and rows without a deleted flag), soft-deletes the live ones of a
// soft-deleted parent; `detach` sets the column NULL; `block` keeps the contact; `keep` leaves
// them. Optional grandchildren whose table does not exist are left out. The parse guarantees
// known parents, no cycle and at most kMaxReferenceDepth levels.
Result<std::vector<RefNode>> RefGraph(crm::Db& db, const Mapping& m, const PruneOptions& p) {
  std::vector<RefNode> nodes;
  std::map<std::string, int> index;
  const Mode contact = p.action == "soft_delete" ? Mode::kSoft : Mode::kHard;
  auto add = [&](const ChildRef& ref, int parent) {
    RefNode n;
    n.ref = &ref;
    n.parent = parent;
    n.level = parent < 0 ? 1 : nodes[static_cast<size_t>(parent)].level + 1;
    n.policy = PolicyOf(p, ref.name);
    n.parent_mode = parent < 0 ? contact : nodes[static_cast<size_t>(parent)].mode;
    if (n.policy == "delete") {
      n.mode = n.parent_mode == Mode::kHard || ref.soft_delete.empty() ? Mode::kHard : Mode::kSoft;
      n.live_only = n.mode == Mode::kSoft;
    } else if (n.policy == "block") {
      n.live_only = n.parent_mode == Mode::kSoft;
    }
    index[ref.name] = static_cast<int>(nodes.size());
    nodes.push_back(n);
  };
  for (const auto& ref : m.children) add(ref, -1);
  // Grandchildren may be listed before their parents: place them as their parents appear.
  std::vector<const ChildRef*> pending;
  for (const auto& g : m.grandchildren) pending.push_back(&g);
  while (!pending.empty()) {
    std::vector<const ChildRef*> later;
    for (const ChildRef* g : pending) {
      auto it = index.find(g->parent);
      if (it == index.end()) {
        later.push_back(g);
        continue;
      }
      if (g->optional) {
        auto cols = crm::ListColumns(db, g->table);
        if (!cols) return cols.error();
        if (cols->empty()) {
          index[g->name] = -2;  // absent: its own grandchildren are absent too
          continue;
        }
      }
      if (it->second < 0 || nodes[static_cast<size_t>(it->second)].mode == Mode::kNone) {
        index[g->name] = -2;  // its parent's rows stay: nothing of it is orphaned
        continue;
      }
      add(*g, it->second);
    }
    if (later.size() == pending.size()) break;  // unknown parents: the parse refused them
    pending = std::move(later);
  }
  return nodes;
}

// 1 when contact alias c has a row of reference `k` (below rows the prune would remove) —
// the `block` test, for a child or a grandchild at any depth.
std::string BlockExpr(const crm::Db& db, const Mapping& m, const std::vector<RefNode>& nodes,
                      size_t k) {
  std::vector<size_t> path;
  for (int i = static_cast<int>(k); i >= 0; i = nodes[static_cast<size_t>(i)].parent) {
    path.push_back(static_cast<size_t>(i));
  }
  std::reverse(path.begin(), path.end());
  std::string from, where;
  for (size_t i = 0; i < path.size(); ++i) {
    const RefNode& n = nodes[path[i]];
    const std::string a = fmt::format("g{}", i);
    if (i == 0) {
      from = fmt::format("{} {}", db.Q(n.ref->table), a);
      where = fmt::format("{}.{} = c.{}", a, db.Q(n.ref->column), db.Q(m.id_column));
    } else {
      const RefNode& up = nodes[path[i - 1]];
      from += fmt::format(" JOIN {} {} ON {}.{} = g{}.{}", db.Q(n.ref->table), a, a,
                          db.Q(n.ref->column), i - 1, db.Q(up.ref->id_column));
    }
    where += ChildFilter(db, *n.ref, n.live_only, a);
  }
  return fmt::format("EXISTS (SELECT 1 FROM {} WHERE {})", from, where);
}

// A row of a table the prune removes rows from must not be left pointing at one: every foreign
// key of the live schema that references such a table must be a mapped reference (or the
// contact's extension row). Otherwise the mapping cannot say what to do with those rows —
// refuse (exit 2) rather than orphan them. Polymorphic links have no foreign key: they are
// followed as mapped (docs/prune.md).
Status CheckForeignKeys(crm::Db& db, const Mapping& m, const PruneOptions& p,
                        const std::vector<RefNode>& nodes, const std::string& job) {
  const bool hard = p.action != "soft_delete";
  std::map<std::string, std::vector<std::string>> removed;  // table → the references removing it
  if (hard) removed[m.contacts_table].push_back("the contacts");
  if (hard && !m.extension_table.empty()) removed[m.extension_table].push_back("the extension");
  for (const auto& n : nodes) {
    if (n.mode == Mode::kHard) removed[n.ref->table].push_back(n.ref->name);
  }
  if (removed.empty()) return Status::Ok();
  std::set<std::string> tables;
  for (const auto& [t, refs] : removed) tables.insert(t);
  auto fks = crm::ForeignKeysTo(db, tables);
  if (!fks) return fks.error();
  for (const auto& fk : *fks) {
    bool covered = false;
    if (fk.referenced == m.contacts_table) {
      covered = fk.table == m.extension_table && fk.column == m.extension_id;
      for (const auto& n : nodes) {
        covered = covered || (n.parent < 0 && n.ref->table == fk.table && n.ref->column == fk.column);
      }
    }
    for (const auto& n : nodes) {
      if (n.parent < 0) continue;
      const RefNode& up = nodes[static_cast<size_t>(n.parent)];
      covered = covered || (up.ref->table == fk.referenced && n.ref->table == fk.table &&
                            n.ref->column == fk.column);
    }
    if (covered) continue;
    return Error::Config(fmt::format(
        "job '{}': {}.{} references {} (a foreign key), whose rows this prune removes ({}); the "
        "mapping does not say what to do with those rows — name them in mapping.grandchildren "
        "(parent: {}) with a policy in options.children, or detach/block the parent reference",
        job, fk.table, fk.column, fk.referenced, Join(removed[fk.referenced], ", "),
        removed[fk.referenced].front()));
  }
  return Status::Ok();
}

}  // namespace

Status CheckPruneJob(crm::Db& db, const Mapping& m, const JobConfig& job, bool grants) {
  if (Status st = CheckOptions(db, m, job); !st) return st;
  if (!grants) return Status::Ok();
  const bool hard = job.prune.action != "soft_delete";
  std::vector<std::tuple<std::string, std::string, bool>> tables{
      {m.contacts_table, m.id_column, hard}};
  if (hard && !m.extension_table.empty()) tables.emplace_back(m.extension_table, m.extension_id, true);
  auto graph = RefGraph(db, m, job.prune);
  if (!graph) return graph.error();
  for (const auto& n : *graph) {
    if (n.policy == "keep" || n.policy == "block") continue;
    tables.emplace_back(n.ref->table, n.ref->id_column, n.mode == Mode::kHard);
  }
  for (const auto& [table, id, deletes] : tables) {
    if (Status st = crm::ProbeWriteGrants(db, table, id, deletes); !st) return st;
  }
  return Status::Ok();
}

DatabaseConfig ReplicaDatabase(const DatabaseConfig& crm, const PruneOptions::ReplicaDsn& r) {
  DatabaseConfig d = crm;
  d.backend = Backend::kMysql;
  d.name.clear();  // SHOW REPLICA STATUS needs no database (a replica may name it otherwise)
  if (!r.host.empty()) {
    d.host = r.host;
    d.socket.clear();
  }
  if (!r.socket.empty()) d.socket = r.socket;
  if (r.port != 0) d.port = r.port;
  if (!r.user.empty()) d.user = r.user;
  if (!r.password_file.empty() || !r.password_credential.empty()) {
    d.password_file = r.password_file;
    d.password_credential = r.password_credential;
  }
  return d;
}

namespace {

std::string ReplicaName(const DatabaseConfig& d) {
  return d.socket.empty() ? fmt::format("{}:{}", d.host, d.port) : d.socket;
}

Status ProbeReplicaStatus(crm::Db& db, const std::string& job, const std::string& where) {
  Status st = crm::Guard("", [&] {
    soci::rowset<soci::row> rs = db.sql().prepare << "SHOW REPLICA STATUS";
    for (const auto& r : rs) (void)r;
  });
  if (!st) {
    if (st.error().exit == Exit::kDbUnreachable) return st;
    return Error::Config(fmt::format(
        "job '{}': max_replica_lag needs SHOW REPLICA STATUS on {}, which this user may not run "
        "(GRANT REPLICATION CLIENT, on MariaDB >= 10.5 SLAVE MONITOR, ON *.*): {}",
        job, where, st.error().message));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ProbePruneServer(crm::Db& db, const Config& cfg,
                                                  const JobConfig& job) {
  std::vector<std::string> warnings;
  if (!db.mysql()) return warnings;
  if (job.prune.max_replica_lag) {
    if (Status st = ProbeReplicaStatus(db, job.name, "the CRM database"); !st) return st.error();
    for (const auto& r : job.prune.replica_dsns) {
      const DatabaseConfig d = ReplicaDatabase(cfg.database, r);
      auto replica = crm::Open(d, cfg.state);
      if (!replica) {
        Error e = replica.error();
        e.message = fmt::format("job '{}': replica {}: {}", job.name, ReplicaName(d), e.message);
        return e;
      }
      if (Status st = ProbeReplicaStatus(**replica, job.name, "replica " + ReplicaName(d)); !st) {
        return st.error();
      }
    }
  }
  const std::string probe = db.Q(db.state_config().table_prefix + "tmp_probe");
  Status st = crm::Guard("", [&] {
    db.sql() << fmt::format("CREATE TEMPORARY TABLE IF NOT EXISTS {} (x INT)", probe);
    db.sql() << fmt::format("DROP TEMPORARY TABLE IF EXISTS {}", probe);
  });
  if (!st) {
    if (st.error().exit == Exit::kDbUnreachable) return st.error();
    warnings.push_back(fmt::format(
        "job '{}': no CREATE TEMPORARY TABLES on database {}: change sets over 64 rows use "
        "CASE lists instead of a temporary table (correct, slower; docs/operations.md)",
        job.name, db.database_name()));
  }
  return warnings;
}

SysSeconds MonthsBefore(SysSeconds t, int months) {
  const auto day = std::chrono::floor<days>(t);
  const auto tod = t - day;
  std::chrono::year_month_day ymd{day};
  ymd -= std::chrono::months{months};
  if (!ymd.ok()) ymd = std::chrono::year_month_day{ymd.year() / ymd.month() / std::chrono::last};
  return std::chrono::sys_days{ymd} + tod;
}

Status PruneJob::Plan(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const JobConfig& job = ctx.job;
  const PruneOptions& p = job.prune;
  const SysSeconds now = ctx.clock.Now();
  const auto plan_start = std::chrono::steady_clock::now();
  nlohmann::json plan_seconds = nlohmann::json::object();
  if (Status st = CheckOptions(db, m, job); !st) return st;
  auto graph_r = RefGraph(db, m, p);
  if (!graph_r) return graph_r.error();
  const std::vector<RefNode>& graph = *graph_r;
  plan_seconds["checks"] = SecondsSince(plan_start);
  // With several connections (MariaDB/MySQL), planning reads on all of them at once: the extra
  // sessions are opened here and closed when the plan is made (Apply opens its own).
  std::vector<std::unique_ptr<crm::Db>> readers;
  if (db.mysql() && p.connections > 1 && ctx.open_db) {
    while (readers.size() < static_cast<size_t>(p.connections - 1)) {
      auto s = ctx.open_db();
      if (!s) return s.error();
      readers.push_back(std::move(*s));
    }
  }
  std::vector<crm::Db*> sessions{&db};
  for (auto& r : readers) sessions.push_back(r.get());

  // --- read: one row per live contact, the server evaluating every test.
  std::string select = fmt::format("CAST(c.{} AS CHAR)", db.Q(m.id_column));
  auto field_text = [&](const char* f) {
    auto it = m.fields.find(f);
    if (it == m.fields.end() || it->second.related) return std::string("NULL");
    return fmt::format("CAST(c.{} AS CHAR)", db.Q(it->second.column));
  };
  select += ", " + field_text("created_at") + ", " + field_text("owner");
  size_t col = 3;
  // A contact's latest activity (a correlated MAX over each activity table) is most of the
  // scan's cost. Only the inactivity criteria need it for every contact; otherwise it decides
  // only for a contact with a reason (the notice records it) or an open notice (activity since
  // the notice closes it): the scan leaves it out and those contacts' activity is read after
  // it, by id, 1,000 at a time.
  const bool activity_in_scan = p.inactive_months > 0 || p.never_contacted_months > 0;
  std::string activity_select;
  for (const auto& a : m.activity) {
    activity_select += ", " + ActivityExpr(db, m, a);
  }
  const size_t activity_first = col;
  if (activity_in_scan) {
    select += activity_select;
    col += m.activity.size();
  }
  // Named tests, each a 0/1 column.
  std::vector<std::pair<std::string, bool>> tests;  // name, is_protection
  auto add_test = [&](const std::string& name, bool protection, const std::string& expr) {
    select += ", " + expr;
    tests.emplace_back(name, protection);
  };
  if (p.opted_out) add_test("opted_out", false, FieldSetExpr(db, m, m.fields.at("opt_out")));
  if (p.bounced) add_test("bounced", false, ConditionExpr(db, m, *p.bounced));
  if (p.customer) add_test("customer", true, ConditionExpr(db, m, *p.customer));
  if (p.legal_hold) add_test("legal_hold", true, ConditionExpr(db, m, *p.legal_hold));
  if (p.open_deals) add_test("open_deals", true, ConditionExpr(db, m, *p.open_deals));
  for (const auto& k : p.keep_if) add_test("keep_if", true, ConditionExpr(db, m, k));
  // `block`: a contact with such a child row is not pruned. A hard delete is blocked by any
  // row (a soft-deleted one would be orphaned too); a soft delete only by live ones.
  // A grandchild's `block` looks through the rows the prune would remove above it.
  for (size_t k = 0; k < graph.size(); ++k) {
    if (graph[k].policy != "block") continue;
    add_test("blocked_by_" + graph[k].ref->name, true,
             fmt::format("CASE WHEN {} THEN 1 ELSE 0 END", BlockExpr(db, m, graph, k)));
  }
  const size_t tests_first = col;
  // The protections again, as one test the change set re-runs inside its transaction: a keep
  // tag, a legal hold or an open deal added between this plan and the set's apply skips the set.
  std::string protect_expr;
  {
    std::vector<std::string> exprs;
    auto add = [&](const PruneCondition& c) { exprs.push_back(ConditionExpr(db, m, c) + " = 1"); };
    if (p.customer) add(*p.customer);
    if (p.legal_hold) add(*p.legal_hold);
    if (p.open_deals) add(*p.open_deals);
    for (const auto& k : p.keep_if) add(k);
    for (size_t k = 0; k < graph.size(); ++k) {
      if (graph[k].policy == "block") exprs.push_back(BlockExpr(db, m, graph, k));
    }
    protect_expr = Join(exprs, " OR ");
  }

  // Contacts with an open invalid-email flag (standardize's validation), read from the state.
  std::set<std::string> invalid_email;
  if (p.invalid_email) {
    Status st = crm::Guard("reading email validation flags", [&] {
      soci::rowset<std::string> rs = db.sql().prepare << fmt::format(
          "SELECT DISTINCT contact_id FROM {} WHERE field IN ('email', 'email2') AND code = "
          "'email_syntax' AND cleared_at IS NULL",
          db.State("flags"));
      for (const auto& id : rs) invalid_email.insert(id);
    });
    if (!st) return st;
  }

  auto unfinished = crm::UnfinishedCheckpoints(db, job.name, ctx.run_id);
  if (!unfinished) return unfinished.error();
  resumed_runs_.clear();
  nlohmann::json resumed = nlohmann::json::array();
  for (const auto& c : *unfinished) {
    resumed_runs_.push_back(c.run_id);
    resumed.push_back({{"run_id", c.run_id},
                       {"status", c.status},
                       {"last_key", c.last_key},
                       {"change_sets_done", c.sets_done},
                       {"contacts_done", c.items_done}});
  }
  if (!resumed.empty()) report.details["resumed_from"] = resumed;

  const auto notices_start = std::chrono::steady_clock::now();
  auto open = crm::ListOpenNotices(db, job.name);
  if (!open) return open.error();
  std::unordered_map<std::string, const crm::OpenNotice*> open_by_contact;
  open_by_contact.reserve(open->size());
  for (const auto& n : *open) open_by_contact[n.contact_id] = &n;
  plan_seconds["notices"] = SecondsSince(notices_start);
  std::set<std::string> rescued;
  if (p.rescue_days > 0) {
    auto r = crm::RescuedSince(db, job.name, now - days(p.rescue_days));
    if (!r) return r.error();
    rescued.insert(r->begin(), r->end());
  }

  const SysSeconds inactive_cutoff = MonthsBefore(now, p.inactive_months);
  const SysSeconds never_cutoff = MonthsBefore(now, p.never_contacted_months);
  const SysSeconds recent_cutoff = now - days(p.created_within_days);
  const std::string where =
      m.soft_delete.empty() ? "" : fmt::format(" WHERE COALESCE(c.{}, 0) = 0", db.Q(m.soft_delete));

  long long scanned = 0, qualifying = 0, protected_n = 0, rescued_skipped = 0;
  long long activity_read = 0;
  std::map<std::string, long long> by_reason, by_protection;
  std::set<std::string> seen_open;  // open notices whose contact is live
  std::vector<std::string> due;     // contact ids, in id order
  to_notice_.clear();
  to_close_.clear();
  due_notice_.clear();
  plan_.clear();

  // A contact the notice/prune decisions below look at: one with a reason or an open notice
  // (any other contact neither qualifies nor has a notice to close). In scan (id) order.
  struct Scanned {
    std::string id, owner;
    std::vector<std::string> reasons;
    bool qualifies = false;
    bool activity_known = false;
    std::optional<SysSeconds> last;
  };
  std::deque<Scanned> decide;  // (a deque: the activity reads below hold pointers into it)
  auto latest = [&](const crm::TextRow& r, size_t first) {
    std::optional<SysSeconds> last;
    for (size_t i = first; i < first + m.activity.size(); ++i) {
      if (r.null(i)) continue;
      auto t = ParseTs(std::string(r[i]));
      if (t && (!last || *t > *last)) last = t;
    }
    return last;
  };

  // Without an inactivity criterion the latest activity decides only for the contacts the scan
  // keeps (a reason or an open notice): it is read by id, 1,000 contacts a statement — with
  // several connections on the other ones while the scan is still running, chunk by chunk as
  // the scan yields them (a contact no longer live by then is left out: its notice closes
  // `gone`, as for any contact gone).
  constexpr size_t kChunk = 1000;
  std::atomic<long long> activity_by_id{0};
  auto read_activity = [&](crm::Db& d, const std::vector<Scanned*>& chunk) -> Status {
    std::map<std::string, Scanned*, std::less<>> by_id;
    std::vector<std::string> ids;
    ids.reserve(chunk.size());
    for (Scanned* c : chunk) {
      by_id[c->id] = c;
      ids.push_back(c->id);
    }
    long long n = 0;
    Status read = crm::ForEachTextRow(
        d, "reading the latest activity",
        fmt::format("SELECT CAST(c.{id} AS CHAR){act} FROM {t} c WHERE {live}c.{id} IN ({in})",
                    fmt::arg("id", d.Q(m.id_column)), fmt::arg("act", activity_select),
                    fmt::arg("t", d.Q(m.contacts_table)),
                    fmt::arg("live", m.soft_delete.empty()
                                         ? ""
                                         : fmt::format("COALESCE(c.{}, 0) = 0 AND ",
                                                       d.Q(m.soft_delete))),
                    fmt::arg("in", InList(d, ids))),
        {}, [&](const crm::TextRow& r) {
          auto it = by_id.find(r[0]);
          if (it == by_id.end()) return;
          it->second->last = latest(r, 1);
          it->second->activity_known = true;
          ++n;
        });
    activity_by_id += n;
    return read;
  };
  std::optional<ReadQueue<crm::Db>> early;
  if (!activity_in_scan && !readers.empty()) {
    std::vector<crm::Db*> reader_sessions;
    for (auto& r : readers) reader_sessions.push_back(r.get());
    early.emplace(reader_sessions);
  }
  size_t queued = 0;  // decide[0, queued) is queued for its activity read
  auto queue_chunk = [&](size_t end) {
    if (end <= queued) return;
    std::vector<Scanned*> chunk;
    chunk.reserve(end - queued);
    for (size_t i = queued; i < end; ++i) chunk.push_back(&decide[i]);
    queued = end;
    early->Add([&read_activity, chunk = std::move(chunk)](crm::Db& d) {
      return read_activity(d, chunk);
    });
  };

  // The scan streams (crm::ForEachTextRow): the server evaluates the tests while we decide.
  const auto scan_start = std::chrono::steady_clock::now();
  Status st = crm::ForEachTextRow(
      db, "planning prune",
      fmt::format("SELECT {} FROM {} c{} ORDER BY c.{}", select, db.Q(m.contacts_table), where,
                  db.Q(m.id_column)),
      {}, [&](const crm::TextRow& r) {
      ++scanned;
      const std::string id(r[0]);
      std::optional<SysSeconds> created = ParseTs(std::string(r[1]));
      std::optional<SysSeconds> last;
      if (activity_in_scan) {
        last = latest(r, activity_first);
        ++activity_read;
      }
      std::vector<std::string> reasons, protections;
      if (p.inactive_months > 0 && last && *last < inactive_cutoff) reasons.push_back("inactive");
      if (p.never_contacted_months > 0 && !last && created && *created <= never_cutoff) {
        reasons.push_back("never_contacted");
      }
      if (p.invalid_email && invalid_email.count(id)) reasons.push_back("invalid_email");
      for (size_t k = 0; k < tests.size(); ++k) {
        if (!TextTrue(r[tests_first + k])) continue;
        (tests[k].second ? protections : reasons).push_back(tests[k].first);
      }
      if (p.created_within_days > 0 && created && *created > recent_cutoff) {
        protections.push_back("recently_created");
      }
      for (const auto& why : reasons) ++by_reason[why];
      if (!reasons.empty() && !protections.empty()) {
        ++protected_n;
        for (const auto& why : protections) ++by_protection[why];
      }
      const bool qualifies = !reasons.empty() && protections.empty();
      if (qualifies) ++qualifying;
      if (reasons.empty() && !open_by_contact.count(id)) return;
      decide.push_back({id, std::string(r[2]), std::move(reasons), qualifies, activity_in_scan,
                        last});
      if (early && decide.size() - queued >= kChunk) queue_chunk(decide.size());
      });
  if (!st) return st;
  plan_seconds["scan"] = SecondsSince(scan_start);
  // The reads queued during the scan finish here, this session helping.
  if (early) {
    const auto activity_start = std::chrono::steady_clock::now();
    queue_chunk(decide.size());
    Status read = early->Finish(&db);
    early.reset();
    if (!read) return read;
    plan_seconds["activity"] = SecondsSince(activity_start);
  } else if (!activity_in_scan && !decide.empty()) {
    const auto activity_start = std::chrono::steady_clock::now();
    for (size_t first = 0; first < decide.size(); first += kChunk) {
      std::vector<Scanned*> chunk;
      for (size_t i = first; i < std::min(decide.size(), first + kChunk); ++i) {
        chunk.push_back(&decide[i]);
      }
      if (Status read = read_activity(db, chunk); !read) return read;
    }
    plan_seconds["activity"] = SecondsSince(activity_start);
  }
  activity_read += activity_by_id;

  for (const Scanned& c : decide) {
    if (!c.activity_known) continue;  // gone since the scan
    const std::optional<SysSeconds>& last = c.last;
    auto notice = open_by_contact.find(c.id);
    if (notice != open_by_contact.end()) {
      const crm::OpenNotice& n = *notice->second;
      seen_open.insert(c.id);
      if (last && *last > n.noticed_at) {
        to_close_["activity"].push_back(n.id);
      } else if (!c.qualifies) {
        to_close_["cleared"].push_back(n.id);
      } else if (n.prune_after <= now && !p.notice_only) {
        due.push_back(c.id);
        due_notice_[c.id] = n.id;
      }
      continue;
    }
    if (!c.qualifies) continue;
    if (rescued.count(c.id)) {
      ++rescued_skipped;
      continue;
    }
    to_notice_.push_back(
        {c.id, c.owner, Join(c.reasons, ","), last ? FormatSqlTime(*last) : std::string()});
  }
  for (const auto& n : *open) {
    if (!seen_open.count(n.contact_id)) to_close_["gone"].push_back(n.id);
  }

  // --- prune: batches of due contacts, each one change set.
  auto contact_cols = crm::OrderedColumns(db, m.contacts_table);
  if (!contact_cols) return contact_cols.error();
  const bool hard = p.action != "soft_delete";
  const OpKind remove = p.action == "archive" ? OpKind::kArchive : OpKind::kDelete;
  std::string modified_by, updated_at;
  if (auto it = m.fields.find("modified_by");
      it != m.fields.end() && !it->second.related && !ctx.cfg.system_user.empty()) {
    modified_by = it->second.column;
  }
  if (auto it = m.fields.find("updated_at"); it != m.fields.end() && !it->second.related) {
    updated_at = it->second.column;
  }
  const std::string now_sql = FormatSqlTime(now);
  std::map<std::string, std::vector<std::string>> child_cols;
  for (const auto& n : graph) {
    if (child_cols.count(n.ref->table)) continue;
    auto c = crm::OrderedColumns(db, n.ref->table);
    if (!c) return c.error();
    child_cols[n.ref->table] = *c;
  }
  std::vector<std::string> ext_cols;
  if (hard && !m.extension_table.empty()) {
    auto c = crm::OrderedColumns(db, m.extension_table);
    if (!c) return c.error();
    ext_cols = *c;
  }
  std::map<std::string, long long> child_rows;  // reference name → rows planned
  struct Planned {
    size_t set, node, pos;
    bool removes;
  };
  // table → row id → where it is planned (hashed: a 1M-row plan looks up every row)
  std::map<std::string, std::unordered_map<std::string, Planned>> planned_in;
  const size_t batch = static_cast<size_t>(std::max(1, job.batch_size));
  const auto sets_start = std::chrono::steady_clock::now();
  // The rows a reference holds below `parent_in`, each with its text and the value of its link.
  auto child_sql = [&](crm::Db& d, size_t k, const std::string& parent_in) {
    const RefNode& n = graph[k];
    const ChildRef& ref = *n.ref;
    return fmt::format(
        "SELECT CAST(ch.{id} AS CHAR), {text}, CAST(ch.{col} AS CHAR) FROM {t} ch WHERE "
        "ch.{col} IN ({in}){filter} ORDER BY ch.{id}",
        fmt::arg("id", d.Q(ref.id_column)),
        fmt::arg("text", crm::RowTextExpr(d, child_cols.at(ref.table), "ch")),
        fmt::arg("col", d.Q(ref.column)), fmt::arg("t", d.Q(ref.table)), fmt::arg("in", parent_in),
        fmt::arg("filter", ChildFilter(d, ref, n.live_only)));
  };
  auto read_rows = [](crm::Db& d, const std::string& sql, size_t columns,
                      std::vector<std::array<std::string, 3>>& rows) {
    return crm::ForEachTextRow(d, "planning prune batches", sql, {}, [&](const crm::TextRow& r) {
      auto& row = rows.emplace_back();
      for (size_t i = 0; i < columns; ++i) row[i] = r[i];
    });
  };
  // What a set reads that depends on nothing planned before it: the rows of the first-level
  // references, the extension rows and the contacts. With several connections these reads run
  // ahead on them (a set's build below needs the sets before it: a row is planned once).
  auto set_ids = [&](size_t set) {
    return std::vector<std::string>(
        due.begin() + static_cast<std::ptrdiff_t>(set * batch),
        due.begin() + static_cast<std::ptrdiff_t>(std::min(due.size(), (set + 1) * batch)));
  };
  auto read_set = [&](crm::Db& d, size_t set) -> Result<SetRows> {
    SetRows out;
    out.nodes.resize(graph.size());
    const std::string in = InList(d, set_ids(set));
    for (size_t k = 0; k < graph.size(); ++k) {
      if (graph[k].parent >= 0 || graph[k].policy == "keep" || graph[k].policy == "block") {
        continue;
      }
      if (Status r = read_rows(d, child_sql(d, k, in), 3, out.nodes[k]); !r) return r.error();
    }
    if (!ext_cols.empty()) {
      Status read = read_rows(
          d,
          fmt::format(
              "SELECT CAST(e.{id} AS CHAR), {text} FROM {t} e WHERE e.{id} IN ({in}) ORDER BY e.{id}",
              fmt::arg("id", d.Q(m.extension_id)),
              fmt::arg("text", crm::RowTextExpr(d, ext_cols, "e")),
              fmt::arg("t", d.Q(m.extension_table)), fmt::arg("in", in)),
          2, out.ext);
      if (!read) return read.error();
    }
    Status read = read_rows(
        d,
        fmt::format(
            "SELECT CAST(c.{id} AS CHAR), {text} FROM {t} c WHERE c.{id} IN ({in}) ORDER BY c.{id}",
            fmt::arg("id", d.Q(m.id_column)),
            fmt::arg("text", crm::RowTextExpr(d, *contact_cols, "c")),
            fmt::arg("t", d.Q(m.contacts_table)), fmt::arg("in", in)),
        2, out.contacts);
    if (!read) return read.error();
    return out;
  };
  const size_t n_sets = (due.size() + batch - 1) / batch;
  // The sessions that read ahead: the extra connections, and this one too unless it reads the
  // deeper references' rows while the sets are built.
  bool deeper = false;
  for (const auto& n : graph) {
    deeper = deeper || (n.parent >= 0 && n.policy != "keep" && n.policy != "block");
  }
  std::optional<ReadAhead<crm::Db, SetRows>> ahead;
  if (!readers.empty() && n_sets > 1) {
    const std::vector<crm::Db*> set_readers(sessions.begin() + (deeper ? 1 : 0), sessions.end());
    ahead.emplace(set_readers, n_sets, 4 * set_readers.size(), read_set);
  }
  st = Status::Ok();
  for (size_t set = 0; set < n_sets && st; ++set) {
    Result<SetRows> got = ahead ? ahead->Next() : read_set(db, set);
    if (!got) {
      st = got.error();
      break;
    }
    SetRows& rows = *got;
    Status deeper_read = Status::Ok();
    st = crm::Guard("planning prune batches", [&] {
      const std::vector<std::string> ids = set_ids(set);
      const std::string in = InList(db, ids);
      ChangeSet cs;
      // Child rows, then their own referencing rows, level by level (parents before children in
      // `graph`): each reference reads the rows pointing at what its parent removes in this set.
      std::vector<std::vector<RowOp>> node_ops(graph.size());
      std::vector<std::vector<std::string>> removed(graph.size());  // ids removed per reference
      for (size_t k = 0; k < graph.size(); ++k) {
        const RefNode& n = graph[k];
        const ChildRef& ref = *n.ref;
        if (n.policy == "keep" || n.policy == "block") continue;
        if (n.parent >= 0) {
          const auto& up = removed[static_cast<size_t>(n.parent)];
          if (up.empty()) continue;
          deeper_read = read_rows(db, child_sql(db, k, InList(db, up)), 3, rows.nodes[k]);
          if (!deeper_read) return;
        }
        const std::string of = n.parent < 0 ? "contact" : graph[static_cast<size_t>(n.parent)].ref->name;
        auto* table_planned = &planned_in[ref.table];
        node_ops[k].reserve(rows.nodes[k].size());
        long long added = 0;
        for (auto& r : rows.nodes[k]) {
          RowOp op;
          op.table = ref.table;
          op.id_column = ref.id_column;
          op.id = std::move(r[0]);
          op.expect = std::move(r[1]);
          const std::string& owner = r[2];
          const bool removes = n.policy == "delete";
          if (n.policy == "detach") {
            op.kind = OpKind::kUpdate;
            op.set.emplace_back(ref.column, std::nullopt);
            op.note = fmt::format("prune: detach {} from {} {}", ref.name, of, owner);
          } else if (n.mode == Mode::kSoft) {
            op.kind = OpKind::kSoftDelete;
            op.set.emplace_back(ref.soft_delete, "1");
            op.note = fmt::format("prune: soft-delete {} of {} {}", ref.name, of, owner);
          } else {
            op.kind = remove;
            op.note = fmt::format("prune: {} {} of {} {}", OpName(op.kind), ref.name, of, owner);
          }
          // A row reached twice (two references, or two contacts' sets through a shared parent
          // row) is planned once; a removal wins over a detach planned earlier in this set, and
          // two detaches of one row in one set (SuiteCRM notes.parent_id and notes.contact_id)
          // become one update that clears both links.
          auto& planned = *table_planned;
          auto seen = planned.find(op.id);
          if (seen != planned.end()) {
            Planned& was = seen->second;
            RowOp& earlier = node_ops[was.node][was.pos];
            if (!removes && !was.removes && was.set == plan_.size() &&
                op.kind == OpKind::kUpdate && earlier.kind == OpKind::kUpdate) {
              for (const auto& assign : op.set) {
                bool have = false;
                for (const auto& e : earlier.set) have = have || e.first == assign.first;
                if (!have) earlier.set.push_back(assign);
              }
              earlier.note += "; " + op.note;
            }
            if (removes && !was.removes && was.set == plan_.size()) {
              earlier.kind = op.kind;
              earlier.set = op.set;
              earlier.note = op.note;
              was.removes = true;
              removed[k].push_back(op.id);
            }
            continue;
          }
          planned.emplace(op.id, Planned{plan_.size(), k, node_ops[k].size(), removes});
          if (removes) removed[k].push_back(op.id);
          ++added;
          node_ops[k].push_back(std::move(op));
        }
        if (added > 0) child_rows[ref.name] += added;
      }
      // Deepest first, so no row is removed before the rows that point at it (and restore,
      // in reverse, puts parents back first).
      size_t ops = rows.ext.size() + rows.contacts.size();
      for (const auto& v : node_ops) ops += v.size();
      cs.ops.reserve(ops);
      for (int level = kMaxReferenceDepth; level >= 1; --level) {
        for (size_t k = 0; k < graph.size(); ++k) {
          if (graph[k].level != level) continue;
          for (auto& op : node_ops[k]) cs.ops.push_back(std::move(op));
        }
      }
      for (auto& r : rows.ext) {
        RowOp op{remove, m.extension_table, m.extension_id, std::move(r[0]), {}, std::move(r[1]), ""};
        op.note = fmt::format("prune: {} the extension row of contact {}", OpName(remove), op.id);
        ++child_rows[m.extension_table];
        cs.ops.push_back(std::move(op));
      }
      for (auto& r : rows.contacts) {
        RowOp op;
        op.table = m.contacts_table;
        op.id_column = m.id_column;
        op.id = std::move(r[0]);
        op.expect = std::move(r[1]);
        if (hard) {
          op.kind = remove;
        } else {
          op.kind = OpKind::kSoftDelete;
          op.set.emplace_back(m.soft_delete, "1");
          if (!modified_by.empty()) op.set.emplace_back(modified_by, ctx.cfg.system_user);
          if (!updated_at.empty()) op.set.emplace_back(updated_at, now_sql);
        }
        op.note = fmt::format("prune: {} contact (notice {})", p.action, due_notice_[op.id]);
        cs.ops.push_back(std::move(op));
      }
      cs.label = fmt::format("prune {}..{} ({} contacts)", ids.front(), ids.back(), ids.size());
      // Inside the set's transaction: the protections and notices again (a keep tag or a rescue
      // since the plan skips the set), then — committed with the set — its contacts' notices
      // closed `pruned` and the run's checkpoint advanced. A killed run leaves both exact.
      std::vector<long long> notice_ids;
      for (const auto& id : ids) notice_ids.push_back(due_notice_[id]);
      const std::string protected_sql =
          protect_expr.empty()
              ? std::string()
              : fmt::format("SELECT COUNT(*) FROM {} c WHERE c.{} IN ({}) AND ({})",
                            db.Q(m.contacts_table), db.Q(m.id_column), in, protect_expr);
      std::string notice_in;
      for (long long n : notice_ids) notice_in += (notice_in.empty() ? "" : ", ") + std::to_string(n);
      // Closing the notices is also the check that they are still open: it locks them, and a
      // count short of the set's contacts (one rescued or closed since the plan) skips the set,
      // its rollback undoing the close (one statement instead of a locking count and an UPDATE).
      const std::string close_sql = fmt::format(
          "UPDATE {} SET status = 'pruned', open_key = NULL, closed_at = :now, closed_run = :run, "
          "closed_by = 'prune' WHERE id IN ({}) AND status = 'open'",
          db.State("notices"), notice_in);
      const std::string run_id = ctx.run_id, last_key = ids.back();
      const long long n_ids = static_cast<long long>(ids.size());
      const Clock* clock = &ctx.clock;  // (outlives the plan: Apply runs within the same run)
      cs.precheck = [protected_sql, close_sql, run_id, n_ids,
                     clock](crm::Db& d) -> std::optional<std::string> {
        if (!protected_sql.empty()) {
          long long n = 0;
          d.sql() << protected_sql, soci::into(n);
          if (n > 0) return std::string("protected_since_plan");
        }
        const std::string t = FormatSqlTime(clock->Now());
        soci::statement upd = (d.sql().prepare << close_sql, soci::use(t), soci::use(run_id));
        upd.execute(true);
        if (upd.get_affected_rows() != n_ids) return std::string("notice_closed_since_plan");
        return std::nullopt;
      };
      cs.before_commit = [run_id, last_key, n_ids, clock](crm::Db& d) {
        crm::AdvanceCheckpoint(d, run_id, last_key, n_ids, clock->Now());
      };
      plan_.push_back(std::move(cs));
    });
    if (st && !deeper_read) st = deeper_read;
  }
  if (!st) return st;
  if (!plan_.empty()) plan_seconds["sets"] = SecondsSince(sets_start);
  plan_seconds["total"] = SecondsSince(plan_start);

  long long rows = 0;
  for (const auto& cs : plan_) rows += static_cast<long long>(cs.ops.size());
  auto closing = [&](const char* s) {
    auto it = to_close_.find(s);
    return it == to_close_.end() ? 0LL : static_cast<long long>(it->second.size());
  };
  report.counts["contacts_scanned"] = scanned;
  report.counts["activity_read"] = activity_read;
  report.counts["qualifying"] = qualifying;
  report.counts["protected"] = protected_n;
  report.counts["reasons"] = by_reason;
  report.counts["protections"] = by_protection;
  report.counts["notices_to_open"] = to_notice_.size();
  report.counts["notices_open_before"] = open->size();
  report.counts["notices_closing"] = {{"activity", closing("activity")},
                                      {"cleared", closing("cleared")},
                                      {"gone", closing("gone")}};
  report.counts["rescued_not_noticed"] = rescued_skipped;
  report.counts["contacts_due"] = due.size();
  report.counts["rows_planned"] = rows;
  report.counts["change_sets_planned"] = plan_.size();
  report.counts["child_rows_planned"] = child_rows;
  report.details["plan"] = DescribePlan(plan_);
  report.details["plan_seconds"] = plan_seconds;
  nlohmann::json due_ids = nlohmann::json::array();
  for (size_t i = 0; i < due.size() && i < 100; ++i) due_ids.push_back(due[i]);
  report.details["due"] = due_ids;
  report.message = fmt::format(
      "{} of {} contacts qualify ({} protected); {} new notice(s); {} contact(s) due for {} in {} "
      "change set(s)",
      qualifying, scanned, protected_n, to_notice_.size(), due.size(), p.action, plan_.size());
  // A dry run already says whether the limits would refuse the prune.
  if (ctx.dry_run) return CheckLimits(db, plan_, {job.max_rows, job.max_fraction});
  return Status::Ok();
}

Status PruneJob::Apply(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const JobConfig& job = ctx.job;
  const SysSeconds now = ctx.clock.Now();
  // Notices first: a prune the limits refuse must not lose the announcements.
  std::vector<crm::NewNotice> fresh;
  fresh.reserve(to_notice_.size());
  for (const auto& c : to_notice_) fresh.push_back({c.id, c.owner, c.reasons, c.last_activity});
  auto opened = crm::OpenNotices(db, job.name, ctx.run_id, now, now + days(job.prune.notice_days),
                                 fresh);
  if (!opened) return opened.error();
  report.counts["notices_opened"] = *opened;
  nlohmann::json closed = nlohmann::json::object();
  for (const auto& [status, ids] : to_close_) {
    auto n = crm::CloseNotices(db, ids, status, ctx.run_id, "prune", now);
    if (!n) return n.error();
    closed[status] = *n;
  }
  report.counts["notices_closed"] = closed;
  if (!resumed_runs_.empty()) {
    if (Status st = crm::MarkResumed(db, resumed_runs_, ctx.run_id, now); !st) return st;
  }
  if (plan_.empty()) return Status::Ok();

  if (Status st = crm::OpenCheckpoint(db, job.name, ctx.run_id, now); !st) return st;
  Pacer pacer(ctx);
  ApplyOptions options;
  options.before_set = [&pacer](crm::Db& d, int set_no, double last) {
    return pacer.BeforeSet(d, set_no, last);
  };
  options.connections = job.prune.connections;
  options.open_db = ctx.open_db;
  Status applied = ApplyGuarded(ctx, plan_, report, options);
  pacer.Report(report);
  {
    // A stop by max_runtime leaves work for the next run; a failure after some sets leaves the
    // checkpoint `running` (the next run resumes, as after a crash); nothing done: nothing to
    // resume.
    auto cp = crm::ReadCheckpoint(db, ctx.run_id);
    if (!cp) return applied ? Status(cp.error()) : applied;
    std::string status;
    if (applied) {
      status = report.counts.contains("stopped") ? "stopped" : "done";
      if (report.interrupted) status = "stopped";
    } else if (!*cp || (*cp)->sets_done == 0) {
      status = "failed";
    }
    if (!status.empty()) {
      if (Status st = crm::CloseCheckpoint(db, ctx.run_id, status, ctx.clock.Now()); !st) {
        return applied ? st : applied;
      }
    }
  }
  // Whatever the engine committed (all, or the sets before a failure or a stop): each set closed
  // its contacts' notices `pruned` in its own transaction; the run's ledger counts them.
  long long contacts_pruned = 0;
  Status st = crm::Guard("reading the run's ledger", [&] {
    db.sql() << fmt::format("SELECT COUNT(*) FROM {} WHERE run_id = :r AND table_name = :t AND op "
                            "IN ('delete', 'soft_delete', 'archive')",
                            db.State("ledger")),
        soci::use(ctx.run_id), soci::use(ctx.cfg.mapping.contacts_table), soci::into(contacts_pruned);
  });
  if (!st) return applied ? st : applied;
  report.counts["contacts_pruned"] = contacts_pruned;
  if (!applied) return applied;
  report.message = fmt::format("{} contact(s) pruned ({}), {} row(s) changed in {} change set(s); "
                               "{} new notice(s); {} set(s) skipped because a row changed since "
                               "the plan",
                               contacts_pruned, job.prune.action, report.counts["rows_changed"].get<long long>(),
                               report.counts["change_sets_applied"].get<long long>(), *opened,
                               report.counts["changed_since_plan"].get<long long>());
  return Status::Ok();
}

Status PruneJob::Record(RunContext&, RunReport&) { return Status::Ok(); }

PruneJob::Pacer::Pacer(RunContext& ctx) : ctx_(ctx), start_(ctx.clock.Now()) {}

std::optional<std::string> PruneJob::Pacer::BeforeSet(crm::Db& db, int set_no,
                                                      double last_set_seconds) {
  const PruneOptions& p = ctx_.job.prune;
  if (set_no > 1) {
    const double pause = p.sleep + p.sleep_coef * last_set_seconds;
    if (pause > 0) {
      ctx_.clock.SleepFor(std::chrono::milliseconds(static_cast<long long>(pause * 1000 + 0.5)));
      slept_ += pause;
    }
  }
  auto over_time = [&] {
    return p.max_runtime.count() > 0 && ctx_.clock.Now() - start_ >= p.max_runtime;
  };
  for (;;) {
    if (over_time()) return std::string("max_runtime");
    if (ctx_.stop_requested && ctx_.stop_requested->load()) return std::string("stop");
    auto why = Throttle(db);
    if (!why) return std::nullopt;
    ++throttled_[*why];
    ctx_.clock.SleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(p.throttle_check));
    throttled_seconds_ += static_cast<double>(p.throttle_check.count());
  }
}

// The limits, read from the server (MariaDB/MySQL only): the reason to wait, if any.
std::optional<std::string> PruneJob::Pacer::Throttle(crm::Db& db) {
  const PruneOptions& p = ctx_.job.prune;
  if (!db.mysql()) return std::nullopt;
  if (p.max_threads_running) {
    std::string name, value;
    db.sql() << "SHOW GLOBAL STATUS LIKE 'Threads_running'", soci::into(name), soci::into(value);
    last_threads_running_ = std::stoll(value);
    if (last_threads_running_ > *p.max_threads_running) return std::string("threads_running");
  }
  if (p.max_replica_lag) {
    // The CRM connection itself (when it is a replica), then every downstream replica.
    if (replicas_.empty()) {
      for (const auto& r : p.replica_dsns) {
        const DatabaseConfig d = ReplicaDatabase(ctx_.cfg.database, r);
        auto replica = crm::Open(d, ctx_.cfg.state);
        if (!replica) {
          throw std::runtime_error(
              fmt::format("replica {}: {}", ReplicaName(d), replica.error().message));
        }
        replicas_.push_back(std::move(*replica));
        replica_names_.push_back(ReplicaName(d));
      }
    }
    std::vector<crm::Db*> servers{&db};
    for (auto& r : replicas_) servers.push_back(r.get());
    for (crm::Db* server : servers) {
      soci::rowset<soci::row> rs = server->sql().prepare << "SHOW REPLICA STATUS";
      for (const auto& r : rs) {
        replica_seen_ = true;
        for (size_t i = 0; i < r.size(); ++i) {
          if (r.get_properties(i).get_name() != "Seconds_Behind_Master") continue;
          // NULL: the replica is not replicating — wait, as pt-archiver does.
          if (r.get_indicator(i) == soci::i_null) return std::string("replica_stopped");
          if (crm::CellInt(r, i) > p.max_replica_lag->count()) return std::string("replica_lag");
        }
      }
    }
  }
  return std::nullopt;
}

void PruneJob::Pacer::Report(RunReport& report) const {
  const PruneOptions& p = ctx_.job.prune;
  nlohmann::json j = {{"slept_seconds", slept_},
                      {"throttled", throttled_},
                      {"throttled_seconds", throttled_seconds_}};
  if (p.max_threads_running) j["threads_running_last"] = last_threads_running_;
  if (p.max_replica_lag && ctx_.db.mysql()) j["replica_seen"] = replica_seen_;
  if (!replica_names_.empty()) j["replicas"] = replica_names_;
  if (p.max_runtime.count() > 0) j["max_runtime_seconds"] = p.max_runtime.count();
  report.counts["pacing"] = j;
}

}  // namespace crmh::jobs
