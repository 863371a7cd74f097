// SPDX-License-Identifier: Apache-2.0
// Dilated attention under every strategy against brute force: on a sequence short enough to
// walk every (head, query, key), the attention FLOPs each GPU's kernels run in the simulated
// step (StepTrace::attention_flops) equal 4·d_h per kept pair of the (head, query) rows that
// strategy's header gives the GPU, times 3.5 in training (backward 2.5x, FlashAttention-2
// paper 4.1), and the bytes each GPU sends (tag attention_comm) equal what its header says it
// moves, counted from the same enumeration:
//   sparsity-aware strategies  what the GPU's rows need from other GPUs and nothing else:
//     dsp        the query rows with a kept key and the key rows some query keeps, of the
//                heads and segment it computes, that other ranks hold (Q, K, V in; O out)
//     ring with "ring_scope": "segment"
//                the shards of the smallest rings closed under "a query of this shard keeps
//                a key of that one" (the connected components of that relation), g-1 K/V
//                blocks forward
//   mask-blind strategies      every remote row of the heads they compute (a superset of the
//                needed rows, which is checked): ring, zigzag and striped rings, allgather_kv,
//                ulysses, usp, double_ring; hierarchical adds its compressed summaries and
//                global tokens (closed form, hierarchical.h)
//   head_parallel              nothing of its own
//
// Shape: 16 MHA heads x 128, bf16, N = 256 tokens, segments [16, 32, 64, 128], dilations
// [1, 2, 4, 8] (head groups of 4, or every head every branch), causal and not, on one DGX H100
// with cp = 8 (L = 32 tokens per GPU). 4096 sequences per step make every message megabytes,
// so NCCL's Simple protocol carries it and wire bytes equal payload bytes (one K/V row of one
// head is 128·2·4096 B = 1 MiB).
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "models/machine.h"
#include "models/step.h"
#include "models/strategies/strategy.h"
#include "sim/replay.h"
#include "tests/support/mask_oracle.h"
#include "tests/support/strategy_fixtures.h"
#include "topology/load.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity

namespace {

constexpr int kP = 8;                 // cp ranks, one DGX H100
constexpr int kHeads = 16;            // h = h_kv
constexpr std::int64_t kN = 256;      // tokens
constexpr std::int64_t kL = kN / kP;  // tokens per GPU
constexpr double kSequences = 4096;
constexpr double kHeadDim = 128;
constexpr double kRowBytes = kHeadDim * 2 * kSequences;  // one head's row of Q, K, V or O

models::Workload workload(models::Phase phase, models::DilatedHeads heads, bool causal) {
  models::Workload w = test::llama_attention(models::AttentionKind::kDilated, phase, kN);
  w.model.heads = kHeads;
  w.model.kv_heads = kHeads;
  w.model.hidden = kHeads * 128;
  w.attention.segment_lengths = {16, 32, 64, 128};
  w.attention.dilation_rates = {1, 2, 4, 8};
  w.attention.dilated_heads = heads;
  w.attention.causal = causal;
  w.sequences_per_step = static_cast<std::int64_t>(kSequences);
  return w;
}

/// Rows one GPU computes exactly: each head of `heads` for each query of `queries`, against
/// the keys in [key_begin, key_end) its mask keeps.
struct Rows {
  std::vector<int> heads;
  std::vector<std::int64_t> queries;
  std::int64_t key_begin = 0;
  std::int64_t key_end = kN;
};

std::vector<int> head_range(int begin, int count) {
  std::vector<int> out(static_cast<std::size_t>(count));
  std::iota(out.begin(), out.end(), begin);
  return out;
}

std::vector<std::int64_t> token_range(std::int64_t begin, std::int64_t count) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(count));
  std::iota(out.begin(), out.end(), begin);
  return out;
}

