// adpsgd: AD-PSGD (Lian, Zhang, Zhang, Liu, "Asynchronous Decentralized Parallel Stochastic Gradient
// Descent", ICML 2018), in a lockstep engine.
//
// Roles (the paper's bipartite split, which keeps two averages from deadlocking): rank r is ACTIVE if r
// is even and r + 1 < p, otherwise PASSIVE. For even p: even ranks active, odd ranks passive. For odd p
// the last rank (even) is passive too, so every active still has a passive on either side of it. p = 1:
// one passive and nobody to average with: plain SGD.
// Neighbours of an active a: graph = "complete", every passive; graph = "ring", ranks a - 1 and a + 1
// (mod p), which are always passive under this split. Each step t every active picks one neighbour from
// an Rng seeded by (seed, t, a) -- i.i.d. uniform (choice = "uniform", the paper) or each neighbour once
// per cycle ("shuffled") -- (adpsgd_passive below); every rank evaluates the same function for all
// actives, so a passive knows in advance who will come and in which order (no probing).
//
// One average:  x_a, x_j <- (x_a + x_j) / 2,  both sides hold the same value afterwards. A passive chosen
// by actives a_1 < ... < a_m in one step applies them one after another, each atomic, in rank order:
//   y_0 = x_j;  y_k = (y_{k-1} + x_{a_k}) / 2, sent back to a_k;  x_j <- y_m.
// Messages: a_k -> j its parameters (tag +0), j -> a_k the value y_k (tag +1). The passive handles its
// choosers strictly in order, with a receive ring of two model-sized buffers, so its memory does not
// grow with m. Only the parameters are averaged, as in the paper; each worker's momentum stays local.
//
// timing = "sync":  finish_step(t): optimizer step on the own gradient, then the averages of step t on
//   the updated parameters (exchanged and waited for in the same step):  x <- W_t (x_t - lr u_t).
// timing = "async" (default): the exchange posted at the end of step t - 1 (snapshots s = x_t) travels
//   during the forward/backward of step t (poll() drives it; a passive averages as messages arrive), and
//   finish_step(t) applies it as a correction, then steps the optimizer, then posts step t's exchange:
//     x <- x + (y - s),  y = the value the chain above gives from the snapshots;   x <- x - lr u_t.
//   The gradient of step t was computed on x_t, which does not yet include the average it is applied
//   after: AD-PSGD's stale gradient, x_{t+1} = W_{t-1} x_t - lr u(x_t). Per chain, the corrections sum
//   to zero (y_k - s_{a_k} = y_{k-1} - y_k telescopes against y_m - y_0), so the sum over ranks is
//   preserved exactly, as by the synchronous averages. (Nothing changes x between the post and the
//   correction, so x + (y - s) is y up to rounding; the correction keeps the form pair_exchange uses.)
//   finish() applies the exchange of the last step.
//
// What a lockstep engine cannot model: in the paper every worker runs at its own speed and the delay
// of a gradient is a random variable set by wall-clock races (and slow workers simply average less
// often). Here every worker takes exactly one step and every active exactly one average per step, and
// the staleness is exactly one averaging; workers of different speeds (stragglers, heterogeneous
// devices) are not modelled, so this shows AD-PSGD's mixing and staleness, not its robustness to them.
// Invariants (tests/sweep): each scheduled average is applied exactly once on both sides, in rank
// order (test_adpsgd.cpp, against adpsgd_passive); the sums of parameters and momenta follow one SGD
// step on the summed gradient.
#include <algorithm>
#include <array>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/spec.hpp"
#include "core/util/error.hpp"
#include "core/util/rng.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

constexpr std::uint64_t kSalt = 0xAD95'6D00'0000'0001ull;  // separates this schedule from other seed_of uses
bool is_active(int r, int p) { return r % 2 == 0 && r + 1 < p; }
int num_actives(int p) { return p / 2; }

}  // namespace

