// Reading ahead on several sessions while one thread consumes in order: a plan whose items are
// built one after another (each may depend on the ones before it) but whose reads do not.
//
// Item i is read by `read(session, i)` on session i % sessions.size(), in a thread of that
// session's own, at most `window` items ahead of the consumer; `Next()` hands the items over in
// order 0, 1, 2, … The first failed read ends that session's reading; the consumer gets the
// error at that item. Destroying the object stops the readers and joins them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/result.h"

namespace crmh::jobs {

template <class Session, class T>
class ReadAhead {
 public:
  using ReadFn = std::function<Result<T>(Session&, size_t)>;

  ReadAhead(std::vector<Session*> sessions, size_t items, size_t window, ReadFn read)
      : items_(items), window_(window < 1 ? 1 : window), read_(std::move(read)), slots_(items) {
    threads_.reserve(sessions.size());
    try {
      for (size_t w = 0; w < sessions.size(); ++w) {
        threads_.emplace_back([this, w, n = sessions.size(), s = sessions[w]] { Run(*s, w, n); });
      }
    } catch (...) {
      // A thread that could not start (std::system_error): its items would never be read, so
      // the construction fails — after the readers already started are stopped and joined (a
      // constructor that throws runs no destructor, and a joinable std::thread destroyed ends
      // the process).
      Stop();
      throw;
    }
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  ~ReadAhead() { Stop(); }

  // The next item, in order; waits for its read. Call at most `items` times.
  Result<T> Next() {
    std::unique_lock<std::mutex> g(mu_);
    const size_t i = consumed_;
    cv_.wait(g, [&] { return slots_[i].has_value(); });
    Result<T> r = std::move(*slots_[i]);
    slots_[i].reset();
    ++consumed_;
    cv_.notify_all();
    return r;
  }

 private:
  void Run(Session& s, size_t first, size_t step) {
    for (size_t i = first; i < items_; i += step) {
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return stop_ || i < consumed_ + window_; });
        if (stop_) return;
      }
      Result<T> r = read_(s, i);
      const bool failed = !r;
      {
        std::lock_guard<std::mutex> g(mu_);
        slots_[i].emplace(std::move(r));
      }
      cv_.notify_all();
      if (failed) return;
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  const size_t items_, window_;
  const ReadFn read_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<T>>> slots_;
  size_t consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Reads handed out while their inputs are still being produced (a scan yielding, chunk by
// chunk, the ids whose rows are read next): `Add(read)` queues a read, which the first idle
// session's thread takes; `Finish(helper)` queues nothing more, reads on `helper` in the calling
// thread too (the session the producer used, now free) until the queue is empty, waits for the
// reads in flight and returns the first failure. After a failure the reads still queued are
// dropped. Destroying the object without Finish() drops the queue and joins the threads.
template <class Session>
class ReadQueue {
 public:
  using ReadFn = std::function<Status(Session&)>;

  explicit ReadQueue(std::vector<Session*> sessions) {
    threads_.reserve(sessions.size());
    try {
      for (Session* s : sessions) threads_.emplace_back([this, s] { Run(*s); });
    } catch (...) {  // as ReadAhead: the threads already started are stopped and joined first
      Stop();
      throw;
    }
  }
  ReadQueue(const ReadQueue&) = delete;
  ReadQueue& operator=(const ReadQueue&) = delete;
  ~ReadQueue() { Stop(); }

  void Add(ReadFn read) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!failed_) queue_.push_back(std::move(read));
    }
    cv_.notify_one();
  }

  Status Finish(Session* helper) {
    {
      std::lock_guard<std::mutex> g(mu_);
      finishing_ = true;
    }
    cv_.notify_all();
    if (helper) Run(*helper);
    Join();
    std::lock_guard<std::mutex> g(mu_);
    return first_error_;
  }

 private:
  // Takes reads until the queue is empty and Finish() was called (or a read failed).
  void Run(Session& s) {
    for (;;) {
      ReadFn read;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return stop_ || failed_ || finishing_ || !queue_.empty(); });
        if (stop_ || failed_ || queue_.empty()) return;
        read = std::move(queue_.front());
        queue_.pop_front();
      }
      Status st = read(s);
      if (!st) {
        {
          std::lock_guard<std::mutex> g(mu_);
          if (!failed_) first_error_ = st;
          failed_ = true;
          queue_.clear();
        }
        cv_.notify_all();
        return;
      }
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    Join();
  }

  void Join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ReadFn> queue_;
  bool finishing_ = false, failed_ = false, stop_ = false;
  Status first_error_;
  std::vector<std::thread> threads_;
};

}  // namespace crmh::jobs