/// Chunks c and 2P-1-c of 2P (ring.h's zigzag layout, also allgather_kv's and usp's).
std::vector<std::int64_t> zigzag(int rank, int ranks) {
  const std::int64_t chunk = kN / (2 * ranks);
  std::vector<std::int64_t> out = token_range(rank * chunk, chunk);
  const std::vector<std::int64_t> back = token_range((2 * ranks - 1 - rank) * chunk, chunk);
  out.insert(out.end(), back.begin(), back.end());
  return out;
}

/// The rows each cp rank computes under a strategy, from the layouts its header describes.
std::vector<std::vector<Rows>> rows_of(const std::string& strategy) {
  std::vector<std::vector<Rows>> out(kP);
  for (int c = 0; c < kP; ++c) {
    std::vector<Rows>& rows = out[static_cast<std::size_t>(c)];
    const std::vector<int> all_heads = head_range(0, kHeads);
    if (strategy == "head_parallel" || strategy == "ulysses") {  // h/P heads, every query
      rows.push_back({head_range(c * kHeads / kP, kHeads / kP), token_range(0, kN)});
    } else if (strategy == "ring" || strategy == "ring_segment") {  // contiguous shards
      rows.push_back({all_heads, token_range(c * kL, kL)});
    } else if (strategy == "zigzag_ring" || strategy == "allgather_kv") {
      rows.push_back({all_heads, zigzag(c, kP)});
    } else if (strategy == "striped_ring") {  // token t on rank t mod P
      std::vector<std::int64_t> q;
      for (std::int64_t t = c; t < kN; t += kP) {
        q.push_back(t);
      }
      rows.push_back({all_heads, q});
    } else if (strategy == "usp" || strategy == "double_ring") {
      // P_u = 2 Ulysses ranks (consecutive) by P_r = 4 ring ranks: cp rank c = ri·2 + ui
      // holds heads slice ui of h/2 and the zigzag shard of ring rank ri over 4.
      rows.push_back({head_range((c % 2) * kHeads / 2, kHeads / 2), zigzag(c / 2, kP / 2)});
    } else if (strategy == "dsp") {
      // Branch i on head group H_i = [4i, 4i+4): its own shard while w_i <= L, otherwise
      // segment rank j = c mod G_i of G_i = w_i/L takes |H_i|/G_i heads of the whole segment.
      const std::int64_t segments[] = {16, 32, 64, 128};
      for (int i = 0; i < 4; ++i) {
        const std::int64_t w = segments[i];
        if (w <= kL) {
          rows.push_back({head_range(4 * i, 4), token_range(c * kL, kL)});
          continue;
        }
        const auto g = static_cast<int>(w / kL);
        const int j = c % g;
        rows.push_back({head_range(4 * i + j * 4 / g, 4 / g), token_range((c - j) * kL, w)});
      }
    } else if (strategy == "hierarchical") {
      // P_h = 2 head slices by S = 4 shards of 64 tokens: cp rank c = s·2 + j, heads slice j,
      // exact attention inside its shard only (the rest is compressed, priced separately).
      const int s = c / 2;
      rows.push_back({head_range((c % 2) * kHeads / 2, kHeads / 2), token_range(s * 64, 64), s * 64,
                      (s + 1) * 64});
    }
  }
  return out;
}

/// Every kept (head, query, key), enumerated once per mask.
class Oracle {
 public:
  explicit Oracle(const models::AttentionSpec& spec)
      : times_(static_cast<std::size_t>(kHeads * kN * kN)) {
    for (int j = 0; j < kHeads; ++j) {
      for (std::int64_t q = 0; q < kN; ++q) {
        for (std::int64_t k = 0; k < kN; ++k) {
          times_[index(j, q, k)] =
              static_cast<std::int8_t>(test::times_kept(spec, kHeads, j, q, k));
        }
      }
    }
  }

  int times(int j, std::int64_t q, std::int64_t k) const { return times_[index(j, q, k)]; }

  /// Kept pairs of `rows`, each pair counted as often as the kernel computes it.
  double pairs(const std::vector<Rows>& rows) const {
    double n = 0;
    for (const Rows& r : rows) {
      for (const int j : r.heads) {
        for (const std::int64_t q : r.queries) {
          for (std::int64_t k = r.key_begin; k < r.key_end; ++k) {
            n += times(j, q, k);
          }
        }
      }
    }
    return n;
  }

