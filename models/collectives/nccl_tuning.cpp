// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/nccl_tuning.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnsim::models {

namespace {

constexpr double kNa = -1;  // no entry in NCCL's table: the combination is not available

int index(Algo a) {
  switch (a) {
    case Algo::kRing:
      return 0;
    case Algo::kTree:
      return 1;
    case Algo::kNvls:
      return 2;
    case Algo::kNvlsTree:
      return 3;
    case Algo::kPairwise:
      break;
  }
  return 0;
}

int index(Proto p) {
  return static_cast<int>(p);
}

int index(HwClass h) {
  return static_cast<int>(h);
}

// N = 1, 2, >= 4 (3 nodes use the N >= 4 column, as NCCL's index min(nNodes-1, 2) does).
int node_column(int nodes) {
  return std::min(nodes - 1, 2);
}

int log2_floor(int n) {
  int l = 0;
  while ((1 << (l + 1)) <= n) {
    ++l;
  }
  return l;
}

int ring_steps(Collective c, int n) {
  return c == Collective::kAllReduce ? 2 * (n - 1) : n - 1;
}

int ring_inter_steps(Collective c, int nodes) {
  return c == Collective::kAllReduce ? 2 * (nodes - 1) : nodes - 1;
}

double ll_max_bw(const NcclConstants& k, int nodes) {
  if (nodes == 1) {
    return k.ll_max_bw_one_node;
  }
  return nodes == 2 ? k.ll_max_bw_two_nodes : k.ll_max_bw_many_nodes;
}

}  // namespace

std::string_view algo_name(Algo a) {
  switch (a) {
    case Algo::kRing:
      return "ring";
    case Algo::kTree:
      return "tree";
    case Algo::kNvls:
      return "nvls";
    case Algo::kNvlsTree:
      return "nvlstree";
    case Algo::kPairwise:
      return "pairwise";
  }
  return "?";
}

std::string_view proto_name(Proto p) {
  switch (p) {
    case Proto::kLL:
      return "ll";
    case Proto::kLL128:
      return "ll128";
    case Proto::kSimple:
      return "simple";
  }
  return "?";
}

NcclConstants nccl_constants(int compute_capability) {
  // All figures: NVIDIA/nccl:src/graph/tuning.cc at 2.29/2.30, as transcribed in
  // hardware.md section 3.2 (bandwidth caps) and 3.3 (latencies).
  NcclConstants k;
  k.generation = compute_capability >= 100  ? 3
                 : compute_capability >= 90 ? 2
                 : compute_capability >= 80 ? 1
                                            : 0;
  using Row = std::array<double, 3>;  // LL, LL128, Simple
  k.base_us = {Row{6.6, 14.0, 8.4},   // ring
               Row{6.8, 14.0, 8.4},   // tree
               Row{0, 0, 0},          // NVLS
               Row{0, 0, 0}};         // NVLSTree
  k.hw_us[0] = {Row{0.6, 1.9, 3.4},   // NVLink: ring
                Row{0.6, 1.25, 4.0},  //         tree
                Row{kNa, kNa, 25},    //         NVLS
                Row{kNa, kNa, 25}};   //         NVLSTree
  k.hw_us[1] = {Row{1.0, 2.5, 5.7},   // PCI:    ring
                Row{1.0, 1.9, 4.0},   //         tree
                Row{kNa, kNa, kNa}, Row{kNa, kNa, kNa}};
  k.hw_us[2] = {Row{2.7, 4.0, 14.0},   // NET:    ring
                Row{5.0, 8.5, 14.0},   //         tree
                Row{kNa, kNa, 18},     //         NVLS
                Row{kNa, kNa, 20.9}};  //         NVLSTree
  constexpr std::array<double, 4> kLlOneNode{39.0, 87.7, 141.0, 282.0};
  constexpr std::array<double, 4> kRingLl128{20, 20, 36.7, 40};
  constexpr std::array<std::array<double, 3>, 4> kTree{
      {{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}}};
  constexpr std::array<std::array<double, 3>, 4> kTreeLl128{
      {{20, 20, 20}, {20, 20, 20}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}}};
  constexpr std::array<std::array<double, 3>, 4> kNvlsTree{
      {{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {0, 57.7, 45.5}, {0, 96.0, 80.0}}};
  const auto g = static_cast<std::size_t>(k.generation);
  k.ll_max_bw_one_node = kLlOneNode[g];
  k.ll_max_bw_two_nodes = 39.0;   // Intel host, 2 nodes
  k.ll_max_bw_many_nodes = 20.4;  // Intel host, >= 4 nodes
  k.per_ch_ring_ll128 = kRingLl128[g];
  k.per_ch_tree = kTree[g];
  k.per_ch_tree_ll128 = kTreeLl128[g];
  k.per_ch_nvlstree = kNvlsTree[g];
  k.nvls_efficiency = k.generation == 3 ? 0.74 : k.generation == 2 ? 0.85 : 0;
  k.net_overhead_us = 1.0;
  return k;
}

