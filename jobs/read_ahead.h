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
    for (size_t w = 0; w < sessions.size(); ++w) {
      threads_.emplace_back([this, w, n = sessions.size(), s = sessions[w]] { Run(*s, w, n); });
    }
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

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

  const size_t items_, window_;
  const ReadFn read_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<T>>> slots_;
  size_t consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace crmh::jobs
