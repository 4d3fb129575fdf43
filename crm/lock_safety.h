// Is GET_LOCK a real cluster-wide lock here? One active instance per database (DESIGN.md
// invariant 6) rests on it, and two setups silently break it:
// - Galera (MariaDB Galera Cluster, Percona XtraDB Cluster): GET_LOCK is local to the node, not
//   replicated, so daemons connected to different nodes each get "the" lock.
// - A proxy that spreads one client's connections over several servers (a load balancer, a
//   read/write splitter): the job's lock session and another daemon's may sit on different
//   servers.
// The daemon checks at start and refuses (exit 2) with a message saying what to do.
#pragma once

#include "core/config.h"
#include "crm/db.h"

namespace crmh::crm {

// MySQL/MariaDB only (SQLite locks are flock()s on the database file: always OK).
// Galera is detected from `wsrep_on` / `wsrep_cluster_size`; refused unless
// database.galera: allow. The proxy case is detected by taking a probe lock on `db` and asking a
// second, fresh connection whether that lock is in use: if it looks free, the two connections do
// not share a lock namespace. Error::Config (exit 2) when unsafe; Error::Db if unreachable.
Status CheckLockSafety(Db& db, const DatabaseConfig& database, const StateConfig& state);

}  // namespace crmh::crm
