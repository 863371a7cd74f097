// SPDX-License-Identifier: Apache-2.0
// Bytes, symmetry, timing order and parameter errors of the hierarchical strategies
// (double_ring, dsp, hierarchical) against the formulas in their headers, with the attention
// core alone (scope "attention") so that only the strategy's own communication is traced.
// Bytes are counted per sending GPU over the transfers tagged attention_comm; the messages are
// megabytes, so NCCL's Simple protocol carries them and wire bytes equal payload bytes.
//
//   one DGX H100:  GPU0 .. GPU7 -- NVSwitch (450 GB/s per GPU per direction)
//   two DGX H100:  node 0 GPU0 .. GPU7, node 1 GPU8 .. GPU15, NVSwitch inside each node,
//                  GPU i on NIC rail i mod 8 (50 GB/s), rail-optimised fat tree between nodes
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "config/error.h"
#include "models/machine.h"
#include "models/step.h"
#include "models/strategies/common.h"
#include "models/strategies/ring.h"
#include "models/strategies/strategy.h"
#include "sim/replay.h"
#include "tests/support/strategy_fixtures.h"
#include "topology/load.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity
using test::llama_attention;
using test::strategy_bytes_sent;

namespace {

/// LongNet-style dilated attention with fkodom's head groups: 4 branches of 8 heads each.
models::Workload dilated(models::Phase phase, std::int64_t tokens,
                         std::vector<std::int64_t> segments, std::vector<std::int64_t> rates) {
  models::Workload w = llama_attention(models::AttentionKind::kDilated, phase, tokens);
  w.attention.segment_lengths = std::move(segments);
  w.attention.dilation_rates = std::move(rates);
  w.attention.dilated_heads = models::DilatedHeads::kHeadGroups;
  return w;
}

const models::Machine& machine(int nodes) {
  static const models::Machine one = models::build_machine(
      topology::load_topology_arg("dgx-h100", 8), calibrate::builtin_profile("h100-sxm"), false);
  static const models::Machine two = models::build_machine(
      topology::load_topology_arg("dgx-h100", 16), calibrate::builtin_profile("h100-sxm"), false);
  return nodes == 1 ? one : two;
}

std::shared_ptr<const models::Strategy> strategy(const std::string& json) {
  return models::make_strategy(config::Node::parse_text("t.json", json));
}

struct Run {
  sim::Time makespan;
  std::map<std::uint32_t, double> sent;  // strategy bytes by sending GPU
};

/// One step of `work` on every GPU of a `nodes`-node DGX cluster with sequence-parallel
/// degree `cp`; dp makes up the rest, with one sequence per data-parallel replica.
Run run(const models::Workload& work, const std::string& json, int cp, int nodes = 1) {
  const models::Machine& m = machine(nodes);
  const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
  const models::Degrees degrees{1, cp, 8 * nodes / cp, 1};
  models::Workload w = work;
  w.sequences_per_step = degrees.dp;
  models::StepOptions options;
  options.simulated_layers = 1;
  const auto s = strategy(json);
  s->check(w, degrees);
  const models::StepTrace step = models::build_step(w, degrees, *s, options, m.layout, cost);
  Run r{sim::replay(step.trace, m.network, sim::NetworkModel::kFlow).makespan, {}};
  r.sent = strategy_bytes_sent(step);
  return r;
}

/// The message check() or the factory throws, or "" when none.
std::string error_of(const std::string& json, const models::Workload& w,
                     const models::Degrees& degrees) {
  try {
    strategy(json)->check(w, degrees);
  } catch (const config::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// double_ring (double_ring.h) = usp (usp.h) with the ring split into inner rings: same bytes.
// Llama-3-8B, N = 65536, two nodes, cp = 16 = P_u 2 x P_r 8. Ring groups are cp ranks of one
// Ulysses index (GPUs 0,2,..,14 and 1,3,..,15), so the default inner ring is w = 4 (a
// group's GPUs per node), O = 2 outer rounds. With L = N/16 = 4096 and a' = max(8, 2) = 8:
//   all-to-alls per pass  (2·32 + 2·8)·L·d_h·B·(P_u-1)/P_u = 80·4096·256/2 = 41.9 MB
//   K/V block             2·(N/P_r)·a·d_h·B, a = 8 KV heads / P_u = 4:  2·8192·4·256 = 16.8 MB
//   forward               a2a + (P_r-1) blocks; training adds a2a + (P_r-1) + P_r blocks
TEST_CASE("double ring sends usp's bytes: P_r-1 blocks forward, 3·P_r-2 in training",
          "[analytic]") {
  const std::int64_t n = 65536;
  const double a2a = 80.0 * 4096 * 128 * 2 / 2;
  const double block = 2.0 * 8192 * 4 * 128 * 2;
  const std::string json = R"({"strategy": "double_ring", "ulysses_degree": 2})";
  const std::string usp = R"({"strategy": "usp", "ulysses_degree": 2})";
  const auto fwd = llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, n);
  const auto train = llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, n);
  const Run f = run(fwd, json, 16, 2);
  const Run t = run(train, json, 16, 2);
  REQUIRE(f.sent.size() == 16);
  REQUIRE(t.sent.size() == 16);
  for (const auto& [gpu, bytes] : f.sent) {
    CHECK(bytes == Approx(a2a + 7 * block).epsilon(1e-9));
  }
  for (const auto& [gpu, bytes] : t.sent) {
    CHECK(bytes == Approx(2 * a2a + (7 + 7 + 8) * block).epsilon(1e-9));
  }
  const Run u = run(train, usp, 16, 2);
  for (const auto& [gpu, bytes] : u.sent) {
    CHECK(t.sent.at(gpu) == Approx(bytes).epsilon(1e-12));
  }
}

// The point of the double ring (attention.md 2.7): a plain ring over two nodes takes its
// inter-node hop (GPU 6 -> 8, 14 -> 0, ...: one NIC per ring) at every step, while the double
// ring takes it once per w = 4 steps on all rails at once and hides it behind 4 kernels.
// With short blocks (N = 8192: 2 MB hops, ~45 us on a 50 GB/s NIC, against ~20-30 us kernels)
// the plain ring is communication-bound, so the double ring must not be slower, and every
// inner ring size must give the same bytes. Dense attention keeps the contiguous layout
// balanced, so only the schedule differs.
TEST_CASE("double ring is not slower than usp's contiguous ring across two nodes", "[analytic]") {
  const auto w = llama_attention(models::AttentionKind::kDense, models::Phase::kTraining, 8192);
  const Run plain =
      run(w, R"({"strategy": "usp", "ulysses_degree": 2, "ring_layout": "contiguous"})", 16, 2);
  const Run twice = run(
      w, R"({"strategy": "double_ring", "ulysses_degree": 2, "ring_layout": "contiguous"})", 16, 2);
  // (At the time of writing: 1135 us for usp, 829 us for the double ring.)
  CHECK(twice.makespan < plain.makespan);
  for (const int inner : {1, 2, 8}) {
    const Run other = run(w,
                          R"({"strategy": "double_ring", "ulysses_degree": 2, "ring_layout": )"
                          R"("contiguous", "inner_ring": )" +
                              std::to_string(inner) + "}",
                          16, 2);
    for (const auto& [gpu, bytes] : other.sent) {
      CHECK(bytes == Approx(twice.sent.at(gpu)).epsilon(1e-12));
    }
  }
}

// dsp (dsp.h): N = 262144 on 8 GPUs, L = 32768; branches w = 32768/65536/131072/262144,
// r = 1/2/4/8 on head groups of |H| = 8 heads. Branch 0 is local; branches 1..3 span
// G = 2/4/8 ranks with L/r = 16384/8192/4096 rows and a = min(8, max(8·8/32, G)) = 2/4/8 KV
// heads. Per pass, each rank sends Σ (G-1)/G·(2·|H| + 2·a)·(L/r)·d_h·B:
//   1/2·20·16384·256 + 3/4·24·8192·256 + 7/8·32·4096·256 = 41.9 + 37.7 + 29.4 MB
// and training sends it twice (dO in and dQ, dK, dV out mirror Q, K, V in and O out).
TEST_CASE("dsp sends one all-to-all in and one out per branch spanning several ranks",
          "[analytic]") {
  const std::int64_t n = 262144;
  const double row = 128.0 * 2;
  const double per_pass = 0.5 * 20 * 16384 * row + 0.75 * 24 * 8192 * row + 0.875 * 32 * 4096 * row;
  const std::vector<std::int64_t> w = {32768, 65536, 131072, 262144};
  const std::vector<std::int64_t> r = {1, 2, 4, 8};
  const Run f = run(dilated(models::Phase::kForward, n, w, r), R"({"strategy": "dsp"})", 8);
  const Run t = run(dilated(models::Phase::kTraining, n, w, r), R"({"strategy": "dsp"})", 8);
  REQUIRE(f.sent.size() == 8);
  REQUIRE(t.sent.size() == 8);
  for (const auto& [gpu, bytes] : f.sent) {
    CHECK(bytes == Approx(per_pass).epsilon(1e-9));
  }
  for (const auto& [gpu, bytes] : t.sent) {
    CHECK(bytes == Approx(2 * per_pass).epsilon(1e-9));
  }
}

// A branch whose segments fit in a shard (w_i <= L) is local (attention.md 2.10): with every
// w_i <= L = 32768 nothing is sent at all. And with L fixed (N and P scaled together, same
// w_i and r_i) the bytes per GPU do not depend on N: every term is (G_i-1)/G_i·(...)·L/r_i
// with G_i = w_i/L (here branch 2 spans 2 ranks, branch 3 spans 4, for N = 131072 on 4 GPUs
// and N = 262144 on 8).
TEST_CASE("dsp sends nothing for local branches and the same bytes when N/P is fixed",
          "[analytic]") {
  const std::vector<std::int64_t> r = {1, 2, 4, 8};
  const Run local = run(dilated(models::Phase::kTraining, 262144, {4096, 8192, 16384, 32768}, r),
                        R"({"strategy": "dsp"})", 8);
  CHECK(local.sent.empty());
  const std::vector<std::int64_t> w = {16384, 32768, 65536, 131072};
  const Run four =
      run(dilated(models::Phase::kTraining, 131072, w, r), R"({"strategy": "dsp"})", 4);
  const Run eight =
      run(dilated(models::Phase::kTraining, 262144, w, r), R"({"strategy": "dsp"})", 8);
  REQUIRE(eight.sent.size() == 8);
  // Branch 2: G = 2, L/r = 8192, a = min(8, max(2, 2)) = 2; branch 3: G = 4, L/r = 4096, a = 4.
  const double row = 128.0 * 2;
  const double per_pass = 0.5 * 20 * 8192 * row + 0.75 * 24 * 4096 * row;
  for (const auto& [gpu, bytes] : eight.sent) {
    CHECK(bytes == Approx(2 * per_pass).epsilon(1e-9));
  }
  for (const auto& [gpu, bytes] : four.sent) {
    CHECK(bytes == Approx(2 * per_pass).epsilon(1e-9));
  }
}

// hierarchical (hierarchical.h): Llama-3-8B, N = 65536, cp = 8 = P_h 2 x S 4, L = 8192,
// a' = 8, a = 4. Per rank and pass:
//   all-to-alls  (2·32 + 2·8)·L·d_h·B·(P_h-1)/P_h     = 80·8192·256/2       = 83.9 MB
//   summaries    (S-1)/S·2·(N/rho)·a·d_h·B             = 3/4·2·(65536/rho)·4·256
//   global       (S-1)/S·2·G·a·d_h·B                   = 3/4·2·1024·4·256     = 1.6 MB
// Doubling rho halves the summary term only: B(8) - B(16) = 3/4·2·(N/16)·4·256 per pass.
TEST_CASE("hierarchical sends the head all-to-alls plus compressed summaries and global tokens",
          "[analytic]") {
  const std::int64_t n = 65536;
  const auto w = llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, n);
  const double a2a = 80.0 * 8192 * 256 / 2;
  const auto summaries = [&](double rho) { return 0.75 * 2 * (65536 / rho) * 4 * 256; };
  const double global = 0.75 * 2 * 1024 * 4 * 256;
  const Run r8 = run(w, R"({"strategy": "hierarchical", "head_degree": 2})", 8);
  const Run r16 =
      run(w, R"({"strategy": "hierarchical", "head_degree": 2, "compression_ratio": 16})", 8);
  REQUIRE(r8.sent.size() == 8);
  for (const auto& [gpu, bytes] : r8.sent) {
    CHECK(bytes == Approx(2 * (a2a + summaries(8) + global)).epsilon(1e-9));
    CHECK(bytes - r16.sent.at(gpu) == Approx(2 * summaries(16)).epsilon(1e-9));
  }
  // Without global tokens the exchanged context shrinks by exactly rho when rho doubles.
  const Run g0 = run(w, R"({"strategy": "hierarchical", "head_degree": 2, "global_tokens": 0})", 8);
  const Run g0r16 = run(w,
                        R"({"strategy": "hierarchical", "head_degree": 2, "global_tokens": 0, )"
                        R"("compression_ratio": 16})",
                        8);
  CHECK(g0.sent.at(0) - 2 * a2a == Approx(2 * (g0r16.sent.at(0) - 2 * a2a)).epsilon(1e-9));
  const auto notes = strategy(R"({"strategy": "hierarchical"})")->notes();
  REQUIRE(notes.size() == 1);
  CHECK(notes.front().rfind("approximate attention: remote context compressed 8x", 0) == 0);
}

