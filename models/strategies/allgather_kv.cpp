// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/allgather_kv.h"

#include <string>

#include "models/strategies/common.h"
#include "models/strategies/ring.h"

namespace attnsim::models {

void AllGatherKvAttention::check(const Workload& work, const Degrees& degrees) const {
  reject_spatial_temporal(node_, work);
  if (work.phase != Phase::kDecode && work.sequence_length % (2 * std::int64_t{degrees.cp}) != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by 2 x the context-parallel degree (" +
                  std::to_string(degrees.cp) + ") for allgather_kv",
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
}

std::vector<sim::OpId> AllGatherKvAttention::emit_attention(const AttentionCall& call,
                                                            sim::Trace& trace) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int heads = call.head_end - call.head_begin;
  const double kv = kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads);
  const double gathered = static_cast<double>(work.sequence_length) * kv * work.model.head_dim *
                          work.model.dtype_bytes * call.sequences;  // N·a·d_h·B
  sim::OpId last = trace.delay(sim::Time{}, call.tags.marker, call.ready);
  const auto collective = [&](Collective c) {
    const sim::OpId deps[] = {last};
    last = add_collective(call, trace, c, call.group, gathered, call.tags.attention_comm, deps);
  };
  collective(Collective::kAllGather);
  collective(Collective::kAllGather);
  const RingAttention zigzag(RingLayout::kZigzag, node_);
  const std::vector<TokenSet> all = {TokenSet{0, 1, work.sequence_length}};
  std::vector<sim::OpId> kernels;
  for (int r = 0; r < p; ++r) {
    const BlockWork block = block_work(work, call.pass, call.head_begin, call.head_end,
                                       zigzag.shard(work.sequence_length, p, r), all);
    const sim::OpId deps[] = {last};
    kernels.push_back(
        add_attention(call, trace, call.group[static_cast<std::size_t>(r)], block, deps));
  }
  if (call.pass == Pass::kForward) {
    return kernels;
  }
  last = trace.delay(sim::Time{}, call.tags.marker, kernels);
  collective(Collective::kReduceScatter);
  collective(Collective::kReduceScatter);
  return std::vector<sim::OpId>(static_cast<std::size_t>(p), last);
}

AttentionMemory AllGatherKvAttention::memory(const Workload& work, const Degrees& degrees) const {
  const double full = 2.0 * static_cast<double>(work.sequence_length) *
                      kv_heads_per_rank(work, degrees.tp) * work.model.head_dim *
                      work.model.dtype_bytes;
  AttentionMemory m;
  m.workspace = work.has_backward() ? 2.0 * full : full;
  return m;
}

std::unique_ptr<Strategy> make_allgather_kv(const config::Node& parallelism) {
  return std::make_unique<AllGatherKvAttention>(parallelism);
}

std::vector<CommGroup> AllGatherKvAttention::comm_groups(const Workload& work,
                                                         const Degrees& degrees) const {
  (void)work;
  if (degrees.cp < 2) {
    return {};
  }
  return {CommGroup{degrees.cp, 1, true, 0}};  // all-gather, reduce-scatter
}

}  // namespace attnsim::models
