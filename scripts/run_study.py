#!/usr/bin/python3
"""Runs a study (experiments/studies/*.json) or one config under mpirun and collects the logs.

  /usr/bin/python3 scripts/run_study.py experiments/studies/quick.json
  /usr/bin/python3 scripts/run_study.py experiments/configs/quick.json --ranks 4 --set train.epochs=1

A study expands the cartesian product of its sweep into runs; each run is one gg_train invocation
  gg_train --config <base> --set name=<run> --set output.path=<results>/<study>/<run>/run.h5 --set ...
with stdout and stderr in <results>/<study>/<run>/log.txt. Study file:
  {"name": "quick", "description": "...",
   "base": "experiments/configs/quick.json"  (or an inline config object),
   "set": {"train.epochs": 2},                  fixed overrides for every run
   "sweep": {"algorithm": [{"name": "allreduce"}, ...], "ranks": [2, 4, 8],
             "set": {"train.batch": [32, 64]},
             "global_batch": 256}}      optional, strong scaling: train.batch = 256 / workers
Instead of "ranks", "workers": [16, 32] counts training ranks: a parameter server's server ranks come
on top (ps with 1 server at 16 workers runs on 17 ranks), so every algorithm trains with the same
workers, per-worker batch, global batch and steps per epoch. Its runs are named <algorithm>_w<workers>.
Relative base paths are resolved against the study file's directory, then the repository root.
Exit codes: 0 all runs succeeded, 1 some run failed, 2 invalid input."""
import argparse
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALGORITHMS = ("allreduce", "gossip", "gossipgrad", "ps")
STUDY_KEYS = ("name", "description", "base", "set", "sweep")
SWEEP_KEYS = ("algorithm", "ranks", "workers", "set", "global_batch")


class StudyError(Exception):
    pass


