#pragma once
// Errors carry their context (file, JSON path, layer name) in the message; only a main() prints them
// and picks the exit code. InputError is the user's fault (bad file, bad config); anything else is a bug.
#include <stdexcept>
#include <string>

namespace gg {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace gg
