#pragma once
// File reading shared by the dataset readers. A file that starts with the gzip magic (1f 8b) is
// inflated, whatever its name; anything else is read as is.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct gzFile_s;  // zlib's gzFile, kept out of this header

namespace gg {

// Sequential reading of one file, inflated if gzipped, in pieces of the caller's size: the readers
// decode as they go instead of holding a whole uncompressed file. Problems are InputError
// "<who>: <path>: <problem>": missing, unreadable, a directory (constructor), or a gzip stream that is
// truncated or corrupt (read, "... after N uncompressed bytes").
class ByteReader {
 public:
  ByteReader(const std::string& path, const std::string& who);
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Reads up to n bytes into dst; fewer only at the end of the file; 0 once there.
  std::size_t read(std::uint8_t* dst, std::size_t n);
  // Reads and counts everything that is left (for reporting trailing bytes).
  std::uint64_t skip_rest();
  // Bytes delivered so far (uncompressed).
  std::uint64_t delivered() const { return delivered_; }
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const;
  };
  std::string path_, who_;
  std::unique_ptr<std::FILE, Closer> plain_;
  gzFile_s* gz_ = nullptr;
  std::uint64_t delivered_ = 0;
};

// The whole file. Same errors as ByteReader.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who);

}  // namespace gg
