// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's profile assembly (assemble.h).
#include "calibrate/cuda/assemble.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <sstream>

#include "calibrate/fit.h"
#include "config/error.h"

namespace attnsim::calibrate::cuda {
namespace {

std::vector<std::string> words_of(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : name) {
    if (c == ' ' || c == '-') {
      if (!word.empty()) {
        words.push_back(word);
      }
      word.clear();
    } else {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  if (!word.empty()) {
    words.push_back(word);
  }
  return words;
}

std::string format(double v, int precision = 4) {
  std::ostringstream o;
  o.precision(precision);
  o << v;
  return o.str();
}

std::string builtin_ref(const std::string& name) {
  return "attnsim built-in profile " + name + " (calibrate/profiles/" + name + ".json)";
}

// Best measured GEMM per dtype, for peaks (no match) and the notes.
std::map<std::string, const GemmPoint*> best_gemms(const std::vector<GemmPoint>& gemm) {
  std::map<std::string, const GemmPoint*> best;
  for (const GemmPoint& g : gemm) {
    const GemmPoint*& b = best[g.dtype];
    if (b == nullptr || g.tflops > b->tflops) {
      b = &g;
    }
  }
  return best;
}

const MemoryPoint* best_copy(const std::vector<MemoryPoint>& memory) {
  const MemoryPoint* best = nullptr;
  for (const MemoryPoint& m : memory) {
    if (m.op == "copy" && (best == nullptr || m.bandwidth_GBps > best->bandwidth_GBps)) {
      best = &m;
    }
  }
  return best;
}

Peaks make_peaks(const Measurements& m, const std::optional<Profile>& builtin) {
  Peaks p;
  const std::string own =
      "hbm_bytes (totalGlobalMem), sm_count and compute_capability are "
      "device 0's own (cudaGetDeviceProperties)";
  if (builtin) {
    p = builtin->peaks;
    p.source = "from " + builtin_ref(builtin->name) +
               ": datasheet FLOP/s and HBM bandwidth, which cannot be measured (" +
               builtin->peaks.source + "); " + own;
    // A dtype measured here that the built-in has no peak for (an --inherit of an older GPU):
    // the best GEMM measured, as without a built-in.
    for (const auto& [dtype, g] : best_gemms(m.gemm)) {
      if (p.flops_per_s.emplace(dtype, g->tflops * 1e12).second) {
        p.source += "; " + dtype + " (no peak in " + builtin->name +
                    ") is the best cuBLAS GEMM rate measured";
      }
    }
  } else {
    for (const auto& [dtype, g] : best_gemms(m.gemm)) {
      p.flops_per_s[dtype] = g->tflops * 1e12;
    }
    const MemoryPoint* copy = best_copy(m.memory);
    if (copy == nullptr || p.flops_per_s.empty()) {
      throw config::RuntimeFailure(
          "calibrate --backend cuda: no GEMM or copy measured, so no peaks for a device "
          "without a built-in profile (" +
          m.device.name + ")");
    }
    p.hbm_bandwidth_GBps = copy->bandwidth_GBps;
    p.source = "measured (no built-in profile matches " + m.device.name +
               "): FLOP/s per dtype is the best cuBLAS GEMM rate measured, not a datasheet "
               "peak; hbm_bandwidth_GBps is the best device-to-device copy rate (bytes read + "
               "written per second); " +
               own;
  }
  p.hbm_bytes = m.device.hbm_bytes;
  p.sm_count = m.device.sm_count;
  p.compute_capability = m.device.compute_capability;
  return p;
}

LinkParams fit_scale_up(const Measurements& m, const std::optional<Profile>& builtin) {
  // The send_recv rows of the most GPUs measured (every GPU sends and receives at once).
  int ranks = 0;
  for (const CommMeasurement& c : m.comm) {
    if (c.collective == "send_recv") {
      ranks = std::max(ranks, c.ranks);
    }
  }
  std::vector<Sample> samples;
  for (const CommMeasurement& c : m.comm) {
    if (c.collective == "send_recv" && c.ranks == ranks) {
      samples.push_back({c.size_bytes, c.time_us * 1e-6});
    }
  }
  const auto fit = fit_alpha_beta(samples);
  if (!fit) {
    throw config::RuntimeFailure(
        "calibrate --backend cuda: cannot fit latency and bandwidth of the NCCL send_recv "
        "rows (" +
        std::to_string(samples.size()) + " sizes; the fit needs two, with times rising with size)");
  }
  const double beta_GBps = fit->beta_bytes_per_s * 1e-9;
  const std::string fitted =
      "t = alpha + S/beta fitted by least squares on relative residuals (calibrate/fit.h) to "
      "the " +
      std::to_string(samples.size()) + " NCCL send_recv sizes " + format(fit->min_bytes) + " - " +
      format(fit->max_bytes) + " B on " + std::to_string(ranks) + " GPUs: alpha " +
      format(fit->alpha_s * 1e6) + " us, beta " + format(beta_GBps) + " GB/s, rms relative error " +
      format(fit->rms_relative_error * 100, 3) + " %";
  if (builtin && !builtin->comm.links.scale_up.kind.empty()) {
    // The flow model prices a link as the topology's raw rate x the profile's efficiency
    // (models/machine.h), so the measured rate becomes an efficiency of the raw rate, and a
    // scenario on the usual topology preset gets exactly the measured rate.
    const LinkParams& b = builtin->comm.links.scale_up;
    LinkParams link = b;
    link.p2p_efficiency = std::min(1.0, beta_GBps / b.bandwidth_GBps);
    link.source = "point-to-point measured: p2p_efficiency = beta / " + format(b.bandwidth_GBps) +
                  " GB/s raw = " + format(link.p2p_efficiency) + " (capped at 1), beta from " +
                  fitted + "; raw bandwidth, collective efficiency and per-hop latency from " +
                  builtin_ref(builtin->name) +
                  " (the collective tables correct the collectives): " + b.source;
    link.extrapolated = false;
    return link;
  }
  LinkParams link;
  link.bandwidth_GBps = beta_GBps;
  link.efficiency = 1;
  link.latency_us = fit->alpha_s * 1e6;
  link.kind = m.device.all_peer_access ? "nvswitch" : "pcie";
  link.source = "fitted: " + fitted +
                "; bandwidth is the achieved rate (beta), so efficiency is 1 (a scenario's "
                "topology should give this bandwidth as its scale_up bandwidth_GBps); " +
                (m.device.all_peer_access
                     ? "kind nvswitch assumed: every pair of GPUs has peer access (a direct "
                       "NVLink mesh cannot be told from a switch without NVML)"
                     : "kind pcie: some pair of GPUs has no peer access");
  return link;
}

LinkParams from_builtin(const LinkParams& l, const std::string& name) {
  LinkParams out = l;
  if (!out.kind.empty()) {
    out.source = "from " + builtin_ref(name) + " (not measured: one node): " + l.source;
  }
  return out;
}

Comm make_comm(const Measurements& m, const std::optional<Profile>& builtin) {
  Comm c;
  if (m.comm.empty()) {
    if (builtin) {
      c = builtin->comm;
    }
    return c;
  }
  c.measurements = m.comm;
  c.links.scale_up = fit_scale_up(m, builtin);
  if (builtin) {
    c.links.nic = from_builtin(builtin->comm.links.nic, builtin->name);
    c.links.pcie = from_builtin(builtin->comm.links.pcie, builtin->name);
    const CommLinks& b = builtin->comm.links;
    if (b.nvls_efficiency > 0) {
      // Relative to the same raw rate as the built-in's (fit_scale_up keeps it).
      c.links.nvls_efficiency = b.nvls_efficiency;
      c.links.nvls_source = "from " + builtin_ref(builtin->name) + ": " + b.nvls_source;
      c.links.nvls_extrapolated = b.nvls_extrapolated;
    }
  }
  return c;
}

bool any_cudnn_row(const Measurements& m) {
  return std::any_of(m.attention.begin(), m.attention.end(),
                     [](const AttentionPoint& a) { return a.impl == "cudnn"; });
}

// What the notes say about cuDNN's fused attention.
std::string cudnn_text(const Measurements& m) {
  const std::string version = cudnn_version_text(m.device.cudnn_version);
  if (version.empty()) {
    return "cuDNN's fused attention is not measured (cuDNN was not built into this binary)";
  }
  if (any_cudnn_row(m)) {
    return "and cuDNN " + version +
           "'s fused flash attention (impl \"cudnn\": the backend graph API, the cuDNN "
           "frontend's SDPA graphs, calibrate/cuda/sdpa_graph.h)";
  }
  return "cuDNN " + version + " is built in but measured no attention row (the notes say why)";
}

std::string notes_of(const MeasureOptions& options, const Measurements& m,
                     const std::optional<Profile>& builtin) {
  std::ostringstream n;
  n << "attnsim calibrate --backend cuda" << (options.quick ? " --quick" : "") << " on "
    << m.device.gpus << (m.device.gpus == 1 ? " GPU" : " GPUs") << " (" << m.device.name << ", sm_"
    << m.device.compute_capability << ", " << m.device.sm_count << " SMs); driver "
    << driver_text(m.device) << ", runtime " << cuda_version_text(m.device.runtime_version)
    << ", cuBLAS " << m.device.cublas_version << ", NCCL "
    << nccl_version_text(m.device.nccl_version)
    << ". Each point: one probe call, then batches of back-to-back calls of about a "
       "millisecond timed with CUDA events, the median per call over repeated batches "
       "(calibrate/cuda/plan.h). GEMMs: cublasGemmEx, fp32 accumulation (tf32: "
       "CUBLAS_COMPUTE_32F_FAST_TF32). Attention rows: our kernels (kernels/, impl \"ours\") "
    << (any_cudnn_row(m) ? "" : "; ") << cudnn_text(m) << ". Launch: an empty kernel costs "
    << format(m.launch_us, 3) << " us back to back (launch_overhead_us) and "
    << format(m.launch_sync_us, 3) << " us with cudaStreamSynchronize (host clock).";
  const auto best = best_gemms(m.gemm);
  if (!best.empty()) {
    n << " Best GEMM rate measured:";
    bool first = true;
    for (const auto& [dtype, g] : best) {
      n << (first ? " " : "; ") << dtype << " " << format(g->tflops) << " TFLOP/s at " << g->m
        << "x" << g->n << "x" << g->k;
      first = false;
    }
    n << ".";
  }
  for (const std::string& note : m.notes) {
    n << " " << note;
  }
  if (builtin) {
    n << " Built-in profile " << builtin->name
      << (options.builtin.empty() ? ", matched by the device's name." : ", named by --inherit.");
    if (const int cc = builtin->peaks.compute_capability;
        cc != 0 && cc != m.device.compute_capability) {
      n << " Warning: " << builtin->name << " is an sm_" << cc << " profile and this device is sm_"
        << m.device.compute_capability << ": its datasheet peaks and fabric may not be this "
        << "machine's.";
    }
    n << " Peaks (FLOP/s, HBM bandwidth) are " << builtin->name << "'s datasheet figures.";
    if (m.comm.empty()) {
      n << " One GPU: no collective can be measured, so the communication tables and links "
           "are "
        << builtin->name << "'s (published, with their own sources).";
    } else {
      n << " NIC, PCIe and NVLS figures are " << builtin->name << "'s (one node measured).";
    }
  } else if (m.comm.empty()) {
    n << " One GPU and no built-in profile for this device: no communication tables.";
  }
  return n.str();
}

}  // namespace

std::optional<std::string> builtin_for_device(std::string_view device_name) {
  const std::vector<std::string> words = words_of(device_name);
  for (const std::string& w : words) {
    if (w == "PCIE" || w == "NVL") {
      return std::nullopt;
    }
  }
  constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kByWord = {
      {{"H100", "h100-sxm"},
       {"H200", "h200-sxm"},
       {"A100", "a100-sxm"},
       {"B200", "b200"},
       {"GB200", "gb200"}}};
  for (const std::string& w : words) {
    for (const auto& [word, profile] : kByWord) {
      if (w == word) {
        return std::string(profile);
      }
    }
  }
  return std::nullopt;
}

std::string nvidia_driver_release(std::string_view text) {
  constexpr std::string_view kLine = "NVRM version:";
  const std::size_t at = text.find(kLine);
  if (at == std::string_view::npos) {
    return "";
  }
  std::string_view line = text.substr(at + kLine.size());
  line = line.substr(0, line.find('\n'));
  std::istringstream words{std::string(line)};
  for (std::string w; words >> w;) {
    const bool dotted = std::isdigit(static_cast<unsigned char>(w.front())) != 0 &&
                        w.find('.') != std::string::npos &&
                        std::all_of(w.begin(), w.end(), [](char ch) {
                          return ch == '.' || std::isdigit(static_cast<unsigned char>(ch)) != 0;
                        });
    if (dotted) {
      return w;
    }
  }
  return "";
}

std::string driver_text(const DeviceInfo& d) {
  const std::string cuda = "supports CUDA " + cuda_version_text(d.driver_version);
  return d.driver_release.empty() ? cuda : d.driver_release + " (" + cuda + ")";
}

std::string cuda_version_text(int version) {
  if (version <= 0) {
    return "";
  }
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string nccl_version_text(int version) {
  if (version <= 0) {
    return "";
  }
  return std::to_string(version / 10000) + "." + std::to_string(version % 10000 / 100) + "." +
         std::to_string(version % 100);
}

std::string cudnn_version_text(int version) {
  if (version <= 0) {
    return "";
  }
  if (version >= 90000) {
    return std::to_string(version / 10000) + "." + std::to_string(version % 10000 / 100) + "." +
           std::to_string(version % 100);
  }
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 100) + "." +
         std::to_string(version % 100);
}

Profile assemble_profile(const MeasureOptions& options, const Measurements& m,
                         const std::string& date) {
  const std::optional<std::string> match =
      options.builtin.empty() ? builtin_for_device(m.device.name) : options.builtin;
  const std::optional<Profile> builtin =
      match ? std::optional<Profile>(builtin_profile(*match)) : std::nullopt;

  Profile p;
  p.name = options.name.empty() ? "measured-cuda" : options.name;
  p.provenance.source = "measured";
  p.provenance.tool = options.tool;
  p.provenance.date = date;
  p.provenance.device = m.device.name;
  p.provenance.driver = driver_text(m.device);
  p.provenance.cuda = cuda_version_text(m.device.runtime_version);
  p.provenance.nccl = nccl_version_text(m.device.nccl_version);
  p.provenance.cublas = m.device.cublas_version;
  if (any_cudnn_row(m)) {
    p.provenance.cudnn = cudnn_version_text(m.device.cudnn_version);
  }
  p.provenance.gpus = m.device.gpus;
  p.provenance.nodes = 1;
  if (builtin) {
    p.provenance.citations.push_back(builtin_ref(builtin->name) +
                                     (m.comm.empty() ? ": peaks, communication tables and links"
                                                     : ": peaks, NIC, PCIe and NVLS figures"));
    for (const std::string& c : builtin->provenance.citations) {
      p.provenance.citations.push_back(c);
    }
    if (m.comm.empty()) {
      p.inherited_from = builtin->name;
    }
  }
  p.provenance.notes = notes_of(options, m, builtin);
  p.peaks = make_peaks(m, builtin);
  p.compute.gemm = m.gemm;
  p.compute.attention = m.attention;
  p.compute.memory = m.memory;
  p.compute.launch_overhead_us = m.launch_us;
  p.comm = make_comm(m, builtin);
  return p;
}

}  // namespace attnsim::calibrate::cuda