// The passive that active rank `active` averages with at `step` (a pure function of its arguments).
// Its D neighbours: ring {a - 1, a + 1} (mod p); complete: the k-th passive, rank min(2k + 1, p - 1).
// choice uniform: the neighbour index is drawn i.i.d. each step. shuffled: in cycle c = step / D it is
// (r + s * (step mod D)) mod D with r and s (coprime to D) drawn per (c, active): every neighbour once
// per cycle, in a seeded order.
int adpsgd_passive(std::uint64_t seed, int p, std::int64_t step, int active, bool ring, bool shuffled) {
  if (!is_active(active, p)) throw std::invalid_argument("adpsgd: rank " + std::to_string(active) + " is not active");
  const std::uint64_t D = ring ? 2 : std::uint64_t(p - num_actives(p)), t = std::uint64_t(step);
  std::uint64_t k = 0;
  if (!shuffled) {
    k = Rng(seed_of(seed ^ kSalt, t, std::uint64_t(active))).below(D);
  } else {
    Rng rng(seed_of(seed ^ ~kSalt, t / D, std::uint64_t(active)));
    const std::uint64_t r = rng.below(D);
    std::uint64_t stride = 1;
    if (D > 2) do stride = 1 + rng.below(D - 1); while (std::gcd(stride, D) != 1);
    k = (r + stride * (t % D)) % D;
  }
  if (ring) return k ? (active + 1) % p : (active + p - 1) % p;
  return std::min(2 * int(k) + 1, p - 1);
}

// Folds one applied average (step, active, passive) into a rank's order-sensitive digest.
std::uint64_t adpsgd_digest(std::uint64_t digest, std::int64_t step, int active, int passive) {
  return (digest * 0x100000001B3ull) ^ seed_of(std::uint64_t(step), std::uint64_t(active), std::uint64_t(passive));
}

namespace {

class AdPsgd final : public Algorithm {
 public:
  AdPsgd(const AlgorithmOptions& o, const AlgorithmEnv& env)
      : comm_(env.comm), model_(env.model), seed_(env.seed), p_(env.comm.size()), rank_(env.comm.rank()),
        async_(o.get_string("timing") == "async"), ring_(o.get_string("graph") == "ring"),
        shuffled_(o.get_string("choice") == "shuffled"),
        active_(is_active(rank_, p_)), tag_(env.comm.reserve_tags(2)) {
    const std::size_t n = model_.num_params();
    if (p_ == 1) return;
    if (active_) {
      if (async_) snap_.assign(n, 0.0f);
      reply_.assign(n, 0.0f);
      comm_.reserve_requests(2);
    } else {
      if (async_) snap_.assign(n, 0.0f);
      for (auto& b : buf_) b.assign(n, 0.0f);
      choosers_.reserve(std::size_t(num_actives(p_)));
      comm_.reserve_requests(4);
    }
  }

  std::string name() const override { return "adpsgd"; }
  int num_workers() const override { return p_; }
  int worker_index() const override { return rank_; }
  const StepStats& stats() const override { return stats_; }
  void begin_step(std::int64_t step) override {
    stats_ = {};
    stats_.bytes_sent = carried_bytes_;  // replies a checkpoint sent early belong to this step
    carried_bytes_ = 0;
    step_ = step;
  }

  void poll() override {
    if (!pending_) return;
    TimeScope t(comm_, stats_.comm_s);
    if (active_) {
      send_.test();
      recv_.test();
    } else {
      advance(false);
    }
  }

  void finish_step(TrainState& st) override {
    if (p_ == 1) {
      st.optimizer.step(model_.params(), model_.grads(), st.lr);
      return;
    }
    if (async_) {
      {
        TimeScope t(comm_, stats_.comm_s);
        if (pending_) complete_and_apply();
      }
      st.optimizer.step(model_.params(), model_.grads(), st.lr);
      TimeScope t(comm_, stats_.comm_s);
      post();
      return;
    }
    st.optimizer.step(model_.params(), model_.grads(), st.lr);
    TimeScope t(comm_, stats_.comm_s);
    post();
    complete_and_apply();
  }

