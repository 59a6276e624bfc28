// The in-process communicator (ranks as threads): MPI's matching rules for point to point, collectives
// at several p, split, tag blocks, the engine's ring / halving-doubling allreduce over it, and failure
// handling (a throwing rank, abort, deadlock, timeout) that never leaves a thread hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "algorithms/iallreduce.hpp"
#include "core/comm/inproc_communicator.hpp"
#include "tests/common/comm_checks.hpp"

namespace gg {
namespace {

// Runs fn on a fresh world and returns the error message run() rethrew ("" if none).
std::string run_error(InProcessWorld& world, const std::function<void(Communicator&)>& fn) {
  try {
    world.run(fn);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(InprocComm, MessagesOnOneTagArriveInOrderAndTagsAreSeparate) {
  run_ranks(3, [](Communicator& c) {
    const int r = c.rank(), p = c.size(), right = (r + 1) % p, left = (r + p - 1) % p;
    // 20 messages of growing size on tag 3 and 20 on tag 4, all sent before any receive is posted
    // (an isend returns at once and stays pending until a receive takes it).
    std::vector<std::vector<int>> out(20);
    std::vector<int> other(20);
    std::vector<Request> sends;
    for (int k = 0; k < 20; ++k) {
      out[std::size_t(k)].assign(std::size_t(k + 1), r * 100 + k);
      sends.push_back(c.isend(out[std::size_t(k)].data(), std::size_t(k + 1) * sizeof(int), right, 3));
      other[std::size_t(k)] = 77 + r + k;
      sends.push_back(c.isend(&other[std::size_t(k)], sizeof(int), right, 4));
    }
    EXPECT_FALSE(sends[0].test()) << "an isend completes when a receive takes it";
    c.barrier();  // every send is out before any is received
    for (int k = 0; k < 20; ++k) {  // the later tag first: tags are separate channels
      int got4 = 0;
      c.recv(&got4, sizeof got4, left, 4);
      EXPECT_EQ(got4, 77 + left + k);
    }
    for (int k = 0; k < 20; ++k) {
      std::vector<int> in(std::size_t(k + 1), -1);
      c.recv(in.data(), in.size() * sizeof(int), left, 3);
      EXPECT_EQ(in, std::vector<int>(std::size_t(k + 1), left * 100 + k));
    }
    for (Request& s : sends) s.wait();
  });
}

TEST(InprocComm, ReceivePostedBeforeTheSendMatchesInPostOrder) {
  run_ranks(2, [](Communicator& c) {
    const int peer = 1 - c.rank();
    std::vector<double> in(5, -1.0);
    std::vector<Request> rx;
    for (int k = 0; k < 5; ++k) rx.push_back(c.irecv(&in[std::size_t(k)], sizeof(double), peer, 9));
    EXPECT_FALSE(rx[0].test()) << "nothing sent yet";
    c.barrier();  // both have posted (and tested) before anything is sent
    for (int k = 0; k < 5; ++k) {
      const double v = c.rank() * 10 + k;
      c.send(&v, sizeof v, peer, 9);
    }
    for (int k = 4; k >= 0; --k) rx[std::size_t(k)].wait();  // waited in any order
    for (int k = 0; k < 5; ++k) EXPECT_EQ(in[std::size_t(k)], peer * 10 + k);
  });
}

TEST(InprocComm, RecvAnyTakesTheEarliestMessageAndReportsItsSize) {
  run_ranks(4, [](Communicator& c) {
    const int r = c.rank(), p = c.size();
    const std::int64_t v[2] = {r, 1000 + r};
    Request sent;
    for (int s = 1; s < p; ++s) {  // rank s sends in turn, so the send order is known
      if (r == s) sent = c.isend(v, std::size_t(s % 2 + 1) * sizeof(std::int64_t), 0, 2);
      c.barrier();
    }
    if (r == 0) {
      for (int s = 1; s < p; ++s) {
        std::int64_t v[4] = {-1, -1, -1, -1};
        std::size_t got = 0;
        EXPECT_EQ(c.recv_any(v, sizeof v, 2, &got), s);
        EXPECT_EQ(got, std::size_t(s % 2 + 1) * sizeof(std::int64_t));
        EXPECT_EQ(v[0], s);
      }
      std::int64_t late = 0;  // posted before its send
      EXPECT_EQ(c.recv_any(&late, sizeof late, 5, nullptr), p - 1);
      EXPECT_EQ(late, 42);
    } else if (r == p - 1) {
      const std::int64_t late = 42;
      c.send(&late, sizeof late, 0, 5);
    }
    sent.wait();
  });
}

TEST(InprocComm, CollectivesAtSeveralSizes) {
  for (int p : {1, 2, 3, 5, 8}) {
    std::atomic<int> before_barrier{0};
    std::vector<std::vector<float>> inputs(std::size_t(p), std::vector<float>(33));
    for (int q = 0; q < p; ++q)
      for (std::size_t i = 0; i < 33; ++i) inputs[std::size_t(q)][i] = 0.1f * float(q + 1) + float(i) / 7.0f;
    std::vector<float> want = inputs[0];  // rank-order float sum
    for (int q = 1; q < p; ++q)
      for (std::size_t i = 0; i < 33; ++i) want[i] += inputs[std::size_t(q)][i];
    run_ranks(p, [&](Communicator& c) {
      const int r = c.rank();
      EXPECT_EQ(c.size(), p);
      // allreduce: the rank-order float sum, bitwise.
      std::vector<float> f = inputs[std::size_t(r)];
      c.allreduce_sum(f);
      EXPECT_EQ(f, want) << "p=" << p;
      std::vector<double> d{double(r), 1.0};
      c.allreduce_sum(d);
      EXPECT_EQ(d[0], p * (p - 1) / 2.0);
      EXPECT_EQ(d[1], double(p));
      // iallreduce: three in flight, completed in reverse order.
      std::vector<std::vector<float>> x(3);
      std::vector<Request> req;
      for (int k = 0; k < 3; ++k) {
        x[std::size_t(k)].assign(std::size_t(10 * k + 1), float(r + k));
        req.push_back(c.iallreduce_sum(x[std::size_t(k)]));
      }
      for (int k = 2; k >= 0; --k) req[std::size_t(k)].wait();
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(x[std::size_t(k)], std::vector<float>(std::size_t(10 * k + 1), float(p * (p - 1) / 2 + p * k)));
      // broadcast from the last rank, gather to 0 and to the middle rank.
      long long b = r == p - 1 ? 123456789012LL : 0;
      c.broadcast(&b, sizeof b, p - 1);
      EXPECT_EQ(b, 123456789012LL);
      for (int root : {0, p / 2}) {
        const int mine[2] = {r, -r};
        std::vector<int> all(std::size_t(2 * p), 99);
        c.gather(mine, sizeof mine, all.data(), root);
        if (r == root)
          for (int q = 0; q < p; ++q) {
            EXPECT_EQ(all[std::size_t(2 * q)], q);
            EXPECT_EQ(all[std::size_t(2 * q + 1)], -q);
          }
      }
      // barrier: nobody leaves before everyone arrived.
      before_barrier.fetch_add(1);
      c.barrier();
      EXPECT_EQ(before_barrier.load(), p);
      // split: by parity, then the odd-or-even half split again; collectives on each.
      auto half = c.split(r % 2);
      EXPECT_EQ(half->size(), (p + 1 - r % 2) / 2);
      EXPECT_EQ(half->rank(), r / 2);
      std::vector<double> one{1.0, double(r)};
      half->allreduce_sum(one);
      EXPECT_EQ(one[0], double(half->size()));
      auto quarter = half->split(half->rank() % 2);
      std::vector<double> members{1.0};
      quarter->allreduce_sum(members);
      EXPECT_EQ(members[0], double(quarter->size()));
      EXPECT_EQ(quarter->rank(), half->rank() / 2);
      c.barrier();  // the parent still works after splits
    });
  }
}

TEST(InprocComm, ReserveTagsAgreesAcrossRanksAndSplits) {
  run_ranks(3, [](Communicator& c) {
    const int a = c.reserve_tags(3), b = c.reserve_tags(1), z = c.reserve_tags(0), d = c.reserve_tags(5);
    EXPECT_EQ(a, Communicator::kFirstReservedTag);
    EXPECT_EQ(b, a + 3);
    EXPECT_EQ(z, b + 1);
    EXPECT_EQ(d, b + 1);
    std::vector<double> all{double(a), double(b), double(d)};
    c.allreduce_sum(all);  // equal on every rank iff sum = p * mine
    EXPECT_EQ(all, (std::vector<double>{3.0 * a, 3.0 * b, 3.0 * d}));
    auto sub = c.split(0);
    EXPECT_EQ(sub->reserve_tags(2), Communicator::kFirstReservedTag);  // its own counter
    EXPECT_THROW(c.reserve_tags(-1), std::invalid_argument);
    EXPECT_THROW(c.reserve_tags(c.max_tag()), std::runtime_error);
  });
}

// The engine's nonblocking allreduce over the in-process communicator: halving-doubling (p a power of
// two and n >= p) or ring, several operations in flight, integer-valued floats (exact sums).
TEST(InprocComm, RingAllreduceMatchesTheReferenceSum) {
  for (int p : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16}) {
    const std::vector<std::size_t> counts{1, std::size_t(p - 1), std::size_t(p), 1001};
    auto value = [](int rank, std::size_t i) { return float(int((std::size_t(rank + 1) * 31 + i * 7) % 97) - 40); };
    run_ranks(p, [&](Communicator& c) {
      Iallreduce ring(c, true);
      ring.plan(counts);
      for (int rep = 0; rep < 2; ++rep) {
        std::vector<std::vector<float>> x(counts.size());
        std::vector<Request> req;
        for (std::size_t k = 0; k < counts.size(); ++k) {
          x[k].resize(counts[k]);
          for (std::size_t i = 0; i < counts[k]; ++i) x[k][i] = value(c.rank(), i) * float(rep + 1);
          req.push_back(ring.start(k, x[k]));
        }
        for (std::size_t k = counts.size(); k-- > 0;)
          while (!req[k].test()) {
          }
        for (std::size_t k = 0; k < counts.size(); ++k)
          for (std::size_t i = 0; i < counts[k]; ++i) {
            double want = 0;
            for (int q = 0; q < p; ++q) want += double(value(q, i)) * (rep + 1);
            ASSERT_EQ(double(x[k][i]), want) << "p=" << p << " n=" << counts[k] << " i=" << i;
          }
      }
    });
  }
}

// With arbitrary floats every rank still ends with the same bits (each chunk is summed by one rank).
TEST(InprocComm, RingAllreduceGivesEveryRankTheSameBits) {
  for (int p : {3, 4, 6}) {
    std::vector<std::vector<float>> result(static_cast<std::size_t>(p));
    run_ranks(p, [&](Communicator& c) {
      Iallreduce ring(c, true);
      std::vector<float> x(257);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0f / float(c.rank() + 3) + float(i) * 1e-3f;
      ring.plan(std::vector<std::size_t>{x.size()});
      ring.start(0, x).wait();
      result[std::size_t(c.rank())] = x;
    });
    for (int r = 1; r < p; ++r)
      EXPECT_EQ(std::memcmp(result[0].data(), result[std::size_t(r)].data(), 257 * sizeof(float)), 0) << "p=" << p;
  }
}

TEST(InprocComm, AThrowingRankFailsTheWorldWithoutHangs) {
  const auto t0 = std::chrono::steady_clock::now();
  InProcessWorld world(4);
  const std::string err = run_error(world, [](Communicator& c) {
    if (c.rank() == 2) throw std::runtime_error("rank two broke");
    if (c.rank() == 0) {
      int x = 0;
      c.recv(&x, sizeof x, 2, 1);  // never sent
    } else if (c.rank() == 1) {
      std::vector<float> f(4);
      Request r = c.iallreduce_sum(f);
      while (!r.test()) {  // a spin loop ends too
      }
    } else {
      std::vector<float> f(4);
      c.iallreduce_sum(f).wait();
    }
  });
  EXPECT_EQ(err, "rank two broke");
  EXPECT_TRUE(world.failed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_THROW(world.comm(0).barrier(), std::runtime_error);  // stays failed
  EXPECT_THROW(run_ranks(2, [](Communicator& c) { throw std::logic_error("bad " + std::to_string(c.rank())); }),
               std::logic_error);
}

TEST(InprocComm, AbortThrowsAndFailsTheOtherRanks) {
  InProcessWorld world(3);
  const std::string err = run_error(world, [](Communicator& c) {
    if (c.rank() == 1) c.abort(3);
    c.barrier();
  });
  EXPECT_TRUE(contains(err, "abort(3)")) << err;
}

TEST(InprocComm, DeadlocksAreReportedAtOnce) {
  InProcessWorld both_receive(2);
  std::string err = run_error(both_receive, [](Communicator& c) {
    int x = 0;
    c.recv(&x, sizeof x, 1 - c.rank(), 8);
  });
  EXPECT_TRUE(contains(err, "deadlock")) << err;
  EXPECT_TRUE(contains(err, "recv from rank")) << err;
  InProcessWorld both_send(2);  // blocking sends are synchronous: unsafe MPI code is caught
  err = run_error(both_send, [](Communicator& c) {
    int x = c.rank();
    c.send(&x, sizeof x, 1 - c.rank(), 8);
    c.recv(&x, sizeof x, 1 - c.rank(), 8);
  });
  EXPECT_TRUE(contains(err, "deadlock")) << err;
  EXPECT_TRUE(contains(err, "send to rank")) << err;
  InProcessWorld one_left(3);
  err = run_error(one_left, [](Communicator& c) {
    if (c.rank() != 2) c.barrier();  // rank 2 returns without joining
  });
  EXPECT_TRUE(contains(err, "deadlock")) << err;
  EXPECT_TRUE(contains(err, "rank 2 finished")) << err;
}

TEST(InprocComm, ASpinningTestTimesOut) {
  InProcessWorld world(2, 0.3);
  const std::string err = run_error(world, [](Communicator& c) {
    int x = 0;
    if (c.rank() == 0) {
      Request r = c.irecv(&x, sizeof x, 1, 6);
      while (!r.test()) {
      }
    }
  });
  EXPECT_TRUE(contains(err, "still incomplete after")) << err;
}

TEST(InprocComm, MismatchesAndBadArgumentsAreErrors) {
  InProcessWorld mismatch(2);
  std::string err = run_error(mismatch, [](Communicator& c) {
    if (c.rank() == 0) c.barrier();
    else {
      std::vector<double> d(3);
      c.allreduce_sum(d);
    }
  });
  EXPECT_TRUE(contains(err, "collective mismatch")) << err;
  InProcessWorld too_long(2);
  err = run_error(too_long, [](Communicator& c) {
    std::int64_t v[2] = {1, 2};
    if (c.rank() == 0) c.send(v, sizeof v, 1, 1);
    else c.recv(v, sizeof(std::int64_t), 0, 1);
  });
  EXPECT_TRUE(contains(err, "does not fit the receive buffer of 8 bytes")) << err;
  run_ranks(2, [](Communicator& c) {
    int x = 0;
    EXPECT_THROW(c.send(&x, sizeof x, 2, 0), std::invalid_argument);
    EXPECT_THROW(c.irecv(&x, sizeof x, -1, 0), std::invalid_argument);
    EXPECT_THROW(c.send(&x, sizeof x, 0, -3), std::invalid_argument);
    EXPECT_THROW(c.split(-1), std::invalid_argument);
    EXPECT_FALSE(c.library_version().empty());
    const double t0 = c.wtime();
    EXPECT_GE(c.wtime(), t0);
  });
  EXPECT_THROW(InProcessWorld(0), std::invalid_argument);
}

TEST(InprocComm, ManyRequestsReuseThePool) {
  run_ranks(3, [](Communicator& c) { test::check_many_requests_round_the_ring(c, 100); });
}

}  // namespace
}  // namespace gg
