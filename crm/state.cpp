#include "crm/state.h"

#include "crm/scores.h"

#include <date/date.h>
#include <fmt/format.h>

#include <random>

#include "core/text.h"

namespace crmh::crm {
namespace {

struct Migration {
  int version;
  std::vector<std::string> (*statements)(Db& db);
};

std::vector<std::string> V1(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  std::vector<std::string> s;
  s.push_back(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} ("
      "run_id VARCHAR(64) NOT NULL PRIMARY KEY,"
      "job VARCHAR(64) NOT NULL,"
      "kind VARCHAR(32) NOT NULL,"
      "slot {ts} NULL,"
      // Equal to slot for the run that claimed it, NULL otherwise (skips claim nothing).
      "slot_claim {ts} NULL,"
      "instance_id VARCHAR(128) NOT NULL,"
      "status VARCHAR(16) NOT NULL,"
      "reason VARCHAR(32) NULL,"
      "dry_run INTEGER NOT NULL DEFAULT 0,"
      "started_at {ts} NOT NULL,"
      "finished_at {ts} NULL,"
      "counts TEXT NULL,"
      "message TEXT NULL,"
      "config_hash VARCHAR(32) NULL,"
      "UNIQUE (job, slot_claim))"
      "{engine}",
      db.State("runs"), fmt::arg("ts", ts), fmt::arg("engine", engine)));
  s.push_back(fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (job, started_at)",
                          db.Q(db.state_config().table_prefix + "runs_job_started"),
                          db.State("runs")));
  s.push_back(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} ("
      "run_id VARCHAR(64) NOT NULL,"
      "week VARCHAR(10) NOT NULL,"
      "owner VARCHAR(64) NOT NULL,"
      "field VARCHAR(64) NOT NULL,"
      "filled BIGINT NOT NULL,"
      "total BIGINT NOT NULL,"
      "PRIMARY KEY (run_id, owner, field)){}",
      db.State("audit_snapshots"), engine));
  return s;
}

// The ledger index: one row per row operation of a change set. The images themselves live in
// the per-table shadow tables (crm/ledger.h).
std::vector<std::string> V2(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "run_id VARCHAR(64) NOT NULL,"
                  "set_no INTEGER NOT NULL,"
                  "op_no INTEGER NOT NULL,"
                  "table_name VARCHAR(64) NOT NULL,"
                  "id_column VARCHAR(64) NOT NULL,"
                  "row_id VARCHAR(64) NOT NULL,"
                  "op VARCHAR(16) NOT NULL,"
                  "label VARCHAR(255) NULL,"
                  "created_at {ts} NOT NULL,"
                  "restored_at {ts} NULL,"
                  "PRIMARY KEY (run_id, set_no, op_no)){engine}",
                  db.State("ledger"), fmt::arg("ts", ts), fmt::arg("engine", engine)),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (table_name, row_id)",
                  db.Q(db.state_config().table_prefix + "ledger_row"), db.State("ledger")),
  };
}

// The dedup review queue and the pairs humans rejected (crm/review.h).
std::vector<std::string> V3(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  const char* id = ddl.id;
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "id {id},"
                  "job VARCHAR(64) NOT NULL,"
                  "cluster_key VARCHAR(64) NOT NULL,"
                  // job + cluster_key while the item is open or approved, NULL after: a cluster
                  // is never queued twice, and may be queued again once decided.
                  "open_key VARCHAR(140) NULL,"
                  "survivor VARCHAR(64) NOT NULL,"
                  "members TEXT NOT NULL,"
                  "score DOUBLE NOT NULL,"
                  "matched TEXT NULL,"
                  "why TEXT NULL,"
                  "status VARCHAR(16) NOT NULL,"
                  "created_run VARCHAR(64) NOT NULL,"
                  "seen_run VARCHAR(64) NOT NULL,"
                  "created_at {ts} NOT NULL,"
                  "decided_at {ts} NULL,"
                  "decided_by VARCHAR(128) NULL,"
                  "merged_run VARCHAR(64) NULL,"
                  "note TEXT NULL,"
                  "UNIQUE (open_key)){engine}",
                  db.State("review"), fmt::arg("id", id), fmt::arg("ts", ts),
                  fmt::arg("engine", engine)),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "id_a VARCHAR(64) NOT NULL,"
                  "id_b VARCHAR(64) NOT NULL,"
                  "review_id BIGINT NULL,"
                  "rejected_at {ts} NOT NULL,"
                  "rejected_by VARCHAR(128) NULL,"
                  "PRIMARY KEY (id_a, id_b)){engine}",
                  db.State("rejected_pairs"), fmt::arg("ts", ts), fmt::arg("engine", engine)),
  };
}

