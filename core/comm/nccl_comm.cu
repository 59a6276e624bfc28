// NcclComm on NCCL (core/comm/nccl_comm.hpp).
#include <nccl.h>

#include <string>
#include <thread>
#include <vector>

#include "core/comm/nccl_comm.hpp"
#include "core/cuda/cuda_context.cuh"

namespace gg {

namespace {

void nccl_check(ncclResult_t r, const char* call, const char* file, int line) {
  if (r != ncclSuccess) cuda::fail(std::string("NCCL: ") + ncclGetErrorString(r), call, file, line);
}
#define GG_NCCL_CHECK(call) nccl_check((call), #call, __FILE__, __LINE__)

class NcclImpl;

// A request is an event recorded on the comm stream after the operation; pooled, so the per-step
// path allocates nothing once the pool holds as many as are ever in flight.
class EventRequest final : public RequestImpl {
 public:
  EventRequest(NcclImpl& owner, cudaEvent_t e) : owner_(owner), event_(e) {}
  bool test() override {
    if (GG_CUDA_DONE(cudaEventQuery(event_))) return true;
    check_async();  // a failed peer surfaces here instead of as a hang
    return false;
  }
  // Polls (rather than cudaEventSynchronize) so that NCCL's asynchronous errors, e.g. a dead peer at
  // p > 1, end the wait with an error.
  void wait() override {
    while (!test()) std::this_thread::yield();
  }
  void release() override;
  cudaEvent_t event() const { return event_; }
  void check_async();

 private:
  NcclImpl& owner_;
  cudaEvent_t event_;
};

class NcclImpl final : public NcclComm {
 public:
  NcclImpl(Communicator& world, GpuContext& gpu) : gpu_(gpu), rank_(world.rank()), size_(world.size()) {
    ncclUniqueId id{};
    if (rank_ == 0) GG_NCCL_CHECK(ncclGetUniqueId(&id));
    world.broadcast(&id, sizeof id, 0);
    GG_CUDA_CHECK(cudaSetDevice(gpu.options().device));
    GG_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    GG_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
  }
  ~NcclImpl() override {
    cudaStreamSynchronize(gpu_.comm());
    for (EventRequest* r : free_) {
      cudaEventDestroy(r->event());
      delete r;
    }
    cudaEventDestroy(ready_);
    if (comm_) ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Request allreduce_sum(std::span<float> data) override {
    gpu_.bind();
    after_compute();
    GG_NCCL_CHECK(ncclAllReduce(data.data(), data.data(), data.size(), ncclFloat, ncclSum, comm_, gpu_.comm()));
    return finished();
  }

  Request exchange(std::span<const float> send, std::span<float> recv, int peer) override {
    if (peer < 0 || peer >= size_ || send.size() != recv.size())
      throw std::logic_error("NcclComm::exchange: peer " + std::to_string(peer) + " of " + std::to_string(size_) +
                             ", " + std::to_string(send.size()) + " floats sent, " + std::to_string(recv.size()) +
                             " received");
    gpu_.bind();
    after_compute();
    GG_NCCL_CHECK(ncclGroupStart());
    GG_NCCL_CHECK(ncclSend(send.data(), send.size(), ncclFloat, peer, comm_, gpu_.comm()));
    GG_NCCL_CHECK(ncclRecv(recv.data(), recv.size(), ncclFloat, peer, comm_, gpu_.comm()));
    GG_NCCL_CHECK(ncclGroupEnd());
    return finished();
  }

  void give_back(EventRequest* r) { free_.push_back(r); }
  void check_async() {
    ncclResult_t state = ncclSuccess;
    GG_NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
    if (state != ncclSuccess && state != ncclInProgress) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
      cuda::fail(std::string("NCCL (asynchronous): ") + ncclGetErrorString(state), "ncclCommGetAsyncError",
                 __FILE__, __LINE__);
    }
  }

 private:
  // The comm stream waits (on the GPU) for what the compute stream has queued so far.
  void after_compute() {
    GG_CUDA_CHECK(cudaEventRecord(ready_, gpu_.compute()));
    GG_CUDA_CHECK(cudaStreamWaitEvent(gpu_.comm(), ready_, 0));
  }
  Request finished() {
    EventRequest* r = nullptr;
    if (free_.empty()) {
      cudaEvent_t e = nullptr;
      GG_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      r = new EventRequest(*this, e);
    } else {
      r = free_.back();
      free_.pop_back();
    }
    GG_CUDA_CHECK(cudaEventRecord(r->event(), gpu_.comm()));
    return Request::adopt(r);
  }

  GpuContext& gpu_;
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaEvent_t ready_ = nullptr;
  std::vector<EventRequest*> free_;
};

void EventRequest::release() { owner_.give_back(this); }
void EventRequest::check_async() { owner_.check_async(); }

}  // namespace

std::unique_ptr<NcclComm> NcclComm::create(Communicator& world, GpuContext& gpu) {
  return std::make_unique<NcclImpl>(world, gpu);
}

}  // namespace gg
