// SPDX-License-Identifier: Apache-2.0
// What the cuDNN SDPA graphs (calibrate/cuda/sdpa_graph.h) compute, without cuDNN or a GPU: a
// small interpreter runs their operations as cuDNN defines them (matmul, pointwise with
// broadcasting, reduction over the dimensions the output keeps at 1, reshape as a new view of
// the same memory, by-value scalars, each tensor's own strides), in double precision with the
// values of 16-bit tensors rounded to their type. The forward's O and Stats and the backward's
// dQ, dK, dV must then match the CPU attention reference (tests/support/attention_reference.h)
// by FlashAttention's rule (tests/support/attention_check.h): at most twice the error of a naive
// same-precision implementation, plus a floor of 1e-4·(1 + largest value). A graph with the wrong
// mask, a missing scale or a transposed operand misses by far more.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "calibrate/cuda/sdpa_graph.h"
#include "tests/support/attention_check.h"
#include "tests/support/attention_reference.h"
#include "tests/support/sdpa_problem.h"

namespace cuda = attnsim::calibrate::cuda;
namespace kernels = attnsim::kernels;
namespace sdpa_uid = cuda::sdpa_uid;
using attnsim::test::check_close;

namespace {

using Index = std::array<std::int64_t, 4>;

constexpr int kVersion = 91900;

// One tensor's memory: every element the dims and strides reach.
std::size_t span(const cuda::SdpaTensor& t) {
  std::int64_t last = 0;
  for (std::size_t i = 0; i < t.dims.size(); ++i) {
    last += (t.dims[i] - 1) * t.strides[i];
  }
  return static_cast<std::size_t>(last + 1);
}

std::size_t offset(const cuda::SdpaTensor& t, const Index& at) {
  std::int64_t o = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    o += at[i] * t.strides[i];
  }
  return static_cast<std::size_t>(o);
}

// Position of `at` in row-major order of t's dims.
std::size_t logical(const cuda::SdpaTensor& t, const Index& at) {
  std::int64_t o = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    o = o * t.dims[i] + at[i];
  }
  return static_cast<std::size_t>(o);
}

// Runs a graph on the host. Tensors are rank 4; an input dimension of 1 broadcasts. Values are
// kept by logical index: a virtual tensor's strides say how a reshape sees its elements, not
// where they live (the frontend gives mul_dO_O's output strides whose elements overlap), while
// bound tensors are read from and written to memory through their strides.
class Interpreter {
 public:
  Interpreter(cuda::SdpaGraph g, kernels::DType io) : g_(std::move(g)), io_(io) {
    for (const cuda::SdpaTensor& t : g_.tensors) {
      REQUIRE(t.dims.size() == 4);
      if (t.type == cuda::SdpaType::kBFloat16 || t.type == cuda::SdpaType::kFloat16) {
        REQUIRE((t.type == cuda::SdpaType::kBFloat16) == (io == kernels::DType::kBFloat16));
      }
      std::int64_t n = 1;
      for (const std::int64_t d : t.dims) {
        n *= d;
      }
      values_[t.uid].assign(static_cast<std::size_t>(n), t.by_value ? t.value : 0.0);
    }
  }

  // Sets a bound tensor from its memory.
  void bind(std::int64_t uid, const std::vector<double>& memory) {
    const cuda::SdpaTensor& t = g_.tensor(uid);
    REQUIRE(memory.size() >= span(t));
    for_each(t.dims, [&](const Index& i) { values_[uid][logical(t, i)] = memory[offset(t, i)]; });
  }

  // A bound tensor's memory.
  std::vector<double> read(std::int64_t uid) const {
    const cuda::SdpaTensor& t = g_.tensor(uid);
    std::vector<double> memory(span(t), std::numeric_limits<double>::quiet_NaN());
    for_each(t.dims,
             [&](const Index& i) { memory[offset(t, i)] = values_.at(uid)[logical(t, i)]; });
    return memory;
  }

  void run() {
    for (const cuda::SdpaOp& op : g_.ops) {
      INFO("op " << op.name);
      switch (op.kind) {
        case cuda::SdpaOpKind::kMatmul:
          matmul(op);
          break;
        case cuda::SdpaOpKind::kPointwise:
          pointwise(op);
          break;
        case cuda::SdpaOpKind::kReduction:
          reduction(op);
          break;
        case cuda::SdpaOpKind::kReshape:
          reshape(op);
          break;
      }
    }
  }

