#pragma once
// Runs one algorithm for a few training steps on p in-process ranks (threads), through the trainer's
// own step protocol (StepRunner), and returns what every rank recorded (sweep_rig.hpp's RankLog).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/run_config.hpp"
#include "core/optim/sgd.hpp"
#include "tests/sweep/sweep_rig.hpp"

namespace gg::sweep {

// The run seed every rank's AlgorithmEnv gets (permutation rotation draws from it).
inline constexpr std::uint64_t kRunSeed = 11;

struct RunSpec {
  nlohmann::json block{};  // the "algorithm" config block, {"name": ..., options}
  int p = 2;             // ranks (servers included)
  int steps = 6;
  int batch = 4;         // per worker
  double lr = 0.05;
  std::vector<double> lr_by_step{};  // if not empty: the learning rate of each step (else lr throughout)
  SgdOptions sgd{.momentum = 0.9, .weight_decay = 1e-3, .nesterov = false};
  bool perturb = false;  // different parameters and momenta on every worker (else identical starts)
  // After finish(): the trainer's final average over the workers (core/train/final_average.hpp), then
  // Algorithm::model_replaced(); RankLog::x_averaged holds the result.
  FinalAverage final_average = FinalAverage::None;
  std::function<void(Algorithm&)> inspect{};  // called on every rank after the run (servers included)
  // Non-empty: rank r's model is host-staged on gpus[r] (contexts on one GPU: the ranks share it), as
  // gg_train runs with train.device = cuda: forward, loss and backward on the GPU, gradients copied to
  // the host per bucket. Contexts outlive the run, so a suite of runs creates them once.
  std::vector<std::shared_ptr<GpuContext>> gpus{};
};

// Throws what any rank threw.
std::vector<RankLog> run_algorithm(const RunSpec& spec);

// The workers' logs only, in worker order.
std::vector<const RankLog*> workers_of(const std::vector<RankLog>& logs);

// mean_i ||x_i - xbar|| / ||xbar|| over the workers' parameters after step t (t = 0: the start).
double consensus(const std::vector<const RankLog*>& w, std::size_t t);

}  // namespace gg::sweep
