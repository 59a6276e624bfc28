// D-PSGD's mixing matrix (algorithms/dpsgd.cpp), in process: with lr = 0 every step is x <- W x exactly, so
// each worker's params must equal the average over its closed neighbourhood computed here from the spec's
// words (ring: i - 1, i, i + 1; torus: the r x c grid with wrap-around, r the largest divisor <= sqrt p;
// complete: everyone). The generic sweep checks the sums and contraction, which any symmetric W keeps;
// this checks the weights themselves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tests/sweep/sweep_run.hpp"

namespace gg::sweep {
namespace {

std::set<int> closed_neighbourhood(const std::string& topology, int i, int p) {
  if (topology == "ring") return {(i + p - 1) % p, i, (i + 1) % p};
  if (topology == "complete") {
    std::set<int> all;
    for (int j = 0; j < p; ++j) all.insert(j);
    return all;
  }
  int r = 1;
  for (int d = 2; d * d <= p; ++d)
    if (p % d == 0) r = d;
  const int c = p / r, row = i / c, col = i % c;
  return {i, ((row + 1) % r) * c + col, ((row + r - 1) % r) * c + col, row * c + (col + 1) % c,
          row * c + (col + c - 1) % c};
}

TEST(Dpsgd, MixesWithTheDeclaredWeights) {
  const std::pair<const char*, std::vector<int>> cases[] = {
      {"ring", {2, 3, 4, 5, 8}}, {"torus", {4, 6, 8, 9, 12}}, {"complete", {2, 5}}};
  for (const auto& [topology, ps] : cases)
    for (int p : ps) {
      RunSpec rs;
      rs.block = {{"name", "dpsgd"}, {"topology", topology}};
      rs.p = p;
      rs.steps = 3;
      rs.lr = 0.0;
      rs.perturb = true;
      const auto logs = run_algorithm(rs);
      for (std::size_t t = 0; t + 1 < logs[0].x.size(); ++t)
        for (int i = 0; i < p; ++i) {
          const std::set<int> nb = closed_neighbourhood(topology, i, p);
          const std::vector<float>& got = logs[std::size_t(i)].x[t + 1];
          for (std::size_t k = 0; k < got.size(); ++k) {
            double want = 0;
            for (int j : nb) want += logs[std::size_t(j)].x[t][k];
            want /= double(nb.size());
            ASSERT_NEAR(got[k], want, 1e-5 * (1 + std::abs(want)))
                << topology << " p " << p << ": worker " << i << " param " << k << " after step " << t;
          }
        }
    }
}

}  // namespace
}  // namespace gg::sweep
