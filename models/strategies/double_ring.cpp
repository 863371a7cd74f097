// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/double_ring.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "models/collectives/decompose.h"
#include "models/strategies/common.h"

namespace attnsim::models {
namespace {

/// Bytes of one rank's K/V block: 2·(N/P_r)·a·d_h·B (ring.h).
double kv_block_bytes(const AttentionCall& call) {
  const Workload& work = call.work;
  const auto p = static_cast<double>(call.group.size());
  const double tokens = static_cast<double>(work.sequence_length) / p;
  const double kv_heads = kv_heads_per_rank(
      work, static_cast<double>(work.model.heads) / (call.head_end - call.head_begin));
  return 2.0 * tokens * kv_heads * work.model.head_dim * work.model.dtype_bytes * call.sequences;
}

/// Steps simulated one by one at most, over all GPUs (each of the machine's GPUs runs P_r
/// steps); beyond it the rings run in fat rounds (double_ring.h).
constexpr std::int64_t kMaxRankSteps = std::int64_t{1} << 22;

/// Adds `times` copies of `b` to `into`: work adds up, the tile shape is the pair-weighted
/// geometric mean (common.h's block_work).
void add_block(BlockWork& into, const BlockWork& b, double times) {
  const double pairs = b.mask.pairs * times;
  if (pairs <= 0) {
    return;
  }
  const double total = into.mask.pairs + pairs;
  if (into.mask.pairs > 0) {
    const auto mean = [&](double x, double y) {
      return std::exp((into.mask.pairs * std::log(x) + pairs * std::log(y)) / total);
    };
    into.mask.tile_q = mean(into.mask.tile_q, b.mask.tile_q);
    into.mask.tile_k = mean(into.mask.tile_k, b.mask.tile_k);
  } else {
    into.mask.tile_q = b.mask.tile_q;
    into.mask.tile_k = b.mask.tile_k;
  }
  into.mask.causal_tiles = into.mask.causal_tiles || b.mask.causal_tiles;
  into.flops += b.flops * times;
  into.mask.needed_keys += b.mask.needed_keys * times;
  into.mask.pairs = total;
}

/// The double ring over call.group (ring ranks o·w + j) with inner rings of `w`; see
/// double_ring.h for the schedule. Returns, per ring rank, the end of its attention.
std::vector<sim::OpId> emit_double_ring(const AttentionCall& call, const RingAttention& ring, int w,
                                        sim::Trace& trace) {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int outer = p / w;
  // Rounds per fat round (double_ring.h, "Long rings"): fat round f runs rounds
  // [round_begin(f), round_begin(f + 1)).
  const bool fat = std::int64_t{call.layout.gpus} * p > kMaxRankSteps;
  const int fat_rounds =
      fat ? std::min(outer, std::max(1, RingAttention::kMaxRingSteps / w)) : outer;
  const auto round_begin = [&](int f) {
    return static_cast<int>(std::int64_t{f} * outer / fat_rounds);
  };
  const auto at = [&](int o, int j) {
    const int node = ((o % outer) + outer) % outer;
    const int position = ((j % w) + w) % w;
    return static_cast<std::size_t>(node) * static_cast<std::size_t>(w) +
           static_cast<std::size_t>(position);
  };
  const double block_bytes = kv_block_bytes(call);
  const double tokens = static_cast<double>(work.sequence_length) / p * call.sequences;
  const double heads = call.head_end - call.head_begin;
  const Cost merge = call.cost.memory_bound(3.0 * tokens * heads * work.model.head_dim * 4.0);
  const bool backward = call.pass == Pass::kBackward;
  // `blocks` back-to-back K/V (or dK/dV) blocks from `from` to `to`.
  const auto send = [&](std::size_t from, std::size_t to, int blocks,
                        std::span<const sim::OpId> deps) {
    return emit_send(trace, call.layout, call.group[from], call.group[to], block_bytes * blocks,
                     call.tags.attention_comm, deps, blocks);
  };

  const auto n = static_cast<std::size_t>(p);
  std::vector<std::vector<TokenSet>> shards(n);
  for (int r = 0; r < p; ++r) {
    shards[static_cast<std::size_t>(r)] = ring.shard(work.sequence_length, p, r);
  }
  // The work of fat step (f, s) on rank (o, j): its rounds' blocks, the first step's own
  // block exactly and the others estimated from the middle round's block (exact when a fat
  // round is one round).
  const auto fat_block = [&](int f, int s, int o, int j) {
    const int t0 = round_begin(f);
    const int rounds = round_begin(f + 1) - t0;
    const auto block = [&](int t) {
      return block_work(work, call.pass, call.head_begin, call.head_end, shards[at(o, j)],
                        shards[at(o - t, j - s)]);
    };
    const bool own = f == 0 && s == 0;
    BlockWork b = own ? block(0) : BlockWork{};
    const int estimated = own ? rounds - 1 : rounds;
    if (estimated > 0) {
      add_block(b, block(t0 + rounds / 2), estimated);
    }
    return b;
  };
  // Fat rounds: per rank, the factor that makes its estimated work its exact total (its
  // queries against every key, which the rounds visit once each).
  std::vector<double> scale(n, 1.0);
  if (fat) {
    const std::vector<TokenSet> all = {TokenSet{0, 1, work.sequence_length}};
    for (int o = 0; o < outer; ++o) {
      for (int j = 0; j < w; ++j) {
        const std::size_t u = at(o, j);
        double estimated = 0;
        for (int f = 0; f < fat_rounds; ++f) {
          for (int s = 0; s < w; ++s) {
            estimated += fat_block(f, s, o, j).mask.pairs;
          }
        }
        const double exact =
            block_work(work, call.pass, call.head_begin, call.head_end, shards[u], all).mask.pairs;
        // The own block always keeps its diagonal, so the estimate is positive whenever the
        // exact total is; if the samples miss every kept pair of the other blocks, the first
        // step carries the rank's whole work.
        scale[u] = estimated > 0 ? exact / estimated : 1.0;
      }
    }
  }

  std::vector<sim::OpId> begin(call.ready.begin(), call.ready.end());
  std::vector<sim::OpId> kernel(n);
  std::vector<sim::OpId> outer_in(n);   // the next round's blocks, sent at this round's start
  std::vector<sim::OpId> dkv_inner(n);  // dK/dV arriving from (o, j-1) for this step
  std::vector<sim::OpId> dkv_outer(n);  // dK/dV of the previous node's round, for step w-1
  std::vector<sim::OpId> dkv_home(n);   // each rank's own dK/dV, back after the last round
  for (int f = 0; f < fat_rounds; ++f) {
    const int rounds = round_begin(f + 1) - round_begin(f);
    const bool last_round = f + 1 == fat_rounds;
    // Outer hops: one per round but the very last (which has no next round).
    const int outer_blocks = last_round ? rounds - 1 : rounds;
    std::vector<sim::OpId> dkv_outer_next(n);
    for (int s = 0; s < w; ++s) {
      std::vector<sim::OpId> inner_in(n);
      std::vector<sim::OpId> dkv_inner_next(n);
      for (int o = 0; o < outer; ++o) {
        for (int j = 0; j < w; ++j) {
          const std::size_t u = at(o, j);
          const sim::OpId deps[] = {begin[u]};
          if (s == 0 && outer_blocks > 0) {
            outer_in[at(o + 1, j)] = send(u, at(o + 1, j), outer_blocks, deps);
          }
          if (s + 1 < w) {
            inner_in[at(o, j + 1)] = send(u, at(o, j + 1), rounds, deps);
          }
          BlockWork block = fat_block(f, s, o, j);
          block.flops *= scale[u];
          block.mask.pairs *= scale[u];
          block.mask.needed_keys *= scale[u];
          // One online-softmax merge per block after the very first.
          const int merges = f == 0 && s == 0 ? rounds - 1 : rounds;
          sim::OpId done = add_attention(call, trace, call.group[u], block, deps);
          if (block.mask.pairs > 0 && merges > 0) {
            const sim::OpId after[] = {done};
            const Cost merges_cost{sim::Time::from_s(merge.time.seconds() * merges),
                                   merge.extrapolated};
            done = add_compute(call, trace, call.group[u], merges_cost, call.tags.attention, after,
                               "online-softmax merge");
          }
          kernel[u] = done;
          if (!backward) {
            continue;
          }
          std::vector<sim::OpId> dkv_deps = {done};
          if (s > 0) {
            dkv_deps.push_back(dkv_inner[u]);
          }
          if (s + 1 == w && f > 0) {
            dkv_deps.push_back(dkv_outer[u]);
          }
          if (s + 1 < w) {
            dkv_inner_next[at(o, j + 1)] = send(u, at(o, j + 1), rounds, dkv_deps);
          } else if (!last_round) {
            dkv_outer_next[at(o + 1, j)] = send(u, at(o + 1, j), rounds, dkv_deps);
          } else {
            // The last fat round's outer dK/dV hops and the final one home, as one message
            // train to the next node.
            dkv_home[at(o + 1, j + 1)] = send(u, at(o + 1, j + 1), rounds, dkv_deps);
          }
        }
      }
      dkv_inner = dkv_inner_next;
      for (std::size_t u = 0; u < n; ++u) {
        if (s + 1 < w) {
          const sim::OpId deps[] = {kernel[u], inner_in[u]};
          begin[u] = trace.delay(sim::Time{}, call.tags.marker, deps);
        } else if (!last_round) {
          const sim::OpId deps[] = {kernel[u], outer_in[u]};
          begin[u] = trace.delay(sim::Time{}, call.tags.marker, deps);
        }
      }
    }
    dkv_outer = dkv_outer_next;
  }
  std::vector<sim::OpId> out(n);
  for (std::size_t u = 0; u < n; ++u) {
    if (backward) {
      const sim::OpId deps[] = {kernel[u], dkv_home[u]};
      out[u] = trace.delay(sim::Time{}, call.tags.marker, deps);
    } else {
      out[u] = kernel[u];
    }
  }
  return out;
}

}  // namespace

int DoubleRingAttention::inner_ring(const Layout& layout,
                                    std::span<const std::uint32_t> ring_group) const {
  const auto p = static_cast<int>(ring_group.size());
  if (inner_ring_ > 0) {
    return inner_ring_;
  }
  const std::uint32_t node = layout.node_of(ring_group.front());
  const auto local =
      static_cast<int>(std::count_if(ring_group.begin(), ring_group.end(), [&](std::uint32_t gpu) {
        return layout.node_of(gpu) == node;
      }));
  return std::gcd(local, p);
}

void DoubleRingAttention::check(const Workload& work, const Degrees& degrees) const {
  reject_spatial_temporal(node_, work);
  const std::pair<int, int> split_ur = usp_.split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  const std::int64_t unit =
      (layout_ == RingLayout::kZigzag ? 2 : 1) * std::int64_t{std::max(r, 1)} * std::max(u, 1);
  if (u > 0 && degrees.cp % u == 0 && work.phase != Phase::kDecode &&
      work.sequence_length % unit != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by " + std::to_string(unit) + " for double_ring (" +
                  std::to_string(u) + " x " + std::to_string(r) +
                  (layout_ == RingLayout::kZigzag ? ", zigzag" : "") + ")",
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
  usp_.check(work, degrees);
  if (inner_ring_ > 0 && r % inner_ring_ != 0) {
    node_.child("inner_ring")
        .fail("a divisor of the ring degree (" + std::to_string(r) + ")",
              std::to_string(inner_ring_));
  }
}

std::vector<sim::OpId> DoubleRingAttention::emit_attention(const AttentionCall& call,
                                                           sim::Trace& trace) const {
  const RingAttention ring(layout_, node_);
  return usp_.emit_grid(call, trace, [&](const AttentionCall& sub) {
    // Linear attention passes states, not K/V blocks: the ring of states (ring.h) as is.
    return sub.work.attention.kind == AttentionKind::kLinear
               ? ring.emit_attention(sub, trace)
               : emit_double_ring(sub, ring, inner_ring(sub.layout, sub.group), trace);
  });
}

AttentionMemory DoubleRingAttention::memory(const Workload& work, const Degrees& degrees) const {
  AttentionMemory m = usp_.memory(work, degrees);
  const std::pair<int, int> split_ur = usp_.split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  if (r > 1 && work.attention.kind != AttentionKind::kLinear) {
    // The outer block in flight (and its dK/dV in training), on N/P_r tokens (ring.h).
    const double kv = std::max(kv_heads_per_rank(work, degrees.tp), static_cast<double>(u));
    const double block = 2.0 * static_cast<double>(work.sequence_length) / r *
                         std::max(1.0, kv / u) * work.model.head_dim * work.model.dtype_bytes;
    m.workspace += work.has_backward() ? 2.0 * block : block;
  }
  return m;
}

std::map<std::string, std::int64_t> DoubleRingAttention::own_degrees(const Workload& work,
                                                                     const Degrees& degrees) const {
  std::map<std::string, std::int64_t> out = usp_.own_degrees(work, degrees);
  if (inner_ring_ > 0) {
    out["inner_ring"] = inner_ring_;
  }
  return out;
}

std::unique_ptr<Strategy> make_double_ring(const config::Node& parallelism) {
  const int u = static_cast<int>(parallelism.integer_or("ulysses_degree", 1, 1 << 20, 0));
  const int r = static_cast<int>(parallelism.integer_or("ring_degree", 1, 1 << 20, 0));
  const int w = static_cast<int>(parallelism.integer_or("inner_ring", 1, 1 << 20, 0));
  return std::make_unique<DoubleRingAttention>(parallelism, u, r, w, read_ring_layout(parallelism));
}

std::vector<CommGroup> DoubleRingAttention::comm_groups(const Workload& work,
                                                        const Degrees& degrees) const {
  std::vector<CommGroup> out = usp_.comm_groups(work, degrees);
  const int r = usp_.split(work, degrees).second;
  if (r > 2) {
    // usp lists the ring group last. The ring group's ranks reach their inner-ring neighbours and,
    // between inner rounds, the same member of the next and previous inner ring: up to four peers
    // (the inner ring size depends on the placement, so this is the most a rank can have).
    out.back().peers = std::min(out.back().size - 1, 4);
  }
  return out;
}

}  // namespace attnsim::models
