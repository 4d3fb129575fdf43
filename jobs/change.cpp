#include "jobs/change.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "core/time_util.h"
#include "crm/ledger.h"
#include "jobs/dump.h"
#include "jobs/job.h"

namespace crmh::jobs {
namespace {

void Begin(crm::Db& db) { db.sql() << (db.mysql() ? "START TRANSACTION" : "BEGIN IMMEDIATE"); }
void Commit(crm::Db& db) { db.sql() << "COMMIT"; }
void Rollback(crm::Db& db) {
  try {
    db.sql() << "ROLLBACK";
  } catch (const std::exception&) {
    // The connection is gone: the server rolls the transaction back itself.
  }
}

// At most `max` bytes, never cutting a UTF-8 sequence.
std::string Truncate(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string NowSql() {
  return FormatSqlTime(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// Column lists per table, read once per run.
class Columns {
 public:
  explicit Columns(crm::Db& db) : db_(db) {}
  Result<const std::vector<std::string>*> Get(const std::string& table) {
    auto it = cache_.find(table);
    if (it != cache_.end()) return &it->second;
    auto cols = crm::OrderedColumns(db_, table);
    if (!cols) return cols.error();
    if (cols->empty()) return Error::Config(fmt::format("table {} does not exist", table));
    return &(cache_[table] = std::move(*cols));
  }

 private:
  crm::Db& db_;
  std::map<std::string, std::vector<std::string>> cache_;
};

struct SetOutcome {
  bool applied = false;
  long long rows = 0;
};

// The changes themselves, one statement per row (values differ per row).
void ApplyChanges(crm::Db& db, const ChangeSet& cs, std::map<std::string, long long>& by_table) {
  for (const RowOp& op : cs.ops) {
    ExecuteRowOp(db, op);
    by_table[op.table] += 1;
  }
}

// One change set in one transaction, a statement per row and step: the path for a set that
// touches one row twice. Throws on failure (the caller rolls back).
SetOutcome ApplySetRowByRow(crm::Db& db, Columns& columns, const std::string& run_id, int set_no,
                             const ChangeSet& cs, std::map<std::string, long long>& by_table) {
  std::vector<std::string> live_text(cs.ops.size());
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const RowOp& op = cs.ops[i];
    auto cols = columns.Get(op.table);
    if (!cols) throw std::runtime_error(cols.error().message);
    auto live = crm::LiveRowText(db, **cols, {op.table, op.id_column, op.id}, /*for_update=*/true);
    if (!live) throw std::runtime_error(live.error().message);
    if (!live->has_value() || **live != op.expect) return {};  // a user changed it: plan again
    live_text[i] = **live;
  }
  // Before-images, verified against the rows they protect.
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const RowOp& op = cs.ops[i];
    const auto& cols = **columns.Get(op.table);
    crm::RowRef row{op.table, op.id_column, op.id};
    crm::ImageKey key{run_id, set_no, static_cast<int>(i), 'b'};
    auto copied = crm::CopyImage(db, cols, row, key);
    if (!copied) throw std::runtime_error(copied.error().message);
    auto stored = crm::ImageText(db, cols, row, key);
    if (!stored) throw std::runtime_error(stored.error().message);
    if (*copied != 1 || !stored->has_value() || **stored != live_text[i]) {
      throw Error::Refused(fmt::format("the backup of {} {} could not be verified (copied {} row(s))",
                                       op.table, op.id, *copied));
    }
    std::string op_name = OpName(op.kind), now = NowSql();
    std::string note = Truncate(op.note, 255);
    int op_no = static_cast<int>(i);
    db.sql() << fmt::format("INSERT INTO {} (run_id, set_no, op_no, table_name, id_column, row_id, "
                            "op, label, created_at) VALUES (:r, :s, :o, :t, :c, :id, :op, :l, :n)",
                            db.State("ledger")),
        soci::use(run_id), soci::use(set_no), soci::use(op_no), soci::use(op.table),
        soci::use(op.id_column), soci::use(op.id), soci::use(op_name), soci::use(note),
        soci::use(now);
  }
  ApplyChanges(db, cs, by_table);
  // After-images: what restore expects to find (anything else means someone changed it since).
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const RowOp& op = cs.ops[i];
    if (op.kind == OpKind::kDelete) continue;
    auto copied = crm::CopyImage(db, **columns.Get(op.table), {op.table, op.id_column, op.id},
                                 {run_id, set_no, static_cast<int>(i), 'a'});
    if (!copied) throw copied.error();  // keep the cause (e.g. the database went away)
    if (*copied != 1) {
      throw std::runtime_error(fmt::format("recording the after-image of {} {} copied {} rows",
                                           op.table, op.id, *copied));
    }
  }
  return {true, static_cast<long long>(cs.ops.size())};
}

// One change set in one transaction, a statement per table and step (not per row): lock and
// compare the rows, copy the before-images, verify them against the live rows, write the ledger,
// change the rows, copy the after-images. Throws on failure (the caller rolls back).
SetOutcome ApplySet(crm::Db& db, Columns& columns, const std::string& run_id, int set_no,
                    const ChangeSet& cs, std::map<std::string, long long>& by_table) {
  // Ops grouped by table, in plan order; a row met twice takes the row-by-row path.
  std::map<std::string, std::vector<size_t>> groups;
  std::set<std::pair<std::string, std::string>> rows;
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    if (!rows.insert({cs.ops[i].table, cs.ops[i].id}).second) {
      return ApplySetRowByRow(db, columns, run_id, set_no, cs, by_table);
    }
    groups[cs.ops[i].table].push_back(i);
  }
  auto must = [](auto result) {
    if (!result) throw result.error();  // keeps the cause (e.g. the database went away)
    return std::move(*result);
  };
  for (const auto& [table, idx] : groups) {
    const auto& cols = *must(columns.Get(table));
    const std::string& id_column = cs.ops[idx.front()].id_column;
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, int>> id_ops;
    for (size_t i : idx) {
      ids.push_back(cs.ops[i].id);
      id_ops.emplace_back(cs.ops[i].id, static_cast<int>(i));
    }
    auto live = must(crm::LiveRowTexts(db, cols, table, id_column, ids, /*for_update=*/true));
    for (size_t i : idx) {
      auto it = live.find(cs.ops[i].id);
      if (it == live.end() || it->second != cs.ops[i].expect) return {};  // a user changed it
    }
    long long copied = must(crm::CopyImages(db, cols, table, id_column, id_ops, run_id, set_no, 'b'));
    long long verified =
        must(crm::CountImagesEqualLive(db, cols, table, id_column, run_id, set_no, 'b'));
    if (copied != static_cast<long long>(idx.size()) || verified != copied) {
      throw Error::Refused(fmt::format(
          "the backup of {} rows of {} could not be verified ({} copied, {} equal to the live rows)",
          idx.size(), table, copied, verified));
    }
  }
  // The ledger: one multi-row INSERT.
  {
    std::string now = NowSql();
    std::vector<int> op_nos;
    std::vector<std::string> names, notes;
    op_nos.reserve(cs.ops.size());
    names.reserve(cs.ops.size());
    notes.reserve(cs.ops.size());
    soci::statement s(db.sql());
    std::string values;
    for (size_t i = 0; i < cs.ops.size(); ++i) {
      const RowOp& op = cs.ops[i];
      op_nos.push_back(static_cast<int>(i));
      names.emplace_back(OpName(op.kind));
      notes.push_back(Truncate(op.note, 255));
      values += fmt::format("{1}(:r{0}, :s{0}, :o{0}, :t{0}, :c{0}, :id{0}, :op{0}, :l{0}, :n{0})",
                            i, i ? ", " : "");
      s.exchange(soci::use(run_id));
      s.exchange(soci::use(set_no));
      s.exchange(soci::use(op_nos.back()));
      s.exchange(soci::use(op.table));
      s.exchange(soci::use(op.id_column));
      s.exchange(soci::use(op.id));
      s.exchange(soci::use(names.back()));
      s.exchange(soci::use(notes.back()));
      s.exchange(soci::use(now));
    }
    s.alloc();
    s.prepare(fmt::format("INSERT INTO {} (run_id, set_no, op_no, table_name, id_column, row_id, op, "
                          "label, created_at) VALUES {}",
                          db.State("ledger"), values));
    s.define_and_bind();
    s.execute(true);
  }
  ApplyChanges(db, cs, by_table);
  // After-images: what restore expects to find (anything else means someone changed it since).
  for (const auto& [table, idx] : groups) {
    std::vector<std::pair<std::string, int>> id_ops;
    for (size_t i : idx) {
      if (cs.ops[i].kind != OpKind::kDelete) id_ops.emplace_back(cs.ops[i].id, static_cast<int>(i));
    }
    if (id_ops.empty()) continue;
    const auto& cols = *must(columns.Get(table));
    long long copied = must(crm::CopyImages(db, cols, table, cs.ops[idx.front()].id_column, id_ops,
                                            run_id, set_no, 'a'));
    if (copied != static_cast<long long>(id_ops.size())) {
      throw std::runtime_error(fmt::format("recording the after-images of {} copied {} of {} rows",
                                           table, copied, id_ops.size()));
    }
  }
  return {true, static_cast<long long>(cs.ops.size())};
}

}  // namespace

