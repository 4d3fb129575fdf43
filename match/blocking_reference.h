// The previous blocking implementation (session 9), kept as a reference: the same keys, caps,
// windows and refinements as match::CandidatePairs, computed the straightforward way (a
// std::string per key value, std::sort, each key's pairs merged into the result in turn). Tests
// and febrl_eval check that match::CandidatePairs returns exactly its pairs and counts. It lives
// in the crmh_match_reference library, which only tests and benchmarks link.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "match/matcher.h"

namespace crmh::match::reference {

std::vector<std::pair<uint32_t, uint32_t>> CandidatePairs(const std::vector<Record>& records,
                                                          const MatchOptions& opt,
                                                          CandidateStats* stats);

}  // namespace crmh::match::reference
