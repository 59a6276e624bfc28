#include "core/layers/softmax_xent.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/util/error.hpp"

namespace gg {

namespace {

void check_labels(const Tensor& logits, std::span<const std::int32_t> labels, const char* who) {
  const int n = logits.shape().n;
  const std::size_t classes = logits.shape().per_sample();
  if (labels.size() != std::size_t(n))
    throw InputError(std::string(who) + ": " + std::to_string(labels.size()) + " labels for a batch of " +
                     std::to_string(n));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || std::size_t(labels[i]) >= classes)
      throw InputError(std::string(who) + ": label " + std::to_string(labels[i]) + " of sample " +
                       std::to_string(i) + " outside [0, " + std::to_string(classes) + ")");
}

}  // namespace

float softmax_xent(const Tensor& logits, std::span<const std::int32_t> labels, Tensor* dlogits, GpuContext* gpu) {
  check_labels(logits, labels, "softmax_xent");
  if (logits.device() == Device::CUDA) {
    if (!gpu) throw std::logic_error("softmax_xent: GPU logits without the model's GPU context");
    return softmax_xent_cuda(*gpu, logits, labels, dlogits);
  }
  const int n = logits.shape().n;
  const std::size_t C = logits.shape().per_sample();
  if (dlogits) dlogits->resize(logits.shape());
  const float inv_n = n > 0 ? 1.0f / float(n) : 0.0f;
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const float* z = logits.data() + i * C;
    float mx = z[0];
    for (std::size_t j = 1; j < C; ++j) mx = z[j] > mx ? z[j] : mx;
    double sum = 0.0;
    for (std::size_t j = 0; j < C; ++j) sum += std::exp(double(z[j] - mx));
    const double log_sum = std::log(sum);
    total += log_sum - double(z[labels[i]] - mx);
    if (dlogits) {
      float* d = dlogits->data() + i * C;
      const double inv_sum = 1.0 / sum;
      for (std::size_t j = 0; j < C; ++j) d[j] = float(std::exp(double(z[j] - mx)) * inv_sum) * inv_n;
      d[labels[i]] -= inv_n;
    }
  }
  return n > 0 ? float(total / n) : 0.0f;
}

void topk_correct(const Tensor& logits, std::span<const std::int32_t> labels, int* top1, int* top5) {
  if (logits.device() != Device::CPU) {
    Tensor host;
    host.copy_from(logits);
    return topk_correct(host, labels, top1, top5);
  }
  check_labels(logits, labels, "topk_correct");
  const int n = logits.shape().n;
  const std::size_t C = logits.shape().per_sample();
  int c1 = 0, c5 = 0;
  for (int i = 0; i < n; ++i) {
    const float* z = logits.data() + i * C;
    const std::size_t l = std::size_t(labels[i]);
    const float v = z[l];
    if (!std::isfinite(v)) continue;
    // Rank of the label: classes that beat it (larger, or equal with a lower index).
    std::size_t rank = 0;
    for (std::size_t j = 0; j < C; ++j) rank += (z[j] > v || (z[j] == v && j < l)) ? 1 : 0;
    c1 += rank < 1;
    c5 += rank < 5;
  }
  if (top1) *top1 = c1;
  if (top5) *top5 = c5;
}

}  // namespace gg
