// Duplicate detection: prepared records → candidate pairs (blocking) → Fellegi–Sunter scores with
// m/u estimated by EM → clusters with a decision each (auto | review).
//
// Pure and in-memory: the dedup job (jobs/dedup.cpp) reads CRM rows into RawRecords, and the
// FEBRL benchmark (bench/) feeds CSV rows through exactly the same functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "match/normalize.h"
#include "match/text.h"

namespace crmh::match {

// One contact as read from the CRM: logical field name → value (absent or "" = empty).
// Logical names: first_name, last_name, email, email2, phone, mobile, company, address1,
// address2, city, postcode, region, country, birthdate, plus any mapping `extra` column by its
// column name (compared exactly, e.g. FEBRL's soc_sec_id).
struct RawRecord {
  std::string id;  // CRM primary key as text
  std::map<std::string, std::string> fields;
};

// A record normalized once for comparing and blocking. Fields are Text (16 bytes, short values
// inline): the matcher holds one Record per contact, 1M of them at the scale benchmark.
struct Record {
  Text id;
  Text first, last;          // Normalizer::GivenName / Name
  Text first_raw_ascii;      // before the nickname table (Jaro–Winkler on what was typed)
  std::vector<Text> emails;  // Normalizer::Email, non-empty, deduplicated
  std::vector<Text> phones;  // Normalizer::PhoneKey, non-empty, deduplicated
  Text company;              // Normalizer::Company
  Text street;               // Name(address1 + " " + address2)
  Text city, postcode, region, country;  // region/city Name(); country CountryCode()
  Text birthdate;                        // digits only (YYYYMMDD when recognisable)
  std::map<std::string, std::string> extra;  // exact-compared extra fields
};

// The version of what Prepare (and the Normalizer under it) makes of a RawRecord. Bump it with
// any change that can alter a prepared Record: saved records (the dedup sweep cache,
// jobs/dedup_cache.h) are reused only under the same version.
inline constexpr int kPrepareVersion = 1;
// The same for Compare (a comparison vector from two Records): saved comparison vectors are
// reused only under the same version.
inline constexpr int kCompareVersion = 1;

// Thread safety: Prepare uses `n` (not thread-safe); every other function here is a pure
// function of its arguments and safe to call concurrently.
Record Prepare(Normalizer& n, const RawRecord& raw);

// --- string comparators (on normalized ASCII) ---
double JaroWinkler(std::string_view a, std::string_view b);  // 0..1
// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions).
size_t DamerauLevenshtein(std::string_view a, std::string_view b);
// Token-set similarity (companies, addresses): |A∩B| / min(|A|,|B|) blended with
// Jaro–Winkler on the sorted token strings; 0..1. Tokens are space-separated; two distinct
// tokens of ≥ 4 characters at OSA distance 1 count as 0.8 of a shared token. 1.0 only for
// equal token sets.
double TokenSetSimilarity(std::string_view a, std::string_view b);

// --- the comparison vector ---
// Each compared field yields a level: 0 = missing on either side (weight 0), then 1..L−1 from
// "different" to "exact". Fields and their level rules are fixed in compare.cpp and documented
// in docs/dedup.md.
struct ComparisonVector {
  std::vector<uint8_t> levels;  // one per ComparedFields(opt) entry (= Model::fields entry)
};

// The compared fields, in ComparisonVector order: the 11 fixed fields (first_name, last_name,
// email, phone, company, street, city, postcode, region, country, birthdate) followed by
// opt.extra_fields. `levels` counts level 0 (missing), so valid levels are 0..levels−1.
struct FieldSpec {
  std::string name;
  int levels = 0;
};
struct MatchOptions;
std::vector<FieldSpec> ComparedFields(const MatchOptions& opt);

struct FieldModel {
  std::string name;          // "first_name", "email", ...
  std::vector<double> m, u;  // per level (index 0 unused: missing)
};

// One EM training session (EstimateModelBySessions): the candidate pairs that agree at the top
// level on every `key` field; the `held` fields are left out of it, the others learn m.
struct EmSession {
  std::string name;
  std::vector<std::string> key, held;
};
struct EmSessionResult {
  std::string name;
  long long pairs = 0;  // candidate pairs in the session
  double lambda = 0;    // their match share
  int iterations = 0;
  bool converged = false;
};

// Term frequencies (docs/dedup.md §4, "Term-frequency adjustment"): how many records hold each
// value of the fields whose values are far from equally common — given name, surname, city,
// postcode (Nguyen is a third of the Vietnamese contacts; a Vietnamese city has one postcode).
// An exact agreement on value v then weighs log2(m(exact) / max(u(exact), share(v))) instead of
// log2(m(exact) / u(exact)): share(v) = records holding v / records holding any value of the
// field, the chance that another person's record holds the value this one holds. A value more
// common than average weighs less; a rarer one keeps the average (see TermFrequencyAdjustment).
// Counted once per run from the records in memory, by the normalized value Compare uses.
struct TermFrequencies {
  struct Field {
    size_t index = 0;      // in ComparisonVector order (first_name, last_name, city, postcode)
    long long values = 0;  // records with a non-empty value
    std::vector<std::pair<uint64_t, uint32_t>> counts;  // hash of the value → records, by hash
  };
  std::vector<Field> fields;
  // share(v) of field slot k (`fields[k]`); 0 if the value was not counted (or is empty).
  float Share(size_t k, std::string_view value) const;
};
// The value of field `index` that TermFrequencies counts (and Compare's exact level compares):
// first_name → Record::first, last_name → last, city, postcode; "" for other fields.
std::string_view TermValue(const Record& r, size_t index);
// `shares`: when given, also each record's share of its value, per field of the result
// (`(*shares)[k][i]` = fields[k]'s Share of TermValue(records[i], fields[k].index)).
TermFrequencies CountTermFrequencies(const std::vector<Record>& records, const MatchOptions& opt,
                                     std::vector<std::vector<float>>* shares = nullptr);

struct Model {
  std::vector<FieldModel> fields;
  // Empty: every agreement weighs its field's average (ScorePair without records).
  TermFrequencies tf;
  // Prior probability that a pair is a match. After EstimateModel: the share among the
  // candidate pairs. After UseRandomPairU: the share among all n(n−1)/2 pairs (the space u
  // then describes).
  double lambda = 0.0;
  double lambda_candidates = 0.0;  // EM's share among the candidate pairs
  int em_iterations = 0;
  bool converged = false;
  double log_likelihood = 0.0;   // of the candidate vectors under the EM parameters
  long long u_sample_pairs = 0;  // random pairs behind u (0 = u from EM over the candidates)
  std::vector<EmSessionResult> sessions;  // EstimateModelBySessions only
  // Which estimate the model is: "global" (EstimateModel), "refined" (sessions, then one EM
  // over all candidates), or "sessions (why the refinement was not kept)".
  std::string em_choice;
};

// Config overrides: field → level → m or u (pinned during EM).
struct ModelOverrides {
  std::map<std::string, std::map<int, double>> m, u;
};

// Defaults are the thresholds frozen on FEBRL dataset1+dataset2 (docs/dedup.md).
struct MatchOptions {
  double auto_threshold = 0.95;    // match probability at or above → auto_merge band
  double review_threshold = 0.80;  // at or above (and below auto) → review band
  // A block (all records sharing one key value) larger than this generates no pairs at all for
  // that key value; it is counted in CandidateStats::blocks_capped. The other keys and the
  // sorted neighbourhood still propose pairs for its records.
  size_t max_block = 200;
  // A block larger than this (and not over max_block) is paired as a sorted neighbourhood: its
  // records ordered by "last first" then birthdate, each paired with the next dense_window − 1.
  // 0 = every block all-with-all. FEBRL's largest block is 36 records, so the FEBRL numbers do
  // not depend on it; at 1M contacts blocks of 40–200 (common surname + initial, switchboard
  // numbers, popular birthdates) proposed most of the pairs (docs/dedup.md, scale benchmark).
  size_t dense_block = 40;
  // A key whose values do not grow with the CRM (birthdate + an initial, postcode + an
  // initial) proposes blocks that do: at 10M contacts birthdate + initial blocks hold 20–40
  // strangers. Such keys carry a finer part (a phonetic name code); a block of more than
  // refine_block records is split by it. Small CRMs (FEBRL) keep the coarse blocks and their
  // recall. 0 = never split.
  size_t refine_block = 12;
  size_t dense_window = 8;
  // Sorted neighbourhood: each record is paired with the next `sn_window − 1` records in the
  // order of the key "last first" (and again of "first last"). 0 or 1 = off.
  size_t sn_window = 3;
  int threads = 2;  // blocking/compare/score workers (std::thread); ≤ 1 = the calling thread only
  // u from this many random record pairs (all pairs if there are fewer); 0 = keep EM's u over
  // the candidate pairs. See UseRandomPairU.
  size_t u_sample_pairs = 200000;
  // m from EstimateModelBySessions (needs u_sample_pairs > 0) instead of one EM over all
  // candidates.
  bool em_sessions = true;
  int em_max_iterations = 100;
  double em_tolerance = 1e-6;  // stop when no parameter moves by more than this
  ModelOverrides overrides;
  // Term-frequency-adjusted weights for an exact agreement on given name, surname, city and
  // postcode (TermFrequencies). false = the field's average u for every value.
  bool term_frequencies = true;
  // Exact extra fields to compare (mapping `extra`); empty = none.
  std::vector<std::string> extra_fields;
  // Pairs a human rejected (`review reject`), by record id, each as (smaller id, larger id) in
  // std::string order. They are never linked, and clustering never puts both in one cluster
  // (components are built from links in descending score order, refusing a union that would
  // join a rejected pair).
  std::set<std::pair<std::string, std::string>> rejected;
  // Household guard: a cluster is never auto when a member's given name disagrees with the
  // survivor's (first_name at level 1 "else", both present) and no personal identifier agrees
  // (the same email address, the same birthdate, an exact extra field): same surname at one
  // address is often a spouse or child, and the address fields outweigh the given name under
  // conditional independence (docs/dedup.md, "Known limits"). Such clusters go to review.
  bool review_different_given_names = true;
  // A cluster is never auto when a member shares no identifier with the survivor beyond names and
  // places: the same email or phone, a (near-)identical birthdate or street, an exact extra field.
  bool require_identifier = true;
  // No cluster grows beyond this many records (0 = no cap): links are joined in descending score
  // order and a link whose union would exceed the cap is dropped, so a chain through shared data
  // (a switchboard number, a family address) is cut at its weakest links. Nobody reviews, or
  // should merge, a thousand-member cluster.
  size_t max_cluster = 50;
};

struct CandidateStats {
  long long records = 0;
  long long candidate_pairs = 0;
  long long total_pairs = 0;     // n(n-1)/2
  double reduction_ratio = 0.0;  // 1 - candidate/total
  long long blocks_capped = 0;   // oversized blocks (skipped, see MatchOptions::max_block)
  long long largest_block = 0;   // records in the largest block, capped or not
  long long blocks_windowed = 0;  // blocks over dense_block, paired as a sorted neighbourhood
  long long blocks_refined = 0;   // blocks over refine_block, split by their finer part
  // Distinct pairs each key proposed (a pair proposed by two keys counts for both). Keys:
  // email, phone, phonetic_name, email_local, company_last, postcode_last, birthdate,
  // postcode_street, street_prefix, extra, sorted_neighbourhood (docs/dedup.md §3).
  std::map<std::string, long long> pairs_by_key;
};

// Blocking: union of several keys (normalized email, phone key, phonetic last name + first
// initial, email local part, company + last name, postcode + last initial, birthdate, postcode
// + house number, street prefix, extra fields) and a sorted neighbourhood on the names.
// Returns unique pairs (i < j) of indexes into `records`, sorted. `stats` may be null.
std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats);

