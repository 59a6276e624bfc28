#pragma once
// The in-process sweep's rig: a tiny model, a synthetic batch source whose sample ids say who drew them
// when, and a Recorder that wraps an algorithm to keep each step's raw gradients (what backward
// produced, before any communication touched them). Everything a rank records lives in its RankLog.
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "core/data/batch.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/relu.hpp"
#include "core/model/model.hpp"

namespace gg::sweep {

constexpr int kFeatures = 8, kClasses = 4;

// 8 inputs -> dense 16 -> relu -> dense 4 (212 parameters) in several small gradient buckets; on the CPU,
// or host-staged on a GPU (what gg_train runs with train.device = cuda).
inline std::unique_ptr<Model> tiny_model(int max_batch, std::size_t bucket_bytes = 256, Placement placement = {}) {
  auto m = std::make_unique<Model>(Shape{1, 1, 1, kFeatures}, kClasses);
  m->add(std::make_unique<Dense>(DenseOptions{.out = 16}));
  m->add(std::make_unique<ReLU>());
  m->add(std::make_unique<Dense>(DenseOptions{.out = kClasses}));
  m->place_on(std::move(placement));
  m->finalize(max_batch, bucket_bytes);
  m->init(7);  // the same start on every rank
  return m;
}

// A sample is a pure function of its id, so a batch can be rebuilt anywhere from its ids.
inline void fill_sample(std::int64_t id, float* x, std::int32_t* label) {
  for (int j = 0; j < kFeatures; ++j) x[j] = float(std::sin(0.37 * double(id) + 1.3 * j));
  *label = std::int32_t(id % kClasses);
}

// Worker w of W draws, at its k-th draw, ids (k * W + w) * b + j, j < b: disjoint across workers and
// draws, and the W workers' k-th draws together are the ids k*W*b .. (k+1)*W*b - 1 in worker order.
class SyntheticSource {
 public:
  SyntheticSource(int worker, int workers, int batch) : w_(worker), W_(workers), b_(batch) {}
  void next(Batch& batch) {
    batch.x.resize(Shape{b_, 1, 1, kFeatures});
    batch.labels.resize(std::size_t(b_));
    batch.ids.resize(std::size_t(b_));
    for (int j = 0; j < b_; ++j) {
      const std::int64_t id = (draws_ * W_ + w_) * b_ + j;
      batch.ids[std::size_t(j)] = id;
      fill_sample(id, batch.x.data() + std::size_t(j) * kFeatures, &batch.labels[std::size_t(j)]);
    }
    ++draws_;
  }
  std::int64_t draws() const { return draws_; }
  void seek(std::int64_t draws) { draws_ = draws; }  // continue as after that many draws (resuming)

 private:
  int w_, W_, b_;
  std::int64_t draws_ = 0;
};

// Forwards every call to `inner`; keeps a copy of each gradient bucket as backward announces it.
class Recorder final : public Algorithm {
 public:
  Recorder(Algorithm& inner, Model& model) : inner_(inner), model_(model), raw_(model.num_params()) {}
  std::span<const float> raw_grads() const { return raw_; }

  std::string name() const override { return inner_.name(); }
  bool trains() const override { return inner_.trains(); }
  void serve() override { inner_.serve(); }
  int num_workers() const override { return inner_.num_workers(); }
  int worker_index() const override { return inner_.worker_index(); }
  void begin_step(std::int64_t step) override {
    std::fill(raw_.begin(), raw_.end(), std::nanf(""));  // a bucket never announced shows as NaN
    inner_.begin_step(step);
  }
  void shuffle(Batch& batch) override { inner_.shuffle(batch); }
  bool shuffle_lookahead() const override { return inner_.shuffle_lookahead(); }
  void poll() override { inner_.poll(); }
  void on_bucket_ready(const Bucket& b) override {
    const auto g = model_.grads().subspan(b.offset, b.count);
    std::copy(g.begin(), g.end(), raw_.begin() + std::ptrdiff_t(b.offset));
    inner_.on_bucket_ready(b);
  }
  void finish_step(TrainState& state) override { inner_.finish_step(state); }
  void finish() override { inner_.finish(); }
  void model_replaced() override { inner_.model_replaced(); }
  const StepStats& stats() const override { return inner_.stats(); }
  void save_state(std::int64_t steps_done, StateWriter& out) override { inner_.save_state(steps_done, out); }
  void load_state(StateReader& in) override { inner_.load_state(in); }
  void set_checkpoint_hook(CheckpointHook hook) override { inner_.set_checkpoint_hook(std::move(hook)); }

 private:
  Algorithm& inner_;
  Model& model_;
  std::vector<float> raw_;  // [num_params]
};

// What one worker recorded over a run of T steps.
struct RankLog {
  bool trained = false;                  // false on serving ranks
  std::vector<std::vector<float>> x, v;  // [T + 1][n] parameters and momentum before step 0 and after each step
  std::vector<float> x_final, v_final;   // [n] after finish()
  std::vector<float> x_averaged;         // [n] after the final average (RunSpec::final_average; else empty)
  std::vector<std::vector<float>> g;     // [T][n] raw gradients of each step
  std::vector<std::int64_t> sampled, trained_ids;
  std::vector<long> allocations;         // [T] operator new calls on this thread during each step
  std::uint64_t bytes_sent = 0;          // over all steps
};

}  // namespace gg::sweep
