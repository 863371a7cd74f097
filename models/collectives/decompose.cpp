// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/decompose.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <vector>

namespace attnsim::models {

namespace {

using Ranks = std::vector<std::uint32_t>;

// The collective's ranks grouped by node (nodes ascending, ranks by local index).
std::vector<Ranks> by_node(const Layout& layout, std::span<const std::uint32_t> ranks) {
  std::map<std::uint32_t, Ranks> nodes;
  for (std::uint32_t r : ranks) {
    nodes[layout.node_of(r)].push_back(r);
  }
  std::vector<Ranks> out;
  for (auto& [node, list] : nodes) {
    std::sort(list.begin(), list.end());
    out.push_back(std::move(list));
  }
  return out;
}

// by_node(layout, ranks).size() without the lists: every point-to-point send asks.
std::size_t node_count(const Layout& layout, std::span<const std::uint32_t> ranks) {
  if (ranks.size() == 2) {
    return layout.node_of(ranks[0]) == layout.node_of(ranks[1]) ? 1 : 2;
  }
  std::vector<std::uint32_t> nodes;
  nodes.reserve(ranks.size());
  for (std::uint32_t r : ranks) {
    nodes.push_back(layout.node_of(r));
  }
  std::sort(nodes.begin(), nodes.end());
  return static_cast<std::size_t>(std::unique(nodes.begin(), nodes.end()) - nodes.begin());
}

bool uniform(const std::vector<Ranks>& nodes) {
  return std::all_of(nodes.begin(), nodes.end(),
                     [&](const Ranks& r) { return r.size() == nodes.front().size(); });
}

// Parent of r in the in-order binary tree over 0..n-1 that NCCL's double binary tree uses
// (NVIDIA/nccl:src/graph/trees.cc): strip r's lowest set bit b and set the next bit up,
// falling back to just stripping b when that leaves the range. The root is 0.
std::uint32_t btree_parent(std::uint32_t r, std::uint32_t n) {
  const std::uint32_t b = r & (~r + 1);
  const std::uint32_t up = (r ^ b) | (b << 1);
  return up < n ? up : (r ^ b);
}

class Emitter {
 public:
  Emitter(sim::Trace& trace, const Layout& layout, sim::TagId tag, sim::OpId start,
          const Prediction& plan, int nodes, double correction)
      : trace_(trace), tag_(tag), start_(start), correction_(correction) {
    const NcclConstants& k = layout.nccl;
    const auto col = static_cast<std::size_t>(std::min(nodes - 1, 2));
    const double ll_max = nodes == 1   ? k.ll_max_bw_one_node
                          : nodes == 2 ? k.ll_max_bw_two_nodes
                                       : k.ll_max_bw_many_nodes;
    const bool tree = plan.algo == Algo::kTree;
    switch (plan.proto) {
      case Proto::kLL:
        wire_ = 2.0;  // 8 data bytes per 16-byte line
        channel_cap_GBps_ = ll_max / layout.channels;
        break;
      case Proto::kLL128:
        wire_ = 1.0 / 0.92;  // tuning.cc: LL128 reaches 0.92 of the Simple bandwidth
        channel_cap_GBps_ = tree ? k.per_ch_tree_ll128[col] : k.per_ch_ring_ll128;
        break;
      case Proto::kSimple:
        wire_ = 1.0;
        channel_cap_GBps_ = tree ? k.per_ch_tree[col] : std::numeric_limits<double>::infinity();
        break;
    }
  }

  /// Moves `payload` bytes from src to dst over `channels` parallel channels; each channel's
  /// payload rate is at most `channel_cap_GBps` (defaults to the protocol's cap).
  void send(sim::EndpointId src, sim::EndpointId dst, double payload, double channels,
            double channel_cap_GBps = -1) {
    if (payload <= 0) {
      return;
    }
    const double cap = channel_cap_GBps >= 0 ? channel_cap_GBps : channel_cap_GBps_;
    sim::TransferOptions o;
    o.multiplicity = channels;
    o.max_rate = sim::Bandwidth::from_GBps(cap * wire_);
    o.salt = salt_++;
    const sim::OpId deps[] = {start_};
    parts_.push_back(
        trace_.transfer(src, dst, payload / channels * wire_ * correction_, tag_, deps, o));
  }

