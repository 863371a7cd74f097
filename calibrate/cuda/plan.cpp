// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's point lists (plan.h).
#include "calibrate/cuda/plan.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <span>
#include <stdexcept>

namespace attnsim::calibrate::cuda {
namespace {

using Widths = std::vector<std::int64_t>;

// The Llama 3 family (3.2 1B, 3 8B, 70B, 405B; cli/model_presets.json, from the models'
// config.json files): width, query heads, KV heads, head dim, FFN width (gated: gate and up
// fused), vocabulary.
struct ModelShape {
  std::int64_t hidden, heads, kv_heads, head_dim, ffn, vocab;
};

constexpr ModelShape kLlama1B{2048, 32, 8, 64, 8192, 128256};
constexpr ModelShape kLlama8B{4096, 32, 8, 128, 14336, 128256};
constexpr ModelShape kLlama70B{8192, 64, 8, 128, 28672, 128256};
constexpr ModelShape kLlama405B{16384, 128, 8, 128, 53248, 128256};

enum class Layers { kAll, kWithoutHead, kOutOnly };

// One layer's GEMMs as models/step.cpp prices them on a tensor-parallel rank of `tp`, m = t
// tokens: qkv t x (H/tp + 2·max(1, H_kv/tp))·d x h, out t x h x H·d/tp, up t x 2·ffn/tp x h,
// down t x h x ffn/tp, head t x vocab/tp x h.
void add_layer_gemms(std::vector<GemmCase>& out, const std::string& dtype,
                     std::span<const ModelShape> models, const Widths& tokens,
                     std::span<const std::int64_t> tps, Layers layers) {
  const std::size_t first = out.size();
  for (const ModelShape& s : models) {
    for (const std::int64_t tp : tps) {
      const std::int64_t h = s.hidden;
      const std::int64_t qkv =
          (s.heads / tp + 2 * std::max<std::int64_t>(1, s.kv_heads / tp)) * s.head_dim;
      for (const std::int64_t t : tokens) {
        if (layers != Layers::kOutOnly) {
          out.push_back({dtype, "qkv", t, qkv, h});
        }
        out.push_back({dtype, "out", t, h, s.heads * s.head_dim / tp});
        if (layers != Layers::kOutOnly) {
          out.push_back({dtype, "up", t, 2 * s.ffn / tp, h});
          out.push_back({dtype, "down", t, h, s.ffn / tp});
        }
        if (layers == Layers::kAll) {
          out.push_back({dtype, "head", t, s.vocab / tp, h});
        }
      }
    }
  }
  // A shape two layers share is measured once (Llama 3.2 1B's up is 405B's out per rank of 8).
  const auto same = [](const GemmCase& a, const GemmCase& b) {
    return a.m == b.m && a.n == b.n && a.k == b.k;
  };
  for (auto it = out.begin() + static_cast<std::ptrdiff_t>(first); it != out.end(); ++it) {
    out.erase(std::remove_if(it + 1, out.end(), [&](const GemmCase& g) { return same(*it, g); }),
              out.end());
  }
  std::stable_sort(
      out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
      [](const GemmCase& a, const GemmCase& b) { return gemm_flops(a) < gemm_flops(b); });
}

constexpr std::int64_t kTokensPerCall = 16384;  // FlashAttention's benchmark: batch x seq
constexpr int kModelWidth = 2048;               // heads = 2048 / head_dim

AttentionCase attention_case(const std::string& dtype, AttentionKind kind, int d,
                             std::int64_t seq) {
  AttentionCase a;
  a.dtype = dtype;
  a.kind = kind;
  a.head_dim = d;
  a.seq = seq;
  a.batch = static_cast<int>(std::max<std::int64_t>(1, kTokensPerCall / seq));
  a.heads = kModelWidth / d;
  if (kind == AttentionKind::kSlidingWindow) {
    a.window = seq / 4;
  }
  if (kind == AttentionKind::kDilated) {
    a.segment = seq / 4;
    a.dilation = 4;
  }
  return a;
}

}  // namespace

double gemm_flops(const GemmCase& g) {
  return 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
}

int dtype_bytes(const std::string& dtype) {
  if (dtype == "bf16" || dtype == "fp16") {
    return 2;
  }
  if (dtype == "tf32" || dtype == "fp32") {
    return 4;
  }
  throw std::invalid_argument("dtype_bytes: no GEMM dtype " + dtype);
}

std::vector<GemmCase> gemm_plan(bool quick) {
  std::vector<GemmCase> plan;
  constexpr std::array<ModelShape, 3> kUpTo70b{kLlama1B, kLlama8B, kLlama70B};
  constexpr std::array<ModelShape, 4> kAll{kLlama1B, kLlama8B, kLlama70B, kLlama405B};
  constexpr std::array<std::int64_t, 1> kWhole{1};
  constexpr std::array<std::int64_t, 2> kWholeAndEighth{1, 8};
  if (quick) {
    add_layer_gemms(plan, "bf16", kUpTo70b, {2048, 8192}, kWhole, Layers::kWithoutHead);
    return plan;
  }
  for (const char* dtype : {"bf16", "fp16"}) {
    add_layer_gemms(plan, dtype, kAll, {2048, 8192, 32768}, kWholeAndEighth, Layers::kAll);
  }
  for (const char* dtype : {"tf32", "fp32"}) {
    add_layer_gemms(plan, dtype, kUpTo70b, {2048, 8192}, kWhole, Layers::kOutOnly);
  }
  return plan;
}

GemmBufferBytes gemm_buffer_bytes(const std::vector<GemmCase>& plan) {
  GemmBufferBytes b;
  for (const GemmCase& g : plan) {
    const std::int64_t e = dtype_bytes(g.dtype);
    b.a = std::max(b.a, g.m * g.k * e);
    b.b = std::max(b.b, g.k * g.n * e);
    b.c = std::max(b.c, g.m * g.n * e);
  }
  return b;
}

FittedGemmPlan fit_gemm_plan(const std::vector<GemmCase>& plan, double free_bytes) {
  // Smallest cases first, each kept while the shared buffers still fit with it.
  std::vector<GemmBufferBytes> own;  // each case's A, B and C alone
  own.reserve(plan.size());
  for (const GemmCase& g : plan) {
    own.push_back(gemm_buffer_bytes({g}));
  }
  const auto total = [](const GemmBufferBytes& b) { return b.a + b.b + b.c; };
  std::vector<std::size_t> order(plan.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t l, std::size_t r) { return total(own[l]) < total(own[r]); });
  std::vector<bool> keep(plan.size(), false);
  GemmBufferBytes held;
  for (const std::size_t i : order) {
    GemmBufferBytes with = own[i];
    with.a = std::max(with.a, held.a);
    with.b = std::max(with.b, held.b);
    with.c = std::max(with.c, held.c);
    if (static_cast<double>(total(with)) <= 0.8 * free_bytes) {
      held = with;
      keep[i] = true;
    }
  }
  FittedGemmPlan out;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    (keep[i] ? out.kept : out.dropped).push_back(plan[i]);
  }
  return out;
}