// Validation flags (crm/flags.h): one row per (contact, field, code) episode. open_key is
// contact|field|code while the flag is open and NULL once it cleared, so a flag is open at most
// once and may open again later as a new row (the history stays).
std::vector<std::string> V4(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  const char* id = ddl.id;
  const std::string& prefix = db.state_config().table_prefix;
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "id {id},"
                  "contact_id VARCHAR(64) NOT NULL,"
                  "field VARCHAR(64) NOT NULL,"
                  "code VARCHAR(32) NOT NULL,"
                  "detail VARCHAR(255) NULL,"
                  "open_key VARCHAR(200) NULL,"
                  "first_seen_run VARCHAR(64) NOT NULL,"
                  "last_seen_run VARCHAR(64) NOT NULL,"
                  "cleared_run VARCHAR(64) NULL,"
                  "opened_at {ts} NOT NULL,"
                  "last_seen_at {ts} NOT NULL,"
                  "cleared_at {ts} NULL,"
                  "UNIQUE (open_key)){engine}",
                  db.State("flags"), fmt::arg("id", id), fmt::arg("ts", ts),
                  fmt::arg("engine", engine)),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (contact_id)",
                  db.Q(prefix + "flags_contact"), db.State("flags")),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (code, cleared_at)",
                  db.Q(prefix + "flags_code"), db.State("flags")),
  };
}

// Prune notices (crm/notices.h): one row per (job, contact) episode. open_key is job|contact
// while the notice is open and NULL once closed (pruned, rescued, activity, cleared, gone).
std::vector<std::string> V5(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  const char* ts = ddl.ts;
  const char* engine = ddl.engine;
  const char* id = ddl.id;
  const std::string& prefix = db.state_config().table_prefix;
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "id {id},"
                  "job VARCHAR(64) NOT NULL,"
                  "contact_id VARCHAR(64) NOT NULL,"
                  "owner VARCHAR(64) NULL,"
                  "reasons VARCHAR(255) NOT NULL,"
                  "last_activity {ts} NULL,"
                  "noticed_run VARCHAR(64) NOT NULL,"
                  "noticed_at {ts} NOT NULL,"
                  "prune_after {ts} NOT NULL,"
                  "status VARCHAR(16) NOT NULL,"
                  "open_key VARCHAR(140) NULL,"
                  "closed_at {ts} NULL,"
                  "closed_run VARCHAR(64) NULL,"
                  "closed_by VARCHAR(128) NULL,"
                  "UNIQUE (open_key)){engine}",
                  db.State("notices"), fmt::arg("id", id), fmt::arg("ts", ts),
                  fmt::arg("engine", engine)),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (contact_id)",
                  db.Q(prefix + "notices_contact"), db.State("notices")),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (job, status)",
                  db.Q(prefix + "notices_job"), db.State("notices")),
  };
}

// Weekly audit snapshots and the score job's history (crm/scores.h).
std::vector<std::string> V6(Db& db) { return ScoreTablesV6(db); }

// Run checkpoints (crm/checkpoints.h): a destructive run's progress, written in each committed
// change set's transaction.
std::vector<std::string> V7(Db& db) {
  const StateDdl ddl = StateDdlFor(db);
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  "run_id VARCHAR(64) NOT NULL PRIMARY KEY,"
                  "job VARCHAR(64) NOT NULL,"
                  "status VARCHAR(16) NOT NULL,"
                  "last_key VARCHAR(255) NULL,"
                  "sets_done BIGINT NOT NULL DEFAULT 0,"
                  "items_done BIGINT NOT NULL DEFAULT 0,"
                  "started_at {ts} NOT NULL,"
                  "updated_at {ts} NOT NULL,"
                  "resumed_by VARCHAR(64) NULL){engine}",
                  db.State("checkpoints"), fmt::arg("ts", ddl.ts), fmt::arg("engine", ddl.engine)),
      fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} (job, status)",
                  db.Q(db.state_config().table_prefix + "checkpoints_job"),
                  db.State("checkpoints")),
  };
}

