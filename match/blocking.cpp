// Blocking: the candidate pairs are the union of the pairs proposed by several keys (records
// sharing a key value form a block; every pair inside a block is proposed) plus a sorted
// neighbourhood on the names. docs/dedup.md lists the keys and why each exists.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "match/matcher.h"

namespace crmh::match {
namespace {

using Entry = std::pair<std::string, uint32_t>;  // key value, record index

uint64_t PairKey(uint32_t i, uint32_t j) {
  if (i > j) std::swap(i, j);
  return (static_cast<uint64_t>(i) << 32) | j;
}

void SortUnique(std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// All pairs inside each block of `entries`; blocks over max_block are skipped and counted. A block
// larger than opt.dense_block is not paired all-with-all: its records are ordered by name
// ("last first", then birthdate, then index) and each is paired with the next
// dense_window − 1 (a sorted neighbourhood inside the block), so a common surname + initial or a
// shared switchboard number costs O(size) pairs, not O(size²).
std::vector<uint64_t> BlockPairs(std::vector<Entry>& entries, const std::vector<Record>& records,
                                 const MatchOptions& opt, CandidateStats& stats) {
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  std::vector<uint64_t> pairs;
  std::vector<uint32_t> block;
  for (size_t b = 0; b < entries.size();) {
    size_t e = b + 1;
    while (e < entries.size() && entries[e].first == entries[b].first) ++e;
    const size_t size = e - b;
    stats.largest_block = std::max<long long>(stats.largest_block, static_cast<long long>(size));
    if (size > opt.max_block) {
      ++stats.blocks_capped;
    } else if (opt.dense_block > 0 && size > opt.dense_block && opt.dense_window > 1) {
      ++stats.blocks_windowed;
      block.clear();
      for (size_t i = b; i < e; ++i) block.push_back(entries[i].second);
      std::sort(block.begin(), block.end(), [&](uint32_t x, uint32_t y) {
        const Record& rx = records[x];
        const Record& ry = records[y];
        if (rx.last != ry.last) return rx.last < ry.last;
        if (rx.first != ry.first) return rx.first < ry.first;
        if (rx.birthdate != ry.birthdate) return rx.birthdate < ry.birthdate;
        return x < y;
      });
      for (size_t p = 0; p < block.size(); ++p) {
        for (size_t q = p + 1; q < block.size() && q < p + opt.dense_window; ++q) {
          pairs.push_back(PairKey(block[p], block[q]));
        }
      }
    } else {
      for (size_t i = b; i < e; ++i) {
        for (size_t j = i + 1; j < e; ++j)
          pairs.push_back(PairKey(entries[i].second, entries[j].second));
      }
    }
    b = e;
  }
  SortUnique(pairs);
  return pairs;
}

// Surname without spaces, for the phonetic key ("van der berg" → "vanderberg").
std::string Squash(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

std::string_view LocalPart(std::string_view email) {
  size_t at = email.find('@');
  return at == std::string_view::npos ? std::string_view() : email.substr(0, at);
}

// The first `n` space-separated tokens of s (fewer if s has fewer).
std::string_view FirstTokens(std::string_view s, int n) {
  size_t end = 0;
  for (int k = 0; k < n; ++k) {
    size_t next = s.find(' ', end == 0 ? 0 : end + 1);
    if (next == std::string_view::npos) return s;
    end = next;
  }
  return s.substr(0, end);
}

const std::string& RawFirst(const Record& r) {
  return r.first_raw_ascii.empty() ? r.first : r.first_raw_ascii;
}

}  // namespace

std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats_out) {
  CandidateStats stats;
  const auto n = static_cast<uint32_t>(records.size());
  stats.records = n;
  stats.total_pairs = static_cast<long long>(n) * (static_cast<long long>(n) - 1) / 2;

  // Each key's pairs are appended to `all`. One key at a time: its values for every record, its
  // pairs, then its values freed — at 1M contacts the ten keys' values held side by side were
  // ≈ 9M strings, and each key proposes millions of pairs.
  std::vector<uint64_t> all;
  std::vector<Entry> entries;
  auto block = [&](const char* name, auto&& values_of) {
    for (uint32_t i = 0; i < n; ++i) {
      values_of(records[i], [&](std::string v) { entries.emplace_back(std::move(v), i); });
    }
    std::vector<uint64_t> pairs = BlockPairs(entries, records, opt, stats);
    std::vector<Entry>().swap(entries);
    stats.pairs_by_key[name] = static_cast<long long>(pairs.size());
    all.insert(all.end(), pairs.begin(), pairs.end());
  };
  block("email", [](const Record& r, auto emit) {
    for (const auto& e : r.emails) emit(e);
  });
  block("phone", [](const Record& r, auto emit) {
    for (const auto& p : r.phones) emit(p);
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
    if (!r.company.empty() && !r.last.empty()) emit(r.company + '|' + r.last);
  });
  block("postcode_last", [](const Record& r, auto emit) {
    if (!r.postcode.empty() && !r.last.empty()) emit(r.postcode + '|' + r.last[0]);
  });
  // Birthdate with an initial of either name (both, so swapped names and a changed surname
  // still meet). Birthdate alone proposed 9.8M of the 21.8M candidate pairs of a 1M CRM — pairs
  // of strangers that agree on nothing else — and so many of them turned EM's non-match class
  // into "born the same day" and its match class into "same surname" (docs/dedup.md §8).
  block("birthdate", [](const Record& r, auto emit) {
    if (r.birthdate.size() < 6) return;
    if (!r.first.empty()) emit(r.birthdate + '|' + r.first[0]);
    if (!r.last.empty() && (r.first.empty() || r.last[0] != r.first[0])) {
      emit(r.birthdate + '|' + r.last[0]);
    }
    if (r.first.empty() && r.last.empty()) emit(r.birthdate);
  });
  // Address keys catch a changed surname at the same address: postcode + the street's first
  // token (usually the house number), and the street's first two tokens.
  block("postcode_street", [](const Record& r, auto emit) {
    const std::string_view t1 = FirstTokens(r.street, 1);
    if (!r.postcode.empty() && !t1.empty()) emit(r.postcode + '|' + std::string(t1));
  });
  block("street_prefix", [](const Record& r, auto emit) {
    const std::string_view t1 = FirstTokens(r.street, 1), t2 = FirstTokens(r.street, 2);
    if (t2.size() > t1.size()) emit(std::string(t2));
  });
  block("extra", [&opt](const Record& r, auto emit) {
    for (const auto& f : opt.extra_fields) {
      auto it = r.extra.find(f);
      if (it != r.extra.end()) emit(f + '=' + it->second);
    }
  });

  // Sorted neighbourhood on "last first" and on "first last" (a typo late in one name still
  // sorts near; a typo early in the last name is caught by the second order).
  std::vector<uint64_t> sn;
  if (opt.sn_window > 1 && n > 1) {
    std::vector<std::string> keys(n);
    std::vector<uint32_t> order(n);
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t i = 0; i < n; ++i) {
        const Record& r = records[i];
        keys[i] = pass == 0 ? r.last + ' ' + r.first : r.first + ' ' + r.last;
      }
      std::iota(order.begin(), order.end(), 0u);
      std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
        return keys[x] != keys[y] ? keys[x] < keys[y] : x < y;
      });
      for (size_t p = 0; p < order.size(); ++p) {
        if (keys[order[p]] == " ") continue;  // both names empty: nothing to sort by
        for (size_t q = p + 1; q < order.size() && q < p + opt.sn_window; ++q) {
          if (keys[order[q]] == " ") continue;
          sn.push_back(PairKey(order[p], order[q]));
        }
      }
    }
    SortUnique(sn);
  }
  stats.pairs_by_key["sorted_neighbourhood"] = static_cast<long long>(sn.size());
  all.insert(all.end(), sn.begin(), sn.end());
  std::vector<uint64_t>().swap(sn);
  SortUnique(all);
  all.shrink_to_fit();

  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(all.size());
  for (uint64_t k : all) out.emplace_back(static_cast<uint32_t>(k >> 32), static_cast<uint32_t>(k));
  std::vector<uint64_t>().swap(all);
  stats.candidate_pairs = static_cast<long long>(out.size());
  stats.reduction_ratio = stats.total_pairs > 0 ? 1.0 - static_cast<double>(stats.candidate_pairs) /
                                                            static_cast<double>(stats.total_pairs)
                                                : 0.0;
  if (stats_out) *stats_out = std::move(stats);
  return out;
}

}  // namespace crmh::match
