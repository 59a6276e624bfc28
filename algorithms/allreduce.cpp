// allreduce: data-parallel SGD on allreduced gradients. As each gradient bucket becomes final during
// backward, a nonblocking allreduce (sum) of that slice starts (MPI_Iallreduce, or with
// AlgorithmEnv::ring_iallreduce the engine's ring / halving-doubling schedule: iallreduce.hpp); poll()
// between layers tests them so they progress. Option `timing`:
//   sync  (baseline): finish_step(t) waits for step t's allreduces (run in place on the gradient buffer),
//         scales by 1/p and runs the optimizer: x_{t+1} = step(x_t, G_t / p).
//   async (control, an extension): the update of step t uses the allreduced gradients of step t-1, so the
//         staleness equals async gossip's. Each bucket is copied into the slot of its step's parity and
//         its allreduce started there; it overlaps the rest of backward and the whole of step t+1 (poll()
//         drives it) and is completed in finish_step(t+1), which applies it with step t+1's lr:
//           step 0:        posts G_0, applies nothing (parameters and momentum unchanged);
//           step t >= 1:   x_{t+1} = step(x_t, G_{t-1} / p, lr_t);
//           finish():      completes G_{T-1} and applies it with the last step's lr (through the optimizer
//                          the algorithm was built with), so every gradient is applied exactly once.
//         Two slots of n floats (the copies; the model's gradients change in the next backward).
//         A delayed gradient narrows what momentum tolerates: on a quadratic of curvature h, heavy ball
//         with momentum b is stable for lr*h < 2(1+b) undelayed but only for lr*h < 1-b one step late
//         (characteristic z^2 - (1+b) z + b + lr*h). Measured on lenet/Fashion-MNIST, 4 ranks, batch 64,
//         200 steps: lr 0.02 / momentum 0.9 diverges at step 93 (sync: 84.7% top-1); lr 0.005: 77.0%
//         against 80.5% sync; momentum 0.5: 77.8% against 79.7%.
// Option `transport` (an extension; sync timing, a model on a GPU: train.device = cuda):
//   mpi  (default): the allreduces above, on the host's copy of the gradients.
//   nccl: each bucket is summed by NCCL on the GPU (core/comm/nccl_comm.hpp) the moment backward has
//         queued its last kernel (Model::set_device_bucket_hook), on the communication stream, ordered
//         after the bucket's kernels by an event; the model's copy of the bucket to the host follows it on
//         that stream, so the host receives the sum and on_bucket_ready has nothing left to start. The
//         host never waits mid-backward; finish_step scales by 1/p and runs the optimizer on the host
//         mirror, as with mpi. NCCL's traffic bypasses the communicator, so the run log's metered bytes
//         omit it; stats().bytes_sent counts it as below.
// Every rank applies the identical averaged gradient to identical parameters in the same order, so
// replicas stay bitwise identical in both modes. The sums over ranks follow Guarantees::Mass::Exact
// (sync) or Mass::Stale (async) (spec.hpp).
//
// stats().bytes_sent counts 2 (p-1)/p of the gradient bytes: what a ring allreduce sends per rank.
#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/iallreduce.hpp"
#include "algorithms/spec.hpp"
#include "core/comm/nccl_comm.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

class AllreduceSgd final : public Algorithm {
 public:
  AllreduceSgd(const AlgorithmEnv& env, bool stale, bool nccl)
      : comm_(env.comm), model_(env.model), optimizer_(env.optimizer), stale_(stale),
        iallreduce_(env.comm, env.ring_iallreduce) {
    if (nccl) {
      if (!model_.gpu() || !model_.host_staged())
        throw InputError("algorithm.transport: \"nccl\" needs the model on a GPU (train.device = \"cuda\")");
      if (stale_) throw InputError("algorithm.transport: \"nccl\" runs algorithm.timing = \"sync\" only");
      nccl_ = NcclComm::create(comm_, *model_.gpu());
      model_.set_device_bucket_hook([this](const Bucket& b) {
        TimeScope t(comm_, stats_.comm_s);
        post(parity(), std::size_t(b.index));
      });
    }
    setup();
  }
  ~AllreduceSgd() override {
    if (nccl_) model_.set_device_bucket_hook({});
  }

