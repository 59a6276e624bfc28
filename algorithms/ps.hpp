#pragma once
// ps: a parameter server on point-to-point messages (no one-sided MPI: it can deadlock under SMPI).
// Option `servers` = S chooses the layout (the spec's servers_option, so rank_layout and the Python
// tools count the workers from it):
//   S >= 1, dedicated (the paper's baseline with S = 1; sharded for S > 1, e.g. S = p/8 or p/4): the
//          first W = p - S ranks are workers, the LAST S ranks servers (class ParameterServer below).
//   S = 0,  colocated (as BytePS places them): all p ranks train and rank r also serves shard r of p
//          (ps_colocated.cpp; sync mode only), so W = p.
// Server s owns a contiguous shard of the flat parameters (split as evenly as possible: shard()) and the
// SGD momentum for it (shard_optimizer(): a gg::Sgd over the shard's ranges with the workers' optimizer
// options), so the update formula is the same.
//
// Colocated, sync (make_colocated_ps): each finish_step(t) rank r posts its receives (the pushes of its
// shard from every other rank, and every other shard from its owner straight into the model's
// parameters), pushes each other shard of its raw gradient to its owner, then sums the p gradients of
// shard r in the fixed order r, r+1, ..., r-1 (its own first; the same order every run), scales by 1/p,
// steps its shard optimizer with the step's lr, sends the new shard to every other rank and waits for
// everything. Like the dedicated sync server it equals allreduce SGD up to float summation order, every
// shard is computed by one owner, so all replicas are bitwise identical. Per rank and step it sends
// 2 (p-1)/p of the model (as a ring allreduce does) in 2 (p-1) messages; no overlap with backward (as
// the dedicated server: pushes start in finish_step).
//
// Dedicated servers:
// Protocol (four tags, reserved in the constructor on every rank): worker 0 sends every server its
// initial shard once (at its first finish_step). Each finish_step(t) a worker posts a receive of the
// fresh shard from every server, then pushes a header {step, lr} and its raw gradient shard to every
// server, and waits for the pulls (the gradients go straight from the model's buffer, the parameters
// straight into it).
//   sync:  a server waits for the pushes of all W workers for step t, averages them (sum / W, in
//          a fixed worker order per server, so runs are reproducible bit for bit; server s starts at
//          worker s*W/S so that the servers do not all pull from one worker at once), steps its optimizer with the step's lr, and answers every pull: each step
//          equals allreduce SGD up to float summation order, and all workers hold identical replicas.
//   async: a server applies each push on arrival (gradient / W, that worker's lr) and answers that
//          worker's pull at once; workers never wait for one another. With staleness s > 0 a server
//          answers worker w only while applied(w) - min(applied(v) over unfinished workers v) <= s,
//          i.e. no worker gets more than s steps ahead of the slowest; s = 0: unbounded.
// finish() on a worker tells every server it is done; serve() returns once all W workers are done.
// GPU staging (simulated cluster): a worker's messages are staged per message; a server is a CPU
// process, so its messages stay in host memory (Communicator::host_resident) and stage nothing.
//
// Checkpoints: a worker's save_state sends every server a checkpoint request for its boundary and waits
// for each server's answer; a server that has the requests of all W workers (sync: in worker order,
// right after the step's reply, so nothing is pending) hands its state -- shard, momentum, per-worker
// counters, its place in the worker order -- to the checkpoint hook, then answers ok or failed (a
// failure then also ends the server with the hook's message). Requests do not move the sync cursor's
// place in the cycle (W requests are W turns), so checkpointing changes no sum's order.
#include <memory>
#include <span>
#include <vector>

#include "algorithms/spec.hpp"

