#!/usr/bin/python3
"""SMPI smoke test (ctest smpi_p8): 8 simulated ranks on the P100 platform, 4 steps of each algorithm
on a small proxy model (scripts/run_smpi.py), then checks every run log: finished, 8 ranks, step times
positive and compute time equal to the proxy's injected time; and gg_comm_probe's iallreduce result.
Exit 77 (skipped) without smpirun."""
import argparse
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)  # the ggbench package


def fail(msg):
    print(f"smpi_smoke: FAIL: {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build/smpi")
    ap.add_argument("--results", default="/tmp/gg_smpi_smoke")
    a = ap.parse_args()
    if shutil.which("smpirun") is None:
        print("SKIPPED: smpirun not found (apt-get install libsimgrid-dev)")
        return 77
    from ggbench import run_smpi, runlog, smpi  # noqa: E402
    # A 3-layer proxy profile: 10 ms forward + 20 ms backward at batch 8, 1M parameters in all.
    prof = {"name": "smoke", "batch": 8, "classes": 10, "layers": [
        {"name": "a", "params": 200000, "forward_s": 0.002, "backward_s": 0.004},
        {"name": "b", "params": 300000, "forward_s": 0.003, "backward_s": 0.006},
        {"name": "c", "params": 500000, "forward_s": 0.005, "backward_s": 0.010}]}
    os.makedirs(a.results, exist_ok=True)
    prof_path = os.path.join(a.results, "smoke_profile.json")
    json.dump(prof, open(prof_path, "w"))
    study = {"name": "smpi_smoke", "smpi": {"platform": "p100_edr_fattree", "profile": prof_path, "payload_scale": 4},
             "base": os.path.join(REPO, "experiments/configs/quick.json"),
             "set": {"train.max_steps": 4, "train.batch": 8, "train.bucket_kb": 1024, "train.evals_per_epoch": 0},
             "sweep": {"algorithm": [{"name": n} for n in ("allreduce", "ps", "gossip", "gossipgrad")], "ranks": [8]}}
    study_path = os.path.join(a.results, "smpi_smoke.json")
    json.dump(study, open(study_path, "w"))
    rc = run_smpi.main([study_path, "--build-dir", a.build_dir, "--results", a.results, "--timeout", "40"])
    if rc != 0:
        fail(f"run_smpi.py exited with {rc}")
    for run in runlog.load_all([os.path.join(a.results, "smpi_smoke")]):
        if not run.finished or run.ranks != 8:
            fail(f"{run.name}: finished={run.finished} ranks={run.ranks}")
        c = run.steps["compute_s"][1:]
        want = 0.030  # the profile's forward + backward at batch 8
        if abs(float(c.mean()) - want) > 0.002:
            fail(f"{run.name}: compute {c.mean():.4f} s per step, the proxy injects {want} s")
        print(f"ok  {run.name}: compute {1e3 * c.mean():.2f} ms, comm {1e3 * run.steps['comm_s'][1:].mean():.3f} ms")
    probe = os.path.join(a.build_dir, "experiments", "gg_comm_probe")
    hostfile = os.path.join(a.results, "hostfile6")
    open(hostfile, "w").write("\n".join(f"gpu{i}" for i in range(6)) + "\n")
    for p in (6, 8):  # ring (p not a power of two) and recursive halving/doubling
        open(hostfile, "w").write("\n".join(f"gpu{i}" for i in range(p)) + "\n")
        cmd = smpi.smpi_command("smpirun", probe, os.path.join(REPO, "experiments/platforms/p100_edr_fattree.xml"),
                                    hostfile, p, ["--bytes", "4004", "--reps", "1", "--iallreduce", "ring"])[:-1]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **smpi.SMPI_ENV}).stdout
        if "iallreduce_check ok" not in out:
            fail(f"gg_comm_probe p={p}: nonblocking allreduce gave a wrong sum:\n{out}")
        print(f"ok  iallreduce sum at p={p}")
    print("smpi_smoke: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
