// SPDX-License-Identifier: Apache-2.0
// Per-op costs (models/cost.h) on the built-in profiles: measured rows come back exactly,
// values between rows lie between them, and whatever is priced beyond the rows or by an
// assumption is flagged extrapolated.
#include "models/cost.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "config/error.h"

using attnsim::calibrate::builtin_profile;
using attnsim::calibrate::Profile;
using attnsim::models::Cost;
using attnsim::models::CostModel;
using attnsim::models::Pass;

namespace {

// Achieved TFLOP/s of an op of `flops` FLOPs that cost `cost`.
double tflops(double flops, const Cost& cost) {
  return flops / cost.time.seconds() / 1e12;
}

double gemm_flops(double m, double n, double k) {
  return 2 * m * n * k;
}

// FlashAttention forward FLOPs of `batch_heads` square tiles of `seq` tokens (profile.h).
double attention_flops(double seq, int head_dim, double batch_heads, bool causal) {
  return 4 * seq * seq * head_dim * batch_heads * (causal ? 0.5 : 1.0);
}

// sim::Time rounds to the picosecond: a 100 us op carries a relative error below 1e-8.
constexpr double kRounding = 1e-7;

}  // namespace

// Oracle: h100-sxm's bf16 GEMM rows (XLA's sm_90 table and MAMF, hardware.md 5.2); a row's
// own shape must price at the row's TFLOP/s, since the table is what was measured.
TEST_CASE("a GEMM at a measured shape runs at the measured rate", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const Cost square = cost.gemm(4096, 4096, 4096);
  CHECK(tflops(gemm_flops(4096, 4096, 4096), square) == Approx(780.2).epsilon(kRounding));
  CHECK_FALSE(square.extrapolated);
  const Cost wide = cost.gemm(1024, 4096, 4096);
  CHECK(tflops(gemm_flops(1024, 4096, 4096), wide) == Approx(751.9).epsilon(kRounding));
  CHECK_FALSE(wide.extrapolated);
  SECTION("fp16 is served by the same 16-bit rows (equal peaks)") {
    const CostModel fp16(builtin_profile("h100-sxm"), "fp16");
    CHECK(fp16.gemm(4096, 4096, 4096).time == square.time);
  }
}

// Oracle: 1500^3 is 6.75 GFLOP, between the 1024^3 row (2.15 GFLOP, 252.8 TFLOP/s) and the
// 2048^3 row (17.2 GFLOP, 641 TFLOP/s); the rate is their power law in FLOPs (fit.h model 1).
TEST_CASE("a GEMM between measured sizes runs at the log-log interpolated rate", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const double f = gemm_flops(1500, 1500, 1500);
  const double f0 = gemm_flops(1024, 1024, 1024);
  const double f1 = gemm_flops(2048, 2048, 2048);
  const double expected = 252.8 * std::pow(641 / 252.8, std::log(f / f0) / std::log(f1 / f0));
  const Cost c = cost.gemm(1500, 1500, 1500);
  CHECK(tflops(f, c) == Approx(expected).epsilon(kRounding));
  CHECK(tflops(f, c) > 252.8);
  CHECK(tflops(f, c) < 641);
  CHECK_FALSE(c.extrapolated);
}

// Oracle: beyond the largest row the roofline at the best measured efficiency, the MAMF
// 794.5 TFLOP/s (2048x2048x13312); below the smallest (256^3, 6.7 TFLOP/s) the fixed-cost
// model keeps the rate falling (a 64^3 GEMM cannot beat the 256^3 one). Both flagged.
TEST_CASE("a GEMM far outside the measured sizes is flagged extrapolated", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const Cost huge = cost.gemm(65536, 65536, 65536);
  CHECK(huge.extrapolated);
  CHECK(tflops(gemm_flops(65536, 65536, 65536), huge) == Approx(794.5).epsilon(kRounding));
  const Cost tiny = cost.gemm(64, 64, 64);
  CHECK(tiny.extrapolated);
  CHECK(tflops(gemm_flops(64, 64, 64), tiny) < 6.7);
  CHECK(tiny.time.us() > 1.0);  // the ~5 us fixed cost of the smallest measured GEMMs
}

