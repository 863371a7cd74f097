// SPDX-License-Identifier: Apache-2.0
#include "models/strategies/dsp.h"

#include <algorithm>
#include <string>

#include "models/strategies/common.h"

namespace attnsim::models {
namespace {

/// One dilated branch as a rank of a tensor-parallel head range sees it.
struct Branch {
  std::size_t index = 0;
  std::int64_t w = 0;  // min(w_i, N): mask.h cuts longer segments at the sequence
  std::int64_t r = 1;
  int head_begin = 0;  // H_i intersected with the tensor-parallel rank's heads
  int head_end = 0;

  int heads() const { return head_end - head_begin; }
};

/// The branches with heads in [head_begin, head_end): mask.h's kHeadGroups grouping
/// (h/k heads per group, the first h mod k groups one more, in head order).
std::vector<Branch> branches(const Workload& work, int head_begin, int head_end) {
  const AttentionSpec& a = work.attention;
  const auto k = static_cast<int>(a.segment_lengths.size());
  const int base = work.model.heads / k;
  const int extra = work.model.heads % k;
  std::vector<Branch> out;
  for (int i = 0; i < k; ++i) {
    const int group_begin = i * base + std::min(i, extra);
    const int group_end = group_begin + base + (i < extra ? 1 : 0);
    Branch b;
    b.index = static_cast<std::size_t>(i);
    b.w = std::min(a.segment_lengths[b.index], work.sequence_length);
    b.r = a.dilation_rates[b.index];
    b.head_begin = std::max(group_begin, head_begin);
    b.head_end = std::min(group_end, head_end);
    if (b.heads() > 0) {
      out.push_back(b);
    }
  }
  return out;
}

/// KV heads a branch's query heads use, |H_i|·h_kv/h (at least 1), replicated up to the
/// `ranks` of its segment and at most |H_i| (dsp.h).
double branch_kv_heads(const Workload& work, int heads, std::int64_t ranks) {
  const double own = kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads);
  return std::min(static_cast<double>(heads), std::max(own, static_cast<double>(ranks)));
}

}  // namespace

void DspAttention::check(const Workload& work, const Degrees& degrees) const {
  const AttentionSpec& a = work.attention;
  if (a.kind == AttentionKind::kSpatialTemporal && work.phase != Phase::kDecode) {
    const std::int64_t spatial = work.sequence_length / a.frames;
    if (a.frames % degrees.cp != 0 || spatial % degrees.cp != 0) {
      node_.child("strategy")
          .fail(
              "frames and spatial tokens per frame both divisible by the sequence-parallel "
              "degree (" +
                  std::to_string(degrees.cp) + ") for dsp",
              "/attention/frames = " + std::to_string(a.frames) + " of " + std::to_string(spatial) +
                  " tokens");
    }
    return;
  }
  if (a.kind != AttentionKind::kDilated || a.dilated_heads != DilatedHeads::kHeadGroups) {
    node_.child("strategy")
        .fail("/attention/kind \"dilated\" with /attention/heads \"head_groups\" for dsp",
              a.kind != AttentionKind::kDilated
                  ? std::string("/attention/kind = \"") + attention_kind_name(a.kind) + "\""
                  : std::string("/attention/heads = \"all_heads\""));
  }
  if (work.phase == Phase::kDecode) {
    node_.child("strategy")
        .fail("a workload with a sequence (training, forward or prefill) for dsp",
              "/workload/phase = \"decode\"");
  }
  const std::string n = std::to_string(work.sequence_length);
  if (work.sequence_length % degrees.cp != 0) {
    node_.child("strategy")
        .fail("a sequence length divisible by the sequence-parallel degree (" +
                  std::to_string(degrees.cp) + ") for dsp",
              "/workload/sequence_length = " + n);
  }
  const std::int64_t l = work.sequence_length / degrees.cp;
  const int per_tp = work.model.heads / degrees.tp;
  for (int t = 0; t < degrees.tp; ++t) {
    for (const Branch& b : branches(work, t * per_tp, (t + 1) * per_tp)) {
      if (b.w <= l) {
        continue;
      }
      const std::string where = "/attention/segment_lengths/" + std::to_string(b.index) + " = " +
                                std::to_string(a.segment_lengths[b.index]);
      if (b.w % l != 0) {
        node_.child("strategy")
            .fail("every segment length above N/P (" + std::to_string(l) +
                      ") to be a multiple of it for dsp",
                  where);
      }
      const std::int64_t g = b.w / l;
      if (b.heads() % g != 0) {
        node_.child("strategy")
            .fail("branch " + std::to_string(b.index) + "'s heads per tensor-parallel rank (" +
                      std::to_string(b.heads()) + ") divisible by the ranks its segment spans (" +
                      std::to_string(g) + ") for dsp",
                  where + " over N/P = " + std::to_string(l));
      }
    }
  }
}

