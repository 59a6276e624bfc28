"""Mean time per training step split into compute, communication (not waiting) and waiting, vs the
number of ranks p: stacked bars grouped by p, one bar per algorithm in the algorithm's colour
(solid = compute, hatched = communication, light = waiting).

  /usr/bin/python3 plots/plot_breakdown.py results/scaling_real --out results/figures
  /usr/bin/python3 -m ggbench.figures.breakdown results/scaling_real --out results/figures"""
import sys

import numpy as np
from matplotlib.patches import Patch

from .. import runlog, style
from ..style import plt


def breakdown(runs):
    """{series: {p: (compute, comm_only, wait) ms}} in legend order, and {series: colour}; repeated runs
    are averaged."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.batch))
    acc, colors = {}, {}
    for run, series in zip(runs, runlog.legend_labels(runs, with_p=False)):
        compute, comm, wait = run.mean_step_ms()
        if compute != compute:  # no step records
            continue
        colors[series] = style.color(run)
        acc.setdefault(series, {}).setdefault(run.ranks, []).append((compute, max(0.0, comm - wait), wait))
    return {s: {p: tuple(np.mean(v, axis=0)) for p, v in byp.items()} for s, byp in acc.items()}, colors


def plot(runs, out, prefix):
    style.setup()
    data, colors = breakdown(runs)
    labels = list(data)
    ps = sorted({p for d in data.values() for p in d})
    most = max((sum(p in data[lab] for lab in labels) for p in ps), default=1)
    fig, ax = plt.subplots(figsize=(min(16, 3 + 0.45 * most * len(ps)), 4.5))
    width = 0.8 / most
    for j, p in enumerate(ps):
        here = [lab for lab in labels if p in data[lab]]  # bars only for series measured at this p
        for i, lab in enumerate(here):
            c = colors[lab]
            x = j + (i - (len(here) - 1) / 2) * width
            bottom = 0.0
            for value, alpha, hatch in zip(data[lab][p], (1.0, 0.55, 0.25), (None, "//", "..")):
                ax.bar(x, value, width * 0.95, bottom=bottom, color=c, alpha=alpha, hatch=hatch,
                       edgecolor=c, lw=0.6)
                bottom += value
    ax.set_xticks(range(len(ps)), [str(p) for p in ps])
    ax.set_xlabel("ranks p")
    ax.set_ylabel("time per step (ms)")
    ax.set_title("time per step: compute / communication / waiting")
    if labels:
        algo = [Patch(color=colors[lab], label=lab) for lab in labels]
        phase = [Patch(facecolor="0.3", alpha=a, hatch=h, edgecolor="0.3", label=n)
                 for n, a, h in (("compute", 1.0, None), ("communication", 0.55, "//"), ("waiting", 0.25, ".."))]
        ax.legend(handles=algo + phase, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    else:
        style.note(ax, "no step records")
    return style.save(fig, out, f"{prefix}breakdown")


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_breakdown", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
