#!/usr/bin/python3
"""Runs a study or one config on a simulated cluster: gg_train built with smpicxx (cmake --preset smpi),
launched by smpirun on a platform of experiments/platforms/. Logs land in results/<study>/<run>/
(run.h5 in the usual schema, log.txt with the command and SMPI's timing report).

  /usr/bin/python3 scripts/run_smpi.py experiments/studies/smpi_resnet50_strong.json
  /usr/bin/python3 scripts/run_smpi.py experiments/configs/quick.json --ranks 16 --platform p100_edr_fattree

A study file is a scripts/run_study.py study plus an optional "smpi" block:
  "smpi": {"platform": "p100_edr_fattree",    file stem in experiments/platforms/ (or a path)
           "profile": "resnet50_p100",        proxy profile (experiments/profiles/): the model becomes
                                              proxy layers with the profile's sizes and times
           "payload_scale": 256}              see below; 1 = exact sizes
Proxy runs use a one-float synthetic sample and a dataset of exactly one batch per worker: SMPI runs
every rank inside this one process, so each rank's copy of the data and model must stay small.

payload_scale S: every proxy parameter tensor, the bucket size (train.bucket_kb, wherever it is set:
give it in true units) and every link bandwidth of the platform are divided by S. A message of m/S bytes on a link of B/S bytes/s takes exactly as long as m
bytes on B, so simulated times are unchanged (latencies are not scaled), while the real memory and
arithmetic the simulator must do (SGD, averaging, reductions: all O(parameters) per rank and step)
shrink S-fold. sanity check: scripts/smpi_alpha_beta.py.

SMPI settings (all explicit): collectives chosen as Open MPI would (coll-selector:ompi); nonblocking
allreduce on Open MPI libnbc's large-message schedules (comm.iallreduce=ring is added to every run:
SMPI's own MPI_Iallreduce is all-to-all);
compute time only where the code injects it (simulate-computation:no; proxies sleep in simulated time),
so runs are deterministic; no bandwidth/latency correction factors and no cross-traffic (pure
alpha-beta links as documented in the platform file); no injected time in MPI_Test/MPI_Wtime; no
privatization (the engine has no mutable globals); one OpenMP/OpenBLAS thread."""
import argparse
import json
import math
import os
import re
import shlex
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_study  # noqa: E402  (study expansion and run execution are shared with mpirun studies)

REPO = run_study.REPO
SMPI_CFG = [
    "--cfg=smpi/coll-selector:ompi",
    "--cfg=smpi/simulate-computation:no",
    "--cfg=smpi/host-speed:1Gf",          # only used to bench real code, which is switched off
    "--cfg=smpi/bw-factor:0:1", "--cfg=smpi/lat-factor:0:1", "--cfg=network/crosstraffic:0",
    "--cfg=smpi/test:0", "--cfg=smpi/iprobe:0", "--cfg=smpi/wtime:0", "--cfg=smpi/grow-injected-times:no",
    "--cfg=smpi/display-timing:yes",
    "--log=xbt_cfg.thres:warning", "--log=smpi_coll.thres:warning", "--log=smpi_config.thres:warning",
]
SMPI_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
SMPI_SETS = ["comm.iallreduce=ring"]  # before the study's and the command line's --set (those win)


def find_file(name, folder, ext):
    for cand in (name, os.path.join(REPO, folder, name), os.path.join(REPO, folder, name + ext)):
        if os.path.isfile(cand):
            return cand
    raise run_study.StudyError(f"{folder}: no file '{name}'")


def proxy_model(profile, scale):
    """The profile's layers as proxy layers (params / scale), ending in a zero-cost logits layer."""
    layers = [{"type": "proxy", "name": l["name"], "params": math.ceil(l["params"] / scale),
               "forward_s": l["forward_s"], "backward_s": l["backward_s"], "batch": profile["batch"]}
              for l in profile["layers"]]
    layers.append({"type": "proxy", "name": "logits", "out": profile["classes"]})
    return {"layers": layers}


