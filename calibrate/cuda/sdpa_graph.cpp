// SPDX-License-Identifier: Apache-2.0
// cuDNN SDPA forward and backward graphs as plain data (sdpa_graph.h). Every step names the
// cudnn-frontend node it mirrors (include/cudnn_frontend/node/...).
#include "calibrate/cuda/sdpa_graph.h"

#include <cmath>
#include <limits>
#include <utility>

namespace attnsim::calibrate::cuda {
namespace {

using Dims = std::vector<std::int64_t>;

// Builds a graph: virtual tensors get fresh uids after the fixed ones of sdpa_uid.
class Builder {
 public:
  explicit Builder(const SdpaShape& s)
      : b_(s.batch),
        h_(s.heads),
        s_(s.seq),
        d_(s.head_dim),
        io_(s.dtype == "fp16" ? SdpaType::kFloat16 : SdpaType::kBFloat16) {}

  SdpaType io() const { return io_; }

  // A non-virtual tensor bound by the caller.
  std::int64_t io_tensor(std::int64_t uid, std::string name, Dims dims, Dims strides,
                         SdpaType type) {
    SdpaTensor t;
    t.uid = uid;
    t.name = std::move(name);
    t.dims = std::move(dims);
    t.strides = std::move(strides);
    t.type = type;
    graph_.tensors.push_back(std::move(t));
    return uid;
  }

  // [b,h,s,d] in BSHD memory.
  std::int64_t bshd(std::int64_t uid, std::string name) {
    return io_tensor(uid, std::move(name), {b_, h_, s_, d_}, {s_ * h_ * d_, d_, h_ * d_, 1}, io_);
  }

  // [b,h,d,s]: a BSHD tensor seen transposed (the frontend swaps dims and strides 2 and 3).
  std::int64_t bshd_transposed(std::int64_t uid, std::string name) {
    return io_tensor(uid, std::move(name), {b_, h_, d_, s_}, {s_ * h_ * d_, d_, 1, h_ * d_}, io_);
  }

  // fp32 [b,h,s,1], strides [h·s, s, 1, 1] (Stats, softmax_sum).
  std::int64_t row_stat(std::int64_t uid, std::string name) {
    return io_tensor(uid, std::move(name), {b_, h_, s_, 1}, {h_ * s_, s_, 1, 1},
                     SdpaType::kFloat32);
  }

  // A by-value fp32 scalar; the frontend expands fused scalars to the rank of the other
  // operands: dims and strides [1,1,1,1] (graph_properties.h, Attributes::fill_from_context).
  std::int64_t scalar(std::string name, float value) {
    SdpaTensor t;
    t.uid = next_uid_++;
    t.name = std::move(name);
    t.dims = {1, 1, 1, 1};
    t.strides = {1, 1, 1, 1};
    t.type = SdpaType::kFloat32;
    t.by_value = true;
    t.value = value;
    graph_.tensors.push_back(std::move(t));
    return graph_.tensors.back().uid;
  }

  std::int64_t virtual_tensor(std::string name, Dims dims, Dims strides, SdpaType type) {
    SdpaTensor t;
    t.uid = next_uid_++;
    t.name = std::move(name);
    t.dims = std::move(dims);
    t.strides = std::move(strides);
    t.type = type;
    t.is_virtual = true;
    graph_.tensors.push_back(std::move(t));
    return graph_.tensors.back().uid;
  }

  // Virtual [b,h,s,s] scores, row-major (the frontend's bmm1 output layout).
  std::int64_t scores(std::string name, SdpaType type = SdpaType::kFloat32) {
    return virtual_tensor(std::move(name), {b_, h_, s_, s_}, {h_ * s_ * s_, s_ * s_, s_, 1}, type);
  }

  // Virtual [b,h,s,s] seen transposed (the frontend's reshape_p / reshape_dS outputs).
  std::int64_t scores_transposed(std::string name) {
    return virtual_tensor(std::move(name), {b_, h_, s_, s_}, {h_ * s_ * s_, s_ * s_, 1, s_}, io_);
  }

  std::int64_t row_stat_virtual(std::string name) {
    return virtual_tensor(std::move(name), {b_, h_, s_, 1}, {h_ * s_, s_, 1, 1},
                          SdpaType::kFloat32);
  }

  void matmul(std::string name, std::int64_t a, std::int64_t b, std::int64_t c) {
    SdpaOp op;
    op.kind = SdpaOpKind::kMatmul;
    op.name = std::move(name);
    op.inputs = {a, b};
    op.output = c;
    graph_.ops.push_back(std::move(op));
  }

