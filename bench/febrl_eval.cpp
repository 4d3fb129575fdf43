// febrl_eval: duplicate-detection quality of match/ (FindDuplicates) on the FEBRL synthetic
// person datasets with ground truth (/work/shared/datasets/febrl, see its README).
//
// Each dataset is deduplicated as one input (dataset4a + dataset4b are concatenated into one
// 10,000-record input). Columns map to the CRM's logical fields exactly as the dedup job's
// mapping would: given_name → first_name, surname → last_name, street_number + " " + address_1
// → address1, address_2 → address2, suburb → city, postcode, state → region, date_of_birth →
// birthdate, and soc_sec_id → the extra field "soc_sec_id" only with --with-ssn. rec_id is the
// record id and the ground truth (rec-N-… share N); it is never a matching feature.
//
// Honesty rules: one MatchOptions for every dataset (the defaults in match/matcher.h unless
// --auto/--review say otherwise), m/u from EM only (no overrides), thresholds chosen on
// dataset1 + dataset2 and frozen before dataset3 and 4a+4b were scored (docs/dedup.md).
// Precision/recall count the within-cluster pairs of AUTO clusters only; review clusters
// count as not merged.
//
// Survivor rule: most non-empty fields, then the earlier row.
//
// Exit: 0 ok, 1 a file could not be read, 2 usage.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "match/blocking_reference.h"
#include "match/matcher.h"
#include "match/normalize.h"

namespace m = crmh::match;

namespace {

struct Dataset {
  std::string name;
  std::vector<std::string> files;
};

struct Input {
  std::vector<m::RawRecord> raw;
  std::vector<int> truth;  // the N of rec-N-…
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \r");
  return s.substr(b, e - b + 1);
}

bool Load(const std::string& path, bool with_ssn, Input& in) {
  std::ifstream f(path);
  if (!f) return false;
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    if (Trim(line).empty()) continue;
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) c.push_back(Trim(cell));
    c.resize(11);
    m::RawRecord r;
    r.id = c[0];
    auto set = [&](const char* k, std::string v) {
      if (!v.empty()) r.fields[k] = std::move(v);
    };
    set("first_name", c[1]);
    set("last_name", c[2]);
    set("address1", Trim(c[3] + " " + c[4]));
    set("address2", c[5]);
    set("city", c[6]);
    set("postcode", c[7]);
    set("region", c[8]);
    set("birthdate", c[9]);
    if (with_ssn) set("soc_sec_id", c[10]);
    int n = -1;
    if (std::sscanf(c[0].c_str(), "rec-%d-", &n) != 1) return false;
    in.truth.push_back(n);
    in.raw.push_back(std::move(r));
  }
  return true;
}

// A bench/gen_contacts directory: contacts.tsv (generic schema, MySQL LOAD DATA escapes, \\N =
// NULL) and truth.tsv (contact id → person id). Columns as the generic profile maps them.
std::string Unescape(const std::string& v) {
  if (v == "\\N") return "";
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char c = v[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c;
    } else {
      out += v[i];
    }
  }
  return out;
}

// Reads a gen_contacts directory. With `prepared`, the records are normalized while reading (on
// two threads, batch by batch) and only their prepared form is kept, with `filled` (non-empty
// fields, for the survivor rule): at 10M contacts the raw field maps alone would need > 10 GiB.
bool LoadGenerated(const std::string& dir, Input& in, std::vector<m::Record>* prepared = nullptr,
                   std::vector<size_t>* filled = nullptr) {
  std::ifstream f(dir + "/contacts.tsv"), t(dir + "/truth.tsv");
  if (!f || !t) return false;
  std::unordered_map<std::string, int> person;
  std::string line;
  while (std::getline(t, line)) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos) person[line.substr(0, tab)] = std::atoi(line.c_str() + tab + 1);
  }
  static const char* kCols[] = {"first_name", "last_name", "email",    "email2",   "phone",
                                "mobile",     "company",   "address1", "address2", "city",
                                "postcode",   "region",    "country",  "birthdate"};
  m::Normalizer norm[2];
  std::vector<m::RawRecord> batch;
  auto flush = [&]() {
    if (!prepared) return;
    const size_t base = prepared->size(), half = batch.size() / 2;
    prepared->resize(base + batch.size());
    auto work = [&](int w, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) (*prepared)[base + i] = m::Prepare(norm[w], batch[i]);
    };
    std::thread other(work, 1, half, batch.size());
    work(0, 0, half);
    other.join();
    batch.clear();
  };
  while (std::getline(f, line)) {
    std::vector<std::string> c;
    size_t b = 0;
    for (size_t e; (e = line.find('\t', b)) != std::string::npos; b = e + 1)
      c.push_back(line.substr(b, e - b));
    c.push_back(line.substr(b));
    if (c.size() < 15) return false;
    m::RawRecord r;
    r.id = c[0];
    for (size_t k = 0; k < 14; ++k) {
      std::string v = Unescape(c[k + 1]);
      if (!v.empty()) r.fields[kCols[k]] = std::move(v);
    }
    const auto it = person.find(r.id);
    if (it == person.end()) return false;
    in.truth.push_back(it->second);
    if (filled) filled->push_back(r.fields.size());
    if (prepared) {
      batch.push_back(std::move(r));
      if (batch.size() >= 65536) flush();
    } else {
      in.raw.push_back(std::move(r));
    }
  }
  flush();
  return true;
}