  /// The protocol's per-channel payload cap (infinite for Simple on rings).
  double protocol_cap_GBps() const { return channel_cap_GBps_; }

  /// Salt for the next send, in emission order (a bundle's members take theirs one by one, so
  /// they are routed as they would be as separate sends).
  std::uint64_t next_salt() { return salt_++; }

  /// Moves `payload` bytes from each member's src to its dst, as send() would one by one, as
  /// one bundle (sim/trace.h): for traffic that starts together and moves the same bytes.
  /// `member_cap_GBps` caps each member's payload rate instead of the protocol's cap.
  void send_bundle(std::span<const sim::Member> members, double payload, double channels,
                   double member_cap_GBps = -1) {
    if (payload <= 0 || members.empty()) {
      return;
    }
    const double cap = member_cap_GBps >= 0 ? member_cap_GBps : channel_cap_GBps_;
    sim::TransferOptions o;
    o.multiplicity = channels;
    o.max_rate = sim::Bandwidth::from_GBps(cap * wire_);
    const sim::OpId deps[] = {start_};
    parts_.push_back(
        trace_.transfer_bundle(members, payload / channels * wire_ * correction_, tag_, deps, o));
  }

  sim::OpId finish() { return trace_.delay(sim::Time(), tag_, parts_); }

  /// Room for `members` more bundle members (an all-to-all's are hundreds of millions).
  void reserve_members(std::size_t members) { trace_.reserve_members(members); }

