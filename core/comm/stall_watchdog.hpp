#pragma once
// The stall watchdog: names the ranks a job is stuck on, then ends the job (Horovod's stall warning
// is the model). Attached to MpiCommunicators (MpiCommunicator::watch), it completes their waits by
// polling instead of blocking; a wait that lasts longer than a few milliseconds also answers other
// ranks' questions.
//
//   - A rank that has waited warn_s in one call asks every other rank, on the watchdog's own duplicate
//     of MPI_COMM_WORLD, what it is doing. Ranks that are waiting too (in any call) answer within
//     milliseconds with their call; a rank that is stopped (SIGSTOP), hung or still computing does not.
//   - After a short grace the lowest waiting rank prints one warning line: the ranks NOT in a
//     communication call (the ones the job waits for) and what the others wait in.
//   - After abort_s in the same wait it asks again, prints one error line and ends the job with
//     MPI_Abort(exit_code::kStalled). Other waiting ranks end it too a little later, should the
//     printing rank itself be stuck.
// Nothing is sent while no wait is long: a short wait costs one clock read per poll. The watchdog
// keeps no global state; one object per process, made collectively (it duplicates MPI_COMM_WORLD), and
// destroyed after every communicator it watches and before MPI_Finalize. Threading: as MpiCommunicator
// (one thread). Not for SMPI, whose clock is simulated (gg_train does not make one there).
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gg {

class StallWatchdog {
 public:
  // warn_s / abort_s: seconds in one wait before the warning / the end (0: never); the lines go to
  // `out`. Collective over MPI_COMM_WORLD.
  StallWatchdog(double warn_s, double abort_s, std::FILE* out = stderr);
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  // MPI_Waitall(n, reqs, statuses) by polling (statuses may be MPI_STATUSES_IGNORE). op names the call
  // ("MPI_Allreduce"); comm and peer (its rank in comm, -1 for a collective or any source) say where.
  int wait(int n, MPI_Request* reqs, MPI_Status* statuses, const char* op, MPI_Comm comm, int peer);

  // What one rank says it waits in (also the wire format, sent as bytes on the watchdog's communicator).
  struct Note {
    std::int32_t kind = 0;      // kQuery or kWaiting
    std::int32_t query = 0;     // the query this answers (kWaiting) or asks (kQuery)
    std::int32_t peer = -1;     // world rank of the call's peer, -1 if none
    std::int32_t pad = 0;
    double waited_s = 0;        // how long the sender has waited in its current call
    char op[40] = {};           // the call, e.g. "MPI_Allreduce"
  };
  // The report line (without "gg_train: ..."): `notes[r]` is rank r's answer (kind 0: no answer).
  static std::string describe(const std::vector<Note>& notes, int me, double waited_s, const char* limit_key,
                              double limit_s);

 private:
  using Clock = std::chrono::steady_clock;
  struct Stall;  // the state of one long wait
  struct Outgoing {
    Note note;
    std::vector<MPI_Request> reqs;
  };
  void poll(Stall& st, double waited, const char* op, int peer_world);
  void answer_and_collect(const Note& mine);
  void ask(const Note& mine);  // a new query to every other rank
  void send(int dest, const Note& note);
  void reap_sends();
  int lowest_waiting() const;  // the lowest rank that answered the last query, or this one

  double warn_s_, abort_s_, grace_s_;
  std::FILE* out_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::int32_t query_ = 0;              // the last query this rank asked
  std::vector<Note> answers_;           // per world rank: its answer to query_ (kind 0: none yet)
  std::vector<std::unique_ptr<Outgoing>> outgoing_;
};

}  // namespace gg
