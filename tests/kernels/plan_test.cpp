// SPDX-License-Identifier: Apache-2.0
// Host-side planning of the kernels (kernels/plan.h): argument errors verbatim, the launches a
// pass makes, and workspace sizes.
#include "kernels/plan.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "kernels/attention.h"
#include "kernels/layout.h"

namespace kernels = attnsim::kernels;
namespace plan = attnsim::kernels::plan;

namespace {

kernels::AttentionProblem dilated_problem() {
  kernels::AttentionProblem p;
  p.heads = 8;
  p.kv_heads = 8;
  p.seq_q = p.seq_k = 4096;
  p.head_dim = 64;
  p.mask.kind = kernels::MaskKind::kDilated;
  p.mask.dilated.branches = 3;
  const std::int64_t w[] = {1024, 2048, 4096};
  const std::int64_t r[] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    p.mask.dilated.segment_lengths[i] = w[i];
    p.mask.dilated.dilation_rates[i] = r[i];
  }
  return p;
}

}  // namespace

TEST_CASE("unsupported attention problems are rejected with the field and what was expected",
          "[unit]") {
  kernels::AttentionProblem p;
  p.seq_q = p.seq_k = 128;
  REQUIRE_NOTHROW(plan::check_problem(p));
  SECTION("head dim") {
    p.head_dim = 96;
    REQUIRE_THROWS_AS(plan::check_problem(p), std::invalid_argument);
    REQUIRE_THROWS_WITH(plan::check_problem(p), "attention: head_dim must be 64 or 128, got 96");
  }
  SECTION("kv heads") {
    p.heads = 8;
    p.kv_heads = 3;
    REQUIRE_THROWS_WITH(plan::check_problem(p),
                        "attention: kv_heads must be a divisor of heads (8), got 3");
  }
  SECTION("window") {
    p.mask.kind = kernels::MaskKind::kSlidingWindow;
    REQUIRE_THROWS_WITH(plan::check_problem(p),
                        "attention: mask.window must be >= 1 for a sliding window, got 0");
  }
  SECTION("dilation rate") {
    p = dilated_problem();
    p.mask.dilated.dilation_rates[1] = 3;
    REQUIRE_THROWS_WITH(plan::check_problem(p),
                        "attention: mask.dilated.dilation_rates[1] must be >= 1 and a divisor of "
                        "the segment length (2048), got 3");
  }
  SECTION("dilated lengths") {
    p = dilated_problem();
    p.seq_k = 2048;
    REQUIRE_THROWS_WITH(plan::check_problem(p),
                        "attention: seq_k must be seq_q (4096) for a dilated mask, got 2048");
  }
}

TEST_CASE("tensor and workspace arguments are checked before anything is launched", "[unit]") {
  kernels::AttentionForwardArgs a;
  a.problem.seq_q = a.problem.seq_k = 64;
  REQUIRE_THROWS_WITH(plan::check_forward(a), "attention: q must be a device pointer, got nullptr");
  alignas(256) static const unsigned char buffer[512] = {};
  a.q = kernels::contiguous(buffer + 2, 64, 1, 128);
  REQUIRE_THROWS_WITH(plan::check_forward(a),
                      "attention: q must be 16-byte aligned, got an address = 2 (mod 16)");
  a.q = kernels::ConstTensor{buffer, 8192, 130, 128};
  REQUIRE_THROWS_WITH(plan::check_forward(a),
                      "attention: q strides must be non-negative multiples of 8 elements, got "
                      "8192, 130, 128");
}

TEST_CASE("a pass is one launch, or one per dilated branch with a non-empty head group", "[unit]") {
  kernels::AttentionProblem p;
  p.seq_q = 100;
  p.seq_k = 300;
  p.mask.kind = kernels::MaskKind::kCausal;
  REQUIRE(plan::launches(p).size() == 1);
  CHECK(plan::launches(p)[0].mask.causal);
  CHECK(plan::launches(p)[0].max_k_rows == 300);

  p = dilated_problem();
  const auto groups = plan::launches(p);
  // 8 heads in 3 groups: 3, 3, 2 heads; branch (1024, 1) has 4 segments of 1024 rows, branch
  // (4096, 4) one segment of 1024 rows.
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].head_count == 3);
  CHECK(groups[2].head_begin == 6);
  CHECK(groups[0].problems == 4);
  CHECK(groups[2].max_q_rows == 1024);
  p.heads = 2;
  p.kv_heads = 1;
  CHECK(plan::launches(p).size() == 2);
  p.mask.dilated.heads = kernels::DilatedHeads::kAllHeads;
  CHECK(plan::launches(p).size() == 3);
}

TEST_CASE("workspace: fp32 accumulators only where several CTAs add into one row", "[unit]") {
  kernels::AttentionProblem p;
  p.batch = 2;
  p.heads = 4;
  p.kv_heads = 4;
  p.seq_q = p.seq_k = 1000;
  p.head_dim = 64;
  CHECK(plan::forward_workspace_bytes(p) == 0);
  // delta 2·4·1000·4 = 32000 -> 32000 rounded up to 256 = 32000 (125·256); dQ 2·1000·4·64·4.
  const plan::BackwardWorkspace w = plan::backward_workspace(p);
  CHECK(w.d_q == 32000);
  CHECK(w.d_kv_bytes == 0);
  CHECK(w.total == 32000 + 2048000);
  p.kv_heads = 2;  // GQA: two query heads add into each kv row
  CHECK(plan::backward_workspace(p).d_kv_bytes == std::size_t{2} * 1000 * 2 * 64 * 4);
  p = dilated_problem();
  p.mask.dilated.heads = kernels::DilatedHeads::kAllHeads;
  CHECK(plan::forward_workspace_bytes(p) == std::size_t{4096} * 8 * 64 * 4);
  CHECK(plan::accumulates_kv(p));
}

TEST_CASE("layout arguments are checked with the field and what was expected", "[unit]") {
  const kernels::RowShape shape{2, 1, 12, 8, 64};
  REQUIRE_THROWS_WITH(
      plan::check_ring(shape, kernels::RingLayout::kZigzag, 4, &shape, nullptr),
      "layout: ranks must be a rank count with 2 x ranks dividing tokens (12), got 4");
  REQUIRE_THROWS_WITH(plan::check_ulysses(shape, 5),
                      "layout: ranks must be a divisor of tokens (12), got 5");
  REQUIRE_THROWS_WITH(plan::check_rows(kernels::RowShape{2, 1, 12, 8, 12}),
                      "layout: head_dim must be a positive multiple of 16 bytes (8 elements), got "
                      "12");
}
