// Blocking: the candidate pairs are the union of the pairs proposed by several keys (records
// sharing a key value form a block; every pair inside a block is proposed) plus a sorted
// neighbourhood on the names. docs/dedup.md lists the keys and why each exists.
//
// How it is computed (match/blocking_reference.cpp is the same blocking done the plain way —
// a std::string per key value, std::sort, std::sort of the pairs — and tests/matcher_test.cpp
// checks that both return the same pairs and counts): a key's values are written back to back
// into one buffer per thread, each with a 64-bit hash of its coarse part; values are sorted by
// (hash, bytes, record), so a block's values are contiguous and equal hashes always compare the
// bytes (a collision costs time, never a wrong block); a refined block's values are grouped by
// a hash of their finer part the same way; the pairs are sorted by an LSD radix sort. The
// sorted neighbourhood sorts by a 16-byte prefix of each name key, then the key.
#include <malloc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/memory.h"
#include "match/blocking_internal.h"
#include "match/matcher.h"
#include "match/normalize.h"

namespace crmh::match {
namespace {

using namespace detail;  // match/blocking_internal.h: the rules both blockings share


// Sorts pair keys (i << 32 | j, i < j < n) and removes repeats: an LSD radix sort of the keys
// packed into 2·bit_width(n) bits, in passes of ≤ 11 bits (4 passes at 1M records). The pairs
// of a 1M sweep (≈ 16M before removing repeats) were the largest std::sort of blocking.
// `tmp`: scratch (its capacity is kept for the next call: no fresh pages per key).
void SortUniquePairs(std::vector<uint64_t>& v, uint32_t n, std::vector<uint64_t>& tmp) {
  if (v.size() < 4096) {
    std::sort(v.begin(), v.end());
  } else {
    const int b = std::max(1, static_cast<int>(std::bit_width(n)));
    const int bits = 2 * b;
    const int passes = (bits + 10) / 11;
    const int width = (bits + passes - 1) / passes;
    const uint64_t mask = (uint64_t{1} << width) - 1;
    const uint64_t low = (uint64_t{1} << b) - 1;
    for (uint64_t& k : v) k = (k >> 32) << b | (k & 0xffffffffu);
    tmp.resize(v.size());
    std::vector<size_t> count(size_t{1} << width);
    for (int p = 0; p < passes; ++p) {
      const int shift = p * width;
      std::fill(count.begin(), count.end(), 0);
      for (const uint64_t k : v) ++count[(k >> shift) & mask];
      if (count[(v[0] >> shift) & mask] == v.size()) continue;  // one digit for all: in order
      size_t sum = 0;
      for (size_t& c : count) {
        const size_t here = c;
        c = sum;
        sum += here;
      }
      for (const uint64_t k : v) tmp[count[(k >> shift) & mask]++] = k;
      v.swap(tmp);
    }
    for (uint64_t& k : v) k = (k >> b) << 32 | (k & low);
  }
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// How many values the sorted, unique ranges [a, a_end) and [b, b_end) have in common.
size_t CountCommon(const Pair* a, const Pair* a_end, const uint64_t* b, const uint64_t* b_end) {
  size_t common = 0;
  while (a != a_end && b != b_end) {
    const Pair y = Unpair(*b);
    if (*a < y) {
      ++a;
    } else if (y < *a) {
      ++b;
    } else {
      ++common;
      ++a;
      ++b;
    }
  }
  return common;
}


// Merges the sorted, unique `add` into the sorted, unique `all` in place (from the back, so no
// second copy of `all` is ever held: at 1M contacts it is 14M pairs, and the union of the keys'
// pairs before deduplication was half as many again), dropping the pairs `all` already holds.
// `masks` (null: none kept) is parallel to `all`: a pair of `add` gets `bit`, OR-ed into the
// mask of a pair `all` already holds.
// With `threads` ≥ 2 and enough pairs, in two halves on two threads: the values below a pivot
// and the rest. Each half merges from its back; the first half's output overlaps the start of
// the second half's input by at most the first half's share of `add`, so that stretch of `all`
// (and of `masks`) is read from a copy (`aside`, `aside_masks`: scratch). The duplicates of each
// half are counted first, so each half writes exactly its final place.
void MergeInto(std::vector<Pair>& all, std::vector<KeyMask>* masks, const std::vector<uint64_t>& add,
               KeyMask bit, size_t threads, std::vector<Pair>& aside,
               std::vector<KeyMask>& aside_masks) {
  if (add.empty()) return;
  const size_t old = all.size(), m = add.size();
  auto grow = [&](size_t need) {
    if (all.capacity() < need) ReserveHuge(all, need + need / 4);
    all.resize(need);
    if (masks) {
      if (masks->capacity() < need) ReserveHuge(*masks, need + need / 4);
      masks->resize(need);
    }
  };
  if (threads < 2 || old + m < detail::parallel_merge_min_pairs) {
    const size_t need = old + m;
    grow(need);
    // k − i = the values of `add` not yet written plus the repeats met so far ≥ 0: `all` is
    // never overwritten before it is read. A repeat leaves a gap, closed below.
    size_t i = old, j = m, k = need;
    while (j > 0) {
      const Pair b = Unpair(add[j - 1]);
      if (i > 0 && b < all[i - 1]) {
        --i;
        --k;
        all[k] = all[i];
        if (masks) (*masks)[k] = (*masks)[i];
      } else {
        KeyMask mk = bit;
        if (i > 0 && b == all[i - 1]) {
          --i;
          if (masks) mk |= (*masks)[i];
        }
        --k;
        all[k] = b;
        if (masks) (*masks)[k] = mk;
        --j;
      }
    }
    if (k > i) {  // the repeats' gap: all[i, k) is free
      std::move(all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                all.begin() + static_cast<std::ptrdiff_t>(i));
      all.resize(need - (k - i));
      if (masks) {
        std::move(masks->begin() + static_cast<std::ptrdiff_t>(k), masks->end(),
                  masks->begin() + static_cast<std::ptrdiff_t>(i));
        masks->resize(need - (k - i));
      }
    }
    return;
  }
  // The pivot: the median of the longer list. Half 0 holds the values below it, half 1 the rest.
  const Pair pivot = old >= m ? all[old / 2] : Unpair(add[m / 2]);
  const size_t ia = static_cast<size_t>(std::lower_bound(all.begin(), all.begin() + old, pivot) - all.begin());
  const size_t ja = static_cast<size_t>(
      std::lower_bound(add.begin(), add.end(), pivot, [](uint64_t x, const Pair& p) { return Unpair(x) < p; }) -
      add.begin());
  size_t common[2] = {0, 0};
  OnThreads(2, [&](size_t h) {
    common[h] = h == 0 ? CountCommon(all.data(), all.data() + ia, add.data(), add.data() + ja)
                       : CountCommon(all.data() + ia, all.data() + old, add.data() + ja, add.data() + m);
  });
  const size_t len0 = ia + ja - common[0];
  const size_t len1 = (old - ia) + (m - ja) - common[1];
  const size_t need = len0 + len1;  // ≥ old
  // Half 0 writes [0, len0), len0 ≤ ia + ja: it may overwrite all[ia, ia + ja) before half 1
  // reads it.
  const size_t aside_end = std::min(old, ia + ja);
  aside.assign(all.begin() + static_cast<std::ptrdiff_t>(ia), all.begin() + static_cast<std::ptrdiff_t>(aside_end));
  if (masks) {
    aside_masks.assign(masks->begin() + static_cast<std::ptrdiff_t>(ia),
                       masks->begin() + static_cast<std::ptrdiff_t>(aside_end));
  }
  grow(need);
  KeyMask* const mk = masks ? masks->data() : nullptr;
  OnThreads(2, [&](size_t h) {
    if (h == 0) {
      // all[0, ia) ∪ add[0, ja) → all[0, len0). k = i + j − (common values left) ≥ i: a value of
      // `all` is never overwritten before it is read. Once `add` is done, k == i.
      size_t i = ia, j = ja, k = len0;
      while (j > 0) {
        const Pair b = Unpair(add[j - 1]);
        if (i > 0 && b < all[i - 1]) {
          --i;
          --k;
          all[k] = all[i];
          if (mk) mk[k] = mk[i];
        } else {
          KeyMask x = bit;
          if (i > 0 && b == all[i - 1]) {
            --i;
            if (mk) x |= mk[i];
          }
          --k;
          all[k] = b;
          if (mk) mk[k] = x;
          --j;
        }
      }
    } else {
      // all[ia, old) ∪ add[ja, m) → all[len0, need); all[ia, aside_end) from `aside`.
      auto at = [&](size_t x) { return x < aside_end ? aside[x - ia] : all[x]; };
      auto mask_at = [&](size_t x) { return x < aside_end ? aside_masks[x - ia] : mk[x]; };
      size_t i = old, j = m, k = need;
      while (j > ja) {
        const Pair b = Unpair(add[j - 1]);
        if (i > ia && b < at(i - 1)) {
          --k;
          all[k] = at(i - 1);
          if (mk) mk[k] = mask_at(i - 1);
          --i;
        } else {
          KeyMask x = bit;
          if (i > ia && b == at(i - 1)) {
            if (mk) x |= mask_at(i - 1);
            --i;
          }
          --k;
          all[k] = b;
          if (mk) mk[k] = x;
          --j;
        }
      }
      for (; i > ia; --i) {
        --k;
        all[k] = at(i - 1);
        if (mk) mk[k] = mask_at(i - 1);
      }
    }
  });
  all.resize(need);
  if (masks) masks->resize(need);
  aside.clear();
  aside_masks.clear();
}

// The union of two sorted, unique lists, sorted and unique.
std::vector<uint64_t> Union(std::vector<uint64_t>&& a, std::vector<uint64_t>&& b) {
  if (b.empty()) return std::move(a);
  if (a.empty()) return std::move(b);
  std::vector<uint64_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}


// A 64-bit hash of a value's bytes (grouping and partitioning only: equal hashes are always
// checked by comparing the bytes).
uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
  size_t i = 0;
  auto mix = [&h](uint64_t w) {
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  };
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    mix(w);
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    mix(w);
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h & detail::value_hash_mask;
}

// One key value of one record. `at` is the value's offset in its thread's buffer while the
// values are written, its address once they all are (the buffer no longer moves).
struct Entry {
  uint64_t hash;  // of the coarse part
  uintptr_t at;
  uint32_t size;
  uint32_t record;
  std::string_view view() const { return {reinterpret_cast<const char*>(at), size}; }
};
static_assert(sizeof(Entry) == 24);

// True if v's coarse part is `coarse` (which holds no kRefine).
bool HasCoarse(std::string_view v, std::string_view coarse) {
  return v.size() >= coarse.size() && v.compare(0, coarse.size(), coarse) == 0 &&
         (v.size() == coarse.size() || v[coarse.size()] == kRefine);
}

// Writes one record's values of a key: emit(piece, ...) appends the pieces (string_views or
// chars) as one value.
class Emitter {
 public:
  Emitter(std::string& buffer, std::vector<std::vector<Entry>>& parts)
      : buffer_(buffer), parts_(parts) {}
  void set_record(uint32_t r) { record_ = r; }
  template <class... Pieces>
  void operator()(const Pieces&... pieces) {
    const size_t start = buffer_.size();
    (Append(pieces), ...);
    const std::string_view v(buffer_.data() + start, buffer_.size() - start);
    const uint64_t h = HashBytes(Coarse(v));
    // By the coarse part: a block that is split by its finer part lies in one partition.
    parts_[parts_.size() == 1 ? 0 : h % parts_.size()].push_back(
        {h, start, static_cast<uint32_t>(v.size()), record_});
  }

