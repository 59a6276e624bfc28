"""Test top-1 accuracy vs epoch and vs wall time, one line per run, coloured by algorithm.
Solid: worker 0's replica; dashed: the averaged model; shaded: min..max over replicas. Runs that
differ only in seed (ggbench/cells.py) are one line, the mean over the seeds, shaded from the lowest to
the highest seed instead.

  /usr/bin/python3 plots/plot_accuracy.py results/p16_accuracy --out results/figures
  /usr/bin/python3 -m ggbench.figures.accuracy results/p16_accuracy --out results/figures"""
import sys

from matplotlib.lines import Line2D

import numpy as np

from .. import cells as cellmod
from .. import runlog, style
from ..style import plt

MARKERS = ["o", "s", "^", "D", "v", "P"]


def plot(runs, out, prefix):
    style.setup()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    runs = [r for r in sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks)) if len(r.eval["epoch"])]
    ps = sorted({r.ranks for r in runs})
    seeds = {id(r): cell for cell in cellmod.group(runs) for r in cell.runs}
    drawn = set()
    for run, label in zip(runs, runlog.legend_labels(runs)):
        cell = seeds[id(run)]
        if id(cell) in drawn:
            continue
        drawn.add(id(cell))
        c = style.color(run)
        marker = MARKERS[ps.index(run.ranks) % len(MARKERS)]
        if cell.n > 1:
            seed_lines(axes, cell, c, marker, f"{label} (n={cell.n} seeds)")
            continue
        for ax, x in zip(axes, (run.eval["epoch"], run.eval["wall_s"])):
            ax.plot(x, 100 * run.eval["rank0/top1"], color=c, marker=marker, ms=3.5, label=label)
            ax.plot(x, 100 * run.eval["averaged/top1"], color=c, ls="--", lw=1)
            lo, hi = run.eval["replica_min/top1"], run.eval["replica_max/top1"]
            if len(lo) == len(x) and (hi - lo).max(initial=0) > 0:
                ax.fill_between(x, 100 * lo, 100 * hi, color=c, alpha=0.12, lw=0)
    axes[0].set_xlabel("epoch")
    axes[1].set_xlabel("wall time (s)")
    axes[0].set_ylabel("test top-1 accuracy (%)")
    axes[0].set_title("accuracy vs epoch")
    axes[1].set_title("accuracy vs wall time")
    if runs:
        handles, labels = axes[0].get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", label="worker 0 replica"),
                    Line2D([], [], color="0.3", ls="--", lw=1, label="averaged model"),
                    plt.Rectangle((0, 0), 1, 1, color="0.3", alpha=0.12, label="replica min..max")]
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        cfg = runs[0].config
        model = cfg.get("model") if isinstance(cfg.get("model"), str) else "custom model"
        fig.suptitle(f"{cfg.get('data', {}).get('name', '?')}, {model}", fontsize=10)
    else:
        style.note(axes[0], "no evaluations recorded")
    return style.save(fig, out, f"{prefix}accuracy")


def seed_lines(axes, cell, color, marker, label):
    """A cell's mean curves over its seeds (worker 0 solid, averaged dashed), min..max of the seeds shaded."""
    e = min(len(r.eval["epoch"]) for r in cell.runs)
    for ax, key in zip(axes, ("epoch", "wall_s")):
        x = np.mean([r.eval[key][:e] for r in cell.runs], axis=0)
        for group, ls in (("rank0", "-"), ("averaged", "--")):
            y = 100 * np.array([r.eval[f"{group}/top1"][:e] for r in cell.runs])
            ax.plot(x, y.mean(axis=0), color=color, ls=ls, lw=1 if ls == "--" else 1.5,
                    marker=marker if ls == "-" else None, ms=3.5, label=label if ls == "-" else None)
            ax.fill_between(x, y.min(axis=0), y.max(axis=0), color=color, alpha=0.12, lw=0)


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_accuracy", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
