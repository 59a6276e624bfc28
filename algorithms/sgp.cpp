// sgp: Stochastic Gradient Push (Assran, Loizou, Ballas, Rabbat, "Stochastic Gradient Push for Distributed
// Deep Learning", ICML 2019): Alg. 1 (SGP), and with overlap = true its overlap variant OSGP with messages
// exactly one step stale. Push-sum over the 1-peer time-varying directed exponential graph.
//
// State of worker i: numerators x_i [n] and push-sum weight w_i (w_i = 1, x_i = the model at the first
// step), momentum v_i (the shared optimizer's buffer; local, never sent). Step t, L = ceil(log2 p),
// k = t mod L, peers send_to = i + 2^k, recv_from = i - 2^k (mod p; schedule.hpp's dissemination):
//   forward/backward at z_i = x_i / w_i             (the model's params hold z_i throughout)
//   x_i <- x_i - lr * u_i,  u_i = optimizer.step's update from g_i = grad at z_i
//         (classical: v_i <- mu v_i + g_i + wd x_i, u_i = v_i; Nesterov likewise)
//   (x_i, w_i) <- (x_i, w_i) / 2, and the other half is pushed to send_to
//   sync:    (x_i, w_i) += the half recv_from pushed in this step       (waited for at once)
//   overlap: (x_i, w_i) += the half recv_from pushed in step t-1 (posted at t-1, progressed by poll()
//            during the forward/backward of step t; nothing is added at t = 0)
//   params <- z_i = x_i / w_i
// The gradient at z_i is applied to the numerator unscaled, as in Alg. 1 (x^{k+1/2} = x^k - lr grad F(z^k)),
// and the optimizer (momentum and weight decay) acts on the numerators, as in the paper's momentum
// variant and the authors' code (facebookresearch/stochastic_gradient_push, later fairscale's gossip
// module), which steps the optimizer while the model holds the numerators.
//
// Invariants (tests/sweep/test_sgp.cpp checks them at every step): sum_i w_i + (weight in flight) = p,
// and the mixing preserves sum_i x_i + (numerators in flight), so those sums follow one optimizer step on
// the summed gradient. Every rank receives exactly one message per step (the shift by 2^k is a
// permutation), so synchronous SGP keeps w_i = 1 exactly: z_i = x_i, the sums of the params follow the
// mass law and, for p a power of two and lr = 0, every z_i is the global mean after L steps (the sweep
// checks both). With overlap a third of the weight is in flight in the steady state (w_i -> 2/3); finish()
// adds the last message, after which w_i = 1 again.
// The weight travels as one more float after the numerators: one message of n + 1 floats per step.
#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/schedule.hpp"
#include "algorithms/spec.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

class Sgp final : public Algorithm {
 public:
  Sgp(const AlgorithmOptions& o, const AlgorithmEnv& env)
      : comm_(env.comm),
        model_(env.model),
        overlap_(o.get_bool("overlap")),
        n_(env.model.num_params()),
        schedule_(ScheduleSpec{Topology::Dissemination, Rotation::None, 0}, env.comm.rank(), env.comm.size()),
        tag_(env.comm.reserve_tags(1)),
        xw_(n_ + 1, 0.0f),
        recv_(comm_.size() > 1 ? n_ + 1 : 0, 0.0f),
        send_(overlap_ && comm_.size() > 1 ? n_ + 1 : 0, 0.0f) {
    comm_.reserve_requests(reqs_.size());
  }

