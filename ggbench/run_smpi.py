"""Runs a study or one config on a simulated cluster: gg_train built with smpicxx (cmake --preset smpi),
launched by smpirun on a platform of experiments/platforms/. Logs land in results/<study>/<run>/
(run.h5 in the usual schema, log.txt with the command and SMPI's timing report).

  /usr/bin/python3 scripts/run_smpi.py experiments/studies/smpi_resnet50_strong.json
  /usr/bin/python3 scripts/run_smpi.py experiments/configs/quick.json --ranks 16 --platform p100_edr_fattree
  /usr/bin/python3 -m ggbench.run_smpi experiments/studies/smpi_resnet50_weak.json --dry-run

A study file is a study of ggbench/study.py (validated, expanded and run by the same code as
scripts/run_study.py) plus an optional "smpi" block:
  "smpi": {"platform": "p100_edr_fattree",    file stem in experiments/platforms/ (or a path)
           "profile": "resnet50_p100",        proxy profile (experiments/profiles/): the model becomes
                                              proxy layers with the profile's sizes and times
           "payload_scale": 256,              see below; 1 = exact sizes
           "compute_profile": "lenet_cpu"}    real math, and every layer also charges the profile's time
                                              in simulated time (sim.compute_profile,
                                              core/sim/compute_profile.hpp): without it a real-math run's
                                              simulated clock holds communication alone
Proxy runs use a one-float synthetic sample and a dataset of exactly one batch per worker: SMPI runs
every rank inside this one process, so each rank's copy of the data and model must stay small.
The algorithms come from the SMPI build's own `gg_train --describe`, run under smpirun on one
simulated host, so smpirun and the SMPI build are needed even for --dry-run.

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
privatization (the engine's one mutable global, the stop-signal flag of core/util/stop_signal.hpp, belongs to
the process, which is the whole simulated job); one OpenMP/OpenBLAS thread."""
import argparse
import functools
import json
import math
import os
import re
import shutil
import sys
import tempfile

from . import registry, runner
from .smpi import SMPI_SETS, find_file, host_names, scale_bucket_overrides, scaled_platform, \
    simulated_seconds, smpi_command, smpi_env, to_proxy
from .study import StudyError, check_keys, read_json, read_target

SMPI_KEYS = ("platform", "profile", "payload_scale", "compute_profile")

BUILD_HINT = "cmake --preset smpi && cmake --build --preset smpi"


def smpi_registry(smpirun, binary, platform):
    """The SMPI build's registry: gg_train --describe under smpirun on one host of the platform."""
    with tempfile.TemporaryDirectory(prefix="gg_describe_") as tmp:
        hostfile = os.path.join(tmp, "hostfile")
        with open(hostfile, "w", encoding="utf-8") as f:
            f.write(host_names(platform, 1)[0] + "\n")
        launcher = [smpirun, "-no-privatize", "-np", "1", "-platform", platform, "-hostfile", hostfile]
        return registry.from_binary(binary, launcher, BUILD_HINT)


def read_records(path):
    """The runs recorded in <study>/smpi_runs.json ([] if there is none); StudyError naming the file if it
    is not a JSON list of run records (truncated, hand-edited)."""
    if not os.path.lexists(path):
        return []
    try:
        if not os.path.isfile(path):
            raise StudyError(f"{path}: not a regular file")
        with open(path, encoding="utf-8") as f:
            records = json.load(f)
    except OSError as e:
        raise StudyError(f"{path}: cannot read ({e.strerror})") from None
    except (ValueError, RecursionError) as e:
        raise StudyError(f"{path}: not valid JSON ({e}); remove it, or repair it, to run the study") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) and isinstance(r.get("run"), str) for r in records):
        raise StudyError(f"{path}: not a list of run records (objects with a \"run\" name)")
    return records


