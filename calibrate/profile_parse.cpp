// SPDX-License-Identifier: Apache-2.0
// Reading a hardware profile: every key checked, every error located (profile.h has the rules).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "calibrate/builtin.h"
#include "calibrate/profile.h"
#include "config/node.h"

namespace attnsim::calibrate {
namespace {

using config::Node;

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();
constexpr int kIntLimit = std::numeric_limits<int>::max();

const std::vector<std::string> dtype_names = {"bf16", "fp16", "fp32", "fp8", "tf32"};
// "cpu": the tiled reference of `attnsim calibrate --backend cpu` (calibrate/cpu/attention.h).
const std::vector<std::string> impl_names = {"cpu", "cudnn", "fa2", "fa3", "ours", "triton"};
const std::vector<std::string> pass_names = {"bwd", "fwd", "fwd_bwd"};
const std::vector<std::string> kind_names = {"dilated", "sliding_window"};
constexpr std::int64_t kMaxMaskTokens = std::int64_t{1} << 31;
const std::vector<std::string> algo_names = {"default", "nvls", "nvlstree", "pat", "ring", "tree"};
const std::vector<std::string> proto_names = {"default", "ll", "ll128", "simple"};
const std::vector<std::string> source_names = {"measured", "published"};
// scale_up kinds follow the scenario's topology.scale_up.kind (SPEC section 3).
const std::vector<std::string> scale_up_kind_names = {"nvlink_mesh", "nvswitch", "pcie"};
const std::vector<std::string> nic_kind_names = {"efa", "ethernet", "infiniband", "roce", "tcpxo"};
const std::vector<std::string> pcie_kind_names = {"gen3", "gen4", "gen5", "gen6"};

// The busbw tolerance: nccl-tests prints time with 4 significant digits and bandwidths with
// 2 decimals, so transcriptions agree to well under 2 %, or to 0.005 GB/s for tiny messages.
constexpr double kBusbwRelativeTolerance = 0.02;
constexpr double kBusbwAbsoluteTolerance = 0.005;

// Whole numbers (byte counts) in full, others to 6 significant digits.
std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(v));
  }
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

// What the current document requires of every figure.
struct Context {
  bool published = false;
};

std::string read_source(const Node& n, const Context& ctx) {
  if (!ctx.published) {
    return n.string_or("source", "");
  }
  const Node s = n.child("source", "a source (every figure of a published profile names one)");
  std::string text = s.as_string();
  if (text.empty()) {
    s.fail("a non-empty source");
  }
  return text;
}

std::string one_of_or(const Node& n, std::string_view key, const std::vector<std::string>& names,
                      std::string fallback) {
  return n.find(key) ? n.one_of(key, names) : std::move(fallback);
}

// An integer >= min that fits an int (messages read "expected an integer >= 2").
int int_of(const Node& n, std::string_view key, std::int64_t min) {
  const std::int64_t v = n.integer(key, min, kNoLimit);
  if (v > kIntLimit) {
    n.child(key).fail("an integer below 2^31");
  }
  return static_cast<int>(v);
}

// A fraction in (0, 1], e.g. an efficiency.
double fraction(const Node& n, std::string_view key) {
  const Node v = n.child(key, "a number in (0, 1]");
  const double x = v.as_number("a number in (0, 1]");
  if (!(x > 0 && x <= 1)) {
    v.fail("a number in (0, 1]");
  }
  return x;
}

Provenance parse_provenance(const Node& n) {
  Provenance p;
  p.source = n.one_of("source", source_names);
  p.tool = n.string_or("tool", "");
  p.date = n.string_or("date", "");
  p.device = n.string_or("device", "");
  p.driver = n.string_or("driver", "");
  p.cuda = n.string_or("cuda", "");
  p.nccl = n.string_or("nccl", "");
  p.cublas = n.string_or("cublas", "");
  p.cudnn = n.string_or("cudnn", "");
  p.gpus = n.has("gpus") ? int_of(n, "gpus", 1) : 0;
  p.nodes = n.has("nodes") ? int_of(n, "nodes", 1) : 0;
  if (const auto citations = n.find("citations")) {
    for (const Node& c : citations->elements("an array of strings")) {
      p.citations.push_back(c.as_string());
    }
  }
  if (p.source == "published" && p.citations.empty()) {
    const auto citations = n.find("citations");
    (citations ? *citations : n).fail("at least one citation in a published profile", "none");
  }
  p.notes = n.string_or("notes", "");
  n.reject_unknown_keys();
  return p;
}

