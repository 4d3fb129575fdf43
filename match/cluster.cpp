// Clusters from scored links (union-find with the rejected-pair guard, survivor, chaining
// guard) and the whole FindDuplicates pipeline.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <future>
#include <system_error>
#include <map>
#include <mutex>
#include <numeric>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/memory.h"
#include "match/matcher.h"
#include "match/parallel.h"

namespace crmh::match {
namespace {

// A comparison vector in 64 bits: 4 bits a field, field f at bits 4f..4f+3.
constexpr size_t kPackFields = 16;
uint64_t Pack(const std::vector<uint8_t>& levels) {
  uint64_t k = 0;
  for (size_t f = 0; f < levels.size() && f < kPackFields; ++f) {
    k |= static_cast<uint64_t>(levels[f] & 0xf) << (4 * f);
  }
  return k;
}
std::vector<uint8_t> Unpack(uint64_t k, size_t fields) {
  std::vector<uint8_t> levels(fields);
  for (size_t f = 0; f < fields; ++f) levels[f] = static_cast<uint8_t>((k >> (4 * f)) & 0xf);
  return levels;
}

// Where the guards below find their fields in a comparison vector, looked up once per
// BuildClusters (ComparedFields builds a vector of names: five times per member it was ~1.5 % of
// a 10M sweep's clustering).
struct GuardFields {
  static constexpr size_t kAbsent = static_cast<size_t>(-1);
  size_t first = kAbsent, email = kAbsent, phone = kAbsent, street = kAbsent,
         birthdate = kAbsent;
  std::vector<int> top;  // per field: its top ("exact") level
  size_t fixed = 0;      // fields [fixed, top.size()) are the extra fields
  bool packable = true;  // a comparison vector fits Pack