  void pointwise(std::string name, PointwiseMode mode, std::vector<std::int64_t> inputs,
                 std::int64_t out, SdpaType compute = SdpaType::kFloat32, std::int64_t axis = -1) {
    SdpaOp op;
    op.kind = SdpaOpKind::kPointwise;
    op.name = std::move(name);
    op.pointwise = mode;
    op.compute = compute;
    op.axis = axis;
    op.inputs = std::move(inputs);
    op.output = out;
    graph_.ops.push_back(std::move(op));
  }

  void reduction(std::string name, ReductionMode mode, std::int64_t in, std::int64_t out) {
    SdpaOp op;
    op.kind = SdpaOpKind::kReduction;
    op.name = std::move(name);
    op.reduction = mode;
    op.inputs = {in};
    op.output = out;
    graph_.ops.push_back(std::move(op));
  }

  void reshape(std::string name, std::int64_t in, std::int64_t out) {
    SdpaOp op;
    op.kind = SdpaOpKind::kReshape;
    op.name = std::move(name);
    op.inputs = {in};
    op.output = out;
    graph_.ops.push_back(std::move(op));
  }

  // A diagonal band mask's index of the scores along axis 2 (row) or 3 (col): GEN_INDEX with
  // an INT32 output, computed in the context's fp32.
  std::int64_t index(std::int64_t scores_uid, std::int64_t axis) {
    const char* name = axis == 2 ? "gen_row_index" : "gen_col_index";
    const std::int64_t out = scores(name, SdpaType::kInt32);
    pointwise(name, PointwiseMode::kGenIndex, {scores_uid}, out, SdpaType::kFloat32, axis);
    return out;
  }

  // A diagonal band mask's output: BINARY_SELECT(scores, mask value, keep).
  std::int64_t select(std::int64_t scores_uid, std::int64_t keep, float mask_value,
                      std::string name) {
    const std::int64_t fill = scalar("negative_inf", mask_value);
    const std::int64_t out = scores(std::move(name));
    pointwise("binary_select", PointwiseMode::kBinarySelect, {scores_uid, fill, keep}, out);
    return out;
  }

  // Causal (top-left, right bound 0): CompositeDiagonalBandMaskNode::expand_node with only a
  // right bound: row = GEN_INDEX axis 2, col = GEN_INDEX axis 3 (INT32 outputs, compute type
  // from the context, fp32), keep = CMP_GE(row, col) (BOOLEAN compute and output),
  // out = BINARY_SELECT(scores, mask value, keep).
  std::int64_t causal_mask(std::int64_t scores_uid, float mask_value) {
    const std::int64_t row = index(scores_uid, 2);
    const std::int64_t col = index(scores_uid, 3);
    const std::int64_t keep = scores("row>col", SdpaType::kBoolean);
    pointwise("row>col", PointwiseMode::kCmpGe, {row, col}, keep, SdpaType::kBoolean);
    return select(scores_uid, keep, mask_value, "right_bound_diagonal_mask::Y");
  }

  // Sliding window (top-left, left bound w), applied to the causal mask's output:
  // CompositeDiagonalBandMaskNode::expand_node with only a left bound: row and col by GEN_INDEX
  // as above, col + w = ADD(col, w) with w a by-value fp32 scalar (sliding_window_mask makes it
  // a float for top-left alignment; the ADD computes and outputs in its type), keep =
  // CMP_GT(col + w, row) (BOOLEAN), out = BINARY_SELECT(scores, mask value, keep).
  std::int64_t left_bound_mask(std::int64_t scores_uid, std::int64_t window, float mask_value) {
    const std::int64_t row = index(scores_uid, 2);
    const std::int64_t col = index(scores_uid, 3);
    const std::int64_t bound = scalar("left_bound", static_cast<float>(window));
    const std::int64_t shifted = scores("col+window");
    pointwise("col+window", PointwiseMode::kAdd, {col, bound}, shifted);
    const std::int64_t keep = scores("col+window>row", SdpaType::kBoolean);
    pointwise("col+window>row", PointwiseMode::kCmpGt, {shifted, row}, keep, SdpaType::kBoolean);
    return select(scores_uid, keep, mask_value, "left_bound_diagonal_mask::Y");
  }

  // The graph's mask (attn_score_modifiers.h sliding_window_mask: right bound, then left bound).
  std::int64_t mask(std::int64_t scores_uid, const SdpaShape& s, int cudnn_version) {
    if (!s.causal) {
      return scores_uid;
    }
    const float fill = sdpa_mask_value(cudnn_version);
    const std::int64_t causal = causal_mask(scores_uid, fill);
    return s.window > 0 ? left_bound_mask(causal, s.window, fill) : causal;
  }