  std::string name() const override { return "allreduce"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  void begin_step(std::int64_t step) override {
    stats_ = {};
    stats_.staleness = stale_ && step > 0 ? 1 : 0;  // async: step t applies the gradients of step t-1
    step_ = step;
    if (buckets_changed(model_, buckets_)) {  // regrouped after construction: complete what flies, re-plan
      for (Slot& s : slots_) wait(s);
      setup();
    }
  }

  void on_bucket_ready(const Bucket& b) override {
    TimeScope t(comm_, stats_.comm_s);
    post(parity(), std::size_t(b.index));
  }

  void poll() override {
    if (in_flight_ == 0) return;
    TimeScope t(comm_, stats_.comm_s);
    for (Slot& s : slots_)
      for (Request& r : s.reqs)
        if (r.active() && r.test()) --in_flight_;
  }

  void finish_step(TrainState& st) override {
    Slot& apply = slots_[std::size_t(stale_ ? 1 - parity() : parity())];  // async: the allreduce of step t-1
    {
      TimeScope t(comm_, stats_.comm_s);
      for (std::size_t i = 0; i < buckets_.size(); ++i) post(parity(), i);  // buckets the hook did not announce
      TimeScope w(comm_, stats_.wait_s);
      wait(apply);
    }
    last_lr_ = st.lr;
    if (apply.active) update(apply, st.optimizer, st.lr);
  }

  void finish() override {
    for (Slot& s : slots_) {  // async: the allreduce of the last step
      wait(s);
      if (s.active) update(s, optimizer_, last_lr_);
    }
  }

  // sync: nothing crosses a step boundary (finish_step waits for every bucket). async: the allreduce
  // posted at the last step is pending; it is completed here (waited for, not applied) and its slot's
  // sum and flags saved, so that load_state puts it back and the next finish_step applies it exactly as
  // the uninterrupted run would. The bucket count is recorded so that a checkpoint of another layout is
  // refused.
  void save_state(std::int64_t, StateWriter& out) override {
    for (Slot& s : slots_) wait(s);
    if (in_flight_ != 0) throw std::logic_error("allreduce: save_state with allreduces in flight");
    out.put_int("allreduce.buckets", std::int64_t(buckets_.size()));
    out.put_int("allreduce.stale", stale_ ? 1 : 0);
    if (!stale_) return;
    out.put_double("allreduce.last_lr", last_lr_);
    for (Slot& s : slots_) {
      out.put_int("allreduce.slot.active", s.active ? 1 : 0);
      std::vector<std::int64_t> posted(s.posted.begin(), s.posted.end());
      out.put_ints("allreduce.slot.posted", posted);
      if (s.active) out.put_floats("allreduce.slot.sum", s.copy);
    }
  }
  void load_state(StateReader& in) override {
    if (in.get_int("allreduce.buckets") != std::int64_t(buckets_.size()))
      throw InputError(in.source() + ": record 'allreduce.buckets': the checkpoint has another gradient bucket "
                       "layout (train.bucket_kb or the model differ)");
    if ((in.get_int("allreduce.stale") != 0) != stale_)
      throw InputError(in.source() + ": record 'allreduce.stale': the checkpoint was written with another "
                       "algorithm.timing");
    if (!stale_) return;
    last_lr_ = in.get_double("allreduce.last_lr");
    for (Slot& s : slots_) {
      s.active = in.get_int("allreduce.slot.active") != 0;
      const std::vector<std::int64_t> posted = in.get_ints("allreduce.slot.posted");
      if (posted.size() != s.posted.size())
        throw InputError(in.source() + ": record 'allreduce.slot.posted': " + std::to_string(posted.size()) +
                         " buckets, expected " + std::to_string(s.posted.size()));
      for (std::size_t i = 0; i < posted.size(); ++i) s.posted[i] = char(posted[i] != 0);
      if (s.active) in.get_floats("allreduce.slot.sum", s.copy);
    }
  }

 private:
  // One step's allreduces: per bucket one request, on data(slot) (sync: the model's gradients, in place).
  struct Slot {
    std::vector<float> copy;    // [n] async only: the step's gradients, reduced in place
    std::vector<Request> reqs;  // [bucket]
    std::vector<char> posted;   // [bucket] started this step
    bool active = false;        // posted, not yet applied
  };

  int parity() const { return stale_ ? int(step_ & 1) : 0; }
  std::span<float> data(Slot& s) { return stale_ ? std::span<float>(s.copy) : model_.grads(); }

  void setup() {
    buckets_ = model_buckets(model_);
    const std::size_t used = stale_ ? 2 : 1, B = buckets_.size();
    std::vector<std::size_t> counts;  // Iallreduce slot k * B + i: bucket i of slot k
    for (std::size_t k = 0; k < used; ++k) {
      Slot& s = slots_[k];
      s.copy.resize(stale_ ? model_.num_params() : 0);  // a pending copy survives a regrouping
      s.reqs.clear();
      s.reqs.resize(B);
      s.posted.assign(B, 0);
      for (const Bucket& b : buckets_) counts.push_back(b.count);
    }
    iallreduce_.plan(counts);  // reserves the requests (and in ring mode the tags)
    in_flight_ = 0;
  }

  // Starts bucket i of slot k (once per step).
  void post(int k, std::size_t i) {
    if (i >= buckets_.size()) throw std::logic_error("allreduce: bucket index out of range");
    Slot& s = slots_[std::size_t(k)];
    if (s.posted[i]) return;
    s.posted[i] = 1;
    s.active = true;
    const Bucket& b = buckets_[i];
    if (stale_) {  // the model's gradients change in the next backward, before this allreduce completes
      ops::copy(comm_, model_.grads().subspan(b.offset, b.count), std::span<float>(s.copy).subspan(b.offset, b.count));
    }
    if (comm_.size() == 1) return;
    s.reqs[i] = nccl_ ? nccl_->allreduce_sum(model_.device_grads().subspan(b.offset, b.count))
                      : iallreduce_.start(std::size_t(k) * buckets_.size() + i, data(s).subspan(b.offset, b.count));
    ++in_flight_;
    const int p = comm_.size();
    stats_.bytes_sent += 2 * std::uint64_t(p - 1) * b.count * sizeof(float) / std::uint64_t(p);
  }

  void wait(Slot& s) {
    for (Request& r : s.reqs)
      if (r.active()) {
        r.wait();
        --in_flight_;
      }
  }

  // x <- optimizer step with the slot's summed gradients / p; the slot is free again.
  void update(Slot& s, Sgd& optimizer, double lr) {
    std::span<float> g = data(s);
    if (comm_.size() > 1) {
      const float inv = 1.0f / float(comm_.size());
      ops::scale(comm_, g, inv);
    }
    optimizer.step(model_.params(), g, lr);
    s.active = false;
    std::fill(s.posted.begin(), s.posted.end(), char(0));
  }

  Communicator& comm_;
  Model& model_;
  Sgd& optimizer_;              // finish() applies the last stale step through it
  bool stale_;                  // timing = async
  Iallreduce iallreduce_;       // one slot per bucket and step slot
  std::unique_ptr<NcclComm> nccl_;  // transport = nccl: the buckets are summed on the GPU
  std::vector<Bucket> buckets_;
  std::array<Slot, 2> slots_;   // [0] only when sync; async: [step parity]
  std::int64_t step_ = 0;
  double last_lr_ = 0;          // lr of the last finish_step (async: finish() applies with it)
  int in_flight_ = 0;           // requests started and not yet seen complete
  StepStats stats_;
};

}  // namespace

