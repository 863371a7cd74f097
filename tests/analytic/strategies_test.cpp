// SPDX-License-Identifier: Apache-2.0
// Per-strategy bytes, work and balance against the formulas of the attention-parallelism
// research note (attention.md 2.2-2.4, 2.12), on one DGX H100 (8 GPUs on an NVSwitch) with
// the attention core alone (scope "attention"), so that nothing but the strategy's own
// communication is in the trace.
//
//   GPU0 .. GPU7 -- NVSwitch (450 GB/s per GPU per direction)
#include <algorithm>
#include <map>
#include <numeric>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "models/attention/mask.h"
#include "models/machine.h"
#include "models/memory.h"
#include "models/step.h"
#include "models/strategies/common.h"
#include "models/strategies/ring.h"
#include "sim/replay.h"
#include "tests/support/strategy_fixtures.h"
#include "topology/load.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity
using test::llama_attention;
using test::strategy_bytes_sent;

namespace {

struct Run {
  models::StepTrace step;
  sim::ReplayResult replay;
  std::map<std::uint32_t, double> sent;  // strategy bytes by sending GPU
};

const models::Machine& dgx() {
  static const models::Machine m =
      models::build_machine(topology::load_topology_arg("dgx-h100", std::nullopt),
                            calibrate::builtin_profile("h100-sxm"), false);
  return m;
}

Run run(const models::Workload& w, const std::string& strategy, int cp) {
  const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
  const models::Degrees degrees{1, cp, 8 / cp, 1};
  models::StepOptions options;
  options.simulated_layers = 1;
  options.microbatches = 1;
  const auto s = models::make_default_strategy(strategy);
  s->check(w, degrees);
  Run r{models::build_step(w, degrees, *s, options, dgx().layout, cost), {}, {}};
  r.replay = sim::replay(r.step.trace, dgx().network, sim::NetworkModel::kFlow);
  r.sent = strategy_bytes_sent(r.step);
  return r;
}

}  // namespace

// Ring forward: P-1 hops of the K/V block 2·L·h_kv·d_h·B (attention.md 2.3: 2g(P-1)/P·S).
// Backward adds P-1 K/V hops and P dK/dV hops of the same block.
TEST_CASE("ring attention sends P-1 K/V blocks forward and 2P-1 blocks in training", "[analytic]") {
  const std::int64_t n = 65536;
  const int p = 8;
  const double block = 2.0 * (n / p) * 8 * 128 * 2;  // 2·L·h_kv·d_h·B
  for (const char* name : {"ring", "zigzag_ring", "striped_ring"}) {
    SECTION(name) {
      const Run fwd =
          run(llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n), name, p);
      REQUIRE(fwd.sent.size() == static_cast<std::size_t>(p));
      for (const auto& [gpu, bytes] : fwd.sent) {
        CHECK(bytes == Approx((p - 1) * block).epsilon(1e-12));
      }
      const Run train = run(
          llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, n), name, p);
      for (const auto& [gpu, bytes] : train.sent) {
        CHECK(bytes == Approx((p - 1) * block + (p - 1) * block + p * block).epsilon(1e-12));
      }
    }
  }
}

// Ulysses, tp = 1, a' = max(h_kv, P) = 8 KV heads: per pass one rank's buffers are
// Q and O: L·h·d_h·B, K and V: L·a'·d_h·B; an all-to-all sends (P-1)/P of its buffer.
// Forward: a2a(Q, K, V) + a2a(O) = (2h + 2a')·L·d_h·B·(P-1)/P (attention.md 2.2).
TEST_CASE("ulysses sends (2h + 2a')·L·d_h·B·(P-1)/P per pass", "[analytic]") {
  const std::int64_t n = 65536;
  const int p = 8;
  const double l = static_cast<double>(n) / p;
  const double per_pass = (2.0 * 32 + 2.0 * 8) * l * 128 * 2 * (p - 1) / p;
  const Run fwd = run(llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n),
                      "ulysses", p);
  REQUIRE(fwd.sent.size() == static_cast<std::size_t>(p));
  for (const auto& [gpu, bytes] : fwd.sent) {
    CHECK(bytes == Approx(per_pass).epsilon(1e-9));
  }
  const Run train = run(
      llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, n), "ulysses", p);
  for (const auto& [gpu, bytes] : train.sent) {
    CHECK(bytes == Approx(2 * per_pass).epsilon(1e-9));
  }
}

