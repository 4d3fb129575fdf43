#include <soci/mysql/soci-mysql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <fmt/format.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

#include "core/text.h"
#include "crm/db.h"

namespace crmh::crm {

Db::Db(std::unique_ptr<soci::session> sql, Backend backend, StateConfig state, std::string db_name,
       std::string sqlite_path)
    : sql_(std::move(sql)),
      backend_(backend),
      state_(std::move(state)),
      db_name_(std::move(db_name)),
      sqlite_path_(std::move(sqlite_path)) {}

std::string Db::Q(std::string_view ident) const {
  const char q = mysql() ? '`' : '"';
  std::string out(1, q);
  for (char c : ident) {
    out += c;
    if (c == q) out += c;
  }
  out += q;
  return out;
}

std::string Db::Literal(std::string_view value) const {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    if (c == '\\' && mysql()) out += '\\';
    out += c;
  }
  return out + "'";
}

std::string CellText(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return {};
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string:
    case soci::dt_blob:
    case soci::dt_xml:
      return r.get<std::string>(i);
    case soci::dt_double:
      return fmt::format("{}", r.get<double>(i));
    case soci::dt_integer:
      return std::to_string(r.get<int>(i));
    case soci::dt_long_long:
      return std::to_string(r.get<long long>(i));
    case soci::dt_unsigned_long_long:
      return std::to_string(r.get<unsigned long long>(i));
    case soci::dt_date: {
      std::tm t = r.get<std::tm>(i);
      return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.tm_year + 1900, t.tm_mon + 1,
                         t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
    }
  }
  return {};
}

long long CellInt(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return 0;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return static_cast<long long>(r.get<double>(i));
    default:
      return std::stoll(CellText(r, i));
  }
}

std::string Db::State(std::string_view table) const {
  std::string name = state_.table_prefix + std::string(table);
  if (mysql() && !state_.schema.empty()) return Q(state_.schema) + "." + Q(name);
  return Q(name);
}

namespace {

// Fault injection and tracing for the crash tests, inert unless the environment asks:
//   CRM_HYGIENE_FAULT=crash_after_stmt:N  SIGKILL this process when statement N+1 is about to
//                                         run, i.e. right after the Nth SQL statement
//   CRM_HYGIENE_FAULT=slow_stmt_ms:MS     sleep MS milliseconds before every statement (a long
//                                         run on a small CRM, for the kill-mid-job HA test)
//   CRM_HYGIENE_SQL_TRACE=PATH            append "N<TAB>statement" for every statement
// Counted over every session of the process (a `run` command is one run).
class FaultLogger final : public soci::logger_impl {
 public:
  void start_query(std::string const& query) override {
    long n = ++count_;
    if (trace_) {
      std::string q = query.substr(0, 300);
      for (char& c : q) {
        if (c == '\n' || c == '\t') c = ' ';
      }
      std::fprintf(trace_, "%ld\t%s\n", n, q.c_str());
      std::fflush(trace_);
    }
    if (crash_after_ > 0 && n == crash_after_ + 1) ::kill(::getpid(), SIGKILL);
    if (slow_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_));
  }

  static void Install(soci::session& s) {
    if (!Enabled()) return;
    s.set_logger(new FaultLogger());
  }

 private:
  static bool Enabled() {
    static const bool enabled = [] {
      const char* f = std::getenv("CRM_HYGIENE_FAULT");
      if (f && std::string_view(f).rfind("crash_after_stmt:", 0) == 0) {
        crash_after_ = std::atol(f + std::strlen("crash_after_stmt:"));
      }
      if (f && std::string_view(f).rfind("slow_stmt_ms:", 0) == 0) {
        slow_ms_ = std::atol(f + std::strlen("slow_stmt_ms:"));
      }
      if (const char* t = std::getenv("CRM_HYGIENE_SQL_TRACE")) trace_ = std::fopen(t, "a");
      return crash_after_ > 0 || slow_ms_ > 0 || trace_ != nullptr;
    }();
    return enabled;
  }
  logger_impl* do_clone() const override { return new FaultLogger(); }

  static inline std::atomic<long> count_{0};
  static inline long crash_after_ = 0;
  static inline long slow_ms_ = 0;
  static inline std::FILE* trace_ = nullptr;
};