std::vector<AttentionCase> attention_plan(bool quick) {
  std::vector<AttentionCase> plan;
  const std::vector<std::string> dtypes =
      quick ? std::vector<std::string>{"bf16"} : std::vector<std::string>{"bf16", "fp16"};
  const Widths lengths = quick ? Widths{2048} : Widths{1024, 4096, 16384};
  for (const std::string& dtype : dtypes) {
    for (const int d : {64, 128}) {
      for (const AttentionKind kind : {AttentionKind::kDense, AttentionKind::kCausal}) {
        for (const std::int64_t s : lengths) {
          plan.push_back(attention_case(dtype, kind, d, s));
        }
      }
    }
  }
  const std::vector<int> other_dims = quick ? std::vector<int>{64, 128} : std::vector<int>{128};
  for (const int d : other_dims) {
    for (const AttentionKind kind : {AttentionKind::kSlidingWindow, AttentionKind::kDilated}) {
      plan.push_back(attention_case("bf16", kind, d, quick ? 8192 : 16384));
    }
  }
  return plan;
}

std::string kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kDense:
      return "dense";
    case AttentionKind::kCausal:
      return "causal";
    case AttentionKind::kSlidingWindow:
      return "sliding_window";
    case AttentionKind::kDilated:
      return "dilated";
  }
  return "?";
}

std::string setting_text(const AttentionCase& a) {
  std::string text = kind_name(a.kind) + " " + a.dtype + " d" + std::to_string(a.head_dim) + " s" +
                     std::to_string(a.seq);
  if (a.kind == AttentionKind::kSlidingWindow) {
    text += " w" + std::to_string(a.window);
  }
  if (a.kind == AttentionKind::kDilated) {
    text += " w" + std::to_string(a.segment) + " r" + std::to_string(a.dilation);
  }
  return text;
}

AttentionPoint attention_row(const AttentionCase& a, bool backward) {
  AttentionPoint row;
  row.pass = backward ? "bwd" : "fwd";
  row.dtype = a.dtype;
  row.causal = a.kind == AttentionKind::kCausal || a.kind == AttentionKind::kSlidingWindow;
  row.head_dim = a.head_dim;
  row.seq_q = a.seq;
  row.seq_k = a.seq;
  row.batch_heads = static_cast<std::int64_t>(a.batch) * a.heads;
  if (a.kind == AttentionKind::kSlidingWindow) {
    row.kind = "sliding_window";
    row.window = a.window;
  }
  if (a.kind == AttentionKind::kDilated) {
    row.kind = "dilated";
    row.segment_length = a.segment;
    row.dilation_rate = a.dilation;
  }
  return row;
}

