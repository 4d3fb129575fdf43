#include "jobs/change.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "core/text.h"
#include "core/time_util.h"
#include "crm/archive.h"
#include "crm/ledger.h"
#include "jobs/dump.h"
#include "jobs/job.h"
#include "match/parallel.h"

namespace crmh::jobs {
namespace {

void Begin(crm::Db& db) { db.sql() << (db.mysql() ? "START TRANSACTION" : "BEGIN IMMEDIATE"); }
void Commit(crm::Db& db) { db.sql() << "COMMIT"; }

// While a plan is applied on MariaDB/MySQL the session runs with autocommit off: a change set's
// first statement opens its transaction and its COMMIT or ROLLBACK ends it, one round trip less
// per set than START TRANSACTION (a single-row set is four statements, not five). Every way out
// of the set loop has committed or rolled back the set it was in, so switching autocommit back
// on (which would commit an open transaction) finds none. SQLite keeps BEGIN IMMEDIATE, which
// takes the write lock before the set reads anything.
//
// The session also runs READ COMMITTED: every row a set changes is read with a locking read
// (FOR UPDATE: the latest committed version, locked until COMMIT) in any isolation level, but
// REPEATABLE READ also keeps the locks of every row a statement only scanned (the optimizer scans
// a small child table rather than look up a hundred ids) and of the gaps between them — which
// blocks reps editing the neighbouring rows, and a set on another connection (deadlocks). Not
// when the server writes a statement-based binlog: it refuses READ COMMITTED writes there.
class ImplicitTransactions {
 public:
  explicit ImplicitTransactions(crm::Db& db) : db_(db), on_(db.mysql()) {
    if (!on_) return;
    std::string isolation, format;
    int log_bin = 0;
    try {
      db_.sql() << "SELECT @@SESSION.tx_isolation, @@GLOBAL.log_bin, @@SESSION.binlog_format",
          soci::into(isolation), soci::into(log_bin), soci::into(format);
    } catch (const soci::soci_error&) {  // MySQL 8 names it transaction_isolation
      db_.sql() << "SELECT @@SESSION.transaction_isolation, @@GLOBAL.log_bin, "
                   "@@SESSION.binlog_format",
          soci::into(isolation), soci::into(log_bin), soci::into(format);
    }
    if (isolation != "READ-COMMITTED" && !(log_bin != 0 && format == "STATEMENT")) {
      db_.sql() << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
      for (char& c : isolation) {
        if (c == '-') c = ' ';
      }
      restore_isolation_ = isolation;
    }
    db_.sql() << "SET autocommit = 0";
  }
  ~ImplicitTransactions() {
    if (!on_) return;
    try {
      if (!restore_isolation_.empty()) {
        db_.sql() << "SET SESSION TRANSACTION ISOLATION LEVEL " + restore_isolation_;
      }
      db_.sql() << "SET autocommit = 1";
    } catch (const std::exception&) {
      // The connection is gone: a new one starts with the server's defaults.
    }
  }
  ImplicitTransactions(const ImplicitTransactions&) = delete;
  ImplicitTransactions& operator=(const ImplicitTransactions&) = delete;

  void Begin() {
    if (!on_) jobs::Begin(db_);
  }

