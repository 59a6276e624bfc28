#include "core/data/file_bytes.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

namespace {

[[noreturn]] void fail(const std::string& who, const std::string& path, const std::string& what) {
  throw InputError(who + ": " + shown(path) + ": " + what);
}

// Deflate cannot compress better than 1032:1, so no honest gzip file inflates to more than this many
// times its size (plus the headers' slack): a trailer claiming more is forged, and is not trusted.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

}  // namespace

void ByteReader::Closer::operator()(std::FILE* f) const { std::fclose(f); }

ByteReader::ByteReader(const std::string& path, const std::string& who) : path_(path), who_(who) {
  ReadFile file(path, who);
  disk_size_ = file.size();
  unsigned char magic[2] = {0, 0};
  const bool gz = ::pread(file.fd(), magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (gz) {
    unsigned char t[4] = {0, 0, 0, 0};
    if (disk_size_ >= 4 && ::pread(file.fd(), t, 4, off_t(disk_size_ - 4)) == 4)
      trailer_ = std::uint32_t(t[0]) | std::uint32_t(t[1]) << 8 | std::uint32_t(t[2]) << 16 | std::uint32_t(t[3]) << 24;
    const int fd = file.release();
    gz_ = gzdopen(fd, "rb");
    if (!gz_) {
      ::close(fd);
      fail(who, path, "cannot open the gzip stream (out of memory)");
    }
    gzbuffer(gz_, 1 << 17);
  } else {
    const int fd = file.release();
    plain_.reset(::fdopen(fd, "rb"));
    if (!plain_) {
      ::close(fd);
      fail(who, path, std::string("cannot open: ") + std::strerror(errno));
    }
  }
}

ByteReader::~ByteReader() {
  if (gz_) gzclose_r(gz_);
}

std::size_t ByteReader::read(std::uint8_t* dst, std::size_t n) {
  std::size_t done = 0;
  if (plain_) {
    done = std::fread(dst, 1, n, plain_.get());
    if (done < n && std::ferror(plain_.get())) fail(who_, path_, std::string("read error: ") + std::strerror(errno));
  } else {
    while (done < n) {
      const int got = gzread(gz_, dst + done, unsigned(std::min<std::size_t>(n - done, 1u << 30)));
      if (got <= 0) break;
      done += std::size_t(got);
    }
    if (done < n) {  // the end, or an error: Z_BUF_ERROR = the stream ends early, Z_DATA_ERROR = corrupt
      int err = Z_OK;
      const char* msg = gzerror(gz_, &err);
      if (err != Z_OK) {
        std::string why = msg ? msg : "?";
        if (why.rfind("<fd:", 0) == 0 && why.find(": ") != std::string::npos) why = why.substr(why.find(": ") + 2);
        fail(who_, path_, "truncated or corrupt gzip data (" + shown(why, 80) + ") after " +
                              std::to_string(delivered_ + done) + " uncompressed bytes");
      }
    }
  }
  delivered_ += done;
  return done;
}

std::uint64_t ByteReader::skip_rest() {
  std::vector<std::uint8_t> buf(1 << 16);
  std::uint64_t n = 0;
  for (std::size_t got; (got = read(buf.data(), buf.size())) > 0;) n += got;
  return n;
}

std::uint64_t ByteReader::total_size(const std::function<bool(std::uint64_t)>& trust_trailer) {
  if (plain_) return disk_size_;
  if (trust_trailer && trust_trailer(trailer_) && trailer_ <= kMaxDeflateRatio * disk_size_ + 1024) return trailer_;
  ByteReader counter(path_, who_);  // inflate once, keep nothing
  return counter.skip_rest();
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who) {
  ByteReader in(path, who);
  const std::string what = who + ": " + shown(path) + ": reading the file";
  std::vector<std::uint8_t> out;
  if (!in.gzipped()) {  // its size is known: one allocation
    const std::uint64_t size = in.total_size(nullptr);
    check_allocation(std::size_t(size), 1, what);
    out.reserve(std::size_t(size));
  }
  std::vector<std::uint8_t> chunk(std::size_t(1) << 20);
  try {
    for (std::size_t got; (got = in.read(chunk.data(), chunk.size())) > 0;) {
      check_allocation(out.size() + got, 1, what);
      out.insert(out.end(), chunk.begin(), chunk.begin() + std::ptrdiff_t(got));
    }
  } catch (const std::bad_alloc&) {
    out_of_memory(out.size() + chunk.size(), 1, what);
  }
  return out;
}

}  // namespace gg
