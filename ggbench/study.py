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
             "global_batch": 256,       optional, strong scaling: train.batch = 256 / workers
             "seeds": [1, 2, 3]},       optional: repeats every run with train.seed = each (run names
                                        get _s<seed>); readers aggregate runs differing only in seed
   "regime": "fixed_global_batch"}      optional, see below
Instead of "ranks", "workers": [16, 32] counts training ranks: an algorithm's server ranks (its spec's
layout, from gg_train --describe) come on top (ps with 1 server at 16 workers runs on 17 ranks), so
every algorithm trains with the same workers, per-worker batch, global batch and steps per epoch. Its
runs are named <algorithm>_w<workers>. Algorithm blocks are checked against the registry (names,
option names, types, choices, ranges). Without sweep.algorithm the base config's algorithm is used,
and without that the trainer's default (the run is then named p<ranks>, and "workers" and
"global_batch", which need the server count, are refused).

Scaling regime (study level, since one study never mixes the two; recorded in every run's
run_meta.json, ggbench/run_meta.py, so that readers compare only runs of one regime):
  "fixed_global_batch"  needs sweep.global_batch (train.batch = global / workers, learning rate as set);
                        a study with sweep.global_batch and no regime is of this regime.
  "fixed_worker_batch"  keeps train.batch and scales the learning rate linearly with the global batch
                        workers x train.batch: optimizer.scale_lr_reference_batch = the reference global
                        batch (gg_train multiplies optimizer.lr by global / reference), after a linear
                        warm-up (optimizer.warmup_epochs, required). Object form with its settings:
                        {"kind": "fixed_worker_batch", "reference_batch": 64, "warmup_epochs": 1};
                        reference_batch defaults to train.batch x the fewest workers of the study (the
                        smallest run keeps optimizer.lr), warmup_epochs to the config's own warm-up.
Without either the runs record no regime ("unset").
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

STUDY_KEYS = ("name", "description", "base", "set", "sweep", "regime")
SWEEP_KEYS = ("algorithm", "ranks", "workers", "set", "global_batch", "seeds")
FIXED_GLOBAL, FIXED_WORKER = "fixed_global_batch", "fixed_worker_batch"
REGIMES = (FIXED_GLOBAL, FIXED_WORKER)
REGIME_KEYS = ("kind", "reference_batch", "warmup_epochs")
MAX_RUNS = 10000  # a sweep is counted before it is expanded: more runs than this is a mistake


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
    seeds: list = None      # sweep.seeds (train.seed of each repetition), None: not swept
    regime: dict = None     # {"kind", "reference_batch", "warmup_epochs"} or None (see the module doc)

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
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name) or set(name) == {"."}:
        raise StudyError(f"{src}: name: expected a string of letters, digits, '.', '_' or '-' (not '.' or '..': "
                         f"the study's folder stays inside --results), got {json.dumps(name)}")
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
    count_runs(algorithms, ranks, sweep_set, sweep.get("seeds"), src)
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
    if "seeds" in sweep:
        study.seeds = check_seeds(sweep["seeds"], fixed, sweep_set, src)
    study.regime = check_regime(doc.get("regime"), study, src)
    return study


def count_runs(algorithms, ranks, sweep_set, seeds, src):
    """The number of runs the sweep expands into, counted (not expanded); StudyError above MAX_RUNS."""
    total, parts = 1, [("sweep.algorithm", len(algorithms)), ("sweep.ranks", len(ranks))]
    parts += [(f"sweep.set.{k}", len(v)) for k, v in sweep_set.items()]
    if isinstance(seeds, list) and seeds:
        parts.append(("sweep.seeds", len(seeds)))
    for _, n in parts:
        total *= n
    if total > MAX_RUNS:
        sizes = " x ".join(f"{n} ({what})" for what, n in parts if n > 1)
        raise StudyError(f"{src}: sweep: {sizes} = {total} runs, more than the {MAX_RUNS} a study may have")
    return total


def check_seeds(seeds, fixed, sweep_set, src):
    """sweep.seeds: a non-empty list of distinct positive integers, and train.seed set nowhere else."""
    nonempty_list(seeds, "sweep.seeds", src)
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise StudyError(f"{src}: sweep.seeds[{i}]: expected a positive integer, got {json.dumps(s)}")
        if s in seeds[:i]:
            raise StudyError(f"{src}: sweep.seeds[{i}]: seed {s} appears twice (seeds must be unique)")
    if "train.seed" in fixed or "train.seed" in sweep_set:
        raise StudyError(f"{src}: sweep.seeds: conflicts with a train.seed override")
    return list(seeds)


