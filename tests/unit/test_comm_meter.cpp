// The metering communicator (core/comm/metered_communicator.hpp) over the in-process transport: bytes,
// messages and the counting rules for collectives; in-flight (total) vs blocked (exposed) time across
// step boundaries; memory-bound work and progress calls priced by HostCosts.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "core/comm/inproc_communicator.hpp"
#include "algorithms/iallreduce.hpp"
#include "core/comm/metered_communicator.hpp"

namespace gg {
namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(CommMeter, PointToPointBytesMessagesAndExposedWait) {
  std::vector<CommStepTotals> got(2);
  run_ranks(2, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    std::vector<char> buf(1000, 'x');
    c.meter().begin_step();
    if (c.rank() == 0) {
      sleep_ms(30);  // rank 1 is blocked meanwhile
      Request r = c.isend(buf.data(), buf.size(), 1, 7);
      r.wait();
    } else {
      Request r = c.irecv(buf.data(), buf.size(), 0, 7);
      r.wait();
    }
    got[std::size_t(c.rank())] = c.meter().end_step();
  });
  EXPECT_EQ(got[0].bytes_sent, 1000u);
  EXPECT_EQ(got[0].msgs_sent, 1u);
  EXPECT_EQ(got[0].bytes_recv, 0u);
  EXPECT_EQ(got[1].bytes_recv, 1000u);
  EXPECT_EQ(got[1].bytes_sent, 0u);
  EXPECT_GE(got[1].exposed_s, 0.020);  // waited for the late sender
  EXPECT_GE(got[1].total_s, got[1].exposed_s);
  EXPECT_LE(got[0].exposed_s, got[0].total_s);
}

TEST(CommMeter, HiddenExchangeCountsInTotalNotExposed) {
  std::vector<CommStepTotals> got(2);
  run_ranks(2, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    float out = 1, in = 0;
    c.meter().begin_step();
    Request s = c.isend(&out, sizeof out, 1 - c.rank(), 3);
    Request r = c.irecv(&in, sizeof in, 1 - c.rank(), 3);
    sleep_ms(40);  // "compute" while the exchange is in flight: done long before we look
    while (!r.test() || !s.test()) {
    }
    got[std::size_t(c.rank())] = c.meter().end_step();
  });
  for (const auto& t : got) {
    EXPECT_GE(t.total_s, 0.035);  // in flight from post to the completion seen after the compute
    EXPECT_EQ(t.exposed_s, 0.0);  // never blocked
    EXPECT_GE(t.progress_calls, 2u);
  }
}

TEST(CommMeter, CollectivesCountWhatABandwidthOptimalAlgorithmMoves) {
  for (int p : {2, 3, 4, 7}) {
    std::vector<CommStepTotals> got(static_cast<std::size_t>(p));
    run_ranks(p, [&](Communicator& raw) {
      MeteredCommunicator c(raw, HostCosts{});
      std::vector<float> v(1000, 1.0f);
      c.meter().begin_step();
      c.allreduce_sum(v);
      Request r = c.iallreduce_sum(v);
      r.wait();
      got[std::size_t(c.rank())] = c.meter().end_step();
      EXPECT_FLOAT_EQ(v[0], float(p * p));
    });
    const std::uint64_t each = 2 * std::uint64_t(p - 1) * 4000 / std::uint64_t(p);
    for (const auto& t : got) {
      EXPECT_EQ(t.bytes_sent, 2 * each) << "p " << p;
      EXPECT_EQ(t.bytes_recv, 2 * each) << "p " << p;
      EXPECT_EQ(t.msgs_sent, 4 * std::uint64_t(p - 1)) << "p " << p;
    }
  }
}

