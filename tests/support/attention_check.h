// SPDX-License-Identifier: Apache-2.0
// FlashAttention's accuracy rule (STYLE D10) for every attention implementation we check against
// tests/support/attention_reference.h (our kernels, cuDNN's SDPA on a device, the cuDNN graphs on
// the host): an implementation's largest error against the double-precision reference may be at
// most twice that of the naive same-precision reference, plus a floor of 1e-4·(1 + largest
// reference value). And the random inputs the checks use.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/attention_reference.h"

namespace attnsim::test {

/// Roughly normal values (sum of three uniforms, our own draw: STYLE C8), rounded to `t`.
inline HostTensor random_tensor(std::mt19937_64& rng, int batch, std::int64_t tokens, int heads,
                                int dim, kernels::DType t) {
  HostTensor x = make_tensor(batch, tokens, heads, dim);
  for (double& v : x.data) {
    double sum = 0;
    for (int i = 0; i < 3; ++i) {
      sum += static_cast<double>(rng() >> 11) * 0x1.0p-53;
    }
    v = round_to(static_cast<float>(2.0 * (sum - 1.5)), t);
  }
  return x;
}

/// Random inputs of a problem (Q, K, V, dO drawn in that order from `seed`) and its two
/// references: `exact` in double, `naive` at the problem's precision.
struct RandomCase {
  HostTensor q, k, v, d_o;
  Reference exact, naive;
};

inline RandomCase random_case(const kernels::AttentionProblem& p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int d = p.head_dim;
  RandomCase c;
  c.q = random_tensor(rng, p.batch, p.seq_q, p.heads, d, p.dtype);
  c.k = random_tensor(rng, p.batch, p.seq_k, p.kv_heads, d, p.dtype);
  c.v = random_tensor(rng, p.batch, p.seq_k, p.kv_heads, d, p.dtype);
  c.d_o = random_tensor(rng, p.batch, p.seq_q, p.heads, d, p.dtype);
  c.exact = reference(p, c.q, c.k, c.v, &c.d_o, false);
  c.naive = reference(p, c.q, c.k, c.v, &c.d_o, true);
  return c;
}

/// Largest |a - b|; infinite when one is NaN or exactly one is infinite, 0 when both are the
/// same infinity.
inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) {
      continue;
    }
    const double d = std::fabs(a[i] - b[i]);
    if (!std::isfinite(d)) {
      return std::numeric_limits<double>::infinity();
    }
    worst = std::max(worst, d);
  }
  return worst;
}

/// The rule for one tensor: `ours` against `exact`, with `naive` setting the bound.
inline void check_close(const char* what, const std::vector<double>& ours,
                        const std::vector<double>& naive, const std::vector<double>& exact) {
  double largest = 0;
  for (const double x : exact) {
    if (std::isfinite(x)) {
      largest = std::max(largest, std::fabs(x));
    }
  }
  const double err = max_abs_diff(ours, exact);
  const double baseline = max_abs_diff(naive, exact);
  const double floor = 1e-4 * (1.0 + largest);
  INFO(what << ": error " << err << ", naive same-precision error " << baseline << ", floor "
            << floor);
  CHECK(err <= 2.0 * baseline + floor);
}

}  // namespace attnsim::test