// Head parallelism (Megatron TP on heads) moves nothing inside attention: its collectives
// belong to the projections around it.
TEST_CASE("head parallel attention sends no bytes of its own", "[analytic]") {
  const Run r = run(llama_attention(models::AttentionKind::kDense, models::Phase::kTraining, 16384),
                    "head_parallel", 8);
  CHECK(r.sent.empty());
}

// Conservation of work: over all ranks and ring steps the blocks cover every kept
// (query, key) pair exactly once, for every layout; causal keeps N(N+1)/2 per head, dense N².
TEST_CASE("ring layouts cover every kept pair exactly once and causal is half of dense",
          "[analytic]") {
  const std::int64_t n = 4096;
  const int p = 8;
  for (const auto layout : {models::RingLayout::kContiguous, models::RingLayout::kZigzag,
                            models::RingLayout::kStriped}) {
    const config::Node node = config::Node::parse_text("t", R"({"strategy": "ring"})");
    const models::RingAttention ring(layout, node);
    for (const auto kind : {models::AttentionKind::kCausal, models::AttentionKind::kDense}) {
      const models::Workload w = llama_attention(kind, models::Phase::kForward, n);
      double pairs = 0;
      for (int r = 0; r < p; ++r) {
        for (int j = 0; j < p; ++j) {
          const auto q = ring.shard(n, p, r);
          const auto k = ring.shard(n, p, j);
          pairs += models::block_work(w, models::Pass::kForward, 0, 32, q, k).mask.pairs;
        }
      }
      const double nn = static_cast<double>(n);
      CHECK(pairs == (kind == models::AttentionKind::kDense ? nn * nn : nn * (nn + 1) / 2) * 32);
    }
  }
}

// Balance (attention.md 2.4): with causal masking, zigzag gives every rank the same work
// to within one block; plain contiguous rings give the last rank about twice the average.
TEST_CASE("zigzag balances causal work across ranks and plain ring does not", "[analytic]") {
  const std::int64_t n = 8192;
  const int p = 8;
  const models::Workload w =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n);
  const auto per_rank = [&](models::RingLayout layout) {
    const models::RingAttention ring(layout, config::Node::parse_text("t", "{}"));
    std::vector<double> work(p, 0.0);
    for (int r = 0; r < p; ++r) {
      for (int j = 0; j < p; ++j) {
        work[static_cast<std::size_t>(r)] +=
            models::block_work(w, models::Pass::kForward, 0, 32, ring.shard(n, p, r),
                               ring.shard(n, p, j))
                .mask.pairs;
      }
    }
    return work;
  };
  const double block = static_cast<double>(n / p) * static_cast<double>(n / p) * 32;  // L²·h
  const auto zig = per_rank(models::RingLayout::kZigzag);
  CHECK(*std::max_element(zig.begin(), zig.end()) - *std::min_element(zig.begin(), zig.end()) <=
        block);
  const auto plain = per_rank(models::RingLayout::kContiguous);
  const double mean = std::accumulate(plain.begin(), plain.end(), 0.0) / p;
  // Last rank: (P-1) full blocks and one causal block, (P-1)·L² + L(L+1)/2 per head; the
  // mean is N(N+1)/(2P) per head.
  const double l = static_cast<double>(n / p);
  const double nn = static_cast<double>(n);
  CHECK(plain.back() == Approx(((p - 1) * l * l + l * (l + 1) / 2) * 32));
  CHECK(mean == Approx(nn * (nn + 1) / (2.0 * p) * 32));
}

// The simulated step follows the balance: causal zigzag finishes before causal plain ring,
// and all ranks of a symmetric strategy finish within one step of each other.
TEST_CASE("causal zigzag ring is faster than plain ring on the same machine", "[analytic]") {
  const models::Workload w =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, 65536);
  const Run plain = run(w, "ring", 8);
  const Run zig = run(w, "zigzag_ring", 8);
  CHECK(zig.replay.makespan < plain.replay.makespan);
  const double ratio = plain.replay.makespan.seconds() / zig.replay.makespan.seconds();
  CHECK(ratio > 1.3);
  CHECK(ratio < 2.0);
}

// Memory: ring keeps two incoming K/V blocks and an fp32 output in forward, twice that in
// training (attention.md 2.3).
TEST_CASE("ring attention workspace is the double buffer plus fp32 accumulators", "[analytic]") {
  const models::Workload w =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, 65536);
  const models::Degrees degrees{1, 8, 1, 1};
  const auto ring = models::make_default_strategy("ring");
  const double l = 65536.0 / 8;
  const double block = 2 * l * 8 * 128 * 2;
  const double out = l * 32 * 128 * 4;
  CHECK(ring->memory(w, degrees).workspace == Approx(2 * block + out));
}