// The blocking keys in CandidateStats::pairs_by_key, in the order of their bits in a KeyMask:
// which keys proposed a pair.
inline constexpr const char* kBlockingKeys[] = {
    "email",         "phone",          "phonetic_name",   "email_local",
    "company_last",  "postcode_last",  "birthdate",       "postcode_street",
    "street_prefix", "extra",          "sorted_neighbourhood"};
using KeyMask = uint16_t;
// The version of blocking's rules: saved key masks are reused only under the same version (and
// the same blocking options). Bump it with any change to a key or to how a block is paired.
inline constexpr int kBlockingVersion = 1;

// Never a packed comparison vector (see CompareHooks).
inline constexpr uint64_t kUnknownComparison = ~uint64_t{0};

// The last sweep's blocking, for a sweep in which few records changed
// (docs/adr/0002-incremental-blocking.md). With it, blocking still writes and groups every key
// value (the block sizes, and so the stats, are exact) but pairs only the blocks that hold a
// record of a block that gained or lost a member; every other pair, and which keys proposed it,
// is the last sweep's. With nothing changed and `last_stats` known, it groups nothing.
struct BlockingHistory {
  std::vector<uint8_t> changed;  // per record: 1 if new or changed since the last sweep
  // The last sweep's versions of the records changed or deleted since. A changed record's old
  // version is the one with its id (ids are unique, and a record keeps its place in the order).
  std::vector<Record> gone;
  // Over this share of changed, new and gone records (of the records now), blocking runs in
  // full: the dirty blocks would be most of them.
  double max_changed_share = 0.10;
  // Once more than this share of the records are in blocks the changes touch (a changed name
  // touches a common surname's block), blocking stops and runs in full: pairing most blocks
  // again costs more than pairing them all, and holds the new pairs beside the kept ones.
  double max_dirty_share = 0.25;
  // Calls kept(pairs, n) with the last sweep's candidate pairs of two unchanged records, a few
  // thousand at a time (a call per pair was a tenth of a second at 1M) — by their indexes now,
  // a < b, in ascending order — each with the keys that proposed it and its comparison vector
  // (packed as in CompareHooks). Returns "" once it gave them all, else why not (blocking then
  // runs in full).
  struct Kept {
    uint32_t a, b;
    KeyMask keys;
    uint64_t packed;
  };
  std::function<std::string(const std::function<void(const Kept* pairs, size_t n)>& kept)> for_each_kept;
  // The last sweep's counts (CandidateStats), if known. With no record changed, new or gone,
  // blocking's input is the last sweep's, and so is its output: blocking then groups and pairs
  // nothing — the last sweep's pairs, with every key that proposed them, and these block counts
  // (Candidates::unchanged). Its candidate_pairs must be the number of pairs for_each_kept gives.
  std::optional<CandidateStats> last_stats;
};

