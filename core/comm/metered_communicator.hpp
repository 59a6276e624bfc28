#pragma once
// A Communicator that measures what passes through it (CommMeter: in-flight and exposed time, bytes,
// messages, memory-bound work) and, on the simulated cluster, charges what the node would charge
// (HostCosts: memory-bound work, GPU staging, progress calls). It forwards every call to the transport
// it wraps, so algorithms and tests are unchanged; the trainer wraps the world communicator once and
// reads one CommStepTotals per step. Splits share the root's meter and must not outlive it.
#include <memory>

#include "core/comm/comm_meter.hpp"
#include "core/comm/communicator.hpp"

namespace gg {

class MeteredCommunicator final : public Communicator {
 public:
  // The root: owns a meter on inner's clock with `costs`.
  MeteredCommunicator(Communicator& inner, HostCosts costs);
  CommMeter& meter() { return *meter_; }
  Communicator& inner() { return inner_; }  // the transport it measures

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string library_version() const override { return inner_.library_version(); }

  Request isend(const void* buf, std::size_t bytes, int dest, int tag) override;
  Request irecv(void* buf, std::size_t bytes, int src, int tag) override;
  void send(const void* buf, std::size_t bytes, int dest, int tag) override;
  void recv(void* buf, std::size_t bytes, int src, int tag) override;
  int recv_any(void* buf, std::size_t bytes, int tag, std::size_t* got) override;

  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  Request iallreduce_sum(std::span<float> data) override;
  void broadcast(void* buf, std::size_t bytes, int root) override;
  void gather(const void* in, std::size_t bytes, void* out, int root) override;
  void barrier() override;

  [[noreturn]] void abort(int code) override;
  std::unique_ptr<Communicator> split(int color) override;
  void reserve_requests(std::size_t n) override;
  int max_tag() const override { return inner_.max_tag(); }
  double wtime() const override { return inner_.wtime(); }
  void account_memory(std::size_t bytes) override { meter_->memory(bytes); }
  Communicator& host_resident() override;
  void account_staging(std::size_t bytes) override { meter_->stage(bytes); }

 private:
  MeteredCommunicator(std::unique_ptr<Communicator> owned, CommMeter& shared);
  MeteredCommunicator(Communicator& inner, CommMeter& shared, bool stages);  // host_resident()'s view
  struct Traffic {  // what one call moves (CommMeter's counting rules) and stages out / in
    std::uint64_t sent = 0, recv = 0, msgs = 0, stage_out = 0, stage_in = 0;
  };
  template <class Fn>
  auto blocking(Traffic t, Fn&& fn);
  Traffic allreduce_traffic(std::size_t n) const;
  std::uint64_t staged(std::uint64_t bytes) const { return stages_ ? bytes : 0; }

  std::unique_ptr<Communicator> owned_;  // a split's transport (null for the root)
  Communicator& inner_;
  std::unique_ptr<CommMeter> own_meter_;  // the root's
  CommMeter* meter_;
  bool stages_ = true;                                  // charges GPU staging per message
  std::unique_ptr<MeteredCommunicator> host_resident_;  // same transport and meter, no staging
};

}  // namespace gg
