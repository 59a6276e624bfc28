#pragma once
// One run's configuration. The JSON document is validated in one place per block: the train and
// output blocks here, data by load_dataset, model by build_model, optimizer by read_lr_schedule and
// read_sgd_options, algorithm by make_algorithm. Every block rejects keys it does not know.
//
// {
//   "name": "quick",
//   "model": "lenet",                        // or {"layers": [...]}
//   "data": {"name": "fashion-mnist"},
//   "optimizer": {"lr": 0.01, "momentum": 0.9, "nesterov": false, "weight_decay": 5e-4,
//                 "schedule": {"kind": "step", "step_epochs": 4, "gamma": 0.3}},
//   "algorithm": {"name": "allreduce"},
//   "train": {"epochs": 10, "batch": 64, "seed": 1, "threads": 1, "evals_per_epoch": 1,
//             "max_steps": 0, "log_every": 100, "bucket_kb": 1024, "eval_replicas": true,
//             "max_loss": 1e4, "health_every": 100,   // divergence checks: core/train/health.hpp
//             "checkpoint_every": 0, "checkpoint_minutes": 0, "stop_check_every": 10,
//                                            // checkpoints and signals: core/train/run_control.hpp
//             "final_average": "none"},      // or "allreduce", "hypercube": one exact model at the end
//                                            // (core/train/final_average.hpp)
//   "output": {"path": "results/quick/allreduce.h5"},
//   "comm": {"iallreduce": "mpi",            // "ring": the engine's own nonblocking allreduce on
//                                            // point-to-point messages (for SMPI, whose
//                                            // MPI_Iallreduce is naive; see algorithms/iallreduce.hpp)
//            "stall_warn_s": 60, "stall_abort_s": 600}  // stall watchdog (core/comm/stall_watchdog.hpp);
//                                            // 0 turns either off; not used under SMPI
// }
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/json_reader.hpp"
#include "core/sim/compute_noise.hpp"

namespace gg {

// train.final_average: how the workers' replicas become one exact model after the last step (none: they
// are left as trained). Semantics: core/train/final_average.hpp.
enum class FinalAverage { None, Allreduce, Hypercube };
const char* final_average_name(FinalAverage how);  // "none", "allreduce", "hypercube"

struct TrainOptions {
  int epochs = 10;
  int batch = 64;            // per worker
  std::uint64_t seed = 1;
  int threads = 1;           // CPU threads per rank (OpenMP; OpenBLAS runs on its caller, core/blas/)
  int evals_per_epoch = 1;
  std::int64_t max_steps = 0;  // 0 = epochs decide
  int log_every = 100;       // steps between progress lines
  std::size_t bucket_kb = 1024;
  bool eval_replicas = true;  // every replica evaluates the full test set (min/max over replicas)
  ComputeNoiseOptions noise;  // block `sim`: compute jitter and slow workers (core/sim/compute_noise.hpp)
  double max_loss = 1e4;      // a worker's batch loss above this (or not finite) is divergence; 0: only non-finite
  int health_every = 100;     // steps between the workers' divergence agreements (and at every evaluation)
  // Checkpoints next to the log (core/train/checkpoint_store.hpp; 0 = off) and the workers' agreement on
  // signals and time-based checkpoints every stop_check_every steps (0 = none: signals end the run
  // without a checkpoint). Semantics: core/train/run_control.hpp.
  std::int64_t checkpoint_every = 0;  // steps
  double checkpoint_minutes = 0;      // wall-clock minutes
  int stop_check_every = 10;          // steps
  FinalAverage final_average = FinalAverage::None;
  // "cuda": forward, loss and backward on this rank's GPU (local rank modulo the GPUs visible), with the
  // parameters staged through host memory so that every algorithm runs unchanged (core/model/model.hpp).
  bool cuda = false;
  bool tf32 = false;  // TensorFloat-32 convolutions and GEMMs on the GPU (core/cuda/gpu_context.hpp)
};

// The stall watchdog's limits in seconds (0: off).
struct StallLimits {
  double warn_s = 60;   // a rank waiting this long in one communication call names the ranks not waiting
  double abort_s = 600; // ... and after this long the job ends (exit code 5)
};

struct RunConfig {
  nlohmann::json resolved;   // the whole document after overrides and defaults
  // Every value each block's reader returned, defaults included: the effective config. Filled as the
  // blocks are read (train, output, comm here; the others by readers made with reader()).
  std::shared_ptr<nlohmann::json> effective = std::make_shared<nlohmann::json>(nlohmann::json::object());
  // A reader of the root of `resolved` that records into `effective`.
  JsonReader reader() const { return JsonReader(resolved, "", effective); }
  std::string name;
  TrainOptions train;
  std::string output;        // HDF5 run log path; empty = no log
  bool ring_iallreduce = false;  // comm.iallreduce == "ring"
  StallLimits stall;             // comm.stall_warn_s, comm.stall_abort_s
  std::string compute_profile;   // sim.compute_profile: charged compute of real layers (SMPI only); empty = none
};

// Limits on a config, checked before any parsing: no parser, copy or destructor ever recurses deeper
// than kMaxConfigDepth, and no file larger than kMaxConfigBytes is read.
inline constexpr int kMaxConfigDepth = 64;      // nesting of objects and arrays
inline constexpr int kMaxKeyParts = 16;         // parts of a --set key path
inline constexpr std::uint64_t kMaxConfigBytes = std::uint64_t(16) << 20;

// Parses a JSON file (a regular file only: a directory, FIFO or device is refused by type; errors name
// line and column), applies "--set a.b=value" overrides (value is JSON if it parses, else a string),
// and fills defaults for absent blocks.
nlohmann::json load_config_json(const std::string& path, const std::vector<std::string>& overrides);
// The config object in `text` (where: the file name for messages). Rejects a NUL byte anywhere (JSON
// parsers stop there and would ignore what follows), nesting deeper than kMaxConfigDepth, malformed
// JSON and trailing bytes (line and column), and anything but an object.
nlohmann::json parse_config_text(const std::string& text, const std::string& where);
void apply_override(nlohmann::json& doc, const std::string& assignment);
// Validates the top level, the train and output blocks; the other blocks are checked by their readers.
RunConfig parse_run_config(const nlohmann::json& doc);

}  // namespace gg
