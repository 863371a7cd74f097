// SPDX-License-Identifier: Apache-2.0
// The cuDNN SDPA graphs as data (calibrate/cuda/sdpa_graph.h), without cuDNN or a GPU: the
// structural rules a backend operation graph must satisfy (unique uids, each virtual tensor made
// once and used, shapes that agree across matmuls, pointwise broadcasts and reductions), the
// exact set of tensors bound to memory, and the BSHD strides.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "calibrate/cuda/sdpa_graph.h"

using attnsim::calibrate::cuda::PointwiseMode;
using attnsim::calibrate::cuda::sdpa_backward_graph;
using attnsim::calibrate::cuda::sdpa_forward_graph;
using attnsim::calibrate::cuda::sdpa_mask_value;
using attnsim::calibrate::cuda::sdpa_unsupported;
using attnsim::calibrate::cuda::SdpaGraph;
using attnsim::calibrate::cuda::SdpaOp;
using attnsim::calibrate::cuda::SdpaOpKind;
using attnsim::calibrate::cuda::SdpaShape;
using attnsim::calibrate::cuda::SdpaTensor;
using attnsim::calibrate::cuda::SdpaType;
namespace sdpa_uid = attnsim::calibrate::cuda::sdpa_uid;

namespace {

constexpr int kVersion = 91900;  // cuDNN 9.19.0, the version on our machines

// The masks: none, causal, and a sliding window of 7 keys.
enum class Mask { kDense, kCausal, kWindow };

const char* mask_name(Mask m) {
  return m == Mask::kDense ? "dense" : m == Mask::kCausal ? "causal" : "sliding window";
}

SdpaShape shape(Mask mask, std::int64_t d = 64, const std::string& dtype = "bf16") {
  SdpaShape s;
  s.batch = 2;
  s.heads = 3;
  s.seq = 256;
  s.head_dim = d;
  s.causal = mask != Mask::kDense;
  s.window = mask == Mask::kWindow ? 7 : 0;
  s.dtype = dtype;
  return s;
}

// The by-value scalars: the scale, the mask's fill value, the window's left bound.
std::set<std::string> scalars(Mask mask, std::set<std::string> always) {
  if (mask != Mask::kDense) {
    always.insert("negative_inf");
  }
  if (mask == Mask::kWindow) {
    always.insert("left_bound");
  }
  return always;
}

std::map<std::int64_t, const SdpaTensor*> by_uid(const SdpaGraph& g) {
  std::map<std::int64_t, const SdpaTensor*> m;
  for (const SdpaTensor& t : g.tensors) {
    m[t.uid] = &t;
  }
  return m;
}

std::int64_t elements(const SdpaTensor& t) {
  std::int64_t n = 1;
  for (const std::int64_t d : t.dims) {
    n *= d;
  }
  return n;
}

// The rules every graph must satisfy, whatever its ops.
void check_structure(const SdpaGraph& g) {
  const auto tensors = by_uid(g);
  REQUIRE(tensors.size() == g.tensors.size());  // uids unique
  std::map<std::int64_t, int> produced;
  std::map<std::int64_t, int> consumed;
  for (const SdpaOp& op : g.ops) {
    INFO("op " << op.name);
    for (const std::int64_t in : op.inputs) {
      REQUIRE(tensors.count(in) == 1);
      // Producers come before consumers: an input that some op makes is already made.
      const bool made_later = std::any_of(
          g.ops.begin(), g.ops.end(), [&](const SdpaOp& o) { return o.output == in && &o >= &op; });
      REQUIRE_FALSE(made_later);
      ++consumed[in];
    }
    REQUIRE(tensors.count(op.output) == 1);
    ++produced[op.output];
    const SdpaTensor& out = *tensors.at(op.output);
    REQUIRE_FALSE(out.by_value);
    REQUIRE(out.dims.size() == out.strides.size());
    switch (op.kind) {
      case SdpaOpKind::kMatmul: {
        REQUIRE(op.inputs.size() == 2);
        const SdpaTensor& a = *tensors.at(op.inputs[0]);
        const SdpaTensor& b = *tensors.at(op.inputs[1]);
        REQUIRE(a.dims.size() == 4);
        REQUIRE(b.dims.size() == 4);
        REQUIRE(a.dims[0] == b.dims[0]);
        REQUIRE(a.dims[1] == b.dims[1]);
        REQUIRE(a.dims[3] == b.dims[2]);  // [.., m, k] x [.., k, n]
        REQUIRE(out.dims == std::vector<std::int64_t>{a.dims[0], a.dims[1], a.dims[2], b.dims[3]});
        break;
      }
      case SdpaOpKind::kPointwise: {
        const std::size_t ports =
            op.pointwise == PointwiseMode::kBinarySelect ? 3
            : (op.pointwise == PointwiseMode::kExp || op.pointwise == PointwiseMode::kLog ||
               op.pointwise == PointwiseMode::kIdentity || op.pointwise == PointwiseMode::kGenIndex)
                ? 1
                : 2;
        REQUIRE(op.inputs.size() == ports);
        for (const std::int64_t in : op.inputs) {
          const SdpaTensor& t = *tensors.at(in);
          REQUIRE(t.dims.size() == out.dims.size());
          for (std::size_t i = 0; i < t.dims.size(); ++i) {
            REQUIRE((t.dims[i] == out.dims[i] || t.dims[i] == 1));
          }
        }
        if (op.pointwise == PointwiseMode::kGenIndex) {
          REQUIRE((op.axis == 2 || op.axis == 3));
          REQUIRE(out.type == SdpaType::kInt32);
        }
        if (op.pointwise == PointwiseMode::kCmpGe || op.pointwise == PointwiseMode::kCmpGt) {
          REQUIRE(op.compute == SdpaType::kBoolean);
          REQUIRE(out.type == SdpaType::kBoolean);
        }
        break;
      }
      case SdpaOpKind::kReduction: {
        REQUIRE(op.inputs.size() == 1);
        const SdpaTensor& in = *tensors.at(op.inputs[0]);
        REQUIRE(in.dims.size() == out.dims.size());
        REQUIRE(out.dims.back() == 1);
        REQUIRE(in.dims.back() > 1);
        for (std::size_t i = 0; i + 1 < in.dims.size(); ++i) {
          REQUIRE(in.dims[i] == out.dims[i]);
        }
        break;
      }
      case SdpaOpKind::kReshape: {
        REQUIRE(op.inputs.size() == 1);
        REQUIRE(elements(*tensors.at(op.inputs[0])) == elements(out));
        break;
      }
    }
  }
  for (const SdpaTensor& t : g.tensors) {
    INFO("tensor " << t.name);
    REQUIRE_FALSE((t.is_virtual && t.by_value));
    REQUIRE(produced[t.uid] <= 1);
    if (t.is_virtual) {
      REQUIRE(produced[t.uid] == 1);
      REQUIRE(consumed[t.uid] >= 1);
    }
    if (t.by_value) {
      REQUIRE(produced[t.uid] == 0);
      REQUIRE(t.dims == std::vector<std::int64_t>{1, 1, 1, 1});
      REQUIRE(t.type == SdpaType::kFloat32);
    }
  }
}

// Names of the tensors bound to device memory, and of the by-value scalars.
std::set<std::string> bound(const SdpaGraph& g, bool by_value) {
  std::set<std::string> names;
  for (const SdpaTensor& t : g.tensors) {
    if (!t.is_virtual && t.by_value == by_value) {
      names.insert(t.name);
    }
  }
  return names;
}

// BSHD: [b,h,s,d] with strides [s·h·d, d, h·d, 1]; transposed: [b,h,d,s], [s·h·d, d, 1, h·d].
void check_bshd(const SdpaTensor& t, const SdpaShape& s, bool transposed) {
  INFO("tensor " << t.name);
  const std::int64_t b = s.batch;
  const std::int64_t h = s.heads;
  const std::int64_t n = s.seq;
  const std::int64_t d = s.head_dim;
  if (transposed) {
    REQUIRE(t.dims == std::vector<std::int64_t>{b, h, d, n});
    REQUIRE(t.strides == std::vector<std::int64_t>{n * h * d, d, 1, h * d});
  } else {
    REQUIRE(t.dims == std::vector<std::int64_t>{b, h, n, d});
    REQUIRE(t.strides == std::vector<std::int64_t>{n * h * d, d, h * d, 1});
  }
  REQUIRE(t.type == (s.dtype == "fp16" ? SdpaType::kFloat16 : SdpaType::kBFloat16));
}

void check_row_stat(const SdpaTensor& t, const SdpaShape& s) {
  INFO("tensor " << t.name);
  REQUIRE(t.dims == std::vector<std::int64_t>{s.batch, s.heads, s.seq, 1});
  REQUIRE(t.strides == std::vector<std::int64_t>{s.heads * s.seq, s.seq, 1, 1});
  REQUIRE(t.type == SdpaType::kFloat32);
}

int count_mode(const SdpaGraph& g, PointwiseMode mode) {
  return static_cast<int>(std::count_if(g.ops.begin(), g.ops.end(), [&](const SdpaOp& op) {
    return op.kind == SdpaOpKind::kPointwise && op.pointwise == mode;
  }));
}

}  // namespace

