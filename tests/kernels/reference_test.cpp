// SPDX-License-Identifier: Apache-2.0
// The CPU references the GPU kernel tests trust (tests/support/attention_reference.h), checked
// where no GPU is needed: 16-bit rounding on known values, the double-precision gradients
// against central differences of the forward pass, and the naive same-precision pass staying
// close to the exact one.
#include <cmath>
#include <cstdint>
#include <random>

#include <catch2/catch.hpp>

#include "kernels/attention.h"
#include "tests/support/attention_reference.h"

namespace kernels = attnsim::kernels;
namespace test = attnsim::test;

namespace {

test::HostTensor random_tensor(std::mt19937_64& rng, std::int64_t tokens, int heads, int dim) {
  test::HostTensor x = test::make_tensor(1, tokens, heads, dim);
  for (double& v : x.data) {
    v = static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0;  // uniform in [-1, 1)
  }
  return x;
}

// L = sum of O∘dO, the scalar whose gradients the backward pass returns.
double loss(const kernels::AttentionProblem& p, const test::HostTensor& q,
            const test::HostTensor& k, const test::HostTensor& v, const test::HostTensor& d_o) {
  const test::Reference r = test::reference(p, q, k, v, nullptr, false);
  double sum = 0;
  for (std::size_t i = 0; i < d_o.data.size(); ++i) {
    sum += r.o.data[i] * d_o.data[i];
  }
  return sum;
}

}  // namespace

TEST_CASE("16-bit rounding gives the IEEE and bfloat16 bit patterns", "[unit]") {
  using kernels::DType;
  CHECK(test::to_bits(1.0f, DType::kFloat16) == 0x3c00);
  CHECK(test::to_bits(-2.0f, DType::kFloat16) == 0xc000);
  CHECK(test::to_bits(65504.0f, DType::kFloat16) == 0x7bff);           // largest finite half
  CHECK(test::to_bits(65520.0f, DType::kFloat16) == 0x7c00);           // rounds to infinity
  CHECK(test::to_bits(0x1.0p-24f, DType::kFloat16) == 0x0001);         // smallest subnormal
  CHECK(test::to_bits(1.0f + 0x1.0p-11f, DType::kFloat16) == 0x3c00);  // tie to even
  CHECK(test::to_bits(1.0f + 0x1.8p-11f, DType::kFloat16) == 0x3c01);
  CHECK(test::to_bits(1.0f, DType::kBFloat16) == 0x3f80);
  CHECK(test::to_bits(1.0f + 0x1.0p-8f, DType::kBFloat16) == 0x3f80);  // tie to even
  CHECK(test::to_bits(1.0f + 0x1.8p-8f, DType::kBFloat16) == 0x3f81);
  for (const int b : {0x3c00, 0x0001, 0x7bff, 0x8400, 0x3555}) {
    const auto bits = static_cast<std::uint16_t>(b);
    CHECK(test::to_bits(test::from_bits(bits, DType::kFloat16), DType::kFloat16) == bits);
  }
  CHECK(test::from_bits(0x3f80, DType::kBFloat16) == 1.0f);
}

TEST_CASE("the reference gradients equal central differences of the reference forward", "[unit]") {
  // A dilated all-heads mask (pairs counted twice), causal, with GQA: every term of the
  // backward formulas is exercised; d = 4 keeps the differences cheap.
  kernels::AttentionProblem p;
  p.heads = 4;
  p.kv_heads = 2;
  p.seq_q = p.seq_k = 12;
  p.head_dim = 4;
  p.softmax_scale = 0.7f;
  p.mask.kind = kernels::MaskKind::kDilated;
  p.mask.dilated.branches = 2;
  p.mask.dilated.segment_lengths[0] = 4;
  p.mask.dilated.dilation_rates[0] = 1;
  p.mask.dilated.segment_lengths[1] = 12;
  p.mask.dilated.dilation_rates[1] = 2;
  p.mask.dilated.heads = kernels::DilatedHeads::kAllHeads;
  p.mask.dilated.causal = true;
  std::mt19937_64 rng(3);
  test::HostTensor q = random_tensor(rng, 12, 4, 4);
  test::HostTensor k = random_tensor(rng, 12, 2, 4);
  test::HostTensor v = random_tensor(rng, 12, 2, 4);
  const test::HostTensor d_o = random_tensor(rng, 12, 4, 4);
  const test::Reference r = test::reference(p, q, k, v, &d_o, false);
  const double h = 1e-6;
  const auto check = [&](test::HostTensor& x, const test::HostTensor& grad, const char* name) {
    for (std::size_t i = 0; i < x.data.size(); ++i) {
      const double keep = x.data[i];
      x.data[i] = keep + h;
      const double up = loss(p, q, k, v, d_o);
      x.data[i] = keep - h;
      const double down = loss(p, q, k, v, d_o);
      x.data[i] = keep;
      INFO(name << "[" << i << "]");
      CHECK(grad.data[i] == Approx((up - down) / (2 * h)).margin(1e-7));
    }
  };
  check(q, r.d_q, "dQ");
  check(k, r.d_k, "dK");
  check(v, r.d_v, "dV");
}

TEST_CASE("the naive same-precision reference stays close to the exact one", "[unit]") {
  kernels::AttentionProblem p;
  p.heads = 2;
  p.kv_heads = 1;
  p.seq_q = 30;
  p.seq_k = 40;
  p.head_dim = 64;
  p.dtype = kernels::DType::kBFloat16;
  p.mask.kind = kernels::MaskKind::kCausal;
  p.mask.q_position = 10;
  std::mt19937_64 rng(4);
  const auto rounded = [&](std::int64_t tokens, int heads) {
    test::HostTensor x = random_tensor(rng, tokens, heads, 64);
    for (double& e : x.data) {
      e = test::round_to(static_cast<float>(e), p.dtype);
    }
    return x;
  };
  const test::HostTensor q = rounded(30, 2);
  const test::HostTensor k = rounded(40, 1);
  const test::HostTensor v = rounded(40, 1);
  const test::HostTensor d_o = rounded(30, 2);
  const test::Reference exact = test::reference(p, q, k, v, &d_o, false);
  const test::Reference naive = test::reference(p, q, k, v, &d_o, true);
  // bf16 keeps 8 significant bits: relative steps of 2^-8 ≈ 0.004 per rounding.
  double worst = 0;
  double largest = 0;
  for (std::size_t i = 0; i < exact.o.data.size(); ++i) {
    worst = std::max(worst, std::fabs(exact.o.data[i] - naive.o.data[i]));
    largest = std::max(largest, std::fabs(exact.o.data[i]));
  }
  CHECK(worst > 0);
  CHECK(worst < 0.02 * largest);
}