  /// Rows of Q (with a kept key) and of K (kept by some query) that `rows` need from outside
  /// [own_begin, own_end), per head: what a sparsity-aware strategy must bring in.
  std::pair<double, double> remote_needs(const std::vector<Rows>& rows, std::int64_t own_begin,
                                         std::int64_t own_end) const {
    double queries = 0;
    double keys = 0;
    const auto remote = [&](std::int64_t t) { return t < own_begin || t >= own_end; };
    for (const Rows& r : rows) {
      for (const int j : r.heads) {
        std::set<std::int64_t> needed_keys;
        for (const std::int64_t q : r.queries) {
          bool any = false;
          for (std::int64_t k = r.key_begin; k < r.key_end; ++k) {
            if (times(j, q, k) > 0) {
              any = true;
              if (remote(k)) {
                needed_keys.insert(k);
              }
            }
          }
          queries += any && remote(q) ? 1 : 0;
        }
        keys += static_cast<double>(needed_keys.size());
      }
    }
    return {queries, keys};
  }

 private:
  static std::size_t index(int j, std::int64_t q, std::int64_t k) {
    return static_cast<std::size_t>((j * kN + q) * kN + k);
  }

  std::vector<std::int8_t> times_;
};

struct Step {
  std::vector<double> flops;  // by GPU
  std::map<std::uint32_t, double> sent;
};

Step simulate(const models::Workload& w, const std::string& json) {
  static const models::Machine machine =
      models::build_machine(topology::load_topology_arg("dgx-h100", std::nullopt),
                            calibrate::builtin_profile("h100-sxm"), false);
  const models::CostModel cost(calibrate::builtin_profile("h100-sxm"), "bf16");
  const models::Degrees degrees{1, kP, 1, 1};
  models::StepOptions options;
  options.simulated_layers = 1;
  const auto strategy = models::make_strategy(config::Node::parse_text("t.json", json));
  strategy->check(w, degrees);
  const models::StepTrace step =
      models::build_step(w, degrees, *strategy, options, machine.layout, cost);
  // Replayed too, so that a strategy whose DAG does not complete fails here.
  CHECK(sim::replay(step.trace, machine.network, sim::NetworkModel::kFlow).makespan > sim::Time{});
  return {step.attention_flops, test::strategy_bytes_sent(step)};
}

struct Case {
  const char* name;  // as rows_of() knows it
  const char* json;
};

const Case kCases[] = {
    {"head_parallel", R"({"strategy": "head_parallel"})"},
    {"ulysses", R"({"strategy": "ulysses"})"},
    {"ring", R"({"strategy": "ring"})"},
    {"ring_segment", R"({"strategy": "ring", "ring_scope": "segment"})"},
    {"zigzag_ring", R"({"strategy": "zigzag_ring"})"},
    {"striped_ring", R"({"strategy": "striped_ring"})"},
    {"allgather_kv", R"({"strategy": "allgather_kv"})"},
    {"usp", R"({"strategy": "usp", "ulysses_degree": 2, "ring_degree": 4})"},
    {"double_ring", R"({"strategy": "double_ring", "ulysses_degree": 2, "inner_ring": 2})"},
    {"dsp", R"({"strategy": "dsp"})"},
    {"hierarchical", R"({"strategy": "hierarchical", "head_degree": 2, "compression_ratio": 4, )"
                     R"("global_tokens": 16})"},
};

/// Whether a query of contiguous shard `a` keeps a key of another shard `b` (any head).
bool needs_shard(const Oracle& oracle, int a, int b) {
  const Rows rows{head_range(0, kHeads), token_range(a * kL, kL), b * kL, (b + 1) * kL};
  return a != b && oracle.pairs({rows}) > 0;
}

