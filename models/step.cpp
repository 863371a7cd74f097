// SPDX-License-Identifier: Apache-2.0
#include "models/step.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "models/attention/mask.h"
#include "models/collectives/decompose.h"
#include "models/strategies/common.h"

namespace attnsim::models {
namespace {

using Group = std::vector<std::uint32_t>;

/// Builds one step; see step.h for the ops and their shapes.
class StepBuilder {
 public:
  StepBuilder(const Workload& work, const Degrees& degrees, const Strategy& strategy,
              const StepOptions& options, const Layout& layout, const CostModel& cost,
              StepTrace& out)
      : work_(work),
        deg_(degrees),
        strategy_(strategy),
        options_(options),
        layout_(layout),
        cost_(cost),
        out_(out),
        tr_(out.trace) {
    Tags& t = out_.tags;
    t.compute = tr_.tag("compute");
    t.attention = tr_.tag("attention");
    t.attention_comm = tr_.tag("attention_comm");
    t.tp_comm = tr_.tag("tp_comm");
    t.dp_comm = tr_.tag("dp_comm");
    t.pp_comm = tr_.tag("pp_comm");
    t.marker = tr_.tag("marker");
    out_.sharding = strategy.sharding(work, degrees);
    out_.attention_flops.assign(static_cast<std::size_t>(degrees.gpus()), 0.0);
    out_.layers_per_stage = work.model.layers / degrees.pp;
    out_.layers_simulated = options.simulated_layers <= 0
                                ? out_.layers_per_stage
                                : std::min(options.simulated_layers, out_.layers_per_stage);
    out_.sequences_per_microbatch =
        static_cast<double>(work.sequences_per_step) /
        (static_cast<double>(degrees.dp) * static_cast<double>(options.microbatches));
    b_ = out_.sequences_per_microbatch;
    tokens_ = static_cast<double>(out_.sharding.tokens_per_gpu);
    t_ = out_.sharding.weight_split;
    if (work.phase == Phase::kDecode) {
      // One new token per sequence, every cp rank holding the same queries.
      tokens_ = static_cast<double>(work.batch) /
                (static_cast<double>(degrees.dp) * static_cast<double>(options.microbatches));
      b_ = 1;
    }
    cur_.assign(static_cast<std::size_t>(degrees.gpus() / degrees.pp), 0);
    have_.assign(cur_.size(), false);
    for (const AttentionAxis axis : attention_axes(work.attention)) {
      Workload w = work;
      w.attention = axis_attention(work.attention, axis, work.sequence_length);
      axes_.emplace_back(axis, std::move(w));
    }
    make_groups();
  }

  void build() {
    const int k = out_.layers_simulated;
    const bool model = work_.scope == Scope::kModel;
    for (int l = 0; l < k; ++l) {
      forward_layer();
      out_.forward_end.push_back(join_all());
    }
    if (model) {
      pipeline_send(/*forward=*/true);
      output_head(Pass::kForward);
      if (work_.has_backward()) {
        output_head(Pass::kBackward);
        pipeline_send(/*forward=*/false);
      }
    }
    out_.head_end = join_all();
    if (work_.has_backward()) {
      for (int l = 0; l < k; ++l) {
        if (work_.recompute == Recompute::kFull) {
          forward_layer();
        }
        backward_layer();
        out_.backward_end.push_back(join_all());
        if (model) {
          reduce_gradients(layer_parameters());
        }
      }
    }
    out_.layers_end = join_all();
    if (model && work_.has_backward()) {
      optimizer();
    }
  }

