"""Scaling figures of SMPI (or real) studies: compute efficiency vs p, time-per-step breakdown vs p,
and communication time per step vs p, on a log2 x axis; prints the numbers as a table too.

  /usr/bin/python3 plots/plot_scaling.py results/smpi_resnet50_weak --out results/smpi_resnet50_weak/figures
  /usr/bin/python3 plots/plot_scaling.py results/smpi_resnet50_weak --table --ratio 16 1024
  /usr/bin/python3 -m ggbench.figures.scaling results/smpi_resnet50_weak --table

Per run: mean over steps (the first 2 left out: warm-up and the async pipelines filling) and over
workers of compute_s, comm_s, wait_s. Efficiency = compute / (compute + comm). p = all ranks."""
import argparse
import os
import sys
from collections import defaultdict

import numpy as np

from .. import registry, runlog, style

SKIP = 2


def per_step(run):
    """(compute, comm, wait) seconds per step, means over steps >= SKIP and over workers."""
    st = run.steps
    if "compute_s" not in st or st["compute_s"].shape[0] == 0:
        return (float("nan"),) * 3
    first = SKIP if st["compute_s"].shape[0] > SKIP else 0
    return tuple(float(np.mean(st[k][first:])) for k in ("compute_s", "comm_s", "wait_s"))


def collect(runs):
    """({label: sorted [(p, compute, comm, wait)]} in legend order, {label: colour})"""
    series = defaultdict(list)
    for r in runs:
        series[r.label].append((r.ranks,) + per_step(r))
    reps = runlog.by_label(runs)
    return {label: sorted(series[label]) for label in reps}, {label: style.color(r) for label, r in reps.items()}


def table(series, ratio=None):
    lines = [f"{'algorithm':<28}{'p':>6}{'compute ms':>12}{'comm ms':>10}{'wait ms':>10}{'step ms':>10}{'eff %':>8}"]
    for label, pts in series.items():
        for p, c, m, w in pts:
            lines.append(f"{label:<28}{p:>6}{c * 1e3:>12.2f}{m * 1e3:>10.4g}{w * 1e3:>10.4g}{(c + m) * 1e3:>10.2f}"
                         f"{100 * c / (c + m) if c + m > 0 else float('nan'):>8.1f}")
    if ratio:
        lo, hi = ratio
        lines.append(f"\ncommunication time per step, t(p={hi}) / t(p={lo}):")
        for label, pts in series.items():
            comm = {p: m for p, _, m, _ in pts}
            if lo not in comm or hi not in comm:
                continue
            r = f"{comm[hi] / comm[lo]:6.2f}" if comm[lo] > 0 else ("  (0 at both: fully overlapped)"
                                                                    if comm[hi] == 0 else "   inf")
            lines.append(f"  {label:<28} {comm[hi] * 1e3:9.4g} ms / {comm[lo] * 1e3:9.4g} ms = {r}")
    return "\n".join(lines)


MARKERS = "osD^vP*X"


def p_axis(ax, series):
    """log2 x axis labelled with the rank counts that were run."""
    ps = sorted({x[0] for pts in series.values() for x in pts})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ps, [str(p) for p in ps], rotation=90 if len(ps) > 8 else 0)
    ax.minorticks_off()
    ax.set_xlabel("ranks p (one GPU each)")


def draw(series, colors, out, prefix, title):
    plt = style.plt
    style.setup()
    figs = []
    # Series that coincide (e.g. two fully overlapped exchanges at 0 ms) stay visible: each label gets
    # its own marker, drawn smaller the later it comes.
    mark = {label: dict(marker=MARKERS[i % len(MARKERS)], markersize=8 - 1.2 * (i % 4))
            for i, label in enumerate(series)}
    # 1. efficiency vs p
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for label, pts in series.items():
        p = [x[0] for x in pts]
        eff = [100 * c / (c + m) if c + m > 0 else np.nan for _, c, m, _ in pts]
        ax.plot(p, eff, "-", color=colors[label], label=label, **mark[label])
    p_axis(ax, series)
    ax.set_ylabel("compute efficiency (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"{title}: compute / step time")
    ax.legend()
    figs += style.save(fig, out, prefix + "scaling_efficiency")
    # 2. communication time per step vs p
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for label, pts in series.items():
        ax.plot([x[0] for x in pts], [1e3 * x[2] for x in pts], "-", color=colors[label], label=label,
                clip_on=False, **mark[label])
    p_axis(ax, series)
    ax.set_yscale("symlog", linthresh=1e-2)  # linear below 10 us, so a fully hidden exchange (0) shows
    ax.set_ylim(bottom=0)
    ax.set_ylabel("communication time per step (ms)")
    ax.set_title(f"{title}: communication per step")
    ax.legend()
    figs += style.save(fig, out, prefix + "scaling_comm")
    # 3. breakdown: one panel per algorithm, stacked compute / comm (not waiting) / wait
    n = len(series)
    fig, axes = plt.subplots(1, max(1, n), figsize=(3.2 * max(1, n), 3.4), sharey=True, squeeze=False)
    for ax, (label, pts) in zip(axes[0], series.items()):
        x = np.arange(len(pts))
        c = np.array([1e3 * v[1] for v in pts])
        w = np.array([1e3 * v[3] for v in pts])
        m = np.array([1e3 * v[2] for v in pts]) - w
        ax.bar(x, c, color=style.PHASE_COLORS["compute"], label="compute")
        ax.bar(x, m, bottom=c, color=style.PHASE_COLORS["comm"], label="comm (not waiting)")
        ax.bar(x, w, bottom=c + m, color=style.PHASE_COLORS["wait"], label="wait")
        ax.set_xticks(x, [str(v[0]) for v in pts], rotation=90)
        ax.set_xlabel("ranks p")
        ax.set_title(label, color=colors[label])
    axes[0][0].set_ylabel("time per step (ms)")
    axes[0][0].legend()
    figs += style.save(fig, out, prefix + "scaling_breakdown")
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
    ap.add_argument("--ratio", nargs=2, type=int, metavar=("P_LO", "P_HI"), help="print comm t(P_HI)/t(P_LO)")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    runs = [r for r in runlog.load_or_exit(args.inputs, "plot_scaling", args.build_dir) if r.finished]
    if not runs:
        runlog.fail("plot_scaling", "no finished runs")
    series, colors = collect(runs)
    print(table(series, args.ratio))
    if args.table:
        return 0
    first = os.path.normpath(args.inputs[0])
    out = args.out or os.path.join(first if os.path.isdir(first) else os.path.dirname(first), "figures")
    prefix = args.prefix if args.prefix is not None else (os.path.basename(first) + "_" if os.path.isdir(first) else "")
    draw(series, colors, out, prefix, args.title or os.path.basename(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
