"""The study runner's launchers end to end with the real gg_train: a 4-rank tiny study (allreduce and
gossipgrad, 3 steps of LeNet on synthetic data) under local mpirun, then under another launcher, and the
per-step losses of every worker compared bitwise (same seed: same losses).

  launch_e2e.py slurm    --gg-train B --source S --work W   a one-node Slurm (local_slurm.py): the study
                        through srun inside salloc and through sbatch --wait; then the bad inputs: a
                        study with a run that fails and one that is cancelled (waiting and not waiting
                        for the jobs), a refused submission, more nodes than the partition has (sbatch
                        and srun); the runner names each failed run and its cause, keeps the other runs
                        and the summary marks the failed ones. Skipped (exit 77) when Slurm cannot start.
  launch_e2e.py hostfile ...                              mpirun with a hostfile ("localhost slots=2",
                        4 ranks oversubscribed), transport left to Open MPI.
Takes about 60 s (slurm) and 15 s (hostfile) on a 2-core machine."""
import argparse
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

import local_slurm

SKIP = 77
TINY = {"data.name": "synthetic", "data.shape": [28, 28, 1], "data.train_size": 1024, "data.test_size": 64,
        "train.batch": 32, "train.max_steps": 3, "train.evals_per_epoch": 0, "train.eval_replicas": False}
RUNS = ("allreduce_p4", "gossipgrad_p4")


class Check:
    def __init__(self):
        self.failures = 0

    def __call__(self, ok, what):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        self.failures += not ok


class Rig:
    """Runs scripts/run_study.py from the source directory with results under the work directory."""

    def __init__(self, args, env=None):
        self.source, self.work, self.build = args.source, args.work, os.path.dirname(os.path.dirname(args.gg_train))
        self.env = env or dict(os.environ)

    def study(self, name, doc):
        path = os.path.join(self.work, f"{name}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"name": name, "base": os.path.join(self.source, "experiments/configs/quick.json"),
                       "set": TINY, **doc}, f, indent=1)
        return path

    def run(self, *argv, prefix=()):
        cmd = list(prefix) + ["/usr/bin/python3", os.path.join(self.source, "scripts/run_study.py"),
                              *map(str, argv), "--build-dir", self.build, "--no-plots"]
        t0 = time.time()
        res = subprocess.run(cmd, cwd=self.source, env=self.env, capture_output=True, text=True, timeout=240)
        print(f"$ {' '.join(cmd[len(prefix) + 2:])}  ({time.time() - t0:.1f} s, exit {res.returncode})")
        for line in (res.stdout + res.stderr).splitlines():
            print(f"    {line}")
        return res

    def results(self, launcher):
        return os.path.join(self.work, "results", launcher)

    def summarize(self, directory):
        res = subprocess.run(["/usr/bin/python3", os.path.join(self.source, "scripts/summarize.py"), directory,
                              "--build-dir", self.build], cwd=self.source, capture_output=True, text=True, timeout=120)
        return res.returncode, res.stdout + res.stderr


def losses(results, study, run):
    with h5py.File(os.path.join(results, study, run, "run.h5"), "r") as f:
        return f["steps/loss"][:]


def compare(rig, check, study, launchers):
    """Prints each run's losses under every launcher next to mpirun's; checks they are bitwise equal."""
    print(f"\nper-step losses (all workers) vs local mpirun, study {study}:")
    print(f"  {'run':<15} {'launcher':<9} {'steps x workers':>15}  {'mean loss per step':<40} identical")
    for run in RUNS:
        ref = losses(rig.results("mpirun"), study, run)
        for launcher in ("mpirun",) + launchers:
            got = losses(rig.results(launcher), study, run)
            same = got.shape == ref.shape and np.array_equal(got, ref)
            means = " ".join(f"{v:.7f}" for v in got.mean(axis=1))
            print(f"  {run:<15} {launcher:<9} {'x'.join(map(str, got.shape)):>15}  {means:<40} "
                  f"{'-' if launcher == 'mpirun' else 'yes' if same else 'NO'}")
            if launcher != "mpirun":
                check(same, f"{run}: {launcher} losses bitwise equal to mpirun's")


def baseline(rig, check, study):
    res = rig.run(study, "--results", rig.results("mpirun"))
    check(res.returncode == 0, "the study under local mpirun")


def hostfile(rig, check):
    study = rig.study("tiny", {"sweep": {"algorithm": [{"name": "allreduce"}, {"name": "gossipgrad"}], "ranks": [4]}})
    baseline(rig, check, study)
    hosts = os.path.join(rig.work, "hosts")
    with open(hosts, "w", encoding="utf-8") as f:
        f.write("localhost slots=2\n")
    res = rig.run(study, "--results", rig.results("hostfile"), "--launcher", "hostfile",
                  "--launcher-set", f"hostfile={hosts}", "--launcher-set", "oversubscribe=true",
                  "--launcher-set", "tasks_per_node=4")
    check(res.returncode == 0, "the study under mpirun with a hostfile")
    log = open(os.path.join(rig.results("hostfile"), "tiny", RUNS[0], "log.txt")).readline()
    check("--hostfile" in log and "--mca btl" not in log, "hostfile run: Open MPI chooses the transport")
    compare(rig, check, "tiny", ("hostfile",))


