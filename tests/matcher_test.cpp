// The matching pipeline (match/matcher.h): comparators, comparison levels, blocking, EM,
// clustering guards and determinism. Quality on real-looking data is measured by
// bench/febrl_eval.cpp, not here.
#include "match/matcher.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <new>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "match/blocking_internal.h"
#include "match/blocking_reference.h"
#include "match/normalize.h"
#include "match/parallel.h"

namespace m = crmh::match;

namespace {

size_t FieldIndex(const m::MatchOptions& opt, const std::string& name) {
  const auto specs = m::ComparedFields(opt);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == name) return i;
  }
  FAIL("no field " << name);
  return 0;
}

int Level(const m::Record& a, const m::Record& b, const std::string& field,
          const m::MatchOptions& opt = {}) {
  return m::Compare(a, b, opt).levels.at(FieldIndex(opt, field));
}

m::Record Person(std::string id, std::string first, std::string last, std::string birthdate,
                 std::string postcode, std::string street = "", std::string city = "") {
  m::Record r;
  r.id = std::move(id);
  r.first = r.first_raw_ascii = std::move(first);
  r.last = std::move(last);
  r.birthdate = std::move(birthdate);
  r.postcode = std::move(postcode);
  r.street = std::move(street);
  r.city = std::move(city);
  return r;
}

// The candidate pairs the blocking keys alone propose (no sorted neighbourhood).
struct KeyPairs {
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  m::CandidateStats stats;
  explicit KeyPairs(const std::vector<m::Record>& recs) {
    m::MatchOptions opt;
    opt.sn_window = 0;
    pairs = m::CandidatePairs(recs, opt, &stats);
  }
  bool Has(uint32_t a, uint32_t b) const {
    return std::find(pairs.begin(), pairs.end(), std::make_pair(a, b)) != pairs.end();
  }
};

// A model where every field's top level is strong evidence and the bottom level strong
// counter-evidence; used where a test needs scores without running EM.
m::Model HandModel(const m::MatchOptions& opt) {
  m::Model model;
  for (const auto& spec : m::ComparedFields(opt)) {
    m::FieldModel f;
    f.name = spec.name;
    const auto n = static_cast<size_t>(spec.levels);
    f.m.assign(n, 0.0);
    f.u.assign(n, 0.0);
    for (size_t l = 1; l < n; ++l) {
      f.m[l] = l == n - 1 ? 0.9 : 0.1 / static_cast<double>(n - 2);
      f.u[l] = l == 1 ? 0.9 : 0.1 / static_cast<double>(n - 2);
    }
    model.fields.push_back(std::move(f));
  }
  model.lambda = 0.01;
  return model;
}

// Synthetic people: `originals` distinct records, then one duplicate each for the first
// `dups` with a single typo in one field.
std::vector<m::Record> Synthetic(int originals, int dups, uint32_t seed) {
  static const char* const kFirst[] = {"james",  "mary",  "john",  "patricia", "robert",
                                       "linda",  "david", "sarah", "michael",  "karen",
                                       "lisa",   "paul",  "nancy", "mark",     "betty",
                                       "steven", "emily", "kevin", "laura",    "brian"};
  static const char* const kLast[] = {"smith",  "johnson",  "williams", "brown",  "jones",
                                      "garcia", "miller",   "davis",    "wilson", "moore",
                                      "taylor", "thomas",   "jackson",  "white",  "harris",
                                      "martin", "thompson", "young",    "allen",  "king"};
  static const char* const kStreet[] = {"main street", "oak avenue",    "pine road",
                                        "elm close",   "hill crescent", "river parade"};
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  std::vector<m::Record> out;
  for (int i = 0; i < originals; ++i) {
    m::Record r = Person("o" + std::to_string(i), kFirst[pick(20)], kLast[pick(20)],
                         std::to_string(1940 + pick(60)) + "0" + std::to_string(1 + pick(9)) +
                             std::to_string(10 + pick(18)),
                         std::to_string(2000 + pick(400)),
                         std::to_string(1 + pick(150)) + " " + kStreet[pick(6)]);
    r.extra["customer_no"] = std::to_string(100000 + i);
    out.push_back(std::move(r));
  }
  for (int i = 0; i < dups; ++i) {
    m::Record d = out[static_cast<size_t>(i)];
    d.id = "d" + std::to_string(i);
    m::Text* f = nullptr;  // Text is immutable: the typo is made in a copy and assigned back
    switch (pick(4)) {
      case 0:
        f = &d.last;
        break;
      case 1:
        f = &d.street;
        break;
      case 2:
        f = &d.birthdate;
        break;
      default:
        f = &d.first;
        d.first_raw_ascii = m::Text();
        break;
    }
    std::string typo = f->str();
    const size_t p = 1 + static_cast<size_t>(pick(static_cast<int>(typo.size()) - 2));
    std::swap(typo[p], typo[p + 1]);  // adjacent transposition
    *f = m::Text(typo);
    if (d.first_raw_ascii.empty()) d.first_raw_ascii = d.first;
    out.push_back(std::move(d));
  }
  return out;
}

bool SmallerIndexSurvives(uint32_t a, uint32_t b) { return a < b; }

// A scored link as the pipeline would make it (the weight only orders equal probabilities).
m::Link link(uint32_t a, uint32_t b, double p) {
  m::Link l{a, b, {}};
  l.score.probability = p;
  l.score.weight = 20;
  return l;
}

}  // namespace

TEST_CASE("matcher: Text keeps values inline up to 15 bytes and on the heap beyond, by value") {
  const std::string_view cases[] = {"", "a", "fifteen bytes!!", "sixteen bytes!!!",
                                    "a much longer street name than fits inline", "nguy\xe1\xbb\x85n"};
  for (std::string_view v : cases) {
    CAPTURE(v);
    m::Text t(v);
    CHECK(t.view() == v);
    CHECK(t.size() == v.size());
    CHECK(t.empty() == v.empty());
    m::Text copy = t;
    CHECK(copy == t);
    m::Text moved = std::move(copy);
    CHECK(moved.view() == v);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from Text is empty
    m::Text assigned("x");
    assigned = moved;
    CHECK(assigned.view() == v);
    assigned = m::Text("sixteen bytes!!!");
    CHECK(assigned.view() == "sixteen bytes!!!");
    CHECK(fmt::format("<{}>", t) == "<" + std::string(v) + ">");
  }
  CHECK(m::Text("abc") < m::Text("abd"));
  CHECK(m::Text("sixteen bytes!!!") > m::Text("fifteen bytes!!"));
  std::vector<m::Text> grow;
  for (int i = 0; i < 100; ++i) grow.emplace_back(std::string(static_cast<size_t>(i), 'x'));
  for (int i = 0; i < 100; ++i) CHECK(grow[static_cast<size_t>(i)].size() == static_cast<size_t>(i));
}

// Blocking partitions each key's values by hash across the threads: the pairs and the stats
// must not depend on how many there are.
TEST_CASE("matcher: CandidatePairs gives the same pairs and stats on 1, 2 and 3 threads") {
  const auto recs = Synthetic(6000, 3000, 7);
  m::MatchOptions opt;
  opt.dense_block = 5;   // windowed blocks too
  opt.refine_block = 3;  // and split ones
  opt.threads = 1;
  m::CandidateStats one;
  const auto pairs = m::CandidatePairs(recs, opt, &one);
  REQUIRE(pairs.size() > 1000);
  CHECK(std::is_sorted(pairs.begin(), pairs.end()));
  CHECK(one.blocks_windowed > 0);
  CHECK(one.blocks_refined > 0);
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    opt.threads = threads;
    m::CandidateStats st;
    CHECK(m::CandidatePairs(recs, opt, &st) == pairs);
    CHECK(st.candidate_pairs == one.candidate_pairs);
    CHECK(st.pairs_by_key == one.pairs_by_key);
    CHECK(st.largest_block == one.largest_block);
    CHECK(st.blocks_capped == one.blocks_capped);
    CHECK(st.blocks_windowed == one.blocks_windowed);
    CHECK(st.blocks_refined == one.blocks_refined);
  }
}

// Records built to hit every blocking path: shared and switchboard phones (blocks over
// max_block), common surname + initial (windowed blocks), birthdates and postcodes shared by
// many (refined blocks), empty names, swapped names, long values with a common 8-byte prefix,
// multi-token surnames, two emails, an extra field, byte values ≥ 0x80.
std::vector<m::Record> BlockingMix(int n, uint32_t seed) {
  static const char* const kFirst[] = {"james", "mary", "john", "nguyen thi", "jose maria",
                                       "", "li", "muhammad", "anna-lena", "x"};
  static const char* const kLast[] = {"nguyen", "smith", "van der berg", "o'neil", "",
                                      "garcia lopez", "wang", "mueller", "nguyenvan", "y"};
  std::mt19937 rng(seed);
  auto pick = [&](uint32_t k) { return rng() % k; };
  std::vector<m::Record> out;
  for (int i = 0; i < n; ++i) {
    m::Record r;
    r.id = std::to_string(i);
    std::string first = kFirst[pick(10)], last = kLast[pick(10)];
    if (pick(7) == 0) first += std::to_string(pick(50));
    if (pick(9) == 0) last += "\xc3\xa9" + std::to_string(pick(40));  // a non-ASCII byte
    if (pick(11) == 0) std::swap(first, last);
    r.first = first;
    r.first_raw_ascii = pick(5) == 0 ? m::Text(first + "h") : m::Text(first);
    r.last = last;
    r.birthdate = pick(6) == 0 ? std::string() : "19" + std::to_string(50 + pick(3)) + "-0" +
                                                      std::to_string(1 + pick(2)) + "-1" +
                                                      std::to_string(pick(3));
    r.postcode = pick(8) == 0 ? std::string() : std::to_string(10000 + pick(60));
    r.street = pick(5) == 0 ? std::string()
                            : std::to_string(1 + pick(30)) + (pick(2) ? " main street" : " oak");
    r.city = "city" + std::to_string(pick(5));
    if (pick(3) != 0) {
      r.emails.emplace_back("person.with.a.long.local.part" + std::to_string(pick(n / 3 + 1)) +
                            "@example.com");
    }
    if (pick(4) == 0) r.emails.emplace_back("info" + std::to_string(pick(40)) + "@x.org");
    if (pick(3) == 0) r.phones.emplace_back("555" + std::to_string(pick(pick(4) == 0 ? 3 : n)));
    if (pick(2) == 0) r.company = "company number " + std::to_string(pick(30));
    if (pick(3) == 0) r.extra["customer_no"] = std::to_string(pick(n / 2 + 1));
    out.push_back(std::move(r));
  }
  return out;
}

