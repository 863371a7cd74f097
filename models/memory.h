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
// Tests: tests/analytic/memory_test.cpp.
#pragma once

#include <map>
#include <string>

#include "models/step.h"
#include "models/strategies/strategy.h"
#include "models/workload.h"

namespace attnsim::models {

struct MemoryEstimate {
  std::map<std::string, double> bytes;  // weights, gradients, optimizer, activations, ...
  double total = 0;
};

MemoryEstimate estimate_memory(const Workload& work, const Degrees& degrees,
                               const Strategy& strategy, const StepOptions& options);

}  // namespace attnsim::models
