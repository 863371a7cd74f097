// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's compute benchmarks on device 0: cuBLAS GEMMs, our attention kernels,
// copy and element-wise bandwidth, and the launch overhead (bench.h, plan.h).
#include <algorithm>
#include <cublas_v2.h>
#include <exception>
#include <memory>
#include <sstream>

#include <cuda_runtime.h>

#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/device_ops.h"
#include "kernels/attention.h"

namespace attnsim::calibrate::cuda {
namespace {

std::string shape_text(std::int64_t a, std::int64_t b, std::int64_t c) {
  std::ostringstream o;
  o << a << "x" << b << "x" << c;
  return o.str();
}

class CublasHandle {
 public:
  CublasHandle() { ATTNSIM_CUBLAS_CHECK(cublasCreate(&handle_)); }

  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;

  ~CublasHandle() { cublasDestroy(handle_); }

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
  FillType fill;
  const char* text;
};

GemmTypes gemm_types(const std::string& dtype) {
  if (dtype == "bf16") {
    return {CUDA_R_16BF, CUBLAS_COMPUTE_32F, FillType::kBFloat16,
            "bf16 inputs and output, CUBLAS_COMPUTE_32F"};
  }
  if (dtype == "fp16") {
    return {CUDA_R_16F, CUBLAS_COMPUTE_32F, FillType::kFloat16,
            "fp16 inputs and output, CUBLAS_COMPUTE_32F"};
  }
  if (dtype == "tf32") {
    return {CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, FillType::kFloat32,
            "fp32 inputs and output, CUBLAS_COMPUTE_32F_FAST_TF32"};
  }
  return {CUDA_R_32F, CUBLAS_COMPUTE_32F, FillType::kFloat32,
          "fp32 inputs and output, CUBLAS_COMPUTE_32F (default math mode: no TF32)"};
}

std::vector<int> device0() {
  return {0};
}

}  // namespace

void measure_gemm(Session& s, Measurements& m) {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  ATTNSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const FittedGemmPlan fitted =
      fit_gemm_plan(gemm_plan(s.options->quick), static_cast<double>(free_bytes));
  if (!fitted.dropped.empty()) {
    std::string list;
    for (const GemmCase& g : fitted.dropped) {
      list += (list.empty() ? "" : ", ") + g.dtype + " " + shape_text(g.m, g.n, g.k);
      s.step("gemm", g.dtype + " " + shape_text(g.m, g.n, g.k) + " (skipped: memory)");
    }
    m.notes.push_back(
        "GEMM shapes skipped: their A, B and C buffers do not fit beside the "
        "smaller shapes' in 80 % of the " +
        std::to_string(free_bytes >> 20) +
        " MiB free (calibrate/cuda/plan.h fit_gemm_plan): " + list + ".");
  }
  const std::vector<GemmCase>& plan = fitted.kept;
  if (plan.empty()) {
    return;
  }
  const GemmBufferBytes bytes = gemm_buffer_bytes(plan);
  const DeviceMemory a(0, static_cast<std::size_t>(bytes.a));
  const DeviceMemory b(0, static_cast<std::size_t>(bytes.b));
  const DeviceMemory c(0, static_cast<std::size_t>(bytes.c));
  const CublasHandle handle;
  ATTNSIM_CUBLAS_CHECK(cublasSetStream(handle.get(), s.stream));
  std::string filled;  // the dtype the inputs hold now
  for (const GemmCase& g : plan) {
    const GemmTypes types = gemm_types(g.dtype);
    if (g.dtype != filled) {
      // Fill A and B as this dtype: bits of another would read as other, possibly
      // non-finite, values.
      const std::int64_t e = dtype_bytes(g.dtype);
      ATTNSIM_CUDA_CHECK(fill_uniform(a.get(), bytes.a / e, types.fill, 1, s.stream));
      ATTNSIM_CUDA_CHECK(fill_uniform(b.get(), bytes.b / e, types.fill, 2, s.stream));
      filled = g.dtype;
    }
    const float alpha = 1;
    const float beta = 0;
    const auto rows_a = static_cast<int>(g.m);
    const auto cols_b = static_cast<int>(g.n);
    const auto inner = static_cast<int>(g.k);
    const PointTiming t = time_point(s.timing, device0(), {s.stream}, [&] {
      ATTNSIM_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, rows_a, cols_b,
                                        inner, &alpha, a.get(), types.data, rows_a, b.get(),
                                        types.data, inner, &beta, c.get(), types.data, rows_a,
                                        types.compute, CUBLAS_GEMM_DEFAULT));
    });
    GemmPoint row;
    row.m = g.m;
    row.n = g.n;
    row.k = g.k;
    row.dtype = g.dtype;
    row.tflops = gemm_flops(g) / t.timing.median_s * 1e-12;
    row.source = "measured: cublasGemmEx, column-major C (m x n) = A (m x k) B (k x n), " +
                 std::string(types.text) + ", CUBLAS_GEMM_DEFAULT; layer " + g.layer + "; " +
                 runs_text(t);
    m.gemm.push_back(std::move(row));
    s.step("gemm", g.dtype + " " + shape_text(g.m, g.n, g.k));
  }
}

