#pragma once
// A proxy layer stands in for one layer (or block) of a real network on a real device: it owns a
// parameter tensor of the real size, so gradient buckets have the real sizes and order, and it costs
// the real forward/backward time (simulate_compute: simulated time under SMPI, a busy-wait
// otherwise), but does no math. A proxy model is a JSON model of proxy layers, so the trainer and
// every algorithm run unchanged; its loss is constant (the logits are zero).
//
// JSON: {"type": "proxy", "name": "res2a", "params": 69632, "forward_s": 0.0021, "backward_s": 0.0042,
//        "batch": 32, "flops": 0, "out": 0}
//   params      floats of the parameter tensor (0 = none)
//   forward_s   seconds of one forward pass over `batch` samples; the time scales linearly with
//   backward_s  the actual batch n (n / batch), so strong scaling shrinks it
//   flops       forward FLOPs per sample, used only when forward_s is 0 (then backward = 2x forward),
//               executed at the simulated host's speed (or kNominalFlops outside SMPI)
//   out         0: the output is the input (pass-through); k > 0: the output is {n, 1, 1, k} of zeros
//               (the last layer uses the number of classes)
#include <memory>

#include "core/config/json_reader.hpp"
#include "core/layers/layer.hpp"

namespace gg {

struct ProxyOptions {
  std::size_t params = 0;
  double forward_s = 0, backward_s = 0;
  int batch = 1;
  double flops = 0;
  int out = 0;
};

class Proxy : public Layer {
 public:
  explicit Proxy(const ProxyOptions& o) : opt_(o) {}
  std::string kind() const override { return "proxy"; }
  Shape setup(std::span<const Shape> in) override;
  std::vector<ParamSpec> params() const override;
  void bind(std::span<const std::span<float>> weights, std::span<const std::span<float>> grads) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  double forward_flops_per_sample() const override { return opt_.flops; }

  // Seconds and FLOPs one pass costs at batch n (backward: 2x the forward FLOPs).
  double seconds(bool backward, int n) const;

 private:
  ProxyOptions opt_;
  std::span<float> grad_;
};

// Reads the JSON options above (for the layer registry).
std::unique_ptr<Layer> make_proxy(JsonReader& o);

}  // namespace gg
