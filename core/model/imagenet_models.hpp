#pragma once
// The paper's ImageNet models as JSON descriptions (core/model/model_builder.hpp registers them by name).
// Both take any input of at least 32x32 (ImageNet: 224x224x3); the head is a global average pool.
#include <nlohmann/json.hpp>

namespace gg {

// He et al. 2016, ResNet-50 in the v1.5 form (stride 2 in the 3x3 convolution of a bottleneck, as
// torchvision and MLPerf): 25,557,032 parameters at 1000 classes, the count torchvision reports.
nlohmann::json resnet50(int classes);
// Szegedy et al. 2015, GoogLeNet as Caffe's bvlc_googlenet without the auxiliary classifiers: LRN,
// nine inception modules, dropout 0.4. Caffe's ceil-rounded pools are floor-rounded pools with pad 1
// here, which give the same 56/28/14/7 grids.
nlohmann::json googlenet(int classes);

}  // namespace gg