namespace {

kernels::AttentionProblem problem_of(const AttentionCase& a) {
  kernels::AttentionProblem p;
  p.dtype = a.dtype == "fp16" ? kernels::DType::kFloat16 : kernels::DType::kBFloat16;
  p.batch = a.batch;
  p.heads = a.heads;
  p.kv_heads = a.heads;
  p.seq_q = a.seq;
  p.seq_k = a.seq;
  p.head_dim = a.head_dim;
  switch (a.kind) {
    case AttentionKind::kDense:
      p.mask.kind = kernels::MaskKind::kDense;
      break;
    case AttentionKind::kCausal:
      p.mask.kind = kernels::MaskKind::kCausal;
      break;
    case AttentionKind::kSlidingWindow:
      p.mask.kind = kernels::MaskKind::kSlidingWindow;
      p.mask.window = a.window;
      break;
    case AttentionKind::kDilated:
      p.mask.kind = kernels::MaskKind::kDilated;
      p.mask.dilated.branches = 1;
      p.mask.dilated.segment_lengths[0] = a.segment;
      p.mask.dilated.dilation_rates[0] = a.dilation;
      p.mask.dilated.heads = kernels::DilatedHeads::kHeadGroups;
      break;
  }
  return p;
}

// Runs a kernels/ call, turning its exceptions into one-line RuntimeFailures.
void run_kernel(const std::function<void()>& call, const std::string& what) {
  try {
    call();
  } catch (const config::RuntimeFailure&) {
    throw;
  } catch (const std::exception& e) {
    fail_call(what.c_str(), e.what());
  }
}

// Buffers of one attention setting: Q, K, V, O, dO, dQ, dK, dV, LSE and the workspaces.
struct AttentionBuffers {
  explicit AttentionBuffers(const kernels::AttentionProblem& p)
      : tensor_bytes(static_cast<std::size_t>(p.batch) * static_cast<std::size_t>(p.seq_q) *
                     static_cast<std::size_t>(p.heads) * static_cast<std::size_t>(p.head_dim) * 2),
        q(0, tensor_bytes),
        k(0, tensor_bytes),
        v(0, tensor_bytes),
        o(0, tensor_bytes),
        d_o(0, tensor_bytes),
        d_q(0, tensor_bytes),
        d_k(0, tensor_bytes),
        d_v(0, tensor_bytes),
        lse(0, static_cast<std::size_t>(p.batch) * static_cast<std::size_t>(p.heads) *
                   static_cast<std::size_t>(p.seq_q) * sizeof(float)),
        forward_workspace_bytes(kernels::attention_forward_workspace_bytes(p)),
        backward_workspace_bytes(kernels::attention_backward_workspace_bytes(p)),
        forward_workspace(0, forward_workspace_bytes),
        backward_workspace(0, backward_workspace_bytes) {}

  std::size_t tensor_bytes;
  DeviceMemory q, k, v, o, d_o, d_q, d_k, d_v, lse;
  std::size_t forward_workspace_bytes, backward_workspace_bytes;
  DeviceMemory forward_workspace, backward_workspace;
};

}  // namespace

