"""Loads GossipGraD-Bench run logs (HDF5, schema in core/log/SCHEMA.md) for the figures, the summary
and the report. A file without the `schema_version` attribute is rejected (RunLogError; the command-line
tools turn it into one line on stderr and exit code 2).

Where a run's algorithm is described, in order of preference:
  1. the log's own `algorithm_spec` attribute (logs of a gg_train with --describe; their `config` holds
     every option, defaults filled in);
  2. older logs, which lack it and hold only the options the user set: the spec of that name from the
     registry (`gg_train --describe` of the built binary, ggbench/registry.py), when one is given;
  3. otherwise none: such a run's label lists every option its block sets.
Labels name the options that differ from the spec's defaults: 'gossipgrad (rotation=none)'. Runs sort
in registry order (unknown names after the known ones, by name), then by label.

What a step cost (Run.cost(): a Cost of means over the steps after warm-up and over the workers):
schema-2 logs measure compute, communication calls, exposed and total exchange time, charged host work
(mem_s), GPU staging, bytes sent and received, messages and staleness (core/log/SCHEMA.md). Schema-1
logs have wait_s, read as exposed_s (its old name), and none of the others: those are NaN (not
measured), never 0. Byte counts are in true units: a simulated run's payload scale (sizes divided by
it, ggbench/smpi.py) is undone. The scale and the simulated platform come from the SMPI runner's
record (smpi_runs.json in the study directory, ggbench/run_smpi.py), since the log does not hold them."""
import functools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

# A run that is still training holds its log open for writing; HDF5's file lock would then refuse every
# reader. Reading without the lock sees the log as of its last flush (every evaluation), flagged as not
# finished. Set before h5py loads the library.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402
import numpy as np  # noqa: E402

from . import registry as registries  # noqa: E402
from . import run_meta  # noqa: E402
from . import spec as specs  # noqa: E402

SCHEMA_VERSION = 2
# A run writes its log at each evaluation, with a flush; a read that overlaps such a write is retried.
LIVE_RETRIES = 5
METRIC_GROUPS = ("rank0", "averaged", "replica_min", "replica_max")
RENAMED = {"wait_s": "exposed_s"}  # /steps datasets of schema 1 under their schema-2 names
# The per-worker /steps metrics a Cost holds, in its field order; a log without one did not measure it.
COST_METRICS = ("compute_s", "comm_s", "exposed_s", "total_s", "mem_s", "staging_s",
                "bytes_sent", "bytes_recv", "msgs_sent", "mem_bytes", "staleness")
SCALED = ("bytes_sent", "bytes_recv", "mem_bytes")  # divided by the payload scale in a proxy run
WARMUP_STEPS = 2  # left out of every per-step mean (allocation, asynchronous pipelines filling)
RUNNER_RECORD = "smpi_runs.json"  # the SMPI runner's per-run record, next to the run directories
REAL = "real"  # the platform of a run on real MPI ranks


class RunLogError(Exception):
    """A path that is not a readable run log; main() turns it into exit code 2."""


@dataclass(frozen=True)
class Cost:
    """What one step cost a worker: means over the steps after warm-up and over the workers. Seconds,
    except bytes and messages; bytes in true units. NaN: the log did not measure it (see the module doc)."""
    steps: int          # steps the means cover
    compute_s: float
    comm_s: float       # inside posting, waiting and blocking communication calls
    exposed_s: float    # blocked waiting: the part of the step that waited
    total_s: float      # an exchange in flight, hidden or not
    mem_s: float        # charged memory-bound host work and progress calls (simulated node)
    staging_s: float    # charged GPU staging (inside comm_s)
    bytes_sent: float
    bytes_recv: float
    msgs_sent: float
    mem_bytes: float
    staleness: float

    @property
    def step_s(self):
        """A step's time: compute + communication calls + charged host work (not measured: none)."""
        return self.compute_s + self.comm_s + (0.0 if math.isnan(self.mem_s) else self.mem_s)

    @property
    def efficiency(self):
        """compute / step time (NaN without steps)."""
        return self.compute_s / self.step_s if self.step_s > 0 else float("nan")


