// SPDX-License-Identifier: Apache-2.0
// The interface every calibration backend implements (`attnsim calibrate --backend NAME`):
// measure this machine, return a hardware profile (SPEC section 5). The CPU backend is always
// built (calibrate/cpu/); the CUDA + NCCL backend lives in calibrate/cuda/ and is linked in
// only when the CUDA toolkit is found, so this header names no CUDA type.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "calibrate/profile.h"

namespace attnsim::calibrate {

/// Where a measurement run stands, for a progress display.
struct Progress {
  std::string stage;  // "gemm", "attention", "memory", "dispatch", "comm"
  std::string what;   // the point just measured, e.g. "256x896x256"
  int done = 0;       // points finished (measured or skipped), 1..total
  int total = 0;      // points planned
};

/// What a backend is asked to do.
struct MeasureOptions {
  /// Small shapes and short time budgets: a smoke test of the whole pipeline (under a minute).
  bool quick = false;
  /// provenance.tool, e.g. "attnsim 0.1.0".
  std::string tool;
  /// The profile's name.
  std::string name;
  /// GPU backends: the built-in profile whose datasheet peaks and fabric (NIC, PCIe, NVLS;
  /// with one GPU also the communication tables) the profile takes, as `--inherit` names
  /// it; "" = the built-in matching the device's name, if any. The CPU backend ignores it.
  std::string builtin;
  /// Called after each point; may be empty.
  std::function<void(const Progress&)> progress;
};

/// A calibration backend.
///
/// Inputs:  MeasureOptions; the machine itself.
/// Output:  a profile with source "measured" that parse_profile() accepts (to_json() of it
///          re-reads to the same profile): provenance, peaks, compute tables, comm tables
///          and fitted links, every figure's `source` saying how it was obtained.
/// Errors:  config::RuntimeFailure with a one-line message when the machine cannot be
///          measured (no device, a library error, an unreadable system file).
class Backend {
 public:
  virtual ~Backend() = default;

  /// The --backend name, e.g. "cpu".
  virtual std::string name() const = 0;

  /// "" when this backend can measure here, else a one-line reason ("no CUDA device found").
  virtual std::string unavailable_reason() const = 0;

  virtual Profile measure(const MeasureOptions& options) const = 0;
};

/// The CPU backend (calibrate/cpu/cpu_backend.h): Eigen GEMMs, a tiled attention reference,
/// memcpy bandwidth and thread-to-thread transfers.
std::unique_ptr<Backend> make_cpu_backend();

/// The CUDA backend, or nullptr when this binary was built without it (calibrate/cuda/
/// defines it when built; cuda_absent.cpp otherwise).
std::unique_ptr<Backend> make_cuda_backend();

}  // namespace attnsim::calibrate