// A blocking test case's options.
template <class Case>
m::MatchOptions BlockingOptions(const Case& c) {
  m::MatchOptions opt;
  opt.max_block = c.max_block;
  opt.dense_block = c.dense_block;
  opt.refine_block = c.refine_block;
  opt.dense_window = c.dense_window;
  opt.sn_window = c.sn_window;
  opt.threads = c.threads;
  opt.extra_fields = {"customer_no"};
  return opt;
}

// Runs body(parallel_merge_min, hash_mask) three times. Below 1M pairs the merges run on one
// thread: once with the two-thread merge for every key. Then with value hashes narrowed to their
// top 2 bits: nearly every block shares its hash with others (and a refined block's finer values
// with each other), the collisions the grouping must split by the bytes.
template <class Body>
void ForEachBlockingVariant(Body&& body) {
  const size_t min_pairs = m::detail::parallel_merge_min_pairs;
  const std::pair<size_t, uint64_t> variants[] = {
      {min_pairs, ~uint64_t{0}}, {0, ~uint64_t{0}}, {min_pairs, uint64_t{3} << 62}};
  for (const auto& [parallel_merge_min, hash_mask] : variants) {
    m::detail::parallel_merge_min_pairs = parallel_merge_min;
    m::detail::value_hash_mask = hash_mask;
    body(parallel_merge_min, hash_mask);
  }
  m::detail::parallel_merge_min_pairs = min_pairs;
  m::detail::value_hash_mask = ~uint64_t{0};
}

TEST_CASE("matcher: CandidatePairs gives the previous blocking's pairs and counts") {
  struct Case {
    int records;
    size_t max_block, dense_block, refine_block, dense_window, sn_window;
    int threads;
  };
  const Case cases[] = {
      {300, 200, 40, 12, 8, 3, 1},     {5000, 200, 40, 12, 8, 3, 2},
      {9000, 60, 10, 4, 5, 3, 3},      {9000, 30, 0, 0, 8, 0, 2},
      {6000, 1000, 20, 6, 2, 7, 2},    {2, 200, 40, 12, 8, 3, 2},
      {1, 200, 40, 12, 8, 3, 1},       {0, 200, 40, 12, 8, 3, 2},
  };
  ForEachBlockingVariant([&](size_t parallel_merge_min, uint64_t hash_mask) {
    uint32_t seed = 11;
    for (const Case& c : cases) {
      CAPTURE(parallel_merge_min);
      CAPTURE(hash_mask);
      CAPTURE(c.records);
      CAPTURE(c.threads);
      CAPTURE(c.max_block);
      const auto recs = BlockingMix(c.records, seed++);
      const m::MatchOptions opt = BlockingOptions(c);
      m::CandidateStats want, got;
      const auto expected = m::reference::CandidatePairs(recs, opt, &want);
      const auto pairs = m::CandidatePairs(recs, opt, &got);
      CHECK(pairs == expected);
      CHECK(got.records == want.records);
      CHECK(got.candidate_pairs == want.candidate_pairs);
      CHECK(got.total_pairs == want.total_pairs);
      CHECK(got.reduction_ratio == want.reduction_ratio);
      CHECK(got.blocks_capped == want.blocks_capped);
      CHECK(got.largest_block == want.largest_block);
      CHECK(got.blocks_windowed == want.blocks_windowed);
      CHECK(got.blocks_refined == want.blocks_refined);
      CHECK(got.pairs_by_key == want.pairs_by_key);
      if (c.records >= 5000) {
        // The mix reaches every path it is meant to.
        if (c.max_block <= 60) CHECK(want.blocks_capped > 0);
        if (c.dense_block > 0) CHECK(want.blocks_windowed > 0);
        if (c.refine_block > 0) CHECK(want.blocks_refined > 0);
        CHECK(expected.size() > 20000);
      }
    }
  });
}

// ADR 0002: with the last sweep's blocking as its history, blocking pairs only the blocks a
// change touches and keeps the rest — and must give exactly what blocking in full gives: the
// pairs, which keys proposed each, every count. The edits land anywhere in BlockingMix (capped,
// windowed and refined blocks, sorted-neighbourhood neighbours); each pair kept carries its old
// vector (here a stand-in that names the pair), and no other pair has one.
struct Edited {
  std::vector<m::Record> records;
  std::vector<uint32_t> old_index;  // per record: its index before, or UINT32_MAX (new/changed)
  std::vector<m::Record> gone;      // the old versions of the changed and deleted records
};
Edited EditMix(const std::vector<m::Record>& before, int edits, int deletes, int inserts,
               uint32_t seed) {
  std::mt19937 rng(seed);
  const auto fresh = BlockingMix(static_cast<int>(before.size()) + 50, seed + 1000);
  auto from = [&] { return fresh[rng() % fresh.size()]; };
  std::vector<int> what(before.size(), 0);  // 0 kept, 1 edited, 2 deleted
  for (int k = 0; k < edits && !before.empty(); ++k) what[rng() % before.size()] = 1;
  for (int k = 0; k < deletes && !before.empty(); ++k) what[rng() % before.size()] = 2;
  Edited out;
  auto insert_some = [&] {
    if (inserts > 0 && rng() % std::max<size_t>(1, before.size() / static_cast<size_t>(inserts)) == 0) {
      out.records.push_back(from());
      out.records.back().id = "new" + std::to_string(out.records.size());  // ids are unique
      out.old_index.push_back(UINT32_MAX);
    }
  };
  for (size_t i = 0; i < before.size(); ++i) {
    insert_some();
    if (what[i] == 2) {
      out.gone.push_back(before[i]);
      continue;
    }
    m::Record r = before[i];
    if (what[i] == 1) {
      out.gone.push_back(before[i]);
      const m::Record o = from();
      switch (rng() % 6) {  // one field group, or the whole record
        case 0: r.last = o.last; break;
        case 1: r.first = o.first; r.first_raw_ascii = o.first_raw_ascii; break;
        case 2: r.emails = o.emails; r.phones = o.phones; break;
        case 3: r.birthdate = o.birthdate; r.postcode = o.postcode; break;
        case 4: r.street = o.street; r.company = o.company; r.extra = o.extra; break;
        default: r = o; r.id = before[i].id;  // a contact keeps its id
      }
      out.old_index.push_back(UINT32_MAX);
    } else {
      out.old_index.push_back(static_cast<uint32_t>(i));
    }
    out.records.push_back(std::move(r));
  }
  insert_some();
  return out;
}

uint64_t StandIn(uint32_t a, uint32_t b) { return (uint64_t{a} << 24) ^ b; }  // < 2^56

// The history a sweep of `e` gets from the last one's blocking (`last`, of `old_count` records;
// `last_stats`: its counts, as the sweep cache's pairs file holds them).
m::BlockingHistory HistoryOf(const m::Candidates& last, size_t old_count, const Edited& e,
                             const std::optional<m::CandidateStats>& last_stats = std::nullopt) {
  m::BlockingHistory h;
  h.last_stats = last_stats;
  h.max_changed_share = 1e9;  // whatever changed
  h.max_dirty_share = 1e9;
  std::vector<uint32_t> now(old_count, UINT32_MAX);  // per old index: the index now
  h.changed.assign(e.records.size(), 0);
  for (size_t i = 0; i < e.records.size(); ++i) {
    if (e.old_index[i] == UINT32_MAX) {
      h.changed[i] = 1;
    } else {
      now[e.old_index[i]] = static_cast<uint32_t>(i);
    }
  }
  h.gone = e.gone;
  h.for_each_kept = [&last, now](const auto& kept) {
    std::vector<m::BlockingHistory::Kept> batch;  // in batches of 1 to 7
    for (size_t i = 0; i < last.pairs.size(); ++i) {
      const auto [a, b] = last.pairs[i];
      if (now[a] != UINT32_MAX && now[b] != UINT32_MAX) batch.push_back({now[a], now[b], last.keys[i], StandIn(a, b)});
      if (batch.size() == 1 + i % 7) {
        kept(batch.data(), batch.size());
        batch.clear();
      }
    }
    kept(batch.data(), batch.size());
    return std::string();
  };
  return h;
}

void CheckSameBlocking(const m::Candidates& got, const m::CandidateStats& gs,
                       const m::Candidates& want, const m::CandidateStats& ws) {
  CHECK(got.pairs == want.pairs);
  CHECK(got.keys == want.keys);
  CHECK(gs.candidate_pairs == ws.candidate_pairs);
  CHECK(gs.reduction_ratio == ws.reduction_ratio);
  CHECK(gs.blocks_capped == ws.blocks_capped);
  CHECK(gs.largest_block == ws.largest_block);
  CHECK(gs.blocks_windowed == ws.blocks_windowed);
  CHECK(gs.blocks_refined == ws.blocks_refined);
  CHECK(gs.pairs_by_key == ws.pairs_by_key);
}

// Blocks `e` with `last` (of `old_count` records) as its history and in full, checks that both
// give the same, and returns the incremental result.
m::Candidates BlockBothWays(const m::Candidates& last, size_t old_count, const Edited& e,
                            const m::MatchOptions& opt) {
  const m::BlockingHistory h = HistoryOf(last, old_count, e);
  m::CandidateStats st_inc, st_full;
  m::Candidates inc = m::FindCandidates(e.records, opt, &st_inc, &h, false);
  const m::Candidates full = m::FindCandidates(e.records, opt, &st_full, nullptr, true);
  REQUIRE(inc.incremental);
  CheckSameBlocking(inc, st_inc, full, st_full);
  return inc;
}

