"""Scaling figures of SMPI (or real) studies: compute efficiency vs p, communication per step vs p
(total and exposed), and the time-per-step breakdown vs p, on a log2 x axis; prints the numbers as a
table too, and with --ratio the growth t(P_HI)/t(P_LO) of the total and of the exposed time.

  /usr/bin/python3 plots/plot_scaling.py results/smpi_resnet50_weak --out results/smpi_resnet50_weak/figures
  /usr/bin/python3 plots/plot_scaling.py results/smpi_resnet50_weak --table --ratio 16 1024
  /usr/bin/python3 -m ggbench.figures.scaling results/smpi_resnet50_weak --table

Per run: its Cost (ggbench/runlog.py): means over the steps after warm-up (the first
runlog.WARMUP_STEPS left out: allocation, the async pipelines filling) and over workers. Total = time
with an exchange in flight, hidden or not; exposed = time the step waited; calls = time inside
communication calls; mem = charged host work. Efficiency = compute / step time. p = all ranks. Runs of
several platforms are separate series ('label @ platform'), and so are runs of several scaling regimes
or data partitions ('label [fixed_worker_batch]', ggbench/cells.py): they are never one line.
Runs of one series at one p (seeds) are one point: the mean Cost, with n, and step time and efficiency
as mean ± 95% t interval (ggbench/stats.py) in the table and as error bars in the efficiency figure."""
import argparse
import os
import sys
from collections import defaultdict

import numpy as np
from matplotlib.lines import Line2D

from .. import cells as cellmod
from .. import registry, runlog, stats, style, summary


class Point:
    """The runs of one series at one p: their mean Cost (its fields read through) and the spread."""

    def __init__(self, costs):
        self.costs = costs
        self.mean = runlog.mean_cost(costs)

    def __getattr__(self, name):
        return getattr(self.mean, name)

    @property
    def n(self):
        return len(self.costs)

    def stat(self, value):
        return stats.describe([value(c) for c in self.costs])


def series_name(run, with_platform, several):
    """The run's series: its label (and platform), and its regime / partition where runs differ in them."""
    extra = [f(run) for f, on in ((cellmod.regime_of, several[0]), (cellmod.partition_of, several[1])) if on]
    return runlog.series_label(run, with_platform) + (f" [{', '.join(extra)}]" if extra else "")


def collect(runs):
    """({series: sorted [(p, Point)]} in legend order, {series: colour}); a series is a label, with the
    platform when the runs span several, and the regime / partition when they span several; a Point
    is one cell (runs that differ only in seed, ggbench/cells.py)."""
    with_platform = runlog.several_platforms(runs)
    several = (len({cellmod.regime_of(r) for r in runs}) > 1, len({cellmod.partition_of(r) for r in runs}) > 1)
    series, reps = defaultdict(list), {}
    for cell in sorted(cellmod.group(runs), key=lambda c: (runlog.sort_key(c.first), c.first.platform, c.regime,
                                                           c.partition, c.first.ranks)):
        name = series_name(cell.first, with_platform, several)
        series[name].append((cell.first.ranks, Point([r.cost() for r in cell.runs])))
        reps.setdefault(name, cell.first)
    return ({name: sorted(series[name], key=lambda x: x[0]) for name in reps},
            {name: style.color(r) for name, r in reps.items()})


def spread(value, scale, fmt):
    """Table text of a Point: the mean, with ± its 95% interval when it holds several runs."""
    def text(c):
        if getattr(c, "n", 1) < 2:
            return summary.num(scale * value(c), fmt)
        s = c.stat(value)
        return f"{summary.num(scale * s.mean, fmt)} ± {summary.num(scale * s.half, fmt)}"
    return text


