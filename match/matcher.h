// Duplicate detection: prepared records → candidate pairs (blocking) → Fellegi–Sunter scores with
// m/u estimated by EM → clusters with a decision each (auto | review).
//
// Pure and in-memory: the dedup job (jobs/dedup.cpp) reads CRM rows into RawRecords, and the
// FEBRL benchmark (bench/) feeds CSV rows through exactly the same functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "match/normalize.h"

namespace crmh::match {

// One contact as read from the CRM: logical field name → value (absent or "" = empty).
// Logical names: first_name, last_name, email, email2, phone, mobile, company, address1,
// address2, city, postcode, region, country, birthdate, plus any mapping `extra` column by its
// column name (compared exactly, e.g. FEBRL's soc_sec_id).
struct RawRecord {
  std::string id;  // CRM primary key as text
  std::map<std::string, std::string> fields;
};

// A record normalized once for comparing and blocking.
struct Record {
  std::string id;
  std::string first, last;      // Normalizer::GivenName / Name
  std::string first_raw_ascii;  // before the nickname table (Jaro–Winkler on what was typed)
  std::vector<std::string> emails;  // Normalizer::Email, non-empty, deduplicated
  std::vector<std::string> phones;  // Normalizer::PhoneKey, non-empty, deduplicated
  std::string company;          // Normalizer::Company
  std::string street;           // Name(address1 + " " + address2)
  std::string city, postcode, region, country;  // region/city Name(); country CountryCode()
  std::string birthdate;        // digits only (YYYYMMDD when recognisable)
  std::map<std::string, std::string> extra;  // exact-compared extra fields
};

Record Prepare(Normalizer& n, const RawRecord& raw);

// --- string comparators (on normalized ASCII) ---
double JaroWinkler(std::string_view a, std::string_view b);  // 0..1
// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions).
size_t DamerauLevenshtein(std::string_view a, std::string_view b);
// Token-set similarity (companies, addresses): |A∩B| / min(|A|,|B|) blended with
// Jaro–Winkler on the sorted token strings; 0..1.
double TokenSetSimilarity(std::string_view a, std::string_view b);

// --- the comparison vector ---
// Each compared field yields a level: 0 = missing on either side (weight 0), then 1..L−1 from
// "different" to "exact". Fields and their level rules are fixed in matcher.cpp and documented
// in docs/dedup.md.
struct ComparisonVector {
  std::vector<uint8_t> levels;  // one per Model::fields entry
};

struct FieldModel {
  std::string name;           // "first_name", "email", ...
  std::vector<double> m, u;   // per level (index 0 unused: missing)
};

struct Model {
  std::vector<FieldModel> fields;
  double lambda = 0.0;  // prior share of matches among candidate pairs (EM)
  int em_iterations = 0;
  bool converged = false;
};

// Config overrides: field → level → m or u (pinned during EM).
struct ModelOverrides {
  std::map<std::string, std::map<int, double>> m, u;
};

struct MatchOptions {
  double auto_threshold = 0.99;    // match probability at or above → auto_merge band
  double review_threshold = 0.80;  // at or above (and below auto) → review band
  size_t max_block = 200;          // blocks larger than this are capped (and reported)
  int threads = 2;
  ModelOverrides overrides;
  // Exact extra fields to compare (mapping `extra`); empty = none.
  std::vector<std::string> extra_fields;
  // Pairs a human rejected (`review reject`), by record id, each as (smaller id, larger id) in
  // std::string order. They are never linked, and clustering never puts both in one cluster
  // (components are built from links in descending score order, refusing a union that would
  // join a rejected pair).
  std::set<std::pair<std::string, std::string>> rejected;
};

struct CandidateStats {
  long long records = 0;
  long long candidate_pairs = 0;
  long long total_pairs = 0;       // n(n-1)/2
  double reduction_ratio = 0.0;    // 1 - candidate/total
  long long blocks_capped = 0;     // oversized blocks
  std::map<std::string, long long> pairs_by_key;  // which blocking key proposed them
};

// Blocking: union of several keys (normalized email, phone key, phonetic last name + first
// initial, email local part, company + last name, sorted neighbourhood on names).
// Returns unique pairs (i < j) of indexes into `records`.
std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats);

ComparisonVector Compare(const Record& a, const Record& b, const MatchOptions& opt);

// EM over the comparison vectors of the candidate pairs (m/u pinned where overridden).
Model EstimateModel(const std::vector<ComparisonVector>& vectors, const MatchOptions& opt);

struct Score {
  double weight = 0.0;       // log2 Bayes factor, summed over fields
  double probability = 0.0;  // posterior with the model's lambda
  std::vector<std::string> matched;  // fields at their top ("exact") level
};
Score ScorePair(const Model& model, const ComparisonVector& v);

struct Link {
  uint32_t a = 0, b = 0;
  Score score;
};

enum class Decision { kAuto, kReview };

struct Cluster {
  std::vector<uint32_t> members;  // indexes into records, survivor first
  Decision decision = Decision::kReview;
  double score = 0.0;  // the lowest survivor–member probability
  std::vector<std::string> matched;  // fields matched on every survivor–member pair
  std::string why;    // for review: "member 17 links to the survivor at 0.91 only"
};

// `better(a, b)`: true if record a should survive rather than b (the job's survivor rule).
// Clusters are the connected components of the links at or above the review threshold; a cluster
// is auto only if every member scores ≥ auto_threshold directly against the chosen survivor
// (guard against chaining A~B~C), else review.
std::vector<Cluster> BuildClusters(const std::vector<Record>& records, const Model& model,
                                   const std::vector<Link>& links, const MatchOptions& opt,
                                   const std::function<bool(uint32_t, uint32_t)>& better);

struct MatchResult {
  CandidateStats stats;
  Model model;
  std::vector<Link> links;  // candidate pairs at or above review_threshold
  std::vector<Cluster> clusters;
};

// The whole pipeline: blocking → compare (both cores) → EM → score → clusters.
MatchResult FindDuplicates(const std::vector<Record>& records, const MatchOptions& opt,
                           const std::function<bool(uint32_t, uint32_t)>& better);

}  // namespace crmh::match
