#include "core/data/idx_reader.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/data/file_bytes.hpp"
#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/message.hpp"

namespace gg {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr std::uint32_t kMaxSide = 4096;            // larger images are surely a corrupt header
constexpr std::size_t kImagesHeader = 16, kLabelsHeader = 8;

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Checks the header's magic; the hint names the other IDX kind when files were swapped.
void check_magic(const std::uint8_t* bytes, std::size_t size, std::size_t header, std::uint32_t want,
                 const char* kind, const std::string& where) {
  if (size < header)
    throw InputError(where + ": truncated: " + std::to_string(size) + " bytes, shorter than the " +
                     std::to_string(header) + "-byte IDX " + kind + " header");
  const std::uint32_t magic = be32(bytes);
  if (magic == want) return;
  std::string hint;
  if (magic == kImagesMagic) hint = " (this is an IDX images file)";
  if (magic == kLabelsMagic) hint = " (this is an IDX labels file)";
  throw InputError(where + ": bad magic number " + hex(magic) + ", expected " + hex(want) + " for IDX " +
                   kind + hint);
}

// Payload size must match the header exactly.
void check_payload(std::uint64_t have, std::uint64_t want, const std::string& where, const std::string& what,
                   const char* unit) {
  if (have < want)
    throw InputError(where + ": truncated: header says " + what + " but file holds " +
                     std::to_string(have) + " bytes of " + unit + " data");
  if (have > want)
    throw InputError(where + ": trailing garbage: " + std::to_string(have - want) + " bytes after the " +
                     what + " the header announces");
}

// Reads and checks an images header from `in`.
IdxImagesHeader images_header(ByteReader& in, const std::string& where) {
  std::uint8_t h[kImagesHeader];
  const std::size_t got = in.read(h, kImagesHeader);
  check_magic(h, got, kImagesHeader, kImagesMagic, "images", where);
  const std::uint32_t count = be32(h + 4), rows = be32(h + 8), cols = be32(h + 12);
  if (count == 0) throw InputError(where + ": header says the file holds 0 images");
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide)
    throw InputError(where + ": implausible image size " + std::to_string(rows) + "x" + std::to_string(cols) +
                     " in the header (expected 1.." + std::to_string(kMaxSide) + ")");
  return {std::int64_t(count), int(rows), int(cols)};
}

// The ids to store of n samples: `keep`'s answer, checked (a bad answer is a caller bug).
std::vector<std::int64_t> kept_ids(const KeepIds& keep, std::int64_t n, const std::vector<std::uint8_t>& label_bytes,
                                   const std::string& name) {
  const std::vector<std::int32_t> labels(label_bytes.begin(), label_bytes.begin() + std::ptrdiff_t(n));
  std::vector<std::int64_t> ids = keep(n, labels);
  for (std::size_t k = 0; k < ids.size(); ++k)
    if (ids[k] < 0 || ids[k] >= n || (k > 0 && ids[k] <= ids[k - 1]))
      throw std::out_of_range(name + ": samples to keep must be ascending ids in [0, " + std::to_string(n) +
                              "), got " + std::to_string(ids[k]) + " at position " + std::to_string(k));
  return ids;
}

}  // namespace

