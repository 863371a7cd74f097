// SPDX-License-Identifier: Apache-2.0
// The hardware profile (SPEC section 5): what one kind of machine can do, either measured by
// `attnsim calibrate` or transcribed from public figures (the built-in profiles), plus the strict
// reader and the writer of its JSON form.
//
// JSON shape (hardware.md section 7 item 2; units in the key names, GB = 10^9 bytes):
//
//   {"schema": "attnsim-hardware-profile", "schema_version": 1, "name": "h100-sxm",
//    "provenance": {"source": "published", "citations": [...], "device": ..., ...},
//    "peaks": {"flops_per_s": {"bf16": 9.89e14, ...}, "hbm_bytes": 8e10,
//              "hbm_bandwidth_GBps": 3350, "sm_count": 132, "compute_capability": 90,
//              "source": ...},
//    "compute": {"gemm": [...], "attention": [...], "memory": [...], "launch_overhead_us": 0},
//    "comm": {"measurements": [...],
//             "links": {"scale_up": {...}, "nic": {...}, "pcie": {...},
//                       "nvls_efficiency": 0.61, "nvls_source": ...}}}
//
// Inheritance: a file may say "inherits": "<built-in name>". It then starts from that built-in
// and replaces what it gives: "provenance" and "peaks" whole; inside "compute" each of gemm,
// attention, memory and launch_overhead_us; inside "comm" each of measurements and links
// (links whole). Lists are replaced, never merged. Typical use: a single-GPU measured compute
// profile that keeps the published multi-node fabric. The parsed profile records the base in
// `inherited_from`; to_json() writes the flattened result, which re-reads to the same profile.
//
// "compute_capability" is optional: GPU profiles give it; a CPU profile (`attnsim calibrate
// --backend cpu`) has none, which reads as 0 (NCCL's oldest-generation constants).
//
// Validation (everything before anything is built, STYLE C7): unknown keys, sizes and rates
// > 0, efficiencies in (0, 1], dtype / collective / algorithm / protocol names from fixed
// lists (with "did you mean"), no duplicate GEMM shapes or attention settings, message sizes
// increasing within one series of measurements, and every measurement's busbw consistent
// with its size and time by nccl-tests' factor (below) within 2 % (or 0.005 GB/s, half the
// last digit nccl-tests prints). In a profile whose provenance is "published", every figure
// must carry a "source".
//
// nccl-tests conventions (NVIDIA/nccl-tests doc/PERFORMANCE.md; hardware.md section 4):
//   algbw = size_bytes / time            (size = the whole buffer for all_gather,
//                                          reduce_scatter and all_to_all)
//   busbw = algbw x f(n):  all_reduce 2(n-1)/n; all_gather, reduce_scatter, all_to_all
//                          (n-1)/n; broadcast, reduce, send_recv 1.
// Example: T1's 8 GiB all_reduce on 8 H100s, 8589934592 B in 31307 us: algbw 274.38 GB/s,
// busbw 274.38 x 14/8 = 480.16 GB/s. Rows marked "busbw_only" (sources that print busbw but
// no time) omit time_us; the reader derives it as size x f(n) / busbw.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/node.h"

