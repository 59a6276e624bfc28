#!/usr/bin/python3
"""Writes the published-measurement proxy profiles resnet50_p100.json and googlenet_p100.json.

Only the TOTAL time per training step is measured (published throughput, cited below); everything
per layer is derived here, reproducibly:
  - parameters per layer: counted from the architecture (conv weights, BN gamma/beta folded into
    their conv, biases where the original net has them);
  - forward FLOPs per layer: 2 * MACs of the conv / fc at 224x224 input;
  - per-layer time = measured step time * (layer FLOPs / network FLOPs), split forward : backward =
    1 : 2 (backward computes the input and the weight gradient, each about one forward's FLOPs).
Run: /usr/bin/python3 experiments/profiles/derive_published.py"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class Net:
    def __init__(self):
        self.layers, self.h, self.c = [], 224, 3

    def conv(self, name, out, k, stride=1, bn=True, bias=False, h_in=None, c_in=None, keep=False):
        h_in = self.h if h_in is None else h_in
        c_in = self.c if c_in is None else c_in
        h_out = (h_in + stride - 1) // stride
        params = k * k * c_in * out + (2 * out if bn else 0) + (out if bias else 0)
        flops = 2.0 * k * k * c_in * out * h_out * h_out
        self.layers.append({"name": name, "params": params, "flops": flops})
        if not keep:
            self.h, self.c = h_out, out
        return h_out, out

    def fc(self, name, out):
        self.layers.append({"name": name, "params": self.c * out + out, "flops": 2.0 * self.c * out})
        self.c = out


def resnet50():
    n = Net()
    n.conv("conv1", 64, 7, 2)
    n.h = 56  # 3x3/2 max pool
    for stage, (mid, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for b in range(blocks):
            name = f"res{stage + 2}{chr(ord('a') + b)}"
            stride = 2 if (b == 0 and stage > 0) else 1
            h_in, c_in = n.h, n.c
            if b == 0:
                n.conv(name + "_branch1", mid * 4, 1, stride, h_in=h_in, c_in=c_in, keep=True)
            n.conv(name + "_branch2a", mid, 1, 1)  # stride on the 3x3 (torchvision v1.5 layout)
            n.conv(name + "_branch2b", mid, 3, stride)
            n.conv(name + "_branch2c", mid * 4, 1, 1)
    n.fc("fc1000", 1000)
    return n.layers


def googlenet():
    n = Net()
    n.conv("conv1_7x7_s2", 64, 7, 2, bn=False, bias=True)
    n.h = 56
    n.conv("conv2_3x3_reduce", 64, 1, bn=False, bias=True)
    n.conv("conv2_3x3", 192, 3, bn=False, bias=True)
    n.h = 28
    table = [("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64), None,
             ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64), ("4c", 128, 128, 256, 24, 64, 64),
             ("4d", 112, 144, 288, 32, 64, 64), ("4e", 256, 160, 320, 32, 128, 128), None,
             ("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128)]
    for row in table:
        if row is None:  # 3x3/2 max pool between stages
            n.h //= 2
            continue
        tag, c1, r3, c3, r5, c5, pp = row
        h, c_in = n.h, n.c
        kw = dict(bn=False, bias=True, h_in=h, keep=True)
        n.conv(f"inception_{tag}_1x1", c1, 1, c_in=c_in, **kw)
        n.conv(f"inception_{tag}_3x3_reduce", r3, 1, c_in=c_in, **kw)
        n.conv(f"inception_{tag}_3x3", c3, 3, c_in=r3, **kw)
        n.conv(f"inception_{tag}_5x5_reduce", r5, 1, c_in=c_in, **kw)
        n.conv(f"inception_{tag}_5x5", c5, 5, c_in=r5, **kw)
        n.conv(f"inception_{tag}_pool_proj", pp, 1, c_in=c_in, **kw)
        n.c = c1 + c3 + c5 + pp
    n.fc("loss3_classifier", 1000)
    return n.layers


def profile(name, model, layers, batch, images_per_s, sources, note):
    step_s = batch / images_per_s
    total_flops = sum(l["flops"] for l in layers)
    out = []
    for l in layers:
        share = l["flops"] / total_flops
        out.append({"name": l["name"], "params": l["params"], "mflops": round(l["flops"] / 1e6, 3),
                    "forward_s": step_s * share / 3, "backward_s": step_s * share * 2 / 3})
    return {
        "name": name, "model": model, "device": "NVIDIA Tesla P100", "batch": batch, "input": [224, 224, 3],
        "classes": 1000, "sample_bytes": 224 * 224 * 3,
        "measured": {"images_per_s": images_per_s, "step_s": step_s},
        "sources": sources,
        "derivation": ("MEASURED: only the total training throughput (images/s) at the stated batch. DERIVED "
                       "(experiments/profiles/derive_published.py): per-layer parameter counts from the "
                       "architecture; per-layer forward/backward seconds = step time apportioned by each "
                       "layer's forward FLOPs, split forward:backward = 1:2. Layers without FLOPs (BN, ReLU, "
                       "pooling) are folded into their conv. " + note),
        "total_params": sum(l["params"] for l in layers),
        "total_forward_gflops_per_sample": round(total_flops / 1e9, 3),
        "total_forward_s": step_s / 3, "total_backward_s": step_s * 2 / 3,
        "layers": out,
    }


def main():
    r50 = profile("resnet50_p100", "ResNet-50", resnet50(), 64, 219.0, [
        "TensorFlow 1.x official benchmarks (tensorflow.org/performance/benchmarks, 2017): NVIDIA DGX-1 "
        "(Tesla P100 SXM2), ResNet-50, batch 64 per GPU, synthetic ImageNet data, FP32: 219 images/s on 1 GPU",
        "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (architecture; 25.6M parameters, "
        "~3.9 G multiply-adds forward at 224x224)",
        "Daily et al., GossipGraD, arXiv 1803.05880 (2018): the paper's claim of ~100% compute efficiency for "
        "ResNet-50 on 128 P100 GPUs, which these runs check"],
        "Cross-check: Goyal et al. 2017 (arXiv 1706.02677) train ResNet-50 on P100s with Caffe2 at a similar "
        "per-GPU rate (~0.26 s per 32-image step including communication).")
    g = profile("googlenet_p100", "GoogLeNet (Inception v1)", googlenet(), 128, 468.0, [
        "Xu and Dandapanthu, 'Deep Learning Performance with P100 GPUs', Dell EMC HPC Innovation Lab blog, "
        "Oct/Nov 2016: NV-Caffe GoogLeNet on ILSVRC12, 1x Tesla P100 (PCIe), batch 128: 468 images/s",
        "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (architecture, Table 1; aux classifiers "
        "not included)"],
        "The measurement is a PCIe P100 (9.3 TFLOP/s); the SXM2 part is ~10% faster.")
    for p in (r50, g):
        path = os.path.join(HERE, p["name"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(p, f, indent=1)
            f.write("\n")
        print(f"{path}: {len(p['layers'])} layers, {p['total_params'] / 1e6:.2f} M params, "
              f"{p['total_forward_gflops_per_sample']} GFLOP/sample, step {p['measured']['step_s'] * 1e3:.1f} ms "
              f"at batch {p['batch']}")


if __name__ == "__main__":
    main()
