#pragma once
// Runs gg_gpu_check's parts one by one so that one failure loses only its own figures: each part runs
// in its own try/catch (an exception becomes {"error": what} in its results and a failed check), its
// time is recorded, and the results so far are written out after every part (`write`), so a later crash
// or timeout keeps everything measured before it. Header-only: tests/unit/test_cuda_backend.cpp tests
// it on machines without a GPU.
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace gg {

class PartRunner {
 public:
  using Write = std::function<void(const nlohmann::json&)>;
  // `results` may hold parts of an earlier run (another process, the same folder): a failure there stays
  // in "pass"; ok() and each run() speak for this runner's parts only.
  PartRunner(nlohmann::json results, Write write) : results_(std::move(results)), write_(std::move(write)) {
    if (!results_.contains("pass")) results_["pass"] = true;
    flush();
  }

  // Runs `part(ok)`, which returns the part's results and clears ok when one of its checks fails; stores
  // them under `key`. Returns whether the part passed.
  bool run(const std::string& key, const std::function<nlohmann::json(bool&)>& part) {
    bool ok = true;
    nlohmann::json r;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      r = part(ok);
    } catch (const std::exception& e) {
      ok = false;
      r = {{"error", e.what()}};
      std::fprintf(stderr, "gg_gpu_check: %s: error: %s\n", key.c_str(), e.what());
    } catch (...) {
      ok = false;
      r = {{"error", "unknown exception"}};
      std::fprintf(stderr, "gg_gpu_check: %s: error: unknown exception\n", key.c_str());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    results_[key] = std::move(r);
    results_["parts"][key] = {{"pass", ok}, {"seconds", seconds}};
    if (!ok) {
      results_["pass"] = false;
      ok_ = false;
    }
    flush();
    std::fflush(stdout);
    return ok;
  }

  bool ok() const { return ok_; }
  const nlohmann::json& results() const { return results_; }

 private:
  void flush() {
    if (!write_) return;
    try {
      write_(results_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gg_gpu_check: cannot write results: %s\n", e.what());
      results_["pass"] = false;
      ok_ = false;
    }
  }

  nlohmann::json results_;
  Write write_;
  bool ok_ = true;
};

// Runs one case of a part (one layer, one throughput row) so that an exception fails that case only:
// returns fn()'s result, or {"case": name, "error": what, "pass": false} and clears ok.
inline nlohmann::json run_case(const std::string& name, bool& ok, const std::function<nlohmann::json()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    ok = false;
    std::printf("  %-24s ERROR: %s\n", name.c_str(), e.what());
    return {{"case", name}, {"error", e.what()}, {"pass", false}};
  }
}

}  // namespace gg
