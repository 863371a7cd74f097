// SPDX-License-Identifier: Apache-2.0
#include "cli/run_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iomanip>
#include <sstream>
#include <thread>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/perfetto_trace.h"
#include "config/error.h"
#include "models/machine.h"
#include "models/memory.h"
#include "models/step.h"
#include "sim/replay.h"

namespace attnsim::cli {
namespace {

std::string format_seconds(double s) {
  std::ostringstream o;
  o << std::setprecision(3);
  if (s >= 1) {
    o << s << " s";
  } else if (s >= 1e-3) {
    o << s * 1e3 << " ms";
  } else {
    o << s * 1e6 << " us";
  }
  return o.str();
}

std::string format_gb(double bytes) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << bytes / 1e9 << " GB";
  return o.str();
}

/// One strategy simulated on one point.
report::Point simulate_strategy(const ScenarioPoint& point, const std::string& name,
                                const models::Strategy& strategy, const models::Machine& machine,
                                const std::string& trace_file) {
  const auto wall_start = std::chrono::steady_clock::now();
  const models::Workload& work = point.workload;
  const models::Degrees& degrees = point.parallelism.degrees;
  const models::CostModel cost(point.profile, work.model.dtype, work.attention.implementation);
  models::StepOptions options;
  options.zero_stage = point.parallelism.zero_stage;
  options.sequence_parallel = point.parallelism.sequence_parallel;
  options.microbatches = point.parallelism.microbatches;
  options.simulated_layers = point.simulated_layers;

  const models::StepTrace step =
      models::build_step(work, degrees, strategy, options, machine.layout, cost);
  const sim::ReplayResult replay = sim::replay(step.trace, machine.network, point.network_model);
  const models::StepTiming timing =
      models::time_step(step, replay, machine.network, work, degrees, options);
  const models::MemoryEstimate memory =
      models::estimate_memory(work, degrees, strategy, options, machine.layout);
  if (!trace_file.empty()) {
    write_perfetto_trace(step.trace, replay, machine.network, trace_file);
  }

  report::Point p;
  p.gpus = degrees.gpus();
  p.strategy = name;
  p.requested_strategy = point.parallelism.strategy;
  p.sequence_length =
      work.phase == models::Phase::kDecode ? work.context_length : work.sequence_length;
  p.parameters = point.parameters;
  p.step_time_s = timing.step_s;
  const double tokens = work.phase == models::Phase::kDecode
                            ? static_cast<double>(work.batch)
                            : static_cast<double>(work.sequence_length) *
                                  static_cast<double>(work.sequences_per_step);
  p.tokens_per_s = timing.step_s > 0 ? tokens / timing.step_s : 0;
  const double peak = cost.peak_flops() * static_cast<double>(p.gpus);
  p.mfu = timing.step_s > 0 ? models::model_flops(work) / (timing.step_s * peak) : 0;
  p.attention_time_s = timing.attention_s;
  p.compute_time_s = timing.compute_s;
  p.comm_time_s = timing.comm_s;
  p.exposed_comm_s = timing.exposed_comm_s;
  p.comm_bytes_per_gpu = timing.comm_bytes_per_gpu;
  p.memory_per_gpu_bytes = memory.total;
  p.fits_memory = memory.total <= cost.hbm_bytes();
  p.sim_events = replay.events;
  p.degrees = {{"tp", degrees.tp}, {"cp", degrees.cp}, {"dp", degrees.dp}, {"pp", degrees.pp}};
  for (const auto& [key, value] : strategy.own_degrees(work, degrees)) {
    p.degrees[key] = value;
  }
  p.exposed_comm_by_phase_s = timing.exposed_by_phase_s;
  p.memory_breakdown_bytes = memory.bytes;
  p.pipeline_bubble_s = timing.bubble_s;
  p.bottleneck = {timing.bottleneck_class, timing.bottleneck_utilization, timing.bottleneck_bytes};
  p.extrapolated.assign(step.notes.extrapolated.begin(), step.notes.extrapolated.end());
  p.notes = strategy.notes();
  p.hardware = point.profile.name;
  if (step.layers_simulated < step.layers_per_stage) {
    p.notes.push_back("simulated " + std::to_string(step.layers_simulated) + " of " +
                      std::to_string(step.layers_per_stage) +
                      " layers per stage event by event; the rest extrapolated from the "
                      "steady-state layer period");
  }
  p.sim_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return p;
}

}  // namespace

