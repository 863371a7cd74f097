// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's point lists (calibrate/cuda/plan.h), checked without a GPU: what --quick
// and a full run cover, the FLOP and pair counts against brute force, the collective sizes
// and their busbw factors, the batch rule, and the quick run's time on an H100 by estimate.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <catch2/catch.hpp>

#include "calibrate/cuda/plan.h"
#include "calibrate/profile.h"

using attnsim::calibrate::busbw_factor;
using namespace attnsim::calibrate::cuda;  // NOLINT(google-build-using-namespace): test file

namespace {

bool has_gemm(const std::vector<GemmCase>& plan, const std::string& dtype, std::int64_t m,
              std::int64_t n, std::int64_t k) {
  return std::any_of(plan.begin(), plan.end(), [&](const GemmCase& g) {
    return g.dtype == dtype && g.m == m && g.n == n && g.k == k;
  });
}

// Kept pairs per head by brute force over positions, from the mask definitions of
// kernels/attention.h (independent of plan.cpp's closed forms).
double brute_force_pairs(const AttentionCase& a) {
  double pairs = 0;
  for (std::int64_t q = 0; q < a.seq; ++q) {
    for (std::int64_t k = 0; k < a.seq; ++k) {
      bool kept = true;
      if (a.kind == AttentionKind::kSlidingWindow) {
        kept = q - a.window < k && k <= q;
      } else if (a.kind == AttentionKind::kDilated) {
        // One branch (w, r), head group 0: offset 0; same segment, both ≡ 0 (mod r).
        kept = q / a.segment == k / a.segment && (q % a.segment) % a.dilation == 0 &&
               (k % a.segment) % a.dilation == 0;
      }
      pairs += kept ? 1 : 0;
    }
  }
  return pairs;
}

}  // namespace

TEST_CASE("the quick GEMM plan is 24 bf16 layer shapes, the full one 240 in four dtypes",
          "[unit]") {
  const std::vector<GemmCase> quick = gemm_plan(true);
  REQUIRE(quick.size() == 24);  // 4 layers x h 2048/4096/8192 x t 2048/8192
  for (const GemmCase& g : quick) {
    REQUIRE(g.dtype == "bf16");
  }
  // Llama 3 8B (h 4096, 32 heads, 8 KV heads of 128, FFN 14336 gated) at t = 8192, as
  // models/step.cpp prices it: qkv 8192 x (32 + 2·8)·128 x 4096, out 8192 x 4096 x 4096, the
  // fused gate and up 8192 x 2·14336 x 4096, down 8192 x 4096 x 14336.
  REQUIRE(has_gemm(quick, "bf16", 8192, 6144, 4096));
  REQUIRE(has_gemm(quick, "bf16", 8192, 4096, 4096));
  REQUIRE(has_gemm(quick, "bf16", 8192, 28672, 4096));
  REQUIRE(has_gemm(quick, "bf16", 8192, 4096, 14336));
  // Llama 3.2 1B's head dim 64: qkv (32 + 2·8)·64 = 3072 wide.
  REQUIRE(has_gemm(quick, "bf16", 2048, 3072, 2048));
  REQUIRE(std::is_sorted(quick.begin(), quick.end(), [](const GemmCase& a, const GemmCase& b) {
    return gemm_flops(a) < gemm_flops(b);
  }));

  const std::vector<GemmCase> full = gemm_plan(false);
  // bf16 and fp16: 4 models x tensor-parallel 1 and 8 x 3 token counts x 5 GEMMs (with the
  // output head), less 6 shapes two layers share (1B's out is 1B's up per rank of 8, 1B's up
  // 405B's out per rank of 8, at each t); tf32 and fp32: the out projection of 3 models x 2
  // token counts.
  REQUIRE(full.size() == 240);
  std::map<std::string, int> per_dtype;
  std::set<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> unique;
  for (const GemmCase& g : full) {
    ++per_dtype[g.dtype];
    unique.insert({g.dtype, g.m, g.n, g.k});
  }
  REQUIRE(per_dtype ==
          std::map<std::string, int>{{"bf16", 114}, {"fp16", 114}, {"fp32", 6}, {"tf32", 6}});
  REQUIRE(unique.size() == full.size());  // the profile rejects duplicate shapes
  // Llama 3 405B's fused gate and up at 32K tokens, and on one of 8 tensor-parallel ranks:
  // 2·53248 and 2·53248 / 8 wide; its QKV there: (128/8 + 2·1)·128 = 2304 wide.
  REQUIRE(has_gemm(full, "bf16", 32768, 106496, 16384));
  REQUIRE(has_gemm(full, "bf16", 32768, 13312, 16384));
  REQUIRE(has_gemm(full, "fp16", 2048, 2304, 16384));
  // Llama 3 70B's output head, whole and per rank of 8: vocab 128256 and 16032.
  REQUIRE(has_gemm(full, "bf16", 8192, 128256, 8192));
  REQUIRE(has_gemm(full, "bf16", 8192, 16032, 8192));
  REQUIRE(has_gemm(full, "tf32", 8192, 8192, 8192));
}

