// cifarnet and resnet20 train on synthetic CIFAR-shaped data: the loss falls and stays finite.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/data/normalize.hpp"
#include "core/data/synthetic.hpp"
#include "core/layers/softmax_xent.hpp"
#include "core/model/model_builder.hpp"
#include "core/optim/sgd.hpp"

namespace gg {
namespace {

double mean_loss_of_training(const char* name, int steps, double lr) {
  const int batch = 16;
  Dataset data = make_synthetic(SyntheticSpec{}, batch * 4, 0, "synthetic");
  apply_normalization(data, fit_normalization(data));
  auto model = build_model(nlohmann::json(name), "model", data.sample, data.num_classes, batch);
  model->init(1);
  Sgd sgd({0.9, 5e-4, false}, model->ranges(), model->num_params());
  Batch b;
  Tensor d;
  std::vector<std::int64_t> ids(batch);
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    std::iota(ids.begin(), ids.end(), std::int64_t(step % 4) * batch);
    data.gather(ids.data(), batch, b);
    const Tensor& logits = model->forward(b.x, {Phase::Train, std::uint64_t(step)});
    d.resize(logits.shape());
    const double loss = softmax_xent(logits, b.labels, &d);
    EXPECT_TRUE(std::isfinite(loss)) << name << " step " << step;
    model->backward(d, {Phase::Train, std::uint64_t(step)});
    sgd.step(model->params(), model->grads(), lr);
    if (step < 4) first += loss / 4;
    if (step >= steps - 4) last += loss / 4;
  }
  EXPECT_LT(last, 0.7 * first) << name << ": loss did not fall (" << first << " -> " << last << ")";
  return last;
}

TEST(TrainModels, CifarnetLearnsSyntheticData) { mean_loss_of_training("cifarnet", 40, 0.01); }
TEST(TrainModels, Resnet20LearnsSyntheticData) { mean_loss_of_training("resnet20", 16, 0.05); }

}  // namespace
}  // namespace gg
