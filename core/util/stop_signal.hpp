#pragma once
// SIGTERM and SIGINT -- what Slurm sends before a time limit or scancel, what mpirun forwards, what
// Ctrl-C sends -- ask a run to stop at the next step boundary the workers agree on (RunControl,
// core/train/run_control.hpp), where it writes a checkpoint, flushes its log and exits with
// kStoppedExitCode.
//
// The handler only stores the signal's number. That number is the one piece of global mutable state
// in the engine: a signal handler can reach nothing else, and a volatile std::sig_atomic_t is the only
// object it may write (C++ [support.signal]). Everything else reads it through stop_signal().
// SA_RESETHAND puts the default action back after the first signal, so a second one ends the process
// at once (the usual "press Ctrl-C twice"); SA_RESTART keeps MPI's system calls from failing with EINTR.
namespace gg {

// Exit status of a run stopped by a signal at a step boundary (sysexits.h's EX_TEMPFAIL: "temporary
// failure, the user is invited to retry"): its checkpoint was written; `gg_train --resume` continues it.
inline constexpr int kStoppedExitCode = 75;

// Not a signal: the stop request file <output.path>.stop (RunControl) asked the run to stop. A launcher
// that cannot be trusted to deliver SIGTERM to every rank in time (mpirun kills the ranks one second
// after forwarding it) creates that file instead; the workers see it at their next agreement.
inline constexpr int kStopRequest = 1 << 16;

// Installs the handler for SIGTERM and SIGINT (call once the run is set up; before, the default action
// ends a process that has nothing to save). Throws std::runtime_error if sigaction fails.
void install_stop_signals();
// 0, or the number of the first SIGTERM / SIGINT received since install_stop_signals().
int stop_signal();
// "SIGTERM", "SIGINT", "a stop request (<output.path>.stop)" or "a signal".
const char* signal_name(int signo);

}  // namespace gg