// Bad parameters fail in check() (or the factory) with the located message of STYLE C7.
TEST_CASE("hierarchical strategies reject bad parameters with located messages", "[analytic]") {
  const models::Degrees cp8{1, 8, 1, 1};
  const auto causal =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kTraining, 65536);
  CHECK(error_of(R"({"strategy": "double_ring", "ulysses_degree": 2, "inner_ring": 3})", causal,
                 cp8) == "t.json: /inner_ring: expected a divisor of the ring degree (4), got 3");
  CHECK(error_of(R"({"strategy": "dsp"})", causal, cp8) ==
        "t.json: /strategy: expected /attention/kind \"dilated\" with /attention/heads "
        "\"head_groups\" for dsp, got /attention/kind = \"causal\"");
  // L = 65536/16 = 4096: w = 6144 is not a multiple of L; w = 12288 spans 3 ranks, which do
  // not divide its group's 8 heads.
  const models::Degrees cp16{1, 16, 1, 1};
  CHECK(error_of(R"({"strategy": "dsp"})",
                 dilated(models::Phase::kTraining, 65536, {2048, 4096, 6144, 8192}, {1, 2, 2, 4}),
                 cp16) ==
        "t.json: /strategy: expected every segment length above N/P (4096) to "
        "be a multiple of it for dsp, got /attention/segment_lengths/2 = 6144");
  CHECK(error_of(R"({"strategy": "dsp"})",
                 dilated(models::Phase::kTraining, 65536, {2048, 4096, 8192, 12288}, {1, 2, 4, 4}),
                 cp16) ==
        "t.json: /strategy: expected branch 3's heads per tensor-parallel rank "
        "(8) divisible by the ranks its segment spans (3) for dsp, got "
        "/attention/segment_lengths/3 = 12288 over N/P = 4096");
  CHECK(error_of(R"({"strategy": "hierarchical", "head_degree": 3})", causal, cp8) ==
        "t.json: /head_degree: expected a divisor of the sequence-parallel degree (8), got 3");
  CHECK(error_of(R"({"strategy": "hierarchical", "compression_ratio": 0.5})", causal, cp8) ==
        "t.json: /compression_ratio: expected a number >= 1, got 0.5");
  CHECK(error_of(R"({"strategy": "hierarchical", "global_tokens": -1})", causal, cp8) ==
        "t.json: /global_tokens: expected an integer in [0, 1099511627776], got -1");
}