def slurm(rig, check, cluster):
    study = rig.study("tiny", {"sweep": {"algorithm": [{"name": "allreduce"}, {"name": "gossipgrad"}], "ranks": [4]}})
    baseline(rig, check, study)
    over = ("--launcher-set", "oversubscribe=true")  # 4 ranks on the node's 2 CPUs
    res = rig.run(study, "--results", rig.results("srun"), "--launcher", "srun", *over,
                  prefix=("salloc", "--ntasks=4", "--overcommit"))
    check(res.returncode == 0, "the study through srun inside salloc")
    check("srun --mpi=pmix" in open(os.path.join(rig.results("srun"), "tiny", RUNS[0], "log.txt")).readline(),
          "srun runs with --mpi=pmix")
    res = rig.run(study, "--results", rig.results("sbatch"), "--launcher", "sbatch", *over)
    check(res.returncode == 0 and res.stdout.count("submitted as job") == 2, "the study through sbatch --wait")
    compare(rig, check, "tiny", ("srun", "sbatch"))

    print("\nbad input:")
    cancel_self = "case \"$SLURM_JOB_NAME\" in *batch-16*) scancel \"$SLURM_JOB_ID\"; sleep 60;; esac"
    bad = rig.study("bad", {"sweep": {"ranks": [4], "set": {"train.batch": [32, 5000, 16]}},
                            "launcher": {"kind": "sbatch", "oversubscribe": True, "setup": [cancel_self]}})
    for wait in (True, False):
        results = rig.results(f"bad_wait-{wait}")
        res = rig.run(bad, "--results", results, "--launcher-set", f"wait={json.dumps(wait)}")
        check(res.returncode == (1 if wait else 0), f"wait={wait}: exit code {1 if wait else 0}")
        if wait:
            check("allreduce_p4_batch-5000: FAILED: job" in res.stdout and "failed (exit code 2)" in res.stdout,
                  "wait=true: the failed run named with its cause")
            check("allreduce_p4_batch-16: FAILED: job" in res.stdout and "was cancelled" in res.stdout,
                  "wait=true: the cancelled run named with its cause")
        else:
            t0 = time.time()
            while cluster.query("squeue", "-h", "-o", "%i") and time.time() - t0 < 60:
                time.sleep(0.5)
        rc, table = rig.summarize(os.path.join(results, "bad"))
        print("\n".join(f"    {line}" for line in table.splitlines()))
        rows = {line.split()[0]: line.split()[-1] for line in table.splitlines()[2:] if line.strip()}
        check(rc == 0 and rows.get("allreduce_p4_batch-32") == "finished", f"wait={wait}: the good run kept, finished")
        check(rows.get("allreduce_p4_batch-5000") == "FAILED" and rows.get("allreduce_p4_batch-16") == "FAILED",
              f"wait={wait}: summarize marks the failed and the cancelled run FAILED")
        check(("srun exited with 2" in table and "ended by SIGTERM" in table) if not wait else "was cancelled" in table,
              f"wait={wait}: summarize gives the causes" + (" the batch scripts recorded" if not wait else ""))
    res = rig.run(study, "--results", rig.results("refused"), "--launcher", "sbatch", *over,
                  "--launcher-set", "partition=nosuch", "--only", "allreduce")
    check(res.returncode == 1 and "allreduce_p4: FAILED: sbatch refused the job: sbatch: error: invalid partition"
          in res.stdout, "a refused submission: the run and sbatch's error")
    res = rig.run(study, "--results", rig.results("nodes"), "--launcher", "sbatch", *over,
                  "--launcher-set", "nodes=2", "--only", "allreduce")
    check(res.returncode == 1 and "asks for 2 nodes, partition gg has 1" in res.stdout and "cancelled" in res.stdout,
          "sbatch, more nodes than the partition has: cancelled, named")
    res = rig.run(study, "--results", rig.results("srun_nodes"), "--launcher", "srun", *over,
                  "--launcher-set", "nodes=2", "--only", "allreduce", prefix=("salloc", "--ntasks=4", "--overcommit"))
    check(res.returncode == 1 and "Only allocated 1 nodes asked for 2" in res.stdout,
          "srun, more nodes than the allocation has: srun's reason")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("slurm", "hostfile"))
    ap.add_argument("--gg-train", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    check, t0 = Check(), time.time()
    if args.mode == "hostfile":
        hostfile(Rig(args), check)
    else:
        try:
            with local_slurm.LocalSlurm(cpus=2) as cluster:
                print(f"local Slurm up in {time.time() - t0:.1f} s (one node, 2 CPUs, {cluster.dir})")
                slurm(Rig(args, cluster.env), check, cluster)
        except local_slurm.Unavailable as e:
            print(f"SKIPPED: Slurm cannot start here: {e}")
            return SKIP
    print(f"\n{check.failures} failed checks, {time.time() - t0:.0f} s")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
