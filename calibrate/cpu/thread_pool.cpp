// SPDX-License-Identifier: Apache-2.0
#include "calibrate/cpu/thread_pool.h"

namespace attnsim::calibrate::cpu {

ThreadPool::ThreadPool(int workers) {
  for (int w = 1; w < workers; ++w) {
    threads_.emplace_back([this, w] { work(w); });
  }
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    error_ = nullptr;
    running_ = static_cast<int>(threads_.size());
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    fn(0);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return running_ == 0; });
  job_ = nullptr;
  if (mine) {
    std::rethrow_exception(mine);
  }
  if (error_) {
    std::rethrow_exception(error_);
  }
}

void ThreadPool::work(int worker) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) {
        return;
      }
      seen = generation_;
      job = job_;
    }
    std::exception_ptr error;
    try {
      (*job)(worker);
    } catch (...) {
      error = std::current_exception();
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) {
        error_ = error;
      }
      --running_;
    }
    done_.notify_one();
  }
}

bool wait_for(const std::atomic<std::uint64_t>& flag, std::uint64_t value,
              const std::atomic<bool>* stop) {
  for (int spins = 0; flag.load(std::memory_order_acquire) != value; ++spins) {
    if (stop != nullptr && stop->load(std::memory_order_acquire)) {
      return false;
    }
    if (spins >= 256) {
      std::this_thread::yield();
    }
  }
  return true;
}

void SpinBarrier::arrive_and_wait() {
  const std::uint64_t phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
    arrived_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);  // publishes the reset too
    return;
  }
  wait_for(phase_, phase + 1);
}

Range split(std::int64_t count, int part, int parts) {
  const std::int64_t p = parts;
  const std::int64_t i = part;
  return {count * i / p, count * (i + 1) / p};
}

}  // namespace attnsim::calibrate::cpu
