// ps with servers = 0: colocated parameter servers, synchronous. Every rank trains and serves shard r of
// p (ParameterServer::shard); the protocol, its summation order and what it guarantees are in ps.hpp.
// GPU staging (simulated cluster): the worker's pushes and pulls are staged per message; the serving
// role's messages (pushes received, shard sent back) stay in host memory (Communicator::host_resident).
// Checkpoints: finish_step waits for every push and pull, so nothing is in flight at a step boundary;
// the state is this rank's shard optimizer (its momentum: the trainer saves only the model's optimizer,
// which the colocated servers do not use) and the shard layout, checked on load.
#include <algorithm>
#include <memory>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/ps.hpp"
#include "core/util/error.hpp"
#include "core/util/state_io.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

class ColocatedPs final : public Algorithm {
 public:
  explicit ColocatedPs(const AlgorithmEnv& env) : comm_(env.comm), model_(env.model) {
    const int p = comm_.size(), r = comm_.rank();
    for (int s = 0; s < p; ++s) shards_.push_back(ParameterServer::shard(model_.num_params(), p, s));
    mine_ = shards_[std::size_t(r)];
    sgd_ = shard_optimizer(env.optimizer, model_, mine_);
    sgd_->set_memory_hook(ops::memory_hook(comm_));
    inbox_.assign(std::size_t(p) * mine_.count, 0.0f);
    sum_.assign(mine_.count, 0.0f);
    const int tags = comm_.reserve_tags(2);  // every rank alike
    grad_tag_ = tags;
    params_tag_ = tags + 1;
    for (auto* v : {&push_in_, &push_out_, &pull_in_, &pull_out_}) v->resize(std::size_t(p));
    comm_.reserve_requests(4 * std::size_t(p - 1));
  }

  std::string name() const override { return "ps"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  void begin_step(std::int64_t) override { stats_ = {}; }
  const StepStats& stats() const override { return stats_; }

  void finish_step(TrainState& st) override {
    const int p = comm_.size(), r = comm_.rank();
    float* w = model_.params().data();
    const float* g = model_.grads().data();
    const std::size_t m = mine_.count;
    {
      TimeScope t(comm_, stats_.comm_s);
      for (int q = 0; q < p; ++q) {
        if (q == r) continue;
        const Bucket& sh = shards_[std::size_t(q)];
        const std::size_t uq = std::size_t(q);
        push_in_[uq] = comm_.host_resident().irecv(inbox_.data() + uq * m, m * sizeof(float), q, grad_tag_);
        pull_in_[uq] = comm_.irecv(w + sh.offset, sh.count * sizeof(float), q, params_tag_);
        push_out_[uq] = comm_.isend(g + sh.offset, sh.count * sizeof(float), q, grad_tag_);
        stats_.bytes_sent += sh.count * sizeof(float);
      }
      ops::copy(comm_, std::span<const float>(g + mine_.offset, m), std::span<float>(sum_.data(), m));  // own push first
      for (int k = 1; k < p; ++k) {  // then the others in the fixed order r+1, ..., r-1
        const std::size_t q = std::size_t((r + k) % p);
        {
          TimeScope wt(comm_, stats_.wait_s);
          push_in_[q].wait();
        }
        ops::add(comm_, std::span<float>(sum_.data(), m), std::span<const float>(inbox_.data() + q * m, m));
      }
    }
    if (p > 1) {
      const float inv = 1.0f / float(p);
      ops::scale(comm_, std::span<float>(sum_.data(), m), inv);
    }
    sgd_->step(model_.params().subspan(mine_.offset, m), sum_, st.lr);
    TimeScope t(comm_, stats_.comm_s);
    for (int q = 0; q < p; ++q) {
      if (q == r) continue;
      pull_out_[std::size_t(q)] = comm_.host_resident().isend(w + mine_.offset, m * sizeof(float), q, params_tag_);
      stats_.bytes_sent += m * sizeof(float);
    }
    TimeScope wt(comm_, stats_.wait_s);  // the shard must not change, nor the gradients, before they left
    for (auto* reqs : {&pull_in_, &push_out_, &pull_out_})
      for (Request& q : *reqs) q.wait();
  }

  void save_state(std::int64_t, StateWriter& out) override {
    out.put_int("ps.colocated.ranks", comm_.size());
    out.put_int("ps.colocated.shard_offset", std::int64_t(mine_.offset));
    out.put_floats("ps.colocated.momentum", sgd_->momentum());
  }
  void load_state(StateReader& in) override {
    const auto bad = [&](const char* record, const std::string& why) {
      throw InputError(in.source() + ": record '" + record + "': " + why);
    };
    if (in.get_int("ps.colocated.ranks") != comm_.size())
      bad("ps.colocated.ranks", "written by another number of ranks (algorithm.servers 0: every rank serves a shard)");
    if (in.get_int("ps.colocated.shard_offset") != std::int64_t(mine_.offset))
      bad("ps.colocated.shard_offset", "written for another shard of the parameters");
    in.get_floats("ps.colocated.momentum", sgd_->momentum());
  }

 private:
  Communicator& comm_;
  Model& model_;
  std::vector<Bucket> shards_;  // [rank] shard served by that rank
  Bucket mine_;
  std::unique_ptr<Sgd> sgd_;    // momentum of my shard
  std::vector<float> inbox_;    // [p][shard] pushes of my shard, by sender (own slot unused)
  std::vector<float> sum_;      // [shard]
  int grad_tag_ = 0, params_tag_ = 0;
  std::vector<Request> push_in_, push_out_, pull_in_, pull_out_;  // [peer rank]
  StepStats stats_;
};

}  // namespace

std::unique_ptr<Algorithm> make_colocated_ps(const AlgorithmEnv& env) { return std::make_unique<ColocatedPs>(env); }

}  // namespace gg