 private:
  crm::Db& db_;
  bool on_;
  std::string restore_isolation_;  // "REPEATABLE READ": the session's level before the plan
};

void Rollback(crm::Db& db) {
  try {
    db.sql() << "ROLLBACK";
  } catch (const std::exception&) {
    // The connection is gone: the server rolls the transaction back itself.
  }
}

std::string NowSql() {
  return FormatSqlTime(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// The run's tables, keyed by (table, id column), each with its cached statement texts.
using Tables = std::map<std::pair<std::string, std::string>, std::unique_ptr<crm::ShadowTable>>;

Result<crm::ShadowTable*> GetTable(crm::Db& db, Tables& tables, const std::string& table,
                                   const std::string& id_column, bool ensure) {
  auto& slot = tables[{table, id_column}];
  if (!slot) {
    auto t = crm::ShadowTable::Open(db, table, id_column, ensure);
    if (!t) {
      tables.erase({table, id_column});
      return t.error();
    }
    slot = std::move(*t);
  }
  return slot.get();
}

template <class T>
T Must(Result<T> result) {
  if (!result) throw result.error();  // keeps the cause (e.g. the database went away)
  return std::move(*result);
}

struct SetOutcome {
  bool applied = false;
  long long rows = 0;
  std::string skipped;  // a precheck's reason
};

bool Removes(OpKind k) { return k == OpKind::kDelete || k == OpKind::kArchive; }

// The changes themselves: updates one statement per row (values differ per row); a run of
// consecutive deletes of one table, one statement (DELETE … IN, its row count checked).
void ApplyChanges(crm::Db& db, Tables& tables, const ChangeSet& cs,
                  std::map<std::string, long long>& by_table) {
  size_t i = 0;
  while (i < cs.ops.size()) {
    const RowOp& op = cs.ops[i];
    if (!Removes(op.kind)) {
      ExecuteRowOp(db, op);
      by_table[op.table] += 1;
      ++i;
      continue;
    }
    std::vector<std::string> ids;
    std::set<std::string> seen;
    size_t end = i;
    while (end < cs.ops.size() && Removes(cs.ops[end].kind) && cs.ops[end].table == op.table &&
           cs.ops[end].id_column == op.id_column && seen.insert(cs.ops[end].id).second) {
      ids.push_back(cs.ops[end].id);
      ++end;
    }
    crm::ShadowTable* t = Must(GetTable(db, tables, op.table, op.id_column, false));
    long long n = Must(t->DeleteRows(ids));
    if (n != static_cast<long long>(ids.size())) {
      throw std::runtime_error(
          fmt::format("deleting {} row(s) of {} removed {}", ids.size(), op.table, n));
    }
    by_table[op.table] += n;
    i = end;
  }
}

// A table's ops in a set, split so that no id appears twice in one statement: a row's first op
// goes in layer 0, its second in layer 1, and so on. (Indexes into cs.ops, in plan order.)
std::vector<std::vector<size_t>> Layers(const ChangeSet& cs, const std::vector<size_t>& idx) {
  std::vector<std::vector<size_t>> layers;
  std::map<std::string, size_t> seen;
  for (size_t i : idx) {
    size_t k = seen[cs.ops[i].id]++;
    if (k >= layers.size()) layers.resize(k + 1);
    layers[k].push_back(i);
  }
  return layers;
}

// One change set in one transaction, one statement per table and step (a row met twice in the
// set adds a statement per extra occurrence): lock, compare and copy the before-images
// (CopyIfUnchanged); change the rows; then verify each stored before-image against the text the
// locked row was found at and write the ledger with each row's after-image text
// (RecordVerified). An archive op's before-image is its archived row (one copy, not two).
// Throws on failure (the caller rolls back).
SetOutcome ApplySet(crm::Db& db, Tables& tables, const std::string& run_id, int set_no,
                    const ChangeSet& cs, std::map<std::string, long long>& by_table) {
  if (cs.precheck) {
    if (auto why = cs.precheck(db)) return {false, 0, *why};
  }
  // Ops grouped by table and by where their images go (archive ops: the archive), groups in
  // order of first appearance, ops in plan order.
  struct Group {
    crm::ShadowTable* t;
    bool archive;
    std::vector<size_t> idx;
  };
  std::vector<Group> groups;
  {
    std::map<std::tuple<std::string, std::string, bool>, size_t> group_of;
    for (size_t i = 0; i < cs.ops.size(); ++i) {
      const RowOp& op = cs.ops[i];
      const bool archive = op.kind == OpKind::kArchive;
      auto [it, added] = group_of.emplace(std::make_tuple(op.table, op.id_column, archive),
                                          groups.size());
      if (added) {
        groups.push_back({Must(GetTable(db, tables, op.table, op.id_column, true)), archive, {}});
      }
      groups[it->second].idx.push_back(i);
    }
  }
  // The ledger fields of every op (also the plan table's, filled once per table and set).
  std::vector<std::string> opnames(cs.ops.size()), labels(cs.ops.size());
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    opnames[i] = OpName(cs.ops[i].kind);
    labels[i] = TruncateUtf8(cs.ops[i].note, 255);
  }
  const std::string now = NowSql();
  // Lock + compare + before-image, one statement per table: a row that differs from the plan
  // (or is gone) is not copied, and the set is left for the next run to plan again.
  for (const auto& g : groups) {
    for (const auto& layer : Layers(cs, g.idx)) {
      std::vector<crm::ShadowTable::Planned> rows;
      rows.reserve(layer.size());
      for (size_t i : layer) {
        rows.push_back({cs.ops[i].id, static_cast<int>(i), &cs.ops[i].expect, &opnames[i],
                        &labels[i]});
      }
      long long copied =
          Must(g.t->CopyIfUnchanged(rows, run_id, set_no, g.archive ? &now : nullptr));
      if (copied != static_cast<long long>(rows.size())) return {};  // a user changed a row
    }
  }
  ApplyChanges(db, tables, cs, by_table);
  // Verification + ledger + after-image, one statement per table: a ledger row only for a
  // before-image equal byte for byte to the text its row was locked at (CopyIfUnchanged's
  // compare, under the row lock: nothing else changed the row before our change), carrying the
  // row's text now — what restore expects to find (anything else means someone changed it since;
  // none for a removed row).
  for (const auto& g : groups) {
    std::vector<crm::ShadowTable::LedgerRow> rows;
    rows.reserve(g.idx.size());
    for (size_t i : g.idx) {
      rows.push_back(
          {static_cast<int>(i), cs.ops[i].id, opnames[i], labels[i], &cs.ops[i].expect});
    }
    long long verified = Must(g.t->RecordVerified(rows, run_id, set_no, now, g.archive));
    if (verified != static_cast<long long>(rows.size())) {
      throw Error::Refused(fmt::format(
          "the backup of {} row(s) of {} could not be verified ({} equal to the rows as locked)",
          rows.size(), g.t->table(), verified));
    }
  }
  if (cs.before_commit) cs.before_commit(db);
  return {true, static_cast<long long>(cs.ops.size()), ""};
}

}  // namespace

void ExecuteRowOp(crm::Db& db, const RowOp& op) {
  if (Removes(op.kind)) {
    soci::statement s = (db.sql().prepare << fmt::format("DELETE FROM {} WHERE {} = :id",
                                                         db.Q(op.table), db.Q(op.id_column)),
                         soci::use(op.id));
    s.execute(true);
    if (s.get_affected_rows() != 1) {
      throw std::runtime_error(fmt::format("deleting {} {} removed {} rows", op.table, op.id,
                                           s.get_affected_rows()));
    }
    return;
  }
  std::string assign;
  std::vector<std::string> values;
  std::vector<soci::indicator> inds;
  values.reserve(op.set.size());
  inds.reserve(op.set.size());
  for (const auto& [col, v] : op.set) {
    assign += fmt::format("{}{} = :v{}", assign.empty() ? "" : ", ", db.Q(col), values.size());
    values.push_back(v.value_or(""));
    inds.push_back(v ? soci::i_ok : soci::i_null);
  }
  soci::statement s(db.sql());
  for (size_t k = 0; k < values.size(); ++k) s.exchange(soci::use(values[k], inds[k]));
  s.exchange(soci::use(op.id));
  s.alloc();
  s.prepare(fmt::format("UPDATE {} SET {} WHERE {} = :id", db.Q(op.table), assign,
                        db.Q(op.id_column)));
  s.define_and_bind();
  s.execute(true);
}

const char* OpName(OpKind k) {
  switch (k) {
    case OpKind::kUpdate:
      return "update";
    case OpKind::kSoftDelete:
      return "soft_delete";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kArchive:
      return "archive";
  }
  return "?";
}

void PlanTally::Add(const ChangeSet& set) {
  ++sets_;
  for (const auto& op : set.ops) {
    counts_[op.table][OpName(op.kind)] += 1;
    ++rows_;
    ids_[op.table].push_back(op.id);
    if (samples_.size() < sample_) samples_.push_back(fmt::format("{} {}: {}", op.table, op.id, op.note));
  }
}

Status PlanTally::Check(crm::Db& db, const Limits& limits) {
  long long total = 0;
  for (auto& [t, ids] : ids_) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    total += static_cast<long long>(ids.size());
  }
  if (limits.max_rows > 0 && total > limits.max_rows) {
    return Error::Refused(fmt::format("the plan changes {} rows, more than max_rows = {}; nothing "
                                      "was changed (raise the limit or narrow the job)",
                                      total, limits.max_rows));
  }
  if (limits.max_fraction > 0) {
    for (const auto& [table, ids] : ids_) {
      long long count = 0;
      Status st = crm::Guard("counting rows", [&] {
        db.sql() << fmt::format("SELECT COUNT(*) FROM {}", db.Q(table)), soci::into(count);
      });
      if (!st) return st;
      double frac = count == 0 ? 1.0 : static_cast<double>(ids.size()) / static_cast<double>(count);
      if (frac > limits.max_fraction) {
        return Error::Refused(fmt::format(
            "the plan changes {} of {} rows of {} ({:.1f}%), more than max_fraction = {:.1f}%; "
            "nothing was changed",
            ids.size(), count, table, 100 * frac, 100 * limits.max_fraction));
      }
    }
  }
  return Status::Ok();
}

nlohmann::json PlanTally::Describe() const {
  nlohmann::json j;
  j["change_sets"] = sets_;
  j["rows"] = rows_;
  j["tables"] = counts_;
  j["sample"] = samples_;
  return j;
}

Status CheckLimits(crm::Db& db, const std::vector<ChangeSet>& plan, const Limits& limits) {
  PlanTally tally;
  for (const auto& cs : plan) tally.Add(cs);
  return tally.Check(db, limits);
}

namespace {

// Every table's shadow and archive (DDL, so before the first transaction), its statement texts
// and this session's plan tables.
Status OpenTables(crm::Db& db, Tables& tables, const std::vector<ChangeSet>& plan) {
  std::set<std::string> archives;
  for (const auto& cs : plan) {
    for (const auto& op : cs.ops) {
      auto t = GetTable(db, tables, op.table, op.id_column, /*ensure=*/true);
      if (!t) return t.error();
      if (op.kind == OpKind::kArchive && archives.insert(op.table).second) {
        if (Status st = crm::EnsureArchive(db, op.table); !st) return st;
      }
    }
  }
  return Status::Ok();
}

// InnoDB's answer when two transactions wait for each other, or one waited too long: the set is
// rolled back and may simply be tried again.
bool LockConflict(std::string_view message) {
  return message.find("Deadlock found") != std::string_view::npos ||
         message.find("Lock wait timeout exceeded") != std::string_view::npos;
}

}  // namespace

Result<ApplyStats> ApplyPlan(crm::Db& db, const std::string& run_id,
                             const std::vector<ChangeSet>& plan, crm::JobLock* lock,
                             const std::atomic<bool>* stop, const ApplyOptions& options) {
  // One session per connection, each with its own tables (the plan tables are per session).
  std::vector<crm::Db*> sessions{&db};
  std::vector<std::unique_ptr<crm::Db>> extra;
  if (db.mysql() && options.connections > 1 && options.open_db && plan.size() > 1) {
    const size_t n = std::min(static_cast<size_t>(options.connections), plan.size());
    while (sessions.size() < n) {
      auto s = options.open_db();
      if (!s) return s.error();
      extra.push_back(std::move(*s));
      sessions.push_back(extra.back().get());
    }
  }
  std::vector<Tables> tables(sessions.size());
  for (size_t w = 0; w < sessions.size(); ++w) {
    if (Status st = OpenTables(*sessions[w], tables[w], plan); !st) return st.error();
  }

  // Each session takes the sets of its own contiguous share of the plan, in order. Sets next to
  // each other in the plan hold neighbouring keys (a prune's contacts, their children and
  // notices in key order), and a statement that reads a range of keys reads one past its end:
  // two neighbours in flight at once would wait for each other. Shares meet only at their edges.
  // What the sessions share: each one's next set, the counts, the first error.
  std::mutex mu;
  std::vector<size_t> next(sessions.size()), end(sessions.size());
  for (size_t w = 0; w < sessions.size(); ++w) {
    next[w] = plan.size() * w / sessions.size();
    end[w] = plan.size() * (w + 1) / sessions.size();
  }
  bool ended = false;
  std::optional<Error> failure;
  ApplyStats stats;
  stats.connections = static_cast<int>(sessions.size());
  auto fail_locked = [&](const Error& e) {  // holding mu
    if (!failure) failure = e;
    ended = true;
  };
  auto fail = [&](const Error& e) {
    std::lock_guard<std::mutex> g(mu);
    fail_locked(e);
  };

  auto work = [&](size_t w) {
    crm::Db& wdb = *sessions[w];
    Tables& wtables = tables[w];
    std::optional<ImplicitTransactions> tx;
    if (Status st = crm::Guard("switching autocommit off", [&] { tx.emplace(wdb); }); !st) {
      fail(st.error());
      return;
    }
    double last_seconds = 0;
    for (;;) {
      size_t k = 0;
      {
        std::lock_guard<std::mutex> g(mu);
        if (ended) return;
        if (stop && stop->load()) {
          spdlog::info("[{}] stop requested: ending at a change-set boundary ({} of {} applied)",
                       run_id, stats.sets_applied, plan.size());
          stats.stopped = true;
          stats.stop_reason = "stop";
          ended = true;
          return;
        }
        if (next[w] < end[w]) {
          k = next[w]++;
        } else {
          // This share is done: take the last set of the share with the most left — its far
          // end, away from the set its own session has in flight — so no session idles while
          // another still has sets (a loaded or slower connection). Only while three sets or
          // more would lie between the two: that session moves towards the taken set while it is
          // applied, and neighbours in flight wait for each other (a deadlock, retried).
          size_t from = w;
          for (size_t u = 0; u < sessions.size(); ++u) {
            if (end[u] - next[u] > end[from] - next[from]) from = u;
          }
          if (end[from] - next[from] < 4) return;
          k = --end[from];
        }
        if (options.before_set) {
          std::optional<std::string> why;
          Status st = crm::Guard("pacing before a change set", [&] {
            why = options.before_set(wdb, static_cast<int>(k + 1), last_seconds);
          });
          if (!st) {
            fail_locked(st.error());
            return;
          }
          if (why) {
            spdlog::info("[{}] {}: ending at a change-set boundary ({} of {} applied)", run_id,
                         *why, stats.sets_applied, plan.size());
            stats.stop_reason = *why;
            stats.stopped = *why == "stop";
            ended = true;
            return;
          }
        }
      }
      const ChangeSet& cs = plan[k];
      const int set_no = static_cast<int>(k + 1);
      const auto set_start = std::chrono::steady_clock::now();
      if (lock) {
        if (Status st = lock->Check(); !st) {
          fail(st.error());
          return;
        }
      }
      std::map<std::string, long long> by_table;
      SetOutcome out;
      Status st = Status::Ok();
      long long retries = 0;
      for (int attempt = 1;; ++attempt) {
        by_table.clear();
        st = Status::Ok();
        try {
          tx->Begin();
          out = ApplySet(wdb, wtables, run_id, set_no, cs, by_table);
          if (out.applied) {
            Commit(wdb);
          } else {
            Rollback(wdb);
          }
        } catch (const Error& e) {
          Rollback(wdb);
          st = e;
        } catch (const std::exception& e) {
          Rollback(wdb);
          st = crm::Guard(fmt::format("change set {} ({})", set_no, cs.label),
                          [&] { throw std::runtime_error(e.what()); });
        }
        if (!st && attempt < kLockAttempts && LockConflict(st.error().message)) {
          ++retries;
          spdlog::info("[{}] change set {} rolled back by a lock conflict, trying again: {}",
                       run_id, set_no, TruncateUtf8(st.error().message, 200));
          continue;
        }
        break;
      }
      std::lock_guard<std::mutex> g(mu);
      stats.lock_retries += retries;
      if (!st) {
        fail_locked(st.error());
        return;
      }
      last_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - set_start).count();
      if (!out.skipped.empty()) {
        ++stats.skipped[out.skipped];
        spdlog::info("[{}] change set {} skipped: {} ({})", run_id, set_no, out.skipped, cs.label);
      } else if (out.applied) {
        ++stats.sets_applied;
        stats.rows_changed += out.rows;
        for (const auto& [t, n] : by_table) stats.rows_by_table[t] += n;
      } else {
        ++stats.changed_since_plan;
        spdlog::info("[{}] change set {} skipped: a row changed since the plan ({})", run_id,
                     set_no, cs.label);
      }
    }
  };

