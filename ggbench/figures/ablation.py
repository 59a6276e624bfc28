"""Ablation of GossipGraD's ingredients (partner rotation, sample shuffle, async communication):
final test top-1 of each variant (worker 0 and averaged model) and its mean time per step split
into compute, communication calls, exposed communication and charged host work (ggbench/figures/
breakdown.py's look), with a diamond at the total exchange time (in flight, hidden or not; none where
the log did not measure it), one colour per variant.

  /usr/bin/python3 plots/plot_ablation.py results/ablation --out results/figures
  /usr/bin/python3 -m ggbench.figures.ablation results/ablation --out results/figures"""
import sys

import numpy as np

from .. import runlog, style
from ..style import plt
from .breakdown import LOOK


def plot(runs, out, prefix):
    style.setup()
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks))
    names = runlog.legend_labels(runs)
    y = np.arange(len(runs))
    untimed = False
    fig, (acc, tim) = plt.subplots(1, 2, figsize=(11, 0.5 * len(runs) + 2.2), sharey=True)
    for i, run in enumerate(runs):
        c = style.color(run)
        acc.barh(i + 0.2, 100 * run.final("top1", "rank0"), 0.4, color=c)
        acc.barh(i - 0.2, 100 * run.final("top1", "averaged"), 0.4, color=c, alpha=0.45, hatch="//", edgecolor=c)
        untimed |= not time_bar(tim, i, run.cost(), c)
    acc.set_yticks(y, names)
    acc.invert_yaxis()
    acc.set_xlabel("final test top-1 accuracy (%)")
    acc.set_title("final accuracy\n(solid: worker 0, hatched: averaged model)", fontsize=9)
    finals = [100 * run.final("top1", g) for run in runs for g in ("rank0", "averaged")]
    finals = [f for f in finals if f == f]
    if finals:
        acc.set_xlim(max(0.0, min(finals) - 5), min(100.0, max(finals) + 2))
    tim.set_xlabel("time per step (ms)")
    tim.set_title("time per step (solid: compute, hatched: comm calls, light: exposed,\n"
                  "crossed: host work; diamond: comm total, in flight, hidden or not)", fontsize=8)
    if untimed:
        style.note_below(tim, style.NO_TOTAL)
    return style.save(fig, out, f"{prefix}ablation")


def time_bar(ax, y, cost, color):
    """A horizontal stacked bar of the step's parts and the total-time diamond; returns whether the
    total was measured."""
    left = 0.0
    for phase, value in style.phases(cost).items():
        alpha, hatch = LOOK[phase]
        ax.barh(y, value, 0.6, left=left, color=color, alpha=alpha, hatch=hatch, edgecolor=color)
        left += value
    total = style.total_ms(cost)
    if total is not None:
        ax.plot([total], [y], **style.TOTAL)
    return total is not None


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_ablation", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