  void finish() override {
    if (pending_) complete_and_apply();
  }

  // Async: the exchange posted at the last step is completed (a passive runs its whole chain) and saved
  // unapplied -- the value y it yields and the snapshot s it was computed from -- with the ledger.
  void save_state(std::int64_t, StateWriter& out) override {
    if (pending_) {  // a passive may send replies here: counted with the next step, as without a checkpoint
      const std::uint64_t before = stats_.bytes_sent;
      complete_transport();
      carried_bytes_ += stats_.bytes_sent - before;
      stats_.bytes_sent = before;
    }
    out.put_int("adpsgd.pending", pending_ ? 1 : 0);
    out.put_int("adpsgd.carried_bytes", std::int64_t(carried_bytes_));
    out.put_int("adpsgd.pending_step", pending_step_);
    const std::int64_t ledger[3] = {as_active_, as_passive_, std::int64_t(digest_)};
    out.put_ints("adpsgd.ledger", ledger);
    if (!pending_) return;
    out.put_floats("adpsgd.snapshot", snap_);
    if (active_) {
      out.put_int("adpsgd.partner", partner_);
      out.put_floats("adpsgd.reply", reply_);
      return;
    }
    const std::vector<std::int64_t> choosers(choosers_.begin(), choosers_.end());
    out.put_ints("adpsgd.choosers", choosers);
    if (!choosers_.empty()) out.put_floats("adpsgd.chain", buf_[(choosers_.size() - 1) % 2]);
  }

  void load_state(StateReader& in) override {
    pending_ = in.get_int("adpsgd.pending") != 0;
    carried_bytes_ = std::uint64_t(in.get_int("adpsgd.carried_bytes"));
    pending_step_ = in.get_int("adpsgd.pending_step");
    std::int64_t ledger[3] = {};
    in.get_ints("adpsgd.ledger", ledger);
    as_active_ = ledger[0];
    as_passive_ = ledger[1];
    digest_ = std::uint64_t(ledger[2]);
    if (!pending_) return;
    if (!async_ || p_ == 1)
      throw InputError(in.source() + ": record 'adpsgd.pending': an average in flight, but this run is not "
                       "asynchronous (algorithm.timing or the rank count differ)");
    in.get_floats("adpsgd.snapshot", snap_);
    if (active_) {
      partner_ = int(in.get_int("adpsgd.partner"));
      in.get_floats("adpsgd.reply", reply_);
      return;
    }
    const std::vector<std::int64_t> choosers = in.get_ints("adpsgd.choosers");
    if (choosers.size() > std::size_t(num_actives(p_)))
      throw InputError(in.source() + ": record 'adpsgd.choosers': more choosers than active ranks");
    choosers_.assign(choosers.begin(), choosers.end());
    done_ = posted_ = choosers_.size();  // the chain is complete: complete_and_apply only applies it
    own_ = nullptr;
    if (!choosers_.empty()) in.get_floats("adpsgd.chain", buf_[(choosers_.size() - 1) % 2]);
  }

  // What this rank has applied (adpsgd_ledger): averages as active / as passive, and their digest.
  void ledger(std::int64_t& as_active, std::int64_t& as_passive, std::uint64_t& digest) const {
    as_active = as_active_;
    as_passive = as_passive_;
    digest = digest_;
  }

