// SPDX-License-Identifier: Apache-2.0
// Collectives as transfers: how each NCCL algorithm moves data, emitted into a sim::Trace.
//
// A collective becomes: a delay of NCCL's modelled latency, then concurrent transfers that
// carry the algorithm's data (pipelined in NCCL, so all edges are busy at once in steady
// state), then a zero-length join. Channels that share a path are one transfer with
// multiplicity; the protocol multiplies the bytes on the wire (LL sends 8 data bytes per 16,
// LL128 reaches 0.92 of the link: tuning.cc) and caps each channel (llMaxBw, per-channel
// LL128 and tree caps). Per-rank bytes, S = nccl-tests size, n ranks, ppn per node:
//
//   ring all_reduce            each rank -> next: 2(n-1)/n S   (reduce-scatter + all-gather)
//   ring all_gather/red.-scat. each rank -> next: (n-1)/n S
//   ring broadcast / reduce    chain from (to) the root: S per hop, n-1 hops
//   tree all_reduce            two binary trees over nodes (S/2 each, up and down), chains
//                              inside nodes; the tree roots' NIC rails differ
//   NVLS all_reduce            each GPU -> its NVSwitch S and back S (in-switch reduction and
//                              multicast), capped at the measured NVLS rate
//   NVLSTree all_reduce        NVLS inside nodes; across nodes GPU j of each node carries
//                              S/ppn up and down a tree of nodes on rail j
//   pairwise all_to_all        S/n to every other rank; across nodes, the PXN form: data for
//                              GPU j of another node first moves over NVLink to local GPU j,
//                              which sends everything for that node on rail j
//   send_recv                  rank i -> rank i+1: S (nccl-tests ring shift)
//
// Multi-node rings: channel c enters every node at the GPU on rail c mod nics, so its
// inter-node hop lands on that rail (NCCL's rail-aligned rings; PXN routing moves the
// sender's data to the rail GPU).
#pragma once

#include <cstdint>
#include <span>

#include "models/collectives/collective.h"
#include "models/collectives/layout.h"
#include "models/collectives/nccl_tuning.h"
#include "sim/trace.h"

namespace attnsim::models {

/// NCCL's view of a communicator over `ranks` on `layout`.
CommShape comm_shape(const Layout& layout, std::span<const std::uint32_t> ranks);

/// The calibration factor that applies to `c` of `bytes` over `ranks` (correction.h).
Corrections::Lookup correction_for(const Layout& layout, Collective c,
                                   std::span<const std::uint32_t> ranks, double bytes);

/// Emits `c` of `bytes` over `ranks` (GPU ids, at least 2, each once) with `plan`'s algorithm
/// and protocol, starting after `deps`. Returns the op that ends when the collective does.
sim::OpId emit_collective(sim::Trace& trace, const Layout& layout, Collective c,
                          std::span<const std::uint32_t> ranks, double bytes,
                          const Prediction& plan, sim::TagId tag,
                          std::span<const sim::OpId> deps = {});

/// One point-to-point message (an ncclSend/ncclRecv pair, as ring attention's batched
/// isend/irecv issue) of `bytes` from `src` to `dst` after `deps`: NCCL's p2p latency (the
/// send_recv row of its model), then the bytes over the communicator's channels with the
/// Simple protocol, as one transfer op (the latency counted after the last byte). Returns
/// the op that ends when the message has arrived. `messages` > 1
/// stands for that many back-to-back messages of bytes / messages each: the latency is paid
/// once per message.
sim::OpId emit_send(sim::Trace& trace, const Layout& layout, std::uint32_t src, std::uint32_t dst,
                    double bytes, sim::TagId tag, std::span<const sim::OpId> deps = {},
                    double messages = 1);

}  // namespace attnsim::models
