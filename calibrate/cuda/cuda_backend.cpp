// SPDX-License-Identifier: Apache-2.0
// The CUDA + NCCL calibration backend: finds the devices, runs the benchmarks of bench.h in
// plan.h's order and hands the measurements to assemble_profile(). Also the timing loop and
// the owners of device memory, events and streams shared by the benchmarks.
#include <algorithm>
#include <cublas_v2.h>
#include <fstream>
#include <memory>
#include <sstream>

#include <cuda_runtime.h>
#include <nccl.h>

#include "calibrate/backend.h"
#include "calibrate/cpu/host_info.h"
#include "calibrate/cuda/assemble.h"
#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/plan.h"

namespace attnsim::calibrate::cuda {

DeviceMemory::DeviceMemory(int device, std::size_t bytes) : device_(device) {
  ATTNSIM_CUDA_CHECK(cudaSetDevice(device));
  ATTNSIM_CUDA_CHECK(cudaMalloc(&data_, std::max<std::size_t>(bytes, 256)));
}

DeviceMemory::~DeviceMemory() {
  if (cudaSetDevice(device_) == cudaSuccess) {
    cudaFree(data_);
  }
}

Event::Event() {
  ATTNSIM_CUDA_CHECK(cudaEventCreate(&event_));
}

Event::~Event() {
  cudaEventDestroy(event_);
}

Stream::Stream() {
  ATTNSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

Stream::~Stream() {
  cudaStreamDestroy(stream_);
}

void Session::step(const std::string& stage, const std::string& what) {
  ++done;
  if (options->progress) {
    options->progress(Progress{stage, what, done, total});
  }
}

std::string runs_text(const PointTiming& t) {
  return "median of " + std::to_string(t.timing.repeats) +
         (t.timing.repeats == 1 ? " batch of " : " batches of ") + std::to_string(t.calls) +
         (t.calls == 1 ? " call" : " back-to-back calls") +
         " timed with CUDA events, after a probe call and a warm-up batch";
}

PointTiming time_point(const GpuTiming& timing, const std::vector<int>& devices,
                       const std::vector<cudaStream_t>& streams,
                       const std::function<void()>& call) {
  std::vector<std::unique_ptr<Event>> start;
  std::vector<std::unique_ptr<Event>> stop;
  for (const int d : devices) {
    ATTNSIM_CUDA_CHECK(cudaSetDevice(d));
    start.push_back(std::make_unique<Event>());
    stop.push_back(std::make_unique<Event>());
  }
  const auto batch = [&](int calls) {
    for (std::size_t i = 0; i < devices.size(); ++i) {
      ATTNSIM_CUDA_CHECK(cudaSetDevice(devices[i]));
      ATTNSIM_CUDA_CHECK(cudaEventRecord(start[i]->get(), streams[i]));
    }
    for (int c = 0; c < calls; ++c) {
      call();
    }
    for (std::size_t i = 0; i < devices.size(); ++i) {
      ATTNSIM_CUDA_CHECK(cudaSetDevice(devices[i]));
      ATTNSIM_CUDA_CHECK(cudaEventRecord(stop[i]->get(), streams[i]));
    }
    float longest_ms = 0;
    for (std::size_t i = 0; i < devices.size(); ++i) {
      ATTNSIM_CUDA_CHECK(cudaSetDevice(devices[i]));
      ATTNSIM_CUDA_CHECK(cudaEventSynchronize(stop[i]->get()));
      float ms = 0;
      ATTNSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start[i]->get(), stop[i]->get()));
      longest_ms = std::max(longest_ms, ms);
    }
    ATTNSIM_CUDA_CHECK(cudaSetDevice(devices.front()));
    return static_cast<double>(longest_ms) * 1e-3 / calls;
  };
  PointTiming t;
  t.calls = calls_per_batch(timing, batch(1));
  t.timing = time_median_runs([&] { return batch(t.calls); }, timing.policy);
  return t;
}