 private:
  sim::Trace& trace_;
  sim::TagId tag_;
  sim::OpId start_;
  double correction_ = 1;
  double wire_ = 1;
  double channel_cap_GBps_ = std::numeric_limits<double>::infinity();
  std::uint64_t salt_ = 0;
  std::vector<sim::OpId> parts_;
};

void emit_ring(Emitter& e, const Layout& layout, Collective c, const std::vector<Ranks>& nodes,
               double bytes) {
  std::size_t n = 0;
  for (const Ranks& r : nodes) {
    n += r.size();
  }
  const double nch = layout.channels;
  // One group of channels per NIC rail across nodes; on one node every channel is alike.
  const std::size_t ppn = nodes.front().size();
  std::size_t groups = 1;
  if (nodes.size() > 1) {
    groups = std::max<std::size_t>(1, std::min<std::size_t>(layout.nics_per_node, ppn));
    groups = std::min<std::size_t>(groups, static_cast<std::size_t>(nch));
  }
  const double per_group = nch / static_cast<double>(groups);
  const double dn = static_cast<double>(n);
  double per_rank = 0;  // bytes each rank sends in total
  switch (c) {
    case Collective::kAllReduce:
      per_rank = 2 * (dn - 1) / dn * bytes;
      break;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
      per_rank = (dn - 1) / dn * bytes;
      break;
    default:
      per_rank = bytes;  // broadcast / reduce: every hop of the chain carries S
      break;
  }
  for (std::size_t g = 0; g < groups; ++g) {
    Ranks order;
    for (const Ranks& list : nodes) {
      // Enter each node at the GPU on rail g so the inter-node hop stays on that rail.
      std::size_t first = 0;
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (layout.rail_of(list[i]) == g) {
          first = i;
          break;
        }
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        order.push_back(list[(first + i) % list.size()]);
      }
    }
    const double share = per_rank * per_group / nch;
    if (share <= 0) {
      continue;
    }
    // The hops inside nodes and the hops between them, each a bundle: every hop of a kind
    // moves the same bytes over the same kind of links, all at once (pipelined).
    std::vector<sim::Member> inside;
    std::vector<sim::Member> across;
    const auto hop = [&](std::uint32_t src, std::uint32_t dst) {
      const sim::Member m{src, dst, e.next_salt()};
      (layout.node_of(src) == layout.node_of(dst) ? inside : across).push_back(m);
    };
    if (c == Collective::kBroadcast || c == Collective::kReduce) {
      // The chain starts (broadcast) or ends (reduce) at the root, the first rank given.
      const auto root = std::find(order.begin(), order.end(), nodes.front().front());
      std::rotate(order.begin(), root, order.end());
      const bool down = c == Collective::kBroadcast;
      for (std::size_t i = 0; i + 1 < n; ++i) {
        hop(down ? order[i] : order[i + 1], down ? order[i + 1] : order[i]);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        hop(order[i], order[(i + 1) % n]);
      }
    }
    e.send_bundle(inside, share, per_group);
    e.send_bundle(across, share, per_group);
  }
}

void emit_tree(Emitter& e, const Layout& layout, const std::vector<Ranks>& nodes, double bytes) {
  const double per_tree_channels = std::max(1.0, layout.channels / 2.0);
  const double half = bytes / 2;
  const auto count = static_cast<std::uint32_t>(nodes.size());
  for (int t = 0; t < 2; ++t) {
    // Tree 0 is rooted in chain order from each node's first GPU, tree 1 from its last, so
    // the two trees use different GPUs and NIC rails at the node boundary.
    auto head = [&](std::uint32_t k) { return t == 0 ? nodes[k].front() : nodes[k].back(); };
    for (const Ranks& list : nodes) {
      for (std::size_t i = 0; i + 1 < list.size(); ++i) {
        const std::uint32_t near = t == 0 ? list[i] : list[i + 1];
        const std::uint32_t far = t == 0 ? list[i + 1] : list[i];
        e.send(far, near, half, per_tree_channels);  // reduce toward the head
        e.send(near, far, half, per_tree_channels);  // broadcast back
      }
    }
    for (std::uint32_t k = 1; k < count; ++k) {
      // Tree 1 mirrors tree 0's node order.
      const std::uint32_t child = t == 0 ? k : count - 1 - k;
      const std::uint32_t p = btree_parent(k, count);
      const std::uint32_t parent = t == 0 ? p : count - 1 - p;
      e.send(head(child), head(parent), half, per_tree_channels);
      e.send(head(parent), head(child), half, per_tree_channels);
    }
  }
}

void emit_nvls(Emitter& e, const Layout& layout, const std::vector<Ranks>& nodes, double bytes,
               bool across_nodes) {
  const double nch = layout.channels;
  for (const Ranks& list : nodes) {
    const sim::EndpointId sw = layout.switch_of(layout.node_of(list.front()));
    for (std::uint32_t r : list) {
      e.send(r, sw, bytes, nch, layout.nvls_GBps / nch);
      e.send(sw, r, bytes, nch, layout.nvls_GBps / nch);
    }
  }
  if (!across_nodes) {
    return;
  }
  // NVLSTree: GPU j of every node carries shard j (S/ppn) up and down the nodes, half on a
  // binary tree and half on its mirror (NCCL's double binary tree), so every node is
  // interior in at most one of the two and no NIC carries more than about S/ppn x 2.
  const std::size_t ppn = nodes.front().size();
  const auto count = static_cast<std::uint32_t>(nodes.size());
  const double half_shard = bytes / static_cast<double>(ppn) / 2;
  for (std::size_t j = 0; j < ppn; ++j) {
    for (int mirrored = 0; mirrored < 2; ++mirrored) {
      for (std::uint32_t k = 1; k < count; ++k) {
        const std::uint32_t p = btree_parent(k, count);
        const std::uint32_t child = mirrored != 0 ? count - 1 - k : k;
        const std::uint32_t parent = mirrored != 0 ? count - 1 - p : p;
        e.send(nodes[child][j], nodes[parent][j], half_shard, 1);
        e.send(nodes[parent][j], nodes[child][j], half_shard, 1);
      }
    }
  }
}

void emit_all_to_all(Emitter& e, const Layout& layout, const std::vector<Ranks>& nodes,
                     double bytes) {
  std::size_t n = 0;
  for (const Ranks& r : nodes) {
    n += r.size();
  }
  const double per_pair = bytes / static_cast<double>(n);
  if (per_pair <= 0) {
    return;
  }
  if (nodes.size() == 1 || nodes.front().size() == 1 || !uniform(nodes)) {
    // Pairs start together with the same bytes: one bundle inside a node, else one from
    // each source (whose members then all cross its own links).
    e.reserve_members(n * (n - 1));
    std::vector<sim::Member> pairs;
    for (const Ranks& a : nodes) {
      for (std::uint32_t src : a) {
        if (nodes.size() > 1) {
          pairs.clear();
        }
        for (const Ranks& b : nodes) {
          for (std::uint32_t dst : b) {
            if (src != dst) {
              pairs.push_back(sim::Member{src, dst, e.next_salt()});
            }
          }
        }
        if (nodes.size() > 1) {
          e.send_bundle(pairs, per_pair, 1);
        }
      }
    }
    if (nodes.size() == 1) {
      // Every GPU sends to its n - 1 peers at once, together at NCCL's p2p rate.
      e.send_bundle(pairs, per_pair, 1,
                    std::min(e.protocol_cap_GBps(), layout.p2p_share_GBps(n - 1)));
    }
    return;
  }
  // PXN form: source i sends everything for position p of any node to its local GPU p
  // (N x S/n bytes, including the intra-node pair), and GPU p forwards all ppn sources' data
  // for position p of node B straight to B's GPU p (ppn x S/n bytes) on rail p.
  // Bundles: each node's NVLink exchange, and everything GPU p of a node forwards (one
  // member per other node, all through its own NIC).
  const std::size_t ppn = nodes.front().size();
  const double count = static_cast<double>(nodes.size());
  e.reserve_members(n * (ppn - 1) + n * (nodes.size() - 1));
  std::vector<sim::Member> inside;
  for (const Ranks& a : nodes) {
    inside.clear();
    for (std::size_t i = 0; i < ppn; ++i) {
      for (std::size_t p = 0; p < ppn; ++p) {
        if (i != p) {
          inside.push_back(sim::Member{a[i], a[p], e.next_salt()});
        }
      }
    }
    e.send_bundle(inside, per_pair * count, 1,
                  std::min(e.protocol_cap_GBps(), layout.p2p_share_GBps(ppn - 1)));
  }
  std::vector<std::vector<sim::Member>> across(ppn);
  for (const Ranks& a : nodes) {
    for (auto& list : across) {
      list.clear();
    }
    for (const Ranks& b : nodes) {
      if (&a == &b) {
        continue;
      }
      for (std::size_t p = 0; p < ppn; ++p) {
        across[p].push_back(sim::Member{a[p], b[p], e.next_salt()});
      }
    }
    for (const auto& list : across) {
      e.send_bundle(list, per_pair * static_cast<double>(ppn), 1);
    }
  }
}

}  // namespace

