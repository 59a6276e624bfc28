#!/usr/bin/python3
"""Checkpoint / resume of gg_train end to end (registered with ctest by tests/cli/CMakeLists.txt).

    resume_e2e.py --gg-train PATH --work DIR [--mpiexec PATH | --smpi-build DIR] FAULT ALGO NP [KEY=VALUE ...]

Runs one small training job three ways, all with the same config (a conv/batch-norm/dropout model on
synthetic 8x8 data, 2 x 256 steps, momentum, a step learning-rate schedule, four evaluations):
  1. uninterrupted (its only checkpoint is the final one: the trained model);
  2. interrupted: checkpoints every 32 steps; once the first is committed, the FAULT hits the job
       sigterm  every rank gets SIGTERM (what Slurm sends before a time limit): the job must stop at an
                agreed boundary, exit with status 75 (every rank), print one 'stopped by SIGTERM' line,
                and leave a committed checkpoint at that boundary and a log holding exactly its steps;
       kill9    the launcher and every rank get SIGKILL at once: no warning, no flush;
       stopfile the stop request file <log>.stop is created (what ggbench/launch.py does at a study's
                --timeout, since mpirun kills the ranks one second after forwarding a SIGTERM): like
                sigterm, with one 'stopped by a stop request' line; the resumed run removes the file;
     (the ranks are frozen with SIGSTOP before the fault and thawed after it, so the run cannot slip
     past the end while the fault is delivered);
  3. the interrupted job continued with --resume, to the end.
(In between, starting it over without --resume and --resume with another train.batch must be refused.)
Then the resumed run must equal the uninterrupted one BITWISE: every rank's final checkpoint (model
parameters and batch-norm statistics, momentum, sampler, and the algorithm's own state: server shards,
exchange buffers) and every per-step and per-evaluation value of the log that is not a timing; the
log must hold each step once, evaluations in order, finished = 1, and one entry in `resumes`.
KEY=VALUE pairs are extra --set options (algorithm options). --smpi-build runs the jobs under smpirun
(SimGrid, simulated time) with the SMPI build of gg_train instead of mpiexec.
Exit status 0 when every check passes; otherwise each failure is printed as 'FAIL: ...'.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from ggbench import checkpoint  # noqa: E402

TIMEOUT_S = 120
STOPPED = 75  # core/util/stop_signal.hpp kStoppedExitCode
failures = []

CONFIG = {
    "name": "resume_check",
    "model": {"layers": [
        {"type": "conv2d", "name": "c1", "out": 6, "kernel": 3, "pad": 1},
        {"type": "batch_norm", "name": "bn1"},
        {"type": "relu", "name": "r1"},
        {"type": "max_pool", "name": "p1", "kernel": 2, "stride": 2},
        {"type": "dropout", "name": "d1", "rate": 0.2},
        {"type": "dense", "name": "fc", "out": 10}]},
    "data": {"name": "synthetic", "shape": [8, 8, 1], "train_size": 8192, "test_size": 128},
    "optimizer": {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
                  "schedule": {"kind": "step", "step_epochs": 0.5, "gamma": 0.5}},
    "train": {"epochs": 2, "batch": 16, "evals_per_epoch": 2, "log_every": 100000},
}
# measured times (core/comm/comm_meter.hpp); mem_s and staging_s are cost-model charges of counted work
TIMINGS = {"compute_s", "comm_s", "wait_s", "exposed_s", "total_s", "calls_s", "wall_s"}
NOT_COMPARED = {"trainer.elapsed_s", "trainer.eval_s"}  # clocks


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL: " + message, flush=True)
    return ok


class Launcher:
    def __init__(self, args):
        self.args = args
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def command(self, np_, argv):
        a = self.args
        if a.smpi_build:
            from ggbench import smpi
            # The P100 platform without its node cost model (gg_* properties): with it, the progress calls
            # and staging around a checkpoint (messages drained, then not tested again) are charged
            # differently from the uninterrupted run, which shifts simulated time, and an asynchronous
            # algorithm's outcome depends on that time. Bitwise resume under SMPI is claimed without it.
            platform = os.path.join(a.work, "platform_no_costs.xml")
            if not os.path.exists(platform):
                text = open(os.path.join(REPO, "experiments/platforms/p100_edr_fattree.xml")).read()
                with open(platform, "w") as f:
                    f.write(re.sub(r'\s*<prop id="gg_[a-z_A-Z]+" value="[^"]*"/>', "", text))
            hostfile = os.path.join(a.work, "hostfile")
            with open(hostfile, "w") as f:
                f.write("\n".join(smpi.host_names(platform, np_)) + "\n")
            sets = sum((["--set", s] for s in smpi.SMPI_SETS), [])
            exe = os.path.join(a.smpi_build, "experiments", "gg_train")
            return smpi.smpi_command("smpirun", exe, platform, hostfile, np_, sets + argv)
        return [a.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(np_),
                "-x", "OPENBLAS_NUM_THREADS", "-x", "OMP_NUM_THREADS", a.gg_train] + argv + ["--quiet"]

    def start(self, np_, argv):
        cmd = self.command(np_, argv)
        log = open(os.path.join(self.args.work, "job.txt"), "a")
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.PIPE, text=True, env=self.env,
                                start_new_session=True)


def ranks_of(pid):
    """Every process below pid (the ranks, under mpiexec or smpirun)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = open(f"/proc/{p}/task/{p}/children").read().split()
        except OSError:
            kids = []
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def finish(proc, what):
    try:
        _, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        check(False, f"{what}: no exit within {TIMEOUT_S} s (hang?)")
        raise SystemExit(1)
    return proc.returncode, err