 private:
  // ---- groups -------------------------------------------------------------------------
  void make_groups() {
    const bool joined = !out_.sharding.weights_replicated_over_cp;
    for (int dp = 0; dp < deg_.dp; ++dp) {
      for (int tp = 0; tp < deg_.tp; ++tp) {
        Group cp;
        for (int c = 0; c < deg_.cp; ++c) {
          cp.push_back(deg_.gpu(tp, c, dp, 0));
        }
        cp_groups_.emplace_back(tp, cp);
      }
      if (joined) {
        Group tensor;
        for (int c = 0; c < deg_.cp; ++c) {
          for (int tp = 0; tp < deg_.tp; ++tp) {
            tensor.push_back(deg_.gpu(tp, c, dp, 0));
          }
        }
        tensor_groups_.push_back(tensor);
      } else {
        for (int c = 0; c < deg_.cp; ++c) {
          Group tensor;
          for (int tp = 0; tp < deg_.tp; ++tp) {
            tensor.push_back(deg_.gpu(tp, c, dp, 0));
          }
          tensor_groups_.push_back(tensor);
        }
      }
    }
    // Gradient groups: ranks that hold the same weight shard.
    for (int tp = 0; tp < deg_.tp; ++tp) {
      if (joined) {
        for (int c = 0; c < deg_.cp; ++c) {
          Group g;
          for (int dp = 0; dp < deg_.dp; ++dp) {
            g.push_back(deg_.gpu(tp, c, dp, 0));
          }
          grad_groups_.push_back(g);
        }
      } else {
        Group g;
        for (int dp = 0; dp < deg_.dp; ++dp) {
          for (int c = 0; c < deg_.cp; ++c) {
            g.push_back(deg_.gpu(tp, c, dp, 0));
          }
        }
        grad_groups_.push_back(g);
      }
    }
    grad_last_.assign(grad_groups_.size(), 0);
    grad_have_.assign(grad_groups_.size(), false);
    gather_last_.assign(grad_groups_.size(), 0);
    gather_have_.assign(grad_groups_.size(), false);
  }

  // ---- op helpers ---------------------------------------------------------------------
  std::vector<sim::OpId> deps_of(std::uint32_t gpu) const {
    if (have_[gpu]) {
      return {cur_[gpu]};
    }
    return {};
  }

  void set(std::uint32_t gpu, sim::OpId op) {
    cur_[gpu] = op;
    have_[gpu] = true;
  }

  void compute_all(const Cost& cost, sim::TagId tag, std::string_view what) {
    out_.notes.note(cost, what);
    for (std::uint32_t g = 0; g < cur_.size(); ++g) {
      const sim::OpId prev[] = {cur_[g]};  // deps_of(g) without a vector per op
      const std::span<const sim::OpId> deps(prev, have_[g] ? 1 : 0);
      set(g, tr_.compute(g, Strategy::kComputeStream, cost.time, tag, deps));
    }
  }

  void gemm(double m, double n, double k, std::string_view what, double passes = 1) {
    const auto im = static_cast<std::int64_t>(std::max(1.0, std::round(m)));
    const auto in = static_cast<std::int64_t>(std::max(1.0, std::round(n)));
    const auto ik = static_cast<std::int64_t>(std::max(1.0, std::round(k)));
    Cost c = cost_.gemm(im, in, ik);
    c.time = sim::Time::from_s(c.time.seconds() * passes);
    compute_all(c, out_.tags.compute, what);
  }

  void memory_op(double bytes, std::string_view what) {
    compute_all(cost_.memory_bound(bytes), out_.tags.compute, what);
  }

  /// A collective over each group, after each member's current op; members then wait on it.
  void collective_each(const std::vector<Group>& groups, Collective c, double bytes,
                       sim::TagId tag) {
    for (const Group& g : groups) {
      if (g.size() < 2) {
        continue;
      }
      std::vector<sim::OpId> deps;
      for (std::uint32_t gpu : g) {
        const std::vector<sim::OpId> d = deps_of(gpu);
        deps.insert(deps.end(), d.begin(), d.end());
      }
      const sim::OpId end =
          add_collective(layout_, tr_, c, g, bytes, tag, out_.tags.marker, deps, out_.notes);
      for (std::uint32_t gpu : g) {
        set(gpu, end);
      }
    }
  }

  sim::OpId join_all() {
    std::vector<sim::OpId> deps;
    for (std::uint32_t g = 0; g < cur_.size(); ++g) {
      const std::vector<sim::OpId> d = deps_of(g);
      deps.insert(deps.end(), d.begin(), d.end());
    }
    return tr_.delay(sim::Time{}, out_.tags.marker, deps);
  }

  // ---- layer pieces -------------------------------------------------------------------
  double hidden_bytes() const {  // T·d·B per micro-batch
    return b_ * tokens_ * work_.model.hidden * work_.model.dtype_bytes;
  }