Prediction predict(const NcclConstants& k, const CommShape& shape, Collective c, Algo a, Proto p,
                   double bytes) {
  Prediction out;
  out.algo = a;
  out.proto = p;
  const int n = shape.ranks;
  const int nodes = shape.nodes;
  const int ppn = n / nodes;
  if (n < 2) {
    return out;
  }
  const bool ring_like = c == Collective::kAllReduce || c == Collective::kAllGather ||
                         c == Collective::kReduceScatter || c == Collective::kBroadcast ||
                         c == Collective::kReduce;
  // Availability (hardware.md 3.4): tree, NVLS and NVLSTree only for all_reduce here; tree and
  // NVLSTree need several nodes, NVLS one; NVLS needs an NVSwitch with in-switch reduction and more
  // than 4 GPUs per node (NCCL picks Ring at 4 or fewer: hardware.md T3, NVIDIA/nccl#1455); LL128
  // only over NVLink.
  if (!ring_like || (a != Algo::kRing && c != Collective::kAllReduce)) {
    return out;
  }
  if ((a == Algo::kTree || a == Algo::kNvlsTree) && nodes < 2) {
    return out;
  }
  if ((a == Algo::kNvls || a == Algo::kNvlsTree) && (!shape.nvls || ppn <= 4)) {
    return out;
  }
  // NVLS alone spans one NVLink domain; across nodes it needs CollNet (IB SHARP), which
  // attnsim does not model: NVLSTree is the multi-node form (hardware.md 1.2).
  if (a == Algo::kNvls && nodes > 1) {
    return out;
  }
  if (p == Proto::kLL128 && shape.intra != HwClass::kNvlink) {
    return out;
  }
  const double intra_lat =
      k.hw_us[static_cast<std::size_t>(index(shape.intra))][static_cast<std::size_t>(index(a))]
             [static_cast<std::size_t>(index(p))];
  const double inter_lat =
      k.hw_us[static_cast<std::size_t>(index(HwClass::kNet))][static_cast<std::size_t>(index(a))]
             [static_cast<std::size_t>(index(p))];
  if (intra_lat < 0 || (nodes > 1 && inter_lat < 0)) {
    return out;
  }
  const double base =
      k.base_us[static_cast<std::size_t>(index(a))][static_cast<std::size_t>(index(p))];
  const double net_overhead = k.net_overhead_us * (p == Proto::kSimple ? 3.0 : 1.0);
  const int col = node_column(nodes);
  const double nch = shape.channels;
  const double b =
      nodes == 1 ? shape.bw_intra_GBps : std::min(shape.bw_intra_GBps, shape.bw_inter_GBps);
  double lat = 0;
  double bus = 0;
  switch (a) {
    case Algo::kRing: {
      const int steps = ring_steps(c, n);
      if (nodes == 1) {
        lat = base + steps * intra_lat;
      } else {
        const int inter_steps = ring_inter_steps(c, nodes);
        lat = base + (steps - inter_steps) * std::max(intra_lat, net_overhead) +
              inter_steps * inter_lat;
        if (p == Proto::kSimple && c == Collective::kAllReduce && k.generation >= 1 &&
            bytes / (nch * n) >= 64) {
          lat *= 1.4;  // tuning.cc "plateau effect"
        }
      }
      bus = p == Proto::kLL      ? std::min(ll_max_bw(k, nodes), 0.5 * b)
            : p == Proto::kLL128 ? std::min(0.92 * b, nch * k.per_ch_ring_ll128)
                                 : b;
      out.alg_bw_GBps = bus * n / (c == Collective::kAllReduce ? 2.0 * (n - 1) : n - 1.0);
      if (c == Collective::kBroadcast || c == Collective::kReduce) {
        out.alg_bw_GBps = bus;
      }
      break;
    }
    case Algo::kTree: {
      lat = base + 2 * ((ppn - 1) * intra_lat + log2_floor(nodes) * inter_lat);
      if (p == Proto::kSimple) {
        bus = std::min(0.92 * b, nch * k.per_ch_tree[static_cast<std::size_t>(col)]);
      } else if (p == Proto::kLL) {
        bus = std::min(b / 3.8, ll_max_bw(k, nodes));
      } else {
        bus = std::min(b * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0),
                       nch * k.per_ch_tree_ll128[static_cast<std::size_t>(col)]);
      }
      if (nodes > 2) {
        bus *= 0.85;  // a real tree, not a chain
      }
      out.alg_bw_GBps = bus * 0.5;
      break;
    }
    case Algo::kNvls:
    case Algo::kNvlsTree: {
      if (p != Proto::kSimple || nch < 2) {
        return out;
      }
      const double intra_bw = shape.bw_intra_GBps * k.nvls_efficiency * (nch - 1) / nch * 2;
      bus = intra_bw;
      if (nodes > 1) {
        const double inter = shape.bw_inter_GBps * (a == Algo::kNvlsTree && nodes <= 2 ? 2 : 1);
        bus = std::min(bus, inter);
      }
      if (a == Algo::kNvlsTree) {
        bus = std::min(bus, nch * k.per_ch_nvlstree[static_cast<std::size_t>(col)]);
        lat = base + intra_lat + 2 * log2_floor(nodes) * inter_lat;
      } else {
        lat = intra_lat + (nodes > 1 ? inter_lat : 0);
      }
      out.alg_bw_GBps = bus * n / (2.0 * (n - 1));
      break;
    }
    case Algo::kPairwise:
      return out;
  }
  if (bus <= 0) {
    return out;
  }
  out.available = true;
  out.latency_us = lat;
  out.bus_bw_GBps = bus;
  out.time_us = lat + bytes / (1e3 * out.alg_bw_GBps);
  return out;
}