TEST_CASE("GEMM FLOPs are 2mnk and the buffers fit the largest operand of each role", "[unit]") {
  REQUIRE(gemm_flops({"bf16", "qkv", 2048, 2560, 2048}) == 2.0 * 2048 * 2560 * 2048);
  REQUIRE(dtype_bytes("bf16") == 2);
  REQUIRE(dtype_bytes("tf32") == 4);
  // Full: A largest for Llama 3 405B's down at t 32768, k = 53248 (bf16); B and C for its
  // output head, 16384 x 128256 and 32768 x 128256. The fp32 shapes (8192³ x 4 B) are
  // smaller. In all 16.1 GB, a fifth of an 80 GB GPU.
  const GemmBufferBytes b = gemm_buffer_bytes(gemm_plan(false));
  REQUIRE(b.a == std::int64_t{32768} * 53248 * 2);
  REQUIRE(b.b == std::int64_t{16384} * 128256 * 2);
  REQUIRE(b.c == std::int64_t{32768} * 128256 * 2);
}

TEST_CASE("the GEMM plan keeps what fits the device's free memory", "[unit]") {
  const std::vector<GemmCase> full = gemm_plan(false);
  // 16.1 GB of buffers: an 80 GB GPU runs everything, and so does a 24 GB one (22 GB free).
  REQUIRE(fit_gemm_plan(full, 79e9).dropped.empty());
  REQUIRE(fit_gemm_plan(full, 22e9).dropped.empty());
  // 15 GB free (a 16 GB GPU) and 8 GB: the buffers of what is kept take at most 80 % of it;
  // no case dropped would have fitted beside them; order is kept.
  for (const double free_bytes : {15e9, 8e9}) {
    const FittedGemmPlan f = fit_gemm_plan(full, free_bytes);
    REQUIRE_FALSE(f.dropped.empty());
    REQUIRE(f.kept.size() + f.dropped.size() == full.size());
    const GemmBufferBytes b = gemm_buffer_bytes(f.kept);
    CHECK(static_cast<double>(b.a + b.b + b.c) <= 0.8 * free_bytes);
    for (const GemmCase& g : f.dropped) {
      std::vector<GemmCase> with = f.kept;
      with.push_back(g);
      const GemmBufferBytes w = gemm_buffer_bytes(with);
      CHECK(static_cast<double>(w.a + w.b + w.c) > 0.8 * free_bytes);
    }
    CHECK(std::is_sorted(f.kept.begin(), f.kept.end(), [&](const GemmCase& x, const GemmCase& y) {
      return x.dtype == y.dtype && gemm_flops(x) < gemm_flops(y);
    }));
  }
  // --quick fits an 8 GB GPU whole: 70B's down (8192 x 8192 x 28672: A 470 MB) and gate and
  // up (8192 x 57344 x 8192: B and C 940 MB each) need 2.35 GB of buffers.
  const GemmBufferBytes quick = gemm_buffer_bytes(gemm_plan(true));
  CHECK(quick.a + quick.b + quick.c == std::int64_t{8192} * (28672 + 2 * 57344) * 2);
  REQUIRE(fit_gemm_plan(gemm_plan(true), 7e9).dropped.empty());
}

TEST_CASE("attention pair counts match brute force for every mask kind", "[unit]") {
  AttentionCase a;
  a.seq = 16;
  a.kind = AttentionKind::kDense;
  REQUIRE(attention_pairs(a) == 256);
  a.kind = AttentionKind::kCausal;
  REQUIRE(attention_pairs(a) == 128);  // the convention s²/2, not s(s+1)/2 = 136
  a.kind = AttentionKind::kSlidingWindow;
  for (const std::int64_t w : {1, 3, 8, 16}) {
    a.window = w;
    REQUIRE(attention_pairs(a) == brute_force_pairs(a));
  }
  a.kind = AttentionKind::kDilated;
  for (const auto& [w, r] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{8, 2}, {16, 4}, {4, 1}, {16, 16}}) {
    a.segment = w;
    a.dilation = r;
    REQUIRE(attention_pairs(a) == brute_force_pairs(a));
  }
}

TEST_CASE("attention FLOPs follow the FlashAttention convention, backward 2.5x", "[unit]") {
  AttentionCase a;
  a.kind = AttentionKind::kDense;
  a.seq = 1024;
  a.head_dim = 128;
  a.batch = 16;
  a.heads = 16;
  const double forward = 4.0 * 1024 * 1024 * 128 * 256;  // 4·s²·d·batch·heads
  REQUIRE(attention_flops(a, false) == forward);
  REQUIRE(attention_flops(a, true) == 2.5 * forward);
  a.kind = AttentionKind::kCausal;
  REQUIRE(attention_flops(a, false) == forward / 2);
}