// Oracle: with launch_overhead_us = 4 every kernel costs 4 us more than the table's time.
TEST_CASE("a profile's launch overhead is added to every op", "[unit]") {
  Profile profile = builtin_profile("h100-sxm");
  const CostModel without(profile, "bf16");
  profile.compute.launch_overhead_us = 4;
  const CostModel with(profile, "bf16");
  CHECK((with.gemm(4096, 4096, 4096).time - without.gemm(4096, 4096, 4096).time).us() == 4);
  CHECK((with.memory_bound(1e9).time - without.memory_bound(1e9).time).us() == 4);
  CHECK((with.attention(Pass::kForward, false, 128, 512, 512, 1e11).time -
         without.attention(Pass::kForward, false, 128, 512, 512, 1e11).time)
            .us() == 4);
}

// Oracle: h100-sxm's attention rows (FA3 paper and pytorch/benchmark, hardware.md 5.3). The
// default implementation is the fastest with a backward: FA3. At a row's (seq, head dim,
// masking) the row's TFLOP/s comes back; e.g. FA3 fwd d128 non-causal at 512 tokens: 467.
TEST_CASE("attention at a measured setting runs at the row's rate", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  CHECK(cost.attention_impl() == "fa3");

  SECTION("fa3 forward, non-causal, d128") {
    const double f = attention_flops(512, 128, 512, false);
    const Cost c = cost.attention(Pass::kForward, false, 128, 512, 512, f);
    CHECK(tflops(f, c) == Approx(467).epsilon(kRounding));
    CHECK_FALSE(c.extrapolated);
    const double f16k = attention_flops(16384, 128, 16, false);
    CHECK(tflops(f16k, cost.attention(Pass::kForward, false, 128, 16384, 16384, f16k)) ==
          Approx(648).epsilon(kRounding));
  }
  SECTION("fa3 forward, causal, d64") {
    const double f = attention_flops(2048, 64, 256, true);
    const Cost c = cost.attention(Pass::kForward, true, 64, 2048, 2048, f);
    CHECK(tflops(f, c) == Approx(371).epsilon(kRounding));
    CHECK_FALSE(c.extrapolated);
  }
  SECTION("fa3 backward, non-causal, d128") {
    const double f = 2.5 * attention_flops(4096, 128, 64, false);
    const Cost c = cost.attention(Pass::kBackward, false, 128, 4096, 4096, f);
    CHECK(tflops(f, c) == Approx(542).epsilon(kRounding));
    CHECK_FALSE(c.extrapolated);
  }
  SECTION("an implementation named by the caller: cudnn forward d128 at 512, 497") {
    const CostModel cudnn(builtin_profile("h100-sxm"), "bf16", "cudnn");
    CHECK(cudnn.attention_impl() == "cudnn");
    const double f = attention_flops(512, 128, 512, false);
    CHECK(tflops(f, cudnn.attention(Pass::kForward, false, 128, 512, 512, f)) ==
          Approx(497).epsilon(kRounding));
  }
}

// Oracle: FA2 on h100-sxm has causal d64 fwd_bwd and fwd rows but no causal backward. With
// t_fwd_bwd = t_fwd + t_bwd and F_bwd = 2.5·F_fwd, F_fwd_bwd = 3.5·F_fwd (FlashAttention
// convention), r_bwd = 2.5 / (3.5/r_fwd_bwd - 1/r_fwd): at 512 tokens 2.5/(3.5/141 - 1/180).
// This is algebra on measured rows, not an assumption, so it is not flagged.
TEST_CASE("a backward rate is derived from fwd_bwd and fwd rows by the FLOP convention",
          "[analytic]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16", "fa2");
  const double f = 2.5 * attention_flops(512, 64, 1024, true);
  const Cost c = cost.attention(Pass::kBackward, true, 64, 512, 512, f);
  CHECK(tflops(f, c) == Approx(2.5 / (3.5 / 141.0 - 1.0 / 180.0)).epsilon(kRounding));
  CHECK_FALSE(c.extrapolated);
}

// Oracle: FA3 fwd d128 non-causal rows 467 (512 tokens) and 565 (1024). A 700-token tile lies
// between; a 10^6-token tile is beyond the rows and flagged; a 64-token tile (a sliding window
// or a dilated sub-block) is far below the plateau, not at it, and flagged.
TEST_CASE("attention between rows is between them, and far outside is flagged", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const auto rate = [&](bool causal, double tile, Cost* out = nullptr) {
    const double f = attention_flops(tile, 128, 8, causal);
    const Cost c = cost.attention(Pass::kForward, causal, 128, tile, tile, f);
    if (out != nullptr) {
      *out = c;
    }
    return tflops(f, c);
  };
  Cost c;
  const double between = rate(false, 700, &c);
  CHECK(between > 467);
  CHECK(between < 565);
  CHECK_FALSE(c.extrapolated);

  const double huge = rate(false, 1e6, &c);
  CHECK(c.extrapolated);
  CHECK(huge == Approx(648).epsilon(0.05));  // the fitted model stays at the plateau

  const double window = rate(false, 64, &c);
  CHECK(c.extrapolated);
  CHECK(window < 0.4 * 648);
  CHECK(window > 0.05 * 648);
  const double causal_window = rate(true, 64, &c);
  CHECK(c.extrapolated);
  CHECK(causal_window < window);  // a triangular 64-token tile wastes more of each block
}

