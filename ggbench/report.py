"""Regenerates paper/REPORT.md (and its figures under paper/figures/) from the run logs in results/:
each claim of the GossipGraD paper (Daily et al., 2018, arXiv 1803.05880) next to what this project
measured, or "not yet measured" and why.

  /usr/bin/python3 paper/make_report.py [--results results] [--out paper] [--build-dir build/release]
  /usr/bin/python3 -m ggbench.report --results results --out /tmp/report

The claims name the algorithms and options the paper is about (gossipgrad and its rotation, shuffle and
timing, against allreduce SGD); their defaults, the order of tables and the colours come from the
registry (ggbench/registry.py) or the logs' own algorithm specs.

Communication is always shown as its total time (an exchange in flight, hidden or not) next to its
exposed time (the step waited) and the bytes per step (ggbench/summary.py's wording): a claim about
communication cost is judged on the total, a hidden exchange reads 'hidden (total X ms)', and a log
that did not measure the total (schema 1) says so instead of showing 0 ms. Runs are keyed by platform
as well as label (studies run on several platforms share run names), and bytes are in true units.
Studies with repeated seeds, or with allreduce next to other algorithms, get a section over seeds
(ggbench/report_stats.py): mean ± 95% intervals, each algorithm's gap to allreduce in the same setting
with its Welch interval in words, and time to accuracy (figure: time_to_accuracy)."""
import argparse
import json
import math
import os
import sys

import numpy as np

from . import cells as cellmod
from . import registry, report_stats, runlog, summary
from .figures import ablation, accuracy, breakdown, consensus, efficiency, platforms, scaling, time_to_accuracy

PAPER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "paper")
FIGURES = {  # study -> figure modules drawn for it
    "quick": (accuracy, consensus, breakdown),
    "p16_accuracy": (accuracy, consensus),
    "scaling_real": (breakdown, efficiency),
    "scaling_strong": (breakdown, efficiency),
    "ablation": (ablation, accuracy, consensus),
    "smpi_resnet50_weak": (scaling,),
    "smpi_resnet50_strong": (scaling,),
    "smpi_platforms_knl": (scaling,),
    "smpi_decentralized": (breakdown,),
    "smpi_cost": (platforms,),
    "smpi_cost_lenet": (platforms,),
}
SMPI_WEAK = "smpi_resnet50_weak"  # proxy ResNet-50 on the simulated P100 cluster (paper/SMPI.md)
# The node cost model's studies (paper/SMPI.md, "Communication cost under the node cost model"): every
# algorithm and control on every platform, bandwidth-bound (ResNet-50) and latency-bound (lenet).
SMPI_COST = ("smpi_cost", "smpi_cost_lenet")
REGIME = {"smpi_cost": "bandwidth-bound, ResNet-50", "smpi_cost_lenet": "latency-bound, lenet"}
NOT_YET = "not yet measured"
# The O(1) vs Θ(log p) claim: what the paper says of each algorithm's communication per step, and
# whether that means its total time grows with p.
CLAIMED = {"gossipgrad": ("O(1)", False), "allreduce": ("Θ(log p)", True)}
FLAT = 1.25  # t(p_hi)/t(p_lo) at most this: flat
P_LO = 16    # the smaller p of the growth ratio (the smallest p at or above it)


def load_studies(results, known=None, damaged=None):
    """{study: [finished Run]} for every results/<study>/ with run logs; also the unfinished count.
    `known`: the registry (or None), see ggbench/runlog.py. A log that cannot be read (damaged) is left
    out of its study, which keeps its other runs: each goes to `damaged` (a list, if given) as
    (path, message) and is named on stderr."""
    studies, unfinished = {}, 0
    if not os.path.isdir(results):
        return studies, unfinished
    for study in sorted(os.listdir(results)):
        d = os.path.join(results, study)
        if not os.path.isdir(d) or study == "figures":
            continue
        try:
            paths = runlog.find_logs([d])
        except runlog.RunLogError:
            continue  # no run logs: not a study
        runs = []
        for path in paths:
            try:
                runs.append(runlog.load(path, known))
            except runlog.RunLogError as e:
                print(f"make_report: warning: {e} (left out of study {study})", file=sys.stderr)
                if damaged is not None:
                    damaged.append((path, str(e)))
        unfinished += sum(not r.finished for r in runs)
        done = [r for r in runs if r.finished]
        if done:
            studies[study] = done
    return studies, unfinished