def mean_cost(costs):
    """The field-wise mean of Costs (repeated runs); NaN where any of them did not measure a field."""
    fields = [f for f in Cost.__dataclass_fields__ if f != "steps"]
    return Cost(steps=min(c.steps for c in costs),
                **{f: float(np.mean([getattr(c, f) for c in costs])) for f in fields})


@dataclass
class Run:
    path: str
    name: str
    config: dict
    attrs: dict
    eval: dict = field(default_factory=dict)   # 'step', 'epoch', 'wall_s', 'consensus', 'rank0/top1', ...
    steps: dict = field(default_factory=dict)  # 'compute_s' [S, W], 'loss_mean' [S], ...
    spec: dict = None         # the algorithm's spec (see the module doc), None when unknown
    spec_source: str = None   # "log", "describe" or None
    index: int = None         # the algorithm's registry position, None without a registry or for unknown names
    registry: object = field(default=None, repr=False)  # the ggbench.registry.Registry it was loaded with
    record: dict = field(default_factory=dict)  # the SMPI runner's record of this run ({} if none)
    meta: dict = field(default_factory=dict)    # the study runner's run_meta.json ({} if none)
    # /data/class_histogram [W, C]: the samples of each class each worker owns (None: not in the log,
    # e.g. data.partition "reshuffle"); data_attrs: the /data group's attributes (partition, ...)
    class_histogram: object = None
    data_attrs: dict = field(default_factory=dict)
    # train.final_average: "allreduce" / "hypercube" when the log holds the exact final model's row (the
    # replicas averaged after the last step), None otherwise. That row is kept apart from `eval`, so the
    # curves and final() show the replicas as trained; final_model() reads it.
    final_average: str = None
    final_eval: dict = field(default_factory=dict)  # that row: 'step', 'rank0/top1', ... (scalars)

    @property
    def block(self):
        return self.config.get("algorithm", {})

    @property
    def algorithm(self):
        return self.block.get("name", "?")

    @property
    def label(self):
        return specs.label(self.spec, self.block)

    @property
    def options(self):
        """Effective options (defaults filled in from the spec); without a spec only those the log sets."""
        return specs.effective(self.spec, self.block)

    @property
    def variant(self):
        """The options that differ from the defaults: what the label shows."""
        return specs.differing(self.spec, self.block)

    @property
    def ranks(self):
        return int(self.attrs.get("ranks", 1))

    @property
    def workers(self):
        return int(self.attrs.get("workers", 1))

    @property
    def finished(self):
        return int(self.attrs.get("finished", 0)) == 1

    @property
    def batch(self):
        return int(self.config.get("train", {}).get("batch", 64))

    @property
    def simulated(self):
        return str(self.attrs.get("mpi_library", "")).startswith("SMPI")

    @property
    def platform(self):
        """The simulated platform (file stem, from the runner's record), REAL for real MPI ranks."""
        if not self.simulated:
            return REAL
        recorded = self.config.get("sim", {}).get("platform") or self.record.get("platform")
        return os.path.splitext(os.path.basename(recorded))[0] if recorded else "simulated (platform not recorded)"

    @property
    def proxy(self):
        """Whether the model is made of proxy layers (sizes scaled by the payload scale under SMPI)."""
        model = self.config.get("model")
        return isinstance(model, dict) and any(l.get("type") == "proxy" for l in model.get("layers", []))

    @property
    def payload_scale(self):
        """What the run divided its sizes by (ggbench/smpi.py): the log's sim.payload_scale (written by
        run_smpi since schema 2), else the runner's record; 1 for runs that are not simulated proxies;
        None for a simulated proxy run without either (true sizes unknown)."""
        in_log = self.config.get("sim", {}).get("payload_scale")
        if in_log is not None:
            return float(in_log)
        if "payload_scale" in self.record:
            return float(self.record["payload_scale"])
        return None if self.simulated and self.proxy else 1.0

    def measured(self, metric):
        """Whether the log holds this /steps metric (schema-1 logs lack most: see the module doc)."""
        return metric in self.steps

    def after_warmup(self, metric):
        """[S', W] of a /steps metric without the first WARMUP_STEPS steps (all steps when there are
        no more than that)."""
        values = self.steps[metric]
        return values[WARMUP_STEPS:] if values.shape[0] > WARMUP_STEPS else values

    def step_s(self):
        """[S'] time per step after warm-up, mean over workers: compute + calls + charged host work."""
        if not self.measured("compute_s") or self.steps["compute_s"].size == 0:
            return np.zeros(0)
        parts = [k for k in ("compute_s", "comm_s", "mem_s") if self.measured(k)]
        return sum(self.after_warmup(k).astype(float) for k in parts).mean(axis=1)

    def cost(self):
        """The Cost of a step (see Cost; every field NaN and steps 0 without step records)."""
        if self.step_s().size == 0:
            return Cost(0, *([float("nan")] * len(COST_METRICS)))
        scale = self.payload_scale
        values = {}
        for k in COST_METRICS:
            v = float(np.mean(self.after_warmup(k), dtype=float)) if self.measured(k) else float("nan")
            if k in SCALED:
                v = v * scale if scale is not None else float("nan")
            values[k] = v
        return Cost(steps=int(self.step_s().size), **values)

    def images_per_s(self):
        """batch x workers / mean step time (Cost.step_s); evaluation time is excluded."""
        step = self.step_s()
        return self.batch * self.workers / max(1e-12, float(np.mean(step))) if step.size else float("nan")

    def final(self, metric="top1", group="rank0"):
        """The last evaluation during training (worker 0's replica by default; with train.final_average,
        the row before the average)."""
        values = self.eval.get(f"{group}/{metric}")
        return float(values[-1]) if values is not None and len(values) else float("nan")

    def final_replica(self, metric="top1"):
        """Worker 0's replica after the last step, as trained (before any final average)."""
        return self.final(metric, "rank0")

    def final_model(self, metric="top1"):
        """The exact final model (train.final_average: every replica after the average), NaN if the run
        did not average."""
        return float(self.final_eval.get(f"rank0/{metric}", float("nan")))


