// SPDX-License-Identifier: Apache-2.0
#include "sim/replay.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include "sim/event_queue.h"
#include "sim/flow_network.h"

namespace attnsim::sim {

namespace {

constexpr OpId kNoOp = std::numeric_limits<OpId>::max();

struct Payload {
  enum Kind : std::uint8_t { kOpEnd, kFlowDrained } kind;

  std::uint32_t id;       // op (kOpEnd) or flow (kFlowDrained)
  std::uint32_t version;  // kFlowDrained: matches the flow's version unless superseded
};

// One replay: the state that lives for the duration of replay().
class Replayer {
 public:
  Replayer(const Trace& trace, const Network& network, NetworkModel model)
      : trace_(trace), network_(network), model_(model), flows_(capacities(network)) {
    result_.ops.resize(trace.size());
    result_.member_ends.resize(trace.member_count());
    result_.links.resize(network.links().size());
    link_active_.resize(network.links().size(), 0);
    busy_since_.resize(network.links().size());
    build_graph();
    std::size_t transfers = 0;
    for (OpId op = 0; op < trace.size(); ++op) {
      transfers += trace.op(op).kind == OpKind::kTransfer ? 1 : 0;
    }
    // Room for every transfer at once (the common case of a collective's burst), paths of a
    // few hops each (a bundle's path: the union of its members'); vectors grow past that if
    // they must.
    flows_.reserve(transfers, 8 * transfers + 2 * trace.member_count());
    active_.reserve(transfers);
    // A bundle's member paths are routed again when needed, not kept (flow_network.h).
    flows_.set_member_router([this](FlowId f, std::uint32_t m, std::vector<LinkId>& path) {
      const Member& member = trace_.members(active_[f].op)[m];
      network_.route(member.src, member.dst, member.salt, path);
    });
  }

  ReplayResult run() {
    for (OpId op = 0; op < trace_.size(); ++op) {
      if (pending_deps_[op] == 0) {
        on_ready(op, Time(), kNoOp);
      }
    }
    resolve_flows(Time());
    while (!queue_.empty()) {
      const Time now = queue_.next_time();
      while (!queue_.empty() && queue_.next_time() == now) {
        const auto event = queue_.pop();
        handle(event.payload, now);
      }
      resolve_flows(now);
    }
    for (std::uint32_t op = 0; op < pending_deps_.size(); ++op) {
      if (!done_[op]) {
        throw std::logic_error("replay: an op never ran (a dependency cycle?)");
      }
    }
    finish();
    return std::move(result_);
  }

 private:
  static constexpr std::uint32_t kWhole = std::numeric_limits<std::uint32_t>::max();

  struct ActiveFlow {
    OpId op = kNoOp;
    double remaining = 0;  // bytes per member
    double rate = 0;       // bytes/s per member, as last seen
    Time last;
    Time latency;  // after the last byte: path + extra (a whole bundle: its members' largest)
    std::uint32_t version = 0;
    std::uint32_t member = kWhole;  // a bundle member split off on its own: its index
  };

  static std::vector<double> capacities(const Network& network) {
    std::vector<double> c;
    c.reserve(network.links().size());
    for (const Link& l : network.links()) {
      c.push_back(l.capacity.bytes_per_s());
    }
    return c;
  }