double attention_pairs(const AttentionCase& a) {
  return kept_pairs(attention_row(a, false));
}

double attention_flops(const AttentionCase& a, bool backward) {
  return forward_flops(attention_row(a, backward)) * (backward ? 2.5 : 1.0);
}

std::vector<std::int64_t> memory_sizes(bool quick) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t b = std::int64_t{1} << 20; b <= (std::int64_t{1} << 30); b *= quick ? 16 : 4) {
    sizes.push_back(b);
  }
  return sizes;
}

std::vector<std::string> comm_collectives() {
  return {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv"};
}

std::int64_t comm_elements(const std::string& collective, int ranks, double size_bytes) {
  const auto elements = static_cast<std::int64_t>(size_bytes / 4);
  if (collective == "all_reduce" || collective == "send_recv") {
    return std::max<std::int64_t>(1, elements);
  }
  return std::max<std::int64_t>(1, elements / ranks);
}

std::vector<double> comm_sizes(const std::string& collective, int ranks, bool quick) {
  std::vector<double> sizes;
  const double last = quick ? 16.0 * (1 << 20) : static_cast<double>(std::int64_t{1} << 30);
  for (double b = 8; b <= last; b *= quick ? 16 : 2) {
    const auto per = static_cast<double>(comm_elements(collective, ranks, b)) * 4;
    const bool whole_buffer = collective == "all_reduce" || collective == "send_recv";
    const double size = whole_buffer ? per : per * ranks;
    if (sizes.empty() || size > sizes.back()) {
      sizes.push_back(size);
    }
  }
  return sizes;
}

int comm_ranks(int gpus) {
  return gpus >= 2 ? std::min(gpus, 8) : 0;
}

std::vector<int> comm_rank_counts(int gpus, bool quick) {
  const int most = comm_ranks(gpus);
  std::vector<int> counts;
  for (int n = 2; !quick && n < most; n *= 2) {
    counts.push_back(n);
  }
  if (most >= 2) {
    counts.push_back(most);
  }
  return counts;
}

GpuTiming gpu_timing(bool quick) {
  GpuTiming t;
  t.policy.warmups = 1;
  t.policy.min_repeats = quick ? 3 : 5;
  t.policy.max_repeats = quick ? 20 : 50;
  t.policy.budget_s = quick ? 0.005 : 0.03;
  t.policy.hard_limit_s = quick ? 0.5 : 2.0;
  t.batch_s = quick ? 0.001 : 0.002;
  t.max_calls = 1000;
  return t;
}

int calls_per_batch(const GpuTiming& t, double probe_s) {
  if (!(probe_s > 0) || probe_s >= t.batch_s) {
    return 1;
  }
  const double calls = std::floor(t.batch_s / probe_s);
  return static_cast<int>(std::min(calls, static_cast<double>(t.max_calls)));
}

double point_seconds(const GpuTiming& t, double call_s) {
  // The stopping rule with every run lasting call_s: stop after run i when i >= max_repeats,
  // or i·call_s >= budget and i >= min_repeats, or (i + 1)·call_s > hard limit.
  int runs = 0;
  for (;;) {
    ++runs;
    const double spent = runs * call_s;
    if (runs >= t.policy.max_repeats ||
        (spent >= t.policy.budget_s && runs >= t.policy.min_repeats) ||
        spent + call_s > t.policy.hard_limit_s) {
      break;
    }
  }
  const int calls = calls_per_batch(t, call_s);
  return call_s * (1.0 + static_cast<double>(calls) * (t.policy.warmups + runs));
}

SdpaShape cudnn_shape(const AttentionCase& a) {
  SdpaShape s;
  s.batch = a.batch;
  s.heads = a.heads;
  s.seq = a.seq;
  s.head_dim = a.head_dim;
  s.causal = a.kind == AttentionKind::kCausal || a.kind == AttentionKind::kSlidingWindow;
  s.window = a.kind == AttentionKind::kSlidingWindow ? a.window : 0;
  s.dtype = a.dtype;
  if (a.kind == AttentionKind::kDilated) {
    s.batch = a.batch * (a.seq / a.segment);
    s.seq = a.segment / a.dilation;
  }
  return s;
}

int planned_points(bool quick, int gpus, bool cudnn) {
  const auto n = [](std::size_t x) { return static_cast<int>(x); };
  int points = n(gemm_plan(quick).size()) + 2 * n(attention_plan(quick).size()) +
               2 * n(memory_sizes(quick).size()) + 2;
  if (cudnn) {
    points += 2 * n(attention_plan(quick).size());
  }
  for (const int ranks : comm_rank_counts(gpus, quick)) {
    for (const std::string& c : comm_collectives()) {
      points += n(comm_sizes(c, ranks, quick).size());
    }
  }
  return points;
}

}  // namespace attnsim::calibrate::cuda
