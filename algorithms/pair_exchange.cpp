#include "algorithms/pair_exchange.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "algorithms/algo_util.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

ScheduleSpec checked(const ScheduleSpec& spec, int p, const std::string& path) {
  check_schedule(spec, p, path + (path.empty() ? "" : ".") + "topology");
  return spec;
}

}  // namespace

std::vector<OptionSpec> pair_exchange_option_specs() {
  return {
      {.name = "topology", .default_value = "hypercube", .choices = {"hypercube", "dissemination"},
       .doc = "partner graph: hypercube (paper; p a power of two) or dissemination (extension; any p)"},
      {.name = "exchange", .default_value = "parameters", .choices = {"gradients", "parameters"},
       .doc = "what is averaged: parameters with momentum (original code) or gradients (the paper's text)"},
      {.name = "timing", .default_value = "async", .choices = {"sync", "async"},
       .doc = "async: the exchange overlaps the next step and is applied one step stale (paper); sync: waited "
              "for in the same step"},
      {.name = "async_rule", .default_value = "correction", .choices = {"correction", "average"},
       .doc = "exchange=parameters, timing=async: how the partner's one-step-stale w' is applied: correction "
              "w += (w' - w_sent)/2, keeps the sum over ranks (extension); average w = (w + w')/2 (original "
              "code, MaTEx), undoes half of each step's update"},
  };
}

void check_pair_exchange(const AlgorithmOptions& opt, int p, const std::string& path) {
  const std::string prefix = path + (path.empty() ? "" : ".");
  const ScheduleSpec spec{topology_from(opt.get_string("topology")), Rotation::None, 0};
  check_schedule(spec, p, prefix + "topology");
  if (opt.get_string("async_rule") != "correction" &&
      (opt.get_string("exchange") != "parameters" || opt.get_string("timing") != "async"))
    throw InputError("config: '" + prefix + "async_rule' \"" + opt.get_string("async_rule") +
                     "\" only applies to exchange \"parameters\" with timing \"async\"");
}

Guarantees pair_exchange_guarantees(const AlgorithmOptions& opt, int p) {
  const bool params = opt.get_string("exchange") == "parameters", sync = opt.get_string("timing") == "sync";
  Guarantees g;
  g.mass = params || sync || p == 1 ? Guarantees::Mass::Exact : Guarantees::Mass::HalfStale;
  g.mixes_parameters = params;
  // MaTEx's stale average keeps no sum while training; with lr = 0 it is the correction (a rank's own
  // value does not move within a step), so the exact mean below holds for it too
  if (opt.get_string("async_rule") == "average" && p > 1) g.mass = Guarantees::Mass::None;
  if (params && p > 1 && is_power_of_two(p)) g.exact_mean_after_steps = cycle_length(p) + (sync ? 0 : 1);
  return g;
}

PairExchangeOptions pair_exchange_options(const AlgorithmOptions& opt, std::uint64_t seed) {
  PairExchangeOptions o;
  o.name = opt.get_string("name");
  o.schedule.topology = topology_from(opt.get_string("topology"));
  o.schedule.seed = seed;
  o.exchange = opt.get_string("exchange") == "gradients" ? Exchange::Gradients : Exchange::Parameters;
  o.timing = opt.get_string("timing") == "sync" ? Timing::Sync : Timing::Async;
  o.async_rule = opt.get_string("async_rule") == "average" ? AsyncRule::Average : AsyncRule::Correction;
  return o;
}

PairExchange::PairExchange(PairExchangeOptions opt, const AlgorithmEnv& env, const std::string& config_path)
    : opt_(std::move(opt)),
      comm_(env.comm),
      model_(env.model),
      optimizer_(env.optimizer),
      schedule_(checked(opt_.schedule, env.comm.size(), config_path), env.comm.rank(), env.comm.size()),
      exchange_tag_(env.comm.reserve_tags(4)) {
  // One rank has nobody to swap samples with: the shuffle is a no-op there.
  if (opt_.shuffle != ShuffleRoute::None && comm_.size() > 1) shuffle_.emplace(comm_, model_.input_sample(), model_.max_batch());
  setup();
}