def run_to_end(launcher, np_, argv, what):
    proc = launcher.start(np_, argv)
    rc, err = finish(proc, what)
    if not check(rc == 0, f"{what}: exit status {rc}\n{err[-3000:]}"):
        raise SystemExit(1)


def interrupt(launcher, np_, argv, fault, ckpt_dir):
    """Starts the job; once its first checkpoint is committed, freezes the ranks, delivers the fault,
    thaws them. Returns (exit status, stderr)."""
    proc = launcher.start(np_, argv)
    latest = os.path.join(ckpt_dir, "LATEST")
    while not os.path.exists(latest) and proc.poll() is None:
        time.sleep(0.002)
    ranks = ranks_of(proc.pid)
    signal_all(ranks, signal.SIGSTOP)
    if proc.poll() is not None:
        rc, err = finish(proc, "interrupted run")
        check(False, f"the run ended (status {rc}) before its first checkpoint was seen: nothing to interrupt\n{err[-2000:]}")
        raise SystemExit(1)
    if fault == "kill9":
        os.killpg(proc.pid, signal.SIGKILL)
        signal_all(ranks, signal.SIGKILL)
    elif fault == "stopfile":
        open(ckpt_dir[:-len(".ckpt")] + ".stop", "w").close()
    else:
        signal_all(ranks, signal.SIGTERM)
    signal_all(ranks, signal.SIGCONT)
    return finish(proc, "interrupted run")


def same_records(a, b):
    """Names of the records that differ (bitwise) between two rank files."""
    names = [k for k in a.records if k not in NOT_COMPARED]
    if names != [k for k in b.records if k not in NOT_COMPARED]:
        return ["(record names differ: %s vs %s)" % (list(a.records), list(b.records))]
    bad = []
    for k in names:
        x, y = np.asarray(a.records[k]), np.asarray(b.records[k])
        if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
            bad.append(k)
    return bad


