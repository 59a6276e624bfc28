#pragma once
// Shared by the GPU check's parts (experiments/gpu_check/): relative differences, medians, and a
// model built on the CPU or on a GPU from the same description and seed.
#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/model/model_builder.hpp"

namespace gg {

// max |a - b| / max(max |b|, tiny): b is the CPU reference.
inline double rel_diff(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 1e-12;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    num = std::max(num, double(std::abs(a[i] - b[i])));
    den = std::max(den, double(std::abs(b[i])));
  }
  return a.size() == b.size() ? num / den : INFINITY;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The same model on the CPU (gpu null) or on the GPU, initialised from `seed`.
inline std::unique_ptr<Model> build_on(const nlohmann::json& spec, Shape sample, int classes, int batch,
                                       std::shared_ptr<GpuContext> gpu, std::uint64_t seed) {
  auto built = build_model(spec, "model", sample, classes, batch, 1 << 20, Placement{std::move(gpu)});
  built->init(seed);
  return built;
}

// Values of a span on either device (a device span is copied; cuda::copy works on host pointers too).
inline std::vector<float> host_copy(std::span<const float> s) {
  std::vector<float> out(s.size());
  if (!s.empty()) cuda::copy(out.data(), s.data(), s.size_bytes());
  return out;
}

// A tensor on `device` holding `values`.
inline Tensor on_device(const std::vector<float>& values, Shape shape, Device device) {
  Tensor host(shape);
  std::copy(values.begin(), values.end(), host.data());
  Tensor t(shape, device);
  t.copy_from(host);
  return t;
}

}  // namespace gg
