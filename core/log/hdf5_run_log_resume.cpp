// Hdf5RunLog, resuming: the log of a run continued from a checkpoint (gg_train --resume) is the same
// file, cut back to the checkpoint's boundary and appended to. Schema: core/log/SCHEMA.md ("Resumed runs").
#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/log/hdf5_run_log.hpp"

namespace gg {

Hdf5RunLog::Hdf5RunLog(const std::string& path, const RunLogInfo& info, std::int64_t steps_done,
                       const BuildFacts& facts)
    : claim_(path, OutputClaim::Existing{}), cx_(claim_.path()), resumed_(true), workers_(info.workers) {
  const auto refuse = [&](const std::string& why) {
    throw std::runtime_error(claim_.path() + ": cannot resume this log: " + why);
  };
  // The claim's lock keeps other writers out; HDF5's own flock() would also keep readers out.
  h5::Handle fapl(cx_.id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  cx_.ok(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
  file_ = h5::Handle(
      cx_.id(H5Fopen(claim_.path().c_str(), H5F_ACC_RDWR, fapl.get()), "opening the log to resume it"), H5Fclose);
  const hid_t root = file_.get();
  if (h5::read_int_attr(cx_, root, "schema_version") != kSchemaVersion)
    refuse("schema_version is not " + std::to_string(kSchemaVersion));
  if (h5::read_int_attr(cx_, root, "workers") != info.workers)
    refuse("it was written by " + std::to_string(h5::read_int_attr(cx_, root, "workers")) + " workers, not " +
           std::to_string(info.workers));
  if (h5::read_int_attr(cx_, root, "finished") != 0)
    refuse("the run already finished (finished = 1) after its checkpoint at step " + std::to_string(steps_done));
  // /steps row k is step k; /eval rows are in step order.
  h5::Handle steps = h5::create_group(cx_, root, "steps"), eval = h5::create_group(cx_, root, "eval");
  const std::vector<std::int64_t> logged = h5::read_int64s(cx_, steps.get(), "step");
  const auto kept = std::size_t(std::count_if(logged.begin(), logged.end(), [&](std::int64_t s) { return s < steps_done; }));
  if (kept != std::size_t(steps_done))
    refuse("it holds " + std::to_string(kept) + " of the " + std::to_string(steps_done) +
           " steps before the checkpoint");
  const std::vector<std::int64_t> evals = h5::read_int64s(cx_, eval.get(), "step");
  const auto evals_kept = std::count_if(evals.begin(), evals.end(), [&](std::int64_t s) { return s <= steps_done; });
  h5::truncate_rows(cx_, steps.get(), hsize_t(steps_done));
  h5::truncate_rows(cx_, eval.get(), hsize_t(evals_kept));
  // The final model's row is only written after the last step, which a resumable checkpoint precedes.
  for (const char* a : {"final_average", "final_exact_row"})
  {
    const htri_t has = H5Aexists(eval.get(), a);
    cx_.ok(has < 0 ? herr_t(-1) : herr_t(0), "H5Aexists");
    if (has > 0) cx_.ok(H5Adelete(eval.get(), a), "H5Adelete");
  }
  create(info, facts);  // opens every dataset after its kept rows

  std::string text = h5::read_string_attr(cx_, root, "resumes");
  auto resumes = nlohmann::json::parse(text.empty() ? "[]" : text, nullptr, false);
  if (!resumes.is_array()) resumes = nlohmann::json::array();
  resumes.push_back({{"step", steps_done}, {"time", facts.start_time}, {"git_revision", facts.git_revision}});
  h5::write_attr(cx_, root, "resumes", resumes.dump());
  flush();
}

bool Hdf5RunLog::mark_finished(const std::string& path, double wall_s) {
  const OutputClaim claim(path, OutputClaim::Existing{});  // refused while another run writes it
  h5::Context cx(claim.path());
  h5::Handle fapl(cx.id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  cx.ok(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
  h5::Handle file(cx.id(H5Fopen(claim.path().c_str(), H5F_ACC_RDWR, fapl.get()), "opening the log"), H5Fclose);
  if (h5::read_int_attr(cx, file.get(), "finished") != 0) return false;
  h5::write_attr(cx, file.get(), "wall_s", wall_s);
  cx.ok(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "H5Fflush");
  h5::write_attr(cx, file.get(), "finished", std::int64_t{1});
  cx.ok(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "H5Fflush");
  return true;
}

}  // namespace gg