class Workers(int):
    """A swept count from sweep.workers: training ranks, not ranks (see ranks_of)."""


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise StudyError(f"{path}: cannot read ({e.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StudyError(f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def check_keys(obj, allowed, where, src):
    for key in obj:
        if key not in allowed:
            raise StudyError(f"{src}: {where}{key}: unknown key (allowed: {', '.join(allowed)})")


def nonempty_list(value, where, src):
    if not isinstance(value, list) or not value:
        raise StudyError(f"{src}: {where}: expected a non-empty list, got {json.dumps(value)}")
    return value


def resolve_base(base, study_path):
    if isinstance(base, dict):
        return base, None
    if not isinstance(base, str):
        raise StudyError(f"{study_path}: base: expected a config path or an inline config object")
    for root in (os.path.dirname(os.path.abspath(study_path)), REPO, os.getcwd()):
        candidate = os.path.join(root, base)
        if os.path.isfile(candidate):
            config = read_json(candidate)
            if not isinstance(config, dict):
                raise StudyError(f"{candidate}: the config must be a JSON object")
            rel = os.path.relpath(candidate)
            return config, candidate if rel.startswith("..") else rel
    raise StudyError(f"{study_path}: base: config file '{base}' not found")


def validate_study(doc, src):
    """Returns (name, base_config, base_path or None, fixed_set, algorithms, ranks, sweep_set, global_batch)."""
    if not isinstance(doc, dict):
        raise StudyError(f"{src}: a study must be a JSON object")
    check_keys(doc, STUDY_KEYS, "", src)
    name = doc.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise StudyError(f"{src}: name: expected a string of letters, digits, '.', '_' or '-', got {json.dumps(name)}")
    if "description" in doc and not isinstance(doc["description"], str):
        raise StudyError(f"{src}: description: expected a string")
    if "base" not in doc:
        raise StudyError(f"{src}: base: missing (a config path or an inline config object)")
    base, base_path = resolve_base(doc["base"], src)
    fixed = doc.get("set", {})
    if not isinstance(fixed, dict):
        raise StudyError(f"{src}: set: expected an object of key.path: value")
    sweep = doc.get("sweep", {})
    if not isinstance(sweep, dict):
        raise StudyError(f"{src}: sweep: expected an object")
    check_keys(sweep, SWEEP_KEYS, "sweep.", src)
    algorithms = nonempty_list(sweep.get("algorithm", [base.get("algorithm", {"name": "allreduce"})]),
                               "sweep.algorithm", src)
    for i, block in enumerate(algorithms):
        if not isinstance(block, dict):
            raise StudyError(f"{src}: sweep.algorithm[{i}]: expected an object like {{\"name\": \"gossipgrad\"}}")
        if block.get("name") not in ALGORITHMS:
            raise StudyError(f"{src}: sweep.algorithm[{i}].name: expected one of {', '.join(ALGORITHMS)}, "
                             f"got {json.dumps(block.get('name'))}")
    if "ranks" in sweep and "workers" in sweep:
        raise StudyError(f"{src}: sweep: give \"ranks\" or \"workers\", not both")
    key = "workers" if "workers" in sweep else "ranks"
    ranks = nonempty_list(sweep.get(key, [1]), f"sweep.{key}", src)
    for i, r in enumerate(ranks):
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise StudyError(f"{src}: sweep.{key}[{i}]: expected a positive integer, got {json.dumps(r)}")
    if key == "workers":
        ranks = [Workers(w) for w in ranks]
    sweep_set = sweep.get("set", {})
    if not isinstance(sweep_set, dict):
        raise StudyError(f"{src}: sweep.set: expected an object of key.path: [values]")
    for key, values in sweep_set.items():
        nonempty_list(values, f"sweep.set.{key}", src)
    for key in list(fixed) + list(sweep_set):
        if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", key):
            raise StudyError(f"{src}: set: '{key}' is not a key.path")
        if key in ("name", "output.path") or key.startswith("output."):
            raise StudyError(f"{src}: set: '{key}' is chosen by the runner")
    global_batch = sweep.get("global_batch")
    if global_batch is not None:
        if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
            raise StudyError(f"{src}: sweep.global_batch: expected a positive integer")
        if "train.batch" in sweep_set or "train.batch" in fixed:
            raise StudyError(f"{src}: sweep.global_batch: conflicts with a train.batch override")
        for algo, p in itertools.product(algorithms, ranks):
            if workers_of(algo, p) < 1:
                raise StudyError(f"{src}: sweep.ranks: {p} ranks leave no worker for {algo['name']}")
            if global_batch % workers_of(algo, p):
                raise StudyError(f"{src}: sweep.global_batch: {global_batch} does not divide among "
                                 f"{workers_of(algo, p)} workers ({algo['name']} at {p} ranks)")
    return name, base, base_path, fixed, algorithms, ranks, sweep_set, global_batch


def servers_of(algo):
    """Ranks that do not train: a parameter server's servers."""
    return int(algo.get("servers", 1)) if algo["name"] == "ps" else 0


def workers_of(algo, ranks):
    """Training ranks of a run swept at `ranks` (a Workers count is training ranks already)."""
    return int(ranks) if isinstance(ranks, Workers) else ranks - servers_of(algo)


def ranks_of(algo, ranks):
    """MPI ranks of a run swept at `ranks`: a Workers count plus the servers."""
    return int(ranks) + servers_of(algo) if isinstance(ranks, Workers) else ranks


def slug(value):
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").replace("true", "on").replace("false", "off")


def algorithm_slug(block):
    parts = [block["name"]] + [f"{k}-{slug(v)}" for k, v in sorted(block.items()) if k != "name"]
    return "_".join(parts)


def set_arg(key, value):
    return f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"


def expand(study_name, base_path, fixed, algorithms, ranks, sweep_set, results, extra=(), global_batch=None):
    """One dict per run: name, ranks, out dir, gg_train arguments after the binary. `extra` are
    command-line "key=value" overrides, applied after the algorithm block (so algorithm.x=y works)."""
    keys = list(sweep_set)
    runs = []
    for algo, p, values in itertools.product(algorithms, ranks, itertools.product(*sweep_set.values())):
        name = "_".join([algorithm_slug(algo), f"w{p}" if isinstance(p, Workers) else f"p{p}"] +
                        [f"{k.split('.')[-1]}-{slug(v)}" for k, v in zip(keys, values)] +
                        ([f"gb{global_batch}"] if global_batch else []))
        out_dir = os.path.join(results, study_name, name)
        args = ["--config", base_path, "--set", f"name={study_name}/{name}"]
        for key, value in list(fixed.items()) + list(zip(keys, values)):
            args += ["--set", set_arg(key, value)]
        if global_batch:
            args += ["--set", f"train.batch={global_batch // workers_of(algo, p)}"]
        args += ["--set", set_arg("algorithm", algo)]
        for assignment in extra:
            args += ["--set", assignment]
        args += ["--set", f"output.path={os.path.join(out_dir, 'run.h5')}"]
        runs.append({"name": name, "ranks": ranks_of(algo, p), "out_dir": out_dir, "args": args})
    names = [r["name"] for r in runs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise StudyError(f"study '{study_name}': runs with the same name: {', '.join(sorted(dup))}")
    return runs


def launcher(ranks, cores, is_root, mpirun):
    """(command prefix, extra environment) for `ranks` processes."""
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"} if ranks >= cores else {}
    if ranks == 1:
        return [], env
    cmd = [mpirun, "-np", str(ranks), "--mca", "btl", "self,vader", "--bind-to", "none"]
    if is_root:
        cmd.append("--allow-run-as-root")
    if ranks > cores:
        cmd.append("--oversubscribe")
    return cmd, env


def run_one(cmd, env, log_path, timeout):
    """Runs cmd with output to log_path; returns (status text, exit code)."""
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "") + shlex.join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                start_new_session=True)  # own process group: a timeout ends mpirun and ranks
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return f"TIMEOUT after {timeout:.0f} s", 124
    return ("ok", 0) if rc == 0 else (f"FAILED (exit {rc})", rc)


def tail(path, n=4):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip() for line in f.readlines()[-n:]]


