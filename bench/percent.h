// SPDX-License-Identifier: Apache-2.0
// How the validation generators print a relative error: one decimal, with its sign.
#pragma once

#include <iomanip>
#include <sstream>
#include <string>

namespace attnsim::bench {

/// 0.0312 -> "+3.1 %"; `sign` false drops the plus sign.
inline std::string percent(double x, bool sign = true) {
  std::ostringstream o;
  if (sign) {
    o << std::showpos;
  }
  o << std::fixed << std::setprecision(1) << 100.0 * x << " %";
  return o.str();
}

}  // namespace attnsim::bench
