#pragma once
// Shared by the GPU check's parts (experiments/gpu_check/): relative differences, medians, and a
// model built on the CPU or on a GPU from the same description and seed.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/model/model_builder.hpp"

namespace gg {

// max |a - b| / max(max |b|, tiny): b is the CPU reference. Infinite when the sizes differ or any value
// on either side is not finite (std::max(x, NaN) keeps x, so a NaN would otherwise read as agreement).
inline double rel_diff(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 1e-12;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    num = std::max(num, double(std::abs(a[i] - b[i])));
    den = std::max(den, double(std::abs(b[i])));
  }
  return num / den;
}

// The worst rel_diff over the ranges [offset, offset + count) of two equally laid out vectors, each
// range normalised by its own largest reference value (a bias or BN beta error is not hidden by the
// weights' scale). Returns the worst value and writes the name of the range it came from.
template <class Range>
double worst_range_diff(std::span<const float> a, std::span<const float> b, const std::vector<Range>& ranges,
                        std::string* worst_name = nullptr) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (const Range& r : ranges) {
    if (r.offset + r.count > a.size()) return INFINITY;
    const double d = rel_diff(a.subspan(r.offset, r.count), b.subspan(r.offset, r.count));
    if (d > worst || (std::isnan(d) && !std::isnan(worst))) {
      worst = d;
      if (worst_name) *worst_name = r.name;
    }
  }
  return worst;
}

// A finite value at most `tolerance` (a NaN or infinity never passes).
inline bool within(double diff, double tolerance) { return std::isfinite(diff) && diff <= tolerance; }

// The platform suffix of a profile measured on `device_name` (cudaDeviceProp::name, e.g. "NVIDIA H100
// 80GB HBM3" -> "h100", "NVIDIA H200" -> "h200", "NVIDIA A100-SXM4-40GB" -> "a100"); any other GPU:
// its name in lower case with every run of other characters as one '_' ("NVIDIA L40S" -> "nvidia_l40s").
inline std::string profile_suffix(const std::string& device_name) {
  std::string lower;
  for (char ch : device_name) lower += char(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* known : {"gh200", "gb200", "h100", "h200", "h800", "h20", "a100", "a800", "b200", "b100", "l40s"}) {
    const std::size_t at = lower.find(known);
    if (at == std::string::npos) continue;
    // A whole token: "h20" must not match inside "h200".
    const std::size_t end = at + std::strlen(known);
    const bool left = at == 0 || !std::isalnum(static_cast<unsigned char>(lower[at - 1]));
    const bool right = end == lower.size() || !std::isdigit(static_cast<unsigned char>(lower[end]));
    if (left && right) return known;
  }
  std::string out;
  for (char ch : lower) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "gpu" : out;
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
