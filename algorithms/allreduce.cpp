// allreduce: synchronous data-parallel SGD. As each gradient bucket becomes final during backward,
// a nonblocking allreduce (sum) of that slice starts (MPI_Iallreduce, or with
// AlgorithmEnv::ring_iallreduce the engine's ring / halving-doubling schedule: iallreduce.hpp); poll()
// between layers tests them so they progress; finish_step waits for all, scales by 1/p and runs the
// optimizer. Every rank applies the
// identical averaged gradient to identical parameters, so replicas stay bitwise identical.
//
// stats().bytes_sent counts 2 (p-1)/p of the gradient bytes: what a ring allreduce sends per rank.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/iallreduce.hpp"
#include "algorithms/spec.hpp"
#include "core/util/error.hpp"

namespace gg {

namespace {

class AllreduceSgd final : public Algorithm {
 public:
  explicit AllreduceSgd(const AlgorithmEnv& env)
      : comm_(env.comm), model_(env.model), iallreduce_(env.comm, env.ring_iallreduce) {
    setup();
  }

  std::string name() const override { return "allreduce"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  void begin_step(std::int64_t) override {
    stats_ = {};
    if (buckets_changed(model_, buckets_)) setup();
  }

  void on_bucket_ready(const Bucket& b) override {
    TimeScope t(comm_, stats_.comm_s);
    post(std::size_t(b.index));
  }

  void poll() override {
    if (in_flight_ == 0) return;
    TimeScope t(comm_, stats_.comm_s);
    for (std::size_t i = 0; i < reqs_.size(); ++i)
      if (reqs_[i].active() && reqs_[i].test()) --in_flight_;
  }

  void finish_step(TrainState& st) override {
    std::span<float> g = model_.grads();
    {
      TimeScope t(comm_, stats_.comm_s);
      for (std::size_t i = 0; i < buckets_.size(); ++i) post(i);  // buckets the hook did not announce
      TimeScope w(comm_, stats_.wait_s);
      for (Request& r : reqs_) r.wait();
      in_flight_ = 0;
      std::fill(posted_.begin(), posted_.end(), char(0));
    }
    if (comm_.size() > 1) {
      const float inv = 1.0f / float(comm_.size());
      for (float& x : g) x *= inv;
    }
    st.optimizer.step(model_.params(), g, st.lr);
  }

  // Nothing crosses a step boundary: finish_step waits for every bucket. The bucket count is recorded
  // so that a checkpoint of another layout is refused.
  void save_state(std::int64_t, StateWriter& out) override {
    if (in_flight_ != 0) throw std::logic_error("allreduce: save_state with allreduces in flight");
    out.put_int("allreduce.buckets", std::int64_t(buckets_.size()));
  }
  void load_state(StateReader& in) override {
    if (in.get_int("allreduce.buckets") != std::int64_t(buckets_.size()))
      throw InputError(in.source() + ": record 'allreduce.buckets': the checkpoint has another gradient bucket "
                       "layout (train.bucket_kb or the model differ)");
  }

 private:
  void setup() {
    buckets_ = model_buckets(model_);
    reqs_.clear();
    reqs_.resize(buckets_.size());
    posted_.assign(buckets_.size(), 0);
    std::vector<std::size_t> counts;
    for (const Bucket& b : buckets_) counts.push_back(b.count);
    iallreduce_.plan(counts);  // reserves the requests (and in ring mode the tags)
  }

  void post(std::size_t i) {
    if (i >= buckets_.size()) throw std::logic_error("allreduce: bucket index out of range");
    if (posted_[i]) return;
    posted_[i] = 1;
    if (comm_.size() == 1) return;
    const Bucket& b = buckets_[i];
    reqs_[i] = iallreduce_.start(i, model_.grads().subspan(b.offset, b.count));
    ++in_flight_;
    const int p = comm_.size();
    stats_.bytes_sent += 2 * std::uint64_t(p - 1) * b.count * sizeof(float) / std::uint64_t(p);
  }

  Communicator& comm_;
  Model& model_;
  Iallreduce iallreduce_;       // one slot per bucket
  std::vector<Bucket> buckets_;
  std::vector<Request> reqs_;   // [bucket]
  std::vector<char> posted_;    // [bucket] started this step
  int in_flight_ = 0;
  StepStats stats_;
};

}  // namespace

AlgorithmSpec allreduce_spec() {
  return {
      .name = "allreduce",
      .summary = "synchronous data-parallel SGD: bucketed nonblocking allreduce of gradients during backward",
      .provenance = "baseline",
      .reference = "the synchronous SGD baseline of Daily et al. 2018 (arXiv 1803.05880)",
      .make = [](const AlgorithmOptions&, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<AllreduceSgd>(env);
      },
      .guarantees = [](const AlgorithmOptions&, int) {
        return Guarantees{.mass = Guarantees::Mass::Exact, .identical_replicas = true};
      },
  };
}

}  // namespace gg
