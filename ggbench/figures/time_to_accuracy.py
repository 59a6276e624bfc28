"""Test top-1 accuracy against time, one panel per comparable setting (ranks p, with the scaling regime,
data partition and platform: ggbench/cells.py), one line per algorithm: the mean over its seeds at
each evaluation (x: mean time of that evaluation, y: mean accuracy), a band from the lowest to the
highest seed. Solid: the averaged model; dashed: worker 0's replica. Time is the training clock of
ggbench/tta.py: simulated under SMPI, wall-clock otherwise; --clock eval uses /eval/wall_s.

  /usr/bin/python3 -m ggbench.figures.time_to_accuracy results/p16_accuracy --out results/figures --logx"""
import argparse
import os
import sys

import numpy as np

from .. import cells as cellmod
from .. import registry, runlog, style, tta
from ..style import plt


def curve(cell, group, clock):
    """(x mean time, y mean, y min, y max) over the cell's seeds, on the evaluations all of them have."""
    runs = [r for r in cell.runs if len(r.eval["step"])]
    if not runs:
        return None
    e = min(len(r.eval["step"]) for r in runs)
    x = np.mean([tta.eval_times(r, clock)[:e] for r in runs], axis=0)
    y = 100 * np.array([np.asarray(r.eval[f"{group}/top1"][:e], dtype=float) for r in runs])
    return x, y.mean(axis=0), y.min(axis=0), y.max(axis=0)


def plot(runs, out, prefix, clock="train", logx=False):
    """One figure, a panel per context; returns the paths written (PNG, PDF)."""
    style.setup()
    cells = cellmod.group([r for r in runs if r.finished or len(r.eval["step"])])
    ctx = cellmod.contexts(cells)
    n = max(1, len(ctx))
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False, sharey=True)
    with_platform = runlog.several_platforms(runs)
    for ax, group_cells in zip(axes.flat, ctx.values()):
        for c in group_cells:
            color = style.color(c.first)
            for group, ls in (("averaged", "-"), ("rank0", "--")):
                got = curve(c, group, clock)
                if got is None:
                    continue
                x, mean, lo, hi = got
                label = f"{c.label} (n={c.n})" if group == "averaged" else None
                ax.plot(x, mean, ls, color=color, marker="o" if group == "averaged" else None, ms=3, label=label)
                if c.n > 1:
                    ax.fill_between(x, lo, hi, color=color, alpha=0.15 if group == "averaged" else 0.07, lw=0)
        ax.set_title(cellmod.context_text(group_cells[0], with_platform), fontsize=8)
        ax.set_xlabel(f"time ({tta.clock_unit([c.first for c in group_cells])}, "
                      f"{'training only' if clock == 'train' else 'evaluations included'})")
        if logx:
            ax.set_xscale("log")
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(ctx):]:
        ax.axis("off")
    if not ctx:
        style.note(axes[0][0], "no evaluations recorded")
    for row in axes:
        row[0].set_ylabel("test top-1 (%)")
    fig.suptitle("accuracy vs time: averaged model (solid), worker 0 (dashed); bands: seeds min..max", fontsize=9)
    return style.save(fig, out, f"{prefix}time_to_accuracy")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="run.h5 files or results/<study> directories")
    ap.add_argument("--out", default="results/figures")
    ap.add_argument("--prefix", default=None)
    ap.add_argument("--clock", choices=tta.CLOCKS, default="train")
    ap.add_argument("--logx", action="store_true", help="logarithmic time axis")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    if args.prefix is None:
        one_dir = len(args.inputs) == 1 and os.path.isdir(args.inputs[0])
        args.prefix = os.path.basename(os.path.normpath(args.inputs[0])) + "_" if one_dir else ""
    plot(runlog.load_or_exit(args.inputs, "plot_time_to_accuracy", args.build_dir), args.out, args.prefix,
         args.clock, args.logx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