def sort_key(run):
    """Registry order of the run's algorithm (unknown ones last, by name), then its label."""
    return (run.index if run.index is not None else float("inf"), run.algorithm, run.label)


def by_series(runs):
    """{series: first run of it} in sort_key order, then platform: a series is a label, with the
    platform when the runs span several (series_label)."""
    with_platform = several_platforms(runs)
    out = {}
    for r in sorted(runs, key=lambda r: (sort_key(r), r.platform)):
        out.setdefault(series_label(r, with_platform), r)
    return out


def series_label(run, with_platform):
    """The run's label, with its platform when runs of several platforms are shown together."""
    return f"{run.label} @ {run.platform}" if with_platform else run.label


def several_platforms(runs):
    return len({r.platform for r in runs}) > 1


def legend_labels(runs, with_p=None):
    """One legend text per run: its algorithm label, plus ' @ platform' when the runs span several
    platforms, ', p=N' when they span several p (or with_p is True) and ', batch=B' when one algorithm
    and p appear with several batch sizes."""
    if with_p is None:
        with_p = len({r.ranks for r in runs}) > 1
    with_platform = several_platforms(runs)
    batches = {}
    for r in runs:
        batches.setdefault((series_label(r, with_platform), r.ranks if with_p else 0), set()).add(r.batch)
    out = []
    for r in runs:
        key = (series_label(r, with_platform), r.ranks if with_p else 0)
        text = key[0] + (f", p={r.ranks}" if with_p else "")
        if len(batches[key]) > 1:
            text += f", batch={r.batch}"
        out.append(text)
    return out


