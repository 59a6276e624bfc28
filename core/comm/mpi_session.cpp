#include "core/comm/mpi_session.hpp"

#include <mpi.h>

#include <stdexcept>
#include <string>

namespace gg {

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw std::logic_error("MpiSession: MPI is already initialised (one session per process)");
  const int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided_);
  if (rc != MPI_SUCCESS) throw std::runtime_error("MPI_Init_thread failed with code " + std::to_string(rc));
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace gg
