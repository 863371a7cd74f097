// SPDX-License-Identifier: Apache-2.0
#include "sim/trace.h"

#include <algorithm>
#include <stdexcept>

namespace attnsim::sim {

TagId Trace::tag(std::string_view name) {
  const auto it = std::find(tag_names_.begin(), tag_names_.end(), name);
  if (it != tag_names_.end()) {
    return static_cast<TagId>(it - tag_names_.begin());
  }
  tag_names_.emplace_back(name);
  return static_cast<TagId>(tag_names_.size() - 1);
}

// Ops are the bulk of a large trace's memory: keep them at one cache line.
static_assert(sizeof(Trace::Op) == 64);

OpId Trace::push(Op op, std::span<const OpId> deps) {
  const auto id = static_cast<OpId>(size_);
  for (OpId d : deps) {
    if (d >= id) {
      throw std::logic_error("trace dependency on an op that does not exist yet");
    }
  }
  op.deps_begin = static_cast<std::uint32_t>(deps_.size());
  op.deps_size = static_cast<std::uint32_t>(deps.size());
  deps_.insert(deps_.end(), deps.begin(), deps.end());
  if ((size_ & kChunkMask) == 0) {
    chunks_.emplace_back().reserve(kChunkMask + 1);
  }
  chunks_.back().push_back(op);
  ++size_;
  return id;
}

OpId Trace::compute(std::uint32_t gpu, std::uint32_t stream, Time duration, TagId tag,
                    std::span<const OpId> deps) {
  Op op;
  op.kind = OpKind::kCompute;
  op.tag = tag;
  op.a = gpu;
  op.b = stream;
  op.duration = duration;
  return push(op, deps);
}

OpId Trace::transfer(EndpointId src, EndpointId dst, double bytes, TagId tag,
                     std::span<const OpId> deps, const TransferOptions& options) {
  Op op;
  op.kind = OpKind::kTransfer;
  op.tag = tag;
  op.a = src;
  op.b = dst;
  op.bytes = bytes;
  op.multiplicity = options.multiplicity;
  op.max_rate = options.max_rate.bytes_per_s();
  op.duration = options.extra_latency;
  op.salt = options.salt;
  return push(op, deps);
}

OpId Trace::transfer_bundle(std::span<const Member> members, double bytes, TagId tag,
                            std::span<const OpId> deps, const TransferOptions& options) {
  if (members.empty()) {
    throw std::logic_error("a transfer bundle needs at least one member");
  }
  for (const Member& m : members) {
    if (m.src == m.dst) {
      throw std::logic_error("a transfer bundle member from an endpoint to itself");
    }
  }
  TransferOptions first = options;
  first.salt = members_.size();
  const OpId id = transfer(members.front().src, members.front().dst, bytes, tag, deps, first);
  chunks_.back().back().members_size = static_cast<std::uint32_t>(members.size());
  members_.insert(members_.end(), members.begin(), members.end());
  return id;
}

OpId Trace::delay(Time duration, TagId tag, std::span<const OpId> deps) {
  Op op;
  op.kind = OpKind::kDelay;
  op.tag = tag;
  op.duration = duration;
  return push(op, deps);
}

}  // namespace attnsim::sim