  bool tensor_parallel() const { return t_ > 1; }

  double norm_tokens() const {
    return options_.sequence_parallel && tensor_parallel() ? tokens_ / t_ : tokens_;
  }

  void tp_before(Pass pass) {
    if (!tensor_parallel() || !options_.sequence_parallel) {
      if (pass == Pass::kBackward && tensor_parallel()) {
        collective_each(tensor_groups_, Collective::kAllReduce, hidden_bytes(), out_.tags.tp_comm);
      }
      return;
    }
    collective_each(tensor_groups_,
                    pass == Pass::kForward ? Collective::kAllGather : Collective::kReduceScatter,
                    hidden_bytes(), out_.tags.tp_comm);
  }

  void tp_after(Pass pass) {
    if (!tensor_parallel()) {
      return;
    }
    if (!options_.sequence_parallel) {
      if (pass == Pass::kForward) {
        collective_each(tensor_groups_, Collective::kAllReduce, hidden_bytes(), out_.tags.tp_comm);
      }
      return;
    }
    collective_each(tensor_groups_,
                    pass == Pass::kForward ? Collective::kReduceScatter : Collective::kAllGather,
                    hidden_bytes(), out_.tags.tp_comm);
  }

  double qkv_width() const {  // (h/t + 2·max(1, h_kv/t))·d_h
    return (static_cast<double>(work_.model.heads) / t_ + 2.0 * kv_heads_per_rank(work_, t_)) *
           work_.model.head_dim;
  }

  double ffn_up_width() const {
    return (work_.model.gated_mlp ? 2.0 : 1.0) * work_.model.ffn_hidden / t_;
  }

  /// Decode (step.h): the KV cache is split over the cp ranks (by heads for head_parallel,
  /// by sequence otherwise); each rank reads its part and, when split by sequence, the
  /// partial outputs and softmax statistics are all-gathered and merged (the flash-decoding
  /// combine across GPUs, Meta's context-parallel decode, arXiv 2411.01783).
  void decode_attention() {
    const double heads = static_cast<double>(work_.model.heads) / t_;
    const double kv = kv_heads_per_rank(work_, t_);
    const double by_sequence = out_.sharding.weights_replicated_over_cp ? deg_.cp : 1.0;
    const double context = static_cast<double>(work_.context_length) / by_sequence;
    const double d_h = work_.model.head_dim;
    const double cache = tokens_ * context * 2.0 * kv * d_h * work_.model.dtype_bytes;
    const Cost read = cost_.memory_bound(cache);
    out_.notes.note(read, "KV cache read (decode attention)");
    for (std::uint32_t g = 0; g < cur_.size(); ++g) {
      const std::vector<sim::OpId> deps = deps_of(g);
      set(g, tr_.compute(g, Strategy::kComputeStream, read.time, out_.tags.attention, deps));
    }
    if (by_sequence > 1) {
      for (const auto& [tp, group] : cp_groups_) {
        (void)tp;
        std::vector<sim::OpId> deps;
        for (std::uint32_t gpu : group) {
          const std::vector<sim::OpId> d = deps_of(gpu);
          deps.insert(deps.end(), d.begin(), d.end());
        }
        const double partial = tokens_ * heads * (d_h + 1.0) * 4.0 * by_sequence;  // O and LSE
        const sim::OpId end =
            add_collective(layout_, tr_, Collective::kAllGather, group, partial,
                           out_.tags.attention_comm, out_.tags.marker, deps, out_.notes);
        for (std::uint32_t gpu : group) {
          set(gpu, end);
        }
      }
      memory_op(tokens_ * heads * (d_h + 1.0) * 4.0 * by_sequence, "partial output merge");
    }
  }

