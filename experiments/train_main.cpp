// gg_train: trains one configured run, on one process or under mpirun/smpirun.
//
//   gg_train [--config run.json] [--set key.path=value ...] [--quiet] [--resume]
//   gg_train --describe      every registry (algorithms with options and defaults, models, ...) as JSON
//   gg_train --version       git revision, build type, backends, BLAS kernels
//
// Set-up happens in two phases, each closed by an agreement among all ranks, so that a bad input on
// any rank ends every rank with exit code 2 and one message, never a hang. Errors during training
// (which cannot be agreed on) abort the whole job (exit code 3). A diverged run (core/train/health.hpp)
// stops on every worker at the same step: one message, exit code 4 on every rank. A job stuck in
// communication is named and ended by the stall watchdog (core/comm/stall_watchdog.hpp, exit code 5).
// Exit codes: core/util/exit_codes.hpp. Every message is one line (core/util/message.hpp).
//   phase 1: config, the data's shape (file headers only), the model
//   phase 2: optimizer, algorithm, then the data itself: a rank stores only what its role needs (its
//            own partition with data.partition "fixed", "classes" or "dirichlet"; the test samples its evaluations use; a
//            parameter server nothing), which keeps 128 simulated ranks in one SMPI process small;
//            then the checkpoints (--resume: this rank's state read back and verified)
//   phase 3: the run log (rank 0), only once every rank agrees that phase 2 succeeded: a refused
//            --resume leaves the log untouched.
// Exit codes: 0 done; 2 bad input (every rank); 3 error during training (the job is aborted);
// kStoppedExitCode (75) stopped by SIGTERM / SIGINT at a step boundary, checkpoint written and log
// flushed: continue with --resume (core/util/stop_signal.hpp, core/train/run_control.hpp).
#include <omp.h>

#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "algorithms/registry.hpp"
#include "core/blas/blas_kernels.hpp"
#include "core/comm/mpi_communicator.hpp"
#include "core/comm/metered_communicator.hpp"
#include "core/comm/mpi_session.hpp"
#include "core/comm/stall_watchdog.hpp"
#include "core/config/run_config.hpp"
#include "core/data/datasets.hpp"
#include "core/data/label_partition.hpp"
#include "core/data/sampler.hpp"
#include "core/cuda/gpu_context.hpp"
#include "core/cuda/runtime.hpp"
#include "core/model/model_builder.hpp"
#include "core/optim/optimizer_config.hpp"
#include "core/sim/compute_injection.hpp"
#include "core/sim/compute_profile.hpp"
#include "core/train/checkpoint_plan.hpp"
#include "core/train/evaluator.hpp"
#include "core/train/final_average.hpp"
#include "core/train/run_sink_factory.hpp"
#include "core/train/trainer.hpp"
#include "core/util/error.hpp"
#include "core/util/exit_codes.hpp"
#include "core/util/message.hpp"
#include "core/util/stop_signal.hpp"
#include "core/log/hdf5_run_log.hpp"
#include "experiments/cli_args.hpp"

namespace {

using namespace gg;

struct OwnedSamples {
  std::vector<std::int64_t> ids, class_histogram;
};

// Everything a run owns, built in phase 1 (local, no communication) and phase 2 (collective).
struct Run {
  RunConfig cfg;
  std::unique_ptr<DataSource> source;
  DataInfo info;
  DatasetPair data;
  std::unique_ptr<Model> model;
  OptimizerConfig opt;
  std::unique_ptr<Sgd> sgd;
  std::unique_ptr<Communicator> workers;
  std::unique_ptr<Algorithm> algorithm;
  nlohmann::json spec;  // the algorithm's spec, as --describe prints it
  CheckpointSetup checkpoints;
  std::unique_ptr<RunSink> sink;
  // Under a partition that owns samples: this worker's samples, and every worker's class counts
  // [workers, classes] (what the run log records); filled while the training labels are read.
  std::shared_ptr<OwnedSamples> owned = std::make_shared<OwnedSamples>();
};

// Returns true on every rank if any rank failed; the lowest failing rank prints its message.
bool any_failed(Communicator& world, const std::string& error) {
  std::vector<double> failed(std::size_t(world.size()), 0.0);
  failed[std::size_t(world.rank())] = error.empty() ? 0.0 : 1.0;
  world.allreduce_sum(failed);
  for (int r = 0; r < world.size(); ++r) {
    if (failed[std::size_t(r)] == 0.0) continue;
    if (r == world.rank()) std::fprintf(stderr, "gg_train: error: %s\n", one_line(error).c_str());
    return true;
  }
  return false;
}

// Runs f; returns "" or the error's message. `doing` says what f does, for an allocation failure that
// no reader or layer put in words itself.
template <class F>
std::string capture(const char* doing, F&& f) {
  try {
    f();
    return {};
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::bad_alloc&) {
    return std::string("out of memory while ") + doing;
  } catch (const std::exception& e) {
    return std::string("internal error: ") + e.what();
  }
}

// This rank's GPU: its rank among the ranks of its node (as the launcher tells it) modulo the GPUs
// visible. No GPU: 0, and make_gpu_context says why it cannot run.
int local_gpu() {
  const int count = cuda::device_count();
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* v = std::getenv(var); v && count > 0) return std::atoi(v) % count;
  return 0;
}

