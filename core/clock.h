// The clock seam: the scheduler and the jobs read time only through a Clock, so tests drive
// them with a fake one (leveldb's Env).
#pragma once

#include <chrono>

namespace crmh {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::sys_seconds Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::sys_seconds Now() const override {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::sys_seconds t) : now_(t) {}
  std::chrono::sys_seconds Now() const override { return now_; }
  void Set(std::chrono::sys_seconds t) { now_ = t; }
  void Advance(std::chrono::seconds d) { now_ += d; }

 private:
  std::chrono::sys_seconds now_;
};

}  // namespace crmh
