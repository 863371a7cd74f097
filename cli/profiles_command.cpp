// SPDX-License-Identifier: Apache-2.0
// `attnsim profiles`: the built-in hardware profiles, one line each. Columns are as wide as
// their longest entry; the device, of any length, comes last.
#include <algorithm>
#include <array>
#include <iomanip>
#include <sstream>
#include <vector>

#include "calibrate/profile.h"
#include "cli/commands.h"

namespace attnsim::cli {

int run_profiles(std::ostream& out) {
  using Row = std::array<std::string, 5>;
  std::vector<Row> rows = {{"name", "bf16 TF/s", "HBM GB", "scale-up", "device"}};
  for (const std::string& name : calibrate::builtin_profile_names()) {
    const calibrate::Profile p = calibrate::builtin_profile(name);
    const auto bf16 = p.peaks.flops_per_s.find("bf16");
    std::ostringstream tf;
    if (bf16 != p.peaks.flops_per_s.end()) {
      tf << std::fixed << std::setprecision(0) << bf16->second * 1e-12;
    } else {
      tf << "-";
    }
    std::ostringstream hbm;
    hbm << std::fixed << std::setprecision(0) << p.peaks.hbm_bytes * 1e-9;
    std::ostringstream link;
    link << p.comm.links.scale_up.kind << " " << p.comm.links.scale_up.bandwidth_GBps << " GB/s";
    rows.push_back({name, tf.str(), hbm.str(), link.str(), p.provenance.device});
  }
  std::array<std::size_t, 4> width{};
  for (const Row& r : rows) {
    for (std::size_t c = 0; c < width.size(); ++c) {
      width[c] = std::max(width[c], r[c].size());
    }
  }
  for (const Row& r : rows) {
    for (std::size_t c = 0; c < width.size(); ++c) {
      out << std::left << std::setw(static_cast<int>(width[c] + 2)) << r[c];
    }
    out << r.back() << "\n";
  }
  return 0;
}

}  // namespace attnsim::cli