TEST_CASE("matcher: incremental blocking gives the full blocking's pairs, keys and counts") {
  struct Case {
    int records;
    size_t max_block, dense_block, refine_block, dense_window, sn_window;
    int threads;
    int edits, deletes, inserts;
  };
  const Case cases[] = {
      {3000, 200, 40, 12, 8, 3, 2, 30, 10, 10},  {3000, 60, 10, 4, 5, 3, 1, 5, 0, 0},
      {5000, 30, 0, 0, 8, 0, 3, 0, 40, 0},       {5000, 1000, 20, 6, 2, 7, 2, 0, 0, 60},
      {4000, 60, 10, 4, 5, 3, 2, 0, 0, 0},       {2000, 200, 40, 12, 8, 3, 2, 200, 100, 100},
      {40, 200, 40, 12, 8, 3, 1, 3, 2, 2},       {1, 200, 40, 12, 8, 3, 1, 0, 1, 1},
  };
  ForEachBlockingVariant([&](size_t parallel_merge_min, uint64_t hash_mask) {
    uint32_t seed = 41;
    for (const Case& c : cases) {
      CAPTURE(parallel_merge_min);
      CAPTURE(hash_mask);
      CAPTURE(c.records);
      CAPTURE(c.edits);
      const m::MatchOptions opt = BlockingOptions(c);
      const auto before = BlockingMix(c.records, seed++);
      m::CandidateStats st_before;
      const m::Candidates last = m::FindCandidates(before, opt, &st_before, nullptr, true);
      REQUIRE(last.keys.size() == last.pairs.size());
      // Each key's bits are its pairs.
      for (size_t k = 0; k < std::size(m::kBlockingKeys); ++k) {
        long long bits = 0;
        for (const m::KeyMask x : last.keys) bits += (x >> k) & 1;
        CHECK(bits == st_before.pairs_by_key.at(m::kBlockingKeys[k]));
      }
      const Edited e = EditMix(before, c.edits, c.deletes, c.inserts, seed++);
      const bool none = c.edits + c.deletes + c.inserts == 0;
      // The last sweep's counts as its pairs file holds them (only these four and the count).
      m::CandidateStats saved;
      saved.candidate_pairs = st_before.candidate_pairs;
      saved.blocks_capped = st_before.blocks_capped;
      saved.largest_block = st_before.largest_block;
      saved.blocks_windowed = st_before.blocks_windowed;
      saved.blocks_refined = st_before.blocks_refined;
      const m::BlockingHistory h = HistoryOf(last, before.size(), e, saved);
      m::CandidateStats st_full, st_inc;
      const m::Candidates full = m::FindCandidates(e.records, opt, &st_full, nullptr, true);
      const m::Candidates inc = m::FindCandidates(e.records, opt, &st_inc, &h, false);
      REQUIRE(inc.incremental);
      CHECK(inc.full_because.empty());
      CHECK(inc.unchanged == none);  // nothing changed: nothing grouped, the counts are the file's
      CheckSameBlocking(inc, st_inc, full, st_full);
      CHECK(st_inc.records == st_full.records);
      CHECK(st_inc.total_pairs == st_full.total_pairs);
      if (none) {  // the same without the saved counts: grouped again, found the same
        const m::BlockingHistory again = HistoryOf(last, before.size(), e);
        m::CandidateStats st_again;
        const m::Candidates grouped = m::FindCandidates(e.records, opt, &st_again, &again, false);
        CHECK_FALSE(grouped.unchanged);
        CheckSameBlocking(grouped, st_again, full, st_full);
      }
      // The vectors: a kept pair's is the old pair's; a pair not candidate before has none.
      std::map<std::pair<uint32_t, uint32_t>, bool> was;
      for (const auto& p : last.pairs) was[p] = true;
      REQUIRE(inc.packed.size() == inc.pairs.size());
      long long kept = 0;
      for (size_t i = 0; i < inc.pairs.size(); ++i) {
        const auto [a, b] = inc.pairs[i];
        const uint32_t oa = e.old_index[a], ob = e.old_index[b];
        const bool old_pair = oa != UINT32_MAX && ob != UINT32_MAX && was.count({oa, ob}) != 0;
        if (old_pair) {
          CHECK(inc.packed[i] == StandIn(oa, ob));
          ++kept;
        } else {
          CHECK(inc.packed[i] == m::kUnknownComparison);
        }
      }
      CHECK(inc.pairs_kept == kept);
      if (c.edits + c.deletes + c.inserts == 0) {
        CHECK(inc.dirty_records == 0);
        CHECK(inc.pairs == last.pairs);
      } else if (c.records >= 3000) {
        CHECK(inc.dirty_records > 0);
        CHECK(kept > 0);
      }
      // An edit that keeps every value of a key (and the names and birthdate) leaves that key's
      // blocks clean: e-mails changed to new ones dirty only the e-mails' blocks.
      if (c.records == 3000 && c.edits == 30) {
        Edited mails;
        mails.records = before;
        for (uint32_t i = 0; i < before.size(); ++i) mails.old_index.push_back(i);
        for (uint32_t i = 0; i < before.size(); i += 100) {
          mails.gone.push_back(before[i]);
          mails.records[i].emails = {m::Text("fresh" + std::to_string(i) + "@new.example")};
          mails.old_index[i] = UINT32_MAX;
        }
        const m::Candidates got = BlockBothWays(last, before.size(), mails, opt);
        // The 30 edited and who shared an e-mail block with them (with 2-bit hashes every run
        // holds a quarter of the values).
        if (hash_mask == ~uint64_t{0}) CHECK(got.dirty_records < 600);
      }
    }
  });
}

// ADR 0002, session 17: a change dirties only the records whose pairs with other unchanged
// records can change. One surname block of 150 (a dense window: 40 < 150 ≤ 200) and one
// postcode block of 60 split by the given initial into groups of 12 (all pairs); a contact
// added to each, and one deleted from each. Before, every member of both blocks was dirty.
TEST_CASE("matcher: incremental blocking dirties only the records a change can re-pair") {
  m::MatchOptions opt;
  opt.max_block = 200;
  opt.dense_block = 40;
  opt.dense_window = 8;
  opt.refine_block = 12;
  opt.sn_window = 3;
  opt.threads = 1;
  auto person = [](const std::string& id, const std::string& first, const std::string& last,
                   const std::string& postcode) {
    m::Record r;
    r.id = id;
    r.first = first;
    r.first_raw_ascii = first;
    r.last = last;
    r.postcode = postcode;
    return r;
  };
  std::vector<m::Record> before;
  for (int i = 0; i < 150; ++i) {  // smith, given names of one initial: one dense block
    const std::string given =
        std::string("j") + static_cast<char>('a' + i / 26) + static_cast<char>('a' + i % 26);
    before.push_back(person("s" + std::to_string(i), given, "smith", ""));
  }
  for (int i = 0; i < 60; ++i) {  // postcode 10001, surnames of one initial, five given initials
    const std::string given = std::string(1, static_cast<char>('a' + i % 5)) + "nna";
    const std::string surname = "k" + std::to_string(i) + "x";
    before.push_back(person("p" + std::to_string(i), given, surname, "10001"));
  }
  m::CandidateStats st_before;
  const m::Candidates last = m::FindCandidates(before, opt, &st_before, nullptr, true);
  REQUIRE(st_before.blocks_windowed >= 1);
  REQUIRE(st_before.blocks_refined >= 1);
  for (const bool add : {true, false}) {
    CAPTURE(add);
    Edited e;
    for (uint32_t i = 0; i < before.size(); ++i) {
      if (!add && (i == 70 || i == 170)) {  // one from each block
        e.gone.push_back(before[i]);
        continue;
      }
      e.records.push_back(before[i]);
      e.old_index.push_back(i);
      if (add && i == 70) {  // sorts among the j-names
        e.records.push_back(person("s-new", "jcm", "smith", ""));
        e.old_index.push_back(UINT32_MAX);
      }
      if (add && i == 170) {
        e.records.push_back(person("p-new", "anna", "kz", "10001"));
        e.old_index.push_back(UINT32_MAX);
      }
    }
    const m::Candidates inc = BlockBothWays(last, before.size(), e, opt);
    // The dense block: the next dense_window − 1 after the change (and as many in the block of
    // the swapped key, code of the given name + 's', also dense); the refined block: none (its
    // group of initial 'a' is paired all-pairs before and after).
    CHECK(inc.dirty_records > 0);
    CHECK(inc.dirty_records <= 2 * static_cast<long long>(opt.dense_window - 1));
  }
}

