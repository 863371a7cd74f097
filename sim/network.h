// SPDX-License-Identifier: Apache-2.0
// What the engine knows of a machine: directed links with a capacity and a latency, endpoints
// numbered 0..n-1 (GPUs), and a Router that names the links a transfer crosses. topology/
// builds one of these from its graph; the engine never sees the graph itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/time.h"

namespace attnsim::sim {

using LinkId = std::uint32_t;
using EndpointId = std::uint32_t;

/// One direction of a cable (full duplex cables are two links).
struct Link {
  Bandwidth capacity;
  Time latency;
  std::uint16_t link_class = 0;  // index into Network::class_names(), e.g. "nvlink", "ib_leaf"
};

/// Chooses the links a transfer from `src` to `dst` crosses.
///
/// Contract:
///   Inputs: src != dst, both < endpoint count; `salt` spreads otherwise identical transfers
///     over equal-cost paths (ECMP); the same (src, dst, salt) always gives the same path.
///   Output: appends the path's links to `path` in order, src side first (path is cleared
///     first). The path is never empty.
///   Errors: none; a disconnected pair is a topology bug caught when the fabric is built.
class Router {
 public:
  virtual ~Router() = default;
  virtual void route(EndpointId src, EndpointId dst, std::uint64_t salt,
                     std::vector<LinkId>& path) const = 0;
};

/// Links, endpoints and routing of one machine.
class Network {
 public:
  Network() = default;
  Network(Network&&) = default;
  Network& operator=(Network&&) = default;

  /// Adds a link class name ("nvlink", "pcie", "ib_leaf_spine", ...) and returns its index.
  std::uint16_t add_class(std::string name);
  LinkId add_link(Bandwidth capacity, Time latency, std::uint16_t link_class);

  void set_endpoint_count(std::uint32_t n) { endpoints_ = n; }

  void set_router(std::unique_ptr<Router> router) { router_ = std::move(router); }

  const Link& link(LinkId id) const { return links_[id]; }

  const std::vector<Link>& links() const { return links_; }

  std::uint32_t endpoint_count() const { return endpoints_; }

  const std::vector<std::string>& class_names() const { return class_names_; }

  void route(EndpointId src, EndpointId dst, std::uint64_t salt, std::vector<LinkId>& path) const {
    router_->route(src, dst, salt, path);
  }

 private:
  std::vector<Link> links_;
  std::vector<std::string> class_names_;
  std::uint32_t endpoints_ = 0;
  std::unique_ptr<Router> router_;
};

}  // namespace attnsim::sim