  /// The strategy's attention on self-attention axis `a` (an index into axes_).
  void attention(Pass pass, std::size_t a) {
    if (work_.phase == Phase::kDecode) {
      decode_attention();
      return;
    }
    const auto& [axis, work] = axes_[a];
    const int heads_per_tp = work_.model.heads / deg_.tp;
    for (const auto& [tp, group] : cp_groups_) {
      std::vector<sim::OpId> ready;
      for (std::uint32_t gpu : group) {
        const std::vector<sim::OpId> d = deps_of(gpu);
        ready.push_back(d.empty() ? tr_.delay(sim::Time{}, out_.tags.marker) : d.front());
      }
      const AttentionCall call{work,
                               cost_,
                               layout_,
                               out_.tags,
                               pass,
                               group,
                               tp * heads_per_tp,
                               (tp + 1) * heads_per_tp,
                               ready,
                               out_.notes,
                               out_.attention_flops,
                               b_,
                               axis};
      const std::vector<sim::OpId> done = strategy_.emit_attention(call, tr_);
      for (std::size_t i = 0; i < group.size(); ++i) {
        set(group[i], done[i]);
      }
    }
  }

  /// ZeRO-3 (FSDP): the layer's parameters are all-gathered over the gradient group before
  /// its forward and again before its backward. The gathers run ahead on NCCL's stream
  /// (prefetch) and the layer waits for its own, but at most two layers' gathered parameters
  /// exist at once, as memory.h counts them: FSDP's rate limiter (limit_all_gathers, on by
  /// default since pytorch/pytorch#104900) issues layer n's all-gather only once layer n-2's
  /// parameters are freed, i.e. after layer n-2's compute. So each gather waits for the
  /// previous gather and for what each GPU of its group had done when the previous gather was
  /// issued (the end of layer n-2).
  void gather_parameters() {
    if (options_.zero_stage < 3 || !work_.has_backward()) {
      return;
    }
    const double bytes = layer_parameters() * work_.model.dtype_bytes;
    const std::vector<sim::OpId> freed = std::move(gather_entry_);  // the GPUs' ops last call
    const std::vector<bool> freed_have = std::move(gather_entry_have_);
    gather_entry_ = cur_;
    gather_entry_have_ = have_;
    for (std::size_t i = 0; i < grad_groups_.size(); ++i) {
      const Group& g = grad_groups_[i];
      if (g.size() < 2) {
        continue;
      }
      std::vector<sim::OpId> deps;
      if (gather_have_[i]) {
        deps.push_back(gather_last_[i]);
      }
      for (const std::uint32_t gpu : g) {
        if (!freed.empty() && freed_have[gpu]) {
          deps.push_back(freed[gpu]);
        }
      }
      gather_last_[i] = add_collective(layout_, tr_, Collective::kAllGather, g, bytes,
                                       out_.tags.dp_comm, out_.tags.marker, deps, out_.notes);
      gather_have_[i] = true;
      for (std::uint32_t gpu : g) {
        std::vector<sim::OpId> d = deps_of(gpu);
        d.push_back(gather_last_[i]);
        set(gpu, tr_.delay(sim::Time{}, out_.tags.marker, d));
      }
    }
  }

  void forward_layer() {
    if (work_.scope == Scope::kAttention) {
      for (std::size_t a = 0; a < axes_.size(); ++a) {
        attention(Pass::kForward, a);
      }
      return;
    }
    gather_parameters();
    const double d = work_.model.hidden;
    const double bytes = work_.model.dtype_bytes;
    const double m = b_ * tokens_;
    for (std::size_t a = 0; a < axes_.size(); ++a) {
      // The first norm; a later axis reads the residual sum of the one before.
      memory_op((a == 0 ? 2.0 : 3.0) * b_ * norm_tokens() * d * bytes,
                a == 0 ? "layer norm" : "residual add");
      tp_before(Pass::kForward);
      gemm(m, qkv_width(), d, "QKV projection GEMM");
      attention(Pass::kForward, a);
      gemm(m, d, attention_width(), "output projection GEMM");
      tp_after(Pass::kForward);
    }
    cross_attention(Pass::kForward);
    memory_op(4.0 * b_ * norm_tokens() * d * bytes, "residual and layer norm");
    tp_before(Pass::kForward);
    gemm(m, ffn_up_width(), d, "MLP up GEMM");
    memory_op(3.0 * m * work_.model.ffn_hidden / t_ * bytes, "MLP activation");
    gemm(m, d, static_cast<double>(work_.model.ffn_hidden) / t_, "MLP down GEMM");
    tp_after(Pass::kForward);
  }

  double attention_width() const {  // h·d_h / t
    return static_cast<double>(work_.model.heads) * work_.model.head_dim / t_;
  }