TEST_CASE("matcher: incremental blocking runs in full when the history cannot serve") {
  m::MatchOptions opt;
  opt.dense_block = 10;
  opt.refine_block = 4;
  opt.extra_fields = {"customer_no"};
  const auto before = BlockingMix(3000, 77);
  const m::Candidates last = m::FindCandidates(before, opt, nullptr, nullptr, true);
  const Edited e = EditMix(before, 100, 100, 100, 78);
  m::CandidateStats st_full;
  const m::Candidates full = m::FindCandidates(e.records, opt, &st_full, nullptr, true);
  auto check_full = [&](const m::BlockingHistory& h, const std::string& because) {
    m::CandidateStats st;
    const m::Candidates got = m::FindCandidates(e.records, opt, &st, &h, true);
    CHECK_FALSE(got.incremental);
    CHECK(got.full_because.find(because) != std::string::npos);
    CheckSameBlocking(got, st, full, st_full);
    CHECK(got.packed.empty());
  };
  SUBCASE("over the share of changes") {
    m::BlockingHistory h = HistoryOf(last, before.size(), e);
    h.max_changed_share = 0.05;  // ~300 of 3000 changed
    check_full(h, "records changed, new or deleted (over 5 % of");
  }
  SUBCASE("the changes touch blocks of too many records") {
    m::BlockingHistory h = HistoryOf(last, before.size(), e);
    h.max_dirty_share = 0.01;
    check_full(h, "records are in blocks the changes touch (over 1 % of");
  }
  SUBCASE("the pairs cannot all be read") {
    m::BlockingHistory h = HistoryOf(last, before.size(), e);
    auto inner = h.for_each_kept;
    h.for_each_kept = [inner](const auto& kept) {
      int given = 0;
      inner([&](const m::BlockingHistory::Kept* p, size_t count) {
        if (++given < 10) kept(p, count);
      });
      return std::string("pairs file block 1 fails its checksum");
    };
    check_full(h, "fails its checksum");
  }
  SUBCASE("pairs out of order or of a changed record") {
    m::BlockingHistory h = HistoryOf(last, before.size(), e);
    h.for_each_kept = [](const auto& kept) {
      const m::BlockingHistory::Kept p[] = {{5, 9, 1, 0}, {5, 7, 1, 0}};
      kept(p, 2);
      return std::string();
    };
    check_full(h, "not in order");
    size_t changed = 0;
    while (h.changed[changed] == 0) ++changed;
    h.for_each_kept = [changed](const auto& kept) {
      const m::BlockingHistory::Kept p{static_cast<uint32_t>(changed), static_cast<uint32_t>(changed + 1), 1, 0};
      kept(&p, 1);
      return std::string();
    };
    check_full(h, "not of unchanged records");
  }
  SUBCASE("a history of other records") {
    m::BlockingHistory h = HistoryOf(last, before.size(), e);
    h.changed.pop_back();
    check_full(h, "other records");
  }
  SUBCASE("nothing changed, but the last sweep's pairs are not all there") {
    Edited same;
    same.records = before;
    for (uint32_t i = 0; i < before.size(); ++i) same.old_index.push_back(i);
    m::CandidateStats st_last;
    (void)m::FindCandidates(before, opt, &st_last, nullptr, true);
    m::BlockingHistory h = HistoryOf(last, before.size(), same, st_last);
    auto inner = h.for_each_kept;
    h.for_each_kept = [inner](const auto& kept) {  // one pair missing, no error given
      bool skipped = false;
      return inner([&](const m::BlockingHistory::Kept* p, size_t count) {
        if (!skipped && count > 0) {
          skipped = true;
          kept(p + 1, count - 1);
        } else {
          kept(p, count);
        }
      });
    };
    m::CandidateStats st, st_want;
    const m::Candidates want = m::FindCandidates(before, opt, &st_want, nullptr, true);
    const m::Candidates got = m::FindCandidates(before, opt, &st, &h, true);
    CHECK_FALSE(got.incremental);
    CHECK_FALSE(got.unchanged);
    CHECK(got.full_because.find("not all there") != std::string::npos);
    CheckSameBlocking(got, st, want, st_want);
    // A count no file of these records can hold is not reserved for.
    m::BlockingHistory huge = HistoryOf(last, before.size(), same, st_last);
    huge.last_stats->candidate_pairs = 1LL << 60;
    const m::Candidates refused = m::FindCandidates(before, opt, &st, &huge, true);
    CHECK_FALSE(refused.incremental);
    CHECK(refused.full_because.find("is impossible") != std::string::npos);
    CheckSameBlocking(refused, st, want, st_want);
  }
}

