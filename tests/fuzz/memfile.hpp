#pragma once
// An in-memory file with a path (memfd_create; /proc/self/fd/N is a regular file to stat and open), so
// the fuzz targets drive the real file readers without touching the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gg::fuzz {

class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(memfd_create(name, 0)), path_("/proc/self/fd/" + std::to_string(fd_)) {}
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  // Replaces the content.
  const std::string& write(const std::uint8_t* data, std::size_t n) {
    if (ftruncate(fd_, 0) != 0 || (n && pwrite(fd_, data, n, 0) != ssize_t(n))) __builtin_trap();
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace gg::fuzz
