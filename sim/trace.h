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
//   bundle   : a transfer whose `bytes`, multiplicity, cap and extra latency apply to each of
//              several members, each from its own src to its own dst with its own salt, all
//              started together; it ends when the last member has arrived. It times exactly
//              as its members would as separate transfers joined by a zero delay (the replay
//              checks that max-min fairness gives them one rate and splits them when not:
//              flow_network.h), for a fraction of the cost when they are many.
//   delay    : a fixed wait with no resource (a launch overhead, a modelled latency).
//
// Ops become ready when all their dependencies have finished; tags let reports group ops
// (e.g. "attention", "dp_allreduce") without the engine knowing what they mean.
#pragma once

#include <algorithm>
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

/// One member of a transfer bundle.
struct Member {
  EndpointId src = 0;
  EndpointId dst = 0;
  std::uint64_t salt = 0;
};

class Trace {
 public:
  struct Op {
    OpKind kind = OpKind::kDelay;
    TagId tag = 0;
    std::uint32_t a = 0;  // compute: gpu; transfer: src (a bundle: its first member's)
    std::uint32_t b = 0;  // compute: stream; transfer: dst (a bundle: its first member's)
    std::uint32_t members_size = 0;  // a bundle: its members; 0: not a bundle
    Time duration;                   // compute and delay: duration; transfer: extra latency
    double bytes = 0;
    double multiplicity = 1;
    double max_rate = 0;           // bytes/s per member
    std::uint64_t salt = 0;        // a transfer's ECMP salt; a bundle: its first member's index
                                   // among all members (members_begin())
    std::uint32_t deps_begin = 0;  // into deps_
    std::uint32_t deps_size = 0;

    /// A bundle's first member among all bundles' members (each member has its own salt).
    std::size_t members_begin() const { return salt; }
  };

  /// Registers a tag name (e.g. "attention") and returns its id; the same name, the same id.
  TagId tag(std::string_view name);

  OpId compute(std::uint32_t gpu, std::uint32_t stream, Time duration, TagId tag,
               std::span<const OpId> deps = {});
  OpId transfer(EndpointId src, EndpointId dst, double bytes, TagId tag,
                std::span<const OpId> deps = {}, const TransferOptions& options = {});
  /// A bundle (kind kTransfer) of `members` (at least one, each src != dst), `bytes` each;
  /// `options.salt` is ignored, each member has its own.
  OpId transfer_bundle(std::span<const Member> members, double bytes, TagId tag,
                       std::span<const OpId> deps = {}, const TransferOptions& options = {});
  OpId delay(Time duration, TagId tag, std::span<const OpId> deps = {});

  /// Room for `members` more bundle members than the trace holds now (growing geometrically,
  /// so that many calls cost what push_back would).
  void reserve_members(std::size_t members) {
    const std::size_t need = members_.size() + members;
    if (need > members_.capacity()) {
      members_.reserve(std::max(need, 2 * members_.capacity()));
    }
  }

  std::size_t size() const { return size_; }

  const Op& op(OpId id) const { return chunks_[id >> kChunkBits][id & kChunkMask]; }

  std::span<const OpId> deps(OpId id) const {
    const Op& o = op(id);
    return {deps_.data() + o.deps_begin, o.deps_size};
  }

  /// Members of all bundles together.
  std::size_t member_count() const { return members_.size(); }

  /// The members of bundle `id`; empty for any other op.
  std::span<const Member> members(OpId id) const {
    const Op& o = op(id);
    return {members_.data() + o.members_begin(), o.members_size};
  }

  /// Calls f(src, dst, salt) for each flow of transfer `id`: a bundle's members, or the
  /// transfer's own endpoints.
  template <class F>
  void for_each_flow(OpId id, F&& f) const {
    const Op& o = op(id);
    if (o.members_size == 0) {
      f(o.a, o.b, o.salt);
      return;
    }
    for (const Member& m : members(id)) {
      f(m.src, m.dst, m.salt);
    }
  }

  const std::vector<std::string>& tag_names() const { return tag_names_; }

 private:
  OpId push(Op op, std::span<const OpId> deps);

  // Ops live in fixed chunks of 2^15 (2 MiB), not one vector: a trace of millions of ops
  // grows without copying itself or touching twice its size, and a freed chunk is small
  // enough for malloc to hand to the next point of a sweep (bench/README.md).
  static constexpr unsigned kChunkBits = 15;
  static constexpr std::size_t kChunkMask = (std::size_t{1} << kChunkBits) - 1;

  std::vector<std::vector<Op>> chunks_;
  std::size_t size_ = 0;
  std::vector<OpId> deps_;
  std::vector<Member> members_;
  std::vector<std::string> tag_names_;
};

}  // namespace attnsim::sim