namespace {

/// The dilated branches of dsp.h (for spatial_temporal: the one local branch of an axis).
std::vector<sim::OpId> emit_branches(const AttentionCall& call, sim::Trace& trace) {
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const auto n = static_cast<std::size_t>(p);
  const std::int64_t l = work.sequence_length / p;
  const double row = static_cast<double>(work.model.head_dim) * work.model.dtype_bytes *
                     call.sequences;  // one head's row: d_h·B
  const bool forward = call.pass == Pass::kForward;
  const std::vector<Branch> all = branches(work, call.head_begin, call.head_end);
  const auto own = [&](int c) { return std::vector<TokenSet>{TokenSet{c * l, 1, l}}; };

  // Per branch: rows moved in (Q, K, V or dO) and out (O or dQ, dK, dV), by head count.
  struct Plan {
    Branch b;
    std::int64_t g = 1;   // ranks of a segment (1: local)
    double sparse = 0;    // L/r_i rows per head
    double in_heads = 0;  // |H_i| + 2·a_i forward, |H_i| backward
    double out_heads = 0;
    bool dilate = false;           // gather and scatter passes needed
    std::vector<sim::OpId> ready;  // per rank: gathered inputs
    std::vector<sim::OpId> arrived;
    std::vector<sim::OpId> kernels;
    std::vector<sim::OpId> returned;
  };

  std::vector<Plan> plans;
  for (const Branch& b : all) {
    Plan pl;
    pl.b = b;
    pl.g = b.w > l ? b.w / l : 1;
    pl.sparse = static_cast<double>(l) / static_cast<double>(b.r);
    const double qkv = b.heads() + 2.0 * branch_kv_heads(work, b.heads(), pl.g);
    pl.in_heads = forward ? qkv : b.heads();
    pl.out_heads = forward ? b.heads() : qkv;
    pl.dilate = b.r > 1 || pl.g > 1;
    pl.ready.assign(call.ready.begin(), call.ready.end());
    plans.push_back(std::move(pl));
  }
  const auto dilation = [&](const Plan& pl, double heads) {
    return call.cost.memory_bound((static_cast<double>(l) + pl.sparse) * heads * row);
  };
  std::vector<std::vector<sim::OpId>> tails(n);
  // 1. Gathers, communicating branches first so their all-to-alls start early.
  for (const bool remote : {true, false}) {
    for (Plan& pl : plans) {
      if ((pl.g > 1) != remote || !pl.dilate) {
        continue;
      }
      const Cost gather = dilation(pl, pl.in_heads);
      for (std::size_t c = 0; c < n; ++c) {
        const sim::OpId deps[] = {call.ready[c]};
        pl.ready[c] = add_compute(call, trace, call.group[c], gather, call.tags.attention, deps,
                                  "dilated gather");
      }
    }
  }
  // 2. One all-to-all per segment group, branches in order on each rank's NCCL stream.
  std::vector<sim::OpId> comm(call.ready.begin(), call.ready.end());
  const auto a2a = [&](const Plan& pl, const std::vector<sim::OpId>& after, double heads,
                       std::vector<sim::OpId>& result) {
    result.assign(n, 0);
    for (std::int64_t first = 0; first < p; first += pl.g) {
      std::vector<std::uint32_t> group;
      std::vector<sim::OpId> deps;
      for (std::int64_t c = first; c < first + pl.g; ++c) {
        const auto uc = static_cast<std::size_t>(c);
        group.push_back(call.group[uc]);
        deps.push_back(after[uc]);
        deps.push_back(comm[uc]);
      }
      const sim::OpId done =
          add_collective(call, trace, Collective::kAllToAll, group, pl.sparse * heads * row,
                         call.tags.attention_comm, deps);
      for (std::int64_t c = first; c < first + pl.g; ++c) {
        result[static_cast<std::size_t>(c)] = done;
        comm[static_cast<std::size_t>(c)] = done;
      }
    }
  };
  for (Plan& pl : plans) {
    if (pl.g > 1) {
      a2a(pl, pl.ready, pl.in_heads, pl.arrived);
    }
  }
  // 3. Local branches: own tokens, the branch's heads.
  for (const Plan& pl : plans) {
    if (pl.g > 1) {
      continue;
    }
    const Cost scatter = dilation(pl, pl.out_heads);
    for (int c = 0; c < p; ++c) {
      const auto uc = static_cast<std::size_t>(c);
      const BlockWork block =
          block_work(work, call.pass, pl.b.head_begin, pl.b.head_end, own(c), own(c));
      const sim::OpId deps[] = {pl.ready[uc]};
      sim::OpId done = add_attention(call, trace, call.group[uc], block, deps);
      if (pl.dilate) {
        const sim::OpId after[] = {done};
        done = add_compute(call, trace, call.group[uc], scatter, call.tags.attention, after,
                           "dilated scatter");
      }
      tails[uc].push_back(done);
    }
  }
  // 4. Communicating branches: segment rank j computes heads j·|H_i|/G_i .. of the segment.
  for (Plan& pl : plans) {
    if (pl.g == 1) {
      continue;
    }
    pl.kernels.assign(n, 0);
    const auto per_rank = static_cast<int>(pl.b.heads() / pl.g);
    for (int c = 0; c < p; ++c) {
      const auto uc = static_cast<std::size_t>(c);
      const std::int64_t j = c % pl.g;
      const std::vector<TokenSet> segment = {TokenSet{(c - j) * l, 1, pl.g * l}};
      const int begin = pl.b.head_begin + static_cast<int>(j) * per_rank;
      const BlockWork block =
          block_work(work, call.pass, begin, begin + per_rank, segment, segment);
      const sim::OpId deps[] = {pl.arrived[uc]};
      pl.kernels[uc] = add_attention(call, trace, call.group[uc], block, deps);
    }
  }
  // 5. All-to-alls back, 6. scatters.
  for (Plan& pl : plans) {
    if (pl.g > 1) {
      a2a(pl, pl.kernels, pl.out_heads, pl.returned);
    }
  }
  for (const Plan& pl : plans) {
    if (pl.g == 1) {
      continue;
    }
    const Cost scatter = dilation(pl, pl.out_heads);
    for (std::size_t c = 0; c < n; ++c) {
      const sim::OpId deps[] = {pl.returned[c]};
      tails[c].push_back(add_compute(call, trace, call.group[c], scatter, call.tags.attention, deps,
                                     "dilated scatter"));
    }
  }
  std::vector<sim::OpId> out(n);
  for (std::size_t c = 0; c < n; ++c) {
    tails[c].push_back(call.ready[c]);
    out[c] = trace.delay(sim::Time{}, call.tags.marker, tails[c]);
  }
  return out;
}

}  // namespace

