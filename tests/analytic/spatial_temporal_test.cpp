// SPDX-License-Identifier: Apache-2.0
// Spatial-temporal attention (a video DiT block, workload.h kSpatialTemporal) against brute
// force and DSP's published communication claim (VideoSys docs/dsp.md, attention.md 2.8:
// one all-to-all per switch, 2 per layer and pass against Ulysses' 8, "at least 75 % less"),
// on one DGX H100 with the attention core alone, Open-Sora's STDiT-XL/2 shape (16 heads of
// 72, multi-head, bf16).
#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "models/attention/mask.h"
#include "models/machine.h"
#include "models/step.h"
#include "models/strategies/strategy.h"
#include "sim/replay.h"
#include "tests/support/strategy_fixtures.h"
#include "topology/load.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity

namespace {

models::Workload stdit(std::int64_t frames, std::int64_t spatial, models::Phase phase) {
  models::Workload w;
  w.model.layers = 28;
  w.model.hidden = 1152;
  w.model.heads = 16;
  w.model.kv_heads = 16;
  w.model.head_dim = 72;
  w.model.ffn_hidden = 4608;
  w.model.gated_mlp = false;
  w.attention.kind = models::AttentionKind::kSpatialTemporal;
  w.attention.frames = frames;
  w.phase = phase;
  w.sequence_length = frames * spatial;
  w.scope = models::Scope::kAttention;
  return w;
}

models::StepTrace build(const models::Workload& w, const std::string& strategy) {
  static const models::Machine dgx =
      models::build_machine(topology::load_topology_arg("dgx-h100", std::nullopt),
                            calibrate::builtin_profile("h100-sxm"), false);
  const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
  const models::Degrees degrees{1, 8, 1, 1};
  models::StepOptions options;
  options.simulated_layers = 1;
  const auto s = models::make_default_strategy(strategy);
  s->check(w, degrees);
  return models::build_step(w, degrees, *s, options, dgx.layout, cost);
}

}  // namespace

// Frame-major token (f, p) sits at f·s + p. Spatial attention keeps q, k of one frame
// (q/s == k/s), temporal attention q, k of one position (q mod s == k mod s); counted
// one pair at a time, each must equal what its axis's block-diagonal form counts.
TEST_CASE("spatial and temporal axes keep exactly the pairs of the frame-major masks",
          "[analytic]") {
  for (const auto& [f, s] : {std::pair<std::int64_t, std::int64_t>{4, 6}, {6, 4}, {1, 9}, {5, 1}}) {
    const std::int64_t n = f * s;
    models::AttentionSpec spec;
    spec.kind = models::AttentionKind::kSpatialTemporal;
    spec.frames = f;
    double spatial = 0;
    double temporal = 0;
    for (std::int64_t q = 0; q < n; ++q) {
      for (std::int64_t k = 0; k < n; ++k) {
        spatial += q / s == k / s ? 1 : 0;
        temporal += q % s == k % s ? 1 : 0;
      }
    }
    const auto count = [&](models::AttentionAxis axis) {
      return models::pairs_per_head(models::axis_attention(spec, axis, n), n, 3);
    };
    CHECK(count(models::AttentionAxis::kSpatial) == spatial);
    CHECK(count(models::AttentionAxis::kTemporal) == temporal);
    CHECK(models::pairs_per_head(spec, n, 3) == spatial + temporal);
  }
}

// Per pass and GPU (L = N/P tokens, d = h·d_h = 1152, B = 2): Ulysses moves Q, K, V in and O
// out around both attentions, 8·L·d·B·(P-1)/P; DSP switches the layout twice,
// 2·L·d·B·(P-1)/P. Both run every GPU's share of both attentions, 4·d_h·h·N·(s + f)/P
// FLOPs forward (2.5x backward).
TEST_CASE(
    "dsp sends a quarter of ulysses' bytes on spatial-temporal attention and the same "
    "work",
    "[analytic]") {
  const std::int64_t f = 64;
  const std::int64_t s = 1024;
  const int p = 8;
  const double l = static_cast<double>(f * s) / p;
  const double unit = l * 1152 * 2 * (p - 1) / p;
  const double flops = 4.0 * 72 * 16 * static_cast<double>(f * s) * (s + f) / p;
  for (const auto phase : {models::Phase::kForward, models::Phase::kTraining}) {
    const double passes = phase == models::Phase::kTraining ? 2.0 : 1.0;
    const double work = phase == models::Phase::kTraining ? 3.5 * flops : flops;
    const models::Workload w = stdit(f, s, phase);
    const models::StepTrace ulysses = build(w, "ulysses");
    const models::StepTrace dsp = build(w, "dsp");
    const auto u_sent = test::strategy_bytes_sent(ulysses);
    const auto d_sent = test::strategy_bytes_sent(dsp);
    REQUIRE(u_sent.size() == static_cast<std::size_t>(p));
    REQUIRE(d_sent.size() == static_cast<std::size_t>(p));
    for (int g = 0; g < p; ++g) {
      const auto gpu = static_cast<std::uint32_t>(g);
      CHECK(u_sent.at(gpu) == Approx(8 * unit * passes).epsilon(1e-9));
      CHECK(d_sent.at(gpu) == Approx(2 * unit * passes).epsilon(1e-9));
      CHECK(ulysses.attention_flops[gpu] == Approx(work).epsilon(1e-9));
      CHECK(dsp.attention_flops[gpu] == Approx(work).epsilon(1e-9));
    }
  }
}

// DSP needs whole frames per rank for spatial attention and whole positions for temporal
// attention; the sequence-sharding strategies do not run spatial-temporal attention.
TEST_CASE("dsp needs P | frames and P | spatial tokens; ring layouts refuse spatial-temporal",
          "[analytic]") {
  const models::Degrees degrees{1, 8, 1, 1};
  const auto dsp = models::make_default_strategy("dsp");
  CHECK_NOTHROW(dsp->check(stdit(8, 16, models::Phase::kTraining), degrees));
  CHECK_THROWS_WITH(dsp->check(stdit(4, 16, models::Phase::kTraining), degrees),
                    Catch::Contains("frames and spatial tokens per frame both divisible"));
  CHECK_THROWS_WITH(dsp->check(stdit(8, 12, models::Phase::kTraining), degrees),
                    Catch::Contains("/attention/frames = 8 of 12 tokens"));
  for (const char* name : {"ring", "zigzag_ring", "striped_ring", "allgather_kv", "usp",
                           "double_ring", "hierarchical"}) {
    CHECK_THROWS_WITH(
        models::make_default_strategy(name)->check(stdit(8, 16, models::Phase::kTraining), degrees),
        Catch::Contains("head_parallel, ulysses or dsp"));
  }
}
