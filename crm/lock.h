// One active instance per database and job: a named lock held for the length of a run.
//
// MySQL/MariaDB: GET_LOCK on a dedicated session (not the job's), so the lock lives exactly as
// long as that connection; a short wait_timeout makes the server drop it soon after we die.
// SQLite: flock() on a lock file next to the database — a database lock would block the job's
// own writes. Either way the lock dies with the process (kill -9 included).
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/result.h"

namespace crmh::crm {

class JobLock {
 public:
  virtual ~JobLock() = default;
  // Still ours? Called before each destructive batch; also keeps the lock session alive.
  virtual Status Check() = 0;
};

// kAcquired with the lock, or Error::Refused("lock held ...") if another instance holds it.
// Other errors: Error::Db.
Result<std::unique_ptr<JobLock>> AcquireJobLock(const Config& cfg, const std::string& job);

// The MySQL lock name for a job (hashed when longer than GET_LOCK's 64 characters).
std::string LockName(const Config& cfg, const std::string& job);

}  // namespace crmh::crm