  explicit GuardFields(const MatchOptions& opt) {
    const auto fields = ComparedFields(opt);
    fixed = fields.size() - opt.extra_fields.size();
    packable = fields.size() <= kPackFields;
    for (size_t i = 0; i < fields.size(); ++i) {
      top.push_back(fields[i].levels - 1);
      packable = packable && fields[i].levels <= 16;
      const std::string& name = fields[i].name;
      size_t* slot = name == "first_name" ? &first
                     : name == "email"    ? &email
                     : name == "phone"    ? &phone
                     : name == "street"   ? &street
                     : name == "birthdate" ? &birthdate
                                           : nullptr;
      if (slot && *slot == kAbsent) *slot = i;
    }
  }
  // Field i's level in v, or -1 when v has no such field.
  static int Level(const ComparisonVector& v, size_t i) {
    return i < v.levels.size() ? v.levels[i] : -1;
  }
  bool AtTop(const ComparisonVector& v, size_t i) const {
    return i < top.size() && Level(v, i) == top[i];
  }
  // An exact extra identifier (FEBRL's soc_sec_id): extra fields are missing | else | exact.
  bool ExtraExact(const ComparisonVector& v) const {
    for (size_t i = fixed; i < v.levels.size() && i < top.size(); ++i) {
      if (v.levels[i] == top[i]) return true;
    }
    return false;
  }
};

// The household guard: a member whose given name disagrees with the survivor's (both present) is
// likely a spouse, parent or child at the same address — unless a personal identifier agrees:
// the same email address, the same birthdate, or an exact extra identifier (FEBRL's soc_sec_id).
bool HouseholdRisk(const ComparisonVector& v, const GuardFields& g) {
  if (GuardFields::Level(v, g.first) != 1) return false;  // 1 = "else"
  if (g.AtTop(v, g.email)) return false;
  // A birthdate one typo or a day/month swap away still says "the same person".
  if (g.birthdate < g.top.size() && g.top[g.birthdate] >= 2 &&
      GuardFields::Level(v, g.birthdate) >= 2) {
    return false;
  }
  return !g.ExtraExact(v);
}

// Another birthdate: both present and neither equal, one typo apart nor day/month swapped. One
// person has one birthdate; same name, same address and another birthdate is a father and son
// or two namesakes on one street (the generated 100k CRM: most of the auto merges that were
// wrong once the model was right). Part of the household guard.
// Unless the same email address or an exact extra identifier says it is one person after all.
bool OtherBirthdate(const ComparisonVector& v, const GuardFields& g) {
  if (g.AtTop(v, g.email) || g.ExtraExact(v)) return false;
  return GuardFields::Level(v, g.birthdate) == 1;  // 1 = "else"
}

// Evidence beyond names and places: the same email address or phone, a (near-)identical birthdate
// or street, or an exact extra identifier. Without one, even a high score goes to review: a
// rare name in the same postcode is not yet the same person.
bool SharesIdentifier(const ComparisonVector& v, const GuardFields& g) {
  return g.ExtraExact(v) || g.AtTop(v, g.email) || g.AtTop(v, g.phone) ||
         GuardFields::Level(v, g.birthdate) >= 2 || GuardFields::Level(v, g.street) >= 2;
}

uint64_t PairKey(uint32_t i, uint32_t j) {
  if (i > j) std::swap(i, j);
  return (static_cast<uint64_t>(i) << 32) | j;
}

class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  uint32_t Size(uint32_t root) const { return size_[root]; }
  // Joins the sets of roots ra and rb; returns the new root.
  uint32_t Join(uint32_t ra, uint32_t rb) {
    if (size_[ra] < size_[rb]) std::swap(ra, rb);
    parent_[rb] = ra;
    size_[ra] += size_[rb];
    return ra;
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

// Rejected pairs as record indexes: partner lists per record.
std::unordered_map<uint32_t, std::vector<uint32_t>> RejectedPartners(
    const std::vector<Record>& records, const MatchOptions& opt) {
  std::unordered_map<uint32_t, std::vector<uint32_t>> partners;
  if (opt.rejected.empty()) return partners;
  std::unordered_map<std::string, std::vector<uint32_t>> by_id;
  for (uint32_t i = 0; i < records.size(); ++i) by_id[records[i].id.str()].push_back(i);
  for (const auto& [x, y] : opt.rejected) {
    auto ix = by_id.find(x), iy = by_id.find(y);
    if (ix == by_id.end() || iy == by_id.end()) continue;
    for (uint32_t a : ix->second) {
      for (uint32_t b : iy->second) {
        if (a == b) continue;
        partners[a].push_back(b);
        partners[b].push_back(a);
      }
    }
  }
  return partners;
}

bool IsRejected(const std::vector<Record>& records, const MatchOptions& opt, uint32_t a,
                uint32_t b) {
  if (opt.rejected.empty()) return false;
  const std::string x = records[a].id.str();
  const std::string y = records[b].id.str();
  return x < y ? opt.rejected.count({x, y}) > 0 : opt.rejected.count({y, x}) > 0;
}

std::string Prob(double p) { return fmt::format("{:.4f}", p); }

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

std::vector<Cluster> BuildClusters(const std::vector<Record>& records, const Model& model,
                                   const std::vector<Link>& links, const MatchOptions& opt,
                                   const std::function<bool(uint32_t, uint32_t)>& better,
                                   ClusterStats* stats) {
  ClusterStats local;
  ClusterStats& st = stats ? *stats : local;
  st = {};
  const auto n = static_cast<uint32_t>(records.size());
  const auto partners = RejectedPartners(records, opt);

  // The links at or above review_threshold in descending score order, ties by pair, sorted as
  // values: sorting indexes into `links` took two cache misses a comparison (1.3 s at 10M
  // contacts, with a hash map by pair built beside it).
  struct Ranked {
    double probability, weight;
    uint64_t key;  // PairKey: the pair's records
  };
  std::vector<Ranked> order;
  order.reserve(links.size());  // pages never written are never resident
  auto valid = [n](const Link& l) { return l.a < n && l.b < n && l.a != l.b; };
  for (const Link& l : links) {
    if (valid(l) && l.score.probability >= opt.review_threshold) {
      order.push_back({l.score.probability, l.score.weight, PairKey(l.a, l.b)});
    }
  }
  std::sort(order.begin(), order.end(), [](const Ranked& x, const Ranked& y) {
    if (x.probability != y.probability) return x.probability > y.probability;
    if (x.weight != y.weight) return x.weight > y.weight;
    return x.key < y.key;
  });

  // Union-find in descending score order. Each root keeps the members that have rejected
  // partners, so a union that would join a rejected pair is refused.
  DisjointSets sets(n);
  std::unordered_map<uint32_t, std::vector<uint32_t>> guarded;  // root → members with partners
  for (const auto& [member, unused] : partners) guarded[member].push_back(member);
  std::vector<bool> sure(n, false);  // root → formed by an auto-band link
  for (const Ranked& link : order) {
    uint32_t ra = sets.Find(static_cast<uint32_t>(link.key >> 32));
    uint32_t rb = sets.Find(static_cast<uint32_t>(link.key));
    if (ra == rb) continue;
    const bool auto_band = link.probability >= opt.auto_threshold;
    if (!auto_band && (sure[ra] || sure[rb])) {
      ++st.review_links_to_auto;
      continue;
    }
    if (opt.max_cluster > 0 && sets.Size(ra) + sets.Size(rb) > opt.max_cluster) {
      ++st.links_over_max_cluster;
      continue;
    }
    bool refused = false;
    auto ga = guarded.find(ra);
    if (ga != guarded.end()) {
      for (uint32_t x : ga->second) {
        for (uint32_t y : partners.at(x)) {
          if (sets.Find(y) == rb) refused = true;
        }
      }
    }
    if (refused) continue;
    const uint32_t root = sets.Join(ra, rb);
    sure[root] = auto_band || sure[ra] || sure[rb];
    const uint32_t other = root == ra ? rb : ra;
    auto go = guarded.find(other);
    if (go != guarded.end()) {
      std::vector<uint32_t> moved = std::move(go->second);
      guarded.erase(go);
      auto& into = guarded[root];
      into.insert(into.end(), moved.begin(), moved.end());
    }
  }

  std::vector<Ranked>().swap(order);

  // The components of two or more records as spans of one array, each ascending, in the order of
  // their smallest member. Singletons — most records — never make a cluster (at 1M contacts a
  // vector each was once the peak of the whole sweep, ≈ 0.15 GiB); a vector per component, found
  // through a hash map by root, took 2.7 s at 10M contacts.
  constexpr uint32_t kNone = ~uint32_t{0};
  std::vector<uint32_t> members;
  std::vector<size_t> start{0};  // component c: members[start[c], start[c + 1])
  std::vector<uint32_t> component(n, kNone);  // root → its component, then record → its component
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t root = sets.Find(i);
    if (sets.Size(root) < 2 || component[root] != kNone) continue;
    component[root] = static_cast<uint32_t>(start.size() - 1);
    start.push_back(start.back() + sets.Size(root));
  }
  members.resize(start.back());
  {
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (uint32_t i = 0; i < n; ++i) {
      // A root's entry is read again only at the root, where it stays what it was.
      const uint32_t c = component[i] = component[sets.Find(i)];
      if (c != kNone) members[next[c]++] = i;
    }
  }
  const size_t components = start.size() - 1;

  // Each component's links (both records in it) as a span of (pair key, link) sorted by pair, so
  // that a member's link to its survivor is searched among a few (a binary search over all the
  // links missed the cache ~10 times a member at 10M contacts); the first link of a pair counts.
  std::vector<std::pair<uint64_t, size_t>> by_pair;
  std::vector<size_t> pairs_start(components + 1, 0);  // component c: by_pair[ps[c], ps[c + 1])
  {
    auto component_of = [&](const Link& l) {
      return valid(l) && component[l.a] == component[l.b] ? component[l.a] : kNone;
    };
    for (const Link& l : links) {
      if (const uint32_t c = component_of(l); c != kNone) ++pairs_start[c + 1];
    }
    for (size_t c = 0; c < components; ++c) pairs_start[c + 1] += pairs_start[c];
    by_pair.resize(pairs_start.back());
    std::vector<size_t> next(pairs_start.begin(), pairs_start.end() - 1);
    for (size_t i = 0; i < links.size(); ++i) {
      const uint32_t c = component_of(links[i]);
      if (c != kNone) by_pair[next[c]++] = {PairKey(links[i].a, links[i].b), i};
    }
    for (size_t c = 0; c < components; ++c) {
      std::sort(by_pair.begin() + static_cast<std::ptrdiff_t>(pairs_start[c]),
                by_pair.begin() + static_cast<std::ptrdiff_t>(pairs_start[c + 1]));
    }
  }
  std::vector<uint32_t>().swap(component);
  auto link_of = [&](size_t c, uint32_t survivor, uint32_t m) -> const Link* {
    const auto first = by_pair.begin() + static_cast<std::ptrdiff_t>(pairs_start[c]);
    const auto last = by_pair.begin() + static_cast<std::ptrdiff_t>(pairs_start[c + 1]);
    const uint64_t key = PairKey(survivor, m);
    auto it = std::lower_bound(first, last, std::make_pair(key, size_t{0}));
    return it != last && it->first == key ? &links[it->second] : nullptr;
  };

  const GuardFields guard(opt);
  struct Split {
    uint32_t member;
    double probability;
    uint32_t survivor;
  };
  // `split_from`: a member of the same linked component that scores below review_threshold
  // against this survivor (or this cluster's own survivor was split off from another). Such a
  // cluster never merges on its own: a record linked this strongly to both sides is ambiguous.
  auto emit = [&](std::vector<Cluster>& clusters, uint32_t survivor,
                  const std::vector<uint32_t>& others, std::vector<Score>& scores,
                  const std::vector<uint64_t>& known, const std::optional<Split>& split_from) {
    Cluster c;
    c.members.reserve(others.size() + 1);
    c.members.push_back(survivor);
    c.members.insert(c.members.end(), others.begin(), others.end());
    c.scores.assign(c.members.size(), 1.0);
    c.score = 1.0;
    FieldSet matched;  // on every survivor–member pair
    uint32_t weakest = survivor;
    int below = 0;
    std::vector<uint32_t> other_given_name;  // household guard
    std::vector<uint32_t> other_birthdate;   // household guard too
    std::vector<uint32_t> no_identifier;     // names and places alone are not enough
    for (size_t k = 1; k < c.members.size(); ++k) {
      const uint32_t m = c.members[k];
      Score& s = scores[k - 1];
      c.scores[k] = s.probability;
      if (s.probability < opt.auto_threshold) ++below;
      if (k == 1 || s.probability < c.score) {
        c.score = s.probability;
        weakest = m;
      }
      if (opt.review_different_given_names || opt.require_identifier) {
        ComparisonVector v;
        if (known[k - 1] != kUnknownComparison) {
          v.levels = Unpack(known[k - 1], guard.top.size());
        } else {
          v = Compare(records[survivor], records[m], opt);
        }
        if (opt.review_different_given_names && HouseholdRisk(v, guard)) {
          other_given_name.push_back(m);
        }
        if (opt.review_different_given_names && OtherBirthdate(v, guard)) {
          other_birthdate.push_back(m);
        }
        if (opt.require_identifier && !SharesIdentifier(v, guard)) no_identifier.push_back(m);
      }
      if (k == 1) {
        matched = s.matched;
      } else {
        matched &= s.matched;
      }
    }
    c.matched = FieldNames(model, matched);
    std::sort(c.matched.begin(), c.matched.end());
    const bool household = !other_given_name.empty() || !other_birthdate.empty();
    if (below == 0 && !household && no_identifier.empty() && !split_from) {
      c.decision = Decision::kAuto;
    } else if (below == 0 && !household && no_identifier.empty()) {
      c.decision = Decision::kReview;
      c.why = fmt::format("linked with {}, which scores {} against the survivor {} (a review "
                          "needs {}) and was split off: records linked to both sides are for a "
                          "human to judge",
                          records[split_from->member].id, Prob(split_from->probability),
                          records[split_from->survivor].id, Prob(opt.review_threshold));
    } else if (below > 0) {
      c.decision = Decision::kReview;
      c.why = fmt::format("member {} scores {} against the survivor {} (auto needs {})",
                          records[weakest].id, Prob(c.score), records[survivor].id,
                          Prob(opt.auto_threshold));
      if (below > 1) c.why += fmt::format("; {} members are below", below);
    } else if (!no_identifier.empty()) {
      c.decision = Decision::kReview;
      c.why = fmt::format("member {} shares no email, phone, birthdate, street or extra identifier "
                          "with the survivor {} (names and places alone are not enough to merge)",
                          records[no_identifier[0]].id, records[survivor].id);
    } else if (other_given_name.empty()) {
      c.decision = Decision::kReview;
      c.why = fmt::format("member {} has another birthdate than the survivor {} ({} vs {}; "
                          "household guard)",
                          records[other_birthdate[0]].id, records[survivor].id,
                          records[other_birthdate[0]].birthdate, records[survivor].birthdate);
    } else {
      c.decision = Decision::kReview;
      c.why = fmt::format("member {} has another given name than the survivor {} (\"{}\" vs "
                          "\"{}\"; household guard)",
                          records[other_given_name[0]].id, records[survivor].id,
                          records[other_given_name[0]].first_raw_ascii,
                          records[survivor].first_raw_ascii);
    }
    clusters.push_back(std::move(c));
  };

  // Each component becomes clusters whose every member scores at least review_threshold against
  // its survivor: a member that only chains in through others (a sparse record sharing a surname
  // and a postcode with everyone, say) is split off, and the split-off members are clustered the
  // same way among themselves. A reviewer never sees a member scoring 0.00 against the survivor.
  // Components are independent: both cores take a share (`better` and the scoring only read);
  // the clusters are sorted below, so the order does not depend on the threads.
  std::mutex clusters_mutex;
  std::map<size_t, std::vector<Cluster>> parts;  // by the first component of each share
  ParallelChunks(components, opt.threads, [&](size_t begin, size_t end) {
    std::vector<Cluster> out;
    out.reserve((start[end] - start[begin]) / 2);  // at most: each cluster has two members
    long long split_off = 0;
    for (size_t ci = begin; ci < end; ++ci) {
      // The next component's records and links, fetched while this one is split: at 10M
      // contacts each is a cache and TLB miss (most components have two or three members).
      if (ci + 1 < end && start[ci + 2] - start[ci + 1] <= 16) {
        for (size_t x = start[ci + 1]; x < start[ci + 2]; ++x) {
          const char* record = reinterpret_cast<const char*>(&records[members[x]]);
          for (size_t at = 0; at < sizeof(Record); at += 64) __builtin_prefetch(record + at);
        }
        for (size_t x = pairs_start[ci + 1]; x < pairs_start[ci + 2]; ++x) {
          __builtin_prefetch(&links[by_pair[x].second]);
        }
      }
      std::vector<uint32_t> remaining(members.begin() + static_cast<std::ptrdiff_t>(start[ci]),
                                      members.begin() + static_cast<std::ptrdiff_t>(start[ci + 1]));
      std::optional<Split> split_from;  // the weakest member split off so far
      while (remaining.size() >= 2) {
        uint32_t survivor = remaining[0];
        for (uint32_t m : remaining) {
          if (better(m, survivor)) survivor = m;
        }
        std::vector<uint32_t> keep, split;
        std::vector<Score> scores;
        std::vector<uint64_t> known;  // per kept member: Pack(Compare(survivor, member)) if known
        for (uint32_t m : remaining) {
          if (m == survivor) continue;
          // The member's score against the survivor: the link's if there is one, else scored
          // now. The link's vector is Compare(a, b): the survivor's own only when it is `a`.
          Score s;
          uint64_t vector = kUnknownComparison;
          if (const Link* l = link_of(ci, survivor, m)) {
            s = l->score;
            if (l->a == survivor) vector = l->packed;
          } else {
            const ComparisonVector v = Compare(records[survivor], records[m], opt);
            s = ScorePair(model, v, records[survivor], records[m]);
            if (guard.packable) vector = Pack(v.levels);
          }
          if (s.probability >= opt.review_threshold) {
            keep.push_back(m);
            scores.push_back(std::move(s));
            known.push_back(vector);
          } else {
            split.push_back(m);
            if (!split_from || s.probability < split_from->probability) {
              split_from = Split{m, s.probability, survivor};
            }
          }
        }
        if (!keep.empty()) emit(out, survivor, keep, scores, known, split_from);
        split_off += static_cast<long long>(split.size());
        remaining = std::move(split);
      }
    }
    std::lock_guard<std::mutex> lock(clusters_mutex);
    st.members_split_off += split_off;
    parts[begin] = std::move(out);
  });
  // Ordered by their smallest member: the survivor or the first of the others (ascending). The
  // keys are sorted and each cluster moved once, from its share into the result (sorting the
  // clusters themselves, searching the members for each comparison, took 1.3 s at 10M
  // contacts). Clusters share no member: the keys are distinct.
  struct Place {
    uint32_t smallest;
    std::vector<Cluster>* part;
    size_t index;
  };
  std::vector<Place> by_smallest;
  for (auto& [begin, part] : parts) {
    for (size_t i = 0; i < part.size(); ++i) {
      by_smallest.push_back({std::min(part[i].members[0], part[i].members[1]), &part, i});
    }
  }
  std::sort(by_smallest.begin(), by_smallest.end(),
            [](const Place& x, const Place& y) { return x.smallest < y.smallest; });
  std::vector<Cluster> clusters;
  clusters.reserve(by_smallest.size());
  for (const Place& p : by_smallest) clusters.push_back(std::move((*p.part)[p.index]));
  return clusters;
}

namespace {

// A map keyed by packed comparison vectors: an open-addressing table (linear probing, at most
// half full). A sweep has a few thousand distinct patterns among tens of millions of pairs, and
// std::unordered_map's node lookup per pair, once to count the patterns and once to score the
// pairs, was ~0.4 s of a 1M sweep's CPU (session 14). kUnknownComparison, never a packed vector,
// marks an empty slot.
template <class V>
class PackedMap {
 public:
  PackedMap() : keys_(kStart, kUnknownComparison), values_(kStart) {}
  // The key's value, default-constructed when it is new.
  V& operator[](uint64_t key) {
    size_t i = Slot(key);
    while (keys_[i] != key && keys_[i] != kUnknownComparison) i = Next(i);
    if (keys_[i] == key) return values_[i];
    if (2 * (used_ + 1) > keys_.size()) {
      Grow();
      return (*this)[key];
    }
    ++used_;
    keys_[i] = key;
    return values_[i];
  }
  const V* Find(uint64_t key) const {
    for (size_t i = Slot(key);; i = Next(i)) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kUnknownComparison) return nullptr;
    }
  }
  template <class Fn>
  void ForEach(const Fn& fn) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] != kUnknownComparison) fn(keys_[i], values_[i]);
    }
  }

 private:
  static constexpr size_t kStart = 16;  // a power of two (small: every test grows it)
  size_t Slot(uint64_t key) const {
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & (keys_.size() - 1);
  }
  size_t Next(size_t i) const { return (i + 1) & (keys_.size() - 1); }
  void Grow() {
    std::vector<uint64_t> keys(keys_.size() * 2, kUnknownComparison);
    std::vector<V> values(keys_.size() * 2);
    keys.swap(keys_);
    values.swap(values_);
    for (size_t j = 0; j < keys.size(); ++j) {
      if (keys[j] == kUnknownComparison) continue;
      size_t i = Slot(keys[j]);
      while (keys_[i] != kUnknownComparison) i = Next(i);
      keys_[i] = keys[j];
      values_[i] = std::move(values[j]);
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<V> values_;
  size_t used_ = 0;
};

}  // namespace

