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
// shares links as the flow model says. Outside [S_1, S_k], or for a (collective, n) never
// measured, c = 1: the model runs uncorrected and the lookup says so, and results list the
// collective under `extrapolated` (strategies/common.h add_collective).
//
// Why: NCCL's own alpha-beta model (nccl_tuning.h) is exact at both ends of the nccl-tests
// curves but 10-40 % optimistic in the middle (2 MiB - 512 MiB) on both H100 NVLS and A100
// ring (hardware.md T1, T4): pipelining and chunking effects its constants do not capture.
// The same device as NCCL's treeCorrectionFactor and SimAI's per-size ratio tables.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "models/collectives/collective.h"

namespace attnsim::models {

class Corrections {
 public:
  /// Uncorrected simulated time (us) of `c` of `bytes` over `ranks` ranks alone on the
  /// reference node.
  using ModelTime = std::function<double(Collective c, int ranks, double bytes)>;

  struct Lookup {
    double factor = 1;
    bool calibrated = false;  // inside a measured size range
  };

  explicit Corrections(ModelTime model) : model_(std::move(model)) {}

  /// Adds the measured table for `c` over `ranks` ranks on one node: (size, time us) pairs,
  /// sizes strictly increasing.
  void add(Collective c, int ranks, std::vector<std::pair<double, double>> measured_us);

  /// The factor for `c` of `bytes` over `ranks` ranks on `nodes` nodes. Thread-safe.
  Lookup at(Collective c, int ranks, int nodes, double bytes) const;

  bool empty() const { return tables_.empty(); }

 private:
  ModelTime model_;
  std::map<std::pair<Collective, int>, std::vector<std::pair<double, double>>> tables_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<Collective, int, double>, double> model_cache_;
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
