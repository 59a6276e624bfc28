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
in registry order (unknown names after the known ones, by name), then by label."""
import json
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
from . import spec as specs  # noqa: E402

SCHEMA_VERSION = 1
# A run writes its log at each evaluation, with a flush; a read that overlaps such a write is retried.
LIVE_RETRIES = 5
METRIC_GROUPS = ("rank0", "averaged", "replica_min", "replica_max")


class RunLogError(Exception):
    """A path that is not a readable run log; main() turns it into exit code 2."""


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

    def step_times(self):
        """Mean over workers of compute, comm and wait seconds per step: three [S] arrays. The first
        step (allocation, warm-up) is left out when there are others."""
        if "compute_s" not in self.steps or self.steps["compute_s"].size == 0:
            empty = np.zeros(0)
            return empty, empty, empty
        first = 1 if self.steps["compute_s"].shape[0] > 1 else 0
        return tuple(self.steps[k][first:].mean(axis=1) for k in ("compute_s", "comm_s", "wait_s"))

    def mean_step_ms(self):
        """Mean compute, comm and wait milliseconds per step (NaN without steps)."""
        return tuple(1e3 * float(np.mean(t)) if t.size else float("nan") for t in self.step_times())

    def images_per_s(self):
        """batch x workers / mean step time (compute + comm); evaluation time is excluded."""
        compute, comm, _ = self.step_times()
        if compute.size == 0:
            return float("nan")
        return self.batch * self.workers / max(1e-12, float(np.mean(compute + comm)))

    def final(self, metric="top1", group="rank0"):
        values = self.eval.get(f"{group}/{metric}")
        return float(values[-1]) if values is not None and len(values) else float("nan")


def sort_key(run):
    """Registry order of the run's algorithm (unknown ones last, by name), then its label."""
    return (run.index if run.index is not None else float("inf"), run.algorithm, run.label)


def by_label(runs):
    """{label: first run with that label}, in sort_key order: what series keyed by label need to keep
    the order and colour of their algorithm."""
    out = {}
    for r in sorted(runs, key=sort_key):
        out.setdefault(r.label, r)
    return out


def legend_labels(runs, with_p=None):
    """One legend text per run: its algorithm label, plus ', p=N' when the runs span several p
    (or with_p is True) and ', batch=B' when one algorithm and p appear with several batch sizes."""
    if with_p is None:
        with_p = len({r.ranks for r in runs}) > 1
    batches = {}
    for r in runs:
        batches.setdefault((r.label, r.ranks if with_p else 0), set()).add(r.batch)
    out = []
    for r in runs:
        text = r.label + (f", p={r.ranks}" if with_p else "")
        if len(batches[(r.label, r.ranks if with_p else 0)]) > 1:
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
    except (json.JSONDecodeError, TypeError):
        raise RunLogError(f"{path}: the {key} attribute is not valid JSON") from None


def load(path, registry=None):
    """Reads one run log completely; `registry` (ggbench.registry.Registry or None) describes the
    algorithms of logs older than the algorithm_spec attribute and gives the order. Raises RunLogError
    for anything that is not a run log."""
    not_a_log = f"{path} is not a GossipGraD-Bench run log"
    if not os.path.isfile(path):
        raise RunLogError(f"{path}: no such file")
    for attempt in range(LIVE_RETRIES):  # a live log may be mid-write for a few milliseconds
        try:
            f = h5py.File(path, "r")
            break
        except OSError as e:
            if not h5py.is_hdf5(path):
                raise RunLogError(f"{not_a_log} (not an HDF5 file)") from None
            if attempt + 1 == LIVE_RETRIES:
                raise RunLogError(f"{path}: cannot open ({e})") from None
            time.sleep(0.2)
    with f:
        if "schema_version" not in f.attrs:
            raise RunLogError(f"{not_a_log} (no schema_version attribute)")
        version = int(_attr(f.attrs["schema_version"]))
        if version > SCHEMA_VERSION:
            raise RunLogError(f"{path}: schema_version {version} is newer than this reader ({SCHEMA_VERSION})")
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        ev, st = {}, {}
        for key in ("step", "epoch", "wall_s", "consensus"):
            ev[key] = f[f"eval/{key}"][:] if f"eval/{key}" in f else np.zeros(0)
        for group in METRIC_GROUPS:
            for metric in ("loss", "top1", "top5"):
                name = f"eval/{group}/{metric}"
                ev[f"{group}/{metric}"] = f[name][:] if name in f else np.zeros(0)
        if "steps" in f:
            for key, ds in f["steps"].items():
                st[key] = ds[:]
    config = _json_attr(attrs, "config", path, {})
    spec = _json_attr(attrs, "algorithm_spec", path, None)
    algorithm = config.get("algorithm", {}).get("name") if isinstance(config, dict) else None
    source = "log" if spec is not None else None
    if spec is None and registry is not None and registry.find(algorithm) is not None:
        spec, source = registry.find(algorithm), "describe"
    name = os.path.basename(os.path.dirname(os.path.abspath(path))) if os.path.basename(path) == "run.h5" \
        else os.path.splitext(os.path.basename(path))[0]
    return Run(path=path, name=name, config=config, attrs=attrs, eval=ev, steps=st, spec=spec, spec_source=source,
               index=registry.index(algorithm) if registry is not None else None, registry=registry)


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
