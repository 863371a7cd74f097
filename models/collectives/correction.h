// SPDX-License-Identifier: Apache-2.0
// Calibration of the collective model by measured tables (SPEC section 5: interpolate between
// measured sizes, extrapolate with the fitted model).
//
// For a collective measured on one node over n ranks at sizes S_1 < ... < S_k (a profile's
// comm.measurements with algo and proto "default", i.e. NCCL's own choice), a size S inside
// [S_1, S_k] gets the factor
//     c(S) = t_meas(S) / t_model(S)
// where t_meas interpolates the measured times linearly in log(size)-log(time) and t_model is
// attnsim's simulation of the same collective, alone, on the profile's reference node. A
// corrected collective scales both its latency and its bytes on the wire by c, so alone on
// that node it takes exactly the interpolated measurement, and under contention it still
// shares links as the flow model says.
//
// Outside [S_1, S_k] the table is extended, continuously at its ends:
//
// Above S_k, the model carries the measured offset:
//     t(S) = t_model(S) + (t_meas(S_k) - t_model(S_k))
// How time grows with size is the model's: NCCL's alpha-beta per algorithm and protocol
// (nccl_tuning.h) over the flow model with the profile's fitted link rates; the excess the
// measurement shows at S_k (pipeline fill, launch and proxy costs the model misses) is kept as
// a constant. Example: T1's 8 GiB measured 31307 us against the model's 31333.7; the model's
// 62642.1 us at 16 GiB becomes 62615.4 (measured 62648). Chosen by leaving out every size past
// a cut of T1 (8x H100) and T4 (8x A100) at 2 MiB ... 512 MiB: median error 0.2-12.8 %,
// against 0.3-17.7 % for the model alone and 1.8-64.5 % for an alpha-beta fit of the top
// sizes scaled through S_k, which takes the bandwidth of a curve still ramping up
// (bench/validate.cpp writes the comparison into docs/validation.md).
//
// Below S_1 (latency-bound sizes), a fitted alpha-beta model of the protocol NCCL runs there
// (the tuner's choice): the sizes from S_1 up, within 16x of it, that share the choice at S_1
// (five of nccl-tests' factor-2 sweep) are fitted by t = alpha + S / beta on relative
// residuals (calibrate/fit.h, Eigen least squares), and
//     t(S) = t_meas(S_1) · (alpha + S / beta) / (alpha + S_1 / beta)
// the fit scaled to pass through the first measurement. Example: measured 5 us + S / (2 GB/s)
// exactly, S_1 = 1 KiB: 8 B gets 5.004 us. It exists only when the tuner's choice at S is the
// one at S_1 and the run holds two sizes or more. There, on A100 (T4, which starts at 32 KiB,
// where NCCL's LL latency constants are 2.7x too fast) the fit is within 2.4 %, the offset
// within 5 % and the model 170 % off; on H100 (T1 from 1 KiB) all three are within 7-12 %.
//
// Otherwise, and for a (collective, n) never measured or a group across nodes, c = 1 and the
// model runs alone. Outside the table the lookup is never `calibrated`, and results list the
// collective under `extrapolated` (strategies/common.h add_collective), naming what priced it.
//
// Why: NCCL's own alpha-beta model (nccl_tuning.h) is exact at both ends of the nccl-tests
// curves but 10-40 % optimistic in the middle (2 MiB - 512 MiB) on both H100 NVLS and A100
// ring (hardware.md T1, T4): pipelining and chunking effects its constants do not capture.
// The same device as NCCL's treeCorrectionFactor and SimAI's per-size ratio tables.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "calibrate/fit.h"
#include "models/collectives/collective.h"
#include "models/collectives/nccl_tuning.h"

namespace attnsim::models {

class Corrections {
 public:
  /// Uncorrected simulated time (us) of `c` of `bytes` over `ranks` ranks alone on the
  /// reference node.
  using ModelTime = std::function<double(Collective c, int ranks, double bytes)>;

  /// The (algorithm, protocol) NCCL's tuner picks for the same call.
  using ModelChoice = std::function<std::pair<Algo, Proto>(Collective c, int ranks, double bytes)>;

  /// How a size outside the measured range was priced (see the header).
  enum class Extension {
    kNone,    // the model alone
    kOffset,  // above the table: the model plus the offset measured at its largest size
    kFit,     // below it: the alpha-beta fit of its smallest sizes
  };

  struct Lookup {
    double factor = 1;
    bool calibrated = false;  // inside a measured size range
    Extension extension = Extension::kNone;
    Algo algo = Algo::kRing;  // kFit: the fitted sizes' algorithm and protocol
    Proto proto = Proto::kSimple;
  };

  Corrections(ModelTime model, ModelChoice choice)
      : model_(std::move(model)), choice_(std::move(choice)) {}

  /// Adds the measured table for `c` over `ranks` ranks on one node: (size, time us) pairs,
  /// sizes strictly increasing.
  void add(Collective c, int ranks, std::vector<std::pair<double, double>> measured_us);

  /// The factor for `c` of `bytes` over `ranks` ranks on `nodes` nodes. Thread-safe.
  Lookup at(Collective c, int ranks, int nodes, double bytes) const;

  bool empty() const { return tables_.empty(); }

 private:
  /// A table's end extended by the fit of its run of one (algorithm, protocol).
  struct Tail {
    Algo algo;
    Proto proto;
    calibrate::AlphaBeta fit;
    double edge_bytes, edge_us;
  };

  using Table = std::vector<std::pair<double, double>>;

  double model_us(Collective c, int ranks, double bytes) const;  // caller holds mutex_
  const std::optional<Tail>& bottom_tail(Collective c, int ranks,
                                         const Table& table) const;  // caller holds mutex_

  ModelTime model_;
  ModelChoice choice_;
  std::map<std::pair<Collective, int>, Table> tables_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<Collective, int, double>, double> model_cache_;
  mutable std::map<std::pair<Collective, int>, std::optional<Tail>> tails_;
};

/// Log-log interpolation of a (size, time) table at `bytes` inside its range.
double interpolate_loglog(const std::vector<std::pair<double, double>>& table, double bytes);

/// Drops single-run glitches from a (size, time) table. A larger message never takes less
/// time, so a point more than 10 % slower than the next larger size, or more than 10 % faster
/// than the next smaller one, is a hiccup of the measurement, not behaviour to learn.
/// Example: hardware.md T1 has 68.14 us at 32 B but 14.92 us at 64 B; its in-place column
/// reads 13.52 us at 32 B.
std::vector<std::pair<double, double>> without_outliers(
    const std::vector<std::pair<double, double>>& table);

}  // namespace attnsim::models