  SdpaGraph take() { return std::move(graph_); }

 private:
  std::int64_t b_, h_, s_, d_;
  SdpaType io_;
  std::int64_t next_uid_ = 100;
  SdpaGraph graph_;
};

float scale_of(const SdpaShape& s) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)));
}

}  // namespace

std::string sdpa_unsupported(const SdpaShape& s) {
  if (s.dtype != "bf16" && s.dtype != "fp16") {
    return "dtype " + s.dtype + " (the graphs are written for bf16 and fp16)";
  }
  if (s.batch < 1 || s.heads < 1) {
    return "batch and heads must be at least 1";
  }
  if (s.head_dim < 8 || s.head_dim > 128 || s.head_dim % 8 != 0) {
    return "head dimension " + std::to_string(s.head_dim) +
           " (cuDNN SDPA backward needs a multiple of 8 up to 128)";
  }
  if (s.window < 0 || (s.window > 0 && !s.causal)) {
    return "window " + std::to_string(s.window) +
           " (a sliding window is a length >= 1 on top of the causal mask; 0 for none)";
  }
  if (s.seq < 2 || s.seq % 128 != 0) {
    return "sequence length " + std::to_string(s.seq) +
           " (these graphs need a multiple of 128: other lengths need the padding mask the "
           "frontend adds for cuDNN <= 9.15)";
  }
  return "";
}

float sdpa_mask_value(int cudnn_version) {
  return cudnn_version < 91000 ? std::numeric_limits<float>::lowest()
                               : -std::numeric_limits<float>::infinity();
}

SdpaGraph sdpa_forward_graph(const SdpaShape& shape, int cudnn_version) {
  Builder g(shape);
  const std::int64_t q = g.bshd(sdpa_uid::kQ, "Q");
  const std::int64_t kt = g.bshd_transposed(sdpa_uid::kK, "K");
  const std::int64_t v = g.bshd(sdpa_uid::kV, "V");
  const std::int64_t o = g.bshd(sdpa_uid::kO, "O");
  const std::int64_t stats = g.row_stat(sdpa_uid::kStats, "Stats");
  const std::int64_t scale = g.scalar("attn_scale", scale_of(shape));

  // CompositeSDPANode: bmm1, attn_scale.
  const std::int64_t s = g.scores("bmm1::C");
  g.matmul("bmm1", q, kt, s);
  const std::int64_t scaled = g.scores("attn_scale::OUT_0");
  g.pointwise("attn_scale", PointwiseMode::kMul, {s, scale}, scaled);
  const std::int64_t last = g.mask(scaled, shape, cudnn_version);

  // CompositeSoftmaxNode with a Stats output: Max, sub, exp, sum, log, add, div.
  const std::int64_t max = g.row_stat_virtual("Max::Y");
  g.reduction("Max", ReductionMode::kMax, last, max);
  const std::int64_t sub = g.scores("sub_M");
  g.pointwise("sub", PointwiseMode::kSub, {last, max}, sub);
  const std::int64_t exp = g.scores("exp_sub_M");
  g.pointwise("exp", PointwiseMode::kExp, {sub}, exp);
  const std::int64_t sum = g.row_stat_virtual("SumExp");
  g.reduction("sum", ReductionMode::kAdd, exp, sum);
  const std::int64_t log = g.row_stat_virtual("log::OUT_0");
  g.pointwise("log", PointwiseMode::kLog, {sum}, log);
  g.pointwise("add", PointwiseMode::kAdd, {max, log}, stats);
  // The softmax output is bmm2's A operand, which cuDNN wants in the io type
  // (CompositeSDPANode: "Requirement by cudnn backend to take in bmm2 aType as i/o type").
  const std::int64_t p = g.scores("softmax::S", g.io());
  g.pointwise("div", PointwiseMode::kDiv, {exp, sum}, p);

  g.matmul("bmm2", p, v, o);
  return g.take();
}

