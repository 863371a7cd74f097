// SPDX-License-Identifier: Apache-2.0
#include "models/machine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <nlohmann/json.hpp>

#include "config/node.h"
#include "models/collectives/run.h"
#include "topology/network_export.h"

namespace attnsim::models {

namespace {

// Efficiency per link class of topology/network_export.h, from the profile.
std::map<std::string, double> efficiencies(const calibrate::Profile& profile) {
  const calibrate::CommLinks& l = profile.comm.links;
  const double nic = l.nic.efficiency;
  return {{"nvlink", l.scale_up.efficiency},
          // PCIe between GPUs is the scale-up link of a PCIe machine. On NVLink machines PCIe
          // carries only GPU <-> NIC traffic over cables the topology sizes at the NIC's rate
          // (topology/types.h), so the NIC's measured efficiency is the one that binds there.
          {"pcie", l.scale_up.kind == "pcie" ? l.scale_up.efficiency : nic},
          {"nic", nic},
          {"net", nic},
          {"dc", nic}};
}

Layout make_layout(const topology::Fabric& fabric, const calibrate::Profile& profile) {
  const topology::TopologySpec& spec = fabric.spec();
  const calibrate::CommLinks& links = profile.comm.links;
  Layout l;
  l.gpus = fabric.gpus();
  l.gpus_per_node = fabric.gpus_per_node();
  l.nics_per_node = fabric.nics_per_node();
  l.nvswitch = spec.scale_up.kind == "nvswitch";
  l.nvls = l.nvswitch && fabric.nvls() && links.nvls_efficiency > 0;
  l.intra = spec.scale_up.kind == "pcie" ? HwClass::kPci : HwClass::kNvlink;
  const double raw_up = spec.scale_up.bandwidth.GBps();
  l.scale_up_GBps = raw_up * links.scale_up.efficiency;
  l.nic_GBps = spec.scale_out.nic_bandwidth.GBps() * links.nic.efficiency;
  l.nvls_GBps = raw_up * links.nvls_efficiency;
  l.p2p_GBps = raw_up * links.scale_up.p2p_efficiency;  // 0 when not given: links alone limit
  l.nccl = nccl_constants(profile.peaks.compute_capability);
  l.channels = nccl_channels(l.scale_up_GBps, l.nccl.generation);
  return l;
}

// One node as the profile describes it, big enough for its largest single-node table.
topology::TopologySpec reference_node(const calibrate::Profile& profile, int gpus) {
  const calibrate::LinkParams& up = profile.comm.links.scale_up;
  nlohmann::json scale_up = {
      {"kind", up.kind}, {"bandwidth_GBps", up.bandwidth_GBps}, {"latency_us", up.latency_us}};
  if (up.kind == "nvswitch") {
    scale_up["nvls"] = profile.comm.links.nvls_efficiency > 0;
  }
  const nlohmann::json topo = {{"nodes", 1},
                               {"gpus_per_node", gpus},
                               {"scale_up", scale_up},
                               {"scale_out", {{"kind", "none"}}}};
  return topology::parse_topology(
      config::Node::from_json("reference node of profile " + profile.name, topo), std::nullopt);
}

bool single_node_default(const calibrate::CommMeasurement& m) {
  return m.nodes == 1 && m.algo == "default" && m.proto == "default" && m.ranks >= 2;
}

}  // namespace

std::map<std::pair<Collective, int>, MeasuredTable> measured_tables(
    const calibrate::Profile& profile,
    const std::function<bool(const calibrate::CommMeasurement&)>& keep) {
  // (collective, ranks) -> size -> measured times.
  std::map<std::pair<Collective, int>, std::map<double, std::vector<double>>> rows;
  for (const calibrate::CommMeasurement& m : profile.comm.measurements) {
    if (single_node_default(m) && keep(m)) {
      rows[{collective_from_name(m.collective), m.ranks}][m.size_bytes].push_back(m.time_us);
    }
  }
  std::map<std::pair<Collective, int>, MeasuredTable> out;
  for (const auto& [key, sizes] : rows) {
    MeasuredTable table;
    for (const auto& [bytes, times] : sizes) {
      table.emplace_back(bytes, std::accumulate(times.begin(), times.end(), 0.0) /
                                    static_cast<double>(times.size()));
    }
    out.emplace(key, without_outliers(table));
  }
  return out;
}

std::shared_ptr<const Corrections> fit_corrections(const calibrate::Profile& profile,
                                                   std::optional<double> leave_out_bytes) {
  const auto tables = measured_tables(profile, [&](const calibrate::CommMeasurement& m) {
    return !leave_out_bytes || m.size_bytes != *leave_out_bytes;
  });
  if (tables.empty()) {
    return nullptr;  // nothing measured: the model runs uncorrected
  }
  int largest = 0;
  for (const auto& entry : tables) {
    largest = std::max(largest, entry.first.second);
  }

  // The reference node lives as long as the corrections, which simulate on it on demand.
  struct Reference {
    topology::Fabric node;
    sim::Network network;
    Layout layout;
  };

  auto ref = std::make_shared<Reference>(
      Reference{topology::build_fabric(reference_node(profile, largest)), {}, {}});
  ref->network = topology::to_network(ref->node, efficiencies(profile));
  ref->layout = make_layout(ref->node, profile);
  const auto first_ranks = [](int ranks) {
    std::vector<std::uint32_t> r(static_cast<std::size_t>(ranks));
    std::iota(r.begin(), r.end(), 0u);
    return r;
  };
  auto out = std::make_shared<Corrections>(
      [ref, first_ranks](Collective c, int ranks, double bytes) {
        return time_collective(ref->network, ref->layout, c, first_ranks(ranks), bytes, {},
                               sim::NetworkModel::kFlow)
            .time.us();
      },
      [ref, first_ranks](Collective c, int ranks, double bytes) {
        const Prediction p = plan_collective(ref->layout, c, first_ranks(ranks), bytes);
        return std::make_pair(p.algo, p.proto);
      });
  for (const auto& [key, table] : tables) {
    out->add(key.first, key.second, table);
  }
  return out;
}

Machine build_machine(const topology::TopologySpec& spec, const calibrate::Profile& profile,
                      bool calibrate_collectives) {
  Machine m{topology::build_fabric(spec), {}, {}};
  m.network = topology::to_network(m.fabric, efficiencies(profile));
  m.layout = make_layout(m.fabric, profile);
  if (calibrate_collectives) {
    m.layout.corrections = fit_corrections(profile, std::nullopt);
  }
  return m;
}

}  // namespace attnsim::models
