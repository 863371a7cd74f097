// SPDX-License-Identifier: Apache-2.0
// Dilation-aware Dynamic Sequence Parallelism (attention.md 2.8, 2.10; the seed roadmap's
// "dilation-aware DSP, 2 all-to-alls per switch"): DSP's idea (NUS-HPC-AI-Lab/VideoSys
// docs/dsp.md: reshard with one all-to-all when the attention's independent dimension
// changes) applied to LongNet dilated attention with head groups (mask.h kHeadGroups: head
// group i runs only branch (w_i, r_i), offset i mod r_i, so branches are independent
// sub-problems on disjoint heads).
//
// Layout: contiguous shards, rank c holds tokens [c·L, (c+1)·L), L = N/P (P = cp). Branch i
// has heads H_i = [i·h/k, (i+1)·h/k) (k branches; mask.h's grouping), intersected with this
// tensor-parallel rank's heads; w_i is taken as min(w_i, N), as mask.h cuts segments.
//   w_i <= L   every segment is local: each rank computes its own tokens on H_i
//              (mask_block: q = k = own shard, heads H_i); no communication.
//   w_i > L    a segment spans G_i = w_i/L consecutive ranks. Each rank gathers its
//              sparsified rows (the L/r_i positions of residue i mod r_i) of Q, K, V on H_i and
//              the G_i ranks reshard with ONE all-to-all so that segment rank j gets the
//              whole segment for heads j·|H_i|/G_i .. (j+1)·|H_i|/G_i - 1 of H_i, computes
//              them (mask_block: q = k = the segment's w_i tokens, that head sub-range), and
//              ONE all-to-all returns the output rows.
// Backward mirrors it: all-to-all of dO in, attention backward on the head-sharded Q, K, V,
// O kept from the forward pass, all-to-all of dQ, dK, dV out.
// Dilation (gather and scatter) is a memory-bound pass per branch with r_i > 1 or w_i > L,
// X = the rows' heads: read L·X·d_h·B and write (L/r_i)·X·d_h·B (gather), or the reverse
// (scatter); forward gathers Q, K, V (X = |H_i| + 2·a_i) and scatters O (X = |H_i|),
// backward gathers dO (X = |H_i|) and scatters dQ, dK, dV (X = |H_i| + 2·a_i).
//
// Per-GPU bytes per pass, summed over branches with w_i > L (d_h, B bytes per element, a_i =
// KV heads the branch's query heads use, |H_i|·h_kv/h, replicated up to G_i as Ulysses does
// and at most |H_i|; a_i = |H_i| without GQA):
//   all-to-all in      (G_i-1)/G_i · (|H_i| + 2·a_i)·(L/r_i)·d_h·B      forward (Q, K, V)
//                      (G_i-1)/G_i · |H_i|·(L/r_i)·d_h·B                backward (dO)
//   all-to-all out     (G_i-1)/G_i · |H_i|·(L/r_i)·d_h·B                forward (O)
//                      (G_i-1)/G_i · (|H_i| + 2·a_i)·(L/r_i)·d_h·B      backward (dQ, dK, dV)
//   per pass           Σ_i (G_i-1)/G_i · (2·|H_i| + 2·a_i)·(L/r_i)·d_h·B
// Without GQA that is Σ_i 4·(G_i-1)/G_i·|H_i|·(L/r_i)·d_h·B = Σ_i 4·|H_i|·d_h·B·(w_i-L)·L/
// (w_i·r_i): with L fixed (N and P scaled together) it does not depend on N, and it is 2/G_i
// times LongNet's all-gather of the group's sparsified K, V, 2·(w_i-L)·|H_i|·d_h·B/r_i.
// Worked example (h = 32, d_h = 128, bf16, k = 4 groups of 8 heads, N = 32768, P = 8,
// L = 4096, w = 4096/8192/16384/32768, r = 1/2/4/8): branch 0 is local; branches 1..3 have
// G = 2/4/8 and send 1/2, 3/4, 7/8 of 4·8·(2048, 1024, 512)·256 B: 8.4 + 6.3 + 3.7 MB.
// Overlap: each branch's all-to-all in runs while earlier branches compute (one NCCL stream
// per rank, issued in branch order: all inputs, then all outputs).
// Memory (workspace): per branch the packed send and receive buffers of Q, K, V and O,
// Σ_i 2·(2·|H_i| + 2·a_i)·(L/r_i)·d_h·B (local branches: the gathered copy only, half of
// that); training keeps the head-sharded Q, K, V, O of each branch for backward
// (activations Σ_i (2·|H_i| + 2·a_i)·(L/r_i)·d_h·B per layer) and doubles the staging.
// Constraints: attention kind dilated with heads "head_groups"; N divisible by P; every
// w_i > L a multiple of L; |H_i| (per tensor-parallel rank) divisible by G_i.
//
// Spatial-temporal attention (workload.h kSpatialTemporal, f frames of s tokens): DSP as
// published (VideoSys, OpenSora's STDiT). Rank c holds frames [c·f/P, (c+1)·f/P), all
// their tokens: spatial attention, cross-attention and the MLP are local. Temporal
// attention needs every frame of a position, so ONE all-to-all switches the layout to
// positions [c·s/P, (c+1)·s/P) (all frames), the temporal kernels run locally, and ONE
// all-to-all switches back: 2 per layer and pass, against Ulysses' 8 (Q, K, V in and O
// out around each of the two attentions). VideoSys switches the hidden state x (d per
// token) around the temporal block's projections; attnsim emits the projections before the
// kernel and sends the smaller of x and the tensor the kernel needs, per token and rank
// with h_r heads (tp splits them) and kv_r KV heads:
//   forward    in  min(d, (h_r + 2·kv_r)·d_h)·L·B     out  min(d, h_r·d_h)·L·B
//   backward   in  min(d, h_r·d_h)·L·B (dO)          out  min(d, (h_r + 2·kv_r)·d_h)·L·B
// each an all-to-all over the P ranks ((P-1)/P of it crosses links); with tp = 1 and no
// GQA both are L·d·B, a quarter of Ulysses' (4·L·d·B per attention) per layer and pass.
// Memory: the switch's send and receive buffers (2·L·d·B; training 4·L·d·B).
// Constraints: P divides f and s.
#pragma once

#include <memory>

#include "config/node.h"
#include "models/strategies/strategy.h"

namespace attnsim::models {

class DspAttention : public Strategy {
 public:
  explicit DspAttention(config::Node parallelism) : node_(std::move(parallelism)) {}

  void check(const Workload& work, const Degrees& degrees) const override;
  std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                        sim::Trace& trace) const override;
  AttentionMemory memory(const Workload& work, const Degrees& degrees) const override;
  std::vector<CommGroup> comm_groups(const Workload& work, const Degrees& degrees) const override;

 private:
  config::Node node_;
};

std::unique_ptr<Strategy> make_dsp(const config::Node& parallelism);

}  // namespace attnsim::models
