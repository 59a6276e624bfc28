"""Mean time per training step split into compute, communication calls (not waiting), exposed
communication (the step waited) and charged host work, vs the number of ranks p: stacked bars grouped
by p, one bar per algorithm in the algorithm's colour (solid = compute, hatched = calls, light =
exposed, crossed = host work), and beside each bar a diamond at the total exchange time (in flight,
hidden or not), so a hidden exchange still shows what it took. Runs whose log did not measure the
total (schema 1) have no diamond, and a note says so.

  /usr/bin/python3 plots/plot_breakdown.py results/scaling_real --out results/figures
  /usr/bin/python3 -m ggbench.figures.breakdown results/scaling_real --out results/figures"""
import sys

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import runlog, style
from ..style import plt

LOOK = {"compute": (1.0, None), "calls": (0.55, "//"), "exposed": (0.25, ".."), "mem": (0.4, "xx")}  # alpha, hatch


def breakdown(runs):
    """{series: {p: Cost}} in legend order (repeated runs averaged), and {series: colour}."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.platform, r.batch))
    acc, colors = {}, {}
    for run, series in zip(runs, runlog.legend_labels(runs, with_p=False)):
        cost = run.cost()
        if cost.steps == 0:  # no step records
            continue
        colors[series] = style.color(run)
        acc.setdefault(series, {}).setdefault(run.ranks, []).append(cost)
    return {s: {p: runlog.mean_cost(v) for p, v in byp.items()} for s, byp in acc.items()}, colors


def bar(ax, x, width, cost, color):
    """One stacked bar and its total-time diamond; returns whether the total was measured."""
    bottom = 0.0
    for phase, value in style.phases(cost).items():
        alpha, hatch = LOOK[phase]
        ax.bar(x, value, width * 0.95, bottom=bottom, color=color, alpha=alpha, hatch=hatch, edgecolor=color, lw=0.6)
        bottom += value
    total = style.total_ms(cost)
    if total is not None:
        ax.plot([x], [total], **style.TOTAL)
    return total is not None


def legend(ax, labels, colors, timed):
    algo = [Patch(color=colors[lab], label=lab) for lab in labels]
    phase = [Patch(facecolor="0.3", alpha=a, hatch=h, edgecolor="0.3", label=style.PHASE_LABELS[n])
             for n, (a, h) in LOOK.items()]
    total = [Line2D([], [], label=style.TOTAL_LABEL, **style.TOTAL)] if timed else []
    ax.legend(handles=algo + phase + total, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def plot(runs, out, prefix):
    style.setup()
    data, colors = breakdown(runs)
    labels = list(data)
    ps = sorted({p for d in data.values() for p in d})
    most = max((sum(p in data[lab] for lab in labels) for p in ps), default=1)
    fig, ax = plt.subplots(figsize=(min(16, 3 + 0.45 * most * len(ps)), 4.5))
    width = 0.8 / most
    timed = untimed = False
    for j, p in enumerate(ps):
        here = [lab for lab in labels if p in data[lab]]  # bars only for series measured at this p
        for i, lab in enumerate(here):
            measured = bar(ax, j + (i - (len(here) - 1) / 2) * width, width, data[lab][p], colors[lab])
            timed, untimed = timed or measured, untimed or not measured
    ax.set_xticks(range(len(ps)), [str(p) for p in ps])
    ax.set_xlabel("ranks p")
    ax.set_ylabel("time per step (ms)")
    ax.set_title("time per step: compute / communication calls / exposed / host work; total exchange time")
    if labels:
        legend(ax, labels, colors, timed)
        if untimed:
            style.note_below(ax, style.NO_TOTAL)
    else:
        style.note(ax, "no step records")
    return style.save(fig, out, f"{prefix}breakdown")


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_breakdown", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
