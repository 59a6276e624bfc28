#pragma once
// The HDF5 run log: one file per run, written by rank 0 only. Schema: core/log/SCHEMA.md.
//
// The constructor claims the path (core/log/output_claim.hpp: refused if another run writes it, an
// older log there untouched) and creates the file under a hidden staging name next to it; the first
// evaluation publishes it at the path (an atomic rename). Every write (steps, an evaluation, the
// finish) ends with a flush, and nothing is written between them, so the file on disk is complete
// and consistent between writes: a killed run leaves a readable file whose `finished` attribute is
// 0, and a reader may open the file while the run goes on (HDF5's own file locking is off for the
// writer, which the claim's lock replaces). If the log is destroyed before any evaluation was
// recorded (set-up failed on another rank, or training failed early), the staging file is removed:
// nothing is left behind.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/log/h5_util.hpp"
#include "core/log/output_claim.hpp"
#include "core/train/records.hpp"

namespace gg {

// How the training set was split among the workers: the /data group (SCHEMA.md).
struct PartitionRecord {
  std::string partition;          // data.partition; empty: no /data group
  std::int64_t classes_per_worker = 0;  // "classes" only (written when > 0)
  double dirichlet_alpha = 0;     // "dirichlet" only (written when > 0)
  int num_classes = 0;
  std::vector<std::int64_t> class_histogram;  // [workers, num_classes] row-major; empty: not written
};

// Everything the root attributes hold that the log cannot find out by itself.
struct RunLogInfo {
  std::string config_json;   // the effective config (every option, defaults filled in)
  std::string algorithm_spec;  // the algorithm's spec as JSON (gg_train --describe); empty: not written
  std::string mpi_library;   // Communicator::library_version()
  std::string cost_model;    // JSON: what the simulated node charged (HostCosts); empty: not written
  std::string model_layers;  // JSON array of {name, kind, out, params, mflops}
  int workers = 1;           // training ranks (columns of /steps/*)
  int ranks = 1;             // all ranks, servers included
  std::int64_t num_params = 0;
  PartitionRecord data;      // the /data group
};

// Facts about this process and build, filled at start: git revision (of the sources the binary was
// built from, core/util/build_info.hpp), host, compiler, HDF5 version, start time (ISO 8601 UTC).
struct BuildFacts {
  std::string git_revision, host, compiler, hdf5_version, start_time;
  std::string blas_library, blas_kernels, blas_kernels_chosen_by;  // what ran GEMMs (core/blas/)
  static BuildFacts collect();
};

class Hdf5RunLog final : public RunSink {
 public:
  static constexpr std::int64_t kSchemaVersion = 2;

  // Claims `path` (InputError if another run holds it) and creates the log under its staging name.
  // Throws std::runtime_error naming the path on any HDF5 failure.
  Hdf5RunLog(const std::string& path, const RunLogInfo& info, const BuildFacts& facts = BuildFacts::collect());
  // Resuming (hdf5_run_log_resume.cpp): claims (OutputClaim::Existing: refused while another run writes
  // it) and opens the existing log of the run being continued from its
  // checkpoint after `steps_done` steps, keeps its attributes, cuts /steps to its first steps_done rows
  // and /eval to the evaluations at or before steps_done (a run killed after its last checkpoint may
  // have logged more), appends {step, time, git_revision} to the JSON array attribute `resumes`, and
  // flushes. Appends then continue the datasets. Throws std::runtime_error naming the path if it is not
  // a log of this shape (schema, workers), holds fewer steps than steps_done, or is finished.
  Hdf5RunLog(const std::string& path, const RunLogInfo& info, std::int64_t steps_done,
             const BuildFacts& facts = BuildFacts::collect());
  // A run whose final checkpoint was committed but whose log was not marked finished (killed in
  // between): writes wall_s and finished = 1. Returns false if the log was already finished.
  static bool mark_finished(const std::string& path, double wall_s);
  ~Hdf5RunLog() override;
  Hdf5RunLog(const Hdf5RunLog&) = delete;
  Hdf5RunLog& operator=(const Hdf5RunLog&) = delete;

  void on_steps(const std::vector<StepRecord>& steps, int workers) override;
  void on_eval(const EvalRecord& eval) override;  // appends and flushes
  void on_finish(double wall_s) override;         // writes wall_s, then finished = 1, and flushes
  void on_stop(const std::string& reason) override;  // writes `stopped`; finished stays 0
  // A checkpoint will name this log: it is flushed and published at its path (as at an evaluation), so
  // it is kept from now on (even without an evaluation) and a resume finds it there.
  void on_checkpoint(std::int64_t) override {
    flush();
    publish();
  }

  const std::string& path() const { return claim_.path(); }
  bool published() const { return claim_.published(); }

 private:
  void create(const RunLogInfo& info, const BuildFacts& facts);
  void write_attributes(const RunLogInfo& info, const BuildFacts& facts);
  void write_partition(const PartitionRecord& data);
  void create_datasets(const RunLogInfo& info);
  void flush();
  void publish();

  OutputClaim claim_;
  h5::Context cx_;
  h5::Handle file_;
  bool resumed_ = false;  // opened an existing log: its attributes stay as they are
  int workers_ = 1;

  // /steps: [steps, workers] per rank, [steps] per step.
  h5::Extendable step_, loss_mean_;
  std::vector<h5::Extendable> per_worker_;  // one per StepRecord column (kStepColumns in the .cpp)
  // /eval: [evals]; metrics[m] = {loss, top1, top5} of rank0, averaged, replica_min, replica_max.
  h5::Extendable e_step_, e_epoch_, e_wall_, e_consensus_;
  std::array<std::array<h5::Extendable, 3>, 4> metrics_;

  // Column scratch for on_steps, reused between calls.
  std::vector<float> f_buf_;
  std::vector<std::uint64_t> u_buf_;
  std::vector<std::int32_t> i_buf_;
  std::vector<std::int64_t> s_buf_;
};

}  // namespace gg