def pick(studies, prefer, want):
    """Runs satisfying want(run) from the first preferred study that has any, else from any study."""
    for name in list(prefer) + sorted(set(studies) - set(prefer)):
        runs = [r for r in studies.get(name, []) if want(r)]
        if runs:
            return name, runs
    return None, []


def pct(x):
    return f"{100 * x:.2f}%"


def simulated(runs):
    return any(r.simulated for r in runs)


def one_batch(runs):
    """The runs of the per-worker batch measured at the most p (one weak-scaling series); a series with
    one run per p (strong scaling) is kept whole."""
    if len({r.ranks for r in runs}) == len(runs):
        return runs
    batch = max({r.batch for r in runs}, key=lambda b: len({r.ranks for r in runs if r.batch == b}))
    return [r for r in runs if r.batch == batch]


def cost_series(runs):
    """{(platform, algorithm, label): {p: Cost}} in registry order: one series per platform and label
    (runs of several platforms may share run names and labels), repeated runs at a p averaged."""
    groups = {}
    for r in sorted(runs, key=lambda r: (runlog.sort_key(r), r.platform)):
        groups.setdefault((r.platform, r.algorithm, r.label), []).append(r)
    out = {}
    for key, group in groups.items():
        by_p = {}
        for r in one_batch(group):
            by_p.setdefault(r.ranks, []).append(r.cost())
        out[key] = {p: runlog.mean_cost(costs) for p, costs in sorted(by_p.items())}
    return out


def span(ps):
    """(lo, hi): the smallest p >= P_LO and the largest, or the smallest and largest p when fewer than
    two are >= P_LO; None with fewer than two p."""
    big = [p for p in ps if p >= P_LO]
    use = big if len(big) >= 2 else sorted(ps)
    return (min(use), max(use)) if len(use) >= 2 else None


def verdict(algorithm, lo, hi):
    """Whether the paper's claim about this algorithm (CLAIMED) holds between two Costs, judged on the
    total exchange time, in words."""
    claim, grows = CLAIMED[algorithm]
    if summary.missing(lo.total_s) or summary.missing(hi.total_s):
        why = "; an exposed 0 ms at both p is no evidence of overlap" if lo.exposed_s == hi.exposed_s == 0 else ""
        return f"{claim}: cannot be judged, total not measured (schema-1 logs){why}"
    if lo.total_s == 0:
        return f"{claim}: cannot be judged, nothing in flight at the smaller p"
    g = hi.total_s / lo.total_s
    flat = g <= FLAT
    if flat != grows:
        return f"{claim}: holds (total ×{g:.2f})"
    return f"{claim}: does not hold (total {'flat' if flat else 'grows'}, ×{g:.2f})"


def growth_line(algorithm, label, by_p, lo, hi):
    """One series of the O(1) vs Θ(log p) claim: growth of its total and exposed time from p=lo to hi,
    bytes, and for the algorithm's defaults (what the paper claims about) the verdict."""
    a, b = by_p[lo], by_p[hi]
    judged = [verdict(algorithm, a, b)] if label == algorithm else []
    return ". ".join([f"{label}, p={lo}→{hi} (log2 p ×{math.log2(hi) / math.log2(lo):.2f}): "
                      f"{summary.growth(a, b, 'total_s')}; {summary.growth(a, b, 'exposed_s')}; "
                      f"{summary.mb(b.bytes_sent)} MB sent/step"] + judged)


