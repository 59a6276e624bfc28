// MpiCommunicator under mpiexec: point to point, collectives, split, request pooling, errors.
#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

#include "algorithms/iallreduce.hpp"
#include "tests/common/comm_checks.hpp"
#include "tests/mpi/test_util.hpp"

namespace gg {
namespace {

TEST(MpiComm, RingExchangeNonblocking) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank(), n = 10000;
  std::vector<float> out(n), in(n, -1.0f);
  for (int i = 0; i < n; ++i) out[std::size_t(i)] = float(r * n + i);  // every element distinct
  Request rr = c.irecv(in.data(), n * sizeof(float), (r + p - 1) % p, 5);
  Request sr = c.isend(out.data(), n * sizeof(float), (r + 1) % p, 5);
  while (!rr.test()) {
  }
  sr.wait();
  EXPECT_FALSE(rr.active());
  const int from = (r + p - 1) % p;
  for (int i = 0; i < n; ++i) ASSERT_EQ(in[std::size_t(i)], float(from * n + i));
}

TEST(MpiComm, BlockingSendRecvAndRecvAny) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank();
  if (r != 0) {
    const int v = 100 + r;
    c.send(&v, sizeof v, 0, 7);
  } else {
    std::vector<int> seen;
    for (int i = 1; i < p; ++i) {
      int v = 0;
      std::size_t got = 0;
      const int src = c.recv_any(&v, sizeof v, 7, &got);
      EXPECT_EQ(got, sizeof v);
      EXPECT_EQ(v, 100 + src);
      seen.push_back(src);
    }
    std::sort(seen.begin(), seen.end());
    for (int i = 1; i < p; ++i) EXPECT_EQ(seen[std::size_t(i - 1)], i);
  }
  c.barrier();
}

TEST(MpiComm, Collectives) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank();
  std::vector<float> f(1000);
  std::iota(f.begin(), f.end(), float(r));
  Request req = c.iallreduce_sum(f);
  req.wait();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(f[std::size_t(i)], float(p * i + p * (p - 1) / 2));
  std::vector<double> d{double(r), 1.0};
  c.allreduce_sum(d);
  EXPECT_EQ(d[0], p * (p - 1) / 2.0);
  EXPECT_EQ(d[1], double(p));
  long long b = r == p - 1 ? 123456789012LL : 0;
  c.broadcast(&b, sizeof b, p - 1);
  EXPECT_EQ(b, 123456789012LL);
  const std::vector<int> all = test::allgather(c, std::vector<int>{r, -r});
  for (int i = 0; i < p; ++i) {
    EXPECT_EQ(all[std::size_t(2 * i)], i);
    EXPECT_EQ(all[std::size_t(2 * i + 1)], -i);
  }
}

// The engine's own nonblocking allreduce (recursive halving/doubling for power-of-two p, a ring
// otherwise, and a ring whenever there are fewer floats than ranks) sums exactly what MPI does, on the
// world and on a split communicator, with several operations in flight at once (Iallreduce slots, each
// on its own reserved tag); the default mode is MPI_Iallreduce itself.
TEST(MpiComm, RingIallreduceSumsLikeMpi) {
  MpiCommunicator c;
  auto sub = c.split(c.rank() % 2);
  for (bool ring : {true, false})
    for (Communicator* comm : {static_cast<Communicator*>(&c), sub.get()}) {
      const int q = comm->size(), me = comm->rank();
      Iallreduce iallreduce(*comm, ring);
      for (std::size_t n : {std::size_t(1), std::size_t(q > 1 ? q - 1 : 1), std::size_t(q), std::size_t(1001)}) {
        std::vector<float> a(n), b(2 * n + 3), want_a(n), want_b(2 * n + 3);
        for (std::size_t i = 0; i < n; ++i) a[i] = float(me * 7 + int(i % 13));
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(me) - float(i % 5);
        for (std::size_t i = 0; i < n; ++i) want_a[i] = float(7 * q * (q - 1) / 2 + q * int(i % 13));
        for (std::size_t i = 0; i < b.size(); ++i) want_b[i] = float(q * (q - 1) / 2) - float(q * int(i % 5));
        const std::vector<std::size_t> counts{a.size(), b.size()};
        iallreduce.plan(counts);
        for (int rep = 0; rep < 2; ++rep) {  // slots are reused, on the same tags
          std::vector<float> x = a, y = b;
          Request ra = iallreduce.start(0, x), rb = iallreduce.start(1, y);
          while (!rb.test()) {  // the later one first: operations must not depend on completion order
          }
          ra.wait();
          EXPECT_EQ(x, want_a) << "n=" << n << " size=" << q << " ring=" << ring;
          EXPECT_EQ(y, want_b) << "n=" << n << " size=" << q << " ring=" << ring;
        }
      }
    }
}

