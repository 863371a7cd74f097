// SPDX-License-Identifier: Apache-2.0
// The timing loop of calibration (calibrate/timing.h) with a scripted clock: warm-ups are
// discarded, the median is taken, and the budget, the minimum and the hard limit decide how
// many runs are made.
#include "calibrate/timing.h"

#include <cstddef>
#include <vector>

#include <catch2/catch.hpp>

using attnsim::calibrate::Clock;
using attnsim::calibrate::time_median;
using attnsim::calibrate::Timing;
using attnsim::calibrate::TimingPolicy;

namespace {

// A clock that only moves when the timed function runs: run i lasts durations[i] seconds.
class ScriptedClock : public Clock {
 public:
  explicit ScriptedClock(std::vector<double> durations) : durations_(std::move(durations)) {}

  double now_s() override { return now_; }

  void run() {
    REQUIRE(next_ < durations_.size());  // the loop ran more often than the script allows
    now_ += durations_[next_++];
  }

  std::size_t runs() const { return next_; }

 private:
  std::vector<double> durations_;
  std::size_t next_ = 0;
  double now_ = 100;
};

Timing time_script(ScriptedClock& clock, const TimingPolicy& policy) {
  return time_median([&] { clock.run(); }, policy, clock);
}

}  // namespace

TEST_CASE("the median of the timed runs leaves out the warm-up", "[unit]") {
  // Budget 5, at least 3 runs: the warm-up (10) is discarded; after 1, 3, 2 the runs total
  // 6 >= 5 with 3 runs, so the loop stops with median 2 and minimum 1.
  ScriptedClock clock({10, 1, 3, 2, 50});
  TimingPolicy policy;
  policy.budget_s = 5;
  policy.min_repeats = 3;
  policy.hard_limit_s = 100;
  const Timing t = time_script(clock, policy);
  CHECK(t.repeats == 3);
  CHECK(t.median_s == 2);
  CHECK(t.min_s == 1);
  CHECK(t.warmup_s == 10);
  CHECK(clock.runs() == 4);
}

TEST_CASE("an even number of runs takes the mean of the middle two", "[unit]") {
  // Budget 10, at least 4 runs: 4, 1, 2, 8 total 15 after the fourth; sorted 1 2 4 8.
  ScriptedClock clock({0, 4, 1, 2, 8});
  TimingPolicy policy;
  policy.budget_s = 10;
  policy.min_repeats = 4;
  policy.hard_limit_s = 100;
  CHECK(time_script(clock, policy).median_s == 3);
}

TEST_CASE("fast runs repeat until the budget, at most max_repeats", "[unit]") {
  TimingPolicy policy;
  policy.budget_s = 1;
  policy.min_repeats = 3;
  policy.hard_limit_s = 100;
  SECTION("0.1 s runs: ten of them reach the 1 s budget") {
    ScriptedClock clock(std::vector<double>(20, 0.1));
    const Timing t = time_script(clock, policy);
    // 10 x 0.1 may round just below 1, so the loop may take an eleventh run.
    CHECK((t.repeats == 10 || t.repeats == 11));
  }
  SECTION("max_repeats stops it first") {
    policy.max_repeats = 4;
    ScriptedClock clock(std::vector<double>(20, 0.1));
    CHECK(time_script(clock, policy).repeats == 4);
  }
}

TEST_CASE("a run that would pass the hard limit ends the point with fewer runs", "[unit]") {
  // Hard limit 5: after the first timed run (3 s) a second of the same length would make 6,
  // so the loop stops at one run although the minimum is three.
  ScriptedClock clock({3, 3, 3, 3});
  TimingPolicy policy;
  policy.budget_s = 1;
  policy.min_repeats = 3;
  policy.hard_limit_s = 5;
  const Timing t = time_script(clock, policy);
  CHECK(t.repeats == 1);
  CHECK(t.median_s == 3);
}

TEST_CASE("runs that time themselves follow the same stopping rule", "[unit]") {
  // The header's example with self-timed runs (CUDA events): warm-up 10, then 1, 3, 2; after
  // run 3 T = 6 >= budget 5 with 3 runs, so the median is 2 and run 4 never happens.
  const std::vector<double> durations = {10, 1, 3, 2, 99};
  std::size_t next = 0;
  TimingPolicy policy;
  policy.warmups = 1;
  policy.min_repeats = 3;
  policy.budget_s = 5;
  policy.hard_limit_s = 100;
  const Timing t =
      attnsim::calibrate::time_median_runs([&] { return durations.at(next++); }, policy);
  REQUIRE(next == 4);
  REQUIRE(t.median_s == 2);
  REQUIRE(t.min_s == 1);
  REQUIRE(t.warmup_s == 10);
  REQUIRE(t.repeats == 3);
}