Peaks parse_peaks(const Node& n, const Context& ctx) {
  Peaks p;
  const Node flops = n.child("flops_per_s", "an object of FLOP/s by dtype");
  for (const std::string& dtype : dtype_names) {
    if (const auto v = flops.find(dtype)) {
      p.flops_per_s[dtype] = v->as_positive();
    }
  }
  flops.reject_unknown_keys();
  p.hbm_bytes = n.positive("hbm_bytes");
  p.hbm_bandwidth_GBps = n.positive("hbm_bandwidth_GBps");
  p.sm_count = n.has("sm_count") ? int_of(n, "sm_count", 1) : 0;
  p.compute_capability = n.has("compute_capability") ? int_of(n, "compute_capability", 10) : 0;
  p.source = read_source(n, ctx);
  n.reject_unknown_keys();
  return p;
}

GemmPoint parse_gemm(const Node& n, const Context& ctx) {
  GemmPoint g;
  g.b = n.integer_or("b", 1, kNoLimit, 1);
  g.m = n.count("m");
  g.n = n.count("n");
  g.k = n.count("k");
  g.dtype = n.one_of("dtype", dtype_names);
  g.tflops = n.positive("tflops");
  g.source = read_source(n, ctx);
  g.extrapolated = n.boolean_or("extrapolated", false);
  n.reject_unknown_keys();
  return g;
}

AttentionPoint parse_attention(const Node& n, const Context& ctx) {
  AttentionPoint a;
  a.impl = n.one_of("impl", impl_names);
  a.pass = n.one_of("pass", pass_names);
  a.dtype = n.one_of("dtype", dtype_names);
  a.causal = n.boolean_or("causal", false);
  a.head_dim = int_of(n, "head_dim", 1);
  a.seq_q = n.count("seq_q");
  a.seq_k = n.count("seq_k");
  a.batch_heads = n.count("batch_heads");
  a.tflops = n.positive("tflops");
  a.source = read_source(n, ctx);
  a.extrapolated = n.boolean_or("extrapolated", false);
  if (n.has("kind")) {
    a.kind = n.one_of("kind", kind_names);
    if (a.pass == "fwd_bwd") {
      n.child("pass").fail("\"fwd\" or \"bwd\" for a " + a.kind + " row");
    }
    if (a.seq_k != a.seq_q) {
      n.child("seq_k").fail("seq_q (" + std::to_string(a.seq_q) + ") for a " + a.kind +
                            " row (self-attention)");
    }
    if (a.seq_q > kMaxMaskTokens) {  // what models/attention/mask.h counts
      n.child("seq_q").fail("at most 2^31 tokens for a " + a.kind + " row");
    }
  }
  if (a.kind == "sliding_window") {
    a.window = n.count("window");
    if (!a.causal) {
      const std::string expected = "true for a sliding_window row (the window ends at the query)";
      if (n.has("causal")) {
        n.child("causal").fail(expected);
      }
      n.fail("\"causal\": " + expected, "no \"causal\"");
    }
  }
  if (a.kind == "dilated") {
    a.segment_length = n.count("segment_length");
    a.dilation_rate = n.count("dilation_rate");
    if (a.seq_q % a.segment_length != 0) {
      n.child("segment_length").fail("a divisor of seq_q (" + std::to_string(a.seq_q) + ")");
    }
    if (a.segment_length % a.dilation_rate != 0) {
      n.child("dilation_rate")
          .fail("a divisor of segment_length (" + std::to_string(a.segment_length) + ")");
    }
  }
  n.reject_unknown_keys();
  return a;
}

