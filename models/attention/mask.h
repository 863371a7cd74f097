// SPDX-License-Identifier: Apache-2.0
// Which (query, key) pairs each attention kind computes, counted exactly over the token sets
// a strategy hands one GPU, and which keys those queries need. Strategies use it to price a
// block of work and to size what must travel; tests compare it with brute-force enumeration.
//
// Masks, for query position q and key position k of one head (positions 0..N-1):
//   dense           every k
//   causal          k <= q
//   sliding_window  q - window < k <= q
//   dilated         per branch i (w_i, r_i) the head runs (see below), with offset o:
//                   q/w_i == k/w_i (same segment) and q ≡ k ≡ o (mod r_i)
//                   [and k <= q when AttentionSpec::causal]
//                   kHeadGroups: heads are split into k = branch-count contiguous groups;
//                   group i runs branch i only, with o = i mod r_i (fkodom's layer; with
//                   h not a multiple of k the first h mod k groups get one extra head).
//                   kAllHeads: every head runs every branch, head j with o = j mod r_i
//                   (microsoft/torchscale); a pair kept by two branches counts twice, as
//                   the kernel computes it twice (torchscale issue #108).
//   linear          no score matrix; not counted here (see cost of linear attention).
//   spatial_temporal  counted per axis: workload.h axis_attention() gives each axis's mask
//                   (block-diagonal segments; pairs_per_head() sums the axes, N·(N/f + f)).
// Positions inside a segment count from the segment start; with w_i a multiple of r_i (the
// parser checks it) that equals the global position mod r_i.
//
// FLOPs of a counted block (attention.md conventions, FlashAttention-2 paper 4.1):
//   forward 4·pairs·d_h (QK^T and PV, 2 FLOPs per multiply-add), backward 2.5 x forward.
#pragma once

#include <cstdint>

#include "models/workload.h"

namespace attnsim::models {

/// Positions start, start + stride, ..., start + (count - 1)·stride of one sequence.
struct TokenSet {
  std::int64_t start = 0;
  std::int64_t stride = 1;
  std::int64_t count = 0;
};

/// A block of attention work: queries of one token set against keys of another, over a range
/// of heads.
struct MaskBlock {
  /// Kept (query, key) pairs summed over the heads.
  double pairs = 0;
  /// Distinct keys at least one of the queries needs, summed over the heads (the rows of K
  /// and of V a GPU must hold to compute the block): what a sparsity-aware strategy sends.
  double needed_keys = 0;
  /// The shape (queries x keys) of the dense sub-problems the kernel runs, used to look up
  /// kernel efficiency; 0 when no pair is kept:
  ///   dense, causal   the block itself: q.count x k.count;
  ///   sliding_window  min(q.count, ceil(window/q.stride)) x min(k.count, ceil(window/k.stride)),
  ///                   the queries and keys one window spans;
  ///   dilated         per (head, branch i, segment) the residue-o queries x residue-o keys of
  ///                   the block inside that segment (w_i/r_i x w_i/r_i for whole sets; L/r_i x
  ///                   w_i/r_i for a shard of L < w_i tokens), combined as geometric means
  ///                   weighted by the pairs each sub-problem keeps.
  double tile_q = 0;
  double tile_k = 0;
  /// Whether those sub-problems carry a causal (triangular) mask: some pair of them is masked
  /// out (causal or sliding window straddling the diagonal or band edge; causal dilated with a
  /// segment where queries and keys interleave). Always false for dense.
  bool causal_tiles = false;
};

/// Counts the block of queries `q` against keys `k` on heads [head_begin, head_end) of a
/// model with `total_heads` heads, in a sequence of `sequence_length` tokens.
///
/// Inputs:  1 <= sequence_length <= 2^31; sets inside [0, sequence_length); 0 <= head_begin <
///          head_end <= total_heads; spec validated (dilated: 1 to 16 branches, equal-length
///          arrays, r_i | w_i, r_i <= 2^31; window >= 1).
/// Output:  exact counts (integers held in doubles, exact below 2^53).
/// Cost:    heads are grouped into classes that behave alike (a head group; for kAllHeads the
///          head index mod lcm(r_i)), so cost does not grow with the head count.
///          dense, causal, sliding_window: O(log N), floor sums over the query index.
///          dilated: per (branch, offset) and per head class, a sum over segments (units of
///          lcm(w_i) for the needed keys of a kAllHeads class) where only the <= 4 units holding
///          an end of either set are done one by one; between them the units repeat with
///          period T = lcm(s_q/gcd(w, s_q), s_k/gcd(w, s_k)) (T = 1 for contiguous sets and for
///          strides dividing w), so a run costs O(min(T, units, points of the sparser set))
///          segment evaluations of O(log N) each. Contiguous 2^30-token blocks and power-of-two
///          strides up to 65536 take well under a millisecond; an odd stride such as 65535 with
///          16 kAllHeads classes takes about 0.1 s.
/// Errors:  kLinear, and any input outside the above, throw std::logic_error (the repo has no
///          ATTNSIM_CHECK yet).
MaskBlock mask_block(const AttentionSpec& spec, std::int64_t sequence_length, int total_heads,
                     int head_begin, int head_end, TokenSet q, TokenSet k);

/// Pairs a full sequence keeps per head, averaged over heads: N² dense, N(N+1)/2 causal,
/// N·Σ w_i/r_i² dilated with kAllHeads and N a multiple of every w_i, N·(N/f + f)
/// spatial_temporal with f frames (both self-attentions). Errors as mask_block.
double pairs_per_head(const AttentionSpec& spec, std::int64_t sequence_length, int total_heads);

}  // namespace attnsim::models
