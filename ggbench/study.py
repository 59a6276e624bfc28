"""Study files: reading, validation and expansion into gg_train runs; shared by the mpirun runner
(ggbench/run_study.py) and the SMPI runner (ggbench/run_smpi.py).

A study expands the cartesian product of its sweep into runs; each run is one gg_train invocation
  gg_train --config <base> --set name=<study>/<run> --set ... --set output.path=<results>/<study>/<run>/run.h5
Study file:
  {"name": "quick", "description": "...",
   "base": "experiments/configs/quick.json"  (or an inline config object),
   "set": {"train.epochs": 2},                  fixed overrides for every run
   "sweep": {"algorithm": [{"name": "allreduce"}, ...], "ranks": [2, 4, 8],
             "set": {"train.batch": [32, 64]},
             "global_batch": 256}}      optional, strong scaling: train.batch = 256 / workers
Instead of "ranks", "workers": [16, 32] counts training ranks: an algorithm's server ranks (its spec's
layout, from gg_train --describe) come on top (ps with 1 server at 16 workers runs on 17 ranks), so
every algorithm trains with the same workers, per-worker batch, global batch and steps per epoch. Its
runs are named <algorithm>_w<workers>. Algorithm blocks are checked against the registry (names,
option names, types, choices, ranges). Without sweep.algorithm the base config's algorithm is used,
and without that the trainer's default (the run is then named p<ranks>, and "workers" and
"global_batch", which need the server count, are refused).
Relative base paths are resolved against the study file's directory, then the repository root.
A study for scripts/run_study.py may also say where its runs run: "launcher": {"kind": "sbatch", ...}
(ggbench/launchers/__init__.py); the runner takes that block out before the checks here."""
import itertools
import json
import os
import re
from dataclasses import dataclass

from . import spec as specs
from .registry import REPO

STUDY_KEYS = ("name", "description", "base", "set", "sweep")
SWEEP_KEYS = ("algorithm", "ranks", "workers", "set", "global_batch")


class StudyError(Exception):
    """Invalid input; the runners print it as one line and exit with code 2."""


class Workers(int):
    """A swept count from sweep.workers: training ranks, not ranks (see Study.ranks_of)."""


@dataclass
class Study:
    name: str
    base: dict              # the base config
    base_path: str          # its file; None for an inline config until the runner chooses one
    fixed: dict             # "set": overrides of every run
    algorithms: list        # algorithm blocks; None = the trainer's default
    ranks: list             # ints, or Workers
    sweep_set: dict         # sweep.set: key -> [values]
    global_batch: int       # or None
    registry: object        # ggbench.registry.Registry
    inline_base: bool = False  # base_path was chosen by place_base: the runner writes the file

    def servers_of(self, algo):
        """Ranks that do not train, from the algorithm's layout."""
        return self.registry.servers(algo) if algo is not None else 0

    def workers_of(self, algo, ranks):
        """Training ranks of a run swept at `ranks` (a Workers count is training ranks already)."""
        return int(ranks) if isinstance(ranks, Workers) else ranks - self.servers_of(algo)

    def ranks_of(self, algo, ranks):
        """MPI ranks of a run swept at `ranks`: a Workers count plus the servers."""
        return int(ranks) + self.servers_of(algo) if isinstance(ranks, Workers) else ranks


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
    """(config, path or None) of a study's base: inline object, or a file relative to the study, the
    repository root or the working directory."""
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


def check_algorithms(algorithms, registry, src, where_of=lambda i: f"sweep.algorithm[{i}]"):
    for i, block in enumerate(algorithms):
        where = where_of(i)
        if not isinstance(block, dict):
            raise StudyError(f"{src}: {where}: expected an object like {{\"name\": \"{registry.names[-1]}\"}}")
        if block.get("name") not in registry.names:
            raise StudyError(f"{src}: {where}.name: expected one of {', '.join(registry.names)}, "
                             f"got {json.dumps(block.get('name'))}")
        problem = specs.check_block(registry.spec(block["name"]), block, where)
        if problem:
            raise StudyError(f"{src}: {problem}")


