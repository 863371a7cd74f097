// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/head_parallel.h"

#include <string>

#include "models/strategies/common.h"

namespace attnsim::models {

void HeadParallelAttention::check(const Workload& work, const Degrees& degrees) const {
  const int split = degrees.tp * degrees.cp;
  if (work.model.heads % split != 0) {
    node_.child("strategy")
        .fail("a head-parallel degree x tp (" + std::to_string(split) +
                  ") that divides /model/heads (" + std::to_string(work.model.heads) + ")",
              "\"head_parallel\" with cp = " + std::to_string(degrees.cp));
  }
}

Sharding HeadParallelAttention::sharding(const Workload& work, const Degrees& degrees) const {
  Sharding s;
  s.tokens_per_gpu = work.sequence_length;
  s.weight_split = degrees.tp * degrees.cp;
  s.weights_replicated_over_cp = false;
  return s;
}

std::vector<sim::OpId> HeadParallelAttention::emit_attention(const AttentionCall& call,
                                                             sim::Trace& trace) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int per_rank = (call.head_end - call.head_begin) / p;
  const std::vector<TokenSet> all = {TokenSet{0, 1, work.sequence_length}};
  std::vector<sim::OpId> out;
  for (int r = 0; r < p; ++r) {
    const int begin = call.head_begin + r * per_rank;
    const BlockWork block = block_work(work, call.pass, begin, begin + per_rank, all, all);
    const sim::OpId deps[] = {call.ready[static_cast<std::size_t>(r)]};
    out.push_back(add_attention(call, trace, call.group[static_cast<std::size_t>(r)], block, deps));
  }
  return out;
}

AttentionMemory HeadParallelAttention::memory(const Workload& work, const Degrees& degrees) const {
  (void)work;
  (void)degrees;
  return {};
}

std::unique_ptr<Strategy> make_head_parallel(const config::Node& parallelism) {
  return std::make_unique<HeadParallelAttention>(parallelism);
}

std::vector<CommGroup> HeadParallelAttention::comm_groups(const Workload& work,
                                                          const Degrees& degrees) const {
  // Its traffic is the tensor group's (tp x cp ranks), which memory.h counts as such.
  (void)work;
  (void)degrees;
  return {};
}

}  // namespace attnsim::models
