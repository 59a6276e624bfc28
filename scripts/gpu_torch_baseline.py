#!/usr/bin/env python3
"""PyTorch's ResNet-50 and GoogLeNet training speed on the same GPU, the reference that gg_gpu_check's
figures are divided by (scripts/gpu_check.sh). Same work per step: forward, cross-entropy, backward, SGD
with momentum 0.9 and weight decay 5e-4, the engine's synthetic 224x224 batch (the same values and
labels as experiments/gpu_check/throughput.cpp), 3 warm-up steps, then the median of timed steps, each
ended by torch.cuda.synchronize(); cuDNN autotuning on (as the engine's algorithm search).

Fair to PyTorch:
- Layout: both NCHW and channels_last (the engine runs NHWC; channels_last is PyTorch's usual fast path
  for TF32 on tensor cores) are timed on a short probe, and the faster one is timed in full and used;
  both probe figures are recorded.
- Precision: the current API (torch.backends.cuda.matmul.fp32_precision and
  torch.backends.cudnn.conv.fp32_precision = "ieee" or "tf32") where this PyTorch has it, else the legacy
  allow_tf32 flags; the two are never mixed. The effective settings are read back and recorded, with
  NVIDIA_TF32_OVERRIDE, and measured: a matmul and a convolution are compared with float64, and an FP32
  row whose measured error shows TF32 (or a TF32 row that shows none) is flagged and fails the run.

torchvision's GoogLeNet has batch norm and no LRN (not Caffe's network), so its ratio is indicative
only; ResNet-50 is the same network in both.

usage: gpu_torch_baseline.py --out FILE [--quick]
       gpu_torch_baseline.py --self-test   (the precision logic on stand-ins for torch; no torch or GPU needed)
"""
import argparse
import json
import os
import statistics
import time

# Relative error of an FP32 product with K = 1024 terms against float64: ~1e-6 in IEEE FP32, ~1e-3 with
# TF32's 10-bit mantissa. Above this, TF32 (or lower) was used.
TF32_DETECT = 1e-4


def new_precision_api(torch):
    conv = getattr(torch.backends.cudnn, "conv", None)
    return conv is not None and hasattr(conv, "fp32_precision") and hasattr(torch.backends.cuda.matmul,
                                                                            "fp32_precision")


def set_precision(torch, tf32):
    """Sets FP32 (ieee) or TF32 in cuBLAS and cuDNN; returns the API used."""
    if new_precision_api(torch):
        mode = "tf32" if tf32 else "ieee"
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
        return "fp32_precision"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    return "allow_tf32"


def read_precision(torch):
    """The effective settings as PyTorch reports them (each getter may be missing or refuse)."""
    out = {"NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE")}
    getters = {
        "matmul.fp32_precision": lambda: torch.backends.cuda.matmul.fp32_precision,
        "cudnn.conv.fp32_precision": lambda: torch.backends.cudnn.conv.fp32_precision,
        "cudnn.fp32_precision": lambda: torch.backends.cudnn.fp32_precision,
        "float32_matmul_precision": lambda: torch.get_float32_matmul_precision(),
    }
    if not new_precision_api(torch):  # reading the legacy flags after setting the new API may warn or raise
        getters["matmul.allow_tf32"] = lambda: torch.backends.cuda.matmul.allow_tf32
        getters["cudnn.allow_tf32"] = lambda: torch.backends.cudnn.allow_tf32
    for k, get in getters.items():
        try:
            out[k] = get()
        except Exception as e:  # noqa: BLE001 - recorded, not fatal
            out[k] = f"unreadable: {type(e).__name__}"
    return out


_MEASURED = {}


