#include "core/layers/proxy.hpp"

#include <algorithm>
#include <cstring>

#include "core/sim/compute_injection.hpp"
#include "core/layers/layer_util.hpp"

namespace gg {

Shape Proxy::setup(std::span<const Shape> in) {
  expect_inputs(*this, in, 1, 1);
  if (opt_.batch < 1) layer_fail(*this, "batch must be >= 1");
  if (opt_.forward_s < 0 || opt_.backward_s < 0 || opt_.flops < 0) layer_fail(*this, "times and flops must be >= 0");
  return opt_.out > 0 ? Shape{in[0].n, 1, 1, opt_.out} : in[0];
}

std::vector<ParamSpec> Proxy::params() const {
  if (opt_.params == 0) return {};
  // Zero init: a proxy's parameters carry no information; only their size matters.
  return {ParamSpec{"weight", opt_.params, Init::Zero, 1.0f, 1.0f, false}};
}

void Proxy::bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) {
  expect_bind(*this, weights, grads, opt_.params == 0 ? 0 : 1);
  grad_ = opt_.params == 0 ? std::span<float>{} : grads[0];
}

double Proxy::seconds(bool backward, int n) const {
  const double scale = double(n) / double(opt_.batch);
  if (opt_.forward_s > 0 || opt_.backward_s > 0) return (backward ? opt_.backward_s : opt_.forward_s) * scale;
  return 0.0;
}

void Proxy::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  const double s = seconds(false, n) * ctx.compute_scale;
  simulate_compute(s, s > 0 ? 0.0 : opt_.flops * n * ctx.compute_scale);
  if (opt_.out > 0) {
    out.resize({n, 1, 1, opt_.out});
    std::fill(out.data(), out.data() + out.size(), 0.0f);
  } else {
    out.resize(x.shape());
    std::memcpy(out.data(), x.data(), x.size() * sizeof(float));
  }
}

void Proxy::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx) {
  const int n = in[0]->shape().n;
  const double s = seconds(true, n) * ctx.compute_scale;
  simulate_compute(s, s > 0 ? 0.0 : 2.0 * opt_.flops * n * ctx.compute_scale);
  std::fill(grad_.begin(), grad_.end(), 0.0f);  // the contract: backward overwrites its gradients
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (dx) {
    dx->resize(in[0]->shape());
    std::fill(dx->data(), dx->data() + dx->size(), 0.0f);
  }
}

std::unique_ptr<Layer> make_proxy(JsonReader& o) {
  ProxyOptions p;
  p.params = std::size_t(o.get_int("params", 0, 0, std::int64_t(1) << 40));
  p.forward_s = o.get_double("forward_s", 0.0, 0.0, 1e6);
  p.backward_s = o.get_double("backward_s", 0.0, 0.0, 1e6);
  p.batch = int(o.get_int("batch", 1, 1, 1 << 20));
  p.flops = o.get_double("flops", 0.0, 0.0);
  p.out = int(o.get_int("out", 0, 0, 1 << 20));
  return std::make_unique<Proxy>(p);
}

}  // namespace gg
