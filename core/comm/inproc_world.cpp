// The in-process world: its ranks' threads, failure and deadlock detection (the communicator itself:
// inproc_communicator.cpp and inproc_collectives.cpp).
#include "core/comm/inproc_communicator.hpp"

#include <numeric>
#include <stdexcept>
#include <thread>

#include "core/comm/inproc_detail.hpp"

namespace gg {

namespace inproc {

bool deadlocked(const Shared& sh) {
  bool anyone = false;
  for (std::size_t r = 0; r < sh.waiting.size(); ++r) {
    if (sh.finished[r]) continue;
    if (!sh.waiting[r] || sh.waiting[r]->done) return false;
    anyone = true;
  }
  return anyone;
}

std::string deadlock_report(const Shared& sh) {
  std::string s = "deadlock: every rank is blocked or finished:";
  for (std::size_t r = 0; r < sh.waiting.size(); ++r) {
    s += " rank " + std::to_string(r);
    s += sh.finished[r] ? " finished;" : " waits in " + (sh.waiting[r] ? sh.waiting[r]->describe() : "?") + ";";
  }
  s.pop_back();
  return s;
}

void fail_world(Shared& sh, const std::string& why) {
  if (!sh.failed) {
    sh.failed = true;
    sh.why = why;
  }
  sh.cv.notify_all();
}

}  // namespace inproc

InProcessWorld::InProcessWorld(int p, double timeout_s) {
  if (p < 1) throw std::invalid_argument("InProcessWorld: needs at least 1 rank, got " + std::to_string(p));
  if (!(timeout_s > 0)) throw std::invalid_argument("InProcessWorld: timeout must be positive, got " + std::to_string(timeout_s));
  const auto timeout = std::chrono::duration_cast<inproc::Clock::duration>(std::chrono::duration<double>(timeout_s));
  shared_ = std::make_shared<inproc::Shared>(p, timeout);
  std::vector<int> ranks(static_cast<std::size_t>(p));
  std::iota(ranks.begin(), ranks.end(), 0);
  auto group = std::make_shared<inproc::Group>(shared_, ranks);
  for (int r = 0; r < p; ++r) comms_.push_back(std::make_unique<inproc::Comm>(group, r));
}

InProcessWorld::~InProcessWorld() = default;

Communicator& InProcessWorld::comm(int rank) {
  if (rank < 0 || rank >= size())
    throw std::out_of_range("InProcessWorld: rank " + std::to_string(rank) + " outside [0, " + std::to_string(size()) + ")");
  return *comms_[std::size_t(rank)];
}

void InProcessWorld::fail(const std::string& why) {
  std::unique_lock lock(shared_->mu);
  inproc::fail_world(*shared_, why);
}

bool InProcessWorld::failed() const {
  std::unique_lock lock(shared_->mu);
  return shared_->failed;
}

void InProcessWorld::run(const std::function<void(Communicator&)>& fn) {
  std::mutex first_mu;
  std::exception_ptr first;
  auto rank_main = [&](int r) {
    try {
      fn(*comms_[std::size_t(r)]);
    } catch (...) {
      std::string what = "unknown exception";
      try {
        throw;
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      {
        std::lock_guard g(first_mu);
        if (!first) first = std::current_exception();
      }
      fail("rank " + std::to_string(r) + " threw: " + what);
    }
    std::unique_lock lock(shared_->mu);
    shared_->finished[std::size_t(r)] = 1;
    if (!shared_->failed && inproc::deadlocked(*shared_)) inproc::fail_world(*shared_, inproc::deadlock_report(*shared_));
  };
  std::vector<std::thread> threads;
  try {
    for (int r = 0; r < size(); ++r) threads.emplace_back(rank_main, r);
  } catch (...) {
    fail("could not start the rank threads");
    for (std::thread& t : threads) t.join();
    throw;
  }
  for (std::thread& t : threads) t.join();
  {
    std::unique_lock lock(shared_->mu);
    std::fill(shared_->finished.begin(), shared_->finished.end(), char(0));
  }
  if (first) std::rethrow_exception(first);
}

void run_ranks(int p, const std::function<void(Communicator&)>& fn) { InProcessWorld(p).run(fn); }

}  // namespace gg
