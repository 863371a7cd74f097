// SPDX-License-Identifier: Apache-2.0
// CPU references for the attention kernels: mask.h's semantics written out by brute force (how
// many times a head computes a (query, key) pair), bf16/fp16 rounding, and attention forward
// and backward either in double precision or as a naive implementation that rounds every
// matrix product to the input type (FlashAttention's tests' "same-precision" reference).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/attention.h"

namespace attnsim::test {

/// How many times head `head` computes query row i against key row j (0 = masked): mask.h's
/// definitions, independent of kernels/mask_index.h.
inline int pair_multiplicity(const kernels::AttentionProblem& p, int head, std::int64_t i,
                             std::int64_t j) {
  const kernels::AttentionMask& m = p.mask;
  const std::int64_t q = m.q_position + m.q_position_stride * i;
  const std::int64_t k = m.k_position + m.k_position_stride * j;
  switch (m.kind) {
    case kernels::MaskKind::kDense:
      return 1;
    case kernels::MaskKind::kCausal:
      return k <= q ? 1 : 0;
    case kernels::MaskKind::kSlidingWindow:
      return q - m.window < k && k <= q ? 1 : 0;
    case kernels::MaskKind::kDilated:
      break;
  }
  const kernels::DilatedMask& d = m.dilated;
  // Head groups listed one by one: h/k heads each, the first h mod k one more.
  std::vector<int> group_of;
  for (int g = 0; g < d.branches; ++g) {
    const int size = p.heads / d.branches + (g < p.heads % d.branches ? 1 : 0);
    group_of.insert(group_of.end(), static_cast<std::size_t>(size), g);
  }
  int count = 0;
  for (int b = 0; b < d.branches; ++b) {
    const bool groups = d.heads == kernels::DilatedHeads::kHeadGroups;
    if (groups && group_of[static_cast<std::size_t>(head)] != b) {
      continue;
    }
    const std::int64_t w = std::min(d.segment_lengths[b], p.seq_q);
    const std::int64_t r = d.dilation_rates[b];
    const std::int64_t o = (groups ? b : head) % r;
    if (q / w == k / w && q % r == o && k % r == o && (!d.causal || k <= q)) {
      ++count;
    }
  }
  return count;
}

/// Bits of x rounded to nearest even in the 16-bit type.
inline std::uint16_t to_bits(float x, kernels::DType t) {
  if (t == kernels::DType::kBFloat16) {
    std::uint32_t u = 0;
    std::memcpy(&u, &x, sizeof u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
  }
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 65520.0) {
    return static_cast<std::uint16_t>(sign | 0x7c00);  // rounds to infinity
  }
  if (a < std::ldexp(1.0, -14)) {  // subnormal: multiples of 2^-24
    return static_cast<std::uint16_t>(
        sign | static_cast<std::uint16_t>(std::nearbyint(std::ldexp(a, 24))));
  }
  int e = 0;
  std::frexp(a, &e);  // a = f·2^e, f in [0.5, 1): the exponent of a is e - 1
  auto mant = static_cast<int>(std::nearbyint(std::ldexp(a, 11 - e)));  // in [1024, 2048]
  int biased = e - 1 + 15;
  if (mant == 2048) {
    mant = 1024;
    ++biased;
  }
  if (biased >= 31) {
    return static_cast<std::uint16_t>(sign | 0x7c00);
  }
  return static_cast<std::uint16_t>(sign | (biased << 10) | (mant - 1024));
}

/// The value of 16-bit pattern b of type t.
inline float from_bits(std::uint16_t b, kernels::DType t) {
  if (t == kernels::DType::kBFloat16) {
    const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
    float x = 0;
    std::memcpy(&x, &u, sizeof x);
    return x;
  }
  const int sign = (b & 0x8000) != 0 ? -1 : 1;
  const int biased = (b >> 10) & 0x1f;
  const int mant = b & 0x3ff;
  if (biased == 31) {
    return sign < 0 ? -std::numeric_limits<float>::infinity()
                    : std::numeric_limits<float>::infinity();
  }
  const double v = biased == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, biased - 25);
  return static_cast<float>(sign * v);
}

inline float round_to(float x, kernels::DType t) {
  return from_bits(to_bits(x, t), t);
}

/// Contiguous [batch, tokens, heads, d] float data (values representable in the input type).
struct HostTensor {
  std::int64_t tokens = 0;
  int heads = 0;
  int dim = 0;
  std::vector<double> data;

  double& at(int b, std::int64_t t, int h, int e) {
    return data[static_cast<std::size_t>(((b * tokens + t) * heads + h) * dim + e)];
  }

  double at(int b, std::int64_t t, int h, int e) const {
    return data[static_cast<std::size_t>(((b * tokens + t) * heads + h) * dim + e)];
  }
};

inline HostTensor make_tensor(int batch, std::int64_t tokens, int heads, int dim) {
  return HostTensor{tokens, heads, dim,
                    std::vector<double>(static_cast<std::size_t>(batch * tokens * heads * dim))};
}

