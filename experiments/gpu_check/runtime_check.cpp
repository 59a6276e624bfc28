// The runtime's query paths (finding F1 of the GPU audit): cudaEventQuery / cudaStreamQuery answering
// cudaErrorNotReady must leave no error behind, or the next kernel launch's check throws "device not
// ready". Each query here is made while a slow kernel is still running, so it does answer NotReady, and
// a kernel is launched (and checked) right after it.
#include <cstdio>

#include "core/cuda/runtime.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/parts.hpp"

namespace gg {

nlohmann::json check_runtime(const CheckSetup& setup, bool& ok) {
  auto gpu = make_gpu_context({setup.device, false});
  const std::size_t n = 1 << 16;
  const Shape s{1, 1, 1, int(n)};
  const std::vector<float> ones(n, 1.0f);
  Tensor a = on_device(ones, s, Device::CUDA), b = on_device(ones, s, Device::CUDA), c = on_device(ones, s, Device::CUDA);
  gpu_synchronize(*gpu);
  // 1. A stream query while the compute stream is busy, then a launch.
  gpu_delay(*gpu, 0.05);
  const bool idle_while_busy = gpu_compute_idle(*gpu);
  gpu_accumulate(*gpu, a.data(), b.data(), n);  // throws "device not ready" if the query left its error
  gpu_synchronize(*gpu);
  const std::vector<float> twos(n, 2.0f);
  const double after_stream_query = rel_diff(a.to_host(), twos);
  // 2. The host-staged path's download query (gpu_download_done) while its copy waits behind a slow
  // kernel, then a launch on the compute stream into another buffer, then the wait.
  cuda::PinnedFloats host(n, "runtime check");
  gpu_delay(*gpu, 0.05);
  gpu_download_async(*gpu, host.data(), a.data(), n, 0);
  const bool done_early = gpu_download_done(*gpu, 0);
  gpu_accumulate(*gpu, c.data(), b.data(), n);
  gpu_download_wait(*gpu, 0);
  gpu_synchronize(*gpu);
  const double downloaded = rel_diff(std::span<const float>(host.data(), n), twos);
  const double after_event_query = rel_diff(c.to_host(), twos);
  const bool pass = !idle_while_busy && !done_early && after_stream_query == 0.0 && downloaded == 0.0 &&
                    after_event_query == 0.0;
  ok = ok && pass;
  std::printf("  %-24s stream query while busy: %s, download query while queued: %s, launches after them %s  %s\n",
              "not-ready queries", idle_while_busy ? "idle (NOT EXERCISED)" : "not ready",
              done_early ? "done (NOT EXERCISED)" : "not ready",
              after_stream_query == 0.0 && after_event_query == 0.0 && downloaded == 0.0 ? "exact" : "WRONG",
              pass ? "ok" : "FAIL");
  return {{"idle_while_busy", idle_while_busy}, {"download_done_early", done_early},
          {"after_stream_query_diff", after_stream_query}, {"after_event_query_diff", after_event_query},
          {"download_diff", downloaded}, {"pass", pass}};
}

}  // namespace gg
