// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/usp.h"

#include <algorithm>
#include <string>

#include "models/strategies/common.h"

namespace attnsim::models {

std::pair<int, int> UspAttention::split(const Workload& work, const Degrees& degrees) const {
  const int heads = work.model.heads / degrees.tp;
  int u = ulysses_degree_;
  if (u == 0 && ring_degree_ > 0 && degrees.cp % ring_degree_ == 0) {
    u = degrees.cp / ring_degree_;
  }
  if (u == 0) {
    u = 1;
    for (int c = 1; c <= std::min(8, degrees.cp); ++c) {
      if (degrees.cp % c == 0 && heads % c == 0) {
        u = c;
      }
    }
  }
  return {u, u > 0 ? degrees.cp / u : 0};
}

void UspAttention::check(const Workload& work, const Degrees& degrees) const {
  reject_spatial_temporal(node_, work);
  const std::pair<int, int> split_ur = split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  const int heads = work.model.heads / degrees.tp;
  const std::string cp = std::to_string(degrees.cp);
  if (degrees.cp % u != 0) {
    node_.child("ulysses_degree")
        .fail("a divisor of the sequence-parallel degree (" + cp + ")", std::to_string(u));
  }
  if (ring_degree_ > 0 && ring_degree_ * u != degrees.cp) {
    node_.child("ring_degree")
        .fail("ring_degree x ulysses_degree = the sequence-parallel degree (" + cp + ")",
              std::to_string(ring_degree_) + " x " + std::to_string(u));
  }
  if (heads % u != 0) {
    if (ulysses_degree_ > 0) {
      node_.child("ulysses_degree")
          .fail("a divisor of the query heads per tensor-parallel rank (" + std::to_string(heads) +
                    ")",
                std::to_string(u));
    }
    node_.child("strategy").fail("a Ulysses degree dividing the heads", std::to_string(u));
  }
  const int kv = std::max(1, work.model.kv_heads / degrees.tp);
  if (kv % u != 0 && u % kv != 0) {
    node_.child(ulysses_degree_ > 0 ? "ulysses_degree" : "strategy")
        .fail("a Ulysses degree that divides or is a multiple of the KV heads per rank (" +
                  std::to_string(kv) + ")",
              std::to_string(u));
  }
  const std::int64_t unit = (layout_ == RingLayout::kZigzag ? 2 : 1) * std::int64_t{r} * u;
  if (work.phase != Phase::kDecode && work.sequence_length % unit != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by " + std::to_string(unit) + " for usp (" +
                  std::to_string(u) + " x " + std::to_string(r) +
                  (layout_ == RingLayout::kZigzag ? ", zigzag" : "") + ")",
              "/workload/sequence_length = " + std::to_string(work.sequence_length));
  }
}

std::vector<sim::OpId> UspAttention::emit_attention(const AttentionCall& call,
                                                    sim::Trace& trace) const {
  const RingAttention ring(layout_, node_);
  return emit_grid(call, trace,
                   [&](const AttentionCall& sub) { return ring.emit_attention(sub, trace); });
}

std::vector<sim::OpId> UspAttention::emit_grid(const AttentionCall& call, sim::Trace& trace,
                                               const RingEmitter& emit_ring) const {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const int heads = call.head_end - call.head_begin;
  Degrees degrees;
  degrees.cp = p;
  degrees.tp = work.model.heads / heads;
  const std::pair<int, int> split_ur = split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  const double kv = std::max(kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads),
                             static_cast<double>(u));
  const double unit = static_cast<double>(work.sequence_length) / p * work.model.head_dim *
                      work.model.dtype_bytes * call.sequences;  // (N/P)·d_h·B
  const auto at = [&](int ui, int ri) {
    return static_cast<std::size_t>(ri) * static_cast<std::size_t>(u) +
           static_cast<std::size_t>(ui);
  };