void measure_attention(Session& s, Measurements& m, const std::vector<AttentionCase>& settings) {
  for (const AttentionCase& a : settings) {
    const kernels::AttentionProblem p = problem_of(a);
    const std::string setting = setting_text(a);
    run_kernel([&] { kernels::check_problem(p); }, "attention problem " + setting);
    AttentionBuffers buf(p);
    const FillType fill = a.dtype == "fp16" ? FillType::kFloat16 : FillType::kBFloat16;
    const auto elements = static_cast<std::int64_t>(buf.tensor_bytes / 2);
    std::uint64_t seed = 10;
    for (const DeviceMemory* t : {&buf.q, &buf.k, &buf.v, &buf.d_o}) {
      ATTNSIM_CUDA_CHECK(fill_uniform(t->get(), elements, fill, seed++, s.stream));
    }
    kernels::AttentionForwardArgs fwd;
    fwd.problem = p;
    fwd.q = kernels::contiguous(static_cast<const void*>(buf.q.get()), a.seq, a.heads, a.head_dim);
    fwd.k = kernels::contiguous(static_cast<const void*>(buf.k.get()), a.seq, a.heads, a.head_dim);
    fwd.v = kernels::contiguous(static_cast<const void*>(buf.v.get()), a.seq, a.heads, a.head_dim);
    fwd.o = kernels::contiguous(buf.o.get(), a.seq, a.heads, a.head_dim);
    fwd.lse = static_cast<float*>(buf.lse.get());
    fwd.workspace = buf.forward_workspace.get();
    fwd.workspace_bytes = buf.forward_workspace_bytes;
    kernels::AttentionBackwardArgs bwd;
    bwd.problem = p;
    bwd.q = fwd.q;
    bwd.k = fwd.k;
    bwd.v = fwd.v;
    bwd.o = kernels::contiguous(static_cast<const void*>(buf.o.get()), a.seq, a.heads, a.head_dim);
    bwd.d_o =
        kernels::contiguous(static_cast<const void*>(buf.d_o.get()), a.seq, a.heads, a.head_dim);
    bwd.lse = static_cast<const float*>(buf.lse.get());
    bwd.d_q = kernels::contiguous(buf.d_q.get(), a.seq, a.heads, a.head_dim);
    bwd.d_k = kernels::contiguous(buf.d_k.get(), a.seq, a.heads, a.head_dim);
    bwd.d_v = kernels::contiguous(buf.d_v.get(), a.seq, a.heads, a.head_dim);
    bwd.workspace = buf.backward_workspace.get();
    bwd.workspace_bytes = buf.backward_workspace_bytes;

    for (const bool backward : {false, true}) {
      // The forward's O and LSE, which the backward reads, are in place after the forward
      // point (its probe call at least).
      const std::string what =
          "attention_" + std::string(backward ? "backward" : "forward") + " (" + setting + ")";
      const PointTiming t = time_point(s.timing, device0(), {s.stream}, [&] {
        run_kernel(
            [&] {
              if (backward) {
                kernels::attention_backward(bwd, s.stream);
              } else {
                kernels::attention_forward(fwd, s.stream);
              }
            },
            what);
      });
      AttentionPoint row = attention_row(a, backward);
      row.impl = "ours";
      row.tflops = attention_flops(a, backward) / t.timing.median_s * 1e-12;
      row.source = "measured: kernels/ " + what + ", batch " + std::to_string(a.batch) + " x " +
                   std::to_string(a.heads) + " heads, FLOPs of the kept pairs by profile.h's " +
                   "convention; " + runs_text(t);
      m.attention.push_back(std::move(row));
      s.step("attention", setting + (backward ? " bwd" : " fwd"));
    }
  }
}

std::vector<MemoryPoint> measure_memory(Session& s) {
  const std::vector<std::int64_t> sizes = memory_sizes(s.options->quick);
  const auto largest = static_cast<std::size_t>(sizes.back());
  const DeviceMemory src(0, largest);
  const DeviceMemory dst(0, largest);
  ATTNSIM_CUDA_CHECK(fill_uniform(src.get(), sizes.back() / 4, FillType::kFloat32, 3, s.stream));
  std::vector<MemoryPoint> rows;
  for (const bool copy : {true, false}) {
    const std::string op = copy ? "copy" : "scale";
    for (const std::int64_t size : sizes) {
      const PointTiming t = time_point(s.timing, device0(), {s.stream}, [&] {
        if (copy) {
          ATTNSIM_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), static_cast<std::size_t>(size),
                                             cudaMemcpyDeviceToDevice, s.stream));
        } else {
          ATTNSIM_CUDA_CHECK(launch_scale(static_cast<const float*>(src.get()),
                                          static_cast<float*>(dst.get()), size / 4, 0.5f,
                                          s.stream));
        }
      });
      MemoryPoint row;
      row.op = op;
      row.bytes = 2.0 * static_cast<double>(size);
      row.bandwidth_GBps = row.bytes / t.timing.median_s * 1e-9;
      const std::string mib = std::to_string(size >> 20) + " MiB";
      row.source = "measured: " +
                   std::string(copy ? "cudaMemcpyAsync device to device"
                                    : "y = a·x over fp32, 16-byte accesses (calibrate/cuda/"
                                      "device_ops.cu)") +
                   " of " + mib + ", bytes read + written; " + runs_text(t);
      rows.push_back(std::move(row));
      std::string what = op;
      what += " ";
      what += mib;
      s.step("memory", what);
    }
  }
  return rows;
}

void measure_launch(Session& s, Measurements& m) {
  const PointTiming back_to_back = time_point(s.timing, device0(), {s.stream},
                                              [&] { ATTNSIM_CUDA_CHECK(launch_empty(s.stream)); });
  m.launch_us = back_to_back.timing.median_s * 1e6;
  s.step("launch", "empty kernel, back to back");
  SteadyClock clock;
  const Timing with_sync = time_median(
      [&] {
        ATTNSIM_CUDA_CHECK(launch_empty(s.stream));
        ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(s.stream));
      },
      s.timing.policy, clock);
  m.launch_sync_us = with_sync.median_s * 1e6;
  s.step("launch", "empty kernel + synchronize");
}

}  // namespace attnsim::calibrate::cuda
