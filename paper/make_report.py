#!/usr/bin/python3
"""Regenerates paper/REPORT.md (and its figures under paper/figures/) from the run logs in results/:
each claim of the GossipGraD paper (Daily et al., 2018, arXiv 1803.05880) next to what this project
measured, or "not yet measured" and why.

  /usr/bin/python3 paper/make_report.py [--results results] [--out paper]"""
import argparse
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "plots"))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import plot_scaling  # noqa: E402
import runlog  # noqa: E402
import summarize  # noqa: E402

FIGURES = {  # study -> plot modules drawn for it
    "quick": ("plot_accuracy", "plot_consensus", "plot_breakdown"),
    "p16_accuracy": ("plot_accuracy", "plot_consensus"),
    "scaling_real": ("plot_breakdown", "plot_efficiency"),
    "scaling_strong": ("plot_breakdown", "plot_efficiency"),
    "ablation": ("plot_ablation", "plot_accuracy", "plot_consensus"),
    "smpi_resnet50_weak": ("plot_scaling",),
    "smpi_resnet50_strong": ("plot_scaling",),
    "smpi_platforms_knl": ("plot_scaling",),
}
SMPI_WEAK = "smpi_resnet50_weak"  # proxy ResNet-50 on the simulated P100 cluster (paper/SMPI.md)
NOT_YET = "not yet measured"


def load_studies(results):
    """{study: [finished Run]} for every results/<study>/ with run logs; also the unfinished count."""
    studies, unfinished = {}, 0
    if not os.path.isdir(results):
        return studies, unfinished
    for study in sorted(os.listdir(results)):
        d = os.path.join(results, study)
        if not os.path.isdir(d) or study == "figures":
            continue
        try:
            runs = runlog.load_all([d])
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
    for label in sorted({r.label for r in runs}, key=runlog.sort_key):
        by_p = {r.ranks: r for r in runs if r.label == label and r.ranks >= 16}
        if len(by_p) < 2:
            continue
        lo, hi = by_p[min(by_p)], by_p[max(by_p)]
        a, b = 1e3 * plot_scaling.per_step(lo)[1], 1e3 * plot_scaling.per_step(hi)[1]
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


def variant(runs, **opts):
    for r in runs:
        block = {**runlog.DEFAULTS["gossipgrad"], **r.config.get("algorithm", {})}
        if r.algorithm == "gossipgrad" and all(block.get(k) == v for k, v in opts.items()) and \
                sum(block.get(k) != v for k, v in runlog.DEFAULTS["gossipgrad"].items()) == \
                sum(runlog.DEFAULTS["gossipgrad"][k] != v for k, v in opts.items()):
            return r
    return None


def claim_ablation(studies, key, values, why):
    """Compares gossipgrad variants that differ only in `key`."""
    _, runs = pick(studies, ["ablation"], lambda r: r.algorithm == "gossipgrad")
    found = {v: variant(runs, **{key: v}) for v in values}
    if sum(r is not None for r in found.values()) < 2:
        shown = ["on" if v is True else "off" if v is False else v for v in values]
        return NOT_YET, f"needs the ablation study's gossipgrad runs with {key} = {' / '.join(shown)}"
    return found, why


def fmt_rotation(found):
    cells = []
    for v, r in found.items():
        if r:
            c = r.eval["consensus"]
            cells.append(f"{v}: top-1 {pct(r.final('top1'))}, consensus {c[-1]:.3g}" if len(c) else v)
    return "; ".join(cells)


def fmt_shuffle(found):
    cells = []
    for v, r in found.items():
        if r:
            train = float(np.mean(r.steps["loss_mean"][-50:])) if "loss_mean" in r.steps else float("nan")
            test = r.final("loss")
            cells.append(f"shuffle {'on' if v else 'off'}: test−train loss {test - train:+.3f}, top-1 {pct(r.final('top1'))}")
    return "; ".join(cells)


def fmt_timing(found):
    cells = []
    for v, r in found.items():
        if r:
            compute, comm, wait = r.mean_step_ms()
            cells.append(f"{v}: {compute + comm:.1f} ms/step (comm {comm:.1f}, wait {wait:.1f}), top-1 {pct(r.final('top1'))}")
    return "; ".join(cells)


def claim_efficiency(studies):
    sim = [r for r in studies.get(SMPI_WEAK, []) if r.ranks == 128]
    if sim:
        cells = []
        for r in sorted(sim, key=lambda r: runlog.sort_key(r.label)):
            compute, comm, _ = plot_scaling.per_step(r)
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
    rot = claim_ablation(studies, "rotation", ("shift", "permutation", "none"),
                         "final top-1 and consensus distance; gossip (no rotation) in the other studies too")
    shf = claim_ablation(studies, "shuffle", (True, False), "test loss minus mean training loss of the last 50 steps")
    tim = claim_ablation(studies, "timing", ("async", "sync"), "time per step split into compute and communication")
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
    import importlib
    drawn = {}
    for study, runs in studies.items():
        for module in FIGURES.get(study, ("plot_accuracy",)):
            paths = importlib.import_module(module).plot(runs, os.path.join(out, "figures"), f"{study}_")
            pngs = [p for p in paths if p.endswith(".png")] or paths[:1]
            drawn.setdefault(study, []).extend(os.path.relpath(p, out) for p in pngs)
    return drawn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results", help="results root (default: %(default)s)")
    ap.add_argument("--out", default=HERE, help="where REPORT.md and figures/ go (default: paper/)")
    args = ap.parse_args(argv)
    studies, unfinished = load_studies(args.results)
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
        md += ["", f"## Study `{study}`", "", "```"] + summarize.table(runs) + ["```", ""]
        md += [f"![{study} {os.path.basename(p)}]({p})" for p in figures.get(study, [])]
    path = os.path.join(args.out, "REPORT.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
