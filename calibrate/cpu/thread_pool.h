// SPDX-License-Identifier: Apache-2.0
// A fixed set of worker threads that all run the same function (the CPU backend's "device":
// compute kernels split their work over the workers, communication benchmarks give each
// worker a rank).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace attnsim::calibrate::cpu {

/// `size()` workers: worker 0 is the thread that calls run(), workers 1..size()-1 are threads
/// owned by the pool, parked between calls.
class ThreadPool {
 public:
  /// Precondition: workers >= 1.
  explicit ThreadPool(int workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  /// Runs fn(worker) on every worker at once and returns when all have finished. The first
  /// exception thrown by any worker is rethrown here, after all have finished.
  void run(const std::function<void(int worker)>& fn);

 private:
  void work(int worker);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int)>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int running_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

/// A reusable barrier for `parties` threads that spins (then yields) instead of sleeping, so
/// that a handoff between running threads costs a cache-line transfer, not a futex wake-up:
/// the way NCCL's proxies and kernels wait on flags. Sense reversal makes it reusable.
class SpinBarrier {
 public:
  explicit SpinBarrier(int parties) : parties_(parties) {}

  /// Returns once all parties have arrived.
  void arrive_and_wait();

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
  std::atomic<std::uint64_t> phase_{0};
};

/// Spins until `flag` holds `value` (acquire), yielding the core after a short spin so that an
/// oversubscribed machine still makes progress. Returns false if `stop` (when given) is
/// raised first.
bool wait_for(const std::atomic<std::uint64_t>& flag, std::uint64_t value,
              const std::atomic<bool>* stop = nullptr);

/// The half-open range [begin, end) of `count` items that `part` of `parts` takes: parts
/// differ by at most one item.
struct Range {
  std::int64_t begin = 0, end = 0;
};

Range split(std::int64_t count, int part, int parts);

}  // namespace attnsim::calibrate::cpu