 private:
  double get(std::int64_t uid, const Index& at) const {
    const cuda::SdpaTensor& t = g_.tensor(uid);
    Index i = at;
    for (std::size_t a = 0; a < 4; ++a) {
      if (t.dims[a] == 1) {
        i[a] = 0;
      }
    }
    return values_.at(uid)[logical(t, i)];
  }

  void set(std::int64_t uid, const Index& at, double value) {
    const cuda::SdpaTensor& t = g_.tensor(uid);
    values_.at(uid)[logical(t, at)] = store(t, value);
  }

  // The value as the tensor's type holds it.
  double store(const cuda::SdpaTensor& t, double x) const {
    if (t.type == cuda::SdpaType::kBFloat16 || t.type == cuda::SdpaType::kFloat16) {
      return attnsim::test::round_to(static_cast<float>(x), io_);
    }
    return x;
  }

  // The output sees the input's elements through its own strides: lay the input out by its
  // strides (which must not overlap), then read that memory through the output's.
  void reshape(const cuda::SdpaOp& op) {
    const cuda::SdpaTensor& in = g_.tensor(op.inputs[0]);
    const cuda::SdpaTensor& out = g_.tensor(op.output);
    REQUIRE(span(in) == values_.at(in.uid).size());
    REQUIRE(span(out) == span(in));
    const std::vector<double> memory = read(in.uid);
    for_each(out.dims, [&](const Index& i) { set(out.uid, i, memory[offset(out, i)]); });
  }

  template <typename F>
  static void for_each(const std::vector<std::int64_t>& dims, F f) {
    Index i{};
    for (i[0] = 0; i[0] < dims[0]; ++i[0]) {
      for (i[1] = 0; i[1] < dims[1]; ++i[1]) {
        for (i[2] = 0; i[2] < dims[2]; ++i[2]) {
          for (i[3] = 0; i[3] < dims[3]; ++i[3]) {
            f(i);
          }
        }
      }
    }
  }

  void matmul(const cuda::SdpaOp& op) {
    const std::int64_t k = g_.tensor(op.inputs[0]).dims[3];
    for_each(g_.tensor(op.output).dims, [&](const Index& i) {
      double acc = 0;
      for (std::int64_t j = 0; j < k; ++j) {
        acc += get(op.inputs[0], {i[0], i[1], i[2], j}) * get(op.inputs[1], {i[0], i[1], j, i[3]});
      }
      set(op.output, i, acc);
    });
  }

  void pointwise(const cuda::SdpaOp& op) {
    for_each(g_.tensor(op.output).dims, [&](const Index& i) {
      const auto in = [&](std::size_t port) { return get(op.inputs.at(port), i); };
      double y = 0;
      switch (op.pointwise) {
        case cuda::PointwiseMode::kAdd:
          y = in(0) + in(1);
          break;
        case cuda::PointwiseMode::kSub:
          y = in(0) - in(1);
          break;
        case cuda::PointwiseMode::kMul:
          y = in(0) * in(1);
          break;
        case cuda::PointwiseMode::kDiv:
          y = in(0) / in(1);
          break;
        case cuda::PointwiseMode::kExp:
          y = std::exp(in(0));
          break;
        case cuda::PointwiseMode::kLog:
          y = std::log(in(0));
          break;
        case cuda::PointwiseMode::kIdentity:
          y = in(0);
          break;
        case cuda::PointwiseMode::kGenIndex:
          y = static_cast<double>(i.at(static_cast<std::size_t>(op.axis)));
          break;
        case cuda::PointwiseMode::kCmpGe:
          y = in(0) >= in(1) ? 1 : 0;
          break;
        case cuda::PointwiseMode::kCmpGt:
          y = in(0) > in(1) ? 1 : 0;
          break;
        case cuda::PointwiseMode::kBinarySelect:
          y = in(2) != 0 ? in(0) : in(1);
          break;
      }
      set(op.output, i, y);
    });
  }

