// The clock seam: the scheduler and the jobs read time only through a Clock, so tests drive
// them with a fake one (leveldb's Env).
#pragma once

#include <chrono>
#include <thread>

namespace crmh {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::sys_seconds Now() const = 0;
  // Waits (pacing between a job's batches). A fake clock advances instead of sleeping.
  virtual void SleepFor(std::chrono::milliseconds d) const { std::this_thread::sleep_for(d); }
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
  // Advances by d (rounded up to whole seconds, this clock's resolution); counts the sleeps.
  void SleepFor(std::chrono::milliseconds d) const override {
    now_ += std::chrono::ceil<std::chrono::seconds>(d);
    slept_ += d;
  }
  std::chrono::milliseconds slept() const { return slept_; }

 private:
  mutable std::chrono::sys_seconds now_;
  mutable std::chrono::milliseconds slept_{0};
};

}  // namespace crmh
