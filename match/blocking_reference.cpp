// The blocking of session 9 (string keys, std::sort, pair lists merged key by key), kept
// unchanged as the reference that match/blocking.cpp is tested against (tests/matcher_test.cpp)
// and benchmarked against (febrl_eval --blocking-only --reference). Not linked into the daemon.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "match/blocking_internal.h"
#include "match/blocking_reference.h"

namespace crmh::match::reference {
namespace {

using namespace detail;  // match/blocking_internal.h: the rules both blockings share

using Entry = std::pair<std::string, uint32_t>;  // key value, record index


void SortUnique(std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}


// Merges the sorted, unique `add` into the sorted, unique `all` in place (from the back, so no
// second copy of `all` is ever held: at 1M contacts it is 14M pairs, and the union of the keys'
// pairs before deduplication was half as many again).
void MergeInto(std::vector<Pair>& all, const std::vector<uint64_t>& add) {
  const size_t old = all.size(), need = old + add.size();
  if (all.capacity() < need) all.reserve(need + need / 4);
  all.resize(need);
  size_t i = old, j = add.size(), k = need;
  while (j > 0) {
    const Pair b = Unpair(add[j - 1]);
    if (i > 0 && b < all[i - 1]) {
      all[--k] = all[--i];
    } else {
      all[--k] = b;
      --j;
    }
  }
  all.erase(std::unique(all.begin(), all.end()), all.end());
}



// The pairs of every block of `entries` (key value, record index), sorted and unique.
std::vector<uint64_t> BlockPairs(std::vector<Entry>& entries, const std::vector<Record>& records,
                                 const MatchOptions& opt, CandidateStats& stats) {
  // Sorted by value: the values of one coarse part are contiguous (kRefine sorts before every
  // other byte a value holds), and so are the equal full values inside them.
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  std::vector<uint64_t> pairs;
  std::vector<uint32_t> block;
  for (size_t b = 0; b < entries.size();) {
    const std::string_view coarse = Coarse(entries[b].first);
    size_t e = b + 1;
    while (e < entries.size() && Coarse(entries[e].first) == coarse) ++e;
    block.clear();
    for (size_t i = b; i < e; ++i) block.push_back(entries[i].second);
    // One record may carry the coarse part twice (two names with one initial).
    std::sort(block.begin(), block.end());
    block.erase(std::unique(block.begin(), block.end()), block.end());
    const bool refinable = coarse.size() < entries[b].first.size();
    if (!refinable || opt.refine_block == 0 || block.size() <= opt.refine_block) {
      PairBlock(block, records, opt, stats, pairs);
    } else {
      ++stats.blocks_refined;
      for (size_t f = b; f < e;) {
        size_t g = f + 1;
        while (g < e && entries[g].first == entries[f].first) ++g;
        block.clear();
        for (size_t i = f; i < g; ++i) block.push_back(entries[i].second);
        PairBlock(block, records, opt, stats, pairs);
        f = g;
      }
    }
    b = e;
  }
  SortUnique(pairs);
  return pairs;
}

// Surname without spaces, for the phonetic key ("van der berg" → "vanderberg").
std::string Squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}


}  // namespace

