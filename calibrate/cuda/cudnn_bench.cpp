// SPDX-License-Identifier: Apache-2.0
// cuDNN's fused flash attention (SDPA) on device 0, beside our kernels (bench.h): every
// setting of the plan, forward and backward, as profile rows with impl "cudnn"; a dilated one
// through gather, dense SDPA and scatter (DilatedLayout).
#include <algorithm>
#include <cstdint>
#include <cudnn.h>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime.h>

#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/cudnn_sdpa.h"
#include "calibrate/cuda/device_ops.h"
#include "calibrate/cuda/sdpa_graph.h"
#include "kernels/attention.h"
#include "kernels/layout.h"

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

// A dilated setting's layout around cuDNN, as LongNet implementations run a fused dense kernel
// on a branch (gather, attention, scatter; microsoft/torchscale): the dense [batch, s, heads, d]
// Q, K, V, dO are gathered into the graphs' [batch·s/w, w/r, heads, d] tensors before a call
// (kernels/layout.h dilated_gather: one branch, offset 0, every head) and O, or dQ, dK, dV,
// scattered back after it. The forward's Stats stay gathered, where the backward reads them.
class DilatedLayout {
 public:
  DilatedLayout(const AttentionCase& a, std::map<std::int64_t, void*> gathered, cudaStream_t stream)
      : shape_{2, a.batch, a.seq, a.heads, a.head_dim}, gathered_(std::move(gathered)) {
    selection_.dilated.branches = 1;
    selection_.dilated.segment_lengths[0] = a.segment;
    selection_.dilated.dilation_rates[0] = a.dilation;
    selection_.head_count = a.heads;
    gathered_tokens_ = kernels::dilated_gathered_tokens(shape_, selection_);
    const std::int64_t elements = std::int64_t{a.batch} * a.seq * a.heads * a.head_dim;
    for (const std::int64_t uid : {sdpa_uid::kQ, sdpa_uid::kK, sdpa_uid::kV, sdpa_uid::kO,
                                   sdpa_uid::kDO, sdpa_uid::kDQ, sdpa_uid::kDK, sdpa_uid::kDV}) {
      dense_.try_emplace(uid, 0, static_cast<std::size_t>(elements) * 2);
    }
    const FillType fill = a.dtype == "fp16" ? FillType::kFloat16 : FillType::kBFloat16;
    std::uint64_t seed = 20;
    for (const std::int64_t uid : {sdpa_uid::kQ, sdpa_uid::kK, sdpa_uid::kV, sdpa_uid::kDO}) {
      ATTNSIM_CUDA_CHECK(fill_uniform(dense_.at(uid).get(), elements, fill, seed++, stream));
    }
  }

  // Before a forward call Q, K, V; before a backward call dO.
  void gather(bool backward, cudaStream_t stream) const {
    const std::vector<std::int64_t> uids =
        backward ? std::vector<std::int64_t>{sdpa_uid::kDO}
                 : std::vector<std::int64_t>{sdpa_uid::kQ, sdpa_uid::kK, sdpa_uid::kV};
    for (const std::int64_t uid : uids) {
      kernels::dilated_gather(
          shape_, selection_,
          kernels::contiguous(static_cast<const void*>(dense_.at(uid).get()), shape_.tokens,
                              shape_.heads, shape_.head_dim),
          kernels::contiguous(gathered_.at(uid), gathered_tokens_, shape_.heads, shape_.head_dim),
          stream);
    }
  }

  // After a forward call O; after a backward call dQ, dK, dV.
  void scatter(bool backward, cudaStream_t stream) const {
    const std::vector<std::int64_t> uids =
        backward ? std::vector<std::int64_t>{sdpa_uid::kDQ, sdpa_uid::kDK, sdpa_uid::kDV}
                 : std::vector<std::int64_t>{sdpa_uid::kO};
    for (const std::int64_t uid : uids) {
      kernels::dilated_scatter(
          shape_, selection_,
          kernels::contiguous(static_cast<const void*>(gathered_.at(uid)), gathered_tokens_,
                              shape_.heads, shape_.head_dim),
          kernels::contiguous(dense_.at(uid).get(), shape_.tokens, shape_.heads, shape_.head_dim),
          stream);
    }
  }

 private:
  kernels::RowShape shape_;
  kernels::DilatedSelection selection_;
  std::int64_t gathered_tokens_ = 0;
  std::map<std::int64_t, void*> gathered_;
  std::map<std::int64_t, DeviceMemory> dense_;
};

// Plans (or says why not) and times one setting: two rows, or one note.
void measure_setting(Session& s, cudnnHandle_t handle, int version, const AttentionCase& a,
                     Measurements& m) {
  const SdpaShape shape = cudnn_shape(a);
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
  std::optional<DilatedLayout> layout;
  std::vector<AttentionPoint> rows;
  try {
    if (a.kind == AttentionKind::kDilated) {
      layout.emplace(a, buffers.pointers(), s.stream);
    }
    fwd->bind(buffers.pointers(), buffers.workspace());
    bwd->bind(buffers.pointers(), buffers.workspace());
    for (const bool backward : {false, true}) {
      // The forward's O and Stats, which the backward reads, are in place after the forward
      // point (its probe call at least), as for our kernels.
      SdpaPlan& plan = backward ? *bwd : *fwd;
      const PointTiming t = time_point(s.timing, {0}, {s.stream}, [&] {
        if (layout) {
          layout->gather(backward, s.stream);
        }
        plan.execute(handle);
        if (layout) {
          layout->scatter(backward, s.stream);
        }
      });
      AttentionPoint row = attention_row(a, backward);
      row.impl = "cudnn";
      row.tflops = attention_flops(a, backward) / t.timing.median_s * 1e-12;
      row.source = "measured: cuDNN " + cudnn_version_text(version) + " SDPA " +
                   (backward ? "backward" : "forward") +
                   " (backend graph API, calibrate/cuda/sdpa_graph.h; " + plan.engine() +
                   "), BSHD, " + setting +
                   (layout ? ", gathered per segment (kernels/layout.h) before the call and "
                             "scattered after it, both timed"
                           : "") +
                   ", FLOPs of the kept pairs by profile.h's convention; " + runs_text(t);
      rows.push_back(std::move(row));
      s.step("attention", "cudnn " + setting + (backward ? " bwd" : " fwd"));
    }
  } catch (const CudnnError& e) {
    m.notes.push_back("cuDNN SDPA " + setting + ": failed to run, no cudnn rows: " + e.what() +
                      ".");
    return;
  } catch (const std::invalid_argument& e) {  // the layout kernels' argument checks
    m.notes.push_back("cuDNN SDPA " + setting + ": no layout, no cudnn rows: " + e.what() + ".");
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

void measure_cudnn_attention(Session& s, Measurements& m,
                             const std::vector<AttentionCase>& settings) {
  const int version = cudnn_version();
  std::optional<CudnnHandle> handle;
  try {
    handle.emplace(s.stream);
  } catch (const CudnnError& e) {
    m.notes.push_back("cuDNN " + cudnn_version_text(version) +
                      ": no fused-attention rows: " + e.what() + ".");
  }
  // Two progress steps per setting (forward, backward), whatever became of it.
  for (const AttentionCase& a : settings) {
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