MemoryPoint parse_memory(const Node& n, const Context& ctx) {
  MemoryPoint m;
  const Node op = n.child("op", "a non-empty string");
  m.op = op.as_string("a non-empty string");
  if (m.op.empty()) {
    op.fail("a non-empty string");
  }
  m.bytes = n.positive("bytes");
  m.bandwidth_GBps = n.positive("bandwidth_GBps");
  m.source = read_source(n, ctx);
  m.extrapolated = n.boolean_or("extrapolated", false);
  n.reject_unknown_keys();
  return m;
}

Compute parse_compute(const Node& n, const Context& ctx) {
  Compute c;
  if (const auto gemm = n.find("gemm")) {
    std::set<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> seen;
    for (const Node& row : gemm->elements()) {
      GemmPoint g = parse_gemm(row, ctx);
      if (!seen.emplace(g.dtype, g.b, g.m, g.n, g.k).second) {
        row.fail("each (dtype, b, m, n, k) once",
                 "a second " + g.dtype + " b=" + std::to_string(g.b) + " m=" + std::to_string(g.m) +
                     " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k));
      }
      c.gemm.push_back(std::move(g));
    }
  }
  if (const auto attention = n.find("attention")) {
    std::set<
        std::tuple<std::string, std::string, std::string, bool, int, std::int64_t, std::int64_t,
                   std::int64_t, std::string, std::int64_t, std::int64_t, std::int64_t>>
        seen;
    for (const Node& row : attention->elements()) {
      AttentionPoint a = parse_attention(row, ctx);
      if (!seen.emplace(a.impl, a.pass, a.dtype, a.causal, a.head_dim, a.seq_q, a.seq_k,
                        a.batch_heads, a.kind, a.window, a.segment_length, a.dilation_rate)
               .second) {
        row.fail(
            "each (impl, pass, dtype, causal, head_dim, seq_q, seq_k, batch_heads, kind and "
            "its parameters) once",
            "a second " + a.impl + " " + a.pass + " " + a.dtype + " setting");
      }
      c.attention.push_back(std::move(a));
    }
  }
  if (const auto memory = n.find("memory")) {
    std::set<std::pair<std::string, double>> seen;
    for (const Node& row : memory->elements()) {
      MemoryPoint m = parse_memory(row, ctx);
      if (!seen.emplace(m.op, m.bytes).second) {
        row.fail("each (op, bytes) once",
                 "a second " + m.op + " of " + format_number(m.bytes) + " bytes");
      }
      c.memory.push_back(std::move(m));
    }
  }
  c.launch_overhead_us = n.non_negative_or("launch_overhead_us", 0);
  n.reject_unknown_keys();
  return c;
}

std::string factor_formula(std::string_view collective) {
  if (collective == "all_reduce") {
    return "2(n-1)/n";
  }
  if (collective == "all_gather" || collective == "reduce_scatter" || collective == "all_to_all") {
    return "(n-1)/n";
  }
  return "1";
}

CommMeasurement parse_measurement(const Node& n, const Context& ctx) {
  CommMeasurement m;
  std::vector<std::string> collectives(collective_names().begin(), collective_names().end());
  m.collective = n.one_of("collective", collectives);
  m.ranks = int_of(n, "ranks", 2);
  m.nodes = int_of(n, "nodes", 1);
  if (m.ranks % m.nodes != 0) {
    n.child("nodes").fail("a divisor of ranks (" + std::to_string(m.ranks) + ")");
  }
  m.algo = one_of_or(n, "algo", algo_names, "default");
  m.proto = one_of_or(n, "proto", proto_names, "default");
  m.size_bytes = n.positive("size_bytes");
  m.busbw_only = n.boolean_or("busbw_only", false);
  const double factor = busbw_factor(m.collective, m.ranks);
  if (m.busbw_only) {
    m.busbw_GBps = n.positive("busbw_GBps");
    if (const auto t = n.find("time_us")) {
      t->fail("no time_us in a busbw_only row (it is derived from busbw)");
    }
    m.time_us = m.size_bytes * factor / (m.busbw_GBps * 1e3);  // B / (GB/s) = ns; / 1e3 -> us
  } else {
    m.time_us = n.positive("time_us");
    m.busbw_GBps = n.non_negative("busbw_GBps");
    const double algbw = m.size_bytes / (m.time_us * 1e3);  // GB/s
    const double expected = algbw * factor;
    const double tolerance = std::max(kBusbwRelativeTolerance * expected, kBusbwAbsoluteTolerance);
    if (std::fabs(m.busbw_GBps - expected) > tolerance) {
      const std::string formula = factor_formula(m.collective);
      const std::string scaled =
          formula == "1" ? " (busbw = algbw)" : " x " + formula + " = " + format_number(factor);
      n.child("busbw_GBps")
          .fail(format_number(expected) + " within 2 % (size_bytes / time_us" + scaled + " for " +
                m.collective + " on " + std::to_string(m.ranks) + " ranks)");
    }
  }
  m.table = n.string_or("table", "");
  m.source = read_source(n, ctx);
  m.extrapolated = n.boolean_or("extrapolated", false);
  n.reject_unknown_keys();
  return m;
}

LinkParams parse_link(const Node& n, const std::vector<std::string>& kinds, const Context& ctx,
                      bool scale_up = false) {
  LinkParams l;
  l.kind = n.one_of("kind", kinds);
  l.bandwidth_GBps = n.positive("bandwidth_GBps");
  l.efficiency = fraction(n, "efficiency");
  if (scale_up && n.find("p2p_efficiency")) {
    l.p2p_efficiency = fraction(n, "p2p_efficiency");
  }
  l.latency_us = n.non_negative("latency_us");
  l.source = read_source(n, ctx);
  l.extrapolated = n.boolean_or("extrapolated", false);
  n.reject_unknown_keys();
  return l;
}

CommLinks parse_links(const Node& n, const Context& ctx) {
  CommLinks links;
  if (const auto v = n.find("scale_up")) {
    links.scale_up = parse_link(*v, scale_up_kind_names, ctx, true);
  }
  if (const auto v = n.find("nic")) {
    links.nic = parse_link(*v, nic_kind_names, ctx);
  }
  if (const auto v = n.find("pcie")) {
    links.pcie = parse_link(*v, pcie_kind_names, ctx);
  }
  if (const auto v = n.find("nvls_efficiency")) {
    links.nvls_efficiency = v->as_number("a number in [0, 1] (0 = no NVLS)");
    if (!(links.nvls_efficiency >= 0 && links.nvls_efficiency <= 1)) {
      v->fail("a number in [0, 1] (0 = no NVLS)");
    }
  }
  if (links.nvls_efficiency > 0 && ctx.published) {
    const Node s = n.child("nvls_source", "a source for nvls_efficiency");
    links.nvls_source = s.as_string();
    if (links.nvls_source.empty()) {
      s.fail("a non-empty source");
    }
  } else {
    links.nvls_source = n.string_or("nvls_source", "");
  }
  links.nvls_extrapolated = n.boolean_or("nvls_extrapolated", false);
  n.reject_unknown_keys();
  return links;
}

Comm parse_comm(const Node& n, const Context& ctx) {
  Comm c;
  if (const auto measurements = n.find("measurements")) {
    // A series is one run: same collective, ranks, nodes, algo, proto and source. Within a
    // series sizes must increase (the interpolation walks them in order).
    std::map<std::string, double> last_size;
    for (const Node& row : measurements->elements()) {
      CommMeasurement m = parse_measurement(row, ctx);
      const std::string series = m.collective + "|" + std::to_string(m.ranks) + "|" +
                                 std::to_string(m.nodes) + "|" + m.algo + "|" + m.proto + "|" +
                                 m.source;
      const auto [it, inserted] = last_size.emplace(series, m.size_bytes);
      if (!inserted) {
        if (!(m.size_bytes > it->second)) {
          row.child("size_bytes")
              .fail(
                  "sizes in increasing order within a series (same collective, ranks, "
                  "nodes, algo, proto and source)",
                  format_number(m.size_bytes) + " after " + format_number(it->second));
        }
        it->second = m.size_bytes;
      }
      c.measurements.push_back(std::move(m));
    }
  }
  if (const auto links = n.find("links")) {
    c.links = parse_links(*links, ctx);
  }
  n.reject_unknown_keys();
  return c;
}

void check_schema(const Node& root) {
  const Node schema = root.child("schema", "\"attnsim-hardware-profile\"");
  if (!schema.is_string() || schema.as_string() != "attnsim-hardware-profile") {
    schema.fail("\"attnsim-hardware-profile\"");
  }
  const Node version = root.child("schema_version", "1");
  if (!version.is_number() || version.as_number() != 1) {
    version.fail("1 (the only profile schema version this attnsim reads)");
  }
}

// A document without "inherits" (or already merged).
Profile parse_flat(const Node& root) {
  check_schema(root);
  Profile p;
  p.name = root.string_or("name", std::filesystem::path(root.file()).stem().string());
  p.inherited_from = root.string_or("inherited_from", "");
  p.provenance = parse_provenance(root.child("provenance", "an object"));
  const Context ctx{p.provenance.source == "published"};
  p.peaks = parse_peaks(root.child("peaks", "an object"), ctx);
  if (const auto compute = root.find("compute")) {
    p.compute = parse_compute(*compute, ctx);
  }
  if (const auto comm = root.find("comm")) {
    p.comm = parse_comm(*comm, ctx);
  }
  root.reject_unknown_keys();
  return p;
}

// Overlays `file` on the built-in `base` by the rules in profile.h.
nlohmann::json merge_onto(nlohmann::json base, const nlohmann::json& file) {
  base.erase("name");
  for (const auto& [key, value] : file.items()) {
    const bool per_member = key == "compute" || key == "comm";
    if (per_member && value.is_object() && base.contains(key) && base[key].is_object()) {
      for (const auto& [member, member_value] : value.items()) {
        base[key][member] = member_value;
      }
    } else {
      base[key] = value;
    }
  }
  return base;
}

}  // namespace

