// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/common.h"

#include <algorithm>
#include <cmath>

#include "models/collectives/decompose.h"
#include "models/collectives/run.h"

namespace attnsim::models {

int heads_per_tp_rank(const Workload& work, const Degrees& degrees) {
  return work.model.heads / degrees.tp;
}

BlockWork block_work(const Workload& work, Pass pass, int head_begin, int head_end,
                     std::span<const TokenSet> q, std::span<const TokenSet> k) {
  BlockWork out;
  if (work.attention.kind == AttentionKind::kLinear) {
    // No score matrix: the queries' chunk does K^T V and Q·S, 4·d_h² FLOPs per token and
    // head forward (ring.h), whatever keys it is paired with.
    double tokens = 0;
    for (const TokenSet& qs : q) {
      tokens += static_cast<double>(qs.count);
    }
    const double d_h = work.model.head_dim;
    const double forward = 4.0 * tokens * (head_end - head_begin) * d_h * d_h;
    out.flops = pass == Pass::kForward ? forward : 2.0 * forward;
    out.mask.tile_q = tokens;
    out.mask.tile_k = d_h;
    (void)k;
    return out;
  }
  // The tile shape: the pair-weighted geometric mean of the blocks' shapes; while every
  // block so far has the first one's shape, that shape (no logarithms per block).
  double log_q = 0;
  double log_k = 0;
  bool one_shape = true;
  for (const TokenSet& qs : q) {
    for (const TokenSet& ks : k) {
      const MaskBlock m = mask_block(work.attention, work.sequence_length, work.model.heads,
                                     head_begin, head_end, qs, ks);
      if (m.pairs <= 0) {
        continue;
      }
      if (out.mask.pairs == 0) {
        out.mask.tile_q = m.tile_q;
        out.mask.tile_k = m.tile_k;
      } else if (one_shape && (m.tile_q != out.mask.tile_q || m.tile_k != out.mask.tile_k)) {
        one_shape = false;
        log_q = out.mask.pairs * std::log(out.mask.tile_q);
        log_k = out.mask.pairs * std::log(out.mask.tile_k);
      }
      if (!one_shape) {
        log_q += m.pairs * std::log(m.tile_q);
        log_k += m.pairs * std::log(m.tile_k);
      }
      out.mask.pairs += m.pairs;
      out.mask.needed_keys += m.needed_keys;
      out.mask.causal_tiles = out.mask.causal_tiles || m.causal_tiles;
    }
  }
  if (!one_shape) {
    out.mask.tile_q = std::exp(log_q / out.mask.pairs);
    out.mask.tile_k = std::exp(log_k / out.mask.pairs);
  }
  const double forward = 4.0 * out.mask.pairs * work.model.head_dim;  // QK^T and PV
  out.flops = pass == Pass::kForward ? forward : 2.5 * forward;
  return out;
}

sim::OpId add_compute(const AttentionCall& call, sim::Trace& trace, std::uint32_t gpu,
                      const Cost& cost, sim::TagId tag, std::span<const sim::OpId> deps,
                      std::string_view what) {
  call.notes.note(cost, what);
  return trace.compute(gpu, Strategy::kComputeStream, cost.time, tag, deps);
}

sim::OpId add_attention(const AttentionCall& call, sim::Trace& trace, std::uint32_t gpu,
                        const BlockWork& block, std::span<const sim::OpId> deps, sim::Time extra) {
  call.attention_flops[gpu] += block.flops * call.sequences;
  if (call.work.attention.kind == AttentionKind::kLinear) {
    // A chunked linear-attention kernel is batched GEMMs over the heads' d_h x d_h states.
    const auto dh = static_cast<std::int64_t>(call.work.model.head_dim);
    const auto l = static_cast<std::int64_t>(std::max(1.0, block.mask.tile_q * call.sequences));
    const double gemm_flops = 2.0 * static_cast<double>(dh * dh * l);
    Cost cost = call.cost.gemm(dh, dh, l);
    cost.time = sim::Time::from_s(cost.time.seconds() * block.flops * call.sequences / gemm_flops);
    return add_compute(call, trace, gpu, cost, call.tags.attention, deps,
                       "linear attention chunk (GEMM)");
  }
  if (block.mask.pairs <= 0) {
    return trace.delay(sim::Time{}, call.tags.marker, deps);
  }
  // A spatial or temporal axis is block-diagonal attention written as a dilated mask
  // (workload.h axis_attention()); its kernels are dense, so no dilated correction applies.
  const AttentionKind kind =
      call.axis == AttentionAxis::kSequence ? call.work.attention.kind : AttentionKind::kDense;
  Cost cost =
      call.cost.attention(call.pass, block.mask.causal_tiles, call.work.model.head_dim,
                          block.mask.tile_q, block.mask.tile_k, block.flops * call.sequences, kind);
  cost.time += extra;
  return add_compute(
      call, trace, gpu, cost, call.tags.attention, deps,
      call.pass == Pass::kForward ? "attention forward kernel" : "attention backward kernel");
}

sim::OpId add_collective(const Layout& layout, sim::Trace& trace, Collective c,
                         std::span<const std::uint32_t> ranks, double bytes, sim::TagId tag,
                         sim::TagId marker, std::span<const sim::OpId> deps, CostNotes& notes) {
  if (ranks.size() < 2 || bytes <= 0) {
    return trace.delay(sim::Time{}, marker, deps);
  }
  if (const auto lookup = correction_for(layout, c, ranks, bytes); !lookup.calibrated) {
    const int nodes = comm_shape(layout, ranks).nodes;
    std::string what =
        std::string(spec(c).name) + " over " + std::to_string(ranks.size()) + " GPUs";
    if (nodes > 1) {
      what += " on " + std::to_string(nodes) + " nodes";
    }
    switch (lookup.extension) {
      case Corrections::Extension::kOffset:
        what += " (collective model + the offset measured at the largest size)";
        break;
      case Corrections::Extension::kFit:
        what += " (alpha-beta fit of the smallest measured " + std::string(algo_name(lookup.algo)) +
                "/" + std::string(proto_name(lookup.proto)) + " sizes)";
        break;
      case Corrections::Extension::kNone:
        what += " (collective model)";
        break;
    }
    notes.extrapolated.insert(std::move(what));
  }
  const Prediction plan = plan_collective(layout, c, ranks, bytes);
  return emit_collective(trace, layout, c, ranks, bytes, plan, tag, deps);
}

sim::OpId add_collective(const AttentionCall& call, sim::Trace& trace, Collective c,
                         std::span<const std::uint32_t> ranks, double bytes, sim::TagId tag,
                         std::span<const sim::OpId> deps) {
  return add_collective(call.layout, trace, c, ranks, bytes, tag, call.tags.marker, deps,
                        call.notes);
}

void all_to_all_in_groups(const AttentionCall& call, sim::Trace& trace, int group_size,
                          std::span<const double> sizes, std::vector<sim::OpId>& state) {
  const auto size = static_cast<std::size_t>(group_size);
  for (std::size_t first = 0; first < call.group.size(); first += size) {
    const std::span<const std::uint32_t> group = call.group.subspan(first, size);
    const std::span<const sim::OpId> deps(state.data() + first, size);
    sim::OpId last = trace.delay(sim::Time{}, call.tags.marker, deps);
    for (const double bytes : sizes) {
      const sim::OpId d[] = {last};
      last = add_collective(call, trace, Collective::kAllToAll, group, bytes,
                            call.tags.attention_comm, d);
    }
    std::fill_n(state.begin() + static_cast<std::ptrdiff_t>(first), size, last);
  }
}

void reject_spatial_temporal(const config::Node& parallelism, const Workload& work) {
  if (work.attention.kind == AttentionKind::kSpatialTemporal) {
    parallelism.child("strategy")
        .fail("head_parallel, ulysses or dsp for /attention/kind \"spatial_temporal\"");
  }
}

const char* attention_kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kDense:
      return "dense";
    case AttentionKind::kCausal:
      return "causal";
    case AttentionKind::kDilated:
      return "dilated";
    case AttentionKind::kSlidingWindow:
      return "sliding_window";
    case AttentionKind::kLinear:
      return "linear";
    case AttentionKind::kSpatialTemporal:
      return "spatial_temporal";
  }
  return "causal";
}

}  // namespace attnsim::models