  // All-to-alls inside each Ulysses group (cp ranks ri·u .. ri·u + u-1).
  const std::vector<double> qkv = {unit * heads, unit * kv, unit * kv};
  const std::vector<double> q = {unit * heads};
  const bool forward = call.pass == Pass::kForward;
  std::vector<sim::OpId> state(call.ready.begin(), call.ready.end());
  all_to_all_in_groups(call, trace, u, forward ? qkv : q, state);
  // Rings over ranks with the same Ulysses index, on that index's slice of heads.
  const int per_rank = heads / u;
  for (int ui = 0; ui < u; ++ui) {
    std::vector<std::uint32_t> group;
    std::vector<sim::OpId> ready;
    for (int ri = 0; ri < r; ++ri) {
      group.push_back(call.group[at(ui, ri)]);
      ready.push_back(state[at(ui, ri)]);
    }
    const int begin = call.head_begin + ui * per_rank;
    const AttentionCall sub{call.work,
                            call.cost,
                            call.layout,
                            call.tags,
                            call.pass,
                            group,
                            begin,
                            begin + per_rank,
                            ready,
                            call.notes,
                            call.attention_flops,
                            call.sequences,
                            call.axis};
    const std::vector<sim::OpId> done = emit_ring(sub);
    for (int ri = 0; ri < r; ++ri) {
      state[at(ui, ri)] = done[static_cast<std::size_t>(ri)];
    }
  }
  all_to_all_in_groups(call, trace, u, forward ? q : qkv, state);
  return state;
}

AttentionMemory UspAttention::memory(const Workload& work, const Degrees& degrees) const {
  const std::pair<int, int> split_ur = split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  const double tokens = static_cast<double>(work.sequence_length) / degrees.cp;
  const double heads = static_cast<double>(work.model.heads) / degrees.tp;
  const double kv = std::max(kv_heads_per_rank(work, degrees.tp), static_cast<double>(u));
  const double d_h = work.model.head_dim;
  const double bytes = work.model.dtype_bytes;
  AttentionMemory m;
  if (u > 1) {
    m.workspace = 2.0 * (heads + 2.0 * kv) * tokens * d_h * bytes;  // a2a staging
  }
  if (r > 1) {
    // Ring buffers on N/P_r tokens of h_r/P_u heads (ring.h).
    const double ring_tokens = static_cast<double>(work.sequence_length) / r;
    const double block = 2.0 * ring_tokens * std::max(1.0, kv / u) * d_h * bytes;
    const double fp32_out = ring_tokens * heads / u * d_h * 4.0;
    m.workspace += work.has_backward() ? 4.0 * block + 2.0 * fp32_out : 2.0 * block + fp32_out;
  }
  return m;
}

std::map<std::string, std::int64_t> UspAttention::own_degrees(const Workload& work,
                                                              const Degrees& degrees) const {
  const std::pair<int, int> split_ur = split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  return {{"ulysses_degree", u}, {"ring_degree", r}};
}

std::unique_ptr<Strategy> make_usp(const config::Node& parallelism) {
  const int u = static_cast<int>(parallelism.integer_or("ulysses_degree", 1, 1 << 20, 0));
  const int r = static_cast<int>(parallelism.integer_or("ring_degree", 1, 1 << 20, 0));
  return std::make_unique<UspAttention>(parallelism, u, r, read_ring_layout(parallelism));
}

std::vector<CommGroup> UspAttention::comm_groups(const Workload& work,
                                                 const Degrees& degrees) const {
  const std::pair<int, int> split_ur = split(work, degrees);
  const int u = split_ur.first;
  const int r = split_ur.second;
  std::vector<CommGroup> out;
  out.reserve(2);
  if (u > 1) {
    out.push_back(CommGroup{u, 1, false, u - 1});  // all-to-all inside the Ulysses group
  }
  if (r > 1) {
    out.push_back(CommGroup{r, u, false, r == 2 ? 1 : 2});  // the ring of one Ulysses index
  }
  return out;
}

}  // namespace attnsim::models