TEST_CASE("the attention plan keeps FlashAttention's 16K tokens and width 2048", "[unit]") {
  const auto check = [](const std::vector<AttentionCase>& plan) {
    for (const AttentionCase& a : plan) {
      REQUIRE(a.batch * a.seq == 16384);
      REQUIRE(a.heads * a.head_dim == 2048);
      if (a.kind == AttentionKind::kDilated) {
        REQUIRE(a.seq % a.segment == 0);
        REQUIRE(a.segment % a.dilation == 0);
      }
    }
  };
  const std::vector<AttentionCase> quick = attention_plan(true);
  const std::vector<AttentionCase> full = attention_plan(false);
  REQUIRE(quick.size() == 8);  // dense, causal x d 64, 128 at s 2048; window, dilated x d
  REQUIRE(full.size() == 26);  // 2 dtypes x 2 d x 2 kinds x 3 lengths; window, dilated
  check(quick);
  check(full);
  REQUIRE(kind_name(AttentionKind::kSlidingWindow) == "sliding_window");
}

TEST_CASE("collective sizes are whole fp32 buffers, increasing, with nccl-tests factors",
          "[unit]") {
  REQUIRE(comm_collectives() == std::vector<std::string>{"all_reduce", "all_gather",
                                                         "reduce_scatter", "all_to_all",
                                                         "send_recv"});
  // all_reduce quick: 8 B x 16^i up to 16 MiB.
  REQUIRE(comm_sizes("all_reduce", 8, true) ==
          std::vector<double>{8, 128, 2048, 32768, 524288, 8388608});
  // Full: 8 B ... 1 GiB by factor 2 = 28 sizes.
  REQUIRE(comm_sizes("all_reduce", 8, false).size() == 28);
  REQUIRE(comm_sizes("all_reduce", 8, false).back() == 1073741824.0);
  // all_gather on 8 ranks: 8 B is less than one fp32 per rank, so the first size is 8 x 4 =
  // 32 B; 16 B and 32 B round to the same 32 B and are dropped.
  const std::vector<double> gather = comm_sizes("all_gather", 8, false);
  REQUIRE(gather.front() == 32);
  REQUIRE(gather[1] == 64);
  REQUIRE(gather.size() == 26);
  for (const double s : gather) {
    REQUIRE(std::fmod(s, 32.0) == 0);
    REQUIRE(static_cast<double>(comm_elements("all_gather", 8, s) * 32) == s);
  }
  REQUIRE(comm_elements("send_recv", 8, 4096) == 1024);
  // busbw factors (profile.h): every planned collective has one.
  REQUIRE(busbw_factor("all_reduce", 8) == 1.75);
  REQUIRE(busbw_factor("all_gather", 8) == 0.875);
  REQUIRE(busbw_factor("reduce_scatter", 8) == 0.875);
  REQUIRE(busbw_factor("all_to_all", 8) == 0.875);
  REQUIRE(busbw_factor("send_recv", 8) == 1);
  REQUIRE(comm_ranks(1) == 0);
  REQUIRE(comm_ranks(4) == 4);
  REQUIRE(comm_ranks(16) == 8);
  using V = std::vector<int>;
  REQUIRE(comm_rank_counts(1, false).empty());
  REQUIRE(comm_rank_counts(8, true) == V{8});
  REQUIRE(comm_rank_counts(8, false) == V{2, 4, 8});
  REQUIRE(comm_rank_counts(6, false) == V{2, 4, 6});
  REQUIRE(comm_rank_counts(2, false) == V{2});
  REQUIRE(comm_rank_counts(16, false) == V{2, 4, 8});
}

TEST_CASE("a batch lasts about batch_s, between 1 and max_calls calls", "[unit]") {
  const GpuTiming t = gpu_timing(false);  // batch 2 ms
  REQUIRE(calls_per_batch(t, 1e-5) == 200);
  REQUIRE(calls_per_batch(t, 1e-8) == 1000);
  REQUIRE(calls_per_batch(t, 0.01) == 1);
  REQUIRE(calls_per_batch(t, 0) == 1);
}

