// SPDX-License-Identifier: Apache-2.0
// Numbers as text for tables and summaries, independent of the locale.
#pragma once

#include <string>

namespace attnsim::report {

/// `v` with `decimals` digits after the point: fixed(3.14159, 2) = "3.14".
std::string fixed(double v, int decimals);

}  // namespace attnsim::report
