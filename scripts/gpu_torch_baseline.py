#!/usr/bin/env python3
"""PyTorch's ResNet-50 and GoogLeNet training speed on the same GPU, the reference that gg_gpu_check's
figures are divided by (scripts/gpu_check.sh). Same work per step: forward, cross-entropy, backward, SGD
with momentum 0.9 and weight decay 5e-4, synthetic 224x224 images, 3 warm-up steps then the median of
timed steps; cuDNN autotuning on (as the engine's algorithm search). FP32 runs turn TF32 off in cuDNN and
cuBLAS; TF32 runs turn it on. torchvision's GoogLeNet has batch norm and no LRN (not Caffe's network), so
its ratio is indicative only; ResNet-50 is the same network in both.

usage: gpu_torch_baseline.py --out FILE [--quick]
"""
import argparse
import json
import statistics
import time


def measure(torch, models, name, batch, tf32, timed):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    if name == "googlenet":
        net = models.googlenet(weights=None, aux_logits=False, init_weights=True)
    else:
        net = getattr(models, name)(weights=None)
    net = net.cuda().train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (batch,), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(timed):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    del net, opt
    torch.cuda.empty_cache()
    return {"model": name, "batch": batch, "math": "tf32" if tf32 else "fp32", "images_per_s": batch / med,
            "median_step_s": med, "steps": times}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    try:
        import torch
        import torchvision.models as models
    except ImportError as e:
        raise SystemExit(f"gpu_torch_baseline: PyTorch/torchvision not importable: {e}")
    if not torch.cuda.is_available():
        raise SystemExit("gpu_torch_baseline: no CUDA device visible to PyTorch")
    batches = [32] if args.quick else [32, 64, 128]
    timed = 5 if args.quick else 20
    rows = []
    for name in ("resnet50", "googlenet"):
        for batch in batches:
            for tf32 in (False, True):
                r = measure(torch, models, name, batch, tf32, timed)
                print(f"  torch {name:9s} batch {batch:3d} {r['math'].upper()}: {r['images_per_s']:.1f} images/s")
                rows.append(r)
    out = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
           "device": torch.cuda.get_device_name(0), "throughput": rows}
    with open(args.out + ".part", "w") as f:
        json.dump(out, f, indent=1)
    import os
    os.replace(args.out + ".part", args.out)


if __name__ == "__main__":
    main()