 private:
  void Append(std::string_view s) { buffer_.append(s); }
  void Append(char c) { buffer_.push_back(c); }
  std::string& buffer_;
  std::vector<std::vector<Entry>>& parts_;
  uint32_t record_ = 0;
};

// Pairs one coarse block: the entries [first, last) share one coarse part. `by_record`: they
// are in record order. `emit` false: counted only (PairBlock).
void PairCoarseBlock(Entry* first, Entry* last, std::string_view coarse, bool by_record,
                     const std::vector<Record>& records, const MatchOptions& opt,
                     CandidateStats& stats, std::vector<uint32_t>& block,
                     std::vector<uint64_t>& pairs, bool emit) {
  block.clear();
  // Refinable unless one of the values is the coarse part alone (as the reference decides it
  // from the smallest value).
  bool refinable = true;
  for (const Entry* e = first; e != last; ++e) {
    block.push_back(e->record);
    refinable = refinable && e->size > coarse.size();
  }
  // One record may carry the coarse part twice (two names with one initial).
  if (!by_record) std::sort(block.begin(), block.end());
  block.erase(std::unique(block.begin(), block.end()), block.end());
  if (!refinable || opt.refine_block == 0 || block.size() <= opt.refine_block) {
    PairBlock(block, records, opt, stats, pairs, emit);
    return;
  }
  ++stats.blocks_refined;
  // Split by the whole value: grouped by a hash of the part after the coarse one (all share the
  // coarse part; `hash` is free to reuse here), in record order within a group. A group whose
  // values are not all equal (a collision) is sorted by value and split. The groups' order is
  // not the values' order, which nothing depends on: each group is paired alone and the pairs
  // are sorted afterwards.
  for (Entry* e = first; e != last; ++e) e->hash = HashBytes(e->view().substr(coarse.size()));
  std::sort(first, last, [](const Entry& a, const Entry& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.record < b.record;
  });
  auto pair_group = [&](const Entry* f, const Entry* g) {
    block.clear();
    for (const Entry* e = f; e != g; ++e) block.push_back(e->record);
    block.erase(std::unique(block.begin(), block.end()), block.end());
    PairBlock(block, records, opt, stats, pairs, emit);
  };
  for (Entry* f = first; f != last;) {
    Entry* g = f + 1;
    bool same = true;
    for (; g != last && g->hash == f->hash; ++g) same = same && g->view() == f->view();
    if (same) {
      pair_group(f, g);
    } else {
      std::sort(f, g, [](const Entry& a, const Entry& b) {
        const int c = a.view().compare(b.view());
        return c != 0 ? c < 0 : a.record < b.record;
      });
      for (Entry* x = f; x != g;) {
        Entry* y = x + 1;
        while (y != g && y->view() == x->view()) ++y;
        pair_group(x, y);
        x = y;
      }
    }
    f = g;
  }
}

// For incremental blocking: whether the run [first, last) (one hash, in record order) is one
// block that is over opt.max_block with its unchanged records alone, and not split by a finer
// part — so it proposed no pair before the changes and proposes none after. The common
// surname's phonetic block (10,928 records at 1M) is such a block: counting it as touched put
// most records in a dirty block after 2,000 contacts were added or deleted (session 15).
bool CappedBeforeAndAfter(const Entry* first, const Entry* last, const std::vector<uint8_t>& changed,
                          const MatchOptions& opt) {
  const std::string_view v = first->view();
  if (v.find(kRefine) != std::string_view::npos) return false;  // may be split by its finer part
  size_t unchanged = 0;
  uint32_t previous = ~uint32_t{0};
  for (const Entry* e = first; e != last; ++e) {
    if (e->view() != v) return false;  // a hash collision: more than one block
    if (e->record != previous && changed[e->record] == 0) ++unchanged;
    previous = e->record;
  }
  return unchanged > opt.max_block;
}

// Orders entries by hash alone (std::equal_range over entries sorted by (hash, record)).
struct HashLess {
  bool operator()(const Entry& e, uint64_t h) const { return e.hash < h; }
  bool operator()(uint64_t h, const Entry& e) const { return h < e.hash; }
};

// For incremental blocking: which unchanged members of a touched run [first, last) (one hash,
// in record order) may have gained or lost a pair of this key with another unchanged record —
// they go into `out` (ADR 0002's D1). `gfirst..glast`: the gone records' values of this hash
// (their `record` indexes `gone`), ordered by record. A run's members are U (records that are
// unchanged, or changed with this key's values, names and birthdate kept: `moved` 0), N (changed
// or new records whose blocks of this key may differ) and G (the old values). Before the change
// the run's block(s) held U ∪ G, now U ∪ N; a pair of two U records changes only if a block
// holding both changed how it pairs them:
//   - the coarse block split by its finer part before and not after, or the other way: all of U;
//   - split both times: only the groups of one full value holding a G or N record can change;
//   - one block (or group) paired all-pairs both times, or capped both times: none of U;
//     paired as a dense window both times: the first dense_window − 1 U records (in the block's
//     order) after where a G or N record sorts by names and birthdate, and the U records tied
//     with it (a gone record's place among them is not known); otherwise all of the group's U.
//     A pair of U records a < b whose pairing changed has such a record x between them, and
//     b at most dense_window − 1 places after a counted in U alone — so b is marked, and
//     clearing a kept pair's bit on either record's dirty bit is enough.
// A run whose values do not all share one coarse part (a hash collision) is decided as before:
// all of it, unless it is capped before and after (CappedBeforeAndAfter).
class TouchedRun {
 public:
  TouchedRun(const std::vector<Record>& records, const std::vector<Record>& gone,
             const uint8_t* moved, const std::vector<uint8_t>& changed, const MatchOptions& opt)
      : records_(records), gone_(gone), moved_(moved), changed_(changed), opt_(opt) {}

