// SPDX-License-Identifier: Apache-2.0
#include "cli/perfetto_trace.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "report/atomic_file.h"

namespace attnsim::cli {

namespace {

using sim::OpId;
using sim::Time;

struct Interval {
  Time start;
  Time end;
  std::uint32_t transfers = 1;  // how many transfers were merged into it
};

nlohmann::json metadata(std::string_view what, std::int64_t pid, std::int64_t tid,
                        nlohmann::json args) {
  nlohmann::json e = {{"ph", "M"}, {"name", what}, {"pid", pid}, {"args", std::move(args)}};
  if (tid >= 0) {
    e["tid"] = tid;
  }
  return e;
}

nlohmann::json complete(const std::string& name, std::string_view category, std::int64_t pid,
                        std::int64_t tid, Time start, Time end, nlohmann::json args) {
  return {{"ph", "X"},  {"name", name},     {"cat", category},           {"pid", pid},
          {"tid", tid}, {"ts", start.us()}, {"dur", (end - start).us()}, {"args", std::move(args)}};
}

// Sorted intervals, overlapping or touching ones merged: [0,15] [5,20] [20,22] -> [0,22].
std::vector<Interval> merged(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(), [](const Interval& x, const Interval& y) {
    return x.start != y.start ? x.start < y.start : x.end < y.end;
  });
  std::vector<Interval> out;
  for (const Interval& i : intervals) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
      out.back().transfers += i.transfers;
    } else {
      out.push_back(i);
    }
  }
  return out;
}

// One flow of a transfer (a bundle has one per member), as it is drawn.
struct Send {
  OpId op = 0;
  sim::EndpointId src = 0;
  sim::EndpointId dst = 0;
  std::uint64_t salt = 0;
  Time start;
  Time end;            // a bundle member: when it arrived
  bool moves = false;  // bytes between two different endpoints: it crosses links
};

// Every flow of every transfer, in op order.
std::vector<Send> sends_of(const sim::Trace& trace, const sim::ReplayResult& result) {
  std::vector<Send> sends;
  for (OpId id = 0; id < trace.size(); ++id) {
    const sim::Trace::Op& op = trace.op(id);
    if (op.kind != sim::OpKind::kTransfer) {
      continue;
    }
    if (op.members_size == 0) {
      sends.push_back({id, op.a, op.b, op.salt, result.ops[id].start, result.ops[id].end,
                       op.bytes > 0 && op.a != op.b});
      continue;
    }
    const std::span<const sim::Member> members = trace.members(id);
    for (std::size_t i = 0; i < members.size(); ++i) {
      sends.push_back({id, members[i].src, members[i].dst, members[i].salt, result.ops[id].start,
                       result.member_ends[op.members_begin() + i], op.bytes > 0});
    }
  }
  return sends;
}

// For each link class, when at least one transfer crossing a link of that class was in flight.
std::vector<std::vector<Interval>> class_activity(const std::vector<Send>& sends,
                                                  const sim::Network& network) {
  std::vector<std::vector<Interval>> busy(network.class_names().size());
  std::vector<sim::LinkId> path;
  std::set<std::uint16_t> classes;
  for (const Send& send : sends) {
    if (!send.moves) {
      continue;  // crosses no link (as in replay)
    }
    network.route(send.src, send.dst, send.salt, path);
    classes.clear();
    for (const sim::LinkId l : path) {
      classes.insert(network.link(l).link_class);
    }
    for (const std::uint16_t c : classes) {
      busy[c].push_back({send.start, send.end});
    }
  }
  for (auto& intervals : busy) {
    intervals = merged(std::move(intervals));
  }
  return busy;
}

}  // namespace