std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats_out) {
  CandidateStats stats;
  const auto n = static_cast<uint32_t>(records.size());
  stats.records = n;
  stats.total_pairs = static_cast<long long>(n) * (static_cast<long long>(n) - 1) / 2;

  // Each key's pairs are merged into `all`. One key at a time: its values for every record, its
  // pairs, then its values freed — at 1M contacts the ten keys' values held side by side were
  // ≈ 9M strings, and each key proposes millions of pairs. On `workers` threads: each computes
  // the values of a range of records, sorted into `workers` partitions by the value's hash (a
  // block lies in one partition); then each pairs one partition.
  const size_t workers = std::max<size_t>(1, std::min<size_t>(opt.threads > 0 ? opt.threads : 1,
                                                              n / 4096 + 1));
  std::vector<Pair> all;
  auto block = [&](const char* name, auto&& values_of) {
    // parts[w][p]: the values worker w computed that fall in partition p.
    std::vector<std::vector<std::vector<Entry>>> parts(workers, std::vector<std::vector<Entry>>(workers));
    const size_t chunk = (n + workers - 1) / workers;
    OnThreads(workers, [&](size_t w) {
      const std::hash<std::string_view> hash;
      const uint32_t from = static_cast<uint32_t>(std::min<size_t>(n, w * chunk));
      const uint32_t to = static_cast<uint32_t>(std::min<size_t>(n, from + chunk));
      for (uint32_t i = from; i < to; ++i) {
        values_of(records[i], [&](std::string v) {
          // By the coarse part: a block that is split by its finer part lies in one partition.
          const size_t p = workers == 1 ? 0 : hash(Coarse(v)) % workers;
          parts[w][p].emplace_back(std::move(v), i);
        });
      }
    });
    std::vector<std::vector<uint64_t>> pairs(workers);
    std::vector<CandidateStats> part_stats(workers);
    OnThreads(workers, [&](size_t p) {
      std::vector<Entry> entries = std::move(parts[0][p]);
      for (size_t w = 1; w < workers; ++w) {
        entries.insert(entries.end(), std::make_move_iterator(parts[w][p].begin()),
                       std::make_move_iterator(parts[w][p].end()));
        std::vector<Entry>().swap(parts[w][p]);
      }
      pairs[p] = BlockPairs(entries, records, opt, part_stats[p]);
    });
    for (const auto& ps : part_stats) {
      stats.largest_block = std::max(stats.largest_block, ps.largest_block);
      stats.blocks_capped += ps.blocks_capped;
      stats.blocks_windowed += ps.blocks_windowed;
      stats.blocks_refined += ps.blocks_refined;
    }
    // Two values of one key (two shared e-mails) can propose the same pair from two partitions.
    std::vector<uint64_t> key_pairs = std::move(pairs[0]);
    for (size_t p = 1; p < workers; ++p) {
      key_pairs.insert(key_pairs.end(), pairs[p].begin(), pairs[p].end());
      std::vector<uint64_t>().swap(pairs[p]);
    }
    if (workers > 1) SortUnique(key_pairs);
    stats.pairs_by_key[name] = static_cast<long long>(key_pairs.size());
    MergeInto(all, key_pairs);
  };
  block("email", [](const Record& r, auto emit) {
    for (const auto& e : r.emails) emit(e.str());
  });
  block("phone", [](const Record& r, auto emit) {
    for (const auto& p : r.phones) emit(p.str());
  });
  block("phonetic_name", [](const Record& r, auto emit) {
    if (r.last.empty() || r.first.empty()) return;
    std::string pl = PhoneticKey(Squash(r.last));
    if (!pl.empty()) emit(pl + '|' + r.first[0]);
    // Given name and surname swapped: the same key from the other side.
    std::string pf = PhoneticKey(Squash(RawFirst(r)));
    if (!pf.empty()) emit(pf + '|' + r.last[0]);
  });
  block("email_local", [](const Record& r, auto emit) {
    for (const auto& e : r.emails) {
      std::string_view lp = LocalPart(e);
      if (lp.size() >= 4) emit(std::string(lp));
    }
  });
  block("company_last", [](const Record& r, auto emit) {
    if (!r.company.empty() && !r.last.empty()) emit(r.company.str() + '|' + r.last.str());
  });
  block("postcode_last", [](const Record& r, auto emit) {
    if (!r.postcode.empty() && !r.last.empty()) {
      emit(r.postcode.str() + '|' + r.last[0] + kRefine + GivenInitial(r));
    }
  });
  // Birthdate with an initial of either name (both, so swapped names and a changed surname
  // still meet), refined by that name's phonetic code when the block is large. Birthdate alone
  // proposed 9.8M of the 21.8M candidate pairs of a 1M CRM — strangers that agree on nothing
  // else — and so many of them turned EM's non-match class into "born the same day"
  // (docs/dedup.md §8); birthdate + an initial did the same at 10M (130M of 248M pairs).
  block("birthdate", [](const Record& r, auto emit) {
    if (r.birthdate.size() < 6) return;
    const std::string bd = r.birthdate.str() + '|';
    if (!r.first.empty()) emit(bd + r.first[0] + kRefine + PhoneticKey(Squash(r.first)));
    if (!r.last.empty()) emit(bd + r.last[0] + kRefine + PhoneticKey(Squash(r.last)));
    if (r.first.empty() && r.last.empty()) emit(r.birthdate.str());
  });
  // Address keys catch a changed surname at the same address: postcode + the street's first
  // token (usually the house number), and the street's first two tokens; refined by the given
  // name's initial (a person who changed surname keeps the given name).
  block("postcode_street", [](const Record& r, auto emit) {
    const std::string_view t1 = FirstTokens(r.street, 1);
    if (!r.postcode.empty() && !t1.empty()) {
      emit(r.postcode.str() + '|' + std::string(t1) + kRefine + GivenInitial(r));
    }
  });
  block("street_prefix", [](const Record& r, auto emit) {
    const std::string_view t1 = FirstTokens(r.street, 1), t2 = FirstTokens(r.street, 2);
    if (t2.size() > t1.size()) emit(std::string(t2) + kRefine + GivenInitial(r));
  });
  block("extra", [&opt](const Record& r, auto emit) {
    for (const auto& f : opt.extra_fields) {
      auto it = r.extra.find(f);
      if (it != r.extra.end()) emit(f + '=' + it->second);
    }
  });

  // Sorted neighbourhood on "last first" and on "first last" (a typo late in one name still
  // sorts near; a typo early in the last name is caught by the second order). The two orders on
  // two threads.
  std::vector<uint64_t> sn;
  if (opt.sn_window > 1 && n > 1) {
    std::vector<uint64_t> pass_pairs[2];
    const size_t sn_threads = workers >= 2 ? 2 : 1;
    OnThreads(sn_threads, [&](size_t w) {
      for (size_t pass = 0; pass < 2; ++pass) {
        if (sn_threads == 2 && pass != w) continue;
        std::vector<std::string> keys(n);
        std::vector<uint32_t> order(n);
        for (uint32_t i = 0; i < n; ++i) {
          const Record& r = records[i];
          keys[i] = pass == 0 ? r.last.str() + ' ' + r.first.str() : r.first.str() + ' ' + r.last.str();
        }
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
          return keys[x] != keys[y] ? keys[x] < keys[y] : x < y;
        });
        std::vector<uint64_t>& out = pass_pairs[pass];
        for (size_t p = 0; p < order.size(); ++p) {
          if (keys[order[p]] == " ") continue;  // both names empty: nothing to sort by
          for (size_t q = p + 1; q < order.size() && q < p + opt.sn_window; ++q) {
            if (keys[order[q]] == " ") continue;
            out.push_back(PairKey(order[p], order[q]));
          }
        }
      }
    });
    sn = std::move(pass_pairs[0]);
    sn.insert(sn.end(), pass_pairs[1].begin(), pass_pairs[1].end());
    std::vector<uint64_t>().swap(pass_pairs[1]);
    SortUnique(sn);
  }
  stats.pairs_by_key["sorted_neighbourhood"] = static_cast<long long>(sn.size());
  MergeInto(all, sn);
  std::vector<uint64_t>().swap(sn);
  // No shrink_to_fit: it would copy all pairs once more; the slack (≤ a quarter, from
  // MergeInto's growth) is mostly never touched, so not resident.

  stats.candidate_pairs = static_cast<long long>(all.size());
  stats.reduction_ratio = stats.total_pairs > 0 ? 1.0 - static_cast<double>(stats.candidate_pairs) /
                                                            static_cast<double>(stats.total_pairs)
                                                : 0.0;
  if (stats_out) *stats_out = std::move(stats);
  return all;
}

}  // namespace crmh::match::reference
