"""Time to accuracy: when a run's test top-1 first reached a threshold, per run and over the seeds of a
cell (ggbench/cells.py).

The time of an evaluation is the run's clock when it was taken: the trainer's clock is MPI_Wtime, so it
is simulated time under SMPI (Run.simulated: the log's mpi_library) and wall-clock time otherwise.
Two clocks (core/log/SCHEMA.md):
  "train" (default): training time only, the slowest worker's sum of its step times (/steps compute_s +
           comm_s + mem_s) over the steps before the evaluation -- evaluations themselves not counted
           (as Run.images_per_s); logs without /steps fall back to "eval";
  "eval":  /eval/wall_s, seconds since training started, time spent evaluating included.
There is no interpolation between evaluations: the time reported is that of the first evaluation at
or above the threshold, or "not reached". Over a cell's seeds: mean ± 95% t interval of the times of
the seeds that reached it, and "k/n reached"."""
import math

import numpy as np

from . import stats

CLOCKS = ("train", "eval")
GROUPS = {"averaged": "averaged model", "rank0": "replica (worker 0)"}


def clock_unit(runs):
    """'simulated s', 'wall-clock s', or both named when the runs mix them."""
    kinds = {r.simulated for r in runs}
    return "simulated s" if kinds == {True} else "wall-clock s" if kinds == {False} else "s (simulated or wall-clock)"


def eval_times(run, clock="train"):
    """[E] the run's clock at each evaluation (seconds; see the module doc)."""
    if clock not in CLOCKS:
        raise ValueError(f"clock: expected one of {CLOCKS}, got {clock!r}")
    wall = np.asarray(run.eval["wall_s"], dtype=float)
    if clock == "eval" or not run.measured("compute_s") or run.steps["compute_s"].size == 0:
        return wall
    parts = [k for k in ("compute_s", "comm_s", "mem_s") if run.measured(k)]
    per_step = sum(run.steps[k].astype(float) for k in parts)          # [S, W]
    cumulative = np.vstack([np.zeros((1, per_step.shape[1])), np.cumsum(per_step, axis=0)])  # [S+1, W]
    index = np.asarray(run.steps["step"]) if "step" in run.steps else np.arange(per_step.shape[0])
    out = []
    for step in np.asarray(run.eval["step"], dtype=np.int64):
        done = int(np.searchsorted(index, step))  # rows of steps before the evaluation
        out.append(float(cumulative[min(done, per_step.shape[0])].max()))
    return np.array(out)


def first_reach(run, threshold, group="averaged", clock="train"):
    """(time, epoch) of the first evaluation whose top-1 of `group` is >= threshold; None if none is."""
    top1 = np.asarray(run.eval.get(f"{group}/top1", []), dtype=float)
    hits = np.nonzero(top1 >= threshold)[0]
    if hits.size == 0:
        return None
    i = int(hits[0])
    return float(eval_times(run, clock)[i]), float(run.eval["epoch"][i])


def reach_summary(runs, threshold, group="averaged", clock="train"):
    """(stats.Summary of the times of the runs that reached it, number that reached, number of runs)."""
    times = [first_reach(r, threshold, group, clock) for r in runs]
    reached = [t for t, _ in (x for x in times if x is not None)]
    return stats.describe(reached), len(reached), len(runs)


def reach_text(summary, k, n, fmt=".3g"):
    """'12.3 ± 1.1 s (3/3 reached)', '12.3 s (1/1 reached, no interval)', 'not reached (0/3)'."""
    if k == 0:
        return f"not reached (0/{n})"
    if not summary.has_interval:
        return f"{format(summary.mean, fmt)} s ({k}/{n} reached" + (", no interval)" if k == 1 else ")")
    return f"{format(summary.mean, fmt)} ± {format(summary.half, fmt)} s ({k}/{n} reached)"


def targets(cells, reference_label, fractions=(0.95, 0.99), group="averaged"):
    """Thresholds for one context's cells: fractions of the reference cell's mean final top-1 (of
    `group`), or of the best cell's when there is no reference cell; rounded down to 0.1 point."""
    ref = next((c for c in cells if c.label == reference_label), None)
    finals = [c.final("top1", group).mean for c in ([ref] if ref else cells)]
    best = max((f for f in finals if not math.isnan(f)), default=float("nan"))
    if math.isnan(best):
        return []
    return sorted({math.floor(1000 * f * best) / 1000 for f in fractions})


def table(cells, thresholds, group="averaged", clock="train", label_of=lambda c: c.label):
    """Rows (header first) of one context's time-to-accuracy table: one row per cell, one column per
    threshold."""
    rows = [["algorithm", "n"] + [f"top-1 >= {100 * t:.1f}%" for t in thresholds]]
    for c in cells:
        rows.append([label_of(c), str(c.n)] +
                    [reach_text(*reach_summary(c.runs, t, group, clock)) for t in thresholds])
    return rows
