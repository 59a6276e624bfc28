#include <algorithm>
#include "core/data/synthetic.hpp"

#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/rng.hpp"

namespace gg {

Dataset make_synthetic(const SyntheticSpec& spec, std::int64_t count, int split, std::string name) {
  if (spec.h < 1 || spec.w < 1 || spec.c < 1 || spec.classes < 2 || count < 1 || split < 0 ||
      !(spec.noise >= 0))
  {
    // Appended piecewise: a "literal" + std::string chain trips GCC 12's false -Wrestrict positive.
    std::string msg = name;
    for (const std::string& part :
         {std::string(": synthetic dataset needs shape >= 1x1x1, >= 2 classes, >= 1 sample, split >= 0 "
                      "and noise >= 0; got shape "),
          std::to_string(spec.h), std::string("x"), std::to_string(spec.w), std::string("x"),
          std::to_string(spec.c), std::string(", classes "), std::to_string(spec.classes),
          std::string(", samples "), std::to_string(count), std::string(", split "), std::to_string(split)})
      msg += part;
    throw InputError(msg);
  }
  Dataset ds;
  ds.name = std::move(name);
  ds.sample = Shape{1, spec.h, spec.w, spec.c};
  ds.num_classes = spec.classes;
  const std::size_t per = ds.sample.per_sample();

  // prototypes: [classes, h, w, c], each a smooth pattern: a coarse g x g grid of uniform values per
  // channel, bilinearly upsampled. (Independent per-pixel prototypes would be learnable by a linear
  // model but averaged away by a convnet's pooling; smooth ones are learnable by both.)
  std::vector<float> proto;
  check_allocation(std::size_t(spec.classes), per * sizeof(float), ds.name + ": synthetic class prototypes");
  resize_checked(proto, std::size_t(spec.classes) * per, ds.name + ": synthetic class prototypes");
  Rng prng(seed_of(spec.seed, 0));  // stream 0: prototypes; split s uses stream s + 1
  const int g = 4;
  std::vector<float> grid(std::size_t(g) * g * spec.c);
  for (int k = 0; k < spec.classes; ++k) {
    for (float& v : grid) v = 2.0f * prng.uniform();
    float* out = proto.data() + std::size_t(k) * per;
    for (int y = 0; y < spec.h; ++y) {
      const float fy = spec.h > 1 ? float(y) * (g - 1) / float(spec.h - 1) : 0.0f;
      const int y0 = std::min(int(fy), g - 2);
      const float ty = fy - float(y0);
      for (int x = 0; x < spec.w; ++x) {
        const float fx = spec.w > 1 ? float(x) * (g - 1) / float(spec.w - 1) : 0.0f;
        const int x0 = std::min(int(fx), g - 2);
        const float tx = fx - float(x0);
        for (int c = 0; c < spec.c; ++c) {
          auto at = [&](int yy, int xx) { return grid[(std::size_t(yy) * g + xx) * spec.c + c]; };
          out[(std::size_t(y) * spec.w + x) * spec.c + c] =
              (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) +
              ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
        }
      }
    }
  }

  const std::string what = ds.name + ": making " + std::to_string(count) + " synthetic samples of " +
                           std::to_string(spec.h) + "x" + std::to_string(spec.w) + "x" + std::to_string(spec.c);
  check_allocation(std::size_t(count), per * sizeof(float), what);
  resize_checked(ds.labels, std::size_t(count), what);
  resize_checked(ds.images, std::size_t(count) * per, what);
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    Rng rng(seed_of(spec.seed, std::uint64_t(split) + 1, std::uint64_t(i)));
    const int label = int(rng.below(std::uint64_t(spec.classes)));
    ds.labels[std::size_t(i)] = label;
    const float* p = proto.data() + std::size_t(label) * per;
    float* dst = ds.images.data() + std::size_t(i) * per;
    for (std::size_t k = 0; k < per; ++k) dst[k] = p[k] + spec.noise * rng.normal();
  }
  return ds;
}

}  // namespace gg
