// SPDX-License-Identifier: Apache-2.0
// DeepSpeed-Ulysses (attention.md 2.2; microsoft/DeepSpeed:deepspeed/sequence/layer.py): an
// all-to-all turns sequence sharding into head sharding, each rank runs attention for h_r/P
// heads over the whole sequence, and a second all-to-all turns the output back.
//
// P = cp ranks, L = N/P tokens each, h_r = h/tp query heads and a = h_kv/tp KV heads per
// tensor-parallel rank (at least 1), a' = max(a, P) once KV heads are replicated up to P
// (InternEvo / prime-rl KV replication). All-to-alls (nccl-tests size = one rank's buffer):
//   forward  a2a(Q) L·h_r·d_h·B, a2a(K) and a2a(V) L·a'·d_h·B each, then a2a(O) L·h_r·d_h·B
//   backward a2a(dO), then a2a(dQ), a2a(dK), a2a(dV), same sizes
// Per-GPU bytes per pass: (2·h_r + 2·a')·L·d_h·B·(P-1)/P, i.e. (2+2g')(P-1)/P²·S for tp = 1.
// The all-to-alls run in order on NCCL's stream and are not overlapped with compute
// (DeepSpeed's reference implementation).
// Constraints: P divides h_r; P divides a or a divides P; P divides N.
// Memory beyond the layer's activations: all-to-all send and receive staging of the largest
// pass, 2·(h_r + 2a')·L·d_h·B.
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class UlyssesAttention : public Strategy {
 public:
  explicit UlyssesAttention(config::Node parallelism) : node_(std::move(parallelism)) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;

 private:
  config::Node node_;
};

std::unique_ptr<Strategy> make_ulysses(const config::Node& parallelism);

}  // namespace attnsim::models