def validate_study(doc, src, registry):
    """The Study of a parsed study file; StudyError naming the first problem."""
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
    if "algorithm" in sweep:
        algorithms = nonempty_list(sweep["algorithm"], "sweep.algorithm", src)
        check_algorithms(algorithms, registry, src)
    elif isinstance(base.get("algorithm"), dict):
        algorithms = [base["algorithm"]]
        check_algorithms(algorithms, registry, src, lambda i: "base config: algorithm")
    else:
        algorithms = [None]
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
    for k, values in sweep_set.items():
        nonempty_list(values, f"sweep.set.{k}", src)
    for k in list(fixed) + list(sweep_set):
        if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", k):
            raise StudyError(f"{src}: set: '{k}' is not a key.path")
        if k in ("name", "output.path") or k.startswith("output."):
            raise StudyError(f"{src}: set: '{k}' is chosen by the runner")
    global_batch = sweep.get("global_batch")
    if None in algorithms and (key == "workers" or global_batch is not None):
        raise StudyError(f"{src}: sweep.{key if key == 'workers' else 'global_batch'}: needs the algorithm "
                         f"(sweep.algorithm or the base config's algorithm), whose layout gives the server ranks")
    study = Study(name, base, base_path, fixed, algorithms, ranks, sweep_set, global_batch, registry)
    if global_batch is not None:
        if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
            raise StudyError(f"{src}: sweep.global_batch: expected a positive integer")
        if "train.batch" in sweep_set or "train.batch" in fixed:
            raise StudyError(f"{src}: sweep.global_batch: conflicts with a train.batch override")
        for algo, p in itertools.product(algorithms, ranks):
            workers = study.workers_of(algo, p)
            if workers < 1:
                raise StudyError(f"{src}: sweep.ranks: {p} ranks leave no worker for {algo['name']}")
            if global_batch % workers:
                raise StudyError(f"{src}: sweep.global_batch: {global_batch} does not divide among "
                                 f"{workers} workers ({algo['name']} at {p} ranks)")
    return study


def slug(value):
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").replace("true", "on").replace("false", "off")


def algorithm_slug(block):
    return "_".join([block["name"]] + [f"{k}-{slug(v)}" for k, v in sorted(block.items()) if k != "name"])


def set_arg(key, value):
    return f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"


def expand(study, results, extra=(), first=()):
    """One dict per run: name, ranks, out dir, gg_train arguments after the binary. `first` are
    "key=value" overrides placed before the study's own (so the study wins); `extra` (the command
    line's) come after the algorithm block (so algorithm.x=y works)."""
    keys = list(study.sweep_set)
    runs = []
    swept = itertools.product(*study.sweep_set.values())
    for algo, p, values in itertools.product(study.algorithms, study.ranks, swept):
        parts = ([algorithm_slug(algo)] if algo is not None else []) + [f"w{p}" if isinstance(p, Workers) else f"p{p}"]
        name = "_".join(parts + [f"{k.split('.')[-1]}-{slug(v)}" for k, v in zip(keys, values)] +
                        ([f"gb{study.global_batch}"] if study.global_batch else []))
        out_dir = os.path.join(results, study.name, name)
        args = ["--config", study.base_path, "--set", f"name={study.name}/{name}"]
        for assignment in first:
            args += ["--set", assignment]
        for key, value in list(study.fixed.items()) + list(zip(keys, values)):
            args += ["--set", set_arg(key, value)]
        if study.global_batch:
            args += ["--set", f"train.batch={study.global_batch // study.workers_of(algo, p)}"]
        if algo is not None:
            args += ["--set", set_arg("algorithm", algo)]
        for assignment in extra:
            args += ["--set", assignment]
        args += ["--set", f"output.path={os.path.join(out_dir, 'run.h5')}"]
        runs.append({"name": name, "ranks": study.ranks_of(algo, p), "out_dir": out_dir, "args": args})
    names = [r["name"] for r in runs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise StudyError(f"study '{study.name}': runs with the same name: {', '.join(sorted(dup))}")
    return runs


def place_base(study, results):
    """An inline base config goes next to the results (results/<study>/base_config.json), so that the
    command lines show it; the runner writes it there before the first run."""
    if study.base_path is None:
        study.base_path = os.path.join(results, study.name, "base_config.json")
        study.inline_base = True


def read_target(path, ranks=None):
    """A study document from a study file, or a plain config wrapped as a one-run study named after the
    file. `ranks` (a list, from --ranks) are the config's rank counts (default [1]), or replace a study's
    sweep.ranks (sweep.workers in a study that sweeps workers)."""
    doc = read_json(path)
    if isinstance(doc, dict) and ("sweep" in doc or "base" in doc):
        if ranks:
            sweep = doc.get("sweep", {})
            if isinstance(sweep, dict):
                doc["sweep"] = {**sweep, "workers" if "workers" in sweep else "ranks": list(ranks)}
        return doc
    if not isinstance(doc, dict):
        raise StudyError(f"{path}: a config must be a JSON object")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.splitext(os.path.basename(path))[0])
    return {"name": name, "base": os.path.abspath(path), "sweep": {"ranks": list(ranks or [1])}}


def check_cli_sets(sets):
    for s in sets:
        if "=" not in s or s.startswith("="):
            raise StudyError(f"--set '{s}': expected key.path=value")
