#pragma once
// A numerical gradient checker for layers (after Caffe's test_gradient_check_util.hpp).
//
// For a layer that is set up and bound, and fixed inputs: loss = sum(out * R) with a fixed random R,
// so dloss/dout = R. backward(dout = R) gives the analytic input and parameter gradients; each is
// compared with the central difference (loss(v + step) - loss(v - step)) / (2 step), accepting
// |analytic - numeric| <= threshold * max(|analytic|, |numeric|, 1) as Caffe does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/layers/layer.hpp"
#include "core/util/rng.hpp"

namespace gg::test {

inline void fill_uniform(Tensor& t, Rng& rng, float lo, float hi) {
  for (float& v : t.span()) v = lo + (hi - lo) * rng.uniform();
}

// Values at least min_abs away from 0 (keeps relu off its kink).
inline void fill_away_from_zero(Tensor& t, Rng& rng, float min_abs, float max_abs) {
  for (float& v : t.span()) {
    const float mag = min_abs + (max_abs - min_abs) * rng.uniform();
    v = rng.uniform() < 0.5f ? -mag : mag;
  }
}

// All values distinct, `spacing` apart, in random order (keeps max_pool's argmax stable under a step).
inline void fill_distinct(Tensor& t, Rng& rng, float spacing) {
  const std::size_t n = t.size();
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  for (std::size_t i = 0; i < n; ++i) t.data()[i] = (float(perm[i]) - float(n) / 2) * spacing;
}

// Parameter memory for one layer under test: one vector per ParamSpec, bound as the model would.
struct ParamStore {
  std::vector<std::vector<float>> w, g;

  void bind(Layer& layer, std::uint64_t seed = 11, float scale = 0.5f) {
    Rng rng(seed);
    const auto specs = layer.params();
    w.assign(specs.size(), {});
    g.assign(specs.size(), {});
    std::vector<std::span<float>> ws, gs;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      w[i].resize(specs[i].count);
      g[i].assign(specs[i].count, -777.0f);  // backward must overwrite this
      const float center = specs[i].init == Init::One ? 1.0f : 0.0f;
      for (float& v : w[i]) v = center + scale * (2.0f * rng.uniform() - 1.0f);
      ws.emplace_back(w[i]);
      gs.emplace_back(g[i]);
    }
    layer.bind(ws, gs);
  }
};

struct GradCheckOptions {
  float step = 1e-2f;
  float threshold = 1e-2f;
  std::size_t max_checks = 300;  // per tensor; larger tensors are sampled
  RunContext ctx{};
  std::uint64_t seed = 5;
  std::vector<bool> check_input;  // empty = check every input
};

class GradChecker {
 public:
  GradChecker(Layer& layer, ParamStore& params, std::vector<Tensor>& inputs, GradCheckOptions o)
      : layer_(layer), params_(params), inputs_(inputs), o_(std::move(o)) {
    for (Tensor& t : inputs_) in_ptrs_.push_back(&t);
  }

  void run() {
    Rng rng(o_.seed);
    layer_.forward(in_ptrs_, out_, o_.ctx);
    r_.resize(out_.shape());
    fill_uniform(r_, rng, -1.0f, 1.0f);

    std::vector<Tensor> din(inputs_.size());
    std::vector<Tensor*> din_ptrs;
    for (std::size_t i = 0; i < din.size(); ++i) {
      din[i].resize(inputs_[i].shape());
      std::fill(din[i].span().begin(), din[i].span().end(), -777.0f);  // must be overwritten
      din_ptrs.push_back(wanted(i) ? &din[i] : nullptr);
    }
    layer_.backward(in_ptrs_, out_, r_, din_ptrs, o_.ctx);

    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (!wanted(i)) continue;
      ASSERT_EQ(din[i].shape(), inputs_[i].shape()) << "input gradient " << i << " shape";
      const std::vector<float> analytic(din[i].span().begin(), din[i].span().end());
      check(inputs_[i].span(), analytic, "input " + std::to_string(i), rng);
    }
    const auto specs = layer_.params();
    for (std::size_t p = 0; p < specs.size(); ++p) {
      const std::vector<float> analytic = params_.g[p];
      check(params_.w[p], analytic, "param " + specs[p].name, rng);
    }
  }

  int checked() const { return checked_; }

 private:
  bool wanted(std::size_t i) const { return o_.check_input.empty() || o_.check_input[i]; }

  double loss() {
    layer_.forward(in_ptrs_, out_, o_.ctx);
    double s = 0.0;
    for (std::size_t i = 0; i < out_.size(); ++i) s += double(out_.data()[i]) * r_.data()[i];
    return s;
  }

  void check(std::span<float> values, const std::vector<float>& analytic, const std::string& what,
             Rng& rng) {
    std::vector<std::size_t> idx;
    if (values.size() <= o_.max_checks) {
      idx.resize(values.size());
      std::iota(idx.begin(), idx.end(), std::size_t(0));
    } else {
      for (std::size_t k = 0; k < o_.max_checks; ++k) idx.push_back(rng.below(values.size()));
    }
    int failures = 0;
    for (std::size_t i : idx) {
      const float saved = values[i];
      values[i] = saved + o_.step;
      const double plus = loss();
      values[i] = saved - o_.step;
      const double minus = loss();
      values[i] = saved;
      const double numeric = (plus - minus) / (2.0 * o_.step);
      const double a = analytic[i];
      const double scale = std::max({std::fabs(a), std::fabs(numeric), 1.0});
      ++checked_;
      if (std::fabs(a - numeric) > o_.threshold * scale && ++failures <= 5)
        ADD_FAILURE() << layer_.kind() << " " << what << "[" << i << "]: analytic " << a
                      << " numeric " << numeric;
    }
    EXPECT_EQ(failures, 0) << layer_.kind() << " " << what << ": " << failures << " of " << idx.size()
                           << " gradients off";
  }

  Layer& layer_;
  ParamStore& params_;
  std::vector<Tensor>& inputs_;
  GradCheckOptions o_;
  std::vector<const Tensor*> in_ptrs_;
  Tensor out_, r_;
  int checked_ = 0;
};

// Sets the layer up for the given input shapes, binds random parameters, fills inputs uniformly in
// [-1, 1] unless `filled`, and runs the checker.
inline void check_layer(Layer& layer, std::vector<Tensor>& inputs, GradCheckOptions o = {},
                        bool filled = false) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  layer.setup(shapes);
  ParamStore params;
  params.bind(layer);
  if (!filled) {
    Rng rng(o.seed + 100);
    for (Tensor& t : inputs) fill_uniform(t, rng, -1.0f, 1.0f);
  }
  GradChecker checker(layer, params, inputs, std::move(o));
  checker.run();
  EXPECT_GT(checker.checked(), 0);
}

}  // namespace gg::test
