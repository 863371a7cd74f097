// SPDX-License-Identifier: Apache-2.0
// The collectives attnsim models, one row each, owning their nccl-tests conventions
// (NVIDIA/nccl-tests:src/*.cu, hardware.md section 4):
//
//   S = the nccl-tests "size": the user buffer for all_reduce, broadcast, reduce, send_recv;
//       the total buffer (count x ranks x element size) for all_gather, reduce_scatter,
//       all_to_all.
//   algbw = S / t;  busbw = algbw x factor(n):
//       all_reduce 2(n-1)/n; all_gather, reduce_scatter, all_to_all (n-1)/n;
//       broadcast, reduce, send_recv 1.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnsim::models {

enum class Collective {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kBroadcast,
  kReduce,
  kSendRecv
};

/// Everything attnsim knows about one collective's conventions, in one place.
struct CollectiveSpec {
  Collective id;
  std::string_view name;  // as on the command line
  double (*busbw_factor)(int n);
};

/// Every collective, in SPEC order.
std::span<const CollectiveSpec> collective_specs();
const CollectiveSpec& spec(Collective c);
/// Names in SPEC order, for help text and name lookup.
std::vector<std::string> collective_names();
/// The collective called `name` (which must be one of collective_names()).
Collective collective_from_name(std::string_view name);

}  // namespace attnsim::models
