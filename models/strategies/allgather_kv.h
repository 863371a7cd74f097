// SPDX-License-Identifier: Apache-2.0
// All-gather K/V context parallelism (Llama 3; TransformerEngine cp_comm_type "all_gather";
// ring-flash-attention's llama3 functions), attention.md 2.5. Ranks hold the zigzag layout
// (chunks i and 2P-1-i, so causal work is balanced); forward all-gathers K and V over the
// P = cp ranks and runs local queries against the whole sequence; backward all-gathers K
// and V again (only the local chunk is kept), runs the backward kernel and reduce-scatters
// dK and dV. The collectives are on the critical path (no overlap).
//
// a = KV heads per tensor-parallel rank, nccl-tests sizes (whole gathered buffer):
//   forward   all_gather(K), all_gather(V)       N·a·d_h·B each
//   backward  the same, then reduce_scatter(dK), reduce_scatter(dV), N·a·d_h·B each
// Per-GPU bytes: forward 2·(P-1)/P·N·a·d_h·B = 2g(P-1)/P·S; backward twice that.
// Memory beyond the layer's activations: the gathered K and V, 2·N·a·d_h·B (backward adds
// the full dK, dV before the reduce-scatter).
// Constraints: N divisible by 2P.
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class AllGatherKvAttention : public Strategy {
 public:
  explicit AllGatherKvAttention(config::Node parallelism) : node_(std::move(parallelism)) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;

 private:
  config::Node node_;
};

std::unique_ptr<Strategy> make_allgather_kv(const config::Node& parallelism);

}  // namespace attnsim::models