void PairExchange::setup() {
  buckets_ = model_buckets(model_);
  const std::size_t n = model_.num_params(), a = std::size_t(arrays());
  const bool two = opt_.exchange == Exchange::Gradients && opt_.timing == Timing::Async;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const bool used = i == 0 || two;
    s.active = false;
    s.recv.assign(used ? a * n : 0, 0.0f);
    s.send.assign(used && opt_.timing == Timing::Async ? a * n : 0, 0.0f);
    s.reqs.clear();
    s.reqs.resize(used ? buckets_.size() * a * 2 : 0);
    s.posted.assign(used ? buckets_.size() : 0, 0);
    comm_.reserve_requests(s.reqs.size());
  }
}

std::span<float> PairExchange::array(int a) {
  if (opt_.exchange == Exchange::Gradients) return model_.grads();
  return a == 0 ? model_.params() : optimizer_.momentum();
}

void PairExchange::begin_step(std::int64_t step) {
  stats_ = {};
  step_ = step;
  partners_ = schedule_.at(step);
  stats_.partner = partners_.send_to;
  // async: mixes in (gradients: adds) the partner's values of step t-1
  stats_.staleness = opt_.timing == Timing::Async && step > 0 ? 1 : 0;
  if (buckets_changed(model_, buckets_)) {  // regrouped after construction: drain, then re-plan
    for (Slot& s : slots_) wait(s);
    setup();
  }
}

void PairExchange::shuffle(Batch& batch) {
  if (shuffle_) shuffle_->exchange(batch, shuffle_partners(opt_.shuffle, comm_.rank(), comm_.size(), partners_), stats_);
}

void PairExchange::post(Slot& s, std::size_t b, int parity) {
  if (b >= buckets_.size()) throw std::logic_error(opt_.name + ": bucket index out of range");
  if (s.posted[b]) return;
  s.posted[b] = 1;
  if (!s.active) {
    s.active = true;
    s.partners = partners_;
  }
  const std::size_t n = model_.num_params(), off = buckets_[b].offset, cnt = buckets_[b].count;
  for (int a = 0; a < arrays(); ++a) {
    const float* src = array(a).data() + off;
    if (opt_.timing == Timing::Async) {  // the model's buffer changes before this send completes
      float* copy = s.send.data() + std::size_t(a) * n + off;
      ops::copy(comm_, std::span<const float>(src, cnt), std::span<float>(copy, cnt));
      src = copy;
    }
    const std::size_t r = (b * std::size_t(arrays()) + std::size_t(a)) * 2;
    const int tag = exchange_tag_ + 2 * a + parity;  // one channel per (array, parity): buckets in FIFO order
    s.reqs[r] = comm_.isend(src, cnt * sizeof(float), s.partners.send_to, tag);
    s.reqs[r + 1] = comm_.irecv(s.recv.data() + std::size_t(a) * n + off, cnt * sizeof(float), s.partners.recv_from, tag);
    stats_.bytes_sent += cnt * sizeof(float);
  }
}

void PairExchange::post_all(Slot& s, int parity) {
  for (std::size_t b = 0; b < buckets_.size(); ++b) post(s, b, parity);
}

void PairExchange::wait(Slot& s) {
  for (Request& r : s.reqs) r.wait();
}

void PairExchange::average_into(Slot& s) {
  const std::size_t n = model_.num_params();
  for (int a = 0; a < arrays(); ++a) {
    std::span<float> x = array(a);
    const float* r = s.recv.data() + std::size_t(a) * n;
    ops::average(comm_, x, std::span<const float>(r, n), x);
  }
  s.active = false;
  std::fill(s.posted.begin(), s.posted.end(), char(0));
}

void PairExchange::correct_toward(Slot& s) {
  const std::size_t n = model_.num_params();
  for (int a = 0; a < arrays(); ++a) {
    std::span<float> x = array(a);
    const float* r = s.recv.data() + std::size_t(a) * n;
    const float* sent = s.send.data() + std::size_t(a) * n;
    ops::correct(comm_, x, std::span<const float>(r, n), std::span<const float>(sent, n), 0.5f);
  }
  s.active = false;
  std::fill(s.posted.begin(), s.posted.end(), char(0));
}

void PairExchange::apply_stale(Slot& s) {
  if (opt_.async_rule == AsyncRule::Average) average_into(s);
  else correct_toward(s);
}

void PairExchange::on_bucket_ready(const Bucket& bucket) {
  if (opt_.exchange != Exchange::Gradients || comm_.size() == 1) return;
  TimeScope t(comm_, stats_.comm_s);
  const int parity = opt_.timing == Timing::Async ? int(step_ & 1) : 0;
  post(slots_[std::size_t(parity)], std::size_t(bucket.index), parity);
}

