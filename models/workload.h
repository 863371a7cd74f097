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

enum class AttentionKind { kDense, kCausal, kDilated, kSlidingWindow, kLinear, kSpatialTemporal };

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
  /// kSpatialTemporal (a video DiT block, OpenSora's STDiT): the sequence is `frames` frames
  /// of N / frames spatial tokens, frame-major; each layer runs spatial self-attention (the
  /// tokens of one frame), then temporal self-attention (one spatial position across frames),
  /// each with its own QKV and output projections, then cross-attention from every token to
  /// `cross_attention_tokens` text tokens (0: none), then the MLP.
  std::int64_t frames = 0;
  std::int64_t cross_attention_tokens = 0;
  /// The kernel whose measured rows price attention ("fa2", "fa3", "cudnn", ...); "" = the
  /// fastest the hardware profile has.
  std::string implementation;
};

/// The self-attentions of a layer: one over the sequence, or for kSpatialTemporal a spatial
/// and a temporal one.
enum class AttentionAxis { kSequence, kSpatial, kTemporal };

/// The axes a layer runs, in forward order: {kSpatial, kTemporal} for kSpatialTemporal,
/// else {kSequence}.
std::vector<AttentionAxis> attention_axes(const AttentionSpec& spec);

/// The attention one axis computes, as a kind the masks and strategies know: kSequence the
/// spec itself; kSpatial block-diagonal segments of s = N / frames tokens (LongNet's dilated
/// form with one branch (s, 1)); kTemporal segments of `frames` tokens, which is what
/// temporal attention is once the sequence is ordered position-major (token (f, p) at
/// p·frames + f): a strategy that runs it on those positions holds whole temporal
/// sequences. Precondition: kSpatialTemporal with frames | N for the two axes.
AttentionSpec axis_attention(const AttentionSpec& spec, AttentionAxis axis,
                             std::int64_t sequence_length);

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

/// Key/value heads a rank holds when `split` ranks share h_kv heads: h_kv / split, at least 1
/// (KV heads are replicated once split > h_kv, as Megatron and Ulysses' KV replication do).
double kv_heads_per_rank(const Workload& work, double split);

/// GEMM weights of one layer on a GPU whose tensor group splits them `split` ways (norms not
/// included): per self-attention axis Q and O (h/split heads) and K, V (max(1, h_kv/split)
/// heads) of d_h, times d; the cross-attention's Q, K, V, O (4·d·(h/split)·d_h, multi-head:
/// text keys are projected from d, as OpenSora's caption embedder maps them to d); the MLP's
/// (3 or 2)·d·ffn/split.
double layer_weights(const Workload& work, double split);

}  // namespace attnsim::models