struct Candidates {
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // unique, sorted
  std::vector<KeyMask> keys;     // per pair, when asked for (or with a history)
  std::vector<uint64_t> packed;  // with a history used: per pair, its vector or kUnknownComparison
  bool incremental = false;      // a history was given and used
  std::string full_because;      // a history was given but not used: why
  long long pairs_kept = 0;      // incremental: pairs kept from the history
  long long dirty_records = 0;   // incremental: records whose blocks of some key were paired again
  bool unchanged = false;        // incremental, nothing changed: the last sweep's blocking as it was
};
// CandidatePairs with the keys that proposed each pair (`want_keys`) and, with `history`, the
// last sweep's blocking reused. The pairs and stats equal CandidatePairs(records, opt, stats)'s.
// `one_thread_left` (may be empty) is called once blocking has only one thread's work left (the
// merge with the history's pairs), so that the caller can give the other core something to do.
Candidates FindCandidates(const std::vector<Record>& records, const MatchOptions& opt,
                          CandidateStats* stats, const BlockingHistory* history, bool want_keys,
                          const std::function<void()>& one_thread_left = {});

ComparisonVector Compare(const Record& a, const Record& b, const MatchOptions& opt);

// EM over the comparison vectors of the candidate pairs (m/u pinned where overridden): m, u
// and lambda of the candidate pairs. u starts at the level frequencies of all vectors, m at
// 0.9 for each field's top level.
Model EstimateModel(const std::vector<ComparisonVector>& vectors, const MatchOptions& opt);
// The same EM from the distinct vectors and their counts (what the EM iterates over anyway):
// FindDuplicates counts patterns while comparing instead of keeping a vector per pair.
Model EstimateModel(const std::map<std::vector<uint8_t>, double>& distinct,
                    const MatchOptions& opt);

