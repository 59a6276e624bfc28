// The NCCL communicator (core/comm/nccl_comm.hpp) at size 1, bootstrapped through a one-rank in-process
// world: an allreduce waits for what the compute stream queued before it (event ordering: a slow kernel
// and a copy are queued first, and when the request completes the compute stream must have run them
// both; at size 1 the values alone cannot show it, as an in-place sum of one rank changes nothing and a
// synchronous read waits for the compute stream anyway), an exchange with itself delivers the sent
// floats, and requests report completion through test() and wait().
#include <cstdio>

#include "core/comm/inproc_communicator.hpp"
#include "core/comm/nccl_comm.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace gg {

nlohmann::json check_nccl(const CheckSetup& setup, bool& ok) {
  nlohmann::json out;
  bool pass = true;
  run_ranks(1, [&](Communicator& world) {
    auto gpu = make_gpu_context({setup.device, false});
    auto nccl = NcclComm::create(world, *gpu);
    const std::size_t n = std::size_t(1) << 20;
    const Shape s{1, 1, 1, int(n)};
    std::vector<float> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = float(i % 1000) * 0.5f;
    const Tensor source = on_device(values, s, Device::CUDA);
    Tensor data(s, Device::CUDA), recv(s, Device::CUDA);
    data.zero();
    gpu_synchronize(*gpu);
    // Queued on the compute stream; the allreduce must start after it.
    gpu_delay(*gpu, 0.1);
    gpu_copy(*gpu, data.data(), source.data(), n);
    Request r = nccl->allreduce_sum(data.span());
    const bool busy_when_queued = !gpu_compute_idle(*gpu);
    r.wait();
    const bool ordered = gpu_compute_idle(*gpu);  // the allreduce finished after the queued kernel and copy
    const double allreduce = rel_diff(data.to_host(), values);
    Request x = nccl->exchange(source.span(), recv.span(), 0);
    int polls = 0;
    while (!x.test()) ++polls;
    const double exchange = rel_diff(recv.to_host(), values);
    pass = allreduce == 0.0 && exchange == 0.0 && ordered && busy_when_queued;
    out = {{"size", nccl->size()}, {"floats", n}, {"allreduce_diff", allreduce}, {"exchange_diff", exchange},
           {"compute_busy_when_allreduce_queued", busy_when_queued}, {"allreduce_after_queued_kernel", ordered},
           {"polls_before_done", polls}, {"pass", pass}};
    std::printf("  nccl size 1, %zu floats: allreduce behind a 0.1 s kernel and a copy: %s%s, values %s, exchange "
                "with itself %s  %s\n", n, ordered ? "ordered" : "RAN EARLY",
                busy_when_queued ? "" : " (kernel already done: NOT EXERCISED)", allreduce == 0.0 ? "exact" : "WRONG",
                exchange == 0.0 ? "exact" : "WRONG", pass ? "ok" : "FAIL");
  });
  ok = ok && pass;
  return out;
}

}  // namespace gg