def configured(study, key):
    """The value of a dotted key for every run, from the study's set or its base config; None if unset
    (or swept)."""
    if key in study.fixed:
        return study.fixed[key]
    node = study.base
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def check_regime(regime, study, src):
    """The study's regime as {"kind", "reference_batch", "warmup_epochs"} (None: unset); see the
    module doc."""
    if regime is None:
        return {"kind": FIXED_GLOBAL} if study.global_batch is not None else None
    block = {"kind": regime} if isinstance(regime, str) else regime
    if not isinstance(block, dict):
        raise StudyError(f"{src}: regime: expected one of {', '.join(REGIMES)} or an object with \"kind\"")
    check_keys(block, REGIME_KEYS, "regime.", src)
    kind = block.get("kind")
    if kind not in REGIMES:
        raise StudyError(f"{src}: regime: expected one of {', '.join(REGIMES)}, got {json.dumps(kind)}")
    if kind == FIXED_GLOBAL:
        if set(block) != {"kind"}:
            raise StudyError(f"{src}: regime: {FIXED_GLOBAL} takes no settings (the learning rate is as set)")
        if study.global_batch is None:
            raise StudyError(f"{src}: regime {FIXED_GLOBAL}: needs sweep.global_batch")
        return {"kind": kind}
    if study.global_batch is not None:
        raise StudyError(f"{src}: regime {FIXED_WORKER}: conflicts with sweep.global_batch")
    if "optimizer.scale_lr_reference_batch" in study.fixed or "optimizer.scale_lr_reference_batch" in study.sweep_set:
        raise StudyError(f"{src}: regime {FIXED_WORKER}: chooses optimizer.scale_lr_reference_batch "
                         "(give regime.reference_batch instead)")
    for key in ("reference_batch", "warmup_epochs"):
        v = block.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 or
                              (key == "reference_batch" and not isinstance(v, int))):
            raise StudyError(f"{src}: regime.{key}: expected a positive {'integer' if key[0] == 'r' else 'number'}")
    if block.get("warmup_epochs") is None:
        warm = configured(study, "optimizer.warmup_epochs")
        if "optimizer.warmup_epochs" in study.sweep_set or not (isinstance(warm, (int, float)) and warm > 0):
            raise StudyError(f"{src}: regime {FIXED_WORKER}: scaling the learning rate needs a warm-up: give "
                             "regime.warmup_epochs (or optimizer.warmup_epochs in the base config or set)")
    if block.get("reference_batch") is None and "train.batch" not in study.sweep_set and \
            not isinstance(configured(study, "train.batch"), int):
        raise StudyError(f"{src}: regime {FIXED_WORKER}: train.batch is not set in the base config or set; "
                         "give regime.reference_batch")
    return {"kind": kind, "reference_batch": block.get("reference_batch"), "warmup_epochs": block.get("warmup_epochs")}


def regime_sets(study, batch):
    """(--set assignments, reference global batch or None) of the regime for a run of per-worker
    batch `batch` (fixed_worker_batch only; the global batch of fixed_global_batch is set by expand)."""
    regime = study.regime
    if not regime or regime["kind"] != FIXED_WORKER:
        return [], None
    fewest = min(study.workers_of(a, p) for a, p in itertools.product(study.algorithms, study.ranks))
    reference = regime["reference_batch"] or batch * fewest
    sets = [f"optimizer.scale_lr_reference_batch={reference}"]
    if regime["warmup_epochs"] is not None:
        sets.append(set_arg("optimizer.warmup_epochs", regime["warmup_epochs"]))
    return sets, reference


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
    seeds = study.seeds or [None]
    for algo, p, values, seed in itertools.product(study.algorithms, study.ranks, swept, seeds):
        parts = ([algorithm_slug(algo)] if algo is not None else []) + [f"w{p}" if isinstance(p, Workers) else f"p{p}"]
        name = "_".join(parts + [f"{k.split('.')[-1]}-{slug(v)}" for k, v in zip(keys, values)] +
                        ([f"gb{study.global_batch}"] if study.global_batch else []) +
                        ([f"s{seed}"] if seed is not None else []))
        out_dir = os.path.join(results, study.name, name)
        args = ["--config", study.base_path, "--set", f"name={study.name}/{name}"]
        for assignment in first:
            args += ["--set", assignment]
        for key, value in list(study.fixed.items()) + list(zip(keys, values)):
            args += ["--set", set_arg(key, value)]
        if study.global_batch:
            args += ["--set", f"train.batch={study.global_batch // study.workers_of(algo, p)}"]
        if seed is not None:
            args += ["--set", f"train.seed={seed}"]
        batch = dict(zip(keys, values)).get("train.batch", configured(study, "train.batch"))
        regime, reference = regime_sets(study, batch)
        for assignment in regime:
            args += ["--set", assignment]
        if algo is not None:
            args += ["--set", set_arg("algorithm", algo)]
        for assignment in extra:
            args += ["--set", assignment]
        args += ["--set", f"output.path={os.path.join(out_dir, 'run.h5')}"]
        meta = {"study": study.name, "run": name, "regime": study.regime["kind"] if study.regime else None,
                "seed": seed, "lr_reference_batch": reference}
        runs.append({"name": name, "ranks": study.ranks_of(algo, p), "out_dir": out_dir, "args": args, "meta": meta})
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