// The after-image as row text in the ledger row (crm/ledger.h): written by the statement that
// writes the ledger row after the change, instead of a typed image copied by a statement of its
// own. (V8 is unused.)
std::vector<std::string> V9(Db& db) {
  return {fmt::format("ALTER TABLE {} ADD COLUMN after_text {} NULL", db.State("ledger"),
                      db.mysql() ? "LONGBLOB" : "BLOB")};
}

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> k = {{1, &V1}, {2, &V2}, {3, &V3}, {4, &V4}, {5, &V5}, {6, &V6}, {7, &V7}, {9, &V9}};
  return k;
}

std::string Str(const std::optional<SysSeconds>& t) { return t ? FormatSqlTime(*t) : ""; }

// Reads a run row: times are read as text (CAST), which both backends give exactly.
const char* kRunColumns =
    "run_id, job, kind, CAST(slot AS CHAR), instance_id, status, reason, dry_run, "
    "CAST(started_at AS CHAR), CAST(finished_at AS CHAR), counts, message, config_hash";

RunRow FromRow(const soci::row& r) {
  auto s = [&](size_t i) {
    return r.get_indicator(i) == soci::i_null ? std::string{} : r.get<std::string>(i);
  };
  RunRow row;
  row.run_id = s(0);
  row.job = s(1);
  row.kind = s(2);
  if (auto t = ParseSqlTime(s(3))) row.slot = *t;
  row.instance_id = s(4);
  row.status = s(5);
  row.reason = s(6);
  if (r.get_indicator(7) != soci::i_null) {
    row.dry_run = r.get_properties(7).get_data_type() == soci::dt_string
                      ? s(7) != "0"
                      : (r.get_properties(7).get_data_type() == soci::dt_long_long
                             ? r.get<long long>(7) != 0
                             : r.get<int>(7) != 0);
  }
  if (auto t = ParseSqlTime(s(8))) row.started_at = *t;
  if (auto t = ParseSqlTime(s(9))) row.finished_at = *t;
  row.counts_json = s(10).empty() ? "{}" : s(10);
  row.message = s(11);
  row.config_hash = s(12);
  return row;
}

bool IsDuplicateKey(const std::string& msg) {
  return msg.find("Duplicate entry") != std::string::npos ||
         msg.find("UNIQUE constraint failed") != std::string::npos;
}

// The journal's message column is TEXT (64 KiB in MariaDB); an error that quotes a statement
// with all its bound values must not stop the run from being closed.
std::string JournalMessage(const std::string& m) { return TruncateUtf8(m, 8000, " […]"); }

}  // namespace

Result<int> StateVersion(Db& db) {
  int v = 0;
  Status st = Guard("reading the state schema version", [&] {
    soci::indicator ind = soci::i_null;
    int max = 0;
    db.sql() << fmt::format("SELECT MAX(version) FROM {}", db.State("schema_version")),
        soci::into(max, ind);
    v = ind == soci::i_ok ? max : 0;
  });
  if (!st) return 0;  // the table does not exist yet
  return v;
}

