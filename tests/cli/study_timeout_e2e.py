#!/usr/bin/python3
"""A study run stopped at run_study.py's --timeout and continued with run_study.py --resume ends
BITWISE equal to the same run uninterrupted (registered with ctest by tests/cli/CMakeLists.txt).

    study_timeout_e2e.py --gg-train PATH --work DIR [--algo NAME] [--ranks P] [--slurm]

--slurm: every run through srun inside salloc, on a one-node Slurm that the test starts
(tests/slurm/local_slurm.py; exit 77, skipped, where it cannot start).

At the timeout the runner creates the run's stop request file (<log>.stop, core/train/run_control.hpp)
instead of signalling mpirun (which kills the ranks one second after forwarding a SIGTERM): the ranks
stop at their next agreed boundary with a checkpoint, the run's status.json says "stopped", and
--resume continues it with gg_train --resume (runs that succeeded are skipped). Then the final state
of every rank and every non-timing logged value must equal the uninterrupted run's (resume_e2e.py's
comparison). Exit status 0 when every check passes."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)
import resume_e2e  # noqa: E402
from resume_e2e import check, compare, failures  # noqa: E402
from ggbench import checkpoint  # noqa: E402


def study(a, results, *extra):
    cmd = list(a.prefix) + ["/usr/bin/python3", os.path.join(REPO, "scripts", "run_study.py"), os.path.join(a.work, "config.json"),
           "--ranks", str(a.ranks), "--build-dir", os.path.join(a.work, "build"), "--results", results, "--no-plots",
           "--set", f"algorithm.name={a.algo}", *a.launcher, *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env=dict(a.env, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gg-train", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--algo", default="gossipgrad")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=None,
                    help="run_study's --timeout (default: 40%% of the uninterrupted study's wall time, at least 1 s)")
    ap.add_argument("--slurm", action="store_true")
    a = ap.parse_args()
    a.prefix, a.launcher, a.env = (), (), dict(os.environ)
    if not a.slurm:
        return run(a)
    sys.path.insert(0, os.path.join(REPO, "tests", "slurm"))
    import local_slurm
    try:
        with local_slurm.LocalSlurm(cpus=2) as cluster:
            a.env = cluster.env
            a.prefix = ("salloc", f"--ntasks={a.ranks}", "--overcommit")
            a.launcher = ("--launcher", "srun", "--launcher-set", "oversubscribe=true")
            return run(a)
    except local_slurm.Unavailable as e:
        print(f"SKIPPED: Slurm cannot start here: {e}")
        return 77


def run(a):
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(os.path.join(a.work, "build", "experiments"))
    os.symlink(os.path.abspath(a.gg_train), os.path.join(a.work, "build", "experiments", "gg_train"))
    config = json.loads(json.dumps(resume_e2e.CONFIG))
    config["train"].update({"epochs": 6, "evals_per_epoch": 2, "stop_check_every": 2, "checkpoint_every": 100000})
    config["data"]["shape"] = [32, 32, 1]  # steps of about a millisecond: the run lasts seconds, not one
    with open(os.path.join(a.work, "config.json"), "w") as f:
        json.dump(config, f)
    ref_log = os.path.join(a.work, "ref", "config", f"p{a.ranks}", "run.h5")
    res_dir = os.path.join(a.work, "res", "config", f"p{a.ranks}")
    res_log = os.path.join(res_dir, "run.h5")

    t0 = time.monotonic()
    rc, out = study(a, os.path.join(a.work, "ref"))
    ref_wall = time.monotonic() - t0
    if not check(rc == 0, f"uninterrupted study: exit {rc}\n{out[-3000:]}"):
        return 1
    # The stop must land inside the run on a fast machine and a loaded one alike: a share of the
    # uninterrupted study's own time, not a fixed number of seconds.
    if a.timeout is None:
        a.timeout = max(1.0, 0.4 * ref_wall)
    rc, out = study(a, os.path.join(a.work, "res"), "--timeout", str(a.timeout))
    status = json.load(open(os.path.join(res_dir, "status.json")))
    if not check(rc == 1 and status["state"] == "stopped" and "STOPPED at the" in out,
                 f"study with --timeout {a.timeout}: exit {rc}, status {status}\n{out[-3000:]}"):
        return 1
    table = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "summarize.py"),
                            os.path.join(a.work, "res", "config"), "--build-dir", os.path.join(a.work, "build")],
                           capture_output=True, text=True, timeout=120)
    check(table.returncode == 0 and "STOPPED" in table.stdout, f"the summary does not mark the stopped run:\n{table.stdout}"
          f"{table.stderr}")
    manifest = checkpoint.load(checkpoint.folder_for(res_log)).manifest
    stop_step = manifest["step"]
    check(not manifest["final"], "the stopped run's checkpoint is final: the timeout came too late to test anything")
    rc, out = study(a, os.path.join(a.work, "res"), "--resume")
    check(rc == 0 and " resumed ..." in out, f"study --resume: exit {rc}\n{out[-3000:]}")
    check(json.load(open(os.path.join(res_dir, "status.json")))["state"] == "ok", "after --resume the run is not ok")
    rc, out = study(a, os.path.join(a.work, "res"), "--resume")
    check(rc == 0 and "done before, skipped" in out, f"a second --resume must skip the finished run: exit {rc}\n{out}")
    if failures:
        return 1
    total = checkpoint.load(checkpoint.folder_for(res_log)).manifest["step"]
    params, ranks, losses = compare(ref_log, res_log, stop_step, total, a.algo)
    if failures:
        return 1
    print(f"ok  {'srun' if a.slurm else 'mpirun'}: run_study --timeout {a.timeout:g} stopped {a.algo} on {a.ranks} ranks after step {stop_step} of "
          f"{total} (status 'stopped'); run_study --resume continued it: final state of all {ranks} ranks bitwise "
          f"equal to the uninterrupted run ({params} parameters + momentum per worker), {losses} per-step losses and "
          f"every evaluation equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
