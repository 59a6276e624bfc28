// Dense on cuBLAS. Row-major [r, c] buffers are column-major [c, r] to cuBLAS, so each product below
// is the CPU one transposed: y^T = W x^T, dW^T = x^T dy, dx^T = W^T dy^T (in cuBLAS's column-major view).
#include "core/layers/cuda_layer.cuh"
#include "core/layers/dense.hpp"

namespace gg {

namespace {
struct DenseCuda {
  TensorDesc y, bias;
};
}  // namespace

void Dense::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  DenseCuda& s = cuda_state<DenseCuda>(cuda_);
  const Tensor& x = *in[0];
  const int n = x.shape().n, N = o_.out;
  out.resize({n, 1, 1, N});
  // y[n, N] = x[n, F] W[N, F]^T: column-major y'[N, n] = W'^T[N, F] x'[F, n]
  GG_CUDA_CHECK(cublasSgemm(gpu.blas(), CUBLAS_OP_T, CUBLAS_OP_N, N, n, F_, &kOne, w_, F_, x.data(), F_, &kZero,
                            out.data(), N));
  if (b_) {
    s.y.nhwc({n, 1, 1, N});
    s.bias.channels(N);
    GG_CUDA_CHECK(cudnnAddTensor(gpu.dnn(), &kOne, s.bias.d, b_, &kOne, s.y.d, out.data()));
  }
}

void Dense::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                          std::span<Tensor* const> din, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  DenseCuda& s = cuda_state<DenseCuda>(cuda_);
  const Tensor& x = *in[0];
  const int n = x.shape().n, N = o_.out;
  // dW[N, F] = dy[n, N]^T x[n, F]: column-major dW'[F, N] = x'[F, n] dy'^T[n, N]
  GG_CUDA_CHECK(cublasSgemm(gpu.blas(), CUBLAS_OP_N, CUBLAS_OP_T, F_, N, n, &kOne, x.data(), F_, dout.data(), N,
                            &kZero, dw_, F_));
  if (db_) {  // db[N] = column sums of dy: cuDNN's per-channel reduction
    s.y.nhwc({n, 1, 1, N});
    s.bias.channels(N);
    GG_CUDA_CHECK(cudnnConvolutionBackwardBias(gpu.dnn(), &kOne, s.y.d, dout.data(), &kZero, s.bias.d, db_));
  }
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(x.shape());
  // dx[n, F] = dy[n, N] W[N, F]: column-major dx'[F, n] = W'[F, N] dy'[N, n]
  GG_CUDA_CHECK(cublasSgemm(gpu.blas(), CUBLAS_OP_N, CUBLAS_OP_N, F_, n, N, &kOne, w_, F_, dout.data(), N, &kZero,
                            dx->data(), F_));
}

}  // namespace gg
