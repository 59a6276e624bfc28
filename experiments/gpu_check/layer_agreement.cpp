// Every layer's GPU forward and backward against the CPU implementation. Each case is a two-layer
// model: a 1x1 convolution ("pre", so that the tested layer's input gradient reaches a weight gradient)
// and the layer under test; both devices start from the same parameters and input, then compare the
// output, every parameter gradient, and (batch norm) the running statistics.
#include "experiments/gpu_check/parts.hpp"

#include <cmath>
#include <cstdio>

#include "core/layers/softmax_xent.hpp"
#include "core/optim/sgd.hpp"
#include "experiments/gpu_check/check_util.hpp"
#include "experiments/gpu_check/part_runner.hpp"

namespace gg {

namespace {

using json = nlohmann::json;

struct Case {
  const char* name;
  json tested;                // the layer after "pre" (input [n, 12, 12, 8], "pre" keeps 8 channels)
  int outputs;                // its output values per sample (the model's class count)
  bool two_branches = false;  // add/concat: "pre" and "pre2" both read the input
};

json pre(const char* name, int out) {
  return {{"type", "conv2d"}, {"name", name}, {"inputs", {"input"}}, {"out", out}, {"kernel", 1}};
}

std::vector<Case> cases() {
  auto one = [](json layer) { layer["inputs"] = {"pre"}; return layer; };
  return {
      {"conv2d 3x3 s1 p1 +bias", one({{"type", "conv2d"}, {"out", 16}, {"kernel", 3}, {"pad", 1}}), 2304},
      {"conv2d 5x5 s2 p2", one({{"type", "conv2d"}, {"out", 8}, {"kernel", 5}, {"stride", 2}, {"pad", 2}, {"bias", false}}), 288},
      {"conv2d 1x1", one({{"type", "conv2d"}, {"out", 32}, {"kernel", 1}, {"bias", false}}), 4608},
      {"conv2d 7x7 s2 p3", one({{"type", "conv2d"}, {"out", 8}, {"kernel", 7}, {"stride", 2}, {"pad", 3}}), 288},
      {"dense", one({{"type", "dense"}, {"out", 10}}), 10},
      {"relu", one({{"type", "relu"}}), 1152},
      {"max_pool 3/2 p1", one({{"type", "max_pool"}, {"kernel", 3}, {"stride", 2}, {"pad", 1}}), 288},
      {"max_pool 2/2", one({{"type", "max_pool"}, {"kernel", 2}}), 288},
      {"avg_pool 3/1 p1", one({{"type", "avg_pool"}, {"kernel", 3}, {"stride", 1}, {"pad", 1}}), 1152},
      {"avg_pool global", one({{"type", "avg_pool"}, {"global", true}}), 8},
      {"batch_norm", one({{"type", "batch_norm"}}), 1152},
      {"lrn 5", one({{"type", "lrn"}, {"size", 5}, {"alpha", 1e-2}, {"beta", 0.75}}), 1152},
      {"dropout 0.5", one({{"type", "dropout"}, {"rate", 0.5}}), 1152},
      {"add", {{"type", "add"}, {"inputs", {"pre", "pre2"}}}, 1152, true},
      {"concat", {{"type", "concat"}, {"inputs", {"pre", "pre2"}}}, 2304, true},
  };
}

}  // namespace

json check_layers(const CheckSetup& setup, bool tf32, bool& ok) {
  json out = json::array();
  const Shape sample{1, 12, 12, 8};
  const int n = 4;
  const double tolerance = tf32 ? setup.tolerance_tf32 : setup.tolerance;
  std::vector<float> x_host(sample.with_batch(n).count());
  for (std::size_t i = 0; i < x_host.size(); ++i) x_host[i] = float(std::sin(0.61 * double(i)) + 0.1);
  auto gpu = make_gpu_context({setup.device, tf32});
  for (const Case& c : cases()) out.push_back(run_case(c.name, ok, [&]() -> json {
    json layers = json::array({pre("pre", 8)});
    if (c.two_branches) layers.push_back(pre("pre2", 8));
    json tested = c.tested;
    tested["name"] = "tested";
    layers.push_back(tested);
    const json spec{{"layers", layers}};
    const int classes = c.outputs;
    auto cpu = build_on(spec, sample, classes, n, nullptr, 7);
    auto dev = build_on(spec, sample, classes, n, gpu, 7);
    const Tensor xc = on_device(x_host, sample.with_batch(n), Device::CPU);
    const Tensor xg = on_device(x_host, sample.with_batch(n), Device::CUDA);
    json r{{"case", c.name}};
    double worst = 0;
    for (Phase phase : {Phase::Train, Phase::Eval}) {
      const RunContext ctx{phase, 11};
      const Tensor& yc = cpu->forward(xc, ctx);
      const Tensor& yg = dev->forward(xg, ctx);
      const double fwd = rel_diff(yg.to_host(), yc.to_host());
      r[phase == Phase::Train ? "forward_train" : "forward_eval"] = fwd;
      worst = std::isnan(fwd) ? INFINITY : std::max(worst, fwd);
    }
    const RunContext train{Phase::Train, 12};
    const Tensor& yc = cpu->forward(xc, train);
    dev->forward(xg, train);
    std::vector<float> dy(yc.size());
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = float(std::cos(0.23 * double(i))) / float(n);
    cpu->backward(on_device(dy, yc.shape(), Device::CPU), train);
    dev->backward(on_device(dy, yc.shape(), Device::CUDA), train);
    // Per parameter range (each weight and bias normalised by its own scale), and the input gradient.
    std::string worst_range;
    const double bwd = worst_range_diff<ParamRange>(host_copy(dev->grads()), host_copy(cpu->grads()), cpu->ranges(),
                                                    &worst_range);
    r["param_grads"] = bwd;
    r["param_grads_worst_range"] = worst_range;
    worst = std::isnan(bwd) ? INFINITY : std::max(worst, bwd);
    const auto state_c = cpu->persistent_state();
    const auto state_g = dev->persistent_state();
    for (std::size_t k = 0; k < state_c.size(); ++k) {
      const double d = rel_diff(host_copy(state_g[k]), host_copy(state_c[k]));
      r["state_" + std::to_string(k)] = d;
      worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    const bool pass = within(worst, tolerance);
    r["worst"] = worst;
    r["tolerance"] = tolerance;
    r["pass"] = pass;
    ok = ok && pass;
    std::printf("  %-24s forward %.2e  param grads %.2e (worst range %s)  %s\n", c.name, double(r["forward_train"]),
                bwd, worst_range.c_str(), pass ? "ok" : "FAIL");
    return r;
  }));
  return out;
}

json check_loss_and_sgd(const CheckSetup& setup, bool& ok) {
  auto gpu = make_gpu_context({setup.device, false});
  const int n = 8, classes = 1000;
  std::vector<float> z(std::size_t(n) * classes);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(3.0 * std::sin(0.017 * double(i * i % 9973)));
  std::vector<std::int32_t> labels(n);
  for (int i = 0; i < n; ++i) labels[std::size_t(i)] = (i * 137) % classes;
  const Shape s{n, 1, 1, classes};
  Tensor dc, dg(s, Device::CUDA);
  const float lc = softmax_xent(on_device(z, s, Device::CPU), labels, &dc);
  const float lg = softmax_xent(on_device(z, s, Device::CUDA), labels, &dg, gpu.get());
  const double loss_diff = std::abs(double(lc) - double(lg)) / std::max(1e-12, std::abs(double(lc)));
  const double dlogit_diff = rel_diff(dg.to_host(), dc.to_host());
  // SGD: three steps with momentum and weight decay on two ranges (one without decay), both forms.
  json sgd_out = json::object();
  double worst = std::max(loss_diff, dlogit_diff);
  for (bool nesterov : {false, true}) {
    const std::size_t count = 4096;
    const std::vector<ParamRange> ranges{{0, 3000, true, "w"}, {3000, 1096, false, "b"}};
    Sgd cpu({0.9, 5e-4, nesterov}, ranges, count), dev({0.9, 5e-4, nesterov}, ranges, count, gpu.get());
    std::vector<float> w(count), g(count);
    for (std::size_t i = 0; i < count; ++i) {
      w[i] = float(std::sin(0.1 * double(i)));
      g[i] = float(std::cos(0.3 * double(i)));
    }
    const Shape vs{1, 1, 1, int(count)};
    Tensor wc = on_device(w, vs, Device::CPU), wg = on_device(w, vs, Device::CUDA);
    const Tensor gc = on_device(g, vs, Device::CPU), gg_dev = on_device(g, vs, Device::CUDA);
    for (int step = 0; step < 3; ++step) {
      cpu.step(wc.span(), gc.span(), 0.05);
      dev.step(wg.span(), gg_dev.span(), 0.05);
    }
    const double d = rel_diff(wg.to_host(), wc.to_host());
    sgd_out[nesterov ? "nesterov" : "classical"] = d;
    worst = std::isnan(d) ? INFINITY : std::max(worst, d);
  }
  const bool pass = within(worst, setup.tolerance) && std::isfinite(loss_diff);
  ok = ok && pass;
  std::printf("  %-24s loss %.2e  dlogits %.2e  sgd %.2e/%.2e  %s\n", "softmax_xent + sgd", loss_diff, dlogit_diff,
              double(sgd_out["classical"]), double(sgd_out["nesterov"]), pass ? "ok" : "FAIL");
  return {{"loss", loss_diff}, {"dlogits", dlogit_diff}, {"sgd", sgd_out}, {"pass", pass}};
}

}  // namespace gg
