// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's NCCL benchmarks: one process drives every GPU (ncclCommInitAll, one
// stream per device), each collective of plan.h at each size, fp32 data, nccl-tests' size and
// busbw conventions (profile.h).
#include <memory>
#include <numeric>

#include <cuda_runtime.h>
#include <nccl.h>

#include "calibrate/cuda/bench.h"
#include "calibrate/cuda/check.h"
#include "calibrate/cuda/device_ops.h"

namespace attnsim::calibrate::cuda {
namespace {

// The communicators of devices 0 .. ranks-1, destroyed with their owner.
class Comms {
 public:
  explicit Comms(int ranks) : comms_(static_cast<std::size_t>(ranks), nullptr) {
    std::vector<int> devices(static_cast<std::size_t>(ranks));
    std::iota(devices.begin(), devices.end(), 0);
    ATTNSIM_NCCL_CHECK(ncclCommInitAll(comms_.data(), ranks, devices.data()));
  }

  Comms(const Comms&) = delete;
  Comms& operator=(const Comms&) = delete;

  ~Comms() {
    for (ncclComm_t c : comms_) {
      ncclCommDestroy(c);
    }
  }

  ncclComm_t operator[](std::size_t r) const { return comms_[r]; }

 private:
  std::vector<ncclComm_t> comms_;
};

// One rank: its device's stream and buffers.
struct Rank {
  Rank(int device, std::size_t bytes) : send(device, bytes), recv(device, bytes) {
    ATTNSIM_CUDA_CHECK(cudaSetDevice(device));
    stream = std::make_unique<Stream>();
  }

  DeviceMemory send;
  DeviceMemory recv;
  std::unique_ptr<Stream> stream;
};

char* at(const DeviceMemory& m, std::int64_t elements) {
  return static_cast<char*>(m.get()) + elements * 4;
}

// Enqueues one collective on every rank: count is comm_elements() (plan.h).
void enqueue(const std::string& collective, std::int64_t count, const Comms& comms,
             const std::vector<std::unique_ptr<Rank>>& ranks) {
  const auto n = static_cast<int>(ranks.size());
  const auto c = static_cast<std::size_t>(count);
  ATTNSIM_NCCL_CHECK(ncclGroupStart());
  for (int r = 0; r < n; ++r) {
    const Rank& me = *ranks[static_cast<std::size_t>(r)];
    const ncclComm_t comm = comms[static_cast<std::size_t>(r)];
    const cudaStream_t stream = me.stream->get();
    if (collective == "all_reduce") {
      ATTNSIM_NCCL_CHECK(
          ncclAllReduce(me.send.get(), me.recv.get(), c, ncclFloat, ncclSum, comm, stream));
    } else if (collective == "all_gather") {
      ATTNSIM_NCCL_CHECK(ncclAllGather(me.send.get(), me.recv.get(), c, ncclFloat, comm, stream));
    } else if (collective == "reduce_scatter") {
      ATTNSIM_NCCL_CHECK(
          ncclReduceScatter(me.send.get(), me.recv.get(), c, ncclFloat, ncclSum, comm, stream));
    } else if (collective == "all_to_all") {
      for (int p = 0; p < n; ++p) {
        ATTNSIM_NCCL_CHECK(ncclSend(at(me.send, p * count), c, ncclFloat, p, comm, stream));
        ATTNSIM_NCCL_CHECK(ncclRecv(at(me.recv, p * count), c, ncclFloat, p, comm, stream));
      }
    } else {  // send_recv: to the next rank, from the previous (nccl-tests' sendrecv)
      ATTNSIM_NCCL_CHECK(ncclSend(me.send.get(), c, ncclFloat, (r + 1) % n, comm, stream));
      ATTNSIM_NCCL_CHECK(ncclRecv(me.recv.get(), c, ncclFloat, (r + n - 1) % n, comm, stream));
    }
  }
  ATTNSIM_NCCL_CHECK(ncclGroupEnd());
}

std::string method_text(const std::string& collective) {
  if (collective == "all_to_all") {
    return "all_to_all as grouped ncclSend/ncclRecv of size/n to every rank (itself included)";
  }
  if (collective == "send_recv") {
    return "send_recv: every rank ncclSend's the buffer to the next and ncclRecv's from the "
           "previous (nccl-tests sendrecv)";
  }
  return "nccl" + collective + " out of place, fp32" +
         (collective == "all_gather" ? std::string() : std::string(" sum"));
}

}  // namespace

std::vector<CommMeasurement> measure_comm(Session& s, int ranks) {
  double largest = 0;
  for (const std::string& c : comm_collectives()) {
    largest = std::max(largest, comm_sizes(c, ranks, s.options->quick).back());
  }
  std::vector<std::unique_ptr<Rank>> rank;
  std::vector<int> devices;
  std::vector<cudaStream_t> streams;
  for (int d = 0; d < ranks; ++d) {
    rank.push_back(std::make_unique<Rank>(d, static_cast<std::size_t>(largest)));
    const auto elements = static_cast<std::int64_t>(largest / 4);
    ATTNSIM_CUDA_CHECK(fill_uniform(rank.back()->send.get(), elements, FillType::kFloat32,
                                    static_cast<std::uint64_t>(100 + d),
                                    rank.back()->stream->get()));
    devices.push_back(d);
    streams.push_back(rank.back()->stream->get());
  }
  const Comms comms(ranks);
  ATTNSIM_CUDA_CHECK(cudaSetDevice(0));

  std::vector<CommMeasurement> rows;
  for (const std::string& collective : comm_collectives()) {
    for (const double size : comm_sizes(collective, ranks, s.options->quick)) {
      const std::int64_t count = comm_elements(collective, ranks, size);
      const PointTiming t =
          time_point(s.timing, devices, streams, [&] { enqueue(collective, count, comms, rank); });
      const std::string source =
          "measured: NCCL, one process, ncclCommInitAll over " + std::to_string(ranks) +
          " GPUs, one stream each; " + method_text(collective) +
          "; time per call = the slowest GPU's, CUDA events around batches of "
          "back-to-back calls, median of at least " +
          std::to_string(s.timing.policy.min_repeats) +
          " batches after a probe call and a warm-up batch";
      rows.push_back(measured_comm(collective, ranks, size, t.timing.median_s, source));
      s.step("comm", collective + " " + std::to_string(static_cast<std::int64_t>(size)) + " B");
    }
  }
  return rows;
}

}  // namespace attnsim::calibrate::cuda
