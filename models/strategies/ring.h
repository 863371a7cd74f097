// SPDX-License-Identifier: Apache-2.0
// Ring attention and its load-balanced layouts: `ring` (contiguous shards, Liu et al.),
// `zigzag_ring` (chunks i and 2P-1-i; zhuzilin/ring-flash-attention, Megatron CP, Llama 3)
// and `striped_ring` (token t on rank t mod P; Brandon et al.). attention.md 2.3, 2.4.
//
// Each of the P = cp ranks holds L = N/P tokens of Q, K, V. Forward, step s = 0..P-1: rank r
// computes its queries against the K/V block that started on rank (r - s) mod P while it
// sends the block it holds to rank r+1 (batched isend/irecv, overlapped with the kernel);
// step s+1 starts when both the kernel and the incoming block are done
// (ring_flash_attn's RingComm: send_recv, compute, wait). Blocks whose mask keeps no pair
// (causal plain ring: keys after every query) skip the kernel but still circulate.
// Backward: K/V circulate again (P-1 hops) and each block's dK/dV accumulators travel with
// it, P hops, so every rank ends with its own gradients.
//
// Per-GPU bytes with a = kv heads per rank, d_h, B bytes per element:
//   K/V block      = 2·L·a·d_h·B
//   forward        = (P-1)·block           = 2g·(P-1)/P·S    (S = N·d·B, g = h_kv/h)
//   backward       = (P-1)·block + P·block ≈ 4g·(P-1)/P·S
// Work per step (mask_block over the layouts' token sets): plain causal: rank r computes a
// causal block at s = 0, full blocks while (r - s) >= 0, nothing after, so the last rank runs
// P full blocks and the step is ~2x the balanced ideal; zigzag: every step s > 0 is exactly
// half a block; striped: every step is a causal triangle of L(L+-1)/2 pairs.
// LSE merge of each step's output: a memory-bound pass over the fp32 output and LSE,
// 3·L·h_r·d_h·4 bytes (read partial, read block output, write).
//
// Long rings: with P > kMaxRingSteps (32) the P steps are simulated as 32 macro-steps of
// about P/32 consecutive steps each: a macro-step's kernel does the exact work of its steps
// (pairs counted over the union of their blocks) at the tile shape of one step, and its
// message carries their blocks, paying the per-message latency once per step. Every step of
// a balanced layout (zigzag, striped) has the same compute and bytes, so a macro-step takes
// k x max(compute, transfer) like the k steps it replaces; for the plain causal ring, work
// that alternates with idle steps inside a chunk overlaps slightly better than it would.
// A striped ring with 32 | P gathers its steps by residue instead: macro-step c runs steps
// c, c + 32, c + 64, ..., whose blocks (ranks r - s, s = c mod 32) hold exactly the tokens
// t = r - c (mod 32), one token set, so each macro-step's work is counted with one mask
// evaluation instead of P/32 (O(P) instead of O(P²) evaluations in all). The steps a
// macro-step gathers have the same work (a causal triangle of the same size, and, for dilated
// attention with rates dividing 32, the same residues), so a macro-step still takes k x the
// time of each of its steps, its bytes are the same k blocks, and it holds step P-1 (nothing to
// forward) only when it is the last.
// This keeps a ring of P ranks at O(32·P) ops instead of O(P²).
//
// Segment rings ("ring_scope": "segment", plain ring and dilated attention only): LongNet's
// segments of length w_i attend within themselves, so when every segment length divides a span
// G = max(L, the longest segment) of g = G/L whole shards, the ranks form P/g independent rings
// of g ranks (consecutive shards of one span) and a block never leaves its span: forward bytes
// (g-1)·block instead of (P-1)·block, and none at all when g = 1 (every segment inside a
// shard). The pairs computed are the same (the mask keeps no pair across spans); the default
// "sequence" scope is the one ring over all P ranks that ring-flash-attention runs, every block
// circulating whether or not a rank needs it.
//
// Linear attention (kind "linear") has no K/V blocks to circulate: each rank computes its
// chunk (4·L·h_r·d_h² FLOPs forward: K^T V and Q·S) and the running d_h x d_h state per
// head is passed down the ring, P-1 hops in sequence (LASP's ring of states), h_r·d_h²·B
// bytes each; backward passes the state gradient back the same way.
//
// Memory beyond the layer's own activations (attention.md 2.3): two incoming K/V buffers
// (double buffering) and the fp32 output accumulator; backward adds two dK/dV buffers and
// the fp32 dQ accumulator.
#pragma once

#include <memory>

#include "config/node.h"
#include "models/attention/mask.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

enum class RingLayout { kContiguous, kZigzag, kStriped };
enum class RingScope { kSequence, kSegment };

class RingAttention : public Strategy {
 public:
  RingAttention(RingLayout layout, config::Node parallelism, RingScope scope = RingScope::kSequence)
      : layout_(layout), scope_(scope), node_(std::move(parallelism)) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;

  /// The token sets cp rank `rank` of `ranks` holds in a sequence of `tokens`.
  std::vector<TokenSet> shard(std::int64_t tokens, int ranks, int rank) const;

  /// The keys rank `rank` meets in ring steps [s_begin, s_end) of a ring of `ring` ranks
  /// (consecutive ranks from a multiple of `ring`; 0 = all `ranks`): the union of those steps'
  /// blocks, as few token sets as the layout allows.
  std::vector<TokenSet> keys_of_steps(std::int64_t tokens, int ranks, int rank, int s_begin,
                                      int s_end, int ring = 0) const;

  /// Ranks per ring: `ranks` for the sequence scope, g = G/L for the segment scope (header).
  /// Precondition: check() accepted the workload.
  int ring_size(const Workload& work, int ranks) const;

  /// Rings of more ranks are simulated as this many macro-steps (see the header comment).
  static constexpr int kMaxRingSteps = 32;

 private:
  RingLayout layout_;
  RingScope scope_;
  config::Node node_;
};

/// The "ring_layout" of a parallelism section that nests a ring (usp, double_ring): "zigzag"
/// (the default), "contiguous" or "striped"; another name is a located error listing them.
RingLayout read_ring_layout(const config::Node& parallelism);

std::unique_ptr<Strategy> make_ring(const config::Node& parallelism);
std::unique_ptr<Strategy> make_zigzag_ring(const config::Node& parallelism);
std::unique_ptr<Strategy> make_striped_ring(const config::Node& parallelism);

}  // namespace attnsim::models
