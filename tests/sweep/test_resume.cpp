// Checkpoint and resume of every registered algorithm, in process (ranks as threads): every sweep
// variant (algorithms/spec.hpp; gossipgrad: shuffle none, partner and ring) at p in {1..4} where its spec accepts p, trained for T steps from
// different starts (lr changing in the middle, so post-local SGD switches; momentum and weight decay
// on), is compared with the same run stopped after k steps -- every rank saves its state
// (Algorithm::save_state, servers through their checkpoint hook), the whole world is torn down, a new
// one is built from scratch, loads that state and runs steps k..T-1. Parameters after every resumed
// step and every rank's final state (params, momentum, and the algorithm's own state after finish():
// server shards, push-sum weights, ledgers) must be BITWISE equal to the uninterrupted run's, for
// k = 1 (async exchanges and shuffled batches in flight from the first step) and k = 4.
// The asynchronous parameter server applies pushes in arrival order, which threads (like real MPI)
// do not fix: there the resumed run must finish and apply every push once, but is not compared.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "algorithms/ps.hpp"
#include "algorithms/registry.hpp"
#include "core/comm/inproc_communicator.hpp"
#include "core/train/step.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"
#include "tests/sweep/sweep_rig.hpp"

namespace gg::sweep {
namespace {

using nlohmann::json;
using Bytes = std::vector<std::byte>;

constexpr int kSteps = 7, kBatch = 4;
const double kLr[kSteps] = {0.05, 0.05, 0.02, 0.02, 0.02, 0.01, 0.01};  // decays at 2 and 5
const SgdOptions kSgd{.momentum = 0.9, .weight_decay = 1e-3, .nesterov = false};

struct RankOut {
  std::vector<std::vector<float>> x;  // [step][n] parameters after each step run here (workers)
  Bytes final_state;                  // params, momentum and the algorithm's state at the end
  Bytes saved;                        // what this rank saved at the stop (interrupted runs)
  std::int64_t applied = -1;          // ps servers: pushes applied, summed over workers
};

Bytes bytes_of(const StateWriter& w) { return {w.bytes().begin(), w.bytes().end()}; }

// One rank of one run: steps [from, to) of kSteps; loads `load` first if given; at `to` either saves
// (stop = true: then finish() only releases the servers) or finishes the run.
void run_rank(const json& block, Communicator& comm, int from, int to, const Bytes* load, bool stop, RankOut& out) {
  auto model = tiny_model(kBatch);
  Sgd sgd(kSgd, model->ranges(), model->num_params());
  const AlgorithmSpec spec = find_algorithm(block.at("name").get<std::string>(), "algorithm.name");
  const AlgorithmOptions opt = algorithm_options(spec, block);
  rank_layout(spec, opt, comm.size(), "algorithm");
  auto algo = spec.make(opt, AlgorithmEnv{comm, *model, sgd, 11});
  const bool worker = algo->trains();
  const int w = algo->worker_index(), W = algo->num_workers();
  SyntheticSource source(std::max(w, 0), W, kBatch);
  if (worker && from == 0) {  // different starts on every worker
    Rng rng(seed_of(99, std::uint64_t(w)));
    for (float& x : model->params()) x += rng.uniform() - 0.5f;
    for (float& v : sgd.momentum()) v = 0.2f * (rng.uniform() - 0.5f);
  }
  if (load) {
    StateReader in(*load, "rank " + std::to_string(comm.rank()));
    if (worker) {
      in.get_floats("params", model->params());
      in.get_floats("momentum", sgd.momentum());
      source.seek(in.get_int("draws"));
    }
    algo->load_state(in);
    in.finish();
  }
  const auto final_state = [&] {
    StateWriter s;
    if (worker) {
      s.put_floats("params", model->params());
      s.put_floats("momentum", sgd.momentum());
    }
    algo->save_state(kSteps, s);
    out.final_state = bytes_of(s);
  };
  if (!worker) {
    algo->set_checkpoint_hook([&](std::int64_t steps_done, const StateWriter& s) {
      if (steps_done != to) throw std::runtime_error("checkpoint asked after step " + std::to_string(steps_done));
      out.saved = bytes_of(s);
    });
    algo->serve();
    const auto& applied = dynamic_cast<const ParameterServer&>(*algo).applied_pushes();
    out.applied = 0;
    for (std::int64_t a : applied) out.applied += a;
    if (!stop) final_state();
    return;
  }
  StepRunner runner(*algo, *model, sgd, 5);
  const StepRunner::NextBatch next = [&](Batch& b) { source.next(b); };
  for (int t = from; t < to; ++t) {
    runner.run(t, kSteps, kLr[t], next);
    out.x.emplace_back(model->params().begin(), model->params().end());
  }
  if (stop) {
    StateWriter s;
    s.put_floats("params", model->params());
    s.put_floats("momentum", sgd.momentum());
    s.put_int("draws", source.draws());
    algo->save_state(to, s);
    out.saved = bytes_of(s);
    algo->finish();  // lets the servers leave serve(); this world's state is thrown away
    return;
  }
  algo->finish();
  final_state();
}

std::vector<RankOut> run_world(const json& block, int p, int from, int to, const std::vector<RankOut>* load, bool stop) {
  std::vector<RankOut> out(static_cast<std::size_t>(p));
  run_ranks(p, [&](Communicator& comm) {
    const std::size_t r = std::size_t(comm.rank());
    run_rank(block, comm, from, to, load ? &(*load)[r].saved : nullptr, stop, out[r]);
  });
  return out;
}

struct Case {
  json block;
  int p;
  std::string label;
};

std::vector<Case> resume_cases() {
  std::vector<Case> out;
  for (const AlgorithmSpec& spec : algorithm_specs())
    for (const json& block : sweep_variants(spec))
      for (int p : {1, 2, 3, 4}) {
        try {
          rank_layout(spec, algorithm_options(spec, block), p, "algorithm");
        } catch (const InputError&) {
          continue;
        }
        std::string label;
        for (const auto& [k, v] : block.items())
          label += (label.empty() ? "" : "_") + (k == "name" ? "" : k + "_") + (v.is_string() ? v.get<std::string>() : v.dump());
        out.push_back({block, p, std::regex_replace(label + "_p" + std::to_string(p), std::regex("[^A-Za-z0-9_]"), "")});
      }
  return out;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.block.dump() << " on " << c.p << " ranks"; }

class Resume : public ::testing::TestWithParam<Case> {};

TEST_P(Resume, ContinuesBitwiseLikeTheUninterruptedRun) {
  const Case& c = GetParam();
  const bool arrival_order = c.block.at("name") == "ps" && c.block.value("mode", "sync") == "async";
  const std::vector<RankOut> ref = run_world(c.block, c.p, 0, kSteps, nullptr, false);
  for (int k : {1, 4}) {
    const std::vector<RankOut> first = run_world(c.block, c.p, 0, k, nullptr, true);
    const std::vector<RankOut> rest = run_world(c.block, c.p, k, kSteps, &first, false);
    for (int r = 0; r < c.p; ++r) {
      const RankOut &a = ref[std::size_t(r)], &b = rest[std::size_t(r)];
      ASSERT_FALSE(first[std::size_t(r)].saved.empty()) << "rank " << r << " saved nothing at step " << k;
      if (arrival_order) {
        if (b.applied >= 0) {
          EXPECT_EQ(b.applied, std::int64_t(kSteps) * (c.p - c.block.value("servers", 1)))
              << "server rank " << r << ": pushes applied over both parts, stopped after " << k;
        }
        continue;
      }
      for (std::size_t t = 0; t < b.x.size(); ++t)
        ASSERT_EQ(b.x[t], a.x[std::size_t(k) + t]) << "rank " << r << ": parameters after step " << k + int(t)
                                                   << " differ (stopped after " << k << ")";
      EXPECT_TRUE(b.final_state == a.final_state)
          << "rank " << r << ": final state (params, momentum, algorithm) differs, stopped after step " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, Resume, ::testing::ValuesIn(resume_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.label; });

TEST(ResumeState, RefusesAnotherAlgorithmsState) {
  const std::vector<RankOut> first = run_world({{"name", "gossipgrad"}}, 2, 0, 2, nullptr, true);
  try {
    run_world({{"name", "allreduce"}}, 2, 2, kSteps, &first, false);
    FAIL() << "allreduce loaded gossipgrad's state";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("record 'allreduce.buckets'"), std::string::npos) << e.what();
  }
}

TEST(ResumeState, RefusesAnotherShuffleRoute) {  // every variant resumes (the Registry sweep); mixing them does not
  const std::vector<RankOut> first = run_world({{"name", "gossipgrad"}, {"shuffle", "partner"}}, 2, 0, 2, nullptr, true);
  try {
    run_world({{"name", "gossipgrad"}, {"shuffle", "ring"}}, 2, 2, kSteps, &first, false);
    FAIL() << "a ring shuffle loaded a partner shuffle's state";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("record 'pair.shuffle'"), std::string::npos) << e.what();
  }
}

TEST(ResumeState, ReaderNamesTheRecordThatDoesNotFit) {
  StateWriter w;
  const float v[3] = {1, 2, 3};
  w.put_floats("a.x", v);
  w.put_int("a.n", 5);
  std::vector<float> got(3);
  StateReader ok(w.bytes(), "f.ckpt");
  ok.get_floats("a.x", got);
  EXPECT_EQ(ok.get_int("a.n"), 5);
  EXPECT_TRUE(ok.at_end());
  EXPECT_EQ(got, std::vector<float>(v, v + 3));
  const auto message = [&](auto&& f) {
    try {
      StateReader r(w.bytes(), "f.ckpt");
      f(r);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<float> two(2);
  EXPECT_EQ(message([&](StateReader& r) { r.get_floats("a.x", two); }), "f.ckpt: record 'a.x': holds 3 floats, expected 2");
  EXPECT_NE(message([&](StateReader& r) { r.get_int("a.x"); }).find("is a float32 array, expected a int64"), std::string::npos);
  EXPECT_NE(message([&](StateReader& r) { r.get_int("b"); }).find("record 'b': found 'a.x' in its place"), std::string::npos);
  EXPECT_NE(message([&](StateReader& r) { r.get_floats("a.x", got); r.finish(); }).find("unexpected record 'a.n'"),
            std::string::npos);
  EXPECT_NE(message([&](StateReader& r) {
              r.get_floats("a.x", got);
              r.get_int("a.n");
              r.get_int("a.more");
            }).find("record 'a.more': missing"),
            std::string::npos);
  const std::vector<std::byte> cut(w.bytes().begin(), w.bytes().begin() + 20);
  try {
    StateReader r(cut, "cut.ckpt");
    r.get_floats("a.x", got);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.ckpt: record 'a.x': truncated"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gg::sweep
