// Bad algorithm configs give an InputError on EVERY rank, without communicating (so nothing can hang):
// an unknown name, hypercube on a non-power-of-two number of ranks, more servers than ranks allow,
// unknown keys. Runs at p = 3, 5 and 6 too, where hypercube itself is the error.
#include <gtest/gtest.h>

#include "algorithms/schedule.hpp"
#include "core/util/error.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

using nlohmann::json;

// The InputError message of make_algorithm(j) on comm, or "" if it succeeded.
std::string error_of(Communicator& comm, const json& j) {
  auto model = test::tiny_model(2);
  Sgd sgd({}, model->ranges(), model->num_params());
  try {
    JsonReader cfg(j, "algorithm");
    make_algorithm(cfg, AlgorithmEnv{comm, *model, sgd, 1});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(BadInput, UnknownAlgorithmListsTheKnownOnes) {
  MpiCommunicator c;
  const std::string e = error_of(c, {{"name", "ring"}});
  EXPECT_TRUE(contains(e, "algorithm.name")) << e;
  // Every registered name, in registry order; the paper's four come first.
  const std::vector<std::string> names = algorithm_names();
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 4),
            (std::vector<std::string>{"allreduce", "ps", "gossip", "gossipgrad"}));
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  EXPECT_TRUE(contains(e, "unknown algorithm 'ring' (known: " + known + ")")) << e;
}

TEST(BadInput, HypercubeNeedsAPowerOfTwo) {
  MpiCommunicator world;
  // The world itself, and the sub-communicators {0,1,2} and the rest (sizes 3 and p-3 when p >= 4).
  auto check = [](Communicator& c) {
    const int p = c.size();
    for (const json& j : {json{{"name", "gossipgrad"}, {"topology", "hypercube"}}, json{{"name", "gossip"}}}) {
      const std::string e = error_of(c, j);
      if (is_power_of_two(p)) {
        EXPECT_EQ(e, "") << "p " << p;
      } else {
        EXPECT_EQ(e, "algorithm.topology: hypercube needs a power-of-two number of workers, got " +
                         std::to_string(p) + " (set algorithm.topology to dissemination)");
      }
    }
    EXPECT_EQ(error_of(c, {{"name", "gossipgrad"}, {"topology", "dissemination"}}), "");
  };
  check(world);
  if (world.size() >= 4) {
    auto sub = world.split(world.rank() < 3 ? 0 : 1);
    check(*sub);
  }
}

TEST(BadInput, MoreServersThanRanksAllow) {
  MpiCommunicator c;
  const int p = c.size();
  const std::string e = error_of(c, {{"name", "ps"}, {"servers", p}});
  EXPECT_TRUE(contains(e, "algorithm.servers")) << e;
  EXPECT_TRUE(contains(e, "got " + std::to_string(p))) << e;
  EXPECT_EQ(error_of(c, {{"name", "ps"}, {"servers", p - 1}}), "");  // constructing does not communicate
  EXPECT_TRUE(contains(error_of(c, {{"name", "ps"}, {"servers", 0}}), "algorithm.servers"));
}

TEST(BadInput, UnknownKeysAndValues) {
  MpiCommunicator c;
  EXPECT_TRUE(contains(error_of(c, {{"name", "allreduce"}, {"buckets", 3}}), "algorithm.buckets"));
  EXPECT_TRUE(contains(error_of(c, {{"name", "gossip"}, {"rotation", "shift"}}), "algorithm.rotation"));
  EXPECT_TRUE(contains(error_of(c, {{"name", "gossipgrad"}, {"rotation", "spin"}}), "algorithm.rotation"));
  EXPECT_TRUE(contains(error_of(c, {{"name", "ps"}, {"mode", "sync"}, {"staleness", 2}}), "algorithm.staleness"));
}

}  // namespace
}  // namespace gg
