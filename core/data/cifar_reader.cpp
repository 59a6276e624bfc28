#include "core/data/cifar_reader.hpp"

#include "core/data/file_bytes.hpp"
#include "core/util/error.hpp"

namespace gg {

Dataset load_cifar10(const std::vector<std::string>& paths, std::string name) {
  constexpr int kPlane = kCifarSide * kCifarSide;
  Dataset ds;
  ds.sample = Shape{1, kCifarSide, kCifarSide, 3};
  ds.num_classes = 10;
  for (const std::string& path : paths) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path, name);
    const std::string where = name + ": " + path;
    if (bytes.empty()) throw InputError(where + ": file is empty");
    if (bytes.size() % kCifarRecord != 0)
      throw InputError(where + ": size " + std::to_string(bytes.size()) +
                       " bytes is not a multiple of the 3073-byte CIFAR-10 record (1 label + 3x32x32 "
                       "pixels); truncated or not a CIFAR-10 binary file");
    const std::size_t records = bytes.size() / kCifarRecord;
    const std::size_t first = ds.labels.size();
    ds.labels.resize(first + records);
    ds.images.resize((first + records) * 3 * kPlane);
    for (std::size_t r = 0; r < records; ++r) {
      const std::uint8_t* rec = bytes.data() + r * kCifarRecord;
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
  ds.name = std::move(name);
  return ds;
}

}  // namespace gg