/// Rows a segment ring sends forward per GPU: its ring is the connected component of its
/// shard under "a query here keeps a key there", brute-forced over every shard pair.
double segment_ring_rows(const Oracle& oracle) {
  std::vector<int> parent(kP);
  std::iota(parent.begin(), parent.end(), 0);
  const auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x) {
      x = parent[static_cast<std::size_t>(x)];
    }
    return x;
  };
  for (int a = 0; a < kP; ++a) {
    for (int b = 0; b < kP; ++b) {
      if (needs_shard(oracle, a, b)) {
        parent[static_cast<std::size_t>(find(a))] = find(b);
      }
    }
  }
  std::map<int, int> sizes;
  for (int c = 0; c < kP; ++c) {
    ++sizes[find(c)];
  }
  // Every component has the same size here (the check rejects uneven spans).
  const int g = sizes.begin()->second;
  for (const auto& [root, size] : sizes) {
    REQUIRE(size == g);
  }
  return 2.0 * kHeads * kL * (g - 1);  // g-1 K/V blocks of 2·L·h rows
}

/// Rows GPU c sends in one forward pass (training: see below), from the header formulas, with
/// the sparsity-aware ones counted from the enumeration.
double forward_rows(const std::string& name, const Oracle& oracle, const std::vector<Rows>& rows,
                    int c) {
  const double h = kHeads;
  const double remote = static_cast<double>(kN - kL);  // positions another GPU holds
  if (name == "head_parallel") {
    return 0;
  }
  if (name == "ulysses") {  // Q, K, V of its h/P heads from every remote position, O back
    return 4 * (h / kP) * remote;
  }
  if (name == "ring" || name == "zigzag_ring" || name == "striped_ring" ||
      name == "allgather_kv") {  // every remote K/V row of every head
    return 2 * h * remote;
  }
  if (name == "ring_segment") {
    return segment_ring_rows(oracle);
  }
  if (name == "usp" || name == "double_ring") {
    // Ulysses pair: Q, K, V of h/2 heads from the partner's L positions, O back; ring: every
    // K/V row of those heads outside its ring shard of N/4.
    return 4 * (h / 2) * kL + 2 * (h / 2) * (kN - kN / 4);
  }
  if (name == "dsp") {  // needed rows only; symmetric all-to-alls: sent = received
    const auto [queries, keys] = oracle.remote_needs(rows, c * kL, (c + 1) * kL);
    return queries + 2 * keys + queries;
  }
  // hierarchical: head all-to-all on P_h = 2, summaries (S-1)/S·2·(N/rho)·a and global tokens
  // (S-1)/S·2·G·a with a = h/2 = 8 KV heads per slice, S = 4, rho = 4, G = 16.
  return 4 * (h / 2) * kL + 0.75 * 2 * (256.0 / 4) * 8 + 0.75 * 2 * 16 * 8;
}

/// Training sends: the forward rows again for the all-to-all and all-gather strategies
/// (mirrored collectives), plus the dK/dV blocks that follow rings home (ring.h: forward
/// (n-1) blocks, training 2(n-1) + n), and allgather_kv's reduce-scatter of dK, dV.
double training_rows(const std::string& name, double forward) {
  const double h = kHeads;
  if (name == "ring" || name == "zigzag_ring" || name == "striped_ring") {
    return 2 * forward + 2 * h * kN;  // P-1, P-1 and P blocks of 2·L·h rows
  }
  if (name == "ring_segment") {
    const double g = forward / (2 * h * kL) + 1;
    return 2 * h * kL * (3 * g - 2);
  }
  if (name == "allgather_kv") {
    return 3 * forward;
  }
  if (name == "usp" || name == "double_ring") {
    const double a2a = 4 * (h / 2) * kL;
    const double block = 2 * (h / 2) * (kN / 4);
    return 2 * a2a + (3 * 4 - 2) * block;
  }
  return 2 * forward;  // ulysses, dsp, hierarchical: the backward mirrors the forward
}

}  // namespace

