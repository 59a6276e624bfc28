#include "core/train/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "core/layers/softmax_xent.hpp"

namespace gg {

EvalSums evaluate_range(Model& model, const Dataset& data, std::int64_t begin, std::int64_t end, Batch& scratch) {
  EvalSums s;
  const RunContext ctx{Phase::Eval, 0};
  std::vector<std::int64_t> ids(model.max_batch());
  for (std::int64_t at = begin; at < end; at += model.max_batch()) {
    const int n = int(std::min<std::int64_t>(model.max_batch(), end - at));
    std::iota(ids.begin(), ids.begin() + n, at);
    data.gather(ids.data(), n, scratch);
    const Tensor& logits = model.forward(scratch.x, ctx);
    s.loss += double(softmax_xent(logits, scratch.labels, nullptr, model.gpu())) * n;
    int top1 = 0, top5 = 0;
    topk_correct(logits, scratch.labels, &top1, &top5);
    s.top1 += top1;
    s.top5 += top5;
    s.count += n;
  }
  return s;
}

Evaluator::Evaluator(Communicator& workers, Model& model, const Dataset& test, bool eval_replicas)
    : comm_(workers), model_(model), test_(test), eval_replicas_(eval_replicas),
      mean_(model.num_params()), backup_(model.num_params()) {}

namespace {

// Worker me's share of the averaged model's evaluation: [lo, hi) of n.
std::pair<std::int64_t, std::int64_t> averaged_slice(std::int64_t n, int me, int p) {
  return {n * me / p, n * (me + 1) / p};
}

}  // namespace

std::vector<std::int64_t> Evaluator::samples_used(std::int64_t n, int me, int p, bool eval_replicas) {
  auto [lo, hi] = eval_replicas || me == 0 ? std::pair<std::int64_t, std::int64_t>{0, n} : averaged_slice(n, me, p);
  std::vector<std::int64_t> ids(std::size_t(hi - lo));
  std::iota(ids.begin(), ids.end(), lo);
  return ids;
}

Metrics Evaluator::to_metrics(const EvalSums& s) const {
  const double n = std::max(1.0, s.count);
  return {s.loss / n, s.top1 / n, s.top5 / n};
}

EvalRecord Evaluator::run() {
  EvalRecord r;
  const int p = comm_.size(), me = comm_.rank();
  const std::int64_t n = test_.samples();
  auto params = model_.params();

  // Each replica on the full test set (or only worker 0's, when eval_replicas is off).
  Metrics mine{};
  if (eval_replicas_ || me == 0) mine = to_metrics(evaluate_range(model_, test_, 0, n, scratch_));
  std::vector<double> all(std::size_t(p) * 3, 0.0);
  all[std::size_t(me) * 3 + 0] = mine.loss;
  all[std::size_t(me) * 3 + 1] = mine.top1;
  all[std::size_t(me) * 3 + 2] = mine.top5;
  comm_.allreduce_sum(all);
  r.rank0 = {all[0], all[1], all[2]};
  r.replica_min = r.replica_max = r.rank0;
  if (eval_replicas_) {
    for (int i = 1; i < p; ++i) {
      const Metrics m{all[i * 3], all[i * 3 + 1], all[i * 3 + 2]};
      if (m.top1 < r.replica_min.top1) r.replica_min = m;
      if (m.top1 > r.replica_max.top1) r.replica_max = m;
    }
  }

  // The averaged model: xbar = mean of replicas; consensus = mean_i ||x_i - xbar|| / ||xbar||.
  std::copy(params.begin(), params.end(), mean_.begin());
  comm_.allreduce_sum(mean_);
  const float inv = 1.0f / float(p);
  double dist = 0, norm = 0;
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    mean_[i] *= inv;
    const double d = double(params[i]) - mean_[i];
    dist += d * d;
    norm += double(mean_[i]) * mean_[i];
  }
  std::vector<double> consensus{std::sqrt(dist) / std::max(1e-30, std::sqrt(norm))};
  comm_.allreduce_sum(consensus);
  r.consensus = consensus[0] / p;

  // Evaluate the average, each worker on its slice of the test set, then sum.
  std::copy(params.begin(), params.end(), backup_.begin());
  std::copy(mean_.begin(), mean_.end(), params.begin());
  const auto [lo, hi] = averaged_slice(n, me, p);
  const EvalSums s = evaluate_range(model_, test_, lo, hi, scratch_);
  std::copy(backup_.begin(), backup_.end(), params.begin());
  std::vector<double> sums{s.loss, s.top1, s.top5, s.count};
  comm_.allreduce_sum(sums);
  r.averaged = to_metrics({sums[0], sums[1], sums[2], sums[3]});
  return r;
}

}  // namespace gg
