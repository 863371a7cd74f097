// SPDX-License-Identifier: Apache-2.0
// cuDNN backend lowering, planning and execution of the SDPA graphs (cudnn_sdpa.h).
#include "calibrate/cuda/cudnn_sdpa.h"

#include <algorithm>
#include <array>
#include <utility>

#include <cuda_runtime.h>

namespace attnsim::calibrate::cuda {
namespace {

cudnnDataType_t data_type(SdpaType t) {
  switch (t) {
    case SdpaType::kBFloat16:
      return CUDNN_DATA_BFLOAT16;
    case SdpaType::kFloat16:
      return CUDNN_DATA_HALF;
    case SdpaType::kFloat32:
      return CUDNN_DATA_FLOAT;
    case SdpaType::kInt32:
      return CUDNN_DATA_INT32;
    case SdpaType::kBoolean:
      return CUDNN_DATA_BOOLEAN;
  }
  return CUDNN_DATA_FLOAT;
}

std::int64_t element_bytes(SdpaType t) {
  switch (t) {
    case SdpaType::kBFloat16:
    case SdpaType::kFloat16:
      return 2;
    case SdpaType::kBoolean:
      return 1;
    case SdpaType::kFloat32:
    case SdpaType::kInt32:
      return 4;
  }
  return 4;
}

cudnnPointwiseMode_t pointwise_mode(PointwiseMode m) {
  switch (m) {
    case PointwiseMode::kAdd:
      return CUDNN_POINTWISE_ADD;
    case PointwiseMode::kSub:
      return CUDNN_POINTWISE_SUB;
    case PointwiseMode::kMul:
      return CUDNN_POINTWISE_MUL;
    case PointwiseMode::kDiv:
      return CUDNN_POINTWISE_DIV;
    case PointwiseMode::kExp:
      return CUDNN_POINTWISE_EXP;
    case PointwiseMode::kLog:
      return CUDNN_POINTWISE_LOG;
    case PointwiseMode::kIdentity:
      return CUDNN_POINTWISE_IDENTITY;
    case PointwiseMode::kGenIndex:
      return CUDNN_POINTWISE_GEN_INDEX;
    case PointwiseMode::kCmpGe:
      return CUDNN_POINTWISE_CMP_GE;
    case PointwiseMode::kCmpGt:
      return CUDNN_POINTWISE_CMP_GT;
    case PointwiseMode::kBinarySelect:
      return CUDNN_POINTWISE_BINARY_SELECT;
  }
  return CUDNN_POINTWISE_IDENTITY;
}

// The byte alignment the frontend gives every tensor (graph_properties.h, Tensor_attributes:
// "alignment = 16").
constexpr std::int64_t kAlignment = 16;

BackendDescriptor lower_tensor(const SdpaTensor& t) {
  const std::string what = "tensor " + t.name;
  BackendDescriptor d(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  // TensorBuilder_v8::build order: data type, dimensions, strides, uid, alignment, virtual,
  // by value.
  const cudnnDataType_t type = data_type(t.type);
  d.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, what);
  const auto rank = static_cast<std::int64_t>(t.dims.size());
  d.set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, rank, t.dims.data(), what);
  d.set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, rank, t.strides.data(), what);
  d.set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &t.uid, what);
  d.set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &kAlignment, what);
  const bool yes = true;
  if (t.is_virtual) {
    d.set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &yes, what);
  }
  if (t.by_value) {
    d.set(CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &yes, what);
  }
  d.finalize(what);
  return d;
}

// node/pointwise.h PointwiseNode::create_cudnn_operations: the descriptor (mode, math
// precision, axis for GEN_INDEX), then the node (descriptor, X, Y, B, T, alpha1 = alpha2 = 1).
void lower_pointwise(const SdpaOp& op, LoweredOperations& out) {
  const std::string what = "pointwise " + op.name;
  BackendDescriptor pw(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
  const cudnnPointwiseMode_t mode = pointwise_mode(op.pointwise);
  pw.set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, what);
  const cudnnDataType_t precision = data_type(op.compute);
  pw.set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &precision, what);
  if (op.pointwise == PointwiseMode::kGenIndex) {
    pw.set(CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &op.axis, what);
  }
  pw.finalize(what);

  BackendDescriptor node(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
  node.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, what);
  node.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, out.tensors.at(op.inputs.at(0)), what);
  node.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, out.tensors.at(op.output), what);
  if (op.inputs.size() >= 2) {
    node.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, out.tensors.at(op.inputs[1]), what);
  }
  if (op.inputs.size() >= 3) {
    node.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_TDESC, out.tensors.at(op.inputs[2]), what);
  }
  const float alpha = 1;
  node.set(CUDNN_ATTR_OPERATION_POINTWISE_ALPHA1, CUDNN_TYPE_FLOAT, 1, &alpha, what);
  node.set(CUDNN_ATTR_OPERATION_POINTWISE_ALPHA2, CUDNN_TYPE_FLOAT, 1, &alpha, what);
  node.finalize(what);
  out.descriptors.push_back(std::move(pw));
  out.operations.push_back(std::move(node));
}

