#pragma once
// The loss: softmax followed by cross-entropy with integer labels, plus top-1/top-5 counting.
// Not a Layer: the model ends at the logits and the trainer calls these on them.
//
//   logits, dlogits [n, 1, 1, classes] (any [n, h, w, c] is read as [n, h*w*c])   labels [n]
#include <cstdint>
#include <span>

#include "core/tensor/tensor.hpp"

namespace gg {

class GpuContext;

// Mean over the batch of -log softmax(logits)[label]. If dlogits is non-null it is resized to the
// logits' shape and overwritten with (softmax - onehot(label)) / n. Throws InputError for a label
// outside [0, classes) or a label count different from n. Logits on the GPU need the model's context
// (Model::gpu()); the loss is then computed there (softmax_xent.cu) and only n floats come back.
float softmax_xent(const Tensor& logits, std::span<const std::int32_t> labels, Tensor* dlogits,
                   GpuContext* gpu = nullptr);

// The GPU half of softmax_xent (softmax_xent.cu; core/cuda/absent/softmax_xent.cpp without CUDA).
float softmax_xent_cuda(GpuContext& gpu, const Tensor& logits, std::span<const std::int32_t> labels,
                        Tensor* dlogits);

// Overwrites *top1 / *top5 (either may be null) with the number of samples whose label
// is the largest logit / among the 5 largest (all classes if fewer than 5). Ties go to the lower class
// index, as argmax does; a non-finite label logit never counts as correct. GPU logits are copied to the
// host first (evaluation only).
void topk_correct(const Tensor& logits, std::span<const std::int32_t> labels, int* top1, int* top5);

}  // namespace gg