// m learned in sessions (Splink's per-blocking-rule EM): u fixed at the level shares of random
// pairs; for each session of TrainingSessions, EM over the candidates agreeing on its key
// fields learns lambda and m of the fields it does not hold; a field's m is the average over
// the sessions that learned it, weighted by the matches each saw (lambda · pairs). Last,
// lambda over all candidates with m and u fixed. Why: one EM over all candidates fits whatever
// correlation is largest among them — on a small CRM with few duplicates, "same postcode" — and
// calls it the match class; within a session that holds the place fields, neighbours look like
// random pairs on every other field, so only real duplicates stand out.
std::vector<EmSession> TrainingSessions(const MatchOptions& opt);
Model EstimateModelBySessions(const std::map<std::vector<uint8_t>, double>& distinct,
                              const std::vector<ComparisonVector>& random_pairs,
                              const MatchOptions& opt);

// Record pairs for estimating u: `count` distinct random pairs (i < j) drawn with a fixed seed,
// or every pair when n(n−1)/2 ≤ count. Sorted.
std::vector<std::pair<uint32_t, uint32_t>> RandomPairs(size_t records, size_t count,
                                                       uint64_t seed = 0x5eed);

// Replaces the model's u by the level frequencies of random record pairs (`sample`, compared
// with Compare), and lambda by the match share among all `total_pairs`
// (= lambda_candidates · candidate_pairs / total_pairs). Blocking makes candidate non-matches
// agree on the blocked fields far more often than non-matches in general, so EM's u
// understates what an agreement on those fields is worth; random pairs do not. The sample
// still holds a few true matches: their expected share (lambda · m) is subtracted.
// Overridden u levels stay pinned.
void UseRandomPairU(Model& model, const std::vector<ComparisonVector>& sample,
                    long long candidate_pairs, long long total_pairs, const MatchOptions& opt);

