"""Consensus distance mean_i ||x_i - xbar|| / ||xbar|| between worker replicas vs training step
(log scale), one line per run. Allreduce keeps replicas identical (distance 0), which a log axis
cannot show: such runs are listed in a note instead.

  /usr/bin/python3 plots/plot_consensus.py results/quick --out results/figures
  /usr/bin/python3 -m ggbench.figures.consensus results/quick --out results/figures"""
import sys

import numpy as np

from .. import runlog, style
from ..style import plt


def plot(runs, out, prefix):
    style.setup()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    zero, drawn = [], 0
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks))
    for run, label in zip(runs, runlog.legend_labels(runs)):
        step, dist = run.eval["step"], np.asarray(run.eval["consensus"], dtype=float)
        if not len(dist):
            continue
        if not np.any(dist > 0):
            zero.append(label)
            continue
        ax.plot(step, np.where(dist > 0, dist, np.nan), marker="o", ms=3, color=style.color(run), label=label)
        drawn += 1
    ax.set_xlabel("training step")
    ax.set_ylabel("consensus distance (relative, log scale)")
    ax.set_title("distance between worker replicas")
    if drawn:
        ax.set_yscale("log")
        ax.legend(loc="best")
    if zero:
        ax.text(0.01, 0.01, "identical replicas (distance 0): " + "; ".join(dict.fromkeys(zero)), transform=ax.transAxes,
                fontsize=8, color="0.35", va="bottom")
    elif not drawn:
        style.note(ax, "no evaluations recorded")
    return style.save(fig, out, f"{prefix}consensus")


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_consensus", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
