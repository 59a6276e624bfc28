#pragma once
// The memory-bound passes an algorithm makes over its buffers (copies, scalings, sums, averages,
// corrections, packing), each doing its loop and charging its own bytes to the communicator
// (Communicator::account_memory: on a simulated cluster, time at the node's memory bandwidth). A pass
// charges sizeof(float) for every element it reads and every element it writes, so an algorithm cannot
// forget a charge or charge a formula that differs from its loop: algorithms make such passes only
// through these functions (tests/unit/test_charged_ops.cpp checks both).
//
// Every function computes exactly the expression in its comment, element by element, so replacing a
// hand-written loop changes no result. Sizes must match (std::logic_error otherwise).
#include <cstddef>
#include <functional>
#include <span>

#include "core/comm/communicator.hpp"

namespace gg::ops {

// dst = src                                     reads n, writes n
void copy(Communicator& c, std::span<const float> src, std::span<float> dst);
// x = a * x                                     reads n, writes n
void scale(Communicator& c, std::span<float> x, float a);
// dst = a * src                                 reads n, writes n
void scaled_copy(Communicator& c, std::span<const float> src, float a, std::span<float> dst);
// dst = src / d                                 reads n, writes n
void divided_copy(Communicator& c, std::span<const float> src, float d, std::span<float> dst);
// x = x + y                                     reads 2n, writes n
void add(Communicator& c, std::span<float> x, std::span<const float> y);
// dst = 0.5 * (a + b)   (dst may be a or b)     reads 2n, writes n
void average(Communicator& c, std::span<const float> a, std::span<const float> b, std::span<float> dst);
// x = x + w * (recv - sent)                     reads 3n, writes n
void correct(Communicator& c, std::span<float> x, std::span<const float> recv, std::span<const float> sent, float w);
// bytes copied between a message and typed buffers (packing)   reads bytes, writes bytes
void copy_bytes(Communicator& c, void* dst, const void* src, std::size_t bytes);

// What an optimizer's step charges (Sgd::set_memory_hook): its bytes, passed through.
std::function<void(std::size_t)> memory_hook(Communicator& c);

}  // namespace gg::ops
