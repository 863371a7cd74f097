// SPDX-License-Identifier: Apache-2.0
// Turning the CUDA backend's measurements into a profile, as plain C++ (no CUDA type, built and
// tested in every build): provenance, peaks, the compute and communication tables and the
// fitted scale-up link.
//
// Datasheet peaks cannot be measured. When the device name matches a built-in profile
// (builtin_for_device), or MeasureOptions::builtin names one (`--inherit`, which wins: a
// device the names do not match, such as a PCIe or NVL variant or a new part, or a match the
// user knows better), its peaks FLOP/s and HBM bandwidth are taken from it, and the peaks'
// source says so; HBM bytes, SM count and compute capability are always the device's own. With
// no match, each measured dtype's peak is the best GEMM rate measured (as the CPU backend does)
// and the HBM bandwidth the best copy rate, and the source says that instead.
//
// Communication with two or more GPUs: the measured NCCL rows, and t = alpha + S/beta fitted to
// the send_recv rows (calibrate/fit.h). The flow model prices a link as the topology's raw rate
// x the profile's efficiency (models/machine.h), so with a matching built-in the scale-up link
// is the built-in's (kind, raw bandwidth, collective efficiency, per-hop latency; the measured
// collective tables correct the collectives) with p2p_efficiency = beta / raw: a scenario on
// the usual topology preset then sends point to point at exactly the measured rate. The NIC,
// PCIe and NVLS figures come from the built-in too (nothing is measured across nodes). Without
// a match the link is bandwidth beta, efficiency 1, latency alpha (a scenario's topology must
// give beta as its raw rate), kind "nvswitch" when every pair of GPUs has peer access and
// "pcie" otherwise, and no NIC is given.
// With one GPU nothing can be measured: measurements and links are the matching built-in's
// whole (as "inherits" would merge them; inherited_from names it), and the notes and citations
// say so. With one GPU and no match the profile has no communication tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calibrate/backend.h"
#include "calibrate/profile.h"

namespace attnsim::calibrate::cuda {

/// What the CUDA side reports about the machine (cuda_backend.cpp fills it).
struct DeviceInfo {
  std::string name;  // cudaDeviceProp::name of device 0
  int gpus = 0;      // cudaGetDeviceCount
  int sm_count = 0;
  int compute_capability = 0;  // 10 x major + minor
  double hbm_bytes = 0;        // cudaDeviceProp::totalGlobalMem
  int driver_version = 0;      // cudaDriverGetVersion: 1000 x major + 10 x minor
  std::string driver_release;  // "550.54.15" (nvidia_driver_release); "" = unknown
  int runtime_version = 0;     // cudaRuntimeGetVersion, same encoding
  std::string cublas_version;  // "13.0.2"
  int nccl_version = 0;        // ncclGetVersion: 10000 x major + 100 x minor + patch
  int cudnn_version = 0;  // cudnnGetVersion: 10000 x major + 100 x minor + patch; 0 = not built in
  bool all_peer_access = false;
};

/// Everything one run measured.
struct Measurements {
  DeviceInfo device;
  std::vector<GemmPoint> gemm;
  std::vector<AttentionPoint> attention;
  std::vector<MemoryPoint> memory;
  double launch_us = 0;       // empty kernel, back to back (launch_overhead_us)
  double launch_sync_us = 0;  // empty kernel + cudaStreamSynchronize, host clock
  std::vector<CommMeasurement> comm;
  std::vector<std::string> notes;  // e.g. the sliding-window and dilated attention results
};

/// The built-in profile of an SXM-class device name, by whole words (split at spaces and
/// hyphens, case-insensitive): H100 -> h100-sxm, H200 -> h200-sxm, A100 -> a100-sxm,
/// B200 -> b200, GB200 -> gb200; nullopt for other devices and for PCIe or NVL variants (their
/// peaks and links differ): "NVIDIA H100 80GB HBM3" -> h100-sxm, "NVIDIA H100 PCIe" -> none,
/// "NVIDIA GH200 480GB" -> none.
std::optional<std::string> builtin_for_device(std::string_view device_name);

/// The driver release in the text of /proc/driver/nvidia/version (Linux): the first
/// dotted number on its "NVRM version:" line, e.g. "535.129.03" from
///   NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023
/// and "550.54.15" from the open module's "NVIDIA UNIX Open Kernel Module for x86_64
/// 550.54.15  Release Build ..."; "" when the text has no such line.
std::string nvidia_driver_release(std::string_view proc_version_text);

/// The provenance's driver: "550.54.15 (supports CUDA 12.4)", or "supports CUDA 12.4" (the
/// API level cudaDriverGetVersion gives) when the release is unknown.
std::string driver_text(const DeviceInfo& device);

/// "13.0" for 13000 (CUDA's 1000 x major + 10 x minor); "" for 0.
std::string cuda_version_text(int version);

/// "2.27.3" for 22703 (NCCL's 10000 x major + 100 x minor + patch since 2.9); "" for 0.
std::string nccl_version_text(int version);

/// "9.19.0" for 91900 (cuDNN 9's 10000 x major + 100 x minor + patch), "8.9.7" for 8907 (cuDNN
/// 8's 1000 x major + 100 x minor + patch); "" for 0.
std::string cudnn_version_text(int version);

/// The profile (assemble.h's header). provenance.cudnn is cudnn_version_text of the device's
/// cuDNN when some attention row has impl "cudnn", else empty. `date` is ISO 8601. Errors:
/// config::RuntimeFailure when two or more GPUs were measured but the send_recv rows admit no
/// alpha-beta fit.
Profile assemble_profile(const MeasureOptions& options, const Measurements& m,
                         const std::string& date);

}  // namespace attnsim::calibrate::cuda
