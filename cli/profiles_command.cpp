// SPDX-License-Identifier: Apache-2.0
// `attnsim profiles [PROFILE...]`: the built-in hardware profiles, one line each; or, for each
// PROFILE named (a built-in or a profile file), what it holds: provenance, peaks, the compute
// tables, which communication tables exist (the collectives a scenario's results list as
// extrapolated are those without one) and the link parameters. Columns are as wide as their
// longest entry; the device, of any length, comes last.
#include <algorithm>
#include <array>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>
#include <tuple>
#include <vector>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/sizes.h"
#include "report/number_text.h"

namespace attnsim::cli {
namespace {

using report::fixed;

// About three significant digits, never in exponent form: 1979, 989, 67.5, 3.35, 0.0957.
std::string sig3(double v) {
  const double a = std::fabs(v);
  if (a >= 1 || a == 0) {
    return fixed(v, a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : 2);
  }
  std::ostringstream o;
  o << std::setprecision(3) << v;
  return o.str();
}

// Counts by key, "a 3, b 2" in key order.
std::string counts(const std::map<std::string, int>& by) {
  std::string out;
  for (const auto& [key, n] : by) {
    out += (out.empty() ? "" : ", ") + key + " " + std::to_string(n);
  }
  return out;
}

// "8 B", "16 GiB" (exact binary multiples), else the plain count of bytes.
std::string bytes_text(double bytes) {
  const std::string text = format_size(static_cast<std::uint64_t>(bytes));
  return text.back() >= '0' && text.back() <= '9' ? text + " B" : text + "iB";
}

std::string link_text(const calibrate::LinkParams& l) {
  if (l.kind.empty()) {
    return "none";
  }
  std::string out = l.kind + " " + fixed(l.bandwidth_GBps, 1) +
                    " GB/s raw, collective efficiency " + fixed(l.efficiency, 3);
  if (l.p2p_efficiency > 0) {
    out += ", point-to-point " + fixed(l.p2p_efficiency, 4);
  }
  return out + ", latency " + fixed(l.latency_us, 2) + " us";
}

void describe(const calibrate::Profile& p, std::ostream& out) {
  out << p.name << "  " << p.provenance.device << "\n";
  const calibrate::Provenance& v = p.provenance;
  out << "  source      " << v.source;
  if (!v.date.empty()) {
    out << ", " << v.date;
  }
  if (!v.tool.empty()) {
    out << ", " << v.tool;
  }
  if (!v.driver.empty() || !v.cuda.empty() || !v.nccl.empty()) {
    out << "; driver " << (v.driver.empty() ? "-" : v.driver) << ", CUDA "
        << (v.cuda.empty() ? "-" : v.cuda) << ", NCCL " << (v.nccl.empty() ? "-" : v.nccl);
  }
  if (v.gpus > 0) {
    out << "; " << v.gpus << (v.gpus == 1 ? " GPU" : " GPUs");
  }
  out << "; " << v.citations.size() << (v.citations.size() == 1 ? " citation" : " citations");
  if (!p.inherited_from.empty()) {
    out << "; inherits " << p.inherited_from;
  }
  out << "\n";

  out << "  peaks       ";
  bool first = true;
  for (const auto& [dtype, flops] : p.peaks.flops_per_s) {
    out << (first ? "" : ", ") << dtype << " " << sig3(flops * 1e-12);
    first = false;
  }
  out << " TFLOP/s; HBM " << sig3(p.peaks.hbm_bytes * 1e-9) << " GB at "
      << sig3(p.peaks.hbm_bandwidth_GBps) << " GB/s";
  if (p.peaks.sm_count > 0) {
    out << "; " << p.peaks.sm_count << " SMs";
  }
  if (p.peaks.compute_capability > 0) {
    out << "; sm_" << p.peaks.compute_capability;
  }
  out << "\n";

  std::map<std::string, int> gemm_by_dtype;
  const calibrate::GemmPoint* best = nullptr;
  for (const calibrate::GemmPoint& g : p.compute.gemm) {
    ++gemm_by_dtype[g.dtype];
    if (best == nullptr || g.tflops > best->tflops) {
      best = &g;
    }
  }
  out << "  GEMM        " << p.compute.gemm.size() << " rows";
  if (best != nullptr) {
    out << " (" << counts(gemm_by_dtype) << "); best " << sig3(best->tflops) << " TFLOP/s, "
        << best->dtype << " " << best->m << "x" << best->n << "x" << best->k;
  }
  out << "\n";
  std::map<std::string, int> attention_by_impl;
  for (const calibrate::AttentionPoint& a : p.compute.attention) {
    ++attention_by_impl[a.impl + (a.kind.empty() ? "" : " " + a.kind)];
  }
  out << "  attention   " << p.compute.attention.size() << " rows";
  if (!attention_by_impl.empty()) {
    out << " (" << counts(attention_by_impl) << ")";
  }
  out << "\n  memory      " << p.compute.memory.size() << " rows; launch overhead "
      << (p.compute.launch_overhead_us > 0 ? fixed(p.compute.launch_overhead_us, 2) + " us"
                                           : std::string("not measured"))
      << "\n";

  // Communication tables: one line per (collective, nodes, algorithm/protocol, sizes), GPU
  // counts with the same sizes merged into a range ("on 2-7 GPUs").
  using Key = std::tuple<std::string, int, std::string, int>;  // collective, nodes, how, ranks
  std::map<Key, std::vector<double>> tables;
  for (const calibrate::CommMeasurement& m : p.comm.measurements) {
    const std::string how = m.algo == "default" && m.proto == "default"
                                ? "NCCL's choice"
                                : "forced " + m.algo + (m.proto == "default" ? "" : "/" + m.proto);
    tables[{m.collective, m.nodes, how, m.ranks}].push_back(m.size_bytes);
  }

  struct Line {
    std::string collective, how, sizes;
    int nodes = 1, first = 0, last = 0;
  };

  std::vector<Line> lines;
  for (auto& [key, sizes] : tables) {
    const auto& [collective, nodes, how, ranks] = key;
    std::sort(sizes.begin(), sizes.end());
    const std::string text =
        std::to_string(sizes.size()) + (sizes.size() == 1 ? " size, " : " sizes, ") +
        bytes_text(sizes.front()) + (sizes.size() > 1 ? " - " + bytes_text(sizes.back()) : "");
    if (!lines.empty() && lines.back().collective == collective && lines.back().nodes == nodes &&
        lines.back().how == how && lines.back().sizes == text && lines.back().last + 1 == ranks) {
      lines.back().last = ranks;
      continue;
    }
    lines.push_back({collective, how, text, nodes, ranks, ranks});
  }
  out << "  comm        " << p.comm.measurements.size() << " rows" << (lines.empty() ? "" : ":")
      << "\n";
  for (const Line& line : lines) {
    out << "    " << line.collective << " on "
        << (line.first == line.last ? std::to_string(line.first)
                                    : std::to_string(line.first) + "-" + std::to_string(line.last))
        << " ranks" << (line.nodes > 1 ? " on " + std::to_string(line.nodes) + " nodes" : "")
        << ", " << line.how << ": " << line.sizes << (line.first == line.last ? "" : " each")
        << "\n";
  }
  const calibrate::CommLinks& l = p.comm.links;
  out << "  scale-up    " << link_text(l.scale_up) << "\n"
      << "  NIC         " << link_text(l.nic) << "\n"
      << "  PCIe        " << link_text(l.pcie) << "\n"
      << "  NVLS        "
      << (l.nvls_efficiency > 0 ? "efficiency " + fixed(l.nvls_efficiency, 3) : std::string("none"))
      << "\n";
}

}  // namespace

int run_profiles(const std::vector<std::string>& profiles, std::ostream& out) {
  if (!profiles.empty()) {
    for (std::size_t i = 0; i < profiles.size(); ++i) {
      out << (i == 0 ? "" : "\n");
      describe(calibrate::load_profile(profiles[i]), out);
    }
    return 0;
  }
  using Row = std::array<std::string, 5>;
  std::vector<Row> rows = {{"name", "bf16 TF/s", "HBM GB", "scale-up", "device"}};
  for (const std::string& name : calibrate::builtin_profile_names()) {
    const calibrate::Profile p = calibrate::builtin_profile(name);
    const auto bf16 = p.peaks.flops_per_s.find("bf16");
    const std::string tf =
        bf16 != p.peaks.flops_per_s.end() ? fixed(bf16->second * 1e-12, 0) : std::string("-");
    std::ostringstream link;
    link << p.comm.links.scale_up.kind << " " << p.comm.links.scale_up.bandwidth_GBps << " GB/s";
    rows.push_back({name, tf, fixed(p.peaks.hbm_bytes * 1e-9, 0), link.str(), p.provenance.device});
  }
  std::array<std::size_t, 4> width{};
  for (const Row& r : rows) {
    for (std::size_t c = 0; c < width.size(); ++c) {
      width[c] = std::max(width[c], r[c].size());
    }
  }
  for (const Row& r : rows) {
    for (std::size_t c = 0; c < width.size(); ++c) {
      out << std::left << std::setw(static_cast<int>(width[c] + 2)) << r[c];
    }
    out << r.back() << "\n";
  }
  return 0;
}

}  // namespace attnsim::cli
