"""Compute efficiency = compute / step time (compute + communication calls + charged host work) vs ranks p, for weak scaling
(batch per worker fixed) and strong scaling (global batch fixed), one line per algorithm.

  /usr/bin/python3 plots/plot_efficiency.py results/scaling_real --out results/figures
  /usr/bin/python3 -m ggbench.figures.efficiency results/scaling_real --out results/figures

Runs of one algorithm that share a global batch (batch x workers) with several per-worker batches
form a strong-scaling series; runs sharing a per-worker batch form a weak-scaling series (a run can
be a point of both; a weak series made only of strong-scaling runs is left out)."""
import sys


from .. import cells as cellmod
from .. import runlog, stats, style
from .scaling import series_name
from ..style import plt


def efficiency(run):
    """compute / step time (Cost.efficiency: steps after warm-up, charged host work included)."""
    return run.cost().efficiency


def series(runs):
    """{'weak'|'strong': {(series, batch text): [(p, efficiency)]}}; a series is a label, with the
    platform when the runs span several."""
    by_series = {}
    with_platform = runlog.several_platforms(runs)
    several = (len({cellmod.regime_of(r) for r in runs}) > 1, len({cellmod.partition_of(r) for r in runs}) > 1)
    for run in runs:
        e = efficiency(run)
        if e == e:
            by_series.setdefault(series_name(run, with_platform, several), []).append((run, e))
    out = {"weak": {}, "strong": {}}
    for label, items in by_series.items():
        by_global, strong = {}, set()
        for r, e in items:
            by_global.setdefault(r.batch * r.workers, []).append((r, e))
        for g, group in by_global.items():
            if len({r.batch for r, _ in group}) > 1:
                out["strong"][(label, f"global batch {g}")] = points(group)
                strong.update(id(r) for r, _ in group)
        by_batch = {}
        for r, e in items:
            by_batch.setdefault(r.batch, []).append((r, e))
        for b, group in by_batch.items():
            if not all(id(r) in strong for r, _ in group):  # a run may be a point of both kinds
                out["weak"][(label, f"batch {b}/worker")] = points(group)
    return out


def points(items):
    """[(p, mean efficiency, half-width of its 95% interval or 0 for one run)] sorted by p."""
    by_p = {}
    for r, e in items:
        by_p.setdefault(r.ranks, []).append(e)
    out = []
    for p, v in sorted(by_p.items()):
        s = stats.describe(v)
        out.append((p, s.mean, s.half if s.has_interval else 0.0))
    return out


def plot(runs, out, prefix):
    style.setup()
    data = series(runs)
    with_platform = runlog.several_platforms(runs)
    several = (len({cellmod.regime_of(r) for r in runs}) > 1, len({cellmod.partition_of(r) for r in runs}) > 1)
    reps = {}  # series -> a run of it: order and colour
    for r in sorted(runs, key=lambda r: (runlog.sort_key(r), r.platform)):
        reps.setdefault(series_name(r, with_platform, several), r)
    order = {label: i for i, label in enumerate(reps)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    titles = {"weak": "weak scaling (batch per worker fixed)", "strong": "strong scaling (global batch fixed)"}
    ps = sorted({pt[0] for d in data.values() for pts in d.values() for pt in pts})
    for ax, kind in zip(axes, ("weak", "strong")):
        keys = sorted(data[kind], key=lambda k: (order[k[0]], k[1]))
        several = len({k[1] for k in keys}) > 1  # name the batch only when it differs between series
        for label, batch in keys:
            pts = data[kind][(label, batch)]
            ax.errorbar([p for p, _, _ in pts], [100 * e for _, e, _ in pts], yerr=[100 * h for _, _, h in pts],
                        marker="o", capsize=3, color=style.color(reps[label]),
                        label=f"{label}, {batch}" if several else label)
        ax.set_xscale("log", base=2)
        if ps:
            ax.set_xticks(ps, [str(p) for p in ps])
            ax.minorticks_off()
        ax.set_xlabel("ranks p")
        ax.set_title(titles[kind])
        ax.set_ylim(0, 105)
        if data[kind]:
            ax.legend(loc="lower left")
        else:
            style.note(ax, f"no {kind}-scaling runs in the inputs")
    axes[0].set_ylabel("compute efficiency (% of step time)")
    return style.save(fig, out, f"{prefix}efficiency")


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    plot(runlog.load_or_exit(args.inputs, "plot_efficiency", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