  /// kSpatialTemporal's cross-attention (workload.h): every token's queries against the
  /// text's keys, token-local under every strategy, so no communication beyond the tensor-
  /// parallel collectives around it. Per GPU: Q projection bT x h·d_h/t x d, K and V of
  /// the b·L text tokens b·L x 2·h·d_h/t x d (each GPU projects the text it attends to),
  /// the kernel (4·b·T·L·d_h FLOPs per head, h/t heads; priced as L x L tiles, since its
  /// rate is that of a short key loop), output projection bT x d x h·d_h/t. Backward
  /// mirrors it (GEMMs twice, the kernel's 2.5x).
  void cross_attention(Pass pass) {
    const double text = static_cast<double>(work_.attention.cross_attention_tokens);
    if (text <= 0) {
      return;
    }
    const double d = work_.model.hidden;
    const double m = b_ * tokens_;
    const double passes = pass == Pass::kForward ? 1.0 : 2.0;
    const double flops = 4.0 * m * text * work_.model.head_dim * work_.model.heads / t_ *
                         (pass == Pass::kForward ? 1.0 : 2.5);
    const Cost kernel = cost_.attention(pass, false, work_.model.head_dim, text, text, flops);
    const char* what =
        pass == Pass::kForward ? "cross-attention kernel" : "cross-attention kernel (backward)";
    if (pass == Pass::kBackward) {
      tp_after(Pass::kBackward);
      gemm(m, d, attention_width(), "cross-attention output GEMM (backward)", passes);
    } else {
      tp_before(Pass::kForward);
      gemm(m, attention_width(), d, "cross-attention Q GEMM");
      gemm(b_ * text, 2.0 * attention_width(), d, "cross-attention KV GEMM");
    }
    compute_all(kernel, out_.tags.attention, what);
    for (std::uint32_t g = 0; g < cur_.size(); ++g) {
      out_.attention_flops[g] += flops;
    }
    if (pass == Pass::kForward) {
      gemm(m, d, attention_width(), "cross-attention output GEMM");
      tp_after(Pass::kForward);
    } else {
      gemm(m, attention_width(), d, "cross-attention Q GEMM (backward)", passes);
      gemm(b_ * text, 2.0 * attention_width(), d, "cross-attention KV GEMM (backward)", passes);
      tp_before(Pass::kBackward);
    }
  }

  void backward_layer() {
    if (work_.scope == Scope::kAttention) {
      for (std::size_t a = axes_.size(); a-- > 0;) {
        attention(Pass::kBackward, a);
      }
      return;
    }
    if (work_.recompute != Recompute::kFull) {
      gather_parameters();  // a full recompute's forward already gathered them
    }
    const double d = work_.model.hidden;
    const double bytes = work_.model.dtype_bytes;
    const double m = b_ * tokens_;
    // Each forward GEMM m x n x k: data gradient m x k x n and weight gradient n x k x m, the
    // same FLOPs each; priced as two GEMMs of the forward shape.
    tp_after(Pass::kBackward);
    gemm(m, d, static_cast<double>(work_.model.ffn_hidden) / t_, "MLP down GEMM (backward)", 2);
    memory_op(4.0 * m * work_.model.ffn_hidden / t_ * bytes, "MLP activation (backward)");
    gemm(m, ffn_up_width(), d, "MLP up GEMM (backward)", 2);
    tp_before(Pass::kBackward);
    memory_op(6.0 * b_ * norm_tokens() * d * bytes, "residual and layer norm (backward)");
    cross_attention(Pass::kBackward);
    for (std::size_t a = axes_.size(); a-- > 0;) {
      tp_after(Pass::kBackward);
      gemm(m, d, attention_width(), "output projection GEMM (backward)", 2);
      attention(Pass::kBackward, a);
      gemm(m, qkv_width(), d, "QKV projection GEMM (backward)", 2);
      tp_before(Pass::kBackward);
      memory_op(3.0 * b_ * norm_tokens() * d * bytes,
                a == 0 ? "layer norm (backward)" : "residual add (backward)");
    }
  }

