// SPDX-License-Identifier: Apache-2.0
#include "topology/fabric.h"

#include <stdexcept>

namespace attnsim::topology {

class Fabric::DcBuilderImpl final : public DcBuilder {
 public:
  DcBuilderImpl(Fabric& fabric, std::uint32_t dc) : fabric_(fabric), dc_(dc) {}

  std::uint32_t nodes() const override { return fabric_.nodes_per_datacenter(); }

  std::uint32_t nics_per_node() const override { return fabric_.nics_per_node(); }

  Vertex nic(std::uint32_t node_in_dc, std::uint32_t index) const override {
    if (node_in_dc >= nodes() || index >= nics_per_node()) {
      throw std::logic_error("DcBuilder::nic: no such NIC");
    }
    return fabric_.nic_vertex(dc_ * nodes() + node_in_dc, index);
  }

  Vertex add_switch(std::uint8_t tier) override {
    return fabric_.add_vertex(VertexInfo{VertexKind::kSwitch, tier, dc_, kNoNode, switches_++});
  }

  void add_cable(Vertex a, Vertex b, const Cable& cable) override {
    fabric_.add_cable(a, b, cable);
  }

  void set_border(std::vector<Vertex> switches) override { border_ = std::move(switches); }

  const std::vector<Vertex>& border() const { return border_; }