def measured_precision(torch, tf32):
    """Relative errors of an FP32 matmul and convolution against float64 on this GPU under the settings
    made for `tf32` (measured once per setting)."""
    if tf32 in _MEASURED:
        return _MEASURED[tf32]
    g = torch.Generator(device="cuda").manual_seed(0)
    a = torch.randn(512, 1024, device="cuda", generator=g)
    b = torch.randn(1024, 512, device="cuda", generator=g)
    ref = (a.double() @ b.double())
    mm = ((a @ b).double() - ref).abs().max().item() / ref.abs().max().item()
    x = torch.randn(2, 64, 32, 32, device="cuda", generator=g)
    w = torch.randn(64, 64, 4, 4, device="cuda", generator=g)  # K = 64 * 16 = 1024
    refc = torch.nn.functional.conv2d(x.double().cpu(), w.double().cpu()).cuda()
    conv = (torch.nn.functional.conv2d(x, w).double() - refc).abs().max().item() / refc.abs().max().item()
    _MEASURED[tf32] = {"matmul_rel_err": mm, "conv_rel_err": conv, "matmul_tf32": mm > TF32_DETECT,
                       "conv_tf32": conv > TF32_DETECT}
    return _MEASURED[tf32]


def engine_batch(torch, batch):
    """experiments/gpu_check/throughput.cpp's batch: x[i] = ((i * 2654435761) % 1000) / 500 - 1 over NHWC,
    labels (i * 37) % 1000."""
    i = torch.arange(batch * 224 * 224 * 3, dtype=torch.int64, device="cuda")
    x = ((i * 2654435761) % 1000).float() / 500.0 - 1.0
    x = x.view(batch, 224, 224, 3).permute(0, 3, 1, 2).contiguous()
    y = (torch.arange(batch, dtype=torch.int64, device="cuda") * 37) % 1000
    return x, y


def build(torch, models, name, layout):
    if name == "googlenet":
        net = models.googlenet(weights=None, aux_logits=False, init_weights=True)
    else:
        net = getattr(models, name)(weights=None)
    net = net.cuda().train()
    if layout == "channels_last":
        net = net.to(memory_format=torch.channels_last)
    return net


