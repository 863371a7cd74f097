// SPDX-License-Identifier: Apache-2.0
// Lowering of the SDPA graphs of sdpa_graph.h to cuDNN 9 backend descriptors, planning and
// execution (built only where cuDNN is found, cmake/cuda.cmake). Written against the backend
// graph API of cudnn_graph.h alone; the attribute sequences follow the cuDNN frontend's
// lowering (NVIDIA/cudnn-frontend: include/cudnn_frontend_Tensor.h TensorBuilder_v8::build,
// node/pointwise.h, node/matmul.h, node/reduction.h, node/reshape.h create_cudnn_operations,
// cudnn_frontend_OperationGraph.h, cudnn_frontend_Heuristics.h, cudnn_frontend_ExecutionPlan.h,
// backend/execution_helpers.h create_variant_pack).
//
// Two stages: lower_operations() makes and finalizes every tensor descriptor and operation node
// of a graph; it needs neither a handle nor a GPU (tests/calibrate/cudnn_sdpa_test.cpp runs it
// in CI). SdpaPlan then makes the operation graph on a handle, asks the heuristics (mode A,
// then FALLBACK) for engine configs and keeps the first whose execution plan finalizes.
#pragma once

#include <cstdint>
#include <cudnn.h>
#include <map>
#include <string>
#include <vector>

#include "calibrate/cuda/sdpa_graph.h"
#include "config/error.h"

namespace attnsim::calibrate::cuda {

/// A failed cuDNN call. what(): "<call> failed: <cudnnGetErrorString> (<cudnnGetLastErrorString>)".
class CudnnError : public config::RuntimeFailure {
 public:
  using config::RuntimeFailure::RuntimeFailure;
};

/// Throws CudnnError naming `call` unless `status` is CUDNN_STATUS_SUCCESS.
void check_cudnn(cudnnStatus_t status, const std::string& call);

/// One cudnnBackendDescriptor_t, destroyed with its owner. Default-constructed: none.
class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  /// cudnnBackendCreateDescriptor(type). Errors: CudnnError.
  explicit BackendDescriptor(cudnnBackendDescriptorType_t type);
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;
  BackendDescriptor(BackendDescriptor&& other) noexcept;
  BackendDescriptor& operator=(BackendDescriptor&& other) noexcept;
  ~BackendDescriptor();

  cudnnBackendDescriptor_t get() const { return desc_; }

  /// cudnnBackendSetAttribute; `what` names the attribute in errors.
  void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t count,
           const void* values, const std::string& what);

  /// Sets one descriptor-valued attribute.
  void set_desc(cudnnBackendAttributeName_t name, const BackendDescriptor& value,
                const std::string& what);

  /// cudnnBackendFinalize.
  void finalize(const std::string& what);

 private:
  cudnnBackendDescriptor_t desc_ = nullptr;
};

/// Everything below the operation graph, finalized: one tensor descriptor per graph tensor (by
/// uid) and one operation node per graph op (in graph order), with the pointwise, matmul and
/// reduction descriptors the nodes refer to.
struct LoweredOperations {
  std::map<std::int64_t, BackendDescriptor> tensors;
  std::vector<BackendDescriptor> descriptors;
  std::vector<BackendDescriptor> operations;
};

/// Lowers `graph` (no handle, no GPU). `cudnn_version` as cudnnGetVersion() returns it (the
/// reduction's IS_DETERMINISTIC attribute exists from 9.11). Errors: CudnnError naming the
/// graph element and the attribute.
LoweredOperations lower_operations(const SdpaGraph& graph, int cudnn_version);

/// An execution plan of one SDPA graph on a handle's device.
class SdpaPlan {
 public:
  /// Builds the plan. Errors: CudnnError when cuDNN supports the graph nowhere on this device
  /// (every engine config failed; the message names the last failure and the count tried).
  SdpaPlan(cudnnHandle_t handle, const SdpaGraph& graph, int cudnn_version);

  /// Device workspace one execute() needs, bytes.
  std::int64_t workspace_bytes() const { return workspace_bytes_; }

  /// Which engine config the plan uses, e.g. "heuristics mode A config 1 of 4, engine 8".
  const std::string& engine() const { return engine_; }

  /// Bytes of the non-virtual, non-by-value tensor `uid` (dims x element size).
  std::int64_t tensor_bytes(std::int64_t uid) const;

  /// The uids execute() needs pointers for: the graph's non-virtual, non-by-value tensors.
  std::vector<std::int64_t> device_uids() const;

  /// Makes the variant pack: `pointers` gives device memory for every uid of device_uids(),
  /// `workspace` has workspace_bytes(). Errors: CudnnError, config::RuntimeFailure for a
  /// missing pointer.
  void bind(const std::map<std::int64_t, void*>& pointers, void* workspace);

  /// Enqueues the graph on the handle's stream with the memory of the last bind(). Before
  /// cuDNN 9.6 the fp32 dQ accumulator is zeroed first (the frontend's memset; later versions
  /// clear it themselves). Errors: CudnnError.
  void execute(cudnnHandle_t handle) const;

 private:
  SdpaGraph graph_;
  int cudnn_version_ = 0;
  LoweredOperations ops_;
  BackendDescriptor op_graph_;
  BackendDescriptor plan_;
  BackendDescriptor pack_;
  void* dq_accum_ = nullptr;
  std::int64_t workspace_bytes_ = 0;
  std::string engine_;
};

}  // namespace attnsim::calibrate::cuda
