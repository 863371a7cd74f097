// SPDX-License-Identifier: Apache-2.0
// cuDNN's fused flash attention (SDPA) on device 0, beside our kernels (bench.h): the dense,
// causal and sliding-window settings of the plan, forward and backward, as profile rows with
// impl "cudnn".
#include <algorithm>
#include <cudnn.h>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/cudnn_sdpa.h"
#include "calibrate/cuda/device_ops.h"
#include "calibrate/cuda/sdpa_graph.h"

namespace attnsim::calibrate::cuda {
namespace {

class CudnnHandle {
 public:
  explicit CudnnHandle(cudaStream_t stream) {
    check_cudnn(cudnnCreate(&handle_), "cudnnCreate");
    const cudnnStatus_t status = cudnnSetStream(handle_, stream);
    if (status != CUDNN_STATUS_SUCCESS) {
      cudnnDestroy(handle_);
      check_cudnn(status, "cudnnSetStream");
    }
  }

  CudnnHandle(const CudnnHandle&) = delete;
  CudnnHandle& operator=(const CudnnHandle&) = delete;

  ~CudnnHandle() { cudnnDestroy(handle_); }

  cudnnHandle_t get() const { return handle_; }

 private:
  cudnnHandle_t handle_ = nullptr;
};

SdpaShape shape_of(const AttentionCase& a) {
  SdpaShape s;
  s.batch = a.batch;
  s.heads = a.heads;
  s.seq = a.seq;
  s.head_dim = a.head_dim;
  s.causal = a.kind == AttentionKind::kCausal || a.kind == AttentionKind::kSlidingWindow;
  s.window = a.kind == AttentionKind::kSlidingWindow ? a.window : 0;
  s.dtype = a.dtype;
  return s;
}

// The setting with its batch and heads: the cuDNN notes and rows name the whole call.
std::string call_text(const AttentionCase& a) {
  return setting_text(a) + " batch " + std::to_string(a.batch) + " x " + std::to_string(a.heads) +
         " heads";
}

// Device memory for every tensor the two plans bind, one buffer per uid (Q, K, V, dO filled as
// measure_attention fills them), and one workspace serving both plans.
class SdpaBuffers {
 public:
  SdpaBuffers(const SdpaPlan& fwd, const SdpaPlan& bwd, const AttentionCase& a,
              cudaStream_t stream) {
    for (const SdpaPlan* plan : {&fwd, &bwd}) {
      for (const std::int64_t uid : plan->device_uids()) {
        if (memory_.count(uid) == 0) {
          memory_.try_emplace(uid, 0, static_cast<std::size_t>(plan->tensor_bytes(uid)));
        }
      }
    }
    const std::int64_t workspace = std::max(fwd.workspace_bytes(), bwd.workspace_bytes());
    workspace_.emplace(0, static_cast<std::size_t>(std::max<std::int64_t>(workspace, 256)));
    const FillType fill = a.dtype == "fp16" ? FillType::kFloat16 : FillType::kBFloat16;
    std::uint64_t seed = 10;
    for (const std::int64_t uid : {sdpa_uid::kQ, sdpa_uid::kK, sdpa_uid::kV, sdpa_uid::kDO}) {
      ATTNSIM_CUDA_CHECK(fill_uniform(memory_.at(uid).get(), fwd.tensor_bytes(sdpa_uid::kQ) / 2,
                                      fill, seed++, stream));
    }
  }

  std::map<std::int64_t, void*> pointers() const {
    std::map<std::int64_t, void*> p;
    for (const auto& [uid, memory] : memory_) {
      p[uid] = memory.get();
    }
    return p;
  }

  void* workspace() const { return workspace_->get(); }

 private:
  std::map<std::int64_t, DeviceMemory> memory_;
  std::optional<DeviceMemory> workspace_;
};

// Plans (or says why not) and times one setting: two rows, or one note.
void measure_setting(Session& s, cudnnHandle_t handle, int version, const AttentionCase& a,
                     Measurements& m) {
  const SdpaShape shape = shape_of(a);
  const std::string setting = call_text(a);
  const std::string unsupported = sdpa_unsupported(shape);
  if (!unsupported.empty()) {
    m.notes.push_back("cuDNN SDPA " + setting + ": not run: " + unsupported + ".");
    return;
  }
  std::optional<SdpaPlan> fwd;
  std::optional<SdpaPlan> bwd;
  try {
    fwd.emplace(handle, sdpa_forward_graph(shape, version), version);
    bwd.emplace(handle, sdpa_backward_graph(shape, version), version);
  } catch (const CudnnError& e) {
    m.notes.push_back("cuDNN SDPA " + setting + ": no plan, no cudnn rows: " + e.what() + ".");
    return;
  }
  const SdpaBuffers buffers(*fwd, *bwd, a, s.stream);
  std::vector<AttentionPoint> rows;
  try {
    fwd->bind(buffers.pointers(), buffers.workspace());
    bwd->bind(buffers.pointers(), buffers.workspace());
    for (const bool backward : {false, true}) {
      // The forward's O and Stats, which the backward reads, are in place after the forward
      // point (its probe call at least), as for our kernels.
      SdpaPlan& plan = backward ? *bwd : *fwd;
      const PointTiming t = time_point(s.timing, {0}, {s.stream}, [&] { plan.execute(handle); });
      AttentionPoint row = attention_row(a, backward);
      row.impl = "cudnn";
      row.tflops = attention_flops(a, backward) / t.timing.median_s * 1e-12;
      row.source = "measured: cuDNN " + cudnn_version_text(version) + " SDPA " +
                   (backward ? "backward" : "forward") +
                   " (backend graph API, calibrate/cuda/sdpa_graph.h; " + plan.engine() +
                   "), BSHD, " + setting + ", FLOPs of the kept pairs by profile.h's convention; " +
                   runs_text(t);
      rows.push_back(std::move(row));
      s.step("attention", "cudnn " + setting + (backward ? " bwd" : " fwd"));
    }
  } catch (const CudnnError& e) {
    m.notes.push_back("cuDNN SDPA " + setting + ": failed to run, no cudnn rows: " + e.what() +
                      ".");
    return;
  }
  for (AttentionPoint& row : rows) {
    m.attention.push_back(std::move(row));
  }
}

}  // namespace

int cudnn_version() {
  return static_cast<int>(cudnnGetVersion());
}

void measure_cudnn_attention(Session& s, Measurements& m) {
  const std::vector<AttentionCase> plan = cudnn_attention_plan(s.options->quick);
  const int version = cudnn_version();
  std::optional<CudnnHandle> handle;
  try {
    handle.emplace(s.stream);
  } catch (const CudnnError& e) {
    m.notes.push_back("cuDNN " + cudnn_version_text(version) +
                      ": no fused-attention rows: " + e.what() + ".");
  }
  // Two progress steps per setting (forward, backward), whatever became of it.
  for (const AttentionCase& a : plan) {
    const int done = s.done;
    if (handle) {
      measure_setting(s, handle->get(), version, a, m);
    }
    while (s.done < done + 2) {
      s.step("attention", "cudnn " + call_text(a) + " skipped");
    }
  }
}

}  // namespace attnsim::calibrate::cuda
