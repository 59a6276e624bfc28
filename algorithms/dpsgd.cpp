// dpsgd: decentralized parallel SGD (Lian et al., "Can Decentralized Algorithms Outperform Centralized
// Algorithms? A Case Study for Decentralized Parallel Stochastic Gradient Descent", NeurIPS 2017, Alg. 1).
// Synchronous neighbour averaging with a fixed symmetric doubly-stochastic mixing matrix W:
//   x_i <- sum_j W_ij x_j - lr * u_i,   u_i = optimizer.step's update from g_i = grad at x_i
// Both the mixing and the gradient use x_i of the same step (the paper's x_{k+1} = x_k W - lr dF(x_k)),
// so the exchange of x_i runs during that step's compute (the paper's Alg. 1 notes the two can run in
// parallel): begin_step(t) posts x_i to every neighbour and a receive from each, poll() progresses them
// through forward/backward (which never change the params), finish_step waits, then
//   d_i = sum_{j in N(i)} W_ij (x_j - x_i);   optimizer.step on x_i (momentum local, weight decay on x_i);
//   x_i += d_i
// which is exactly the update above. Momentum is not mixed (the paper has none; it stays local).
//
// topology: the neighbours N(i) (distinct, != i) of a regular graph, W_ij = 1/(|N(i)| + 1) on i and N(i):
//   ring      i - 1, i + 1 (mod p): 1/3 each (p = 2: 1/2 each; p = 3 is complete)
//   torus     p = r x c (r the largest divisor of p with r <= sqrt p, r >= 2), rank i = (i / c, i % c): the
//             4 grid neighbours with wrap-around (a 2-row torus has 3 distinct neighbours, 2 x 2 has 2)
//   complete  every other rank: W = 1/p everywhere, one step of exact averaging (a check)
// Regular + symmetric neighbourhoods make W symmetric and doubly stochastic, so the mixing preserves the
// sum (the mean) of the params: the sums follow one optimizer step on the summed gradient (tests/sweep).
// GPU staging (simulated cluster): x_i is copied to the host once for all neighbours, the received
// copies stay on the host where d_i is formed, and d_i is copied back once (Communicator::host_resident).
// p = 1: no neighbours, plain SGD. stats().partner is the neighbour if there is exactly one, else -1.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "algorithms/algo_util.hpp"
#include "algorithms/spec.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

// Rows of the torus for p ranks (columns = p / rows); 1 if p has no divisor in [2, sqrt p].
int torus_rows(int p) {
  int r = 1;
  for (int d = 2; d * d <= p; ++d)
    if (p % d == 0) r = d;
  return r;
}

void check_topology(const AlgorithmOptions& o, int p, const std::string& path) {
  if (o.get_string("topology") == "torus" && p > 1 && torus_rows(p) < 2)
    throw InputError("config: '" + path + (path.empty() ? "" : ".") + "topology' torus needs p = rows x cols with " +
                     "rows, cols >= 2, got p = " + std::to_string(p) + " (a prime; use ring)");
}

// Distinct neighbours of rank i (never i itself), ascending.
std::vector<int> neighbours(const std::string& topology, int i, int p) {
  std::vector<int> n;
  if (topology == "ring") {
    n = {(i + p - 1) % p, (i + 1) % p};
  } else if (topology == "torus") {
    const int r = torus_rows(p), c = p / r, row = i / c, col = i % c;
    n = {((row + r - 1) % r) * c + col, ((row + 1) % r) * c + col, row * c + (col + c - 1) % c,
         row * c + (col + 1) % c};
  } else {
    for (int j = 0; j < p; ++j) n.push_back(j);
  }
  std::sort(n.begin(), n.end());
  n.erase(std::unique(n.begin(), n.end()), n.end());
  n.erase(std::remove(n.begin(), n.end(), i), n.end());
  return n;
}

class Dpsgd final : public Algorithm {
 public:
  Dpsgd(const AlgorithmOptions& o, const AlgorithmEnv& env)
      : comm_(env.comm),
        model_(env.model),
        n_(env.model.num_params()),
        nbrs_(neighbours(o.get_string("topology"), env.comm.rank(), env.comm.size())),
        tag_(env.comm.reserve_tags(1)),
        recv_(nbrs_.size() * n_, 0.0f),
        delta_(nbrs_.empty() ? 0 : n_, 0.0f),
        reqs_(2 * nbrs_.size()) {
    comm_.reserve_requests(reqs_.size());
  }

  std::string name() const override { return "dpsgd"; }
  int num_workers() const override { return comm_.size(); }
  int worker_index() const override { return comm_.rank(); }
  const StepStats& stats() const override { return stats_; }