 private:
  // Starts this step's averages from the current parameters (async: from a snapshot).
  void post() {
    const std::size_t bytes = model_.num_params() * sizeof(float);
    pending_step_ = step_;
    pending_ = true;
    if (active_) {
      partner_ = adpsgd_passive(seed_, p_, step_, rank_, ring_, shuffled_);
      send_ = comm_.isend(snapshot(), bytes, partner_, tag_);
      recv_ = comm_.irecv(reply_.data(), bytes, partner_, tag_ + 1);
      stats_.bytes_sent += bytes;
      stats_.partner = partner_;
      return;
    }
    choosers_.clear();
    for (int a = 0; a < p_; a += 2)
      if (is_active(a, p_) && adpsgd_passive(seed_, p_, step_, a, ring_, shuffled_) == rank_) choosers_.push_back(a);
    own_ = choosers_.empty() ? nullptr : snapshot();  // nobody comes: nothing to copy
    done_ = posted_ = 0;
    stats_.partner = choosers_.empty() ? -1 : choosers_.front();
    advance(false);
  }

  // What this rank averages from: the parameters themselves (sync), or a copy of them (async: the
  // model's buffer changes before the exchange completes).
  const float* snapshot() {
    std::span<const float> x = model_.params();
    if (!async_) return x.data();
    ops::copy(comm_, x, snap_);
    return snap_.data();
  }

  // Passive: receives the choosers' parameters in order (two receive buffers in a ring), folds each into
  // the chain and sends it back. Returns true once every chooser has been answered. block: wait instead
  // of test. Receive k goes to buf_[k % 2]; it may be posted once chooser k - 1 (which reads buf_[k % 2]
  // as y_{k-2}) is done and the reply from buf_[k % 2] to chooser k - 2 has left.
  bool advance(bool block) {
    const std::size_t m = choosers_.size(), n = model_.num_params(), bytes = n * sizeof(float);
    for (;;) {
      while (posted_ < m && (posted_ < 2 || (done_ >= posted_ && ready(sends_[posted_ % 2], block)))) {
        recvs_[posted_ % 2] = comm_.irecv(buf_[posted_ % 2].data(), bytes, choosers_[posted_], tag_);
        ++posted_;
      }
      if (done_ == m) return true;
      if (done_ == posted_ || !ready(recvs_[done_ % 2], block)) return false;  // (block: never the former)
      float* y = buf_[done_ % 2].data();  // x_{a_k} -> y_k = (y_{k-1} + x_{a_k}) / 2
      const float* prev = done_ == 0 ? own_ : buf_[(done_ - 1) % 2].data();
      ops::average(comm_, std::span<const float>(prev, n), std::span<const float>(y, n), std::span<float>(y, n));
      sends_[done_ % 2] = comm_.isend(y, bytes, choosers_[done_], tag_ + 1);
      stats_.bytes_sent += bytes;
      ++done_;
    }
  }

  bool ready(Request& r, bool block) {
    if (!block) return r.test();
    TimeScope w(comm_, stats_.wait_s);
    r.wait();
    return true;
  }

  // Completes the pending exchange's messages without applying it (a passive answers every chooser).
  void complete_transport() {
    if (active_) {
      ready(send_, true);
      ready(recv_, true);
      return;
    }
    advance(true);
    for (Request& r : sends_) ready(r, true);
  }

  // Completes the pending exchange and applies it: sync x <- y, async x <- x + (y - s).
  void complete_and_apply() {
    std::span<float> x = model_.params();
    if (active_) {
      ready(send_, true);
      ready(recv_, true);
      apply(x, reply_.data());
      ++as_active_;
      digest_ = adpsgd_digest(digest_, pending_step_, rank_, partner_);
    } else {
      advance(true);
      const std::size_t m = choosers_.size();
      if (m > 0) apply(x, buf_[(m - 1) % 2].data());
      for (Request& r : sends_) ready(r, true);
      for (int a : choosers_) {
        ++as_passive_;
        digest_ = adpsgd_digest(digest_, pending_step_, a, rank_);
      }
    }
    pending_ = false;
  }

  void apply(std::span<float> x, const float* y) {
    if (!async_) {
      ops::copy(comm_, std::span<const float>(y, x.size()), x);
      return;
    }
    ops::correct(comm_, x, std::span<const float>(y, x.size()), snap_, 1.0f);
  }

