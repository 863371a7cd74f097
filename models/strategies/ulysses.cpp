// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/ulysses.h"

#include <algorithm>
#include <string>

#include "models/strategies/common.h"

namespace attnsim::models {

void UlyssesAttention::check(const Workload& work, const Degrees& degrees) const {
  const int heads = work.model.heads / degrees.tp;
  const auto degree = std::to_string(degrees.cp);
  if (heads % degrees.cp != 0) {
    node_.child("strategy")
        .fail("a Ulysses degree (" + degree +
                  ") that divides the query heads per tensor-parallel rank (" +
                  std::to_string(heads) + ")",
              "\"ulysses\" with cp = " + degree);
  }
  const int kv = std::max(1, work.model.kv_heads / degrees.tp);
  if (kv % degrees.cp != 0 && degrees.cp % kv != 0) {
    node_.child("strategy")
        .fail("a Ulysses degree (" + degree +
                  ") that divides or is a multiple of the KV heads per rank (" +
                  std::to_string(kv) + ")",
              "\"ulysses\" with cp = " + degree);
  }
  if (work.phase != Phase::kDecode && work.sequence_length % degrees.cp != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by the Ulysses degree (" + degree + ")",
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
}

std::vector<sim::OpId> UlyssesAttention::emit_attention(const AttentionCall& call,
                                                        sim::Trace& trace) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int heads = call.head_end - call.head_begin;
  const double kv = std::max(kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads),
                             static_cast<double>(p));
  const double tokens = static_cast<double>(work.sequence_length) / p * call.sequences;
  const double unit = tokens * work.model.head_dim * work.model.dtype_bytes;  // L·d_h·B
  const double q_bytes = unit * heads;
  const double kv_bytes = unit * kv;

  const std::vector<double> qkv = {q_bytes, kv_bytes, kv_bytes};
  const std::vector<double> q = {q_bytes};
  const bool forward = call.pass == Pass::kForward;
  // Inputs: Q, K, V (forward) or dO (backward) to head sharding.
  std::vector<sim::OpId> state(call.ready.begin(), call.ready.end());
  all_to_all_in_groups(call, trace, p, forward ? qkv : q, state);
  const std::vector<TokenSet> all = {TokenSet{0, 1, work.sequence_length}};
  const int per_rank = heads / p;
  for (int r = 0; r < p; ++r) {
    const auto ur = static_cast<std::size_t>(r);
    const int begin = call.head_begin + r * per_rank;
    const BlockWork block = block_work(work, call.pass, begin, begin + per_rank, all, all);
    const sim::OpId deps[] = {state[ur]};
    state[ur] = add_attention(call, trace, call.group[ur], block, deps);
  }
  // Outputs: O (forward) or dQ, dK, dV (backward) back to sequence sharding.
  all_to_all_in_groups(call, trace, p, forward ? q : qkv, state);
  return state;
}

AttentionMemory UlyssesAttention::memory(const Workload& work, const Degrees& degrees) const {
  const double tokens = static_cast<double>(work.sequence_length) / degrees.cp;
  const double heads = static_cast<double>(work.model.heads) / degrees.tp;
  const double kv = std::max(kv_heads_per_rank(work, degrees.tp), static_cast<double>(degrees.cp));
  AttentionMemory m;
  m.workspace = 2.0 * (heads + 2.0 * kv) * tokens * work.model.head_dim * work.model.dtype_bytes;
  return m;
}

std::unique_ptr<Strategy> make_ulysses(const config::Node& parallelism) {
  return std::make_unique<UlyssesAttention>(parallelism);
}

std::vector<CommGroup> UlyssesAttention::comm_groups(const Workload& work,
                                                     const Degrees& degrees) const {
  (void)work;
  if (degrees.cp < 2) {
    return {};
  }
  return {CommGroup{degrees.cp, 1, false, degrees.cp - 1}};  // all-to-all
}

}  // namespace attnsim::models
