#pragma once
// Gossip partner schedules: pure functions of (rank, p, step, spec), so every rank computes the same
// schedule without communicating (DESIGN.md, "The algorithms, precisely enough to test").
//
//   L = ceil(log2 p) steps form one cycle; in step t the dimension is k = t mod L, the cycle c = t / L.
//   Each rank r has a virtual rank v = pi_c(r) in cycle c:
//     rotation none         pi_c(r) = r
//     rotation shift        pi_c(r) = (r + c) mod p              (the original MaTEx Caffe code)
//     rotation permutation  pi_c = Fisher-Yates shuffle of 0..p-1 drawn from Rng(seed_of(seed, c))
//   topology hypercube      partner = pi_c^-1(v XOR 2^k)         (send to and receive from it; p = 2^L)
//   topology dissemination  send_to = pi_c^-1((v + 2^k) mod p), recv_from = pi_c^-1((v - 2^k) mod p)
// Both are permutations of the ranks in every step, so pairwise 0.5/0.5 averaging preserves the sum,
// and for p = 2^L the L steps of one cycle leave every rank with the exact mean of the cycle's start.
// A shift changes nothing for dissemination (all virtual ranks move together).
// p == 1: no partner (send_to = recv_from = -1).
#include <cstdint>
#include <string>
#include <vector>

namespace gg {

enum class Topology { Hypercube, Dissemination };
enum class Rotation { None, Shift, Permutation };

struct ScheduleSpec {
  Topology topology = Topology::Hypercube;
  Rotation rotation = Rotation::None;
  std::uint64_t seed = 0;  // only used by Rotation::Permutation
};

struct Partners {
  int send_to = -1;
  int recv_from = -1;
  bool operator==(const Partners&) const = default;
};

int cycle_length(int p);  // L = ceil(log2 p); 0 for p = 1
bool is_power_of_two(int p);

// Throws InputError (naming `path`, e.g. "algorithm.topology") if the topology cannot serve p ranks; the
// message suggests setting that key to dissemination.
void check_schedule(const ScheduleSpec& spec, int p, const std::string& path);

// Parses "hypercube"/"dissemination" and "none"/"shift"/"permutation" (already validated strings).
Topology topology_from(const std::string& s);
Rotation rotation_from(const std::string& s);

// One rank's view of the schedule. at() is allocation-free: the permutation of the current cycle is
// cached and redrawn (into preallocated vectors) when the cycle changes.
class Schedule {
 public:
  Schedule(ScheduleSpec spec, int rank, int p);  // throws std::invalid_argument on a bad rank or p
  Partners at(std::int64_t step);
  int cycle_length() const { return L_; }

 private:
  void load_cycle(std::int64_t cycle);
  int real(std::int64_t v) const;  // real rank of virtual rank v (mod p)

  ScheduleSpec spec_;
  int rank_, p_, L_;
  std::int64_t cycle_ = -1;
  int v_ = 0;                // this rank's virtual rank in cycle_
  std::vector<int> perm_;    // perm_[r] = virtual rank of real rank r  (permutation rotation only)
  std::vector<int> inv_;     // inv_[v]  = real rank of virtual rank v
};

// The pure function itself (builds a Schedule; allocates for the permutation rotation).
Partners partners_at(int rank, int p, std::int64_t step, const ScheduleSpec& spec);

}  // namespace gg
