// SPDX-License-Identifier: Apache-2.0
// Host-side planning of an attention call, in plain C++ so that CPU tests run it: argument
// validation (std::invalid_argument with the field, what is expected and what was found), the
// list of kernel launches (one, or one per dilated branch), and workspace sizes and offsets.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/layout.h"
#include "kernels/mask_index.h"

namespace attnsim::kernels::plan {

/// Rows of a query tile (forward CTA) and of a key tile (backward CTA).
inline constexpr int kTileRows = 64;

[[noreturn]] inline void fail(const std::string& what) {
  throw std::invalid_argument("attention: " + what);
}

/// Throws "<api>: <field> must be <expected>, got <got>" unless ok.
inline void expect(bool ok, const std::string& field, const std::string& expected,
                   const std::string& got, const char* api = "attention") {
  if (!ok) {
    throw std::invalid_argument(std::string(api) + ": " + field + " must be " + expected +
                                ", got " + got);
  }
}

/// As expect, for the layout kernels.
inline void expect_layout(bool ok, const std::string& field, const std::string& expected,
                          const std::string& got) {
  expect(ok, field, expected, got, "layout");
}

/// Checks every field of the problem; see attention.h for the rules.
inline void check_problem(const AttentionProblem& p) {
  using std::to_string;
  expect(p.dtype == DType::kFloat16 || p.dtype == DType::kBFloat16, "dtype", "fp16 or bf16",
         to_string(static_cast<int>(p.dtype)));
  expect(p.head_dim == 64 || p.head_dim == 128, "head_dim", "64 or 128", to_string(p.head_dim));
  expect(p.batch >= 1, "batch", ">= 1", to_string(p.batch));
  expect(p.heads >= 1, "heads", ">= 1", to_string(p.heads));
  expect(p.kv_heads >= 1 && p.heads % p.kv_heads == 0, "kv_heads",
         "a divisor of heads (" + to_string(p.heads) + ")", to_string(p.kv_heads));
  expect(std::int64_t{p.batch} * p.heads <= 65535, "batch x heads", "<= 65535 (grid z)",
         to_string(std::int64_t{p.batch} * p.heads));
  expect(p.seq_q >= 1 && p.seq_q <= (std::int64_t{1} << 31), "seq_q", "in [1, 2^31]",
         to_string(p.seq_q));
  expect(p.seq_k >= 1 && p.seq_k <= (std::int64_t{1} << 31), "seq_k", "in [1, 2^31]",
         to_string(p.seq_k));
  expect(std::isfinite(p.softmax_scale) && p.softmax_scale >= 0.f, "softmax_scale",
         "finite and >= 0 (0: 1/sqrt(head_dim))", std::to_string(p.softmax_scale));
  const AttentionMask& m = p.mask;
  expect(m.q_position_stride >= 1, "mask.q_position_stride", ">= 1",
         to_string(m.q_position_stride));
  expect(m.k_position_stride >= 1, "mask.k_position_stride", ">= 1",
         to_string(m.k_position_stride));
  switch (m.kind) {
    case MaskKind::kDense:
    case MaskKind::kCausal:
      return;
    case MaskKind::kSlidingWindow:
      expect(m.window >= 1, "mask.window", ">= 1 for a sliding window", to_string(m.window));
      return;
    case MaskKind::kDilated:
      break;
    default:
      fail("mask.kind " + to_string(static_cast<int>(m.kind)) + " is not a MaskKind");
  }
  const DilatedMask& d = m.dilated;
  expect(p.seq_q == p.seq_k, "seq_k", "seq_q (" + to_string(p.seq_q) + ") for a dilated mask",
         to_string(p.seq_k));
  expect(m.q_position == 0 && m.k_position == 0 && m.q_position_stride == 1 &&
             m.k_position_stride == 1,
         "mask positions", "the defaults (0, stride 1) for a dilated mask",
         to_string(m.q_position) + "/" + to_string(m.q_position_stride) + ", " +
             to_string(m.k_position) + "/" + to_string(m.k_position_stride));
  expect(d.heads == DilatedHeads::kHeadGroups || d.heads == DilatedHeads::kAllHeads,
         "mask.dilated.heads", "kHeadGroups or kAllHeads", to_string(static_cast<int>(d.heads)));
  expect(d.branches >= 1 && d.branches <= kMaxBranches, "mask.dilated.branches",
         "in [1, " + to_string(kMaxBranches) + "]", to_string(d.branches));
  for (int i = 0; i < d.branches; ++i) {
    std::string at = "[";  // appended piecewise: g++ 12 misreports "[" + s + "]" (-Wrestrict)
    at += to_string(i);
    at += ']';
    const std::int64_t w = d.segment_lengths[i];
    const std::int64_t r = d.dilation_rates[i];
    expect(w >= 1, "mask.dilated.segment_lengths" + at, ">= 1", to_string(w));
    expect(r >= 1 && w % r == 0, "mask.dilated.dilation_rates" + at,
           ">= 1 and a divisor of the segment length (" + to_string(w) + ")", to_string(r));
  }
}

/// 1/sqrt(head_dim) unless the problem names a scale.
inline float softmax_scale(const AttentionProblem& p) {
  return p.softmax_scale > 0.f ? p.softmax_scale : 1.f / std::sqrt(static_cast<float>(p.head_dim));
}

/// The launches that make up one pass, in order.
inline std::vector<index::LaunchGeometry> launches(const AttentionProblem& p) {
  const AttentionMask& m = p.mask;
  std::vector<index::LaunchGeometry> out;
  if (m.kind != MaskKind::kDilated) {
    index::LaunchGeometry g;
    g.head_count = p.heads;
    g.q_pos = index::Span{m.q_position, m.q_position_stride, p.seq_q};
    g.k_pos = index::Span{m.k_position, m.k_position_stride, p.seq_k};
    g.mask.causal = m.kind != MaskKind::kDense;
    g.mask.window = m.kind == MaskKind::kSlidingWindow ? m.window : 0;
    g.max_q_rows = p.seq_q;
    g.max_k_rows = p.seq_k;
    out.push_back(g);
    return out;
  }
  const DilatedMask& d = m.dilated;
  for (int b = 0; b < d.branches; ++b) {
    index::LaunchGeometry g;
    if (d.heads == DilatedHeads::kHeadGroups) {
      g.head_begin = index::head_group_begin(p.heads, d.branches, b);
      g.head_count = index::head_group_begin(p.heads, d.branches, b + 1) - g.head_begin;
      if (g.head_count == 0) {
        continue;  // fewer heads than branches: this group is empty
      }
    } else {
      g.head_count = p.heads;
    }
    g.branch = b;
    g.segment = d.segment_lengths[b];
    g.rate = d.dilation_rates[b];
    g.tokens = p.seq_q;
    g.dilated = d;
    g.mask.causal = d.causal;
    g.problems = index::segment_count(g.segment, g.tokens);
    g.max_q_rows = index::dilated_rows(g.segment, g.rate, g.tokens);
    g.max_k_rows = g.max_q_rows;
    out.push_back(g);
  }
  return out;
}

/// Whether the forward pass merges branch outputs through an fp32 accumulator.
inline bool merges_branches(const AttentionProblem& p) {
  return p.mask.kind == MaskKind::kDilated && p.mask.dilated.heads == DilatedHeads::kAllHeads;
}

/// Whether a key row can receive gradient from several CTAs (GQA heads, or several dilated
/// branches), so that dK/dV go through fp32 accumulators with atomics.
inline bool accumulates_kv(const AttentionProblem& p) {
  return p.heads != p.kv_heads || (merges_branches(p) && p.mask.dilated.branches > 1);
}

/// Byte offsets of the backward workspace's parts, each 256-byte aligned.
struct BackwardWorkspace {
  std::size_t delta = 0;  // fp32 [batch, heads, seq_q]
  std::size_t d_q = 0;    // fp32 [batch, seq_q, heads, head_dim]
  std::size_t d_k = 0;    // fp32 [batch, seq_k, kv_heads, head_dim], when accumulates_kv
  std::size_t d_v = 0;
  std::size_t d_kv_bytes = 0;  // bytes of d_k (and of d_v); 0 without kv accumulation
  std::size_t total = 0;
};

inline std::size_t align256(std::size_t n) {
  return (n + 255) / 256 * 256;
}

inline BackwardWorkspace backward_workspace(const AttentionProblem& p) {
  const auto b = static_cast<std::size_t>(p.batch);
  const auto sq = static_cast<std::size_t>(p.seq_q);
  const auto sk = static_cast<std::size_t>(p.seq_k);
  const auto d = static_cast<std::size_t>(p.head_dim);
  BackwardWorkspace w;
  w.delta = 0;
  w.d_q = align256(b * static_cast<std::size_t>(p.heads) * sq * sizeof(float));
  w.d_k = w.d_q + align256(b * sq * static_cast<std::size_t>(p.heads) * d * sizeof(float));
  w.d_kv_bytes = accumulates_kv(p)
                     ? align256(b * sk * static_cast<std::size_t>(p.kv_heads) * d * sizeof(float))
                     : 0;
  w.d_v = w.d_k + w.d_kv_bytes;
  w.total = w.d_v + w.d_kv_bytes;
  return w;
}

inline std::size_t forward_workspace_bytes(const AttentionProblem& p) {
  if (!merges_branches(p)) {
    return 0;
  }
  return align256(static_cast<std::size_t>(p.batch) * static_cast<std::size_t>(p.seq_q) *
                  static_cast<std::size_t>(p.heads) * static_cast<std::size_t>(p.head_dim) *
                  sizeof(float));
}

/// Checks a tensor argument: non-null, 16-byte aligned, strides multiples of 8 elements.
inline void check_tensor(const void* data, std::int64_t batch_stride, std::int64_t token_stride,
                         std::int64_t head_stride, const char* name) {
  const std::string n(name);
  expect(data != nullptr, n, "a device pointer", "nullptr");
  expect(
      reinterpret_cast<std::uintptr_t>(data) % 16 == 0, n, "16-byte aligned",
      "an address = " + std::to_string(reinterpret_cast<std::uintptr_t>(data) % 16) + " (mod 16)");
  for (const std::int64_t s : {batch_stride, token_stride, head_stride}) {
    expect(s >= 0 && s % 8 == 0, n + " strides", "non-negative multiples of 8 elements",
           std::to_string(batch_stride) + ", " + std::to_string(token_stride) + ", " +
               std::to_string(head_stride));
  }
}

/// Checks the workspace a call was given against what it needs.
inline void check_workspace(const void* workspace, std::size_t given, std::size_t needed) {
  if (needed == 0) {
    return;
  }
  expect(workspace != nullptr && reinterpret_cast<std::uintptr_t>(workspace) % 256 == 0,
         "workspace", "a 256-byte aligned device pointer",
         workspace == nullptr ? "nullptr" : "a misaligned pointer");
  expect(given >= needed, "workspace_bytes", ">= " + std::to_string(needed), std::to_string(given));
}

inline void check_forward(const AttentionForwardArgs& a) {
  plan::check_problem(a.problem);
  check_tensor(a.q.data, a.q.batch_stride, a.q.token_stride, a.q.head_stride, "q");
  check_tensor(a.k.data, a.k.batch_stride, a.k.token_stride, a.k.head_stride, "k");
  check_tensor(a.v.data, a.v.batch_stride, a.v.token_stride, a.v.head_stride, "v");
  check_tensor(a.o.data, a.o.batch_stride, a.o.token_stride, a.o.head_stride, "o");
  expect(a.lse != nullptr, "lse", "a device pointer", "nullptr");
  check_workspace(a.workspace, a.workspace_bytes, forward_workspace_bytes(a.problem));
}

inline void check_backward(const AttentionBackwardArgs& a) {
  plan::check_problem(a.problem);
  check_tensor(a.q.data, a.q.batch_stride, a.q.token_stride, a.q.head_stride, "q");
  check_tensor(a.k.data, a.k.batch_stride, a.k.token_stride, a.k.head_stride, "k");
  check_tensor(a.v.data, a.v.batch_stride, a.v.token_stride, a.v.head_stride, "v");
  check_tensor(a.o.data, a.o.batch_stride, a.o.token_stride, a.o.head_stride, "o");
  check_tensor(a.d_o.data, a.d_o.batch_stride, a.d_o.token_stride, a.d_o.head_stride, "d_o");
  check_tensor(a.d_q.data, a.d_q.batch_stride, a.d_q.token_stride, a.d_q.head_stride, "d_q");
  check_tensor(a.d_k.data, a.d_k.batch_stride, a.d_k.token_stride, a.d_k.head_stride, "d_k");
  check_tensor(a.d_v.data, a.d_v.batch_stride, a.d_v.token_stride, a.d_v.head_stride, "d_v");
  expect(a.lse != nullptr, "lse", "a device pointer", "nullptr");
  check_workspace(a.workspace, a.workspace_bytes, backward_workspace(a.problem).total);
}

// ---- layout kernels ------------------------------------------------------------------------

inline void check_rows(const RowShape& s) {
  using std::to_string;
  expect_layout(s.element_bytes == 2 || s.element_bytes == 4, "element_bytes", "2 or 4",
                to_string(s.element_bytes));
  expect_layout(s.batch >= 1, "batch", ">= 1", to_string(s.batch));
  expect_layout(s.tokens >= 1, "tokens", ">= 1", to_string(s.tokens));
  expect_layout(s.heads >= 1, "heads", ">= 1", to_string(s.heads));
  expect_layout(
      s.head_dim >= 1 && s.head_dim * s.element_bytes % 16 == 0, "head_dim",
      "a positive multiple of 16 bytes (" + to_string(16 / s.element_bytes) + " elements)",
      to_string(s.head_dim));
}

/// A view of rows: non-null, 16-byte aligned, strides multiples of 16 bytes.
inline void check_view(const void* data, std::int64_t batch_stride, std::int64_t token_stride,
                       std::int64_t head_stride, int element_bytes, const char* name) {
  const std::string n(name);
  expect_layout(data != nullptr, n, "a device pointer", "nullptr");
  expect_layout(
      reinterpret_cast<std::uintptr_t>(data) % 16 == 0, n, "16-byte aligned",
      "an address = " + std::to_string(reinterpret_cast<std::uintptr_t>(data) % 16) + " (mod 16)");
  for (const std::int64_t s : {batch_stride, token_stride, head_stride}) {
    expect_layout(s >= 0 && s * element_bytes % 16 == 0, n + " strides",
                  "non-negative multiples of 16 bytes",
                  std::to_string(batch_stride) + ", " + std::to_string(token_stride) + ", " +
                      std::to_string(head_stride) + " elements");
  }
}

inline void check_ulysses(const RowShape& s, int ranks) {
  check_rows(s);
  using std::to_string;
  expect_layout(ranks >= 1 && s.tokens % ranks == 0, "ranks",
                "a divisor of tokens (" + to_string(s.tokens) + ")", to_string(ranks));
  expect_layout(s.heads % ranks == 0, "ranks", "a divisor of heads (" + to_string(s.heads) + ")",
                to_string(ranks));
}

inline void check_ring(const RowShape& s, RingLayout layout, int ranks, const void* in,
                       const void* out) {
  check_rows(s);
  using std::to_string;
  expect_layout(layout == RingLayout::kContiguous || layout == RingLayout::kZigzag ||
                    layout == RingLayout::kStriped,
                "layout", "kContiguous, kZigzag or kStriped", to_string(static_cast<int>(layout)));
  const std::int64_t unit =
      layout == RingLayout::kZigzag ? 2 * std::int64_t{ranks} : std::int64_t{ranks};
  expect_layout(ranks >= 1 && s.tokens % unit == 0, "ranks",
                std::string("a rank count with ") + (layout == RingLayout::kZigzag ? "2 x " : "") +
                    "ranks dividing tokens (" + to_string(s.tokens) + ")",
                to_string(ranks));
  expect_layout(in != out, "out", "a buffer other than in (the reorder is not in place)", "in");
}

inline void check_selection(const RowShape& s, const DilatedSelection& sel) {
  check_rows(s);
  using std::to_string;
  const DilatedMask& d = sel.dilated;
  expect_layout(d.branches >= 1 && d.branches <= kMaxBranches, "dilated.branches",
                "in [1, " + to_string(kMaxBranches) + "]", to_string(d.branches));
  expect_layout(d.heads == DilatedHeads::kHeadGroups || d.heads == DilatedHeads::kAllHeads,
                "dilated.heads", "kHeadGroups or kAllHeads", to_string(static_cast<int>(d.heads)));
  expect_layout(sel.branch >= 0 && sel.branch < d.branches, "branch",
                "in [0, " + to_string(d.branches) + ")", to_string(sel.branch));
  const std::int64_t w = d.segment_lengths[sel.branch];
  const std::int64_t r = d.dilation_rates[sel.branch];
  expect_layout(w >= 1, "segment length", ">= 1", to_string(w));
  expect_layout(r >= 1 && w % r == 0, "dilation rate",
                ">= 1 and a divisor of the segment length (" + to_string(w) + ")", to_string(r));
  expect_layout(
      sel.head_begin >= 0 && sel.head_count >= 1 && sel.head_begin + sel.head_count <= s.heads,
      "heads [head_begin, head_begin + head_count)", "inside [0, " + to_string(s.heads) + ")",
      std::string("[")
          .append(to_string(sel.head_begin))
          .append(", ")
          .append(to_string(sel.head_begin + sel.head_count))
          .append(")"));
}

}  // namespace attnsim::kernels::plan