TEST_CASE("matcher: Jaro-Winkler known values") {
  struct Case {
    const char* a;
    const char* b;
    double expected;
  };
  const Case cases[] = {
      {"MARTHA", "MARHTA", 0.961},
      {"DWAYNE", "DUANE", 0.840},
      {"DIXON", "DICKSONX", 0.813},
      {"JELLYFISH", "SMELLYFISH", 0.896},
      {"martha", "martha", 1.0},
      {"", "", 1.0},
      {"abc", "", 0.0},
      {"abc", "xyz", 0.0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(m::JaroWinkler(c.a, c.b) == doctest::Approx(c.expected).epsilon(0.001));
    CHECK(m::JaroWinkler(c.b, c.a) == doctest::Approx(c.expected).epsilon(0.001));
  }
}

TEST_CASE("matcher: OSA Damerau-Levenshtein counts an adjacent transposition as one edit") {
  struct Case {
    const char* a;
    const char* b;
    size_t expected;
  };
  const Case cases[] = {
      {"ca", "ac", 1},          {"abcd", "acbd", 1},   {"19800307", "19800370", 1},
      {"kitten", "sitting", 3}, {"ca", "abc", 3},  // OSA, not unrestricted (2)
      {"", "abc", 3},           {"abc", "abc", 0},     {"2000", "2010", 1},
      {"martha", "marhta", 1},  {"smith", "smyth", 1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(m::DamerauLevenshtein(c.a, c.b) == c.expected);
    CHECK(m::DamerauLevenshtein(c.b, c.a) == c.expected);
  }
}

TEST_CASE("matcher: token-set similarity ignores order and credits typo'd tokens") {
  CHECK(m::TokenSetSimilarity("tullaroop street", "street tullaroop") == doctest::Approx(1.0));
  CHECK(m::TokenSetSimilarity("acme widgets", "acme widgets") == doctest::Approx(1.0));
  CHECK(m::TokenSetSimilarity("6 tullaroop street", "6 tullarop street") > 0.9);
  CHECK(m::TokenSetSimilarity("6 tullaroop street", "8 tullaroop street") < 0.9);
  CHECK(m::TokenSetSimilarity("6 tullaroop street", "8 tullaroop street") > 0.7);
  CHECK(m::TokenSetSimilarity("globex", "initech") < 0.5);
  CHECK(m::TokenSetSimilarity("", "x") == 0.0);
}

TEST_CASE("matcher: comparison levels per field") {
  m::MatchOptions opt;
  const auto a = Person("a", "martha", "smith", "19800307", "2000", "6 tullaroop street", "bega");
  SUBCASE("names") {
    CHECK(Level(a, Person("b", "martha", "smith", "", ""), "first_name") == 4);
    CHECK(Level(a, Person("b", "marhta", "smith", "", ""), "first_name") == 3);
    CHECK(Level(a, Person("b", "m", "smith", "", ""), "first_name") == 2);
    CHECK(Level(a, Person("b", "zoe", "smith", "", ""), "first_name") == 1);
    CHECK(Level(a, Person("b", "", "smith", "", ""), "first_name") == 0);
    CHECK(Level(a, Person("b", "martha", "smyth", "", ""), "last_name") == 2);  // JW 0.893
    CHECK(Level(a, Person("b", "martha", "smiht", "", ""), "last_name") == 3);
  }
  SUBCASE("nickname-canonical first names are exact") {
    auto x = Person("x", "robert", "smith", "", "");
    x.first_raw_ascii = "bob";
    auto y = Person("y", "robert", "smith", "", "");
    CHECK(Level(x, y, "first_name") == 4);
  }
  SUBCASE("given name and surname swapped") {
    auto b = Person("b", "smith", "martha", "", "");
    CHECK(Level(a, b, "first_name") == 4);
    CHECK(Level(a, b, "last_name") == 4);
  }
  SUBCASE("birthdate: exact, one typo, transposition, day/month swap, else, missing") {
    CHECK(Level(a, Person("b", "", "", "19800307", ""), "birthdate") == 3);
    CHECK(Level(a, Person("b", "", "", "19800308", ""), "birthdate") == 2);
    CHECK(Level(a, Person("b", "", "", "19800370", ""), "birthdate") == 2);
    CHECK(Level(a, Person("b", "", "", "19800703", ""), "birthdate") == 2);
    CHECK(Level(a, Person("b", "", "", "19751224", ""), "birthdate") == 1);
    CHECK(Level(a, Person("b", "", "", "", ""), "birthdate") == 0);
  }
  SUBCASE("postcode, street, city") {
    CHECK(Level(a, Person("b", "", "", "", "2000"), "postcode") == 3);
    CHECK(Level(a, Person("b", "", "", "", "2001"), "postcode") == 2);
    CHECK(Level(a, Person("b", "", "", "", "3100"), "postcode") == 1);
    CHECK(Level(a, Person("b", "", "", "", "", "6 tullaroop street"), "street") == 3);
    CHECK(Level(a, Person("b", "", "", "", "", "street tullaroop 6"), "street") == 3);
    CHECK(Level(a, Person("b", "", "", "", "", "8 tullaroop street"), "street") == 2);
    CHECK(Level(a, Person("b", "", "", "", "", "41 kirkcaldy place"), "street") == 1);
    CHECK(Level(a, Person("b", "", "", "", "", "", "bgea"), "city") == 2);
  }
  SUBCASE("region and country count only when a city is missing") {
    // A city names its region and country: counted again they made "same city" outweigh names
    // and EM took neighbours for duplicates (docs/dedup.md, section 8).
    auto x = Person("x", "", "", "", "", "", "hue");
    auto y = Person("y", "", "", "", "", "", "hue");
    x.region = y.region = "thua thien hue";
    x.country = y.country = "VN";
    CHECK(Level(x, y, "city") == 3);
    CHECK(Level(x, y, "region") == 0);
    CHECK(Level(x, y, "country") == 0);
    y.city = m::Text();
    CHECK(Level(x, y, "city") == 0);
    CHECK(Level(x, y, "region") == 2);
    CHECK(Level(x, y, "country") == 2);
    y.country = "CN";
    CHECK(Level(x, y, "country") == 1);
  }
  SUBCASE("email, phone, extras") {
    auto x = a, y = a;
    x.emails = {"jo@example.com"};
    y.emails = {"other@example.com", "jo@example.com"};
    CHECK(Level(x, y, "email") == 3);
    y.emails = {"jo@example.org"};
    CHECK(Level(x, y, "email") == 2);
    y.emails = {"al@example.org"};
    CHECK(Level(x, y, "email") == 1);
    x.phones = {"4155550100"};
    y.phones = {"4155550100"};
    CHECK(Level(x, y, "phone") == 2);
    m::MatchOptions with_extra;
    with_extra.extra_fields = {"soc_sec_id"};
    x.extra["soc_sec_id"] = "1234567";
    CHECK(Level(x, y, "soc_sec_id", with_extra) == 0);
    y.extra["soc_sec_id"] = "1234567";
    CHECK(Level(x, y, "soc_sec_id", with_extra) == 2);
    y.extra["soc_sec_id"] = "1234576";
    CHECK(Level(x, y, "soc_sec_id", with_extra) == 1);
  }
}

TEST_CASE("matcher: EM recovers m and u from synthetic vectors with known parameters") {
  m::MatchOptions opt;
  const auto specs = m::ComparedFields(opt);
  // Known truth for five fields (level 1..L-1); the rest stay missing.
  struct Truth {
    std::string field;
    std::vector<double> m, u;  // index 0 unused
  };
  const std::vector<Truth> truth = {
      {"first_name", {0, 0.05, 0.05, 0.10, 0.80}, {0, 0.85, 0.07, 0.05, 0.03}},
      {"last_name", {0, 0.04, 0.04, 0.12, 0.80}, {0, 0.80, 0.10, 0.06, 0.04}},
      {"postcode", {0, 0.05, 0.10, 0.85}, {0, 0.90, 0.07, 0.03}},
      {"birthdate", {0, 0.05, 0.15, 0.80}, {0, 0.97, 0.02, 0.01}},
      {"region", {0, 0.10, 0.90}, {0, 0.70, 0.30}},
  };
  const double lambda = 0.15;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  auto draw = [&](const std::vector<double>& p) {
    double x = uni(rng);
    for (size_t l = 1; l < p.size(); ++l) {
      if ((x -= p[l]) < 0) return static_cast<uint8_t>(l);
    }
    return static_cast<uint8_t>(p.size() - 1);
  };
  std::vector<m::ComparisonVector> vectors(40000);
  for (auto& v : vectors) {
    v.levels.assign(specs.size(), 0);
    const bool match = uni(rng) < lambda;
    for (const auto& t : truth) {
      if (uni(rng) < 0.05) continue;  // some missing values
      v.levels[FieldIndex(opt, t.field)] = draw(match ? t.m : t.u);
    }
  }
  const m::Model model = m::EstimateModel(vectors, opt);
  CHECK(model.converged);
  CHECK(model.em_iterations <= 100);
  CHECK(model.lambda == doctest::Approx(lambda).epsilon(0.1));
  for (const auto& t : truth) {
    const auto& fm = model.fields[FieldIndex(opt, t.field)];
    CHECK(fm.name == t.field);
    for (size_t l = 1; l < t.m.size(); ++l) {
      CAPTURE(t.field);
      CAPTURE(l);
      CHECK(std::abs(fm.m[l] - t.m[l]) < 0.03);
      CHECK(std::abs(fm.u[l] - t.u[l]) < 0.03);
    }
  }

  SUBCASE("overrides stay pinned and the other levels still sum to 1") {
    opt.overrides.m["region"][2] = 0.6;
    opt.overrides.u["postcode"][3] = 0.2;
    const m::Model pinned = m::EstimateModel(vectors, opt);
    const auto& region = pinned.fields[FieldIndex(opt, "region")];
    const auto& postcode = pinned.fields[FieldIndex(opt, "postcode")];
    CHECK(region.m[2] == doctest::Approx(0.6));
    CHECK(region.m[1] == doctest::Approx(0.4));
    CHECK(postcode.u[3] == doctest::Approx(0.2));
    CHECK(postcode.u[1] + postcode.u[2] == doctest::Approx(0.8));
  }
}

TEST_CASE("matcher: probabilities are clamped and scores add log2(m/u)") {
  m::MatchOptions opt;
  std::vector<m::ComparisonVector> vectors(10);  // all identical: degenerate data
  for (auto& v : vectors) v.levels.assign(m::ComparedFields(opt).size(), 0);
  for (auto& v : vectors) v.levels[0] = 4;
  const m::Model model = m::EstimateModel(vectors, opt);
  for (const auto& f : model.fields) {
    for (size_t l = 1; l < f.m.size(); ++l) {
      CHECK(f.m[l] >= 1e-6);
      CHECK(f.m[l] <= 1 - 1e-6);
      CHECK(f.u[l] >= 1e-6);
      CHECK(f.u[l] <= 1 - 1e-6);
    }
  }
  const m::Model hand = HandModel(opt);
  m::ComparisonVector v;
  v.levels.assign(m::ComparedFields(opt).size(), 0);
  CHECK(m::ScorePair(hand, v).weight == 0.0);  // all missing: neutral
  v.levels[FieldIndex(opt, "region")] = 2;
  const auto s = m::ScorePair(hand, v);
  CHECK(s.weight == doctest::Approx(std::log2(0.9 / 0.1)));
  CHECK(m::FieldNames(hand, s.matched) == std::vector<std::string>{"region"});
  const double odds = 0.01 / 0.99 * 9.0;
  CHECK(s.probability == doctest::Approx(odds / (1 + odds)));
}

TEST_CASE("matcher: a rare shared surname weighs more than a common one (term frequencies)") {
  // 100 contacts: 40 Nguyens (as in a Vietnamese CRM) and 60 other surnames, two of them
  // "okonkwo". Two strangers each: same given name, birthdate and postcode.
  m::MatchOptions opt;
  std::vector<m::Record> recs;
  for (int i = 0; i < 40; ++i) {
    recs.push_back(Person(fmt::format("n{}", i), fmt::format("given{}", i), "nguyen", "", ""));
  }
  for (int i = 0; i < 58; ++i) {
    recs.push_back(Person(fmt::format("o{}", i), fmt::format("other{}", i),
                          fmt::format("surname{}", i), "", ""));
  }
  recs.push_back(Person("r1", "an", "okonkwo", "19800101", "100000"));
  recs.push_back(Person("r2", "an", "okonkwo", "19800101", "100000"));
  recs[0] = Person("n0", "an", "nguyen", "19800101", "100000");
  recs[1] = Person("n1", "an", "nguyen", "19800101", "100000");

  m::Model model = HandModel(opt);
  model.tf = m::CountTermFrequencies(recs, opt);
  const auto common_v = m::Compare(recs[0], recs[1], opt);
  const auto rare_v = m::Compare(recs[98], recs[99], opt);
  REQUIRE(common_v.levels == rare_v.levels);  // the same comparison vector...
  const auto common = m::ScorePair(model, common_v, recs[0], recs[1]);
  const auto rare = m::ScorePair(model, rare_v, recs[98], recs[99]);
  // ...but "nguyen" is held by 40 % of the contacts, far above the average chance u(exact) that
  // two strangers' surnames agree (1/30 in this model), so its agreement weighs log2(0.40 / u)
  // bits less; "okonkwo" (2 %) is rarer than average and keeps the average weight. The given
  // name "an" (4 of 100) and the postcode (all four that have one) weigh the same for both.
  const double u_last = model.fields[FieldIndex(opt, "last_name")].u.back();
  CHECK(rare.weight - common.weight == doctest::Approx(std::log2(0.40 / u_last)));
  CHECK(rare.probability > common.probability);
  CHECK(rare.tf_bits - common.tf_bits == doctest::Approx(std::log2(0.40 / u_last)));
  CHECK(m::TermFrequencyAdjustment(u_last, 0.40f) == doctest::Approx(std::log2(u_last / 0.40)));
  CHECK(m::TermFrequencyAdjustment(u_last, 0.02f) == 0.0);  // never above the average weight
  CHECK(model.tf.Share(1, "nguyen") == doctest::Approx(0.40));
  CHECK(model.tf.Share(1, "okonkwo") == doctest::Approx(0.02));
  CHECK(model.tf.Share(1, "nobody") == 0.0f);
  // Without records, or without term frequencies, both weigh the field's average.
  CHECK(m::ScorePair(model, common_v).weight == m::ScorePair(model, rare_v).weight);
  m::MatchOptions off = opt;
  off.term_frequencies = false;
  CHECK(m::CountTermFrequencies(recs, off).fields.empty());

  SUBCASE("a crossed or nickname agreement is not term-frequency weighted") {
    m::Record a = Person("x1", "nguyen", "an", "19800101", "100000");  // names swapped
    const auto v = m::Compare(a, recs[1], opt);
    CHECK(v.levels[FieldIndex(opt, "last_name")] == 4);  // top level via the crossed comparison
    const auto s = m::ScorePair(model, v, a, recs[1]);
    // Only the postcode (the four records that have one share it: 100 %) is weighed by its value.
    CHECK(s.tf_bits == doctest::Approx(m::TermFrequencyAdjustment(
                           model.fields[FieldIndex(opt, "postcode")].u.back(), 1.0f)));
  }

  SUBCASE("FindDuplicates scores each link as ScorePair with the records does") {
    // Its fast path weighs a pair from per-record shares; the link must carry the same score.
    auto people = Synthetic(400, 60, 7);
    for (int i = 0; i < 30; ++i) people[static_cast<size_t>(i) * 7].last = "nguyen";
    opt.threads = 2;
    const auto res = m::FindDuplicates(people, opt, SmallerIndexSurvives);
    REQUIRE_FALSE(res.model.tf.fields.empty());
    CHECK_FALSE(res.links.empty());
    int adjusted = 0;
    for (const auto& l : res.links) {
      const auto v = m::Compare(people[l.a], people[l.b], opt);
      const auto s = m::ScorePair(res.model, v, people[l.a], people[l.b]);
      uint64_t packed = 0;  // what BuildClusters takes for Compare(a, b) instead of comparing
      for (size_t f = 0; f < v.levels.size(); ++f) packed |= uint64_t{v.levels[f]} << (4 * f);
      CHECK(l.packed == packed);
      CHECK(l.score.probability == s.probability);
      CHECK(l.score.weight == s.weight);
      CHECK(l.score.matched == s.matched);
      CHECK(l.score.tf_bits == s.tf_bits);
      CHECK(l.score.tf_bits <= 0.0);
      adjusted += l.score.tf_bits < 0;
    }
    CHECK(adjusted > 0);
  }
}

TEST_CASE("matcher: blocking pairs records that differ only by email case and phone format") {
  m::Normalizer norm;
  std::vector<m::RawRecord> raw;
  for (int i = 0; i < 60; ++i) {  // unrelated filler
    raw.push_back({"f" + std::to_string(i),
                   {{"first_name", "Person" + std::to_string(i)},
                    {"last_name",
                     std::string(1, static_cast<char>('a' + i % 26)) + "zzq" + std::to_string(i)},
                    {"email", "p" + std::to_string(i) + "@acme-mail.com"}}});
  }
  // Two pairs, each identical except for the email's case / the phone number's format. (Not
  // example.com or 555-0100: placeholders are prepared as empty.)
  raw.push_back(
      {"x1",
       {{"first_name", "Ann"}, {"last_name", "Ortega"}, {"email", "Ann.Ortega@Acme-Mail.COM"}}});
  raw.push_back(
      {"x2",
       {{"first_name", "Ann"}, {"last_name", "Ortega"}, {"email", "ann.ortega@acme-mail.com"}}});
  raw.push_back(
      {"y1", {{"first_name", "Bo"}, {"last_name", "Lind"}, {"phone", "+1 (415) 829-0173"}}});
  raw.push_back({"y2", {{"first_name", "Bo"}, {"last_name", "Lind"}, {"phone", "415.829.0173"}}});
  std::vector<m::Record> recs;
  for (const auto& r : raw) recs.push_back(m::Prepare(norm, r));
  KeyPairs kp(recs);
  auto& [pairs, stats] = kp;
  auto has = [&](uint32_t a, uint32_t b) { return kp.Has(a, b); };
  CHECK(has(60, 61));
  CHECK(has(62, 63));
  CHECK(stats.pairs_by_key["email"] == 1);  // proposed by the email key itself
  CHECK(stats.pairs_by_key["phone"] == 1);
  CHECK(stats.records == 64);
  CHECK(stats.total_pairs == 64 * 63 / 2);
  CHECK(std::is_sorted(pairs.begin(), pairs.end()));
  CHECK(std::adjacent_find(pairs.begin(), pairs.end()) == pairs.end());
  CHECK(std::all_of(pairs.begin(), pairs.end(), [](const auto& p) { return p.first < p.second; }));
}

TEST_CASE("matcher: the birthdate key needs an initial of either name in common") {
  // Birthdate alone paired strangers born the same day: 9.8M of a 1M CRM's 21.8M candidates,
  // enough to turn EM's classes into "born the same day" and "same surname".
  std::vector<m::Record> recs = {
      Person("ann", "ann", "ortega", "19800307", ""),
      Person("married", "ann", "lindqvist", "19800307", ""),  // changed surname: same key
      Person("swapped", "ortega", "ann", "19800307", ""),      // names swapped: same key
      Person("stranger", "bo", "kim", "19800307", ""),         // born the same day, nothing else
  };
  KeyPairs kp(recs);
  auto& stats = kp.stats;
  auto has = [&](uint32_t a, uint32_t b) { return kp.Has(a, b); };
  CHECK(has(0, 1));
  CHECK(has(0, 2));
  CHECK(has(1, 2));
  CHECK_FALSE(has(0, 3));
  CHECK_FALSE(has(1, 3));
  CHECK_FALSE(has(2, 3));
  CHECK(stats.pairs_by_key["birthdate"] == 3);
}

// At 10M contacts a birthdate + initial block held 20–40 strangers and the key proposed 130M of
// 248M candidate pairs; a block over refine_block is split by the name's phonetic code.
TEST_CASE("matcher: a large birthdate block is split by the phonetic name code") {
  const std::vector<std::string> firsts = {"adam", "alan", "amir", "arlo", "axel", "abel", "ames",
                                           "alvin", "avi", "abdul", "alf", "ashok", "aziz",
                                           "anton", "ajax", "arvid", "ansel", "akira"};
  std::vector<m::Record> recs;
  for (size_t i = 0; i < firsts.size(); ++i) {
    recs.push_back(Person(std::to_string(i), firsts[i], "", "19800307", ""));  // given name only
  }
  recs.push_back(Person("anna", "anna", "ortega", "19800307", ""));
  recs.push_back(Person("ana", "ana", "kowalski", "19800307", ""));  // typo'd given name, new surname
  const auto anna = static_cast<uint32_t>(recs.size() - 2), ana = anna + 1;
  m::MatchOptions opt;
  opt.sn_window = 0;
  opt.refine_block = 12;
  m::CandidateStats stats;
  auto pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(stats.blocks_refined == 1);
  CHECK(pairs == std::vector<std::pair<uint32_t, uint32_t>>{{anna, ana}});
  CHECK(stats.pairs_by_key["birthdate"] == 1);
  // A block of at most refine_block records is paired all-with-all, as in a small CRM.
  opt.refine_block = recs.size();
  pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(stats.blocks_refined == 0);
  CHECK(pairs.size() == recs.size() * (recs.size() - 1) / 2);
  opt.refine_block = 0;  // never split
  pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(pairs.size() == recs.size() * (recs.size() - 1) / 2);
}

TEST_CASE("matcher: oversized blocks are skipped and counted") {
  std::vector<m::Record> recs;
  for (int i = 0; i < 30; ++i) {
    m::Record r;
    r.id = std::to_string(i);
    r.emails = {"info@example.com"};
    recs.push_back(r);
  }
  m::MatchOptions opt;
  opt.max_block = 10;
  m::CandidateStats stats;
  auto pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(pairs.empty());
  CHECK(stats.blocks_capped >= 1);
  CHECK(stats.largest_block == 30);
  CHECK(stats.reduction_ratio == doctest::Approx(1.0));
  opt.max_block = 30;
  pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(pairs.size() == 30 * 29 / 2);
}

TEST_CASE("matcher: a block over dense_block is paired as a sorted neighbourhood by name") {
  // 60 colleagues behind one switchboard number; the two records of one person ("Nguyen An")
  // sort next to each other wherever they are in the input.
  std::vector<m::Record> recs;
  for (int i = 0; i < 60; ++i) {
    m::Record r;
    r.id = std::to_string(i);
    r.phones = {"4930123456"};
    r.last = "surname" + std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i);
    recs.push_back(r);  // no given name: the name keys propose nothing for these
  }
  recs[7].last = recs[52].last = "nguyen";
  recs[7].first = recs[52].first = "an";
  m::MatchOptions opt;
  opt.sn_window = 0;  // only the phone block proposes pairs
  opt.dense_block = 40;
  opt.dense_window = 4;
  m::CandidateStats stats;
  auto pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(stats.blocks_windowed == 1);
  CHECK(stats.blocks_capped == 0);
  CHECK(stats.largest_block == 60);
  // Each of the 60 sorted records pairs with the next 3 (fewer at the end): 57·3 + 2 + 1 (the
  // two "nguyen an" records' own name block adds their pair again, counted once).
  CHECK(pairs.size() == 57 * 3 + 2 + 1);
  CHECK(std::count(pairs.begin(), pairs.end(), std::make_pair(7u, 52u)) == 1);
  // At or under dense_block a block is still paired all-with-all.
  opt.dense_block = 60;
  pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(stats.blocks_windowed == 0);
  CHECK(pairs.size() == 60 * 59 / 2);
  opt.dense_block = 0;  // off
  pairs = m::CandidatePairs(recs, opt, &stats);
  CHECK(pairs.size() == 60 * 59 / 2);
}

TEST_CASE("matcher: chaining guard sends A~B~C to review when A and C differ") {
  m::MatchOptions opt;
  opt.require_identifier = false;  // B has nothing but a name; this test is about chaining
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "john", "smith", "19800101", "2000", "1 main street", "bega"),
      Person("B", "john", "smith", "", "", "", ""),
      Person("C", "jon", "smith", "19551231", "7000", "99 other road", "perth"),
  };
  std::vector<m::Link> links = {link(0, 1, 0.999), link(1, 2, 0.999)};
  auto clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives);
  // C scores below review_threshold against the survivor A: it is split off, and A~B, though a
  // sure link, goes to a human because B also links to C.
  REQUIRE(clusters.size() == 1);
  const auto& c = clusters[0];
  CHECK(c.members == std::vector<uint32_t>{0, 1});
  CHECK(c.decision == m::Decision::kReview);
  CHECK(m::ScorePair(model, m::Compare(recs[0], recs[2], opt)).probability < opt.review_threshold);
  CHECK(c.why.find("linked with C") != std::string::npos);
  CHECK(c.why.find("split off") != std::string::npos);
  CHECK(c.scores.size() == 2);

  SUBCASE("the survivor follows `better`") {
    auto prefer_b = [](uint32_t a, uint32_t b) { return a == 1 && b != 1; };
    auto cl = m::BuildClusters(recs, model, links, opt, prefer_b);
    REQUIRE(cl.size() == 1);
    CHECK(cl[0].members == std::vector<uint32_t>{1, 0, 2});
    CHECK(cl[0].decision == m::Decision::kAuto);  // B~A and B~C are both direct links
    CHECK(cl[0].score == doctest::Approx(0.999));
  }
}

