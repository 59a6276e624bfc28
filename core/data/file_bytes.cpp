#include "core/data/file_bytes.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/util/error.hpp"

namespace gg {

namespace {

[[noreturn]] void fail(const std::string& who, const std::string& path, const std::string& what) {
  throw InputError(who + ": " + path + ": " + what);
}

}  // namespace

void ByteReader::Closer::operator()(std::FILE* f) const { std::fclose(f); }

ByteReader::ByteReader(const std::string& path, const std::string& who) : path_(path), who_(who) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(who, path, "file not found");
  if (std::filesystem::is_directory(path, ec)) fail(who, path, "is a directory, not a file");
  plain_.reset(std::fopen(path.c_str(), "rb"));
  if (!plain_) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, plain_.get());
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    plain_.reset();
    gz_ = gzopen(path.c_str(), "rb");
    if (!gz_) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(gz_, 1 << 17);
  } else {
    std::rewind(plain_.get());
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
      if (err != Z_OK)
        fail(who_, path_, std::string("truncated or corrupt gzip data (") + msg + ") after " +
                              std::to_string(delivered_ + done) + " uncompressed bytes");
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

std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who) {
  ByteReader in(path, who);
  std::vector<std::uint8_t> out, chunk(std::size_t(1) << 20);
  for (std::size_t got; (got = in.read(chunk.data(), chunk.size())) > 0;)
    out.insert(out.end(), chunk.begin(), chunk.begin() + std::ptrdiff_t(got));
  return out;
}

}  // namespace gg
