"""Loads GossipGraD-Bench run logs (HDF5, schema in core/log/SCHEMA.md) for the plot scripts and
scripts/summarize.py. A file without the `schema_version` attribute is rejected with exit code 2."""
import json
import os
import re
import sys
from dataclasses import dataclass, field

# A run that is still training holds its log open for writing; HDF5's file lock would then refuse every
# reader. Reading without the lock sees the log as of its last flush (every evaluation), flagged as not
# finished. Set before h5py loads the library.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402
import numpy as np

SCHEMA_VERSION = 1
METRIC_GROUPS = ("rank0", "averaged", "replica_min", "replica_max")

# Defaults of every algorithm option (algorithms/*.cpp); labels show only what differs from them.
DEFAULTS = {
    "allreduce": {},
    "gossip": {"exchange": "parameters", "timing": "async"},
    "gossipgrad": {"topology": "hypercube", "rotation": "shift", "exchange": "parameters",
                   "timing": "async", "shuffle": True},
    "ps": {"servers": 1, "mode": "sync", "staleness": 0},
}


ORDER = ["allreduce", "ps", "gossip", "gossipgrad"]


def sort_key(label):
    """Orders labels as allreduce, ps, gossip, gossipgrad, then their variants alphabetically."""
    base = re.split(r"[ ,(]", label)[0]
    return (ORDER.index(base) if base in ORDER else len(ORDER), label)


class RunLogError(Exception):
    """A path that is not a readable run log; main() turns it into exit code 2."""


def algorithm_label(block):
    """'gossipgrad' or 'gossipgrad (rotation=none, shuffle=off)' from an algorithm config block."""
    name = block.get("name", "?")
    defaults = DEFAULTS.get(name, {})
    parts = []
    for key in sorted(k for k in block if k != "name"):
        value = block[key]
        if defaults.get(key) == value:
            continue
        if isinstance(value, bool):
            value = "on" if value else "off"
        parts.append(f"{key}={value}")
    return f"{name} ({', '.join(parts)})" if parts else name


@dataclass
class Run:
    path: str
    name: str
    config: dict
    attrs: dict
    eval: dict = field(default_factory=dict)   # 'step', 'epoch', 'wall_s', 'consensus', 'rank0/top1', ...
    steps: dict = field(default_factory=dict)  # 'compute_s' [S, W], 'loss_mean' [S], ...

    @property
    def algorithm(self):
        return self.config.get("algorithm", {}).get("name", "?")

    @property
    def label(self):
        return algorithm_label(self.config.get("algorithm", {}))

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


def load(path):
    """Reads one run log completely. Raises RunLogError for anything that is not one."""
    not_a_log = f"{path} is not a GossipGraD-Bench run log"
    if not os.path.isfile(path):
        raise RunLogError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        if h5py.is_hdf5(path):
            raise RunLogError(f"{path}: cannot open ({e}); is a run still writing it?") from None
        raise RunLogError(f"{not_a_log} (not an HDF5 file)") from None
    with f:
        if "schema_version" not in f.attrs:
            raise RunLogError(f"{not_a_log} (no schema_version attribute)")
        version = int(_attr(f.attrs["schema_version"]))
        if version > SCHEMA_VERSION:
            raise RunLogError(f"{path}: schema_version {version} is newer than this reader ({SCHEMA_VERSION})")
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        try:
            config = json.loads(attrs.get("config", "{}"))
        except json.JSONDecodeError:
            raise RunLogError(f"{path}: the config attribute is not valid JSON") from None
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
    name = os.path.basename(os.path.dirname(os.path.abspath(path))) if os.path.basename(path) == "run.h5" \
        else os.path.splitext(os.path.basename(path))[0]
    return Run(path=path, name=name, config=config, attrs=attrs, eval=ev, steps=st)


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


def load_all(paths):
    return [load(p) for p in find_logs(paths)]


def load_or_exit(paths, prog):
    """load_all() for a command-line tool: a bad input prints one line and exits with code 2."""
    try:
        runs = load_all(paths)
    except RunLogError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    if not runs:
        print(f"{prog}: error: no run logs given", file=sys.stderr)
        sys.exit(2)
    return runs