void phase1(Run& run, const Args& args, Communicator& world) {
  run.cfg = parse_run_config(load_config_json(args.config, args.overrides));
  set_compute_threads(run.cfg.train.threads);
  JsonReader root = run.cfg.reader();
  auto data_cfg = root.object("data");
  run.source = std::make_unique<DataSource>(data_cfg);
  run.info = run.source->info();
  const TrainOptions& t = run.cfg.train;
  Placement placement;
  if (t.cuda) {
    try {
      placement = {make_gpu_context({local_gpu(), t.tf32}), true};
    } catch (const InputError& e) {
      throw InputError(std::string("config: 'train.device' is \"cuda\", but ") + e.what());
    }
  }
  run.model = build_model(run.cfg.resolved.at("model"), "model", run.info.sample, run.info.num_classes, t.batch,
                          t.bucket_kb * 1024, placement);
  run.model->init(t.seed);  // same seed everywhere: all replicas start identical
  if (!run.cfg.compute_profile.empty()) {
    if (!built_for_smpi())
      throw InputError("config: 'sim.compute_profile' charges simulated compute, which only an SMPI build has "
                       "(cmake --preset smpi, scripts/run_smpi.py); here the real arithmetic is the compute");
    run.model->set_compute_charges(read_compute_profile(run.cfg.compute_profile, run.model->layers(),
                                                        "sim.compute_profile"));
  }
  if (world.rank() == 0 && !run.cfg.output.empty()) {
    check_output_writable(run.cfg.output);
    check_checkpoint_folder(run.cfg.output);
  }
}

// What this worker stores of the data: its own partition of train under data.partition "fixed",
// "classes" or "dirichlet" (all of train under "reshuffle", where the shard changes every epoch), and
// the test samples that its evaluations use. Every worker computes the whole partition from the
// labels (label_partition.hpp): run.owned gets its own samples and every worker's class counts.
DataKeep data_to_keep(const Run& run) {
  const int workers = run.algorithm->num_workers(), me = run.algorithm->worker_index();
  const std::uint64_t seed = run.cfg.train.seed;
  const bool replicas = run.cfg.train.eval_replicas;
  DataKeep keep;
  if (owns_samples(run.source->partition())) {
    const PartitionSpec spec = run.source->partition_spec();
    const int classes = run.info.num_classes;
    std::shared_ptr<OwnedSamples> out = run.owned;
    keep.train = [=](std::int64_t, std::span<const std::int32_t> labels) {
      const std::vector<std::int32_t> owners = partition_owners(spec, labels, classes, workers, seed);
      out->class_histogram = class_histogram(owners, labels, classes, workers);
      out->ids = samples_of(owners, me);
      return out->ids;
    };
  }
  keep.test = [=](std::int64_t n, std::span<const std::int32_t>) {
    return Evaluator::samples_used(n, me, workers, replicas);
  };
  return keep;
}

// The run log's /data group: the partition, its option and the class counts.
PartitionRecord partition_record(const Run& run) {
  const PartitionSpec& spec = run.source->partition_spec();
  PartitionRecord r;
  r.partition = partition_name(spec.kind);
  if (spec.kind == Partition::Classes) r.classes_per_worker = spec.classes_per_worker;
  if (spec.kind == Partition::Dirichlet) r.dirichlet_alpha = spec.dirichlet_alpha;
  r.num_classes = run.info.num_classes;
  r.class_histogram = run.owned->class_histogram;
  return r;
}