// The MySQL connector's messages for "can't reach the server" (2002, 2003, 2005, 2006, 2013).
bool LooksUnreachable(const std::string& msg) {
  // libmariadb and libmysqlclient word these differently ("Server has gone away" vs "MySQL
  // server has gone away"): compare lowercase.
  std::string m = msg;
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* s : {"can't connect", "unknown mysql server host", "server has gone away",
                        "lost connection", "connection refused", "unknown server host",
                        "connection was killed", "server shutdown in progress"}) {
    if (m.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string MysqlConnectString(const DatabaseConfig& db, const std::string& password) {
  // SOCI's connect string: key=value pairs, values with spaces quoted with ''.
  auto kv = [](const char* k, const std::string& v) {
    std::string esc;
    for (char c : v) {
      if (c == '\'' || c == '\\') esc += '\\';
      esc += c;
    }
    return fmt::format(" {}='{}'", k, esc);
  };
  std::string s = "charset='utf8mb4'";
  s += kv("db", db.name);
  s += kv("user", db.user);
  if (!password.empty()) s += kv("password", password);
  if (!db.socket.empty()) {
    s += kv("unix_socket", db.socket);
  } else {
    s += kv("host", db.host);
    s += fmt::format(" port={}", db.port);
  }
  s += fmt::format(" connect_timeout={}", db.connect_timeout.count());
  if (db.tls.mode != "disabled" && db.tls.mode != "preferred") {
    if (!db.tls.ca.empty()) s += kv("sslca", db.tls.ca);
    if (!db.tls.cert.empty()) s += kv("sslcert", db.tls.cert);
    if (!db.tls.key.empty()) s += kv("sslkey", db.tls.key);
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<Db>> Open(const DatabaseConfig& db, const StateConfig& state) {
  try {
    if (db.backend == Backend::kSqlite) {
      // Opening a missing file would silently create an empty CRM; refuse instead.
      if (::access(db.path.c_str(), R_OK | W_OK) != 0) {
        return Error::Db(fmt::format("database unreachable: cannot open SQLite file {}: {}",
                                     db.path, std::strerror(errno)));
      }
      auto sql = std::make_unique<soci::session>(
          soci::sqlite3, fmt::format("db=\"{}\" timeout=30", db.path));
      FaultLogger::Install(*sql);
      *sql << "PRAGMA journal_mode=WAL";
      *sql << "PRAGMA synchronous=FULL";
      return std::make_unique<Db>(std::move(sql), db.backend, state, std::string{}, db.path);
    }
    auto password = ReadPassword(db);
    if (!password) return password.error();
    auto sql = std::make_unique<soci::session>(soci::mysql, MysqlConnectString(db, *password));
    FaultLogger::Install(*sql);
    *sql << "SET NAMES utf8mb4";
    *sql << "SET time_zone = '+00:00'";
    *sql << "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')";
    return std::make_unique<Db>(std::move(sql), db.backend, state, db.name, std::string{});
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::string where = db.backend == Backend::kSqlite
                            ? db.path
                            : (db.socket.empty() ? fmt::format("{}:{}", db.host, db.port)
                                                 : db.socket);
    if (db.backend == Backend::kSqlite || LooksUnreachable(msg)) {
      return Error::Db(fmt::format("database unreachable at {}: {}", where, msg));
    }
    // The server answered and said no: a configuration problem (exit 2, no restart loop).
    if (msg.find("Unknown database") != std::string::npos ||
        msg.find("Access denied") != std::string::npos) {
      return Error::Config(fmt::format("cannot open database '{}' at {}: {}", db.name, where, msg));
    }
    return Error::Db(fmt::format("database error at {}: {}", where, msg));
  }
}

DbFactory MakeFactory(const Config& cfg) {
  DatabaseConfig db = cfg.database;
  StateConfig st = cfg.state;
  return [db, st]() { return Open(db, st); };
}

Status Guard(std::string_view what, const std::function<void()>& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const std::exception& e) {
    // SOCI appends the statement and every bound value: a multi-row insert makes megabytes.
    std::string msg = TruncateUtf8(e.what(), kMaxErrorText, " […]");
    if (LooksUnreachable(msg)) return Error::Db(fmt::format("{}: database went away: {}", what, msg));
    return Error::Failed(fmt::format("{}: {}", what, msg));
  }
}

}  // namespace crmh::crm
