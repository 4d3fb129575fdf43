// Large per-run buffers backed by 2 MiB pages.
//
// Why: a 1M-contact dedup sweep fills a few vectors of 100–300 MB (the prepared records, the
// candidate pairs, blocking's key values) into fresh memory, and every 4 KiB page of it was one
// page fault — ≈ 280k faults, 2.3 s of kernel time in a 10 s repeated sweep on a VM (session 14,
// docs/benchmarks.md). With transparent huge pages in "madvise" mode (Debian's default) a region
// the process marks with MADV_HUGEPAGE is faulted in 2 MiB at a time.
//
// A hint only: where the kernel has no THP, or no 2 MiB page free, nothing changes but the speed.
// Call it before the buffer is first written (pages already faulted in stay small until
// khugepaged collapses them). Only whole 2 MiB pages inside the buffer are marked, so a small
// buffer is left alone, and nothing outside it is touched.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace crmh {

inline void AdviseHugePages(const void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const auto at = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = (at + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (at + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// v.reserve(n), with the reserved storage marked for 2 MiB pages (see above).
template <class Vector>
void ReserveHuge(Vector& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), v.capacity() * sizeof(typename Vector::value_type));
}

// Called first thing in main, before any thread starts: re-executes the program with glibc's
// malloc tunable `glibc.malloc.hugetlb=1` (GLIBC_TUNABLES; glibc reads it only when a process
// starts), so that the heap and malloc's own large mappings are marked MADV_HUGEPAGE as they
// grow. Why: each job stage builds per-contact structures — a Record's strings and lists, the
// report's clusters, term-frequency shares — in fresh heap memory, and on the VMs we run on a
// 4 KiB page fault costs ~10–20 µs; a 10M-contact repeated dedup sweep took 1.37M faults (≈ 27 s
// of kernel CPU), 0.4M with this (docs/benchmarks.md, session 19). Returns without exec when the
// variable already names the tunable (an admin's glibc.malloc.hugetlb=0 is kept), when THP is
// not in "madvise" mode, or when the exec fails; the same PID carries on either way.
void RestartWithHugePageHeap(char** argv);

}  // namespace crmh