// Oracle: h100-sxm has FA3 rows for d64, d128, d256 and no causal FA3 backward. A head dim
// of 96 takes the nearest (128) and is flagged; a causal backward is the non-causal backward
// times the forward's causal/non-causal ratio, flagged, and below the non-causal one.
TEST_CASE("settings missing from the rows are priced from the nearest ones and flagged", "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const double f = attention_flops(4096, 96, 64, false);
  const Cost d96 = cost.attention(Pass::kForward, false, 96, 4096, 4096, f);
  CHECK(d96.extrapolated);
  CHECK(tflops(f, d96) == Approx(638).epsilon(kRounding));

  const double fb = 2.5 * attention_flops(4096, 128, 64, true);
  const Cost causal_bwd = cost.attention(Pass::kBackward, true, 128, 4096, 4096, fb);
  CHECK(causal_bwd.extrapolated);
  CHECK(tflops(fb, causal_bwd) == Approx(542.0 * 579 / 638).epsilon(kRounding));
}

// Oracle: the gtx1080 profile has fp32 and fp16 peaks but no GEMM, attention or memory rows.
// Everything is priced by the stated roofline: GEMM at 0.803 of the 8.873 TFLOP/s peak (the
// median MAMF efficiency, hardware.md 5.2), memory at the 320 GB/s datasheet bandwidth; every
// answer is flagged.
TEST_CASE("a profile without rows prices fp32 by the roofline and flags it", "[unit]") {
  const CostModel cost(builtin_profile("gtx1080"), "fp32");
  CHECK(cost.peak_flops() == 8.873e12);
  CHECK(cost.hbm_bytes() == 8e9);
  CHECK(cost.attention_impl() == "roofline");

  const Cost g = cost.gemm(4096, 4096, 4096);
  CHECK(g.extrapolated);
  CHECK(tflops(gemm_flops(4096, 4096, 4096), g) == Approx(0.803 * 8.873).epsilon(kRounding));

  const double f = attention_flops(4096, 64, 32, true);
  const Cost a = cost.attention(Pass::kForward, true, 64, 4096, 4096, f);
  CHECK(a.extrapolated);
  CHECK(tflops(f, a) < 0.803 * 8.873);
  CHECK(tflops(f, a) > 0.5 * 8.873);

  const Cost m = cost.memory_bound(3.2e9);
  CHECK(m.extrapolated);
  CHECK(m.time.seconds() == Approx(0.01).epsilon(kRounding));
}

// Oracle: h100-sxm has no compute.memory rows, so a memory-bound op moves bytes at the
// 3350 GB/s datasheet figure and says so; a GEMM at a measured shape stays compute-bound.
TEST_CASE("a memory-bound op without memory rows runs at the datasheet bandwidth, flagged",
          "[unit]") {
  const CostModel cost(builtin_profile("h100-sxm"), "bf16");
  const Cost c = cost.memory_bound(3.35e9);
  CHECK(c.extrapolated);
  CHECK(c.time.seconds() == Approx(1e-3).epsilon(kRounding));
  CHECK(cost.memory_bound(0).time.ps() == 0);
}

// Oracle: STYLE C7's one-line message naming the profile and the dtype.
TEST_CASE("a dtype without a peak is rejected with a one-line message", "[unit]") {
  CHECK_THROWS_WITH(CostModel(builtin_profile("gtx1080"), "bf16"),
                    "gtx1080: /peaks/flops_per_s: expected a peak for dtype \"bf16\" (the "
                    "profile has fp16, fp32), got none");
  CHECK_THROWS_AS(CostModel(builtin_profile("gtx1080"), "bf16"), attnsim::config::InputError);
}

