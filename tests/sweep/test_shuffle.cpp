// gossipgrad's sample shuffle, both routes (algorithms/sample_shuffle.hpp), at many p, ranks as threads:
//   every step: the ids trained by all workers at step t are, as a multiset, exactly the ids the
//           samplers drew as b_t (drawn during step t-1, the shuffle's lookahead; b_0 and b_1 at step 0),
//           so no batch is lost or duplicated;
//   partner: the batch a rank trains at step t came from the recv_from of the gossip schedule at the step
//           that posted it (max(t-1, 0));
//   ring:   it came from rank+1's sampler (mod p), whatever the gossip partner: the ids say who drew them
//           (tests/sweep/sweep_rig.hpp's SyntheticSource).
// lr and momentum on, different starts on every worker.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "algorithms/schedule.hpp"
#include "tests/sweep/sweep_run.hpp"

namespace gg::sweep {
namespace {

using nlohmann::json;

struct ShuffleCase {
  std::string route, topology, rotation;
  int p;
};

std::vector<ShuffleCase> shuffle_cases() {
  std::vector<ShuffleCase> out;
  for (const char* route : {"partner", "ring"})
    for (const char* rotation : {"shift", "permutation"})
      for (int p : {2, 3, 4, 5, 6, 7, 8, 12, 16}) {
        out.push_back({route, "dissemination", rotation, p});
        if (is_power_of_two(p)) out.push_back({route, "hypercube", rotation, p});
      }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<ShuffleCase>& info) {
  const ShuffleCase& c = info.param;
  return c.route + "_" + c.topology + "_" + c.rotation + "_p" + std::to_string(c.p);
}

class Shuffle : public ::testing::TestWithParam<ShuffleCase> {};

TEST_P(Shuffle, TrainsEachDrawOnceFromTheRightRank) {
  const ShuffleCase& c = GetParam();
  const json block{{"name", "gossipgrad"}, {"topology", c.topology}, {"rotation", c.rotation}, {"shuffle", c.route}};
  const RunSpec rs{.block = block, .p = c.p, .steps = 7, .perturb = true};
  const std::vector<RankLog> logs = run_algorithm(rs);
  const std::vector<const RankLog*> w = workers_of(logs);
  ASSERT_EQ(int(w.size()), c.p);
  const auto b = std::int64_t(rs.batch), W = std::int64_t(c.p);
  const ScheduleSpec schedule{topology_from(c.topology), rotation_from(c.rotation), kRunSeed};
  for (int t = 0; t < rs.steps; ++t) {
    std::vector<std::int64_t> trained;
    for (int r = 0; r < c.p; ++r) {
      const RankLog& l = *w[std::size_t(r)];
      ASSERT_EQ(l.trained_ids.size(), std::size_t(rs.steps) * std::size_t(b));
      ASSERT_EQ(l.sampled.size(), std::size_t(rs.steps) * std::size_t(b)) << "one draw per step";
      const int from = c.route == "ring" ? (r + 1) % c.p : partners_at(r, c.p, std::max(t - 1, 0), schedule).recv_from;
      for (std::int64_t j = 0; j < b; ++j) {
        ASSERT_EQ(l.sampled[std::size_t(t * b + j)], (t * W + r) * b + j) << "rank " << r << "'s draw " << t;
        const std::int64_t id = l.trained_ids[std::size_t(t * b + j)];
        trained.push_back(id);
        EXPECT_EQ((id / b) % W, from) << "rank " << r << " step " << t << ": sample " << id << " was drawn by rank "
                                      << (id / b) % W;
      }
    }
    // draw t of all W workers: ids t*W*b .. (t+1)*W*b - 1
    std::vector<std::int64_t> drawn(std::size_t(W * b));
    for (std::size_t i = 0; i < drawn.size(); ++i) drawn[i] = std::int64_t(t) * W * b + std::int64_t(i);
    std::sort(trained.begin(), trained.end());
    EXPECT_EQ(trained, drawn) << "step " << t << " must train exactly the samplers' draw " << t;
    if (::testing::Test::HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Routes, Shuffle, ::testing::ValuesIn(shuffle_cases()), case_name);

}  // namespace
}  // namespace gg::sweep
