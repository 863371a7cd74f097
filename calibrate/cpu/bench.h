// SPDX-License-Identifier: Apache-2.0
// The CPU backend's benchmarks (internal to calibrate/cpu/): what each measures, at which
// sizes, and how a point becomes a profile row. cpu_backend.cpp runs them in this order and
// assembles the profile.
//
// Every point is timed by time_median() (calibrate/timing.h): a warm-up, then the median of
// repeated runs within a time budget. Sizes form a ladder per series, smallest first; when
// one run of a point already exceeds the policy's hard limit the rest of its series is
// skipped (a slow machine or a sanitizer build measures fewer, smaller points instead of
// running for hours). Compute kernels run on `threads` workers (all the hardware threads):
// the CPU as a whole is the "device". Every timed call includes the dispatch to the workers
// (measure_dispatch()); the profile therefore keeps launch_overhead_us at 0 rather than
// counting it twice (models/cost.h adds it to every op).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "calibrate/backend.h"
#include "calibrate/cpu/thread_pool.h"
#include "calibrate/fit.h"
#include "calibrate/profile.h"
#include "calibrate/timing.h"

namespace attnsim::calibrate::cpu {

/// State shared by the benchmarks of one run.
struct Session {
  const MeasureOptions* options = nullptr;
  Clock* clock = nullptr;
  TimingPolicy policy;
  ThreadPool* compute = nullptr;  // `threads` workers
  ThreadPool* comm = nullptr;     // max(2, threads) workers, one rank each
  int done = 0;
  int total = 0;

  /// Times `fn` by the policy.
  Timing time(const std::function<void()>& fn) const;

  /// Whether a point this slow ends its series (one warm-up run over the hard limit).
  bool ends_series(const Timing& t) const { return t.warmup_s > policy.hard_limit_s; }

  /// Counts one point (measured or skipped) and reports progress.
  void step(const std::string& stage, const std::string& what);
};

/// "median of 7 runs after a warm-up" for a row's source.
std::string runs_text(const Timing& t);

// --- compute (compute_bench.cpp) ------------------------------------------------------------

/// One GEMM shape, C (m x n) = A (m x k)·B (k x n).
struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
};

/// Shapes of one transformer layer's GEMMs for model widths h (m = h tokens): the square
/// h x h x h; QKV h x 5h/4 x h (Llama 3's 8:1 grouped-query heads); FFN up h x 7h/2 x h and
/// down h x h x 7h/2 (Llama 3's 3.5 x width), for h = 64, 128, 256 (quick) or 128 ... 1024.
/// Sorted by FLOPs.
std::vector<GemmShape> gemm_shapes(bool quick);

/// Eigen fp32 GEMMs, C's columns split over the compute workers. Rows: dtype fp32, b = 1.
std::vector<GemmPoint> measure_gemm(Session& s, const std::vector<GemmShape>& shapes);

/// One attention series: head dim and mask; sequence lengths from attention_lengths().
struct AttentionSeries {
  int head_dim = 0;
  bool causal = false;
  /// "" dense or causal; "sliding_window" (causal, window = a quarter of the length) or
  /// "dilated" (one LongNet branch, segment = a quarter of the length, rate 4): kind rows.
  std::string kind;
};

std::vector<AttentionSeries> attention_series();
std::vector<std::int64_t> attention_lengths(bool quick);

/// The tiled reference (attention.h) forward and backward, one head per compute worker
/// (batch_heads = threads). Rows: impl "cpu", dtype fp32, seq_q = seq_k.
std::vector<AttentionPoint> measure_attention(Session& s);

/// Buffer sizes of the memory benchmarks, bytes.
std::vector<std::int64_t> memory_sizes(bool quick);

/// memcpy and memset over the compute workers. Rows: op "copy" with bytes = 2 x size (read
/// and written), op "fill" with bytes = size; bandwidth = bytes / time.
std::vector<MemoryPoint> measure_memory(Session& s);

/// Time to dispatch an empty task to the compute workers and wait for all of them.
Timing measure_dispatch(Session& s);

// --- communication (comm_bench.cpp) ---------------------------------------------------------

/// Message sizes, bytes.
std::vector<double> send_recv_sizes(bool quick);
std::vector<double> collective_sizes(bool quick);

/// Thread-to-thread transfers (nccl-tests rows, nodes 1, algo and proto "default"):
///   send_recv, 2 ranks: rank 0 copies S bytes into a shared buffer and publishes a sequence
///     number (release store); rank 1 waits for it (acquire load), copies the buffer out, and
///     answers the same way; time = half the round trip (one transfer each way).
///   all_reduce, n ranks (fp32 sum): each rank reduces its 1/n of the buffer over all ranks'
///     inputs, a barrier, each copies the other ranks' reduced parts, a barrier.
///   all_gather, n ranks: each rank copies every rank's 1/n part into its own output.
/// busbw by nccl-tests' factors (profile.h). Rows hold each size's median; `fastest` the
/// fastest send_recv run per size, (bytes, seconds), for the link fit.
struct CommBench {
  std::vector<CommMeasurement> rows;
  std::vector<Sample> fastest;
};

CommBench measure_comm(Session& s);

/// The thread-to-thread link: t = alpha + S/beta fitted (fit.h) to the fastest send_recv run
/// of each size. Not the median: on a loaded machine a hand-off waits for the other thread to
/// be scheduled, which adds up to a scheduler quantum to a run whatever its size, so the
/// medians of small sizes can exceed those of large ones and no rising line fits them; the
/// link is the uncontended transfer, and the simulator adds contention itself.
/// Errors: config::RuntimeFailure when no fit exists (fewer than two sizes measured, or times
/// not rising with size).
LinkParams fit_thread_link(std::span<const Sample> fastest);

}  // namespace attnsim::calibrate::cpu
