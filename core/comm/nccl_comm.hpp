#pragma once
// Collectives and pair exchanges on GPU buffers through NCCL, for device-resident algorithms.
//
// Bootstrap: create() is collective over a Communicator (MPI, or the in-process world): rank 0 makes
// NCCL's unique id and broadcasts it through that communicator, then every rank joins with its rank.
// One GPU per rank (NCCL refuses two ranks of one communicator on one GPU).
//
// Ordering: each call records an event on the GPU context's compute stream and makes the comm stream
// wait for it, so the operation starts once everything queued before it (a bucket's backward) is done,
// without the host waiting; then it runs on the comm stream. The returned Request completes when the
// operation has finished on the GPU: test() asks the event, wait() blocks on it. Buffers must stay alive
// and untouched until then. Threading: one thread per NcclComm, like Communicator.
//
// core/comm/nccl_comm.cu implements it; core/cuda/absent/nccl_comm.cpp, in a build without CUDA, throws.
#include <memory>
#include <span>

#include "core/comm/communicator.hpp"
#include "core/cuda/gpu_context.hpp"

namespace gg {

class NcclComm {
 public:
  static std::unique_ptr<NcclComm> create(Communicator& world, GpuContext& gpu);
  virtual ~NcclComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place, element-wise sum over every rank.
  virtual Request allreduce_sum(std::span<float> device_data) = 0;
  // Sends `send` to peer and receives as many floats from peer into `recv`, as one NCCL group (the two
  // directions cannot deadlock each other). peer may be this rank.
  virtual Request exchange(std::span<const float> send, std::span<float> recv, int peer) = 0;
};

}  // namespace gg