  void output_head(Pass pass) {
    if (work_.model.vocab <= 0) {
      return;
    }
    const double m = b_ * tokens_;
    const double d = work_.model.hidden;
    const double v = static_cast<double>(work_.model.vocab) / t_;
    if (pass == Pass::kForward) {
      gemm(m, v, d, "output head GEMM");
      // Cross-entropy over fp32 logits: read, exponentiate, reduce (Megatron's vocab-parallel
      // cross entropy); one read and one write of the logits.
      memory_op(2.0 * m * v * 4.0, "softmax cross-entropy");
    } else {
      memory_op(2.0 * m * v * 4.0, "softmax cross-entropy (backward)");
      gemm(m, v, d, "output head GEMM (backward)", 2);
    }
  }

  void pipeline_send(bool forward) {
    if (deg_.pp < 2) {
      return;
    }
    const auto stage = static_cast<std::uint32_t>(cur_.size());
    const double bytes = hidden_bytes() / (options_.sequence_parallel ? t_ : 1.0);
    for (std::uint32_t g = 0; g < stage; ++g) {
      const std::vector<sim::OpId> deps = deps_of(g);
      const std::uint32_t src = forward ? g : g + stage;
      const std::uint32_t dst = forward ? g + stage : g;
      set(g, emit_send(tr_, layout_, src, dst, bytes, out_.tags.pp_comm, deps));
    }
  }

  /// Parameters of one layer held by one GPU.
  double layer_parameters() const { return layer_weights(work_, t_) + 2.0 * work_.model.hidden; }

  double stage_parameters() const {
    const double head =
        2.0 * static_cast<double>(work_.model.vocab) * work_.model.hidden / t_;  // embedding + head
    return layer_parameters() * out_.layers_per_stage + head;
  }

  double grad_group_size() const {
    return grad_groups_.empty() ? 1.0 : static_cast<double>(grad_groups_.front().size());
  }

  void reduce_gradients(double parameters) {
    const double bytes = parameters * work_.model.dtype_bytes;
    const Collective c =
        options_.zero_stage == 0 ? Collective::kAllReduce : Collective::kReduceScatter;
    for (std::size_t i = 0; i < grad_groups_.size(); ++i) {
      const Group& g = grad_groups_[i];
      if (g.size() < 2) {
        continue;
      }
      std::vector<sim::OpId> deps;
      for (std::uint32_t gpu : g) {
        const std::vector<sim::OpId> d = deps_of(gpu);
        deps.insert(deps.end(), d.begin(), d.end());
      }
      if (grad_have_[i]) {
        deps.push_back(grad_last_[i]);  // NCCL runs one communicator's collectives in order
      }
      grad_last_[i] = add_collective(layout_, tr_, c, g, bytes, out_.tags.dp_comm, out_.tags.marker,
                                     deps, out_.notes);
      grad_have_[i] = true;
    }
  }

  void optimizer() {
    // Wait for every gradient reduction of this GPU's group.
    for (std::size_t i = 0; i < grad_groups_.size(); ++i) {
      if (!grad_have_[i]) {
        continue;
      }
      for (std::uint32_t gpu : grad_groups_[i]) {
        std::vector<sim::OpId> deps = deps_of(gpu);
        deps.push_back(grad_last_[i]);
        set(gpu, tr_.delay(sim::Time{}, out_.tags.marker, deps));
      }
    }
    const double shard = options_.zero_stage == 0 ? 1.0 : grad_group_size();
    const double params = stage_parameters() / shard;
    memory_op(params * (24.0 + 2.0 * work_.model.dtype_bytes), "optimizer (Adam)");
    if (options_.zero_stage == 1 || options_.zero_stage == 2) {
      collective_each(grad_groups_, Collective::kAllGather,
                      stage_parameters() * work_.model.dtype_bytes, out_.tags.dp_comm);
    }
  }