// A set of compared fields, by index into ComparedFields (= Model::fields): the first 64 in one
// word, more only on the heap. A Score per link held its matched fields' names in a vector of
// strings — a heap block a link, ≈ 0.4 GB of fresh pages at 10M contacts (session 18).
class FieldSet {
 public:
  void Add(size_t f) {
    if (f < 64) {
      low_ |= uint64_t{1} << f;
      return;
    }
    const size_t word = f / 64 - 1;
    if (high_.size() <= word) high_.resize(word + 1, 0);
    high_[word] |= uint64_t{1} << (f % 64);
  }
  bool Has(size_t f) const {
    if (f < 64) return (low_ >> f) & 1;
    const size_t word = f / 64 - 1;
    return word < high_.size() && ((high_[word] >> (f % 64)) & 1);
  }
  FieldSet& operator&=(const FieldSet& other) {
    low_ &= other.low_;
    high_.resize(std::min(high_.size(), other.high_.size()));
    for (size_t w = 0; w < high_.size(); ++w) high_[w] &= other.high_[w];
    while (!high_.empty() && high_.back() == 0) high_.pop_back();
    return *this;
  }
  bool operator==(const FieldSet& other) const = default;  // high_ never ends in a 0 word

 private:
  uint64_t low_ = 0;
  std::vector<uint64_t> high_;  // fields 64 and up, 64 a word
};

