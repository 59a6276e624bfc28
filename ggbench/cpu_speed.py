"""The CPU engine's training speed next to PyTorch CPU's, measured in one run (a benchmark, not a test).

A whole lenet training step at batch 64 (forward, softmax cross-entropy, backward, SGD with momentum 0.9
and weight decay 5e-4) on synthetic images: the engine's from bench_layers' BM_LenetStep, PyTorch's from
the same network built here, at 1 and 2 threads. Rounds alternate the two so that a slower moment of a
shared machine hits both; each figure is the median over rounds. PyTorch runs both memory layouts
(NCHW and channels_last) and is credited with the faster. The engine's BLAS kernels are named as
bench_layers reports them (core/blas/blas_kernels.hpp).

usage: python3 -m ggbench.cpu_speed [--bench build/release/experiments/bench/bench_layers] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BATCH = 64
THREADS = (1, 2)
# The engine's lenet (core/model/model_builder.cpp): a torch network with another count is not the same.
LENET_PARAMS = 431080


class BenchError(Exception):
    """A measurement that could not be made: one error line, exit 2."""


def engine_round(bench, min_time):
    """One bench_layers run of BM_LenetStep at every thread count: ({threads: images/s}, blas line)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.json")
        cmd = [bench, "--benchmark_filter=BM_LenetStep", f"--benchmark_min_time={min_time}",
               f"--benchmark_out={path}", "--benchmark_out_format=json"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise BenchError(f"{bench} exited {run.returncode}: {run.stderr.strip()[-400:]}")
        with open(path) as f:
            doc = json.load(f)
    speeds = {}
    for b in doc["benchmarks"]:
        threads = int(b["name"].split("threads:")[1].split("/")[0])
        speeds[threads] = b["images/s"]
    return speeds, doc["context"].get("blas", "unknown")


def torch_lenet(torch):
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    count = sum(p.numel() for p in net.parameters())
    if count != LENET_PARAMS:
        raise BenchError(f"the torch lenet has {count} parameters, the engine's {LENET_PARAMS}")
    return net


def torch_speed(torch, threads, channels_last, seconds):
    """images/s of PyTorch's lenet step on `threads` threads, timed for about `seconds`."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = torch_lenet(torch).train()
    x = torch.rand(BATCH, 1, 28, 28) - 0.5
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.arange(BATCH) % 10
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 10:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return BATCH / statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/release/experiments/bench/bench_layers")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0, help="timing per measurement and round")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.seconds <= 0:
        print("error: --rounds must be >= 1 and --seconds > 0", file=sys.stderr)
        return 2
    if not os.access(a.bench, os.X_OK):
        print(f"error: {a.bench}: no bench_layers binary (build with scripts/build.sh)", file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError:
        print("cpu_speed: PyTorch is not installed (Debian: apt-get install python3-torch); "
              "nothing to compare with, nothing measured")
        return 0
    try:
        return compare(torch, a)
    except (BenchError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def compare(torch, a):
    engine = {t: [] for t in THREADS}
    torch_best = {t: [] for t in THREADS}
    layout = {t: {} for t in THREADS}
    blas = "unknown"
    for r in range(a.rounds):
        speeds, blas = engine_round(a.bench, a.seconds)
        for t in THREADS:
            engine[t].append(speeds[t])
            runs = {name: torch_speed(torch, t, cl, a.seconds) for name, cl in (("NCHW", False), ("channels_last", True))}
            best = max(runs, key=runs.get)
            torch_best[t].append(runs[best])
            layout[t][best] = layout[t].get(best, 0) + 1
        print(f"  round {r + 1}/{a.rounds}: " + ", ".join(
            f"{t} thread(s) engine {engine[t][-1]:,.0f} / torch {torch_best[t][-1]:,.0f} images/s" for t in THREADS),
            flush=True)
    print(f"\nlenet training step, batch {BATCH}, median of {a.rounds} rounds ({os.cpu_count()} CPUs)")
    print(f"engine BLAS: {blas}")
    print(f"PyTorch {torch.__version__} CPU ({torch.backends.mkldnn.is_available() and 'oneDNN' or 'no oneDNN'})")
    print(f"{'threads':>7} {'engine img/s':>13} {'torch img/s':>12} {'torch layout':>14} {'ratio':>6}")
    e1 = statistics.median(engine[1])
    for t in THREADS:
        e, p = statistics.median(engine[t]), statistics.median(torch_best[t])
        best = max(layout[t], key=layout[t].get)
        print(f"{t:>7} {e:>13,.0f} {p:>12,.0f} {best:>14} {e / p:>5.2f}x")
    print(f"engine at 2 threads / 1 thread: {statistics.median(engine[2]) / e1:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