def measure(torch, models, name, batch, tf32, timed, probe):
    api = set_precision(torch, tf32)
    torch.backends.cudnn.benchmark = True
    x0, y = engine_batch(torch, batch)
    loss_fn = torch.nn.CrossEntropyLoss()
    rigs = {}
    for layout in ("nchw", "channels_last"):
        net = build(torch, models, name, layout)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = x0.to(memory_format=torch.channels_last) if layout == "channels_last" else x0
        rigs[layout] = (net, opt, x)

    def step(layout):
        net, opt, x = rigs[layout]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    def timed_steps(layout, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            step(layout)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        return times

    probes = {}
    for layout in rigs:
        for _ in range(3):
            step(layout)
        torch.cuda.synchronize()
        probes[layout] = statistics.median(timed_steps(layout, probe))
    best = min(probes, key=probes.get)
    for layout in list(rigs):
        if layout != best:
            del rigs[layout]
    times = timed_steps(best, timed)
    loss = float(step(best))
    torch.cuda.synchronize()
    med = statistics.median(times)
    effective = read_precision(torch)
    measured = measured_precision(torch, tf32)
    # FP32 rows: any sign of TF32 is unfair to the engine. TF32 rows: cuBLAS must show it (cuDNN may pick a
    # non-tensor-core algorithm for the small probe convolution, so its figure is recorded only).
    mismatch = (measured["matmul_tf32"] or measured["conv_tf32"]) if not tf32 else not measured["matmul_tf32"]
    rigs.clear()
    torch.cuda.empty_cache()
    return {"model": name, "batch": batch, "math": "tf32" if tf32 else "fp32", "images_per_s": batch / med,
            "median_step_s": med, "steps": times, "layout": best,
            "probe_median_step_s": probes, "precision_api": api, "precision_effective": effective,
            "precision_measured": measured, "precision_mismatch": mismatch, "last_loss": loss}


def self_test():
    """set_precision / read_precision on stand-ins for both PyTorch generations."""
    from types import SimpleNamespace as NS

    class Legacy:
        """Only allow_tf32 (PyTorch < 2.9)."""
        def __init__(self):
            self.backends = NS(cuda=NS(matmul=NS(allow_tf32=True)), cudnn=NS(allow_tf32=True))
            self.get_float32_matmul_precision = lambda: "highest"

    class Modern:
        """fp32_precision; reading or writing allow_tf32 after it raises (as mixing the APIs may)."""
        def __init__(self):
            class Refuse:
                def __init__(self, **kw):
                    self.__dict__.update(kw)

                def __getattr__(self, k):
                    raise RuntimeError("mixing legacy and new precision APIs")
            self.backends = NS(cuda=NS(matmul=Refuse(fp32_precision="none")),
                               cudnn=NS(conv=NS(fp32_precision="none"), fp32_precision="none"))
            self.get_float32_matmul_precision = lambda: "highest"

    failures, checks = [], [0]

    def expect(cond, what):
        checks[0] += 1
        if not cond:
            failures.append(what)

    for tf32 in (False, True):
        t = Legacy()
        expect(set_precision(t, tf32) == "allow_tf32", "legacy: API name")
        expect(t.backends.cuda.matmul.allow_tf32 is tf32 and t.backends.cudnn.allow_tf32 is tf32, "legacy: flags")
        r = read_precision(t)
        expect(r["matmul.allow_tf32"] is tf32 and r["cudnn.allow_tf32"] is tf32, "legacy: read back")
        m = Modern()
        expect(set_precision(m, tf32) == "fp32_precision", "modern: API name")
        mode = "tf32" if tf32 else "ieee"
        expect(m.backends.cuda.matmul.fp32_precision == mode, "modern: matmul")
        expect(m.backends.cudnn.conv.fp32_precision == mode, "modern: conv")
        r = read_precision(m)
        expect(r["matmul.fp32_precision"] == mode and r["cudnn.conv.fp32_precision"] == mode, "modern: read back")
        expect("matmul.allow_tf32" not in r, "modern: the legacy flags are not touched")
    os.environ["NVIDIA_TF32_OVERRIDE"] = "0"
    expect(read_precision(Legacy())["NVIDIA_TF32_OVERRIDE"] == "0", "NVIDIA_TF32_OVERRIDE recorded")
    if failures:
        raise SystemExit("gpu_torch_baseline self-test FAILED: " + "; ".join(failures))
    print(f"gpu_torch_baseline self-test: {checks[0]} checks passed (legacy and fp32_precision APIs, read-back, "
          "NVIDIA_TF32_OVERRIDE)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.out:
        ap.error("--out is required")
    try:
        import torch
        import torchvision
        import torchvision.models as models
    except ImportError as e:
        raise SystemExit(f"gpu_torch_baseline: PyTorch/torchvision not importable: {e}")
    if not torch.cuda.is_available():
        raise SystemExit("gpu_torch_baseline: no CUDA device visible to PyTorch")
    batches = [32] if args.quick else [32, 64, 128]
    timed = 5 if args.quick else 20
    probe = 3 if args.quick else 5
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "torch_cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version(), "device": torch.cuda.get_device_name(0),
           "precision_api": "fp32_precision" if new_precision_api(torch) else "allow_tf32",
           "NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE"), "throughput": []}

    def write():
        with open(args.out + ".part", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(args.out + ".part", args.out)

    bad = []
    for name in ("resnet50", "googlenet"):
        for batch in batches:
            for tf32 in (False, True):
                r = measure(torch, models, name, batch, tf32, timed, probe)
                m = r["precision_measured"]
                flag = "  PRECISION MISMATCH" if r["precision_mismatch"] else ""
                print(f"  torch {name:9s} batch {batch:3d} {r['math'].upper()}: {r['images_per_s']:.1f} images/s "
                      f"({r['layout']}; probes NCHW {1e3 * r['probe_median_step_s']['nchw']:.1f} ms, channels_last "
                      f"{1e3 * r['probe_median_step_s']['channels_last']:.1f} ms; measured error matmul "
                      f"{m['matmul_rel_err']:.1e} conv {m['conv_rel_err']:.1e}){flag}", flush=True)
                if r["precision_mismatch"]:
                    bad.append(f"{name} {batch} {r['math']}")
                out["throughput"].append(r)
                write()  # every row as it is measured
    if bad:
        raise SystemExit("gpu_torch_baseline: the measured precision is not the one asked for in: " + ", ".join(bad))


if __name__ == "__main__":
    main()
