// SPDX-License-Identifier: Apache-2.0
// attnsim_bench_kernels: our attention kernels and cuDNN's fused attention, timed as
// `attnsim calibrate --backend cuda` times them (calibrate/cuda/plan.h: probe call, batches of
// back-to-back calls timed with CUDA events, median of batches under the full run's policy),
// at FlashAttention's benchmark shapes for the published comparison (attention.md 3.1):
// dense and causal, head dim 128, 16 heads (model width 2048), batch x sequence = 16K tokens
// (batch 1 from 16K up), sequence 8K, 16K, 32K and 64K, bf16 and fp16, forward and backward.
// FLOPs by the papers' convention (calibrate/profile.h: 4·s²·d·batch·heads forward, halved
// when causal, x 2.5 backward).
//
//   attnsim_bench_kernels [ROWS.json]
//
// Prints a Markdown table (TFLOP/s per call, and our forward against FlashAttention-3's 740
// and FlashAttention-2's 335 TFLOP/s on H100); ROWS.json gets every row as profile attention
// rows (calibrate/profile.h fields) with the device's name. Built where the CUDA backend is
// (bench/CMakeLists.txt); needs a GPU of sm_80 or newer, else exits 3 with the reason.
#include <algorithm>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <cuda_runtime.h>
#include <nlohmann/json.hpp>

#include "calibrate/backend.h"
#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/plan.h"
#include "config/error.h"

namespace {

namespace cuda = attnsim::calibrate::cuda;
using attnsim::calibrate::AttentionPoint;

// attention.md 3.1: H100 SXM5 forward, TFLOP/s.
constexpr double kFa3ForwardTflops = 740;
constexpr double kFa2ForwardTflops = 335;

std::vector<cuda::AttentionCase> settings() {
  std::vector<cuda::AttentionCase> out;
  for (const char* dtype : {"bf16", "fp16"}) {
    for (const cuda::AttentionKind kind :
         {cuda::AttentionKind::kDense, cuda::AttentionKind::kCausal}) {
      for (const std::int64_t seq : {8192, 16384, 32768, 65536}) {
        cuda::AttentionCase a;
        a.dtype = dtype;
        a.kind = kind;
        a.head_dim = 128;
        a.seq = seq;
        a.batch = static_cast<int>(std::max<std::int64_t>(1, 16384 / seq));
        a.heads = 2048 / a.head_dim;
        out.push_back(a);
      }
    }
  }
  return out;
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

nlohmann::json row_json(const AttentionPoint& r) {
  return {{"impl", r.impl},         {"pass", r.pass},
          {"dtype", r.dtype},       {"causal", r.causal},
          {"head_dim", r.head_dim}, {"seq_q", r.seq_q},
          {"seq_k", r.seq_k},       {"batch_heads", r.batch_heads},
          {"tflops", r.tflops},     {"source", r.source}};
}

int run(int argc, char** argv) {
  const std::unique_ptr<attnsim::calibrate::Backend> backend =
      attnsim::calibrate::make_cuda_backend();
  const std::string why =
      backend == nullptr ? "the CUDA backend is not built in" : backend->unavailable_reason();
  if (!why.empty()) {
    throw attnsim::config::RuntimeFailure("attnsim_bench_kernels: " + why);
  }
  cuda::Measurements m;
  cudaDeviceProp props{};
  ATTNSIM_CUDA_CHECK(cudaSetDevice(0));
  ATTNSIM_CUDA_CHECK(cudaGetDeviceProperties(&props, 0));
  m.device.name = props.name;
  const cuda::Stream stream;
  attnsim::calibrate::MeasureOptions options;
  cuda::Session s;
  s.options = &options;
  s.timing = cuda::gpu_timing(false);
  s.stream = stream.get();
  const std::vector<cuda::AttentionCase> list = settings();
  s.total = static_cast<int>(list.size()) * (cuda::cudnn_version() > 0 ? 4 : 2);
  cuda::measure_attention(s, m, list);
  cuda::measure_cudnn_attention(s, m, list);

  // (dtype, causal, seq, pass) -> impl -> TFLOP/s
  std::map<std::tuple<std::string, bool, std::int64_t, std::string>, std::map<std::string, double>>
      table;
  for (const AttentionPoint& r : m.attention) {
    table[{r.dtype, r.causal, r.seq_q, r.pass}][r.impl] = r.tflops;
  }
  std::cout
      << "## Attention kernels on " << m.device.name << "\n\n"
      << "| dtype | mask | seq | batch x heads | pass | ours TFLOP/s | cuDNN TFLOP/s | ours / "
         "FA3 (740) | ours / FA2 (335) |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& entry : table) {
    const std::map<std::string, double>& impls = entry.second;
    const auto& [dtype, causal, seq, pass] = entry.first;
    const auto ours = impls.find("ours");
    const auto cudnn = impls.find("cudnn");
    const auto cell = [&](auto it) {
      return it == impls.end() ? std::string("-") : fixed(it->second, 1);
    };
    const bool forward = pass == "fwd";
    std::cout << "| " << dtype << " | " << (causal ? "causal" : "dense") << " | " << seq << " | "
              << std::max<std::int64_t>(1, 16384 / seq) << " x 16 | " << pass << " | " << cell(ours)
              << " | " << cell(cudnn) << " | "
              << (forward && ours != impls.end()
                      ? fixed(ours->second / kFa3ForwardTflops * 100, 0) + " %"
                      : "-")
              << " | "
              << (forward && ours != impls.end()
                      ? fixed(ours->second / kFa2ForwardTflops * 100, 0) + " %"
                      : "-")
              << " |\n";
  }
  for (const std::string& note : m.notes) {
    std::cout << "\n" << note << "\n";
  }
  if (argc > 1) {
    nlohmann::json rows = nlohmann::json::array();
    for (const AttentionPoint& r : m.attention) {
      rows.push_back(row_json(r));
    }
    std::ofstream out(argv[1]);
    out << nlohmann::json{{"device", m.device.name}, {"attention", rows}}.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const attnsim::config::RuntimeFailure& e) {
    std::cerr << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "attnsim_bench_kernels: " << e.what() << "\n";
    return 3;
  }
}
