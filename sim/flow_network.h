// SPDX-License-Identifier: Apache-2.0
// Max-min fair sharing of link bandwidth among flows (the fluid model of SimGrid's lmm and
// of every flow-level network simulator).
//
// Model. Flow f crosses the links of its path P_f, represents w_f identical flows (its
// multiplicity) and may carry a per-flow cap m_f. Its rate x_f is the rate of EACH of its w_f
// members. For every link l with capacity C_l (bytes/s):
//     sum over flows f crossing l of w_f x_f  <=  C_l,        and  x_f <= m_f.
// Max-min fairness: no x_f can grow without shrinking some x_g <= x_f. Progressive filling
// finds it: raise every unfixed rate together; the first link to saturate (smallest
// residual C_l / sum of unfixed w_f) or cap to bind fixes the flows on it at that share;
// repeat with the residual capacities.
//
// Worked example (three flows, two links):
//     f1: A -[l1 10]-> B,  f2: B -[l2 4]-> C,  f3: A -[l1]-> B -[l2]-> C
//     l2 saturates first: share 4/2 = 2, so x2 = x3 = 2. Then l1 has 10 - 2 = 8 left for f1
//     alone: x1 = 8. Check: l1 carries 8 + 2 = 10, l2 carries 2 + 2 = 4; both saturated.
//
// Incremental solving. Adding or removing a flow can change the rates of only the flows
// connected to it through shared links (transitively): the component. solve() re-runs
// progressive filling on the components touched since the last solve and reports which flows
// changed rate, so a change among ten thousand independent flows costs one component's work.
//
// Bundles. A bundle stands for M member flows with their own paths, all of multiplicity w and
// cap m, that share one rate: on link l it weighs w x (members crossing l). Progressive
// filling on the bundle is step for step the filling of its members as separate flows as
// long as the members are fixed together, i.e. whenever a step fixes the bundle, every member
// crosses a link that saturates in that step (or the cap binds, which it does for all alike):
// the unfixed weight on every link, hence every share, is then the same in both views.
// Max-min rates are unique, so under that condition the bundle's rate is exactly each member's
// rate. solve() checks the condition every time it fixes a bundle (at once when the link
// fixing it is crossed by every member, else member by member) and lists the bundles that fail
// it in inexact(): their rates, and those of flows in their components, are not max-min fair
// until the caller replaces each by its members (remove, then add each member path) and solves
// again. A collective's symmetric traffic (all-to-all, ring hops) passes the check, so
// millions of flows cost what thousands do.
//
// A bundle keeps only the union of its member paths with per-link member counts, not the
// member paths themselves (a 32,768-GPU all-to-all has 134 M members): when the member-by-
// member check or the caller needs one, the member router set with set_member_router()
// computes it again (the replay re-routes it).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "sim/network.h"

namespace attnsim::sim {

using FlowId = std::uint32_t;

class FlowNetwork {
 public:
  /// `capacities` in bytes/s, indexed by LinkId.
  explicit FlowNetwork(std::vector<double> capacities);

  /// Adds a flow over `path` (may be empty: then only its cap limits it; an uncapped flow on
  /// an empty path gets an infinite rate). `multiplicity` >= 1 identical members.
  FlowId add(std::span<const LinkId> path, double multiplicity = 1.0,
             double cap = std::numeric_limits<double>::infinity());
  /// Adds a bundle of member flows (see the header comment): member i crosses
  /// links[ends[i-1] .. ends[i]) (ends[-1] = 0), each member path non-empty and without
  /// repeated links. One member is a plain flow (over its links sorted).
  FlowId add_bundle(std::span<const LinkId> links, std::span<const std::uint32_t> ends,
                    double multiplicity = 1.0,
                    double cap = std::numeric_limits<double>::infinity());
  /// The same, one member at a time: begin_bundle(), add_member() for each (same conditions
  /// on its path), end_bundle(); no other call in between.
  void begin_bundle();
  void add_member(std::span<const LinkId> path);
  FlowId end_bundle(double multiplicity = 1.0,
                    double cap = std::numeric_limits<double>::infinity());

  /// Computes path of member m of bundle f into `path` (cleared first): the path the member
  /// was added with. Needed once a bundle has more than one member and solve() runs.
  using MemberRouter = std::function<void(FlowId f, std::uint32_t m, std::vector<LinkId>& path)>;

  void set_member_router(MemberRouter router) { member_router_ = std::move(router); }

