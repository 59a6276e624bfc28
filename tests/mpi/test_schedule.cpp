// Pure tests of the partner schedules (no MPI): every rank's view is computed in one process.
#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <vector>

#include "algorithms/schedule.hpp"
#include "core/util/error.hpp"

namespace gg {
namespace {

const Topology kTopologies[] = {Topology::Hypercube, Topology::Dissemination};
const Rotation kRotations[] = {Rotation::None, Rotation::Shift, Rotation::Permutation};

TEST(Schedule, CycleLength) {
  EXPECT_EQ(cycle_length(1), 0);
  EXPECT_EQ(cycle_length(2), 1);
  EXPECT_EQ(cycle_length(3), 2);
  EXPECT_EQ(cycle_length(8), 3);
  EXPECT_EQ(cycle_length(9), 4);
  EXPECT_EQ(cycle_length(1024), 10);
}

TEST(Schedule, HypercubeDimensionsWithoutRotation) {
  // partner = rank XOR 2^(t mod L)
  for (int p : {2, 4, 8, 16})
    for (int t = 0; t < 20; ++t)
      for (int r = 0; r < p; ++r) {
        const Partners q = partners_at(r, p, t, {Topology::Hypercube, Rotation::None, 1});
        const int want = r ^ (1 << (t % cycle_length(p)));
        EXPECT_EQ(q.send_to, want);
        EXPECT_EQ(q.recv_from, want);
      }
}

TEST(Schedule, DisseminationOffsets) {
  for (int p : {2, 3, 5, 6, 8, 12})
    for (int t = 0; t < 12; ++t)
      for (int r = 0; r < p; ++r) {
        const int d = 1 << (t % cycle_length(p));
        const Partners q = partners_at(r, p, t, {Topology::Dissemination, Rotation::None, 1});
        EXPECT_EQ(q.send_to, (r + d) % p);
        EXPECT_EQ(q.recv_from, ((r - d) % p + p) % p);
      }
}

// In every step send_to is a permutation whose inverse is recv_from (so nothing is lost or doubled),
// hypercube pairs are symmetric, and nobody partners with itself.
TEST(Schedule, EveryStepIsAPermutationMatchingSendsAndReceives) {
  for (Topology top : kTopologies)
    for (Rotation rot : kRotations)
      for (int p : {2, 4, 8, 16, 3, 6, 7}) {
        if (top == Topology::Hypercube && !is_power_of_two(p)) continue;
        for (int t = 0; t < 40; ++t) {
          std::vector<Partners> q(static_cast<std::size_t>(p));
          for (int r = 0; r < p; ++r) q[std::size_t(r)] = partners_at(r, p, t, {top, rot, 42});
          std::set<int> targets;
          for (int r = 0; r < p; ++r) {
            const Partners& x = q[std::size_t(r)];
            ASSERT_GE(x.send_to, 0);
            ASSERT_LT(x.send_to, p);
            EXPECT_NE(x.send_to, r);
            EXPECT_EQ(q[std::size_t(x.send_to)].recv_from, r) << "p " << p << " t " << t;
            if (top == Topology::Hypercube) {
              EXPECT_EQ(x.send_to, x.recv_from);
            }
            targets.insert(x.send_to);
          }
          EXPECT_EQ(int(targets.size()), p);
        }
      }
}

// Local simulation of 0.5/0.5 averaging: after each full cycle every rank holds the exact mean of the
// cycle's starting values (p a power of two), and the sum is preserved at every step.
TEST(Schedule, MixingReachesTheMeanAfterOneCycle) {
  for (Topology top : kTopologies)
    for (Rotation rot : kRotations)
      for (int p : {2, 4, 8, 16, 32}) {
        const int L = cycle_length(p);
        std::vector<double> x(static_cast<std::size_t>(p)), next(static_cast<std::size_t>(p));
        for (int r = 0; r < p; ++r) x[std::size_t(r)] = double(r * r + 3);
        const double sum = std::accumulate(x.begin(), x.end(), 0.0), mean = sum / p;
        for (int t = 0; t < 3 * L; ++t) {
          for (int r = 0; r < p; ++r) {
            const Partners q = partners_at(r, p, t, {top, rot, 5});
            next[std::size_t(r)] = 0.5 * (x[std::size_t(r)] + x[std::size_t(q.recv_from)]);
          }
          x.swap(next);
          EXPECT_NEAR(std::accumulate(x.begin(), x.end(), 0.0), sum, 1e-9 * sum);
          if ((t + 1) % L == 0) {
            for (double v : x) EXPECT_NEAR(v, mean, 1e-12 * mean) << "p " << p << " step " << t;
          }
        }
      }
}

int distinct_partners(int r, int p, int cycles, ScheduleSpec spec) {
  std::set<int> seen;
  for (int t = 0; t < cycles * cycle_length(p); ++t) seen.insert(partners_at(r, p, t, spec).send_to);
  return int(seen.size());
}

TEST(Schedule, RotationMeetsMorePartners) {
  for (int p : {4, 8, 16})
    for (int r = 0; r < p; ++r) {
      const int L = cycle_length(p);
      EXPECT_EQ(distinct_partners(r, p, 10, {Topology::Hypercube, Rotation::None, 3}), L);
      EXPECT_GT(distinct_partners(r, p, 10, {Topology::Hypercube, Rotation::Shift, 3}), L);
      EXPECT_GT(distinct_partners(r, p, 10, {Topology::Hypercube, Rotation::Permutation, 3}), L);
      EXPECT_GT(distinct_partners(r, p, 10, {Topology::Dissemination, Rotation::Permutation, 3}), L);
    }
}

TEST(Schedule, ShiftChangesNothingForDissemination) {
  for (int p : {3, 4, 6, 8})
    for (int t = 0; t < 30; ++t)
      for (int r = 0; r < p; ++r)
        EXPECT_EQ(partners_at(r, p, t, {Topology::Dissemination, Rotation::Shift, 1}),
                  partners_at(r, p, t, {Topology::Dissemination, Rotation::None, 1}));
}

TEST(Schedule, PermutationDependsOnSeedAndCycleOnly) {
  const int p = 16, L = 4;
  int differs = 0;
  for (int t = 0; t < 8 * L; ++t)
    for (int r = 0; r < p; ++r) {
      // A Schedule object walking the steps agrees with fresh evaluations (the cache is invisible).
      EXPECT_EQ(partners_at(r, p, t, {Topology::Hypercube, Rotation::Permutation, 9}),
                partners_at(r, p, t, {Topology::Hypercube, Rotation::Permutation, 9}));
      differs += partners_at(r, p, t, {Topology::Hypercube, Rotation::Permutation, 9}) !=
                 partners_at(r, p, t, {Topology::Hypercube, Rotation::Permutation, 10});
    }
  EXPECT_GT(differs, 0);
  Schedule walk({Topology::Hypercube, Rotation::Permutation, 9}, 5, p);
  for (int t : {0, 3, 4, 17, 2, 31, 31, 0})
    EXPECT_EQ(walk.at(t), partners_at(5, p, t, {Topology::Hypercube, Rotation::Permutation, 9}));
}

TEST(Schedule, SingleRankHasNoPartner) {
  EXPECT_EQ(partners_at(0, 1, 5, {Topology::Hypercube, Rotation::Permutation, 1}), Partners{});
}

TEST(Schedule, HypercubeRejectsNonPowerOfTwo) {
  try {
    check_schedule({Topology::Hypercube, Rotation::None, 0}, 6, "algorithm.topology");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "algorithm.topology: hypercube needs a power-of-two number of workers, got 6 (set "
                 "algorithm.topology to dissemination)");
  }
  EXPECT_NO_THROW(check_schedule({Topology::Dissemination, Rotation::None, 0}, 6, "algorithm.topology"));
  EXPECT_NO_THROW(check_schedule({Topology::Hypercube, Rotation::None, 0}, 8, "algorithm.topology"));
}

}  // namespace
}  // namespace gg