# Columns of the table: (header, text of a Cost, shown only when some Cost has it (None: always)).
COLUMNS = (
    ("compute ms", lambda c: summary.ms(c.compute_s), None),
    ("calls ms", lambda c: summary.ms(c.comm_s), None),
    ("comm total ms", lambda c: summary.ms(c.total_s), None),
    ("comm exposed ms", summary.exposed, None),
    ("mem ms", lambda c: summary.ms(c.mem_s), lambda c: c.mem_s > 0),
    ("staging ms", lambda c: summary.ms(c.staging_s), lambda c: c.staging_s > 0),
    ("n", lambda c: str(getattr(c, "n", 1)), lambda c: getattr(c, "n", 1) > 1),
    ("step ms", spread(lambda c: c.step_s, 1e3, ".3g"), None),
    ("eff %", spread(lambda c: c.efficiency, 100, ".1f"), None),
    ("MB sent", lambda c: summary.mb(c.bytes_sent), None),
    ("MB recv", lambda c: summary.mb(c.bytes_recv), None),
    ("staleness", lambda c: summary.num(c.staleness, ".2g"), lambda c: c.staleness == c.staleness),
)


def table(series, ratio=None, runs=()):
    """The numbers of the figures as text; with ratio=(lo, hi) the growth of total and exposed time
    per series; `runs` adds the notes on what was not measured."""
    costs = [c for pts in series.values() for _, c in pts]
    cols = [col for col in COLUMNS if col[2] is None or any(col[2](c) for c in costs)]
    rows = [["algorithm", "p"] + [h for h, _, _ in cols]]
    rows += [[name, str(p)] + [text(c) for _, text, _ in cols] for name, pts in series.items() for p, c in pts]
    lines = summary.align(rows, 1)
    if ratio:
        lines += [""] + ratio_lines(series, *ratio)
    return "\n".join(lines + summary.notes(list(runs), costs))


def ratio_lines(series, lo, hi):
    """t(p=hi) / t(p=lo) of the total and of the exposed time, per series measured at both p."""
    lines = [f"communication per step, t(p={hi}) / t(p={lo}):"]
    width = max((len(name) for name in series), default=0)
    for name, pts in series.items():
        at = dict(pts)
        if lo in at and hi in at:
            lines.append(f"  {name:<{width}}  {summary.growth(at[lo], at[hi], 'total_s')};  "
                         f"{summary.growth(at[lo], at[hi], 'exposed_s')};  "
                         f"MB sent {summary.mb(at[hi].bytes_sent)} / {summary.mb(at[lo].bytes_sent)}")
    return lines


MARKERS = "osD^vP*X"


def p_axis(ax, series):
    """log2 x axis labelled with the rank counts that were run."""
    ps = sorted({x[0] for pts in series.values() for x in pts})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ps, [str(p) for p in ps], rotation=90 if len(ps) > 8 else 0)
    ax.minorticks_off()
    ax.set_xlabel("ranks p (one GPU each)")


def markers(series):
    """Series that coincide stay visible: each gets its own marker, drawn smaller the later it comes."""
    return {name: dict(marker=MARKERS[i % len(MARKERS)], markersize=8 - 1.2 * (i % 4))
            for i, name in enumerate(series)}


def draw_efficiency(series, colors, title):
    fig, ax = style.plt.subplots(figsize=(5.2, 3.6))
    mark = markers(series)
    for name, pts in series.items():
        half = [100 * c.stat(lambda k: k.efficiency).half if getattr(c, "n", 1) > 1 else 0 for _, c in pts]
        ax.errorbar([p for p, _ in pts], [100 * c.efficiency for _, c in pts], yerr=half, fmt="-", capsize=3,
                    color=colors[name], label=name, **mark[name])
    p_axis(ax, series)
    ax.set_ylabel("compute efficiency (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"{title}: compute / step time")
    ax.legend()
    return fig


def draw_comm(series, colors, title):
    """Total (solid) and exposed (dashed) communication time per step vs p, one colour per series."""
    fig, ax = style.plt.subplots(figsize=(5.8, 3.9))
    mark = markers(series)
    untimed = []
    for name, pts in series.items():
        p = [x for x, _ in pts]
        total = [1e3 * c.total_s for _, c in pts]
        if all(t != t for t in total):
            untimed.append(name)
        else:
            ax.plot(p, total, "-", color=colors[name], label=name, clip_on=False, **mark[name])
        ax.plot(p, [1e3 * c.exposed_s for _, c in pts], "--", color=colors[name], clip_on=False,
                label=None if name not in untimed else name, markerfacecolor="none", **mark[name])
    p_axis(ax, series)
    ax.set_yscale("symlog", linthresh=1e-2)  # linear below 10 us, so an exposed time of 0 shows
    ax.set_ylim(bottom=0)
    ax.set_ylabel("communication per step (ms)")
    ax.set_title(f"{title}: communication per step")
    kinds = [Line2D([], [], color="0.3", ls="-", label="total (in flight, hidden or not)"),
             Line2D([], [], color="0.3", ls="--", label="exposed (step waited)")]
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + kinds, fontsize=7)
    if untimed:
        style.note_below(ax, "total not measured (schema-1 logs): " + "; ".join(untimed))
    return fig