namespace {

// "" when a device our kernels can run on is present, else why not.
std::string why_unavailable() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorInsufficientDriver) {
    // What a machine without the NVIDIA driver reports too.
    int runtime = 0;
    (void)cudaRuntimeGetVersion(&runtime);
    return "no CUDA device found: no NVIDIA driver, or one older than the CUDA " +
           cuda_version_text(runtime) +
           " runtime this binary was built with (cudaGetDeviceCount: " +
           cudaGetErrorString(status) + ")";
  }
  if (status != cudaSuccess) {
    return std::string("no CUDA device found (cudaGetDeviceCount: ") + cudaGetErrorString(status) +
           ")";
  }
  if (count == 0) {
    return "no CUDA device found";
  }
  cudaDeviceProp props{};
  if (cudaGetDeviceProperties(&props, 0) != cudaSuccess) {
    return "cannot read the properties of CUDA device 0";
  }
  if (props.major < 8) {
    return std::string("CUDA device 0 (") + props.name + ") is sm_" +
           std::to_string(props.major * 10 + props.minor) +
           "; the attention kernels (kernels/) need sm_80 or newer";
  }
  return "";
}

DeviceInfo device_info() {
  DeviceInfo d;
  ATTNSIM_CUDA_CHECK(cudaGetDeviceCount(&d.gpus));
  cudaDeviceProp props{};
  ATTNSIM_CUDA_CHECK(cudaGetDeviceProperties(&props, 0));
  d.name = props.name;
  d.sm_count = props.multiProcessorCount;
  d.compute_capability = props.major * 10 + props.minor;
  d.hbm_bytes = static_cast<double>(props.totalGlobalMem);
  ATTNSIM_CUDA_CHECK(cudaDriverGetVersion(&d.driver_version));
  if (std::ifstream proc("/proc/driver/nvidia/version"); proc) {
    std::ostringstream text;
    text << proc.rdbuf();
    d.driver_release = nvidia_driver_release(text.str());
  }
  ATTNSIM_CUDA_CHECK(cudaRuntimeGetVersion(&d.runtime_version));
  int major = 0;
  int minor = 0;
  int patch = 0;
  ATTNSIM_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  ATTNSIM_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  ATTNSIM_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  d.cublas_version =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  ATTNSIM_NCCL_CHECK(ncclGetVersion(&d.nccl_version));
  d.cudnn_version = cudnn_version();
  const int ranks = comm_ranks(d.gpus);
  d.all_peer_access = ranks >= 2;
  for (int a = 0; a < ranks; ++a) {
    for (int b = 0; b < ranks; ++b) {
      int can = 0;
      if (a != b) {
        ATTNSIM_CUDA_CHECK(cudaDeviceCanAccessPeer(&can, a, b));
        d.all_peer_access = d.all_peer_access && can != 0;
      }
    }
  }
  return d;
}

class CudaBackend : public Backend {
 public:
  std::string name() const override { return "cuda"; }

  std::string unavailable_reason() const override { return why_unavailable(); }

  Profile measure(const MeasureOptions& options) const override {
    const std::string why = why_unavailable();
    if (!why.empty()) {
      throw config::RuntimeFailure("calibrate --backend cuda: " + why);
    }
    Measurements m;
    m.device = device_info();
    ATTNSIM_CUDA_CHECK(cudaSetDevice(0));
    const Stream stream;
    Session s;
    s.options = &options;
    s.timing = gpu_timing(options.quick);
    s.stream = stream.get();
    s.total = planned_points(options.quick, m.device.gpus, m.device.cudnn_version > 0);
    measure_launch(s, m);
    measure_gemm(s, m);
    const std::vector<AttentionCase> settings = attention_plan(options.quick);
    measure_attention(s, m, settings);
    measure_cudnn_attention(s, m, settings);
    m.memory = measure_memory(s);
    for (const int ranks : comm_rank_counts(m.device.gpus, options.quick)) {
      const std::vector<CommMeasurement> rows = measure_comm(s, ranks);
      m.comm.insert(m.comm.end(), rows.begin(), rows.end());
    }
    return assemble_profile(options, m, cpu::iso_date_utc());
  }
};

}  // namespace
}  // namespace attnsim::calibrate::cuda

namespace attnsim::calibrate {

std::unique_ptr<Backend> make_cuda_backend() {
  return std::make_unique<cuda::CudaBackend>();
}

}  // namespace attnsim::calibrate