  void build_graph() {
    const std::size_t n = trace_.size();
    pending_deps_.resize(n);
    blocker_.assign(n, kNoOp);
    done_.assign(n, false);
    stream_of_.assign(n, 0);
    // Successor lists in CSR form.
    std::vector<std::uint32_t> counts(n + 1, 0);
    for (OpId op = 0; op < n; ++op) {
      pending_deps_[op] = static_cast<std::uint32_t>(trace_.deps(op).size());
      for (OpId d : trace_.deps(op)) {
        ++counts[d + 1];
      }
    }
    for (std::size_t i = 1; i <= n; ++i) {
      counts[i] += counts[i - 1];
    }
    succ_begin_ = counts;
    succ_.resize(counts[n]);
    for (OpId op = 0; op < n; ++op) {
      for (OpId d : trace_.deps(op)) {
        succ_[counts[d]++] = op;
      }
    }
    // Streams: ops of one (gpu, stream) in trace order, as one CSR array. Streams are
    // numbered densely by (gpu, stream) when GPUs and streams are small integers (always, for
    // traces the models build), else through a hash map.
    std::uint32_t max_gpu = 0;
    std::uint32_t max_stream = 0;
    for (OpId op = 0; op < n; ++op) {
      const Trace::Op& o = trace_.op(op);
      if (o.kind == OpKind::kCompute) {
        max_gpu = std::max(max_gpu, o.a);
        max_stream = std::max(max_stream, o.b);
      }
    }
    const std::uint64_t dense = (std::uint64_t{max_gpu} + 1) * (std::uint64_t{max_stream} + 1);
    constexpr std::uint32_t kUnseen = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> dense_index;
    std::unordered_map<std::uint64_t, std::uint32_t> sparse_index;
    if (dense <= 4 * std::uint64_t{n} + 1024) {
      dense_index.assign(dense, kUnseen);
    }
    std::uint32_t stream_count = 0;
    std::vector<std::uint32_t> stream_size;
    for (OpId op = 0; op < n; ++op) {
      const Trace::Op& o = trace_.op(op);
      if (o.kind != OpKind::kCompute) {
        continue;
      }
      std::uint32_t* slot = nullptr;
      if (!dense_index.empty()) {
        slot = &dense_index[std::uint64_t{o.a} * (max_stream + 1) + o.b];
      } else {
        slot = &sparse_index.try_emplace((std::uint64_t{o.a} << 32) | o.b, kUnseen).first->second;
      }
      if (*slot == kUnseen) {
        *slot = stream_count++;
        stream_size.push_back(0);
      }
      stream_of_[op] = *slot;
      ++stream_size[*slot];
    }
    streams_.resize(stream_count);
    std::uint32_t begin = 0;
    for (std::uint32_t s = 0; s < stream_count; ++s) {
      streams_[s].begin = streams_[s].head = streams_[s].fill = begin;
      begin += stream_size[s];
      streams_[s].end = begin;
    }
    stream_ops_.resize(begin);
    for (OpId op = 0; op < n; ++op) {
      if (trace_.op(op).kind == OpKind::kCompute) {
        stream_ops_[streams_[stream_of_[op]].fill++] = op;
      }
    }
    ready_.assign(n, false);
  }

  void on_ready(OpId op, Time now, OpId blocker) {
    blocker_[op] = blocker;
    const Trace::Op& o = trace_.op(op);
    switch (o.kind) {
      case OpKind::kCompute:
        ready_[op] = true;
        try_start_stream(stream_of_[op], now);
        break;
      case OpKind::kDelay:
        result_.ops[op].start = now;
        queue_.schedule(now + o.duration, Payload{Payload::kOpEnd, op, 0});
        break;
      case OpKind::kTransfer:
        result_.ops[op].start = now;
        start_transfer(op, o, now);
        break;
    }
  }

  void try_start_stream(std::uint32_t s, Time now) {
    Stream& stream = streams_[s];
    if (stream.busy || stream.head == stream.end) {
      return;
    }
    const OpId op = stream_ops_[stream.head];
    if (!ready_[op]) {
      return;
    }
    // Released by the stream rather than by a dependency when the stream was the later one.
    if (stream.head > stream.begin && stream.freed_at == now && stream.freed_at > ready_at(op)) {
      blocker_[op] = stream_ops_[stream.head - 1];
    }
    stream.busy = true;
    result_.ops[op].start = now;
    queue_.schedule(now + trace_.op(op).duration, Payload{Payload::kOpEnd, op, 0});
  }

  Time ready_at(OpId op) const {
    const OpId b = blocker_[op];
    return b == kNoOp ? Time() : result_.ops[b].end;
  }

  // A started transfer's flows not yet drained, kept where its dependency count was (zero
  // from the moment it started: nothing else reads it again).
  std::uint32_t& flows_left(OpId op) { return pending_deps_[op]; }

  Time path_latency(std::span<const LinkId> path) const {
    Time latency;
    for (LinkId l : path) {
      latency += network_.link(l).latency;
    }
    return latency;
  }

  // Registers `f` as (part of) transfer `op`'s flows: its links become busy.
  ActiveFlow& track(FlowId f, OpId op, double remaining, Time now) {
    if (active_.size() <= f) {
      active_.resize(f + 1);
    }
    ActiveFlow& a = active_[f];
    a.op = op;
    a.remaining = remaining;
    a.rate = 0;
    a.last = now;
    a.member = kWhole;
    ++a.version;
    for (LinkId l : flows_.path(f)) {
      if (link_active_[l]++ == 0) {
        busy_since_[l] = now;
      }
    }
    return a;
  }

