// The CRM database adapter's entry point: a SOCI session plus what every query needs to know
// (backend, how to quote identifiers, where the state tables live).
//
// `crm/` knows no job. Thread safety: a Db is used by one thread at a time (SOCI sessions are
// not thread-safe); the daemon opens one per worker.
#pragma once

#include <soci/soci.h>

#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/result.h"

namespace crmh::crm {

class Db {
 public:
  Db(std::unique_ptr<soci::session> sql, Backend backend, StateConfig state, std::string db_name,
     std::string sqlite_path);

  soci::session& sql() { return *sql_; }
  Backend backend() const { return backend_; }
  bool mysql() const { return backend_ == Backend::kMysql; }
  const std::string& sqlite_path() const { return sqlite_path_; }
  const std::string& database_name() const { return db_name_; }

  // `name` quoted for this backend. Identifiers were validated when the config was parsed;
  // quoting is the second line of defence (an embedded quote is doubled).
  std::string Q(std::string_view ident) const;
  // A state table, qualified and quoted: `crm_hygiene`.`crmh_runs` or "crmh_runs".
  std::string State(std::string_view table) const;
  const StateConfig& state_config() const { return state_; }
  // A string literal for values that come from the config (not from users): quotes doubled,
  // and backslashes escaped on MySQL.
  std::string Literal(std::string_view value) const;

 private:
  std::unique_ptr<soci::session> sql_;
  Backend backend_;
  StateConfig state_;
  std::string db_name_;
  std::string sqlite_path_;
};

// Opens a session: utf8mb4 and UTC on the wire for MySQL/MariaDB; WAL and a busy timeout for
// SQLite. An unreachable server is Error::Db (exit 3); a missing password file is Error::Config.
Result<std::unique_ptr<Db>> Open(const DatabaseConfig& db, const StateConfig& state);

// The seam the daemon and the jobs get sessions through; tests may wrap it.
using DbFactory = std::function<Result<std::unique_ptr<Db>>()>;
DbFactory MakeFactory(const Config& cfg);

// Any cell as text / as an integer, whatever type the backend reported (NULL → "" / 0).
std::string CellText(const soci::row& r, std::size_t i);
long long CellInt(const soci::row& r, std::size_t i);

// Runs `fn`, turning SOCI/std exceptions into an Error with `what` as context. A lost
// connection becomes Error::Db. The exception text is cut at kMaxErrorText bytes.
inline constexpr size_t kMaxErrorText = 2000;
Status Guard(std::string_view what, const std::function<void()>& fn);

}  // namespace crmh::crm
