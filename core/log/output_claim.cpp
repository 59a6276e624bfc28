#include "core/log/output_claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/util/error.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw InputError("output.path: " + shown(path) + ": " + why);
}

struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;  // to the end, however far it grows
  return l;
}

// True if fd and path name the same file now.
bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::string OutputClaim::staging_for(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".part")).string();
}

std::string OutputClaim::holder_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  std::string holder;
  struct flock l = whole_file(F_WRLCK);
  if (::fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK) {
    holder = "a running gg_train writes it";
  } else if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) holder = "another program (an HDF5 writer) holds it open for writing";
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return holder;
}

namespace {

// A symbolic link is followed (the log goes where it points, as opening the path would); anything
// but a regular file at the path is refused: publishing renames over it.
std::string resolved_output(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return path;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const auto target = std::filesystem::weakly_canonical(path, ec);
    if (ec) refuse(path, "cannot resolve the symbolic link (" + ec.message() + ")");
    return resolved_output(target.string());
  }
  if (!S_ISREG(st.st_mode)) refuse(path, "is " + file_kind(st.st_mode) + ", not a regular file");
  return path;
}

}  // namespace

OutputClaim::OutputClaim(std::string path) : path_(resolved_output(path)), staging_(staging_for(path_)) {
  // 0. Missing folders, outermost first.
  std::vector<std::string> missing;
  for (std::filesystem::path dir = std::filesystem::path(staging_).parent_path(); !dir.empty();
       dir = dir.parent_path()) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) break;
    missing.push_back(dir.string());
    if (dir == dir.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      release_unpublished();
      refuse(path_, "cannot create directory " + shown(*it) + " (" + std::strerror(err) + ")");
    }
    made_dirs_.push_back(*it);
  }
  // 1. The staging file, locked; retried if it was replaced between open() and the lock (a run that
  //    failed removes its staging file while it still holds the lock).
  for (int attempt = 0; fd_ < 0; ++attempt) {
    const int fd = ::open(staging_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      const int err = errno;
      release_unpublished();
      refuse(path_, "cannot create " + shown(staging_) + " (" + std::strerror(err) + ")");
    }
    struct flock l = whole_file(F_WRLCK);
    if (::fcntl(fd, F_OFD_SETLK, &l) != 0) {
      const int err = errno;
      ::close(fd);
      release_unpublished();  // the staging file is the other run's: only our folders go (none, then)
      if (err == EAGAIN || err == EACCES)
        refuse(path_, "another gg_train run is setting up with this output path (it holds " + shown(staging_) +
                          "); choose another output.path");
      refuse(path_, "cannot lock " + shown(staging_) + " (" + std::strerror(err) + ")");
    }
    if (same_file(fd, staging_)) {
      fd_ = fd;
    } else {
      ::close(fd);
      if (attempt >= 8) {
        release_unpublished();
        refuse(path_, shown(staging_) + " keeps being replaced; is another run starting?");
      }
    }
  }
  // 2. The log at path_, if any: never touched here.
  try {
    if (const std::string holder = holder_of(path_); !holder.empty())
      refuse(path_, holder + "; choose another output.path or wait until it ends");
  } catch (...) {
    release_unpublished();
    throw;
  }
  // 3. Ours: start from an empty file.
  if (::ftruncate(fd_, 0) != 0) {
    const int err = errno;
    release_unpublished();
    refuse(path_, "cannot truncate " + shown(staging_) + " (" + std::strerror(err) + ")");
  }
}

OutputClaim::OutputClaim(std::string path, Existing) : path_(resolved_output(path)), staging_(staging_for(path_)) {
  // A run setting up for the path holds its staging file's lock.
  if (const int sfd = ::open(staging_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); sfd >= 0) {
    struct flock l = whole_file(F_WRLCK);
    const bool held = ::fcntl(sfd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
    ::close(sfd);
    if (held)
      refuse(path_, "another gg_train run is setting up with this output path (it holds " + shown(staging_) +
                        "); choose another output.path");
  }
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) refuse(path_, "cannot resume this log: it does not exist (the checkpoint's run log is gone)");
    refuse(path_, "cannot resume this log: cannot open it (" + std::string(std::strerror(err)) + ")");
  }
  if (const std::string holder = holder_of(path_); !holder.empty()) {
    ::close(fd);
    refuse(path_, holder + "; wait until it ends");
  }
  struct flock l = whole_file(F_WRLCK);
  if (::fcntl(fd, F_OFD_SETLK, &l) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES) refuse(path_, "a running gg_train writes it; wait until it ends");
    refuse(path_, "cannot lock it (" + std::string(std::strerror(err)) + ")");
  }
  fd_ = fd;
  published_ = true;
}

OutputClaim::~OutputClaim() {
  if (!published_) {
    release_unpublished();
  } else if (fd_ >= 0) {
    ::close(fd_);  // drops the lock
  }
}

void OutputClaim::release_unpublished() noexcept {
  if (fd_ >= 0) {
    ::unlink(staging_.c_str());  // still locked: nobody else can be using it
    ::close(fd_);
    fd_ = -1;
  }
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it) ::rmdir(it->c_str());  // if empty
  made_dirs_.clear();
}

void OutputClaim::publish() {
  if (published_) return;
  if (::rename(staging_.c_str(), path_.c_str()) != 0)
    throw std::runtime_error("output.path: " + shown(path_) + ": cannot rename " + shown(staging_) + " to it (" +
                             std::strerror(errno) + ")");
  published_ = true;
  made_dirs_.clear();  // they hold the log now
}

}  // namespace gg
