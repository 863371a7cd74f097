// SPDX-License-Identifier: Apache-2.0
// How calibration times one benchmark point: warm-up runs, then repeated timed runs until a
// time budget is spent, reporting the median (the practice of nccl-tests and of CUDA-event
// timing loops: discard the first run, which pays for page faults, cold caches and lazy
// initialisation, and take a robust statistic of the rest). The clock is injected so that
// tests can script the durations (STYLE D9).
//
// Stopping rule for one point, with d_i the duration of timed run i and T = sum of d_i:
//   stop after run i when  i >= max_repeats,
//                     or  T >= budget_s and i >= min_repeats,
//                     or  T + d_i > hard_limit_s (one more run of the same length would pass
//                         the hard limit; this is what lets a slow machine or a sanitizer
//                         build finish: it takes fewer repeats, at least one).
// Example: budget 5, min 3, durations 10 (warm-up, discarded), 1, 3, 2: after run 3 T = 6 >= 5
// with 3 runs, so the median is 2.
#pragma once

#include <functional>

namespace attnsim::calibrate {

/// Seconds since an arbitrary, fixed origin.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now_s() = 0;
};

/// std::chrono::steady_clock.
class SteadyClock : public Clock {
 public:
  double now_s() override;
};

/// How long one point may be timed (see the stopping rule above).
struct TimingPolicy {
  int warmups = 1;
  int min_repeats = 3;
  int max_repeats = 2000;
  double budget_s = 0.05;
  double hard_limit_s = 0.5;
};

/// The result of timing one point.
struct Timing {
  double median_s = 0;
  double min_s = 0;
  double warmup_s = 0;  // duration of the last warm-up run (0 without warm-up)
  int repeats = 0;
};

/// Runs `fn` policy.warmups times untimed-in-the-result, then timed until the stopping rule
/// says stop. Precondition: policy.min_repeats >= 1, policy.max_repeats >= 1.
Timing time_median(const std::function<void()>& fn, const TimingPolicy& policy, Clock& clock);

/// The same loop when each run times itself: `timed_run` does one run and returns its duration
/// in seconds (e.g. from CUDA events, which see the device's time rather than the host's).
/// time_median() is this with a run timed by `clock`. Same precondition.
Timing time_median_runs(const std::function<double()>& timed_run, const TimingPolicy& policy);

}  // namespace attnsim::calibrate
