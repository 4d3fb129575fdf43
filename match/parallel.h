// The matcher's thread helpers: a job runs the matcher inside a run whose errors become a run
// outcome (jobs/job.cpp), so an exception on a worker thread (bad_alloc, say) must reach the
// calling thread — an uncaught one on a std::thread ends the process.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crmh::match {

// Runs fn(w) for w in [0, workers) on `workers` threads (the calling thread runs the last, and
// the share of any thread that could not start). Every share runs and every thread is joined
// before it returns; the first exception any of them threw is then rethrown on the caller.
inline void OnThreads(size_t workers, const std::function<void(size_t)>& fn) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&](size_t w) {
    try {
      fn(w);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers > 0 ? workers - 1 : 0);
  size_t started = 0;
  try {
    for (; started + 1 < workers; ++started) pool.emplace_back(guarded, started);
  } catch (...) {  // a thread that could not start: its share and the rest run here
  }
  // Every share runs, whatever another thread threw meanwhile: what a caller sees after an
  // exception must not depend on the threads' timing.
  for (size_t w = started; w < workers; ++w) guarded(w);
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

// Runs fn(begin, end) over [0, n) in contiguous chunks on up to `threads` threads (one below
// 1,024 items a thread; the calling thread takes the last chunk), as OnThreads.
template <class Fn>
void ParallelChunks(size_t n, int threads, Fn fn) {
  const size_t workers =
      std::max<size_t>(1, std::min<size_t>(threads > 0 ? threads : 1, n / 1024 + 1));
  if (workers == 1) {
    fn(size_t{0}, n);
    return;
  }
  const size_t chunk = (n + workers - 1) / workers;
  OnThreads(workers, [&](size_t w) { fn(std::min(n, w * chunk), std::min(n, (w + 1) * chunk)); });
}

}  // namespace crmh::match