def comm_block(platform, series):
    """One platform's lines of the claim: a growth_line per label of the claim's algorithms, then the
    two algorithms side by side at the largest p."""
    lines, at_hi = [], {}
    for (plat, algorithm, label), by_p in series.items():
        if plat == platform and algorithm in CLAIMED and span(by_p) is not None:
            lo, hi = span(by_p)
            lines.append(growth_line(algorithm, label, by_p, lo, hi))
            if label == algorithm:
                at_hi[algorithm] = (hi, by_p[hi])
    if len(at_hi) == len(CLAIMED) and len({p for p, _ in at_hi.values()}) == 1:
        p = next(iter(at_hi.values()))[0]
        lines.append(f"at p={p}: " + " vs ".join(f"{a} {summary.comm(c)}" for a, (_, c) in at_hi.items()))
    return [f"**{platform}**: " + lines[0]] + lines[1:] if lines else []


def comm_lines(runs):
    series = cost_series(runs)
    return [line for platform in dict.fromkeys(key[0] for key in series) for line in comm_block(platform, series)]


def measured(runs):
    """Whether any run measured the total exchange time (schema 2 logs)."""
    return any(not summary.missing(r.cost().total_s) for r in runs)


def verdicts(studies, names):
    """{platform-and-study: [verdict of each CLAIMED algorithm's defaults]} for the short answer."""
    out = {}
    for name in names:
        series = cost_series(studies[name])
        for (plat, algorithm, label), by_p in series.items():
            if algorithm in CLAIMED and label == algorithm and span(by_p) is not None:
                lo, hi = span(by_p)
                v = verdict(algorithm, by_p[lo], by_p[hi])
                out.setdefault(f"{plat} ({REGIME.get(name, name)}, p={lo}→{hi})", []).append(v)
    return out


def claim_comm(studies):
    """O(1) communication per step for GossipGraD vs Θ(log p) for allreduce, judged on the total time:
    first a short answer per platform from the node cost model's studies, then each study's series
    (cost-model studies first); studies whose logs did not measure the total are named once, not used.
    Real MPI runs only where no simulated study has the two, with the caveat that they measure the
    scheduler."""
    order = [n for n in SMPI_COST if n in studies] + [SMPI_WEAK] + sorted(set(studies) - set(SMPI_COST) - {SMPI_WEAK})
    sim = [(name, comm_lines(studies[name])) for name in order if name in studies and simulated(studies[name])]
    sim = [(name, lines) for name, lines in sim if lines]
    how = (f"t(p_hi)/t(p_lo) of the total exchange time (/steps/total_s: in flight, hidden or not) and of the "
           f"exposed time (/steps/exposed_s: the step waited), means per worker and step over steps >= "
           f"{runlog.WARMUP_STEPS}; the smallest p >= {P_LO} and the largest; judged on the total: flat = "
           f"ratio <= {FLAT}; MB sent per worker and step in true units (payload scale undone)")
    if sim:
        used = [(n, lines) for n, lines in sim if measured(studies[n])]
        unused = [n for n, _ in sim if not measured(studies[n])]
        if not used:  # nothing better: the old logs' lines, each saying what it could not judge
            used, unused = sim, []
        short = verdicts(studies, [n for n, _ in used if n in SMPI_COST])
        head = ["**In short** (node cost model): " + "; ".join(f"{where}: {', '.join(v)}" for where, v in short.items())] \
            if short else []
        tail = [f"studies {', '.join(unused)}: total not measured (schema-1 logs, no cost model); not used"] if unused else []
        return "<br>".join(head + [f"study {name}: " + "<br>".join(lines) for name, lines in used] + tail), \
            "simulated cluster (paper/SMPI.md); " + how
    real = [(name, comm_lines(runs)) for name, runs in studies.items() if not simulated(runs)]
    real = [(name, lines) for name, lines in real if lines]
    if not real:
        return NOT_YET, "needs gossipgrad and allreduce runs at two or more p (an SMPI scaling study)"
    return "<br>".join(f"study {name}: " + "<br>".join(lines) for name, lines in real), \
        ("real MPI ranks on a shared 2-core machine: these times measure the scheduler, not communication; " + how)


