// SPDX-License-Identifier: Apache-2.0
// mask.h's masks written out pair by pair from their definitions, for brute-force oracles:
// which dilated branches a head runs, and how many times a head keeps a (query, key) pair.
#pragma once

#include <cstdint>
#include <vector>

#include "models/workload.h"

namespace attnsim::test {

/// A dilated branch as one head runs it: segment length, dilation rate and residue offset.
struct Branch {
  std::int64_t w;
  std::int64_t r;
  std::int64_t offset;
};

/// The branches head j runs, straight from the definitions in mask.h (fkodom's unequal groups:
/// the first h mod k groups get one extra head).
inline std::vector<Branch> branches_of(const models::AttentionSpec& spec, int total_heads, int j) {
  const auto k = static_cast<int>(spec.segment_lengths.size());
  std::vector<Branch> out;
  if (spec.dilated_heads == models::DilatedHeads::kAllHeads) {
    for (int i = 0; i < k; ++i) {
      const std::int64_t r = spec.dilation_rates[static_cast<std::size_t>(i)];
      out.push_back({spec.segment_lengths[static_cast<std::size_t>(i)], r, j % r});
    }
    return out;
  }
  int group_end = 0;
  for (int i = 0; i < k; ++i) {
    group_end += total_heads / k + (i < total_heads % k ? 1 : 0);
    if (j < group_end) {
      const std::int64_t r = spec.dilation_rates[static_cast<std::size_t>(i)];
      out.push_back({spec.segment_lengths[static_cast<std::size_t>(i)], r, i % r});
      return out;
    }
  }
  return out;
}

/// How many times head j computes query q against key k (0: masked out; 2 or more: dilated
/// kAllHeads branches that keep the same pair, each computing it).
inline int times_kept(const models::AttentionSpec& spec, int total_heads, int j, std::int64_t q,
                      std::int64_t k) {
  switch (spec.kind) {
    case models::AttentionKind::kDense:
      return 1;
    case models::AttentionKind::kCausal:
      return k <= q ? 1 : 0;
    case models::AttentionKind::kSlidingWindow:
      return q - spec.window < k && k <= q ? 1 : 0;
    case models::AttentionKind::kDilated: {
      int times = 0;
      for (const Branch& b : branches_of(spec, total_heads, j)) {
        times += q / b.w == k / b.w && q % b.r == b.offset && k % b.r == b.offset &&
                         (!spec.causal || k <= q)
                     ? 1
                     : 0;
      }
      return times;
    }
    case models::AttentionKind::kLinear:
    case models::AttentionKind::kSpatialTemporal:  // counted per axis (axis_attention())
      return 0;
  }
  return 0;
}

}  // namespace attnsim::test