TEST_CASE("matcher: a sparse record chaining strangers never puts a 0.00 member before a human") {
  m::MatchOptions opt;
  opt.require_identifier = false;
  opt.review_different_given_names = false;
  const m::Model model = HandModel(opt);
  // H holds a surname and a postcode only; the others are different people who share both.
  std::vector<m::Record> recs = {
      Person("P1", "thi lan", "bui", "19000101", "550000", "12 tran phu", "da nang"),
      Person("P2", "thu trang", "bui", "19711114", "550000", "4 le loi", "da nang"),
      Person("P3", "minh tuan", "bui", "19630904", "550000", "80 hung vuong", "da nang"),
      Person("P4", "thanh tung", "bui", "19850312", "550000", "7 bach dang", "da nang"),
      Person("H", "", "bui", "", "550000", "", ""),
  };
  std::vector<m::Link> links;
  for (uint32_t i = 0; i < 4; ++i) links.push_back(link(i, 4, 0.85));  // review band
  m::ClusterStats stats;
  auto clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives, &stats);
  for (uint32_t i = 0; i < 4; ++i) {
    for (uint32_t j = i + 1; j < 4; ++j) {
      REQUIRE(m::ScorePair(model, m::Compare(recs[i], recs[j], opt)).probability <
              opt.review_threshold);
    }
  }
  // Without the split this was one 5-member review item whose weakest member scored ~0.
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].members == std::vector<uint32_t>{0, 4});
  CHECK(clusters[0].decision == m::Decision::kReview);
  CHECK(stats.members_split_off == 3 + 2 + 1);  // P2..P4, then P3..P4, then P4
  for (const auto& c : clusters) {
    for (double p : c.scores) CHECK(p >= opt.review_threshold);
  }
}

TEST_CASE("matcher: a review-band link never turns a sure cluster into a review item") {
  m::MatchOptions opt;
  opt.require_identifier = false;
  opt.review_different_given_names = false;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "john", "smith", "19800101", "2000", "1 main street", "bega"),
      Person("B", "john", "smith", "19800101", "2000", "1 main street", "bega"),
      Person("C", "joan", "smyth", "", "2000", "", "bega"),
      Person("D", "jane", "smyth", "", "2000", "", "bega"),
  };
  // A~B sure; B~C weak; C~D weak.
  const std::vector<m::Link> links = {link(0, 1, 0.999), link(1, 2, 0.85), link(2, 3, 0.84)};
  m::ClusterStats stats;
  auto clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives, &stats);
  REQUIRE(clusters.size() == 2);
  CHECK(clusters[0].members == std::vector<uint32_t>{0, 1});
  CHECK(clusters[0].decision == m::Decision::kAuto);
  CHECK(clusters[1].members == std::vector<uint32_t>{2, 3});  // weak links among themselves
  CHECK(clusters[1].decision == m::Decision::kReview);
  CHECK(stats.review_links_to_auto == 1);
  CHECK(stats.links_over_max_cluster == 0);
}

