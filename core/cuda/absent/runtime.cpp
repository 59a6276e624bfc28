// core/cuda/runtime.hpp for a binary built without the CUDA backend (cmake/cuda.cmake): nothing is
// visible, and anything that would need a GPU says why it cannot run.
#include "core/cuda/runtime.hpp"

#include "core/util/error.hpp"

namespace gg::cuda {

namespace {
[[noreturn]] void absent(const std::string& what) {
  throw InputError(what + ": this binary was built without CUDA (configure where nvcc, cuDNN and NCCL are found)");
}
}  // namespace

bool built() { return false; }
int device_count() { return 0; }
std::string unavailable() { return "this binary was built without CUDA"; }
LibraryVersions library_versions() { return {}; }
std::string device_name(int) { absent("device_name"); }
void* allocate(std::size_t, const std::string& what) { absent(what); }
void release(void*) noexcept {}
void* allocate_pinned(std::size_t, const std::string& what) { absent(what); }
void release_pinned(void*) noexcept {}
void copy(void*, const void*, std::size_t) { absent("cuda::copy"); }
void zero(void*, std::size_t) { absent("cuda::zero"); }

}  // namespace gg::cuda
