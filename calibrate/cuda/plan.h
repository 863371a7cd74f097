// SPDX-License-Identifier: Apache-2.0
// What the CUDA backend measures, as plain C++ (no CUDA type, built and tested in every build):
// the point lists of --quick and of a full run, their FLOP and byte counts, and the timing
// policy. The CUDA code (cuda_backend.cpp, compute_bench.cpp, comm_bench.cpp) only walks these
// lists, so what a run covers is decided, and tested, here.
//
// GEMM (cuBLAS cublasGemmEx, column-major C (m x n) = A (m x k)·B (k x n), fp32 accumulation):
// the GEMMs models/step.cpp prices for one layer of a Llama 3 model (cli/model_presets.json:
// 3.2 1B, 3 8B, 70B, 405B; width h, H query and H_kv = 8 KV heads of d, FFN width f, gated,
// vocabulary V = 128256) on one rank of tensor-parallel degree p, t local tokens (m = t):
//   qkv   t x (H/p + 2·max(1, H_kv/p))·d x h   (grouped-query Q, K and V)
//   out   t x h x H·d/p                          (attention output projection)
//   up    t x 2f/p x h                           (gate and up, fused)
//   down  t x h x f/p                            (FFN down)
//   head  t x V/p x h                            (output head)
// e.g. Llama 3 8B at t 8192, p 1: 8192 x 6144 x 4096, 8192 x 4096 x 4096, 8192 x 28672 x 4096,
// 8192 x 4096 x 14336, 8192 x 128256 x 4096. A scenario whose per-GPU shapes are these is
// priced at exactly the measured rows (models/cost.h looks shapes up exactly first, then
// interpolates by FLOPs). FLOPs 2·m·n·k. Quick: bf16, 1B/8B/70B, p 1, t 2048/8192, no head
// (24 points). Full: bf16 and fp16, all four, p 1 and 8, t 2048/8192/32768, all five (114
// points each: 120 less the 6 shapes two layers share, measured once); tf32 and fp32 only
// `out` of 1B/8B/70B at p 1, t 2048/8192 (6 each): 240.
//
// Attention (our kernels, kernels/attention.h), FlashAttention's benchmark setting: batch x
// sequence = 16K tokens per call, model width 2048 (heads = 2048 / d), GQA off:
//   dense, causal     rows of the profile (impl "ours"); FLOPs by profile.h's convention:
//                     4·s²·d·batch·heads forward, halved when causal, x 2.5 backward
//   sliding window    window s/4; FLOPs 4·pairs·d·batch·heads, pairs = w·s - w(w-1)/2 kept
//   dilated           one LongNet branch (w = s/4, r = 4, head groups: every head runs it);
//                     pairs = (s/w)·(w/r)² = s·w/r² per head, FLOPs as above
// cuDNN's fused flash attention (SDPA, calibrate/cuda/cudnn_sdpa.h; built where cuDNN is found)
// runs every setting too, timed the same way, with impl "cudnn" (cudnn_shape): dense, causal
// and sliding window as cuDNN masks; dilated, which cuDNN has no mask for, the way LongNet
// implementations run a fused kernel on a branch: the branch's rows gathered into a dense batch
// of segments (kernels/layout.h), dense SDPA, and the outputs scattered back, all timed.
// Every setting becomes a profile row (attention_row): dense and causal ones are the tables
// models/cost.h prices tiles with; sliding-window and dilated ones (kind rows) correct the
// price of calls of those masks.
// Quick: bf16, d 64/128, s 2048 (dense, causal), s 8192 (window, dilated): 16 points.
// Full: bf16 and fp16, d 64/128, s 1024/4096/16384 (dense, causal), s 16384 (window,
// dilated, bf16 d 128): 52 points. Each setting is timed forward and backward.
//
// Memory (bytes moved = read + written): device-to-device cudaMemcpyAsync ("copy") and a
// vectorised y = a·x over fp32 ("scale"), buffers 1 MiB ... 1 GiB by factor 4 (full, 6 sizes)
// or 16 (quick, 1/16/256 MiB). Launch overhead: an empty kernel, back to back on one stream
// (the profile's launch_overhead_us), and launch + cudaStreamSynchronize (notes).
//
// Communication (NCCL, one process, ncclCommInitAll over every local GPU, at most 8, one
// stream each; a full run also over devices 0 .. n-1 for each power of two n below that:
// comm_rank_counts): all_reduce (fp32 sum), all_gather, reduce_scatter, all_to_all (grouped
// ncclSend/ncclRecv), send_recv (rank r sends to r+1 and receives from r-1, as nccl-tests'
// sendrecv); sizes 8 B ... 1 GiB by factor 2 (full, 28) or 8 B ... 16 MiB by factor 16 (quick,
// 6); sizes are whole buffers (nccl-tests), rounded down to whole fp32 elements per rank and
// chunk (at least one), duplicates dropped. busbw by nccl-tests' factors (profile.h).
//
// Timing: each point is first run once (the probe, which also warms up); a timed run is then a
// batch of back-to-back calls lasting about batch_s by the probe (at least 1, at most 1000
// calls), timed with CUDA events and divided by the calls; the median of runs under
// time_median_runs() (calibrate/timing.h) with the policy below.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calibrate/cuda/sdpa_graph.h"
#include "calibrate/profile.h"
#include "calibrate/timing.h"