namespace gg {

struct PsOptions {
  int servers = 1;
  bool async = false;
  int staleness = 0;  // async only; 0 = unbounded
};

// The optimizer a server runs on `shard` of model's flat parameters: like's options, the model's
// parameter ranges clipped to the shard and re-based to its start.
std::unique_ptr<Sgd> shard_optimizer(const Sgd& like, const Model& model, const Bucket& shard);

// The colocated layout (servers = 0, sync): every rank trains and serves one shard (ps_colocated.cpp).
std::unique_ptr<Algorithm> make_colocated_ps(const AlgorithmEnv& env);

class ParameterServer final : public Algorithm {
 public:
  // Throws InputError (naming config_path) unless 1 <= servers <= p - 1.
  ParameterServer(PsOptions opt, const AlgorithmEnv& env, const std::string& config_path);

  std::string name() const override { return "ps"; }
  bool trains() const override { return server_ < 0; }
  void serve() override;
  int num_workers() const override { return workers_; }
  int worker_index() const override { return server_ < 0 ? comm_.rank() : -1; }
  void begin_step(std::int64_t step) override {
    stats_ = {};
    stats_.staleness = opt_.async ? -1 : 0;  // async: other workers' updates in between, not known here
  }
  void finish_step(TrainState& state) override;
  void finish() override;
  const StepStats& stats() const override { return stats_; }
  void save_state(std::int64_t steps_done, StateWriter& out) override;
  void load_state(StateReader& in) override;
  void set_checkpoint_hook(CheckpointHook hook) override { hook_ = std::move(hook); }

  // Shard of server s among `servers`: [offset, offset + count) of the flat parameters.
  static Bucket shard(std::size_t num_params, int servers, int s);
  int server_index() const { return server_; }  // -1 on workers
  // On a server, after serve(): pushes applied from each worker (index = worker), each exactly once.
  const std::vector<std::int64_t>& applied_pushes() const { return applied_; }
  // On a server: its shard of the parameters (after serve(), the final values).
  std::span<const float> shard_params() const { return params_; }

 private:
  struct Header {
    std::int64_t kind;  // kPush or kDone
    std::int64_t step;
    double lr;
  };
  int server_rank(int s) const { return workers_ + s; }
  void send_init();
  bool may_answer(int w) const;
  void answer(int w);
  void answer_deferred();
  int next_in_worker_order();  // sync: the next unfinished worker after the last one taken
  void apply_sync(int w, const Header& h);
  void apply_async(int w, const Header& h);
  void checkpoint_request(int w, const Header& h);
  void save_server(StateWriter& out) const;

  PsOptions opt_;
  Communicator& comm_;
  Communicator& host_;  // a server's messages: comm_.host_resident() (a CPU process stages nothing)
  Model& model_;
  int workers_, server_;  // server_ = index among servers, -1 on workers
  int init_tag_ = 0, header_tag_ = 0, grad_tag_ = 0, params_tag_ = 0, ack_tag_ = 0;  // Communicator::reserve_tags
  StepStats stats_;
  // worker side
  std::vector<Bucket> shards_;                          // [server]
  std::vector<Request> pulls_, header_reqs_, push_reqs_;  // [server]
  Header header_{};
  bool init_sent_ = false, done_ = false;
  // server side
  Bucket mine_;
  std::vector<float> params_, inbox_, sum_;  // [shard]
  std::unique_ptr<Sgd> sgd_;
  std::vector<std::int64_t> applied_;  // [worker]
  std::vector<char> finished_, deferred_;
  std::vector<Request> replies_;       // [worker] (sync mode)
  int arrived_ = 0;                    // sync: pushes of the current step so far
  int cursor_ = 0;                     // sync: the worker whose push is taken next
  Header current_{};                   // sync: the current step's header (first push)
  bool initialized_ = false;           // the initial shard has arrived (or was loaded)
  std::vector<char> asked_;            // [worker] has asked for the pending checkpoint
  int asks_ = 0;                       // how many have
  std::int64_t ask_step_ = 0;          // the boundary they asked for
  CheckpointHook hook_;
};

}  // namespace gg