struct Score {
  double weight = 0.0;       // log2 Bayes factor, summed over fields
  double probability = 0.0;  // posterior with the model's lambda
  FieldSet matched;          // fields at their top ("exact") level
  double tf_bits = 0.0;      // of `weight`, what term frequencies took (≤ 0)
};
// The names of `fields` (Model::fields' names), in field order.
std::vector<std::string> FieldNames(const Model& model, const FieldSet& fields);
// Without records: every agreement at its field's average weight (no term frequencies).
Score ScorePair(const Model& model, const ComparisonVector& v);
// With the two records compared: an exact agreement on a field of model.tf weighs
// log2(m / max(u, share(value))) (TermFrequencies); `tf_bits` says by how much the total moved.
Score ScorePair(const Model& model, const ComparisonVector& v, const Record& a, const Record& b);
// One field's term-frequency adjustment: min(0, log2(u(exact)) − log2(share)). Never positive:
// a rare surname agreeing is not counted as more than the average, because it agrees together
// with the address in a household (conditional independence does not hold there).
double TermFrequencyAdjustment(double u_exact, float share);
// What term frequencies take from the average weights of `v` (≤ 0): for each field of model.tf at
// its top level whose two values are equal (a crossed or nickname match is not),
// TermFrequencyAdjustment. 0 when model.tf is empty. A u pinned by a config override is left
// alone (CountTermFrequencies leaves that field out).
double TermFrequencyBits(const Model& model, const ComparisonVector& v, const Record& a,
                         const Record& b);
// The same sum for callers that know the pair's levels and record a's shares another way (the
// scoring loop of FindDuplicates reads each record's share once, not per pair): `level(f)` is
// the pair's level of field f (kNoLevel: not compared), `share(k, value)` record a's share of
// tf field slot k. TermFrequencyBits is this with the vector's levels and TermFrequencies::Share.
inline constexpr uint8_t kNoLevel = 0xff;
template <class LevelOf, class ShareOf>
double TermFrequencyBitsOf(const Model& model, const LevelOf& level, const ShareOf& share,
                           const Record& a, const Record& b) {
  double bits = 0;
  for (size_t k = 0; k < model.tf.fields.size(); ++k) {
    const size_t f = model.tf.fields[k].index;
    if (f >= model.fields.size()) continue;
    const std::vector<double>& u = model.fields[f].u;
    const uint8_t lv = level(f);
    if (lv == kNoLevel || lv != u.size() - 1) continue;
    const std::string_view va = TermValue(a, f);
    if (va.empty() || va != TermValue(b, f)) continue;
    const float s = share(k, va);
    if (s <= 0) continue;
    bits += TermFrequencyAdjustment(u.back(), s);
  }
  return bits;
}

struct Link {
  uint32_t a = 0, b = 0;
  Score score;
  // The pair's comparison vector, 4 bits a field (Compare(records[a], records[b]) packed as the
  // candidate pairs' are) when FindDuplicates had it so; else kUnknownComparison.
  uint64_t packed = kUnknownComparison;
};

enum class Decision { kAuto, kReview };

struct Cluster {
  std::vector<uint32_t> members;  // indexes into records, survivor first, then ascending
  Decision decision = Decision::kReview;
  double score = 0.0;                // the lowest survivor–member probability
  std::vector<std::string> matched;  // fields matched on every survivor–member pair
  std::string why;                   // for review: "member 17 links to the survivor at 0.91 only"
  // Survivor–member scores, parallel to members (scores[0] is the survivor itself: 1.0).
  std::vector<double> scores;
};

