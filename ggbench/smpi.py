"""The simulated cluster's pieces: SMPI settings, platform files (bandwidths scaled, host names), proxy
models from profiles, and the smpirun command line. Used by the SMPI runner (ggbench/run_smpi.py), the
alpha-beta check (ggbench/alpha_beta.py) and tests/smpi/smpi_smoke.py."""
import json
import math
import os
import re

from .registry import REPO
from .study import StudyError

SMPI_CFG = [
    "--cfg=smpi/coll-selector:ompi",
    # SMPI runs a broadcast inside every communicator it creates (MPI_Comm_dup, MPI_Comm_split); Open MPI's
    # rules pick the SMP-aware knomial one there, which first runs a p-round allgather ring over the new
    # communicator (O(p^2) messages, half of a 1024-rank run's set-up). The engine broadcasts nothing while
    # training, so a binomial tree changes set-up only.
    "--cfg=smpi/bcast:binomial_tree",
    "--cfg=smpi/simulate-computation:no",
    "--cfg=smpi/host-speed:1Gf",          # only used to bench real code, which is switched off
    "--cfg=smpi/bw-factor:0:1", "--cfg=smpi/lat-factor:0:1", "--cfg=network/crosstraffic:0",
    "--cfg=smpi/test:0", "--cfg=smpi/iprobe:0", "--cfg=smpi/wtime:0", "--cfg=smpi/grow-injected-times:no",
    "--cfg=smpi/display-timing:yes",
    "--log=xbt_cfg.thres:warning", "--log=smpi_coll.thres:warning", "--log=smpi_config.thres:warning",
]
SMPI_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
THREAD_CLOCK_SHIM = "libgg_thread_clock.so"  # core/sim/thread_clock_shim.c, built next to gg_train
# Simulator speed-ups that change no simulated number (tests/smpi/smpi_smoke.py compares logs with and
# without them): the thread-clock shim saves SimGrid 3.32's two clock system calls per MPI call,
# transparent huge pages for malloc (glibc 2.35+) turn the first touch of every rank's buffers from
# hundreds of page faults into one (set-up of 256 ranks: 15.0 s -> 11.1 s on the development VM), and
# gg_train's progress tests wait on a sentinel instead of calling MPI_Test (core/sim/request_test.hpp;
# without the speed-ups GG_SMPI_PLAIN_TEST=1 turns that off).
SPEEDUP_ENV = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
SMPI_SETS = ["comm.iallreduce=ring"]  # before the study's and the command line's --set (those win)


def smpi_env(binary, speedups=True):
    """SMPI_ENV, plus (speedups) SPEEDUP_ENV and the thread-clock shim built next to `binary` when there
    is one."""
    env = dict(SMPI_ENV)
    if not speedups:
        env["GG_SMPI_PLAIN_TEST"] = "1"  # MPI_Test as it is (core/sim/request_test.hpp)
        return env
    env.update(SPEEDUP_ENV)
    lib = os.path.join(os.path.dirname(os.path.abspath(binary)), THREAD_CLOCK_SHIM)
    if os.path.isfile(lib):
        env["LD_PRELOAD"] = " ".join(x for x in (os.environ.get("LD_PRELOAD", ""), lib) if x)
    return env


def find_file(name, folder, ext):
    """A path as given, or a file (stem) of the repository's folder."""
    for cand in (name, os.path.join(REPO, folder, name), os.path.join(REPO, folder, name + ext)):
        if os.path.isfile(cand):
            return cand
    raise StudyError(f"{folder}: no file '{name}'")


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


def to_proxy(study, profile, scale):
    """Turns a validated study into its proxy version: the base config becomes proxy_config() of it
    (inline, so the runner writes it next to the results), with one batch per worker of the largest
    swept count (or the global batch) as data, and a fixed train.bucket_kb scaled like the buckets."""
    gb = study.global_batch
    batch = gb if gb else study.fixed.get("train.batch", study.base.get("train", {}).get("batch", 64))
    study.base = proxy_config(study.base, profile, scale, gb if gb else max(study.ranks) * batch, batch)
    study.base_path = None
    if "train.bucket_kb" in study.fixed:
        try:
            study.fixed["train.bucket_kb"] = max(1, round(study.fixed["train.bucket_kb"] / scale))
        except TypeError:
            raise StudyError("set: train.bucket_kb: expected a number of KiB") from None


def scale_bucket_overrides(cli_sets, scale):
    """train.bucket_kb given on the command line is in true units: divided by the payload scale too."""
    out = []
    for s in cli_sets:
        key, _, value = s.partition("=")
        try:
            out.append(f"{key}={max(1, round(float(value) / scale))}" if key == "train.bucket_kb" else s)
        except ValueError:
            raise StudyError(f"--set '{s}': expected a number of KiB") from None
    return out


def scaled_platform(src, scale, dst):
    """Copy of the platform with every bandwidth divided by scale: links, and the node's memory and
    staging bandwidths of the cost model (gg_mem_GBps, gg_staging_GBps), since payloads shrink by scale."""
    text = open(src, encoding="utf-8").read()
    if scale != 1:
        def div(m):
            return f'{m.group(1)}="{float(m.group(2)) / scale:.6g}{m.group(3)}"'
        text = re.sub(r'\b(bw|bb_bw|loopback_bw)="([0-9.eE+-]+)([A-Za-z]*)"', div, text)
        # the node's cost-model bandwidths (memory passes, staging) move scaled payloads too
        def div_prop(m):
            return f'{m.group(1)}{float(m.group(2)) / scale:.6g}"'
        text = re.sub(r'(<prop\s+id="gg_(?:mem|staging)_GBps"\s+value=")([0-9.eE+-]+)"', div_prop, text)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return dst


def host_names(platform, count):
    """The first `count` host names of the platform's <cluster>; StudyError if it has fewer."""
    m = re.search(r'<cluster[^>]*prefix="([^"]*)"[^>]*suffix="([^"]*)"[^>]*radical="(\d+)-(\d+)"', open(platform).read())
    if not m:
        raise StudyError(f"{platform}: expected one <cluster prefix= suffix= radical=>")
    prefix, suffix, lo, hi = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    if count > hi - lo + 1:
        raise StudyError(f"{platform}: {count} ranks, but only {hi - lo + 1} hosts")
    return [f"{prefix}{lo + i}{suffix}" for i in range(count)]


def smpi_command(smpirun, binary, platform, hostfile, ranks, args):
    return [smpirun, "-no-privatize", "-np", str(ranks), "-platform", platform, "-hostfile", hostfile,
            binary] + SMPI_CFG + args + ["--quiet"]


def simulated_seconds(log_text):
    """The simulated time SMPI reports at the end of a run's log, None if absent."""
    m = re.findall(r"Simulated time: ([0-9.eE+-]+) seconds", log_text)
    return float(m[-1]) if m else None
