#include "algorithms/ps.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "algorithms/algo_util.hpp"
#include "core/util/error.hpp"
#include "core/comm/charged_ops.hpp"

namespace gg {

namespace {

constexpr std::int64_t kPush = 1, kDone = 2, kCheckpoint = 3;

}  // namespace

std::unique_ptr<Sgd> shard_optimizer(const Sgd& like, const Model& model, const Bucket& shard) {
  std::vector<ParamRange> ranges;
  for (const ParamRange& r : model.ranges()) {
    const std::size_t a = std::max(r.offset, shard.offset), b = std::min(r.offset + r.count, shard.offset + shard.count);
    if (a < b) ranges.push_back({a - shard.offset, b - a, r.decay, r.name});
  }
  return std::make_unique<Sgd>(like.options(), ranges, shard.count);
}

Bucket ParameterServer::shard(std::size_t n, int servers, int s) {
  const std::size_t base = n / std::size_t(servers), extra = n % std::size_t(servers), i = std::size_t(s);
  return Bucket{s, i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

ParameterServer::ParameterServer(PsOptions opt, const AlgorithmEnv& env, const std::string& path)
    : opt_(opt), comm_(env.comm), host_(env.comm.host_resident()), model_(env.model) {
  const int p = comm_.size();
  const std::string where = path.empty() ? "servers" : path + ".servers";
  if (opt_.servers < 1 || opt_.servers > p - 1)
    throw InputError("config: '" + where + "' " + std::to_string(opt_.servers) + " server(s) need at least " +
                     std::to_string(opt_.servers + 1) + " ranks (the servers plus one worker), got " +
                     std::to_string(p));
  workers_ = p - opt_.servers;
  server_ = comm_.rank() >= workers_ ? comm_.rank() - workers_ : -1;
  // sync: server s takes pushes in worker order starting at worker s*W/S, so the S servers do not all
  // pull from the same worker at once, and each server's sum order is still the same in every run
  if (server_ >= 0) cursor_ = int(std::int64_t(server_) * workers_ / opt_.servers);
  const int tags = comm_.reserve_tags(5);  // every rank, workers and servers alike
  init_tag_ = tags;
  header_tag_ = tags + 1;
  grad_tag_ = tags + 2;
  params_tag_ = tags + 3;
  ack_tag_ = tags + 4;
  const std::size_t n = model_.num_params();
  if (server_ < 0) {
    for (int s = 0; s < opt_.servers; ++s) shards_.push_back(shard(n, opt_.servers, s));
    pulls_.resize(shards_.size());
    header_reqs_.resize(shards_.size());
    push_reqs_.resize(shards_.size());
    comm_.reserve_requests(3 * shards_.size());
    return;
  }
  mine_ = shard(n, opt_.servers, server_);
  sgd_ = shard_optimizer(env.optimizer, model_, mine_);
  sgd_->set_memory_hook(ops::memory_hook(comm_));
  params_.assign(mine_.count, 0.0f);
  inbox_.assign(mine_.count, 0.0f);
  if (!opt_.async) sum_.assign(mine_.count, 0.0f);
  applied_.assign(std::size_t(workers_), 0);
  finished_.assign(std::size_t(workers_), 0);
  deferred_.assign(std::size_t(workers_), 0);
  asked_.assign(std::size_t(workers_), 0);
  replies_.resize(std::size_t(workers_));
  comm_.reserve_requests(replies_.size());
}

// ---- worker side ----

void ParameterServer::send_init() {
  init_sent_ = true;
  if (comm_.rank() != 0) return;
  const float* w = model_.params().data();
  for (std::size_t s = 0; s < shards_.size(); ++s)
    comm_.send(w + shards_[s].offset, shards_[s].count * sizeof(float), server_rank(int(s)), init_tag_);
}

void ParameterServer::finish_step(TrainState& st) {
  if (server_ >= 0) throw std::logic_error("ps: finish_step called on a server rank");
  TimeScope t(comm_, stats_.comm_s);
  if (!init_sent_) send_init();
  float* w = model_.params().data();
  const float* g = model_.grads().data();
  header_ = {kPush, st.step, st.lr};
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    const Bucket& sh = shards_[s];
    const int dst = server_rank(int(s));
    pulls_[s] = comm_.irecv(w + sh.offset, sh.count * sizeof(float), dst, params_tag_);
    header_reqs_[s] = comm_.isend(&header_, sizeof header_, dst, header_tag_);
    push_reqs_[s] = comm_.isend(g + sh.offset, sh.count * sizeof(float), dst, grad_tag_);
    stats_.bytes_sent += sizeof header_ + sh.count * sizeof(float);
  }
  TimeScope wt(comm_, stats_.wait_s);
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    header_reqs_[s].wait();
    push_reqs_[s].wait();
    pulls_[s].wait();
  }
}

void ParameterServer::finish() {
  if (server_ >= 0 || done_) return;
  done_ = true;
  if (!init_sent_) send_init();  // the servers wait for it even if no step ran
  const Header done{kDone, -1, 0.0};
  for (std::size_t s = 0; s < shards_.size(); ++s) comm_.send(&done, sizeof done, server_rank(int(s)), header_tag_);
}

// ---- server side ----

bool ParameterServer::may_answer(int w) const {
  if (!opt_.async || opt_.staleness <= 0) return true;
  std::int64_t slowest = applied_[std::size_t(w)];
  for (int v = 0; v < workers_; ++v)
    if (!finished_[std::size_t(v)]) slowest = std::min(slowest, applied_[std::size_t(v)]);
  return applied_[std::size_t(w)] - slowest <= opt_.staleness;
}

void ParameterServer::answer(int w) {
  host_.send(params_.data(), params_.size() * sizeof(float), w, params_tag_);  // w has posted its receive
}

void ParameterServer::answer_deferred() {
  for (int w = 0; w < workers_; ++w)
    if (deferred_[std::size_t(w)] && may_answer(w)) {
      deferred_[std::size_t(w)] = 0;
      answer(w);
    }
}

int ParameterServer::next_in_worker_order() {
  while (finished_[std::size_t(cursor_)]) cursor_ = (cursor_ + 1) % workers_;
  const int w = cursor_;
  cursor_ = (cursor_ + 1) % workers_;
  return w;
}

void ParameterServer::apply_sync(int w, const Header& h) {
  if (arrived_ == 0) {
    current_ = h;
    ops::copy(comm_, inbox_, sum_);
  } else {
    if (h.step != current_.step)
      throw std::runtime_error("ps sync: worker " + std::to_string(w) + " pushed step " + std::to_string(h.step) +
                               " while step " + std::to_string(current_.step) + " is being collected");
    ops::add(comm_, sum_, inbox_);
  }
  if (++arrived_ < workers_) return;
  const float inv = 1.0f / float(workers_);
  ops::scale(comm_, sum_, inv);
  sgd_->step(params_, sum_, current_.lr);
  for (int v = 0; v < workers_; ++v) {
    ++applied_[std::size_t(v)];
    replies_[std::size_t(v)] = host_.isend(params_.data(), params_.size() * sizeof(float), v, params_tag_);
  }
  for (Request& r : replies_) r.wait();  // params_ must not change before every copy has left
  arrived_ = 0;
}

void ParameterServer::apply_async(int w, const Header& h) {
  const float inv = 1.0f / float(workers_);
  ops::scale(comm_, inbox_, inv);
  sgd_->step(params_, inbox_, h.lr);
  ++applied_[std::size_t(w)];
  if (may_answer(w)) answer(w);
  else deferred_[std::size_t(w)] = 1;
  answer_deferred();
}

void ParameterServer::serve() {
  if (server_ < 0) throw std::logic_error("ps: serve called on a worker rank");
  if (!initialized_) host_.recv(params_.data(), params_.size() * sizeof(float), 0, init_tag_);
  initialized_ = true;
  int done = 0;
  for (char f : finished_) done += f;
  while (done < workers_) {
    Header h{};
    std::size_t got = sizeof h;
    // sync: pushes are taken in worker order, so the sum (and the run) is the same every time;
    // async: in arrival order, which is the point of it
    const int w = opt_.async ? host_.recv_any(&h, sizeof h, header_tag_, &got) : next_in_worker_order();
    if (!opt_.async) host_.recv(&h, sizeof h, w, header_tag_);
    if (got != sizeof h || w < 0 || w >= workers_ || (h.kind != kPush && h.kind != kDone && h.kind != kCheckpoint))
      throw std::runtime_error("ps: malformed header from rank " + std::to_string(w));
    if (h.kind == kCheckpoint) {
      checkpoint_request(w, h);
      continue;
    }
    if (h.kind == kDone) {
      if (finished_[std::size_t(w)]) throw std::runtime_error("ps: worker " + std::to_string(w) + " finished twice");
      finished_[std::size_t(w)] = 1;
      ++done;
      if (!opt_.async && arrived_ > 0)
        throw std::runtime_error("ps sync: worker " + std::to_string(w) + " finished while step " +
                                 std::to_string(current_.step) + " still waits for pushes");
      answer_deferred();  // the slowest may have left: others can go on
      continue;
    }
    host_.recv(inbox_.data(), inbox_.size() * sizeof(float), w, grad_tag_);
    if (opt_.async) apply_async(w, h);
    else apply_sync(w, h);
  }
}

// ---- checkpoints ----

void ParameterServer::checkpoint_request(int w, const Header& h) {
  if (!opt_.async && arrived_ > 0)
    throw std::runtime_error("ps sync: worker " + std::to_string(w) + " asked for a checkpoint while step " +
                             std::to_string(current_.step) + " still waits for pushes");
  if (asked_[std::size_t(w)]) throw std::runtime_error("ps: worker " + std::to_string(w) + " asked twice for a checkpoint");
  if (asks_ > 0 && h.step != ask_step_)
    throw std::runtime_error("ps: worker " + std::to_string(w) + " asked for a checkpoint after step " +
                             std::to_string(h.step) + ", others after " + std::to_string(ask_step_));
  asked_[std::size_t(w)] = 1;
  ask_step_ = h.step;
  int unfinished = 0;
  for (char f : finished_) unfinished += f ? 0 : 1;
  if (++asks_ < unfinished) return;
  std::int64_t ok = 1;
  std::string error;
  try {
    if (!hook_) throw std::logic_error("ps: a checkpoint was requested, but this server has no checkpoint hook");
    StateWriter out;
    save_server(out);
    hook_(ask_step_, out);
  } catch (const std::exception& e) {
    ok = 0;
    error = e.what();
  }
  for (int v = 0; v < workers_; ++v)
    if (asked_[std::size_t(v)]) host_.send(&ok, sizeof ok, v, ack_tag_);
  std::fill(asked_.begin(), asked_.end(), char(0));
  asks_ = 0;
  if (!ok) throw std::runtime_error(error);
}

void ParameterServer::save_server(StateWriter& out) const {
  out.put_int("ps.server.index", server_);
  out.put_floats("ps.server.params", params_);
  out.put_floats("ps.server.momentum", sgd_->momentum());
  out.put_ints("ps.server.applied", applied_);
  std::vector<std::int64_t> flags;
  for (char f : finished_) flags.push_back(f);
  for (char f : deferred_) flags.push_back(f);
  out.put_ints("ps.server.finished_deferred", flags);
  out.put_int("ps.server.cursor", cursor_);
}

void ParameterServer::save_state(std::int64_t steps_done, StateWriter& out) {
  if (server_ >= 0) {  // after serve() (the run's end); during it, checkpoint_request saves
    save_server(out);
    return;
  }
  if (!done_) {  // the servers are serving: each saves its shard, then answers
    if (!init_sent_) send_init();  // a server takes nothing before the initial shard
    const Header ask{kCheckpoint, steps_done, 0.0};
    for (std::size_t s = 0; s < shards_.size(); ++s) comm_.send(&ask, sizeof ask, server_rank(int(s)), header_tag_);
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      std::int64_t ok = 0;
      comm_.recv(&ok, sizeof ok, server_rank(int(s)), ack_tag_);
      if (ok != 1)
        throw std::runtime_error("ps: server rank " + std::to_string(server_rank(int(s))) +
                                 " could not write its checkpoint after step " + std::to_string(steps_done) +
                                 " (that rank's message names the file)");
    }
  }
  out.put_int("ps.worker.init_sent", init_sent_ ? 1 : 0);
  out.put_int("ps.worker.done", done_ ? 1 : 0);
}