std::vector<sim::OpId> DspAttention::emit_attention(const AttentionCall& call,
                                                    sim::Trace& trace) const {
  if (call.axis != AttentionAxis::kTemporal) {
    return emit_branches(call, trace);
  }
  // Spatial-temporal (dsp.h): the frame-sharded layout switches to position sharding, the
  // temporal sequences are local, and the layout switches back.
  const Workload& work = call.work;
  const auto p = static_cast<int>(call.group.size());
  const double heads = call.head_end - call.head_begin;
  const double kv = kv_heads_per_rank(work, static_cast<double>(work.model.heads) / heads);
  const double d = work.model.hidden;
  const double qkv = std::min(d, (heads + 2.0 * kv) * work.model.head_dim);
  const double o = std::min(d, heads * work.model.head_dim);
  const double rows = static_cast<double>(work.sequence_length) / p * work.model.dtype_bytes *
                      call.sequences;  // L·B
  const bool forward = call.pass == Pass::kForward;
  const std::vector<double> in = {rows * (forward ? qkv : o)};
  const std::vector<double> back = {rows * (forward ? o : qkv)};
  std::vector<sim::OpId> state(call.ready.begin(), call.ready.end());
  all_to_all_in_groups(call, trace, p, in, state);
  AttentionCall local{call};
  local.ready = state;
  state = emit_branches(local, trace);
  all_to_all_in_groups(call, trace, p, back, state);
  return state;
}