struct Quality {
  long long tp = 0, fp = 0, fn = 0, truth_pairs = 0;
  double precision = 0, recall = 0, f1 = 0;
};

uint64_t Key(uint32_t a, uint32_t b) {
  if (a > b) std::swap(a, b);
  return (static_cast<uint64_t>(a) << 32) | b;
}

// Pairs of records of one person in the ground truth.
long long TruthPairs(const std::vector<int>& truth) {
  std::unordered_map<int, long long> sizes;
  for (int t : truth) ++sizes[t];
  long long pairs = 0;
  for (const auto& [t, k] : sizes) pairs += k * (k - 1) / 2;
  return pairs;
}

Quality Evaluate(const std::vector<int>& truth, const std::vector<m::Cluster>& clusters) {
  Quality q;
  q.truth_pairs = TruthPairs(truth);
  for (const auto& c : clusters) {
    if (c.decision != m::Decision::kAuto) continue;
    for (size_t i = 0; i < c.members.size(); ++i) {
      for (size_t j = i + 1; j < c.members.size(); ++j) {
        if (truth[c.members[i]] == truth[c.members[j]])
          ++q.tp;
        else
          ++q.fp;
      }
    }
  }
  q.fn = q.truth_pairs - q.tp;
  q.precision =
      q.tp + q.fp > 0 ? static_cast<double>(q.tp) / static_cast<double>(q.tp + q.fp) : 1.0;
  q.recall =
      q.truth_pairs > 0 ? static_cast<double>(q.tp) / static_cast<double>(q.truth_pairs) : 1.0;
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0;
  return q;
}

// CPU seconds of this process (all threads): on a shared machine wall time depends on the
// neighbours, CPU time much less.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

long PeakRssMib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Usage() {
  std::fprintf(
      stderr,
      "usage: febrl_eval [--data DIR | --gen GEN_DIR] [--with-ssn] [--datasets 1,2,3,4]\n"
      "                  [--auto P] [--review P] [--threads N]\n"
      "                  [--u-sample N] [--sn-window N] [--max-block N] [--refine-block N] [--no-household-guard] [--no-identifier-guard]\n"
      "                  [--global-em] [--no-tf] [--no-separation] [--dump-patterns FILE]\n"
      "                  [--sweep] [--model] [--errors N]\n"
      "  defaults: MatchOptions (match/matcher.h), the thresholds frozen in docs/dedup.md\n"
      "  --gen DIR   a bench/gen_contacts output directory instead of FEBRL\n"
      "  --sweep     P/R/F1 over a grid of (auto, review) thresholds (tuning on 1,2 only)\n"
      "  --model     print the EM-estimated m/u per field level\n"
      "  --blocking-only (with --gen) candidate pairs per key and pair completeness only\n"
      "  --reference N  (with --blocking-only) then N rounds of: the previous blocking\n"
      "              (match/blocking_reference.cpp) and match::CandidatePairs, interleaved, each\n"
      "              timed (wall and CPU); exits 1 unless every round gives the same pairs and counts\n"
      "  --rounds N  (with --blocking-only) then N rounds of match::CandidatePairs alone, each\n"
      "              timed (wall and CPU; for profiling and A/B of two builds); exits 1 unless\n"
      "              every round gives the same pairs and counts\n"
      "  --global-em one EM over all candidates instead of the training sessions\n"
      "  --no-tf     no term-frequency adjustment (every agreement at its field's average u)\n"
      "  --no-separation  skip scoring every candidate pair again for the separation line (10M)\n"
      "  --dump-patterns FILE  write the distinct comparison vectors of the candidates (with\n"
      "              their true-match and non-match counts) and of the random pairs behind u\n"
      "              (a test fixture for the EM: tests/fixtures/em_*.tsv)\n"
      "  --errors N  print up to N false positives, missed true pairs, weak matches and\n"
      "              strong non-matches\n");
}