  // OnThreads: a session whose thread could not start is worked on this thread (its share's
  // last sets are never taken by another), every thread is joined before an exception leaves.
  match::OnThreads(sessions.size(), work);
  if (failure) return *failure;
  return stats;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::round(
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 100) /
         100;
}

Status ApplyGuarded(RunContext& ctx, const std::vector<ChangeSet>& plan, RunReport& report) {
  return ApplyGuarded(ctx, plan, report, ApplyOptions{});
}

Status ApplyGuarded(RunContext& ctx, const std::vector<ChangeSet>& plan, RunReport& report,
                    const ApplyOptions& options) {
  if (Status st = CheckLimits(ctx.db, plan, {ctx.job.max_rows, ctx.job.max_fraction}); !st) {
    return st;
  }
  if (ctx.job.dump && !plan.empty()) {
    std::set<std::string> tables;
    for (const auto& cs : plan) {
      for (const auto& op : cs.ops) tables.insert(op.table);
    }
    auto dump = VerifiedDump(ctx, {tables.begin(), tables.end()});
    if (!dump) return dump.error();
    report.details["dump"] = *dump;
  }
  const auto start = std::chrono::steady_clock::now();
  auto stats = ApplyPlan(ctx.db, ctx.run_id, plan, ctx.lock, ctx.stop_requested, options);
  if (!stats) return stats.error();
  report.details["apply_seconds"] = SecondsSince(start);
  if (!stats->stop_reason.empty() && stats->stop_reason != "stop") {
    report.counts["stopped"] = stats->stop_reason;
  }
  if (!stats->skipped.empty()) report.counts["sets_skipped"] = stats->skipped;
  if (stats->lock_retries > 0) report.counts["lock_retries"] = stats->lock_retries;
  if (stats->connections > 1) report.counts["connections"] = stats->connections;
  report.counts["change_sets_applied"] = stats->sets_applied;
  report.counts["rows_changed"] = stats->rows_changed;
  report.counts["changed_since_plan"] = stats->changed_since_plan;
  report.counts["rows_by_table"] = stats->rows_by_table;
  report.interrupted = stats->stopped;
  return Status::Ok();
}

