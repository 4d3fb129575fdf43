#include "crm/lock_safety.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>

namespace crmh::crm {
namespace {

std::string StatusValue(Db& db, const std::string& statement) {
  std::string value;
  soci::rowset<soci::row> rs = db.sql().prepare << statement;
  for (const auto& r : rs) value = CellText(r, 1);
  return value;
}

}  // namespace

Status CheckLockSafety(Db& db, const DatabaseConfig& database, const StateConfig& state) {
  if (!db.mysql()) return Status::Ok();
  std::string wsrep_on, cluster_size;
  Status st = Guard("checking whether GET_LOCK is safe on this server", [&] {
    wsrep_on = StatusValue(db, "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'");
    cluster_size = StatusValue(db, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'");
  });
  if (!st) return st;
  long long nodes = 0;
  try {
    nodes = cluster_size.empty() ? 0 : std::stoll(cluster_size);
  } catch (const std::exception&) {
    nodes = 0;
  }
  const bool galera = wsrep_on == "ON" || wsrep_on == "1" || nodes > 0;
  if (galera) {
    std::string what = fmt::format("wsrep_on={}, wsrep_cluster_size={}",
                                   wsrep_on.empty() ? "?" : wsrep_on,
                                   cluster_size.empty() ? "?" : cluster_size);
    if (database.galera != "allow") {
      return Error::Config(fmt::format(
          "the database server is a Galera cluster node ({}): GET_LOCK is not replicated between "
          "nodes, so daemons connected to different nodes would each run the same slot. Run every "
          "crm-hygiene daemon against one and the same node (not through a load balancer) and set "
          "database.galera: allow, or run a single daemon; see docs/operations.md",
          what));
    }
    spdlog::warn("Galera cluster node ({}): database.galera is 'allow', so every daemon must "
                 "connect to this same node",
                 what);
  }
  // Does a second connection see a lock the first one holds?
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string name = fmt::format("crm-hygiene.probe.{:016x}", rng());
  auto other = Open(database, state);
  if (!other) return other.error();
  int got = 0, free_elsewhere = -1;
  soci::indicator gi = soci::i_null, fi = soci::i_null;
  st = Guard("probing GET_LOCK across two connections", [&] {
    db.sql() << "SELECT GET_LOCK(:n, 0)", soci::use(name), soci::into(got, gi);
    (*other)->sql() << "SELECT IS_FREE_LOCK(:n)", soci::use(name), soci::into(free_elsewhere, fi);
    int released = 0;
    soci::indicator ri = soci::i_null;
    db.sql() << "SELECT RELEASE_LOCK(:n)", soci::use(name), soci::into(released, ri);
  });
  if (!st) return st;
  if (gi != soci::i_ok || got != 1) {
    return Error::Config(fmt::format("GET_LOCK('{}', 0) did not grant a fresh lock; the job locks "
                                     "cannot work on this server or proxy",
                                     name));
  }
  if (fi == soci::i_ok && free_elsewhere == 1) {
    return Error::Config(
        "a lock held by one connection looks free from another: the connections reach different "
        "servers (a proxy or load balancer spreading connections?), so the job locks would not "
        "exclude a second daemon. Connect crm-hygiene to the primary server directly; see "
        "docs/operations.md");
  }
  return Status::Ok();
}

}  // namespace crmh::crm
