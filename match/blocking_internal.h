// What match/blocking.cpp and its test oracle match/blocking_reference.cpp share: the block
// rules (a pair key, how one block is paired, the refinement marker) and the key-derivation
// helpers. The oracle keeps its own machinery (string keys, std::sort, pair lists merged key by
// key) — that is what it checks — while a change to a rule or a key is made here, once.
// Not an API: only those two files and their tests include it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "match/matcher.h"
#include "match/parallel.h"

namespace crmh::match::detail {

// CandidatePairs merges each key's pairs into the result on two threads (opt.threads ≥ 2) once
// the result and the key's pairs together hold at least this many pairs; on one thread below.
// Tests lower it to run the two-thread merge on small inputs.
inline size_t parallel_merge_min_pairs = size_t{1} << 20;

// CandidatePairs groups key values by a 64-bit hash and splits a group whose values differ by
// their bytes. Tests narrow the hash to a few bits to make such collisions common.
inline uint64_t value_hash_mask = ~uint64_t{0};

inline uint64_t PairKey(uint32_t i, uint32_t j) {
  if (i > j) std::swap(i, j);
  return (static_cast<uint64_t>(i) << 32) | j;
}

using Pair = std::pair<uint32_t, uint32_t>;
inline Pair Unpair(uint64_t k) {
  return {static_cast<uint32_t>(k >> 32), static_cast<uint32_t>(k)};
}

using crmh::match::OnThreads;  // match/parallel.h

// Pairs one block (distinct record indices): none if it is over max_block (counted); over
// opt.dense_block, a sorted neighbourhood inside the block — its records ordered by name
// ("last first", then birthdate, then index), each paired with the next dense_window − 1 — so a
// common surname + initial or a shared switchboard number costs O(size) pairs, not O(size²);
// otherwise all pairs. `emit` false: the block is only counted (an incremental blocking's
// block whose pairs are the last sweep's).
inline void PairBlock(std::vector<uint32_t>& block, const std::vector<Record>& records,
                      const MatchOptions& opt, CandidateStats& stats,
                      std::vector<uint64_t>& pairs, bool emit = true) {
  const size_t size = block.size();
  stats.largest_block = std::max<long long>(stats.largest_block, static_cast<long long>(size));
  if (size > opt.max_block) {
    ++stats.blocks_capped;
  } else if (!emit) {
    if (opt.dense_block > 0 && size > opt.dense_block && opt.dense_window > 1) ++stats.blocks_windowed;
  } else if (opt.dense_block > 0 && size > opt.dense_block && opt.dense_window > 1) {
    ++stats.blocks_windowed;
    std::sort(block.begin(), block.end(), [&](uint32_t x, uint32_t y) {
      const Record& rx = records[x];
      const Record& ry = records[y];
      if (rx.last != ry.last) return rx.last < ry.last;
      if (rx.first != ry.first) return rx.first < ry.first;
      if (rx.birthdate != ry.birthdate) return rx.birthdate < ry.birthdate;
      return x < y;
    });
    for (size_t p = 0; p < size; ++p) {
      for (size_t q = p + 1; q < size && q < p + opt.dense_window; ++q) {
        pairs.push_back(PairKey(block[p], block[q]));
      }
    }
  } else {
    for (size_t p = 0; p < size; ++p) {
      for (size_t q = p + 1; q < size; ++q) pairs.push_back(PairKey(block[p], block[q]));
    }
  }
}

// A key value may carry a refinement after kRefine: "coarse\x01fine". The records sharing the
// coarse part form one block while it has at most opt.refine_block records; a larger one is
// split by the full value (coarse and fine both equal). See MatchOptions::refine_block.
inline constexpr char kRefine = '\x01';

inline std::string_view Coarse(std::string_view v) { return v.substr(0, v.find(kRefine)); }

inline std::string_view LocalPart(std::string_view email) {
  size_t at = email.find('@');
  return at == std::string_view::npos ? std::string_view() : email.substr(0, at);
}

// The first `n` space-separated tokens of s (fewer if s has fewer).
inline std::string_view FirstTokens(std::string_view s, int n) {
  size_t end = 0;
  for (int k = 0; k < n; ++k) {
    size_t next = s.find(' ', end == 0 ? 0 : end + 1);
    if (next == std::string_view::npos) return s;
    end = next;
  }
  return s.substr(0, end);
}

// The given name's initial as a block key's finer part ('-' without one).
inline char GivenInitial(const Record& r) { return r.first.empty() ? '-' : r.first[0]; }

inline const Text& RawFirst(const Record& r) {
  return r.first_raw_ascii.empty() ? r.first : r.first_raw_ascii;
}

}  // namespace crmh::match::detail
