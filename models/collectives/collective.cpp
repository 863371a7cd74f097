// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/collective.h"

#include <array>
#include <stdexcept>

namespace attnsim::models {

namespace {

double ring_all_reduce(int n) {
  return 2.0 * (n - 1) / n;
}

double fraction_of_peers(int n) {
  return static_cast<double>(n - 1) / n;
}

double one(int) {
  return 1.0;
}

constexpr std::array<CollectiveSpec, 7> kSpecs{{
    {Collective::kAllReduce, "all_reduce", ring_all_reduce},
    {Collective::kAllGather, "all_gather", fraction_of_peers},
    {Collective::kReduceScatter, "reduce_scatter", fraction_of_peers},
    {Collective::kAllToAll, "all_to_all", fraction_of_peers},
    {Collective::kBroadcast, "broadcast", one},
    {Collective::kReduce, "reduce", one},
    {Collective::kSendRecv, "send_recv", one},
}};

}  // namespace

std::span<const CollectiveSpec> collective_specs() {
  return kSpecs;
}

const CollectiveSpec& spec(Collective c) {
  return kSpecs[static_cast<std::size_t>(c)];
}

std::vector<std::string> collective_names() {
  std::vector<std::string> out;
  out.reserve(kSpecs.size());
  for (const CollectiveSpec& s : kSpecs) {
    out.emplace_back(s.name);
  }
  return out;
}

Collective collective_from_name(std::string_view name) {
  for (const CollectiveSpec& s : kSpecs) {
    if (s.name == name) {
      return s.id;
    }
  }
  throw std::invalid_argument("not a collective: " + std::string(name));
}

}  // namespace attnsim::models