TEST_CASE("cuDNN SDPA forward graphs are well formed and bind Q, K, V, O, Stats", "[unit]") {
  for (const Mask mask : {Mask::kDense, Mask::kCausal, Mask::kWindow}) {
    for (const std::int64_t d : {64, 128}) {
      for (const std::string dtype : {"bf16", "fp16"}) {
        const SdpaShape s = shape(mask, d, dtype);
        INFO(mask_name(mask) << " d" << d << " " << dtype);
        const SdpaGraph g = sdpa_forward_graph(s, kVersion);
        check_structure(g);
        REQUIRE(bound(g, false) == std::set<std::string>{"Q", "K", "V", "O", "Stats"});
        REQUIRE(bound(g, true) == scalars(mask, {"attn_scale"}));
        check_bshd(g.tensor(sdpa_uid::kQ), s, false);
        check_bshd(g.tensor(sdpa_uid::kK), s, true);  // K enters as Kᵀ
        check_bshd(g.tensor(sdpa_uid::kV), s, false);
        check_bshd(g.tensor(sdpa_uid::kO), s, false);
        check_row_stat(g.tensor(sdpa_uid::kStats), s);
        // Two matmuls (Q·Kᵀ, P·V), softmax's two reductions, the causal mask's four pointwise
        // ops (two GEN_INDEX, CMP_GE, BINARY_SELECT), and the window's five (two GEN_INDEX,
        // ADD, CMP_GT, BINARY_SELECT).
        REQUIRE(std::count_if(g.ops.begin(), g.ops.end(), [](const SdpaOp& op) {
                  return op.kind == SdpaOpKind::kMatmul;
                }) == 2);
        REQUIRE(std::count_if(g.ops.begin(), g.ops.end(), [](const SdpaOp& op) {
                  return op.kind == SdpaOpKind::kReduction;
                }) == 2);
        const bool causal = mask != Mask::kDense;
        const bool window = mask == Mask::kWindow;
        REQUIRE(count_mode(g, PointwiseMode::kGenIndex) == (causal ? 2 : 0) + (window ? 2 : 0));
        REQUIRE(count_mode(g, PointwiseMode::kCmpGe) == (causal ? 1 : 0));
        REQUIRE(count_mode(g, PointwiseMode::kCmpGt) == (window ? 1 : 0));
        REQUIRE(count_mode(g, PointwiseMode::kAdd) == 1 + (window ? 1 : 0));  // Stats = m + log l
        REQUIRE(count_mode(g, PointwiseMode::kBinarySelect) == (causal ? 1 : 0) + (window ? 1 : 0));
        // bmm2's A operand (the softmax output) is in the io type.
        const SdpaOp& bmm2 = g.ops.back();
        REQUIRE(bmm2.name == "bmm2");
        REQUIRE(g.tensor(bmm2.inputs[0]).type == g.tensor(sdpa_uid::kQ).type);
      }
    }
  }
}

