// SPDX-License-Identifier: Apache-2.0
// Writing a hardware profile as JSON, in the shape parse_profile() reads (profile.h).
#include <nlohmann/json.hpp>

#include "calibrate/profile.h"

namespace attnsim::calibrate {
namespace {

using nlohmann::json;

// Optional flags are written only when set, so that files stay short.
void put_flag(json& j, const char* key, bool value) {
  if (value) {
    j[key] = true;
  }
}

json write_provenance(const Provenance& p) {
  json j = {{"source", p.source}, {"tool", p.tool},           {"date", p.date},
            {"device", p.device}, {"driver", p.driver},       {"cuda", p.cuda},
            {"nccl", p.nccl},     {"citations", p.citations}, {"notes", p.notes}};
  for (const auto& [key, value] : {std::pair{"cublas", &p.cublas}, std::pair{"cudnn", &p.cudnn}}) {
    if (!value->empty()) {
      j[key] = *value;
    }
  }
  if (p.gpus > 0) {
    j["gpus"] = p.gpus;
  }
  if (p.nodes > 0) {
    j["nodes"] = p.nodes;
  }
  return j;
}

json write_peaks(const Peaks& p) {
  json flops = json::object();
  for (const auto& [dtype, value] : p.flops_per_s) {
    flops[dtype] = value;
  }
  json j = {{"flops_per_s", flops},
            {"hbm_bytes", p.hbm_bytes},
            {"hbm_bandwidth_GBps", p.hbm_bandwidth_GBps},
            {"source", p.source}};
  if (p.compute_capability > 0) {
    j["compute_capability"] = p.compute_capability;
  }
  if (p.sm_count > 0) {
    j["sm_count"] = p.sm_count;
  }
  return j;
}

json write_compute(const Compute& c) {
  json gemm = json::array();
  for (const GemmPoint& g : c.gemm) {
    json row = {{"b", g.b},         {"m", g.m},           {"n", g.n},          {"k", g.k},
                {"dtype", g.dtype}, {"tflops", g.tflops}, {"source", g.source}};
    put_flag(row, "extrapolated", g.extrapolated);
    gemm.push_back(std::move(row));
  }
  json attention = json::array();
  for (const AttentionPoint& a : c.attention) {
    json row = {{"impl", a.impl},         {"pass", a.pass},
                {"dtype", a.dtype},       {"causal", a.causal},
                {"head_dim", a.head_dim}, {"seq_q", a.seq_q},
                {"seq_k", a.seq_k},       {"batch_heads", a.batch_heads},
                {"tflops", a.tflops},     {"source", a.source}};
    put_flag(row, "extrapolated", a.extrapolated);
    if (a.kind == "sliding_window") {
      row["kind"] = a.kind;
      row["window"] = a.window;
    } else if (a.kind == "dilated") {
      row["kind"] = a.kind;
      row["segment_length"] = a.segment_length;
      row["dilation_rate"] = a.dilation_rate;
    }
    attention.push_back(std::move(row));
  }
  json memory = json::array();
  for (const MemoryPoint& m : c.memory) {
    json row = {{"op", m.op},
                {"bytes", m.bytes},
                {"bandwidth_GBps", m.bandwidth_GBps},
                {"source", m.source}};
    put_flag(row, "extrapolated", m.extrapolated);
    memory.push_back(std::move(row));
  }
  return {{"gemm", gemm},
          {"attention", attention},
          {"memory", memory},
          {"launch_overhead_us", c.launch_overhead_us}};
}

json write_link(const LinkParams& l) {
  json j = {{"kind", l.kind},
            {"bandwidth_GBps", l.bandwidth_GBps},
            {"efficiency", l.efficiency},
            {"latency_us", l.latency_us},
            {"source", l.source}};
  if (l.p2p_efficiency > 0) {
    j["p2p_efficiency"] = l.p2p_efficiency;
  }
  put_flag(j, "extrapolated", l.extrapolated);
  return j;
}

json write_comm(const Comm& c) {
  json measurements = json::array();
  for (const CommMeasurement& m : c.measurements) {
    json row = {{"collective", m.collective}, {"ranks", m.ranks},
                {"nodes", m.nodes},           {"algo", m.algo},
                {"proto", m.proto},           {"size_bytes", m.size_bytes},
                {"busbw_GBps", m.busbw_GBps}, {"source", m.source}};
    if (m.busbw_only) {
      row["busbw_only"] = true;  // time_us is derived on reading
    } else {
      row["time_us"] = m.time_us;
    }
    if (!m.table.empty()) {
      row["table"] = m.table;
    }
    put_flag(row, "extrapolated", m.extrapolated);
    measurements.push_back(std::move(row));
  }
  json links = json::object();
  // A link with no kind is absent.
  if (!c.links.scale_up.kind.empty()) {
    links["scale_up"] = write_link(c.links.scale_up);
  }
  if (!c.links.nic.kind.empty()) {
    links["nic"] = write_link(c.links.nic);
  }
  if (!c.links.pcie.kind.empty()) {
    links["pcie"] = write_link(c.links.pcie);
  }
  links["nvls_efficiency"] = c.links.nvls_efficiency;
  if (!c.links.nvls_source.empty()) {
    links["nvls_source"] = c.links.nvls_source;
  }
  put_flag(links, "nvls_extrapolated", c.links.nvls_extrapolated);
  return {{"measurements", measurements}, {"links", links}};
}

}  // namespace

json to_json(const Profile& profile) {
  json j = {{"schema", "attnsim-hardware-profile"},
            {"schema_version", 1},
            {"name", profile.name},
            {"provenance", write_provenance(profile.provenance)},
            {"peaks", write_peaks(profile.peaks)},
            {"compute", write_compute(profile.compute)},
            {"comm", write_comm(profile.comm)}};
  if (!profile.inherited_from.empty()) {
    j["inherited_from"] = profile.inherited_from;
  }
  return j;
}

}  // namespace attnsim::calibrate