report::Point simulate_point(const ScenarioPoint& point, const std::string& trace_file) {
  const models::Machine machine = models::build_machine(point.topology, point.profile);
  if (point.parallelism.impl) {
    return simulate_strategy(point, point.parallelism.strategy, *point.parallelism.impl, machine,
                             trace_file);
  }

  // auto: every candidate the point admits; the fastest that fits, else the fastest.
  struct Tried {
    report::Point point;
    const models::AutoCandidate* candidate;
  };

  const std::vector<models::AutoCandidate> candidates = models::auto_candidates(point.workload);
  std::vector<Tried> tried;
  std::vector<std::string> skipped;
  double wall = 0;
  std::uint64_t events = 0;
  for (const models::AutoCandidate& c : candidates) {
    try {
      c.strategy->check(point.workload, point.parallelism.degrees);
    } catch (const config::InputError&) {
      skipped.push_back(c.label);
      continue;
    }
    tried.push_back({simulate_strategy(point, c.name, *c.strategy, machine, ""), &c});
    wall += tried.back().point.sim_wall_s;
    events += tried.back().point.sim_events;
  }
  if (tried.empty()) {
    throw config::InputError(point.label + (point.label.empty() ? "" : ": ") +
                             "/parallelism/strategy: expected a strategy the degrees admit for "
                             "\"auto\", got none of " +
                             std::to_string(skipped.size()) + " candidates");
  }
  const auto faster = [](const Tried& x, const Tried& y) {
    const report::Point& a = x.point;
    const report::Point& b = y.point;
    if (a.fits_memory != b.fits_memory) {
      return a.fits_memory;
    }
    return a.step_time_s < b.step_time_s;
  };
  std::stable_sort(tried.begin(), tried.end(), faster);
  report::Point best = tried.front().point;
  const models::AutoCandidate& winner = *tried.front().candidate;
  std::ostringstream why;
  why << winner.label << " is the fastest of " << tried.size() << " candidates"
      << (best.fits_memory ? " that fit in memory" : " (none fits in memory)") << ":";
  for (const Tried& t : tried) {
    const report::Point& c = t.point;
    why << " " << t.candidate->label << " " << format_seconds(c.step_time_s)
        << (c.fits_memory ? "" : " (needs " + format_gb(c.memory_per_gpu_bytes) + ")") << ";";
  }
  if (!skipped.empty()) {
    why << " not applicable to this workload or these degrees:";
    for (const std::string& s : skipped) {
      why << " " << s;
    }
    why << ";";
  }
  std::string reason = why.str();
  reason.pop_back();
  best.reason = reason;
  best.requested_strategy = "auto";
  best.sim_wall_s = wall;
  best.sim_events = events;
  if (!trace_file.empty()) {
    simulate_strategy(point, winner.name, *winner.strategy, machine, trace_file);
  }
  return best;
}

report::Results simulate(const Scenario& scenario, int jobs, const std::string& trace_file) {
  report::Results results;
  results.attnsim_version = kVersion;
  results.scenario = scenario.document;
  results.points.resize(scenario.points.size());
  std::vector<std::exception_ptr> errors(scenario.points.size());
  std::atomic<std::size_t> next{0};
  const auto worker = [&] {
    for (std::size_t i = next++; i < scenario.points.size(); i = next++) {
      try {
        results.points[i] = simulate_point(scenario.points[i], i == 0 ? trace_file : "");
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const auto threads = static_cast<std::size_t>(std::max(1, jobs));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(threads, scenario.points.size()); ++t) {
    pool.emplace_back(worker);
  }
  worker();
  for (std::thread& t : pool) {
    t.join();
  }
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
  for (const SkippedPoint& k : scenario.skipped) {
    results.skipped.push_back({k.parameters, k.reason});
  }
  for (const ScenarioPoint& point : scenario.points) {
    const calibrate::Profile& profile = point.profile;
    if (!results.hardware.contains(profile.name)) {
      const models::CostModel cost(profile, point.workload.model.dtype,
                                   point.workload.attention.implementation);
      results.hardware[profile.name] = {{"hbm_bytes", cost.hbm_bytes()},
                                        {"peak_flops_per_s", cost.peak_flops()},
                                        {"provenance", calibrate::to_json(profile)["provenance"]}};
    }
  }
  return results;
}

int run_run(const RunOptions& options, std::ostream& out) {
  if (options.jobs < 1) {
    throw UsageError("--jobs: expected an integer >= 1, got " + std::to_string(options.jobs));
  }
  const Scenario scenario = load_scenario(options.scenario, options.sets);
  const report::Results results = simulate(scenario, options.jobs, options.trace_file);
  if (!options.out_dir.empty()) {
    report::write_results(results, options.out_dir);
  }
  if (options.json) {
    out << report::to_json_text(results);
  } else {
    out << report::format_table(results);
  }
  return 0;
}

}  // namespace attnsim::cli