std::string Describe(const m::Record& r) {
  std::string extra;
  for (const auto& [k, v] : r.extra) extra += " " + k + "=" + v;
  auto join = [](const std::vector<m::Text>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x.str();
    return s;
  };
  return fmt::format("{} | {} {} | {} | {} | {} {} {} | {} | {} | {} | {}{}", r.id, r.first, r.last,
                     r.street, r.city, r.postcode, r.region, r.country, r.birthdate,
                     join(r.emails), join(r.phones), r.company, extra);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/work/shared/datasets/febrl";
  bool with_ssn = false, sweep = false, print_model = false, blocking_only = false;
  bool separation = true;
  int reference_rounds = 0, rounds = 0;
  std::string dump_patterns;
  int errors = 0;
  std::string which = "1,2,3,4";
  std::string gen_dir;
  m::MatchOptions opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") {
      dir = next();
    } else if (a == "--gen") {
      gen_dir = next();
    } else if (a == "--with-ssn") {
      with_ssn = true;
    } else if (a == "--datasets") {
      which = next();
    } else if (a == "--auto") {
      opt.auto_threshold = std::atof(next().c_str());
    } else if (a == "--review") {
      opt.review_threshold = std::atof(next().c_str());
    } else if (a == "--threads") {
      opt.threads = std::atoi(next().c_str());
    } else if (a == "--u-sample") {
      opt.u_sample_pairs = std::stoul(next());
    } else if (a == "--sn-window") {
      opt.sn_window = std::stoul(next());
    } else if (a == "--max-block") {
      opt.max_block = std::stoul(next());
    } else if (a == "--refine-block") {
      opt.refine_block = std::stoul(next());
    } else if (a == "--no-household-guard") {
      opt.review_different_given_names = false;
    } else if (a == "--dump-patterns") {
      dump_patterns = next();
    } else if (a == "--global-em") {
      opt.em_sessions = false;
    } else if (a == "--no-tf") {
      opt.term_frequencies = false;
    } else if (a == "--no-separation") {
      separation = false;
    } else if (a == "--no-identifier-guard") {
      opt.require_identifier = false;
    } else if (a == "--sweep") {
      sweep = true;
    } else if (a == "--blocking-only") {
      blocking_only = true;
    } else if (a == "--reference") {
      reference_rounds = std::atoi(next().c_str());
    } else if (a == "--rounds") {
      rounds = std::atoi(next().c_str());
    } else if (a == "--model") {
      print_model = true;
    } else if (a == "--errors") {
      errors = std::atoi(next().c_str());
    } else {
      Usage();
      return 2;
    }
  }
  if (with_ssn) opt.extra_fields = {"soc_sec_id"};

  std::vector<Dataset> datasets;
  for (const auto& [key, ds] : std::map<std::string, Dataset>{
           {"1", {"dataset1", {"dataset1.csv"}}},
           {"2", {"dataset2", {"dataset2.csv"}}},
           {"3", {"dataset3", {"dataset3.csv"}}},
           {"4", {"dataset4a+4b", {"dataset4a.csv", "dataset4b.csv"}}}}) {
    if (("," + which + ",").find("," + key + ",") != std::string::npos) datasets.push_back(ds);
  }
  if (!gen_dir.empty()) datasets = {{"generated", {gen_dir}}};
  if (datasets.empty()) {
    Usage();
    return 2;
  }

  fmt::print(
      "febrl_eval: soc_sec_id {}, auto ≥ {}, review ≥ {}, max_block {}, sn_window {}, "
      "threads {}\n",
      with_ssn ? "ON" : "off", opt.auto_threshold, opt.review_threshold, opt.max_block,
      opt.sn_window, opt.threads);
  std::vector<std::string> rows;
  for (const auto& ds : datasets) {
    Input in;
    if (blocking_only && !gen_dir.empty()) {
      // Blocking alone: candidate pairs per key and pair completeness, nothing scored.
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<m::Record> recs;
      if (!LoadGenerated(gen_dir, in, &recs)) {
        std::fprintf(stderr, "cannot read %s/contacts.tsv and truth.tsv\n", gen_dir.c_str());
        return 1;
      }
      const double prepare_s = Seconds(t0);
      const auto t1 = std::chrono::steady_clock::now();
      m::CandidateStats st;
      const auto cands = m::CandidatePairs(recs, opt, &st);
      const double blocking_s = Seconds(t1);
      const long long truth_pairs = TruthPairs(in.truth);
      long long true_candidates = 0;
      for (const auto& [a, b] : cands) true_candidates += in.truth[a] == in.truth[b];
      std::string by_key;
      for (const auto& [k, v] : st.pairs_by_key) by_key += fmt::format(" {}={}", k, v);
      fmt::print(
          "{} records, {} true pairs: {} candidate pairs ({:.2f} per record), pair completeness "
          "{:.4f} ({} true pairs missed), {} blocks capped, {} windowed, {} refined (largest {})\n  pairs by "
          "key:{}\n  read+prepare {:.1f} s, blocking {:.1f} s, peak RSS {} MiB\n",
          recs.size(), truth_pairs, st.candidate_pairs,
          static_cast<double>(st.candidate_pairs) / static_cast<double>(std::max<size_t>(1, recs.size())),
          truth_pairs ? static_cast<double>(true_candidates) / static_cast<double>(truth_pairs) : 1.0,
          truth_pairs - true_candidates, st.blocks_capped, st.blocks_windowed, st.blocks_refined,
          st.largest_block,
          by_key, prepare_s, blocking_s, PeakRssMib());
      // A/B against the previous blocking: same pairs and counts, and the time of each.
      auto same = [](const m::CandidateStats& a, const m::CandidateStats& b) {
        return a.records == b.records && a.candidate_pairs == b.candidate_pairs &&
               a.total_pairs == b.total_pairs && a.reduction_ratio == b.reduction_ratio &&
               a.blocks_capped == b.blocks_capped && a.largest_block == b.largest_block &&
               a.blocks_windowed == b.blocks_windowed && a.blocks_refined == b.blocks_refined &&
               a.pairs_by_key == b.pairs_by_key;
      };
      bool all_same = true;
      for (int round = 1; round <= reference_rounds + rounds; ++round) {
        for (int which_one = round > reference_rounds; which_one < 2; ++which_one) {
          const auto w0 = std::chrono::steady_clock::now();
          const double c0 = CpuSeconds();
          m::CandidateStats rs;
          const auto got = which_one == 0 ? m::reference::CandidatePairs(recs, opt, &rs)
                                          : m::CandidatePairs(recs, opt, &rs);
          const double wall = Seconds(w0), cpu = CpuSeconds() - c0;
          const bool ok = got == cands && same(rs, st);
          all_same = all_same && ok;
          fmt::print("  round {} {}: blocking {:.2f} s wall, {:.2f} s CPU, {} pairs, {}\n", round,
                     which_one == 0 ? "reference" : "new      ", wall, cpu, got.size(),
                     ok ? "same pairs and counts" : "DIFFERENT");
        }
      }
      if (!all_same) return 1;
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = CpuSeconds();
    std::vector<m::Record> recs;
    std::vector<size_t> filled;
    // A generated CRM is normalized while it is read (its raw rows are not kept: 10M of them would
    // not fit beside the matcher); so its "prepare" time includes reading the TSV.
    if (!gen_dir.empty() && !LoadGenerated(gen_dir, in, &recs, &filled)) {
      std::fprintf(stderr, "cannot read %s/contacts.tsv and truth.tsv\n", gen_dir.c_str());
      return 1;
    }
    for (const auto& f : gen_dir.empty() ? ds.files : std::vector<std::string>{}) {
      if (!Load(dir + "/" + f, with_ssn, in)) {
        std::fprintf(stderr, "cannot read %s/%s\n", dir.c_str(), f.c_str());
        return 1;
      }
    }
    if (gen_dir.empty()) {
      m::Normalizer norm;
      recs.reserve(in.raw.size());
      for (const auto& r : in.raw) recs.push_back(m::Prepare(norm, r));
      filled.resize(in.raw.size());
      for (size_t i = 0; i < in.raw.size(); ++i) filled[i] = in.raw[i].fields.size();
    }
    const double prepare_s = Seconds(t0);
    auto better = [&](uint32_t a, uint32_t b) {
      return filled[a] != filled[b] ? filled[a] > filled[b] : a < b;
    };

    auto t1 = std::chrono::steady_clock::now();
    m::MatchResult res = m::FindDuplicates(recs, opt, better);
    const double match_s = Seconds(t1);
    const double cpu_s = CpuSeconds() - cpu0;
    const Quality q = Evaluate(in.truth, res.clusters);

    long long auto_clusters = 0, auto_links = 0, review_clusters = 0, review_pairs = 0;
    for (const auto& c : res.clusters) {
      const auto k = static_cast<long long>(c.members.size());
      if (c.decision == m::Decision::kAuto) {
        ++auto_clusters;
        auto_links += k * (k - 1) / 2;
      } else {
        ++review_clusters;
      }
    }
    for (const auto& l : res.links) {
      if (l.score.probability < opt.auto_threshold) ++review_pairs;
    }
    // Why clusters went to review (BuildClusters' `why`), and how many of them are one person.
    std::map<std::string, std::pair<long long, long long>> why_count;  // reason → clusters, pure
    for (const auto& c : res.clusters) {
      if (c.decision != m::Decision::kReview) continue;
      std::string reason = c.why.find("split off") != std::string::npos ? "split off"
                           : c.why.find("scores") != std::string::npos   ? "below auto"
                           : c.why.find("shares no") != std::string::npos ? "no identifier"
                           : c.why.find("another birthdate") != std::string::npos
                               ? "other birthdate"
                           : c.why.find("another given name") != std::string::npos
                               ? "other given name"
                               : "other";
      bool pure = true;
      for (uint32_t x : c.members) pure = pure && in.truth[x] == in.truth[c.members[0]];
      auto& wc = why_count[reason];
      ++wc.first;
      wc.second += pure;
    }
    // Pair completeness of blocking: true pairs among the candidates.
    std::vector<std::pair<uint32_t, uint32_t>> cands = m::CandidatePairs(recs, opt, nullptr);
    long long true_candidates = 0;
    std::unordered_set<uint64_t> cand_set;
    for (const auto& [a, b] : cands) {
      true_candidates += in.truth[a] == in.truth[b];
      if (errors > 0) cand_set.insert(Key(a, b));
    }

    if (!dump_patterns.empty()) {
      auto join = [](const std::vector<uint8_t>& l) {
        std::string s;
        for (uint8_t x : l) s += (s.empty() ? "" : ",") + std::to_string(x);
        return s;
      };
      std::map<std::vector<uint8_t>, std::pair<long long, long long>> cand;  // match, non-match
      for (const auto& [a, b] : cands) {
        auto& c = cand[m::Compare(recs[a], recs[b], opt).levels];
        (in.truth[a] == in.truth[b] ? c.first : c.second) += 1;
      }
      std::map<std::vector<uint8_t>, long long> random;
      for (const auto& [a, b] : m::RandomPairs(recs.size(), opt.u_sample_pairs)) {
        random[m::Compare(recs[a], recs[b], opt).levels] += 1;
      }
      std::FILE* f = std::fopen(dump_patterns.c_str(), "w");
      if (!f) {
        std::fprintf(stderr, "cannot write %s\n", dump_patterns.c_str());
        return 1;
      }
      fmt::print(f, "# febrl_eval --dump-patterns: {} ({} records, {} true pairs, {} candidates)\n",
                 gen_dir.empty() ? ds.name : gen_dir, recs.size(), q.truth_pairs, cands.size());
      fmt::print(f, "# c <TAB> true-match pairs <TAB> non-match pairs <TAB> levels | r <TAB> random "
                    "pairs <TAB> levels\n");
      for (const auto& [l, c] : cand) fmt::print(f, "c\t{}\t{}\t{}\n", c.first, c.second, join(l));
      for (const auto& [l, c] : random) fmt::print(f, "r\t{}\t{}\n", c, join(l));
      std::fclose(f);
    }

    // Score separation: the best-scoring non-matches and the worst-scoring matches among the
    // candidate pairs (how much room the thresholds have).
    std::vector<double> non_match_p, match_p;
    int separation_shown = 0;
    for (const auto& [a, b] : separation ? cands : decltype(cands){}) {
      const auto v = m::Compare(recs[a], recs[b], opt);
      const double p = m::ScorePair(res.model, v, recs[a], recs[b]).probability;
      const bool same = in.truth[a] == in.truth[b];
      (same ? match_p : non_match_p).push_back(p);
      if (separation_shown < errors && (same ? p < 0.99 : p >= 0.01)) {
        ++separation_shown;
        std::string lv;
        for (auto l : v.levels) lv += std::to_string(l);
        fmt::print("{} p={:.6f} levels {}\n  {}\n  {}\n", same ? "weak match" : "strong non-match",
                   p, lv, Describe(recs[a]), Describe(recs[b]));
      }
    }
    auto at_least = [](const std::vector<double>& v, double t) {
      return std::count_if(v.begin(), v.end(), [t](double p) { return p >= t; });
    };

    fmt::print("\n== {} ({} records, {} true pairs)\n", ds.name, recs.size(), q.truth_pairs);
    fmt::print(
        "blocking: {} candidate pairs, reduction ratio {:.5f}, pair completeness {:.4f}, "
        "{} blocks capped (largest {})\n",
        res.stats.candidate_pairs, res.stats.reduction_ratio,
        q.truth_pairs ? static_cast<double>(true_candidates) / static_cast<double>(q.truth_pairs)
                      : 1.0,
        res.stats.blocks_capped, res.stats.largest_block);
    std::string by_key;
    for (const auto& [k, v] : res.stats.pairs_by_key) by_key += fmt::format(" {}={}", k, v);
    fmt::print("  pairs by key:{}\n", by_key);
    fmt::print("EM: {} iterations, converged {}, lambda {:.5f}, model {}\n",
               res.model.em_iterations, res.model.converged ? "yes" : "NO", res.model.lambda,
               res.model.em_choice);
    for (const auto& s : res.model.sessions) {
      fmt::print("  session {:<10} {:>9} pairs, lambda {:.4f}, {} iterations{}\n", s.name, s.pairs,
                 s.lambda, s.iterations, s.converged ? "" : " (NOT converged)");
    }
    if (print_model) {
      for (const auto& f : res.model.fields) {
        std::string levels;
        for (size_t l = 1; l < f.m.size(); ++l) {
          levels += fmt::format("  L{} m={:.4f} u={:.4f} w={:+.2f}", l, f.m[l], f.u[l],
                                std::log2(f.m[l] / f.u[l]));
        }
        fmt::print("  {:<11}{}\n", f.name, levels);
      }
    }
    fmt::print(
        "separation: non-match candidates with p ≥ 0.01: {}, ≥ 0.5: {}, ≥ 0.9: {}, "
        "≥ 0.99: {} (max {:.3g}); match candidates with p < 0.5: {}, < 0.99: {} of {}\n",
        at_least(non_match_p, 0.01), at_least(non_match_p, 0.5), at_least(non_match_p, 0.9),
        at_least(non_match_p, 0.99),
        non_match_p.empty() ? 0.0 : *std::max_element(non_match_p.begin(), non_match_p.end()),
        match_p.size() - static_cast<size_t>(at_least(match_p, 0.5)),
        match_p.size() - static_cast<size_t>(at_least(match_p, 0.99)), match_p.size());
    fmt::print(
        "links ≥ review: {}; auto clusters {} ({} pairs), review clusters {}, "
        "review-band pairs {}\n",
        res.links.size(), auto_clusters, auto_links, review_clusters, review_pairs);
    fmt::print("quality (auto only): TP {} FP {} FN {}  precision {:.4f} recall {:.4f} F1 {:.4f}\n",
               q.tp, q.fp, q.fn, q.precision, q.recall, q.f1);
    std::string whys;
    for (const auto& [k, v] : why_count) whys += fmt::format(" {}={} ({} one person)", k, v.first, v.second);
    fmt::print("review clusters by reason:{}\n", whys);
    fmt::print(
        "time: prepare {:.3f}s, blocking {:.3f}s, compare {:.3f}s, EM {:.3f}s, u sample "
        "{:.3f}s, score {:.3f}s, cluster {:.3f}s; FindDuplicates {:.3f}s; prepare + "
        "FindDuplicates CPU {:.3f}s\n",
        prepare_s, res.timings.blocking, res.timings.compare, res.timings.em, res.timings.u_sample,
        res.timings.score, res.timings.cluster, match_s, cpu_s);
    rows.push_back(
        fmt::format("| {} | {} | {} | {} | {:.4f} | {} | {} | {} | {} | {:.4f} | {:.4f} | "
                    "**{:.4f}** | {:.2f} s | {:.2f} s |",
                    ds.name, with_ssn ? "yes" : "no", recs.size(), res.stats.candidate_pairs,
                    res.stats.reduction_ratio, res.model.em_iterations, auto_links, review_pairs,
                    review_clusters, q.precision, q.recall, q.f1, prepare_s + match_s, cpu_s));

    if (errors > 0) {
      std::unordered_set<uint64_t> predicted;
      int shown = 0;
      for (const auto& c : res.clusters) {
        for (size_t i = 0; i < c.members.size(); ++i) {
          for (size_t j = i + 1; j < c.members.size(); ++j) {
            const uint32_t a = c.members[i], b = c.members[j];
            if (c.decision == m::Decision::kAuto) predicted.insert(Key(a, b));
            if (c.decision == m::Decision::kAuto && in.truth[a] != in.truth[b] && shown < errors) {
              ++shown;
              const auto s = m::ScorePair(res.model, m::Compare(recs[a], recs[b], opt), recs[a],
                                          recs[b]);
              fmt::print("FP p={:.6f} w={:.2f} (tf {:+.2f})\n  {}\n  {}\n", s.probability, s.weight, s.tf_bits,
                         Describe(recs[a]), Describe(recs[b]));
            }
          }
        }
      }
      std::unordered_map<int, std::vector<uint32_t>> groups;
      for (uint32_t i = 0; i < in.truth.size(); ++i) groups[in.truth[i]].push_back(i);
      std::vector<int> keys;
      for (const auto& [k, v] : groups) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      shown = 0;
      for (int k : keys) {
        const auto& g = groups[k];
        for (size_t i = 0; i < g.size() && shown < errors; ++i) {
          for (size_t j = i + 1; j < g.size() && shown < errors; ++j) {
            if (predicted.count(Key(g[i], g[j]))) continue;
            ++shown;
            if (!cand_set.count(Key(g[i], g[j]))) fmt::print("(not a candidate) ");
            const auto v = m::Compare(recs[g[i]], recs[g[j]], opt);
            const auto s = m::ScorePair(res.model, v, recs[g[i]], recs[g[j]]);
            std::string lv;
            for (auto l : v.levels) lv += std::to_string(l);
            fmt::print("FN p={:.6f} w={:.2f} levels {}\n  {}\n  {}\n", s.probability, s.weight, lv,
                       Describe(recs[g[i]]), Describe(recs[g[j]]));
          }
        }
      }
    }

    if (sweep) {
      // Links at the lowest review threshold of the grid, then clusters per grid point.
      m::MatchOptions low = opt;
      low.review_threshold = 0.1;
      m::MatchResult base = m::FindDuplicates(recs, low, better);
      fmt::print("sweep (auto, review) → precision recall F1 [review clusters]\n");
      for (double review : {0.1, 0.5, 0.8, 0.9}) {
        for (double au : {0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}) {
          if (au < review) continue;
          m::MatchOptions o = low;
          o.review_threshold = review;
          o.auto_threshold = au;
          std::vector<m::Link> links;
          for (const auto& l : base.links) {
            if (l.score.probability >= review) links.push_back(l);
          }
          auto cl = m::BuildClusters(recs, base.model, links, o, better);
          const Quality sq = Evaluate(in.truth, cl);
          long long rc = 0;
          for (const auto& c : cl) rc += c.decision == m::Decision::kReview;
          fmt::print("  auto {:<7} review {:<5} P {:.4f} R {:.4f} F1 {:.4f} [{}]\n", au, review,
                     sq.precision, sq.recall, sq.f1, rc);
        }
      }
    }
  }

  fmt::print(
      "\n| dataset | ssn | records | candidate pairs | reduction ratio | EM iters | auto "
      "pairs | review-band pairs | review clusters | precision | recall | F1 | wall | CPU |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) fmt::print("{}\n", r);
  return 0;
}