def diffusion_steps(partner, start):
    """Steps from `start` until every worker holds (transitively) data of every other, following the
    logged send partners; None if the log ends first."""
    p = partner.shape[1]
    known = [1 << i for i in range(p)]
    full = (1 << p) - 1
    for k, row in enumerate(partner[start:]):
        nxt = list(known)
        for i, j in enumerate(row):
            if 0 <= j < p:
                nxt[j] |= known[i]
        known = nxt
        if all(x == full for x in known):
            return k + 1
    return None


def claim_diffusion(studies):
    _, runs = pick(studies, ["scaling_real", "quick", "p16_accuracy"],
                   lambda r: r.algorithm == "gossipgrad" and r.workers > 1 and "partner" in r.steps)
    if not runs:
        return NOT_YET, "needs a gossipgrad run log with /steps/partner"
    cells = []
    for r in sorted(runs, key=lambda r: r.workers)[:4]:
        L = math.ceil(math.log2(r.workers))
        starts = range(0, min(len(r.steps["partner"]), 8 * L))
        got = [diffusion_steps(r.steps["partner"], s) for s in starts]
        got = [g for g in got if g is not None]
        if got:
            cells.append(f"p={r.workers}: {min(got)}..{max(got)} steps (log2 p = {L})")
    if not cells:
        return NOT_YET, "the logged runs are too short to see a full diffusion"
    return "; ".join(dict.fromkeys(cells)), ("replayed from the logged partners (/steps/partner) from "
                                             "every start step; unit test Schedule.MixingReachesTheMeanAfterOneCycle "
                                             "checks the exact mean after one cycle")


def ablation_values(runs, key):
    """{value of key: run} of the gossipgrad runs that differ from the defaults in `key` at most, the
    default first, then in the order of the option's choices. A run whose spec is unknown (an old log
    without a registry) has value None: it sets no options, so it ran the default."""
    found = {}
    for r in runs:
        if r.algorithm == "gossipgrad" and set(r.variant) <= {key}:
            found.setdefault(r.options.get(key), r)
    specs = [r.spec for r in found.values() if r.spec]
    option = next((o for o in specs[0]["options"] if o["name"] == key), None) if specs else None
    if option is None:
        return found
    rank = [option["default"]] + [c for c in option.get("choices", [not option["default"]]) if c != option["default"]]
    return dict(sorted(found.items(), key=lambda kv: rank.index(kv[0]) if kv[0] in rank else len(rank)))


def shown(value):
    return "default" if value is None else "on" if value is True else "off" if value is False else str(value)


def claim_ablation(studies, key, why):
    """Compares gossipgrad variants that differ only in `key`."""
    _, runs = pick(studies, ["ablation"], lambda r: r.algorithm == "gossipgrad")
    found = ablation_values(runs, key)
    if len(found) < 2:
        return NOT_YET, (f"needs the ablation study's gossipgrad runs with two or more values of {key} "
                         "(and no other option changed)")
    return found, why


def fmt_rotation(found):
    cells = []
    for v, r in found.items():
        if r:
            c = r.eval["consensus"]
            cells.append(f"{shown(v)}: top-1 {pct(r.final('top1'))}, consensus {c[-1]:.3g}" if len(c) else shown(v))
    return "; ".join(cells)


def fmt_shuffle(found):
    cells = []
    for v, r in found.items():
        if r:
            train = float(np.mean(r.steps["loss_mean"][-50:])) if "loss_mean" in r.steps else float("nan")
            test = r.final("loss")
            cells.append(f"shuffle {shown(v)}: test−train loss {test - train:+.3f}, top-1 {pct(r.final('top1'))}")
    return "; ".join(cells)


def fmt_timing(found):
    cells = []
    for v, r in found.items():
        if r:
            cost = r.cost()
            cells.append(f"{shown(v)}: {1e3 * cost.step_s:.1f} ms/step, communication {summary.comm(cost)}, "
                         f"top-1 {pct(r.final('top1'))}")
    return "; ".join(cells)