void PairExchange::poll() {
  if (shuffle_) shuffle_->poll(stats_);
  if (!slots_[0].active && !slots_[1].active) return;
  TimeScope t(comm_, stats_.comm_s);
  for (Slot& s : slots_)
    if (s.active)
      for (Request& r : s.reqs) r.test();
}

void PairExchange::finish_step(TrainState& st) {
  if (comm_.size() == 1) {
    st.optimizer.step(model_.params(), model_.grads(), st.lr);
    return;
  }
  const bool async = opt_.timing == Timing::Async;
  if (opt_.exchange == Exchange::Gradients) {
    const int parity = async ? int(step_ & 1) : 0;
    Slot& cur = slots_[std::size_t(parity)];
    Slot& apply = async ? slots_[std::size_t(1 - parity)] : cur;  // async: the exchange of step t-1
    {
      TimeScope t(comm_, stats_.comm_s);
      post_all(cur, parity);  // buckets the hook did not announce
      TimeScope w(comm_, stats_.wait_s);
      if (apply.active) wait(apply);
    }
    if (apply.active) average_into(apply);
    st.optimizer.step(model_.params(), model_.grads(), st.lr);
    return;
  }
  st.optimizer.step(model_.params(), model_.grads(), st.lr);
  Slot& s = slots_[0];
  TimeScope t(comm_, stats_.comm_s);
  if (async && s.active) {  // apply step t-1's exchange, then post this step's
    {
      TimeScope w(comm_, stats_.wait_s);
      wait(s);
    }
    apply_stale(s);
  }
  post_all(s, 0);
  if (!async) {
    {
      TimeScope w(comm_, stats_.wait_s);
      wait(s);
    }
    average_into(s);
  }
}

void PairExchange::finish() {
  for (Slot& s : slots_) {
    if (!s.active) continue;
    wait(s);
    if (opt_.exchange == Exchange::Parameters) apply_stale(s);  // async parameters: apply the last one
    s.active = false;
    std::fill(s.posted.begin(), s.posted.end(), char(0));
  }
  if (shuffle_) shuffle_->finish();
}

void PairExchange::save_state(std::int64_t, StateWriter& out) {
  out.put_int("pair.buckets", std::int64_t(buckets_.size()));
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const std::string key = "pair.slot" + std::to_string(i);
    if (s.active) wait(s);  // transport only: the next finish_step (or finish) applies it
    out.put_int(key + ".active", s.active ? 1 : 0);
    if (!s.active) continue;
    const std::int64_t partners[2] = {s.partners.send_to, s.partners.recv_from};
    out.put_ints(key + ".partners", partners);
    out.put_floats(key + ".recv", s.recv);
    out.put_floats(key + ".send", s.send);
    out.put_bytes(key + ".posted", std::as_bytes(std::span<const char>(s.posted)));
  }
  // 0: no shuffle, 1: partner (what checkpoints from before the ring route wrote for "on"), 2: ring
  out.put_int("pair.shuffle", shuffle_ ? std::int64_t(opt_.shuffle) : 0);
  if (shuffle_) shuffle_->save_state(out);
}

void PairExchange::load_state(StateReader& in) {
  if (in.get_int("pair.buckets") != std::int64_t(buckets_.size()))
    throw InputError(in.source() + ": record 'pair.buckets': the checkpoint has another gradient bucket layout "
                     "(train.bucket_kb or the model differ)");
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const std::string key = "pair.slot" + std::to_string(i);
    s.active = in.get_int(key + ".active") != 0;
    if (!s.active) continue;
    std::int64_t partners[2] = {};
    in.get_ints(key + ".partners", partners);
    s.partners = {int(partners[0]), int(partners[1])};
    in.get_floats(key + ".recv", s.recv);
    in.get_floats(key + ".send", s.send);
    const std::span<const std::byte> posted = in.get_bytes(key + ".posted");
    if (posted.size() != s.posted.size())
      throw InputError(in.source() + ": record '" + key + ".posted': " + std::to_string(posted.size()) +
                       " buckets, expected " + std::to_string(s.posted.size()));
    std::memcpy(s.posted.data(), posted.data(), posted.size());
  }
  if (in.get_int("pair.shuffle") != (shuffle_ ? std::int64_t(opt_.shuffle) : 0))
    throw InputError(in.source() + ": record 'pair.shuffle': the checkpoint was written with another sample shuffle "
                     "setting");
  if (shuffle_) shuffle_->load_state(in);
}

}  // namespace gg
