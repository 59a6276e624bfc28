#include "core/comm/charged_ops.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gg::ops {

namespace {

void same_size(std::size_t a, std::size_t b, const char* op) {
  if (a != b)
    throw std::logic_error(std::string("ops::") + op + ": sizes differ (" + std::to_string(a) + " vs " +
                           std::to_string(b) + ")");
}

void charge(Communicator& c, std::size_t elements) { c.account_memory(sizeof(float) * elements); }

}  // namespace

void copy(Communicator& c, std::span<const float> src, std::span<float> dst) {
  same_size(src.size(), dst.size(), "copy");
  std::copy(src.begin(), src.end(), dst.begin());
  charge(c, 2 * src.size());
}

void scale(Communicator& c, std::span<float> x, float a) {
  for (float& v : x) v *= a;
  charge(c, 2 * x.size());
}

void scaled_copy(Communicator& c, std::span<const float> src, float a, std::span<float> dst) {
  same_size(src.size(), dst.size(), "scaled_copy");
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = a * src[i];
  charge(c, 2 * src.size());
}

void divided_copy(Communicator& c, std::span<const float> src, float d, std::span<float> dst) {
  same_size(src.size(), dst.size(), "divided_copy");
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = src[i] / d;
  charge(c, 2 * src.size());
}

void add(Communicator& c, std::span<float> x, std::span<const float> y) {
  same_size(x.size(), y.size(), "add");
  float* __restrict xs = x.data();
  const float* __restrict ys = y.data();
  for (std::size_t i = 0; i < x.size(); ++i) xs[i] += ys[i];
  charge(c, 3 * x.size());
}

void average(Communicator& c, std::span<const float> a, std::span<const float> b, std::span<float> dst) {
  same_size(a.size(), b.size(), "average");
  same_size(a.size(), dst.size(), "average");
  for (std::size_t i = 0; i < a.size(); ++i) dst[i] = 0.5f * (a[i] + b[i]);
  charge(c, 3 * a.size());
}

void correct(Communicator& c, std::span<float> x, std::span<const float> recv, std::span<const float> sent, float w) {
  same_size(x.size(), recv.size(), "correct");
  same_size(x.size(), sent.size(), "correct");
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += w * (recv[i] - sent[i]);
  charge(c, 4 * x.size());
}

void copy_bytes(Communicator& c, void* dst, const void* src, std::size_t bytes) {
  std::memcpy(dst, src, bytes);
  c.account_memory(2 * bytes);
}

std::function<void(std::size_t)> memory_hook(Communicator& c) {
  return [&c](std::size_t bytes) { c.account_memory(bytes); };
}

}  // namespace gg::ops
