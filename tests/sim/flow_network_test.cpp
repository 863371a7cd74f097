// SPDX-License-Identifier: Apache-2.0
// Max-min sharing on hand-solved systems (SimGrid maxmin_test style) and, for random systems,
// the two properties that define max-min fairness.
#include "sim/flow_network.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

using attnsim::sim::FlowId;
using attnsim::sim::FlowNetwork;
using attnsim::sim::LinkId;

TEST_CASE("k flows on one link get 1/k each", "[unit][analytic]") {
  // One link of 12 B/s; k = 1..4 flows: each gets 12/k (progressive filling saturates the
  // only link at once).
  for (int k = 1; k <= 4; ++k) {
    FlowNetwork net({12.0});
    std::vector<FlowId> f;
    for (int i = 0; i < k; ++i) {
      f.push_back(net.add(std::vector<LinkId>{0}));
    }
    net.solve();
    for (FlowId id : f) {
      REQUIRE(net.rate(id) == Approx(12.0 / k).epsilon(1e-12));
    }
  }
}

TEST_CASE("two flows share their common bottleneck equally", "[unit][analytic]") {
  // Fabric: A -[10]- S -[4]- B, and C -[10]- S. Links: 0 = A->S, 1 = C->S, 2 = S->B.
  // Flows A->B and C->B both cross S->B: each gets 4/2 = 2; A->S and C->S keep 8 spare, so
  // neither flow can grow.
  FlowNetwork net({10.0, 10.0, 4.0});
  const FlowId ab = net.add(std::vector<LinkId>{0, 2});
  const FlowId cb = net.add(std::vector<LinkId>{1, 2});
  net.solve();
  REQUIRE(net.rate(ab) == Approx(2.0).epsilon(1e-12));
  REQUIRE(net.rate(cb) == Approx(2.0).epsilon(1e-12));
}

TEST_CASE("the worked example of flow_network.h", "[unit][analytic]") {
  // f1 on l1 (10), f2 on l2 (4), f3 on l1 and l2. l2 saturates first at 4/2: x2 = x3 = 2;
  // then f1 alone takes what l1 has left: 10 - 2 = 8.
  FlowNetwork net({10.0, 4.0});
  const FlowId f1 = net.add(std::vector<LinkId>{0});
  const FlowId f2 = net.add(std::vector<LinkId>{1});
  const FlowId f3 = net.add(std::vector<LinkId>{0, 1});
  net.solve();
  REQUIRE(net.rate(f1) == Approx(8.0));
  REQUIRE(net.rate(f2) == Approx(2.0));
  REQUIRE(net.rate(f3) == Approx(2.0));
  SECTION("removing f2 gives f3 the rest of l2: min(4, 10/2) = 4 ... then f1 gets 6") {
    // After removal: l1 share = 10/2 = 5, l2 share = 4/1 = 4: l2 binds first, x3 = 4;
    // then f1 gets 10 - 4 = 6.
    net.remove(f2);
    const auto& changed = net.solve();
    REQUIRE(net.rate(f3) == Approx(4.0));
    REQUIRE(net.rate(f1) == Approx(6.0));
    REQUIRE(changed == std::vector<FlowId>{f1, f3});
  }
}

TEST_CASE("multiplicity counts members and caps bind before links", "[unit][analytic]") {
  // A flow of 3 members and a single flow on a 12 B/s link: 4 members, 3 B/s each.
  FlowNetwork net({12.0});
  const FlowId triple = net.add(std::vector<LinkId>{0}, 3.0);
  const FlowId single = net.add(std::vector<LinkId>{0});
  net.solve();
  REQUIRE(net.rate(triple) == Approx(3.0));
  REQUIRE(net.rate(single) == Approx(3.0));
  // Cap the single flow at 1: the triple's members share the remaining 11: 11/3 each.
  net.remove(single);
  const FlowId capped = net.add(std::vector<LinkId>{0}, 1.0, 1.0);
  net.solve();
  REQUIRE(net.rate(capped) == Approx(1.0));
  REQUIRE(net.rate(triple) == Approx(11.0 / 3.0));
}

TEST_CASE("independent components are not re-solved", "[unit]") {
  // Two disjoint links; adding a flow on link 1 changes nothing on link 0.
  FlowNetwork net({5.0, 7.0});
  const FlowId a = net.add(std::vector<LinkId>{0});
  net.solve();
  const FlowId b = net.add(std::vector<LinkId>{1});
  const auto& changed = net.solve();
  REQUIRE(changed == std::vector<FlowId>{b});
  REQUIRE(net.rate(a) == Approx(5.0));
  REQUIRE(net.rate(b) == Approx(7.0));
}

