"""Regenerates paper/REPORT.md (and its figures under paper/figures/) from the run logs in results/:
each claim of the GossipGraD paper (Daily et al., 2018, arXiv 1803.05880) next to what this project
measured, or "not yet measured" and why.

  /usr/bin/python3 paper/make_report.py [--results results] [--out paper] [--build-dir build/release]
  /usr/bin/python3 -m ggbench.report --results results --out /tmp/report

The claims name the algorithms and options the paper is about (gossipgrad and its rotation, shuffle and
timing, against allreduce SGD); their defaults, the order of tables and the colours come from the
registry (ggbench/registry.py) or the logs' own algorithm specs."""
import argparse
import math
import os
import sys

import numpy as np

from . import registry, runlog, summary
from .figures import ablation, accuracy, breakdown, consensus, efficiency, scaling

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
}
SMPI_WEAK = "smpi_resnet50_weak"  # proxy ResNet-50 on the simulated P100 cluster (paper/SMPI.md)
NOT_YET = "not yet measured"


def load_studies(results, known=None):
    """{study: [finished Run]} for every results/<study>/ with run logs; also the unfinished count.
    `known`: the registry (or None), see ggbench/runlog.py."""
    studies, unfinished = {}, 0
    if not os.path.isdir(results):
        return studies, unfinished
    for study in sorted(os.listdir(results)):
        d = os.path.join(results, study)
        if not os.path.isdir(d) or study == "figures":
            continue
        try:
            runs = runlog.load_all([d], known)
        except runlog.RunLogError as e:
            print(f"make_report: skipping {d}: {e}", file=sys.stderr)
            continue
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


def mb_per_step(run):
    b = run.steps.get("bytes_sent")
    return float(b.mean()) / 1e6 if b is not None and b.size else float("nan")


def smpi_comm(runs):
    """Per label of the simulated weak-scaling study: communication ms per step at the smallest p >= 16
    and at the largest p, their ratio, and MB sent per rank per step."""
    lines = []
    for label in runlog.by_label(runs):
        by_p = {r.ranks: r for r in runs if r.label == label and r.ranks >= 16}
        if len(by_p) < 2:
            continue
        lo, hi = by_p[min(by_p)], by_p[max(by_p)]
        a, b = 1e3 * scaling.per_step(lo)[1], 1e3 * scaling.per_step(hi)[1]
        ratio = f"{b / a:.2f}" if a > 0 else ("0/0 (fully overlapped)" if b == 0 else "inf")
        lines.append(f"{label}: p={lo.ranks} {a:.3g} ms, p={hi.ranks} {b:.3g} ms, ratio {ratio}; "
                     f"{mb_per_step(hi):.1f} MB/step")
    return lines


def claim_comm(studies):
    """O(1) communication per step for GossipGraD vs Theta(log p) for allreduce."""
    smpi = smpi_comm(studies.get(SMPI_WEAK, []))
    if smpi:
        return "<br>".join(smpi), ("simulated P100/EDR fat tree, proxy ResNet-50, weak scaling (study "
                                   f"{SMPI_WEAK}): communication time per step (/steps/comm_s, simulated) at the "
                                   "smallest and largest p and t(max p)/t(min p); payload scaled 1/256 with the "
                                   "bandwidths (paper/SMPI.md), so MB are 1/256 of the real ones")
    lines = []
    for algo in ("gossipgrad", "allreduce"):
        _, runs = pick(studies, ["scaling_real", "scaling_strong"], lambda r, a=algo: r.label == a and r.workers > 1)
        if runs:  # one weak-scaling series: the per-worker batch measured at the most p
            batch = max({r.batch for r in runs}, key=lambda b: len({r.workers for r in runs if r.batch == b}))
            runs = [r for r in runs if r.batch == batch]
        by_p = {}
        for r in runs:
            by_p.setdefault(r.workers, []).append(r)
        if len(by_p) < 2:
            continue
        cells = []
        for p in sorted(by_p):
            mb = np.mean([mb_per_step(r) for r in by_p[p]])
            ms = np.mean([r.mean_step_ms()[1] for r in by_p[p]])
            cells.append(f"p={p}: {mb:.2f} MB, {ms:.1f} ms")
        lines.append(f"{algo}: " + "; ".join(cells))
    if not lines:
        return NOT_YET, "needs gossipgrad and allreduce runs at two or more p (study scaling_real)"
    return "<br>".join(lines), ("bytes sent per worker per step and communication time per step vs p "
                                "(/steps/bytes_sent, /steps/comm_s); a ring allreduce also sends O(1) bytes "
                                "per rank, its Θ(log p)/Θ(p) cost is in latency terms, visible in comm ms")


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
            compute, comm, wait = r.mean_step_ms()
            cells.append(f"{shown(v)}: {compute + comm:.1f} ms/step (comm {comm:.1f}, wait {wait:.1f}), top-1 {pct(r.final('top1'))}")
    return "; ".join(cells)