  /// Removes flows (each active, each once). Removing a batch at once costs one pass over
  /// each affected link, however many of its flows leave.
  void remove(std::span<const FlowId> flows);

  void remove(FlowId f) { remove(std::span<const FlowId>(&f, 1)); }

  /// Room for `flows` concurrent flows crossing `path_entries` links in all.
  void reserve(std::size_t flows, std::size_t path_entries);

  /// Recomputes rates where adds and removes happened; returns the flows whose rate changed
  /// (including new flows), in increasing id order.
  const std::vector<FlowId>& solve();

  /// Bundles the last solve() could not give one max-min fair rate, in increasing id order;
  /// the caller must split them (remove, add the members) and solve again.
  const std::vector<FlowId>& inexact() const { return inexact_; }

  /// Rate of each member of `f`, bytes/s (valid after solve()).
  double rate(FlowId f) const { return flows_[f].rate; }

  double multiplicity(FlowId f) const { return flows_[f].weight; }

  /// Members of `f`: 1 for a plain flow.
  std::uint32_t members(FlowId f) const { return flows_[f].members; }

  /// The links `f` crosses, each once (a bundle: the union of its members' paths, sorted).
  std::span<const LinkId> path(FlowId f) const;
  /// How many members of `f` cross the i-th link of path(f).
  std::uint32_t path_count(FlowId f, std::size_t i) const;
  /// Path of member `m` of bundle `f` (members(f) > 1) into `path`, from the member router.
  void member_path(FlowId f, std::uint32_t m, std::vector<LinkId>& path) const;
  /// Sum of w_f x_f over the flows on `l`, members counted.
  double load(LinkId l) const;

  std::size_t active_flows() const { return active_; }

  std::size_t link_count() const { return capacity_.size(); }

 private:
  struct Flow {
    std::size_t path_begin = 0;  // into paths_ and slots_
    std::uint32_t path_size = 0;
    std::uint32_t members = 1;
    double weight = 1;
    double cap = 0;
    double rate = 0;
    bool active = false;
    std::uint32_t mark = 0;   // visit stamp of the component search
    std::uint32_t fixed = 0;  // stamp: rate fixed in the current fill
  };

  // A flow on a link, with how many of its members cross the link (1 for a plain flow).
  struct Entry {
    FlowId flow;
    std::uint32_t count;
  };

  FlowId new_flow();
  void push_entry(FlowId f, LinkId l, std::uint32_t count);
  void fill();
  void fix(FlowId f, double rate);
  bool members_saturated(FlowId f);
  void compact_paths();

  std::vector<double> capacity_;
  std::vector<std::vector<Entry>> on_link_;  // active flows per link, unordered
  std::vector<std::uint32_t> link_mark_;
  std::vector<std::uint64_t> link_touch_;  // stamp: link queued in the current filling step
  std::uint64_t touch_stamp_ = 0;
  std::vector<LinkId> touched_;
  std::vector<LinkId> batch_;              // links saturating in the current step
  std::vector<std::uint64_t> batch_mark_;  // stamp: link in the current step's batch
  std::uint64_t batch_stamp_ = 0;
  std::vector<Flow> flows_;
  std::vector<LinkId> paths_;         // arena of paths
  std::vector<std::uint32_t> slots_;  // slots_[i]: index of the flow in on_link_[paths_[i]]
  std::size_t dead_path_entries_ = 0;
  MemberRouter member_router_;
  std::vector<LinkId> member_scratch_;     // members_saturated's: one member's path
  std::vector<LinkId> sorted_;             // the bundle being built: its members' links, once
  std::vector<std::uint32_t> link_count_;  // the bundle being built: members per link
  std::uint32_t bundle_members_ = 0;       // the bundle being built: members so far
  std::vector<FlowId> inexact_;
  std::vector<FlowId> free_;  // ids of removed flows, reused
  std::vector<LinkId> dirty_links_;
  std::vector<FlowId> dirty_flows_;  // new flows on empty paths
  std::vector<FlowId> changed_;
  std::uint32_t stamp_ = 0;
  std::size_t active_ = 0;
  // Scratch for fill(), kept to avoid reallocation: the component being solved.
  std::vector<FlowId> comp_flows_;
  std::vector<LinkId> comp_links_;
  std::vector<double> residual_;
  std::vector<double> weight_sum_;
};

}  // namespace attnsim::sim
