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

namespace {

/// A segment ring's span: the longest segment (at most the sequence) or one shard of
/// `shard` tokens, whichever is longer.
std::int64_t segment_span(const Workload& work, std::int64_t shard) {
  std::int64_t span = shard;
  for (const std::int64_t w : work.attention.segment_lengths) {
    span = std::max(span, std::min(w, work.sequence_length));
  }
  return span;
}

}  // namespace

int RingAttention::ring_size(const Workload& work, int ranks) const {
  if (scope_ == RingScope::kSequence || ranks <= 1) {
    return ranks;
  }
  const std::int64_t l = work.sequence_length / ranks;
  return static_cast<int>(segment_span(work, l) / l);
}

void RingAttention::check(const Workload& work, const Degrees& degrees) const {
  reject_spatial_temporal(node_, work);
  if (scope_ == RingScope::kSegment && work.phase != Phase::kDecode) {
    if (work.attention.kind != AttentionKind::kDilated) {
      node_.child("ring_scope")
          .fail("\"sequence\" (segment rings need dilated attention)",
                "\"segment\" with /attention/kind = " +
                    std::string(attention_kind_name(work.attention.kind)));
    }
    const std::int64_t p = degrees.cp;
    const std::int64_t l = work.sequence_length / p;
    const std::int64_t span = segment_span(work, l);
    bool aligned = l > 0 && work.sequence_length % p == 0 && span % l == 0 && p % (span / l) == 0;
    for (const std::int64_t w : work.attention.segment_lengths) {
      aligned = aligned && span % std::min(w, work.sequence_length) == 0;
    }
    if (!aligned) {
      node_.child("ring_scope")
          .fail(
              "segments that tile whole spans of shards (every segment length dividing the "
              "span, the span a whole number of the " +
                  std::to_string(l) +
                  "-token shards, and that number dividing the ring "
                  "degree " +
                  std::to_string(p) + ")",
              "\"segment\" with a span of " + std::to_string(span) + " tokens");
    }
  }
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
                                                   int s_begin, int s_end, int ring) const {
  // Steps s in [s_begin, s_end) bring the blocks of ranks base + (rank - base - s) mod g, a
  // cyclic range of the ring's ranks; split it where it wraps.
  const int g = ring > 0 ? ring : ranks;
  const int base = rank - rank % g;
  const int pos = rank - base;
  std::vector<std::pair<int, int>> ranges;  // [first, last] rank, inclusive
  const int last = base + ((pos - s_begin) % g + g) % g;
  const int first = base + ((pos - s_end + 1) % g + g) % g;
  if (first <= last) {
    ranges.emplace_back(first, last);
  } else {
    ranges.emplace_back(first, base + g - 1);
    ranges.emplace_back(base, last);
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
        const std::vector<TokenSet> one = shard(tokens, ranks, base + ((pos - s) % g + g) % g);
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
  const int g = ring_size(work, p);  // ranks per ring
  const int macro = std::min(g, kMaxRingSteps);
  const auto at = [p](int r) { return static_cast<std::size_t>(((r % p) + p) % p); };
  // The rank `k` places after `r` in r's ring.
  const auto ahead = [g](int r, int k) {
    const int base = r - r % g;
    const int rank = base + ((r - base + k) % g + g) % g;
    return static_cast<std::size_t>(rank);
  };

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
  // A striped ring whose steps split evenly gathers every macro-th step (header).
  const bool strided = layout_ == RingLayout::kStriped && g > macro && g % macro == 0;
  for (int c = 0; c < macro; ++c) {
    // Macro-step c: ring steps [s0, s1), an even share of the g steps; strided: the steps
    // s0 = c, c + macro, ..., s_last.
    const int s0 = strided ? c : static_cast<int>(std::int64_t{c} * g / macro);
    const int s1 = strided ? g - macro + c + 1 : static_cast<int>(std::int64_t{c + 1} * g / macro);
    const int steps = strided ? g / macro : s1 - s0;
    const int s_last = s1 - 1;
    // The last ring step, g-1, forwards nothing; it is in the last macro-step either way.
    const int sends = c == macro - 1 ? steps - 1 : steps;
    std::vector<sim::OpId> kv_next(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
      const std::size_t ur = at(r);
      const std::span<const sim::OpId> deps(begin[ur].data(), begin_size[ur]);
      if (sends > 0) {
        kv_next[ahead(r, 1)] =
            emit_send(trace, call.layout, call.group[ur], call.group[ahead(r, 1)],
                      block_bytes * sends, call.tags.attention_comm, deps, sends);
      }
      BlockWork block;
      if (steps == 1) {
        block = block_work(work, call.pass, call.head_begin, call.head_end, shards[ur],
                           shards[ahead(r, -s0)]);
      } else {
        // The work of every step in the chunk, counted exactly over the union of their
        // blocks; kernels keep the tile shape of one step.
        block = block_work(
            work, call.pass, call.head_begin, call.head_end, shards[ur],
            strided ? std::vector<TokenSet>{TokenSet{((r - c) % macro + macro) % macro, macro,
                                                     work.sequence_length / macro}}
                    : keys_of_steps(work.sequence_length, p, r, s0, s1, g));
        for (const int s : {s_last, s0}) {
          const BlockWork one = block_work(work, call.pass, call.head_begin, call.head_end,
                                           shards[ur], shards[ahead(r, -s)]);
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
        dkv_out[ur] =
            g > 1 ? emit_send(trace, call.layout, call.group[ur], call.group[ahead(r, 1)],
                              block_bytes * steps, call.tags.attention_comm, dkv_deps, steps)
                  : kernel[ur];
      }
    }
    if (backward) {
      for (int r = 0; r < p; ++r) {
        dkv_in[ahead(r, 1)] = dkv_out[at(r)];
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

RingLayout read_ring_layout(const config::Node& parallelism) {
  const std::string layout = parallelism.string_or("ring_layout", "zigzag");
  RingLayout l = RingLayout::kZigzag;
  if (layout == "contiguous") {
    l = RingLayout::kContiguous;
  } else if (layout == "striped") {
    l = RingLayout::kStriped;
  } else if (layout != "zigzag") {
    const std::vector<std::string> names = {"contiguous", "striped", "zigzag"};
    parallelism.one_of("ring_layout", names);
  }
  return l;
}

std::unique_ptr<Strategy> make_ring(const config::Node& parallelism) {
  const std::vector<std::string> scopes = {"segment", "sequence"};
  const RingScope scope =
      parallelism.has("ring_scope") && parallelism.one_of("ring_scope", scopes) == "segment"
          ? RingScope::kSegment
          : RingScope::kSequence;
  return std::make_unique<RingAttention>(RingLayout::kContiguous, parallelism, scope);
}

std::unique_ptr<Strategy> make_zigzag_ring(const config::Node& parallelism) {
  return std::make_unique<RingAttention>(RingLayout::kZigzag, parallelism);
}

std::unique_ptr<Strategy> make_striped_ring(const config::Node& parallelism) {
  return std::make_unique<RingAttention>(RingLayout::kStriped, parallelism);
}

std::vector<CommGroup> RingAttention::comm_groups(const Workload& work,
                                                  const Degrees& degrees) const {
  const int g = ring_size(work, degrees.cp);
  if (g < 2) {
    return {};
  }
  return {CommGroup{g, 1, false, g == 2 ? 1 : 2}};  // send to r+1, receive from r-1
}

}  // namespace attnsim::models
