// SPDX-License-Identifier: Apache-2.0
// A trace: the DAG of work one simulated step performs. Models build it; replay() times it.
//
//   compute  : `duration` of work on stream `stream` of GPU `gpu`. Ops on one stream run one
//              at a time, in the order they were added (CUDA stream semantics), each once its
//              dependencies are done.
//   transfer : `bytes` from endpoint `src` to endpoint `dst`, as `multiplicity` identical
//              parallel flows of `bytes` each (a collective's channels that share a path),
//              each member capped at `max_rate` (a protocol or per-channel limit), finishing
//              `extra_latency` after its last byte arrives (protocol and software latency).
//   delay    : a fixed wait with no resource (a launch overhead, a modelled latency).
//
// Ops become ready when all their dependencies have finished; tags let reports group ops
// (e.g. "attention", "dp_allreduce") without the engine knowing what they mean.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/network.h"
#include "sim/time.h"

namespace attnsim::sim {

using OpId = std::uint32_t;
using TagId = std::uint16_t;

enum class OpKind : std::uint8_t { kCompute, kTransfer, kDelay };

/// Options of a transfer beyond its endpoints and size.
struct TransferOptions {
  double multiplicity = 1;
  Bandwidth max_rate = Bandwidth::from_bytes_per_s(std::numeric_limits<double>::infinity());
  Time extra_latency;
  std::uint64_t salt = 0;  // spreads identical (src, dst) transfers over ECMP paths
};

class Trace {
 public:
  struct Op {
    OpKind kind = OpKind::kDelay;
    TagId tag = 0;
    std::uint32_t a = 0;  // compute: gpu; transfer: src
    std::uint32_t b = 0;  // compute: stream; transfer: dst
    Time duration;        // compute and delay: duration; transfer: extra latency
    double bytes = 0;
    double multiplicity = 1;
    double max_rate = 0;  // bytes/s per member
    std::uint64_t salt = 0;
    std::uint32_t deps_begin = 0;  // into deps_
    std::uint32_t deps_size = 0;
  };

  /// Registers a tag name (e.g. "attention") and returns its id; the same name, the same id.
  TagId tag(std::string_view name);

  OpId compute(std::uint32_t gpu, std::uint32_t stream, Time duration, TagId tag,
               std::span<const OpId> deps = {});
  OpId transfer(EndpointId src, EndpointId dst, double bytes, TagId tag,
                std::span<const OpId> deps = {}, const TransferOptions& options = {});
  OpId delay(Time duration, TagId tag, std::span<const OpId> deps = {});

  std::size_t size() const { return ops_.size(); }

  const Op& op(OpId id) const { return ops_[id]; }

  std::span<const OpId> deps(OpId id) const {
    return {deps_.data() + ops_[id].deps_begin, ops_[id].deps_size};
  }

  const std::vector<std::string>& tag_names() const { return tag_names_; }

 private:
  OpId push(Op op, std::span<const OpId> deps);

  std::vector<Op> ops_;
  std::vector<OpId> deps_;
  std::vector<std::string> tag_names_;
};

}  // namespace attnsim::sim