namespace attnsim::calibrate {

/// Where the figures came from: a calibration run or published sources.
struct Provenance {
  std::string tool, date, source /* "measured" | "published" */, device, driver, cuda, nccl;
  std::string cublas, cudnn;  // library versions of a measured profile; "" = not used or not stated
  int gpus = 0, nodes = 0;    // 0 = not stated
  std::vector<std::string> citations;
  std::string notes;
};

/// Datasheet peaks of one GPU (dense, no sparsity).
struct Peaks {
  std::map<std::string, double> flops_per_s; /* keys: fp32 tf32 bf16 fp16 fp8 */
  double hbm_bytes = 0;
  double hbm_bandwidth_GBps = 0;
  int sm_count = 0;           // 0 = not published
  int compute_capability = 0; /* 61, 80, 90, 100; 0 = not a GPU (absent in the JSON) */
  std::string source;
};

/// Achieved throughput of one (batched) GEMM, C[b] = A[b] (m x k) B[b] (k x n).
struct GemmPoint {
  std::int64_t b = 1, m = 0, n = 0, k = 0;
  std::string dtype;
  double tflops = 0;
  std::string source;
  bool extrapolated = false;  // derived by the formula in `source`, not published as such
};

/// Achieved throughput of one attention kernel call. FLOPs follow the FlashAttention papers:
/// forward 4 x kept pairs x head_dim x batch_heads, backward 2.5 x forward, fwd_bwd 3.5 x
/// forward. `kind` names the mask:
///   ""              dense, or causal when `causal` (the rows models/cost.h's tables are made
///                   of); pairs seq_q·seq_k, halved when causal (the papers' convention)
///   sliding_window  self-attention (seq_q = seq_k = s) where query i keeps keys
///                   i - window < j <= i (`causal` is true); pairs w·s - w(w-1)/2, w =
///                   min(window, s), exactly
///   dilated         self-attention through one LongNet branch run by every head: segments of
///                   `segment_length` tokens (dividing s), every `dilation_rate`-th token of
///                   each (dividing the segment length), offset 0; pairs s·w/r², halved when
///                   `causal`
/// Rows of the last two kinds are a calibration's measurements of those masks; models/cost.h
/// uses them to correct its tile-based price of calls of that kind.
struct AttentionPoint {
  std::string impl /* fa2 fa3 cudnn triton ours cpu */, pass /* fwd bwd fwd_bwd */, dtype;
  bool causal = false;
  int head_dim = 0;
  std::int64_t seq_q = 0, seq_k = 0, batch_heads = 0;
  double tflops = 0;
  std::string source;
  bool extrapolated = false;
  std::string kind;                 // "", "sliding_window", "dilated"
  std::int64_t window = 0;          // sliding_window
  std::int64_t segment_length = 0;  // dilated
  std::int64_t dilation_rate = 0;   // dilated
};

/// Kept (query, key) pairs per batch-head of `row`'s call by the convention above.
inline double kept_pairs(const AttentionPoint& row) {
  const auto s = static_cast<double>(row.seq_q);
  if (row.kind == "sliding_window") {
    const auto w = static_cast<double>(std::min(row.window, row.seq_q));
    return w * s - w * (w - 1) / 2;
  }
  if (row.kind == "dilated") {
    const auto w = static_cast<double>(row.segment_length);
    const auto r = static_cast<double>(row.dilation_rate);
    return s * w / (r * r) * (row.causal ? 0.5 : 1.0);
  }
  return s * static_cast<double>(row.seq_k) * (row.causal ? 0.5 : 1.0);
}

/// Forward FLOPs of `row`'s call: 4·kept_pairs·head_dim·batch_heads (its pass multiplies it by
/// 1, 2.5 or 3.5).
inline double forward_flops(const AttentionPoint& row) {
  return 4.0 * kept_pairs(row) * row.head_dim * static_cast<double>(row.batch_heads);
}

/// Achieved bandwidth of one memory-bound operation.
struct MemoryPoint {
  std::string op;
  double bytes = 0;
  double bandwidth_GBps = 0;
  std::string source;
  bool extrapolated = false;
};

/// Compute cost tables of one GPU.
struct Compute {
  std::vector<GemmPoint> gemm;
  std::vector<AttentionPoint> attention;
  std::vector<MemoryPoint> memory;
  double launch_overhead_us = 0;  // 0 = not measured
};

/// One nccl-tests-style measurement (out-of-place column).
struct CommMeasurement {
  std::string collective;
  int ranks = 0, nodes = 0;
  std::string algo /* default ring tree nvls nvlstree pat */, proto /* default ll ll128 simple */;
  double size_bytes = 0, time_us = 0, busbw_GBps = 0;
  std::string table /* e.g. "T1" */, source;
  bool busbw_only = false;  // the source gives busbw only; time_us was derived from it
  bool extrapolated = false;
};

/// Parameters of one link class as the flow model uses them. An empty `kind` means the
/// machine has no such link (e.g. no NIC on a desktop GPU).
struct LinkParams {
  std::string kind;
  double bandwidth_GBps = 0; /* raw per direction per GPU (scale_up) or per NIC */
  double efficiency = 1;     /* fraction NCCL's collectives reach for large messages */
  /// Scale-up only: the fraction NCCL's point-to-point path (ncclSend/ncclRecv: send_recv,
  /// all_to_all, ring attention's exchanges) reaches per GPU for large messages, which runs
  /// below the collectives' on NVLink (hardware.md T4: 195 against 235 GB/s on 8 A100).
  /// 0 = not given: the same as `efficiency`. JSON "p2p_efficiency", optional.
  double p2p_efficiency = 0;
  double latency_us = 0;
  std::string source;
  bool extrapolated = false;
};

/// Fitted or published link parameters.
struct CommLinks {
  LinkParams scale_up;
  LinkParams nic;
  LinkParams pcie;
  double nvls_efficiency = 0; /* NVLS all_reduce algbw / scale_up bandwidth; 0 = no NVLS */
  std::string nvls_source;
  bool nvls_extrapolated = false;
};

/// Communication tables and link parameters.
struct Comm {
  std::vector<CommMeasurement> measurements;
  CommLinks links;
};

/// One hardware profile.
struct Profile {
  std::string name;
  std::string inherited_from;  // the built-in this profile was merged onto, if any
  Provenance provenance;
  Peaks peaks;
  Compute compute;
  Comm comm;
};

/// Reads and validates a profile document. Errors throw config::InputError located at the
/// offending value (STYLE C7). A document with "inherits" is merged onto that built-in first.
Profile parse_profile(const config::Node& root);

/// The JSON form of `profile`; parse_profile() of it gives back the same profile.
nlohmann::json to_json(const Profile& profile);

/// Names of the profiles compiled into the binary, sorted.
std::vector<std::string> builtin_profile_names();

/// A built-in profile. An unknown name throws InputError listing the names, with a
/// "did you mean" suggestion when one is close.
Profile builtin_profile(const std::string& name);

/// A built-in profile by name, or else a profile JSON file; a relative path is taken relative
/// to `relative_to_dir` when that is not empty (a scenario's folder).
Profile load_profile(const std::string& name_or_path, const std::string& relative_to_dir = "");

/// As load_profile(), reading the name or path from a string value such as a scenario's
/// /hardware, so that an unknown name is reported at that value's file and JSON pointer.
Profile load_profile(const config::Node& value, const std::string& relative_to_dir);

/// The collective names a profile may use, sorted.
std::span<const std::string> collective_names();

/// nccl-tests' busbw / algbw factor for `collective` on `ranks` ranks (see above).
/// Precondition: `collective` is one of collective_names() and ranks >= 1.
double busbw_factor(std::string_view collective, int ranks);

/// A measured row of one node's `collective` on `ranks` ranks under NCCL's default algorithm
/// and protocol: `bytes` in `seconds`, busbw by busbw_factor(). What calibration backends
/// record per size. Precondition: as busbw_factor(), and seconds > 0.
CommMeasurement measured_comm(const std::string& collective, int ranks, double bytes,
                              double seconds, const std::string& source);

}  // namespace attnsim::calibrate