TEST_CASE("cuDNN SDPA backward graphs are well formed and bind the frontend's tensors", "[unit]") {
  for (const Mask mask : {Mask::kDense, Mask::kCausal, Mask::kWindow}) {
    for (const std::int64_t d : {64, 128}) {
      for (const std::string dtype : {"bf16", "fp16"}) {
        const SdpaShape s = shape(mask, d, dtype);
        INFO(mask_name(mask) << " d" << d << " " << dtype);
        const SdpaGraph g = sdpa_backward_graph(s, kVersion);
        check_structure(g);
        // CompositeSDPABackwardNode without dropout or dP workspace: the inputs, the outputs,
        // and two fp32 workspace tensors (dQ_accum, softmax_sum).
        REQUIRE(bound(g, false) == std::set<std::string>{"Q", "K", "V", "O", "dO", "Stats", "dQ",
                                                         "dK", "dV", "dQ_accum", "softmax_sum"});
        REQUIRE(bound(g, true) == scalars(mask, {"attn_scale", "one"}));
        check_bshd(g.tensor(sdpa_uid::kQ), s, false);
        check_bshd(g.tensor(sdpa_uid::kK), s, true);
        check_bshd(g.tensor(sdpa_uid::kV), s, true);  // V enters as Vᵀ in the backward
        for (const std::int64_t uid :
             {sdpa_uid::kO, sdpa_uid::kDO, sdpa_uid::kDQ, sdpa_uid::kDK, sdpa_uid::kDV}) {
          check_bshd(g.tensor(uid), s, false);
        }
        check_row_stat(g.tensor(sdpa_uid::kStats), s);
        check_row_stat(g.tensor(sdpa_uid::kSoftmaxSum), s);
        const SdpaTensor& accum = g.tensor(sdpa_uid::kDQAccum);
        REQUIRE(accum.type == SdpaType::kFloat32);
        REQUIRE(accum.dims == std::vector<std::int64_t>{2, 3, 256, d});
        REQUIRE(accum.strides == std::vector<std::int64_t>{3 * 256 * d, 256 * d, d, 1});
        // Five matmuls (Q·Kᵀ, Pᵀ·dO, dO·Vᵀ, dSᵀ·Q, dS·K), three reshapes.
        REQUIRE(std::count_if(g.ops.begin(), g.ops.end(), [](const SdpaOp& op) {
                  return op.kind == SdpaOpKind::kMatmul;
                }) == 5);
        REQUIRE(std::count_if(g.ops.begin(), g.ops.end(), [](const SdpaOp& op) {
                  return op.kind == SdpaOpKind::kReshape;
                }) == 3);
        REQUIRE(count_mode(g, PointwiseMode::kGenIndex) == (mask == Mask::kDense    ? 0
                                                            : mask == Mask::kCausal ? 2
                                                                                    : 4));
      }
    }
  }
}