nlohmann::json DescribePlan(const std::vector<ChangeSet>& plan, size_t sample) {
  PlanTally tally(sample);
  for (const auto& cs : plan) tally.Add(cs);
  return tally.Describe();
}

Result<RestoreResult> RestoreRun(crm::Db& db, const std::string& run_id,
                                 const RestoreOptions& opt) {
  struct Entry {
    int set_no, op_no;
    std::string table, id_column, row_id, op;
    bool restored;
  };
  std::vector<Entry> entries;
  Status st = crm::Guard("reading the ledger", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT set_no, op_no, table_name, id_column, row_id, op, "
                                         "CASE WHEN restored_at IS NULL THEN 0 ELSE 1 END FROM {} "
                                         "WHERE run_id = :r ORDER BY set_no DESC, op_no DESC",
                                         db.State("ledger")),
         soci::use(run_id));
    for (const auto& r : rs) {
      entries.push_back({static_cast<int>(crm::CellInt(r, 0)), static_cast<int>(crm::CellInt(r, 1)),
                         crm::CellText(r, 2), crm::CellText(r, 3), crm::CellText(r, 4),
                         crm::CellText(r, 5), crm::CellInt(r, 6) != 0});
    }
  });
  if (!st) return st.error();
  if (entries.empty()) {
    return Error::Usage(fmt::format("run {} changed no rows (no ledger entries): nothing to restore",
                                    run_id));
  }
  RestoreResult result;
  std::vector<const Entry*> pending;  // newest set first, newest op first within a set
  for (const auto& e : entries) {
    if (!e.restored) pending.push_back(&e);
  }
  if (pending.empty()) {
    result.already_restored = true;
    return result;
  }
  Tables tables;
  using Key = std::tuple<std::string, std::string, int, int>;  // table, id column, set, op
  using States = std::map<Key, crm::ShadowTable::ImageState>;
  auto key = [](const Entry& e) { return Key{e.table, e.id_column, e.set_no, e.op_no}; };
  // Reads the state of every image of the run (set_no: of one set), one statement per table;
  // `for_update` locks the live rows inside a restore transaction.
  // An archive op's image is its archived row; archive runs made before 2026-12-06 have it in
  // the shadow table (and a copy in the archive): the shadow's wins.
  std::set<std::pair<std::string, std::string>> archived_tables;
  for (const Entry* e : pending) {
    if (e->op == "archive") archived_tables.insert({e->table, e->id_column});
  }
  auto read_states = [&](std::optional<int> set_no, bool for_update,
                         const std::vector<const Entry*>& of) -> Result<States> {
    States out;
    std::set<std::pair<std::string, std::string>> done;
    for (const Entry* e : of) {
      if (!done.insert({e->table, e->id_column}).second) continue;
      auto t = GetTable(db, tables, e->table, e->id_column, /*ensure=*/false);
      if (!t) return t.error();
      auto states = (*t)->CheckImages(run_id, set_no, for_update);
      if (!states) return states.error();
      for (const auto& s : *states) out[{e->table, e->id_column, s.set_no, s.op_no}] = s;
      if (!archived_tables.count({e->table, e->id_column})) continue;
      auto archived = (*t)->CheckImages(run_id, set_no, for_update, /*archive=*/true);
      if (!archived) return archived.error();
      for (const auto& s : *archived) out.emplace(Key{e->table, e->id_column, s.set_no, s.op_no}, s);
    }
    for (const Entry* e : of) {
      if (!out.count(key(*e))) {
        return Error::Refused(fmt::format(
            "restore of run {} refused: the backup of {} {} (change set {}, op {}) is missing",
            run_id, e->table, e->row_id, e->set_no, e->op_no));
      }
    }
    return out;
  };
  // A conflict: the row is not exactly as this run left it (the after-image of its newest op),
  // or a row the run deleted is back.
  auto conflict = [&](const Entry& e,
                      const crm::ShadowTable::ImageState& s) -> std::optional<std::string> {
    if (e.op == "delete" || e.op == "archive") {
      if (s.present)
        return fmt::format("{} {}: deleted by run {} but present again", e.table, e.row_id, run_id);
      return std::nullopt;
    }
    if (!s.present) return fmt::format("{} {}: deleted since run {}", e.table, e.row_id, run_id);
    if (!s.has_after || !s.after_equals_live) {
      return fmt::format("{} {}: changed since run {}", e.table, e.row_id, run_id);
    }
    return std::nullopt;
  };
  // Only a row's newest op (the first met, newest-first) must match the live row.
  {
    auto states = read_states(std::nullopt, false, pending);
    if (!states) return states.error();
    std::set<std::pair<std::string, std::string>> seen;
    for (const Entry* e : pending) {
      if (!seen.insert({e->table, e->row_id}).second) continue;
      if (auto c = conflict(*e, states->at(key(*e)))) result.conflicts.push_back(*c);
    }
  }
  if (!result.conflicts.empty() && !opt.force) {
    std::string list;
    for (size_t i = 0; i < result.conflicts.size() && i < 20; ++i) list += "\n  " + result.conflicts[i];
    if (result.conflicts.size() > 20) list += fmt::format("\n  … and {} more", result.conflicts.size() - 20);
    return Error::Refused(fmt::format("restore of run {} refused: {} row(s) changed after it (use "
                                      "--force to overwrite them with the before-images):{}",
                                      run_id, result.conflicts.size(), list));
  }
  if (opt.dry_run) {
    std::set<int> sets;
    for (const Entry* e : pending) sets.insert(e->set_no);
    result.rows_restored = static_cast<long long>(pending.size());
    result.sets_restored = static_cast<long long>(sets.size());
    return result;
  }
  if (opt.after_check) opt.after_check();
  // Newest set first, each in its own transaction: lock the set's rows and check them again (an
  // edit that landed after the check above is never overwritten, unless --force), put the
  // before-images back a table at a time, mark the ledger rows restored.
  std::set<std::pair<std::string, std::string>> checked;
  crm::Statements ledger(db);
  const std::string mark_sql = fmt::format(
      "UPDATE {} SET restored_at = :n WHERE run_id = :r AND set_no = :s AND restored_at IS NULL",
      db.State("ledger"));
  size_t i = 0;
  while (i < pending.size()) {
    int set_no = pending[i]->set_no;
    std::vector<const Entry*> set;
    for (; i < pending.size() && pending[i]->set_no == set_no; ++i) set.push_back(pending[i]);
    std::optional<Error> failed;
    try {
      Begin(db);
      States states = Must(read_states(set_no, /*for_update=*/true, set));
      // Each row's presence now, kept current as rows come back.
      std::map<std::pair<std::string, std::string>, bool> present;
      for (const Entry* e : set) {
        std::pair<std::string, std::string> row{e->table, e->row_id};
        if (present.count(row)) continue;
        const auto& s = states.at(key(*e));
        present[row] = s.present;
        if (!opt.force && checked.insert(row).second) {
          if (auto c = conflict(*e, s)) {
            throw Error::Refused(fmt::format(
                "restore of run {} stopped: {} (changed during the restore); {} change set(s) "
                "were restored, the rest are untouched — check the row and run restore again",
                run_id, *c, result.sets_restored));
          }
        }
      }
      // Newest op first, in runs of consecutive ops on one table (so a parent deleted after its
      // children comes back before them). In a run, a row met twice takes its oldest op's
      // before-image: the row as it was before the set. A table may come back in more than one
      // run (a deal's activities, then the contact's): archived rows leave the archive only
      // once every run has read its images.
      std::vector<crm::ShadowTable*> unarchive;
      size_t j = 0;
      while (j < set.size()) {
        size_t end = j;
        while (end < set.size() && set[end]->table == set[j]->table &&
               set[end]->id_column == set[j]->id_column) {
          ++end;
        }
        std::map<std::string, int> oldest;  // row id → op
        for (size_t k = j; k < end; ++k) oldest[set[k]->row_id] = set[k]->op_no;
        // By where the row comes back from (live → update, gone → insert) and where its image
        // is (shadow table or archive).
        std::vector<std::pair<std::string, int>> ops[2][2];
        for (const auto& [row_id, op_no] : oldest) {
          bool& here = present[{set[j]->table, row_id}];
          const bool archived =
              states.at(Key{set[j]->table, set[j]->id_column, set_no, op_no}).archived;
          ops[here ? 0 : 1][archived ? 1 : 0].emplace_back(row_id, op_no);
          here = true;
        }
        crm::ShadowTable* t = Must(GetTable(db, tables, set[j]->table, set[j]->id_column, false));
        for (int archived = 0; archived < 2; ++archived) {
          Must(t->PutBackImages(run_id, set_no, ops[0][archived], /*insert=*/false, archived == 1));
          Must(t->PutBackImages(run_id, set_no, ops[1][archived], /*insert=*/true, archived == 1));
        }
        for (size_t k = j; k < end; ++k) {
          if (set[k]->op == "archive") {  // the rows are back: out of the archive
            if (std::find(unarchive.begin(), unarchive.end(), t) == unarchive.end()) {
              unarchive.push_back(t);
            }
            break;
          }
        }
        j = end;
      }
      for (crm::ShadowTable* t : unarchive) Must(t->DropArchived(run_id, set_no));
      std::string now = NowSql();
      long long marked = ledger.Exec(
          mark_sql,
          {crm::SqlParam::Text(now), crm::SqlParam::Text(run_id), crm::SqlParam::Int(set_no)});
      if (marked != static_cast<long long>(set.size())) {
        throw std::runtime_error(
            fmt::format("marking change set {} restored updated {} of {} "
                        "ledger rows (another restore at the same time?)",
                        set_no, marked, set.size()));
      }
      Commit(db);
    } catch (const Error& e) {
      Rollback(db);
      failed = e;
    } catch (const std::exception& e) {
      Rollback(db);
      Status wrapped = crm::Guard(fmt::format("restoring change set {} of run {}", set_no, run_id),
                                  [&] { throw std::runtime_error(e.what()); });
      failed = wrapped.error();
    }
    if (failed) return *failed;
    result.rows_restored += static_cast<long long>(set.size());
    ++result.sets_restored;
  }
  return result;
}

}  // namespace crmh::jobs
