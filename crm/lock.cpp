#include "crm/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/time_util.h"
#include "crm/db.h"

namespace crmh::crm {
namespace {

class FileLock final : public JobLock {
 public:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileLock() override { ::close(fd_); }  // closing releases the flock
  Status Check() override { return Status::Ok(); }  // an flock cannot be lost while fd is open

 private:
  int fd_;
  std::string path_;
};

// The lock lives on its own connection. A keepalive thread pings it so a long job does not
// lose the lock to wait_timeout; if this process dies, the server drops the idle connection
// (and the lock) within wait_timeout.
class MysqlLock final : public JobLock {
 public:
  MysqlLock(std::unique_ptr<Db> db, std::string name) : db_(std::move(db)), name_(std::move(name)) {
    keepalive_ = std::thread([this] { Keepalive(); });
  }
  ~MysqlLock() override {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    keepalive_.join();
    (void)Guard("releasing the lock", [&] {
      int r = 0;
      soci::indicator ind = soci::i_null;
      db_->sql() << "SELECT RELEASE_LOCK(:n)", soci::use(name_), soci::into(r, ind);
    });
  }
  Status Check() override {
    std::lock_guard<std::mutex> g(mu_);
    int mine = 0;
    soci::indicator ind = soci::i_null;
    Status st = Guard("re-checking the job lock", [&] {
      db_->sql() << "SELECT IS_USED_LOCK(:n) = CONNECTION_ID()", soci::use(name_),
          soci::into(mine, ind);
    });
    if (!st) {
      // A server that went away is "unreachable" (exit 3), not a safety refusal.
      if (st.error().exit == Exit::kDbUnreachable) return st;
      return Error::Refused(fmt::format("lost the job lock {}: {}", name_, st.error().message));
    }
    if (ind != soci::i_ok || mine != 1) {
      return Error::Refused(fmt::format("lost the job lock {} (connection dropped?)", name_));
    }
    return Status::Ok();
  }

  static constexpr int kWaitTimeoutSeconds = 120;

 private:
  void Keepalive() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, std::chrono::seconds(kWaitTimeoutSeconds / 4), [this] { return stop_; })) {
      (void)Guard("lock keepalive", [&] { db_->sql() << "SELECT 1"; });
    }
  }

  std::unique_ptr<Db> db_;
  std::string name_;
  std::mutex mu_;  // guards the session between Check() and the keepalive thread
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread keepalive_;
};

}  // namespace

std::string LockName(const Config& cfg, const std::string& job) {
  std::string name = fmt::format("crm-hygiene/{}/{}", cfg.database.name, job);
  if (name.size() > 64) name = "crm-hygiene/" + ShortHash(name);
  return name;
}

Result<std::unique_ptr<JobLock>> AcquireJobLock(const Config& cfg, const std::string& job) {
  if (cfg.database.backend == Backend::kSqlite) {
    std::string path = cfg.database.path + ".crm-hygiene." + job + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Error::Db(fmt::format("cannot open lock file {}: {}", path, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK) {
        return Error::Refused(fmt::format("lock held by another instance ({})", path));
      }
      return Error::Db(fmt::format("cannot lock {}: {}", path, std::strerror(e)));
    }
    return std::unique_ptr<JobLock>(std::make_unique<FileLock>(fd, path));
  }
  auto db = Open(cfg.database, cfg.state);
  if (!db) return db.error();
  std::string name = LockName(cfg, job);
  int got = 0;
  soci::indicator ind = soci::i_null;
  Status st = Guard("taking the job lock", [&] {
    // If we die, the server frees the lock when it notices the dead connection.
    (*db)->sql() << fmt::format("SET SESSION wait_timeout = {}", MysqlLock::kWaitTimeoutSeconds);
    (*db)->sql() << "SELECT GET_LOCK(:n, 0)", soci::use(name), soci::into(got, ind);
  });
  if (!st) return st.error();
  if (ind != soci::i_ok) return Error::Failed(fmt::format("GET_LOCK({}) returned NULL", name));
  if (got != 1) return Error::Refused(fmt::format("lock held by another instance ({})", name));
  return std::unique_ptr<JobLock>(std::make_unique<MysqlLock>(std::move(*db), name));
}

}  // namespace crmh::crm
