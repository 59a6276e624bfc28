#include "algorithms/schedule.hpp"

#include <stdexcept>
#include <utility>

#include "core/util/error.hpp"
#include "core/util/rng.hpp"

namespace gg {

int cycle_length(int p) {
  int L = 0;
  while ((std::int64_t(1) << L) < p) ++L;
  return L;
}

bool is_power_of_two(int p) { return p > 0 && (p & (p - 1)) == 0; }

void check_schedule(const ScheduleSpec& spec, int p, const std::string& path) {
  if (spec.topology == Topology::Hypercube && !is_power_of_two(p))
    throw InputError(path + ": hypercube needs a power-of-two number of workers, got " + std::to_string(p) +
                     " (set " + path + " to dissemination)");
}

Topology topology_from(const std::string& s) {
  if (s == "hypercube") return Topology::Hypercube;
  if (s == "dissemination") return Topology::Dissemination;
  throw InputError("unknown topology '" + s + "' (known: hypercube, dissemination)");
}

Rotation rotation_from(const std::string& s) {
  if (s == "none") return Rotation::None;
  if (s == "shift") return Rotation::Shift;
  if (s == "permutation") return Rotation::Permutation;
  throw InputError("unknown rotation '" + s + "' (known: none, shift, permutation)");
}

Schedule::Schedule(ScheduleSpec spec, int rank, int p) : spec_(spec), rank_(rank), p_(p), L_(gg::cycle_length(p)) {
  if (p < 1 || rank < 0 || rank >= p)
    throw std::invalid_argument("Schedule: rank " + std::to_string(rank) + " of " + std::to_string(p));
  if (spec.topology == Topology::Hypercube && !is_power_of_two(p))
    throw std::invalid_argument("Schedule: hypercube needs a power-of-two p, got " + std::to_string(p));
  if (spec.rotation == Rotation::Permutation) {
    perm_.resize(std::size_t(p));
    inv_.resize(std::size_t(p));
  }
}

void Schedule::load_cycle(std::int64_t cycle) {
  cycle_ = cycle;
  switch (spec_.rotation) {
    case Rotation::None: v_ = rank_; break;
    case Rotation::Shift: v_ = int((rank_ + cycle) % p_); break;
    case Rotation::Permutation: {
      // Fisher-Yates over virtual positions: inv_[v] = real rank placed at v. Identical on all ranks.
      Rng rng(seed_of(spec_.seed, std::uint64_t(cycle)));
      for (int v = 0; v < p_; ++v) inv_[std::size_t(v)] = v;
      for (int i = p_ - 1; i > 0; --i) std::swap(inv_[std::size_t(i)], inv_[rng.below(std::uint64_t(i) + 1)]);
      for (int v = 0; v < p_; ++v) perm_[std::size_t(inv_[std::size_t(v)])] = v;
      v_ = perm_[std::size_t(rank_)];
      break;
    }
  }
}

int Schedule::real(std::int64_t v) const {
  const int vm = int(((v % p_) + p_) % p_);
  switch (spec_.rotation) {
    case Rotation::None: return vm;
    case Rotation::Shift: return int(((vm - cycle_) % p_ + p_) % p_);
    case Rotation::Permutation: return inv_[std::size_t(vm)];
  }
  return vm;
}

Partners Schedule::at(std::int64_t step) {
  if (p_ == 1) return {};
  if (step < 0) throw std::invalid_argument("Schedule: negative step");
  const std::int64_t cycle = step / L_;
  if (cycle != cycle_) load_cycle(cycle);
  const int bit = 1 << int(step % L_);
  if (spec_.topology == Topology::Hypercube) {
    const int partner = real(v_ ^ bit);
    return {partner, partner};
  }
  return {real(std::int64_t(v_) + bit), real(std::int64_t(v_) - bit)};
}

Partners partners_at(int rank, int p, std::int64_t step, const ScheduleSpec& spec) {
  return Schedule(spec, rank, p).at(step);
}

}  // namespace gg