  const Workload& work_;
  const Degrees& deg_;
  const Strategy& strategy_;
  const StepOptions& options_;
  const Layout& layout_;
  const CostModel& cost_;
  StepTrace& out_;
  sim::Trace& tr_;
  double b_ = 1;
  double tokens_ = 0;
  int t_ = 1;
  std::vector<sim::OpId> cur_;
  std::vector<bool> have_;
  std::vector<std::pair<int, Group>> cp_groups_;  // (tp rank, GPUs by cp rank)
  // Each self-attention of a layer: its axis and the workload that holds its attention.
  std::vector<std::pair<AttentionAxis, Workload>> axes_;
  std::vector<Group> tensor_groups_;
  std::vector<Group> grad_groups_;
  std::vector<sim::OpId> grad_last_;
  std::vector<bool> grad_have_;
  std::vector<sim::OpId> gather_last_;
  std::vector<bool> gather_have_;
  std::vector<sim::OpId> gather_entry_;  // cur_ when the last ZeRO-3 gather was issued
  std::vector<bool> gather_entry_have_;
};

double seconds(sim::Time t) {
  return t.seconds();
}

}  // namespace

StepTrace build_step(const Workload& work, const Degrees& degrees, const Strategy& strategy,
                     const StepOptions& options, const Layout& layout, const CostModel& cost) {
  StepTrace out;
  StepBuilder(work, degrees, strategy, options, layout, cost, out).build();
  return out;
}

StepTiming time_step(const StepTrace& step, const sim::ReplayResult& replay,
                     const sim::Network& network, const Workload& work, const Degrees& degrees,
                     const StepOptions& options) {
  StepTiming t;
  const auto end_of = [&](sim::OpId id) { return seconds(replay.ops[id].end); };
  const int k = step.layers_simulated;
  const double ls = step.layers_per_stage;
  const double f1 = end_of(step.forward_end.front());
  const double fk = end_of(step.forward_end.back());
  const double fp = k > 1 ? (fk - f1) / (k - 1) : f1;
  const double head = end_of(step.head_end) - fk;
  double mb = f1 + (ls - 1) * fp + head;
  double simulated_layers_end = end_of(step.head_end);
  if (!step.backward_end.empty()) {
    const double b1 = end_of(step.backward_end.front()) - end_of(step.head_end);
    const double bk = end_of(step.backward_end.back());
    const double bp = k > 1 ? (bk - end_of(step.backward_end.front())) / (k - 1) : b1;
    mb += b1 + (ls - 1) * bp;
    simulated_layers_end = bk;
  }
  const double makespan = seconds(replay.makespan);
  t.microbatch_s = mb;
  t.tail_s = std::max(0.0, makespan - simulated_layers_end);
  t.bubble_s = (degrees.pp - 1) * mb;
  const auto m = static_cast<double>(options.microbatches);
  t.step_s = m * mb + t.bubble_s + t.tail_s;

  // Critical-path breakdown: ops before the end of the simulated layers are scaled to the
  // whole micro-batch sequence (x m·T_mb / simulated window); the tail is taken as is.
  const double window = simulated_layers_end;
  const double scale = window > 0 ? m * mb / window : 0;
  const auto phase_of = [&](sim::TagId tag) -> std::string {
    if (tag == step.tags.attention_comm) {
      return "attention";
    }
    if (tag == step.tags.tp_comm) {
      return "tp";
    }
    if (tag == step.tags.dp_comm) {
      return "dp";
    }
    if (tag == step.tags.pp_comm) {
      return "pp";
    }
    return "";
  };
  for (sim::OpId id : replay.critical_path) {
    const sim::Trace::Op& op = step.trace.op(id);
    const double dur = seconds(replay.ops[id].end - replay.ops[id].start);
    if (dur <= 0) {
      continue;
    }
    const double f = end_of(id) <= window + 1e-15 ? scale : 1.0;
    if (op.kind == sim::OpKind::kCompute) {
      t.compute_s += dur * f;
      if (op.tag == step.tags.attention) {
        t.attention_s += dur * f;
      }
      continue;
    }
    const std::string phase = phase_of(op.tag);
    if (!phase.empty()) {
      t.exposed_comm_s += dur * f;
      t.exposed_by_phase_s[phase] += dur * f;
    }
  }

  // GPU 0's communication: union of the intervals of transfers it sends, and their bytes.
  std::vector<std::pair<double, double>> spans;
  double bytes_window = 0;
  double bytes_tail = 0;
  const auto add_span = [&](double s, double e, double bytes) {
    spans.emplace_back(s, e);
    (e <= window + 1e-15 ? bytes_window : bytes_tail) += bytes;
  };
  for (sim::OpId id = 0; id < step.trace.size(); ++id) {
    const sim::Trace::Op& op = step.trace.op(id);
    if (op.kind != sim::OpKind::kTransfer) {
      continue;
    }
    const double s = seconds(replay.ops[id].start);
    const double bytes = op.bytes * op.multiplicity;
    if (op.members_size == 0) {
      if (op.a == 0) {
        add_span(s, end_of(id), bytes);
      }
      continue;
    }
    const std::span<const sim::Member> members = step.trace.members(id);
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (members[i].src == 0) {  // a bundle member: until it arrived
        add_span(s, seconds(replay.member_ends[op.members_begin() + i]), bytes);
      }
    }
  }
  std::sort(spans.begin(), spans.end());
  double busy_window = 0;
  double busy_tail = 0;
  double open_s = -1;
  double open_e = -1;
  const auto close = [&] {
    if (open_e > open_s) {
      (open_e <= window + 1e-15 ? busy_window : busy_tail) += open_e - open_s;
    }
  };
  for (const auto& [s, e] : spans) {
    if (s > open_e) {
      close();
      open_s = s;
      open_e = e;
    } else {
      open_e = std::max(open_e, e);
    }
  }
  close();
  t.comm_s = busy_window * scale + busy_tail;
  t.comm_bytes_per_gpu = bytes_window * (window > 0 ? m * mb / window : 0) + bytes_tail;
  (void)work;

