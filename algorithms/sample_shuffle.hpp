#pragma once
// GossipGraD's asynchronous distributed sample shuffle, as a one-step pipeline:
//
//   exchange(batch, partners) at step t:
//     1. packs the batch the sampler just produced (b_t: images, labels, ids) and posts it to
//        partners.send_to, with a receive from partners.recv_from;
//     2. replaces `batch` by the batch received from the exchange posted at step t-1, which arrived
//        while step t-1 computed (the wait is normally free).
// The trainer drives it one step ahead (Algorithm::shuffle_lookahead): it primes the pipeline with
// b_0 before step 0, then at step t passes b_{t+1} (an empty batch at the last step) and trains the
// neighbour's b_t that comes back. finish() completes the last (empty) exchange. Over a run every
// sampled batch is therefore trained exactly once, by exactly one rank.
// Because send_to and recv_from are permutations of the ranks in every step, no batch is lost or
// duplicated by an exchange: the ids trained by all ranks at step t >= 1 are exactly, as a multiset,
// the ids the samplers produced at step t-1.
//
// Routes (gossipgrad's option shuffle, shuffle_partners below): Partner sends along the step's gossip
// partners (the paper); Ring is the original MaTEx Caffe code's fixed ring, independent of the gossip
// schedule: every step rank r sends to r-1 and receives from r+1 (mod p), so the batch rank r trains at
// step t is the one rank r+1 sampled as its b_t. Both are permutations of the ranks in every step.
// What is NOT modelled: the original code's data layer also KEPT what it received (the received samples
// overwrite the rows it sent in its local store, so data migrates one hop per step around the ring and
// diffuses over epochs). Here a received batch is trained once and not stored, and every worker keeps
// sampling its own partition: under Ring a worker always trains rank r+1's shard, which mixes nothing
// on label-skewed shards. Ring is the original code's route, not its storage migration.
//
// Wire format, one message: int64 n | int64 ids[n] | int32 labels[n] (+4 pad if n odd) | float x[n*per_sample].
// Buffers (one send, one receive) are sized once for the model's max batch; per step allocates nothing
// as long as the trainer's Batch keeps its capacity.
#include <cstddef>
#include <string>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/schedule.hpp"

namespace gg {

enum class ShuffleRoute { None = 0, Partner = 1, Ring = 2 };  // values are checkpoint records
// Parses "none" / "partner" / "ring" (already validated by the option spec).
ShuffleRoute shuffle_route_from(const std::string& s);
// Where rank's batch goes and whose it receives this step, given the step's gossip partners.
Partners shuffle_partners(ShuffleRoute route, int rank, int p, Partners gossip);

class SampleShuffle {
 public:
  // Reserves its tag on comm (Communicator::reserve_tags): ranks construct it in the same order.
  SampleShuffle(Communicator& comm, Shape sample, int max_batch);
  void exchange(Batch& batch, Partners partners, StepStats& stats);
  void poll(StepStats& stats);
  void finish();
  // Checkpoints: completes the exchange in flight and saves the batch it brought (unpacked by the next
  // exchange), so that a resumed run trains the same batches; load_state puts it back.
  void save_state(StateWriter& out);
  void load_state(StateReader& in);

 private:
  std::size_t bytes_for(std::size_t n) const;
  std::size_t pack(const Batch& batch);
  void unpack(Batch& batch) const;

  Communicator& comm_;
  Shape sample_;
  std::size_t per_sample_;
  int max_batch_, tag_;
  std::vector<std::int64_t> send_, recv_;  // int64 words keep every field aligned
  Request send_req_, recv_req_;
  bool pending_ = false;  // a receive was posted and not yet unpacked
};

}  // namespace gg
