// SPDX-License-Identifier: Apache-2.0
#include "sim/flow_network.h"

#include <algorithm>
#include <queue>
#include <stdexcept>

namespace attnsim::sim {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// A candidate bottleneck: a link (share = residual / unfixed weight) or a flow's cap.
struct Candidate {
  double share;
  std::uint32_t id;
  bool is_flow;
};

struct LargerShare {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.share != b.share) {
      return a.share > b.share;
    }
    if (a.is_flow != b.is_flow) {
      return a.is_flow;  // links first at equal share: deterministic either way
    }
    return a.id > b.id;
  }
};

}  // namespace

FlowNetwork::FlowNetwork(std::vector<double> capacities)
    : capacity_(std::move(capacities)),
      on_link_(capacity_.size()),
      link_mark_(capacity_.size(), 0),
      link_touch_(capacity_.size(), 0),
      batch_mark_(capacity_.size(), 0),
      link_count_(capacity_.size(), 0),
      residual_(capacity_.size(), 0),
      weight_sum_(capacity_.size(), 0) {}

FlowId FlowNetwork::new_flow() {
  FlowId f = 0;
  if (free_.empty()) {
    f = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
  } else {
    f = free_.back();
    free_.pop_back();
  }
  return f;
}

void FlowNetwork::push_entry(FlowId f, LinkId l, std::uint32_t count) {
  paths_.push_back(l);
  slots_.push_back(static_cast<std::uint32_t>(on_link_[l].size()));
  on_link_[l].push_back(Entry{f, count});
  dirty_links_.push_back(l);
}

FlowId FlowNetwork::add(std::span<const LinkId> path, double multiplicity, double cap) {
  const FlowId f = new_flow();
  Flow& flow = flows_[f];
  flow.path_begin = paths_.size();
  flow.path_size = static_cast<std::uint32_t>(path.size());
  flow.members = 1;
  flow.weight = multiplicity;
  flow.cap = cap;
  flow.rate = 0;
  flow.active = true;
  for (LinkId l : path) {
    push_entry(f, l, 1);
  }
  if (path.empty()) {
    dirty_flows_.push_back(f);
  }
  ++active_;
  return f;
}

FlowId FlowNetwork::add_bundle(std::span<const LinkId> links, std::span<const std::uint32_t> ends,
                               double multiplicity, double cap) {
  begin_bundle();
  std::uint32_t begin = 0;
  for (std::uint32_t end : ends) {
    add_member(links.subspan(begin, end - begin));
    begin = end;
  }
  return end_bundle(multiplicity, cap);
}

void FlowNetwork::begin_bundle() {
  ++touch_stamp_;
  sorted_.clear();
  bundle_members_ = 0;
}

void FlowNetwork::add_member(std::span<const LinkId> path) {
  // The union of the member paths, each link once with the number of members crossing it.
  for (LinkId l : path) {
    if (link_touch_[l] != touch_stamp_) {
      link_touch_[l] = touch_stamp_;
      link_count_[l] = 0;
      sorted_.push_back(l);
    }
    ++link_count_[l];
  }
  ++bundle_members_;
}

FlowId FlowNetwork::end_bundle(double multiplicity, double cap) {
  // Sorted: remove() finds a link in a bundle's path by bisection.
  std::sort(sorted_.begin(), sorted_.end());
  if (bundle_members_ == 1) {
    return add(sorted_, multiplicity, cap);
  }
  const FlowId f = new_flow();
  Flow& flow = flows_[f];
  flow.members = bundle_members_;
  flow.path_begin = paths_.size();
  for (LinkId l : sorted_) {
    push_entry(f, l, link_count_[l]);
  }
  flow.path_size = static_cast<std::uint32_t>(sorted_.size());
  flow.weight = multiplicity;
  flow.cap = cap;
  flow.rate = 0;
  flow.active = true;
  ++active_;
  return f;
}

void FlowNetwork::reserve(std::size_t flows, std::size_t path_entries) {
  flows_.reserve(flows);
  paths_.reserve(path_entries);
  slots_.reserve(path_entries);
}

