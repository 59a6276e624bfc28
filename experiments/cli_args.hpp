#pragma once
// gg_train's command line (CLI11): --config, repeated --set, --resume, --quiet, --help, --version,
// --describe.
#include <string>
#include <vector>

namespace gg {

struct Args {
  std::string config;
  std::vector<std::string> overrides;
  bool quiet = false;
  bool resume = false;  // continue the run from its last checkpoint (core/train/checkpoint_store.hpp)
  std::string print;  // text to print on rank 0 instead of training (--help, --version, --describe)
};

// Throws InputError for a bad command line (CLI11's message, naming the option).
Args parse_args(int argc, char** argv);

}  // namespace gg
