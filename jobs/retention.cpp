#include "jobs/retention.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "crm/archive.h"
#include "crm/flags.h"
#include "crm/notices.h"
#include "crm/ledger.h"
#include "jobs/dedup_cache.h"

namespace crmh::jobs {
namespace {

namespace fs = std::filesystem;

fs::path DumpRoot(const Config& cfg) { return fs::path(cfg.state.directory) / "dumps"; }

// Deletes one run's ledger rows and images, in one transaction.
Status PurgeRun(crm::Db& db, const std::string& run_id, PurgeStats& stats) {
  return crm::Guard(fmt::format("purging run {}", run_id), [&] {
    std::vector<std::string> tables;
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT DISTINCT table_name FROM {} WHERE run_id = :r",
                                         db.State("ledger")),
         soci::use(run_id));
    for (const auto& r : rs) tables.push_back(crm::CellText(r, 0));
    soci::transaction tx(db.sql());
    for (const auto& t : tables) {
      soci::statement s = (db.sql().prepare << fmt::format("DELETE FROM {} WHERE crmh_run_id = :r",
                                                           db.State("bk_" + t)),
                           soci::use(run_id));
      s.execute(true);
      stats.images += s.get_affected_rows();
    }
    soci::statement s = (db.sql().prepare << fmt::format("DELETE FROM {} WHERE run_id = :r",
                                                         db.State("ledger")),
                         soci::use(run_id));
    s.execute(true);
    stats.ledger_rows += s.get_affected_rows();
    tx.commit();
    ++stats.runs;
  });
}

long long RetentionDays(const JobConfig& job) { return job.retention_days; }

}  // namespace

Result<PurgeStats> PurgeOlderThan(crm::Db& db, const Config& cfg, SysSeconds cutoff) {
  PurgeStats stats;
  std::vector<std::string> runs;
  std::string cut = FormatSqlTime(cutoff);
  Status st = crm::Guard("finding expired runs", [&] {
    soci::rowset<soci::row> rs =
        (db.sql().prepare << fmt::format("SELECT run_id FROM {} GROUP BY run_id HAVING "
                                         "MAX(created_at) < :c",
                                         db.State("ledger")),
         soci::use(cut));
    for (const auto& r : rs) runs.push_back(crm::CellText(r, 0));
  });
  if (!st) return st.error();
  for (const auto& run : runs) {
    if (Status p = PurgeRun(db, run, stats); !p) return p.error();
  }
  // Archived rows (prune's archive action) follow the same policy.
  auto archived = crm::PurgeArchivesBefore(db, cutoff);
  if (!archived) return archived.error();
  stats.archived = *archived;
  std::error_code ec;
  if (fs::is_directory(DumpRoot(cfg), ec)) {
    auto cutoff_file = fs::file_time_type::clock::now() -
                       (std::chrono::system_clock::now() - std::chrono::system_clock::time_point(cutoff));
    for (const auto& entry : fs::directory_iterator(DumpRoot(cfg), ec)) {
      if (entry.is_directory() && entry.last_write_time() < cutoff_file) {
        fs::remove_all(entry.path(), ec);
        ++stats.dumps;
      }
    }
  }
  return stats;
}

