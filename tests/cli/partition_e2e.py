#!/usr/bin/python3
"""End-to-end check of a label-skewed data.partition (registered with ctest by tests/cli/CMakeLists.txt).

    partition_e2e.py --gg-train PATH --mpiexec PATH --source DIR --work DIR PARTITION NP

Trains experiments/configs/quick.json (Fashion-MNIST, first 2048 training images) for a few steps on NP
ranks under mpiexec with data.partition = PARTITION ("classes" with classes_per_worker 2, or
"dirichlet" with dirichlet_alpha 0.1) and checks the run log's /data group (core/log/SCHEMA.md): the
partition's attributes, and /data/class_histogram [NP, 10]: every row sums to S = 2048 // NP, no class
is given out more often than the training labels hold it, "classes" gives every worker at most k
pieces' labels (a piece of L samples spans at most 1 + ceil((L-1)/m) labels, m the smallest class), and the effective config records the option. Exit status 0 when every check passes.
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

TRAIN = 2048
OPTION = {"classes": ("classes_per_worker", 2), "dirichlet": ("dirichlet_alpha", 0.1)}


def main():
    ap = argparse.ArgumentParser()
    for a in ("--gg-train", "--mpiexec", "--source", "--work"):
        ap.add_argument(a, required=True)
    ap.add_argument("partition", choices=sorted(OPTION))
    ap.add_argument("np", type=int)
    args = ap.parse_args()
    work = os.path.join(args.work, f"partition_{args.partition}_{args.np}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = os.path.join(work, "run.h5")
    key, value = OPTION[args.partition]
    cmd = [args.mpiexec, "--allow-run-as-root", "--oversubscribe", "-x", "OPENBLAS_NUM_THREADS=1",
           "-x", "OMP_NUM_THREADS=1", "-n", str(args.np), args.gg_train,
           "--config", os.path.join(args.source, "experiments/configs/quick.json"), "--quiet",
           "--set", f"data.train_limit={TRAIN}", "--set", "data.test_limit=256",
           "--set", f"data.partition={args.partition}", "--set", f"data.{key}={value}",
           "--set", "algorithm.name=gossipgrad", "--set", "train.max_steps=4", "--set", "train.batch=16",
           "--set", f"output.path={log}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        print(f"FAIL: gg_train exited {p.returncode}\n{p.stdout}\n{p.stderr}")
        return 1

    with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], dtype=np.uint8)[:TRAIN]
    supply = np.bincount(labels, minlength=10)

    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    with h5py.File(log, "r") as f:
        check("data" in f, "no /data group")
        g = f["data"]
        check(g.attrs["partition"] == args.partition, f"partition attribute {g.attrs['partition']!r}")
        check(int(g.attrs["num_classes"]) == 10, "num_classes attribute")
        check(np.isclose(float(g.attrs[key]), value), f"{key} attribute {g.attrs.get(key)!r}")
        other = "dirichlet_alpha" if key == "classes_per_worker" else "classes_per_worker"
        check(other not in g.attrs, f"{other} attribute written under {args.partition}")
        h = g["class_histogram"][:]
        config = json.loads(f.attrs["config"])
    check(h.dtype == np.int64 and h.shape == (args.np, 10), f"class_histogram is {h.dtype} {h.shape}")
    check((h.sum(axis=1) == TRAIN // args.np).all(), f"rows sum to {h.sum(axis=1)}, expected {TRAIN // args.np}")
    check((h.sum(axis=0) <= supply).all(), f"class totals {h.sum(axis=0)} exceed the labels' {supply}")
    check(config["data"].get(key) == value, f"effective config data.{key} = {config['data'].get(key)!r}")
    if args.partition == "classes":  # a piece of L samples spans at most 1 + ceil((L-1)/m) labels
        piece = -(-(TRAIN // args.np) // value)
        bound = value * (1 + -(-(piece - 1) // int(supply.min())))
        check(((h > 0).sum(axis=1) <= bound).all(), f"more than {bound} labels on a worker:\n{h}")
    for msg in failures:
        print("FAIL: " + msg)
    if not failures:
        print(f"ok: {args.partition} on {args.np} ranks\n{h}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