  Communicator& comm_;
  Model& model_;
  std::uint64_t seed_;
  int p_, rank_;
  bool async_, ring_, shuffled_, active_;
  int tag_;                       // +0: active -> passive (parameters), +1: passive -> active (y_k)
  std::int64_t step_ = 0, pending_step_ = 0;
  bool pending_ = false;          // an exchange is posted and not yet applied
  std::vector<float> snap_;       // [n] async: the parameters as sent (the correction's reference)
  // active
  std::vector<float> reply_;      // [n] y_k from the passive
  Request send_, recv_;
  int partner_ = -1;
  // passive
  std::vector<int> choosers_;     // this exchange's actives, in rank order (capacity: all actives)
  std::array<std::vector<float>, 2> buf_;  // [2][n] receive ring; buf_[k % 2] holds x_{a_k}, then y_k
  std::array<Request, 2> recvs_, sends_;
  const float* own_ = nullptr;    // y_0: the parameters (sync) or snap_ (async)
  std::size_t done_ = 0, posted_ = 0;  // choosers answered; receives posted
  std::int64_t as_active_ = 0, as_passive_ = 0;  // averages applied, in either role
  std::uint64_t digest_ = 0;      // adpsgd_digest over them, in the order applied
  std::uint64_t carried_bytes_ = 0;  // sent while a checkpoint completed the exchange: the next step's
  StepStats stats_;
};

}  // namespace

// Test hook (tests/sweep/test_adpsgd.cpp): what an AD-PSGD instance has applied, including finish().
void adpsgd_ledger(const Algorithm& algo, std::int64_t& as_active, std::int64_t& as_passive, std::uint64_t& digest) {
  const auto* a = dynamic_cast<const AdPsgd*>(&algo);
  if (!a) throw std::invalid_argument("adpsgd_ledger: not an adpsgd instance: " + algo.name());
  a->ledger(as_active, as_passive, digest);
}

AlgorithmSpec adpsgd_spec() {
  return {
      .name = "adpsgd",
      .summary = "AD-PSGD: active ranks average with a random passive neighbour each step; gradient one "
                 "average stale",
      .provenance = "extension",
      .reference = "Lian, Zhang, Zhang, Liu, Asynchronous Decentralized Parallel Stochastic Gradient Descent, "
                   "ICML 2018 (with its bipartite active/passive implementation)",
      .options =
          {
              {.name = "timing", .default_value = "async", .choices = {"sync", "async"},
               .doc = "async: the average overlaps the next step and the gradient is applied after it (paper's "
                      "staleness); sync: averaged after the step, waited for"},
              {.name = "graph", .default_value = "complete", .choices = {"complete", "ring"},
               .doc = "neighbours of an active: every passive (complete bipartite) or its ring neighbours r-1, r+1"},
              {.name = "choice", .default_value = "uniform", .choices = {"uniform", "shuffled"},
               .doc = "uniform: a neighbour drawn i.i.d. each step (paper); shuffled (extension): each neighbour once "
                      "per cycle of D steps, in a seeded order",
               // i.i.d. choice can leave a passive unvisited for the sweep's whole 6-step run (seed 11, p = 3: rank
               // 2 first drawn at step 5), so that neither mixing nor bytes show; test_adpsgd.cpp covers it.
               .sweep = {"shuffled"}},
          },
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<AdPsgd>(o, env);
      },
      .guarantees = [](const AlgorithmOptions& o, int p) {
        Guarantees g{.mass = Guarantees::Mass::Exact, .mixes_parameters = p > 1};
        // p = 2: rank 0 averages with rank 1 every step: the exact mean after one average
        if (p == 2) g.exact_mean_after_steps = o.get_string("timing") == "sync" ? 1 : 2;
        return g;
      },
  };
}

}  // namespace gg