// Long rings run as kMaxRingSteps macro-steps (ring.h): the union of a macro-step's blocks
// must cover the same kept pairs as its steps one by one, for every layout, so the
// simulated work is exact; the bytes on the wire stay (P-1) blocks forward.
TEST_CASE("macro-steps of a long ring keep every pair and every byte", "[analytic]") {
  const std::int64_t n = 1 << 16;
  const int p = 128;
  const models::Workload w =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n);
  for (const auto layout : {models::RingLayout::kContiguous, models::RingLayout::kZigzag,
                            models::RingLayout::kStriped}) {
    const models::RingAttention ring(layout, config::Node::parse_text("t", "{}"));
    for (const int r : {0, 5, 127}) {
      double stepwise = 0;
      for (int s = 0; s < p; ++s) {
        stepwise += models::block_work(w, models::Pass::kForward, 0, 32, ring.shard(n, p, r),
                                       ring.shard(n, p, ((r - s) % p + p) % p))
                        .mask.pairs;
      }
      double chunked = 0;
      for (int c = 0; c < 32; ++c) {
        chunked += models::block_work(w, models::Pass::kForward, 0, 32, ring.shard(n, p, r),
                                      ring.keys_of_steps(n, p, r, c * p / 32, (c + 1) * p / 32))
                       .mask.pairs;
      }
      CHECK(chunked == stepwise);
    }
  }
}

TEST_CASE("a 64-GPU zigzag ring still sends P-1 K/V blocks per GPU", "[analytic]") {
  const auto spec = topology::load_topology_arg("h100-superpod", 64);
  const models::Machine machine =
      models::build_machine(spec, calibrate::builtin_profile("h100-sxm"), false);
  const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
  const std::int64_t n = 1 << 20;
  const models::Workload w =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n);
  const models::Degrees degrees{1, 64, 1, 1};
  models::StepOptions options;
  options.simulated_layers = 1;
  const auto s = models::make_default_strategy("zigzag_ring");
  const models::StepTrace step = models::build_step(w, degrees, *s, options, machine.layout, cost);
  const std::map<std::uint32_t, double> sent = strategy_bytes_sent(step);
  const double block = 2.0 * static_cast<double>(n / 64) * 8 * 128 * 2;
  REQUIRE(sent.size() == 64);
  for (const auto& [gpu, bytes] : sent) {
    CHECK(bytes == Approx(63 * block).epsilon(1e-12));
  }
}

// All-gather K/V (attention.md 2.5) on a DGX A100 (no NVLS, so NCCL rings): forward gathers
// K and V, each rank sending (P-1)/P of the N·a·d_h·B buffer per gather; training adds the
// backward's two gathers and two reduce-scatters of the same size.
TEST_CASE("allgather_kv sends 2(P-1)/P·N·a·d_h·B forward and three times that in training",
          "[analytic]") {
  const models::Machine a100 =
      models::build_machine(topology::load_topology_arg("dgx-a100", std::nullopt),
                            calibrate::builtin_profile("a100-sxm"), false);
  const models::CostModel cost(calibrate::builtin_profile("a100-sxm"), "bf16");
  const std::int64_t n = 65536;
  const double buffer = static_cast<double>(n) * 8 * 128 * 2;  // N·a·d_h·B
  const auto sent = [&](models::Phase phase) {
    const models::Workload w = llama_attention(models::AttentionKind::kCausal, phase, n);
    const models::Degrees degrees{1, 8, 1, 1};
    models::StepOptions options;
    options.simulated_layers = 1;
    const auto s = models::make_default_strategy("allgather_kv");
    const models::StepTrace step = models::build_step(w, degrees, *s, options, a100.layout, cost);
    return strategy_bytes_sent(step);
  };
  for (const auto& [gpu, bytes] : sent(models::Phase::kForward)) {
    CHECK(bytes == Approx(2 * 7.0 / 8 * buffer).epsilon(1e-9));
  }
  for (const auto& [gpu, bytes] : sent(models::Phase::kTraining)) {
    CHECK(bytes == Approx(6 * 7.0 / 8 * buffer).epsilon(1e-9));
  }
}

