// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/ring.h"

#include <algorithm>
#include <array>
#include <string>

#include "models/collectives/decompose.h"
#include "models/strategies/common.h"

namespace attnsim::models {
namespace {

const char* layout_name(RingLayout layout) {
  switch (layout) {
    case RingLayout::kContiguous:
      return "ring";
    case RingLayout::kZigzag:
      return "zigzag_ring";
    case RingLayout::kStriped:
      return "striped_ring";
  }
  return "ring";
}

/// Bytes of one rank's K/V block: 2·L·a·d_h·B.
double kv_block_bytes(const Workload& work, const AttentionCall& call) {
  const auto p = static_cast<double>(call.group.size());
  const double tokens = static_cast<double>(work.sequence_length) / p;
  const double kv_heads = kv_heads_per_rank(
      work, static_cast<double>(work.model.heads) / (call.head_end - call.head_begin));
  return 2.0 * tokens * kv_heads * work.model.head_dim * work.model.dtype_bytes * call.sequences;
}

/// Linear attention over a ring of states (see ring.h).
std::vector<sim::OpId> emit_linear(const AttentionCall& call, sim::Trace& trace) {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const double tokens = static_cast<double>(work.sequence_length) / p * call.sequences;
  const double heads = call.head_end - call.head_begin;
  const double d_h = work.model.head_dim;
  const double flops = (call.pass == Pass::kForward ? 4.0 : 8.0) * tokens * heads * d_h * d_h;
  const double state_bytes = heads * d_h * d_h * work.model.dtype_bytes * call.sequences;
  // A chunked linear-attention kernel is a pair of batched GEMMs: (d_h x L)·(L x d_h) per head.
  const auto l = static_cast<std::int64_t>(tokens);
  const auto dh = static_cast<std::int64_t>(d_h);
  const auto batch = static_cast<std::int64_t>(heads);
  Cost cost = call.cost.gemm(dh, dh, l, batch);
  const double gemm_flops = 2.0 * d_h * d_h * static_cast<double>(l) * heads;
  cost.time = sim::Time::from_s(cost.time.seconds() * (flops / gemm_flops));
  std::vector<sim::OpId> local(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    const sim::OpId deps[] = {call.ready[static_cast<std::size_t>(r)]};
    local[static_cast<std::size_t>(r)] =
        add_compute(call, trace, call.group[static_cast<std::size_t>(r)], cost, call.tags.attention,
                    deps, "linear attention chunk (GEMM)");
  }
  // The state prefix travels rank 0 -> 1 -> ... (backward: the reverse order).
  std::vector<sim::OpId> done = local;
  const bool forward = call.pass == Pass::kForward;
  sim::OpId carried = 0;
  for (int i = 0; i < p; ++i) {
    const int r = forward ? i : p - 1 - i;
    const auto ur = static_cast<std::size_t>(r);
    if (i > 0) {
      const sim::OpId deps[] = {carried, local[ur]};
      const Cost apply = call.cost.memory_bound(3.0 * tokens * heads * d_h * 4.0);
      done[ur] = add_compute(call, trace, call.group[ur], apply, call.tags.attention, deps,
                             "linear attention state update");
    }
    if (i + 1 < p) {
      const int next = forward ? r + 1 : r - 1;
      const sim::OpId deps[] = {done[ur]};
      carried =
          emit_send(trace, call.layout, call.group[ur], call.group[static_cast<std::size_t>(next)],
                    state_bytes, call.tags.attention_comm, deps);
    }
  }
  return done;
}

}  // namespace

std::vector<TokenSet> RingAttention::shard(std::int64_t tokens, int ranks, int rank) const {
  switch (layout_) {
    case RingLayout::kContiguous: {
      const std::int64_t l = tokens / ranks;
      return {TokenSet{rank * l, 1, l}};
    }
    case RingLayout::kZigzag: {
      const std::int64_t c = tokens / (2 * std::int64_t{ranks});
      return {TokenSet{rank * c, 1, c}, TokenSet{(2 * std::int64_t{ranks} - 1 - rank) * c, 1, c}};
    }
    case RingLayout::kStriped:
      return {TokenSet{rank, ranks, tokens / ranks}};
  }
  return {};
}

void RingAttention::check(const Workload& work, const Degrees& degrees) const {
  const std::int64_t unit =
      layout_ == RingLayout::kZigzag ? 2 * std::int64_t{degrees.cp} : std::int64_t{degrees.cp};
  if (work.phase != Phase::kDecode && work.sequence_length % unit != 0) {
    node_.child("strategy")
        .fail(std::string("a sequence length divisible by ") +
                  (layout_ == RingLayout::kZigzag ? "2 x " : "") + "the ring degree (" +
                  std::to_string(degrees.cp) + ") for " + layout_name(layout_),
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
}

std::vector<TokenSet> RingAttention::keys_of_steps(std::int64_t tokens, int ranks, int rank,
                                                   int s_begin, int s_end) const {
  // Steps s in [s_begin, s_end) bring the blocks of ranks (rank - s) mod P, a cyclic range
  // of ranks [rank - s_end + 1, rank - s_begin]; split it where it wraps.
  std::vector<std::pair<int, int>> ranges;  // [first, last] rank, inclusive
  const int last = ((rank - s_begin) % ranks + ranks) % ranks;
  const int first = ((rank - s_end + 1) % ranks + ranks) % ranks;
  if (first <= last) {
    ranges.emplace_back(first, last);
  } else {
    ranges.emplace_back(first, ranks - 1);
    ranges.emplace_back(0, last);
  }
  std::vector<TokenSet> out;
  switch (layout_) {
    case RingLayout::kContiguous: {
      const std::int64_t l = tokens / ranks;
      for (const auto& [a, b] : ranges) {
        out.push_back(TokenSet{a * l, 1, (b - a + 1) * l});
      }
      return out;
    }
    case RingLayout::kZigzag: {
      const std::int64_t c = tokens / (2 * std::int64_t{ranks});
      const std::int64_t p2 = 2 * std::int64_t{ranks};
      for (const auto& [a, b] : ranges) {
        out.push_back(TokenSet{a * c, 1, (b - a + 1) * c});
        out.push_back(TokenSet{(p2 - 1 - b) * c, 1, (b - a + 1) * c});
      }
      return out;
    }
    case RingLayout::kStriped:
      for (int s = s_begin; s < s_end; ++s) {
        const std::vector<TokenSet> one =
            shard(tokens, ranks, ((rank - s) % ranks + ranks) % ranks);
        out.insert(out.end(), one.begin(), one.end());
      }
      return out;
  }
  return out;
}

std::vector<sim::OpId> RingAttention::emit_attention(const AttentionCall& call,
                                                     sim::Trace& trace) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  if (work.attention.kind == AttentionKind::kLinear) {
    return emit_linear(call, trace);
  }
  const double block_bytes = kv_block_bytes(work, call);
  const double tokens = static_cast<double>(work.sequence_length) / p * call.sequences;
  const double heads = call.head_end - call.head_begin;
  const Cost merge = call.cost.memory_bound(3.0 * tokens * heads * work.model.head_dim * 4.0);
  const bool backward = call.pass == Pass::kBackward;
  const int macro = std::min(p, kMaxRingSteps);
  const auto at = [p](int r) { return static_cast<std::size_t>(((r % p) + p) % p); };

  std::vector<std::vector<TokenSet>> shards;
  shards.reserve(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    shards.push_back(shard(work.sequence_length, p, r));
  }
  // What step c of rank r waits for: its previous kernel and the block it receives (one op
  // at the start). No join ops: each op names both dependencies directly.
  std::vector<std::array<sim::OpId, 2>> begin(static_cast<std::size_t>(p));
  std::vector<std::size_t> begin_size(static_cast<std::size_t>(p), 1);
  for (int r = 0; r < p; ++r) {
    begin[at(r)][0] = call.ready[at(r)];
  }
  std::vector<sim::OpId> kernel(call.ready.begin(), call.ready.end());
  std::vector<sim::OpId> dkv_in(static_cast<std::size_t>(p));
  std::vector<sim::OpId> dkv_out(static_cast<std::size_t>(p));
  for (int c = 0; c < macro; ++c) {
    // Macro-step c: ring steps [s0, s1), an even share of the P steps.
    const int s0 = static_cast<int>(std::int64_t{c} * p / macro);
    const int s1 = static_cast<int>(std::int64_t{c + 1} * p / macro);
    const int steps = s1 - s0;
    const int sends = std::min(s1, p - 1) - s0;  // the last step forwards nothing
    std::vector<sim::OpId> kv_next(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
      const std::size_t ur = at(r);
      const std::span<const sim::OpId> deps(begin[ur].data(), begin_size[ur]);
      if (sends > 0) {
        kv_next[at(r + 1)] = emit_send(trace, call.layout, call.group[ur], call.group[at(r + 1)],
                                       block_bytes * sends, call.tags.attention_comm, deps, sends);
      }
      BlockWork block;
      if (steps == 1) {
        block = block_work(work, call.pass, call.head_begin, call.head_end, shards[ur],
                           shards[at(r - s0)]);
      } else {
        // The work of every step in the chunk, counted exactly over the union of their
        // blocks; kernels keep the tile shape of one step.
        block = block_work(work, call.pass, call.head_begin, call.head_end, shards[ur],
                           keys_of_steps(work.sequence_length, p, r, s0, s1));
        for (const int s : {s1 - 1, s0}) {
          const BlockWork one = block_work(work, call.pass, call.head_begin, call.head_end,
                                           shards[ur], shards[at(r - s)]);
          if (one.mask.pairs > 0) {
            block.mask.tile_q = one.mask.tile_q;
            block.mask.tile_k = one.mask.tile_k;
          }
        }
      }
      if (block.mask.pairs > 0) {
        // The kernel and its online-softmax merges (one per step after the first) as one op.
        const int merges = s0 == 0 ? steps - 1 : steps;
        call.notes.note(merge, "online-softmax merge");
        kernel[ur] = add_attention(call, trace, call.group[ur], block, deps,
                                   sim::Time::from_s(merge.time.seconds() * merges));
      }
      if (backward) {
        // The chunk's dK/dV accumulators arrive from rank r-1 (sent at the previous
        // step), take this rank's contribution and move on to rank r+1.
        const sim::OpId dkv_deps[] = {kernel[ur], c > 0 ? dkv_in[ur] : kernel[ur]};
        dkv_out[ur] = emit_send(trace, call.layout, call.group[ur], call.group[at(r + 1)],
                                block_bytes * steps, call.tags.attention_comm, dkv_deps, steps);
      }
    }
    if (backward) {
      for (int r = 0; r < p; ++r) {
        dkv_in[at(r + 1)] = dkv_out[at(r)];
      }
    }
    for (int r = 0; r < p; ++r) {
      const std::size_t ur = at(r);
      begin[ur] = {kernel[ur], kv_next[ur]};
      begin_size[ur] = sends > 0 ? 2 : 1;
    }
  }
  std::vector<sim::OpId> out(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    const std::size_t ur = at(r);
    if (backward) {
      const sim::OpId deps[] = {kernel[ur], dkv_in[ur]};
      out[ur] = trace.delay(sim::Time{}, call.tags.marker, deps);
    } else {
      out[ur] = kernel[ur];
    }
  }
  return out;
}

AttentionMemory RingAttention::memory(const Workload& work, const Degrees& degrees) const {
  const double tokens = static_cast<double>(work.sequence_length) / degrees.cp;
  const double heads = static_cast<double>(work.model.heads) / degrees.tp;
  const double kv_heads = kv_heads_per_rank(work, degrees.tp);
  const double d_h = work.model.head_dim;
  const double block = 2.0 * tokens * kv_heads * d_h * work.model.dtype_bytes;
  AttentionMemory m;
  if (work.attention.kind == AttentionKind::kLinear) {
    m.workspace = 2.0 * heads * d_h * d_h * 4.0;
    return m;
  }
  const double fp32_out = tokens * heads * d_h * 4.0;
  // Forward: two K/V buffers + fp32 output; backward: also two dK/dV buffers + fp32 dQ.
  m.workspace = work.has_backward() ? 4.0 * block + 2.0 * fp32_out : 2.0 * block + fp32_out;
  return m;
}

std::unique_ptr<Strategy> make_ring(const config::Node& parallelism) {
  return std::make_unique<RingAttention>(RingLayout::kContiguous, parallelism);
}

std::unique_ptr<Strategy> make_zigzag_ring(const config::Node& parallelism) {
  return std::make_unique<RingAttention>(RingLayout::kZigzag, parallelism);
}

std::unique_ptr<Strategy> make_striped_ring(const config::Node& parallelism) {
  return std::make_unique<RingAttention>(RingLayout::kStriped, parallelism);
}

}  // namespace attnsim::models
