// Charged operations (core/comm/charged_ops.hpp): each computes its expression exactly and charges the
// bytes it reads and writes; and no algorithm charges memory work by hand (every pass goes through them).
#include <gtest/gtest.h>

#include <dirent.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/comm/charged_ops.hpp"
#include "core/comm/inproc_communicator.hpp"
#include "core/comm/metered_communicator.hpp"

namespace gg {
namespace {

constexpr std::size_t kN = 37;

std::vector<float> values(float base) {
  std::vector<float> v(kN);
  for (std::size_t i = 0; i < kN; ++i) v[i] = base + 0.37f * float(i) - float(i % 5) * 1.3f;
  return v;
}

// Runs op on a metered communicator; returns the bytes it charged.
template <class Op>
std::uint64_t charged(Op op) {
  std::uint64_t bytes = 0;
  run_ranks(1, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    c.meter().begin_step();
    op(c);
    bytes = c.meter().end_step().mem_bytes;
  });
  return bytes;
}

TEST(ChargedOps, EachComputesItsExpressionAndChargesItsReadsAndWrites) {
  const std::vector<float> a = values(1.5f), b = values(-2.25f), c = values(0.125f);
  const std::uint64_t f = sizeof(float) * kN;
  {
    std::vector<float> dst(kN);
    EXPECT_EQ(charged([&](Communicator& m) { ops::copy(m, a, dst); }), 2 * f);
    EXPECT_EQ(dst, a);
  }
  {
    std::vector<float> x = a;
    EXPECT_EQ(charged([&](Communicator& m) { ops::scale(m, x, 0.3f); }), 2 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(x[i], a[i] * 0.3f);
  }
  {
    std::vector<float> dst(kN);
    EXPECT_EQ(charged([&](Communicator& m) { ops::scaled_copy(m, a, -3.0f, dst); }), 2 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(dst[i], -3.0f * a[i]);
    EXPECT_EQ(charged([&](Communicator& m) { ops::divided_copy(m, a, 7.0f, dst); }), 2 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(dst[i], a[i] / 7.0f);
  }
  {
    std::vector<float> x = a;
    EXPECT_EQ(charged([&](Communicator& m) { ops::add(m, x, b); }), 3 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(x[i], a[i] + b[i]);
  }
  {
    std::vector<float> x = a;  // in place, as the gossip average runs
    EXPECT_EQ(charged([&](Communicator& m) { ops::average(m, x, b, x); }), 3 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(x[i], 0.5f * (a[i] + b[i]));
  }
  {
    std::vector<float> x = a;
    EXPECT_EQ(charged([&](Communicator& m) { ops::correct(m, x, b, c, 0.5f); }), 4 * f);
    for (std::size_t i = 0; i < kN; ++i) EXPECT_FLOAT_EQ(x[i], a[i] + 0.5f * (b[i] - c[i]));
    std::vector<float> y = a;  // weight 1 is the plain correction x + (recv - sent), bitwise
    charged([&](Communicator& m) { ops::correct(m, y, b, c, 1.0f); });
    for (std::size_t i = 0; i < kN; ++i) EXPECT_EQ(y[i], a[i] + (b[i] - c[i]));
  }
  {
    char dst[24] = {}, src[24];
    for (int i = 0; i < 24; ++i) src[i] = char(i * 7);
    EXPECT_EQ(charged([&](Communicator& m) { ops::copy_bytes(m, dst, src, sizeof src); }), 2 * sizeof src);
    EXPECT_EQ(std::memcmp(dst, src, sizeof src), 0);
  }
  EXPECT_EQ(charged([&](Communicator& m) { ops::memory_hook(m)(1234); }), 1234u);
  std::vector<float> small(3);
  EXPECT_THROW(charged([&](Communicator& m) { ops::add(m, small, a); }), std::logic_error);
}

// Every algorithm's memory-bound passes go through the charged operations: no algorithm source calls
// account_memory itself (the one place that may is core/comm/charged_ops.cpp).
TEST(ChargedOps, NoAlgorithmChargesMemoryByHand) {
  const std::string dir = std::string(GG_SOURCE_DIR) + "/algorithms";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() < 4 || (name.substr(name.size() - 4) != ".cpp" && name.substr(name.size() - 4) != ".hpp"))
      continue;
    std::ifstream in(dir + "/" + name);
    std::stringstream text;
    text << in.rdbuf();
    ++files;
    EXPECT_EQ(text.str().find("account_memory("), std::string::npos)
        << "algorithms/" << name << " charges memory by hand: use core/comm/charged_ops.hpp";
  }
  closedir(d);
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace gg