def load_target(path, extra_ranks, results):
    """A study file, or a plain config treated as a one-run study named after the file."""
    doc = read_json(path)
    if isinstance(doc, dict) and ("sweep" in doc or "base" in doc):
        spec = validate_study(doc, path)
    else:
        if not isinstance(doc, dict):
            raise StudyError(f"{path}: a config must be a JSON object")
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.splitext(os.path.basename(path))[0])
        spec = validate_study({"name": name, "base": os.path.abspath(path),
                               "sweep": {"ranks": [extra_ranks]}}, path)
    if spec[2] is None:  # inline config: written next to the results so that the command line shows it
        spec = spec[:2] + (os.path.join(results, spec[0], "base_config.json"),) + spec[3:]
    return spec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="a study (experiments/studies/*.json) or a config file")
    ap.add_argument("--build-dir", default="build/release", help="where gg_train was built (default: %(default)s)")
    ap.add_argument("--results", default="results", help="results root (default: %(default)s)")
    ap.add_argument("--ranks", type=int, default=1, help="ranks for a single config (default: %(default)s)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra override for every run")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTR", help="run only runs whose name contains it")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run before it is killed")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    ap.add_argument("--mpirun", default="mpirun", help="MPI launcher (default: %(default)s)")
    ap.add_argument("--no-plots", action="store_true", help="skip drawing results/<study>/figures/")
    args = ap.parse_args(argv)
    prog = "run_study"
    try:
        if args.ranks < 1:
            raise StudyError("--ranks: expected a positive integer")
        for s in args.set:
            if "=" not in s or s.startswith("="):
                raise StudyError(f"--set '{s}': expected key.path=value")
        name, base, base_path, fixed, algorithms, ranks, sweep_set, global_batch = \
            load_target(args.target, args.ranks, args.results)
        runs = expand(name, base_path, fixed, algorithms, ranks, sweep_set, args.results, args.set, global_batch)
    except StudyError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    if args.only:
        runs = [r for r in runs if any(s in r["name"] for s in args.only)]
        if not runs:
            print(f"{prog}: error: no run matches --only {' '.join(args.only)}", file=sys.stderr)
            return 2
    binary = os.path.join(args.build_dir, "experiments", "gg_train")
    cores, is_root = os.cpu_count() or 1, hasattr(os, "geteuid") and os.geteuid() == 0
    if not args.dry_run:
        if not os.access(binary, os.X_OK):
            print(f"{prog}: error: {binary}: not built (cmake --build {args.build_dir})", file=sys.stderr)
            return 2
        if any(r["ranks"] > 1 for r in runs) and shutil.which(args.mpirun) is None:
            print(f"{prog}: error: {args.mpirun}: not found on PATH", file=sys.stderr)
            return 2
        if base_path.endswith("base_config.json"):
            os.makedirs(os.path.dirname(base_path), exist_ok=True)
            with open(base_path, "w", encoding="utf-8") as f:
                json.dump(base, f, indent=2)

    failed, logs, start = 0, [], time.time()
    for i, run in enumerate(runs, 1):
        prefix, env = launcher(run["ranks"], cores, is_root, args.mpirun)
        cmd = prefix + [binary] + run["args"] + ["--quiet"]
        if args.dry_run:
            print(" ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "") + shlex.join(cmd))
            continue
        os.makedirs(run["out_dir"], exist_ok=True)
        log_path = os.path.join(run["out_dir"], "log.txt")
        print(f"[{i}/{len(runs)}] {run['name']} ({run['ranks']} ranks) ...", end=" ", flush=True)
        t0 = time.time()
        status, rc = run_one(cmd, env, log_path, args.timeout)
        print(f"{status} in {time.time() - t0:.1f} s (total {time.time() - start:.0f} s)", flush=True)
        h5 = os.path.join(run["out_dir"], "run.h5")
        if os.path.exists(h5):
            logs.append(h5)
        if rc != 0:
            failed += 1
            for line in tail(log_path):
                print(f"    | {line}")
            print(f"    full log: {log_path}")
    if args.dry_run:
        return 0
    if logs:
        report(logs, os.path.join(args.results, name), not args.no_plots)
    print(f"\n{len(runs) - failed}/{len(runs)} runs succeeded; logs under {os.path.join(args.results, name)}/")
    return 1 if failed else 0


def report(logs, study_dir, plots):
    """Summary table of this invocation's logs; figures of every log in the study directory."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import summarize  # noqa: E402  (scripts/summarize.py: needs h5py, numpy)
    except ImportError as e:
        print(f"run_study: no summary ({e}); run under /usr/bin/python3", file=sys.stderr)
        return
    print()
    summarize.main(logs)
    if plots:
        import make_figures  # noqa: E402  (plots/, on the path through summarize)
        import runlog  # noqa: E402
        out = os.path.join(study_dir, "figures")
        print(f"\nfigures in {out}/:")
        try:
            make_figures.draw_all(runlog.load_all([study_dir]), out, os.path.basename(study_dir) + "_")
        except runlog.RunLogError as e:
            print(f"run_study: no figures: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
