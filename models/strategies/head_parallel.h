// SPDX-License-Identifier: Apache-2.0
// Head parallelism: Megatron tensor parallelism on heads (attention.md 2.1). The P = cp ranks
// join the tensor-parallel group: every projection and MLP weight is split tp·P ways, each
// rank holds the whole sequence for h/(tp·P) heads and runs attention locally with no
// communication of its own. The layer's collectives (models/step.h) then run over tp·P
// ranks: with sequence parallelism all-gather(X) before and reduce-scatter after each of the
// attention and MLP blocks, 2(P-1)/P·S bytes per block and pass; without it one all-reduce.
// Constraints: tp·P divides h (KV heads are replicated once tp·P > h_kv).
// Memory: no attention workspace; activations are the tensor-parallel ones (step.h).
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class HeadParallelAttention : public Strategy {
 public:
  explicit HeadParallelAttention(config::Node parallelism) : node_(std::move(parallelism)) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  Sharding sharding(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;

 private:
  config::Node node_;
};

std::unique_ptr<Strategy> make_head_parallel(const config::Node& parallelism);

}  // namespace attnsim::models
