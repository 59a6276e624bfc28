#pragma once
// Small helpers shared by the layer implementations: uniform error messages and input checks.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/layers/layer.hpp"
#include "core/util/error.hpp"

namespace gg {

// Loops over fewer floats than this stay on one thread: a fork/join costs more than it saves, and on
// a loaded machine a barrier can wait a whole time slice. Results never depend on the thread count.
constexpr std::size_t kParallelMin = std::size_t(1) << 16;

// Throws InputError "layer 'conv1' (conv2d): <what>".
[[noreturn]] inline void layer_fail(const Layer& l, const std::string& what) {
  throw InputError("layer '" + l.name() + "' (" + l.kind() + "): " + what);
}

// Checks the number of inputs is in [lo, hi].
inline void expect_inputs(const Layer& l, std::span<const Shape> in, std::size_t lo, std::size_t hi) {
  if (in.size() < lo || in.size() > hi) {
    const std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + "+";
    layer_fail(l, "expects " + want + " input(s), got " + std::to_string(in.size()));
  }
  for (const Shape& s : in)
    if (s.n <= 0 || s.h <= 0 || s.w <= 0 || s.c <= 0) layer_fail(l, "empty input shape " + s.str());
}

// Checks that bind() got exactly `count` spans of the sizes the layer asked for.
inline void expect_bind(const Layer& l, std::span<const std::span<float>> w,
                        std::span<const std::span<float>> g, std::size_t count) {
  if (w.size() != count || g.size() != count)
    layer_fail(l, "bind() expects " + std::to_string(count) + " parameter spans");
  const auto specs = l.params();
  for (std::size_t i = 0; i < count; ++i)
    if (w[i].size() != specs[i].count || g[i].size() != specs[i].count)
      layer_fail(l, "bind(): parameter '" + specs[i].name + "' has the wrong size");
}

// The weight [+ bias] parameters of a conv2d or dense layer: weight [out, fan_in] with the given
// init and weight decay, bias [out] zero-initialised without decay.
inline std::vector<ParamSpec> weight_bias_specs(std::size_t out, std::size_t fan_in, float fan_out, Init init,
                                                bool bias) {
  std::vector<ParamSpec> p{{"weight", out * fan_in, init, float(fan_in), fan_out, true}};
  if (bias) p.push_back({"bias", out, Init::Zero, 1.0f, 1.0f, false});
  return p;
}

// Pointers of a weight [+ bias] layer into the model's flat buffers (see weight_bias_specs).
struct WeightBias {
  float* w = nullptr;   // [out, fan_in]
  float* dw = nullptr;  // [out, fan_in]
  float* b = nullptr;   // [out] (null without bias)
  float* db = nullptr;  // [out]
};
inline WeightBias bind_weight_bias(const Layer& l, std::span<const std::span<float>> w,
                                   std::span<const std::span<float>> g, bool bias) {
  expect_bind(l, w, g, bias ? 2 : 1);
  WeightBias v{w[0].data(), g[0].data(), nullptr, nullptr};
  if (bias) {
    v.b = w[1].data();
    v.db = g[1].data();
  }
  return v;
}

// Output size of a sliding window (floor rounding), or <= 0 if the window does not fit.
inline int window_out(int in, int kernel, int stride, int pad) {
  const int padded = in + 2 * pad;
  return padded < kernel ? 0 : (padded - kernel) / stride + 1;
}

// y[r, :] = b[:] for r < rows: one row, then doubling block copies (log2(rows) large memcpys
// instead of `rows` small ones, which matters for narrow outputs like conv1's 20 channels).
inline void fill_rows(float* y, const float* b, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) return;
  std::memcpy(y, b, sizeof(float) * cols);
  for (std::size_t done = 1; done < rows;) {
    const std::size_t now = std::min(done, rows - done);
    std::memcpy(y + done * cols, y, sizeof(float) * now * cols);
    done += now;
  }
}

}  // namespace gg
