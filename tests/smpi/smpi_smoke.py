#!/usr/bin/python3
"""SMPI smoke test (ctest smpi_p8): 8 simulated ranks on a copy of the P100 platform whose memory
bandwidth is low enough for the cost model's charges to be large (gg_mem_GBps 1, no progress charge),
4 steps of every registered algorithm on a small proxy model (ggbench/run_smpi.py). Checks every run log:
finished, 8 ranks; compute time equal to the proxy's injected time (so every charge really spent
simulated time: compute is what is left of the step after communication calls and charged work);
total exchange time, bytes sent and received > 0 and exposed <= total (every algorithm communicates at
p = 8); the memory charge equal to mem_bytes / bandwidth within 5%. Then compute noise: jitter with
width 0 reproduces the run without noise bit for bit, lognormal jitter changes compute times with
mean 1. And gg_comm_probe's iallreduce result. Exit 77 (skipped) without smpirun."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)  # the ggbench package


def fail(msg):
    print(f"smpi_smoke: FAIL: {msg}")
    sys.exit(1)


def check_noise(a, study, study_path, want):
    """gossipgrad four times: no sim block, the same without the simulator speed-ups (ggbench/smpi.py
    SPEEDUP_ENV and the thread-clock shim) and with jitter of width 0 (both bit for bit the same),
    lognormal 0.2."""
    from ggbench import run_smpi, runlog, smpi  # noqa: E402
    if not os.path.isfile(os.path.join(a.build_dir, "experiments", smpi.THREAD_CLOCK_SHIM)):
        fail(f"the smpi build has no {smpi.THREAD_CLOCK_SHIM} next to gg_train")
    study = dict(study, name="smpi_noise", sweep={"algorithm": [{"name": "gossipgrad"}], "ranks": [8]})
    logs = {}
    for tag, sets in (("plain", []), ("plainenv", ["--no-speedups"]),
                      ("width0", ["sim.jitter=lognormal", "sim.jitter_width=0"]),
                      ("lognormal", ["sim.jitter=lognormal", "sim.jitter_width=0.2", "sim.slow_workers=1",
                                     "sim.slow_factor=2"])):
        results = os.path.join(a.results, "noise_" + tag)
        json.dump(study, open(study_path, "w"))
        args = [study_path, "--build-dir", a.build_dir, "--results", results, "--timeout", "40"]
        for kv in sets:
            args += [kv] if kv.startswith("--") else ["--set", kv]
        if run_smpi.main(args) != 0:
            fail(f"noise run {tag} failed")
        logs[tag] = runlog.load_all([os.path.join(results, "smpi_noise")])[0]
    for key in ("loss", "compute_s", "total_s", "exposed_s", "bytes_sent"):
        if not (logs["plain"].steps[key] == logs["width0"].steps[key]).all():
            fail(f"jitter width 0: /steps/{key} differs from the run without noise")
        if not (logs["plain"].steps[key] == logs["plainenv"].steps[key]).all():
            fail(f"simulator speed-ups: /steps/{key} differs from the run without them")
    c = logs["lognormal"].steps["compute_s"][1:]
    if c.std() == 0 or not (want < float(c.max()) and float(c.min()) < want):
        fail(f"lognormal jitter: compute times {c.min():.4f}..{c.max():.4f} s do not vary around {want}")
    slow = [k for k in range(c.shape[1]) if c[:, k].mean() > 1.5 * want]
    if len(slow) != 1:
        fail(f"one slow worker at factor 2 expected, got workers {slow} (means {c.mean(axis=0)})")
    print(f"ok  compute noise: width 0 is bit-identical; lognormal 0.2 gives {1e3 * c.min():.1f}..{1e3 * c.max():.1f} "
          f"ms, slow worker {slow[0]}")


def check_charged_real_layers(a, run_smpi, runlog):
    """Real lenet arithmetic charging a profile (sim.compute_profile): each step's compute is exactly the
    profile's forward + backward at the run's batch (real arithmetic costs no simulated time); the same
    run without the simulator speed-ups (huge-page malloc moves buffers) gives bitwise the same losses."""
    lenet = json.load(open(os.path.join(REPO, "experiments/profiles/lenet_cpu.json")))
    prof = {"batch": 64, "layers": [{"name": l["name"], "forward_s": 0.001, "backward_s": 0.002}
                                    for l in lenet["layers"]]}
    prof_path = os.path.join(a.results, "lenet_round_profile.json")
    json.dump(prof, open(prof_path, "w"))
    study = {"name": "smpi_charged", "smpi": {"platform": "p100_edr_fattree", "compute_profile": prof_path},
             "base": os.path.join(REPO, "experiments/configs/quick.json"),
             "set": {"train.max_steps": 4, "train.batch": 8, "train.evals_per_epoch": 1, "data.train_limit": 512,
                     "data.test_limit": 64},
             "sweep": {"algorithm": [{"name": "gossipgrad"}], "ranks": [4]}}
    study_path = os.path.join(a.results, "smpi_charged.json")
    json.dump(study, open(study_path, "w"))
    rc = run_smpi.main([study_path, "--build-dir", a.build_dir, "--results", a.results, "--timeout", "60"])
    if rc != 0:
        fail(f"charged real layers: run_smpi.py exited with {rc}")
    (run,) = runlog.load_all([os.path.join(a.results, "smpi_charged")])
    want = len(prof["layers"]) * 0.003 * 8 / 64
    c = run.steps["compute_s"]
    if abs(float(c.mean()) - want) > 0.01 * want:
        fail(f"charged real layers: compute {c.mean():.6f} s per step, the profile charges {want:.6f} s")
    print(f"ok  real lenet charging a profile: compute {1e3 * c.mean():.4f} ms per step (profile: {1e3 * want:.4f} ms)")
    plain = os.path.join(a.results, "plainenv")
    if run_smpi.main([study_path, "--build-dir", a.build_dir, "--results", plain, "--timeout", "60", "--no-speedups"]):
        fail("charged real layers without the speed-ups: run_smpi.py failed")
    (other,) = runlog.load_all([os.path.join(plain, "smpi_charged")])
    for key in ("loss", "compute_s", "total_s"):
        if not (run.steps[key] == other.steps[key]).all():
            fail(f"real lenet: /steps/{key} differs without the simulator speed-ups")
    if run.final("top1") != other.final("top1"):
        fail("real lenet: the final accuracy differs without the simulator speed-ups")
    print("ok  real lenet: the same losses and accuracy with and without the simulator speed-ups")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build/smpi")
    ap.add_argument("--results", default="/tmp/gg_smpi_smoke")
    ap.add_argument("--describe-build", default="build/release", help="native build whose gg_train --describe "
                    "lists the algorithms to run")
    a = ap.parse_args()
    if shutil.which("smpirun") is None:
        print("SKIPPED: smpirun not found (apt-get install libsimgrid-dev)")
        return 77
    from ggbench import registry, run_smpi, runlog, smpi  # noqa: E402
    # A 3-layer proxy profile: 10 ms forward + 20 ms backward at batch 8, 1M parameters in all.
    prof = {"name": "smoke", "batch": 8, "classes": 10, "layers": [
        {"name": "a", "params": 200000, "forward_s": 0.002, "backward_s": 0.004},
        {"name": "b", "params": 300000, "forward_s": 0.003, "backward_s": 0.006},
        {"name": "c", "params": 500000, "forward_s": 0.005, "backward_s": 0.010}]}
    os.makedirs(a.results, exist_ok=True)
    prof_path = os.path.join(a.results, "smoke_profile.json")
    json.dump(prof, open(prof_path, "w"))
    mem_gbps, scale = 1.0, 4
    platform = os.path.join(a.results, "p100_slow_memory.xml")
    text = open(os.path.join(REPO, "experiments/platforms/p100_edr_fattree.xml")).read()
    text = re.sub(r'(id="gg_mem_GBps" value=")[^"]*"', rf'\g<1>{mem_gbps}"', text)
    text = re.sub(r'\s*<prop id="gg_progress_us"[^>]*/>', "", text)
    open(platform, "w").write(text)
    names = registry.from_binary(registry.binary_in(a.describe_build)).names  # every registered algorithm
    study = {"name": "smpi_smoke", "smpi": {"platform": platform, "profile": prof_path, "payload_scale": scale},
             "base": os.path.join(REPO, "experiments/configs/quick.json"),
             "set": {"train.max_steps": 4, "train.batch": 8, "train.bucket_kb": 1024, "train.evals_per_epoch": 0},
             "sweep": {"algorithm": [{"name": n} for n in names], "ranks": [8]}}
    study_path = os.path.join(a.results, "smpi_smoke.json")
    json.dump(study, open(study_path, "w"))
    rc = run_smpi.main([study_path, "--build-dir", a.build_dir, "--results", a.results, "--timeout", "40"])
    if rc != 0:
        fail(f"run_smpi.py exited with {rc}")
    runs = runlog.load_all([os.path.join(a.results, "smpi_smoke")])
    if sorted({r.algorithm for r in runs}) != sorted(names):
        fail(f"expected runs of {names}, got {sorted(r.algorithm for r in runs)}")
    want = 0.030  # the profile's forward + backward at batch 8
    for run in runs:
        if not run.finished or run.ranks != 8:
            fail(f"{run.name}: finished={run.finished} ranks={run.ranks}")
        st = {k: v[1:] for k, v in run.steps.items() if k != "step" and v.ndim == 2}
        c = st["compute_s"]
        if abs(float(c.mean()) - want) > 0.0005:
            fail(f"{run.name}: compute {c.mean():.5f} s per step, the proxy injects {want} s "
                 f"(charged work {st['mem_s'].mean():.5f} s did not cost simulated time?)")
        # (mem_bytes may be 0: a dedicated parameter server's workers make no pass over the model; the
        # servers do, and they are not in the log)
        for key in ("total_s", "bytes_sent", "bytes_recv"):
            if not float(st[key].sum()) > 0:
                fail(f"{run.name}: {key} is 0 over all steps and workers: nothing measured")
        if (st["exposed_s"] > st["total_s"] * 1.001 + 1e-6).any():
            fail(f"{run.name}: exposed time exceeds total exchange time")
        charged = st["mem_bytes"].astype(float).sum() / (mem_gbps * 1e9 / scale)
        if abs(float(st["mem_s"].sum()) - charged) > 0.05 * charged:
            fail(f"{run.name}: memory charge {st['mem_s'].sum():.6f} s, bytes / bandwidth = {charged:.6f} s")
        cost = json.loads(run.attrs.get("cost_model", "{}"))
        if abs(cost.get("mem_GBps", 0) - mem_gbps / scale) > 1e-9:
            fail(f"{run.name}: cost_model attribute {cost}")
        print(f"ok  {run.name}: compute {1e3 * c.mean():.2f} ms, total {1e3 * st['total_s'].mean():.3f} ms, "
              f"exposed {1e3 * st['exposed_s'].mean():.3f} ms, mem {1e3 * st['mem_s'].mean():.3f} ms, "
              f"{st['bytes_sent'].mean() / 1e3:.0f} kB sent per step")
    check_noise(a, study, study_path, want)
    check_charged_real_layers(a, run_smpi, runlog)
    probe = os.path.join(a.build_dir, "experiments", "gg_comm_probe")
    hostfile = os.path.join(a.results, "hostfile6")
    open(hostfile, "w").write("\n".join(f"gpu{i}" for i in range(6)) + "\n")
    for p in (6, 8):  # ring (p not a power of two) and recursive halving/doubling
        open(hostfile, "w").write("\n".join(f"gpu{i}" for i in range(p)) + "\n")
        cmd = smpi.smpi_command("smpirun", probe, os.path.join(REPO, "experiments/platforms/p100_edr_fattree.xml"),
                                    hostfile, p, ["--bytes", "4004", "--reps", "1", "--iallreduce", "ring"])[:-1]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **smpi.smpi_env(probe)}).stdout
        if "iallreduce_check ok" not in out:
            fail(f"gg_comm_probe p={p}: nonblocking allreduce gave a wrong sum:\n{out}")
        print(f"ok  iallreduce sum at p={p}")
    print("smpi_smoke: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
