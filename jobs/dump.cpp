#include "jobs/dump.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace crmh::jobs {
namespace {

namespace fs = std::filesystem;

Result<long long> CountRows(crm::Db& db, const std::string& table) {
  long long n = 0;
  Status st = crm::Guard("counting rows", [&] {
    db.sql() << fmt::format("SELECT COUNT(*) FROM {}", db.Q(table)), soci::into(n);
  });
  if (!st) return st.error();
  return n;
}

// Runs argv without a shell; stdout/stderr go to `log`. Returns the exit status.
int RunTool(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ReadTail(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > n ? s.substr(s.size() - n) : s;
}

Result<nlohmann::json> DumpSqlite(RunContext& ctx, const fs::path& dir,
                                  const std::vector<std::string>& tables) {
  fs::path file = dir / "crm.db";
  Status st = crm::Guard("dumping the SQLite database", [&] {
    ctx.db.sql() << fmt::format("VACUUM INTO {}", ctx.db.Literal(file.string()));
  });
  if (!st) return Error::Refused("the verified dump failed: " + st.error().message);
  nlohmann::json rows = nlohmann::json::object();
  try {
    soci::session copy(soci::sqlite3, fmt::format("db=\"{}\"", file.string()));
    std::string check;
    copy << "PRAGMA integrity_check", soci::into(check);
    if (check != "ok") return Error::Refused(fmt::format("the dump {} is damaged: {}", file.string(), check));
    for (const auto& t : tables) {
      long long in_dump = 0;
      copy << fmt::format("SELECT COUNT(*) FROM {}", ctx.db.Q(t)), soci::into(in_dump);
      auto live = CountRows(ctx.db, t);
      if (!live) return live.error();
      if (in_dump != *live) {
        return Error::Refused(fmt::format("the dump of {} has {} rows, the live table {}; refusing",
                                          t, in_dump, *live));
      }
      rows[t] = in_dump;
    }
  } catch (const std::exception& e) {
    return Error::Refused(fmt::format("the dump {} cannot be read back: {}", file.string(), e.what()));
  }
  return nlohmann::json{{"path", file.string()}, {"bytes", fs::file_size(file)}, {"rows", rows}};
}

Result<nlohmann::json> DumpMysql(RunContext& ctx, const fs::path& dir,
                                 const std::vector<std::string>& tables) {
  const DatabaseConfig& dbc = ctx.cfg.database;
  auto password = ReadPassword(dbc);
  if (!password) return password.error();
  // Credentials go through a 0600 option file, never the command line (visible in ps).
  fs::path cnf = dir / ".client.cnf";
  {
    int fd = ::open(cnf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Error::Refused(fmt::format("cannot write {}", cnf.string()));
    std::string body = fmt::format("[client]\nuser={}\n", dbc.user);
    if (!password->empty()) body += fmt::format("password=\"{}\"\n", *password);
    if (!dbc.socket.empty()) {
      body += fmt::format("socket={}\n", dbc.socket);
    } else {
      body += fmt::format("host={}\nport={}\n", dbc.host, dbc.port);
    }
    (void)!::write(fd, body.data(), body.size());
    ::close(fd);
  }
  fs::path file = dir / (dbc.name + ".sql");
  std::vector<std::string> argv = {"mysqldump", "--defaults-extra-file=" + cnf.string(),
                                   "--single-transaction", "--skip-lock-tables",
                                   "--skip-extended-insert", "--no-tablespaces", "--hex-blob",
                                   "--default-character-set=utf8mb4", "--skip-triggers",
                                   "--result-file=" + file.string(), dbc.name};
  for (const auto& t : tables) argv.push_back(t);
  std::string log = (dir / "mysqldump.log").string();
  int rc = RunTool(argv, log);
  fs::remove(cnf);
  if (rc != 0) {
    return Error::Refused(fmt::format("mysqldump failed (exit {}): {}", rc, ReadTail(log, 400)));
  }
  // Verify: complete, and each table's INSERT lines equal its live row count.
  std::ifstream in(file);
  if (!in) return Error::Refused(fmt::format("the dump {} is missing", file.string()));
  std::map<std::string, long long> inserts;
  std::map<std::string, bool> created;
  std::string line, last;
  while (std::getline(in, line)) {
    for (const auto& t : tables) {
      if (line.rfind(fmt::format("INSERT INTO `{}` VALUES ", t), 0) == 0) ++inserts[t];
      if (line.rfind(fmt::format("CREATE TABLE `{}` (", t), 0) == 0) created[t] = true;
    }
    if (!line.empty()) last = line;
  }
  if (last.rfind("-- Dump completed", 0) != 0) {
    return Error::Refused(fmt::format("the dump {} is incomplete (no 'Dump completed' trailer)",
                                      file.string()));
  }
  nlohmann::json rows = nlohmann::json::object();
  for (const auto& t : tables) {
    if (!created[t]) return Error::Refused(fmt::format("the dump has no CREATE TABLE for {}", t));
    auto live = CountRows(ctx.db, t);
    if (!live) return live.error();
    if (inserts[t] != *live) {
      return Error::Refused(fmt::format("the dump of {} has {} rows, the live table {}; refusing",
                                        t, inserts[t], *live));
    }
    rows[t] = inserts[t];
  }
  return nlohmann::json{{"path", file.string()}, {"bytes", fs::file_size(file)}, {"rows", rows}};
}

}  // namespace

Result<nlohmann::json> VerifiedDump(RunContext& ctx, const std::vector<std::string>& tables) {
  fs::path dir = fs::path(ctx.cfg.state.directory) / "dumps" / ctx.run_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error::Refused(fmt::format("cannot create the dump directory {}: {}", dir.string(),
                                      ec.message()));
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return ctx.db.mysql() ? DumpMysql(ctx, dir, tables) : DumpSqlite(ctx, dir, tables);
}

}  // namespace crmh::jobs