  void begin_step(std::int64_t) override {
    stats_ = {};
    stats_.partner = nbrs_.size() == 1 ? nbrs_[0] : -1;
    if (nbrs_.empty()) return;
    TimeScope t(comm_, stats_.comm_s);
    const std::size_t bytes = n_ * sizeof(float);
    const float* x = model_.params().data();  // unchanged until finish_step, after every wait
    Communicator& host = comm_.host_resident();
    for (std::size_t k = 0; k < nbrs_.size(); ++k) {
      reqs_[2 * k] = (k == 0 ? comm_ : host).isend(x, bytes, nbrs_[k], tag_);  // staged to the host once
      reqs_[2 * k + 1] = host.irecv(recv_.data() + k * n_, bytes, nbrs_[k], tag_);
      stats_.bytes_sent += bytes;
    }
    in_flight_ = true;
  }

  void poll() override {
    if (!in_flight_) return;
    TimeScope t(comm_, stats_.comm_s);
    for (Request& r : reqs_) r.test();
  }

  void finish_step(TrainState& st) override {
    std::span<float> x = model_.params();
    const bool mixed = in_flight_;  // begin_step posted this step's exchange
    if (mixed) {
      {
        TimeScope t(comm_, stats_.comm_s);
        TimeScope w(comm_, stats_.wait_s);
        for (Request& r : reqs_) r.wait();
        in_flight_ = false;
      }
      // delta = sum_j W_ij (x_j - x_i) = (sum_{j in N(i)} x_j - |N(i)| x_i) / (|N(i)| + 1)
      const float inv = 1.0f / float(nbrs_.size() + 1), deg = float(nbrs_.size());
      ops::scaled_copy(comm_, x, -deg, delta_);
      for (std::size_t k = 0; k < nbrs_.size(); ++k)
        ops::add(comm_, delta_, std::span<const float>(recv_.data() + k * n_, n_));
      ops::scale(comm_, delta_, inv);
      comm_.account_staging(sizeof(float) * n_);  // d_i, host -> device
    }
    st.optimizer.step(x, model_.grads(), st.lr);
    if (mixed) {
      ops::add(comm_, x, delta_);
    }
  }

  void finish() override {
    for (Request& r : reqs_) r.wait();  // only if a step began and never finished
    in_flight_ = false;
  }

  // Each step's exchange is posted by begin_step and applied by finish_step: none crosses a boundary.
  void save_state(std::int64_t, StateWriter& out) override {
    if (in_flight_) throw std::logic_error("dpsgd: save_state inside a step");
    out.put_int("dpsgd.neighbours", std::int64_t(nbrs_.size()));
  }
  void load_state(StateReader& in) override {
    if (in.get_int("dpsgd.neighbours") != std::int64_t(nbrs_.size()))
      throw InputError(in.source() + ": record 'dpsgd.neighbours': the checkpoint was written with another topology");
  }

 private:
  Communicator& comm_;
  Model& model_;
  std::size_t n_;
  std::vector<int> nbrs_;      // distinct neighbours, ascending
  int tag_;                    // one message per neighbour and direction per step
  std::vector<float> recv_;    // [neighbour][n] their x of this step
  std::vector<float> delta_;   // [n] sum_j W_ij (x_j - x_i)
  std::vector<Request> reqs_;  // [neighbour][send, recv]
  bool in_flight_ = false;
  StepStats stats_;
};

}  // namespace

AlgorithmSpec dpsgd_spec() {
  return {
      .name = "dpsgd",
      .summary = "D-PSGD: synchronous averaging with fixed neighbours (symmetric doubly-stochastic W), overlapped "
                 "with the step's compute",
      .provenance = "extension",
      .reference = "Lian et al., Can Decentralized Algorithms Outperform Centralized Algorithms?, NeurIPS 2017 "
                   "(D-PSGD, Alg. 1)",
      .options =
          {
              {.name = "topology", .default_value = "ring", .choices = {"ring", "torus", "complete"},
               .doc = "neighbour graph: ring (the paper's experiments; 1/3 self and each neighbour), torus (2-D, "
                      "p = rows x cols), complete (exact averaging, a check)"},
          },
      .check = check_topology,
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        return std::make_unique<Dpsgd>(o, env);
      },
      .guarantees = [](const AlgorithmOptions& o, int p) {
        Guarantees g{.mass = Guarantees::Mass::Exact, .mixes_parameters = p > 1};
        // W = 1/p everywhere when every rank neighbours every other (complete; ring at p <= 3)
        if (p > 1 && neighbours(o.get_string("topology"), 0, p).size() + 1 == std::size_t(p))
          g.exact_mean_after_steps = 1;
        return g;
      },
  };
}

}  // namespace gg