nlohmann::json perfetto_trace(const sim::Trace& trace, const sim::ReplayResult& result,
                              const sim::Network& network, std::uint32_t max_gpus) {
  const std::uint32_t gpus = network.endpoint_count();
  const std::uint32_t shown = std::min(gpus, max_gpus);
  const std::int64_t links_pid = std::int64_t{shown} + 1;
  const auto gpu_pid = [](std::uint32_t g) { return std::int64_t{g} + 1; };

  // Compute streams per shown GPU, and the send lane of each shown transfer.
  std::vector<std::set<std::uint32_t>> streams(shown);
  std::uint32_t max_stream = 0;
  for (OpId id = 0; id < trace.size(); ++id) {
    const sim::Trace::Op& op = trace.op(id);
    if (op.kind == sim::OpKind::kCompute && op.a < shown) {
      streams[op.a].insert(op.b);
      max_stream = std::max(max_stream, op.b);
    }
  }
  const std::vector<Send> all_sends = sends_of(trace, result);
  std::vector<std::vector<std::size_t>> sends(shown);  // into all_sends, by sending GPU
  for (std::size_t i = 0; i < all_sends.size(); ++i) {
    if (all_sends[i].src < shown) {
      sends[all_sends[i].src].push_back(i);
    }
  }
  const std::int64_t send_tid_base = std::int64_t{max_stream} + 2;  // after every stream tid
  std::vector<std::uint32_t> lane_of(all_sends.size(), 0);
  std::vector<std::uint32_t> lanes(shown, 0);
  for (std::uint32_t g = 0; g < shown; ++g) {
    std::stable_sort(sends[g].begin(), sends[g].end(), [&](std::size_t x, std::size_t y) {
      return all_sends[x].start < all_sends[y].start;
    });
    std::vector<Time> lane_free;  // when each lane's last transfer ends
    for (const std::size_t i : sends[g]) {
      const Send& t = all_sends[i];
      std::size_t lane = 0;
      while (lane < lane_free.size() && lane_free[lane] > t.start) {
        ++lane;
      }
      if (lane == lane_free.size()) {
        lane_free.push_back(t.end);
      } else {
        lane_free[lane] = t.end;
      }
      lane_of[i] = static_cast<std::uint32_t>(lane);
    }
    lanes[g] = static_cast<std::uint32_t>(lane_free.size());
  }

  nlohmann::json events = nlohmann::json::array();
  events.push_back(metadata("process_name", links_pid, -1, {{"name", "links"}}));
  events.push_back(metadata("process_sort_index", links_pid, -1, {{"sort_index", 0}}));
  const std::vector<std::string>& class_names = network.class_names();
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    events.push_back(metadata("thread_name", links_pid, static_cast<std::int64_t>(c) + 1,
                              {{"name", class_names[c]}}));
  }
  for (std::uint32_t g = 0; g < shown; ++g) {
    events.push_back(
        metadata("process_name", gpu_pid(g), -1, {{"name", "GPU " + std::to_string(g)}}));
    events.push_back(metadata("process_sort_index", gpu_pid(g), -1, {{"sort_index", gpu_pid(g)}}));
    for (const std::uint32_t s : streams[g]) {
      events.push_back(metadata("thread_name", gpu_pid(g), std::int64_t{s} + 1,
                                {{"name", "stream " + std::to_string(s)}}));
    }
    for (std::uint32_t lane = 0; lane < lanes[g]; ++lane) {
      events.push_back(metadata("thread_name", gpu_pid(g), send_tid_base + lane,
                                {{"name", "send " + std::to_string(lane)}}));
    }
  }

  const std::vector<std::string>& tags = trace.tag_names();
  const auto tag_name = [&tags](sim::TagId tag) {
    return tag < tags.size() ? tags[tag] : "tag " + std::to_string(tag);
  };
  for (OpId id = 0; id < trace.size(); ++id) {
    const sim::Trace::Op& op = trace.op(id);
    const sim::OpTiming& t = result.ops[id];
    if (op.kind == sim::OpKind::kCompute && op.a < shown) {
      events.push_back(complete(tag_name(op.tag), "compute", gpu_pid(op.a), std::int64_t{op.b} + 1,
                                t.start, t.end, {{"op", id}}));
    }
  }
  for (std::uint32_t g = 0; g < shown; ++g) {
    for (const std::size_t i : sends[g]) {
      const Send& send = all_sends[i];
      const sim::Trace::Op& op = trace.op(send.op);
      events.push_back(complete(tag_name(op.tag), "transfer", gpu_pid(g),
                                send_tid_base + lane_of[i], send.start, send.end,
                                {{"bytes", op.bytes},
                                 {"dst", send.dst},
                                 {"multiplicity", op.multiplicity},
                                 {"op", send.op}}));
    }
  }

  const std::vector<std::vector<Interval>> activity = class_activity(all_sends, network);
  for (std::size_t c = 0; c < activity.size(); ++c) {
    for (const Interval& i : activity[c]) {
      events.push_back(complete(class_names[c], "link", links_pid, static_cast<std::int64_t>(c) + 1,
                                i.start, i.end, {{"transfers", i.transfers}}));
    }
  }

  nlohmann::json other = {
      {"gpus", gpus}, {"gpus_shown", shown}, {"makespan_us", result.makespan.us()}};
  if (shown < gpus) {
    const std::string which = shown == 0 ? "no GPUs" : "GPUs 0.." + std::to_string(shown - 1);
    other["note"] = which + " of " + std::to_string(gpus) + " shown (max_gpus " +
                    std::to_string(max_gpus) + "); the links process covers all GPUs";
  }
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}, {"otherData", other}};
}

void write_perfetto_trace(const sim::Trace& trace, const sim::ReplayResult& result,
                          const sim::Network& network, const std::string& path,
                          std::uint32_t max_gpus) {
  report::write_file_atomically(path,
                                perfetto_trace(trace, result, network, max_gpus).dump() + "\n");
}

}  // namespace attnsim::cli