def proxy_config(base, profile, scale, samples, batch):
    """base config with the proxy model, a synthetic data set of `samples` one-float samples (one batch
    per worker: the global batch, or the largest p times the batch) and buckets scaled by `scale`."""
    cfg = json.loads(json.dumps(base))
    cfg["model"] = proxy_model(profile, scale)
    n = max(1, samples)
    cfg["data"] = {"name": "synthetic", "shape": [1, 1, 1], "classes": profile["classes"], "train_size": n,
                   "test_size": max(1, batch), "normalize": False}
    train = cfg.setdefault("train", {})
    train["bucket_kb"] = max(1, round(train.get("bucket_kb", 1024) / scale))
    train.setdefault("evals_per_epoch", 0)
    train["eval_replicas"] = False
    return cfg


def scale_bucket_overrides(doc, cli_sets, scale):
    """train.bucket_kb given in a study's "set" or on the command line is in true units: divide it too."""
    fixed = doc.get("set", {})
    if "train.bucket_kb" in fixed:
        fixed["train.bucket_kb"] = max(1, round(fixed["train.bucket_kb"] / scale))
    out = []
    for s in cli_sets:
        key, _, value = s.partition("=")
        out.append(f"{key}={max(1, round(float(value) / scale))}" if key == "train.bucket_kb" else s)
    return out


def scaled_platform(src, scale, dst):
    """Copy of the platform with every bandwidth divided by scale."""
    text = open(src, encoding="utf-8").read()
    if scale != 1:
        def div(m):
            return f'{m.group(1)}="{float(m.group(2)) / scale:.6g}{m.group(3)}"'
        text = re.sub(r'\b(bw|bb_bw|loopback_bw)="([0-9.eE+-]+)([A-Za-z]*)"', div, text)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return dst


def host_names(platform, count):
    m = re.search(r'<cluster[^>]*prefix="([^"]*)"[^>]*suffix="([^"]*)"[^>]*radical="(\d+)-(\d+)"', open(platform).read())
    if not m:
        raise run_study.StudyError(f"{platform}: expected one <cluster prefix= suffix= radical=>")
    prefix, suffix, lo, hi = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    if count > hi - lo + 1:
        raise run_study.StudyError(f"{platform}: {count} ranks, but only {hi - lo + 1} hosts")
    return [f"{prefix}{lo + i}{suffix}" for i in range(count)]


def smpi_command(smpirun, binary, platform, hostfile, ranks, args):
    return [smpirun, "-no-privatize", "-np", str(ranks), "-platform", platform, "-hostfile", hostfile,
            binary] + SMPI_CFG + args + ["--quiet"]


def simulated_seconds(log_path):
    m = re.findall(r"Simulated time: ([0-9.eE+-]+) seconds", open(log_path, errors="replace").read())
    return float(m[-1]) if m else None