namespace {

// Our own uniform integer in [0, n): std distributions differ between libraries (STYLE C8).
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  return rng() % n;
}

}  // namespace

TEST_CASE("random systems satisfy capacity and the max-min bottleneck property", "[property]") {
  // Max-min fairness holds iff (1) no link carries more than its capacity and (2) every flow
  // is either at its cap or crosses a saturated link on which no flow has a larger rate.
  constexpr FlowId kGone = static_cast<FlowId>(-1);
  std::mt19937_64 rng(20261123);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t links = 1 + below(rng, 12);
    std::vector<double> capacity(links);
    for (double& c : capacity) {
      c = 1.0 + static_cast<double>(below(rng, 100));
    }
    FlowNetwork net(capacity);
    std::vector<FlowId> flows;
    std::vector<double> caps;
    const std::size_t n = 1 + below(rng, 30);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<LinkId> path;
      for (LinkId l = 0; l < links; ++l) {
        if (below(rng, 3) == 0) {
          path.push_back(l);
        }
      }
      if (path.empty()) {
        path.push_back(static_cast<LinkId>(below(rng, links)));
      }
      const double weight = 1.0 + static_cast<double>(below(rng, 3));
      const double cap = below(rng, 4) == 0 ? 1.0 + static_cast<double>(below(rng, 20))
                                            : std::numeric_limits<double>::infinity();
      flows.push_back(net.add(path, weight, cap));
      caps.push_back(cap);
    }
    // Solve, remove every fourth flow, solve again incrementally (as replay does).
    net.solve();
    for (std::size_t i = 0; i < flows.size(); i += 4) {
      net.remove(flows[i]);
      flows[i] = kGone;
    }
    net.solve();
    std::vector<double> load(links, 0.0);
    for (FlowId f : flows) {
      if (f != kGone) {
        for (LinkId l : net.path(f)) {
          load[l] += net.rate(f) * net.multiplicity(f);
        }
      }
    }
    for (LinkId l = 0; l < links; ++l) {
      REQUIRE(load[l] <= capacity[l] * (1 + 1e-9));
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
      const FlowId f = flows[i];
      if (f == kGone) {
        continue;
      }
      bool bottlenecked = false;
      for (LinkId l : net.path(f)) {
        if (load[l] < capacity[l] * (1 - 1e-9)) {
          continue;
        }
        bool largest = true;
        for (FlowId g : flows) {
          if (g == kGone) {
            continue;
          }
          const auto p = net.path(g);
          if (std::find(p.begin(), p.end(), l) != p.end() &&
              net.rate(g) > net.rate(f) * (1 + 1e-9)) {
            largest = false;
          }
        }
        bottlenecked = bottlenecked || largest;
      }
      const bool at_cap = net.rate(f) == Approx(caps[i]).epsilon(1e-12);
      INFO("trial " << trial << " flow " << f << " rate " << net.rate(f));
      REQUIRE((bottlenecked || at_cap));
    }
  }
}

namespace {

// The member router of a network whose one bundle has member i on links[ends[i-1], ends[i])
// (the replay re-routes members through the topology instead).
void serve_members(FlowNetwork& net, const std::vector<LinkId>& links,
                   const std::vector<std::uint32_t>& ends) {
  net.set_member_router([&links, &ends](FlowId, std::uint32_t m, std::vector<LinkId>& path) {
    const std::uint32_t begin = m == 0 ? 0 : ends[m - 1];
    path.assign(links.begin() + begin, links.begin() + ends[m]);
  });
}

}  // namespace

TEST_CASE("a bundle weighs each link by the members crossing it", "[unit][analytic]") {
  // Members m1 = {l0, l1}, m2 = {l0, l2}; l0 = 12, l1 = l2 = 10 B/s. Both members cross l0:
  // share 12/2 = 6 < 10, so each member gets 6, and l0 carries 2 x 6 = 12 (bytes conserved:
  // the bundle's load is its members'). One rate fits both: nothing is inexact.
  FlowNetwork net({12.0, 10.0, 10.0});
  const std::vector<LinkId> links{0, 1, 0, 2};
  const std::vector<std::uint32_t> ends{2, 4};
  const FlowId b = net.add_bundle(links, ends);
  serve_members(net, links, ends);
  net.solve();
  REQUIRE(net.inexact().empty());
  REQUIRE(net.members(b) == 2);
  REQUIRE(net.rate(b) == Approx(6.0));
  REQUIRE(net.load(0) == Approx(12.0));
  REQUIRE(net.load(1) == Approx(6.0));
  REQUIRE(std::vector<LinkId>(net.path(b).begin(), net.path(b).end()) ==
          std::vector<LinkId>{0, 1, 2});
  REQUIRE(net.path_count(b, 0) == 2);
  std::vector<LinkId> path;
  net.member_path(b, 1, path);
  REQUIRE(path == std::vector<LinkId>{0, 2});
}

