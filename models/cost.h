// SPDX-License-Identifier: Apache-2.0
// Per-op compute costs from a hardware profile (SPEC section 5): GEMMs, attention kernels and
// memory-bound ops, each with whether the figure came from inside the profile's measured range
// (interpolated) or from a fitted model beyond it (extrapolated, reported in results).
//
// Every op: t = max(t_compute, t_memory) + t_launch, with t_launch the profile's
// launch_overhead_us (0 when not measured; table rows are taken as kernel time without it).
// Symbols: F FLOPs, r achieved FLOP/s, P the dtype's datasheet peak FLOP/s, S bytes,
// B(S) achieved HBM bytes/s, b dtype bytes (4 fp32/tf32, 2 bf16/fp16, 1 fp8).
// "Rows of the dtype" are the rows of its class: bf16 and fp16 share the 16-bit rows; each
// row's rate is scaled by P / (peak of the row's dtype) (1 wherever both peaks are equal).
//
// GEMM, C[b] = A[b] (m x k) · B[b] (k x n): F = 2·b·m·n·k, S = b·(m·k + k·n + m·n)·b_dtype,
// t_memory = S / B(S). The rate is looked up against F, not min(m, n, k): on the H100 XLA
// table (hardware.md 5.2) 1024x1024x1024 runs at 252.8 TFLOP/s and 1024x4096x4096 at 751.9,
// so min(m,n,k) gives two rates for one abscissa, while against F all eight rows lie on one
// rising curve (Calculon keys its efficiency by GFLOPs per op for the same reason, section 6).
//   a row of this exact (b, m, n, k):     r = the row's rate
//   F inside the rows' range:             r = log-log interpolation (calibrate/fit.h)
//   F below it, >= 2 distinct F:          the overhead-rate fit t = t0 + F/R of all the rows,
//                                         scaled to meet the smallest row: r = r_min ·
//                                         R(F)/R(F_min) with R(F) = F/(t0 + F/R)   [flagged]
//   F above it, one row, or no rows:      roofline r = P·e, e the best measured efficiency of
//                                         the dtype, else 0.803 (the median BF16 MAMF % of
//                                         peak over seven GPUs, hardware.md 5.2)   [flagged]
// Example (h100-sxm bf16): 4096^3 is a row, 780.2 TFLOP/s, 176.2 us; 3000^3 (54 GFLOP)
// interpolates between 34.4 GFLOP (751.9) and 68.7 GFLOP (752.3); 128^3 (4.2 MFLOP) takes
// the fit (t0 ~ 5.4 us, R ~ 814 TFLOP/s) scaled to 6.7 TFLOP/s at 256^3: ~ 5.0 us; a 16 x
// 8192 x 8192 GEMM (decode) is bound by reading the 134 MB weight at 3.35 TB/s: 40 us.
//
// Attention: F is given (FlashAttention convention, mask.h); the kernel runs dense tiles of
// tile_q x tile_k (triangular when causal_tiles) and the rate is looked up against the tile
// size x = sqrt(tile_q·tile_k), compared with the rows' sqrt(seq_q·seq_k), in the series of
// the implementation for (pass, causal, head dim):
//   head dim      the nearest the rows have (log distance)                    [flagged if not d]
//   pass          bwd rows; else from fwd_bwd and fwd rows of the same seq, by the FLOP
//                 convention fwd_bwd = fwd + bwd, F_bwd = 2.5·F_fwd:
//                 r_bwd = 2.5 / (3.5/r_fwd_bwd - 1/r_fwd) (and r_fwd likewise from bwd);
//                 fwd_bwd rows alone serve both passes at their rate             [flagged];
//                 no rows of the pass: the other pass x 0.87 (bwd) or / 0.87 (fwd): bwd/fwd
//                 of FA3 561/648, FA2-H100 322/370, FA2-A100 196/225 at d128 (hardware.md
//                 5.3)                                                             [flagged]
//   causal        rows of that masking; else the other masking's series x the
//                 causal/non-causal ratio of another pass of the same impl at the same x
//                 (x 1 when none)                                                  [flagged]
//   x in range    log-log interpolation
//   x outside     the overhead-rate model per query row, W = 4·x·d FLOPs (2·x·d causal),
//                 t_row = t0 + W/R fitted to the series, scaled to meet the end row; one
//                 row only: r ∝ x/(x + 234) below, constant above                  [flagged]
// t_memory: each tile reads Q, K, V and writes O (forward) or also reads O, dO and writes
// dQ, dK, dV (backward): S = F / F_tile · (2 or 4)·(tile_q + tile_k)·d·b_dtype, with
// F_tile = 4·tile_q·tile_k·d (halved when causal, x 2.5 backward). With no rows for the
// dtype class (gtx1080, fp32 on h100) the roofline r = P·e·0.82·x/(x + 234)    [flagged]:
// 0.82 = FA3 fwd d128 648 / H100 MAMF 794.5 (0.816) and FA2 fwd d128 225 / A100 MAMF 271.2
// (0.830), hardware.md 5.2-5.3; x/(x + 234): the overhead-rate fit of the FA3 fwd d128
// sequence sweep (430.3 ... 620.7 TFLOP/s at 512 ... 16k, hardware.md 5.3), R = 630, x0 = 234.
// Example (h100-sxm bf16, fa3 fwd d128 non-causal): x = 512 gives the row's 467 TFLOP/s; a
// 64-token tile (x = 64) is below the rows: the fit (R ~ 670 TFLOP/s, x0 = t0·R/(4d) ~ 209
// tokens) scaled to 467 at 512 gives ~ 154 TFLOP/s, and the memory floor binds first
// (F_tile/S = x/2 = 32 FLOP/B at 3.35 TB/s: 107 TFLOP/s); causal 64-token tiles: 54.
//
// Masks measured on their own: a profile row of kind sliding_window or dilated
// (calibrate/profile.h; `attnsim calibrate --backend cuda` writes them) is the call's measured
// time t_meas. The tables above price the same call by its tiles (mask.h's mask_block over the
// whole sequence, one head), t_tiles; the factor t_tiles / t_meas corrects every call of that
// kind: t = t_tiles(call) / factor, the factor interpolated log-log against the tile size x
// among the kind's rows of the same pass (implementation and dtype class as the tables; the
// nearest head dim), the end factor beyond them. So the model reproduces each such row
// exactly; a profile without them prices those masks by their tiles alone.
//
// Memory-bound ops: t_memory = S / B(S): log-log interpolation of the compute.memory rows
// (bandwidth against bytes, all ops together); below them the alpha-beta fit t = a + S/beta
// scaled to meet the smallest row, above them the largest row's bandwidth     [flagged];
// no rows: the datasheet hbm_bandwidth_GBps (hardware.md gives no achieved-HBM efficiency,
// so none is assumed)                                                           [flagged].
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "calibrate/profile.h"
#include "models/workload.h"
#include "sim/time.h"

