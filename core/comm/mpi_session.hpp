#pragma once
// RAII for the MPI library: MPI_Init_thread(MPI_THREAD_FUNNELED) in the constructor, MPI_Finalize in
// the destructor. MPI_COMM_WORLD gets MPI_ERRORS_RETURN, so failing MPI calls come back as error codes
// that MpiCommunicator turns into exceptions with context instead of aborting silently.
// Exactly one MpiSession per process, created first in main() and outliving every MpiCommunicator.
namespace gg {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // The thread level MPI granted (MPI_THREAD_FUNNELED or higher on every MPI we target).
  int thread_level() const { return provided_; }

 private:
  int provided_ = 0;
};

}  // namespace gg