TEST_CASE("the points planned are the sum of the lists", "[unit]") {
  // Quick, one GPU: 24 GEMMs + 8 x 2 attention + 3 x 2 memory + 2 launch = 48.
  REQUIRE(planned_points(true, 1) == 48);
  // Two GPUs add 6 sizes for each of the 5 collectives (on 2 ranks 8 B is one fp32 per rank,
  // so no size rounds onto another).
  REQUIRE(planned_points(true, 2) == 48 + 30);
  // Full, one GPU: 240 + 26 x 2 + 6 x 2 + 2 = 306.
  REQUIRE(planned_points(false, 1) == 306);
  // Full, four GPUs: the collectives on 2 and on 4 GPUs, 28 sizes each (8 B - 1 GiB) except
  // that on 4 ranks all_gather, reduce_scatter and all_to_all start at 16 B (one fp32 per
  // rank): 306 + 5 x 28 + (2 x 28 + 3 x 27) = 583.
  REQUIRE(planned_points(false, 4) == 583);
  // With cuDNN, every attention setting x 2 passes again: quick 8, full 26.
  REQUIRE(planned_points(true, 1, true) == 48 + 16);
  REQUIRE(planned_points(false, 1, true) == 306 + 52);
}

TEST_CASE("a setting reads as kind, dtype, head dim, length and its mask parameters", "[unit]") {
  AttentionCase a;
  a.dtype = "bf16";
  a.kind = AttentionKind::kCausal;
  a.seq = 4096;
  REQUIRE(setting_text(a) == "causal bf16 d128 s4096");
  a.kind = AttentionKind::kSlidingWindow;
  a.window = 512;
  REQUIRE(setting_text(a) == "sliding_window bf16 d128 s4096 w512");
  a.kind = AttentionKind::kDilated;
  a.head_dim = 64;
  a.segment = 2048;
  a.dilation = 4;
  REQUIRE(setting_text(a) == "dilated bf16 d64 s4096 w2048 r4");
}

TEST_CASE("cuDNN runs each setting as its own call, a dilated one on its gathered rows", "[unit]") {
  // Oracle: the kept pairs. A dilated branch (w, r) keeps (w/r)² pairs in each of s/w segments,
  // so its gathered call, dense over batch x s/w sequences of w/r tokens, does exactly the
  // setting's FLOPs: 4·(w/r)²·d·(batch·s/w)·heads = attention_flops.
  for (const bool quick : {true, false}) {
    for (const AttentionCase& a : attention_plan(quick)) {
      INFO(setting_text(a));
      const SdpaShape shape = cudnn_shape(a);
      CHECK(sdpa_unsupported(shape).empty());  // every setting runs on cuDNN
      CHECK(shape.heads == a.heads);
      CHECK(shape.head_dim == a.head_dim);
      CHECK(shape.dtype == a.dtype);
      CHECK(shape.causal == (a.kind != AttentionKind::kDense && a.kind != AttentionKind::kDilated));
      CHECK(shape.window == (a.kind == AttentionKind::kSlidingWindow ? a.window : 0));
      if (a.kind == AttentionKind::kDilated) {
        CHECK(shape.batch == a.batch * (a.seq / a.segment));
        CHECK(shape.seq == a.segment / a.dilation);
        const auto tokens = static_cast<double>(shape.seq);
        const double dense = 4.0 * tokens * tokens * static_cast<double>(shape.head_dim) *
                             static_cast<double>(shape.batch * shape.heads);
        CHECK(dense == attention_flops(a, false));
      } else {
        CHECK(shape.batch == a.batch);
        CHECK(shape.seq == a.seq);
      }
    }
  }
}

TEST_CASE("--quick's compute points take well under a minute on an H100 by estimate", "[unit]") {
  // Conservative rates, below what an H100 reaches: cuBLAS bf16 300 TFLOP/s (794.5 measured
  // by MAMF, h100-sxm), our simple attention kernels 30 TFLOP/s, HBM 1 TB/s (3.35 datasheet).
  const GpuTiming t = gpu_timing(true);
  double seconds = 0;
  for (const GemmCase& g : gemm_plan(true)) {
    seconds += point_seconds(t, gemm_flops(g) / 300e12);
  }
  for (const AttentionCase& a : attention_plan(true)) {
    seconds += point_seconds(t, attention_flops(a, false) / 30e12);
    seconds += point_seconds(t, attention_flops(a, true) / 30e12);
  }
  for (const std::int64_t size : memory_sizes(true)) {
    seconds += 2 * point_seconds(t, 2.0 * static_cast<double>(size) / 1e12);
  }
  REQUIRE(seconds < 30);
  // A full run's GEMMs (Llama 3 405B's included, the largest 114 TFLOP) by the same estimate:
  // about 45 s, within the "few minutes" of a full run.
  const GpuTiming full = gpu_timing(false);
  double gemm_seconds = 0;
  for (const GemmCase& g : gemm_plan(false)) {
    gemm_seconds += point_seconds(full, gemm_flops(g) / 300e12);
  }
  REQUIRE(gemm_seconds < 60);
  // The estimate itself: a 2 ms call under the quick policy (budget 5 ms, at least 3 runs,
  // batch 1 ms, so 1 call per batch): 3 runs reach 6 ms; probe + warm-up + 3 runs = 10 ms.
  REQUIRE(point_seconds(t, 2e-3) == Approx(10e-3));
}
