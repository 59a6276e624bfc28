"""Studies run on several platforms, one panel per platform: (1) compute efficiency vs p, one line per
algorithm (label) in the algorithm's colour; (2) at each platform's largest p, the communication per
step of every algorithm as two bars, total (in flight, hidden or not; light) and exposed (the step
waited; dark), on a log axis, with "hidden" written where nothing was waited. Runs of one label, platform
and p (seeds) are averaged (runlog.mean_cost). A platform's runs without a measured total (schema-1
logs) get no total bar, and a note says so.

  /usr/bin/python3 plots/plot_platforms.py results/reference/smpi_cost --out results/figures
  /usr/bin/python3 -m ggbench.figures.platforms results/reference/smpi_cost --out results/figures"""
import math
import sys

from .. import runlog, style
from ..style import plt


def collect(runs):
    """{platform: {label: {p: Cost}}} (platforms and labels in first-seen order of the sorted runs) and
    {label: colour}. Real runs are the platform runlog.REAL."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks))
    acc, colors = {}, {}
    for run in runs:
        cost = run.cost()
        if cost.steps == 0:
            continue
        colors.setdefault(run.label, style.color(run))
        where = acc.setdefault(run.platform, {}).setdefault(run.label, {})
        where.setdefault(run.ranks, []).append(cost)
    data = {pl: {lab: {p: runlog.mean_cost(c) for p, c in byp.items()} for lab, byp in labs.items()}
            for pl, labs in acc.items()}
    return data, colors


def panels(n, width, height):
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def draw_efficiency(data, colors):
    fig, axes = panels(len(data), 4.2, 3.4)
    for ax, (platform, labels) in zip(axes, data.items()):
        ps = sorted({p for byp in labels.values() for p in byp})
        for lab, byp in labels.items():
            x = sorted(byp)
            ax.plot(x, [100 * byp[p].efficiency for p in x], marker="o", ms=4, color=colors[lab], label=lab)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ps, [str(p) for p in ps])
        ax.minorticks_off()
        ax.set_ylim(0, 102)
        ax.set_title(platform, fontsize=10)
        ax.set_xlabel("ranks p")
        ax.set_ylabel("compute efficiency (%)")
    handles = {lab: h for ax in axes for h, lab in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle("compute / step time vs p, per platform")
    return fig


def draw_comm(data, colors):
    fig, axes = panels(len(data), 4.6, 0.8 + 0.28 * max(len(v) for v in data.values()))
    untimed = False
    for ax, (platform, labels) in zip(axes, data.items()):
        top = max(p for byp in labels.values() for p in byp)
        here = [lab for lab, byp in labels.items() if top in byp]
        y = range(len(here))
        tot = [style.total_ms(labels[lab][top]) for lab in here]
        exp = [1e3 * labels[lab][top].exposed_s for lab in here]
        floor = 1e-2  # ms: log axis; a hidden exchange is drawn at the floor and labelled
        for i, lab in enumerate(here):
            c = colors[lab]
            if tot[i] is not None:
                ax.barh(i - 0.2, max(tot[i], floor), 0.4, color=c, alpha=0.35)
            else:
                untimed = True
            ax.barh(i + 0.2, max(exp[i], floor), 0.4, color=c)
            if exp[i] == 0:
                ax.text(floor * 1.3, i + 0.2, "hidden", va="center", fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(left=floor)  # one origin for every panel, so bar lengths compare
        ax.set_yticks(list(y), here, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("ms per step")
        ax.set_title(f"{platform}, p={top}", fontsize=10)
    fig.suptitle("communication per step at the largest p: total (light, in flight) and exposed (dark, waited)")
    if untimed:
        style.note_below(axes[0], "no light bar: total not measured (schema-1 log)")
    return fig


def plot(runs, out, prefix):
    style.setup()
    data, colors = collect(runs)
    if not data:
        fig, ax = plt.subplots(figsize=(5, 3))
        style.note(ax, "no step records")
        return style.save(fig, out, f"{prefix}platforms_efficiency")
    return style.save(draw_efficiency(data, colors), out, f"{prefix}platforms_efficiency") + \
        style.save(draw_comm(data, colors), out, f"{prefix}platforms_comm")


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_platforms", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
