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

OpId Trace::push(Op op, std::span<const OpId> deps) {
  const auto id = static_cast<OpId>(ops_.size());
  for (OpId d : deps) {
    if (d >= id) {
      throw std::logic_error("trace dependency on an op that does not exist yet");
    }
  }
  op.deps_begin = static_cast<std::uint32_t>(deps_.size());
  op.deps_size = static_cast<std::uint32_t>(deps.size());
  deps_.insert(deps_.end(), deps.begin(), deps.end());
  ops_.push_back(op);
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

OpId Trace::delay(Time duration, TagId tag, std::span<const OpId> deps) {
  Op op;
  op.kind = OpKind::kDelay;
  op.tag = tag;
  op.duration = duration;
  return push(op, deps);
}

}  // namespace attnsim::sim