 private:
  Fabric& fabric_;
  std::uint32_t dc_;
  std::uint32_t switches_ = 0;
  std::vector<Vertex> border_;
};

Fabric::Fabric(TopologySpec spec)
    : spec_(std::move(spec)),
      template_(spec_.gpus_per_node, spec_.scale_out.nics_per_node),
      graph_(std::make_unique<Graph>()) {
  spec_.scale_up.generator->build(template_);
  nvls_ = spec_.scale_up.generator->nvls();
  rail_optimized_ = spec_.scale_out.generator->rail_optimized();
  tier_names_ = spec_.scale_out.generator->tier_names();
  stamp_nodes();
  build_datacenters();
  find_nic_cables();
  check_connected();
}

Fabric::Fabric(const Fabric& other)
    : spec_(other.spec_),
      template_(other.template_),
      graph_(std::make_unique<Graph>(*other.graph_)),
      cables_(other.cables_),
      nic_cable_(other.nic_cable_),
      gateways_(other.gateways_),
      tier_names_(other.tier_names_),
      first_switch_(other.first_switch_),
      nvls_(other.nvls_),
      rail_optimized_(other.rail_optimized_) {}

Fabric& Fabric::operator=(const Fabric& other) {
  if (this != &other) {
    *this = Fabric(other);
  }
  return *this;
}

Fabric build_fabric(TopologySpec spec) {
  return Fabric(std::move(spec));
}

Vertex Fabric::add_vertex(const VertexInfo& info) {
  return static_cast<Vertex>(boost::add_vertex(info, (*graph_)));
}

std::uint32_t Fabric::add_cable(Vertex a, Vertex b, const Cable& cable) {
  if (a >= boost::num_vertices(*graph_) || b >= boost::num_vertices(*graph_) || a == b) {
    throw std::logic_error("Fabric::add_cable: bad endpoints");
  }
  const auto id = static_cast<std::uint32_t>(cables_.size());
  boost::add_edge(a, b, EdgeInfo{cable, id}, (*graph_));
  cables_.push_back(CableRecord{a, b, cable});
  return id;
}

void Fabric::stamp_nodes() {
  const std::uint32_t g = gpus_per_node();
  const std::uint32_t k = nics_per_node();
  const std::uint32_t per_dc = nodes_per_datacenter();
  for (std::uint32_t n = 0; n < nodes(); ++n) {
    for (std::uint32_t l = 0; l < g; ++l) {
      add_vertex(VertexInfo{VertexKind::kGpu, 0, n / per_dc, n, l});
    }
  }
  for (std::uint32_t n = 0; n < nodes(); ++n) {
    for (std::uint32_t i = 0; i < k; ++i) {
      add_vertex(VertexInfo{VertexKind::kNic, 0, n / per_dc, n, i});
    }
  }
  for (std::uint32_t n = 0; n < nodes(); ++n) {
    for (std::uint32_t i = 0; i < template_.extra().size(); ++i) {
      add_vertex(VertexInfo{template_.extra()[i], 0, n / per_dc, n, i});
    }
  }
  first_switch_ = static_cast<Vertex>(boost::num_vertices(*graph_));
  for (std::uint32_t n = 0; n < nodes(); ++n) {
    for (const NodeTemplate::TemplateCable& c : template_.cables()) {
      add_cable(node_vertex(n, c.a), node_vertex(n, c.b), c.cable);
    }
  }
}

void Fabric::build_datacenters() {
  std::vector<std::vector<Vertex>> borders;
  for (std::uint32_t dc = 0; dc < datacenters(); ++dc) {
    DcBuilderImpl builder(*this, dc);
    spec_.scale_out.generator->build(builder);
    borders.push_back(builder.border());
  }
  if (datacenters() < 2) {
    return;
  }
  // Gateway fan-in cables are as fast as the datacenter link, so the datacenter link (not the
  // fan-in) is what limits traffic between datacenters.
  const Cable fan_in{spec_.datacenters.bandwidth, spec_.scale_out.latency, LinkClass::kNet};
  for (std::uint32_t dc = 0; dc < datacenters(); ++dc) {
    gateways_.push_back(add_vertex(VertexInfo{VertexKind::kGateway, 0, dc, kNoNode, dc}));
    for (const Vertex border : borders[dc]) {
      add_cable(border, gateways_.back(), fan_in);
    }
  }
  const Cable link{spec_.datacenters.bandwidth, spec_.datacenters.latency, LinkClass::kDc};
  for (std::uint32_t a = 0; a < datacenters(); ++a) {
    for (std::uint32_t b = a + 1; b < datacenters(); ++b) {
      add_cable(gateways_[a], gateways_[b], link);
    }
  }
}

void Fabric::find_nic_cables() {
  const std::uint32_t nics = nodes() * nics_per_node();
  nic_cable_.assign(nics, std::numeric_limits<std::uint32_t>::max());
  for (std::uint32_t nic = 0; nic < nics; ++nic) {
    const Vertex v = gpus() + nic;
    for (const auto& e : boost::make_iterator_range(boost::out_edges(v, (*graph_)))) {
      if ((*graph_)[e].cable.link_class != LinkClass::kNic) {
        continue;
      }
      if (nic_cable_[nic] != std::numeric_limits<std::uint32_t>::max()) {
        throw std::logic_error("topology generator gave a NIC two network cables");
      }
      nic_cable_[nic] = (*graph_)[e].id;
    }
    if (nic_cable_[nic] == std::numeric_limits<std::uint32_t>::max()) {
      throw std::logic_error("topology generator left a NIC without a network cable");
    }
  }
}

void Fabric::check_connected() const {
  const auto n = boost::num_vertices(*graph_);
  if (n == 0) {
    return;
  }
  std::vector<char> seen(n, 0);
  std::vector<Vertex> stack{0};
  seen[0] = 1;
  std::size_t reached = 1;
  while (!stack.empty()) {
    const Vertex u = stack.back();
    stack.pop_back();
    for (const auto& v : boost::make_iterator_range(boost::adjacent_vertices(u, (*graph_)))) {
      if (seen[v] == 0) {
        seen[v] = 1;
        ++reached;
        stack.push_back(static_cast<Vertex>(v));
      }
    }
  }
  if (reached != n) {
    throw std::logic_error("topology generator built a disconnected fabric");
  }
}

GpuPlace Fabric::place(std::uint32_t gpu) const {
  GpuPlace p;
  p.node = gpu / gpus_per_node();
  p.local = gpu % gpus_per_node();
  p.datacenter = p.node / nodes_per_datacenter();
  p.rail = nics_per_node() > 0 ? p.local % nics_per_node() : 0;
  return p;
}

Vertex Fabric::node_vertex(std::uint32_t node, std::uint32_t local) const {
  const std::uint32_t g = gpus_per_node();
  const std::uint32_t k = nics_per_node();
  if (local < g) {
    return node * g + local;
  }
  if (local < g + k) {
    return gpus() + node * k + (local - g);
  }
  const auto extra = static_cast<std::uint32_t>(template_.extra().size());
  return gpus() + nodes() * k + node * extra + (local - g - k);
}

Vertex Fabric::nic_vertex(std::uint32_t node, std::uint32_t index) const {
  return gpus() + node * nics_per_node() + index;
}

std::optional<Vertex> Fabric::nvswitch_vertex(std::uint32_t node) const {
  const std::optional<std::uint32_t> local = template_.nvswitch();
  if (!local) {
    return std::nullopt;
  }
  return node_vertex(node, *local);
}

Vertex Fabric::nic_switch(std::uint32_t nic) const {
  const auto [a, b] = cable_ends(nic_cable_[nic]);
  return a == gpus() + nic ? b : a;
}

}  // namespace attnsim::topology