void ExecuteRowOp(crm::Db& db, const RowOp& op) {
  if (op.kind == OpKind::kDelete) {
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
  }
  return "?";
}

Status CheckLimits(crm::Db& db, const std::vector<ChangeSet>& plan, const Limits& limits) {
  std::map<std::string, std::set<std::string>> rows;
  long long total = 0;
  for (const auto& cs : plan) {
    for (const auto& op : cs.ops) rows[op.table].insert(op.id);
  }
  for (const auto& [t, ids] : rows) total += static_cast<long long>(ids.size());
  if (limits.max_rows > 0 && total > limits.max_rows) {
    return Error::Refused(fmt::format("the plan changes {} rows, more than max_rows = {}; nothing "
                                      "was changed (raise the limit or narrow the job)",
                                      total, limits.max_rows));
  }
  if (limits.max_fraction > 0) {
    for (const auto& [table, ids] : rows) {
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

Result<ApplyStats> ApplyPlan(crm::Db& db, const std::string& run_id,
                             const std::vector<ChangeSet>& plan, crm::JobLock* lock,
                             const std::atomic<bool>* stop) {
  ApplyStats stats;
  Columns columns(db);
  std::set<std::string> ensured;
  for (const auto& cs : plan) {
    for (const auto& op : cs.ops) {
      if (ensured.insert(op.table).second) {
        if (Status st = crm::EnsureShadow(db, op.table); !st) return st.error();
      }
    }
  }
  int set_no = 0;
  for (const auto& cs : plan) {
    ++set_no;
    if (stop && stop->load()) {
      spdlog::info("[{}] stop requested: ending at a change-set boundary ({} of {} applied)",
                   run_id, stats.sets_applied, plan.size());
      stats.stopped = true;
      break;
    }
    if (lock) {
      if (Status st = lock->Check(); !st) return st.error();
    }
    std::map<std::string, long long> by_table;
    SetOutcome out;
    Status st = Status::Ok();
    try {
      Begin(db);
      out = ApplySet(db, columns, run_id, set_no, cs, by_table);
      if (out.applied) {
        Commit(db);
      } else {
        Rollback(db);
      }
    } catch (const Error& e) {
      Rollback(db);
      st = e;
    } catch (const std::exception& e) {
      Rollback(db);
      st = crm::Guard(fmt::format("change set {} ({})", set_no, cs.label),
                      [&] { throw std::runtime_error(e.what()); });
    }
    if (!st) return st.error();
    if (out.applied) {
      ++stats.sets_applied;
      stats.rows_changed += out.rows;
      for (const auto& [t, n] : by_table) stats.rows_by_table[t] += n;
    } else {
      ++stats.changed_since_plan;
      spdlog::info("[{}] change set {} skipped: a row changed since the plan ({})", run_id, set_no,
                   cs.label);
    }
  }
  return stats;
}

Status ApplyGuarded(RunContext& ctx, const std::vector<ChangeSet>& plan, RunReport& report) {
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
  auto stats = ApplyPlan(ctx.db, ctx.run_id, plan, ctx.lock, ctx.stop_requested);
  if (!stats) return stats.error();
  report.counts["change_sets_applied"] = stats->sets_applied;
  report.counts["rows_changed"] = stats->rows_changed;
  report.counts["changed_since_plan"] = stats->changed_since_plan;
  report.counts["rows_by_table"] = stats->rows_by_table;
  report.interrupted = stats->stopped;
  return Status::Ok();
}

nlohmann::json DescribePlan(const std::vector<ChangeSet>& plan, size_t sample) {
  nlohmann::json j;
  std::map<std::string, std::map<std::string, long long>> counts;
  nlohmann::json samples = nlohmann::json::array();
  long long rows = 0;
  for (const auto& cs : plan) {
    for (const auto& op : cs.ops) {
      counts[op.table][OpName(op.kind)] += 1;
      ++rows;
    }
  }
  for (const auto& cs : plan) {
    for (const auto& op : cs.ops) {
      if (samples.size() >= sample) break;
      samples.push_back(fmt::format("{} {}: {}", op.table, op.id, op.note));
    }
  }
  j["change_sets"] = plan.size();
  j["rows"] = rows;
  j["tables"] = counts;
  j["sample"] = samples;
  return j;
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
  std::vector<const Entry*> pending;
  for (const auto& e : entries) {
    if (!e.restored) pending.push_back(&e);
  }
  if (pending.empty()) {
    result.already_restored = true;
    return result;
  }
  Columns columns(db);
  // A conflict: the row is not exactly as this run left it (its newest image), or a row the run
  // deleted is back. `for_update` locks the row (inside a restore transaction).
  auto conflict = [&](const Entry& e, bool for_update) -> Result<std::optional<std::string>> {
    auto cols = columns.Get(e.table);
    if (!cols) return cols.error();
    crm::RowRef row{e.table, e.id_column, e.row_id};
    auto live = crm::LiveRowText(db, **cols, row, for_update);
    if (!live) return live.error();
    if (e.op == "delete") {
      if (live->has_value()) {
        return std::optional<std::string>(
            fmt::format("{} {}: deleted by run {} but present again", e.table, e.row_id, run_id));
      }
      return std::optional<std::string>();
    }
    auto after = crm::ImageText(db, **cols, row, {run_id, e.set_no, e.op_no, 'a'});
    if (!after) return after.error();
    if (!live->has_value()) {
      return std::optional<std::string>(
          fmt::format("{} {}: deleted since run {}", e.table, e.row_id, run_id));
    }
    if (!after->has_value() || **after != **live) {
      return std::optional<std::string>(
          fmt::format("{} {}: changed since run {}", e.table, e.row_id, run_id));
    }
    return std::optional<std::string>();
  };
  // Only a row's newest op (the first met, newest-first) must match the live row.
  std::set<std::pair<std::string, std::string>> seen;
  for (const Entry* e : pending) {
    if (!seen.insert({e->table, e->row_id}).second) continue;
    auto c = conflict(*e, false);
    if (!c) return c.error();
    if (*c) result.conflicts.push_back(**c);
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
  // Newest set first, each in its own transaction. Each row is checked again under its lock:
  // a user's edit that landed after the check above is never overwritten (unless --force).
  std::set<std::pair<std::string, std::string>> locked;
  size_t i = 0;
  while (i < pending.size()) {
    int set_no = pending[i]->set_no;
    std::optional<Error> failed;
    try {
      Begin(db);
      std::string now = NowSql();
      for (; i < pending.size() && pending[i]->set_no == set_no; ++i) {
        const Entry* e = pending[i];
        if (!opt.force && locked.insert({e->table, e->row_id}).second) {
          auto c = conflict(*e, /*for_update=*/true);
          if (!c) throw c.error();
          if (*c) {
            throw Error::Refused(fmt::format(
                "restore of run {} stopped: {} (changed during the restore); {} change set(s) "
                "were restored, the rest are untouched — check the row and run restore again",
                run_id, **c, result.sets_restored));
          }
        }
        auto cols = columns.Get(e->table);
        if (!cols) throw cols.error();
        Status put = crm::PutBack(db, **cols, {e->table, e->id_column, e->row_id},
                                  {run_id, e->set_no, e->op_no, 'b'});
        if (!put) throw put.error();
        int op_no = e->op_no;
        db.sql() << fmt::format("UPDATE {} SET restored_at = :n WHERE run_id = :r AND set_no = "
                                ":s AND op_no = :o",
                                db.State("ledger")),
            soci::use(now), soci::use(run_id), soci::use(set_no), soci::use(op_no);
        ++result.rows_restored;
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
    ++result.sets_restored;
  }
  return result;
}

}  // namespace crmh::jobs
