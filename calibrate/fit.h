// SPDX-License-Identifier: Apache-2.0
// Looking up and fitting measured tables (SPEC section 5: "interpolate between measured sizes;
// extrapolate with the fitted model, never silently past what the fit supports"): log-log
// interpolation with an out-of-range flag, and the two-parameter least-squares fits.
//
// Model 1, interpolation. Between neighbouring points (x0, y0) and (x1, y1), x0 < x < x1:
//   log y = log y0 + (log x - log x0) / (log x1 - log x0) · (log y1 - log y0)
// i.e. a power law y = y0·(x/x0)^p through both points. Throughput curves (TFLOP/s against
// FLOPs, GB/s against bytes) are close to straight on log-log axes over a decade, and linear
// interpolation in log space never overshoots the neighbours. At a point the point's own y
// comes back exactly. Outside [min x, max x] the table holds the nearest end value and says
// so; the caller then prices with a fitted model. Example: points (1024, 252.8) and
// (2048, 641) (H100 bf16 GEMM, TFLOP/s against M = N = K, hardware.md 5.2): at the geometric
// midpoint x = 1024·sqrt(2) = 1448.2, y = sqrt(252.8 · 641) = 402.5.
//
// Model 2, affine least squares on relative residuals: y = a + b·x with a >= 0, b > 0,
// minimising sum_i ((a + b·x_i - y_i) / y_i)^2. Relative residuals weight every point
// equally whatever its magnitude; plain residuals would let the largest measurement (a 16 GiB
// message, a 137 GFLOP GEMM) decide alone and leave the intercept (latency, launch overhead)
// to chance. Solved by Householder QR (Eigen) of the 2-column system
// [1/y_i, x_i/y_i]·[a, b]^T = 1. When the unconstrained a is negative the fit is redone
// with a = 0 (b = sum(x_i/y_i) / sum((x_i/y_i)^2)). It exists when the points have at least
// two distinct x and the best slope is positive.
//
// Two physical readings of model 2:
//   alpha-beta (communication):   t = alpha + S / beta
//     t seconds, S message bytes, alpha latency in s, beta bandwidth in bytes/s.
//     Example: alpha = 10 us, beta = 400 GB/s: S = 1 MB takes 10 + 2.5 = 12.5 us.
//   overhead-rate (compute):      t = t0 + W / R
//     t seconds, W work in FLOPs, t0 fixed cost in s (launch, pipeline fill, tail wave),
//     R asymptotic rate in FLOP/s. Achieved rate W / t = R·W / (W + t0·R): it rises
//     linearly in W while the fixed cost dominates and saturates at R (a roofline with an
//     overhead). Example: the XLA H100 bf16 table (hardware.md 5.2) gives t0 ~ 5 us,
//     R ~ 800 TFLOP/s: a 256^3 GEMM (33.5 MFLOP) takes ~ 5.0 us (6.7 TFLOP/s achieved), a
//     4096^3 GEMM (137 GFLOP) ~ 177 us (~ 780 TFLOP/s).
//   The same form with W = the FLOPs of one query row of an attention tile prices
//   FlashAttention's per-row fixed cost (load Q, rescale and store O) against its key loop.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace attnsim::calibrate {

/// One measured point. `extrapolated` marks a point that was itself derived rather than
/// measured (a profile row so marked); a look-up that uses it reports extrapolated.
struct Sample {
  double x = 0;
  double y = 0;
  bool extrapolated = false;
};

/// The result of a table look-up.
struct Interpolated {
  double value = 0;
  bool outside = false;       // x below the first or above the last point: the end value
  bool extrapolated = false;  // outside, or a point used was itself extrapolated
};

/// Log-log piecewise-linear interpolation through measured points (model 1 above).
///
/// Inputs:  points with x > 0 and y > 0, finite, in any order; points with equal x are merged
///          into one whose y is their geometric mean (flagged if any of them was).
/// Errors:  a non-positive or non-finite coordinate throws std::invalid_argument (a caller
///          bug: profile values are validated > 0 when read).
class LogLogTable {
 public:
  LogLogTable() = default;
  explicit LogLogTable(std::vector<Sample> points);

  /// y at `x` (> 0): exact at a point, a power law between neighbours, the nearest end
  /// value flagged `outside` beyond them. Precondition: not empty().
  Interpolated at(double x) const;

  bool empty() const { return points_.empty(); }

  /// Smallest and largest x. Precondition: not empty().
  double min_x() const { return points_.front().x; }

  double max_x() const { return points_.back().x; }

  /// The merged points, by increasing x.
  const std::vector<Sample>& points() const { return points_; }

 private:
  std::vector<Sample> points_;
};

/// y = intercept + slope·x fitted on relative residuals (model 2 above).
struct AffineFit {
  double intercept = 0;           // a >= 0, unit of y
  double slope = 0;               // b > 0, unit of y per unit of x
  double rms_relative_error = 0;  // sqrt(mean(((a + b·x_i - y_i) / y_i)^2))
  double min_x = 0, max_x = 0;    // the range the fit was made on
  std::size_t points = 0;

  double operator()(double x) const { return intercept + slope * x; }
};

/// Fits model 2. Returns nullopt with fewer than two distinct x or when no positive slope
/// fits (y falling with x). Errors: a non-positive or non-finite coordinate throws
/// std::invalid_argument.
std::optional<AffineFit> fit_affine_relative(std::span<const Sample> points);

/// Communication: t = alpha + bytes / beta.
struct AlphaBeta {
  double alpha_s = 0;           // latency, seconds
  double beta_bytes_per_s = 0;  // bandwidth, bytes per second (GB/s x 10^9)
  double rms_relative_error = 0;
  double min_bytes = 0, max_bytes = 0;  // the sizes the fit was made on

  /// Seconds to move `bytes`.
  double seconds(double bytes) const { return alpha_s + bytes / beta_bytes_per_s; }
};

/// Fits t = alpha + bytes / beta to samples (x = bytes, y = seconds); nullopt as for
/// fit_affine_relative().
std::optional<AlphaBeta> fit_alpha_beta(std::span<const Sample> bytes_seconds);

/// Compute: t = t0 + work / rate.
struct OverheadRate {
  double t0_s = 0;        // fixed cost, seconds
  double rate_per_s = 0;  // asymptotic rate, work units (FLOPs) per second
  double rms_relative_error = 0;
  double min_work = 0, max_work = 0;  // the work the fit was made on

  /// Seconds for `work`.
  double seconds(double work) const { return t0_s + work / rate_per_s; }

  /// Achieved rate work / seconds(work), work units per second.
  double achieved(double work) const { return work / seconds(work); }
};

/// Fits t = t0 + work / rate to samples (x = work, y = seconds); nullopt as for
/// fit_affine_relative().
std::optional<OverheadRate> fit_overhead_rate(std::span<const Sample> work_seconds);

}  // namespace attnsim::calibrate