void FlowNetwork::remove(std::span<const FlowId> flows) {
  ++touch_stamp_;
  touched_.clear();
  for (FlowId f : flows) {
    Flow& flow = flows_[f];
    flow.active = false;
    for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
      const LinkId l = paths_[i];
      if (link_touch_[l] != touch_stamp_) {
        link_touch_[l] = touch_stamp_;
        touched_.push_back(l);
      }
    }
  }
  // Compact each affected link's list once, telling the flows that moved their new slot.
  for (LinkId l : touched_) {
    std::vector<Entry>& list = on_link_[l];
    std::size_t kept = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const FlowId g = list[i].flow;
      if (!flows_[g].active) {
        continue;
      }
      if (kept != i) {
        list[kept] = list[i];
        const Flow& moved = flows_[g];
        const auto begin = paths_.begin() + static_cast<std::ptrdiff_t>(moved.path_begin);
        const auto end = begin + moved.path_size;
        // A bundle's path is sorted (add_bundle): find the link by bisection.
        const auto at =
            moved.members > 1 ? std::lower_bound(begin, end, l) : std::find(begin, end, l);
        slots_[static_cast<std::size_t>(at - paths_.begin())] = static_cast<std::uint32_t>(kept);
      }
      ++kept;
    }
    list.resize(kept);
    dirty_links_.push_back(l);
  }
  for (FlowId f : flows) {
    Flow& flow = flows_[f];
    dead_path_entries_ += flow.path_size;
    flow.path_size = 0;
    flow.members = 1;
    free_.push_back(f);
    --active_;
  }
  if (dead_path_entries_ > 1'000'000 && dead_path_entries_ > paths_.size() / 2) {
    compact_paths();
  }
}

void FlowNetwork::compact_paths() {
  std::vector<LinkId> paths;
  std::vector<std::uint32_t> slots;
  paths.reserve(paths_.size() - dead_path_entries_);
  slots.reserve(paths.capacity());
  for (Flow& flow : flows_) {
    if (!flow.active) {
      continue;
    }
    const std::size_t begin = paths.size();
    for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
      paths.push_back(paths_[i]);
      slots.push_back(slots_[i]);
    }
    flow.path_begin = begin;
  }
  paths_ = std::move(paths);
  slots_ = std::move(slots);
  dead_path_entries_ = 0;
}

std::span<const LinkId> FlowNetwork::path(FlowId f) const {
  const Flow& flow = flows_[f];
  return {paths_.data() + flow.path_begin, flow.path_size};
}

std::uint32_t FlowNetwork::path_count(FlowId f, std::size_t i) const {
  const Flow& flow = flows_[f];
  const std::size_t at = flow.path_begin + i;
  return on_link_[paths_[at]][slots_[at]].count;
}

void FlowNetwork::member_path(FlowId f, std::uint32_t m, std::vector<LinkId>& path) const {
  if (!member_router_) {
    throw std::logic_error("FlowNetwork: a bundle's member path needs a member router");
  }
  path.clear();
  member_router_(f, m, path);
}

double FlowNetwork::load(LinkId l) const {
  double sum = 0;
  for (const Entry& e : on_link_[l]) {
    sum += flows_[e.flow].weight * e.count * flows_[e.flow].rate;
  }
  return sum;
}

const std::vector<FlowId>& FlowNetwork::solve() {
  changed_.clear();
  inexact_.clear();
  ++stamp_;
  // Component search: every active flow reachable from a touched link through shared links.
  comp_flows_.clear();
  comp_links_.clear();
  for (LinkId l : dirty_links_) {
    if (link_mark_[l] != stamp_) {
      link_mark_[l] = stamp_;
      comp_links_.push_back(l);
    }
  }
  for (std::size_t next = 0; next < comp_links_.size(); ++next) {
    for (const Entry& e : on_link_[comp_links_[next]]) {
      const FlowId f = e.flow;
      Flow& flow = flows_[f];
      if (flow.mark == stamp_) {
        continue;
      }
      flow.mark = stamp_;
      comp_flows_.push_back(f);
      for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
        const LinkId l = paths_[i];
        if (link_mark_[l] != stamp_) {
          link_mark_[l] = stamp_;
          comp_links_.push_back(l);
        }
      }
    }
  }
  for (FlowId f : dirty_flows_) {
    Flow& flow = flows_[f];
    if (flow.active && flow.mark != stamp_) {
      flow.mark = stamp_;
      comp_flows_.push_back(f);
    }
  }
  dirty_links_.clear();
  dirty_flows_.clear();
  fill();
  std::sort(changed_.begin(), changed_.end());
  std::sort(inexact_.begin(), inexact_.end());
  return changed_;
}

