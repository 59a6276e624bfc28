"""Groups runs that differ only in their seed into cells, and cells that may be compared into contexts,
for the summary, the scaling tables, the figures and the report.

A cell: runs with the same platform, scaling regime, workers, log schema and resolved config except
train.seed (and the run's name and output path, which name it rather than say what it ran). Its per-run scalars are
summarized over the seeds by ggbench/stats.py (mean, sd, n, 95% t interval).

A context: cells that differ only in the algorithm block: same platform, regime, data.partition,
workers and everything else. Only cells of one context are ever compared, so runs of the two scaling
regimes (ggbench/study.py) or of different data partitions are never put side by side.

Where these come from: the regime and the swept seed from the runner's run_meta.json (Run.meta,
ggbench/run_meta.py); for runs without one the regime is fixed_global_batch when the run's name ends
in the _gb<N> of a study with sweep.global_batch, else unset, and the seed is the config's train.seed."""
import copy
import json
import re
from dataclasses import dataclass, field

from . import runlog, stats
from .study import FIXED_GLOBAL

UNSET = "unset"
NAMING = ("name", "output")  # top-level config keys that name a run rather than what it ran


def regime_of(run):
    """The run's scaling regime: 'fixed_global_batch', 'fixed_worker_batch' or 'unset'."""
    if "regime" in run.meta:
        return run.meta["regime"] or UNSET
    return FIXED_GLOBAL if re.search(r"_gb\d+(_|$)", run.name) else UNSET


def seed_of(run):
    """The run's train.seed (the runner's record first), None if neither says."""
    if run.meta.get("seed") is not None:
        return run.meta["seed"]
    return run.config.get("train", {}).get("seed")


def partition_of(run):
    """data.partition of the resolved config ('-' in logs that do not record it)."""
    data = run.config.get("data")
    return str(data.get("partition", "-")) if isinstance(data, dict) else "-"


def _config(run, drop_algorithm):
    cfg = copy.deepcopy(run.config) if isinstance(run.config, dict) else {}
    for key in NAMING + (("algorithm",) if drop_algorithm else ()):
        cfg.pop(key, None)
    if isinstance(cfg.get("train"), dict):
        cfg["train"].pop("seed", None)
    return json.dumps(cfg, sort_keys=True)


def context_key(run):
    """What two cells must share to be compared (see the module doc)."""
    return (run.platform, regime_of(run), partition_of(run), run.workers, _config(run, True),
            int(run.attrs.get("schema_version", 0)))


def cell_key(run):
    return context_key(run) + (json.dumps(run.options, sort_keys=True),)


@dataclass
class Cell:
    """Runs that differ only in seed; `runs` ordered by seed."""
    key: tuple
    runs: list = field(default_factory=list)

    @property
    def first(self):
        return self.runs[0]

    @property
    def context(self):
        return self.key[:-1]

    @property
    def n(self):
        return len(self.runs)

    @property
    def label(self):
        return self.first.label

    @property
    def regime(self):
        return self.key[1]

    @property
    def partition(self):
        return self.key[2]

    @property
    def seeds(self):
        return [seed_of(r) for r in self.runs]

    def stat(self, value):
        """stats.Summary of value(run) over the cell's runs."""
        return stats.describe([value(r) for r in self.runs])

    def final(self, metric="top1", group="rank0"):
        return self.stat(lambda r: r.final(metric, group))

    def values(self, value):
        return [value(r) for r in self.runs]


def group(runs):
    """Cells of the runs, ordered by platform, regime, partition, workers, then registry order and label."""
    cells = {}
    for r in runs:
        cells.setdefault(cell_key(r), Cell(cell_key(r))).runs.append(r)
    for c in cells.values():
        c.runs.sort(key=lambda r: (seed_of(r) is None, seed_of(r) or 0, r.name))
    return sorted(cells.values(), key=lambda c: (c.key[0], c.regime, c.partition, c.first.workers,
                                                 runlog.sort_key(c.first), c.key))


def contexts(cells):
    """{context key: [cells]} in the order of the cells."""
    out = {}
    for c in cells:
        out.setdefault(c.context, []).append(c)
    return out


def context_text(cell, with_platform=False):
    """'p=4 (4 workers), fixed_global_batch, partition reshuffle, batch 16' (and the platform)."""
    r = cell.first
    where = f"{r.platform}, " if with_platform else ""
    workers = f" ({r.workers} workers)" if r.workers != r.ranks else ""
    return f"{where}p={r.ranks}{workers}, {cell.regime}, partition {cell.partition}, batch {r.batch}"


def reference_cell(cells, cell, label):
    """The cell labelled `label` (an algorithm at its defaults) in cell's context, None if there is none."""
    return next((c for c in cells if c.context == cell.context and c.label == label), None)


def gaps(cells, label, metric="top1", group_="averaged"):
    """[(cell, reference cell, stats.Diff of the final metric)] for every cell with a `label` cell in
    its context (the reference itself left out): each algorithm's gap to the reference."""
    out = []
    for c in cells:
        ref = reference_cell(cells, c, label)
        if ref is not None and ref is not c:
            final = lambda r: r.final(metric, group_)  # noqa: E731
            out.append((c, ref, stats.compare(c.values(final), ref.values(final))))
    return out
