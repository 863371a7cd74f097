// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's benchmarks (internal to calibrate/cuda/): device memory and events with
// owners, the per-point timing loop, and one function per table. What is measured at which
// sizes is plan.h's; how a run becomes a profile is assemble.h's.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "calibrate/backend.h"
#include "calibrate/cuda/assemble.h"
#include "calibrate/cuda/plan.h"
#include "calibrate/profile.h"
#include "calibrate/timing.h"

namespace attnsim::calibrate::cuda {

/// cudaMalloc'ed bytes on one device, freed on destruction.
class DeviceMemory {
 public:
  DeviceMemory(int device, std::size_t bytes);
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory();

  void* get() const { return data_; }

 private:
  int device_ = 0;
  void* data_ = nullptr;
};

/// A CUDA event on the current device, destroyed with its owner.
class Event {
 public:
  Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

/// A stream on the current device, destroyed with its owner.
class Stream {
 public:
  Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// State shared by the benchmarks of one run (device 0 is current).
struct Session {
  const MeasureOptions* options = nullptr;
  GpuTiming timing;
  cudaStream_t stream = nullptr;  // device 0's
  int done = 0;
  int total = 0;

  /// Counts one point and reports progress.
  void step(const std::string& stage, const std::string& what);
};

/// The timing of one point: per-call statistics, and the calls per timed batch.
struct PointTiming {
  Timing timing;
  int calls = 1;
};

/// Times one point (plan.h): `begin()` then `call` on each device's stream `calls` times, then
/// `end()`, where begin/end record one event pair per device; the time of a batch is the
/// longest device's elapsed time over the calls. A probe batch of one call picks `calls`.
/// `streams` are the streams `call` enqueues on, `devices` their devices.
PointTiming time_point(const GpuTiming& timing, const std::vector<int>& devices,
                       const std::vector<cudaStream_t>& streams, const std::function<void()>& call);

/// "median of 7 batches of 40 calls" style text for a row's source.
std::string runs_text(const PointTiming& t);

// --- compute_bench.cpp ----------------------------------------------------------------------

/// The GEMMs of gemm_plan() that fit the device's free memory (fit_gemm_plan) into m.gemm; a
/// note in m.notes lists those that do not (counted as done, skipped).
void measure_gemm(Session& s, Measurements& m);

/// Our kernels' rows for `settings` (attention_plan(), or a benchmark's own list), forward and
/// backward, into m.attention. Counts 2 points per setting.
void measure_attention(Session& s, Measurements& m, const std::vector<AttentionCase>& settings);

std::vector<MemoryPoint> measure_memory(Session& s);

// --- cudnn_bench.cpp (cudnn_absent.cpp where cuDNN is not built in) ------------------------

/// cudnnGetVersion() of the cuDNN loaded, 0 when cuDNN is not built in.
int cudnn_version();

/// cuDNN SDPA forward and backward rows (impl "cudnn") for `settings` into m.attention, timed
/// as measure_attention times ours. A setting cuDNN cannot plan or run adds one line to
/// m.notes instead; no cuDNN failure aborts the run. Counts 2 points per setting.
void measure_cudnn_attention(Session& s, Measurements& m,
                             const std::vector<AttentionCase>& settings);

/// m.launch_us and m.launch_sync_us.
void measure_launch(Session& s, Measurements& m);

// --- comm_bench.cpp -------------------------------------------------------------------------

/// NCCL collectives on GPUs 0 .. ranks-1 (plan.h), one stream per device.
std::vector<CommMeasurement> measure_comm(Session& s, int ranks);

}  // namespace attnsim::calibrate::cuda
