#pragma once
// What this binary is: the git revision it was built from ("-dirty" when tracked files differed, or
// "unknown" outside a checkout), the CMake build type, and the backends compiled in (comma-separated,
// e.g. "cpu,mpi" or "cpu,smpi"). Defined in a source generated at every build (cmake/write_version.cmake).
#include <string>

namespace gg {

struct BuildInfo {
  std::string git_revision;
  std::string build_type;
  std::string backends;
};

BuildInfo build_info();

}  // namespace gg