def efficiency_cell(run, with_p=False):
    """'label: 98.1%, total 8.67 ms, exposed 2.89 ms': efficiency with the communication behind it."""
    cost = run.cost()
    where = f" p={run.ranks}" if with_p else ""
    return f"{run.label}{where}: {100 * cost.efficiency:.1f}%, {summary.comm(cost)}"


def by_platform(runs):
    """{platform: [runs]} in registry order within each platform."""
    out = {}
    for r in sorted(runs, key=lambda r: (r.platform, runlog.sort_key(r))):
        out.setdefault(r.platform, []).append(r)
    return out


EFFICIENCY_LABELS = ("allreduce", "allreduce (timing=async)", "gossipgrad", "gossip")  # the claim and its control


def claim_efficiency(studies):
    """Efficiency at 128 (and 1024) simulated GPUs: from the node cost model's ResNet-50 study when there
    is one (gossipgrad, allreduce and the allreduce with gossipgrad's one-step staleness, per platform),
    else the older weak-scaling study."""
    how = ("compute / step time (compute + communication calls + charged host work), with the communication "
           "per step: total (in flight, hidden or not) and exposed (the step waited)")
    cost = [r for r in studies.get(SMPI_COST[0], []) if r.simulated and r.ranks in (128, 1024)
            and r.label in EFFICIENCY_LABELS]
    if cost:
        rows = []
        for platform, runs in by_platform(cost).items():
            for p in sorted({r.ranks for r in runs}):
                rows.append(f"**{platform}** p={p}: " + "; ".join(efficiency_cell(r) for r in runs if r.ranks == p))
        return "<br>".join(rows), (f"simulated GPUs under the node cost model (study {SMPI_COST[0]}, proxy "
                                   f"ResNet-50; every algorithm in paper/SMPI.md): {how}")
    study, sim = pick(studies, [SMPI_WEAK], lambda r: r.simulated and r.ranks == 128)
    if sim:
        return "<br>".join(f"**{platform}**: " + "; ".join(efficiency_cell(r) for r in runs)
                           for platform, runs in by_platform(sim).items()), \
            f"simulated 128 GPUs (study {study}; paper/SMPI.md): {how}"
    _, real = pick(studies, ["scaling_real"], lambda r: r.algorithm == "gossipgrad" and r.workers > 1)
    note = ""
    if real:
        r = max(real, key=lambda r: r.ranks)
        note = (f"largest real run: {efficiency_cell(r, with_p=True)}, on a shared 2-core machine (measures the "
                "scheduler, not communication)")
    return (f"{NOT_YET} ({note})" if note else NOT_YET), \
        "needs the simulated 128-GPU cluster (SMPI scaling study, ResNet-50 profile)"


def smpi_accuracy(runs):
    """gossipgrad vs allreduce final top-1 at each platform and p of the SMPI real-math study."""
    cells = []
    for platform, group in by_platform(runs).items():
        for p in sorted({r.ranks for r in group}):
            at = {r.label: r for r in group if r.ranks == p}
            if "gossipgrad" in at and "allreduce" in at:
                g, s = at["gossipgrad"], at["allreduce"]
                where = f"{platform} " if runlog.several_platforms(runs) else ""
                cells.append(f"{where}p={p}: {pct(g.final('top1'))} (averaged {pct(g.final('top1', 'averaged'))}) "
                             f"vs {pct(s.final('top1'))}")
    return cells


SEEDED_ACCURACY = ("smpi_accuracy_gb", "smpi_accuracy_wb")  # 3 seeds, one scaling regime each (paper/ACCURACY.md)


def claim_accuracy_seeded(studies):
    """gossipgrad's gap to allreduce (averaged model, Welch interval) at each p of the seeded studies, or None."""
    parts = []
    for name in SEEDED_ACCURACY:
        cells = cellmod.group([r for r in studies.get(name, []) if r.finished])
        gaps = [(c, d) for c, _, d in cellmod.gaps(cells, "allreduce", "top1", "averaged") if c.label == "gossipgrad"]
        if gaps:
            parts.append(f"{name} ({gaps[0][0].regime}): " +
                         "; ".join(f"p={c.first.workers} {d.text()}" for c, d in gaps))
    if not parts:
        return None
    return "<br>".join(parts), ("gossipgrad − allreduce, final top-1 of the averaged model, 3 seeds, mean difference "
                                "with its 95% Welch interval (paper/ACCURACY.md: both regimes, every algorithm)")


