#include "core/log/hdf5_run_log.hpp"

#include "core/blas/blas_kernels.hpp"
#include "core/util/build_info.hpp"
#include "core/util/utc_time.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <stdexcept>

namespace gg {

namespace {

constexpr const char* kMetricGroups[4] = {"rank0", "averaged", "replica_min", "replica_max"};
constexpr const char* kMetricNames[3] = {"loss", "top1", "top5"};

// The per-worker /steps datasets: name and StepRecord field (SCHEMA.md lists them in this order).
struct StepColumn {
  const char* name;
  float StepRecord::*f = nullptr;
  std::uint64_t StepRecord::*u = nullptr;
  std::int32_t StepRecord::*i = nullptr;
  hid_t type() const { return f ? H5T_NATIVE_FLOAT : u ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT32; }
};
const StepColumn kStepColumns[] = {
    {"loss", &StepRecord::loss},
    {"compute_s", &StepRecord::compute_s},
    {"comm_s", &StepRecord::comm_s},
    {"exposed_s", &StepRecord::exposed_s},
    {"total_s", &StepRecord::total_s},
    {"mem_s", &StepRecord::mem_s},
    {"staging_s", &StepRecord::staging_s},
    {"bytes_sent", nullptr, &StepRecord::bytes_sent},
    {"bytes_recv", nullptr, &StepRecord::bytes_recv},
    {"msgs_sent", nullptr, &StepRecord::msgs_sent},
    {"mem_bytes", nullptr, &StepRecord::mem_bytes},
    {"partner", nullptr, nullptr, &StepRecord::partner},
    {"staleness", nullptr, nullptr, &StepRecord::staleness},
};

}  // namespace

BuildFacts BuildFacts::collect() {
  BuildFacts f;
  f.git_revision = build_info().git_revision;  // of the sources this binary was built from
  char host[256] = {};
  f.host = gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
#if defined(__clang__)
  f.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  f.compiler = "gcc " __VERSION__;
#else
  f.compiler = "unknown";
#endif
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  f.hdf5_version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
  const BlasKernels blas = gg::blas_kernels();
  f.blas_library = blas.library;
  f.blas_kernels = blas.kernels;
  f.blas_kernels_chosen_by = blas.chosen_by;
  f.start_time = iso8601_utc_now();
  return f;
}

Hdf5RunLog::Hdf5RunLog(const std::string& path, const RunLogInfo& info, const BuildFacts& facts)
    : claim_(path), cx_(claim_.path()), workers_(info.workers) {
  if (info.workers < 1) throw std::invalid_argument(path + ": run log needs at least one worker");
  // The claim's lock keeps other writers out; HDF5's own flock() would also keep readers out.
  h5::Handle fapl(cx_.id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  cx_.ok(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
  file_ = h5::Handle(
      cx_.id(H5Fcreate(claim_.staging_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "creating the file"),
      H5Fclose);
  create(info, facts);  // on failure the claim removes the staging file: nothing half-written is left
  flush();
}

void Hdf5RunLog::create(const RunLogInfo& info, const BuildFacts& facts) {
  if (!resumed_) {
    write_attributes(info, facts);
    write_partition(info.data);
  }
  create_datasets(info);
}

void Hdf5RunLog::write_partition(const PartitionRecord& d) {
  if (d.partition.empty()) return;
  h5::Handle group = h5::create_group(cx_, file_.get(), "data");
  const hid_t g = group.get();
  h5::write_attr(cx_, g, "partition", d.partition);
  h5::write_attr(cx_, g, "num_classes", std::int64_t{d.num_classes});
  if (d.classes_per_worker > 0) h5::write_attr(cx_, g, "classes_per_worker", d.classes_per_worker);
  if (d.dirichlet_alpha > 0) h5::write_attr(cx_, g, "dirichlet_alpha", d.dirichlet_alpha);
  if (d.class_histogram.empty()) return;
  const hsize_t classes = hsize_t(d.num_classes), rows = classes ? d.class_histogram.size() / classes : 0;
  if (classes == 0 || rows * classes != d.class_histogram.size())
    throw std::invalid_argument(path() + ": class histogram of " + std::to_string(d.class_histogram.size()) +
                                " values is not [workers, " + std::to_string(classes) + "]");
  h5::Extendable hist(cx_, g, "class_histogram", H5T_NATIVE_INT64, classes, rows);
  hist.append(cx_, d.class_histogram.data(), rows);
}

void Hdf5RunLog::write_attributes(const RunLogInfo& info, const BuildFacts& facts) {
  const hid_t root = file_.get();
  h5::write_attr(cx_, root, "schema_version", kSchemaVersion);
  h5::write_attr(cx_, root, "finished", std::int64_t{0});
  h5::write_attr(cx_, root, "config", info.config_json);
  if (!info.algorithm_spec.empty()) h5::write_attr(cx_, root, "algorithm_spec", info.algorithm_spec);
  h5::write_attr(cx_, root, "git_revision", facts.git_revision);
  h5::write_attr(cx_, root, "host", facts.host);
  h5::write_attr(cx_, root, "mpi_library", info.mpi_library);
  if (!info.cost_model.empty()) h5::write_attr(cx_, root, "cost_model", info.cost_model);
  h5::write_attr(cx_, root, "hdf5_version", facts.hdf5_version);
  h5::write_attr(cx_, root, "compiler", facts.compiler);
  h5::write_attr(cx_, root, "blas_library", facts.blas_library);
  h5::write_attr(cx_, root, "blas_kernels", facts.blas_kernels);
  h5::write_attr(cx_, root, "blas_kernels_chosen_by", facts.blas_kernels_chosen_by);
  h5::write_attr(cx_, root, "start_time", facts.start_time);
  h5::write_attr(cx_, root, "workers", std::int64_t{info.workers});
  h5::write_attr(cx_, root, "ranks", std::int64_t{info.ranks});
  h5::write_attr(cx_, root, "num_params", info.num_params);
  h5::write_attr(cx_, root, "model_layers", info.model_layers.empty() ? std::string("[]") : info.model_layers);
}

// Creates the datasets, or opens them in a resumed log (h5::Extendable and h5::create_group do both).
void Hdf5RunLog::create_datasets(const RunLogInfo& info) {
  const hid_t root = file_.get();

  // Chunks of about 64 KiB of floats per per-rank dataset; evaluations are few.
  const hsize_t w = hsize_t(info.workers);
  const hsize_t rows = std::max<hsize_t>(16, std::min<hsize_t>(4096, 16384 / w));
  h5::Handle steps = h5::create_group(cx_, root, "steps");
  const hid_t s = steps.get();
  step_ = h5::Extendable(cx_, s, "step", H5T_NATIVE_INT64, 0, rows);
  per_worker_.clear();
  for (const StepColumn& c : kStepColumns) per_worker_.emplace_back(cx_, s, c.name, c.type(), w, rows);
  loss_mean_ = h5::Extendable(cx_, s, "loss_mean", H5T_NATIVE_FLOAT, 0, rows);

  h5::Handle eval = h5::create_group(cx_, root, "eval");
  const hid_t e = eval.get();
  e_step_ = h5::Extendable(cx_, e, "step", H5T_NATIVE_INT64, 0, 64);
  e_epoch_ = h5::Extendable(cx_, e, "epoch", H5T_NATIVE_DOUBLE, 0, 64);
  e_wall_ = h5::Extendable(cx_, e, "wall_s", H5T_NATIVE_DOUBLE, 0, 64);
  e_consensus_ = h5::Extendable(cx_, e, "consensus", H5T_NATIVE_DOUBLE, 0, 64);
  for (int g = 0; g < 4; ++g) {
    h5::Handle group = h5::create_group(cx_, e, kMetricGroups[g]);
    for (int m = 0; m < 3; ++m)
      metrics_[g][m] = h5::Extendable(cx_, group.get(), kMetricNames[m], H5T_NATIVE_DOUBLE, 0, 64);
  }
}

Hdf5RunLog::~Hdf5RunLog() {
  file_.reset();  // H5Fclose writes everything appended so far; then claim_ removes an unpublished file
}

void Hdf5RunLog::flush() { cx_.ok(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "H5Fflush"); }

void Hdf5RunLog::publish() {
  if (!claim_.published()) claim_.publish();
}

void Hdf5RunLog::on_steps(const std::vector<StepRecord>& steps, int workers) {
  if (workers != workers_ || steps.size() % std::size_t(workers) != 0)
    throw std::logic_error(path() + ": on_steps got " + std::to_string(steps.size()) + " records for " +
                           std::to_string(workers) + " workers; the log was opened for " +
                           std::to_string(workers_));
  const std::size_t n = steps.size(), w = std::size_t(workers);
  const hsize_t rows = hsize_t(n / w);
  if (rows == 0) return;
  // Records arrive step-major, which is the row-major layout of [steps, workers].
  for (std::size_t c = 0; c < std::size(kStepColumns); ++c) {
    const StepColumn& col = kStepColumns[c];
    if (col.f) {
      f_buf_.resize(n);
      for (std::size_t i = 0; i < n; ++i) f_buf_[i] = steps[i].*col.f;
      per_worker_[c].append(cx_, f_buf_.data(), rows);
    } else if (col.u) {
      u_buf_.resize(n);
      for (std::size_t i = 0; i < n; ++i) u_buf_[i] = steps[i].*col.u;
      per_worker_[c].append(cx_, u_buf_.data(), rows);
    } else {
      i_buf_.resize(n);
      for (std::size_t i = 0; i < n; ++i) i_buf_[i] = steps[i].*col.i;
      per_worker_[c].append(cx_, i_buf_.data(), rows);
    }
  }

  s_buf_.resize(rows);
  f_buf_.assign(rows, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    s_buf_[r] = steps[r * w].step;
    double sum = 0;
    for (std::size_t k = 0; k < w; ++k) sum += steps[r * w + k].loss;
    f_buf_[r] = float(sum / double(w));
  }
  step_.append(cx_, s_buf_.data(), rows);
  loss_mean_.append(cx_, f_buf_.data(), rows);
  flush();  // consistent on disk until the next write
}

void Hdf5RunLog::on_eval(const EvalRecord& e) {
  e_step_.append(cx_, &e.step, 1);
  e_epoch_.append(cx_, &e.epoch, 1);
  e_wall_.append(cx_, &e.wall_s, 1);
  e_consensus_.append(cx_, &e.consensus, 1);
  const Metrics* groups[4] = {&e.rank0, &e.averaged, &e.replica_min, &e.replica_max};
  for (int g = 0; g < 4; ++g) {
    metrics_[g][0].append(cx_, &groups[g]->loss, 1);
    metrics_[g][1].append(cx_, &groups[g]->top1, 1);
    metrics_[g][2].append(cx_, &groups[g]->top5, 1);
  }
  if (!e.final_average.empty()) {  // the exact final model's row (SCHEMA.md, /eval)
    const h5::Handle eval = h5::create_group(cx_, file_.get(), "eval");  // opens it
    h5::write_attr(cx_, eval.get(), "final_average", e.final_average);
    h5::write_attr(cx_, eval.get(), "final_exact_row", std::int64_t(e_step_.rows()) - 1);
  }
  flush();
  publish();  // the first evaluation makes the log visible at its path
}

void Hdf5RunLog::on_stop(const std::string& reason) {
  h5::write_attr(cx_, file_.get(), "stopped", reason);
  flush();  // not published if no evaluation happened: then the run leaves nothing
}

void Hdf5RunLog::on_finish(double wall_s) {
  publish();
  h5::write_attr(cx_, file_.get(), "wall_s", wall_s);
  flush();  // wall_s reaches the disk before the flag that vouches for it
  h5::write_attr(cx_, file_.get(), "finished", std::int64_t{1});
  flush();
}

}  // namespace gg