Status Migrate(Db& db) {
  return Guard("migrating the state tables", [&] {
    if (db.mysql() && !db.state_config().schema.empty()) {
      db.sql() << fmt::format(
          "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
          db.Q(db.state_config().schema));
    }
    db.sql() << fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (version INTEGER NOT NULL PRIMARY KEY, applied_at {} NOT "
        "NULL)",
        db.State("schema_version"), StateDdlFor(db).ts);
    auto current = StateVersion(db);
    int have = current ? *current : 0;
    for (const auto& m : Migrations()) {
      if (m.version <= have) continue;
      for (const auto& stmt : m.statements(db)) {
        try {
          db.sql() << stmt;
        } catch (const std::exception& e) {
          // CREATE INDEX has no IF NOT EXISTS in MariaDB < 10.x syntax parity; a concurrent
          // migrator may have created it (or added V9's column) already.
          std::string msg = e.what();
          if (msg.find("Duplicate key name") == std::string::npos &&
              msg.find("already exists") == std::string::npos &&
              msg.find("Duplicate column name") == std::string::npos &&
              msg.find("duplicate column name") == std::string::npos) {
            throw;
          }
        }
      }
      // Bound values must outlive the statement, which runs at the end of the expression.
      const std::string applied = FormatSqlTime(
          std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
      try {
        db.sql() << fmt::format("INSERT INTO {} (version, applied_at) VALUES (:v, :t)",
                                db.State("schema_version")),
            soci::use(m.version), soci::use(applied);
      } catch (const std::exception& e) {
        if (!IsDuplicateKey(e.what())) throw;
      }
    }
  });
}

Status ProbeStateWrite(Db& db) {
  auto version = StateVersion(db);
  Status st = Guard("", [&] {
    if (version.ok() && *version >= 1) {
      soci::transaction tx(db.sql());
      db.sql() << fmt::format("INSERT INTO {} (run_id, job, kind, instance_id, status, started_at) "
                              "VALUES ('check-probe', 'check', 'check', 'check', 'running', "
                              "'2000-01-01 00:00:00')",
                              db.State("runs"));
      tx.rollback();
    } else {
      if (db.mysql() && !db.state_config().schema.empty()) {
        db.sql() << fmt::format("CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4",
                                db.Q(db.state_config().schema));
      }
      db.sql() << fmt::format("CREATE TABLE {} (x INTEGER)", db.State("check_probe"));
      db.sql() << fmt::format("DROP TABLE {}", db.State("check_probe"));
    }
  });
  if (!st) {
    if (st.error().exit == Exit::kDbUnreachable) return st;
    return Error::Config("cannot write the state tables (grants?): " + st.error().message);
  }
  return Status::Ok();
}

std::string NewRunId(SysSeconds now) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}-{:06x}", date::format("%Y%m%dT%H%M%SZ", now), rng() & 0xffffff);
}

Result<Claim> OpenRun(Db& db, const RunRow& row) {
  Claim claim = Claim::kClaimed;
  Status st = Guard("opening the run journal row", [&] {
    std::string slot = Str(row.slot);
    soci::indicator slot_ind = row.slot ? soci::i_ok : soci::i_null;
    int dry = row.dry_run ? 1 : 0;
    std::string started = FormatSqlTime(row.started_at);
    try {
      db.sql() << fmt::format(
                      "INSERT INTO {} (run_id, job, kind, slot, slot_claim, instance_id, status, "
                      "dry_run, started_at, config_hash) VALUES (:id, :job, :kind, :slot, :claim, "
                      ":inst, 'running', :dry, :started, :hash)",
                      db.State("runs")),
          soci::use(row.run_id), soci::use(row.job), soci::use(row.kind), soci::use(slot, slot_ind),
          soci::use(slot, slot_ind), soci::use(row.instance_id), soci::use(dry),
          soci::use(started), soci::use(row.config_hash);
    } catch (const std::exception& e) {
      if (!row.slot || !IsDuplicateKey(e.what())) throw;
      claim = Claim::kAlreadyRan;
    }
  });
  if (!st) return st.error();
  return claim;
}

Status CloseRun(Db& db, const RunRow& row) {
  return Guard("closing the run journal row", [&] {
    std::string finished = Str(row.finished_at);
    const std::string message = JournalMessage(row.message);
    soci::indicator reason_ind = row.reason.empty() ? soci::i_null : soci::i_ok;
    db.sql() << fmt::format(
                    "UPDATE {} SET status = :st, reason = :reason, finished_at = :fin, counts = "
                    ":counts, message = :msg WHERE run_id = :id",
                    db.State("runs")),
        soci::use(row.status), soci::use(row.reason, reason_ind), soci::use(finished),
        soci::use(row.counts_json), soci::use(message), soci::use(row.run_id);
  });
}

Status RecordSkip(Db& db, const RunRow& row) {
  return Guard("recording a skipped run", [&] {
    std::string slot = Str(row.slot);
    const std::string message = JournalMessage(row.message);
    soci::indicator slot_ind = row.slot ? soci::i_ok : soci::i_null;
    std::string started = FormatSqlTime(row.started_at);
    int dry = row.dry_run ? 1 : 0;
    db.sql() << fmt::format(
                    "INSERT INTO {} (run_id, job, kind, slot, instance_id, status, reason, "
                    "dry_run, started_at, finished_at, counts, message, config_hash) VALUES (:id, "
                    ":job, :kind, :slot, :inst, 'skipped', :reason, :dry, :s, :f, '{{}}', :msg, "
                    ":hash)",
                    db.State("runs")),
        soci::use(row.run_id), soci::use(row.job), soci::use(row.kind), soci::use(slot, slot_ind),
        soci::use(row.instance_id), soci::use(row.reason), soci::use(dry), soci::use(started),
        soci::use(started), soci::use(message), soci::use(row.config_hash);
  });
}