namespace {

double top_speed(int generation) {
  return generation >= 3 ? 90.0 : generation == 2 ? 60.0 : 40.0;
}

}  // namespace

double Layout::p2p_share_GBps(std::size_t peers) const {
  return p2p_GBps > 0 && peers > 0 ? p2p_GBps / static_cast<double>(peers)
                                   : std::numeric_limits<double>::infinity();
}

int nccl_channels(double bw_GBps, int generation) {
  return 2 * std::max(1, static_cast<int>(std::ceil(bw_GBps / top_speed(generation))));
}

int nccl_connected_channels(double bw_GBps, int generation) {
  return std::min(32,
                  4 * std::max(1, static_cast<int>(std::floor(bw_GBps / top_speed(generation)))));
}

Corrections::Lookup correction_for(const Layout& layout, Collective c,
                                   std::span<const std::uint32_t> ranks, double bytes) {
  if (!layout.corrections) {
    return {};
  }
  const auto nodes = static_cast<int>(node_count(layout, ranks));
  return layout.corrections->at(c, static_cast<int>(ranks.size()), nodes, bytes);
}

CommShape comm_shape(const Layout& layout, std::span<const std::uint32_t> ranks) {
  CommShape s;
  s.ranks = static_cast<int>(ranks.size());
  s.nodes = static_cast<int>(node_count(layout, ranks));
  s.intra = layout.intra;
  s.nvls = layout.nvls && layout.nvswitch;
  s.bw_intra_GBps = layout.scale_up_GBps;
  // Across nodes a ring (or tree) leaves each node once per rail it uses, so its bus
  // bandwidth is bounded by the NICs of the rails the communicator's GPUs sit on.
  const double ppn = static_cast<double>(ranks.size()) / static_cast<double>(s.nodes);
  const double nics = std::min<double>(layout.nics_per_node, ppn);
  s.bw_inter_GBps = s.nodes > 1 ? layout.nic_GBps * nics : 0;
  s.channels = layout.channels;
  return s;
}

