// Fellegi–Sunter model: m/u per field level estimated by EM over the candidate pairs'
// comparison vectors (conditional independence, missing levels skipped), and pair scoring.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "match/matcher.h"

namespace crmh::match {
namespace {

constexpr double kMinP = 1e-6;
constexpr double kMaxP = 1.0 - 1e-6;

double Clamp(double p) { return std::clamp(p, kMinP, kMaxP); }

// lambda over all pairs of a large CRM is far below kMinP (10,000 duplicate pairs among 10^6
// records: 2e-8), so it has its own floor.
constexpr double kMinLambda = 1e-15;
double ClampLambda(double p) { return std::clamp(p, kMinLambda, kMaxP); }

// Pins the overridden levels of `p` and rescales the free ones so the levels sum to 1.
void PinAndNormalize(std::vector<double>& p, const std::map<int, double>* pinned) {
  auto pin = [&](size_t l) -> const double* {
    if (!pinned) return nullptr;
    auto it = pinned->find(static_cast<int>(l));
    return it == pinned->end() ? nullptr : &it->second;
  };
  double pinned_sum = 0, free_sum = 0;
  for (size_t l = 1; l < p.size(); ++l) {
    if (const double* v = pin(l)) {
      p[l] = Clamp(*v);
      pinned_sum += p[l];
    } else {
      free_sum += p[l];
    }
  }
  const double target = std::max(0.0, 1.0 - pinned_sum);
  for (size_t l = 1; l < p.size(); ++l) {
    if (!pin(l) && free_sum > 0) p[l] = Clamp(p[l] / free_sum * target);
  }
}

const std::map<int, double>* Find(const std::map<std::string, std::map<int, double>>& m,
                                  const std::string& field) {
  auto it = m.find(field);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

Model EstimateModel(const std::vector<ComparisonVector>& vectors, const MatchOptions& opt) {
  // The EM only needs each distinct vector once, with its count.
  std::map<std::vector<uint8_t>, double> distinct;
  for (const auto& v : vectors) distinct[v.levels] += 1.0;
  return EstimateModel(distinct, opt);
}

namespace {

// How many of `sample` have each level (1..levels−1) of field f; `observed`: their sum.
std::vector<double> LevelCounts(const std::vector<ComparisonVector>& sample, size_t f,
                                size_t levels, double& observed) {
  std::vector<double> count(levels, 0.0);
  observed = 0;
  for (const auto& v : sample) {
    const uint8_t l = f < v.levels.size() ? v.levels[f] : 0;
    if (l == 0 || l >= count.size()) continue;
    count[l] += 1;
    observed += 1;
  }
  return count;
}

// The distinct candidate vectors as EM sees them: levels out of range count as missing.
struct Patterns {
  std::vector<std::vector<uint8_t>> levels;
  std::vector<double> counts;
};

Patterns ToPatterns(const std::map<std::vector<uint8_t>, double>& distinct,
                    const std::vector<FieldSpec>& specs) {
  Patterns out;
  out.levels.reserve(distinct.size());
  for (const auto& [p, c] : distinct) {
    std::vector<uint8_t> levels = p;
    levels.resize(specs.size(), 0);
    for (size_t f = 0; f < specs.size(); ++f) {
      if (levels[f] >= specs[f].levels) levels[f] = 0;  // out of range: treat as missing
    }
    out.levels.push_back(std::move(levels));
    out.counts.push_back(c);
  }
  return out;
}

// Initial values: u from the level frequencies of all candidate pairs (mostly non-matches),
// m concentrated on the top level, lambda 0.1.
Model InitialModel(const Patterns& pats, const std::vector<FieldSpec>& specs,
                   const MatchOptions& opt) {
  Model model;
  model.fields.resize(specs.size());
  for (size_t f = 0; f < specs.size(); ++f) {
    FieldModel& fm = model.fields[f];
    const auto levels = static_cast<size_t>(specs[f].levels);
    fm.name = specs[f].name;
    fm.m.assign(levels, 0.0);
    fm.u.assign(levels, 0.0);
    std::vector<double> freq(levels, 1.0);  // add-one smoothing
    for (size_t p = 0; p < pats.levels.size(); ++p) freq[pats.levels[p][f]] += pats.counts[p];
    double total = 0;
    for (size_t l = 1; l < levels; ++l) total += freq[l];
    for (size_t l = 1; l < levels; ++l) fm.u[l] = Clamp(freq[l] / total);
    const size_t top = levels - 1;
    fm.m[top] = 0.9;
    for (size_t l = 1; l < top; ++l)
      fm.m[l] = 0.1 * static_cast<double>(l) / static_cast<double>(top * (top - 1) / 2);
    if (top == 1) fm.m[top] = kMaxP;
    PinAndNormalize(fm.m, Find(opt.overrides.m, fm.name));
    PinAndNormalize(fm.u, Find(opt.overrides.u, fm.name));
  }
  model.lambda = 0.1;
  return model;
}

// EM over the patterns selected by `use_pattern` (all if empty). Only fields with use[f] take
// part (in the E-step and the M-step); m is re-estimated when fit_m, u when fit_u, lambda always.
void FitEm(const Patterns& pats, const std::vector<char>& use_pattern, const std::vector<char>& use,
           bool fit_m, bool fit_u, const MatchOptions& opt, Model& model) {
  const size_t nf = model.fields.size();
  std::vector<size_t> rows;
  for (size_t p = 0; p < pats.levels.size(); ++p) {
    if (use_pattern.empty() || use_pattern[p]) rows.push_back(p);
  }
  model.converged = false;
  model.em_iterations = 0;
  if (rows.empty()) return;
  std::vector<double> g(pats.levels.size());
  std::vector<std::vector<double>> sm(nf), su(nf);
  for (int it = 1; it <= std::max(1, opt.em_max_iterations); ++it) {
    // E-step: posterior match probability of each distinct vector.
    double ll = 0;
    const double log_lambda = std::log(model.lambda), log_not = std::log(1.0 - model.lambda);
    for (size_t p : rows) {
      double lm = log_lambda, lu = log_not;
      for (size_t f = 0; f < nf; ++f) {
        const uint8_t l = pats.levels[p][f];
        if (l == 0 || !use[f]) continue;
        lm += std::log(model.fields[f].m[l]);
        lu += std::log(model.fields[f].u[l]);
      }
      const double hi = std::max(lm, lu);
      const double lse = hi + std::log(std::exp(lm - hi) + std::exp(lu - hi));
      g[p] = std::exp(lm - lse);
      ll += pats.counts[p] * lse;
    }
    model.log_likelihood = ll;

    // M-step.
    double total = 0, matched = 0;
    for (size_t f = 0; f < nf; ++f) {
      sm[f].assign(model.fields[f].m.size(), 0.0);
      su[f].assign(model.fields[f].u.size(), 0.0);
    }
    for (size_t p : rows) {
      const double wm = pats.counts[p] * g[p], wu = pats.counts[p] * (1.0 - g[p]);
      total += pats.counts[p];
      matched += wm;
      for (size_t f = 0; f < nf; ++f) {
        const uint8_t l = pats.levels[p][f];
        if (l == 0 || !use[f]) continue;
        sm[f][l] += wm;
        su[f][l] += wu;
      }
    }
    double delta = 0;
    const double lambda = Clamp(matched / total);
    delta = std::max(delta, std::abs(lambda - model.lambda));
    model.lambda = lambda;
    for (size_t f = 0; f < nf; ++f) {
      if (!use[f]) continue;
      FieldModel& fm = model.fields[f];
      double tm = 0, tu = 0;
      for (size_t l = 1; l < fm.m.size(); ++l) {
        tm += sm[f][l];
        tu += su[f][l];
      }
      std::vector<double> m = fm.m, u = fm.u;
      // A field never observed (or observed only in one class) keeps its previous values.
      if (fit_m && tm > 0) {
        for (size_t l = 1; l < m.size(); ++l) m[l] = Clamp(sm[f][l] / tm);
      }
      if (fit_u && tu > 0) {
        for (size_t l = 1; l < u.size(); ++l) u[l] = Clamp(su[f][l] / tu);
      }
      PinAndNormalize(m, Find(opt.overrides.m, fm.name));
      PinAndNormalize(u, Find(opt.overrides.u, fm.name));
      for (size_t l = 1; l < m.size(); ++l) {
        delta = std::max({delta, std::abs(m[l] - fm.m[l]), std::abs(u[l] - fm.u[l])});
      }
      fm.m = std::move(m);
      fm.u = std::move(u);
    }
    model.em_iterations = it;
    if (delta < opt.em_tolerance) {
      model.converged = true;
      break;
    }
  }
}

}  // namespace

Model EstimateModel(const std::map<std::vector<uint8_t>, double>& distinct,
                    const MatchOptions& opt) {
  const std::vector<FieldSpec> specs = ComparedFields(opt);
  const Patterns pats = ToPatterns(distinct, specs);
  Model model = InitialModel(pats, specs, opt);
  FitEm(pats, {}, std::vector<char>(specs.size(), 1), true, true, opt, model);
  model.lambda_candidates = model.lambda;
  model.em_choice = "global";
  return model;
}

std::vector<EmSession> TrainingSessions(const MatchOptions& opt) {
  // Each session holds one group of fields fixed at agreement and learns m for the others. The
  // place fields are one group: neighbours agree on street, city and postcode together, so no
  // place field may be learned from pairs selected by another.
  std::vector<EmSession> out = {
      {"names", {"first_name", "last_name"},
       {"first_name", "last_name", "street", "city", "postcode", "region", "country"}},
      {"email", {"email"}, {"email"}},
      {"birthdate", {"birthdate"}, {"birthdate"}},
  };
  for (const auto& e : opt.extra_fields) out.push_back({"extra:" + e, {e}, {e}});
  return out;
}

Model EstimateModelBySessions(const std::map<std::vector<uint8_t>, double>& distinct,
                              const std::vector<ComparisonVector>& random_pairs,
                              const MatchOptions& opt) {
  const std::vector<FieldSpec> specs = ComparedFields(opt);
  const size_t nf = specs.size();
  const Patterns pats = ToPatterns(distinct, specs);
  const Model initial = InitialModel(pats, specs, opt);
  // u of a random pair: the share of each level among the sampled pairs (half a count of
  // smoothing); UseRandomPairU refines it once m is known.
  std::vector<std::vector<double>> u_random(nf);
  for (size_t f = 0; f < nf; ++f) {
    double observed = 0;
    const std::vector<double> count =
        LevelCounts(random_pairs, f, initial.fields[f].u.size(), observed);
    u_random[f] = initial.fields[f].u;
    if (observed == 0) continue;
    for (size_t l = 1; l < count.size(); ++l) {
      u_random[f][l] =
          Clamp((count[l] + 0.5) / (observed + 0.5 * static_cast<double>(count.size() - 1)));
    }
    PinAndNormalize(u_random[f], Find(opt.overrides.u, specs[f].name));
  }
  auto index_of = [&](const std::string& name) -> int {
    for (size_t f = 0; f < nf; ++f) {
      if (specs[f].name == name) return static_cast<int>(f);
    }
    return -1;
  };

  Model model = initial;
  for (size_t f = 0; f < nf; ++f) model.fields[f].u = u_random[f];
  std::vector<std::vector<double>> m_sum(nf);
  std::vector<double> w_sum(nf, 0.0);
  for (size_t f = 0; f < nf; ++f) m_sum[f].assign(specs[f].levels, 0.0);
  bool all_converged = true;
  int iterations = 0;
  for (const EmSession& session : TrainingSessions(opt)) {
    std::vector<char> use(nf, 1), select(pats.levels.size(), 1);
    bool known = true;
    for (const auto& name : session.held) {
      const int f = index_of(name);
      if (f >= 0) use[static_cast<size_t>(f)] = 0;
    }
    for (const auto& name : session.key) {
      const int f = index_of(name);
      if (f < 0) {
        known = false;
        break;
      }
      const auto top = static_cast<uint8_t>(specs[static_cast<size_t>(f)].levels - 1);
      for (size_t p = 0; p < pats.levels.size(); ++p) {
        if (pats.levels[p][static_cast<size_t>(f)] != top) select[p] = 0;
      }
    }
    EmSessionResult res{session.name, 0, 0, 0, false};
    for (size_t p = 0; p < pats.levels.size(); ++p) {
      if (select[p]) res.pairs += static_cast<long long>(pats.counts[p]);
    }
    if (known && res.pairs > 0) {
      Model s = initial;
      for (size_t f = 0; f < nf; ++f) s.fields[f].u = u_random[f];
      FitEm(pats, select, use, /*fit_m=*/true, /*fit_u=*/false, opt, s);
      res.lambda = s.lambda;
      res.iterations = s.em_iterations;
      res.converged = s.converged;
      iterations += s.em_iterations;
      all_converged = all_converged && s.converged;
      // Each session's m counts by the matches it saw.
      const double weight = s.lambda * static_cast<double>(res.pairs);
      for (size_t f = 0; f < nf; ++f) {
        if (!use[f] || weight <= 0) continue;
        for (size_t l = 1; l < m_sum[f].size(); ++l) m_sum[f][l] += weight * s.fields[f].m[l];
        w_sum[f] += weight;
      }
    }
    model.sessions.push_back(res);
  }
  for (size_t f = 0; f < nf; ++f) {
    if (w_sum[f] <= 0) continue;  // learned by no session: the initial m
    for (size_t l = 1; l < m_sum[f].size(); ++l) model.fields[f].m[l] = Clamp(m_sum[f][l] / w_sum[f]);
    PinAndNormalize(model.fields[f].m, Find(opt.overrides.m, specs[f].name));
  }
  // The share of matches among all candidates, with m as learned: u of the candidates (blocked
  // non-matches agree on the blocked fields far more than random pairs) re-fitted with lambda.
  model.lambda = 0.1;
  for (size_t f = 0; f < nf; ++f) model.fields[f].u = initial.fields[f].u;
  FitEm(pats, {}, std::vector<char>(nf, 1), /*fit_m=*/false, /*fit_u=*/true, opt, model);
  model.converged = all_converged && model.converged;
  model.em_iterations += iterations;
  model.lambda_candidates = model.lambda;
  // Then one EM over all candidates, started from there: where the data hold enough duplicates
  // it sharpens m (on the generated 3k CRMs it converges to the global EM's optimum). Kept only
  // if it describes the same two classes — a match share within a factor of 2 of the sessions'
  // (converged or not: 100 iterations of creeping along the same classes is still sharper) —
  // because when duplicates are few, its likelihood is higher for "neighbours" or "household"
  // as the match class (a 3k CRM: a share 10 times too high) and the sessions' model stays.
  Model refined = model;
  FitEm(pats, {}, std::vector<char>(nf, 1), /*fit_m=*/true, /*fit_u=*/true, opt, refined);
  refined.em_iterations += model.em_iterations;
  const double ratio = refined.lambda / model.lambda;
  if (ratio <= 2.0 && ratio >= 0.5) {
    refined.lambda_candidates = refined.lambda;
    refined.em_choice = "refined";
    return refined;
  }
  model.em_choice = fmt::format(
      "sessions (one EM over all candidates found a match share {:.3g}× the sessions')", ratio);
  return model;
}

std::vector<std::pair<uint32_t, uint32_t>> RandomPairs(size_t records, size_t count,
                                                       uint64_t seed) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  const auto n = static_cast<uint64_t>(records);
  const uint64_t total = n > 1 ? n * (n - 1) / 2 : 0;
  if (total <= count) {
    out.reserve(total);
    for (uint32_t i = 0; i < n; ++i) {
      for (uint32_t j = i + 1; j < n; ++j) out.emplace_back(i, j);
    }
    return out;
  }
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> keys;
  keys.reserve(count + count / 8);
  while (keys.size() < count) {
    // Draw, then drop duplicates; repeat until enough distinct pairs (count < total).
    while (keys.size() < count + count / 16 + 1) {
      auto i = static_cast<uint32_t>(rng() % n), j = static_cast<uint32_t>(rng() % n);
      if (i == j) continue;
      if (i > j) std::swap(i, j);
      keys.push_back((static_cast<uint64_t>(i) << 32) | j);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }
  keys.resize(count);  // the smallest keys of a uniform sample: still uniform over pairs
  out.reserve(count);
  for (uint64_t k : keys)
    out.emplace_back(static_cast<uint32_t>(k >> 32), static_cast<uint32_t>(k));
  return out;
}

void UseRandomPairU(Model& model, const std::vector<ComparisonVector>& sample,
                    long long candidate_pairs, long long total_pairs, const MatchOptions& opt) {
  if (sample.empty() || total_pairs <= 0) return;
  const double lambda = std::clamp(model.lambda_candidates * static_cast<double>(candidate_pairs) /
                                       static_cast<double>(total_pairs),
                                   kMinLambda, 0.5);
  for (size_t f = 0; f < model.fields.size(); ++f) {
    FieldModel& fm = model.fields[f];
    double observed = 0;
    const std::vector<double> count = LevelCounts(sample, f, fm.u.size(), observed);
    if (observed == 0) continue;  // never observed: keep EM's u (it never scores anyway)
    std::vector<double> u(fm.u.size(), 0.0);
    for (size_t l = 1; l < u.size(); ++l) {
      // sample share = lambda·m + (1 − lambda)·u, solved for u; half a count of smoothing.
      const double share = (count[l] + 0.5) / (observed + 0.5 * static_cast<double>(u.size() - 1));
      u[l] = Clamp((share - lambda * fm.m[l]) / (1.0 - lambda));
    }
    PinAndNormalize(u, Find(opt.overrides.u, fm.name));
    fm.u = std::move(u);
  }
  model.lambda = lambda;
  model.u_sample_pairs = static_cast<long long>(sample.size());
}

double TermFrequencyAdjustment(double u_exact, float share) {
  // Only ever down: a value rarer than average keeps the field's average weight. Letting it rise
  // (Splink's symmetric form) lifted same-address households with a rare surname into the links
  // — surname and address agree together there, not independently — and the household guard then
  // sent whole clusters, true duplicates included, to review: 1M recall 0.936 → 0.891
  // (docs/dedup.md §4).
  return std::min(0.0, std::log2(u_exact) - std::log2(static_cast<double>(share)));
}

double TermFrequencyBits(const Model& model, const ComparisonVector& v, const Record& a,
                         const Record& b) {
  return TermFrequencyBitsOf(
      model, [&v](size_t f) { return f < v.levels.size() ? v.levels[f] : kNoLevel; },
      [&model](size_t k, std::string_view value) { return model.tf.Share(k, value); }, a, b);
}

Score ScorePair(const Model& model, const ComparisonVector& v, const Record& a, const Record& b) {
  Score s = ScorePair(model, v);
  s.tf_bits = TermFrequencyBits(model, v, a, b);
  if (s.tf_bits == 0) return s;
  s.weight += s.tf_bits;
  const double lambda = ClampLambda(model.lambda);
  const double logit = std::log2(lambda / (1.0 - lambda)) + s.weight;
  s.probability = 1.0 / (1.0 + std::exp2(-logit));
  return s;
}

std::vector<std::string> FieldNames(const Model& model, const FieldSet& fields) {
  std::vector<std::string> names;
  for (size_t f = 0; f < model.fields.size(); ++f) {
    if (fields.Has(f)) names.push_back(model.fields[f].name);
  }
  return names;
}

Score ScorePair(const Model& model, const ComparisonVector& v) {
  Score s;
  const size_t nf = std::min(model.fields.size(), v.levels.size());
  for (size_t f = 0; f < nf; ++f) {
    const FieldModel& fm = model.fields[f];
    const uint8_t l = v.levels[f];
    if (l == 0 || l >= fm.m.size()) continue;
    s.weight += std::log2(fm.m[l] / fm.u[l]);
    if (l == fm.m.size() - 1) s.matched.Add(f);
  }
  const double lambda = ClampLambda(model.lambda);
  const double logit = std::log2(lambda / (1.0 - lambda)) + s.weight;
  s.probability = 1.0 / (1.0 + std::exp2(-logit));
  return s;
}

}  // namespace crmh::match