namespace attnsim::models {

/// The price of one op.
struct Cost {
  sim::Time time;
  bool extrapolated = false;  // outside the measured range: priced by the fitted model
};

enum class Pass { kForward, kBackward };

/// Prices ops on one GPU of a profile, in one dtype.
///
/// Inputs:  a parsed profile; `dtype` one of the profile's peak keys; `attention_impl` one of
///          the profile's attention implementations, or "" for the fastest one it has for
///          the dtype's class (16-bit rows serve bf16 and fp16; fp32 uses the fp32 rows or,
///          with none, the roofline at the fp32 peak). Fastest: among implementations with
///          backward rows (bwd or fwd_bwd) if any has them, then among those with a measured
///          row (one not marked extrapolated) if any has one, the one with the highest row;
///          ties go to the first name. So on h200-sxm the measured cuDNN rows win over FA3
///          rows carried over from H100, though FA3's d256 forward row is the higher.
/// Errors:  the constructor throws config::InputError when the profile has no peak for the
///          dtype, naming the profile and the dtype, or when `attention_impl` is not one of
///          the implementations the profile has rows for in the dtype's class (a profile
///          with no attention rows for the class prices every implementation by the
///          roofline above).
class CostModel {
 public:
  CostModel(const calibrate::Profile& profile, const std::string& dtype,
            const std::string& attention_impl = "");

  /// C[b] = A[b] (m x k) · B[b] (k x n): 2·b·m·n·k FLOPs.
  Cost gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) const;

  /// An attention kernel doing `flops` of work made of dense sub-problems of tile_q queries
  /// by tile_k keys (mask_block()'s tile shape) with head dim `head_dim`, for a mask of `kind`
  /// (kSlidingWindow and kDilated take the profile's measured correction, if it has one).
  Cost attention(Pass pass, bool causal_tiles, int head_dim, double tile_q, double tile_k,
                 double flops, AttentionKind kind = AttentionKind::kDense) const;

  /// A memory-bound op (norm, element-wise, copy) moving `bytes` to and from HBM in total.
  Cost memory_bound(double bytes) const;

  /// Datasheet peak FLOP/s of the dtype (MFU's denominator).
  double peak_flops() const;
  /// HBM capacity in bytes.
  double hbm_bytes() const;
  /// The attention implementation whose rows price attention ("roofline" when none fits).
  const std::string& attention_impl() const;

 private:
  struct Tables;
  std::shared_ptr<const Tables> tables_;
};

/// The achieved TFLOP/s `cost` predicts for the call a profile attention row measured: its
/// pass, mask, head dim and seq_q x seq_k shape, FLOPs as calibrate::AttentionPoint counts them
/// (a fwd_bwd row: the forward and backward kernels one after the other).
double predicted_tflops(const CostModel& cost, const calibrate::AttentionPoint& row);

}  // namespace attnsim::models
