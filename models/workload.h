// SPDX-License-Identifier: Apache-2.0
// What one simulated step computes: the transformer's shape, the attention kind and the
// workload phase (SPEC section 3), as plain validated structs. cli/ reads them from a
// scenario; models/ prices and emits them. Symbols follow ../shared/reference/attention.md:
// N tokens, h and h_kv heads, d_h head dim, d = h·d_h hidden, B bytes per element.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnsim::models {

/// A decoder-only transformer's shape.
struct ModelShape {
  std::string name = "custom";  // preset name, or "custom"
  int layers = 0;
  int hidden = 0;  // d
  int heads = 0;   // h
  int kv_heads = 0;
  int head_dim = 0;  // d_h
  int ffn_hidden = 0;
  std::int64_t vocab = 0;
  std::string dtype = "bf16";  // fp32 | tf32 | bf16 | fp16 | fp8
  int dtype_bytes = 2;         // B: 4 fp32/tf32, 2 bf16/fp16, 1 fp8
  bool gated_mlp = true;       // SwiGLU (three ffn matrices, Llama) or GELU (two, GPT-3)

  /// Weights: per layer 2·d·(h + h_kv)·d_h attention + (3 or 2)·d·ffn MLP + 2·d norms,
  /// plus vocab·d embedding and vocab·d output head (untied) and d final norm.
  std::int64_t parameters() const;
};

enum class AttentionKind { kDense, kCausal, kDilated, kSlidingWindow, kLinear };

/// How dilated branches share heads (attention.md 1.2).
enum class DilatedHeads {
  kHeadGroups,  // fkodom / DarcStar: head group i runs only branch i, offset i mod r_i
  kAllHeads,    // microsoft/torchscale: every branch on every head, head j uses j mod r_i
};

/// The attention kind and its parameters.
struct AttentionSpec {
  AttentionKind kind = AttentionKind::kCausal;
  /// kDilated: LongNet branches (w_i, r_i), equal length, w_i a multiple of r_i.
  std::vector<std::int64_t> segment_lengths;
  std::vector<std::int64_t> dilation_rates;
  DilatedHeads dilated_heads = DilatedHeads::kHeadGroups;
  /// kDilated only: a query attends to keys at or before it (LongNet's language models).
  bool causal = false;
  /// kSlidingWindow: query t attends to keys (t - window, t].
  std::int64_t window = 0;
  /// The kernel whose measured rows price attention ("fa2", "fa3", "cudnn", ...); "" = the
  /// fastest the hardware profile has.
  std::string implementation;
};

enum class Phase { kTraining, kForward, kPrefill, kDecode };

enum class Recompute { kNone, kSelective, kFull };

/// What a step contains: the whole model, or only the attention core of each layer (the
/// setting of kernel and context-parallel benchmarks such as ring-flash-attention's).
enum class Scope { kModel, kAttention };

/// One step's work.
struct Workload {
  ModelShape model;
  AttentionSpec attention;
  Phase phase = Phase::kTraining;
  std::int64_t sequence_length = 0;     // N, tokens per sequence (prefill and training)
  std::int64_t sequences_per_step = 1;  // global batch in sequences (training, forward, prefill)
  std::int64_t context_length = 0;      // decode: tokens already in the KV cache
  std::int64_t batch = 1;               // decode: sequences decoded together
  /// Training: what the backward pass recomputes (Megatron's terms). kSelective recomputes
  /// the attention core (FlashAttention does so anyway), kFull reruns each layer's forward.
  Recompute recompute = Recompute::kSelective;
  Scope scope = Scope::kModel;

  bool has_backward() const { return phase == Phase::kTraining; }
};

}  // namespace attnsim::models
