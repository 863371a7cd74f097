// SPDX-License-Identifier: Apache-2.0
#include "topology/spec.h"

#include <limits>
#include <string>
#include <vector>

#include "topology/builtin.h"
#include "topology/presets.h"
#include "topology/section.h"

namespace attnsim::topology {

namespace {

std::uint32_t read_nodes(const Section& s, const config::Node& topology, std::int64_t g,
                         std::optional<std::int64_t> gpus,
                         std::optional<config::Node>& size_source) {
  const std::int64_t max_nodes = kMaxGpus / g;
  std::int64_t nodes = 0;
  if (gpus) {
    (void)s.find_integer("nodes", 1, max_nodes);  // still checked, but superseded
    if (*gpus < 1 || *gpus % g != 0) {
      topology.fail("a GPU count that is a multiple of gpus_per_node (" + std::to_string(g) + ")",
                    std::to_string(*gpus));
    }
    nodes = *gpus / g;
    size_source = topology;
    if (nodes > max_nodes) {
      topology.fail("a GPU count of at most " + std::to_string(kMaxGpus), std::to_string(*gpus));
    }
  } else {
    const config::Node n = s.child("nodes", "an integer >= 1");
    nodes = n.as_integer(1, std::numeric_limits<std::int64_t>::max());
    size_source = n;
    if (nodes > max_nodes) {
      n.fail("at most " + std::to_string(max_nodes) + " nodes (" + std::to_string(kMaxGpus) +
             " GPUs)");
    }
  }
  return static_cast<std::uint32_t>(nodes);
}

DatacenterSpec read_datacenters(const Section& s, std::uint32_t nodes) {
  DatacenterSpec dc;
  const std::optional<Section> section = s.find_section("datacenters");
  if (!section) {
    return dc;
  }
  if (const std::optional<config::Node> count = section->find("count")) {
    dc.count = static_cast<std::uint32_t>(count->as_integer(1, kMaxGpus));
    if (nodes % dc.count != 0) {
      count->fail("a divisor of the node count (" + std::to_string(nodes) + ")");
    }
  }
  if (dc.count > 1) {
    dc.bandwidth = section->bandwidth("bandwidth_GBps");
    dc.latency = section->latency("latency_us");
  } else {
    const std::optional<double> bw = section->find_positive("bandwidth_GBps");
    dc.bandwidth = sim::Bandwidth::from_GBps(bw.value_or(0));
    if (const std::optional<config::Node> lat = section->find("latency_us")) {
      dc.latency = sim::Time::from_us(lat->as_non_negative());
    }
  }
  section->reject_unknown_keys();
  return dc;
}

ScaleOutSpec read_scale_out(const Section& s, const ScaleOutContext& context) {
  const Section out = s.section("scale_out").same_kind("kind");
  const config::Node& kind_layer = out.layer_with("kind");
  const std::unique_ptr<ScaleOutKind> kind = scale_out_kinds().make(kind_layer, "kind");
  ScaleOutSpec spec;
  spec.kind = kind_layer.string("kind");
  spec.generator = kind->parse(out, context);
  out.reject_unknown_keys();
  const ScaleOutCommon& common = spec.generator->common();
  spec.nics_per_node = common.nics_per_node;
  spec.nic_bandwidth = common.nic_bandwidth;
  spec.latency = common.latency;
  return spec;
}

ScaleUpSpec read_scale_up(const Section& s, std::uint32_t gpus_per_node,
                          const ScaleOutSpec& scale_out) {
  const Section up = s.section("scale_up").same_kind("kind");
  const config::Node& kind_layer = up.layer_with("kind");
  const std::unique_ptr<ScaleUpKind> kind = scale_up_kinds().make(kind_layer, "kind");
  ScaleUpSpec spec;
  spec.kind = kind_layer.string("kind");
  spec.bandwidth = up.bandwidth("bandwidth_GBps");
  spec.latency = up.latency("latency_us");
  const ScaleUpContext context{gpus_per_node, scale_out.nics_per_node, scale_out.nic_bandwidth,
                               spec.bandwidth, spec.latency};
  spec.generator = kind->parse(up, context);
  spec.nvls = spec.generator->nvls();
  up.reject_unknown_keys();
  return spec;
}

}  // namespace

TopologySpec parse_topology(const config::Node& topology,
                            std::optional<std::int64_t> gpus_override) {
  if (!topology.is_object()) {
    topology.fail("an object");
  }
  TopologySpec spec;
  spec.name = "custom";
  spec.source = topology.file();
  std::vector<config::Node> layers{topology};
  if (topology.has("preset")) {
    spec.name = topology.one_of("preset", preset_names());
    layers.push_back(preset_node(spec.name));
  }
  const Section s(std::move(layers));
  const std::int64_t g = s.integer("gpus_per_node", 1, kMaxGpus);
  spec.gpus_per_node = static_cast<std::uint32_t>(g);
  std::optional<config::Node> size_source;
  spec.nodes = read_nodes(s, topology, g, gpus_override, size_source);
  spec.datacenters = read_datacenters(s, spec.nodes);
  const ScaleOutContext out_context{spec.nodes,         spec.nodes / spec.datacenters.count,
                                    spec.gpus_per_node, spec.datacenters.count,
                                    size_source,        gpus_override};
  spec.scale_out = read_scale_out(s, out_context);
  spec.scale_up = read_scale_up(s, spec.gpus_per_node, spec.scale_out);
  s.reject_unknown_keys();
  return spec;
}

}  // namespace attnsim::topology
