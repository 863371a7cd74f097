// SPDX-License-Identifier: Apache-2.0
// Double-ring attention (LoongTrain 2D-Attention, attention.md 2.7; arXiv 2406.18485 section
// 4; InternEvo's "2D-Attention" docs): USP's grid (usp.h) of P_u Ulysses ranks by P_r ring
// ranks, whose ring is split into O = P_r/w inner rings of w ranks (one node's ring members)
// joined by an outer ring across nodes.
//
// Pattern per pass: all-to-all of Q, K, V inside each Ulysses group (as usp.h), then on each
// ring group (ring rank ri = o·w + j: inner ring o, position j; the inner rings are
// consecutive ring ranks, so on Megatron's placement an inner ring is the group's GPUs on
// one node) O outer rounds t = 0..O-1 of w inner steps s = 0..w-1. At step (t, s) rank (o, j)
// computes its queries against the K/V block that started on rank (o - t, j - s):
//
//   round t, step 0      rank (o, j) sends the block it starts the round with to (o+1, j),
//                        the same position of the next inner ring (every position sends at
//                        once, so every NIC rail is busy); the block is needed only at
//                        step (t+1, 0), so the hop is hidden behind w kernels
//   step s < w-1         rank (o, j) sends the block it holds to (o, j+1) (NVLink), as
//                        ring.h's step; step s+1 waits for its kernel and that block
//   round t+1, step 0    waits for the kernel of (t, w-1) and the outer block
//
//   node 0: (0,0) -> (0,1) -> (0,2) -> (0,3) -> back to (0,0)   inner ring (NVLink), w-1
//             |        |        |        |                          hops per round
//             v        v        v        v                          outer hops: once per
//   node 1: (1,0) -> (1,1) -> (1,2) -> (1,3) -> back to (1,0)   round, rails 0..3 at once;
//             |        |        |        |                          the last node's go back
//             v        v        v        v   (to node 0)            to node 0
//
// Backward: K/V circulate the same way; each block's dK/dV accumulator follows it around the
// inner ring (sent after each kernel to (o, j+1), as ring.h) and, after the last step of the
// round, leaves rank (o, j) for (o+1, j), which holds the block at the last step of the next
// round and adds it to that ring's own partial sum there (so this hop, too, has w kernels to
// hide behind); after the last round it goes home to the block's owner, (o+1, j+1).
//
// Per-GPU bytes (K/V block 2·(N/P_r)·a·d_h·B, a = KV heads of the rank's slice, ring.h), equal
// to USP's for the same degrees (attention.md 2.7: "bytes equal 2.6"):
//   all-to-alls  (2+2g')·(P_u-1)/(P_u·P)·S per pass                          (usp.h)
//   forward      O·(w-1) inner + (O-1) outer = P_r - 1 blocks = 2g'·(P_r-1)/P·S
//   backward     P_r - 1 K/V blocks + O·(w-1) + O dK/dV blocks = (2·P_r - 1) blocks
// The gain is time, not bytes: inter-node hops use every rail of a node at once and each is
// hidden if w·T_step >= T_hop(inter); a plain ring's inter-node hop is exposed whenever
// T_step < T_hop(inter). w = P_r is usp's ring; w = 1 is a ring of single-GPU hops.
// Long rings: each of the machine's GPUs runs P_r steps, so steps one by one cost O(GPUs·P_r)
// ops. Beyond 2^22 of them (4,096 GPUs with P_r = 512 still run step by step) the O rounds
// run as F = min(O, max(1, 32/w)) fat rounds of about O/F rounds each, as ring.h's
// macro-steps: fat step (f, s) carries the blocks of its k rounds (k messages per hop, inner
// and outer; the last fat round has k-1 outer hops, the same bytes as above), and its kernel
// does their work: the first step's own block exactly and the other blocks as k times the
// middle round's block, scaled per rank so that its total is exact (its queries against every
// key). The fat rounds keep the compute/communication ratio of each step but synchronise the
// ranks every k rounds; measured against step by step (tier 3 of the roadmap at 4,096 GPUs,
// forced): +17 % on the communication-bound dilated forward over datacenter links, -9 %
// without them (-36 % at 16,384 GPUs, 101 s against 157 s); llama3-8b training (256 and 1,024
// GPUs, 1M and 4M tokens) within 1 %.
// Memory: usp.h's, plus the outer block in flight (one more K/V block; in training also one
// more dK/dV block).
// Parameters: ulysses_degree, ring_degree, ring_layout as usp.h; inner_ring w (default: the
// ring group's GPUs on the node of its first GPU, or its gcd with P_r). Constraints: those of
// usp.h; w divides P_r.
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/ring.h"
#include "models/strategies/strategy.h"
#include "models/strategies/usp.h"

namespace attnsim::models {

class DoubleRingAttention : public Strategy {
 public:
  DoubleRingAttention(const config::Node& parallelism, int ulysses_degree, int ring_degree,
                      int inner_ring, RingLayout layout)
      : node_(parallelism),
        usp_(parallelism, ulysses_degree, ring_degree, layout),
        inner_ring_(inner_ring),
        layout_(layout) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;
  /// usp.h's degrees, plus inner_ring when it was given (the default depends on the layout).
  std::map<std::string, std::int64_t> own_degrees(const Workload& work,
                                                  const Degrees& degrees) const override;

  /// The inner ring size w for a ring group (GPUs by ring rank) on `layout`.
  int inner_ring(const Layout& layout, std::span<const std::uint32_t> ring_group) const;

 private:
  config::Node node_;
  UspAttention usp_;
  int inner_ring_ = 0;  // 0 = one node's ring members
  RingLayout layout_;
};

std::unique_ptr<Strategy> make_double_ring(const config::Node& parallelism);

}  // namespace attnsim::models
