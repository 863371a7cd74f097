// SPDX-License-Identifier: Apache-2.0
// The --trace timeline against the replay it draws. One fabric, capacities in GB/s, no
// latency:
//
//   GPU 0 --[link 0: nvlink, 100]--> GPU 1
//   GPU 0 --[link 1: net, 10]------> GPU 2
//
// and one trace, timed by hand (microseconds):
//   c1  GPU 0 stream 0, 10 us                               [0, 10]
//   c2  GPU 0 stream 0, 5 us (after c1 on the stream)      [10, 15]
//   x1  0 -> 1, 1e6 B: alone at 100 GB/s until x2 joins at 5 (0.5e6 B moved), then 50 GB/s
//       each: 0.5e6 B more takes 10 us                      [0, 15]
//   x2  0 -> 1, 1e6 B after a 5 us delay: 0.5e6 B shared by 15, 0.5e6 B alone in 5 us [5, 20]
//   c3  GPU 1 stream 1, 1 us after x1                      [15, 16]
//   x3  0 -> 2, 1e5 B after c2: 1e5 / 10e9 s = 10 us         [15, 25]
//   x4  0 -> 1, 1e6 B after x3: 10 us                       [25, 35]
#include "cli/perfetto_trace.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "config/error.h"
#include "tests/support/tiny_network.h"

using attnsim::cli::perfetto_trace;
using attnsim::cli::write_perfetto_trace;
using attnsim::sim::Bandwidth;
using attnsim::sim::Network;
using attnsim::sim::NetworkModel;
using attnsim::sim::OpId;
using attnsim::sim::replay;
using attnsim::sim::ReplayResult;
using attnsim::sim::Time;
using attnsim::sim::Trace;

namespace {

Network two_class_network() {
  Network n;
  const auto nvlink = n.add_class("nvlink");
  const auto net = n.add_class("net");
  n.add_link(Bandwidth::from_GBps(100), Time(), nvlink);
  n.add_link(Bandwidth::from_GBps(10), Time(), net);
  n.set_endpoint_count(3);
  n.set_router(std::make_unique<attnsim::test::TableRouter>(
      std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<std::uint32_t>>{
          {{0, 1}, {0}}, {{0, 2}, {1}}}));
  return n;
}

struct Fixture {
  Network network = two_class_network();
  Trace trace;
  OpId c1 = 0, c2 = 0, c3 = 0, x1 = 0, x2 = 0, x3 = 0, x4 = 0;
  ReplayResult result;

  Fixture() {
    c1 = trace.compute(0, 0, Time::from_us(10), trace.tag("gemm"));
    c2 = trace.compute(0, 0, Time::from_us(5), trace.tag("attention"));
    x1 = trace.transfer(0, 1, 1e6, trace.tag("kv"));
    const std::vector<OpId> after_delay{trace.delay(Time::from_us(5), trace.tag("wait"))};
    x2 = trace.transfer(0, 1, 1e6, trace.tag("kv"), after_delay);
    const std::vector<OpId> after_x1{x1};
    c3 = trace.compute(1, 1, Time::from_us(1), trace.tag("attention"), after_x1);
    const std::vector<OpId> after_c2{c2};
    x3 = trace.transfer(0, 2, 1e5, trace.tag("grad"), after_c2);
    const std::vector<OpId> after_x3{x3};
    x4 = trace.transfer(0, 1, 1e6, trace.tag("kv"), after_x3);
    result = replay(trace, network, NetworkModel::kFlow);
  }
};

std::vector<nlohmann::json> events_of(const nlohmann::json& doc, const std::string& ph) {
  std::vector<nlohmann::json> out;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == ph) {
      out.push_back(e);
    }
  }
  return out;
}