/// Outputs of a reference pass.
struct Reference {
  HostTensor o;
  std::vector<double> lse;  // [batch, heads, seq_q]; -inf for rows that keep nothing
  HostTensor d_q;
  HostTensor d_k;
  HostTensor d_v;
};

/// Attention forward and (with d_o) backward. `lowp` rounds as a naive same-precision
/// implementation would: the scaled query, every matrix product's output and the probabilities
/// to p.dtype, with fp32-like sums in between; otherwise everything is double.
inline Reference reference(const kernels::AttentionProblem& p, const HostTensor& q,
                           const HostTensor& k, const HostTensor& v, const HostTensor* d_o,
                           bool lowp) {
  const auto rnd = [&](double x) {
    return lowp ? static_cast<double>(round_to(static_cast<float>(x), p.dtype)) : x;
  };
  const double scale =
      p.softmax_scale > 0 ? p.softmax_scale : 1.0 / std::sqrt(static_cast<double>(p.head_dim));
  const int d = p.head_dim;
  const int group = p.heads / p.kv_heads;
  Reference out{
      make_tensor(p.batch, p.seq_q, p.heads, d),
      std::vector<double>(static_cast<std::size_t>(std::int64_t{p.batch} * p.heads * p.seq_q)),
      make_tensor(p.batch, p.seq_q, p.heads, d), make_tensor(p.batch, p.seq_k, p.kv_heads, d),
      make_tensor(p.batch, p.seq_k, p.kv_heads, d)};
  const auto sk = static_cast<std::size_t>(p.seq_k);
  std::vector<double> s(sk);
  std::vector<double> prob(sk);
  std::vector<double> dp(sk);
  std::vector<int> mult(sk);
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.heads; ++h) {
      const int kh = h / group;
      for (std::int64_t i = 0; i < p.seq_q; ++i) {
        double mx = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < p.seq_k; ++j) {
          const auto jj = static_cast<std::size_t>(j);
          mult[jj] = pair_multiplicity(p, h, i, j);
          double dot = 0;
          for (int e = 0; e < d; ++e) {
            dot += (lowp ? rnd(q.at(b, i, h, e) * scale) : q.at(b, i, h, e)) * k.at(b, j, kh, e);
          }
          s[jj] = lowp ? rnd(dot) : dot * scale;
          if (mult[jj] > 0) {
            mx = std::max(mx, s[jj]);
          }
        }
        double sum = 0;
        for (std::size_t j = 0; j < sk; ++j) {
          sum += mult[j] > 0 ? mult[j] * std::exp(s[j] - mx) : 0.0;
        }
        const std::size_t row = static_cast<std::size_t>((b * p.heads + h) * p.seq_q + i);
        out.lse[row] = sum > 0 ? mx + std::log(sum) : -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < sk; ++j) {
          prob[j] = sum > 0 && mult[j] > 0 ? rnd(mult[j] * std::exp(s[j] - mx) / sum) : 0.0;
        }
        for (int e = 0; e < d; ++e) {
          double acc = 0;
          for (std::int64_t j = 0; j < p.seq_k; ++j) {
            acc += prob[static_cast<std::size_t>(j)] * v.at(b, j, kh, e);
          }
          out.o.at(b, i, h, e) = rnd(acc);
        }
        if (d_o == nullptr) {
          continue;
        }
        // Backward of row i: dV += P^T dO, dP = dO V^T, dS = P∘(dP - D), dQ = scale·dS K,
        // dK += scale·dS^T Q, with D = rowsum(dO∘O).
        double delta = 0;
        for (int e = 0; e < d; ++e) {
          delta += d_o->at(b, i, h, e) * out.o.at(b, i, h, e);
        }
        for (std::int64_t j = 0; j < p.seq_k; ++j) {
          const auto jj = static_cast<std::size_t>(j);
          double acc = 0;
          for (int e = 0; e < d; ++e) {
            acc += d_o->at(b, i, h, e) * v.at(b, j, kh, e);
          }
          dp[jj] = rnd(prob[jj] * (rnd(acc) - delta));  // dS
        }
        for (int e = 0; e < d; ++e) {
          double acc = 0;
          for (std::int64_t j = 0; j < p.seq_k; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            acc += dp[jj] * k.at(b, j, kh, e);
            out.d_k.at(b, j, kh, e) += scale * dp[jj] * q.at(b, i, h, e);
            out.d_v.at(b, j, kh, e) += prob[jj] * d_o->at(b, i, h, e);
          }
          out.d_q.at(b, i, h, e) = rnd(scale * acc);
        }
      }
    }
  }
  if (lowp) {  // dK and dV summed over queries in fp32-like precision, rounded once at the end
    for (double& x : out.d_k.data) {
      x = rnd(x);
    }
    for (double& x : out.d_v.data) {
      x = rnd(x);
    }
  }
  return out;
}

}  // namespace attnsim::test
