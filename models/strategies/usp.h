// SPDX-License-Identifier: Apache-2.0
// USP, unified sequence parallelism (attention.md 2.6; feifeibear/long-context-attention:
// yunchang/hybrid/attn_layer.py; TransformerEngine "a2a+p2p"): the P = cp ranks form a grid
// of P_u Ulysses ranks (inner, consecutive: the fast domain) by P_r ring ranks. Forward:
// all-to-all of Q, K, V inside each Ulysses group (sequence to heads), ring attention over
// each ring group on h_r/P_u heads and N/P_r tokens (zigzag layout by default, as the
// reference's zigzag ring), all-to-all of O back. Backward mirrors it (a2a dO, ring
// backward with dK/dV, a2a dQ, dK, dV).
//
// Per-GPU bytes per pass (tp = 1, g' after KV replication up to P_u):
//   all-to-alls  (2+2g')·(P_u-1)/(P_u·P)·S      (Ulysses, attention.md 2.2, on P_u ranks)
//   ring         2g'·(P_r-1)/P·S forward, ≈ 4g'·(P_r-1)/P·S backward (ring.h on P_r ranks)
// Parameters: ulysses_degree (default: the largest divisor of cp that divides the query
// heads per tensor-parallel rank and is at most 8, one NVLink node of a DGX), ring_degree
// (default cp / ulysses_degree; if both are given their product must be cp), ring_layout
// ("zigzag" default, "contiguous", "striped").
// Memory: the Ulysses staging of P_u plus the ring buffers of P_r.
#pragma once

#include <functional>
#include <memory>

#include "config/node.h"
#include "models/strategies/ring.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class UspAttention : public Strategy {
 public:
  UspAttention(config::Node parallelism, int ulysses_degree, int ring_degree, RingLayout layout)
      : node_(std::move(parallelism)),
        ulysses_degree_(ulysses_degree),
        ring_degree_(ring_degree),
        layout_(layout) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;
  std::map<std::string, std::int64_t> own_degrees(const Workload& work,
                                                  const Degrees& degrees) const override;

  /// Emits one ring over the ranks of a sub-call (one Ulysses index's ring group).
  using RingEmitter = std::function<std::vector<sim::OpId>(const AttentionCall&)>;

  /// The USP pattern with `emit_ring` for the rings: all-to-alls inside each Ulysses group,
  /// a ring per Ulysses index on that index's heads, all-to-alls back (double_ring.h reuses
  /// it with its inner/outer ring).
  std::vector<sim::OpId> emit_grid(const AttentionCall& call, sim::Trace& trace,
                                   const RingEmitter& emit_ring) const;

  /// (P_u, P_r) for `degrees` and the query heads per tensor-parallel rank.
  std::pair<int, int> split(const Workload& work, const Degrees& degrees) const;

 private:
  config::Node node_;
  int ulysses_degree_ = 0;  // 0 = default
  int ring_degree_ = 0;     // 0 = cp / ulysses
  RingLayout layout_;
};

std::unique_ptr<Strategy> make_usp(const config::Node& parallelism);

}  // namespace attnsim::models
