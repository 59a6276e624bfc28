// local_sgd: local SGD and post-local SGD (Lin et al., "Don't Use Large Mini-Batches, Use Local SGD",
// ICLR 2020). Every worker takes `period` = H optimizer steps on its own replica, then all replicas are
// replaced by their exact average (one blocking allreduce of the parameters):
//   x_i <- x_i - lr * update_i(g_i)             every step (momentum stays local, as in the paper)
//   x_i <- (1/W) sum_j x_j                      after steps t with (t + 1) mod H == 0
// post_local = true: synchronous SGD (gradients allreduced and averaged every step, as `allreduce`)
// until the learning rate first decays (the first step whose lr is below the previous step's; warm-up
// only raises it), then local SGD with period H from that step on.
// Invariants (tests/sweep): the averaging preserves the sum of the parameters and momentum is never
// mixed, so the sums follow one SGD step on the summed gradient; with lr = 0 every worker holds the
// global mean after H steps. H = 1 is synchronous model averaging every step.
// Communication is fully exposed (the model is averaged after the step, nothing to overlap with). The
// averages run on the engine's nonblocking allreduce (iallreduce.hpp), waited for at once, so that
// comm.iallreduce = "ring" applies to them as to every other algorithm's allreduce.
#include <algorithm>
#include <memory>

#include "algorithms/algo_util.hpp"
#include "algorithms/iallreduce.hpp"
#include "algorithms/spec.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

class LocalSgd final : public Algorithm {
 public:
  LocalSgd(const AlgorithmOptions& o, const AlgorithmEnv& env)
      : comm_(env.comm),
        model_(env.model),
        allreduce_(env.comm, env.ring_iallreduce),
        period_(o.get_int("period")),
        post_local_(o.get_bool("post_local")) {
    local_ = !post_local_;
    const std::size_t n[] = {model_.num_params()};  // one slot: the gradients or the parameters
    allreduce_.plan(n);
    comm_.reserve_requests(1);
  }

  std::string name() const override { return "local_sgd"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }
  void begin_step(std::int64_t) override { stats_ = {}; }

  void finish_step(TrainState& st) override {
    if (!local_ && st.step > 0 && st.lr < last_lr_) {  // post-local: the first decay switches to local SGD
      local_ = true;
      switched_at_ = st.step;
    }
    last_lr_ = st.lr;
    const int p = comm_.size();
    if (!local_) {  // synchronous SGD: average the gradients, then the same step everywhere
      allreduce(model_.grads());
      if (p > 1) scale(model_.grads(), 1.0f / float(p));
      st.optimizer.step(model_.params(), model_.grads(), st.lr);
      return;
    }
    st.optimizer.step(model_.params(), model_.grads(), st.lr);
    if ((st.step - switched_at_ + 1) % period_ != 0) return;
    allreduce(model_.params());
    if (p > 1) scale(model_.params(), 1.0f / float(p));
  }

  // Nothing is in flight between steps; the post-local switch and the period's origin are saved.
  void save_state(std::int64_t, StateWriter& out) override {
    out.put_int("local_sgd.local", local_ ? 1 : 0);
    out.put_double("local_sgd.last_lr", last_lr_);
    out.put_int("local_sgd.switched_at", switched_at_);
  }
  void load_state(StateReader& in) override {
    local_ = in.get_int("local_sgd.local") != 0;
    last_lr_ = in.get_double("local_sgd.last_lr");
    switched_at_ = in.get_int("local_sgd.switched_at");
  }

 private:
  void scale(std::span<float> x, float a) {
    ops::scale(comm_, x, a);
  }

  void allreduce(std::span<float> x) {
    const int p = comm_.size();
    if (p == 1) return;
    TimeScope t(comm_, stats_.comm_s);
    TimeScope w(comm_, stats_.wait_s);  // waited for at once: all of it is waiting
    allreduce_.start(0, x).wait();
    stats_.bytes_sent += 2 * std::uint64_t(p - 1) * x.size() * sizeof(float) / std::uint64_t(p);
  }

  Communicator& comm_;
  Model& model_;
  Iallreduce allreduce_;
  std::int64_t period_;
  bool post_local_, local_;
  double last_lr_ = 0;
  std::int64_t switched_at_ = 0;  // the period counts from the switch
  StepStats stats_;
};

}  // namespace

AlgorithmSpec local_sgd_spec() {
  return {
      .name = "local_sgd",
      .summary = "local SGD: H local steps, then an exact average of the models (post-local: sync SGD first)",
      .provenance = "extension",
      .reference = "Lin et al., Don't Use Large Mini-Batches, Use Local SGD, ICLR 2020 (local and post-local SGD)",
      .options =
          {
              {.name = "period", .type = OptionType::Int, .default_value = 4, .min = 1, .max = 1 << 20,
               .doc = "H: local steps between model averages", .sweep = {1, 3}},
              {.name = "post_local", .type = OptionType::Bool, .default_value = false,
               .doc = "synchronous SGD until the learning rate first decays, then local SGD (post-local SGD)"},
          },
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<LocalSgd>(o, env);
      },
      .guarantees = [](const AlgorithmOptions& o, int p) {
        Guarantees g{.mass = Guarantees::Mass::Exact, .mixes_parameters = true};
        // post-local with a constant lr never switches: it stays synchronous SGD (no model averaging)
        if (!o.get_bool("post_local")) g.exact_mean_after_steps = p > 1 ? int(o.get_int("period")) : 0;
        else g.mixes_parameters = false;
        return g;
      },
  };
}

}  // namespace gg