// `better(a, b)`: true if record a should survive rather than b (the job's survivor rule; must
// be a strict weak order for a deterministic survivor).
// Clusters are the connected components of the links at or above the review threshold, built in
// descending probability order: auto-band links first, then review-band links. A union is refused
// when it would join a rejected pair, grow a cluster beyond max_cluster, or (for a review-band
// link) touch a cluster an auto-band link already formed — a weak link must not turn a sure
// merge into a review item (at 1M contacts, review links chained most auto clusters into one
// component); such a record is proposed again once the sure cluster has merged. A cluster is
// auto only if every member scores ≥ auto_threshold directly against the chosen survivor (guard
// against chaining A~B~C; pairs that were not candidates are compared and scored here), else
// review. Only clusters of ≥ 2 records are returned, ordered by their smallest member.
// Components are split into clusters on up to opt.threads threads: `better` is called from
// several threads at once and must only read.
struct ClusterStats {
  long long links_over_max_cluster = 0;  // unions refused by max_cluster
  long long review_links_to_auto = 0;    // review-band links that touched an auto-band cluster
  long long members_split_off = 0;       // members below review_threshold vs their survivor
};
std::vector<Cluster> BuildClusters(const std::vector<Record>& records, const Model& model,
                                   const std::vector<Link>& links, const MatchOptions& opt,
                                   const std::function<bool(uint32_t, uint32_t)>& better,
                                   ClusterStats* stats = nullptr);

struct MatchTimings {  // wall seconds per stage of FindDuplicates
  double blocking = 0, compare = 0, em = 0, u_sample = 0, score = 0, cluster = 0;
};

struct MatchResult {
  CandidateStats stats;
  Model model;
  std::vector<Link> links;  // candidate pairs at or above review_threshold, not rejected
  std::vector<Cluster> clusters;
  ClusterStats cluster_stats;
  MatchTimings timings;
  // With CompareHooks::history: whether it was used, and if not, why.
  struct {
    bool incremental = false;
    std::string full_because;
    long long pairs_kept = 0;     // candidate pairs (and their vectors) kept from the history
    long long dirty_records = 0;  // records whose blocks of some key were paired again
    bool unchanged = false;       // no record changed: the history's blocking as it was
  } blocking;
};

// For a caller that keeps comparison vectors between runs (the dedup job's sweep cache,
// jobs/dedup_cache.h). A vector is packed in 64 bits, 4 bits a field, field 0 lowest (only when
// every field fits: ComparedFields ≤ 15 entries of ≤ 16 levels; otherwise the hooks are not
// called). The candidate pairs are FindDuplicates' own, whatever the hooks do: with a history,
// blocking gives exactly the pairs it gives without one.
struct CompareHooks {
  using Pairs = std::vector<std::pair<uint32_t, uint32_t>>;
  // The last sweep's blocking (null: none); blocking reuses it if it can (FindCandidates), and
  // the vectors it gives are used as known ones.
  const BlockingHistory* history = nullptr;
  // After blocking, unless the history was used: `packed` (one per candidate pair, all
  // kUnknownComparison) — set the vectors known to be Pack(Compare(records[a], records[b],
  // opt)); the rest are compared.
  std::function<void(const Pairs& pairs, std::vector<uint64_t>& packed)> known;
  // After compare: every candidate pair's packed vector and the keys that proposed it, and
  // blocking's counts.
  std::function<void(const Pairs& pairs, const std::vector<uint64_t>& packed,
                     const std::vector<KeyMask>& keys, const CandidateStats& stats)>
      compared;
};

// The whole pipeline: blocking → compare (both cores) → EM → score → clusters.
MatchResult FindDuplicates(const std::vector<Record>& records, const MatchOptions& opt,
                           const std::function<bool(uint32_t, uint32_t)>& better,
                           const CompareHooks* hooks = nullptr);

}  // namespace crmh::match