// GPU staging: a point-to-point message is staged per message (device->host when posted, host->device
// when received); the engine's ring allreduce is host-staged, so its buffer is copied once each way
// whatever p, while its rounds still count every byte they move.
TEST(CommMeter, PointToPointStagesPerMessageTheRingAllreduceOncePerOperation) {
  HostCosts costs;
  costs.staging_Bps = 1e15;  // charged (and counted), but too fast to take measurable time
  for (int p : {2, 3, 4, 6, 8}) {
    std::vector<CommStepTotals> ring(static_cast<std::size_t>(p)), pair(static_cast<std::size_t>(p));
    run_ranks(p, [&](Communicator& raw) {
      MeteredCommunicator c(raw, costs);
      std::vector<float> v(1000, 1.0f);
      Iallreduce op(c, true);
      op.plan(std::vector<std::size_t>{v.size()});
      c.meter().begin_step();
      op.start(0, v).wait();
      ring[std::size_t(c.rank())] = c.meter().end_step();
      EXPECT_FLOAT_EQ(v[0], float(p));

      c.meter().begin_step();
      const int right = (c.rank() + 1) % p, left = (c.rank() + p - 1) % p;
      Request s = c.isend(v.data(), 400, right, 5);
      Request r = c.irecv(v.data() + 500, 400, left, 5);
      r.wait();
      s.wait();
      pair[std::size_t(c.rank())] = c.meter().end_step();
    });
    for (int k = 0; k < p; ++k) {
      const auto& t = ring[std::size_t(k)];
      EXPECT_EQ(t.staged_bytes, 2 * 4000u) << "p " << p << " rank " << k;  // down once, up once
      EXPECT_GE(t.bytes_sent, 2 * std::uint64_t(p - 1) * 4000 / std::uint64_t(p) - 8) << "p " << p;
      EXPECT_GT(t.staging_s, 0.0);
      EXPECT_EQ(pair[std::size_t(k)].staged_bytes, 800u) << "p " << p;  // one message out, one in
    }
  }
}

TEST(CommMeter, SplitSharesTheRootMeter) {
  std::vector<CommStepTotals> got(4);
  run_ranks(4, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    std::unique_ptr<Communicator> half = c.split(c.rank() % 2);
    std::vector<char> buf(64);
    c.meter().begin_step();
    if (half->rank() == 0) half->send(buf.data(), buf.size(), 1, 1);
    else half->recv(buf.data(), buf.size(), 0, 1);
    got[std::size_t(c.rank())] = c.meter().end_step();
  });
  EXPECT_EQ(got[0].bytes_sent, 64u);  // ranks 0, 1 are rank 0 of their halves
  EXPECT_EQ(got[1].bytes_sent, 64u);
  EXPECT_EQ(got[2].bytes_recv, 64u);
  EXPECT_EQ(got[3].bytes_recv, 64u);
}

TEST(CommMeter, InFlightTimeIsSplitAtStepBoundaries) {
  run_ranks(2, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    float x = 0;
    if (c.rank() == 1) {
      sleep_ms(120);  // posts late: rank 0's receive spans two steps and the gap between them
      c.send(&x, sizeof x, 0, 5);
      return;
    }
    c.meter().begin_step();
    Request r = c.irecv(&x, sizeof x, 1, 5);
    sleep_ms(30);
    const CommStepTotals a = c.meter().end_step();
    sleep_ms(30);  // between steps (an evaluation): not counted
    c.meter().begin_step();
    r.wait();
    const CommStepTotals b = c.meter().end_step();
    EXPECT_GE(a.total_s, 0.025);
    EXPECT_EQ(a.bytes_recv, sizeof x);
    EXPECT_EQ(b.bytes_recv, 0u);  // counted when posted
    EXPECT_GE(b.exposed_s, 0.040);  // 120 - 30 - 30 ms left to wait
    EXPECT_LT(b.total_s - b.exposed_s, 0.020);  // the 30 ms between the steps is not in it
  });
}

TEST(CommMeter, MemoryWorkAndProgressArePricedByTheHostCosts) {
  HostCosts costs;
  costs.mem_Bps = 2e9;
  costs.progress_s = 1e-6;
  run_ranks(1, [&](Communicator& raw) {
    MeteredCommunicator c(raw, costs);
    c.meter().begin_step();
    c.account_memory(4'000'000);
    c.account_memory(1'000'000);
    float x = 0;
    Request r = c.irecv(&x, sizeof x, 0, 9);
    Request s = c.isend(&x, sizeof x, 0, 9);
    while (!r.test()) {
    }
    s.wait();
    const CommStepTotals t = c.meter().end_step();
    EXPECT_EQ(t.mem_bytes, 5'000'000u);
    EXPECT_GE(t.progress_calls, 1u);
    EXPECT_DOUBLE_EQ(t.mem_s, 5e6 / 2e9 + double(t.progress_calls) * 1e-6);
  });
}

TEST(CommMeter, MovedRequestsKeepReportingToTheMeter) {
  run_ranks(2, [&](Communicator& raw) {
    MeteredCommunicator c(raw, HostCosts{});
    float x = 1;
    c.meter().begin_step();
    Request a = c.isend(&x, sizeof x, 1 - c.rank(), 2);
    Request moved = std::move(a);
    float y = 0;
    Request r = c.irecv(&y, sizeof y, 1 - c.rank(), 2);
    r.wait();
    moved.wait();
    sleep_ms(100);  // nothing in flight any more: total must not grow
    const CommStepTotals t = c.meter().end_step();
    EXPECT_LT(t.total_s, 0.080);
  });
}

}  // namespace
}  // namespace gg
