// SPDX-License-Identifier: Apache-2.0
#include "models/memory.h"

#include <algorithm>
#include <map>

#include "models/strategies/common.h"

namespace attnsim::models {

double nccl_buffer_bytes(const Layout& layout, int size, std::int64_t stride, bool collectives,
                         bool all_reduce, int peers) {
  if (size < 2) {
    return 0;
  }
  constexpr double kMiB = 1 << 20;
  constexpr double kNvlinkPair = 12 * kMiB;  // p2p.cc: receiver 10 MiB, sender 2 MiB
  constexpr double kNetPair = 20 * kMiB;     // net.cc: 10 MiB on each side
  // Ranks per node, and nodes spanned, of GPUs 0, stride, 2·stride, ...
  std::map<std::uint32_t, int> per_node;
  for (int i = 0; i < size; ++i) {
    ++per_node[layout.node_of(static_cast<std::uint32_t>(i * stride))];
  }
  const auto nodes = static_cast<double>(per_node.size());
  int ppn = 0;
  for (const auto& [node, count] : per_node) {
    ppn = std::max(ppn, count);
  }
  const bool one_node = per_node.size() == 1;
  const double channels =
      one_node ? nccl_connected_channels(layout.scale_up_GBps, layout.nccl.generation) : 16;
  // paths.cc: send/recv channels are the collective channels rounded up to a power of two;
  // a peer gets all of them through NVLink on one node, 2 through PCIe or across nodes.
  double p2p_channels = 1;
  while (p2p_channels < channels) {
    p2p_channels *= 2;
  }
  const double per_peer = one_node && layout.intra == HwClass::kNvlink ? p2p_channels : 2;
  double bytes = 6 * kMiB * std::max(channels, p2p_channels) + 6 * kMiB;
  if (collectives || all_reduce) {
    const double crossing = one_node ? 0.0 : nodes / size;
    const double ring = channels * ((1 - crossing) * kNvlinkPair + crossing * kNetPair);
    bytes += ring;
    if (all_reduce && !one_node) {
      bytes += ring;  // tree connections, estimated as a second ring
    }
    if (all_reduce && layout.nvls && layout.nvswitch && ppn > 4) {
      bytes += 34 * kMiB + ppn * 16.0 * 2 * 128 * 1024 * 8;
    }
  }
  if (peers > 0) {
    const int local = std::min(peers, ppn - 1);
    bytes += local * per_peer * kNvlinkPair;
    if (local < peers) {
      bytes += 2.0 * p2p_channels * 16 * 128 * 1024;  // net.cc's shared send/recv pool
    }
  }
  return bytes;
}

MemoryEstimate estimate_memory(const Workload& work, const Degrees& degrees,
                               const Strategy& strategy, const StepOptions& options,
                               const Layout& layout) {
  const ModelShape& s = work.model;
  const Sharding sh = strategy.sharding(work, degrees);
  const double t = sh.weight_split;
  const double d = s.hidden;
  const double bytes = s.dtype_bytes;
  const double layers = static_cast<double>(s.layers) / degrees.pp;
  const double layer_params = layer_weights(work, t) + 2.0 * d;
  const double params = layer_params * layers + 2.0 * static_cast<double>(s.vocab) * d / t;
  const double group =
      static_cast<double>(degrees.dp) * (sh.weights_replicated_over_cp ? degrees.cp : 1);
  const bool training = work.has_backward();
  const int zero = training ? options.zero_stage : 0;

  MemoryEstimate m;
  m.bytes["weights"] = params * bytes / (zero >= 3 ? group : 1.0);
  if (training) {
    m.bytes["gradients"] = params * bytes / (zero >= 2 ? group : 1.0);
    m.bytes["optimizer"] = 12.0 * params / (zero >= 1 ? group : 1.0);
  }
  const bool model = work.scope == Scope::kModel;  // the attention core alone reduces nothing
  if (training && model && group > 1 && zero >= 2) {
    // Sharded weights and gradients pass through full-size layer buffers: under ZeRO-3 (FSDP)
    // a layer's parameters are all-gathered before its forward and its backward, with at most
    // two layers' gathers alive (PyTorch FSDP's limit_all_gathers, the default since
    // pytorch/pytorch#104900); under ZeRO-2 and 3 a layer's gradients are whole until their
    // reduce-scatter (step.h reduces them layer by layer).
    const double layer = layer_params * bytes;
    m.bytes["zero_layer_buffers"] = (zero >= 3 ? 2.0 * layer : 0.0) + layer;
  }
  const double b = static_cast<double>(work.sequences_per_step) /
                   (static_cast<double>(degrees.dp) * static_cast<double>(options.microbatches));
  const double tokens = static_cast<double>(sh.tokens_per_gpu) * b;
  const double scale = bytes / 2.0;
  const bool sp = options.sequence_parallel && t > 1;
  // Korthikanti et al. (arXiv 2205.05198) per layer, flash attention (no score matrix):
  // 34·T·d·B/2 = attention block 11 (QKV input 2, Q and K 4, V 2, output projection input
  // 2, dropout mask 1) + MLP 19 + two norms 4; of it 10 (norms 4, dropout masks 2, QKV and
  // MLP inputs 4) is not split without sequence parallelism. kSpatialTemporal's second
  // self-attention adds an attention block and its residual input (13: 5 unsplit) and the
  // cross-attention its query input, Q and output projection input and dropout mask (7:
  // 3 unsplit; the text's K and V are negligible).
  const auto axes = static_cast<double>(attention_axes(work.attention).size());
  const double extra_self = axes - 1.0;
  const double cross = work.attention.cross_attention_tokens > 0 ? 1.0 : 0.0;
  const double whole = 34.0 + 13.0 * extra_self + 7.0 * cross;
  const double unsplit = 10.0 + 5.0 * extra_self + 3.0 * cross;
  const double full_layer = (sp ? whole / t : unsplit + (whole - unsplit) / t) * tokens * d * scale;
  const AttentionMemory am = strategy.memory(work, degrees);
  double activations = 0;
  if (work.scope == Scope::kAttention) {
    // Q, K, V, O and the fp32 softmax statistics of the attention core.
    const double h_r = static_cast<double>(s.heads) / t;
    activations =
        ((2.0 * h_r + 2.0 * kv_heads_per_rank(work, t)) * s.head_dim * bytes + 4.0 * h_r) * tokens *
        (training ? layers : 1.0) * axes;
  } else if (!training) {
    activations = full_layer;
  } else {
    const double in_flight =
        std::min(static_cast<double>(degrees.pp), static_cast<double>(options.microbatches));
    const double per_mb = work.recompute == Recompute::kFull
                              ? 2.0 * tokens * d * scale * layers + full_layer
                              : full_layer * layers;
    activations = per_mb * in_flight;
  }
  m.bytes["activations"] = activations + am.activations_per_layer * b * (training ? layers : 1.0);
  if (model && s.vocab > 0) {
    m.bytes["logits"] = 4.0 * tokens * static_cast<double>(s.vocab) / t;
  }
  m.bytes["attention_workspace"] = am.workspace * b;
  if (sp && model && work.phase != Phase::kDecode) {
    // Sequence parallelism keeps each layer input sharded and all-gathers it into one
    // full-sequence buffer before the column-parallel GEMMs, forward and backward
    // (attention.md 2.12 "N·d gathered"; Megatron-LM's global memory buffer).
    m.bytes["sequence_parallel_gather"] = tokens * d * bytes;
  }
  // NCCL's buffers, per communicator (header). cp ranks are tp GPUs apart.
  double nccl = 0;
  if (t > 1 && model) {
    nccl += nccl_buffer_bytes(layout, static_cast<int>(t), 1, true, !sp, 0);
  }
  for (const CommGroup& g : strategy.comm_groups(work, degrees)) {
    nccl += nccl_buffer_bytes(layout, g.size, std::int64_t{g.stride} * degrees.tp, g.collectives,
                              false, g.peers);
  }
  if (training && model && group > 1) {
    // dp x cp ranks, tp apart, when the weights are replicated over cp; else dp ranks.
    const std::int64_t stride =
        sh.weights_replicated_over_cp ? degrees.tp : std::int64_t{degrees.tp} * degrees.cp;
    nccl += nccl_buffer_bytes(layout, static_cast<int>(group), stride, true, zero == 0, 0);
  }
  if (degrees.pp > 1) {
    nccl +=
        nccl_buffer_bytes(layout, degrees.pp, std::int64_t{degrees.tp} * degrees.cp * degrees.dp,
                          false, false, degrees.pp == 2 ? 1 : 2);
  }
  if (nccl > 0) {
    m.bytes["nccl_buffers"] = nccl;
  }
  if (work.phase == Phase::kDecode) {
    // The KV cache: context x 2·h_kv·d_h·B per sequence and layer, split over cp by sequence
    // (or by heads for head parallelism, where t already counts cp).
    const double by_sequence = sh.weights_replicated_over_cp ? degrees.cp : 1.0;
    m.bytes["attention_workspace"] = 0;
    m.bytes["activations"] = 0;
    m.bytes["kv_cache"] = layers * static_cast<double>(work.batch) / degrees.dp *
                          static_cast<double>(work.context_length) / by_sequence * 2.0 *
                          kv_heads_per_rank(work, t) * s.head_dim * bytes;
  }
  for (const auto& [name, value] : m.bytes) {
    m.total += value;
  }
  return m;
}

}  // namespace attnsim::models