  void Mark(const Entry* first, const Entry* last, const Entry* gfirst, const Entry* glast,
            std::vector<uint32_t>& out) {
    out_ = &out;
    const std::string_view coarse = Coarse(first->view());
    bool one = true;
    for (const Entry* e = first; e != last && one; ++e) one = HasCoarse(e->view(), coarse);
    for (const Entry* e = gfirst; e != glast && one; ++e) one = HasCoarse(e->view(), coarse);
    if (!one) {
      if (!CappedBeforeAndAfter(first, last, changed_, opt_)) {
        for (const Entry* e = first; e != last; ++e) out.push_back(e->record);
      }
      return;
    }
    items_.clear();
    for (const Entry* e = first; e != last; ++e) {
      items_.push_back({e->view(), e->record, moved_[e->record] != 0 ? kNew : kKept});
    }
    for (const Entry* e = gfirst; e != glast; ++e) items_.push_back({e->view(), e->record, kGone});
    size_t kept = 0, added = 0, removed = 0;
    bool refinable_before = true, refinable_after = true;
    const Item* previous = nullptr;
    for (const Item& it : items_) {  // a record's entries are adjacent (each part by record)
      const bool distinct =
          previous == nullptr || previous->record != it.record || previous->kind != it.kind;
      previous = &it;
      const bool fine = it.value.size() > coarse.size();
      switch (it.kind) {
        case kKept: kept += distinct; refinable_before &= fine; refinable_after &= fine; break;
        case kNew: added += distinct; refinable_after &= fine; break;
        case kGone: removed += distinct; refinable_before &= fine; break;
      }
    }
    auto refined = [&](bool refinable, size_t size) {
      return refinable && opt_.refine_block != 0 && size > opt_.refine_block;
    };
    const bool before = refined(refinable_before, kept + removed);
    if (before != refined(refinable_after, kept + added)) {
      MarkAllKept(items_.begin(), items_.end());
      return;
    }
    if (!before) {
      Group(items_.begin(), items_.end());
      return;
    }
    std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      const int c = a.value.compare(b.value);
      return c != 0 ? c < 0 : (a.kind != b.kind ? a.kind < b.kind : a.record < b.record);
    });
    for (auto f = items_.begin(); f != items_.end();) {
      auto g = f + 1;
      bool touched = f->kind != kKept;
      for (; g != items_.end() && g->value == f->value; ++g) touched = touched || g->kind != kKept;
      if (touched) Group(f, g);
      f = g;
    }
  }

 private:
  enum Kind : uint8_t { kKept, kNew, kGone };
  struct Item {
    std::string_view value;
    uint32_t record;  // records' index, or gone_'s (kGone)
    Kind kind;
  };
  using It = std::vector<Item>::iterator;

  const Record& Of(const Item& it) const {
    return it.kind == kGone ? gone_[it.record] : records_[it.record];
  }

  void MarkAllKept(It first, It last) {
    for (It it = first; it != last; ++it) {
      if (it->kind == kKept) out_->push_back(it->record);
    }
  }

  // 0 all pairs, 1 a dense window, 2 capped: how PairBlock pairs a block of `size` records.
  int Mode(size_t size) const {
    if (size > opt_.max_block) return 2;
    return opt_.dense_block > 0 && size > opt_.dense_block && opt_.dense_window > 1 ? 1 : 0;
  }

  // One block (a coarse block not split, or one full value's group of a split one).
  void Group(It first, It last) {
    std::sort(first, last, [](const Item& a, const Item& b) {
      return a.kind != b.kind ? a.kind < b.kind : a.record < b.record;
    });
    last = std::unique(first, last, [](const Item& a, const Item& b) {
      return a.kind == b.kind && a.record == b.record;
    });
    const It kept_end = std::find_if(first, last, [](const Item& a) { return a.kind != kKept; });
    const It new_end = std::find_if(kept_end, last, [](const Item& a) { return a.kind != kNew; });
    const auto kept = static_cast<size_t>(kept_end - first);
    const int mode = Mode(kept + static_cast<size_t>(last - new_end));
    if (mode != Mode(kept + static_cast<size_t>(new_end - kept_end))) {
      MarkAllKept(first, kept_end);
      return;
    }
    if (mode != 1) return;  // all pairs, or none, both times: U's pairs among themselves stay
    auto names_less = [](const Record& x, const Record& y) {
      if (x.last != y.last) return x.last < y.last;
      if (x.first != y.first) return x.first < y.first;
      return x.birthdate < y.birthdate;
    };
    // U in PairBlock's order (records in the same order before and after: the mapping from the
    // last sweep's positions is monotone).
    std::sort(first, kept_end, [&](const Item& a, const Item& b) {
      const Record& x = records_[a.record];
      const Record& y = records_[b.record];
      if (names_less(x, y)) return true;
      if (names_less(y, x)) return false;
      return a.record < b.record;
    });
    const size_t reach = opt_.dense_window - 1;
    marked_.assign(kept, 0);
    for (It x = kept_end; x != last; ++x) {
      const Record& r = Of(*x);
      const auto lo = static_cast<size_t>(
          std::lower_bound(first, kept_end, r, [&](const Item& a, const Record& v) {
            return names_less(records_[a.record], v);
          }) - first);
      const auto hi = static_cast<size_t>(
          std::upper_bound(first, kept_end, r, [&](const Record& v, const Item& a) {
            return names_less(v, records_[a.record]);
          }) - first);
      for (size_t k = lo; k < std::min(kept, hi + reach); ++k) marked_[k] = 1;
    }
    for (size_t k = 0; k < kept; ++k) {
      if (marked_[k] != 0) out_->push_back(first[static_cast<std::ptrdiff_t>(k)].record);
    }
  }

