#pragma once
// File reading shared by the dataset readers. A file that starts with the gzip magic (1f 8b) is
// inflated, whatever its name; anything else is read as is. Only regular files are opened
// (core/util/regular_file.hpp): a FIFO, device or directory is refused by type, before open().
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct gzFile_s;  // zlib's gzFile, kept out of this header

namespace gg {

// Sequential reading of one file, inflated if gzipped, in pieces of the caller's size: the readers
// decode as they go instead of holding a whole uncompressed file. Problems are InputError
// "<who>: <path>: <problem>": missing, unreadable, not a regular file (constructor), or a gzip stream
// that is truncated or corrupt (read, "... after N uncompressed bytes").
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
  bool gzipped() const { return gz_ != nullptr; }

  // The whole file's uncompressed size, known before decoding, so that a reader can check a header's
  // counts before it allocates anything for them: a plain file's size on disk; for a gzip file, the
  // size its trailer records (ISIZE, the size modulo 4 GiB) when `trust_trailer` accepts it and
  // deflate could have produced it (at most 1032 times the file's size), else the size counted by
  // inflating the file once (nothing stored). The stream read afterwards is verified as it goes (zlib
  // checks the trailer's CRC and length at the end), so a lying trailer is caught too, and what it
  // could make a reader allocate is bounded by the file's size.
  std::uint64_t total_size(const std::function<bool(std::uint64_t)>& trust_trailer);

 private:
  struct Closer {
    void operator()(std::FILE* f) const;
  };
  std::string path_, who_;
  std::uint64_t disk_size_ = 0;
  std::uint32_t trailer_ = 0;  // gzip ISIZE
  std::unique_ptr<std::FILE, Closer> plain_;
  gzFile_s* gz_ = nullptr;
  std::uint64_t delivered_ = 0;
};

// The whole file. Same errors as ByteReader.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& who);

}  // namespace gg
