// SPDX-License-Identifier: Apache-2.0
// Pieces every strategy uses: heads per rank, attention blocks priced from the mask and the
// cost model, compute ops on a GPU's compute stream, and the collective emitter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "models/attention/mask.h"
#include "models/collectives/collective.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

/// Query heads a tensor-parallel rank holds: h / tp.
int heads_per_tp_rank(const Workload& work, const Degrees& degrees);

/// One attention kernel's work: queries in `q` against keys in `k` (each a union of token
/// sets) on heads [head_begin, head_end).
struct BlockWork {
  double flops = 0;  // forward 4·pairs·d_h, backward 2.5x (FlashAttention-2 paper 4.1)
  MaskBlock mask;    // summed over the set pairs; tile shape pair-weighted
};

BlockWork block_work(const Workload& work, Pass pass, int head_begin, int head_end,
                     std::span<const TokenSet> q, std::span<const TokenSet> k);

/// Adds a compute op of `cost` on `gpu`'s compute stream after `deps`, noting extrapolation.
sim::OpId add_compute(const AttentionCall& call, sim::Trace& trace, std::uint32_t gpu,
                      const Cost& cost, sim::TagId tag, std::span<const sim::OpId> deps,
                      std::string_view what);

/// Prices and adds one attention kernel, `extra` longer (work folded into the same op), and
/// adds its FLOPs to call.attention_flops; with no kept pair, returns a zero-length join of `deps`
/// (a rank with nothing to do skips the kernel, as ring-flash-attention does).
sim::OpId add_attention(const AttentionCall& call, sim::Trace& trace, std::uint32_t gpu,
                        const BlockWork& block, std::span<const sim::OpId> deps,
                        sim::Time extra = {});

/// Emits collective `c` of nccl-tests size `bytes` over `ranks` as NCCL would run it, after
/// `deps`; returns its end. A group of one GPU costs nothing (a join of `deps`).
sim::OpId add_collective(const AttentionCall& call, sim::Trace& trace, Collective c,
                         std::span<const std::uint32_t> ranks, double bytes, sim::TagId tag,
                         std::span<const sim::OpId> deps);

/// All-to-alls of nccl-tests sizes `sizes`, in order, inside each group of `group_size`
/// consecutive cp ranks of `call` (ranks g·group_size .. g·group_size + group_size-1: the
/// Ulysses groups of usp and double_ring, the head groups of hierarchical, all of ulysses).
/// A group starts once every member's `state` op is done; afterwards every member's `state`
/// is its group's last all-to-all.
void all_to_all_in_groups(const AttentionCall& call, sim::Trace& trace, int group_size,
                          std::span<const double> sizes, std::vector<sim::OpId>& state);

/// As above, for callers outside a strategy (models/step.cpp). A collective that no measured
/// table of the profile covers (collectives/correction.h: another GPU count, more than one
/// node, a size beyond the table) is recorded in `notes` with what priced it: "<collective>
/// over N GPUs[ on M nodes] (collective model)", or, past a table's sizes where its fitted
/// tail applies, "<collective> over N GPUs (alpha-beta fit of the measured ALGO/PROTO
/// sizes)".
sim::OpId add_collective(const Layout& layout, sim::Trace& trace, Collective c,
                         std::span<const std::uint32_t> ranks, double bytes, sim::TagId tag,
                         sim::TagId marker, std::span<const sim::OpId> deps, CostNotes& notes);

/// For a strategy that shards the flattened sequence (ring, allgather_kv, usp, ...): throws
/// config::InputError at parallelism's "strategy" when the attention is spatial_temporal, whose
/// temporal attention such a layout would have to assemble from every shard.
void reject_spatial_temporal(const config::Node& parallelism, const Workload& work);

/// The scenario's name of an attention kind ("dilated"), for messages.
const char* attention_kind_name(AttentionKind kind);

}  // namespace attnsim::models