def log_values(path):
    """Every non-timing dataset of a run log, by path."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.split("/")[-1] not in TIMINGS:
                out[name] = obj[...]
        f.visititems(visit)
        attrs = dict(f.attrs)
    return out, attrs


def compare(ref_log, res_log, stop_step, total, algo):
    ref_ck, res_ck = checkpoint.load(checkpoint.folder_for(ref_log)), checkpoint.load(checkpoint.folder_for(res_log))
    check(res_ck.manifest["final"] and res_ck.manifest["step"] == total,
          f"resumed run's committed checkpoint is step {res_ck.manifest['step']} final={res_ck.manifest['final']}")
    params = 0
    for a, b in zip(ref_ck.ranks, res_ck.ranks):
        bad = same_records(a, b)
        check(not bad, f"rank {a.header['rank']} ({a.header['role']}): final state differs from the uninterrupted "
                       f"run in {bad}")
        if "model.params" in a.records:
            params = len(a.records["model.params"])
    ref_v, ref_attrs = log_values(ref_log)
    res_v, res_attrs = log_values(res_log)
    check(sorted(ref_v) == sorted(res_v), f"log datasets differ: {sorted(ref_v)} vs {sorted(res_v)}")
    for name in sorted(set(ref_v) & set(res_v)):
        x, y = ref_v[name], res_v[name]
        if name == "steps/bytes_sent" and algo == "adpsgd":
            # an AD-PSGD passive answers its choosers as their messages arrive, so which step's record
            # counts a reply depends on timing (two uninterrupted runs differ too): per-worker totals
            x, y = x.sum(axis=0), y.sum(axis=0)
        check(x.shape == y.shape and x.tobytes() == y.tobytes(), f"log /{name} differs from the uninterrupted run's")
    steps = res_v.get("steps/step")
    check(steps is not None and np.array_equal(steps, np.arange(total)), "resumed log: /steps/step is not 0..T-1 once each")
    ev = res_v.get("eval/step")
    check(ev is not None and len(ev) > 0 and np.all(np.diff(ev) > 0), f"resumed log: /eval/step not increasing: {ev}")
    check(res_attrs.get("finished") == 1, "resumed log is not finished")
    resumes = json.loads(res_attrs.get("resumes", "[]"))
    check([r["step"] for r in resumes] == [stop_step], f"resumed log: resumes = {resumes}, expected one at {stop_step}")
    with h5py.File(res_log, "r") as f:
        wall = f["eval/wall_s"][:]
    check(np.all(np.diff(wall) >= 0), f"resumed log: eval wall_s goes back in time: {wall}")
    return params, len(ref_ck.ranks), steps.size * int(res_attrs.get("workers", 1)) if steps is not None else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gg-train")
    ap.add_argument("--mpiexec")
    ap.add_argument("--smpi-build")
    ap.add_argument("--work", required=True)
    ap.add_argument("fault", choices=["sigterm", "kill9", "stopfile"])
    ap.add_argument("algo")
    ap.add_argument("np", type=int)
    ap.add_argument("sets", nargs="*")
    a = ap.parse_args()
    if a.smpi_build and shutil.which("smpirun") is None:
        print("SKIPPED: smpirun not found (apt-get install libsimgrid-dev)")
        return 77
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    cfg_path = os.path.join(a.work, "config.json")
    json.dump(CONFIG, open(cfg_path, "w"))
    sets = ["--set", f"algorithm.name={a.algo}"] + sum((["--set", f"algorithm.{s}"] for s in a.sets), [])
    base = ["--config", cfg_path] + sets
    launcher = Launcher(a)
    label = " ".join([a.algo] + a.sets) + f" on {a.np} ranks" + (" (SMPI)" if a.smpi_build else "")

    t0 = time.time()
    ref_log = os.path.join(a.work, "ref", "run.h5")
    run_to_end(launcher, a.np, base + ["--set", f"output.path={ref_log}", "--set", "train.checkpoint_every=100000"],
               "uninterrupted run")
    t_ref = time.time() - t0

    res_log = os.path.join(a.work, "res", "run.h5")
    every = ["--set", f"output.path={res_log}", "--set", "train.checkpoint_every=32", "--set", "train.stop_check_every=2"]
    ckpt_dir = checkpoint.folder_for(res_log)
    t0 = time.time()
    rc, err = interrupt(launcher, a.np, base + every, a.fault, ckpt_dir)
    manifest = checkpoint.load(ckpt_dir).manifest
    stop_step, total = manifest["step"], None
    if a.fault in ("sigterm", "stopfile"):
        how = "SIGTERM" if a.fault == "sigterm" else "a stop request"
        lines = [l for l in err.splitlines() if f"gg_train: stopped by {how}" in l]
        check(rc == STOPPED, f"{how}: exit status {rc}, expected {STOPPED}\n{err[-2000:]}")
        check(len(lines) == 1, f"{how}: expected one 'stopped by {how}' line, got {len(lines)}:\n{err[-2000:]}")
        check(len(lines) == 1 and f"after step {stop_step} " in lines[0], f"SIGTERM: the line does not name step {stop_step}")
        with h5py.File(res_log, "r") as f:
            logged = f["steps/step"][:]
            check(f.attrs["finished"] == 0, "stopped run's log says finished")
        check(np.array_equal(logged, np.arange(stop_step)), f"stopped run's log holds steps {logged[:3]}..{logged[-3:]}, "
                                                            f"expected 0..{stop_step - 1}")
    else:
        check(rc != 0, f"kill -9: exit status {rc}")
    t_fault = time.time() - t0

    # Refused, with one line naming the reason (status 2), touching nothing: starting the interrupted run
    # over without --resume, and --resume with another config
    for extra, needle in (([], "holds the checkpoint of an unfinished run"),
                          (["--set", "train.batch=8", "--resume"], "'train.batch' (16 in the checkpoint, 8 now)")):
        rc, err = finish(launcher.start(a.np, base + every + extra), "refused run")
        errors = [l for l in err.splitlines() if "error:" in l]
        check(rc != 0 and len(errors) == 1 and needle in errors[0], f"{extra}: status {rc}, errors {errors}")
        check(checkpoint.load(ckpt_dir).manifest == manifest, f"a refused run ({extra}) changed the checkpoint")

    t0 = time.time()
    run_to_end(launcher, a.np, base + every + ["--resume"], "resumed run")
    t_res = time.time() - t0
    total = checkpoint.load(ckpt_dir).manifest["step"]
    check(not os.path.exists(res_log + ".stop"), "the resumed run left the stop request file")
    params, ranks, losses = compare(ref_log, res_log, stop_step, total, a.algo)
    if not failures:
        print(f"ok  {label}: {a.fault} after step {stop_step} of {total}, resumed; final state of all {ranks} ranks "
              f"bitwise equal to the uninterrupted run ({params} parameters + momentum per worker, algorithm state), "
              f"{losses} per-step losses and every evaluation equal; runs {t_ref:.1f} / {t_fault:.1f} / {t_res:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
