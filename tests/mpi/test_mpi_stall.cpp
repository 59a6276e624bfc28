// The stall watchdog (core/comm/stall_watchdog.hpp) under mpiexec: every blocking call and wait of a
// watched communicator gives what the plain one gives, and ranks that wait name the rank that does not.
// (Ending the job with MPI_Abort is checked end to end by tests/fault/faults.py.)
#include <gtest/gtest.h>

#include <stdio.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/comm/mpi_communicator.hpp"
#include "core/comm/stall_watchdog.hpp"

namespace gg {
namespace {

// Text written to a FILE*, read back after it is closed.
class Capture {
 public:
  Capture() : f_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    close();
    std::free(buf_);
  }
  std::FILE* file() const { return f_; }
  std::string text() {
    close();
    return std::string(buf_ ? buf_ : "", len_);
  }

 private:
  void close() {
    if (f_) std::fclose(f_);
    f_ = nullptr;
  }
  char* buf_ = nullptr;
  std::size_t len_ = 0;
  std::FILE* f_;
};

int count(const std::string& s, const std::string& part) {
  int n = 0;
  for (auto at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

TEST(Stall, WatchedCallsGiveThePlainResults) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank();
  Capture out;
  {
    StallWatchdog watchdog(30, 0, out.file());
    c.watch(&watchdog);
    // Point to point, blocking and nonblocking, and any-source receives.
    const int right = (r + 1) % p, left = (r + p - 1) % p;
    std::vector<int> got(1000, -1), mine(1000);
    for (int i = 0; i < 1000; ++i) mine[std::size_t(i)] = r * 1000 + i;
    Request rr = c.irecv(got.data(), got.size() * sizeof(int), left, 3);
    c.send(mine.data(), mine.size() * sizeof(int), right, 3);
    rr.wait();
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[std::size_t(i)], left * 1000 + i);
    if (r == 0) {
      int sum = 0;
      for (int k = 1; k < p; ++k) {
        int v = 0;
        std::size_t bytes = 0;
        const int from = c.recv_any(&v, sizeof v, 4, &bytes);
        EXPECT_EQ(v, 7 * from);
        EXPECT_EQ(bytes, sizeof v);
        sum += v;
      }
      EXPECT_EQ(sum, 7 * p * (p - 1) / 2);
    } else {
      const int v = 7 * r;
      c.send(&v, sizeof v, 0, 4);
    }
    // Collectives.
    std::vector<float> f{float(r), 1.0f};
    c.allreduce_sum(f);
    EXPECT_EQ(f, (std::vector<float>{float(p * (p - 1) / 2), float(p)}));
    std::vector<double> d{0.5 * r};
    c.allreduce_sum(d);
    EXPECT_DOUBLE_EQ(d[0], 0.25 * p * (p - 1));
    int b = r == p - 1 ? 42 : 0;
    c.broadcast(&b, sizeof b, p - 1);
    EXPECT_EQ(b, 42);
    std::vector<int> all(std::size_t(p), -1);
    const int me = 10 + r;
    c.gather(&me, sizeof me, all.data(), 0);
    if (r == 0) {
      for (int k = 0; k < p; ++k) EXPECT_EQ(all[std::size_t(k)], 10 + k);
    }
    c.barrier();
    auto sub = c.split(r % 2);  // a split is watched too
    std::vector<double> one{1.0};
    sub->allreduce_sum(one);
    EXPECT_EQ(one[0], double(sub->size()));
    c.watch(nullptr);
  }
  EXPECT_EQ(out.text(), "") << "no wait came near the limit, so nothing is printed";
}

TEST(Stall, WaitingRanksNameTheRankThatIsNotInACall) {
  MpiCommunicator c;
  const int p = c.size(), r = c.rank(), late = p - 1;
  if (p < 2) GTEST_SKIP() << "needs two ranks";
  Capture out;
  {
    StallWatchdog watchdog(0.5, 0, out.file());
    c.watch(&watchdog);
    std::vector<double> x{1.0};
    if (r == late) std::this_thread::sleep_for(std::chrono::seconds(3));  // in no communication call
    c.allreduce_sum(x);
    EXPECT_EQ(x[0], double(p));
    c.watch(nullptr);
  }
  const std::string text = out.text();
  if (r == 0) {  // the lowest waiting rank prints, once
    EXPECT_EQ(count(text, "gg_train: warning: stall: "), 1) << text;
    EXPECT_NE(text.find("rank 0 has waited "), std::string::npos) << text;
    EXPECT_NE(text.find(" in MPI_Allreduce; rank " + std::to_string(late) + " not in any communication call"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("(comm.stall_warn_s = 0.5 s)"), std::string::npos) << text;
    EXPECT_EQ(count(text, "\n"), 1) << "one line";
  } else {
    EXPECT_EQ(text, "") << "only the lowest waiting rank prints";
  }
}

TEST(Stall, DescribeGroupsTheWaitingAndNamesTheMissing) {
  std::vector<StallWatchdog::Note> notes(9);
  auto waiting = [&](int r, const char* op, int peer) {
    notes[std::size_t(r)].kind = 2;
    notes[std::size_t(r)].peer = peer;
    std::snprintf(notes[std::size_t(r)].op, sizeof notes[0].op, "%s", op);
  };
  for (int r : {0, 1, 2, 4, 5}) waiting(r, "MPI_Allreduce", -1);
  waiting(6, "MPI_Irecv", 3);
  EXPECT_EQ(StallWatchdog::describe(notes, 1, 61.04, "comm.stall_warn_s", 60),
            "rank 1 has waited 61.0 s in MPI_Allreduce; ranks 3,7-8 not in any communication call (stopped, hung "
            "or far slower than the rest); waiting: ranks 0-2,4-5 in MPI_Allreduce, rank 6 in MPI_Irecv with rank 3 "
            "(comm.stall_warn_s = 60.0 s)");
  for (int r : {3, 7, 8}) waiting(r, "MPI_Send", 0);
  EXPECT_NE(StallWatchdog::describe(notes, 0, 1, "comm.stall_abort_s", 1).find("every rank waits"), std::string::npos);
}

}  // namespace
}  // namespace gg