void phase2(Run& run, const Args& args, Communicator& world) {
  JsonReader root = run.cfg.reader();
  auto opt_cfg = root.object("optimizer");
  run.opt = read_optimizer_config(opt_cfg, run.cfg.train.epochs);
  run.sgd = std::make_unique<Sgd>(run.opt.sgd, run.model->ranges(), run.model->num_params());
  run.sgd->set_memory_hook([&world](std::size_t bytes) { world.account_memory(bytes); });
  auto algo_cfg = root.object("algorithm");
  run.algorithm = make_algorithm(
      algo_cfg, AlgorithmEnv{world, *run.model, *run.sgd, run.cfg.train.seed, run.cfg.ring_iallreduce});
  run.spec = describe(find_algorithm(run.algorithm->name(), "algorithm.name"));
  run.opt.lr.apply_linear_scaling(run.cfg.train.batch * run.algorithm->num_workers());
  check_final_average(run.cfg.train.final_average, run.algorithm->num_workers());
  if (run.algorithm->trains()) {  // parameter servers touch no sample: they load nothing
    run.data = run.source->load(data_to_keep(run));
    const Dataset& train = run.data.train;
    if (!(train.sample == run.info.sample) || train.num_classes != run.info.num_classes)
      throw InputError(train.name + ": samples are " + train.sample.str() + " in " +
                       std::to_string(train.num_classes) + " classes, but the header read first said " +
                       run.info.sample.str() + " in " + std::to_string(run.info.num_classes));
    // rejects a batch larger than a worker's shard, before any step
    ShardSampler(train.samples(), run.algorithm->num_workers(), run.algorithm->worker_index(), run.cfg.train.batch,
                 run.cfg.train.seed, true, run.data.partition, run.owned->ids);
  }
  // Training ranks get their own communicator for evaluation and step gathering.
  run.workers = world.split(run.algorithm->trains() ? 0 : 1);
  const int workers = run.algorithm->num_workers();
  run.checkpoints = plan_checkpoints(run.cfg, run.algorithm->name(), workers, world, args.resume);
}

// Phase 3, once every rank has read and verified its checkpoint (--resume) and all agree: rank 0 opens
// the run log. Only here is a resumed log cut back to the checkpoint's boundary and the resume
// recorded, so a refused --resume leaves the log as it was.
void open_log(Run& run, const Args& args, Communicator& world, const HostCosts& costs) {
  const int workers = run.algorithm->num_workers();
  if (world.rank() != 0 || run.cfg.output.empty() || run.checkpoints.already_finished) return;
  run.sink = args.resume ? open_resumed_run_sink(run.cfg, run.spec, world, *run.model, workers, costs,
                                                 run.checkpoints.resume_step)
                         : open_run_sink(run.cfg, run.spec, world, *run.model, workers, costs, partition_record(run));
}

// --resume of a run whose final checkpoint was committed: nothing to train. Marks the log finished if
// the run was killed before it could (rank 0), and says so.
void report_finished(const Run& run, Communicator& world) {
  if (world.rank() != 0) return;
  const CheckpointManifest& m = *run.checkpoints.already_finished;
  const CheckpointStore& store = run.checkpoints.plan->store;
  const std::vector<std::byte> state = store.read(m);
  StateReader in(state, store.rank_file(m.step));
  in.get_int("trainer.steps_done");
  const bool marked = Hdf5RunLog::mark_finished(run.cfg.output, in.get_double("trainer.elapsed_s"));
  std::printf("gg_train: run '%s' already finished all %lld steps (final checkpoint in %s)%s; nothing to resume\n",
              run.cfg.name.c_str(), (long long)m.step, store.dir().c_str(), marked ? ", log marked finished" : "");
}

// One line, on rank 0, for a run stopped by a signal at a boundary.
void report_stopped(const Run& run, const TrainResult& result) {
  const std::string how = run.checkpoints.plan
                              ? "checkpoint " + run.checkpoints.plan->store.step_dir(result.steps) +
                                    " written, log flushed; continue with --resume"
                              : std::string("no checkpoint (output.path is empty)");
  std::fprintf(stderr, "gg_train: stopped by %s after step %lld of %lld: %s (exit %d)\n", signal_name(result.stopped_by),
               (long long)result.steps, (long long)result.total_steps, how.c_str(), kStoppedExitCode);
}

