// SPDX-License-Identifier: Apache-2.0
#include "calibrate/timing.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace attnsim::calibrate {

double SteadyClock::now_s() {
  const auto since = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration<double>(since).count();
}

Timing time_median(const std::function<void()>& fn, const TimingPolicy& policy, Clock& clock) {
  return time_median_runs(
      [&] {
        const double start = clock.now_s();
        fn();
        return clock.now_s() - start;
      },
      policy);
}

Timing time_median_runs(const std::function<double()>& timed_run, const TimingPolicy& policy) {
  Timing t;
  for (int i = 0; i < policy.warmups; ++i) {
    t.warmup_s = timed_run();
  }
  std::vector<double> runs;
  double spent = 0;
  for (;;) {
    const double d = timed_run();
    runs.push_back(d);
    spent += d;
    const auto n = static_cast<int>(runs.size());
    if (n >= policy.max_repeats || (spent >= policy.budget_s && n >= policy.min_repeats) ||
        spent + d > policy.hard_limit_s) {
      break;
    }
  }
  std::sort(runs.begin(), runs.end());
  const std::size_t mid = runs.size() / 2;
  t.median_s = runs.size() % 2 == 1 ? runs[mid] : 0.5 * (runs[mid - 1] + runs[mid]);
  t.min_s = runs.front();
  t.repeats = static_cast<int>(runs.size());
  return t;
}

}  // namespace attnsim::calibrate