void ParameterServer::load_state(StateReader& in) {
  if (server_ < 0) {
    init_sent_ = in.get_int("ps.worker.init_sent") != 0;
    done_ = in.get_int("ps.worker.done") != 0;
    return;
  }
  const auto bad = [&](const char* record, const std::string& what) {
    throw InputError(in.source() + ": record '" + record + "': " + what);
  };
  if (in.get_int("ps.server.index") != server_) bad("ps.server.index", "written by another server");
  in.get_floats("ps.server.params", params_);
  in.get_floats("ps.server.momentum", sgd_->momentum());
  in.get_ints("ps.server.applied", applied_);
  const std::vector<std::int64_t> flags = in.get_ints("ps.server.finished_deferred");
  if (flags.size() != 2 * std::size_t(workers_)) bad("ps.server.finished_deferred", "written for another worker count");
  for (int v = 0; v < workers_; ++v) {
    finished_[std::size_t(v)] = char(flags[std::size_t(v)] != 0);
    deferred_[std::size_t(v)] = char(flags[std::size_t(workers_ + v)] != 0);
  }
  const std::int64_t cursor = in.get_int("ps.server.cursor");
  if (cursor < 0 || cursor >= workers_) bad("ps.server.cursor", "out of range");
  cursor_ = int(cursor);
  initialized_ = true;
}