def claim_shuffle_seeded(studies):
    """Shuffle variants against gossipgrad's default in a seeded study on non-IID shards, or None."""
    for name, runs in sorted(studies.items()):
        cells = cellmod.group([r for r in runs if r.finished])
        if not any(c.n > 1 and c.partition in ("classes", "dirichlet") for c in cells):
            continue
        lines = [line[2:] for line in report_stats.variant_lines(cells) if "(shuffle=" in line]
        if lines:
            return "<br>".join(lines), (f"study {name}: label-skewed shards, top-1 of the averaged model and the "
                                        "train-test gap (ggbench/generalization.py) against the default "
                                        "(shuffle=partner), 95% Welch intervals (paper/ACCURACY.md)")
    return None


def claim_accuracy(studies):
    seeded = claim_accuracy_seeded(studies)
    if seeded:
        return seeded
    sim = smpi_accuracy(studies.get("smpi_accuracy", []))
    study, runs = pick(studies, ["p16_accuracy", "quick"], lambda r: r.algorithm in ("allreduce", "gossipgrad"))
    found = [(c, ref, d) for c, ref, d in cellmod.gaps(cellmod.group(runs), "allreduce", "top1", "rank0")
             if c.label == "gossipgrad"]
    if not found:
        return NOT_YET, "needs allreduce and default gossipgrad runs at the same p (study p16_accuracy)"
    cells = []
    for c, s, diff in found:
        r = c.first
        cells.append(f"{cellmod.context_text(c)}: gossipgrad {c.final('top1').short(100, '.2f', '%')} (averaged "
                     f"{c.final('top1', 'averaged').short(100, '.2f', '%')}) vs SGD {s.final('top1').short(100, '.2f', '%')}, "
                     f"n={c.n} vs {s.n}: {diff.text()}")
    how = (f"final test top-1 of worker 0, study {study}, {r.eval['epoch'][-1]:.0f} epochs; runs differing only in seed "
           "averaged (mean ± 95% t interval), the gap with its Welch interval, settings never mixed (ggbench/cells.py)")
    if sim:
        cells.append("under SMPI, gossipgrad vs SGD: " + "; ".join(sim))
        how += "; study smpi_accuracy (lenet, real math under SMPI, global batch fixed)"
    return "; ".join(cells), how


def cost_model_text(attr):
    """The cost_model attribute of a log in words."""
    if attr is None:
        return ("not recorded (schema-1 logs): memory-bound host work, GPU staging and progress calls were "
                "not charged")
    try:
        m = json.loads(attr)
        return (f"memory work {m['mem_GBps']:g} GB/s, GPU staging {m['staging_GBps']:g} GB/s, "
                f"{m['progress_us']:g} µs per progress call (source: {m['source']})")
    except (ValueError, TypeError, KeyError):
        return f"unreadable cost_model attribute: {attr!r}"


def cost_model_lines(runs):
    """One line per platform and cost model of a study's runs: what the node charged."""
    return [f"Cost model, {platform}: {cost_model_text(attr)}."
            for platform, group in by_platform(runs).items()
            for attr in dict.fromkeys(r.attrs.get("cost_model") for r in group)]