sim::OpId emit_collective(sim::Trace& trace, const Layout& layout, Collective c,
                          std::span<const std::uint32_t> ranks, double bytes,
                          const Prediction& plan, sim::TagId tag, std::span<const sim::OpId> deps) {
  if (ranks.size() < 2) {
    throw std::invalid_argument("a collective needs at least 2 ranks");
  }
  const std::vector<Ranks> nodes = by_node(layout, ranks);
  const double c_factor = layout.corrections ? layout.corrections
                                                   ->at(c, static_cast<int>(ranks.size()),
                                                        static_cast<int>(nodes.size()), bytes)
                                                   .factor
                                             : 1.0;
  const sim::OpId start = trace.delay(sim::Time::from_us(plan.latency_us * c_factor), tag, deps);
  Emitter e(trace, layout, tag, start, plan, static_cast<int>(nodes.size()), c_factor);
  switch (plan.algo) {
    case Algo::kRing:
      emit_ring(e, layout, c, nodes, bytes);
      break;
    case Algo::kTree:
      emit_tree(e, layout, nodes, bytes);
      break;
    case Algo::kNvls:
    case Algo::kNvlsTree:
      emit_nvls(e, layout, nodes, bytes, plan.algo == Algo::kNvlsTree);
      break;
    case Algo::kPairwise:
      if (c == Collective::kAllToAll) {
        emit_all_to_all(e, layout, nodes, bytes);
      } else {
        Ranks order;
        for (const Ranks& list : nodes) {
          order.insert(order.end(), list.begin(), list.end());
        }
        for (std::size_t i = 0; i < order.size(); ++i) {
          const std::uint32_t src = order[i];
          const std::uint32_t dst = order[(i + 1) % order.size()];
          const bool inside = layout.node_of(src) == layout.node_of(dst);
          e.send(src, dst, bytes, 1,
                 inside ? std::min(e.protocol_cap_GBps(), layout.p2p_share_GBps(1)) : -1);
        }
      }
      break;
  }
  return e.finish();
}

sim::OpId emit_send(sim::Trace& trace, const Layout& layout, std::uint32_t src, std::uint32_t dst,
                    double bytes, sim::TagId tag, std::span<const sim::OpId> deps,
                    double messages) {
  const std::uint32_t pair[] = {src, dst};
  const Prediction plan = choose(layout.nccl, comm_shape(layout, pair), Collective::kSendRecv,
                                 bytes / messages, {}, {});
  // One transfer op: the channels as its multiplicity, NCCL's p2p latency (once per message)
  // added after the last byte instead of before the first, which times a message alone on
  // its path identically and keeps a ring step at one op per rank.
  sim::TransferOptions o;
  o.multiplicity = layout.channels;
  o.extra_latency = sim::Time::from_us(plan.latency_us * messages);
  o.salt = 0;
  if (layout.node_of(src) == layout.node_of(dst)) {
    o.max_rate = sim::Bandwidth::from_GBps(layout.p2p_share_GBps(1) / layout.channels);
  }
  return trace.transfer(src, dst, bytes / layout.channels, tag, deps, o);
}

}  // namespace attnsim::models