// node/matmul.h: the descriptor (compute type), then the node (A, B, C, descriptor).
void lower_matmul(const SdpaOp& op, LoweredOperations& out) {
  const std::string what = "matmul " + op.name;
  BackendDescriptor mm(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
  const cudnnDataType_t compute = data_type(op.compute);
  mm.set(CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute, what);
  mm.finalize(what);

  BackendDescriptor node(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
  node.set_desc(CUDNN_ATTR_OPERATION_MATMUL_ADESC, out.tensors.at(op.inputs.at(0)), what);
  node.set_desc(CUDNN_ATTR_OPERATION_MATMUL_BDESC, out.tensors.at(op.inputs.at(1)), what);
  node.set_desc(CUDNN_ATTR_OPERATION_MATMUL_CDESC, out.tensors.at(op.output), what);
  node.set_desc(CUDNN_ATTR_OPERATION_MATMUL_DESC, mm, what);
  node.finalize(what);
  out.descriptors.push_back(std::move(mm));
  out.operations.push_back(std::move(node));
}

// node/reduction.h: the descriptor (compute type, operator, not deterministic from 9.11),
// then the node (descriptor, X, Y).
void lower_reduction(const SdpaOp& op, int cudnn_version, LoweredOperations& out) {
  const std::string what = "reduction " + op.name;
  BackendDescriptor red(CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
  const cudnnDataType_t compute = data_type(op.compute);
  red.set(CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute, what);
  const cudnnReduceTensorOp_t mode =
      op.reduction == ReductionMode::kMax ? CUDNN_REDUCE_TENSOR_MAX : CUDNN_REDUCE_TENSOR_ADD;
  red.set(CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &mode, what);
  if (cudnn_version >= 91100) {
    const bool deterministic = false;
    red.set(CUDNN_ATTR_REDUCTION_IS_DETERMINISTIC, CUDNN_TYPE_BOOLEAN, 1, &deterministic, what);
  }
  red.finalize(what);

  BackendDescriptor node(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
  node.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_DESC, red, what);
  node.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_XDESC, out.tensors.at(op.inputs.at(0)), what);
  node.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_YDESC, out.tensors.at(op.output), what);
  node.finalize(what);
  out.descriptors.push_back(std::move(red));
  out.operations.push_back(std::move(node));
}

// node/reshape.h: X and Y only (the reshape mode attribute appears in cuDNN 9.22).
void lower_reshape(const SdpaOp& op, LoweredOperations& out) {
  const std::string what = "reshape " + op.name;
  BackendDescriptor node(CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR);
  node.set_desc(CUDNN_ATTR_OPERATION_RESHAPE_XDESC, out.tensors.at(op.inputs.at(0)), what);
  node.set_desc(CUDNN_ATTR_OPERATION_RESHAPE_YDESC, out.tensors.at(op.output), what);
  node.finalize(what);
  out.operations.push_back(std::move(node));
}

std::string last_error() {
  std::array<char, 1024> message{};
  cudnnGetLastErrorString(message.data(), message.size());
  return {message.data()};
}

// Engine configs the heuristics of `mode` offer for `op_graph`, best first.
std::vector<BackendDescriptor> engine_configs(const BackendDescriptor& op_graph,
                                              cudnnBackendHeurMode_t mode,
                                              const std::string& mode_name) {
  const std::string what = "heuristics mode " + mode_name;
  BackendDescriptor heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  heur.set_desc(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, op_graph, what);
  heur.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, what);
  heur.finalize(what);
  std::int64_t count = 0;
  check_cudnn(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                       CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
              "cudnnBackendGetAttribute(" + what + ", CUDNN_ATTR_ENGINEHEUR_RESULTS count)");
  std::vector<BackendDescriptor> configs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (std::int64_t i = 0; i < count; ++i) {
    configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
    raw.push_back(configs.back().get());
  }
  if (count > 0) {
    std::int64_t returned = 0;
    check_cudnn(
        cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned, raw.data()),
        "cudnnBackendGetAttribute(" + what + ", CUDNN_ATTR_ENGINEHEUR_RESULTS)");
    configs.resize(static_cast<std::size_t>(std::max<std::int64_t>(0, returned)));
  }
  return configs;
}

