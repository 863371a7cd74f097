// SPDX-License-Identifier: Apache-2.0
// The CPU backend's communication benchmarks: transfers between threads (bench.h).
#include <atomic>
#include <cmath>
#include <cstring>
#include <sstream>

#include <Eigen/Core>

#include "calibrate/cpu/bench.h"
#include "calibrate/fit.h"
#include "config/error.h"

namespace attnsim::calibrate::cpu {
namespace {

std::string size_text(double bytes) {
  std::ostringstream o;
  o << static_cast<std::int64_t>(bytes) << " B";
  return o.str();
}

// Half the round trip of `bytes` between ranks 0 and 1 (bench.h).
Timing time_send_recv(Session& s, std::size_t bytes) {
  std::vector<char> a_src(bytes, 1), a_dst(bytes), b_src(bytes, 2), b_dst(bytes);
  std::vector<char> a_to_b(bytes), b_to_a(bytes);  // the shared buffers
  std::atomic<std::uint64_t> to_b{0};
  std::atomic<std::uint64_t> to_a{0};
  std::atomic<bool> stop{false};
  Timing result;
  const std::function<void(int)> rank = [&](int r) {
    if (r == 0) {
      std::uint64_t k = 0;
      result = s.time([&] {
        ++k;
        std::memcpy(a_to_b.data(), a_src.data(), bytes);
        to_b.store(k, std::memory_order_release);
        wait_for(to_a, k);
        std::memcpy(a_dst.data(), b_to_a.data(), bytes);
      });
      stop.store(true, std::memory_order_release);
    } else if (r == 1) {
      for (std::uint64_t k = 1; wait_for(to_b, k, &stop); ++k) {
        std::memcpy(b_dst.data(), a_to_b.data(), bytes);
        std::memcpy(b_to_a.data(), b_src.data(), bytes);
        to_a.store(k, std::memory_order_release);
      }
    }
  };
  s.comm->run(rank);
  result.median_s /= 2;
  result.min_s /= 2;
  result.warmup_s /= 2;
  return result;
}

// One collective iteration per call of `body(rank)` on every rank, fenced by barriers; rank 0
// times the iterations and tells the others when to stop.
Timing time_collective(Session& s, const std::function<void(int)>& body) {
  const int ranks = s.comm->size();
  SpinBarrier sync(ranks);
  std::atomic<bool> go{true};
  Timing result;
  const std::function<void(int)> rank = [&](int r) {
    const auto iteration = [&] {
      sync.arrive_and_wait();
      if (!go.load(std::memory_order_acquire)) {
        return false;
      }
      body(r);
      sync.arrive_and_wait();
      return true;
    };
    if (r == 0) {
      result = s.time([&] { iteration(); });
      go.store(false, std::memory_order_release);
      sync.arrive_and_wait();  // releases the others into their last, empty iteration
    } else {
      while (iteration()) {
      }
    }
  };
  s.comm->run(rank);
  return result;
}

}  // namespace

std::vector<double> send_recv_sizes(bool quick) {
  // 8 B (latency-bound) to 16 MiB (bandwidth-bound), factor 8 quick and 4 full.
  std::vector<double> sizes;
  for (double b = 8; b <= 16 * 1048576.0; b *= quick ? 8 : 4) {
    sizes.push_back(b);
  }
  return sizes;
}

std::vector<double> collective_sizes(bool quick) {
  std::vector<double> sizes;
  for (double b = 1024; b <= (quick ? 16 : 64) * 1048576.0; b *= quick ? 16 : 4) {
    sizes.push_back(b);
  }
  return sizes;
}

CommBench measure_comm(Session& s) {
  CommBench bench;
  std::vector<CommMeasurement>& rows = bench.rows;
  const int ranks = s.comm->size();
  const std::string threads = std::to_string(ranks) + " threads";
  const std::string timing = ", median per size of at least " +
                             std::to_string(s.policy.min_repeats) +
                             " timed runs (fewer only past the per-point time limit) after " +
                             std::to_string(s.policy.warmups) + " warm-up";
  bool skipping = false;
  for (const double bytes : send_recv_sizes(s.options->quick)) {
    if (skipping) {
      s.step("comm", "send_recv " + size_text(bytes) + " skipped");
      continue;
    }
    const Timing t = time_send_recv(s, static_cast<std::size_t>(bytes));
    rows.push_back(measured_comm("send_recv", 2, bytes, t.median_s,
                                 "measured: 2 threads, copy into a shared buffer, release/acquire "
                                 "flag handoff, copy out; half a round trip" +
                                     timing));
    bench.fastest.push_back({bytes, t.min_s});
    skipping = s.ends_series(t);
    s.step("comm", "send_recv " + size_text(bytes));
  }

  for (const bool reduce : {true, false}) {
    const std::string name = reduce ? "all_reduce" : "all_gather";
    skipping = false;
    for (const double bytes : collective_sizes(s.options->quick)) {
      if (skipping) {
        s.step("comm", name + " " + size_text(bytes) + " skipped");
        continue;
      }
      const auto count = static_cast<std::int64_t>(bytes) / 4;  // fp32 elements
      std::vector<Eigen::VectorXf> in(static_cast<std::size_t>(ranks));
      std::vector<Eigen::VectorXf> out(static_cast<std::size_t>(ranks));
      for (std::size_t r = 0; r < in.size(); ++r) {
        const Range part = split(count, static_cast<int>(r), ranks);
        in[r].setConstant(reduce ? count : part.end - part.begin, static_cast<float>(r + 1));
        out[r].setZero(count);
      }
      const auto at = [](Eigen::VectorXf& v, const Range& c) {
        return v.segment(c.begin, c.end - c.begin);
      };
      SpinBarrier phase(ranks);
      const std::function<void(int)> all_reduce = [&](int r) {
        const auto me = static_cast<std::size_t>(r);
        const Range mine = split(count, r, ranks);
        at(out[me], mine) = at(in[0], mine);
        for (std::size_t q = 1; q < in.size(); ++q) {
          at(out[me], mine) += at(in[q], mine);  // reduce-scatter into my part
        }
        phase.arrive_and_wait();
        for (int c = 0; c < ranks; ++c) {
          if (c != r) {
            const Range part = split(count, c, ranks);
            at(out[me], part) = at(out[static_cast<std::size_t>(c)], part);  // all-gather
          }
        }
      };
      const std::function<void(int)> all_gather = [&](int r) {
        for (int c = 0; c < ranks; ++c) {
          const Range part = split(count, c, ranks);
          at(out[static_cast<std::size_t>(r)], part) = in[static_cast<std::size_t>(c)];
        }
      };
      const Timing t = time_collective(s, reduce ? all_reduce : all_gather);
      std::string source = "measured: " + threads + " in shared memory, ";
      source += reduce ? "fp32 sum: each thread reduces its 1/n over all inputs, a barrier, "
                         "each copies the others' reduced parts, a barrier"
                       : "each thread copies every thread's 1/n part into its output, a barrier";
      source += timing;
      rows.push_back(
          measured_comm(name, ranks, static_cast<double>(count * 4), t.median_s, source));
      skipping = s.ends_series(t);
      s.step("comm", name + " " + size_text(bytes));
    }
  }
  return bench;
}

LinkParams fit_thread_link(std::span<const Sample> fastest) {
  const auto fit = fit_alpha_beta(fastest);
  if (!fit) {
    throw config::RuntimeFailure(
        "calibrate: cannot fit latency and bandwidth of the thread-to-thread transfers (" +
        std::to_string(fastest.size()) +
        " sizes measured; the fit needs two, with times "
        "rising with size)");
  }
  std::ostringstream source;
  source.precision(3);
  source << "fitted: t = alpha + S/beta by least squares on relative residuals (calibrate/"
            "fit.h) to the "
         << fastest.size() << " send_recv sizes' fastest runs " << fit->min_bytes << " - "
         << fit->max_bytes << " B, rms relative error " << fit->rms_relative_error * 100
         << " %; bandwidth is the achieved rate (beta), so efficiency is 1; kind nvswitch: "
            "every thread reaches every other at one rate through the shared memory system, "
            "the shape of an NVSwitch node (no NVLS)";
  LinkParams link;
  link.kind = "nvswitch";
  link.bandwidth_GBps = fit->beta_bytes_per_s * 1e-9;
  link.efficiency = 1;
  link.latency_us = fit->alpha_s * 1e6;
  link.source = source.str();
  return link;
}

}  // namespace attnsim::calibrate::cpu