  // Bottleneck: the link whose capacity the step used most, bytes / (capacity x simulated
  // time). (Time with a flow on the link would rank a slow NIC and the faster PCIe path in
  // front of it alike, since the same flows cross both.)
  for (std::size_t l = 0; l < replay.links.size(); ++l) {
    const double capacity = network.link(static_cast<sim::LinkId>(l)).capacity.bytes_per_s();
    const double u =
        makespan > 0 && capacity > 0 ? replay.links[l].bytes / (capacity * makespan) : 0;
    // Ties go to the later link: a GPU's PCIe path to its NIC is modelled at the NIC's rate
    // and carries the same bytes, and the NIC (created after it) is the one to name.
    if (u > 0 && u >= t.bottleneck_utilization) {
      t.bottleneck_utilization = u;
      t.bottleneck_bytes = replay.links[l].bytes;
      t.bottleneck_class =
          network.class_names()[network.link(static_cast<sim::LinkId>(l)).link_class];
    }
  }
  return t;
}

double model_flops(const Workload& work) {
  const ModelShape& s = work.model;
  const double tokens = work.phase == Phase::kDecode
                            ? static_cast<double>(work.batch)
                            : static_cast<double>(work.sequence_length) *
                                  static_cast<double>(work.sequences_per_step);
  const double d = s.hidden;
  const double passes = work.has_backward() ? 3.0 : 1.0;
  const double sequences = static_cast<double>(work.sequences_per_step);
  // kSpatialTemporal's cross-attention projects K and V of the text tokens, not the video's.
  const double text = static_cast<double>(work.attention.cross_attention_tokens);
  const double text_kv = text > 0 ? 2.0 * d * s.heads * s.head_dim : 0.0;
  const double dense =
      (layer_weights(work, 1) - text_kv) * s.layers + static_cast<double>(s.vocab) * d;
  double flops = work.scope == Scope::kModel
                     ? 2.0 * passes * (dense * tokens + text_kv * s.layers * text * sequences)
                     : 0.0;
  if (work.attention.kind == AttentionKind::kLinear) {
    flops += (work.has_backward() ? 3.0 : 1.0) * 4.0 * tokens * s.heads * s.head_dim * s.head_dim *
             s.layers;
  } else if (work.phase == Phase::kDecode) {
    flops +=
        4.0 * tokens * static_cast<double>(work.context_length) * s.heads * s.head_dim * s.layers;
  } else {
    double pairs = pairs_per_head(work.attention, work.sequence_length, s.heads) * s.heads;
    if (work.scope == Scope::kModel) {
      pairs += static_cast<double>(work.sequence_length) * text * s.heads;  // cross-attention
    }
    flops += (work.has_backward() ? 3.5 : 1.0) * 4.0 * pairs * s.head_dim * s.layers * sequences;
  }
  return flops;
}

}  // namespace attnsim::models