  const std::vector<Record>& records_;
  const std::vector<Record>& gone_;
  const uint8_t* moved_;
  const std::vector<uint8_t>& changed_;
  const MatchOptions& opt_;
  std::vector<uint32_t>* out_ = nullptr;
  std::vector<Item> items_;
  std::vector<uint8_t> marked_;
};

// Puts the entries of `parts` (each in record order, the parts in record order) into `out`
// ordered by (hash, record): a counting pass on the hash's top bits scatters them into about
// n/4 buckets (keeping record order), then each bucket — a few entries — is sorted. The same
// order as one std::sort of all of them, at a fraction of the cost.
void SortEntries(const std::vector<const std::vector<Entry>*>& parts, std::vector<Entry>& out,
                 std::vector<uint32_t>& count) {
  size_t n = 0;
  for (const auto* part : parts) n += part->size();
  if (out.capacity() < n) ReserveHuge(out, n);
  out.resize(n);
  auto less = [](const Entry& a, const Entry& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.record < b.record;
  };
  if (n < 256) {
    size_t k = 0;
    for (const auto* part : parts) {
      for (const Entry& e : *part) out[k++] = e;
    }
    std::sort(out.begin(), out.end(), less);
    return;
  }
  const int bits = std::clamp(static_cast<int>(std::bit_width(n)) - 2, 1, 22);
  const int shift = 64 - bits;
  count.assign(size_t{1} << bits, 0);
  for (const auto* part : parts) {
    for (const Entry& e : *part) ++count[e.hash >> shift];
  }
  uint32_t sum = 0;
  for (uint32_t& c : count) {
    const uint32_t here = c;
    c = sum;
    sum += here;
  }
  for (const auto* part : parts) {
    for (const Entry& e : *part) out[count[e.hash >> shift]++] = e;
  }
  // count[b] is now where bucket b ends.
  Entry* const data = out.data();
  size_t start = 0;
  for (const uint32_t end : count) {
    if (end - start > 64) {
      std::sort(data + start, data + end, less);
    } else {
      for (size_t i = start + 1; i < end; ++i) {  // insertion sort (stable, mostly in order)
        const Entry e = data[i];
        size_t k = i;
        for (; k > start && less(e, data[k - 1]); --k) data[k] = data[k - 1];
        data[k] = e;
      }
    }
    start = end;
  }
}

// The pairs of every block of `entries` into `pairs`, sorted and unique (`tmp`, `block`:
// scratch). `entries` are sorted by (hash, record) (SortEntries), so that the values of one
// coarse part form one run in record order; a run whose values do not all share the first
// one's coarse part (a hash collision) is sorted by value and split. `dirty` (null: all) and
// `bit`: only the runs holding a record r with dirty[r] & bit or changed[r] are paired, and of
// their pairs only those of such records are kept; the other runs are counted only (the
// incremental blocking's blocks that kept their members and their pairs, none of them with a
// changed record, whose pairs are never kept).
void BlockPairs(std::vector<Entry>& entries, const std::vector<Record>& records,
                const MatchOptions& opt, CandidateStats& stats, std::vector<uint64_t>& pairs,
                std::vector<uint64_t>& tmp, std::vector<uint32_t>& block, const KeyMask* dirty,
                const uint8_t* changed, KeyMask bit) {
  pairs.clear();
  Entry* const data = entries.data();
  for (size_t b = 0; b < entries.size();) {
    size_t e = b + 1;
    while (e < entries.size() && entries[e].hash == entries[b].hash) ++e;
    if (e == b + 1) {  // a block of one (most values): what PairBlock would count
      stats.largest_block = std::max<long long>(stats.largest_block, 1);
      if (opt.max_block < 1) ++stats.blocks_capped;
      b = e;
      continue;
    }
    bool emit = dirty == nullptr;
    for (size_t i = b; i < e && !emit; ++i) {
      emit = (dirty[entries[i].record] & bit) != 0 || changed[entries[i].record] != 0;
    }
    const std::string_view coarse = Coarse(entries[b].view());
    bool one = true;
    for (size_t i = b + 1; i < e && one; ++i) one = HasCoarse(entries[i].view(), coarse);
    const size_t from = pairs.size();
    if (one) {
      PairCoarseBlock(data + b, data + e, coarse, true, records, opt, stats, block, pairs, emit);
    } else {
      std::sort(data + b, data + e, [](const Entry& x, const Entry& y) {
        const int c = x.view().compare(y.view());
        return c != 0 ? c < 0 : x.record < y.record;
      });
      for (size_t f = b; f < e;) {
        const std::string_view c = Coarse(entries[f].view());
        size_t g = f + 1;
        while (g < e && HasCoarse(entries[g].view(), c)) ++g;
        PairCoarseBlock(data + f, data + g, c, false, records, opt, stats, block, pairs, emit);
        f = g;
      }
    }
    if (dirty != nullptr && emit) {
      // Only the pairs the incremental blocking needs: those of a record that is changed or
      // dirty for this key. A pair of two others keeps this key's bit from the last sweep.
      auto needed = [&](uint32_t r) { return (dirty[r] & bit) != 0 || changed[r] != 0; };
      pairs.erase(std::remove_if(pairs.begin() + static_cast<std::ptrdiff_t>(from), pairs.end(),
                                 [&](uint64_t k) {
                                   const auto [x, y] = Unpair(k);
                                   return !needed(x) && !needed(y);
                                 }),
                  pairs.end());
    }
    b = e;
  }
  SortUniquePairs(pairs, static_cast<uint32_t>(records.size()), tmp);
}

// Surname without spaces, for the phonetic key ("van der berg" → "vanderberg"), in `out`.
std::string_view Squash(std::string_view s, std::string& out) {
  out.clear();
  for (char c : s) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}


// 8 bytes of s from `from` as a big-endian number (zero-padded): comparing two such numbers
// orders the strings as comparing their bytes does, up to ties.
uint64_t Prefix8(std::string_view s, size_t from) {
  uint64_t w = 0;
  if (from < s.size()) std::memcpy(&w, s.data() + from, std::min<size_t>(8, s.size() - from));
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w;
}

// One record's name key of a sorted-neighbourhood pass (`at` as in Entry), with its first 16
// bytes as two numbers (most comparisons end there).
struct NameKey {
  uint64_t prefix[2];
  uintptr_t at;
  uint32_t size;
  uint32_t record;
  std::string_view view() const { return {reinterpret_cast<const char*>(at), size}; }
};