Result<std::vector<RunRow>> ListRuns(Db& db, const std::string& job, int limit) {
  std::vector<RunRow> out;
  Status st = Guard("reading the run journal", [&] {
    std::string where = job.empty() ? "" : "WHERE job = :job ";
    std::string sql = fmt::format("SELECT {} FROM {} {}ORDER BY started_at DESC, run_id DESC LIMIT {}",
                                  kRunColumns, db.State("runs"), where, limit);
    auto fill = [&](soci::rowset<soci::row>& rs) {
      for (const auto& r : rs) out.push_back(FromRow(r));
    };
    if (job.empty()) {
      soci::rowset<soci::row> rs = db.sql().prepare << sql;
      fill(rs);
    } else {
      soci::rowset<soci::row> rs = (db.sql().prepare << sql, soci::use(job));
      fill(rs);
    }
  });
  if (!st) return st.error();
  return out;
}

namespace {

Result<std::vector<RunRow>> MarkRunningAs(Db& db, const std::string& column,
                                          const std::string& value, SysSeconds now) {
  std::vector<RunRow> found;
  Status st = Guard("marking interrupted runs", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT {} FROM {} WHERE status = 'running' AND {} = :v",
                                         kRunColumns, db.State("runs"), column),
         soci::use(value));
    for (const auto& r : rs) found.push_back(FromRow(r));
    std::string fin = FormatSqlTime(now);
    for (auto& r : found) {
      db.sql() << fmt::format("UPDATE {} SET status = 'interrupted', finished_at = :f, message = "
                              "'the process running it stopped during the run (crash or kill)' "
                              "WHERE run_id = :id AND status = 'running'",
                              db.State("runs")),
          soci::use(fin), soci::use(r.run_id);
      r.status = "interrupted";
    }
  });
  if (!st) return st.error();
  return found;
}

}  // namespace

Result<std::vector<RunRow>> MarkInterrupted(Db& db, const std::string& instance_id,
                                            SysSeconds now) {
  return MarkRunningAs(db, "instance_id", instance_id, now);
}

Result<std::vector<RunRow>> MarkJobInterrupted(Db& db, const std::string& job, SysSeconds now) {
  return MarkRunningAs(db, "job", job, now);
}

Result<std::optional<SysSeconds>> LastClaimedSlot(Db& db, const std::string& job) {
  std::optional<SysSeconds> out;
  Status st = Guard("reading the last slot", [&] {
    std::string s;
    soci::indicator ind = soci::i_null;
    db.sql() << fmt::format("SELECT CAST(MAX(slot_claim) AS CHAR) FROM {} WHERE job = :job",
                            db.State("runs")),
        soci::use(job), soci::into(s, ind);
    if (ind == soci::i_ok) out = ParseSqlTime(s);
  });
  if (!st) return st.error();
  return out;
}

Result<std::optional<RunRow>> LastRun(Db& db, const std::string& job) {
  auto runs = ListRuns(db, job, 1);
  if (!runs) return runs.error();
  if (runs->empty()) return std::optional<RunRow>{};
  return std::optional<RunRow>{runs->front()};
}

Status SaveAuditSnapshot(Db& db, const std::string& run_id, const std::string& week,
                         const std::vector<AuditCell>& cells) {
  return Guard("saving the audit snapshot", [&] {
    soci::transaction tx(db.sql());
    std::string owner, field;
    long long filled = 0, total = 0;
    soci::statement ins =
        (db.sql().prepare << fmt::format("INSERT INTO {} (run_id, week, owner, field, filled, "
                                         "total) VALUES (:r, :w, :o, :f, :fi, :t)",
                                         db.State("audit_snapshots")),
         soci::use(run_id), soci::use(week), soci::use(owner), soci::use(field), soci::use(filled),
         soci::use(total));
    for (const auto& c : cells) {
      owner = c.owner;
      field = c.field;
      filled = c.filled;
      total = c.total;
      ins.execute(true);
    }
    tx.commit();
  });
}

}  // namespace crmh::crm