TEST_CASE("matcher: max_cluster cuts a chain at its weakest links") {
  m::MatchOptions opt;
  opt.require_identifier = false;
  opt.review_different_given_names = false;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs;
  for (int i = 0; i < 6; ++i) {
    recs.push_back(Person(std::string(1, static_cast<char>('A' + i)), "john", "smith", "", "2000"));
  }
  // A chain A-B-C-D-E-F, strongest in the middle.
  const std::vector<m::Link> links = {link(0, 1, 0.96), link(1, 2, 0.951), link(2, 3, 0.999),
                                      link(3, 4, 0.99), link(4, 5, 0.955)};
  opt.max_cluster = 3;
  m::ClusterStats stats;
  auto clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives, &stats);
  // Joined in score order: C~D, D~E (CDE = 3), A~B; then F~E and B~C would exceed 3.
  REQUIRE(clusters.size() == 2);
  CHECK(clusters[0].members == std::vector<uint32_t>{0, 1});
  CHECK(clusters[1].members == std::vector<uint32_t>{2, 3, 4});
  CHECK(stats.links_over_max_cluster == 2);
  opt.max_cluster = 0;  // no cap: one chain
  clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives, &stats);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].members.size() == 6);
  CHECK(stats.links_over_max_cluster == 0);
}

TEST_CASE("matcher: household guard sends different given names at one address to review") {
  m::MatchOptions opt;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "john", "smith", "", "2000", "1 main street", "bega"),
      Person("B", "mary", "smith", "", "2000", "1 main street", "bega"),
  };
  m::Link l{0, 1, {}};
  l.score.probability = 0.999;
  CHECK(opt.review_different_given_names);  // on by default
  opt.review_different_given_names = false;
  auto clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  opt.review_different_given_names = true;
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].decision == m::Decision::kReview);
  CHECK(clusters[0].why.find("household") != std::string::npos);
  // A personal identifier in common says "the same person" despite the given name.
  recs[0].birthdate = recs[1].birthdate = "19800101";
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  recs[1].birthdate = "19811201";  // different people born on different days: review
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kReview);
  recs[1].birthdate = "";
  recs[0].emails = recs[1].emails = {"j.smith@example.com"};
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  recs[0].emails = recs[1].emails = {};
  recs[1].first = recs[1].first_raw_ascii = "jon";  // a typo is not another person
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
}

TEST_CASE("matcher: household guard sends the same name with another birthdate to review") {
  // A father and son, or two namesakes on one street: same names, same address and phone, but
  // two birthdates. One person has one birthdate.
  m::MatchOptions opt;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "michael", "jones", "19810913", "78284", "635 park ave apt 1b", "san antonio"),
      Person("B", "michael", "jones", "19440726", "78284", "635 park ave apt 1b", "san antonio"),
  };
  recs[0].phones = recs[1].phones = {"12103336706"};
  m::Link l{0, 1, {}};
  l.score.probability = 0.9999;
  auto clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].decision == m::Decision::kReview);
  CHECK(clusters[0].why.find("another birthdate") != std::string::npos);
  CHECK(clusters[0].why.find("19440726") != std::string::npos);
  // One typo'd digit or a day/month swap is still the same birthdate.
  recs[1].birthdate = "19810931";
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  recs[1].birthdate = "";  // missing says nothing
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  // The same email address (or an exact extra identifier) outweighs a mistyped birthdate.
  recs[1].birthdate = "19440726";
  recs[0].emails = recs[1].emails = {"mjones@example.com"};
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  recs[0].emails = recs[1].emails = {};
  opt.review_different_given_names = false;  // household_guard: false turns both checks off
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
}

TEST_CASE("matcher: identifier guard: names and places alone never auto-merge") {
  m::MatchOptions opt;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "birhanu", "", "", "1000", "", "dire dawa"),
      Person("B", "birhanu", "", "", "1000", "", "dire dawa"),
  };
  m::Link l{0, 1, {}};
  l.score.probability = 0.996;
  auto clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].decision == m::Decision::kReview);
  CHECK(clusters[0].why.find("shares no email, phone, birthdate, street") != std::string::npos);
  recs[0].phones = recs[1].phones = {"251254443194"};  // the same phone: an identifier
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
  opt.require_identifier = false;
  recs[0].phones = recs[1].phones = {};
  clusters = m::BuildClusters(recs, model, {l}, opt, SmallerIndexSurvives);
  CHECK(clusters[0].decision == m::Decision::kAuto);
}

TEST_CASE("matcher: a rejected pair never ends up in one cluster") {
  m::MatchOptions opt;
  const m::Model model = HandModel(opt);
  std::vector<m::Record> recs = {
      Person("A", "john", "smith", "19800101", "2000"),
      Person("B", "john", "smith", "19800101", "2000"),
      Person("C", "john", "smith", "19800101", "2000"),
      Person("D", "mary", "jones", "19700101", "3000"),
  };
  const std::vector<m::Link> links = {link(0, 1, 0.999), link(1, 2, 0.998), link(0, 2, 0.997)};
  opt.rejected = {{"A", "C"}};
  const auto clusters = m::BuildClusters(recs, model, links, opt, SmallerIndexSurvives);
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].members == std::vector<uint32_t>{0, 1});  // A~B came first (higher score)

  SUBCASE("FindDuplicates drops the rejected link itself") {
    m::MatchOptions o2;
    o2.rejected = {{"A", "B"}, {"B", "C"}};
    auto r = m::FindDuplicates(recs, o2, SmallerIndexSurvives);
    for (const auto& l : r.links) {
      CHECK_FALSE((l.a == 0 && l.b == 1));
      CHECK_FALSE((l.a == 1 && l.b == 2));
    }
    for (const auto& c : r.clusters) {
      const bool a = std::count(c.members.begin(), c.members.end(), 0u) > 0;
      const bool b = std::count(c.members.begin(), c.members.end(), 1u) > 0;
      const bool cc = std::count(c.members.begin(), c.members.end(), 2u) > 0;
      CHECK_FALSE((a && b));
      CHECK_FALSE((b && cc));
    }
  }
}

TEST_CASE("matcher: FindDuplicates finds synthetic duplicates and is deterministic") {
  const auto recs = Synthetic(400, 60, 7);
  m::MatchOptions opt;
  opt.extra_fields = {};
  opt.threads = 2;
  const auto r = m::FindDuplicates(recs, opt, SmallerIndexSurvives);
  CHECK(r.stats.candidate_pairs > 0);
  CHECK(r.model.converged);
  int found = 0, wrong = 0;
  for (const auto& c : r.clusters) {
    CHECK(c.members.size() >= 2);
    CHECK(c.scores.size() == c.members.size());
    for (size_t i = 1; i < c.members.size(); ++i) {
      const std::string_view s = recs[c.members[0]].id.view();
      const std::string_view o = recs[c.members[i]].id.view();
      if (s.substr(1) == o.substr(1))
        ++found;
      else
        ++wrong;
    }
  }
  CHECK(found >= 55);
  CHECK(wrong <= 3);
  for (size_t i = 1; i < r.clusters.size(); ++i) {
    CHECK(*std::min_element(r.clusters[i - 1].members.begin(), r.clusters[i - 1].members.end()) <
          *std::min_element(r.clusters[i].members.begin(), r.clusters[i].members.end()));
  }

  opt.threads = 1;
  const auto again = m::FindDuplicates(recs, opt, SmallerIndexSurvives);
  CHECK(again.stats.candidate_pairs == r.stats.candidate_pairs);
  CHECK(again.model.em_iterations == r.model.em_iterations);
  CHECK(again.model.lambda == r.model.lambda);
  REQUIRE(again.links.size() == r.links.size());
  for (size_t i = 0; i < r.links.size(); ++i) {
    CHECK(again.links[i].a == r.links[i].a);
    CHECK(again.links[i].b == r.links[i].b);
    CHECK(again.links[i].score.probability == r.links[i].score.probability);
  }
  REQUIRE(again.clusters.size() == r.clusters.size());
  for (size_t i = 0; i < r.clusters.size(); ++i) {
    CHECK(again.clusters[i].members == r.clusters[i].members);
    CHECK(again.clusters[i].decision == r.clusters[i].decision);
    CHECK(again.clusters[i].why == r.clusters[i].why);
  }
}

TEST_CASE("matcher: an exception on a worker thread reaches the caller after every thread ended") {
  // Uncaught on a std::thread it would end the process; the job turns it into a failed run.
  for (size_t thrower : {size_t{0}, size_t{2}}) {  // a started thread, the caller's own share
    std::atomic<int> ran{0};
    CHECK_THROWS_AS(m::OnThreads(3,
                                 [&](size_t w) {
                                   ++ran;
                                   if (w == thrower) throw std::runtime_error("worker");
                                 }),
                    std::runtime_error);
    CHECK(ran.load() == 3);
  }
  std::atomic<long long> sum{0};
  CHECK_THROWS_AS(m::ParallelChunks(10000, 2,
                                    [&](size_t b, size_t e) {
                                      sum += static_cast<long long>(e - b);
                                      if (b == 0) throw std::bad_alloc();
                                    }),
                  std::bad_alloc);
  CHECK(sum.load() == 10000);  // both chunks ran: the other thread was joined, not abandoned
}

