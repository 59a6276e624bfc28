// core/cuda/gpu_context.hpp for a binary built without the CUDA backend: no context can be made, so
// the other functions are unreachable and say so if called.
#include "core/cuda/gpu_context.hpp"

#include <string>

#include "core/util/error.hpp"

namespace gg {

namespace {
[[noreturn]] void absent(const char* what) {
  throw InputError(std::string(what) + ": this binary was built without CUDA (configure where nvcc, cuDNN and NCCL "
                   "are found)");
}
}  // namespace

class GpuContext {};

std::shared_ptr<GpuContext> make_gpu_context(const GpuOptions&) { absent("device 'cuda'"); }
const GpuOptions& gpu_options(const GpuContext&) { absent("gpu_options"); }
void gpu_accumulate(GpuContext&, float*, const float*, std::size_t) { absent("gpu_accumulate"); }
void gpu_copy(GpuContext&, float*, const float*, std::size_t) { absent("gpu_copy"); }
void gpu_upload(GpuContext&, float*, const float*, std::size_t) { absent("gpu_upload"); }
void gpu_download_async(GpuContext&, float*, const float*, std::size_t, std::size_t) { absent("gpu_download_async"); }
bool gpu_download_done(GpuContext&, std::size_t) { absent("gpu_download_done"); }
void gpu_download_wait(GpuContext&, std::size_t) { absent("gpu_download_wait"); }
void gpu_mark(GpuContext&, std::size_t) { absent("gpu_mark"); }
double gpu_seconds_between(GpuContext&, std::size_t, std::size_t) { absent("gpu_seconds_between"); }
void gpu_synchronize(GpuContext&) { absent("gpu_synchronize"); }
void gpu_delay(GpuContext&, double) { absent("gpu_delay"); }
bool gpu_compute_idle(GpuContext&) { absent("gpu_compute_idle"); }

}  // namespace gg
