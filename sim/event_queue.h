// SPDX-License-Identifier: Apache-2.0
// The event queue: events run in time order, and events at the same time run in the order
// they were scheduled, so the same input always gives the same run (ns-3's scheduler key).
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/time.h"

namespace attnsim::sim {

/// Orders events by (time, insertion sequence).
struct EventKey {
  Time at;
  std::uint64_t seq = 0;  // assigned by EventQueue::schedule, never reused
  friend auto operator<=>(const EventKey&, const EventKey&) = default;
};

/// A min-queue of events carrying a small payload (what to do is the client's business).
///
/// A 4-ary heap rather than std::priority_queue's binary one: half the levels, and a node's
/// children share one or two cache lines, which is what a pop costs once the heap outgrows
/// the cache (tens of thousands of in-flight ops at 4,096 GPUs; bench/README.md).
template <class Payload>
class EventQueue {
 public:
  struct Event {
    EventKey key;
    Payload payload;
  };

  /// Schedules `payload` at `at`; `at` must not precede the last popped event.
  void schedule(Time at, Payload payload) {
    heap_.push_back(Event{EventKey{at, next_seq_++}, payload});
    sift_up(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }

  Time next_time() const { return heap_.front().key.at; }

  Event pop() {
    const Event top = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      sift_down(last);
    }
    ++popped_;
    return top;
  }

  /// Events popped so far.
  std::uint64_t processed() const { return popped_; }

 private:
  static constexpr std::size_t kArity = 4;

  void sift_up(std::size_t i) {
    const Event e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!(e.key < heap_[parent].key)) {
        break;
      }
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // Puts `e` into the hole at the root, moving smaller children up.
  void sift_down(const Event& e) {
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) {
        break;
      }
      std::size_t best = first;
      const std::size_t end = std::min(first + kArity, n);
      for (std::size_t c = first + 1; c < end; ++c) {
        if (heap_[c].key < heap_[best].key) {
          best = c;
        }
      }
      if (!(heap_[best].key < e.key)) {
        break;
      }
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t popped_ = 0;
};

}  // namespace attnsim::sim
