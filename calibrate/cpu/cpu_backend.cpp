// SPDX-License-Identifier: Apache-2.0
// The CPU backend: runs the benchmarks of bench.h and assembles the profile.
//
// Peaks are not datasheet figures here: fp32 FLOP/s is the best GEMM rate measured (so the
// roofline the cost model uses above the measured shapes is that rate), hbm_bytes is the
// machine's MemTotal, hbm_bandwidth_GBps the memcpy rate (bytes read + written per second)
// of the largest buffer measured (64 MiB quick, 256 MiB full: past the L3 of most CPUs).
// compute_capability is absent (not a GPU), so the collective model uses NCCL's
// oldest-generation constants.
#include "calibrate/cpu/cpu_backend.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include <Eigen/Core>

#include "calibrate/cpu/bench.h"
#include "calibrate/cpu/host_info.h"
#include "config/error.h"

namespace attnsim::calibrate::cpu {

Timing Session::time(const std::function<void()>& fn) const {
  return time_median(fn, policy, *clock);
}

void Session::step(const std::string& stage, const std::string& what) {
  ++done;
  if (options->progress) {
    options->progress(Progress{stage, what, done, total});
  }
}

std::string runs_text(const Timing& t) {
  return "median of " + std::to_string(t.repeats) + (t.repeats == 1 ? " run" : " runs") +
         " after a warm-up";
}

namespace {

// Quick: a smoke test of the pipeline in seconds; full: long enough for stable medians.
TimingPolicy policy_for(bool quick) {
  TimingPolicy p;
  p.warmups = 1;
  p.min_repeats = quick ? 3 : 5;
  p.max_repeats = quick ? 500 : 5000;
  p.budget_s = quick ? 0.05 : 0.25;
  p.hard_limit_s = quick ? 0.3 : 3.0;
  return p;
}

int planned_points(bool quick) {
  const auto n = [](std::size_t x) { return static_cast<int>(x); };
  return n(gemm_shapes(quick).size()) +
         2 * n(attention_series().size() * attention_lengths(quick).size()) +
         2 * n(memory_sizes(quick).size()) + 1 + n(send_recv_sizes(quick).size()) +
         2 * n(collective_sizes(quick).size());
}

std::string format(double v, int precision = 3) {
  std::ostringstream o;
  o.precision(precision);
  o << v;
  return o.str();
}

Provenance provenance(const MeasureOptions& options, int threads, const Timing& dispatch) {
  Provenance p;
  p.source = "measured";
  p.tool = options.tool;
  p.date = iso_date_utc();
  const auto cpuinfo = read_text_file("/proc/cpuinfo");
  const auto model = cpuinfo ? parse_cpu_model(*cpuinfo) : std::nullopt;
  p.device = model ? *model : "unknown CPU (no model name in /proc/cpuinfo)";
  std::ostringstream notes;
  notes << "attnsim calibrate --backend cpu" << (options.quick ? " --quick" : "") << ": " << threads
        << " hardware threads measured as one device; Eigen " << EIGEN_WORLD_VERSION << "."
        << EIGEN_MAJOR_VERSION << "." << EIGEN_MINOR_VERSION << " with "
        << Eigen::SimdInstructionSetsInUse()
        << ". Each point: a warm-up, then the median of repeated runs within a time budget "
           "(std::chrono::steady_clock); sizes past the per-point time limit are skipped. "
           "Dispatching an empty task to the threads and waiting for all takes "
        << format(dispatch.median_s * 1e6)
        << " us; every compute row includes it, so launch_overhead_us is 0.";
#ifndef NDEBUG
  notes << " This binary has assertions on (a Debug build): its figures understate the "
           "machine.";
#endif
  p.notes = notes.str();
  return p;
}

Peaks peaks(const Compute& compute) {
  const auto mem = read_text_file("/proc/meminfo");
  const auto total = mem ? parse_mem_total_bytes(*mem) : std::nullopt;
  if (!total) {
    throw config::RuntimeFailure("calibrate: cannot read MemTotal from /proc/meminfo");
  }
  Peaks p;
  double best = 0;
  for (const GemmPoint& g : compute.gemm) {
    best = std::max(best, g.tflops * 1e12);
  }
  p.flops_per_s["fp32"] = best;
  p.hbm_bytes = *total;
  const MemoryPoint* largest = nullptr;
  for (const MemoryPoint& m : compute.memory) {
    if (m.op == "copy" && (largest == nullptr || m.bytes > largest->bytes)) {
      largest = &m;
    }
  }
  if (largest == nullptr) {
    throw config::RuntimeFailure(
        "calibrate --backend cpu: no memcpy size could be measured, so there is no memory "
        "bandwidth for the profile's peaks");
  }
  p.hbm_bandwidth_GBps = largest->bandwidth_GBps;
  p.source =
      "measured: fp32 is the best Eigen GEMM rate measured (not a datasheet peak); "
      "hbm_bytes is MemTotal of /proc/meminfo; hbm_bandwidth_GBps is memcpy of " +
      format(largest->bytes / 2 / 1048576.0) +
      " MiB, bytes read + written per second; no compute capability (not a GPU)";
  return p;
}

class CpuBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  std::string unavailable_reason() const override { return ""; }

  Profile measure(const MeasureOptions& options) const override {
    SteadyClock clock;
    return measure_cpu(options, clock);
  }
};

}  // namespace

Profile measure_cpu(const MeasureOptions& options, Clock& clock) {
  Eigen::initParallel();
  const int threads = hardware_threads();
  ThreadPool compute(threads);
  ThreadPool comm(std::max(2, threads));
  Session s;
  s.options = &options;
  s.clock = &clock;
  s.policy = policy_for(options.quick);
  s.compute = &compute;
  s.comm = &comm;
  s.total = planned_points(options.quick);

  Profile p;
  p.name = options.name.empty() ? "cpu" : options.name;
  const Timing dispatch = measure_dispatch(s);
  p.compute.gemm = measure_gemm(s, gemm_shapes(options.quick));
  p.compute.attention = measure_attention(s);
  p.compute.memory = measure_memory(s);
  p.compute.launch_overhead_us = 0;  // included in every row (bench.h)
  CommBench comm_bench = measure_comm(s);
  p.comm.measurements = std::move(comm_bench.rows);
  p.comm.links.scale_up = fit_thread_link(comm_bench.fastest);
  p.provenance = provenance(options, threads, dispatch);
  p.peaks = peaks(p.compute);
  return p;
}

}  // namespace attnsim::calibrate::cpu

namespace attnsim::calibrate {

std::unique_ptr<Backend> make_cpu_backend() {
  return std::make_unique<cpu::CpuBackend>();
}

}  // namespace attnsim::calibrate
