#pragma once
// Opening user-named files for reading. Only regular files are opened: a FIFO, a device, a socket or
// a directory is refused by its type (stat) before open(), which could block on a FIFO forever or act
// on a device; the opened file is checked again (fstat), so a file swapped in between is refused too.
// Problems are InputError "<who>: <path>: <problem>" (the path through shown()).
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace gg {

class ReadFile {
 public:
  ReadFile(const std::string& path, const std::string& who);
  ~ReadFile();
  ReadFile(ReadFile&& o) noexcept : fd_(o.fd_), size_(o.size_) { o.fd_ = -1; }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  ReadFile& operator=(ReadFile&&) = delete;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }  // bytes on disk
  int release() {  // hands the descriptor over: the caller closes it
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// "a directory", "a FIFO (named pipe)", "a character device", ... ("" for a regular file).
std::string file_kind(mode_t mode);

// The whole of a small text file (a config). A file larger than max_bytes is an InputError naming
// both sizes; so is a read error.
std::string read_text_file(const std::string& path, const std::string& who, std::uint64_t max_bytes);

}  // namespace gg
