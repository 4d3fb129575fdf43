// Test databases: every DB-touching test runs against SQLite and, when the harness started one
// (scripts/test.sh sets CRMH_TEST_MYSQL_SOCKET), a real MariaDB. With CRMH_REQUIRE_MARIADB=1 a
// missing MariaDB is a failure, never a silent skip.
#pragma once

#include <doctest/doctest.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/config.h"

namespace crmh::test {

inline std::string MysqlSocket() {
  const char* s = std::getenv("CRMH_TEST_MYSQL_SOCKET");
  return s ? s : "";
}

inline std::vector<Backend> Backends() {
  std::vector<Backend> b{Backend::kSqlite};
  if (!MysqlSocket().empty()) {
    b.push_back(Backend::kMysql);
  } else {
    const char* req = std::getenv("CRMH_REQUIRE_MARIADB");
    REQUIRE_MESSAGE(!(req && std::string(req) == "1"),
                    "CRMH_REQUIRE_MARIADB=1 but CRMH_TEST_MYSQL_SOCKET is not set");
  }
  return b;
}

inline std::string Name(Backend b) { return b == Backend::kMysql ? "mariadb" : "sqlite"; }

inline std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + std::to_string(::getpid()) + "_" + std::to_string(rng() % 1000000000);
}

// A fresh, empty database for one test; dropped/removed when it goes out of scope.
class TempDb {
 public:
  explicit TempDb(Backend b) : backend_(b) {
    if (b == Backend::kSqlite) {
      dir_ = std::filesystem::temp_directory_path() / UniqueName("crmh_test_");
      std::filesystem::create_directories(dir_);
      path_ = (dir_ / "crm.db").string();
      soci::session s(soci::sqlite3, "db=" + path_);  // creates the file
    } else {
      name_ = UniqueName("crmh_t_");
      soci::session s(soci::mysql, "unix_socket=" + MysqlSocket() + " user=root charset=utf8mb4");
      s << "CREATE DATABASE `" + name_ + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
    }
  }
  ~TempDb() {
    try {
      if (backend_ == Backend::kSqlite) {
        std::filesystem::remove_all(dir_);
      } else {
        soci::session s(soci::mysql, "unix_socket=" + MysqlSocket() + " user=root");
        s << "DROP DATABASE IF EXISTS `" + name_ + "`";
        s << "DROP DATABASE IF EXISTS `" + name_ + "_state`";
      }
    } catch (...) {
    }
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;

  Backend backend() const { return backend_; }
  std::string backend_name() const { return backend_ == Backend::kSqlite ? "sqlite" : "mysql"; }

  DatabaseConfig database() const {
    DatabaseConfig d;
    d.backend = backend_;
    if (backend_ == Backend::kSqlite) {
      d.path = path_;
    } else {
      d.socket = MysqlSocket();
      d.user = "root";
      d.name = name_;
    }
    return d;
  }

  // The YAML `database:` block for this database (for config files written by tests).
  std::string DatabaseYaml() const {
    if (backend_ == Backend::kSqlite) return "database:\n  backend: sqlite\n  path: " + path_ + "\n";
    return "database:\n  backend: mysql\n  socket: " + MysqlSocket() + "\n  user: root\n  name: " +
           name_ + "\n";
  }

  std::unique_ptr<soci::session> Session() const {
    if (backend_ == Backend::kSqlite) return std::make_unique<soci::session>(soci::sqlite3, "db=" + path_);
    return std::make_unique<soci::session>(
        soci::mysql, "unix_socket=" + MysqlSocket() + " user=root charset=utf8mb4 db=" + name_);
  }

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  std::filesystem::path dir() const {
    return backend_ == Backend::kSqlite ? dir_ : std::filesystem::temp_directory_path();
  }

 private:
  Backend backend_;
  std::filesystem::path dir_;
  std::string path_;
  std::string name_;
};

}  // namespace crmh::test
