#pragma once
// A small counter-free PRNG (splitmix64 seeding xoshiro128+-style state) used everywhere randomness
// is needed, so that results depend only on seeds, never on the platform's std:: distributions.
#include <cmath>
#include <cstdint>

namespace gg {

inline std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Mixes several integers into one seed: seed_of(base, rank, epoch) etc.
inline std::uint64_t seed_of(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t s = a;
  std::uint64_t x = splitmix64(s) ^ (b * 0xD6E8FEB86659FD93ull);
  x = splitmix64(x) ^ (c * 0xA0761D6478BD642Full);
  return splitmix64(x);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) {
    std::uint64_t s = seed;
    a_ = splitmix64(s);
    b_ = splitmix64(s);
  }
  std::uint64_t next() {  // xorshift128+
    std::uint64_t x = a_;
    const std::uint64_t y = b_;
    a_ = y;
    x ^= x << 23;
    b_ = x ^ y ^ (x >> 17) ^ (y >> 26);
    return b_ + y;
  }
  // Uniform in [0, 1).
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  float normal() {  // Box-Muller
    float u1 = uniform(), u2 = uniform();
    if (u1 < 1e-12f) u1 = 1e-12f;
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }

 private:
  std::uint64_t a_, b_;
};

}  // namespace gg