TEST_CASE("cuDNN SDPA graphs scale by 1/sqrt(d) and mask with cuDNN's fill value", "[unit]") {
  // 1/sqrt(64) = 0.125 exactly; the frontend masks with -inf from cuDNN 9.10.0 on and with the
  // lowest float before (attn_score_modifiers.h get_negative_inf_value).
  const SdpaGraph g = sdpa_forward_graph(shape(Mask::kWindow, 64), kVersion);
  for (const SdpaTensor& t : g.tensors) {
    if (t.name == "attn_scale") {
      REQUIRE(t.value == 0.125F);
    }
    if (t.name == "negative_inf") {
      REQUIRE(std::isinf(t.value));
      REQUIRE(t.value < 0);
    }
    if (t.name == "left_bound") {
      REQUIRE(t.value == 7.0F);  // the window, as a float (top-left alignment)
    }
  }
  REQUIRE(sdpa_mask_value(90800) == std::numeric_limits<float>::lowest());
  REQUIRE(std::isinf(sdpa_mask_value(91000)));
}

TEST_CASE("cuDNN SDPA says which shapes its graphs cannot run", "[unit]") {
  REQUIRE(sdpa_unsupported(shape(Mask::kDense)).empty());
  REQUIRE(sdpa_unsupported(shape(Mask::kWindow)).empty());
  SdpaShape s = shape(Mask::kDense);
  s.head_dim = 256;
  REQUIRE(sdpa_unsupported(s) ==
          "head dimension 256 (cuDNN SDPA backward needs a multiple of 8 "
          "up to 128)");
  s = shape(Mask::kDense);
  s.seq = 1000;
  REQUIRE(sdpa_unsupported(s) ==
          "sequence length 1000 (these graphs need a multiple of 128: other lengths need the "
          "padding mask the frontend adds for cuDNN <= 9.15)");
  s = shape(Mask::kDense);
  s.dtype = "fp32";
  REQUIRE(sdpa_unsupported(s) == "dtype fp32 (the graphs are written for bf16 and fp16)");
  s = shape(Mask::kDense);
  s.window = 7;
  REQUIRE(sdpa_unsupported(s) ==
          "window 7 (a sliding window is a length >= 1 on top of the causal mask; 0 for none)");
  s = shape(Mask::kCausal);
  s.window = -1;
  REQUIRE_FALSE(sdpa_unsupported(s).empty());
}
