#pragma once
// Helpers for the MPI tests: a world communicator per test, a tiny model, deterministic synthetic
// batches for StepRunner (the one owner of the step protocol: tests never write begin_step / shuffle /
// poll / on_bucket_ready / finish_step out themselves), algorithm wrappers that observe what StepRunner
// drives, agreement across ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "algorithms/registry.hpp"
#include "algorithms/schedule.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/data/batch.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/relu.hpp"
#include "core/model/model.hpp"
#include "core/optim/sgd.hpp"
#include "core/train/step.hpp"

namespace gg::test {

inline constexpr int kInputs = 8, kClasses = 4;

// 8 inputs -> dense 16 -> relu -> dense 4 (212 parameters), several small buckets.
inline std::unique_ptr<Model> tiny_model(int max_batch, std::uint64_t seed = 7, std::size_t bucket_bytes = 256) {
  auto m = std::make_unique<Model>(Shape{1, 1, 1, kInputs}, kClasses);
  m->add(std::make_unique<Dense>(DenseOptions{.out = 16}));
  m->add(std::make_unique<ReLU>());
  m->add(std::make_unique<Dense>(DenseOptions{.out = kClasses}));
  m->finalize(max_batch, bucket_bytes);
  m->init(seed);
  return m;
}

// The topology every p can use: hypercube needs a power of two.
inline const char* any_p_topology(int p) { return is_power_of_two(p) ? "hypercube" : "dissemination"; }
// The topologies that can serve p ranks.
inline std::vector<const char*> topologies_for(int p) {
  if (is_power_of_two(p)) return {"hypercube", "dissemination"};
  return {"dissemination"};
}

// ---- deterministic synthetic data for the tiny model ----
// Sample `id`: 8 inputs, multiples of 1/16 in [-0.5, 0.5) (exact in float, so any two computations agree
// bitwise) drawn from 4-bit fields of a hash of the id (distinct ids look unrelated), and a label decided
// by the signs of the first two, so that training means something.
inline std::uint64_t synthetic_hash(std::int64_t id) {  // splitmix64's finalizer
  std::uint64_t z = std::uint64_t(id) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline float synthetic_input(std::int64_t id, int k) {
  return float((synthetic_hash(id) >> (4 * k)) & 15u) / 16.0f - 0.5f;
}
inline std::int32_t synthetic_label(std::int64_t id) {
  return std::int32_t(synthetic_input(id, 0) > 0) + 2 * std::int32_t(synthetic_input(id, 1) > 0);
}
// Fills b with the n samples first_id, first_id + 1, ... (ids included); allocation-free once b has
// room for n samples.
inline void fill_synthetic(Batch& b, std::int64_t first_id, int n) {
  b.x.resize({n, 1, 1, kInputs});
  b.labels.resize(std::size_t(n));
  b.ids.resize(std::size_t(n));
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = first_id + i;
    b.ids[std::size_t(i)] = id;
    b.labels[std::size_t(i)] = synthetic_label(id);
    for (int k = 0; k < kInputs; ++k) b.x.data()[i * kInputs + k] = synthetic_input(id, k);
  }
}
// True iff b's shape fits its size and its inputs and labels are those of its ids (a shuffled batch
// kept every sample whole).
inline bool batch_matches_ids(const Batch& b) {
  if (b.x.shape().n != b.size() || b.ids.size() != b.labels.size()) return false;
  for (int i = 0; i < b.size(); ++i) {
    const std::int64_t id = b.ids[std::size_t(i)];
    if (b.labels[std::size_t(i)] != synthetic_label(id)) return false;
    for (int k = 0; k < kInputs; ++k)
      if (b.x.data()[i * kInputs + k] != synthetic_input(id, k)) return false;
  }
  return true;
}

// The batches one worker trains from, as StepRunner::run's NextBatch: draw k (the k-th call) holds the
// samples first_id + k * stride + [0, size(k)), size(k) = n unless `size` is set. Draw k is step k's
// batch, except that an algorithm with shuffle_lookahead() is drawn one step ahead (step.hpp).
// Allocation-free once the batch has room for the largest draw.
struct SyntheticBatches {
  explicit SyntheticBatches(std::int64_t first_id, int n = 4, std::int64_t stride = 1000,
                            std::function<int(std::int64_t draw)> size = {})
      : first_id(first_id), stride(stride), n(n), size(std::move(size)) {}
  std::int64_t first_id;
  std::int64_t stride;
  int n;
  std::function<int(std::int64_t draw)> size;  // optional: the size of draw k
  std::int64_t draws = 0;                      // calls so far

