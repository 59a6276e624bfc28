#include "core/data/cifar_reader.hpp"

#include <algorithm>

#include "core/data/file_bytes.hpp"
#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/message.hpp"

namespace gg {

namespace {

constexpr int kPlane = kCifarSide * kCifarSide;

// Records in a file of `bytes` (uncompressed); InputError unless a positive multiple of the record.
std::size_t records_in(std::uint64_t bytes, const std::string& where) {
  if (bytes == 0) throw InputError(where + ": file is empty");
  if (bytes % kCifarRecord != 0)
    throw InputError(where + ": size " + std::to_string(bytes) +
                     " bytes is not a multiple of the 3073-byte CIFAR-10 record (1 label + 3x32x32 "
                     "pixels); truncated or not a CIFAR-10 binary file");
  return std::size_t(bytes / kCifarRecord);
}

}  // namespace

Dataset load_cifar10(const std::vector<std::string>& paths, std::string name) {
  Dataset ds;
  ds.sample = Shape{1, kCifarSide, kCifarSide, 3};
  ds.num_classes = 10;
  // Every file's size first (a gzip file's from its trailer, or by inflating it once), so that the
  // storage is sized from what the files really hold, then allocated once.
  std::vector<std::size_t> records;
  std::size_t total = 0;
  for (const std::string& path : paths) {
    ByteReader in(path, name);
    const std::string where = name + ": " + shown(path);
    records.push_back(records_in(in.total_size([](std::uint64_t s) { return s > 0 && s % kCifarRecord == 0; }), where));
    total += records.back();
  }
  const std::string what = name + ": storing " + std::to_string(total) + " CIFAR-10 images as floats";
  check_allocation(total, std::size_t(3 * kPlane) * sizeof(float), what);
  resize_checked(ds.labels, total, what);
  resize_checked(ds.images, total * 3 * kPlane, what);

  std::vector<std::uint8_t> buf(std::size_t(256) * kCifarRecord);
  std::size_t first = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    ByteReader in(paths[f], name);
    const std::string where = name + ": " + shown(paths[f]);
    for (std::size_t r = 0; r < records[f];) {
      const std::size_t want = std::min<std::size_t>(256, records[f] - r);
      const std::size_t got = in.read(buf.data(), want * kCifarRecord);
      if (got < want * kCifarRecord)  // the file changed since its size was taken, or the gzip trailer lied
        throw InputError(where + ": truncated: ends after " + std::to_string(in.delivered()) + " of " +
                         std::to_string(records[f] * std::size_t(kCifarRecord)) + " bytes");
      for (std::size_t k = 0; k < want; ++k, ++r) {
        const std::uint8_t* rec = buf.data() + k * kCifarRecord;
        if (rec[0] >= 10)
          throw InputError(where + ": record " + std::to_string(r) + " has label " + std::to_string(rec[0]) +
                           ", out of range [0, 10)");
        ds.labels[first + r] = rec[0];
        // CHW planes -> HWC interleaved.
        float* dst = ds.images.data() + (first + r) * 3 * kPlane;
        for (int p = 0; p < kPlane; ++p)
          for (int c = 0; c < 3; ++c) dst[p * 3 + c] = float(rec[1 + c * kPlane + p]) * (1.0f / 255.0f);
      }
    }
    if (const std::uint64_t extra = in.skip_rest(); extra > 0)
      throw InputError(where + ": trailing data: " + std::to_string(extra) + " bytes more than its size said");
    first += records[f];
  }
  ds.name = std::move(name);
  return ds;
}

}  // namespace gg