// Segment rings (ring.h): with segments [4096, 16384] and L = N/P = 8192, the span is 16384
// tokens, two shards: four rings of g = 2 ranks. Forward: (g-1) K/V blocks per GPU instead of
// P-1; training adds (g-1) K/V and g dK/dV hops. The pairs computed are the mask's, exactly.
TEST_CASE("segment rings send (g-1) blocks and keep every pair of the dilated mask", "[analytic]") {
  const std::int64_t n = 65536;
  const int p = 8;
  const double block = 2.0 * (n / p) * 8 * 128 * 2;  // 2·L·h_kv·d_h·B
  const std::string segment = R"({"strategy": "ring", "ring_scope": "segment"})";
  const models::Workload fwd = dilated(models::Phase::kForward, n, {4096, 16384}, {1, 2});
  const Run seg = run(fwd, segment, p);
  REQUIRE(seg.sent.size() == static_cast<std::size_t>(p));
  for (const auto& [gpu, bytes] : seg.sent) {
    CHECK(bytes == Approx(1 * block).epsilon(1e-12));
  }
  for (const auto& [gpu, bytes] : run(fwd, R"({"strategy": "ring"})", p).sent) {
    CHECK(bytes == Approx((p - 1) * block).epsilon(1e-12));
  }
  const Run train = run(dilated(models::Phase::kTraining, n, {4096, 16384}, {1, 2}), segment, p);
  for (const auto& [gpu, bytes] : train.sent) {
    CHECK(bytes == Approx((1 + 1 + 2) * block).epsilon(1e-12));
  }
  // Segments no longer than a shard: g = 1, nothing leaves a GPU.
  CHECK(run(dilated(models::Phase::kTraining, n, {4096, 8192}, {1, 2}), segment, p).sent.empty());

  // Every kept pair once: each rank's ring steps against the whole mask.
  const models::RingAttention ring(models::RingLayout::kContiguous,
                                   config::Node::parse_text("t.json", segment),
                                   models::RingScope::kSegment);
  REQUIRE(ring.ring_size(fwd, p) == 2);
  for (const bool causal : {false, true}) {
    models::Workload w = fwd;
    w.attention.causal = causal;
    double pairs = 0;
    for (int r = 0; r < p; ++r) {
      pairs += models::block_work(w, models::Pass::kForward, 0, 32, ring.shard(n, p, r),
                                  ring.keys_of_steps(n, p, r, 0, 2, 2))
                   .mask.pairs;
    }
    const std::vector<models::TokenSet> all = {models::TokenSet{0, 1, n}};
    CHECK(pairs == models::block_work(w, models::Pass::kForward, 0, 32, all, all).mask.pairs);
  }
}

TEST_CASE("segment rings need dilated segments that tile whole shards", "[analytic]") {
  const models::Degrees cp8{1, 8, 1, 1};
  const std::string segment = R"({"strategy": "ring", "ring_scope": "segment"})";
  const models::Workload causal =
      llama_attention(models::AttentionKind::kCausal, models::Phase::kForward, 65536);
  CHECK(error_of(segment, causal, cp8) ==
        "t.json: /ring_scope: expected \"sequence\" (segment rings need dilated attention), got "
        "\"segment\" with /attention/kind = causal");
  // 12288-token segments over 8192-token shards: a segment straddles two shards unevenly.
  CHECK(error_of(segment, dilated(models::Phase::kForward, 65536, {4096, 12288}, {1, 2}), cp8) ==
        "t.json: /ring_scope: expected segments that tile whole spans of shards (every segment "
        "length dividing the span, the span a whole number of the 8192-token shards, and that "
        "number dividing the ring degree 8), got \"segment\" with a span of 12288 tokens");
  CHECK(error_of(R"({"strategy": "ring", "ring_scope": "tiles"})", causal, cp8) ==
        "t.json: /ring_scope: expected one of segment, sequence; got \"tiles\"");
}