// The engine's global index in `config`, or -1 when cuDNN does not say (informational only).
std::int64_t engine_index(const BackendDescriptor& config) {
  cudnnBackendDescriptor_t engine = nullptr;
  if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &engine) !=
      CUDNN_STATUS_SUCCESS) {
    return -1;
  }
  std::int64_t index = -1;
  std::int64_t n = 0;
  if (cudnnBackendGetAttribute(config.get(), CUDNN_ATTR_ENGINECFG_ENGINE,
                               CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                               &engine) != CUDNN_STATUS_SUCCESS ||
      cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n,
                               &index) != CUDNN_STATUS_SUCCESS) {
    index = -1;
  }
  cudnnBackendDestroyDescriptor(engine);
  return index;
}

}  // namespace

void check_cudnn(cudnnStatus_t status, const std::string& call) {
  if (status != CUDNN_STATUS_SUCCESS) {
    std::string message = call + " failed: " + cudnnGetErrorString(status);
    const std::string detail = last_error();
    if (!detail.empty()) {
      message += " (" + detail + ")";
    }
    throw CudnnError(message);
  }
}

BackendDescriptor::BackendDescriptor(cudnnBackendDescriptorType_t type) {
  check_cudnn(cudnnBackendCreateDescriptor(type, &desc_),
              "cudnnBackendCreateDescriptor(type " + std::to_string(static_cast<int>(type)) + ")");
}

BackendDescriptor::BackendDescriptor(BackendDescriptor&& other) noexcept
    : desc_(std::exchange(other.desc_, nullptr)) {}

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& other) noexcept {
  if (this != &other) {
    if (desc_ != nullptr) {
      cudnnBackendDestroyDescriptor(desc_);
    }
    desc_ = std::exchange(other.desc_, nullptr);
  }
  return *this;
}

BackendDescriptor::~BackendDescriptor() {
  if (desc_ != nullptr) {
    cudnnBackendDestroyDescriptor(desc_);
  }
}

void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                            std::int64_t count, const void* values, const std::string& what) {
  check_cudnn(cudnnBackendSetAttribute(desc_, name, type, count, values),
              "cudnnBackendSetAttribute(" + what + ", attribute " +
                  std::to_string(static_cast<int>(name)) + ")");
}

void BackendDescriptor::set_desc(cudnnBackendAttributeName_t name, const BackendDescriptor& value,
                                 const std::string& what) {
  cudnnBackendDescriptor_t raw = value.get();
  set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw, what);
}

void BackendDescriptor::finalize(const std::string& what) {
  check_cudnn(cudnnBackendFinalize(desc_), "cudnnBackendFinalize(" + what + ")");
}

LoweredOperations lower_operations(const SdpaGraph& graph, int cudnn_version) {
  LoweredOperations out;
  for (const SdpaTensor& t : graph.tensors) {
    out.tensors.emplace(t.uid, lower_tensor(t));
  }
  for (const SdpaOp& op : graph.ops) {
    switch (op.kind) {
      case SdpaOpKind::kPointwise:
        lower_pointwise(op, out);
        break;
      case SdpaOpKind::kMatmul:
        lower_matmul(op, out);
        break;
      case SdpaOpKind::kReduction:
        lower_reduction(op, cudnn_version, out);
        break;
      case SdpaOpKind::kReshape:
        lower_reshape(op, out);
        break;
    }
  }
  return out;
}

