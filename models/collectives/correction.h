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
// Outside [S_1, S_k] the table is extended by a fitted alpha-beta model of the algorithm and
// protocol NCCL runs there (the tuner's choice, models/collectives/nccl_tuning.h). Above S_k:
// the points of the table's top run that share the choice at S_k, within a factor 16 of S_k
// (five points of nccl-tests' factor-2 sweep, two of a quick calibration's factor-16 one), are
// fitted by t = alpha + S / beta on relative residuals (calibrate/fit.h, Eigen least
// squares), and
//     t(S) = t_meas(S_k) · (alpha + S / beta) / (alpha + S_k / beta)
// the fit scaled to pass through the last measurement, so the price is continuous at S_k and
// grows at the fitted bandwidth beyond it. Below S_1 the same with the bottom run. Example:
// measured 10 us + S / (80 GB/s) exactly, S_k = 1 GiB: 2 GiB gets 10 + 26843.5 us. The
// factor is then c(S) = t(S) / t_model(S). It exists only when the tuner's choice at S is the
// one at the edge and its run holds two sizes or more; otherwise, and for a (collective, n)
// never measured or a group across nodes, c = 1 and the model runs alone. Either way the
// lookup is not `calibrated`, and results list the collective under `extrapolated`
// (strategies/common.h add_collective), naming the fit when one priced it.
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

  struct Lookup {
    double factor = 1;
    bool calibrated = false;  // inside a measured size range
    bool fitted = false;      // outside it, priced by the fitted alpha-beta tail (above)
    Algo algo = Algo::kRing;  // the tail's algorithm and protocol, when fitted
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
  const std::optional<Tail>& tail(Collective c, int ranks, const Table& table,
                                  bool above) const;  // caller holds mutex_

  ModelTime model_;
  ModelChoice choice_;
  std::map<std::pair<Collective, int>, Table> tables_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<Collective, int, double>, double> model_cache_;
  mutable std::map<std::tuple<Collective, int, bool>, std::optional<Tail>> tails_;
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
