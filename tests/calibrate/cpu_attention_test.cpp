// SPDX-License-Identifier: Apache-2.0
// The CPU attention reference that calibration times (calibrate/cpu/attention.h) computes
// attention: forward output and all three gradients against a plain softmax(QK^T/sqrt(d))V
// evaluated in double. Accuracy rule (STYLE D10, after FlashAttention's tests): the tiled fp32
// kernel may be no worse than twice a plain fp32 implementation, both judged against double.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "calibrate/cpu/attention.h"

using attnsim::calibrate::cpu::attention_backward;
using attnsim::calibrate::cpu::attention_forward;
using attnsim::calibrate::cpu::dilated_attention_backward;
using attnsim::calibrate::cpu::dilated_attention_forward;
using attnsim::calibrate::cpu::HeadMatrix;

namespace {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// Plain attention in precision T: forward O and the gradients for output gradient dO.
template <class T>
struct Plain {
  Mat<T> o, dq, dk, dv;
};

// Whether query i keeps key j.
using Keeps = std::function<bool(Eigen::Index, Eigen::Index)>;

// Plain attention in precision T; a row that keeps no key gets O = 0 and no gradient.
template <class T>
Plain<T> plain(const HeadMatrix& qf, const HeadMatrix& kf, const HeadMatrix& vf,
               const HeadMatrix& dof, const Keeps& keeps) {
  const Mat<T> q = qf.cast<T>(), k = kf.cast<T>(), v = vf.cast<T>(), d_o = dof.cast<T>();
  const T scale = T(1) / std::sqrt(static_cast<T>(q.cols()));
  Mat<T> p = scale * q * k.transpose();
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    T m = -std::numeric_limits<T>::infinity();
    for (Eigen::Index j = 0; j < p.cols(); ++j) {
      m = keeps(i, j) ? std::max(m, p(i, j)) : m;
    }
    for (Eigen::Index j = 0; j < p.cols(); ++j) {
      p(i, j) = keeps(i, j) ? std::exp(p(i, j) - m) : T(0);
    }
    if (p.row(i).sum() > 0) {
      p.row(i) /= p.row(i).sum();
    }
  }
  Plain<T> r;
  r.o = p * v;
  r.dv = p.transpose() * d_o;
  const Mat<T> dp = d_o * v.transpose();
  Mat<T> ds(p.rows(), p.cols());
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    const T dot = p.row(i).dot(dp.row(i));  // = rowsum(dO ∘ O)
    ds.row(i) = (p.row(i).array() * (dp.row(i).array() - dot)).matrix();
  }
  r.dq = scale * ds * k;
  r.dk = scale * ds.transpose() * q;
  return r;
}

HeadMatrix random(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  HeadMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = static_cast<float>(static_cast<double>(gen() >> 11) * 0x1p-53 * 4 - 2);
  }
  return m;
}

template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
}

// The accuracy rule above for O and the three gradients, and that the comparison is not
// vacuous: the exact outputs are of order one.
void check_against(const HeadMatrix& o, const HeadMatrix& dq, const HeadMatrix& dk,
                   const HeadMatrix& dv, const Plain<double>& exact, const Plain<float>& single) {
  // A small absolute floor: where plain fp32 happens to be exact, ours may still round.
  const double floor = 1e-6;
  CHECK(max_abs_diff(o, exact.o) <= 2 * max_abs_diff(single.o, exact.o) + floor);
  CHECK(max_abs_diff(dq, exact.dq) <= 2 * max_abs_diff(single.dq, exact.dq) + floor);
  CHECK(max_abs_diff(dk, exact.dk) <= 2 * max_abs_diff(single.dk, exact.dk) + floor);
  CHECK(max_abs_diff(dv, exact.dv) <= 2 * max_abs_diff(single.dv, exact.dv) + floor);
  CHECK(exact.o.cwiseAbs().maxCoeff() > 0.1);
  CHECK(exact.dq.cwiseAbs().maxCoeff() > 0.1);
}

}  // namespace

TEST_CASE("the tiled attention reference matches plain attention, forward and backward", "[unit]") {
  // 150 tokens: two full 64-token tiles and a partial one, so the edges and (causal) the
  // diagonal tiles are all exercised; inputs in [-2, 2) give peaked softmax rows.
  // Windows: 2 (a query and the one before), 37 (inside one tile), 100 (across tiles), 150 (the
  // whole sequence: causal).
  const Eigen::Index s = 150;
  for (const int d : {32, 64}) {
    for (const Eigen::Index window : {-1, 0, 2, 37, 100, 150}) {
      const bool causal = window >= 0;
      const Eigen::Index w = std::max<Eigen::Index>(window, 0);
      DYNAMIC_SECTION("d " << d << (causal ? " causal" : " dense") << " window " << w) {
        const HeadMatrix q = random(s, d, 1), k = random(s, d, 2), v = random(s, d, 3),
                         d_o = random(s, d, 4);
        HeadMatrix o, dq, dk, dv;
        Eigen::VectorXf lse;
        attention_forward(q, k, v, causal, o, lse, w);
        attention_backward(q, k, v, o, lse, d_o, causal, dq, dk, dv, w);
        // Query i keeps key j: always (dense), j <= i (causal), i - w < j <= i (window).
        const Keeps keeps = [&](Eigen::Index i, Eigen::Index j) {
          return w > 0 ? i - w < j && j <= i : !causal || j <= i;
        };
        const Plain<double> exact = plain<double>(q, k, v, d_o, keeps);
        const Plain<float> single = plain<float>(q, k, v, d_o, keeps);
        check_against(o, dq, dk, dv, exact, single);
      }
    }
  }
}

TEST_CASE("a dilated branch through gather, tiled attention and scatter matches plain attention",
          "[unit]") {
  // Oracle: plain attention with LongNet's branch mask (mask.h: same segment, both positions
  // ≡ 0 mod r, and k <= q when causal). Rows outside the branch keep nothing: O = 0, LSE =
  // -inf, no gradient. 144 tokens: segments of 48 at rate 4 (12 rows each, within a tile), and
  // one segment of 144 at rate 2 (72 rows, two tiles).
  const Eigen::Index s = 144;
  for (const auto& [w, r] : std::vector<std::pair<Eigen::Index, Eigen::Index>>{{48, 4}, {144, 2}}) {
    for (const bool causal : {false, true}) {
      DYNAMIC_SECTION("w " << w << " r " << r << (causal ? " causal" : "")) {
        const int d = 32;
        const HeadMatrix q = random(s, d, 5), k = random(s, d, 6), v = random(s, d, 7),
                         d_o = random(s, d, 8);
        HeadMatrix o, dq, dk, dv;
        Eigen::VectorXf lse;
        dilated_attention_forward(q, k, v, w, r, causal, o, lse);
        dilated_attention_backward(q, k, v, o, lse, d_o, w, r, causal, dq, dk, dv);
        const Keeps keeps = [&](Eigen::Index i, Eigen::Index j) {
          return i / w == j / w && i % r == 0 && j % r == 0 && (!causal || j <= i);
        };
        const Plain<double> exact = plain<double>(q, k, v, d_o, keeps);
        const Plain<float> single = plain<float>(q, k, v, d_o, keeps);
        check_against(o, dq, dk, dv, exact, single);
        for (Eigen::Index i = 1; i < s; i += r) {  // a row outside the branch
          CHECK(std::isinf(lse(i)));
          CHECK(lse(i) < 0);
          CHECK(o.row(i).isZero(0));
          CHECK(dq.row(i).isZero(0));
        }
        CHECK(std::isfinite(lse(0)));
      }
    }
  }
}