def record_run(path, entry):
    """Adds (or replaces) one run's wall/simulated time in <study>/smpi_runs.json, right after the run. A
    file damaged since the study started (read_records checked it then) is kept aside as
    smpi_runs.json.damaged, with a warning, and a new one begun."""
    try:
        old = read_records(path)
    except StudyError as e:
        os.replace(path, path + ".damaged")
        print(f"run_smpi: warning: {e}; kept as {path}.damaged", file=sys.stderr)
        old = []
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump([r for r in old if r["run"] != entry["run"]] + [entry], f, indent=1)
    os.replace(tmp, path)  # atomic: an interrupted study never leaves a truncated file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="a study (experiments/studies/smpi_*.json) or a config file")
    ap.add_argument("--platform", help="platform stem or path (overrides the study's)")
    ap.add_argument("--profile", help="proxy profile stem or path (overrides the study's)")
    ap.add_argument("--compute-profile", help="profile stem or path whose times real layers charge "
                                              "(overrides the study's)")
    ap.add_argument("--payload-scale", type=float, help="divide sizes and bandwidths by this (default 1)")
    runner.add_args(ap, "build/smpi")
    ap.add_argument("--ranks-in", type=int, nargs="+", metavar="P", help="run only runs with these rank counts")
    ap.add_argument("--smpirun", default="smpirun")
    ap.add_argument("--no-speedups", action="store_true",
                    help="run without the simulator speed-ups (thread-clock shim, huge-page malloc, sentinel progress "
                         "tests; ggbench/smpi.py): "
                         "slower, the same numbers")
    args = ap.parse_args(argv)
    prog = "run_smpi"
    binary = registry.binary_in(args.build_dir)
    try:
        runner.check_args(args)
        doc = read_target(args.target, args.ranks)
        smpi = doc.pop("smpi", {})
        if not isinstance(smpi, dict):
            raise StudyError(f"{args.target}: smpi: expected an object")
        check_keys(smpi, SMPI_KEYS, "smpi.", args.target)
        platform = find_file(args.platform or smpi.get("platform", "p100_edr_fattree"), "experiments/platforms", ".xml")
        profile_name = args.profile or smpi.get("profile")
        if args.payload_scale is not None:
            scale = args.payload_scale
            if not (scale > 0 and math.isfinite(scale)):
                raise StudyError(f"--payload-scale {args.payload_scale:g}: expected a positive number (1 = exact sizes)")
        else:
            value = smpi.get("payload_scale", 1)
            scale = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1
            if not (scale > 0 and math.isfinite(scale)):
                raise StudyError(f"{args.target}: smpi.payload_scale: expected a positive number, got {json.dumps(value)}")
        if shutil.which(args.smpirun) is None:
            raise StudyError(f"{args.smpirun} not found (apt-get install libsimgrid-dev)")
        charged_name = args.compute_profile or smpi.get("compute_profile")
        if charged_name and profile_name:
            raise StudyError(f"{args.target}: smpi.profile (proxy layers, which charge their own time) and "
                             "smpi.compute_profile (real layers charging a profile's time) exclude each other")
        charged = [f"sim.compute_profile={os.path.abspath(find_file(charged_name, 'experiments/profiles', '.json'))}"] \
            if charged_name else []
        transform = None
        if profile_name:
            profile = read_json(find_file(profile_name, "experiments/profiles", ".json"))
            args.set = scale_bucket_overrides(args.set, scale)
            transform = functools.partial(to_proxy, profile=profile, scale=scale)
        known = smpi_registry(args.smpirun, binary, platform)
        # every log names its platform and payload scale (sim.platform, sim.payload_scale): readers need them
        recorded = [f"sim.platform={os.path.splitext(os.path.basename(platform))[0]}", f"sim.payload_scale={scale:g}"]
        study, runs = runner.plan(doc, args.target, known, args, SMPI_SETS + recorded + charged, transform)
        if args.ranks_in:
            runs = [r for r in runs if r["ranks"] in args.ranks_in]
        for run in runs:
            host_names(platform, run["ranks"])  # enough hosts for every run
        if not args.dry_run:
            runner.claim(os.path.join(args.results, study.name), prog)
            read_records(os.path.join(args.results, study.name, "smpi_runs.json"))  # before any simulation
    except (StudyError, registry.RegistryError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    study_dir = os.path.join(args.results, study.name)
    plat = platform
    if not args.dry_run:
        os.makedirs(study_dir, exist_ok=True)
        runner.write_base(study)
        plat = scaled_platform(platform, scale, os.path.join(study_dir, "platform.xml"))

    def command(run):
        hostfile = os.path.join(run["out_dir"], "hostfile")
        return smpi_command(args.smpirun, binary, plat, hostfile, run["ranks"], run["args"]), \
            smpi_env(binary, speedups=not args.no_speedups)

    def prepare(run):
        with open(os.path.join(run["out_dir"], "hostfile"), "w", encoding="utf-8") as f:
            f.write("\n".join(host_names(plat, run["ranks"])) + "\n")

    def check(run, log_path, status, rc, wall, cpu):
        text = open(log_path, errors="replace").read()
        if rc == 0 and re.search(r"MPI_Abort was called|SMPI process did not return 0", text):
            status, rc = "FAILED (a rank aborted; smpirun exits 0 anyway)", 1
        sim = simulated_seconds(text)
        record_run(os.path.join(study_dir, "smpi_runs.json"),
                   {"run": run["name"], "ranks": run["ranks"], "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                    "simulated_s": sim, "status": status, "platform": os.path.basename(platform),
                    "profile": profile_name, "compute_profile": charged_name, "payload_scale": scale})
        return status, rc, f" wall ({cpu:.1f} s CPU), {sim if sim is not None else float('nan'):.3f} s simulated"

    failed, logs = runner.execute(runs, command, args.timeout, args.dry_run, "simulated ranks", prepare, check,
                                  launcher="smpirun", study=study.name,
                                  resume=runner.resume_plan(runs) if args.resume else None)
    if args.dry_run:
        return 0
    if logs:
        runner.report(logs, study_dir, known, False, prog, runs)
    print(f"\n{len(runs) - failed}/{len(runs)} runs succeeded; logs under {study_dir}/ "
          f"(simulator wall times in {study_dir}/smpi_runs.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
