#include "core/data/file_bytes.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/util/error.hpp"

namespace gg {

namespace {

[[noreturn]] void fail(const std::string& who, const std::string& path, const std::string& what) {
  throw InputError(who + ": " + path + ": " + what);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::vector<std::uint8_t> read_gzip(const std::string& path, const std::string& who) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(gz, 1 << 17);
  std::vector<std::uint8_t> out;
  std::size_t used = 0;
  for (;;) {
    if (out.size() - used < (1u << 20)) out.resize(std::max<std::size_t>(out.size() * 2, 1u << 22));
    const int n = gzread(gz, out.data() + used, unsigned(std::min<std::size_t>(out.size() - used, 1u << 30)));
    if (n <= 0) break;
    used += std::size_t(n);
  }
  int err = Z_OK;
  const char* msg = gzerror(gz, &err);
  if (err != Z_OK) {  // Z_BUF_ERROR: the stream ends early; Z_DATA_ERROR: corrupt
    const std::string what = std::string("truncated or corrupt gzip data (") + msg + ") after " +
                             std::to_string(used) + " uncompressed bytes";
    gzclose_r(gz);
    fail(who, path, what);
  }
  gzclose_r(gz);
  out.resize(used);
  out.shrink_to_fit();
  return out;
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(who, path, "file not found");
  if (std::filesystem::is_directory(path, ec)) fail(who, path, "is a directory, not a file");
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, f.get());
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    f.reset();
    return read_gzip(path, who);
  }
  // Plain file: size it, then read it in one go.
  if (std::fseek(f.get(), 0, SEEK_END) != 0) fail(who, path, "cannot seek (not a regular file?)");
  const long size = std::ftell(f.get());
  if (size < 0) fail(who, path, "cannot determine size");
  std::rewind(f.get());
  std::vector<std::uint8_t> out(std::size_t(size), 0);
  if (size > 0 && std::fread(out.data(), 1, out.size(), f.get()) != out.size())
    fail(who, path, std::string("read error: ") + std::strerror(errno));
  return out;
}

}  // namespace gg