// Tag blocks follow one another, agree across ranks, and stop at MPI_TAG_UB with a clear error.
TEST(MpiComm, ReserveTagsAgreesAndStopsAtTheUpperBound) {
  MpiCommunicator c;
  EXPECT_GE(c.max_tag(), 32767);
  const int a = c.reserve_tags(3), b = c.reserve_tags(2);
  EXPECT_EQ(a, Communicator::kFirstReservedTag);
  EXPECT_EQ(b, a + 3);
  const std::vector<int> all = test::allgather(c, std::vector<int>{a, b});
  for (int i = 0; i < c.size(); ++i) EXPECT_EQ(all[std::size_t(2 * i + 1)], b);
  try {
    c.reserve_tags(c.max_tag());
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("largest tag"), std::string::npos) << e.what();
  }
  const int rest = c.max_tag() - (b + 2) + 1;  // exactly up to MPI_TAG_UB
  EXPECT_EQ(c.reserve_tags(rest), b + 2);
  EXPECT_THROW(c.reserve_tags(1), std::runtime_error);
  EXPECT_NO_THROW(c.reserve_tags(0));
  // The highest reserved tag works.
  const int p = c.size(), r = c.rank();
  int out = r, in = -1;
  Request rx = c.irecv(&in, sizeof in, (r + p - 1) % p, c.max_tag());
  c.send(&out, sizeof out, (r + 1) % p, c.max_tag());
  rx.wait();
  EXPECT_EQ(in, (r + p - 1) % p);
}

TEST(MpiComm, SplitSeparatesColors) {
  MpiCommunicator c;
  const int color = c.rank() % 2;
  auto sub = c.split(color);
  const int expect_size = (c.size() + 1 - color) / 2;
  EXPECT_EQ(sub->size(), expect_size);
  EXPECT_EQ(sub->rank(), c.rank() / 2);
  std::vector<double> one{1.0};
  sub->allreduce_sum(one);
  EXPECT_EQ(one[0], double(expect_size));
}

TEST(MpiComm, ManyRequestsReuseThePool) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank();
  test::check_many_requests_round_the_ring(c, 200);
  std::vector<int> in(1), out(1, r);
  // Moving requests around keeps them valid.
  Request a = c.irecv(in.data(), sizeof(int), (r + p - 1) % p, 3);
  Request b = c.isend(out.data(), sizeof(int), (r + 1) % p, 3);
  Request moved = std::move(a);
  EXPECT_FALSE(a.active());
  moved.wait();
  b.wait();
}

TEST(MpiComm, ErrorsBecomeExceptionsWithContext) {
  MpiCommunicator c;
  int x = 0;
  try {
    c.send(&x, sizeof x, c.size() + 5, 1);  // no such rank
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("MPI_Send"), std::string::npos) << e.what();
  }
}

TEST(MpiComm, LibraryVersionAndClock) {
  MpiCommunicator c;
  EXPECT_FALSE(c.library_version().empty());
  const double t0 = c.wtime();
  EXPECT_GE(c.wtime(), t0);
}

}  // namespace
}  // namespace gg