TEST_CASE("the default implementation prefers measured rows to ones scaled from another GPU",
          "[unit]") {
  // h200-sxm has FA3 rows carried over from H100 (all extrapolated; the highest, d256 forward,
  // 756 TFLOP/s) and NVIDIA's measured cuDNN rows (the highest 702). Both have backward rows,
  // so the measured cuDNN table is the default; naming fa3 still selects it.
  const Profile h200 = builtin_profile("h200-sxm");
  double fa3_best = 0;
  double cudnn_best = 0;
  for (const attnsim::calibrate::AttentionPoint& row : h200.compute.attention) {
    CHECK(row.extrapolated == (row.impl == "fa3"));
    if (row.dtype != "fp8") {
      double& best = row.impl == "fa3" ? fa3_best : cudnn_best;
      best = std::max(best, row.tflops);
    }
  }
  REQUIRE(fa3_best > cudnn_best);
  CHECK(CostModel(h200, "bf16").attention_impl() == "cudnn");
  CHECK(CostModel(h200, "bf16", "fa3").attention_impl() == "fa3");
  // Where every implementation is measured, the highest row decides as before (h100-sxm: fa3).
  CHECK(CostModel(builtin_profile("h100-sxm"), "bf16").attention_impl() == "fa3");
}

TEST_CASE("an attention implementation without rows for the dtype is rejected", "[unit]") {
  CHECK_THROWS_WITH(CostModel(builtin_profile("h100-sxm"), "bf16", "fa4"),
                    "h100-sxm: /compute/attention: expected an implementation with rows for "
                    "dtype \"bf16\": one of cudnn, fa2, fa3, triton; got \"fa4\" (did you mean "
                    "\"fa2\"?)");
}

TEST_CASE("published kernel rows are predicted from their neighbours", "[unit]") {
  // Leave-one-out over the measured attention rows of the H100 and A100 profiles (the
  // FlashAttention-2/3 papers' figures): each row priced by the profile without it. Stated
  // tolerance (docs/validation-kernels.md, which lists every miss): median |error| <= 5 % and
  // at least 90 % of rows within 10 %. Inside the table, with the row in, fwd and bwd rows
  // come back exactly (interpolation passes through its points; times are whole picoseconds).
  for (const char* name : {"h100-sxm", "a100-sxm"}) {
    const Profile profile = builtin_profile(name);
    std::vector<double> errors;
    for (std::size_t i = 0; i < profile.compute.attention.size(); ++i) {
      const auto& row = profile.compute.attention[i];
      if (row.extrapolated) {
        continue;
      }
      INFO(name << " " << row.impl << " " << row.pass << " " << row.dtype << " d" << row.head_dim
                << (row.causal ? " causal " : " dense ") << row.seq_q);
      if (row.pass != "fwd_bwd") {
        const CostModel full(profile, row.dtype, row.impl);
        CHECK(attnsim::models::predicted_tflops(full, row) == Approx(row.tflops).epsilon(1e-6));
      }
      Profile without = profile;
      without.compute.attention.erase(without.compute.attention.begin() +
                                      static_cast<std::ptrdiff_t>(i));
      const CostModel cost(without, row.dtype, row.impl);
      errors.push_back(std::abs(attnsim::models::predicted_tflops(cost, row) / row.tflops - 1));
    }
    INFO(name);
    REQUIRE(errors.size() >= 70);
    std::sort(errors.begin(), errors.end());
    CHECK(errors[errors.size() / 2] <= 0.05);
    const auto within =
        std::count_if(errors.begin(), errors.end(), [](double e) { return e <= 0.10; });
    CHECK(static_cast<double>(within) >= 0.9 * static_cast<double>(errors.size()));
  }
}

namespace {

// A measured sliding-window row of h100-sxm's default implementation (fa3): causal band of
// `window` keys over `seq` tokens, 16 heads, head dim 128.
attnsim::calibrate::AttentionPoint window_row(std::int64_t seq, std::int64_t window, double tflops,
                                              const std::string& pass = "fwd") {
  attnsim::calibrate::AttentionPoint row;
  row.impl = "fa3";
  row.pass = pass;
  row.dtype = "bf16";
  row.causal = true;
  row.head_dim = 128;
  row.seq_q = seq;
  row.seq_k = seq;
  row.batch_heads = 16;
  row.tflops = tflops;
  row.source = "test";
  row.kind = "sliding_window";
  row.window = window;
  return row;
}

using attnsim::models::AttentionKind;

// Seconds of a forward sliding-window kernel made of `tile` x `tile` banded tiles.
double window_seconds(const CostModel& cost, double tile, double flops,
                      Pass pass = Pass::kForward) {
  return cost.attention(pass, true, 128, tile, tile, flops, AttentionKind::kSlidingWindow)
      .time.seconds();
}

}  // namespace