// One sorted-neighbourhood order: `pass` 0 "last first", 1 "first last"; appends its pairs.
void SortedNeighbourhood(const std::vector<Record>& records, size_t pass, size_t window,
                         std::vector<uint64_t>& out) {
  const auto n = static_cast<uint32_t>(records.size());
  std::string buffer;
  ReserveHuge(buffer, static_cast<size_t>(n) * 16);
  std::vector<NameKey> keys;
  ReserveHuge(keys, n);
  keys.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    const size_t start = buffer.size();
    buffer.append(pass == 0 ? r.last.view() : r.first.view());
    buffer.push_back(' ');
    buffer.append(pass == 0 ? r.first.view() : r.last.view());
    keys[i] = {{0, 0}, start, static_cast<uint32_t>(buffer.size() - start), i};
  }
  const auto base = reinterpret_cast<uintptr_t>(buffer.data());
  for (NameKey& k : keys) {
    k.at += base;
    k.prefix[0] = Prefix8(k.view(), 0);
    k.prefix[1] = Prefix8(k.view(), 8);
  }
  // Equal 16-byte prefixes (zero-padded) mean equal first 16 bytes: a key of at most 16 bytes
  // is then a prefix of the other (the shorter sorts first, as compare() says), and longer keys
  // differ after byte 16 — so the bytes are compared only there. Most ties are the same short
  // name ("nguyen an"), which compare() used to scan twice per comparison.
  auto less = [](const NameKey& x, const NameKey& y) {
    if (x.prefix[0] != y.prefix[0]) return x.prefix[0] < y.prefix[0];
    if (x.prefix[1] != y.prefix[1]) return x.prefix[1] < y.prefix[1];
    if (x.size <= 16 || y.size <= 16) return x.size != y.size ? x.size < y.size : x.record < y.record;
    const int c = x.view().substr(16).compare(y.view().substr(16));
    return c != 0 ? c < 0 : x.record < y.record;
  };
  // Moved into buckets by the first two bytes in place (no second copy of the keys: 40 bytes a
  // record), then each bucket sorted: `less` is a total order, so this is the order one
  // std::sort gives, with half the comparison depth.
  {
    constexpr size_t kBuckets = size_t{1} << 16;
    auto bucket = [](const NameKey& k) { return static_cast<size_t>(k.prefix[0] >> 48); };
    std::vector<size_t> start(kBuckets + 1, 0);
    for (const NameKey& k : keys) ++start[bucket(k) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (size_t b = 0; b < kBuckets; ++b) {
      while (next[b] < start[b + 1]) {
        const size_t d = bucket(keys[next[b]]);
        if (d == b) {
          ++next[b];
        } else {
          std::swap(keys[next[b]], keys[next[d]++]);
        }
      }
    }
    for (size_t b = 0; b < kBuckets; ++b) {
      if (start[b + 1] - start[b] > 1) {
        std::sort(keys.begin() + static_cast<std::ptrdiff_t>(start[b]),
                  keys.begin() + static_cast<std::ptrdiff_t>(start[b + 1]), less);
      }
    }
  }
  for (size_t p = 0; p < keys.size(); ++p) {
    if (keys[p].view() == " ") continue;  // both names empty: nothing to sort by
    for (size_t q = p + 1; q < keys.size() && q < p + window; ++q) {
      if (keys[q].view() == " ") continue;
      out.push_back(PairKey(keys[p].record, keys[q].record));
    }
  }
}

}  // namespace

std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats_out) {
  return FindCandidates(records, opt, stats_out, nullptr, false).pairs;
}