def _attr(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_attr(attrs, key, path, default):
    try:
        return json.loads(attrs[key]) if key in attrs else default
    except (json.JSONDecodeError, TypeError, ValueError, RecursionError):
        raise RunLogError(f"{path}: the {key} attribute is not valid JSON") from None


def _int_attr(attrs, key, path, default=None):
    """An integer root attribute (not a string, float or bool), or RunLogError naming it."""
    if key not in attrs:
        return default
    value = attrs[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise RunLogError(f"{path}: the {key} attribute is {json.dumps(value) if isinstance(value, str) else repr(value)}, "
                          "not an integer")
    return int(value)


def _dataset(f, name, path, required=False):
    """The numbers of dataset `name`: an HDF5 dataset of integers or floats; RunLogError naming it if it
    is a group or holds anything else. Missing: zeros(0), unless required."""
    if name not in f:
        if required:
            raise RunLogError(f"{path}: /{name} is missing")
        return np.zeros(0)
    obj = f[name]
    if not isinstance(obj, h5py.Dataset):
        raise RunLogError(f"{path}: /{name} is a group, not a dataset")
    if obj.dtype.kind not in "iuf":
        raise RunLogError(f"{path}: /{name} holds {obj.dtype}, not numbers")
    return obj[()] if obj.shape == () else obj[:]


class _Transient(Exception):
    """A read that failed inside the file (HDF5 error): retried, since a live run may be mid-flush."""


def _read(f, path, not_a_log):
    """Everything load() takes from an open file: (version, attrs, ev, st, data_attrs, histogram,
    final_average, final_eval). RunLogError for a damaged or foreign layout."""
    if "schema_version" not in f.attrs:
        raise RunLogError(f"{not_a_log} (no schema_version attribute)")
    attrs = {k: _attr(v) for k, v in f.attrs.items()}
    version = _int_attr(attrs, "schema_version", path)
    if version > SCHEMA_VERSION:
        raise RunLogError(f"{path}: schema_version {version} is newer than this reader ({SCHEMA_VERSION})")
    for key in ("ranks", "workers", "finished", "num_params"):
        _int_attr(attrs, key, path)
    for key in ("eval", "steps", "data"):
        if key in f and not isinstance(f[key], h5py.Group):
            raise RunLogError(f"{path}: /{key} is a dataset, not a group")
    ev, st = {}, {}
    for key in ("step", "epoch", "wall_s", "consensus"):
        ev[key] = _dataset(f, f"eval/{key}", path)
    for group in METRIC_GROUPS:
        for metric in ("loss", "top1", "top5"):
            ev[f"{group}/{metric}"] = _dataset(f, f"eval/{group}/{metric}", path)
    final_average, final_eval = None, {}
    row = -1
    if "eval" in f and "final_exact_row" in f["eval"].attrs:
        row = _int_attr({"final_exact_row": _attr(f["eval"].attrs["final_exact_row"])}, "final_exact_row", path)
    rows = len(ev["step"])
    if 0 <= row < rows:  # the exact final model's row: kept apart from the curves
        final_average = str(_attr(f["eval"].attrs.get("final_average", "")))
        for key, values in ev.items():
            if len(values) == rows:
                final_eval[key] = values[row].item()
                ev[key] = np.delete(values, row)
    if "steps" in f:
        for key in f["steps"]:
            st[RENAMED.get(key, key) if version < 2 else key] = _dataset(f, f"steps/{key}", path)
    data_attrs = {k: _attr(v) for k, v in f["data"].attrs.items()} if "data" in f else {}
    histogram = _dataset(f, "data/class_histogram", path) if "data/class_histogram" in f else None
    return version, attrs, ev, st, data_attrs, histogram, final_average, final_eval


def _damage(e):
    """What an HDF5 error inside a file means, in words."""
    text = str(e)
    if "filter" in text or "checksum" in text.lower():
        return "damaged data: a dataset's checksum does not match (fletcher32)"
    return f"cannot read ({text})"


def load(path, registry=None):
    """Reads one run log completely; `registry` (ggbench.registry.Registry or None) describes the
    algorithms of logs older than the algorithm_spec attribute and gives the order. Raises RunLogError
    for anything that is not a readable run log: a damaged dataset (its fletcher32 checksum), a group
    where a dataset belongs, a string where a number does, a config that is not a JSON object. An HDF5
    error while opening or reading (a live run may be mid-flush) is retried LIVE_RETRIES times."""
    not_a_log = f"{path} is not a GossipGraD-Bench run log"
    if not os.path.isfile(path):
        raise RunLogError(f"{path}: no such file" if not os.path.exists(path) else f"{path}: not a regular file")
    for attempt in range(LIVE_RETRIES):  # a live log may be mid-write for a few milliseconds
        try:
            try:
                f = h5py.File(path, "r")
            except OSError as e:
                if not h5py.is_hdf5(path):
                    raise RunLogError(f"{not_a_log} (not an HDF5 file)") from None
                raise _Transient(f"cannot open ({e})") from None
            with f:
                try:
                    read = _read(f, path, not_a_log)
                except (OSError, KeyError, RuntimeError) as e:  # h5py's errors from inside the file
                    raise _Transient(_damage(e)) from None
            break
        except _Transient as e:
            if attempt + 1 == LIVE_RETRIES:
                raise RunLogError(f"{path}: {e}") from None
            time.sleep(0.2)
    version, attrs, ev, st, data_attrs, histogram, final_average, final_eval = read
    config = _json_attr(attrs, "config", path, {})
    if not isinstance(config, dict):
        raise RunLogError(f"{path}: the config attribute is a JSON {type(config).__name__}, not an object")
    spec = _json_attr(attrs, "algorithm_spec", path, None)
    if spec is not None and not isinstance(spec, dict):
        raise RunLogError(f"{path}: the algorithm_spec attribute is not a JSON object")
    block = config.get("algorithm", {})
    if not isinstance(block, dict) or not isinstance(block.get("name", ""), str):
        raise RunLogError(f"{path}: the config's algorithm is not an object with a name")
    for key in ("train", "sim"):
        if not isinstance(config.get(key, {}), dict):
            raise RunLogError(f"{path}: the config's {key} is not an object")
    algorithm = block.get("name")
    source = "log" if spec is not None else None
    if spec is None and registry is not None and registry.find(algorithm) is not None:
        spec, source = registry.find(algorithm), "describe"
    in_run_dir = os.path.basename(path) == "run.h5"
    name = os.path.basename(os.path.dirname(os.path.abspath(path))) if in_run_dir \
        else os.path.splitext(os.path.basename(path))[0]
    return Run(path=path, name=name, config=config, attrs=attrs, eval=ev, steps=st, spec=spec, spec_source=source,
               index=registry.index(algorithm) if registry is not None else None, registry=registry,
               record=runner_record(path, name) if in_run_dir else {},
               meta=run_meta.read(os.path.dirname(os.path.abspath(path))) if in_run_dir else {},
               class_histogram=histogram, data_attrs=data_attrs, final_average=final_average,
               final_eval=final_eval)


def runner_record(path, name):
    """The SMPI runner's record of run `name` (results/<study>/<name>/run.h5): its entry in
    results/<study>/smpi_runs.json, {} when there is none."""
    records = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), RUNNER_RECORD)
    if not os.path.isfile(records):
        return {}
    return _records(records, os.path.getmtime(records)).get(name, {})


