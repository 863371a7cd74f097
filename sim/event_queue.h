// SPDX-License-Identifier: Apache-2.0
// The event queue: events run in time order, and events at the same time run in the order
// they were scheduled, so the same input always gives the same run (ns-3's scheduler key).
#pragma once

#include <compare>
#include <cstdint>
#include <queue>
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
template <class Payload>
class EventQueue {
 public:
  struct Event {
    EventKey key;
    Payload payload;
  };

  /// Schedules `payload` at `at`; `at` must not precede the last popped event.
  void schedule(Time at, Payload payload) { heap_.push(Event{EventKey{at, next_seq_++}, payload}); }

  bool empty() const { return heap_.empty(); }

  Time next_time() const { return heap_.top().key.at; }

  Event pop() {
    Event e = heap_.top();
    heap_.pop();
    ++popped_;
    return e;
  }

  /// Events popped so far.
  std::uint64_t processed() const { return popped_; }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.key > b.key; }
  };

  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t popped_ = 0;
};

}  // namespace attnsim::sim