def claim_efficiency(studies):
    sim = [r for r in studies.get(SMPI_WEAK, []) if r.ranks == 128]
    if sim:
        cells = []
        for r in sorted(sim, key=runlog.sort_key):
            compute, comm, _ = scaling.per_step(r)
            cells.append(f"{r.label}: {100 * compute / (compute + comm):.1f}%")
        return "; ".join(cells), (f"simulated 128 P100s on EDR (study {SMPI_WEAK}, proxy ResNet-50, batch 32 per "
                                  "GPU): compute / (compute + comm) per step")
    _, big = pick(studies, [], lambda r: r.ranks >= 64 and not r.config.get("name", "").startswith("smpi"))
    _, real = pick(studies, ["scaling_real"], lambda r: r.algorithm == "gossipgrad" and r.workers > 1)
    note = ""
    if real:
        r = max(real, key=lambda r: r.ranks)
        compute, comm, _ = r.mean_step_ms()
        note = f"largest real run: gossipgrad p={r.ranks}, {str(r.config.get('model'))}: {100 * compute / (compute + comm):.1f}% compute"
    if not big:
        why = "needs the simulated 128-GPU cluster (SMPI scaling study, ResNet-50 profile)"
        return (f"{NOT_YET} ({note})" if note else NOT_YET), why
    cells = []
    for r in sorted(big, key=lambda r: (r.label, r.ranks)):
        compute, comm, _ = r.mean_step_ms()
        cells.append(f"{r.label} p={r.ranks} ({r.config.get('model')}): {100 * compute / (compute + comm):.1f}%")
    return "; ".join(cells), "compute / (compute + comm) per step"


def smpi_accuracy(runs):
    """gossipgrad vs allreduce final top-1 at each p of the SMPI real-math study."""
    cells = []
    for p in sorted({r.ranks for r in runs}):
        at = {r.label: r for r in runs if r.ranks == p}
        if "gossipgrad" in at and "allreduce" in at:
            g, s = at["gossipgrad"], at["allreduce"]
            cells.append(f"p={p}: {pct(g.final('top1'))} (averaged {pct(g.final('top1', 'averaged'))}) vs "
                         f"{pct(s.final('top1'))}")
    return cells


def claim_accuracy(studies):
    sim = smpi_accuracy(studies.get("smpi_accuracy", []))
    study, runs = pick(studies, ["p16_accuracy", "quick"], lambda r: r.algorithm in ("allreduce", "gossipgrad"))
    sgd = [r for r in runs if r.label == "allreduce"]
    gg = [r for r in runs if r.label == "gossipgrad" and any(s.ranks == r.ranks for s in sgd)]
    if not gg:
        return NOT_YET, "needs allreduce and default gossipgrad runs at the same p (study p16_accuracy)"
    cells = []
    for r in gg:
        s = next(s for s in sgd if s.ranks == r.ranks)
        cells.append(f"p={r.ranks}: gossipgrad {pct(r.final('top1'))} (averaged {pct(r.final('top1', 'averaged'))}) vs "
                     f"SGD {pct(s.final('top1'))}: {100 * (r.final('top1') - s.final('top1')):+.2f} points")
    how = f"final test top-1, study {study}, {r.eval['epoch'][-1]:.0f} epochs"
    if sim:
        cells.append("under SMPI, gossipgrad vs SGD: " + "; ".join(sim))
        how += "; study smpi_accuracy (lenet, real math under SMPI, global batch fixed)"
    return "; ".join(cells), how


def claims(studies):
    rot = claim_ablation(studies, "rotation",
                         "final top-1 and consensus distance; gossip (no rotation) in the other studies too")
    shf = claim_ablation(studies, "shuffle", "test loss minus mean training loss of the last 50 steps")
    tim = claim_ablation(studies, "timing", "time per step split into compute and communication")
    fmt = lambda res, f: (f(res[0]), res[1]) if isinstance(res[0], dict) else res  # noqa: E731
    return [
        ("O(1) communication per step, vs Θ(log p) for allreduce", *claim_comm(studies)),
        ("gradients diffuse to every node after log2 p steps", *claim_diffusion(studies)),
        ("rotating partners helps (accuracy, consensus)", *fmt(rot, fmt_rotation)),
        ("the sample shuffle prevents over-fitting", *fmt(shf, fmt_shuffle)),
        ("asynchronous communication lowers the cost", *fmt(tim, fmt_timing)),
        ("~100% efficiency at 128 GPUs for ResNet-50", *claim_efficiency(studies)),
        ("top-1 accuracy matches SGD", *claim_accuracy(studies)),
    ]


def draw(studies, results, out):
    """Figures per study into <out>/figures; returns {study: [png paths relative to out]}."""
    drawn = {}
    for study, runs in studies.items():
        for module in FIGURES.get(study, (accuracy,)):
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
    studies, unfinished = load_studies(args.results, runlog.registry_or_exit(args.build_dir, "make_report"))
    figures = draw(studies, args.results, args.out)
    md = ["# GossipGraD-Bench: reproduction report", "",
          "Generated by `paper/make_report.py` from the run logs under `" + args.results + "/`; do not edit by hand.",
          "Claims are from Daily et al., *GossipGraD: Scalable Deep Learning using Gossip Communication "
          "based Asynchronous Gradient Descent* (2018, arXiv 1803.05880).", "",
          f"Studies found: {', '.join(f'{s} ({len(r)} runs)' for s, r in studies.items()) or 'none'}"
          + (f"; {unfinished} unfinished run(s) ignored." if unfinished else "."), "",
          "## Claims", "", "| claim of the paper | measured here | how |", "|---|---|---|"]
    for claim, value, how in claims(studies):
        md.append(f"| {claim} | {value} | {how} |")
    for study, runs in studies.items():
        md += ["", f"## Study `{study}`", "", "```"] + summary.table(runs) + ["```", ""]
        md += [f"![{study} {os.path.basename(p)}]({p})" for p in figures.get(study, [])]
    path = os.path.join(args.out, "REPORT.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
