// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/hierarchical.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "models/strategies/common.h"

namespace attnsim::models {

int HierarchicalAttention::head_degree(const Workload& work, const Degrees& degrees) const {
  if (head_degree_ > 0) {
    return head_degree_;
  }
  const int heads = work.model.heads / degrees.tp;
  int u = 1;
  for (int c = 1; c <= std::min(8, degrees.cp); ++c) {
    if (degrees.cp % c == 0 && heads % c == 0) {
      u = c;
    }
  }
  return u;
}

void HierarchicalAttention::check(const Workload& work, const Degrees& degrees) const {
  reject_spatial_temporal(node_, work);
  const int u = head_degree(work, degrees);
  const int heads = work.model.heads / degrees.tp;
  const std::string cp = std::to_string(degrees.cp);
  const char* key = head_degree_ > 0 ? "head_degree" : "strategy";
  if (degrees.cp % u != 0) {
    node_.child(key).fail("a divisor of the sequence-parallel degree (" + cp + ")",
                          std::to_string(u));
  }
  if (heads % u != 0) {
    node_.child(key).fail(
        "a divisor of the query heads per tensor-parallel rank (" + std::to_string(heads) + ")",
        std::to_string(u));
  }
  const int kv = std::max(1, work.model.kv_heads / degrees.tp);
  if (kv % u != 0 && u % kv != 0) {
    node_.child(key).fail("a head degree that divides or is a multiple of the KV heads per rank (" +
                              std::to_string(kv) + ")",
                          std::to_string(u));
  }
  if (work.attention.kind == AttentionKind::kLinear) {
    node_.child("strategy")
        .fail("an attention kind with a score matrix (not \"linear\") for hierarchical",
              "/attention/kind = \"linear\"");
  }
  if (work.phase == Phase::kDecode) {
    node_.child("strategy")
        .fail("a workload with a sequence (training, forward or prefill) for hierarchical",
              "/workload/phase = \"decode\"");
  }
  if (work.sequence_length % degrees.cp != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by the sequence-parallel degree (" + cp +
                  ") for hierarchical",
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
}

std::vector<sim::OpId> HierarchicalAttention::emit_attention(const AttentionCall& call,
                                                             sim::Trace& trace) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int heads = call.head_end - call.head_begin;
  Degrees degrees;
  degrees.cp = p;
  degrees.tp = work.model.heads / heads;
  const int u = head_degree(work, degrees);
  const int shards = p / u;  // S
  const int per_rank = heads / u;
  const double kv_a2a =
      std::max(kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads),
               static_cast<double>(u));  // a'
  const double kv = kv_a2a / u;          // a
  const double n = static_cast<double>(work.sequence_length);
  const double row =
      static_cast<double>(work.model.head_dim) * work.model.dtype_bytes * call.sequences;  // d_h·B
  const double unit = n / p * row;  // L·d_h·B
  const double shard = n / shards;  // N/S tokens
  const std::int64_t shard_tokens = work.sequence_length / shards;
  const double summaries = 2.0 * (n / rho_ + static_cast<double>(global_)) * kv * row;
  const double remote_keys =
      shards > 1 ? (shards - 1) * n / (shards * rho_) + static_cast<double>(global_) : 0.0;
  const bool forward = call.pass == Pass::kForward;
  const auto at = [&](int j, int s) {
    return static_cast<std::size_t>(s) * static_cast<std::size_t>(u) + static_cast<std::size_t>(j);
  };

  // All-to-alls inside each head group (cp ranks s·P_h .. s·P_h + P_h-1), as usp.cpp.
  std::vector<sim::OpId> state(call.ready.begin(), call.ready.end());
  const auto a2a_all = [&](const std::vector<double>& sizes) {
    all_to_all_in_groups(call, trace, u, sizes, state);
  };
  // The summaries' collective over the S ranks of each head slice.
  const auto across = [&](Collective c, const std::vector<sim::OpId>& after) {
    std::vector<sim::OpId> result(after.size());
    for (int j = 0; j < u; ++j) {
      std::vector<std::uint32_t> group;
      std::vector<sim::OpId> deps;
      for (int s = 0; s < shards; ++s) {
        group.push_back(call.group[at(j, s)]);
        deps.push_back(after[at(j, s)]);
      }
      const sim::OpId done =
          add_collective(call, trace, c, group, summaries, call.tags.attention_comm, deps);
      for (int s = 0; s < shards; ++s) {
        result[at(j, s)] = done;
      }
    }
    return result;
  };
  const double q_bytes = unit * heads;
  const double kv_bytes = unit * kv_a2a;
  a2a_all(forward ? std::vector<double>{q_bytes, kv_bytes, kv_bytes}
                  : std::vector<double>{q_bytes});

  // Compression (forward) or its gradient (backward): read the shard's K, V, write summaries.
  const Cost compress = call.cost.memory_bound(2.0 * (shard + shard / rho_) * kv * row);
  const Cost merge = call.cost.memory_bound(3.0 * shard * per_rank * work.model.head_dim * 4.0 *
                                            call.sequences);  // fp32 output, as ring.h
  const double remote_flops = (forward ? 4.0 : 10.0) * shard * remote_keys * per_rank *
                              work.model.head_dim * call.sequences;
  const auto remote_cost = [&]() {
    return call.cost.attention(call.pass, false, work.model.head_dim, shard, remote_keys,
                               remote_flops);
  };
  const auto slice = [&](int j) { return call.head_begin + j * per_rank; };
  std::vector<sim::OpId> local(static_cast<std::size_t>(p));
  std::vector<sim::OpId> compressed(static_cast<std::size_t>(p));
  for (int s = 0; s < shards; ++s) {
    const std::vector<TokenSet> tokens = {TokenSet{s * shard_tokens, 1, shard_tokens}};
    for (int j = 0; j < u; ++j) {
      const std::size_t c = at(j, s);
      const std::uint32_t gpu = call.group[c];
      const sim::OpId deps[] = {state[c]};
      if (forward && shards > 1) {
        // Compress first, so the all-gather overlaps the local kernel.
        compressed[c] = add_compute(call, trace, gpu, compress, call.tags.attention, deps,
                                    "context compression");
      }
      const BlockWork block =
          block_work(work, call.pass, slice(j), slice(j) + per_rank, tokens, tokens);
      local[c] = add_attention(call, trace, gpu, block, deps);
    }
  }
  if (shards == 1) {  // one shard: the whole sequence is local, nothing is compressed
    state = local;
    a2a_all(forward ? std::vector<double>{q_bytes}
                    : std::vector<double>{q_bytes, kv_bytes, kv_bytes});
    return state;
  }
  if (forward) {
    const std::vector<sim::OpId> gathered = across(Collective::kAllGather, compressed);
    for (std::size_t c = 0; c < local.size(); ++c) {
      const sim::OpId deps[] = {gathered[c], local[c]};
      const sim::OpId remote =
          add_compute(call, trace, call.group[c], remote_cost(), call.tags.attention, deps,
                      "attention forward kernel (compressed context)");
      call.attention_flops[call.group[c]] += remote_flops;
      const sim::OpId after[] = {remote};
      state[c] = add_compute(call, trace, call.group[c], merge, call.tags.attention, after,
                             "online-softmax merge");
    }
    a2a_all({q_bytes});
    return state;
  }
  std::vector<sim::OpId> remote(local.size());
  for (std::size_t c = 0; c < local.size(); ++c) {
    const sim::OpId deps[] = {local[c]};
    remote[c] = add_compute(call, trace, call.group[c], remote_cost(), call.tags.attention, deps,
                            "attention backward kernel (compressed context)");
    call.attention_flops[call.group[c]] += remote_flops;
  }
  const std::vector<sim::OpId> reduced = across(Collective::kReduceScatter, remote);
  for (std::size_t c = 0; c < local.size(); ++c) {
    const sim::OpId deps[] = {reduced[c], remote[c]};
    state[c] = add_compute(call, trace, call.group[c], compress, call.tags.attention, deps,
                           "context compression (backward)");
  }
  a2a_all({q_bytes, kv_bytes, kv_bytes});
  return state;
}

AttentionMemory HierarchicalAttention::memory(const Workload& work, const Degrees& degrees) const {
  const int u = head_degree(work, degrees);
  const double tokens = static_cast<double>(work.sequence_length) / degrees.cp;
  const double heads = static_cast<double>(work.model.heads) / degrees.tp;
  const double kv_a2a = std::max(kv_heads_per_rank(work, degrees.tp), static_cast<double>(u));
  const double row = static_cast<double>(work.model.head_dim) * work.model.dtype_bytes;
  const double gathered =
      2.0 * (static_cast<double>(work.sequence_length) / rho_ + static_cast<double>(global_)) *
      kv_a2a / u * row;
  AttentionMemory m;
  // All-to-all staging only when the head group has more than one rank.
  m.workspace = (u > 1 ? 2.0 * (heads + 2.0 * kv_a2a) * tokens * row : 0.0) + gathered;
  if (work.has_backward()) {
    m.activations_per_layer = gathered;
  }
  return m;
}

std::map<std::string, std::int64_t> HierarchicalAttention::own_degrees(
    const Workload& work, const Degrees& degrees) const {
  const int u = head_degree(work, degrees);
  return {{"head_degree", u}, {"sequence_shards", degrees.cp / u}, {"global_tokens", global_}};
}

std::vector<std::string> HierarchicalAttention::notes() const {
  std::ostringstream rho;
  rho << rho_;
  return {"approximate attention: remote context compressed " + rho.str() +
          "x into summary rows plus " + std::to_string(global_) +
          " global tokens; not comparable with exact strategies"};
}

std::unique_ptr<Strategy> make_hierarchical(const config::Node& parallelism) {
  const int u = static_cast<int>(parallelism.integer_or("head_degree", 1, 1 << 20, 0));
  const double rho = parallelism.positive_or("compression_ratio", 8.0);
  if (rho < 1.0) {
    parallelism.child("compression_ratio").fail("a number >= 1");
  }
  const std::int64_t g = parallelism.integer_or("global_tokens", 0, std::int64_t{1} << 40, 1024);
  return std::make_unique<HierarchicalAttention>(parallelism, u, rho, g);
}

std::vector<CommGroup> HierarchicalAttention::comm_groups(const Workload& work,
                                                          const Degrees& degrees) const {
  const int u = head_degree(work, degrees);
  std::vector<CommGroup> out;
  out.reserve(2);
  if (u > 1) {
    out.push_back(CommGroup{u, 1, false, u - 1});  // the head group's all-to-alls
  }
  if (degrees.cp / u > 1) {
    out.push_back(CommGroup{degrees.cp / u, u, true, 0});  // summaries: all-gather, r.-scatter
  }
  return out;
}

}  // namespace attnsim::models