namespace {
KeyMask KeyBit(std::string_view key) {
  for (size_t k = 0; k < std::size(kBlockingKeys); ++k) {
    if (key == kBlockingKeys[k]) return static_cast<KeyMask>(1u << k);
  }
  return 0;
}

// pairs_by_key from the pairs' keys.
void CountKeys(const std::vector<KeyMask>& keys, CandidateStats& stats) {
  long long by_bit[std::size(kBlockingKeys)] = {};
  for (const KeyMask k : keys) {
    for (size_t b = 0; b < std::size(kBlockingKeys); ++b) by_bit[b] += (k >> b) & 1;
  }
  for (size_t b = 0; b < std::size(kBlockingKeys); ++b) stats.pairs_by_key[kBlockingKeys[b]] = by_bit[b];
}

// candidate_pairs and reduction_ratio (total_pairs set).
void CountPairs(size_t pairs, CandidateStats& stats) {
  stats.candidate_pairs = static_cast<long long>(pairs);
  stats.reduction_ratio = stats.total_pairs > 0 ? 1.0 - static_cast<double>(stats.candidate_pairs) /
                                                            static_cast<double>(stats.total_pairs)
                                                : 0.0;
}

// BlockingHistory::last_stats with nothing changed: the same records in the same order under
// the same options (the history's file says which) give the same blocks, so the last sweep's
// pairs and keys are this one's. At 1M contacts this skips ≈ 1.5 s of grouping every key's
// values and sorting the names again (session 16).
template <class GiveUp>
Candidates Unchanged(uint32_t n, const BlockingHistory& history, CandidateStats* stats_out,
                     const std::function<void()>& one_thread_left, GiveUp&& give_up) {
  Candidates out;
  const long long saved = history.last_stats->candidate_pairs;
  if (saved < 0 || saved > static_cast<long long>(n) * (static_cast<long long>(n) - 1) / 2) {
    return give_up("the last sweep's count of pairs (" + std::to_string(saved) + ") is impossible");
  }
  const auto expected = static_cast<size_t>(saved);
  ReserveHuge(out.pairs, expected);
  ReserveHuge(out.keys, expected);
  ReserveHuge(out.packed, expected);
  if (one_thread_left) one_thread_left();
  bool in_order = true;
  std::string why = history.for_each_kept([&](const BlockingHistory::Kept* given, size_t count) {
    for (size_t x = 0; x < count && in_order; ++x) {
      const auto [a, b, k, v] = given[x];
      const Pair p{a, b};
      in_order = a < b && b < n && k != 0 && (out.pairs.empty() || out.pairs.back() < p);
      if (!in_order) return;
      out.pairs.push_back(p);
      out.keys.push_back(k);
      out.packed.push_back(v);
    }
  });
  if (why.empty() && !in_order) why = "the last sweep's pairs are not in order";
  if (why.empty() && out.pairs.size() != expected) {
    why = "the last sweep's pairs are not all there (" + std::to_string(out.pairs.size()) + " of " +
          std::to_string(expected) + ")";
  }
  if (!why.empty()) return give_up(std::move(why));
  CandidateStats stats = *history.last_stats;
  stats.records = n;
  stats.total_pairs = static_cast<long long>(n) * (static_cast<long long>(n) - 1) / 2;
  stats.pairs_by_key.clear();
  CountKeys(out.keys, stats);
  CountPairs(out.pairs.size(), stats);
  out.incremental = true;
  out.unchanged = true;
  out.pairs_kept = static_cast<long long>(out.pairs.size());
  if (stats_out) *stats_out = std::move(stats);
  return out;
}

// FindCandidates, once: with a history it may give up (`gave_up` true, `full_because` why, nothing
// else), having freed what it held, and FindCandidates then blocks in full.
Candidates BlockOnce(const std::vector<Record>& records, const MatchOptions& opt,
                     CandidateStats* stats_out, const BlockingHistory* history, bool want_keys,
                     const std::function<void()>& one_thread_left, bool& gave_up_out) {
  auto give_up = [&gave_up_out](std::string why) {
    gave_up_out = true;
    Candidates none;
    none.full_because = std::move(why);
    return none;
  };
  const auto n = static_cast<uint32_t>(records.size());
  if (history != nullptr) {
    // When the last sweep's blocking is not worth using, or cannot be: in full.
    std::string why;
    if (history->changed.size() != n) {
      why = "the history is of other records";
    } else if (!history->for_each_kept) {
      why = "the history has no pairs";
    } else {
      size_t changed = history->gone.size();
      for (const uint8_t c : history->changed) changed += c != 0;
      if (static_cast<double>(changed) > history->max_changed_share * static_cast<double>(n)) {
        why = std::to_string(changed) + " records changed, new or deleted (over " +
              std::to_string(static_cast<int>(history->max_changed_share * 100)) + " % of " +
              std::to_string(n) + ")";
      }
    }
    if (!why.empty()) return give_up(std::move(why));
  }
  if (history != nullptr && history->last_stats && history->gone.empty() &&
      std::none_of(history->changed.begin(), history->changed.end(), [](uint8_t c) { return c != 0; })) {
    return Unchanged(n, *history, stats_out, one_thread_left, give_up);
  }
  const bool incremental = history != nullptr;
  const bool keep_masks = want_keys || incremental;
  CandidateStats stats;
  stats.records = n;
  stats.total_pairs = static_cast<long long>(n) * (static_cast<long long>(n) - 1) / 2;

  // Each key's pairs are merged into `all`. One key at a time: its values for every record, its
  // pairs, then its values freed — at 1M contacts each key proposes millions of pairs. On
  // `workers` threads: each writes the values of a range of records into its own buffer, into
  // `workers` partitions by the coarse part's hash (a block lies in one partition); then each
  // pairs one partition.
  const size_t workers = std::max<size_t>(1, std::min<size_t>(opt.threads > 0 ? opt.threads : 1,
                                                              n / 4096 + 1));
  std::vector<Pair> all;
  std::vector<KeyMask> masks, aside_masks;  // masks: parallel to `all` (keep_masks)
  // Incremental: per record, the keys of which it is in a dirty block (a block that gained or
  // lost a member: one holding a value of a changed record, new or old); every block of such a
  // key that holds the record is paired again. ADR 0002's D1 and D2.
  std::vector<KeyMask> dirty(incremental ? n : 0);
  const std::vector<Record>* const gone = incremental ? &history->gone : nullptr;
  const auto g = static_cast<uint32_t>(gone ? gone->size() : 0);
  // A key's values of the gone records (`record`: the index in `gone`), by (hash, record).
  std::string gone_buffer;
  std::vector<std::vector<Entry>> gone_values(1);
  std::vector<std::vector<uint32_t>> found(workers);  // per partition: records in dirty blocks
  // A changed record and its old version (in `gone`, by id): for a key whose values it kept, and
  // with the names and birthdate it kept (a dense block's order), the record's blocks of that key
  // kept their members and their pairs — an edited e-mail leaves the name blocks clean: they are
  // paired again for the record's own pairs (no pair of a changed record is kept), but their
  // other members are not dirty. Without this, 402 edited e-mails at 1M put 65 % of the records
  // in some dirty block (session 15).
  std::vector<uint32_t> changed_list, old_version;  // old_version[k]: changed_list[k]'s, or g
  std::vector<uint8_t> moved(incremental ? n : 0);  // a key's: changed_list records whose blocks may have changed
  std::vector<uint8_t> kept_values(g);              // a key's: gone records whose values are still there
  size_t dirty_records = 0;
  if (incremental) {
    std::unordered_map<std::string_view, uint32_t> gone_by_id;
    for (uint32_t k = 0; k < g; ++k) gone_by_id.emplace((*gone)[k].id.view(), k);
    for (uint32_t i = 0; i < n; ++i) {
      if (history->changed[i] == 0) continue;
      changed_list.push_back(i);
      auto it = gone_by_id.find(records[i].id.view());
      old_version.push_back(it == gone_by_id.end() ? g : it->second);
    }
  }
  // Room for 16 pairs a record (14 at 1M contacts, 11.4 at 10M) from the start, so that the
  // merges do not copy `all` into ever larger buffers; pages never written are not resident.
  ReserveHuge(all, static_cast<size_t>(n) * 16);  // core/memory.h
  // Each worker's scratch, kept from key to key: clearing keeps the capacity, so after the
  // first keys no key touches fresh pages (page faults were a tenth of blocking's time when
  // every key allocated and freed its own buffers).
  struct Scratch {
    std::string buffer;                    // the values this worker wrote
    std::vector<std::vector<Entry>> parts;  // parts[p]: its values that fall in partition p
    std::vector<Entry> entries;            // partition w's values, sorted (SortEntries)
    std::vector<uint32_t> count;
    std::vector<uint64_t> pairs, tmp;  // partition w's pairs
    std::vector<uint32_t> block;
    CandidateStats stats;
  };
  std::vector<Scratch> ws(workers);
  for (Scratch& s : ws) s.parts.resize(workers);
  std::vector<uint64_t> unions[2];  // a key's pairs over the partitions (workers ≥ 2)
  std::vector<Pair> aside;          // MergeInto's
  std::string gave_up;  // incremental blocking stopped: why (it then runs in full)
  auto block = [&](const char* name, auto&& values_of) {
    if (!gave_up.empty()) return;
    const KeyMask bit = KeyBit(name);
    const size_t chunk = (n + workers - 1) / workers;
    OnThreads(workers, [&](size_t w) {
      const uint32_t from = static_cast<uint32_t>(std::min<size_t>(n, w * chunk));
      const uint32_t to = static_cast<uint32_t>(std::min<size_t>(n, from + chunk));
      Scratch& s = ws[w];
      for (auto& part : s.parts) {
        part.clear();
        const size_t want = (to - from) / workers + 16;
        if (part.capacity() < want) ReserveHuge(part, want);
      }
      s.buffer.clear();
      if (s.buffer.capacity() < static_cast<size_t>(to - from) * 24) {
        ReserveHuge(s.buffer, static_cast<size_t>(to - from) * 24);
      }
      Emitter emit(s.buffer, s.parts);
      std::string scratch;
      for (uint32_t i = from; i < to; ++i) {
        emit.set_record(i);
        values_of(records[i], emit, scratch);
      }
      const auto base = reinterpret_cast<uintptr_t>(s.buffer.data());
      for (auto& part : s.parts) {
        for (Entry& e : part) e.at += base;
      }
    });
    if (incremental) {
      // Which changed records kept this key's values (and their order fields), then the hashes
      // of the other gone records' values.
      std::string buffer, scratch;
      std::vector<std::vector<Entry>> one(1);
      Emitter emit(buffer, one);
      auto values = [&](const Record& r) {
        buffer.clear();
        one[0].clear();
        values_of(r, emit, scratch);
        std::vector<std::string> v;
        for (const Entry& e : one[0]) v.emplace_back(buffer.data() + e.at, e.size);
        std::sort(v.begin(), v.end());
        return v;
      };
      std::fill(kept_values.begin(), kept_values.end(), 0);
      for (size_t k = 0; k < changed_list.size(); ++k) {
        const Record& now = records[changed_list[k]];
        bool same = old_version[k] < g;
        if (same) {
          const Record& was = (*gone)[old_version[k]];
          same = now.last == was.last && now.first == was.first && now.birthdate == was.birthdate &&
                 values(now) == values(was);
        }
        moved[changed_list[k]] = same ? 0 : 1;
        if (same) kept_values[old_version[k]] = 1;
      }
      gone_buffer.clear();
      gone_values[0].clear();
      Emitter emit_gone(gone_buffer, gone_values);
      for (uint32_t i = 0; i < g; ++i) {
        emit_gone.set_record(i);
        if (kept_values[i] == 0) values_of((*gone)[i], emit_gone, scratch);
      }
      const auto base = reinterpret_cast<uintptr_t>(gone_buffer.data());
      for (Entry& e : gone_values[0]) e.at += base;
      std::sort(gone_values[0].begin(), gone_values[0].end(), [](const Entry& a, const Entry& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.record < b.record;
      });
    }
    OnThreads(workers, [&](size_t p) {
      Scratch& s = ws[p];
      std::vector<const std::vector<Entry>*> in;
      for (size_t w = 0; w < workers; ++w) in.push_back(&ws[w].parts[p]);
      SortEntries(in, s.entries, s.count);
      if (!incremental) return;
      // Touched runs: a run of one hash (one value, or a few that collide) holding a changed
      // record whose blocks of this key may have changed, or a gone record's value; which of
      // its members are dirty is TouchedRun's to say.
      found[p].clear();
      const std::vector<Entry>& gv = gone_values[0];
      TouchedRun touched(records, *gone, moved.data(), history->changed, opt);
      for (size_t b = 0; b < s.entries.size();) {
        size_t e = b + 1;
        const uint64_t h = s.entries[b].hash;
        while (e < s.entries.size() && s.entries[e].hash == h) ++e;
        const auto [gf, gl] = std::equal_range(gv.begin(), gv.end(), h, HashLess{});
        bool d = gf != gl;
        for (size_t i = b; i < e && !d; ++i) d = moved[s.entries[i].record] != 0;
        if (d) {
          touched.Mark(s.entries.data() + b, s.entries.data() + e, gv.data() + (gf - gv.begin()),
                       gv.data() + (gl - gv.begin()), found[p]);
        }
        b = e;
      }
    });
    if (incremental) {
      for (const auto& f : found) {
        for (const uint32_t r : f) {
          dirty_records += dirty[r] == 0;
          dirty[r] |= bit;
        }
      }
      // Pairing most blocks again costs more than blocking in full (and holds both pair lists).
      if (static_cast<double>(dirty_records) > history->max_dirty_share * static_cast<double>(n)) {
        gave_up = std::to_string(dirty_records) + " records are in blocks the changes touch (over " +
                  std::to_string(static_cast<int>(history->max_dirty_share * 100)) + " % of " +
                  std::to_string(n) + ")";
        return;
      }
    }
    OnThreads(workers, [&](size_t p) {
      Scratch& s = ws[p];
      s.stats = CandidateStats();
      BlockPairs(s.entries, records, opt, s.stats, s.pairs, s.tmp, s.block,
                 incremental ? dirty.data() : nullptr,
                 incremental ? history->changed.data() : nullptr, bit);
    });
    for (const Scratch& s : ws) {
      stats.largest_block = std::max(stats.largest_block, s.stats.largest_block);
      stats.blocks_capped += s.stats.blocks_capped;
      stats.blocks_windowed += s.stats.blocks_windowed;
      stats.blocks_refined += s.stats.blocks_refined;
    }
    // Two values of one key (two shared e-mails) can propose the same pair from two partitions.
    const std::vector<uint64_t>* key_pairs = &ws[0].pairs;
    for (size_t p = 1; p < workers; ++p) {
      std::vector<uint64_t>& out = unions[p % 2];
      out.clear();
      out.reserve(key_pairs->size() + ws[p].pairs.size());
      std::set_union(key_pairs->begin(), key_pairs->end(), ws[p].pairs.begin(), ws[p].pairs.end(),
                     std::back_inserter(out));
      key_pairs = &out;
    }
    stats.pairs_by_key[name] = static_cast<long long>(key_pairs->size());  // incremental: below
    MergeInto(all, keep_masks ? &masks : nullptr, *key_pairs, bit, workers, aside, aside_masks);
    // What a much larger key left is freed: the scratch held over the next keys (while `all`
    // grows) stays within twice what this one used.
    auto trim = [](auto& v) {
      if (v.capacity() > 2 * v.size() + 4096) std::remove_reference_t<decltype(v)>().swap(v);
    };
    for (Scratch& s : ws) {
      trim(s.buffer);
      for (auto& part : s.parts) trim(part);
      trim(s.entries);
      trim(s.pairs);
      trim(s.tmp);
    }
    for (auto& u : unions) trim(u);
  };
  // values_of(record, emit, scratch): emit(piece, ...) each value of the record (see Emitter);
  // `scratch` is a buffer the function may use.
  block("email", [](const Record& r, auto& emit, std::string&) {
    for (const auto& e : r.emails) emit(e.view());
  });
  block("phone", [](const Record& r, auto& emit, std::string&) {
    for (const auto& p : r.phones) emit(p.view());
  });
  // The phonetic codes of each record's names, computed once for the two keys that use them
  // (the surname's code served both, and was computed twice): PhoneticKey is at most 4 letters.
  struct Codes {
    char last[4], first[4], raw_first[4];  // zero-padded; raw_first = first's unless RawFirst differs
  };
  auto code_view = [](const char (&c)[4]) { return std::string_view(c, strnlen(c, 4)); };
  // codes[i]: records[i]'s, then the gone records' (incremental).
  std::vector<Codes> codes(static_cast<size_t>(n) + g);
  {
    const size_t total = codes.size();
    const size_t chunk = (total + workers - 1) / workers;
    OnThreads(workers, [&](size_t w) {
      const size_t from = std::min<size_t>(total, w * chunk), to = std::min<size_t>(total, from + chunk);
      std::string scratch;
      // Names repeat (the 1M benchmark CRM has a few tens of thousands of distinct ones): each
      // thread keeps the codes it made, up to kMemo names. Double Metaphone on every name was
      // 0.36 s of a repeated 1M sweep's blocking (session 15).
      constexpr size_t kMemo = size_t{1} << 18;
      struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
      };
      std::unordered_map<std::string, std::array<char, 4>, Hash, std::equal_to<>> memo;
      auto put = [&](char (&out)[4], std::string_view name) {
        const std::string_view word = Squash(name, scratch);
        auto it = memo.find(word);
        if (it != memo.end()) {
          std::memcpy(out, it->second.data(), 4);
          return;
        }
        const std::string code = PhoneticKey(word);
        std::memset(out, 0, 4);
        std::memcpy(out, code.data(), std::min<size_t>(4, code.size()));
        if (memo.size() < kMemo) memo.emplace(std::string(word), std::to_array(out));
      };
      for (size_t i = from; i < to; ++i) {
        const Record& r = i < n ? records[i] : (*gone)[i - n];
        Codes& c = codes[i];
        std::memset(&c, 0, sizeof c);
        if (!r.last.empty()) put(c.last, r.last.view());
        if (!r.first.empty()) put(c.first, r.first.view());
        const Text& raw_first = RawFirst(r);
        if (&raw_first == &r.first) {
          std::memcpy(c.raw_first, c.first, 4);
        } else {
          put(c.raw_first, raw_first.view());
        }
      }
    });
  }
  const Record* const first_record = records.data();
  auto codes_of = [&](const Record& r) -> const Codes& {
    const Record* p = &r;
    if (p >= first_record && p < first_record + n) return codes[static_cast<size_t>(p - first_record)];
    return codes[n + static_cast<size_t>(p - gone->data())];
  };
  block("phonetic_name", [&](const Record& r, auto& emit, std::string&) {
    if (r.last.empty() || r.first.empty()) return;
    const Codes& c = codes_of(r);
    const std::string_view pl = code_view(c.last);
    if (!pl.empty()) emit(pl, '|', r.first[0]);
    // Given name and surname swapped: the same key from the other side.
    const std::string_view pf = code_view(c.raw_first);
    if (!pf.empty()) emit(pf, '|', r.last[0]);
  });
  block("email_local", [](const Record& r, auto& emit, std::string&) {
    for (const auto& e : r.emails) {
      std::string_view lp = LocalPart(e);
      if (lp.size() >= 4) emit(lp);
    }
  });
  block("company_last", [](const Record& r, auto& emit, std::string&) {
    if (!r.company.empty() && !r.last.empty()) emit(r.company.view(), '|', r.last.view());
  });
  block("postcode_last", [](const Record& r, auto& emit, std::string&) {
    if (!r.postcode.empty() && !r.last.empty()) {
      emit(r.postcode.view(), '|', r.last[0], kRefine, GivenInitial(r));
    }
  });
  // Birthdate with an initial of either name (both, so swapped names and a changed surname
  // still meet), refined by that name's phonetic code when the block is large. Birthdate alone
  // proposed 9.8M of the 21.8M candidate pairs of a 1M CRM — strangers that agree on nothing
  // else — and so many of them turned EM's non-match class into "born the same day"
  // (docs/dedup.md §8); birthdate + an initial did the same at 10M (130M of 248M pairs).
  block("birthdate", [&](const Record& r, auto& emit, std::string&) {
    if (r.birthdate.size() < 6) return;
    const std::string_view bd = r.birthdate.view();
    const Codes& c = codes_of(r);
    if (!r.first.empty()) emit(bd, '|', r.first[0], kRefine, code_view(c.first));
    if (!r.last.empty()) emit(bd, '|', r.last[0], kRefine, code_view(c.last));
    if (r.first.empty() && r.last.empty()) emit(bd);
  });
  std::vector<Codes>().swap(codes);
  // Address keys catch a changed surname at the same address: postcode + the street's first
  // token (usually the house number), and the street's first two tokens; refined by the given
  // name's initial (a person who changed surname keeps the given name).
  block("postcode_street", [](const Record& r, auto& emit, std::string&) {
    const std::string_view t1 = FirstTokens(r.street, 1);
    if (!r.postcode.empty() && !t1.empty()) {
      emit(r.postcode.view(), '|', t1, kRefine, GivenInitial(r));
    }
  });
  block("street_prefix", [](const Record& r, auto& emit, std::string&) {
    const std::string_view t1 = FirstTokens(r.street, 1), t2 = FirstTokens(r.street, 2);
    if (t2.size() > t1.size()) emit(t2, kRefine, GivenInitial(r));
  });
  block("extra", [&opt](const Record& r, auto& emit, std::string&) {
    for (const auto& f : opt.extra_fields) {
      auto it = r.extra.find(f);
      if (it != r.extra.end()) emit(std::string_view(f), '=', std::string_view(it->second));
    }
  });