Result<PurgeStats> ForgetContact(crm::Db& db, const Config& cfg, const std::string& contact_id) {
  PurgeStats stats;
  const Mapping& m = cfg.mapping;
  auto archived = crm::ArchivedTables(db);
  if (!archived) return archived.error();
  const std::set<std::string> archives(archived->begin(), archived->end());
  Status st = crm::Guard("erasing the contact from the ledger", [&] {
    soci::transaction tx(db.sql());
    // The rows to erase: the contact itself, its extension row, and child rows that pointed at
    // it when imaged — in the shadow tables, or (an archive run's images) in the archives.
    struct Row {
      std::string table, id_column, id;
    };
    std::vector<Row> rows{{m.contacts_table, m.id_column, contact_id}};
    if (!m.extension_table.empty()) rows.push_back({m.extension_table, m.extension_id, contact_id});
    std::set<std::string> tables_in_ledger;
    soci::rowset<soci::row> ts = db.sql().prepare << fmt::format(
        "SELECT DISTINCT table_name FROM {}", db.State("ledger"));
    for (const auto& r : ts) tables_in_ledger.insert(crm::CellText(r, 0));
    for (const auto& c : m.children) {
      if (!tables_in_ledger.count(c.table)) continue;
      std::string where = fmt::format("{} = :c", db.Q(c.column));
      if (!c.type_column.empty()) {
        where += fmt::format(" AND {} = {}", db.Q(c.type_column), db.Literal(c.type_value));
      }
      std::vector<std::string> images{db.State("bk_" + c.table)};
      if (archives.count(c.table)) images.push_back(crm::ArchiveName(db, c.table));
      std::set<std::string> ids;
      for (const auto& from : images) {
        soci::rowset<soci::row> rs =
            (db.sql().prepare << fmt::format("SELECT DISTINCT CAST({} AS CHAR) FROM {} WHERE {}",
                                             db.Q(c.id_column), from, where),
             soci::use(contact_id));
        for (const auto& r : rs) ids.insert(crm::CellText(r, 0));
      }
      for (const auto& id : ids) rows.push_back({c.table, c.id_column, id});
    }
    for (const auto& [table, id_column, id] : rows) {
      if (!tables_in_ledger.count(table)) continue;
      soci::statement img =
          (db.sql().prepare << fmt::format("DELETE FROM {} WHERE {} = :id", db.State("bk_" + table),
                                           db.Q(id_column)),
           soci::use(id));
      img.execute(true);
      stats.images += img.get_affected_rows();
      soci::statement led =
          (db.sql().prepare << fmt::format("DELETE FROM {} WHERE table_name = :t AND row_id = :id",
                                           db.State("ledger")),
           soci::use(table), soci::use(id));
      led.execute(true);
      stats.ledger_rows += led.get_affected_rows();
    }
    tx.commit();
  });
  if (!st) return st.error();
  // The archives: the contact's row, its extension row, and child rows that pointed at it.
  {
    auto n = crm::EraseArchived(db, m.contacts_table, m.id_column, contact_id);
    if (!n) return n.error();
    stats.archived += *n;
    if (!m.extension_table.empty()) {
      n = crm::EraseArchived(db, m.extension_table, m.extension_id, contact_id);
      if (!n) return n.error();
      stats.archived += *n;
    }
    for (const auto& c : m.children) {
      n = crm::EraseArchived(db, c.table, c.column, contact_id, c.type_column, c.type_value);
      if (!n) return n.error();
      stats.archived += *n;
    }
  }
  auto flags = crm::ForgetFlags(db, contact_id);
  if (!flags) return flags.error();
  stats.flags = *flags;
  auto notices = crm::ForgetNotices(db, contact_id);
  if (!notices) return notices.error();
  stats.notices = *notices;
  std::error_code ec;
  if (fs::is_directory(DumpRoot(cfg), ec)) {
    for (const auto& entry : fs::directory_iterator(DumpRoot(cfg), ec)) {
      if (entry.is_directory()) {
        fs::remove_all(entry.path(), ec);
        ++stats.dumps;
      }
    }
  }
  stats.sweep_caches = RemoveSweepCaches(cfg.state.directory);
  return stats;
}

Status RetentionJob::Plan(RunContext& ctx, RunReport& report) {
  report.counts["retention_days"] = RetentionDays(ctx.job);
  return Status::Ok();
}

Status RetentionJob::Apply(RunContext& ctx, RunReport& report) {
  SysSeconds cutoff = ctx.clock.Now() - std::chrono::hours(24 * RetentionDays(ctx.job));
  auto stats = PurgeOlderThan(ctx.db, ctx.cfg, cutoff);
  if (!stats) return stats.error();
  report.counts["runs_purged"] = stats->runs;
  report.counts["ledger_rows_purged"] = stats->ledger_rows;
  report.counts["images_purged"] = stats->images;
  report.counts["dumps_purged"] = stats->dumps;
  report.counts["archived_rows_purged"] = stats->archived;
  report.message = fmt::format("purged {} run(s) older than {} days ({} row images, {} dumps)",
                               stats->runs, RetentionDays(ctx.job), stats->images, stats->dumps);
  return Status::Ok();
}

}  // namespace crmh::jobs
