// Knobs of match/blocking.cpp's CandidatePairs that only tests turn (not an API).
#pragma once

#include <cstddef>

namespace crmh::match::detail {

// CandidatePairs merges each key's pairs into the result on two threads (opt.threads ≥ 2) once
// the result and the key's pairs together hold at least this many pairs; on one thread below.
// Tests lower it to run the two-thread merge on small inputs.
inline size_t parallel_merge_min_pairs = size_t{1} << 20;

}  // namespace crmh::match::detail
