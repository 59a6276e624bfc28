#pragma once
// Transport-independent checks of the Communicator contract, run by the MPI tests (under mpiexec) and
// by the in-process communicator's unit tests (ranks as threads), so both transports meet one test.
#include <gtest/gtest.h>

#include <vector>

#include "core/comm/communicator.hpp"

namespace gg::test {

// `rounds` rounds of 32 concurrent isend/irecv pairs around the ring (tags 10..41): every message
// arrives intact on its own tag, and the request pool is reused round after round.
inline void check_many_requests_round_the_ring(Communicator& c, int rounds) {
  const int p = c.size(), r = c.rank(), from = (r + p - 1) % p;
  c.reserve_requests(64);
  std::vector<int> in(32), out(32);
  for (int round = 0; round < rounds; ++round) {
    std::vector<Request> reqs;
    for (int i = 0; i < 32; ++i) {
      out[std::size_t(i)] = round * 1000 + r * 32 + i;
      reqs.push_back(c.irecv(&in[std::size_t(i)], sizeof(int), from, 10 + i));
      reqs.push_back(c.isend(&out[std::size_t(i)], sizeof(int), (r + 1) % p, 10 + i));
    }
    for (auto& q : reqs) q.wait();
    for (int i = 0; i < 32; ++i) ASSERT_EQ(in[std::size_t(i)], round * 1000 + from * 32 + i) << "round " << round;
  }
}

}  // namespace gg::test