  if (!gave_up.empty()) return give_up(std::move(gave_up));
  // Sorted neighbourhood on "last first" and on "first last" (a typo late in one name still
  // sorts near; a typo early in the last name is caught by the second order). The two orders on
  // two threads.
  for (Scratch& s : ws) {  // all but `tmp` (the sorted neighbourhood's)
    std::string().swap(s.buffer);
    std::vector<std::vector<Entry>>().swap(s.parts);
    std::vector<Entry>().swap(s.entries);
    std::vector<uint64_t>().swap(s.pairs);
  }
  for (auto& u : unions) std::vector<uint64_t>().swap(u);
  std::vector<uint64_t> sn;
  if (opt.sn_window > 1 && n > 1) {
    std::vector<uint64_t> pass_pairs[2];
    const size_t sn_threads = workers >= 2 ? 2 : 1;
    OnThreads(sn_threads, [&](size_t w) {
      for (size_t pass = 0; pass < 2; ++pass) {
        if (sn_threads == 2 && pass != w) continue;
        SortedNeighbourhood(records, pass, opt.sn_window, pass_pairs[pass]);
        SortUniquePairs(pass_pairs[pass], n, ws[w % workers].tmp);
      }
    });
    sn = Union(std::move(pass_pairs[0]), std::move(pass_pairs[1]));
  }
  stats.pairs_by_key["sorted_neighbourhood"] = static_cast<long long>(sn.size());
  const KeyMask sn_bit = KeyBit("sorted_neighbourhood");
  MergeInto(all, keep_masks ? &masks : nullptr, sn, sn_bit, workers, aside, aside_masks);
  std::vector<uint64_t>().swap(sn);
  // No shrink_to_fit: it would copy all pairs once more; the slack (≤ a quarter, from
  // MergeInto's growth) is mostly never touched, so not resident.