std::optional<Algo> algo_from_name(std::string_view name) {
  for (Algo a : kAlgos) {
    if (algo_name(a) == name) {
      return a;
    }
  }
  return std::nullopt;
}

std::optional<Proto> proto_from_name(std::string_view name) {
  for (Proto p : kProtos) {
    if (proto_name(p) == name) {
      return p;
    }
  }
  return std::nullopt;
}

Prediction choose(const NcclConstants& k, const CommShape& shape, Collective c, double bytes,
                  std::optional<Algo> only_algo, std::optional<Proto> only_proto) {
  const auto allowed = [&](Algo a, Proto p) {
    return (!only_algo || *only_algo == a) && (!only_proto || *only_proto == p);
  };
  if (c == Collective::kAllToAll || c == Collective::kSendRecv) {
    // Point-to-point: Simple protocol, one ring step of latency (intra or inter node).
    Prediction out;
    out.algo = Algo::kPairwise;
    out.proto = Proto::kSimple;
    out.available = shape.ranks >= 2 && allowed(out.algo, out.proto);
    const HwClass hw = shape.nodes > 1 ? HwClass::kNet : shape.intra;
    out.latency_us = k.base_us[0][2] + k.hw_us[static_cast<std::size_t>(index(hw))][0][2];
    const double b =
        shape.nodes == 1 ? shape.bw_intra_GBps : std::min(shape.bw_intra_GBps, shape.bw_inter_GBps);
    out.bus_bw_GBps = b;
    out.alg_bw_GBps = c == Collective::kAllToAll ? b * shape.ranks / (shape.ranks - 1.0) : b;
    out.time_us = out.latency_us + bytes / (1e3 * out.alg_bw_GBps);
    return out;
  }
  Prediction best;
  for (Algo a : {Algo::kRing, Algo::kTree, Algo::kNvls, Algo::kNvlsTree}) {
    for (Proto p : kProtos) {
      if (!allowed(a, p)) {
        continue;
      }
      const Prediction candidate = predict(k, shape, c, a, p, bytes);
      if (candidate.available && (!best.available || candidate.time_us < best.time_us)) {
        best = candidate;
      }
    }
  }
  return best;
}

}  // namespace attnsim::models
