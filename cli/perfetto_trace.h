// SPDX-License-Identifier: Apache-2.0
// `attnsim run --trace FILE`: one simulated point as a Chrome/Perfetto trace-event JSON
// timeline (the "Trace Event Format": ui.perfetto.dev and chrome://tracing open it).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/network.h"
#include "sim/replay.h"
#include "sim/trace.h"

namespace attnsim::cli {

/// The timeline of one replayed trace:
///   {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}
/// Complete events ("ph": "X", ts and dur in microseconds as doubles, exactly the replay's
/// op times) and metadata events ("ph": "M": process_name, thread_name, process_sort_index).
///
///   process "links" (pid shown GPUs + 1, listed first): one thread per link class of the
///     network (tid class index + 1), one event per interval in which at least one transfer
///     crossing a link of that class was in flight (from its start to its end, latency
///     included; overlapping or touching intervals merged; args.transfers counts them). The
///     replay keeps only per-link totals, so this is derived from the transfers' routes. It
///     covers all GPUs, shown or not.
///   process "GPU g" (pid g + 1): thread "stream s" (tid s + 1) per compute stream, an event
///     per compute op named by its tag; threads "send 0", "send 1", ... for the transfers g
///     sends (args: bytes, dst, multiplicity, op). Trace viewers require the events of one
///     thread to nest, so concurrent sends go to separate lanes: each transfer, in order of
///     start time, takes the first lane free by then.
/// Delays occupy no resource and are not shown. Only GPUs below `max_gpus` get a process;
/// otherData says how many there are and how many are shown. Deterministic: the same input
/// gives the same document.
///
/// Preconditions: `result` is replay(trace, network, ...) (one timing per op).
nlohmann::json perfetto_trace(const sim::Trace& trace, const sim::ReplayResult& result,
                              const sim::Network& network, std::uint32_t max_gpus = 64);

/// Writes perfetto_trace(...) to `path` through a temporary name (nothing is left behind on
/// failure). Errors: config::RuntimeFailure naming `path`.
void write_perfetto_trace(const sim::Trace& trace, const sim::ReplayResult& result,
                          const sim::Network& network, const std::string& path,
                          std::uint32_t max_gpus = 64);

}  // namespace attnsim::cli