@functools.lru_cache(maxsize=None)
def _records(path, mtime):  # noqa: ARG001  (mtime: a rewritten file is read again)
    try:
        with open(path, encoding="utf-8") as f:
            return {r["run"]: r for r in json.load(f)}
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as e:
        raise RunLogError(f"{path}: not a list of SMPI run records ({e})") from None


def find_logs(paths):
    """Expands directories (recursively, *.h5, sorted); files are taken as given."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(d, n) for d, _, names in os.walk(p) for n in names if n.endswith(".h5"))
            if not found:
                raise RunLogError(f"{p}: no run logs (*.h5) found")
            out.extend(found)
        else:
            out.append(p)
    return out


def load_all(paths, registry=None):
    return [load(p, registry) for p in find_logs(paths)]


def fail(prog, message):
    """One line on stderr and exit code 2: how every tool reports bad input."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(2)


def registry_or_exit(build_dir, prog):
    """ggbench.registry.for_readers() for a command-line tool: a --build-dir that does not answer exits 2."""
    try:
        return registries.for_readers(build_dir)
    except registries.RegistryError as e:
        fail(prog, e)


def load_or_exit(paths, prog, build_dir=None):
    """load_all() for a command-line tool, with the registry of --build-dir (or the default build, when
    it answers): a bad input prints one line and exits with code 2."""
    registry = registry_or_exit(build_dir, prog)
    try:
        runs = load_all(paths, registry)
    except RunLogError as e:
        fail(prog, e)
    if not runs:
        fail(prog, "no run logs given")
    return runs