  std::string name() const override { return "sgp"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  // Numerators then weight [n + 1]; what this rank pushed that its peer has not added yet ([n + 1],
  // empty if nothing is in flight).
  std::span<const float> own() const { return xw_; }
  std::span<const float> in_flight() const { return in_flight_ ? std::span<const float>(send_) : std::span<const float>(); }

  void begin_step(std::int64_t step) override {
    stats_ = {};
    partners_ = schedule_.at(step);
    stats_.partner = partners_.send_to;
    stats_.staleness = overlap_ && step > 0 ? 1 : 0;  // overlapped: mixes in the pushes of step t-1
    if (!started_) {  // the model may be set after construction (loaded, perturbed by a test): start from it
      std::span<const float> z = model_.params();
      std::copy(z.begin(), z.end(), xw_.begin());
      xw_[n_] = 1.0f;
      started_ = true;
    }
  }

  void poll() override {
    if (!in_flight_) return;
    TimeScope t(comm_, stats_.comm_s);
    for (Request& r : reqs_) r.test();
  }

  void finish_step(TrainState& st) override {
    st.optimizer.step(std::span<float>(xw_.data(), n_), model_.grads(), st.lr);
    if (comm_.size() > 1) {
      if (overlap_) push_overlapped();
      else push_sync();
    }
    write_z();
  }

  void finish() override {
    if (!in_flight_) return;
    {
      TimeScope t(comm_, stats_.comm_s);
      TimeScope w(comm_, stats_.wait_s);
      wait_all();
    }
    add_received();
    write_z();
  }

  // The final average (train.final_average) replaced z_i = x_i / w_i, the model evaluated, by the mean of
  // the z over workers: the numerators follow, x_i <- w_i z_i (w_i kept), so z_i = x_i / w_i is the
  // averaged model again (up to rounding). After finish() nothing is in flight and w_i = 1.
  void model_replaced() override {
    std::span<const float> z = model_.params();
    const float w = xw_[n_];
    for (std::size_t i = 0; i < n_; ++i) xw_[i] = z[i] * w;
    started_ = true;
  }

  // The numerators and weight; with overlap, the push in flight (completed here, added at the next step
  // exactly as if it had arrived then) and what this rank pushed. The params hold x / w: not needed.
  void save_state(std::int64_t, StateWriter& out) override {
    for (Request& r : reqs_) r.wait();  // transport only: in_flight_ stays set until it is added
    out.put_int("sgp.started", started_ ? 1 : 0);
    out.put_floats("sgp.xw", xw_);
    out.put_int("sgp.in_flight", in_flight_ ? 1 : 0);
    if (!in_flight_) return;
    out.put_floats("sgp.recv", recv_);
    out.put_floats("sgp.send", send_);
  }
  void load_state(StateReader& in) override {
    started_ = in.get_int("sgp.started") != 0;
    in.get_floats("sgp.xw", xw_);
    in_flight_ = in.get_int("sgp.in_flight") != 0;
    if (!in_flight_) return;
    if (recv_.empty() || send_.empty())
      throw InputError(in.source() + ": record 'sgp.in_flight': a push in flight, but this run has no overlap "
                       "(algorithm.overlap or the rank count differ)");
    in.get_floats("sgp.recv", recv_);
    in.get_floats("sgp.send", send_);
  }

 private:
  void halve() {
    ops::scale(comm_, xw_, 0.5f);
  }
  void add_received() {
    ops::add(comm_, xw_, std::span<const float>(recv_.data(), xw_.size()));
  }
  void wait_all() {
    for (Request& r : reqs_) r.wait();
    in_flight_ = false;
  }
  void post(const float* src) {
    const std::size_t bytes = (n_ + 1) * sizeof(float);
    reqs_[0] = comm_.isend(src, bytes, partners_.send_to, tag_);
    reqs_[1] = comm_.irecv(recv_.data(), bytes, partners_.recv_from, tag_);
    stats_.bytes_sent += bytes;
  }

  // Keep half, push half straight from xw_ (untouched until the send completes), add what arrives.
  void push_sync() {
    halve();
    {
      TimeScope t(comm_, stats_.comm_s);
      post(xw_.data());
      TimeScope w(comm_, stats_.wait_s);
      wait_all();
    }
    add_received();
  }

  // Complete step t-1's exchange, keep half and copy the pushed half aside, add what step t-1 brought,
  // then post this step's push (completed at step t+1 or by finish()).
  void push_overlapped() {
    const bool had = in_flight_;
    if (had) {
      TimeScope t(comm_, stats_.comm_s);
      TimeScope w(comm_, stats_.wait_s);
      wait_all();
    }
    halve();
    {
      TimeScope t(comm_, stats_.comm_s);
      ops::copy(comm_, xw_, std::span<float>(send_.data(), xw_.size()));
    }
    if (had) add_received();  // recv_ is free again for this step's receive
    TimeScope t(comm_, stats_.comm_s);
    post(send_.data());
    in_flight_ = true;
  }

  void write_z() {
    std::span<float> z = model_.params();
    const float w = xw_[n_];
    ops::divided_copy(comm_, std::span<const float>(xw_.data(), n_), w, z.first(n_));
  }

  Communicator& comm_;
  Model& model_;
  bool overlap_;
  std::size_t n_;
  Schedule schedule_;
  int tag_;                      // one message per step and direction: non-overtaking keeps steps apart
  std::vector<float> xw_;        // [n + 1] numerators x_i, then the weight w_i
  std::vector<float> recv_;      // [n + 1] the half pushed by recv_from (p > 1)
  std::vector<float> send_;      // [n + 1] overlap: the half pushed at the last step, in flight (p > 1)
  std::array<Request, 2> reqs_;  // send, recv
  Partners partners_;
  bool started_ = false, in_flight_ = false;
  StepStats stats_;
};

}  // namespace

// For tests (tests/sweep/test_sgp.cpp declares it): if `a` is an sgp worker, its numerators and weight
// ([n + 1], weight last) and what it pushed that its peer has not added yet ([n + 1], or empty).
bool sgp_push_sum_state(const Algorithm& a, std::span<const float>& own, std::span<const float>& in_flight) {
  const auto* s = dynamic_cast<const Sgp*>(&a);
  if (!s) return false;
  own = s->own();
  in_flight = s->in_flight();
  return true;
}

AlgorithmSpec sgp_spec() {
  return {
      .name = "sgp",
      .summary = "Stochastic Gradient Push: push-sum gossip of (x, w) on a time-varying directed exponential graph",
      .provenance = "extension",
      .reference = "Assran et al., Stochastic Gradient Push for Distributed Deep Learning, ICML 2019 (Alg. 1; OSGP)",
      .options =
          {
              {.name = "overlap", .type = OptionType::Bool, .default_value = false,
               .doc = "OSGP: the push of step t is added at step t+1, overlapping its forward/backward; false: "
                      "synchronous SGP (the paper's Alg. 1)"},
          },
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<Sgp>(o, env);
      },
      .guarantees = [](const AlgorithmOptions& o, int p) {
        // With overlap the params (z = x / w) do not follow the mass law while mass is in flight: the
        // push-sum sums that do are checked by tests/sweep/test_sgp.cpp.
        Guarantees g{.mixes_parameters = true};
        if (o.get_bool("overlap")) return g;
        g.mass = Guarantees::Mass::Exact;
        if (p > 1 && is_power_of_two(p)) g.exact_mean_after_steps = cycle_length(p);
        return g;
      },
  };
}

}  // namespace gg
