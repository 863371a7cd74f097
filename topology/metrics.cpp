// SPDX-License-Identifier: Apache-2.0
#include "topology/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <boost/graph/push_relabel_max_flow.hpp>
#include <nlohmann/json.hpp>

#include "topology/switch_graph.h"

namespace attnsim::topology {

namespace {

using FlowTraits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<
        boost::edge_capacity_t, std::int64_t,
        boost::property<boost::edge_residual_capacity_t, std::int64_t,
                        boost::property<boost::edge_reverse_t, FlowTraits::edge_descriptor>>>>;

// Capacities are integers (kB/s) so that push-relabel terminates exactly.
std::int64_t kilobytes_per_s(sim::Bandwidth b) {
  return std::llround(b.bytes_per_s() * 1e-3);
}

// Arc u -> v with capacity `forward`, and its residual twin v -> u with `backward`.
void add_arc_pair(FlowGraph& g, std::size_t u, std::size_t v, std::int64_t forward,
                  std::int64_t backward) {
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  const auto e1 = boost::add_edge(u, v, g).first;
  const auto e2 = boost::add_edge(v, u, g).first;
  capacity[e1] = forward;
  capacity[e2] = backward;
  reverse[e1] = e2;
  reverse[e2] = e1;
}

std::string number(double v) {
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

constexpr std::uint32_t kFar = std::numeric_limits<std::uint32_t>::max() / 4;

}  // namespace

sim::Bandwidth bisection(const Fabric& fabric) {
  const std::uint32_t half = fabric.gpus() / 2;
  if (half == 0) {
    return sim::Bandwidth();
  }
  const std::size_t n = boost::num_vertices(fabric.graph());
  FlowGraph g(n + 2);
  const std::size_t source = n;
  const std::size_t sink = n + 1;
  std::int64_t total = 0;
  for (std::uint32_t c = 0; c < fabric.cable_count(); ++c) {
    const auto [a, b] = fabric.cable_ends(c);
    const std::int64_t cap = kilobytes_per_s(fabric.cable(c).bandwidth);
    // A cable carries its bandwidth in each direction: two arcs, each with its own
    // zero-capacity residual twin (Boost's push-relabel requires capacity 0 on reverse arcs).
    add_arc_pair(g, a, b, cap, 0);
    add_arc_pair(g, b, a, cap, 0);
    total += cap;
  }
  for (std::uint32_t gpu = 0; gpu < fabric.gpus(); ++gpu) {
    if (gpu < half) {
      add_arc_pair(g, source, gpu, total + 1, 0);
    } else if (gpu < 2 * half) {
      add_arc_pair(g, gpu, sink, total + 1, 0);
    }
  }
  const std::int64_t flow = boost::push_relabel_max_flow(g, source, sink);
  return sim::Bandwidth::from_bytes_per_s(static_cast<double>(flow) * 1e3);  // kB/s -> B/s
}

std::uint32_t diameter_hops(const Fabric& fabric) {
  const NodeTemplate& t = fabric.node_template();
  const std::uint32_t g = fabric.gpus_per_node();
  const std::uint32_t k = fabric.nics_per_node();
  if (fabric.gpus() < 2) {
    return 0;
  }
  std::vector<std::vector<std::uint32_t>> local(g);  // hop counts inside a node, from GPU l
  for (std::uint32_t l = 0; l < g; ++l) {
    local[l] = t.distances(t.gpu(l));
  }
  const SwitchGraph switches(fabric);

  // Classes of GPUs with the same (access switch, cost to reach it) list.
  struct Class {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> entries;  // (switch, hops)
    std::uint32_t node = 0;
    bool many_nodes = false;
    std::vector<std::uint32_t> locals;  // members' local indices while on one node
  };

  std::vector<Class> classes;
  std::map<std::vector<std::pair<std::uint32_t, std::uint32_t>>, std::size_t> index;
  for (std::uint32_t node = 0; node < fabric.nodes(); ++node) {
    for (std::uint32_t l = 0; l < g; ++l) {
      std::map<std::uint32_t, std::uint32_t> best;
      for (std::uint32_t i = 0; i < k; ++i) {
        const std::uint32_t s = fabric.nic_switch(node * k + i) - switches.first_vertex();
        const std::uint32_t hops = local[l][t.nic(i)] + 1;  // GPU .. NIC, then NIC - switch
        const auto it = best.find(s);
        if (it == best.end() || hops < it->second) {
          best[s] = hops;
        }
      }
      std::vector<std::pair<std::uint32_t, std::uint32_t>> key(best.begin(), best.end());
      const auto [it, fresh] = index.emplace(key, classes.size());
      if (fresh) {
        classes.push_back(Class{std::move(key), node, false, {}});
      }
      Class& c = classes[it->second];
      c.many_nodes = c.many_nodes || c.node != node;
      if (!c.many_nodes) {
        c.locals.push_back(l);
      }
    }
  }

  // reach[class][a]: hops from a class member to access switch a (index into `access`).
  std::vector<std::uint32_t> access;
  std::vector<std::int32_t> access_of(switches.size(), -1);
  std::vector<std::vector<std::pair<std::size_t, std::uint32_t>>> users(switches.size());
  for (std::size_t c = 0; c < classes.size(); ++c) {
    for (const auto& [s, hops] : classes[c].entries) {
      if (access_of[s] < 0) {
        access_of[s] = static_cast<std::int32_t>(access.size());
        access.push_back(s);
      }
      users[s].emplace_back(c, hops);
    }
  }
  std::vector<std::uint32_t> reach(classes.size() * access.size(), kFar);
  std::vector<std::uint16_t> dist;
  for (const std::uint32_t s : access) {
    switches.distances_to(s, dist);
    for (const auto& [c, hops] : users[s]) {
      std::uint32_t* row = reach.data() + c * access.size();
      for (std::size_t a = 0; a < access.size(); ++a) {
        const std::uint16_t d = dist[access[a]];
        if (d != SwitchGraph::kUnreached) {
          row[a] = std::min(row[a], hops + d);
        }
      }
    }
  }

  std::uint32_t diameter = 0;
  for (std::size_t c1 = 0; c1 < classes.size(); ++c1) {
    const std::uint32_t* row = reach.data() + c1 * access.size();
    for (std::size_t c2 = 0; c2 < classes.size(); ++c2) {
      std::uint32_t via_network = kFar;
      for (const auto& [s, hops] : classes[c2].entries) {
        via_network = std::min(via_network, row[access_of[s]] + hops);
      }
      const Class& x = classes[c1];
      const Class& y = classes[c2];
      if (!x.many_nodes && !y.many_nodes && x.node == y.node) {
        for (const std::uint32_t l1 : x.locals) {  // same node: inside, or out and back
          for (const std::uint32_t l2 : y.locals) {
            if (l1 != l2) {
              diameter = std::max(diameter, std::min(local[l1][t.gpu(l2)], via_network));
            }
          }
        }
      } else {
        diameter = std::max(diameter, via_network);
      }
    }
  }
  return diameter;
}

Summary summarize(const Fabric& fabric) {
  Summary s;
  const TopologySpec& spec = fabric.spec();
  s.name = spec.name;
  s.gpus = fabric.gpus();
  s.nodes = fabric.nodes();
  s.gpus_per_node = fabric.gpus_per_node();
  s.datacenters = fabric.datacenters();
  s.nics = fabric.nodes() * fabric.nics_per_node();
  s.scale_up_kind = spec.scale_up.kind;
  s.scale_out_kind = spec.scale_out.kind;
  s.nvls = fabric.nvls();
  s.rail_optimized = fabric.rail_optimized();

  std::vector<std::string> order = {"nvswitch", "pcie_switch", "host_bridge"};
  order.insert(order.end(), fabric.tier_names().begin(), fabric.tier_names().end());
  order.emplace_back("gateway");
  std::map<std::string, std::uint64_t> counts;
  for (const auto v : boost::make_iterator_range(boost::vertices(fabric.graph()))) {
    const VertexInfo& info = fabric.graph()[v];
    if (info.kind == VertexKind::kSwitch) {
      ++counts[fabric.tier_names().at(info.tier - 1u)];
    } else if (info.kind != VertexKind::kGpu && info.kind != VertexKind::kNic) {
      ++counts[std::string(vertex_kind_name(info.kind))];
    }
  }
  for (const std::string& name : order) {
    if (counts.count(name) != 0) {
      s.switches.emplace_back(name, counts[name]);
    }
  }

  std::vector<std::uint64_t> by_class(kLinkClassCount, 0);
  for (std::uint32_t c = 0; c < fabric.cable_count(); ++c) {
    ++by_class[static_cast<std::size_t>(fabric.cable(c).link_class)];
  }
  s.cables = fabric.cable_count();
  for (int c = 0; c < kLinkClassCount; ++c) {
    if (by_class[static_cast<std::size_t>(c)] != 0) {
      s.cables_by_class.emplace_back(link_class_name(static_cast<LinkClass>(c)),
                                     by_class[static_cast<std::size_t>(c)]);
    }
  }

  const NodeTemplate& t = fabric.node_template();
  double scale_up = 0;  // B/s
  for (const NodeTemplate::TemplateCable& c : t.cables()) {
    const bool touches_gpu0 = c.a == t.gpu(0) || c.b == t.gpu(0);
    const bool touches_nic = t.kind(c.a) == VertexKind::kNic || t.kind(c.b) == VertexKind::kNic;
    if (touches_gpu0 && !touches_nic) {
      scale_up += c.cable.bandwidth.bytes_per_s();
    }
  }
  s.scale_up_per_gpu = sim::Bandwidth::from_bytes_per_s(scale_up);
  s.scale_out_per_gpu = sim::Bandwidth::from_bytes_per_s(
      spec.scale_out.nic_bandwidth.bytes_per_s() * fabric.nics_per_node() / fabric.gpus_per_node());
  s.bisection = bisection(fabric);
  s.diameter_hops = diameter_hops(fabric);
  return s;
}

std::string format_summary(const Summary& s) {
  std::ostringstream out;
  out << "topology     " << s.name << ": " << s.nodes << " node" << (s.nodes == 1 ? "" : "s")
      << " x " << s.gpus_per_node << " GPUs, " << s.datacenters << " datacenter"
      << (s.datacenters == 1 ? "" : "s") << "\n";
  out << "scale-up     " << s.scale_up_kind << (s.nvls ? " (NVLS)" : "") << "\n";
  out << "scale-out    " << s.scale_out_kind << (s.rail_optimized ? " (rail-optimised)" : "")
      << "\n";
  out << "GPUs         " << s.gpus << "\n";
  out << "NICs         " << s.nics << "\n";
  out << "switches    ";
  if (s.switches.empty()) {
    out << " none";
  }
  for (std::size_t i = 0; i < s.switches.size(); ++i) {
    out << (i == 0 ? " " : ", ") << s.switches[i].first << " " << s.switches[i].second;
  }
  out << "\n";
  out << "cables       " << s.cables;
  for (std::size_t i = 0; i < s.cables_by_class.size(); ++i) {
    out << (i == 0 ? " (" : ", ") << s.cables_by_class[i].first << " "
        << s.cables_by_class[i].second;
  }
  out << (s.cables_by_class.empty() ? "" : ")") << "\n";
  out << "injection    " << number(s.scale_up_per_gpu.GBps()) << " GB/s scale-up, "
      << number(s.scale_out_per_gpu.GBps()) << " GB/s scale-out, per GPU per direction\n";
  out << "bisection    " << number(s.bisection.GBps())
      << " GB/s per direction (max flow, first half of the GPUs to the second)\n";
  out << "diameter     " << s.diameter_hops << " hops, GPU to GPU\n";
  return out.str();
}

nlohmann::json summary_json(const Summary& s) {
  nlohmann::json switches = nlohmann::json::object();
  for (const auto& [name, count] : s.switches) {
    switches[name] = count;
  }
  nlohmann::json cables = nlohmann::json::object();
  for (const auto& [name, count] : s.cables_by_class) {
    cables[name] = count;
  }
  return nlohmann::json{{"name", s.name},
                        {"gpus", s.gpus},
                        {"nodes", s.nodes},
                        {"gpus_per_node", s.gpus_per_node},
                        {"datacenters", s.datacenters},
                        {"nics", s.nics},
                        {"scale_up_kind", s.scale_up_kind},
                        {"scale_out_kind", s.scale_out_kind},
                        {"nvls", s.nvls},
                        {"rail_optimized", s.rail_optimized},
                        {"switches", switches},
                        {"cables", s.cables},
                        {"cables_by_class", cables},
                        {"scale_up_GBps_per_gpu", s.scale_up_per_gpu.GBps()},
                        {"scale_out_GBps_per_gpu", s.scale_out_per_gpu.GBps()},
                        {"bisection_GBps", s.bisection.GBps()},
                        {"diameter_hops", s.diameter_hops}};
}

std::string to_dot(const Fabric& fabric) {
  const Graph& graph = fabric.graph();
  std::ostringstream out;
  out << "graph fabric {\n  node [shape=box, fontsize=10];\n";
  for (const auto v : boost::make_iterator_range(boost::vertices(graph))) {
    const VertexInfo& info = graph[v];
    out << "  v" << v << " [label=\"";
    switch (info.kind) {
      case VertexKind::kGpu:
        out << "gpu " << v;
        break;
      case VertexKind::kNic:
        out << "nic " << info.node << "." << info.index;
        break;
      case VertexKind::kSwitch:
        out << fabric.tier_names().at(info.tier - 1u) << " " << info.index;
        break;
      case VertexKind::kGateway:
        out << "gateway";
        break;
      default:
        out << vertex_kind_name(info.kind) << " " << info.node << "." << info.index;
        break;
    }
    if (fabric.datacenters() > 1) {
      out << " dc" << info.datacenter;
    }
    out << "\"];\n";
  }
  for (std::uint32_t c = 0; c < fabric.cable_count(); ++c) {
    const auto [a, b] = fabric.cable_ends(c);
    const Cable& cable = fabric.cable(c);
    out << "  v" << a << " -- v" << b << " [label=\"" << link_class_name(cable.link_class) << " "
        << number(cable.bandwidth.GBps()) << "\"];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace attnsim::topology