AttentionMemory DspAttention::memory(const Workload& work, const Degrees& degrees) const {
  AttentionMemory m;
  if (work.attention.kind == AttentionKind::kSpatialTemporal) {
    // The switch's send and receive buffers, L·d·B each; training keeps a second pair for the
    // backward's switches of gradients.
    const double buffer = static_cast<double>(work.sequence_length) / degrees.cp *
                          work.model.hidden * work.model.dtype_bytes;
    m.workspace = (work.has_backward() ? 4.0 : 2.0) * buffer;
    return m;
  }
  if (work.attention.kind != AttentionKind::kDilated || work.sequence_length < degrees.cp) {
    return m;
  }
  const std::int64_t l = work.sequence_length / degrees.cp;
  const double row = static_cast<double>(work.model.head_dim) * work.model.dtype_bytes;
  const bool training = work.has_backward();
  for (const Branch& b : branches(work, 0, work.model.heads / degrees.tp)) {
    const std::int64_t g = b.w > l ? b.w / l : 1;
    if (b.r == 1 && g == 1) {
      continue;
    }
    const double sparse = static_cast<double>(l) / static_cast<double>(b.r);
    const double qkvo =
        (2.0 * b.heads() + 2.0 * branch_kv_heads(work, b.heads(), g)) * sparse * row;
    const double staging = g > 1 ? 2.0 * qkvo : qkvo;  // send and receive buffers
    m.workspace += training ? 2.0 * staging : staging;
    if (training) {
      m.activations_per_layer += qkvo;
    }
  }
  return m;
}

std::unique_ptr<Strategy> make_dsp(const config::Node& parallelism) {
  return std::make_unique<DspAttention>(parallelism);
}

std::vector<CommGroup> DspAttention::comm_groups(const Workload& work,
                                                 const Degrees& degrees) const {
  if (degrees.cp < 2) {
    return {};
  }
  if (work.attention.kind == AttentionKind::kSpatialTemporal) {
    return {CommGroup{degrees.cp, 1, false, degrees.cp - 1}};  // the switches' all-to-alls
  }
  if (work.attention.kind != AttentionKind::kDilated || work.sequence_length < degrees.cp) {
    return {};
  }
  // A branch whose segments span g > 1 ranks runs its all-to-alls inside aligned groups of g
  // ranks; the smaller groups lie inside the largest, so a rank's peers are its largest
  // group's.
  const std::int64_t l = work.sequence_length / degrees.cp;
  std::int64_t widest = 1;
  for (const Branch& b : branches(work, 0, work.model.heads / degrees.tp)) {
    widest = std::max(widest, b.w > l ? b.w / l : 1);
  }
  if (widest < 2) {
    return {};
  }
  const auto g = static_cast<int>(widest);
  return {CommGroup{g, 1, false, g - 1}};
}

}  // namespace attnsim::models