void FlowNetwork::fix(FlowId f, double rate) {
  Flow& flow = flows_[f];
  flow.fixed = stamp_;
  if (flow.rate != rate) {
    flow.rate = rate;
    changed_.push_back(f);
  } else if (flow.path_size == 0 && rate == kInfinity) {
    changed_.push_back(f);
  }
  for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
    const LinkId l = paths_[i];
    const double w = flow.members == 1 ? flow.weight : flow.weight * on_link_[l][slots_[i]].count;
    residual_[l] = std::max(0.0, residual_[l] - rate * w);
    weight_sum_[l] -= w;
  }
}

bool FlowNetwork::members_saturated(FlowId f) {
  const Flow& flow = flows_[f];
  // At once when a link of this step is crossed by every member...
  for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
    const LinkId l = paths_[i];
    if (batch_mark_[l] == batch_stamp_ && on_link_[l][slots_[i]].count == flow.members) {
      return true;
    }
  }
  // ... else member by member.
  for (std::uint32_t m = 0; m < flow.members; ++m) {
    member_path(f, m, member_scratch_);
    if (std::none_of(member_scratch_.begin(), member_scratch_.end(),
                     [&](LinkId l) { return batch_mark_[l] == batch_stamp_; })) {
      return false;
    }
  }
  return true;
}

void FlowNetwork::fill() {
  std::priority_queue<Candidate, std::vector<Candidate>, LargerShare> heap;
  for (LinkId l : comp_links_) {
    residual_[l] = capacity_[l];
    double w = 0;
    for (const Entry& e : on_link_[l]) {
      w += flows_[e.flow].weight * e.count;
    }
    weight_sum_[l] = w;
    if (w > 0) {
      heap.push(Candidate{residual_[l] / w, l, false});
    }
  }
  for (FlowId f : comp_flows_) {
    const Flow& flow = flows_[f];
    if (flow.cap < kInfinity || flow.path_size == 0) {
      heap.push(Candidate{flow.cap, f, true});
    }
  }
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    if (c.is_flow) {
      if (flows_[c.id].fixed != stamp_) {
        fix(c.id, c.share);
        // Links that lost this flow now offer a larger share to the rest.
        const Flow& flow = flows_[c.id];
        for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
          const LinkId l = paths_[i];
          if (weight_sum_[l] > 0) {
            heap.push(Candidate{residual_[l] / weight_sum_[l], l, false});
          }
        }
      }
      continue;
    }
    // Every link whose share equals the minimum saturates in this step: take them all, so a
    // symmetric pattern (thousands of NICs at one share) costs one step, not thousands.
    const auto current = [&](const Candidate& x) {
      return !x.is_flow && weight_sum_[x.id] > 0 && residual_[x.id] / weight_sum_[x.id] == x.share;
    };
    if (!current(c)) {
      continue;  // stale: the link's share has changed since this entry was pushed
    }
    ++touch_stamp_;  // marks the batch's links (saturated now: no fresh entry) and, below,
                     // the links whose share moved
    batch_.assign(1, c.id);
    link_touch_[c.id] = touch_stamp_;
    while (!heap.empty() && heap.top().share == c.share && !heap.top().is_flow) {
      const Candidate next = heap.top();
      heap.pop();
      if (current(next) && link_touch_[next.id] != touch_stamp_) {
        link_touch_[next.id] = touch_stamp_;
        batch_.push_back(next.id);
      }
    }
    touched_.clear();
    ++batch_stamp_;
    for (LinkId l : batch_) {
      batch_mark_[l] = batch_stamp_;
    }
    for (LinkId l : batch_) {
      // Rounding can leave a saturated link's residual a hair below what its last flows
      // need; never hand out a zero rate, which would stall a flow forever.
      const double share = std::max(c.share, capacity_[l] * 1e-12);
      for (const Entry& e : on_link_[l]) {
        const FlowId f = e.flow;
        if (flows_[f].fixed == stamp_) {
          continue;
        }
        fix(f, share);
        if (e.count != flows_[f].members && !members_saturated(f)) {
          inexact_.push_back(f);
        }
        const Flow& flow = flows_[f];
        for (std::size_t i = flow.path_begin; i < flow.path_begin + flow.path_size; ++i) {
          const LinkId other = paths_[i];
          if (link_touch_[other] != touch_stamp_) {
            link_touch_[other] = touch_stamp_;
            touched_.push_back(other);
          }
        }
      }
    }
    for (LinkId l : batch_) {
      weight_sum_[l] = 0;
    }
    // One fresh entry per link whose share moved, after the whole step.
    for (LinkId other : touched_) {
      if (weight_sum_[other] > 0) {
        heap.push(Candidate{residual_[other] / weight_sum_[other], other, false});
      }
    }
  }
}

}  // namespace attnsim::sim