namespace attnsim::calibrate::cuda {

/// One GEMM of the plan.
struct GemmCase {
  std::string dtype;  // bf16 fp16 tf32 fp32
  std::string layer;  // qkv out up down head
  std::int64_t m = 0, n = 0, k = 0;
};

/// The GEMM points (see the header), smallest FLOPs first within each dtype.
std::vector<GemmCase> gemm_plan(bool quick);

/// 2·m·n·k.
double gemm_flops(const GemmCase& g);

/// Bytes of one element of `dtype` in device memory: 2 for bf16 and fp16, 4 for tf32 and fp32.
/// Precondition: one of those four.
int dtype_bytes(const std::string& dtype);

/// The largest A, B and C any GEMM of `plan` needs, bytes (one buffer each serves all points).
struct GemmBufferBytes {
  std::int64_t a = 0, b = 0, c = 0;
};

GemmBufferBytes gemm_buffer_bytes(const std::vector<GemmCase>& plan);

/// The GEMMs of `plan` a device with `free_bytes` of memory can run, in order, and those it
/// cannot. The shared buffers (gemm_buffer_bytes of the kept cases: the largest A, B and C)
/// may take 80 % of free_bytes; cases are taken smallest (A + B + C) first, each kept if the
/// buffers still fit with it. A full plan needs 16.1 GB (a 24 GB GPU keeps everything); on
/// a 16 GB GPU the largest Llama 3 405B and output-head shapes are dropped (the run's notes
/// list them; models/cost.h prices such GEMMs at the best rate measured).
struct FittedGemmPlan {
  std::vector<GemmCase> kept, dropped;
};

FittedGemmPlan fit_gemm_plan(const std::vector<GemmCase>& plan, double free_bytes);

enum class AttentionKind { kDense, kCausal, kSlidingWindow, kDilated };

/// One attention setting of the plan (timed forward and backward).
struct AttentionCase {
  std::string dtype;  // bf16 fp16
  AttentionKind kind = AttentionKind::kDense;
  int head_dim = 128;
  std::int64_t seq = 0;
  int batch = 1;
  int heads = 1;
  std::int64_t window = 0;    // kSlidingWindow
  std::int64_t segment = 0;   // kDilated: w
  std::int64_t dilation = 1;  // kDilated: r
};

std::vector<AttentionCase> attention_plan(bool quick);

/// The cuDNN SDPA call (calibrate/cuda/sdpa_graph.h) a setting runs as: the setting itself
/// (sliding window: causal with its window); a dilated one (one branch, offset 0, every head)
/// as the dense attention of its gathered rows: batch x s/w segments of w/r tokens.
SdpaShape cudnn_shape(const AttentionCase& a);

/// "dense", "causal", "sliding_window", "dilated".
std::string kind_name(AttentionKind kind);

/// A setting in words: kind, dtype, head dim, length, and the window or segment and dilation,
/// e.g. "causal bf16 d128 s4096", "dilated bf16 d64 s8192 w2048 r4".
std::string setting_text(const AttentionCase& a);

/// The profile row a setting's pass is measured as (calibrate/profile.h), all but impl, tflops
/// and source: pass, dtype, head dim, seq_q = seq_k = s, batch_heads = batch x heads, and the
/// mask: causal for causal and sliding window; kind sliding_window with the window, or dilated
/// with the segment length and dilation rate.
AttentionPoint attention_row(const AttentionCase& a, bool backward);

/// FLOPs of one call, the profile's convention for its row (forward_flops): 4·kept pairs·d·
/// batch·heads; x 2.5 for the backward pass.
double attention_flops(const AttentionCase& a, bool backward);

/// Kept (query, key) pairs per (batch, head) of its row (kept_pairs): s² dense, s²/2 causal
/// (the convention), w·s - w(w-1)/2 sliding window, s·w/r² dilated.
double attention_pairs(const AttentionCase& a);

/// Memory-benchmark buffer sizes, bytes.
std::vector<std::int64_t> memory_sizes(bool quick);

/// The collectives measured, in order.
std::vector<std::string> comm_collectives();

/// Whole-buffer sizes of `collective` on `ranks` ranks, bytes (see the header).
std::vector<double> comm_sizes(const std::string& collective, int ranks, bool quick);

/// fp32 elements per rank buffer for a whole-buffer size: the buffer itself for all_reduce and
/// send_recv, the per-rank chunk (size / ranks) for all_gather, reduce_scatter and all_to_all.
std::int64_t comm_elements(const std::string& collective, int ranks, double size_bytes);

/// The most ranks the collectives run on: every local GPU, at most 8; 0 when there is one GPU.
int comm_ranks(int gpus);

/// The GPU counts the collectives are measured on, ascending, each on devices 0 .. n-1: with
/// `quick` comm_ranks(gpus) alone; otherwise also every power of two from 2 below it, so that
/// the tensor-, context- and data-parallel groups smaller than the node have their own
/// tables (models/collectives/correction.h corrects per GPU count). Empty with one GPU.
std::vector<int> comm_rank_counts(int gpus, bool quick);

/// Timing policy of one point, and the batch length.
struct GpuTiming {
  TimingPolicy policy;
  double batch_s = 0;
  int max_calls = 1000;
};

GpuTiming gpu_timing(bool quick);

/// Calls per timed batch for a point whose probe took `probe_s`: batch_s / probe_s rounded
/// down, within [1, max_calls].
int calls_per_batch(const GpuTiming& t, double probe_s);

/// An estimate of the wall time of one point whose call takes `call_s` every time: the probe
/// call, then warm-up and timed batches of calls_per_batch() calls, as many timed batches as
/// the stopping rule of calibrate/timing.h takes for equal durations. Host overheads (launch
/// queueing, synchronisation) are left out. For the run-time estimates in tests and README.
double point_seconds(const GpuTiming& t, double call_s);

/// Points of a run on `gpus` GPUs (the progress total): GEMMs, attention settings x 2 passes,
/// memory sizes x 2 ops, 2 launch points, the collectives' sizes when gpus >= 2, and with
/// `cudnn` the attention settings x 2 passes again.
int planned_points(bool quick, int gpus, bool cudnn = false);

}  // namespace attnsim::calibrate::cuda