IdxImagesHeader read_idx_images_header(const std::string& images_path, const std::string& name) {
  ByteReader in(images_path, name);
  return images_header(in, name + ": " + shown(images_path));
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                 int max_classes, const IdxOptions& options) {
  const std::string img_where = name + ": " + shown(images_path);
  const std::string lbl_where = name + ": " + shown(labels_path);

  // Both headers first, each checked against the real size of its file before anything is allocated
  // for the counts it claims (a gzip file's size comes from its trailer, or from inflating it once).
  ByteReader img(images_path, name);
  const IdxImagesHeader hdr = images_header(img, img_where);
  const std::size_t per = std::size_t(hdr.rows) * std::size_t(hdr.cols);
  const std::uint64_t pixels = std::uint64_t(hdr.count) * per;
  const std::string images_what = std::to_string(hdr.count) + " images of " + std::to_string(hdr.rows) + "x" +
                                  std::to_string(hdr.cols);
  const std::uint64_t img_size = img.total_size([&](std::uint64_t s) { return s == kImagesHeader + pixels; });
  check_payload(img_size - kImagesHeader, pixels, img_where, images_what, "pixel");

  ByteReader lbl(labels_path, name);
  std::uint8_t lh[kLabelsHeader];
  check_magic(lh, lbl.read(lh, kLabelsHeader), kLabelsHeader, kLabelsMagic, "labels", lbl_where);
  const std::uint32_t nlabels = be32(lh + 4);
  const std::string labels_what = std::to_string(nlabels) + " labels";
  const std::uint64_t lbl_size = lbl.total_size([&](std::uint64_t s) { return s == kLabelsHeader + nlabels; });
  check_payload(lbl_size - kLabelsHeader, nlabels, lbl_where, labels_what, "label");
  if (std::int64_t(nlabels) != hdr.count)
    throw InputError(name + ": " + shown(images_path) + " holds " + std::to_string(hdr.count) + " images but " +
                     shown(labels_path) + " holds " + std::to_string(nlabels) + " labels");

  // Labels (one byte per sample: read whole, checked as they come).
  std::vector<std::uint8_t> lbl_bytes;
  resize_checked(lbl_bytes, nlabels, lbl_where + ": reading " + labels_what);
  lbl.read(lbl_bytes.data(), lbl_bytes.size());
  lbl.skip_rest();
  check_payload(lbl.delivered() - kLabelsHeader, nlabels, lbl_where, labels_what, "label");
  int max_label = 0;
  for (std::uint32_t i = 0; i < nlabels; ++i) {
    const int l = lbl_bytes[i];
    if (l >= max_classes)
      throw InputError(lbl_where + ": label " + std::to_string(l) + " of sample " + std::to_string(i) +
                       " is out of range [0, " + std::to_string(max_classes) + ")");
    max_label = std::max(max_label, l);
  }

  // Images: the pixels as they stream in. Samples [0, n) form the data set; of those, `keep` are stored
  // and all feed the moments. The rest of the file is only counted.
  const std::int64_t n = std::min(hdr.count, std::max<std::int64_t>(options.limit, 0));
  std::vector<std::int64_t> keep = options.keep ? kept_ids(options.keep, n, lbl_bytes, name) : std::vector<std::int64_t>{};
  const bool all = !options.keep || std::int64_t(keep.size()) == n;
  const std::size_t stored = all ? std::size_t(n) : keep.size();

  Dataset ds;
  ds.sample = Shape{1, hdr.rows, hdr.cols, 1};
  resize_checked(ds.images, stored * per,
                 img_where + ": storing " + std::to_string(stored) + " images of " + std::to_string(hdr.rows) + "x" +
                     std::to_string(hdr.cols) + " as floats");
  std::vector<float> scratch(options.moments && !all ? per : 0);  // a sample that feeds the moments only
  const std::int64_t chunk = std::max<std::int64_t>(1, std::int64_t(1 << 20) / std::int64_t(per));
  std::vector<std::uint8_t> buf(std::size_t(std::min(chunk, std::max<std::int64_t>(n, 1))) * per);
  std::size_t row = 0;
  for (std::int64_t s = 0; s < n;) {
    const std::int64_t want = std::min<std::int64_t>(std::int64_t(buf.size() / per), n - s);
    const std::size_t got = img.read(buf.data(), std::size_t(want) * per);
    const std::int64_t whole = std::int64_t(got / per);
    for (std::int64_t j = 0; j < whole; ++j, ++s) {
      const bool store = all || (row < keep.size() && keep[row] == s);
      if (!store && !options.moments) continue;
      float* dst = store ? ds.images.data() + row * per : scratch.data();
      const std::uint8_t* src = buf.data() + std::size_t(j) * per;
      for (std::size_t k = 0; k < per; ++k) dst[k] = float(src[k]) * (1.0f / 255.0f);
      if (options.moments) options.moments->add(dst, per);
      row += store;
    }
    if (got < std::size_t(want) * per) break;  // truncated: reported just below
  }
  img.skip_rest();
  check_payload(img.delivered() - kImagesHeader, pixels, img_where, images_what, "pixel");

  ds.num_classes = std::max(max_label + 1, std::min(10, max_classes));
  resize_checked(ds.labels, stored, lbl_where + ": storing " + std::to_string(stored) + " labels");
  for (std::size_t r = 0; r < stored; ++r) ds.labels[r] = lbl_bytes[std::size_t(all ? std::int64_t(r) : keep[r])];
  if (!all) {  // the data set is samples [0, n); this rank stores the `keep` ones
    ds.total = n;
    ds.ids = std::move(keep);
  }
  ds.name = std::move(name);
  return ds;
}

}  // namespace gg