// Memory beyond the layer's activations (attention.md 2.2, 2.5): Ulysses keeps the
// all-to-all send and receive staging, 2·(h + 2a')·L·d_h·B; all-gather K/V holds the gathered
// K and V, 2·N·a·d_h·B, twice that in training (the full dK, dV before the reduce-scatter).
TEST_CASE("ulysses and allgather_kv workspaces follow their formulas", "[analytic]") {
  const models::Degrees degrees{1, 8, 1, 1};
  const double n = 65536;
  const double l = n / 8;
  const models::Workload fwd =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, 65536);
  const models::Workload train =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, 65536);
  const auto ulysses = models::make_default_strategy("ulysses");
  CHECK(ulysses->memory(fwd, degrees).workspace == Approx(2 * (32 + 2 * 8) * l * 128 * 2));
  const auto gather = models::make_default_strategy("allgather_kv");
  CHECK(gather->memory(fwd, degrees).workspace == Approx(2 * n * 8 * 128 * 2));
  CHECK(gather->memory(train, degrees).workspace == Approx(2 * 2 * n * 8 * 128 * 2));
}

// The long forms of striped_ring and double_ring (ring.h: a striped ring's macro-steps gather
// steps by residue; double_ring.h: fat rounds estimate a step's blocks from one and scale each
// rank to its exact total) must still run exactly the pairs of the blocks visited one by one,
// and send every block: forward P-1 K/V blocks per GPU.
TEST_CASE("long striped rings and fat double rings run every kept pair and send every block",
          "[analytic]") {
  const auto dilated = [](std::int64_t n) {
    models::Workload w =
        llama_attention(models::AttentionKind::kDilated, models::Phase::kForward, n);
    w.attention.segment_lengths = {2048, 4096, 8192};
    w.attention.dilation_rates = {1, 2, 4};
    w.attention.dilated_heads = models::DilatedHeads::kAllHeads;
    return w;
  };
  // A step's attention FLOPs on cp rank r, its blocks (those of `layout` on P ranks) one by one.
  const auto stepwise = [](const models::Workload& w, models::RingLayout layout, int p, int r) {
    const models::RingAttention ring(layout, config::Node::parse_text("t", "{}"));
    const std::int64_t n = w.sequence_length;
    double flops = 0;
    for (int k = 0; k < p; ++k) {
      flops += models::block_work(w, models::Pass::kForward, 0, w.model.heads, ring.shard(n, p, r),
                                  ring.shard(n, p, k))
                   .flops;
    }
    return flops;
  };
  const auto build = [](const models::Workload& w, const std::string& json, int gpus) {
    const auto spec = topology::load_topology_arg("h100-superpod", gpus);
    const models::Machine machine =
        models::build_machine(spec, calibrate::builtin_profile("h100-sxm"), false);
    const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
    const auto s = models::make_strategy(config::Node::parse_text("t.json", json));
    const models::Degrees degrees{1, gpus, 1, 1};
    s->check(w, degrees);
    models::StepOptions options;
    options.simulated_layers = 1;
    return models::build_step(w, degrees, *s, options, machine.layout, cost);
  };
  SECTION("striped ring of 64 ranks: macro-steps by residue") {
    for (const bool is_dilated : {true, false}) {
      const std::int64_t n = 1 << 16;
      const models::Workload w =
          is_dilated ? dilated(n)
                     : llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n);
      const models::StepTrace step = build(w, R"({"strategy": "striped_ring"})", 64);
      for (int r = 0; r < 64; ++r) {
        CHECK(step.attention_flops[static_cast<std::size_t>(r)] ==
              Approx(stepwise(w, models::RingLayout::kStriped, 64, r)).epsilon(1e-12));
      }
      const double block = 2.0 * static_cast<double>(n / 64) * 8 * 128 * 2;
      for (const auto& [gpu, bytes] : strategy_bytes_sent(step)) {
        CHECK(bytes == Approx(63 * block).epsilon(1e-12));
      }
    }
  }
  SECTION("double ring of 4,096 ranks in inner rings of 8: fat rounds") {
    const std::int64_t n = 1 << 20;
    const models::Workload w = dilated(n);
    const models::StepTrace step =
        build(w, R"({"strategy": "double_ring", "ulysses_degree": 1})", 4096);
    for (const int r : {0, 1, 7, 2048, 4095}) {
      CHECK(step.attention_flops[static_cast<std::size_t>(r)] ==
            Approx(stepwise(w, models::RingLayout::kZigzag, 4096, r)).epsilon(1e-9));
    }
    const double block = 2.0 * static_cast<double>(n / 4096) * 8 * 128 * 2;
    const std::map<std::uint32_t, double> sent = strategy_bytes_sent(step);
    REQUIRE(sent.size() == 4096);
    for (const auto& [gpu, bytes] : sent) {
      CHECK(bytes == Approx(4095 * block).epsilon(1e-12));
    }
  }
}
