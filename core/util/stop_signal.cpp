#include "core/util/stop_signal.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gg {

namespace {

// The one global (see the header): written only by the handler, read by stop_signal().
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signo) {
  if (g_stop_signal == 0) g_stop_signal = signo;
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  for (int signo : {SIGTERM, SIGINT})
    if (sigaction(signo, &sa, nullptr) != 0)
      throw std::runtime_error(std::string("sigaction(") + signal_name(signo) + "): " + std::strerror(errno));
}

int stop_signal() { return g_stop_signal; }

const char* signal_name(int signo) {
  if (signo == SIGTERM) return "SIGTERM";
  if (signo == SIGINT) return "SIGINT";
  if (signo == kStopRequest) return "a stop request (<output.path>.stop)";
  return "a signal";
}

}  // namespace gg
