// SPDX-License-Identifier: Apache-2.0
#include "sim/flow_network.h"

#include <algorithm>
#include <queue>

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
      residual_(capacity_.size(), 0),
      weight_sum_(capacity_.size(), 0) {}

FlowId FlowNetwork::add(std::span<const LinkId> path, double multiplicity, double cap) {
  FlowId f = 0;
  if (free_.empty()) {
    f = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
  } else {
    f = free_.back();
    free_.pop_back();
  }
  Flow& flow = flows_[f];
  flow.path_begin = paths_.size();
  flow.path_size = static_cast<std::uint32_t>(path.size());
  flow.weight = multiplicity;
  flow.cap = cap;
  flow.rate = 0;
  flow.active = true;
  for (LinkId l : path) {
    paths_.push_back(l);
    slots_.push_back(static_cast<std::uint32_t>(on_link_[l].size()));
    on_link_[l].push_back(f);
    dirty_links_.push_back(l);
  }
  if (path.empty()) {
    dirty_flows_.push_back(f);
  }
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
    std::vector<FlowId>& list = on_link_[l];
    std::size_t kept = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const FlowId g = list[i];
      if (!flows_[g].active) {
        continue;
      }
      if (kept != i) {
        list[kept] = g;
        const Flow& moved = flows_[g];
        for (std::size_t j = moved.path_begin; j < moved.path_begin + moved.path_size; ++j) {
          if (paths_[j] == l) {
            slots_[j] = static_cast<std::uint32_t>(kept);
            break;
          }
        }
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

double FlowNetwork::load(LinkId l) const {
  double sum = 0;
  for (FlowId f : on_link_[l]) {
    sum += flows_[f].weight * flows_[f].rate;
  }
  return sum;
}

const std::vector<FlowId>& FlowNetwork::solve() {
  changed_.clear();
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
    for (FlowId f : on_link_[comp_links_[next]]) {
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
    residual_[l] = std::max(0.0, residual_[l] - rate * flow.weight);
    weight_sum_[l] -= flow.weight;
  }
}

void FlowNetwork::fill() {
  std::priority_queue<Candidate, std::vector<Candidate>, LargerShare> heap;
  for (LinkId l : comp_links_) {
    residual_[l] = capacity_[l];
    double w = 0;
    for (FlowId f : on_link_[l]) {
      w += flows_[f].weight;
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
    for (LinkId l : batch_) {
      // Rounding can leave a saturated link's residual a hair below what its last flows
      // need; never hand out a zero rate, which would stall a flow forever.
      const double share = std::max(c.share, capacity_[l] * 1e-12);
      for (FlowId f : on_link_[l]) {
        if (flows_[f].fixed == stamp_) {
          continue;
        }
        fix(f, share);
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
