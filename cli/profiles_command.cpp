// SPDX-License-Identifier: Apache-2.0
// `attnsim profiles`: the built-in hardware profiles, one line each.
#include <iomanip>
#include <sstream>

#include "calibrate/profile.h"
#include "cli/commands.h"

namespace attnsim::cli {

int run_profiles(std::ostream& out) {
  out << std::left << std::setw(12) << "name" << std::setw(34) << "device" << std::setw(10)
      << "bf16 TF/s" << std::setw(9) << "HBM GB"
      << "scale-up\n";
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
    out << std::setw(12) << name << std::setw(34) << p.provenance.device << std::setw(10)
        << tf.str() << std::setw(9) << hbm.str() << link.str() << "\n";
  }
  return 0;
}

}  // namespace attnsim::cli
