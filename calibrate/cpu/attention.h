// SPDX-License-Identifier: Apache-2.0
// The CPU attention reference that `calibrate --backend cpu` times: FlashAttention's tiled,
// online-softmax algorithm (FlashAttention-2, Dao 2023, Algorithms 1 and 2) for one head in
// fp32, written with Eigen tile products.
//
// Symbols: s tokens (seq_q = seq_k = s, queries and keys aligned), d head dim, scale
// c = 1/sqrt(d), tiles of B = kAttentionTile queries by B keys. Causal: query i sees keys
// j <= i. Sliding window w: query i sees keys i - w < j <= i, and only the tiles holding such
// pairs are visited.
// Forward, per query tile i, over the key tiles j it sees:
//   S = c·Q_i·K_j^T (B x B), masked;  m' = max(m, rowmax S);  P = exp(S - m');
//   l = l·exp(m - m') + rowsum P;     O_i = diag(exp(m - m'))·O_i + P·V_j;  m = m'
//   finally O_i = O_i / l and the log-sum-exp L_i = m + log l (kept for the backward).
// Backward, D = rowsum(dO ∘ O), per key tile j, over the query tiles i that see it:
//   P = exp(c·Q_i·K_j^T - L_i) (masked);  dV_j += P^T·dO_i;  dP = dO_i·V_j^T;
//   dS = P ∘ (dP - D_i);  dQ_i += c·dS·K_j;  dK_j += c·dS^T·Q_i.
// FLOPs (profile.h's convention): forward 4·pairs·d (two products per kept pair), backward
// 2.5 x forward; pairs s² dense, s²/2 causal, w·s - w(w-1)/2 sliding window, s·w/r² (halved
// when causal) for a dilated branch of segment w and rate r.
#pragma once

#include <Eigen/Core>

namespace attnsim::calibrate::cpu {

/// Queries (and keys) per tile.
inline constexpr int kAttentionTile = 64;

/// One head's matrices, tokens x head dim, rows contiguous.
using HeadMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Forward of one head: writes `o` (s x d) and `lse` (s), the log-sum-exp of each query's
/// scaled scores. `window` > 0 is a sliding window (causal with it or not). Precondition: q,
/// k, v are s x d with s >= 1.
void attention_forward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v, bool causal,
                       HeadMatrix& o, Eigen::VectorXf& lse, Eigen::Index window = 0);

/// Backward of one head given the forward's `o` and `lse` and the output gradient `d_o`:
/// writes dq, dk, dv (s x d). `window` as for the forward.
void attention_backward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                        const HeadMatrix& o, const Eigen::VectorXf& lse, const HeadMatrix& d_o,
                        bool causal, HeadMatrix& dq, HeadMatrix& dk, HeadMatrix& dv,
                        Eigen::Index window = 0);

/// One LongNet branch of one head, run the way LongNet implementations run it (gather, dense
/// attention, scatter): in every segment of `segment` tokens (dividing s) the rows t with
/// t ≡ 0 (mod `rate`, dividing the segment) are gathered into a dense segment/rate-token
/// problem that attention_forward solves (causal or not), and the results are scattered back.
/// The other rows keep no key: O = 0 and LSE = -inf.
void dilated_attention_forward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                               Eigen::Index segment, Eigen::Index rate, bool causal, HeadMatrix& o,
                               Eigen::VectorXf& lse);

/// The backward of dilated_attention_forward: gathered per segment, attention_backward, and
/// scattered back; rows outside the branch get no gradient.
void dilated_attention_backward(const HeadMatrix& q, const HeadMatrix& k, const HeadMatrix& v,
                                const HeadMatrix& o, const Eigen::VectorXf& lse,
                                const HeadMatrix& d_o, Eigen::Index segment, Eigen::Index rate,
                                bool causal, HeadMatrix& dq, HeadMatrix& dk, HeadMatrix& dv);

}  // namespace attnsim::calibrate::cpu
