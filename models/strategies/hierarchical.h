// SPDX-License-Identifier: Apache-2.0
// Hierarchical attention with compressed remote context: the seed roadmap's tiered plan
// (attention.md 1.1, 2.11; DarcStar-Solutions-Tech/dilated-attention-pytorch:analysis/
// unlimited_gpu_technical_proposal.py). APPROXIMATE attention: queries see their own shard
// exactly and every other shard only through rho-times compressed summary rows plus G global
// tokens, so its results are not comparable with exact strategies (notes() says so). No
// published method matches it; it is modelled parametrically as attention.md 2.11 suggests.
//
// Grid: cp = P_h x S. Consecutive cp ranks form a head group (tier 1, head parallel inside a
// node: P_h = head_degree ranks); the S head groups hold contiguous shards of N/S tokens
// (tier 2). cp rank c = s·P_h + j: shard s, head slice j (h_r/P_h heads, h_r = heads per
// tensor-parallel rank). Outside attention the layer stays sequence parallel (N/cp tokens per
// GPU, as every context-parallel strategy; step.h cannot split weights over P_h only), so
// tier 1 is realised as Ulysses does it: an all-to-all inside the head group.
//
// Forward, per layer, rank (s, j):
//   1. all-to-all of Q, K, V inside the head group (sequence to heads; ulysses.h)
//   2. local attention: the attention kind's own mask on the N/S shard tokens, heads slice j
//      (mask_block with q = k = the shard)
//   3. compression of the shard's K, V to (N/S)/rho summary rows per head: memory-bound,
//      reads 2·(N/S)·a·d_h·B, writes 2·(N/S/rho)·a·d_h·B
//   4. all-gather over the S ranks with slice j of each rank's summary rows and of its G/S
//      global tokens (the G global tokens are spread evenly over the shards and all-gathered
//      with the summaries, not broadcast, so every rank sends the same bytes):
//      per-rank buffer 2·((N/S)/rho + G/S)·a·d_h·B, nccl-tests size 2·(N/rho + G)·a·d_h·B
//   5. remote attention of the N/S local queries against K_r = (S-1)·N/(S·rho) + G remote
//      keys (S > 1): dense pairs (N/S)·K_r per head, priced by cost.attention at tile
//      (N/S) x K_r (a causal model would see only earlier shards' summaries, about half;
//      priced dense, an upper bound), then an online-softmax merge with the local output
//   6. all-to-all of O back.
// Backward mirrors it: all-to-all of dO, remote and local attention backward (2.5x),
// reduce-scatter of the summary rows' gradients over the S ranks (same size as step 4),
// decompression gradient (memory-bound, the reverse of step 3), all-to-all of dQ, dK, dV.
//
// Per-GPU bytes per pass (L = N/cp, d_h, B bytes per element, a' = max(h_kv,r, P_h) KV heads
// around the all-to-all, a = a'/P_h = max(1, h_kv,r/P_h) KV heads per slice):
//   all-to-alls   (2·h_r + 2·a')·L·d_h·B·(P_h-1)/P_h                 (ulysses.h on P_h ranks)
//   summaries     (S-1)/S · 2·(N/rho)·a·d_h·B                          (all-gather / red.-scat.)
//   global        (S-1)/S · 2·G·a·d_h·B
// so doubling rho halves the summary term; the global term does not depend on rho.
// FLOPs per rank: local as the mask; remote 4·(N/S)·K_r·(h_r/P_h)·d_h forward, 2.5x backward.
// Worked example (Llama-3-8B attention, h = 32, h_kv = 8, d_h = 128, bf16, N = 64K, cp = 8
// = 2 x 4, rho = 8, G = 1024): a = 4, summaries 3/4·2·8192·4·256 = 12.6 MB, global
// 3/4·2·1024·4·256 = 1.6 MB, all-to-alls (64 + 16)·8192·256/2 = 83.9 MB per pass.
// Memory: all-to-all staging 2·(h_r + 2·a')·L·d_h·B plus the gathered summaries and global
// tokens 2·(N/rho + G)·a·d_h·B (workspace); training keeps those gathered rows for backward
// (activations, per layer).
// Parameters: head_degree P_h (default: the largest divisor of cp that divides h_r and is at
// most 8), compression_ratio rho (a number >= 1, default 8), global_tokens G (an integer >= 0,
// default 1024, the seed's figure). Constraints: P_h | cp, P_h | h_r, h_kv,r and P_h divide
// one another (ulysses.h), N divisible by cp, attention kind not "linear", a sequence
// (not decode).
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class HierarchicalAttention : public Strategy {
 public:
  HierarchicalAttention(config::Node parallelism, int head_degree, double compression_ratio,
                        std::int64_t global_tokens)
      : node_(std::move(parallelism)),
        head_degree_(head_degree),
        rho_(compression_ratio),
        global_(global_tokens) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;
  std::map<std::string, std::int64_t> own_degrees(const Workload& work,
                                                  const Degrees& degrees) const override;
  std::vector<std::string> notes() const override;

  /// P_h for `degrees` and the query heads per tensor-parallel rank.
  int head_degree(const Workload& work, const Degrees& degrees) const;

 private:
  config::Node node_;
  int head_degree_ = 0;  // 0 = default
  double rho_ = 8;
  std::int64_t global_ = 1024;
};

std::unique_ptr<Strategy> make_hierarchical(const config::Node& parallelism);

}  // namespace attnsim::models
