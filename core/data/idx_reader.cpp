#include "core/data/idx_reader.hpp"

#include <algorithm>
#include <cstdio>

#include "core/data/file_bytes.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr std::uint32_t kMaxSide = 4096;            // larger images are surely a corrupt header

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Checks the header's magic; the hint names the other IDX kind when files were swapped.
void check_magic(const std::vector<std::uint8_t>& bytes, std::size_t header, std::uint32_t want,
                 const char* kind, const std::string& where) {
  if (bytes.size() < header)
    throw InputError(where + ": truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                     std::to_string(header) + "-byte IDX " + kind + " header");
  const std::uint32_t magic = be32(bytes.data());
  if (magic == want) return;
  std::string hint;
  if (magic == kImagesMagic) hint = " (this is an IDX images file)";
  if (magic == kLabelsMagic) hint = " (this is an IDX labels file)";
  throw InputError(where + ": bad magic number " + hex(magic) + ", expected " + hex(want) + " for IDX " +
                   kind + hint);
}

// Payload size must match the header exactly.
void check_payload(std::size_t have, std::uint64_t want, const std::string& where, const std::string& what,
                   const char* unit) {
  if (have < want)
    throw InputError(where + ": truncated: header says " + what + " but file holds " +
                     std::to_string(have) + " bytes of " + unit + " data");
  if (have > want)
    throw InputError(where + ": trailing garbage: " + std::to_string(have - want) + " bytes after the " +
                     what + " the header announces");
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                 int max_classes) {
  const std::string img_where = name + ": " + images_path;
  const std::string lbl_where = name + ": " + labels_path;

  // Images.
  const std::vector<std::uint8_t> img = read_file_bytes(images_path, name);
  check_magic(img, 16, kImagesMagic, "images", img_where);
  const std::uint32_t count = be32(&img[4]), rows = be32(&img[8]), cols = be32(&img[12]);
  if (count == 0) throw InputError(img_where + ": header says the file holds 0 images");
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide)
    throw InputError(img_where + ": implausible image size " + std::to_string(rows) + "x" +
                     std::to_string(cols) + " in the header (expected 1.." + std::to_string(kMaxSide) + ")");
  const std::uint64_t pixels = std::uint64_t(count) * rows * cols;
  check_payload(img.size() - 16, pixels, img_where,
                std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(cols),
                "pixel");

  // Labels.
  const std::vector<std::uint8_t> lbl = read_file_bytes(labels_path, name);
  check_magic(lbl, 8, kLabelsMagic, "labels", lbl_where);
  const std::uint32_t nlabels = be32(&lbl[4]);
  check_payload(lbl.size() - 8, nlabels, lbl_where, std::to_string(nlabels) + " labels", "label");
  if (nlabels != count)
    throw InputError(name + ": " + images_path + " holds " + std::to_string(count) + " images but " +
                     labels_path + " holds " + std::to_string(nlabels) + " labels");

  Dataset ds;
  ds.name = std::move(name);
  ds.sample = Shape{1, int(rows), int(cols), 1};
  ds.labels.resize(count);
  int max_label = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const int l = lbl[8 + i];
    if (l >= max_classes)
      throw InputError(lbl_where + ": label " + std::to_string(l) + " of sample " + std::to_string(i) +
                       " is out of range [0, " + std::to_string(max_classes) + ")");
    ds.labels[i] = l;
    max_label = std::max(max_label, l);
  }
  ds.num_classes = std::max(max_label + 1, std::min(10, max_classes));

  ds.images.resize(pixels);
  const std::uint8_t* src = img.data() + 16;
  for (std::uint64_t i = 0; i < pixels; ++i) ds.images[i] = float(src[i]) * (1.0f / 255.0f);
  return ds;
}

}  // namespace gg
