// sgemm GFLOP/s at the engine's layer shapes (batch 64; the three GEMMs of bench_layers' BM_Sgemm),
// for whichever CBLAS it is linked against: scripts/bench_blas_libraries.sh builds it once per library
// found (OpenBLAS, BLIS) so that the engine's choice of BLAS rests on numbers from one machine.
//   sgemm_shapes [seconds per shape]
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

struct Case {
  const char* name;
  int m, n, k;      // forward GEMM: y[m, n] = a[m, k] * b[n, k]^T
  bool input_grad;  // the third GEMM (da = y * b)
};

// The same shapes as experiments/bench/bench_layers.cpp's cases at batch 64.
const Case kCases[] = {
    {"lenet_conv1", 64 * 24 * 24, 20, 25, false}, {"lenet_conv2", 64 * 8 * 8, 50, 500, true},
    {"lenet_ip1", 64, 500, 800, true},            {"lenet_ip2", 64, 10, 500, true},
    {"cifar_conv1", 64 * 32 * 32, 32, 75, false}, {"cifar_conv2", 64 * 16 * 16, 32, 800, true},
    {"cifar_conv3", 64 * 8 * 8, 64, 800, true},   {"cifar_ip1", 64, 64, 1024, true},
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  const double budget = argc > 1 ? std::atof(argv[1]) : 0.5;
  for (const Case& c : kCases) {
    std::vector<float> a(std::size_t(c.m) * c.k, 0.25f), b(std::size_t(c.n) * c.k, -0.5f),
        y(std::size_t(c.m) * c.n, 1.f), db(b.size()), da(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 17) - 8) / 16.f;
    auto once = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c.m, c.n, c.k, 1.f, a.data(), c.k, b.data(), c.k, 0.f,
                  y.data(), c.n);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c.n, c.k, c.m, 1.f, y.data(), c.n, a.data(), c.k, 0.f,
                  db.data(), c.k);
      if (c.input_grad)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.m, c.k, c.n, 1.f, y.data(), c.n, b.data(), c.k, 0.f,
                    da.data(), c.k);
    };
    once();
    std::vector<double> t;
    const double start = now();
    while (now() - start < budget || t.size() < 5) {
      const double t0 = now();
      once();
      t.push_back(now() - t0);
    }
    std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
    const double flops = 2.0 * c.m * c.n * c.k * (c.input_grad ? 3 : 2);
    std::printf("%-12s %8.2f GFLOP/s\n", c.name, flops / t[t.size() / 2] * 1e-9);
  }
  return 0;
}
