// Conv2D on cuDNN: NHWC activations, KRSC filters ([cout, k, k, cin], the CPU layout), algorithms
// chosen by cuDNN's search (timed on this GPU) once per batch size, one workspace per GPU.
#include <algorithm>
#include <map>
#include <memory>

#include "core/layers/conv2d.hpp"
#include "core/layers/cuda_layer.cuh"

namespace gg {

namespace {

struct ConvAlgos {
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t data{};
  cudnnConvolutionBwdFilterAlgo_t filter{};
  cudnnMathType_t fwd_math{}, data_math{}, filter_math{};
  std::size_t workspace = 0;  // the largest of the three
};

struct ConvCuda {
  TensorDesc x, y, bias;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::map<int, ConvAlgos> algos;  // per batch size (training and evaluation batches differ)
  ConvCuda() {
    GG_CUDA_CHECK(cudnnCreateFilterDescriptor(&w));
    GG_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  }
  ~ConvCuda() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
  }
};

// The fastest result that ran, fits the workspace limit and, without TF32, uses FMA math only.
template <class Perf>
const Perf& pick(const Perf* perf, int count, const GpuContext& gpu, const Layer& l, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > gpu.workspace_limit()) continue;
    if (!gpu.options().tf32 && perf[i].mathType != CUDNN_FMA_MATH) continue;
    return perf[i];
  }
  // What cuDNN returned, so that a first run on a new cuDNN says why (e.g. no FMA-math entry in FP32).
  std::string seen;
  for (int i = 0; i < count; ++i)
    seen += std::string(i ? "; " : "") + "algo " + std::to_string(int(perf[i].algo)) + " status " +
            std::to_string(int(perf[i].status)) + " math " + std::to_string(int(perf[i].mathType)) + " memory " +
            std::to_string(perf[i].memory);
  layer_fail(l, std::string("cuDNN found no usable ") + what + " algorithm (workspace limit " +
                    std::to_string(gpu.workspace_limit()) + ", " + (gpu.options().tf32 ? "TF32" : "FMA only") +
                    "; returned: " + (seen.empty() ? "nothing" : seen) + ")");
}

}  // namespace

void Conv2D::forward_cuda(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  ConvCuda& s = cuda_state<ConvCuda>(cuda_);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  out.resize(out_.with_batch(n));
  s.x.nhwc(in_.with_batch(n));
  s.y.nhwc(out_.with_batch(n));
  s.bias.channels(out_.c);
  auto it = s.algos.find(n);
  if (it == s.algos.end()) {
    // Once per batch size: describe the filter and convolution, then let cuDNN time its algorithms.
    GG_CUDA_CHECK(cudnnSetFilter4dDescriptor(s.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, out_.c, in_.c, o_.kernel,
                                             o_.kernel));
    GG_CUDA_CHECK(cudnnSetConvolution2dDescriptor(s.conv, o_.pad, o_.pad, o_.stride, o_.stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    GG_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, gpu.conv_math()));
    int oc = 0, ic = 0, oh = 0, ow = 0;
    GG_CUDA_CHECK(cudnnGetConvolution2dForwardOutputDim(s.conv, s.x.d, s.w, &oc, &ic, &oh, &ow));
    if (oh != out_.h || ow != out_.w || ic != out_.c)
      layer_fail(*this, "cuDNN's output shape differs from the layer's " + out_.str());
    // cuDNN's search once per distinct shape on this GPU context (ResNet-50: 23 shapes for 53 convs).
    std::shared_ptr<void>& shared = gpu.shared_result(
        {long(n), long(in_.h), long(in_.w), long(in_.c), long(out_.c), long(o_.kernel), long(o_.stride),
         long(o_.pad), long(gpu.options().tf32)});
    if (!shared) {
      GG_CUDA_CHECK(cudaStreamSynchronize(gpu.compute()));  // the search runs its own kernels
      constexpr int kMax = 16;
      int got = 0;
      ConvAlgos a;
      cudnnConvolutionFwdAlgoPerf_t fp[kMax];
      GG_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithm(gpu.dnn(), s.x.d, s.w, s.conv, s.y.d, kMax, &got, fp));
      const auto& f = pick(fp, got, gpu, *this, "forward");
      a.fwd = f.algo;
      a.fwd_math = f.mathType;
      cudnnConvolutionBwdDataAlgoPerf_t dp[kMax];
      GG_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(gpu.dnn(), s.w, s.y.d, s.conv, s.x.d, kMax, &got, dp));
      const auto& d = pick(dp, got, gpu, *this, "backward-data");
      a.data = d.algo;
      a.data_math = d.mathType;
      cudnnConvolutionBwdFilterAlgoPerf_t wp[kMax];
      GG_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(gpu.dnn(), s.x.d, s.y.d, s.conv, s.w, kMax, &got, wp));
      const auto& w = pick(wp, got, gpu, *this, "backward-filter");
      a.filter = w.algo;
      a.filter_math = w.mathType;
      a.workspace = std::max({f.memory, d.memory, w.memory});
      shared = std::make_shared<ConvAlgos>(a);
    }
    const ConvAlgos a = *static_cast<const ConvAlgos*>(shared.get());
    it = s.algos.emplace(n, a).first;
  }
  const ConvAlgos& a = it->second;
  void* ws = gpu.workspace(a.workspace);
  GG_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, a.fwd_math));
  GG_CUDA_CHECK(cudnnConvolutionForward(gpu.dnn(), &kOne, s.x.d, x.data(), s.w, w_, s.conv, a.fwd, ws, a.workspace,
                                        &kZero, s.y.d, out.data()));
  if (b_) GG_CUDA_CHECK(cudnnAddTensor(gpu.dnn(), &kOne, s.bias.d, b_, &kOne, s.y.d, out.data()));
}

void Conv2D::backward_cuda(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                           std::span<Tensor* const> din, const RunContext& ctx) {
  GpuContext& gpu = gpu_of(*this, ctx);
  ConvCuda& s = cuda_state<ConvCuda>(cuda_);
  const Tensor& x = *in[0];
  const int n = x.shape().n;
  const auto it = s.algos.find(n);
  if (it == s.algos.end()) layer_fail(*this, "backward before forward at batch " + std::to_string(n));
  const ConvAlgos& a = it->second;
  s.x.nhwc(in_.with_batch(n));
  s.y.nhwc(out_.with_batch(n));
  void* ws = gpu.workspace(a.workspace);
  if (db_) GG_CUDA_CHECK(cudnnConvolutionBackwardBias(gpu.dnn(), &kOne, s.y.d, dout.data(), &kZero, s.bias.d, db_));
  GG_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, a.filter_math));
  GG_CUDA_CHECK(cudnnConvolutionBackwardFilter(gpu.dnn(), &kOne, s.x.d, x.data(), s.y.d, dout.data(), s.conv, a.filter,
                                               ws, a.workspace, &kZero, s.w, dw_));
  Tensor* dx = din.empty() ? nullptr : din[0];
  if (!dx) return;
  dx->resize(x.shape());
  GG_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, a.data_math));
  GG_CUDA_CHECK(cudnnConvolutionBackwardData(gpu.dnn(), &kOne, s.w, w_, s.y.d, dout.data(), s.conv, a.data, ws,
                                             a.workspace, &kZero, s.x.d, dx->data()));
}

}  // namespace gg
