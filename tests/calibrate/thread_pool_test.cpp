// SPDX-License-Identifier: Apache-2.0
// The CPU backend's workers (calibrate/cpu/thread_pool.h): every worker runs once per call,
// work splits cover the range exactly, exceptions come back to the caller, and the spin
// barrier orders phases.
#include "calibrate/cpu/thread_pool.h"

#include <atomic>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using attnsim::calibrate::cpu::Range;
using attnsim::calibrate::cpu::SpinBarrier;
using attnsim::calibrate::cpu::split;
using attnsim::calibrate::cpu::ThreadPool;

TEST_CASE("each worker runs the function once per call, on repeated calls", "[unit]") {
  for (const int workers : {1, 2, 3}) {
    ThreadPool pool(workers);
    REQUIRE(pool.size() == workers);
    std::vector<std::atomic<int>> calls(static_cast<std::size_t>(workers));
    const std::function<void(int)> count = [&](int w) { ++calls[static_cast<std::size_t>(w)]; };
    for (int i = 0; i < 50; ++i) {
      pool.run(count);
    }
    for (const auto& c : calls) {
      CHECK(c.load() == 50);
    }
  }
}

TEST_CASE("splits cover the range with parts differing by at most one", "[unit]") {
  // 10 over 3: 3, 3, 4 (begin = 10·i/3 rounded down: 0, 3, 6, 10).
  CHECK(split(10, 0, 3).begin == 0);
  CHECK(split(10, 0, 3).end == 3);
  CHECK(split(10, 1, 3).end == 6);
  CHECK(split(10, 2, 3).end == 10);
  CHECK(split(1, 0, 2).end - split(1, 0, 2).begin == 0);  // fewer items than parts
  CHECK(split(1, 1, 2).end - split(1, 1, 2).begin == 1);
}

TEST_CASE("an exception in a worker reaches the caller and the pool stays usable", "[unit]") {
  ThreadPool pool(2);
  const std::function<void(int)> fail_on_1 = [](int w) {
    if (w == 1) {
      throw std::runtime_error("worker 1 failed");
    }
  };
  REQUIRE_THROWS_WITH(pool.run(fail_on_1), "worker 1 failed");
  std::atomic<int> ran{0};
  const std::function<void(int)> count = [&](int) { ++ran; };
  pool.run(count);
  CHECK(ran.load() == 2);
}

TEST_CASE("the spin barrier lets no thread into a phase before all finished the last", "[unit]") {
  // Each of 3 threads, in each of 200 phases, increments the counter and then, after the
  // barrier, checks that it holds 3·(phase + 1): every increment of the phase happened, and
  // none of the next phase did (that needs a second barrier before the next increment).
  ThreadPool pool(3);
  SpinBarrier barrier(3);
  std::atomic<int> counter{0};
  std::atomic<int> wrong{0};
  const std::function<void(int)> phases = [&](int) {
    for (int phase = 0; phase < 200; ++phase) {
      ++counter;
      barrier.arrive_and_wait();
      if (counter.load() != 3 * (phase + 1)) {
        ++wrong;
      }
      barrier.arrive_and_wait();
    }
  };
  pool.run(phases);
  CHECK(wrong.load() == 0);
  CHECK(counter.load() == 600);
}