MatchResult FindDuplicates(const std::vector<Record>& records, const MatchOptions& opt,
                           const std::function<bool(uint32_t, uint32_t)>& better,
                           const CompareHooks* hooks) {
  MatchResult r;
  // Comparison vectors are kept (and the hooks called) only when they fit 64 bits, see below.
  const std::vector<FieldSpec> specs = ComparedFields(opt);
  const size_t nf = specs.size();
  bool packable = nf <= kPackFields;
  for (const auto& f : specs) packable = packable && f.levels <= 16;
  // Fewer than 16 fields: the top 4 bits of a packed vector are 0, so it is never
  // kUnknownComparison.
  const bool use_hooks = hooks != nullptr && packable && nf < kPackFields;

  // The term frequencies (with each record's share of its value) and the random pairs' vectors
  // depend on the records alone: another thread computes them while the candidates are compared
  // (with the sweep cache, compare is mostly one thread reading the pairs file). One thread
  // (`threads: 1`): in turn, when they are needed.
  struct RecordsOnly {
    std::vector<ComparisonVector> sv;  // u from random record pairs (compared like the candidates)
    TermFrequencies tf;
    std::vector<std::vector<float>> share;  // [tf field slot][record]
    double u_sample_seconds = 0;
  };
  auto records_only_task = [&records, &opt] {
    RecordsOnly out;
    const auto t0 = std::chrono::steady_clock::now();
    if (opt.u_sample_pairs > 0 && records.size() > 1) {
      const auto sample = RandomPairs(records.size(), opt.u_sample_pairs);
      out.sv.resize(sample.size());
      ParallelChunks(sample.size(), opt.threads, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          out.sv[i] = Compare(records[sample[i].first], records[sample[i].second], opt);
        }
      });
    }
    out.u_sample_seconds = Seconds(t0);
    // Term frequencies only reweigh agreements when scoring; EM learns m from the average
    // u, as Splink does.
    out.tf = CountTermFrequencies(records, opt, &out.share);
    return out;
  };
  std::future<RecordsOnly> records_only;
  auto start_records_only = [&] {
    if (records_only.valid()) return;
    try {
      records_only = std::async(opt.threads > 1 ? std::launch::async : std::launch::deferred,
                                records_only_task);
    } catch (const std::system_error&) {  // no thread to be had: in turn, when it is needed
      records_only = std::async(std::launch::deferred, records_only_task);
    }
  };

  auto t = std::chrono::steady_clock::now();
  // Started when blocking has one thread's work left (an incremental blocking's merge with the
  // history: with few changes compare is then nearly nothing, and EM waited for these), else
  // after blocking (not during it: its per-key buffers and these together were over 1 GiB at 1M).
  Candidates cands = FindCandidates(records, opt, &r.stats, use_hooks ? hooks->history : nullptr,
                                    use_hooks && hooks->compared, start_records_only);
  start_records_only();
  const auto& pairs = cands.pairs;
  r.timings.blocking = Seconds(t);
  r.blocking.incremental = cands.incremental;
  r.blocking.full_because = cands.full_because;
  r.blocking.pairs_kept = cands.pairs_kept;
  r.blocking.dirty_records = cands.dirty_records;
  r.blocking.unchanged = cands.unchanged;

  // Each pair's comparison vector is kept packed, 4 bits a field (8 bytes a pair instead of a
  // heap-allocated vector): at 1M contacts there are tens of millions of candidate pairs. The EM
  // needs only the distinct vectors and their counts, and a pair's probability is its pattern's.
  t = std::chrono::steady_clock::now();
  std::vector<uint64_t> packed;
  std::vector<ComparisonVector> vectors;  // only when the fields do not fit in 64 bits
  if (packable) {
    if (cands.incremental) {  // the last sweep's vectors, from the history
      packed = std::move(cands.packed);
    } else {
      ReserveHuge(packed, pairs.size());  // core/memory.h: 8 bytes a pair, ~110 MB at 1M
      packed.assign(pairs.size(), kUnknownComparison);
      if (use_hooks && hooks->known) hooks->known(pairs, packed);
    }
    ParallelChunks(pairs.size(), opt.threads, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        if (packed[i] != kUnknownComparison) continue;
        packed[i] = Pack(Compare(records[pairs[i].first], records[pairs[i].second], opt).levels);
      }
    });
    if (use_hooks && hooks->compared) hooks->compared(pairs, packed, cands.keys, r.stats);
    std::vector<KeyMask>().swap(cands.keys);
  } else {
    vectors.resize(pairs.size());
    ParallelChunks(pairs.size(), opt.threads, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        vectors[i] = Compare(records[pairs[i].first], records[pairs[i].second], opt);
      }
    });
  }
  r.timings.compare = Seconds(t);

  // u from random record pairs; with em_sessions it is what the training sessions hold fixed.
  t = std::chrono::steady_clock::now();
  RecordsOnly side = records_only.get();
  r.timings.u_sample = side.u_sample_seconds;  // mostly while comparing (above)
  const std::vector<ComparisonVector>& sv = side.sv;

  std::map<std::vector<uint8_t>, double> distinct;
  std::unordered_map<uint64_t, double> pattern_count;
  if (packable) {
    std::mutex count_mutex;
    ParallelChunks(packed.size(), opt.threads, [&](size_t b, size_t e) {
      PackedMap<uint64_t> counts;
      for (size_t i = b; i < e; ++i) ++counts[packed[i]];
      std::lock_guard<std::mutex> lock(count_mutex);
      counts.ForEach([&](uint64_t k, uint64_t c) {
        pattern_count[k] += static_cast<double>(c);  // whole numbers: exact sums
      });
    });
    for (const auto& [k, c] : pattern_count) distinct[Unpack(k, nf)] = c;
  } else {
    for (const auto& v : vectors) distinct[v.levels] += 1.0;
  }
  r.model = opt.em_sessions && !sv.empty() ? EstimateModelBySessions(distinct, sv, opt)
                                            : EstimateModel(distinct, opt);
  if (!sv.empty()) UseRandomPairU(r.model, sv, r.stats.candidate_pairs, r.stats.total_pairs, opt);
  r.model.tf = std::move(side.tf);
  std::vector<ComparisonVector>().swap(side.sv);
  r.timings.em = Seconds(t);

  // Probabilities from a per-level weight table; the full Score (matched fields) only for
  // the pairs that become links.
  t = std::chrono::steady_clock::now();
  std::vector<std::vector<double>> weight(r.model.fields.size());
  for (size_t f = 0; f < r.model.fields.size(); ++f) {
    const FieldModel& fm = r.model.fields[f];
    weight[f].assign(fm.m.size(), 0.0);
    for (size_t l = 1; l < fm.m.size(); ++l) weight[f][l] = std::log2(fm.m[l] / fm.u[l]);
  }
  const double lambda = std::clamp(r.model.lambda, 1e-15, 1.0 - 1e-6);  // as ScorePair
  const double prior = std::log2(lambda / (1.0 - lambda));
  // Term frequencies: each record's share of its value, per field of model.tf (one lookup per
  // record, not per pair); a pair's adjustment is TermFrequencyBits computed from these, in the
  // same order, so the probability that admits a link is the one ScorePair then reports.
  const TermFrequencies& tf = r.model.tf;
  std::vector<std::vector<float>>& share = side.share;  // counted with tf
  std::vector<uint8_t> top_level(tf.fields.size());
  for (size_t k = 0; k < tf.fields.size(); ++k) {
    const size_t f = tf.fields[k].index;
    top_level[k] = static_cast<uint8_t>(r.model.fields[f].u.size() - 1);
  }
  // `level(f)`: the pair's level of field f.
  auto tf_bits = [&](const auto& level, uint32_t a, uint32_t b) {
    return TermFrequencyBitsOf(
        r.model, level, [&](size_t k, std::string_view) { return share[k][a]; }, records[a],
        records[b]);
  };
  auto base_weight = [&](const std::vector<uint8_t>& lv) {
    double w = 0;
    for (size_t f = 0; f < weight.size() && f < lv.size(); ++f) {
      if (lv[f] < weight[f].size()) w += weight[f][lv[f]];
    }
    return w;
  };
  // The pairs are scored on both cores in contiguous chunks; each chunk's links are appended in
  // chunk order, so the links come out in pair order whatever the thread count.
  std::mutex chunks_mutex;
  std::map<size_t, std::vector<Link>> chunk_links;
  auto add_chunk = [&](size_t b, std::vector<Link>&& links) {
    std::lock_guard<std::mutex> lock(chunks_mutex);
    chunk_links[b] = std::move(links);
  };
  if (packable) {
    // Per pattern: its Score without term frequencies (ScorePair without records: weight,
    // probability, the matched fields), and whether some field of model.tf is at its top level
    // (then each pair is weighed with its own values). A link's Score is its pattern's with the
    // pair's term-frequency bits added as ScorePair with the records adds them; scoring each
    // link again with ScorePair looked its values up twice more (a binary search by hash each:
    // a third of a 10M sweep's scoring).
    struct PatternScore {
      bool tf;
      Score base;
    };
    PackedMap<PatternScore> pattern_score;
    for (const auto& [k, c] : pattern_count) {
      const auto lv = Unpack(k, nf);
      bool uses_tf = false;
      for (size_t x = 0; x < tf.fields.size(); ++x) {
        uses_tf = uses_tf || lv[tf.fields[x].index] == top_level[x];
      }
      ComparisonVector v;
      v.levels = lv;
      pattern_score[k] = {uses_tf, ScorePair(r.model, v)};
    }
    // At most this many links: the pairs whose pattern reaches the review threshold (term
    // frequencies only ever lower a weight: a pattern below it stays below it). Each share
    // reserves as many — pages never written are never resident — so its links never move to a
    // larger buffer, and the first share's buffer takes the others' without moving either.
    size_t upper = 0;
    pattern_score.ForEach([&](uint64_t k, const PatternScore& ps) {
      if (ps.base.probability >= opt.review_threshold) {
        upper += static_cast<size_t>(pattern_count.at(k));
      }
    });
    ParallelChunks(pairs.size(), opt.threads, [&](size_t begin, size_t end) {
      std::vector<Link> links;
      links.reserve(upper);
      // A block of pairs at a time: first the pairs that can make a link, prefetching the
      // second record's term-frequency values of those that need them, then the links. Read in
      // turn, each second record (random across all records) was a cache and TLB miss waited
      // for: a quarter of a 10M sweep's scoring.
      constexpr size_t kBlock = 64;
      std::array<size_t, kBlock> candidates;
      for (size_t block = begin; block < end; block += kBlock) {
        size_t found = 0;
        for (size_t i = block; i < std::min(end, block + kBlock); ++i) {
          const PatternScore& ps = *pattern_score.Find(packed[i]);
          if (ps.base.probability < opt.review_threshold) continue;
          candidates[found++] = i;
          if (ps.tf) {
            const Record& rb = records[pairs[i].second];
            for (const Text* value : {&rb.first, &rb.last, &rb.city, &rb.postcode}) {
              __builtin_prefetch(value);
            }
          }
        }
        for (size_t c = 0; c < found; ++c) {
          const size_t i = candidates[c];
          const uint64_t key = packed[i];
          const PatternScore& ps = *pattern_score.Find(key);
          const auto [a, b] = pairs[i];
          double p = ps.base.probability;
          double bits = 0;
          if (ps.tf) {
            auto level = [key](size_t f) { return static_cast<uint8_t>((key >> (4 * f)) & 0xf); };
            bits = tf_bits(level, a, b);
            p = 1.0 / (1.0 + std::exp2(-(prior + (ps.base.weight + bits))));
          }
          if (p < opt.review_threshold) continue;
          if (IsRejected(records, opt, a, b)) continue;
          links.push_back({a, b, ps.base, key});
          if (bits != 0) {
            Score& s = links.back().score;
            s.tf_bits = bits;
            s.weight += bits;
            s.probability = p;
          }
        }
      }
      add_chunk(begin, std::move(links));
    });
  } else {
    ParallelChunks(pairs.size(), opt.threads, [&](size_t begin, size_t end) {
      std::vector<Link> links;
      for (size_t i = begin; i < end; ++i) {
        const auto [a, b] = pairs[i];
        const auto& lv = vectors[i].levels;
        auto level = [&lv](size_t f) { return f < lv.size() ? lv[f] : kNoLevel; };
        const double p =
            1.0 / (1.0 + std::exp2(-(prior + (base_weight(lv) + tf_bits(level, a, b)))));
        if (p < opt.review_threshold) continue;
        if (IsRejected(records, opt, a, b)) continue;
        links.push_back({a, b, ScorePair(r.model, vectors[i], records[a], records[b])});
      }
      add_chunk(begin, std::move(links));
    });
  }
  size_t total_links = 0;
  for (const auto& [begin, links] : chunk_links) total_links += links.size();
  for (auto& [begin, links] : chunk_links) {
    if (r.links.empty()) {
      r.links = std::move(links);
      r.links.reserve(total_links);  // a no-op when the share reserved enough
    } else {
      r.links.insert(r.links.end(), std::make_move_iterator(links.begin()),
                     std::make_move_iterator(links.end()));
    }
    std::vector<Link>().swap(links);
  }
  std::vector<std::vector<float>>().swap(share);  // 16 MB at 1M, not needed while clustering
  r.timings.score = Seconds(t);

  t = std::chrono::steady_clock::now();
  r.clusters = BuildClusters(records, r.model, r.links, opt, better, &r.cluster_stats);
  r.timings.cluster = Seconds(t);
  return r;
}

}  // namespace crmh::match
