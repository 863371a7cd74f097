// SPDX-License-Identifier: Apache-2.0
// The CPU calibration backend: measures this machine's CPU as one "device" (all hardware
// threads) so that the whole calibrate -> profile -> simulate pipeline runs, and is tested,
// without a GPU. What it measures and how: bench.h; the profile it returns: cpu_backend.cpp.
#pragma once

#include "calibrate/backend.h"
#include "calibrate/timing.h"

namespace attnsim::calibrate::cpu {

/// Runs every CPU benchmark with `clock` and returns the measured profile (Backend::measure's
/// contract). Errors: config::RuntimeFailure when /proc/meminfo gives no MemTotal or the
/// thread link cannot be fitted.
Profile measure_cpu(const MeasureOptions& options, Clock& clock);

}  // namespace attnsim::calibrate::cpu