  void start_bundle(OpId op, const Trace::Op& o, Time now) {
    const std::span<const Member> members = trace_.members(op);
    const bool flow = o.bytes > 0 && model_ == NetworkModel::kFlow;
    if (flow) {
      flows_.begin_bundle();
    }
    Time latest;  // analytical: the last arrival; flow: the largest latency
    for (std::size_t i = 0; i < members.size(); ++i) {
      const Member& m = members[i];
      network_.route(m.src, m.dst, m.salt, path_);
      const Time latency = o.duration + path_latency(path_);
      double min_capacity = std::numeric_limits<double>::infinity();
      for (LinkId l : path_) {
        min_capacity = std::min(min_capacity, network_.link(l).capacity.bytes_per_s());
        result_.links[l].bytes += o.bytes * o.multiplicity;
      }
      Time& arrival = result_.member_ends[o.members_begin() + i];
      if (o.bytes <= 0) {
        arrival = now + latency;
        latest = std::max(latest, arrival);
      } else if (model_ == NetworkModel::kAnalytical) {
        const double rate = std::min(min_capacity / o.multiplicity, o.max_rate);
        for (LinkId l : path_) {
          result_.links[l].busy +=
              Time::from_s(o.bytes * o.multiplicity / network_.link(l).capacity.bytes_per_s());
        }
        arrival = now + drain_time(o.bytes, rate) + latency;
        latest = std::max(latest, arrival);
      } else {
        flows_.add_member(path_);
        arrival = latency;  // until it drains: handle() adds the drain time
        latest = std::max(latest, latency);
      }
    }
    if (!flow) {
      queue_.schedule(latest, Payload{Payload::kOpEnd, op, 0});
      return;
    }
    const FlowId f = flows_.end_bundle(o.multiplicity, o.max_rate);
    track(f, op, o.bytes, now).latency = latest;
    flows_left(op) = 1;
    result_.ops[op].end = Time();  // the latest arrival so far, until the op ends
  }

  void start_transfer(OpId op, const Trace::Op& o, Time now) {
    if (o.members_size > 0) {
      start_bundle(op, o, now);
      return;
    }
    path_.clear();
    if (o.a != o.b) {
      network_.route(o.a, o.b, o.salt, path_);
    }
    Time latency = o.duration;
    double min_capacity = std::numeric_limits<double>::infinity();
    for (LinkId l : path_) {
      const Link& link = network_.link(l);
      latency += link.latency;
      min_capacity = std::min(min_capacity, link.capacity.bytes_per_s());
      result_.links[l].bytes += o.bytes * o.multiplicity;
    }
    if (o.bytes <= 0 || path_.empty()) {
      // Nothing to move, or a copy to itself limited only by its cap.
      const Time drain =
          o.bytes <= 0 || std::isinf(o.max_rate) ? Time() : drain_time(o.bytes, o.max_rate);
      queue_.schedule(now + drain + latency, Payload{Payload::kOpEnd, op, 0});
      return;
    }
    if (model_ == NetworkModel::kAnalytical) {
      const double rate = std::min(min_capacity / o.multiplicity, o.max_rate);
      for (LinkId l : path_) {
        result_.links[l].busy +=
            Time::from_s(o.bytes * o.multiplicity / network_.link(l).capacity.bytes_per_s());
      }
      queue_.schedule(now + drain_time(o.bytes, rate) + latency, Payload{Payload::kOpEnd, op, 0});
      return;
    }
    const FlowId f = flows_.add(path_, o.multiplicity, o.max_rate);
    track(f, op, o.bytes, now).latency = latency;
    flows_left(op) = 1;
    result_.ops[op].end = Time();  // the latest arrival so far, until the op ends
  }

  // Replaces bundle `f`, which max-min fairness does not give one rate, by its members.
  void split(FlowId f, Time now) {
    const ActiveFlow whole = active_[f];
    const Trace::Op& o = trace_.op(whole.op);
    const double remaining =
        std::max(0.0, whole.remaining - whole.rate * (now - whole.last).seconds());
    const std::uint32_t members = flows_.members(f);
    for (std::uint32_t m = 0; m < members; ++m) {
      flows_.member_path(f, m, path_);
      const FlowId g = flows_.add(path_, o.multiplicity, o.max_rate);
      ActiveFlow& a = track(g, whole.op, remaining, now);
      a.latency = o.duration + path_latency(path_);
      a.member = m;
    }
    for (LinkId l : flows_.path(f)) {
      --link_active_[l];  // its members hold every one of its links
    }
    flows_.remove(f);
    active_[f].op = kNoOp;
    ++active_[f].version;
    flows_left(whole.op) += members - 1;
  }

  static Time drain_time(double bytes, double rate) {
    const double seconds = bytes / rate;
    // Time counts picoseconds in an int64: about 106 days. Beyond that is not a step time.
    if (!(seconds < 9.0e6)) {
      throw std::overflow_error(
          "replay: a transfer would take longer than 100 days of simulated time");
    }
    return Time::from_s(seconds);
  }