def claims(studies):
    rot = claim_ablation(studies, "rotation",
                         "final top-1 and consensus distance; gossip (no rotation) in the other studies too")
    shf = claim_ablation(studies, "shuffle", "test loss minus mean training loss of the last 50 steps")
    tim = claim_ablation(studies, "timing", "time per step (compute + communication calls + charged host work) "
                                            "and the communication's total (in flight) and exposed (waited) time")
    fmt = lambda res, f: (f(res[0]), res[1]) if isinstance(res[0], dict) else res  # noqa: E731
    return [
        ("O(1) communication per step, vs Θ(log p) for allreduce", *claim_comm(studies)),
        ("gradients diffuse to every node after log2 p steps", *claim_diffusion(studies)),
        ("rotating partners helps (accuracy, consensus)", *fmt(rot, fmt_rotation)),
        ("the sample shuffle prevents over-fitting", *(claim_shuffle_seeded(studies) or fmt(shf, fmt_shuffle))),
        ("asynchronous communication lowers the cost", *fmt(tim, fmt_timing)),
        ("~100% efficiency at 128 GPUs for ResNet-50", *claim_efficiency(studies)),
        ("top-1 accuracy matches SGD", *claim_accuracy(studies)),
    ]


def draw(studies, results, out):
    """Figures per study into <out>/figures; returns {study: [png paths relative to out]}."""
    drawn = {}
    for study, runs in studies.items():
        for module in FIGURES.get(study, (accuracy,)) + (time_to_accuracy,):
            paths = module.plot(runs, os.path.join(out, "figures"), f"{study}_")
            pngs = [p for p in paths if p.endswith(".png")] or paths[:1]
            drawn.setdefault(study, []).extend(os.path.relpath(p, out) for p in pngs)
    return drawn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results", help="results root (default: %(default)s)")
    ap.add_argument("--out", default=PAPER, help="where REPORT.md and figures/ go (default: paper/)")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    prog = "make_report"
    if not os.path.exists(args.results):
        runlog.fail(prog, f"--results {args.results}: no such folder")
    if not os.path.isdir(args.results):
        runlog.fail(prog, f"--results {args.results}: not a folder")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        runlog.fail(prog, f"--out {args.out}: exists and is not a folder")
    report = os.path.join(args.out, "REPORT.md")
    if os.path.exists(report) and not os.path.isfile(report):
        runlog.fail(prog, f"--out {args.out}: {report} exists and is not a regular file")
    damaged = []
    studies, unfinished = load_studies(args.results, runlog.registry_or_exit(args.build_dir, prog), damaged)
    if not studies and not damaged:
        runlog.fail(prog, f"--results {args.results}: no run logs (*.h5) of a finished run in any study folder")
    try:
        os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)
    except OSError as e:
        runlog.fail(prog, f"--out {args.out}: cannot create {os.path.join(args.out, 'figures')} ({e.strerror})")
    figures = draw(studies, args.results, args.out)
    md = ["# GossipGraD-Bench: reproduction report", "",
          "Generated by `paper/make_report.py` from the run logs under `" + args.results + "/`; do not edit by hand.",
          "Claims are from Daily et al., *GossipGraD: Scalable Deep Learning using Gossip Communication "
          "based Asynchronous Gradient Descent* (2018, arXiv 1803.05880).", "",
          f"Studies found: {', '.join(f'{s} ({len(r)} runs)' for s, r in studies.items()) or 'none'}"
          + (f"; {unfinished} unfinished run(s) ignored." if unfinished else "."), ""]
    if damaged:
        md += [f"Damaged run logs left out ({len(damaged)}; their studies keep their other runs):", ""]
        md += [f"- `{os.path.relpath(p, args.results)}`: {msg.replace(p + ': ', '')}" for p, msg in damaged] + [""]
    md += [
          "## Claims", "", "| claim of the paper | measured here | how |", "|---|---|---|"]
    for claim, value, how in claims(studies):
        md.append(f"| {claim} | {value} | {how} |")
    for study, runs in studies.items():
        md += ["", f"## Study `{study}`", ""] + cost_model_lines(runs) + ["", "```"] + summary.table(runs) + ["```", ""]
        md += [f"![{study} {os.path.basename(p)}]({p})" for p in figures.get(study, [])]
        md += [""] + report_stats.section(runs)
    try:
        with open(report, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n")
    except OSError as e:
        runlog.fail(prog, f"--out {args.out}: cannot write {report} ({e.strerror})")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