AlgorithmSpec ps_spec() {
  return {
      .name = "ps",
      .summary = "parameter server: workers push gradients to sharded servers (dedicated ranks, or colocated on "
                 "the workers) and pull parameters",
      .provenance = "baseline",
      .reference = "the parameter-server baseline of Daily et al. 2018 (arXiv 1803.05880); Li et al., OSDI 2014",
      .options =
          {
              {.name = "servers", .type = OptionType::Int, .default_value = 1, .min = 0, .max = 1 << 20,
               .doc = "S dedicated server ranks (the last ranks), each owning a contiguous shard of the "
                      "parameters (S = 1: the paper's baseline; S > 1 sharded, e.g. p/8, p/4); 0: colocated, "
                      "every rank trains and serves one of p shards, as BytePS (extension; sync only)",
               .sweep = {0, 1, 2, 4}},
              {.name = "mode", .default_value = "sync", .choices = {"sync", "async"},
               .doc = "sync: servers average all workers' pushes per step; async: apply each push on arrival"},
              {.name = "staleness", .type = OptionType::Int, .default_value = 0, .min = 0, .max = 1 << 30,
               .doc = "async only: no worker runs more than this many steps ahead of the slowest (0: unbounded)",
               .sweep = {0, 2}},
          },
      .servers_option = "servers",
      .check =
          [](const AlgorithmOptions& o, int, const std::string& path) {
            if (o.get_string("mode") != "async" && o.get_int("staleness") > 0)
              throw InputError("config: '" + path + ".staleness' only applies to mode \"async\"");
            if (o.get_int("servers") == 0 && o.get_string("mode") == "async")
              throw InputError("config: '" + path + ".mode' \"async\" needs dedicated server ranks (servers >= "
                               "1); servers 0 (colocated) runs \"sync\"");
          },
      .make = [](const AlgorithmOptions& o, const AlgorithmEnv& env) -> std::unique_ptr<Algorithm> {
        if (o.get_int("servers") == 0) return make_colocated_ps(env);
        PsOptions opt;
        opt.servers = int(o.get_int("servers"));
        opt.async = o.get_string("mode") == "async";
        opt.staleness = int(o.get_int("staleness"));
        return std::make_unique<ParameterServer>(opt, env, "algorithm");
      },
      .guarantees = [](const AlgorithmOptions& o, int) {
        return Guarantees{.identical_replicas = o.get_string("mode") == "sync"};
      },
  };
}

}  // namespace gg
