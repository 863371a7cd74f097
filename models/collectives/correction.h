// SPDX-License-Identifier: Apache-2.0
// Calibration of the collective model by measured tables (SPEC section 5: interpolate between
// measured sizes, extrapolate with the fitted model).
//
// For a collective measured on one node over n ranks at sizes S_1 < ... < S_k (a profile's
// comm.measurements with algo and proto "default", i.e. NCCL's own choice), the correction is
//     c(S_i) = t_measured(S_i) / t_model(S_i)
// where t_model is attnsim's simulation of the same collective on the profile's reference
// node. Between measured sizes c is interpolated linearly in log2(S); outside [S_1, S_k], or
// for a (collective, n) never measured, c = 1: the model runs uncorrected and the lookup
// says so, so results can flag it. A corrected collective scales both its latency and its
// bytes on the wire by c, so alone it takes exactly c x t_model, and under contention it
// still shares links as the flow model says.
//
// Why: NCCL's own alpha-beta model (nccl_tuning.h) is exact at both ends of the nccl-tests
// curves but 10-40 % optimistic in the middle (2 MiB - 512 MiB) on both H100 NVLS and A100
// ring (hardware.md T1, T4): pipelining and chunking effects that NCCL's constants do not
// capture. The same device as NCCL's treeCorrectionFactor and SimAI's per-size ratio tables.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "models/collectives/collective.h"

namespace attnsim::models {

class Corrections {
 public:
  struct Lookup {
    double factor = 1;
    bool calibrated = false;  // inside a measured size range
  };

  /// Adds the table for `c` over `ranks` ranks on one node: (size, factor) pairs, sizes
  /// strictly increasing.
  void add(Collective c, int ranks, std::vector<std::pair<double, double>> table);

  /// The factor for `c` of `bytes` over `ranks` ranks on `nodes` nodes.
  Lookup at(Collective c, int ranks, int nodes, double bytes) const;

  bool empty() const { return tables_.empty(); }

 private:
  std::map<std::pair<Collective, int>, std::vector<std::pair<double, double>>> tables_;
};

}  // namespace attnsim::models