std::span<const std::string> collective_names() {
  static const std::vector<std::string> names = {"all_gather", "all_reduce", "all_to_all",
                                                 "broadcast",  "reduce",     "reduce_scatter",
                                                 "send_recv"};
  return names;
}

double busbw_factor(std::string_view collective, int ranks) {
  const double n = ranks;
  if (collective == "all_reduce") {
    return 2 * (n - 1) / n;
  }
  if (collective == "all_gather" || collective == "reduce_scatter" || collective == "all_to_all") {
    return (n - 1) / n;
  }
  return 1;
}

CommMeasurement measured_comm(const std::string& collective, int ranks, double bytes,
                              double seconds, const std::string& source) {
  CommMeasurement m;
  m.collective = collective;
  m.ranks = ranks;
  m.nodes = 1;
  m.algo = "default";
  m.proto = "default";
  m.size_bytes = bytes;
  m.time_us = seconds * 1e6;
  m.busbw_GBps = bytes / seconds * 1e-9 * busbw_factor(collective, ranks);
  m.source = source;
  return m;
}

Profile parse_profile(const Node& root) {
  if (!root.is_object()) {
    root.fail("a hardware profile object");
  }
  if (!root.has("inherits")) {
    return parse_flat(root);
  }
  check_schema(root);
  const std::vector<std::string> names = builtin_profile_names();
  const Node inherits = root.child("inherits");
  const std::string base = inherits.as_string("the name of a built-in profile");
  if (std::find(names.begin(), names.end(), base) == names.end()) {
    inherits.fail("one of " + listed_profile_names() + ";", unknown_profile_got(base));
  }
  nlohmann::json merged = merge_onto(builtin_profile_json(base), root.json());
  merged.erase("inherits");
  merged["inherited_from"] = base;
  if (!root.has("name")) {
    merged["name"] = std::filesystem::path(root.file()).stem().string();
  }
  return parse_flat(Node::from_json(root.file(), merged));
}

}  // namespace attnsim::calibrate
