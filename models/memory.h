// SPDX-License-Identifier: Apache-2.0
// Peak memory per GPU of one step: weights, gradients, optimizer state, activations and the
// strategy's workspace, against the profile's HBM (SPEC section 4's memory_per_gpu_bytes and
// fits_memory).
//
// P_s = parameters of one pipeline stage held by a GPU (layers/pp layers split t ways, plus
// the embedding and output head), B bytes per element, D = the gradient group (dp, times cp
// when the strategy replicates weights over cp):
//   weights    P_s·B                          (/D with ZeRO-3)
//   gradients  P_s·B                          (/D with ZeRO-2 and 3)
//   optimizer  12·P_s (fp32 master, Adam m, v) (/D with ZeRO-1, 2, 3); none when not training
//   ZeRO-2/3   one layer's whole gradients (until reduce-scattered), and under ZeRO-3 two
//              layers' all-gathered weights (FSDP's limit_all_gathers)
// Activations per layer for T tokens of b sequences on a GPU (Korthikanti et al. 2022,
// "Reducing Activation Recomputation", Table 2, with FlashAttention so the 5·a·s²·b score
// term is gone; their 34 counts bytes of 16-bit activations per hidden element, scaled by B/2):
//   sequence parallel    34·T·b·d/t ·B/2
//   without              (10 + 24/t)·T·b·d ·B/2
//   recompute kFull      2·T·b·d ·B/2 per layer (the layer input), plus one layer in full
// held for min(pp, m) micro-batches in flight on the first stage (1F1B). Forward-only
// phases hold one layer's activations. Plus the fp32 logits of the output head,
// 4·T·b·vocab/t, the strategy's attention workspace (strategy.h) and, with sequence
// parallelism (t > 1), the all-gathered full-sequence layer input, T·b·d·B (Megatron-LM's
// global memory buffer; attention.md 2.12). The attention core alone (scope "attention")
// keeps Q, K, V, O and the fp32 log-sum-exp per query and head for each layer.
//
// NCCL's own device buffers ("nccl_buffers"), per communicator the GPU is in: the tensor group
// (t > 1, whole model), the strategy's groups (Strategy::comm_groups), the gradient group
// (training, D > 1) and the pipeline neighbours (pp > 1). From NVIDIA/nccl 2.30.7's source,
// with connections made on first use (NCCL_RUNTIME_CONNECT=1, the default since 2.22):
//   channels     C = nccl_connected_channels() on one node (24 on 8 H100, as NCCL logs),
//                16 across nodes (the published 8-NIC H100 logs); send/recv channels: C rounded up
//                to a power of two (paths.cc), all of them per peer through NVLink on one node,
//                else 2
//   set-up       6 MiB per channel (three 2 MiB structures, channel.cc) + 6 MiB (device comm)
//   ring         C x one send and one receive connection: 12 MiB through NVLink or PCIe
//                (LL 0.5 + LL128 4.7 + Simple 4 MiB, padded to 2 MiB: p2p.cc), 20 MiB through
//                a NIC (net.cc); a ring of n ranks over k nodes crosses nodes at k of its hops
//   tree         multi-node all-reduce: counted as one more ring's connections (an estimate)
//   NVLS         all-reduce with more than 4 GPUs of an NVLS node: 34 MiB + ppn x 16 channels
//                x 2 x 128 KiB x 8 steps (nvls.cc): 290 MiB on 8 H100
//   send/recv    per peer on the same node its channels x 12 MiB; with peers on other
//                nodes a shared network pool, 2 x send/recv channels x 16 x 128 KiB (net.cc)
// The busiest GPU of each group is counted (all its send/recv peers on its node when it has
// that many). NVIDIA/nccl#1685 measured +3.28 GB for an all-to-all on 8 H100 against this
// model's 7 x 32 x 12 MiB = 2.82 GB: the model is 14 % low there.
// Tests: tests/analytic/memory_test.cpp.
#pragma once

#include <map>
#include <string>

#include "models/collectives/layout.h"
#include "models/step.h"
#include "models/strategies/strategy.h"
#include "models/workload.h"

namespace attnsim::models {

struct MemoryEstimate {
  std::map<std::string, double> bytes;  // weights, gradients, optimizer, activations, ...
  double total = 0;
};

/// `layout` places the ranks (GPU g = ((pp_i·dp + dp_i)·cp + cp_i)·tp + tp_i, strategy.h) on
/// nodes for NCCL's buffers.
MemoryEstimate estimate_memory(const Workload& work, const Degrees& degrees,
                               const Strategy& strategy, const StepOptions& options,
                               const Layout& layout);

/// NCCL's device bytes on the busiest GPU of a communicator of `size` ranks, GPU i·stride
/// (header). `collectives`: ring collectives run on it; `all_reduce`: all-reduce too (NVLS or
/// tree); `peers`: distinct send/recv peers of a rank.
double nccl_buffer_bytes(const Layout& layout, int size, std::int64_t stride, bool collectives,
                         bool all_reduce, int peers);

}  // namespace attnsim::models
