// core/comm/nccl_comm.hpp in a build without CUDA: no NCCL communicator can be made.
#include "core/comm/nccl_comm.hpp"
#include "core/util/error.hpp"

namespace gg {

std::unique_ptr<NcclComm> NcclComm::create(Communicator&, GpuContext&) {
  throw InputError("NCCL communicator: this binary was built without CUDA");
}

}  // namespace gg
