// SPDX-License-Identifier: Apache-2.0
// NCCL's own performance model, used the way NCCL uses it: to choose an algorithm and a
// protocol for each call (NVIDIA/nccl:src/graph/tuning.cc, NCCL 2.29/2.30; transcribed in
// hardware.md section 3). attnsim then times the chosen plan with its own network model;
// NCCL's predicted time is kept for reports and comparison.
//
// Model: T = lat + S / algBw  (us, with S in bytes and bandwidths in GB/s = 10^3 bytes/us)
//
//   latency (hardware.md 3.3), intraLat = hw[intra class][algo][proto],
//   interLat = hw[NET][algo][proto]:
//     ring, one node:     base + nsteps x intraLat
//     ring, N nodes:      base + (nsteps - nInterSteps) x max(intraLat, netOverhead)
//                              + nInterSteps x interLat      (x 1.4 for multi-node Simple
//                                                              all_reduce, Ampere and later)
//       nsteps: all_reduce 2(n-1), all_gather / reduce_scatter n-1, broadcast / reduce n-1;
//       nInterSteps: all_reduce 2(N-1), others N-1
//     tree all_reduce:    base + 2 x ((ppn-1) x intraLat + floor(log2 N) x interLat)
//     NVLS:               intraLat (+ interLat when N > 1)
//     NVLSTree:           base + intraLat + 2 x floor(log2 N) x interLat
//
//   bandwidth (hardware.md 3.2), busBw from the communicator's usable bandwidth B
//   (intra-node on one node, else the smaller of intra and inter):
//     ring   LL: min(llMaxBw, B/2)   LL128: min(0.92 B, nCh x perChMaxRingLL128Bw)   Simple: B
//     tree   Simple: min(0.92 B, nCh x perChMaxTreeBw)  LL: min(B/3.8, llMaxBw)
//            LL128: min(B x (7/9 one node, 120/128 more), nCh x perChMaxTreeLL128Bw);
//            x 0.85 for a real (non-chain) tree
//     NVLS   Simple only: B_intra x nvlsEff x (nCh-1)/nCh x 2 (all_reduce),
//            capped by B_inter across nodes
//   algBw = busBw x n / nsteps for ring and NVLS, busBw / 2 for tree all_reduce.
//
// Worked check (8x H100, one node, 8 B all_reduce, ring LL): 6.6 + 14 x 0.6 = 15.0 us;
// nccl-tests measures 13-17 us (hardware.md T1).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "models/collectives/collective.h"

namespace attnsim::models {

enum class Algo { kRing, kTree, kNvls, kNvlsTree, kPairwise };
enum class Proto { kLL, kLL128, kSimple };
enum class HwClass { kNvlink, kPci, kNet };

/// Every algorithm and protocol, in the order NCCL's tables list them.
inline constexpr std::array<Algo, 5> kAlgos{Algo::kRing, Algo::kTree, Algo::kNvls, Algo::kNvlsTree,
                                            Algo::kPairwise};
inline constexpr std::array<Proto, 3> kProtos{Proto::kLL, Proto::kLL128, Proto::kSimple};

std::string_view algo_name(Algo a);
std::string_view proto_name(Proto p);
/// The algorithm or protocol called `name` (algo_name / proto_name), if any.
std::optional<Algo> algo_from_name(std::string_view name);
std::optional<Proto> proto_from_name(std::string_view name);

/// NCCL's tuning constants for one GPU generation (tuning.cc, ncclTunerConstantsDefaults).
struct NcclConstants {
  int generation = 0;  // 0 Volta and older, 1 Ampere, 2 Hopper, 3 Blackwell
  // [algo ring, tree, nvls, nvlstree][proto LL, LL128, Simple], microseconds.
  std::array<std::array<double, 3>, 4> base_us{};
  // [hw class][algo][proto], microseconds; < 0 where NCCL has no entry (not available).
  std::array<std::array<std::array<double, 3>, 4>, 3> hw_us{};
  double ll_max_bw_one_node = 0;              // GB/s, total
  double ll_max_bw_two_nodes = 0;             // GB/s (Intel host)
  double ll_max_bw_many_nodes = 0;            // GB/s, 4 or more nodes (Intel host)
  double per_ch_ring_ll128 = 0;               // GB/s per channel
  std::array<double, 3> per_ch_tree{};        // [N=1, N=2, N>=4]
  std::array<double, 3> per_ch_tree_ll128{};  // [N=1, N=2, N>=4]
  std::array<double, 3> per_ch_nvlstree{};    // [N=1, N=2, N>=4]
  double nvls_efficiency = 0;                 // nvlsEff
  double net_overhead_us = 1.0;               // Intel x86 host; x 3 for Simple
};

/// NCCL's constants for a GPU of the given compute capability (61, 70, 80, 90, 100, ...).
/// Pre-Volta GPUs take the Volta row, as NCCL does.
NcclConstants nccl_constants(int compute_capability);

/// What NCCL's model knows about a communicator.
struct CommShape {
  int ranks = 0;
  int nodes = 1;
  HwClass intra = HwClass::kNvlink;
  bool nvls = false;         // NVSwitch with in-switch reduction, and NCCL would enable it
  double bw_intra_GBps = 0;  // usable per-GPU bandwidth inside a node
  double bw_inter_GBps = 0;  // usable per-GPU share of the node's NIC bandwidth
  int channels = 0;
};

struct Prediction {
  Algo algo = Algo::kRing;
  Proto proto = Proto::kSimple;
  bool available = false;
  double latency_us = 0;
  double bus_bw_GBps = 0;
  double alg_bw_GBps = 0;
  double time_us = 0;
};

/// NCCL's predicted time of one (algorithm, protocol) for `bytes` (nccl-tests size).
Prediction predict(const NcclConstants& k, const CommShape& shape, Collective c, Algo a, Proto p,
                   double bytes);

/// The (algorithm, protocol) NCCL would choose: the smallest predicted time among those
/// available. all_to_all and send_recv are point-to-point in NCCL (no tuning model): they get
/// the pairwise algorithm with Simple, and a latency of one ring step.
/// `only_algo` and `only_proto` restrict the choice, like NCCL_ALGO and NCCL_PROTO; when
/// they leave nothing, the result is not `available`.
Prediction choose(const NcclConstants& k, const CommShape& shape, Collective c, double bytes,
                  std::optional<Algo> only_algo = std::nullopt,
                  std::optional<Proto> only_proto = std::nullopt);

}  // namespace attnsim::models
