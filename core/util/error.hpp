#pragma once
// Errors carry their context (file, JSON path, layer name) in the message; only a main() prints them
// and picks the exit code (core/util/exit_codes.hpp). InputError is the user's fault (bad file, bad
// config); anything else is a bug. Messages are one line: user-supplied names go through shown()
// (core/util/message.hpp).
#include <stdexcept>
#include <string>

namespace gg {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The machine cannot give what the run asks for (memory). The message names what was being done and
// the size that failed. An InputError, because the run's inputs asked for that size.
struct ResourceError : InputError {
  using InputError::InputError;
};

}  // namespace gg
