// SPDX-License-Identifier: Apache-2.0
#include "calibrate/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnsim::calibrate::cpu {
namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

// Scores of query tile [i0, i0 + bq) against key tile [j0, j0 + bk), scaled and masked.
void scores(const HeadMatrix& q, const HeadMatrix& k, Eigen::Index i0, Eigen::Index bq,
            Eigen::Index j0, Eigen::Index bk, float scale, bool causal, Eigen::Index window,
            Eigen::MatrixXf& s) {
  s.noalias() = q.middleRows(i0, bq) * k.middleRows(j0, bk).transpose();  // (bq, bk)
  s *= scale;
  const bool crosses_diagonal = causal && j0 + bk - 1 > i0;
  const bool crosses_band = window > 0 && j0 <= i0 + bq - 1 - window;
  if (crosses_diagonal || crosses_band) {
    for (Eigen::Index r = 0; r < bq; ++r) {
      for (Eigen::Index c = 0; c < bk; ++c) {
        const Eigen::Index i = i0 + r;
        const Eigen::Index j = j0 + c;
        if ((causal && j > i) || (window > 0 && j <= i - window)) {
          s(r, c) = kMinusInfinity;
        }
      }
    }
  }
}

// The first key of the aligned tile holding the first key query i0 sees.
Eigen::Index first_key_tile(Eigen::Index i0, Eigen::Index window) {
  if (window <= 0) {
    return 0;
  }
  const Eigen::Index first = std::max<Eigen::Index>(0, i0 - window + 1);
  return first / kAttentionTile * kAttentionTile;
}

// Rows t0, t0 + rate, ..., t0 + (count - 1)·rate of x.
HeadMatrix gather(const HeadMatrix& x, Eigen::Index t0, Eigen::Index count, Eigen::Index rate) {
  HeadMatrix g(count, x.cols());
  for (Eigen::Index j = 0; j < count; ++j) {
    g.row(j) = x.row(t0 + rate * j);
  }
  return g;
}

// The inverse: writes g's rows to those rows of x.
void scatter(const HeadMatrix& g, Eigen::Index t0, Eigen::Index rate, HeadMatrix& x) {
  for (Eigen::Index j = 0; j < g.rows(); ++j) {
    x.row(t0 + rate * j) = g.row(j);
  }
}

}  // namespace

void attention_forward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v, bool causal,
                       HeadMatrix& o, Eigen::VectorXf& lse, Eigen::Index window) {
  causal = causal || window > 0;
  const Eigen::Index s_tokens = q.rows();
  const Eigen::Index d = q.cols();
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  o.resize(s_tokens, d);
  lse.resize(s_tokens);
  Eigen::MatrixXf s;
  Eigen::MatrixXf acc;
  Eigen::VectorXf m;
  Eigen::VectorXf l;
  for (Eigen::Index i0 = 0; i0 < s_tokens; i0 += kAttentionTile) {
    const Eigen::Index bq = std::min<Eigen::Index>(kAttentionTile, s_tokens - i0);
    m.setConstant(bq, kMinusInfinity);
    l.setZero(bq);
    acc.setZero(bq, d);
    const Eigen::Index keys = causal ? i0 + bq : s_tokens;  // keys any query of the tile sees
    for (Eigen::Index j0 = first_key_tile(i0, window); j0 < keys; j0 += kAttentionTile) {
      const Eigen::Index bk = std::min<Eigen::Index>(kAttentionTile, keys - j0);
      scores(q, k, i0, bq, j0, bk, scale, causal, window, s);
      for (Eigen::Index r = 0; r < bq; ++r) {
        const float m_new = std::max(m(r), s.row(r).maxCoeff());
        if (m_new == kMinusInfinity) {  // the row keeps no key of the tiles so far (a window)
          s.row(r).setZero();
          continue;
        }
        const float correction = std::exp(m(r) - m_new);
        s.row(r) = (s.row(r).array() - m_new).exp().matrix();
        l(r) = l(r) * correction + s.row(r).sum();
        acc.row(r) *= correction;
        m(r) = m_new;
      }
      acc.noalias() += s * v.middleRows(j0, bk);  // (bq, bk)·(bk, d)
    }
    for (Eigen::Index r = 0; r < bq; ++r) {
      o.row(i0 + r) = acc.row(r) / l(r);
      lse(i0 + r) = m(r) + std::log(l(r));
    }
  }
}

