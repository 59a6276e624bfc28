#include "core/util/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/util/error.hpp"
#include "core/util/message.hpp"

namespace gg {

namespace {

[[noreturn]] void fail(const std::string& who, const std::string& path, const std::string& what) {
  throw InputError((who.empty() ? "" : who + ": ") + shown(path) + ": " + what);
}

std::string not_regular(mode_t mode) { return "is " + file_kind(mode) + ", not a regular file"; }

}  // namespace

std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

ReadFile::ReadFile(const std::string& path, const std::string& who) {
  if (path.empty()) fail(who, path, "empty file name");
  if (path.find('\0') != std::string::npos) fail(who, path, "file name contains a NUL byte");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) fail(who, path, "file not found");
    fail(who, path, std::string("cannot access: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) fail(who, path, not_regular(st.st_mode));
  // O_NONBLOCK: should a FIFO have replaced the file since stat(), open() returns instead of waiting.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string why = S_ISREG(st.st_mode) ? std::string("cannot stat: ") + std::strerror(errno)
                                                : not_regular(st.st_mode);
    ::close(fd_);
    fd_ = -1;
    fail(who, path, why);
  }
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  size_ = std::uint64_t(st.st_size);
}

ReadFile::~ReadFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_text_file(const std::string& path, const std::string& who, std::uint64_t max_bytes) {
  ReadFile f(path, who);
  if (f.size() > max_bytes)
    fail(who, path, "is " + human_bytes(double(f.size())) + ", larger than the " + human_bytes(double(max_bytes)) +
                        " a file of this kind may have");
  std::string text(std::size_t(f.size()), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t got = ::read(f.fd(), text.data() + done, text.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(who, path, std::string("read error: ") + std::strerror(errno));
    if (got == 0) break;  // shrank while reading
    done += std::size_t(got);
  }
  text.resize(done);
  return text;
}

}  // namespace gg