def stack(ax, x, costs, width=0.8):
    """Stacked step parts (style.PHASES) of each Cost at positions x, its total exchange time as a
    diamond beside them; returns whether some total was not measured."""
    bottom = np.zeros(len(costs))
    for phase in style.PHASES:
        h = np.array([style.phases(c)[phase] for c in costs])
        ax.bar(x, h, width, bottom=bottom, color=style.PHASE_COLORS[phase], label=style.PHASE_LABELS[phase])
        bottom += h
    totals = [(xi, style.total_ms(c)) for xi, c in zip(x, costs) if style.total_ms(c) is not None]
    if totals:
        ax.plot(*zip(*totals), label=style.TOTAL_LABEL, **style.TOTAL)
    return len(totals) < len(costs)


def draw_breakdown(series, colors, title):
    """One panel per series: stacked compute / calls / exposed / host work per p, total as a diamond."""
    n = max(1, len(series))
    fig, axes = style.plt.subplots(1, n, figsize=(3.2 * n, 3.6), sharey=True, squeeze=False)
    untimed = False
    for ax, (name, pts) in zip(axes[0], series.items()):
        x = np.arange(len(pts))
        untimed |= stack(ax, x, [c for _, c in pts])
        ax.set_xticks(x, [str(p) for p, _ in pts], rotation=90)
        ax.set_xlabel("ranks p")
        ax.set_title(name.replace(" @ ", "\n@ "), color=colors[name], fontsize=9)
    axes[0][0].set_ylabel("time per step (ms)")
    axes[0][0].legend(fontsize=7)
    if untimed:
        style.note_below(axes[0][0], style.NO_TOTAL)
    fig.suptitle(f"{title}: time per step", fontsize=10)
    return fig


def draw(series, colors, out, prefix, title):
    style.setup()
    figs = []
    for stem, make in (("scaling_efficiency", draw_efficiency), ("scaling_comm", draw_comm),
                       ("scaling_breakdown", draw_breakdown)):
        figs += style.save(make(series, colors, title), out, prefix + stem)
    return figs


def plot(runs, out, prefix):
    """For the report (which passes finished runs only): the three scaling figures; returns the PNG paths."""
    series, colors = collect(runs)
    return [f for f in draw(series, colors, out, prefix, prefix.rstrip("_") or "scaling") if f.endswith(".png")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="results/<study> directories or run.h5 files")
    ap.add_argument("--out", default=None, help="figure directory (default: <first input>/figures)")
    ap.add_argument("--prefix", default=None)
    ap.add_argument("--title", default=None)
    ap.add_argument("--table", action="store_true", help="print the table only, draw nothing")
    ap.add_argument("--ratio", nargs=2, type=int, metavar=("P_LO", "P_HI"), help="print t(P_HI)/t(P_LO) of the total and of the exposed time")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    runs = [r for r in runlog.load_or_exit(args.inputs, "plot_scaling", args.build_dir) if r.finished]
    if not runs:
        runlog.fail("plot_scaling", "no finished runs")
    series, colors = collect(runs)
    print(table(series, args.ratio, runs))
    if args.table:
        return 0
    first = os.path.normpath(args.inputs[0])
    out = args.out or os.path.join(first if os.path.isdir(first) else os.path.dirname(first), "figures")
    prefix = args.prefix if args.prefix is not None else (os.path.basename(first) + "_" if os.path.isdir(first) else "")
    draw(series, colors, out, prefix, args.title or os.path.basename(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