TEST_CASE("a bundle whose members saturate together needs no common link", "[unit][analytic]") {
  // m1 = {l0}, m2 = {l1}, both 4 B/s, and a plain flow on l1 with multiplicity 1: l0 share
  // 4/1 = 4, l1 share 4/2 = 2. l1 saturates first and fixes m2 at 2, but m1 (alone on l0)
  // would reach 4: the bundle is reported inexact. Without the plain flow both links saturate
  // in the same step at 4: exact.
  const std::vector<LinkId> links{0, 1};
  const std::vector<std::uint32_t> ends{1, 2};
  FlowNetwork alone({4.0, 4.0});
  const FlowId a = alone.add_bundle(links, ends);
  serve_members(alone, links, ends);
  alone.solve();
  REQUIRE(alone.inexact().empty());
  REQUIRE(alone.rate(a) == Approx(4.0));
  FlowNetwork shared({4.0, 4.0});
  const FlowId b = shared.add_bundle(links, ends);
  serve_members(shared, links, ends);
  shared.add(std::vector<LinkId>{1});
  shared.solve();
  REQUIRE(shared.inexact() == std::vector<FlowId>{b});
}

TEST_CASE("random bundles: a rate solve() accepts is every member's max-min rate", "[property]") {
  // The same system twice: once with a bundle, once with its members as separate flows. When
  // solve() reports the bundle exact, every member's own rate equals the bundle's and every
  // other flow's rate is unchanged; when inexact, splitting it reproduces the separate run.
  std::mt19937_64 rng(20261124);
  int exact = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t links = 2 + below(rng, 8);
    std::vector<double> capacity(links);
    for (double& c : capacity) {
      c = 1.0 + static_cast<double>(below(rng, 4));  // few values: ties are common
    }
    const auto random_path = [&] {
      std::vector<LinkId> path;
      for (LinkId l = 0; l < links; ++l) {
        if (below(rng, 3) == 0) {
          path.push_back(l);
        }
      }
      if (path.empty()) {
        path.push_back(static_cast<LinkId>(below(rng, links)));
      }
      return path;
    };
    std::vector<std::vector<LinkId>> plain(below(rng, 5));
    for (auto& p : plain) {
      p = random_path();
    }
    std::vector<std::vector<LinkId>> members(2 + below(rng, 3));
    std::vector<LinkId> member_links;
    std::vector<std::uint32_t> ends;
    for (auto& p : members) {
      p = random_path();
      member_links.insert(member_links.end(), p.begin(), p.end());
      ends.push_back(static_cast<std::uint32_t>(member_links.size()));
    }
    const double weight = 1.0 + static_cast<double>(below(rng, 2));
    FlowNetwork bundled(capacity);
    FlowNetwork separate(capacity);
    std::vector<FlowId> plain_b;
    std::vector<FlowId> plain_s;
    for (const auto& p : plain) {
      plain_b.push_back(bundled.add(p));
      plain_s.push_back(separate.add(p));
    }
    FlowId b = bundled.add_bundle(member_links, ends, weight);
    serve_members(bundled, member_links, ends);
    std::vector<FlowId> member_s;
    for (const auto& p : members) {
      member_s.push_back(separate.add(p, weight));
    }
    bundled.solve();
    separate.solve();
    std::vector<FlowId> member_b(members.size(), b);
    if (bundled.inexact().empty()) {
      ++exact;
    } else {
      REQUIRE(bundled.inexact() == std::vector<FlowId>{b});
      std::vector<LinkId> path;
      for (std::uint32_t m = 0; m < members.size(); ++m) {
        bundled.member_path(b, m, path);
        REQUIRE(path == members[m]);
        member_b[m] = bundled.add(path, weight);
      }
      bundled.remove(b);
      bundled.solve();
      REQUIRE(bundled.inexact().empty());
    }
    INFO("trial " << trial);
    for (std::size_t i = 0; i < members.size(); ++i) {
      REQUIRE(bundled.rate(member_b[i]) == Approx(separate.rate(member_s[i])).epsilon(1e-12));
    }
    for (std::size_t i = 0; i < plain.size(); ++i) {
      REQUIRE(bundled.rate(plain_b[i]) == Approx(separate.rate(plain_s[i])).epsilon(1e-12));
    }
    for (LinkId l = 0; l < links; ++l) {
      REQUIRE(bundled.load(l) == Approx(separate.load(l)).epsilon(1e-12).margin(1e-12));
    }
  }
  // Both branches ran.
  REQUIRE(exact > 20);
  REQUIRE(exact < 380);
}