void attention_backward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                        const HeadMatrix& o, const Eigen::VectorXf& lse, const HeadMatrix& d_o,
                        bool causal, HeadMatrix& dq, HeadMatrix& dk, HeadMatrix& dv,
                        Eigen::Index window) {
  causal = causal || window > 0;
  const Eigen::Index s_tokens = q.rows();
  const Eigen::Index d = q.cols();
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const Eigen::VectorXf row_dot = (d_o.array() * o.array()).rowwise().sum();  // D, (s)
  dq.setZero(s_tokens, d);
  dk.resize(s_tokens, d);
  dv.resize(s_tokens, d);
  Eigen::MatrixXf p;
  Eigen::MatrixXf dp;
  Eigen::MatrixXf dk_tile;
  Eigen::MatrixXf dv_tile;
  for (Eigen::Index j0 = 0; j0 < s_tokens; j0 += kAttentionTile) {
    const Eigen::Index bk = std::min<Eigen::Index>(kAttentionTile, s_tokens - j0);
    dk_tile.setZero(bk, d);
    dv_tile.setZero(bk, d);
    // Tiles are aligned, so with a causal mask the first query tile that sees key j0 is j0's;
    // with a window the last query that sees a key of the tile is j0 + bk + window - 2.
    const Eigen::Index queries =
        window > 0 ? std::min<Eigen::Index>(s_tokens, j0 + bk + window - 1) : s_tokens;
    for (Eigen::Index i0 = causal ? j0 : 0; i0 < queries; i0 += kAttentionTile) {
      const Eigen::Index bq = std::min<Eigen::Index>(kAttentionTile, s_tokens - i0);
      scores(q, k, i0, bq, j0, bk, scale, causal, window, p);
      p = (p.colwise() - lse.segment(i0, bq)).array().exp().matrix();  // P, (bq, bk)
      const auto d_o_i = d_o.middleRows(i0, bq);
      dv_tile.noalias() += p.transpose() * d_o_i;               // (bk, bq)·(bq, d)
      dp.noalias() = d_o_i * v.middleRows(j0, bk).transpose();  // (bq, d)·(d, bk)
      dp = (p.array() * (dp.colwise() - row_dot.segment(i0, bq)).array()).matrix();  // dS
      dq.middleRows(i0, bq).noalias() += scale * (dp * k.middleRows(j0, bk));
      dk_tile.noalias() += scale * (dp.transpose() * q.middleRows(i0, bq));
    }
    dk.middleRows(j0, bk) = dk_tile;
    dv.middleRows(j0, bk) = dv_tile;
  }
}

void dilated_attention_forward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                               Eigen::Index segment, Eigen::Index rate, bool causal, HeadMatrix& o,
                               Eigen::VectorXf& lse) {
  const Eigen::Index count = segment / rate;  // rows of a segment in the branch
  o.setZero(q.rows(), q.cols());
  lse.setConstant(q.rows(), kMinusInfinity);
  HeadMatrix og;
  Eigen::VectorXf lse_g;
  for (Eigen::Index t0 = 0; t0 < q.rows(); t0 += segment) {
    attention_forward(gather(q, t0, count, rate), gather(k, t0, count, rate),
                      gather(v, t0, count, rate), causal, og, lse_g);
    scatter(og, t0, rate, o);
    for (Eigen::Index j = 0; j < count; ++j) {
      lse(t0 + rate * j) = lse_g(j);
    }
  }
}

void dilated_attention_backward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                                const HeadMatrix& o, const Eigen::VectorXf& lse,
                                const HeadMatrix& d_o, Eigen::Index segment, Eigen::Index rate,
                                bool causal, HeadMatrix& dq, HeadMatrix& dk, HeadMatrix& dv) {
  const Eigen::Index count = segment / rate;
  dq.setZero(q.rows(), q.cols());
  dk.setZero(k.rows(), k.cols());
  dv.setZero(v.rows(), v.cols());
  HeadMatrix dq_g;
  HeadMatrix dk_g;
  HeadMatrix dv_g;
  Eigen::VectorXf lse_g(count);
  for (Eigen::Index t0 = 0; t0 < q.rows(); t0 += segment) {
    for (Eigen::Index j = 0; j < count; ++j) {
      lse_g(j) = lse(t0 + rate * j);
    }
    attention_backward(gather(q, t0, count, rate), gather(k, t0, count, rate),
                       gather(v, t0, count, rate), gather(o, t0, count, rate), lse_g,
                       gather(d_o, t0, count, rate), causal, dq_g, dk_g, dv_g);
    scatter(dq_g, t0, rate, dq);
    scatter(dk_g, t0, rate, dk);
    scatter(dv_g, t0, rate, dv);
  }
}

}  // namespace attnsim::calibrate::cpu