  Candidates out;
  if (incremental) {
    // `all` holds the pairs of the dirty blocks and the sorted neighbourhood's. The last sweep's
    // pairs keep the bits of the keys whose blocks of either record are all clean (a clean
    // block has the members and so the pairs it had); the other bits are what the dirty blocks
    // proposed now. A pair left without a bit is no longer a candidate.
    KeyMask known = 0;
    for (size_t k = 0; k < std::size(kBlockingKeys); ++k) known |= static_cast<KeyMask>(1u << k);
    ReserveHuge(out.pairs, static_cast<size_t>(n) * 16);
    ReserveHuge(out.keys, static_cast<size_t>(n) * 16);
    ReserveHuge(out.packed, static_cast<size_t>(n) * 16);
    size_t j = 0;
    auto take = [&](const Pair& p, KeyMask k, uint64_t v) {
      out.pairs.push_back(p);
      out.keys.push_back(k);
      out.packed.push_back(v);
    };
    // The records changed or in a dirty block, as bits (n/8 bytes stay in cache; looking up
    // `changed` and `dirty` for each of 14M pairs was a cache miss each).
    std::vector<uint64_t> flagged((static_cast<size_t>(n) + 63) / 64);
    for (uint32_t r = 0; r < n; ++r) {
      if (history->changed[r] != 0 || dirty[r] != 0) flagged[r / 64] |= uint64_t{1} << (r % 64);
    }
    auto is_flagged = [&](uint32_t r) { return (flagged[r / 64] >> (r % 64)) & 1; };
    bool in_order = true;
    Pair last{0, 0};
    const auto clean = static_cast<KeyMask>(known & ~sn_bit);
    bool first = true;
    if (one_thread_left) one_thread_left();
    std::string why = history->for_each_kept([&](const BlockingHistory::Kept* given, size_t count) {
      for (size_t x = 0; x < count && in_order; ++x) {
        const auto [a, b, k, v] = given[x];
        const Pair p{a, b};
        if (a >= b || b >= n || (!first && !(last < p))) {
          in_order = false;
          return;
        }
        first = false;
        last = p;
        for (; j < all.size() && all[j] < p; ++j) take(all[j], masks[j], kUnknownComparison);
        KeyMask keys = k & clean;
        if (is_flagged(a) || is_flagged(b)) {
          if (history->changed[a] != 0 || history->changed[b] != 0) {
            in_order = false;  // not a pair of unchanged records
            return;
          }
          keys &= static_cast<KeyMask>(~(dirty[a] | dirty[b]));
        }
        if (j < all.size() && all[j] == p) keys |= masks[j++];
        if (keys != 0) {
          take(p, keys, v);
          ++out.pairs_kept;
        }
      }
    });
    if (why.empty() && !in_order) why = "the last sweep's pairs are not in order, or not of unchanged records";
    if (!why.empty()) return give_up(std::move(why));
    for (; j < all.size(); ++j) take(all[j], masks[j], kUnknownComparison);
    std::vector<Pair>().swap(all);
    std::vector<KeyMask>().swap(masks);
    CountKeys(out.keys, stats);
    out.incremental = true;
    for (const KeyMask d : dirty) out.dirty_records += d != 0;
  } else {
    out.pairs = std::move(all);
    if (want_keys) out.keys = std::move(masks);
  }
  CountPairs(out.pairs.size(), stats);
  if (stats_out) *stats_out = std::move(stats);
  return out;
}
}  // namespace

Candidates FindCandidates(const std::vector<Record>& records, const MatchOptions& opt,
                          CandidateStats* stats, const BlockingHistory* history, bool want_keys,
                          const std::function<void()>& one_thread_left) {
  bool gave_up = false;
  Candidates c = BlockOnce(records, opt, stats, history, want_keys, one_thread_left, gave_up);
  if (!gave_up) return c;
  // What the first pass held is freed by now; malloc keeps some of it (its per-thread arenas),
  // and the second pass on top of that was over 1 GiB at 1M (session 15): give it back first.
  malloc_trim(0);
  bool again = false;
  Candidates full = BlockOnce(records, opt, stats, nullptr, want_keys, {}, again);
  full.full_because = std::move(c.full_because);
  return full;
}

}  // namespace crmh::match