  void operator()(Batch& b) {
    fill_synthetic(b, first_id + draws * stride, size ? size(draws) : n);
    ++draws;
  }
  // A NextBatch that calls this object (which must outlive it).
  StepRunner::NextBatch next() {
    return [this](Batch& b) { (*this)(b); };
  }
};

// ---- observing what StepRunner drives ----
// An Algorithm that forwards every call to `inner`. Tests derive from it to look inside the protocol
// StepRunner drives (gradients as buckets are announced, allocations inside the calls).
class Forwarding : public Algorithm {
 public:
  explicit Forwarding(Algorithm& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  bool trains() const override { return inner_.trains(); }
  void serve() override { inner_.serve(); }
  int num_workers() const override { return inner_.num_workers(); }
  int worker_index() const override { return inner_.worker_index(); }
  void begin_step(std::int64_t step) override { inner_.begin_step(step); }
  void shuffle(Batch& batch) override { inner_.shuffle(batch); }
  bool shuffle_lookahead() const override { return inner_.shuffle_lookahead(); }
  void poll() override { inner_.poll(); }
  void on_bucket_ready(const Bucket& bucket) override { inner_.on_bucket_ready(bucket); }
  void finish_step(TrainState& state) override { inner_.finish_step(state); }
  void finish() override { inner_.finish(); }
  void model_replaced() override { inner_.model_replaced(); }
  const StepStats& stats() const override { return inner_.stats(); }
  void save_state(std::int64_t steps_done, StateWriter& out) override { inner_.save_state(steps_done, out); }
  void load_state(StateReader& in) override { inner_.load_state(in); }
  void set_checkpoint_hook(CheckpointHook hook) override { inner_.set_checkpoint_hook(std::move(hook)); }

 protected:
  Algorithm& inner_;
};

// Records the gradient this rank computed at each step: every bucket's values at the moment backward
// announces it to the algorithm (before any exchange can touch them). A step in which some parameter
// was never announced is a test failure.
class GradientTap : public Forwarding {
 public:
  GradientTap(Algorithm& inner, const Model& model) : Forwarding(inner), model_(model) {}
  void begin_step(std::int64_t step) override {
    current_.assign(model_.num_params(), std::numeric_limits<float>::quiet_NaN());
    Forwarding::begin_step(step);
  }
  void on_bucket_ready(const Bucket& b) override {
    const auto g = model_.grads().subspan(b.offset, b.count);
    std::copy(g.begin(), g.end(), current_.begin() + std::ptrdiff_t(b.offset));
    Forwarding::on_bucket_ready(b);
  }
  void finish_step(TrainState& state) override {
    std::size_t missing = 0;
    for (float v : current_) missing += std::isnan(v) ? 1 : 0;
    EXPECT_EQ(missing, 0u) << "parameters whose gradient no bucket announced at step " << state.step;
    grads_.insert(grads_.end(), current_.begin(), current_.end());
    Forwarding::finish_step(state);
  }
  std::size_t steps() const { return grads_.size() / model_.num_params(); }
  // The gradient of step t (as this rank computed it).
  std::span<const float> at(std::size_t t) const {
    return std::span<const float>(grads_).subspan(t * model_.num_params(), model_.num_params());
  }
  const std::vector<float>& all() const { return grads_; }  // [step][param]

 private:
  const Model& model_;
  std::vector<float> current_, grads_;
};

// ---- ranks ----
// Everything an algorithm needs, on one rank.
struct Rig {
  MpiCommunicator comm;
  std::unique_ptr<Model> model;
  std::unique_ptr<Sgd> sgd;
  Rig(int max_batch, SgdOptions opt, std::uint64_t seed = 7) : model(tiny_model(max_batch, seed)) {
    sgd = std::make_unique<Sgd>(opt, model->ranges(), model->num_params());
  }
  std::unique_ptr<Algorithm> make(const nlohmann::json& j, std::uint64_t seed = 11) {
    JsonReader cfg(j, "algorithm");
    return make_algorithm(cfg, AlgorithmEnv{comm, *model, *sgd, seed});
  }
};

// True on every rank iff ok on every rank.
inline bool all_ok(Communicator& c, bool ok) {
  double bad = ok ? 0.0 : 1.0;
  c.allreduce_sum(std::span<double>(&bad, 1));
  return bad == 0.0;
}

// All ranks' vectors (same length everywhere), rank-major, on every rank.
template <class T>
std::vector<T> allgather(Communicator& c, const std::vector<T>& mine) {
  std::vector<T> all(mine.size() * std::size_t(c.size()));
  c.gather(mine.data(), mine.size() * sizeof(T), all.data(), 0);
  c.broadcast(all.data(), all.size() * sizeof(T), 0);
  return all;
}

}  // namespace gg::test
