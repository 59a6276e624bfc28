#pragma once
// Helpers for the MPI tests: a world communicator per test, a tiny model, agreement across ranks.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "algorithms/registry.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/layers/dense.hpp"
#include "core/layers/relu.hpp"
#include "core/model/model.hpp"
#include "core/optim/sgd.hpp"

namespace gg::test {

// 8 inputs -> dense 16 -> relu -> dense 4 (212 parameters), several small buckets.
inline std::unique_ptr<Model> tiny_model(int max_batch, std::uint64_t seed = 7, std::size_t bucket_bytes = 256) {
  auto m = std::make_unique<Model>(Shape{1, 1, 1, 8}, 4);
  m->add(std::make_unique<Dense>(DenseOptions{.out = 16}));
  m->add(std::make_unique<ReLU>());
  m->add(std::make_unique<Dense>(DenseOptions{.out = 4}));
  m->finalize(max_batch, bucket_bytes);
  m->init(seed);
  return m;
}

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