SdpaPlan::SdpaPlan(cudnnHandle_t handle, const SdpaGraph& graph, int cudnn_version)
    : graph_(graph), cudnn_version_(cudnn_version), ops_(lower_operations(graph, cudnn_version)) {
  // cudnn_frontend_OperationGraph.h: the nodes, then the handle.
  op_graph_ = BackendDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  std::vector<cudnnBackendDescriptor_t> nodes;
  nodes.reserve(ops_.operations.size());
  for (const BackendDescriptor& op : ops_.operations) {
    nodes.push_back(op.get());
  }
  op_graph_.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                static_cast<std::int64_t>(nodes.size()), nodes.data(), "operation graph");
  op_graph_.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, "operation graph");
  op_graph_.finalize("operation graph");

  std::string last_failure = "no engine config offered";
  int tried = 0;
  const std::array<std::pair<cudnnBackendHeurMode_t, const char*>, 2> modes = {
      {{CUDNN_HEUR_MODE_A, "A"}, {CUDNN_HEUR_MODE_FALLBACK, "FALLBACK"}}};
  for (const auto& [mode, mode_name] : modes) {
    std::vector<BackendDescriptor> configs;
    try {
      configs = engine_configs(op_graph_, mode, mode_name);
    } catch (const CudnnError& e) {
      last_failure = e.what();
      continue;
    }
    for (std::size_t i = 0; i < configs.size(); ++i) {
      ++tried;
      try {
        // cudnn_frontend_ExecutionPlan.h ExecutionPlanBuilder_v8::build: handle, engine
        // config, finalize, then the workspace size.
        BackendDescriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
        plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, "execution plan");
        plan.set_desc(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, configs[i], "execution plan");
        plan.finalize("execution plan");
        std::int64_t n = 0;
        check_cudnn(cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                             CUDNN_TYPE_INT64, 1, &n, &workspace_bytes_),
                    "cudnnBackendGetAttribute(execution plan, workspace size)");
        plan_ = std::move(plan);
        engine_ = "heuristics mode " + std::string(mode_name) + " config " + std::to_string(i + 1) +
                  " of " + std::to_string(configs.size());
        const std::int64_t index = engine_index(configs[i]);
        if (index >= 0) {
          engine_ += ", engine " + std::to_string(index);
        }
        return;
      } catch (const CudnnError& e) {
        last_failure = e.what();
      }
    }
  }
  throw CudnnError("no cuDNN execution plan (" + std::to_string(tried) +
                   " engine configs tried): " + last_failure);
}

std::int64_t SdpaPlan::tensor_bytes(std::int64_t uid) const {
  const SdpaTensor& t = graph_.tensor(uid);
  std::int64_t elements = 1;
  for (const std::int64_t d : t.dims) {
    elements *= d;
  }
  return elements * element_bytes(t.type);
}

std::vector<std::int64_t> SdpaPlan::device_uids() const {
  std::vector<std::int64_t> uids;
  for (const SdpaTensor& t : graph_.tensors) {
    if (!t.is_virtual && !t.by_value) {
      uids.push_back(t.uid);
    }
  }
  return uids;
}

void SdpaPlan::bind(const std::map<std::int64_t, void*>& pointers, void* workspace) {
  // backend/execution_helpers.h create_variant_pack: workspace, data pointers, uids. By-value
  // tensors are passed as pointers to their host values (graph_ owns them, so they outlive the
  // pack).
  std::vector<void*> data;
  std::vector<std::int64_t> uids;
  for (SdpaTensor& t : graph_.tensors) {
    if (t.is_virtual) {
      continue;
    }
    void* pointer = nullptr;
    if (t.by_value) {
      pointer = &t.value;
    } else {
      const auto it = pointers.find(t.uid);
      if (it == pointers.end() || it->second == nullptr) {
        throw config::RuntimeFailure("cuDNN SDPA: no device memory given for tensor " + t.name);
      }
      pointer = it->second;
    }
    data.push_back(pointer);
    uids.push_back(t.uid);
  }
  BackendDescriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace, "variant pack");
  pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
           static_cast<std::int64_t>(data.size()), data.data(), "variant pack");
  pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
           static_cast<std::int64_t>(uids.size()), uids.data(), "variant pack");
  pack.finalize("variant pack");
  pack_ = std::move(pack);
  const auto accum = pointers.find(sdpa_uid::kDQAccum);
  dq_accum_ = accum == pointers.end() ? nullptr : accum->second;
}

void SdpaPlan::execute(cudnnHandle_t handle) const {
  if (pack_.get() == nullptr) {
    throw config::RuntimeFailure("cuDNN SDPA: execute before bind");
  }
  if (cudnn_version_ < 90600 && dq_accum_ != nullptr) {
    cudaStream_t stream = nullptr;
    check_cudnn(cudnnGetStream(handle, &stream), "cudnnGetStream");
    const cudaError_t status = cudaMemsetAsync(
        dq_accum_, 0, static_cast<std::size_t>(tensor_bytes(sdpa_uid::kDQAccum)), stream);
    if (status != cudaSuccess) {
      throw config::RuntimeFailure(std::string("cuDNN SDPA: cudaMemsetAsync(dQ_accum) failed: ") +
                                   cudaGetErrorString(status));
    }
  }
  check_cudnn(cudnnBackendExecute(handle, plan_.get(), pack_.get()), "cudnnBackendExecute");
}

}  // namespace attnsim::calibrate::cuda