// (pid, tid) -> thread name, and pid -> process name.
std::map<std::pair<int, int>, std::string> thread_names(const nlohmann::json& doc) {
  std::map<std::pair<int, int>, std::string> out;
  for (const auto& e : events_of(doc, "M")) {
    if (e["name"] == "thread_name") {
      out[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"].get<std::string>();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the hand-timed trace replays as drawn", "[unit]") {
  // The oracle of the tests below: the timings in the file comment.
  const Fixture f;
  const auto us = [&](OpId op) {
    return std::pair{f.result.ops[op].start.us(), f.result.ops[op].end.us()};
  };
  REQUIRE(us(f.c2) == std::pair{10.0, 15.0});
  REQUIRE(us(f.x1) == std::pair{0.0, 15.0});
  REQUIRE(us(f.x2) == std::pair{5.0, 20.0});
  REQUIRE(us(f.c3) == std::pair{15.0, 16.0});
  REQUIRE(us(f.x3) == std::pair{15.0, 25.0});
  REQUIRE(us(f.x4) == std::pair{25.0, 35.0});
}

TEST_CASE("each op's event has exactly the replay's start and duration", "[unit]") {
  // ts = start, dur = end - start, in microseconds; one event per compute op and transfer,
  // none for the delay; the name is the op's tag, transfers carry bytes and destination.
  const Fixture f;
  const nlohmann::json doc = perfetto_trace(f.trace, f.result, f.network);
  REQUIRE(doc["displayTimeUnit"] == "ns");
  std::set<OpId> seen;
  for (const auto& e : events_of(doc, "X")) {
    if (e["cat"] == "link") {
      continue;
    }
    const OpId op = e["args"]["op"].get<OpId>();
    seen.insert(op);
    REQUIRE(e["ts"].get<double>() == f.result.ops[op].start.us());
    REQUIRE(e["dur"].get<double>() == (f.result.ops[op].end - f.result.ops[op].start).us());
    REQUIRE(e["name"] == f.trace.tag_names()[f.trace.op(op).tag]);
    REQUIRE(e["pid"] == f.trace.op(op).a + 1);
    if (e["cat"] == "transfer") {
      REQUIRE(e["args"]["bytes"] == f.trace.op(op).bytes);
      REQUIRE(e["args"]["dst"] == f.trace.op(op).b);
    }
  }
  REQUIRE(seen == std::set<OpId>{f.c1, f.c2, f.c3, f.x1, f.x2, f.x3, f.x4});
}

TEST_CASE("each GPU has one thread per stream and send lanes that never overlap", "[unit]") {
  // GPU 0 (pid 1) computes on stream 0 and sends x1 [0,15] and x2 [5,20] at once: two lanes;
  // x3 [15,25] and x4 [25,35] reuse lane 0. GPU 1 (pid 2) computes on stream 1 and sends
  // nothing. Stream s is tid s + 1; send lanes follow the highest stream (tid 3, 4).
  const Fixture f;
  const nlohmann::json doc = perfetto_trace(f.trace, f.result, f.network);
  const auto names = thread_names(doc);
  const std::map<std::pair<int, int>, std::string> expected = {
      {{1, 1}, "stream 0"}, {{1, 3}, "send 0"}, {{1, 4}, "send 1"},
      {{2, 2}, "stream 1"}, {{4, 1}, "nvlink"}, {{4, 2}, "net"}};
  REQUIRE(names == expected);
  // Trace viewers need the events of one thread to nest: here none may even overlap.
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> by_thread;
  for (const auto& e : events_of(doc, "X")) {
    const double ts = e["ts"].get<double>();
    by_thread[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(ts,
                                                                       ts + e["dur"].get<double>());
  }
  for (auto& [thread, spans] : by_thread) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) {
      REQUIRE(spans[i].first >= spans[i - 1].second);
    }
  }
  REQUIRE(by_thread[{1, 4}] == std::vector<std::pair<double, double>>{{5, 20}});
}

TEST_CASE("link classes are busy over the merged spans of the transfers crossing them", "[unit]") {
  // nvlink carries x1 [0,15], x2 [5,20] (overlapping: one span [0,20] of 2 transfers) and x4
  // [25,35]; net carries x3 [15,25]. The links process is pid 3 GPUs + 1 = 4.
  const Fixture f;
  const nlohmann::json doc = perfetto_trace(f.trace, f.result, f.network);
  std::vector<std::tuple<std::string, double, double, int>> spans;
  for (const auto& e : events_of(doc, "X")) {
    if (e["cat"] == "link") {
      REQUIRE(e["pid"] == 4);
      const double ts = e["ts"].get<double>();
      spans.emplace_back(e["name"].get<std::string>(), ts, ts + e["dur"].get<double>(),
                         e["args"]["transfers"].get<int>());
    }
  }
  using Span = std::tuple<std::string, double, double, int>;
  REQUIRE(spans ==
          std::vector<Span>{{"nvlink", 0, 20, 2}, {"nvlink", 25, 35, 1}, {"net", 15, 25, 1}});
}

TEST_CASE("GPUs past max_gpus are left out and the document says so", "[unit]") {
  // max_gpus = 1: only GPU 0 (pid 1) remains; the links process (now pid 2) still covers
  // every transfer, and the output is the same on every call.
  const Fixture f;
  const nlohmann::json doc = perfetto_trace(f.trace, f.result, f.network, 1);
  REQUIRE(doc["otherData"]["gpus"] == 3);
  REQUIRE(doc["otherData"]["gpus_shown"] == 1);
  REQUIRE(doc["otherData"]["note"].get<std::string>().find("GPUs 0..0 of 3") == 0);
  int link_events = 0;
  for (const auto& e : events_of(doc, "X")) {
    REQUIRE(e["pid"].get<int>() <= 2);
    link_events += e["cat"] == "link" ? 1 : 0;
  }
  REQUIRE(link_events == 3);
  REQUIRE(perfetto_trace(f.trace, f.result, f.network, 1).dump() == doc.dump());
}

TEST_CASE("write_perfetto_trace writes the document and no temporary", "[unit]") {
  const Fixture f;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "attnsim_perfetto_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "trace.json";
  write_perfetto_trace(f.trace, f.result, f.network, path.string());
  std::ifstream in(path);
  REQUIRE(nlohmann::json::parse(in) == perfetto_trace(f.trace, f.result, f.network));
  REQUIRE(!std::filesystem::exists(dir / "trace.json.tmp"));
  REQUIRE_THROWS_AS(
      write_perfetto_trace(f.trace, f.result, f.network, (dir / "no" / "trace.json").string()),
      attnsim::config::RuntimeFailure);
}