  void handle(const Payload& p, Time now) {
    if (p.kind == Payload::kFlowDrained) {
      ActiveFlow& a = active_[p.id];
      if (a.version != p.version || a.op == kNoOp) {
        return;  // superseded by a rate change
      }
      const OpId op = a.op;
      for (LinkId l : flows_.path(p.id)) {
        if (--link_active_[l] == 0) {
          result_.links[l].busy += now - busy_since_[l];
        }
      }
      drained_.push_back(p.id);  // removed together before the next solve
      a.op = kNoOp;
      ++a.version;
      const Trace::Op& o = trace_.op(op);
      if (o.members_size > 0) {  // when the members arrive
        if (a.member != kWhole) {
          result_.member_ends[o.members_begin() + a.member] = now + a.latency;
        } else {
          // start_bundle() left each member's latency there.
          for (std::uint32_t m = 0; m < o.members_size; ++m) {
            Time& arrival = result_.member_ends[o.members_begin() + m];
            arrival = now + arrival;
          }
        }
      }
      Time& arrival = result_.ops[op].end;  // the latest so far
      arrival = std::max(arrival, now + a.latency);
      if (--flows_left(op) == 0) {
        queue_.schedule(arrival, Payload{Payload::kOpEnd, op, 0});
      }
      return;
    }
    const OpId op = p.id;
    result_.ops[op].end = now;
    done_[op] = true;
    const Trace::Op& o = trace_.op(op);
    if (o.kind == OpKind::kCompute) {
      Stream& stream = streams_[stream_of_[op]];
      stream.busy = false;
      ++stream.head;
      stream.freed_at = now;
    }
    for (std::uint32_t i = succ_begin_[op]; i < succ_begin_[op + 1]; ++i) {
      const OpId next = succ_[i];
      if (--pending_deps_[next] == 0) {
        on_ready(next, now, op);
      }
    }
    if (o.kind == OpKind::kCompute) {
      try_start_stream(stream_of_[op], now);
    }
  }

  // After all events at `now`: re-solve the shares and reschedule flows whose rate changed.
  void resolve_flows(Time now) {
    if (model_ != NetworkModel::kFlow) {
      return;
    }
    if (!drained_.empty()) {
      flows_.remove(drained_);
      drained_.clear();
    }
    for (;;) {
      for (FlowId f : flows_.solve()) {
        ActiveFlow& a = active_[f];
        if (a.op == kNoOp) {
          continue;
        }
        a.remaining = std::max(0.0, a.remaining - a.rate * (now - a.last).seconds());
        a.last = now;
        a.rate = flows_.rate(f);
        ++a.version;
        const Time drain = std::isinf(a.rate) ? Time() : drain_time(a.remaining, a.rate);
        queue_.schedule(now + drain, Payload{Payload::kFlowDrained, f, a.version});
      }
      if (flows_.inexact().empty()) {
        return;
      }
      // Bundles whose members max-min fairness does not treat alike: run their members as
      // separate flows from now on and solve again (rates above were set for no time).
      split_.assign(flows_.inexact().begin(), flows_.inexact().end());
      for (FlowId f : split_) {
        split(f, now);
      }
    }
  }

  void finish() {
    OpId last = kNoOp;
    for (OpId op = 0; op < result_.ops.size(); ++op) {
      if (last == kNoOp || result_.ops[op].end > result_.ops[last].end) {
        last = op;
      }
    }
    for (OpId op = last; op != kNoOp; op = blocker_[op]) {
      result_.critical_path.push_back(op);
    }
    std::reverse(result_.critical_path.begin(), result_.critical_path.end());
    result_.makespan = last == kNoOp ? Time() : result_.ops[last].end;
    result_.events = queue_.processed();
  }

  struct Stream {
    std::uint32_t begin = 0;  // its ops: stream_ops_[begin, end), in trace order
    std::uint32_t end = 0;
    std::uint32_t head = 0;  // the next to run
    std::uint32_t fill = 0;  // build_graph's cursor
    bool busy = false;
    Time freed_at;
  };

  const Trace& trace_;
  const Network& network_;
  NetworkModel model_;
  FlowNetwork flows_;
  EventQueue<Payload> queue_;
  ReplayResult result_;
  std::vector<std::uint32_t> pending_deps_;
  std::vector<std::uint32_t> succ_begin_;
  std::vector<OpId> succ_;
  std::vector<OpId> blocker_;
  std::vector<bool> done_;
  std::vector<bool> ready_;
  std::vector<std::uint32_t> stream_of_;
  std::vector<Stream> streams_;
  std::vector<OpId> stream_ops_;
  std::vector<ActiveFlow> active_;
  std::vector<std::uint32_t> link_active_;
  std::vector<Time> busy_since_;
  std::vector<LinkId> path_;
  std::vector<FlowId> drained_;  // flows drained at the current time, not yet removed
  std::vector<FlowId> split_;
};

}  // namespace

ReplayResult replay(const Trace& trace, const Network& network, NetworkModel model) {
  return Replayer(trace, network, model).run();
}

}  // namespace attnsim::sim