SdpaGraph sdpa_backward_graph(const SdpaShape& shape, int cudnn_version) {
  Builder g(shape);
  const std::int64_t b = shape.batch;
  const std::int64_t h = shape.heads;
  const std::int64_t s = shape.seq;
  const std::int64_t d = shape.head_dim;
  const std::int64_t q = g.bshd(sdpa_uid::kQ, "Q");
  const std::int64_t kt = g.bshd_transposed(sdpa_uid::kK, "K");
  const std::int64_t vt = g.bshd_transposed(sdpa_uid::kV, "V");
  const std::int64_t o = g.bshd(sdpa_uid::kO, "O");
  const std::int64_t d_o = g.bshd(sdpa_uid::kDO, "dO");
  const std::int64_t stats = g.row_stat(sdpa_uid::kStats, "Stats");
  const std::int64_t d_q = g.bshd(sdpa_uid::kDQ, "dQ");
  const std::int64_t d_k = g.bshd(sdpa_uid::kDK, "dK");
  const std::int64_t d_v = g.bshd(sdpa_uid::kDV, "dV");
  const std::int64_t scale = g.scalar("attn_scale", scale_of(shape));
  const std::int64_t one = g.scalar("one", 1.0F);

  // "dO * o => softmax_sum" chain. mul_dO_O's output gets the strides the frontend sets.
  const std::int64_t d_o_o = g.virtual_tensor("mul_dO_O::OUT_0", {b, h, s, d},
                                              {h * s * d, s * d, h * d, 1}, SdpaType::kFloat32);
  g.pointwise("mul_dO_O", PointwiseMode::kMul, {d_o, o}, d_o_o);
  const std::int64_t reduced = g.row_stat_virtual("reduce_dO_o::Y");
  g.reduction("reduce_dO_o", ReductionMode::kAdd, d_o_o, reduced);
  const std::int64_t softmax_sum = g.row_stat(sdpa_uid::kSoftmaxSum, "softmax_sum");
  g.pointwise("scale_dropout_inv", PointwiseMode::kMul, {reduced, one}, softmax_sum);

  // "Q @ KT => exp_softmax => dV" chain.
  const std::int64_t scores = g.scores("matmul_Q_KT::C");
  g.matmul("matmul_Q_KT", q, kt, scores);
  const std::int64_t scaled = g.scores("mul_s_attn_scale::OUT_0");
  g.pointwise("mul_s_attn_scale", PointwiseMode::kMul, {scores, scale}, scaled);
  const std::int64_t shifted = g.scores("sub_s_m::OUT_0");
  g.pointwise("sub_s_m", PointwiseMode::kSub, {scaled, stats}, shifted);
  const std::int64_t last = g.mask(shifted, shape, cudnn_version);
  const std::int64_t exp_s = g.scores("exp_s::OUT_0");
  g.pointwise("exp_s", PointwiseMode::kExp, {last}, exp_s);
  const std::int64_t p_t = g.scores_transposed("reshape_p::Y");
  g.reshape("reshape_p", exp_s, p_t);
  g.matmul("matmul_pT_dO", p_t, d_o, d_v);

  // "dO @ VT => dS_output => dK" chain.
  const std::int64_t d_p = g.scores("matmul_dO_VT::C");
  g.matmul("matmul_dO_VT", d_o, vt, d_p);
  const std::int64_t d_p_sum = g.scores("sub_dP_softmax_sum::OUT_0");
  g.pointwise("sub_dP_softmax_sum", PointwiseMode::kSub, {d_p, softmax_sum}, d_p_sum);
  const std::int64_t d_p_exp = g.scores("mul_dP_exp_s::OUT_0");
  g.pointwise("mul_dP_exp_s", PointwiseMode::kMul, {d_p_sum, exp_s}, d_p_exp);
  const std::int64_t d_s = g.scores("mul_dS_attn_scale::OUT_0");
  g.pointwise("mul_dS_attn_scale", PointwiseMode::kMul, {d_p_exp, scale}, d_s);
  const std::int64_t d_s_t = g.scores_transposed("reshape_dS::Y");
  g.reshape("reshape_dS", d_s, d_s_t);
  g.matmul("matmul_dST_Q", d_s_t, q, d_k);

  // "dp_scaled @ K => dQ" chain: K back from KT by a reshape whose output keeps K's strides.
  // The frontend sets no data type on it, so it gets the intermediate type (fp32).
  const std::int64_t k =
      g.virtual_tensor("reshape_k::Y", {b, h, s, d}, {s * h * d, d, h * d, 1}, SdpaType::kFloat32);
  g.reshape("reshape_k", kt, k);
  const std::int64_t d_q_accum = g.io_tensor(sdpa_uid::kDQAccum, "dQ_accum", {b, h, s, d},
                                             {h * s * d, s * d, d, 1}, SdpaType::kFloat32);
  g.matmul("matmul_dS_K", d_s, k, d_q_accum);
  g.pointwise("identity_dQ", PointwiseMode::kIdentity, {d_q_accum}, d_q);
  return g.take();
}

}  // namespace attnsim::calibrate::cuda