TEST_CASE("matcher: with thousands of clusters, two threads give the clusters and shares of one") {
  // Enough duplicates that the components are split into clusters on two threads (ParallelChunks
  // runs one thread below 1,024 items) and every per-pair loop takes both threads.
  const auto recs = Synthetic(6000, 3000, 11);
  m::MatchOptions opt;
  opt.threads = 2;
  const auto two = m::FindDuplicates(recs, opt, SmallerIndexSurvives);
  opt.threads = 1;
  const auto one = m::FindDuplicates(recs, opt, SmallerIndexSurvives);
  REQUIRE(two.clusters.size() > 1024);
  REQUIRE(one.clusters.size() == two.clusters.size());
  for (size_t i = 0; i < one.clusters.size(); ++i) {
    CHECK(one.clusters[i].members == two.clusters[i].members);
    CHECK(one.clusters[i].scores == two.clusters[i].scores);
    CHECK(one.clusters[i].matched == two.clusters[i].matched);
    CHECK(one.clusters[i].decision == two.clusters[i].decision);
    CHECK(one.clusters[i].why == two.clusters[i].why);
  }
  CHECK(one.cluster_stats.members_split_off == two.cluster_stats.members_split_off);
  CHECK(one.model.lambda == two.model.lambda);

  // The shares counted with the term frequencies are what Share answers for each record.
  std::vector<std::vector<float>> shares;
  const auto tf = m::CountTermFrequencies(recs, opt, &shares);
  REQUIRE(shares.size() == tf.fields.size());
  REQUIRE_FALSE(tf.fields.empty());
  for (size_t k = 0; k < tf.fields.size(); ++k) {
    REQUIRE(shares[k].size() == recs.size());
    for (size_t i = 0; i < recs.size(); ++i) {
      CHECK(shares[k][i] == tf.Share(k, m::TermValue(recs[i], tf.fields[k].index)));
    }
  }
  // Each field's counts: one per distinct value, ascending by hash, as a plain count gives them
  // (the bucketed sort must give the order of one sort of all the values).
  for (size_t k = 0; k < tf.fields.size(); ++k) {
    std::map<uint64_t, uint32_t> plain;
    long long values = 0;
    for (const auto& rec : recs) {
      const std::string_view v = m::TermValue(rec, tf.fields[k].index);
      if (v.empty()) continue;
      ++plain[std::hash<std::string_view>{}(v)];
      ++values;
    }
    CHECK(tf.fields[k].values == values);
    const std::vector<std::pair<uint64_t, uint32_t>> expected(plain.begin(), plain.end());
    CHECK(tf.fields[k].counts == expected);
  }
}

TEST_CASE("matcher: a field set holds fields past 64 and compares by its members") {
  m::FieldSet a, b;
  for (size_t f : {0, 5, 63, 64, 130}) a.Add(f);
  for (size_t f : {5, 64, 200}) b.Add(f);
  CHECK(a.Has(0));
  CHECK(a.Has(130));
  CHECK_FALSE(a.Has(129));
  CHECK_FALSE(a.Has(1000));
  m::FieldSet both = a;
  both &= b;
  m::FieldSet expected;
  expected.Add(5);
  expected.Add(64);
  CHECK(both == expected);  // the empty word of fields 128..191 is gone
  CHECK_FALSE(both.Has(130));
  CHECK_FALSE(both.Has(200));
  m::FieldSet high_only;
  high_only.Add(70);
  high_only &= expected;
  CHECK(high_only == m::FieldSet{});
}

TEST_CASE("matcher: the links' order, orientation and vectors do not change the clusters") {
  // FindDuplicates gives its links in pair order, a < b; BuildClusters must not depend on it
  // (its lookup by pair sorts what is not sorted, its union order sorts by score then pair).
  const auto recs = Synthetic(3000, 1500, 5);
  m::MatchOptions opt;
  opt.threads = 2;
  const auto r = m::FindDuplicates(recs, opt, SmallerIndexSurvives);
  REQUIRE(r.clusters.size() > 100);
  auto same_clusters = [&](const std::vector<m::Link>& links) {
    const auto again = m::BuildClusters(recs, r.model, links, opt, SmallerIndexSurvives);
    REQUIRE(again.size() == r.clusters.size());
    for (size_t i = 0; i < again.size(); ++i) {
      CHECK(again[i].members == r.clusters[i].members);
      CHECK(again[i].scores == r.clusters[i].scores);
      CHECK(again[i].matched == r.clusters[i].matched);
      CHECK(again[i].decision == r.clusters[i].decision);
      CHECK(again[i].why == r.clusters[i].why);
    }
  };
  std::vector<m::Link> shuffled = r.links;
  std::reverse(shuffled.begin(), shuffled.end());
  for (size_t i = 0; i < shuffled.size(); i += 2) {
    std::swap(shuffled[i].a, shuffled[i].b);
    shuffled[i].packed = m::kUnknownComparison;  // Compare(b, a) is not known
  }
  same_clusters(shuffled);
  // Without the links' vectors the guards compare every member with its survivor again.
  for (auto& l : shuffled) l.packed = m::kUnknownComparison;
  same_clusters(shuffled);
}

TEST_CASE("matcher: random pairs for u are distinct, ordered, deterministic, exhaustive if few") {
  const auto all = m::RandomPairs(5, 100);
  CHECK(all.size() == 10);
  const auto a = m::RandomPairs(1000, 5000);
  const auto b = m::RandomPairs(1000, 5000);
  CHECK(a.size() == 5000);
  CHECK(a == b);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::adjacent_find(a.begin(), a.end()) == a.end());
  CHECK(std::all_of(a.begin(), a.end(),
                    [](const auto& p) { return p.first < p.second && p.second < 1000; }));
  CHECK(m::RandomPairs(1, 10).empty());
}

TEST_CASE("matcher: u from random pairs replaces EM's u and rescales lambda to all pairs") {
  m::MatchOptions opt;
  const auto specs = m::ComparedFields(opt);
  const size_t region = FieldIndex(opt, "region");
  m::Model model = HandModel(opt);
  model.lambda = model.lambda_candidates = 0.1;  // 10 % of 1,000 candidates match
  // Random pairs: region agrees on 20 % (u ≈ 0.2; the few matches in the sample are
  // subtracted: lambda_all = 0.1 · 1000 / 100000 = 0.001).
  std::vector<m::ComparisonVector> sample(10000);
  for (size_t i = 0; i < sample.size(); ++i) {
    sample[i].levels.assign(specs.size(), 0);
    sample[i].levels[region] = i % 5 == 0 ? 2 : 1;
  }
  opt.overrides.u["region"];  // present but empty: nothing pinned
  m::UseRandomPairU(model, sample, 1000, 100000, opt);
  CHECK(model.lambda == doctest::Approx(0.001));
  CHECK(model.lambda_candidates == doctest::Approx(0.1));
  CHECK(model.u_sample_pairs == 10000);
  const auto& u = model.fields[region].u;
  CHECK(u[2] == doctest::Approx((0.2 - 0.001 * 0.9) / 0.999).epsilon(0.001));
  CHECK(u[1] + u[2] == doctest::Approx(1.0).epsilon(0.001));
  // A field the sample never observed keeps its u.
  const auto& email = model.fields[FieldIndex(opt, "email")];
  CHECK(email.u == HandModel(opt).fields[FieldIndex(opt, "email")].u);
}

// A generated CRM of 3,000 contacts (tests/fixtures/em_small_crm.tsv: the distinct comparison
// vectors of its candidate pairs with their true-match counts, and of the random pairs behind
// u). One EM over all candidates fits a match class nine times too large there (neighbours and
// households; docs/dedup.md "Known limits") and auto-merges a third fewer true pairs; the
// training sessions find the duplicates.
TEST_CASE("matcher: EM sessions learn duplicates, not neighbours, in a small CRM") {
  m::MatchOptions opt;
  std::ifstream in(std::string(CRMH_SOURCE_DIR) + "/tests/fixtures/em_small_crm.tsv");
  REQUIRE(in.good());
  std::map<std::vector<uint8_t>, double> candidates;
  std::map<std::vector<uint8_t>, std::pair<double, double>> truth;  // match, non-match pairs
  std::vector<m::ComparisonVector> random;
  double matches = 0, total = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    std::string kind, a, b, levels_text;
    std::getline(row, kind, '\t');
    std::getline(row, a, '\t');
    std::getline(row, b, '\t');
    if (kind == "c") std::getline(row, levels_text, '\t');
    std::vector<uint8_t> levels;
    std::istringstream ls(kind == "c" ? levels_text : b);
    for (std::string x; std::getline(ls, x, ',');) levels.push_back(static_cast<uint8_t>(std::stoi(x)));
    if (kind == "c") {
      const double mt = std::stod(a), nm = std::stod(b);
      candidates[levels] = mt + nm;
      truth[levels] = {mt, nm};
      matches += mt;
      total += mt + nm;
    } else {
      random.insert(random.end(), static_cast<size_t>(std::stol(a)), m::ComparisonVector{levels});
    }
  }
  REQUIRE(total == 27804);
  REQUIRE(matches > 400);
  REQUIRE(random.size() == opt.u_sample_pairs);
  // Pairwise quality of the candidates' probabilities as FindDuplicates computes them (before
  // clustering and its guards): auto-band precision and recall, review-band non-matches.
  struct Quality {
    double precision, recall, review_non_matches;
  };
  auto quality = [&](m::Model model) {
    m::UseRandomPairU(model, random, 27804, 3000LL * 2999 / 2, opt);
    double tp = 0, fp = 0, review_fp = 0;
    for (const auto& [levels, c] : truth) {
      const double p = m::ScorePair(model, {levels}).probability;
      if (p >= opt.review_threshold) review_fp += c.second;
      if (p < opt.auto_threshold) continue;
      tp += c.first;
      fp += c.second;
    }
    return Quality{tp / (tp + fp), tp / matches, review_fp};
  };
  const m::Model sessions = m::EstimateModelBySessions(candidates, random, opt);
  CAPTURE(sessions.em_choice);
  CHECK(sessions.lambda_candidates == doctest::Approx(matches / total).epsilon(0.5));
  const Quality q = quality(sessions);
  CAPTURE(q.precision);
  CAPTURE(q.review_non_matches);
  CHECK(q.recall >= 0.95);
  // The same e-mail address is evidence for a duplicate.
  const auto& email = sessions.fields[FieldIndex(opt, "email")];
  CHECK(email.m[3] > 0.5);

  // What the sessions replace: one EM over all candidates, here with a match share far too high,
  // three times as many wrong pairs in the auto band and five times as many in the review band
  // (F1 after clustering 0.80 against 0.93: bench/febrl_eval --gen, docs/dedup.md).
  const m::Model global = m::EstimateModel(candidates, opt);
  CHECK(global.lambda_candidates > 4 * matches / total);
  const Quality g = quality(global);
  CHECK(q.precision > 2 * g.precision);
  CHECK(q.review_non_matches * 3 < g.review_non_matches);
}