AlgorithmSpec allreduce_spec() {
  return {
      .name = "allreduce",
      .summary = "data-parallel SGD: bucketed nonblocking allreduce of gradients during backward",
      .provenance = "baseline",
      .reference = "the synchronous SGD baseline of Daily et al. 2018 (arXiv 1803.05880)",
      .options =
          {
              {.name = "timing", .default_value = "sync", .choices = {"sync", "async"},
               .doc = "sync: each step applies its own allreduced gradients (baseline); async: step t applies "
                      "step t-1's, the allreduce overlapping all of step t, one step stale like async gossip "
                      "(control, extension)"},
              {.name = "transport", .default_value = "mpi", .choices = {"mpi", "nccl"},
               .doc = "mpi: allreduce of the host's gradients through the communicator; nccl: NCCL sums each "
                      "bucket on the GPU as backward finishes it (train.device = cuda, timing = sync; extension)",
               .sweep = {"mpi"}},
          },
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<AllreduceSgd>(env, o.get_string("timing") == "async", o.get_string("transport") == "nccl");
      },
      .guarantees = [](const AlgorithmOptions& o, int) {
        const bool stale = o.get_string("timing") == "async";
        return Guarantees{.mass = stale ? Guarantees::Mass::Stale : Guarantees::Mass::Exact,
                          .identical_replicas = true};
      },
  };
}

}  // namespace gg
