#pragma once
// What an algorithm IS, in one place: an AlgorithmSpec. Each algorithm file defines one function
// returning its spec (name, summary, provenance, options, rank layout, factory); registry.cpp lists
// them. Everything else reads the spec: the config reader validates the "algorithm" block from it,
// the run log records the effective options and the spec itself, `gg_train --describe` prints it for
// the Python tools, and the in-process test sweep (tests/unit/test_algorithm_sweep.cpp) runs every
// registered algorithm over the values each option lists in `sweep`.
//
// Adding an algorithm: one file defining `AlgorithmSpec NAME_spec()`, plus one row in registry.cpp.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "algorithms/algorithm.hpp"
#include "core/config/json_reader.hpp"

namespace gg {

struct AlgorithmEnv {
  Communicator& comm;  // all ranks (parameter servers included)
  Model& model;        // finalized; params initialised identically on every rank
  Sgd& optimizer;      // over model's layout; parameter servers use its options for their shards
  std::uint64_t seed;  // shared by all ranks (permutation rotation)
  // Nonblocking allreduces run the engine's ring / halving-doubling schedule on point-to-point messages
  // instead of comm.iallreduce_sum (config key comm.iallreduce = "ring"; algorithms/iallreduce.hpp).
  bool ring_iallreduce = false;
};

enum class OptionType { Bool, Int, Double, String };
const char* option_type_name(OptionType t);

struct OptionSpec {
  std::string name{};
  OptionType type = OptionType::String;
  nlohmann::json default_value{};
  std::vector<std::string> choices{};  // String: the allowed values (empty: any string)
  double min = -std::numeric_limits<double>::infinity();  // Int and Double: inclusive range
  double max = std::numeric_limits<double>::infinity();
  std::string doc{};                 // one line; says which value is the paper's / the original code's
  // Values the in-process test sweep tries (empty: every choice, both bools, or the default).
  std::vector<nlohmann::json> sweep{};
};

// The effective options of one run: every option of the spec, defaults filled in, validated.
class AlgorithmOptions {
 public:
  AlgorithmOptions() = default;
  explicit AlgorithmOptions(nlohmann::json values) : values_(std::move(values)) {}
  const nlohmann::json& json() const { return values_; }
  bool get_bool(const std::string& key) const { return values_.at(key).get<bool>(); }
  std::int64_t get_int(const std::string& key) const { return values_.at(key).get<std::int64_t>(); }
  double get_double(const std::string& key) const { return values_.at(key).get<double>(); }
  std::string get_string(const std::string& key) const { return values_.at(key).get<std::string>(); }

 private:
  nlohmann::json values_ = nlohmann::json::object();  // {"name": ..., option: value, ...}
};

// What an algorithm promises for given options; the in-process sweep checks every promise for every
// option combination and p (tests/sweep/), so a new algorithm is tested by declaring what it keeps.
struct Guarantees {
  // How the sum over workers of (parameters, optimizer momentum) evolves. Communication that only
  // moves mass between workers leaves the sums evolving exactly like ONE optimizer step on the summed
  // gradient G_t = sum_i g_i(t):
  //   Exact:     with G_t                                    (allreduce, pairwise averaging)
  //   HalfStale: with (G_t + G_{t-1}) / 2, G_0 at step 0      (gradients averaged one step stale)
  //   Stale:     with G_{t-1}; step 0 leaves the sums as they are, and finish() applies G_{T-1} with the
  //              last step's lr                            (allreduce timing=async: one step stale)
  //   None:      no such law (the model lives elsewhere, e.g. on parameter servers, or the mixing
  //              itself moves the sums, as MaTEx's stale average does)
  // Except for Stale's pending step, finish() leaves the sums as they are (the sweep checks it).
  enum class Mass { None, Exact, HalfStale, Stale };
  Mass mass = Mass::None;
  bool identical_replicas = false;  // from identical starts, all workers hold bitwise-equal parameters
  // Parameters are mixed between workers: training from different starts shrinks the consensus distance.
  bool mixes_parameters = false;
  // With lr = 0, every worker holds the exact global mean of the starting parameters after this many
  // steps, and at every later step (0: no such promise at this p).
  int exact_mean_after_steps = 0;
};

// Which ranks train: ranks [0, workers) train, ranks [workers, p) serve (parameter servers).
struct RankLayout {
  int workers = 0;
  int servers = 0;
};

struct AlgorithmSpec {
  std::string name{};
  std::string summary{};     // one line
  std::string provenance{};  // "paper", "original code" (MaTEx Caffe), "baseline" or "extension"
  std::string reference{};   // where the method comes from (paper, section), one line
  std::vector<OptionSpec> options{};
  // Rank layout: servers are the value of this Int option (empty: every rank trains).
  std::string servers_option{};
  // Throws InputError naming `path` (e.g. "algorithm.topology") if these options cannot run on p
  // ranks. May be empty (any p that leaves one worker).
  std::function<void(const AlgorithmOptions&, int p, const std::string& path)> check{};
  std::function<std::unique_ptr<Algorithm>(const AlgorithmOptions&, const AlgorithmEnv&)> make{};
  // What these options promise on p ranks (tests/sweep checks it). Empty: nothing beyond running cleanly.
  std::function<Guarantees(const AlgorithmOptions&, int p)> guarantees{};
};

// Reads and validates cfg (an "algorithm" block) against spec: unknown keys, wrong types, values out of
// range or not among the choices throw InputError naming the JSON path. cfg records what it read.
AlgorithmOptions read_algorithm_options(const AlgorithmSpec& spec, JsonReader& cfg);
// Options from a JSON object (tests, tools): validated exactly like a config block under `path`.
AlgorithmOptions algorithm_options(const AlgorithmSpec& spec, const nlohmann::json& block,
                                   const std::string& path = "algorithm");

// The layout for p ranks, after spec.check; throws InputError naming path if no rank would train.
RankLayout rank_layout(const AlgorithmSpec& spec, const AlgorithmOptions& opt, int p, const std::string& path);

// The spec as JSON (what --describe prints and the run log stores).
nlohmann::json describe(const AlgorithmSpec& spec);

// Every combination of the options' sweep values, as {"name": ..., option: value, ...} blocks.
std::vector<nlohmann::json> sweep_variants(const AlgorithmSpec& spec);

}  // namespace gg