void print_header(const Run& run, Communicator& world) {
  const auto& t = run.cfg.train;
  std::printf("gg_train: run '%s' on %d rank(s) (%d worker(s)), algorithm %s\n", run.cfg.name.c_str(), world.size(),
              run.algorithm->num_workers(), run.algorithm->name().c_str());
  const Dataset& train = run.data.train;
  std::printf("  data  %s: %lld train / %lld test samples of %s, %d classes\n", train.name.c_str(),
              (long long)train.samples(), (long long)run.data.test.samples(), train.sample.str().c_str(),
              train.num_classes);
  if (owns_samples(run.data.partition))
    std::printf("        partition %s: each worker keeps its own %lld training samples\n",
                partition_name(run.data.partition).c_str(), (long long)train.size());
  std::printf("  model %zu parameters in %zu layers, %.2f MFLOP/sample forward, %zu gradient buckets\n",
              run.model->num_params(), run.model->layers().size(), run.model->forward_flops_per_sample() / 1e6,
              run.model->buckets().size());
  if (t.cuda)
    std::printf("  device rank 0: GPU %d, %s, %s math; parameters staged through host memory, SGD on the host\n",
                gpu_options(*run.model->gpu()).device, cuda::device_name(gpu_options(*run.model->gpu()).device).c_str(),
                t.tf32 ? "TF32" : "FP32");
  std::printf("  train %d epochs, batch %d per worker, lr %.4g, %d thread(s) per rank, seed %llu\n", t.epochs,
              t.batch, run.opt.lr.base_lr, t.threads, (unsigned long long)t.seed);
  std::printf("  blas  %s\n", blas_kernels().str().c_str());
  if (run.checkpoints.resume_step >= 0)
    std::printf("  resume from the checkpoint after step %lld in %s\n", (long long)run.checkpoints.resume_step,
                run.checkpoints.plan->store.dir().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  use_best_blas_kernels();  // before any BLAS call or thread (core/blas/blas_kernels.hpp)
  MpiSession mpi(&argc, &argv);
  MpiCommunicator transport;
  std::unique_ptr<StallWatchdog> watchdog;  // made after set-up; outlives the run's communicators
  HostCosts costs;  // what the simulated node charges (nothing outside SMPI)
  const std::string cost_error = capture("reading the platform's costs", [&] { costs = host_costs(); });
  MeteredCommunicator world(transport, costs);
  Args args;
  Run run;
  std::string error = capture("reading the command line", [&] { args = parse_args(argc, argv); });
  if (!args.print.empty() && error.empty()) {
    if (world.rank() == 0) std::fputs(args.print.c_str(), stdout);
    return 0;
  }
  if (error.empty()) error = cost_error;
  if (error.empty()) error = capture("reading the config and building the model", [&] { phase1(run, args, world); });
  if (any_failed(world, error)) return exit_code::kBadInput;
  error = capture("loading the data and setting up the algorithm", [&] { phase2(run, args, world); });
  if (any_failed(world, error)) return exit_code::kBadInput;
  error = capture("opening the run log", [&] { open_log(run, args, world, costs); });
  if (any_failed(world, error)) return exit_code::kBadInput;
  clear_stale_checkpoints(run.checkpoints, world);
  if (run.checkpoints.already_finished) {
    error = capture("marking the finished run's log", [&] { report_finished(run, world); });
    return any_failed(world, error) ? exit_code::kBadInput : 0;
  }

  // Training waits are watched (not under SMPI, whose clock is simulated): every rank makes it, or none.
  const StallLimits& stall = run.cfg.stall;
  if (!built_for_smpi() && (stall.warn_s > 0 || stall.abort_s > 0)) {
    watchdog = std::make_unique<StallWatchdog>(stall.warn_s, stall.abort_s);
    transport.watch(watchdog.get());
    if (auto* metered = dynamic_cast<MeteredCommunicator*>(run.workers.get()))
      if (auto* workers = dynamic_cast<MpiCommunicator*>(&metered->inner())) workers->watch(watchdog.get());
  }

  const bool leader = world.rank() == 0;
  if (leader && !args.quiet) print_header(run, world);
  TrainResult result;
  error = capture("training", [&] {
    if (run.cfg.train.stop_check_every > 0) install_stop_signals();  // the workers agree on them
    Trainer trainer(run.cfg.train, TrainComms{world, *run.workers, world.meter()},
                    TrainData{run.data.train, run.data.test, run.data.partition, run.owned->ids},
                    Learner{*run.model, *run.sgd, *run.algorithm, run.opt.lr}, run.sink.get(),
                    run.checkpoints.plan.get());
    result = trainer.run();
  });
  if (!error.empty()) {
    std::fprintf(stderr, "gg_train: rank %d: error during training: %s\n", world.rank(), one_line(error).c_str());
    world.abort(exit_code::kTrainingError);
  }
  if (any_failed(world, result.stopped)) return exit_code::kDiverged;  // the workers' shared verdict
  if (result.stopped_by != 0) {
    if (leader) report_stopped(run, result);
    return kStoppedExitCode;
  }
  if (leader) {
    const auto& e = result.last_eval;
    std::printf("final: top-1 %.2f%% (worker 0), averaged model %.2f%%, %.0f img/s, %.1f s wall\n",
                100 * e.rank0.top1, 100 * e.averaged.top1, result.images_per_s, result.wall_s);
  }
  return 0;
}