TEST_CASE("a measured sliding-window row is reproduced and corrects every call of its kind",
          "[unit]") {
  // Oracle: the correction's definition (cost.h): t = t_tiles / (t_tiles(row) / t_row). The
  // row's own call then takes the measured time, and every other forward sliding-window call
  // the same fraction of its tile price (one row: one factor).
  const Profile h100 = builtin_profile("h100-sxm");
  Profile with = h100;
  const attnsim::calibrate::AttentionPoint row = window_row(16384, 4096, 300);
  with.compute.attention.push_back(row);
  const CostModel base(h100, "bf16");
  const CostModel corrected(with, "bf16");
  REQUIRE(corrected.attention_impl() == "fa3");
  CHECK(attnsim::models::predicted_tflops(corrected, row) == Approx(300).epsilon(kRounding));

  const double row_flops = attnsim::calibrate::forward_flops(row);
  // mask.h: the band's tiles are window x window tokens.
  const double factor = window_seconds(base, 4096, row_flops) / (row_flops / 300e12);
  REQUIRE(factor != Approx(1).epsilon(0.05));  // the check below is not vacuous
  for (const double tile : {512.0, 2048.0, 8192.0}) {
    const double flops = 4.0 * tile * tile * 128 * 8;
    CHECK(window_seconds(corrected, tile, flops) ==
          Approx(window_seconds(base, tile, flops) / factor).epsilon(kRounding));
  }
  // Other kinds, and the pass without a row, keep their tile price.
  const double flops = attention_flops(4096, 128, 16, true);
  CHECK(corrected.attention(Pass::kForward, true, 128, 4096, 4096, flops).time ==
        base.attention(Pass::kForward, true, 128, 4096, 4096, flops).time);
  CHECK(corrected.attention(Pass::kForward, true, 128, 4096, 4096, flops, AttentionKind::kDilated)
            .time == base.attention(Pass::kForward, true, 128, 4096, 4096, flops).time);
  CHECK(window_seconds(corrected, 4096, flops, Pass::kBackward) ==
        window_seconds(base, 4096, flops, Pass::kBackward));
  // An extrapolated row's correction is flagged; a measured one's is not.
  CHECK_FALSE(corrected
                  .attention(Pass::kForward, true, 128, 4096, 4096, row_flops,
                             AttentionKind::kSlidingWindow)
                  .extrapolated);
  with.compute.attention.back().extrapolated = true;
  CHECK(CostModel(with, "bf16")
            .attention(Pass::kForward, true, 128, 4096, 4096, row_flops,
                       AttentionKind::kSlidingWindow)
            .extrapolated);
  // Rows of an implementation the model does not price with are ignored.
  with.compute.attention.back().extrapolated = false;
  with.compute.attention.back().impl = "fa2";
  CHECK(window_seconds(CostModel(with, "bf16"), 2048, flops) == window_seconds(base, 2048, flops));
}

TEST_CASE("corrections between two sliding-window rows interpolate log-log in the tile size",
          "[unit]") {
  // Oracle: rows at tiles 1024 and 4096 with factors f1, f2 give the geometric mean at 2048,
  // the tile halfway between them in log, and the end factors beyond them.
  const Profile h100 = builtin_profile("h100-sxm");
  Profile with = h100;
  const attnsim::calibrate::AttentionPoint narrow = window_row(8192, 1024, 200);
  const attnsim::calibrate::AttentionPoint wide = window_row(16384, 4096, 400);
  with.compute.attention.push_back(narrow);
  with.compute.attention.push_back(wide);
  const CostModel base(h100, "bf16");
  const CostModel corrected(with, "bf16");
  const auto factor = [&](const attnsim::calibrate::AttentionPoint& r, double tile) {
    const double f = attnsim::calibrate::forward_flops(r);
    return window_seconds(base, tile, f) / (f / (r.tflops * 1e12));
  };
  const double f1 = factor(narrow, 1024);
  const double f2 = factor(wide, 4096);
  REQUIRE(f1 != Approx(f2).epsilon(0.05));
  const double flops = 4.0 * 2048 * 2048 * 128 * 8;
  const auto ratio = [&](double tile) {
    return window_seconds(base, tile, flops) / window_seconds(corrected, tile, flops);
  };
  CHECK(ratio(2048) == Approx(std::sqrt(f1 * f2)).epsilon(kRounding));
  CHECK(ratio(256) == Approx(f1).epsilon(kRounding));
  CHECK(ratio(16384) == Approx(f2).epsilon(kRounding));
}