TEST_CASE("every strategy runs the dilated mask's pairs and moves the rows brute force counts",
          "[analytic]") {
  for (const auto heads : {models::DilatedHeads::kHeadGroups, models::DilatedHeads::kAllHeads}) {
    for (const bool causal : {false, true}) {
      const models::Workload fwd = workload(models::Phase::kForward, heads, causal);
      const models::Workload train = workload(models::Phase::kTraining, heads, causal);
      const Oracle oracle(fwd.attention);
      for (const Case& c : kCases) {
        if (std::string(c.name) == "dsp" && heads == models::DilatedHeads::kAllHeads) {
          continue;  // dsp needs head groups (dsp.h)
        }
        INFO(c.name << (heads == models::DilatedHeads::kAllHeads ? ", all heads" : ", head groups")
                    << (causal ? ", causal" : ""));
        const auto assignment = rows_of(c.name);
        const Step f = simulate(fwd, c.json);
        const Step t = simulate(train, c.json);
        for (int r = 0; r < kP; ++r) {
          const auto gpu = static_cast<std::uint32_t>(r);
          const std::vector<Rows>& rows = assignment[static_cast<std::size_t>(r)];
          INFO("GPU " << r);
          double flops = 4 * kHeadDim * oracle.pairs(rows) * kSequences;
          if (std::string(c.name) == "hierarchical") {
            // Remote attention of the 64 shard queries against K_r = (S-1)·N/(S·rho) + G =
            // 3·16 + 16 = 64 compressed keys, dense, on 8 heads (hierarchical.h).
            flops += 4 * kHeadDim * 64.0 * 64.0 * 8 * kSequences;
          }
          CHECK(f.flops.at(gpu) == Approx(flops).epsilon(1e-12));
          CHECK(t.flops.at(gpu) == Approx(3.5 * flops).epsilon(1e-12));

          const double rows_fwd = forward_rows(c.name, oracle, rows, r);
          const double sent_f = f.sent.count(gpu) ? f.sent.at(gpu) : 0.0;
          const double sent_t = t.sent.count(gpu) ? t.sent.at(gpu) : 0.0;
          CHECK(sent_f == Approx(rows_fwd * kRowBytes).epsilon(1e-12));
          CHECK(sent_t == Approx(training_rows(c.name, rows_fwd) * kRowBytes).epsilon(1e-12));
        }
      }
    }
  }
}

// What "mask-blind" costs: with head groups, every cp rank of the sequence-wide ring receives
// K/V blocks of shards none of its queries needs (the sparsity a segment ring or dsp exploits),
// and Ulysses moves every row of a dilated head where its queries need 1/r of them; the rows a
// mask-blind strategy moves always include every row its queries need.
TEST_CASE("mask-blind strategies move every needed row and then some", "[analytic]") {
  const models::Workload w =
      workload(models::Phase::kForward, models::DilatedHeads::kHeadGroups, false);
  const Oracle oracle(w.attention);
  for (int c = 0; c < kP; ++c) {
    int needed_shards = 0;
    for (int s = 0; s < kP; ++s) {
      needed_shards += needs_shard(oracle, c, s) ? 1 : 0;
    }
    CHECK(needed_shards == 3);  // the other shards of its 128-token segment; the ring sends 7
    const auto [queries, keys] =
        oracle.remote_needs(rows_of("ring")[static_cast<std::size_t>(c)], c * kL, (c + 1) * kL);
    CHECK(queries == 0);
    CHECK(2 * keys < forward_rows("ring", oracle, {}, c));
    const auto [uq, uk] =
        oracle.remote_needs(rows_of("ulysses")[static_cast<std::size_t>(c)], c * kL, (c + 1) * kL);
    CHECK(2 * uq + 2 * uk <= forward_rows("ulysses", oracle, {}, c));
    // Dilated heads (r > 1: GPUs 2..7 hold branches 1..3) need only 1/r of the rows.
    if (c >= 2) {
      CHECK(2 * uq + 2 * uk < forward_rows("ulysses", oracle, {}, c));
    }
  }
}
