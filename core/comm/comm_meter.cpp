#include "core/comm/comm_meter.hpp"

#include <utility>

namespace gg {

// One outstanding request's observer, pooled so that a post allocates nothing once reserve() was called.
class CommMeter::Tracked final : public RequestObserver {
 public:
  explicit Tracked(CommMeter& m) : m_(m) {}
  void on_test() override { m_.progress_call(); }
  void on_wait_begin() override { m_.wait_begin(); }
  void on_wait_end() override { m_.wait_end(); }
  void on_complete() override {
    const std::uint64_t in = stage_in;
    m_.free_.push_back(this);
    m_.completed(in);
  }
  std::uint64_t stage_in = 0;

 private:
  CommMeter& m_;
};

CommMeter::CommMeter(std::function<double()> clock, HostCosts costs)
    : clock_(std::move(clock)), costs_(std::move(costs)) {}

CommMeter::~CommMeter() = default;

void CommMeter::reserve(std::size_t more) {
  const std::size_t want = pool_.size() + more;
  while (pool_.size() < want) {
    pool_.push_back(std::make_unique<Tracked>(*this));
    free_.reserve(pool_.size());
    free_.push_back(pool_.back().get());
  }
}

void CommMeter::add_in_flight() {
  if (in_flight_++ == 0) busy_since_ = clock_();
}

void CommMeter::remove_in_flight() {
  if (--in_flight_ == 0) step_.total_s += clock_() - busy_since_;
}

RequestObserver* CommMeter::posted(std::uint64_t sent, std::uint64_t recv, std::uint64_t msgs,
                                   std::uint64_t stage_in) {
  if (free_.empty()) reserve(16);
  Tracked* t = free_.back();
  free_.pop_back();
  t->stage_in = stage_in;
  step_.bytes_sent += sent;
  step_.bytes_recv += recv;
  step_.msgs_sent += msgs;
  add_in_flight();
  return t;
}

void CommMeter::completed(std::uint64_t stage_in) {
  remove_in_flight();
  stage(stage_in);  // host->device copy of what arrived, before the rank can use it
}

void CommMeter::blocking_begin(std::uint64_t sent, std::uint64_t recv, std::uint64_t msgs) {
  step_.bytes_sent += sent;
  step_.bytes_recv += recv;
  step_.msgs_sent += msgs;
  add_in_flight();
  if (blocked_++ == 0) blocked_since_ = clock_();
}

void CommMeter::blocking_end() {
  if (--blocked_ == 0) step_.exposed_s += clock_() - blocked_since_;
  remove_in_flight();
}

void CommMeter::wait_begin() {
  flush();
  call_begin();
  if (blocked_++ == 0) blocked_since_ = clock_();
}

void CommMeter::wait_end() {
  if (--blocked_ == 0) step_.exposed_s += clock_() - blocked_since_;
  call_end();
}

void CommMeter::call_begin() {
  flush();
  if (in_call_++ == 0) call_since_ = clock_();
}

void CommMeter::call_end() {
  if (--in_call_ == 0) step_.calls_s += clock_() - call_since_;
}

void CommMeter::stage(std::uint64_t bytes) {
  const double s = costs_.staging_s(bytes);
  if (s <= 0) return;
  step_.staged_bytes += bytes;
  const double t0 = clock_();
  charge_time(s);
  const double dt = clock_() - t0;  // the rank copies: exposed, and part of the exchange
  step_.staging_s += dt;
  if (in_call_ == 0) step_.calls_s += dt;  // at a completion seen by test(): a copy call of its own
  if (blocked_ == 0) step_.exposed_s += dt;
  if (in_flight_ == 0) step_.total_s += dt;
}

void CommMeter::memory(std::size_t bytes) {
  step_.mem_bytes += bytes;
  const double s = costs_.memory_s(bytes);
  step_.mem_s += s;
  queued_s_ += s;
}

void CommMeter::progress_call() {
  ++step_.progress_calls;
  step_.mem_s += costs_.progress_s;
  queued_s_ += costs_.progress_s;
}

void CommMeter::flush() {
  if (queued_s_ <= 0) return;
  const double s = std::exchange(queued_s_, 0.0);
  charge_time(s);
}

void CommMeter::begin_step() {
  step_ = CommStepTotals{};
  if (in_flight_ > 0) busy_since_ = clock_();
}

CommStepTotals CommMeter::end_step() {
  flush();
  if (in_flight_ > 0) {
    const double now = clock_();
    step_.total_s += now - busy_since_;
    busy_since_ = now;
  }
  return step_;
}

}  // namespace gg