def record_run(path, entry):
    """Adds (or replaces) one run's wall/simulated time in <study>/smpi_runs.json, right after the run."""
    old = json.load(open(path)) if os.path.exists(path) else []
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump([r for r in old if r["run"] != entry["run"]] + [entry], f, indent=1)
    os.replace(tmp, path)  # atomic: an interrupted study never leaves a truncated file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="a study (experiments/studies/smpi_*.json) or a config file")
    ap.add_argument("--platform", help="platform stem or path (overrides the study's)")
    ap.add_argument("--profile", help="proxy profile stem or path (overrides the study's)")
    ap.add_argument("--payload-scale", type=float, help="divide sizes and bandwidths by this (default 1)")
    ap.add_argument("--build-dir", default="build/smpi")
    ap.add_argument("--results", default="results")
    ap.add_argument("--ranks", type=int, default=1, help="ranks for a single config")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTR")
    ap.add_argument("--ranks-in", type=int, nargs="+", metavar="P", help="run only runs with these rank counts")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--smpirun", default="smpirun")
    args = ap.parse_args(argv)
    prog = "run_smpi"
    try:
        doc = run_study.read_json(args.target)
        smpi = doc.pop("smpi", {}) if isinstance(doc, dict) else {}
        if not isinstance(doc, dict) or not ("sweep" in doc or "base" in doc):
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.splitext(os.path.basename(args.target))[0])
            doc = {"name": name, "base": os.path.abspath(args.target), "sweep": {"ranks": [args.ranks]}}
        platform = find_file(args.platform or smpi.get("platform", "p100_edr_fattree"), "experiments/platforms", ".xml")
        profile_name = args.profile or smpi.get("profile")
        scale = args.payload_scale or float(smpi.get("payload_scale", 1))
        study_dir = os.path.join(args.results, doc["name"])
        if profile_name:
            profile = run_study.read_json(find_file(profile_name, "experiments/profiles", ".json"))
            base, _ = run_study.resolve_base(doc["base"], args.target)
            ranks = doc.get("sweep", {}).get("ranks", [1])
            gb = doc.get("sweep", {}).get("global_batch")
            batch = gb if gb else doc.get("set", {}).get("train.batch", base.get("train", {}).get("batch", 64))
            doc["base"] = proxy_config(base, profile, scale, gb if gb else max(ranks) * batch, batch)
            args.set = scale_bucket_overrides(doc, args.set, scale)
        name, base, base_path, fixed, algos, ranks, sweep_set, gb = run_study.validate_study(doc, args.target)
        if base_path is None:
            base_path = os.path.join(study_dir, "base_config.json")
        runs = run_study.expand(name, base_path, fixed, algos, ranks, sweep_set, args.results, args.set, gb)
        for run in runs:
            run["args"] = run["args"][:2] + [a for s in SMPI_SETS for a in ("--set", s)] + run["args"][2:]
    except (run_study.StudyError, KeyError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    runs = [r for r in runs if (not args.only or any(s in r["name"] for s in args.only))
            and (not args.ranks_in or r["ranks"] in args.ranks_in)]
    binary = os.path.join(args.build_dir, "experiments", "gg_train")
    if not args.dry_run:
        if shutil.which(args.smpirun) is None:
            print(f"{prog}: error: {args.smpirun} not found (apt-get install libsimgrid-dev)", file=sys.stderr)
            return 2
        if not os.path.exists(binary):
            print(f"{prog}: error: {binary}: not built (cmake --preset smpi && cmake --build --preset smpi)",
                  file=sys.stderr)
            return 2
        os.makedirs(study_dir, exist_ok=True)
        if base_path.endswith("base_config.json"):
            with open(base_path, "w", encoding="utf-8") as f:
                json.dump(base, f, indent=1)
    plat = scaled_platform(platform, scale, os.path.join(study_dir, "platform.xml")) if not args.dry_run else platform
    failed, summary = 0, []
    for i, run in enumerate(runs, 1):
        hostfile = os.path.join(run["out_dir"], "hostfile")
        cmd = smpi_command(args.smpirun, binary, plat, hostfile, run["ranks"], run["args"])
        if args.dry_run:
            print(" ".join(f"{k}={v}" for k, v in SMPI_ENV.items()), shlex.join(cmd))
            continue
        os.makedirs(run["out_dir"], exist_ok=True)
        with open(hostfile, "w") as f:
            f.write("\n".join(host_names(plat, run["ranks"])) + "\n")
        log_path = os.path.join(run["out_dir"], "log.txt")
        print(f"[{i}/{len(runs)}] {run['name']} ({run['ranks']} simulated ranks) ...", end=" ", flush=True)
        t0 = time.time()
        status, rc = run_study.run_one(cmd, SMPI_ENV, log_path, args.timeout)
        wall = time.time() - t0
        sim = simulated_seconds(log_path)
        if rc == 0 and re.search(r"MPI_Abort was called|SMPI process did not return 0", open(log_path, errors="replace").read()):
            status, rc = "FAILED (a rank aborted; smpirun exits 0 anyway)", 1
        print(f"{status} in {wall:.1f} s wall, {sim if sim is not None else float('nan'):.3f} s simulated", flush=True)
        summary.append({"run": run["name"], "ranks": run["ranks"], "wall_s": round(wall, 2), "simulated_s": sim,
                        "status": status, "platform": os.path.basename(platform), "profile": profile_name,
                        "payload_scale": scale})
        if rc != 0:
            failed += 1
            for line in run_study.tail(log_path, 6):
                print(f"    | {line}")
        record_run(os.path.join(study_dir, "smpi_runs.json"), summary[-1])
    if not args.dry_run:
        print(f"\n{len(runs) - failed}/{len(runs)} runs succeeded; logs under {study_dir}/ "
              f"(simulator wall times in {study_dir}/smpi_runs.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