  void reduction(const cuda::SdpaOp& op) {
    const cuda::SdpaTensor& out = g_.tensor(op.output);
    const cuda::SdpaTensor& in = g_.tensor(op.inputs[0]);
    const bool max = op.reduction == cuda::ReductionMode::kMax;
    for_each(out.dims, [&](const Index& o) {
      set(op.output, o, max ? -std::numeric_limits<double>::infinity() : 0.0);
    });
    for_each(in.dims, [&](const Index& i) {
      Index o = i;
      for (std::size_t a = 0; a < 4; ++a) {
        if (out.dims[a] == 1) {
          o[a] = 0;
        }
      }
      const double x = get(op.inputs[0], i);
      const double acc = get(op.output, o);
      set(op.output, o, max ? std::max(acc, x) : acc + x);
    });
  }

  cuda::SdpaGraph g_;
  kernels::DType io_;
  std::map<std::int64_t, std::vector<double>> values_;
};

struct Setting {
  std::string name;
  kernels::MaskKind mask = kernels::MaskKind::kDense;
  std::int64_t window = 0;
};

void check_graphs(const Setting& setting, kernels::DType io, std::uint64_t seed) {
  const kernels::AttentionProblem p =
      attnsim::test::sdpa_test_problem(io, 48, 16, setting.mask, setting.window);
  const cuda::SdpaShape shape = attnsim::test::sdpa_shape(p);

  const attnsim::test::RandomCase c = attnsim::test::random_case(p, seed);
  const attnsim::test::Reference& exact = c.exact;
  const attnsim::test::Reference& naive = c.naive;

  // Q, K, V, dO, O, dQ, dK, dV are BSHD, the layout of HostTensor's data; Stats is [b, h, s],
  // the reference's lse layout.
  Interpreter fwd(cuda::sdpa_forward_graph(shape, kVersion), io);
  fwd.bind(sdpa_uid::kQ, c.q.data);
  fwd.bind(sdpa_uid::kK, c.k.data);
  fwd.bind(sdpa_uid::kV, c.v.data);
  fwd.run();
  const std::vector<double> o = fwd.read(sdpa_uid::kO);
  const std::vector<double> stats = fwd.read(sdpa_uid::kStats);
  check_close("O", o, naive.o.data, exact.o.data);
  check_close("Stats", stats, naive.lse, exact.lse);

  Interpreter bwd(cuda::sdpa_backward_graph(shape, kVersion), io);
  bwd.bind(sdpa_uid::kQ, c.q.data);
  bwd.bind(sdpa_uid::kK, c.k.data);
  bwd.bind(sdpa_uid::kV, c.v.data);
  bwd.bind(sdpa_uid::kDO, c.d_o.data);
  bwd.bind(sdpa_uid::kO, o);
  bwd.bind(sdpa_uid::kStats, stats);
  bwd.run();
  check_close("dQ", bwd.read(sdpa_uid::kDQ), naive.d_q.data, exact.d_q.data);
  check_close("dK", bwd.read(sdpa_uid::kDK), naive.d_k.data, exact.d_k.data);
  check_close("dV", bwd.read(sdpa_uid::kDV), naive.d_v.data, exact.d_v.data);
}

}  // namespace

TEST_CASE("the cuDNN SDPA graphs compute attention and its gradients", "[unit]") {
  // Windows of 1 (each query keeps itself only), 7, and the whole sequence (= causal).
  const std::vector<Setting> settings = {
      {"dense", kernels::MaskKind::kDense, 0},
      {"causal", kernels::MaskKind::kCausal, 0},
      {"sliding window 1", kernels::MaskKind::kSlidingWindow, 1},
      {"sliding window 7", kernels::MaskKind::kSlidingWindow, 7},
      {"sliding window 48", kernels::MaskKind::kSlidingWindow, 48}};
  std::uint64_t seed = 1;
  for (const kernels::DType io : {kernels::DType::kBFloat16, kernels::DType::kFloat16}) {
    for (const Setting& s : settings) {
      SECTION(s.name + (io == kernels::DType::kBFloat16 ? ", bf16" : ", fp16")) {
        check_graphs(s, io, seed);
      }
      ++seed;
    }
  }
}
