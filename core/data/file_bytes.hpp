#pragma once
// Whole-file reading shared by the dataset readers. A file that starts with the gzip magic (1f 8b) is
// inflated, whatever its name; anything else is read as is.
#include <cstdint>
#include <string>
#include <vector>

namespace gg {

// Throws InputError "<who>: <path>: <problem>" if the file is missing, unreadable, a directory,
// or a gzip stream that is truncated or corrupt.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who);

}  // namespace gg
