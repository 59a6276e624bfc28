"""The report's sections on repeated runs (seeds) of one study: final accuracy over seeds, each
algorithm's gap to the reference algorithm (allreduce SGD, the paper's baseline) with its Welch
interval, and time to accuracy. Only cells of one context are compared (same platform, scaling regime,
data partition, workers and config but the algorithm: ggbench/cells.py). Used by ggbench/report.py.

Statistics: ggbench/stats.py (mean ± t_{0.975,n-1}·s/√n; Welch for differences; "n=1, no interval").
Times: ggbench/tta.py (simulated under SMPI, wall-clock otherwise; first evaluation at or above the
threshold, no interpolation)."""
import math

from . import cells as cellmod
from . import generalization, runlog, stats, tta

REFERENCE = "allreduce"  # the paper's baseline: the algorithm whose gap the report states
TARGET_FRACTIONS = (0.95, 0.99)  # time-to-accuracy thresholds: of the reference's mean final top-1


def md_table(rows):
    """A Markdown table of rows (header first)."""
    return ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])] + \
        ["| " + " | ".join(r) + " |" for r in rows[1:]]


def accuracy_rows(cells):
    rows = [["algorithm", "n", "seeds", "top-1 averaged model", "top-1 worker 0"]]
    for c in cells:
        seeds = ",".join(str(s) for s in c.seeds if s is not None) or "-"
        rows.append([c.label, str(c.n), seeds, c.final("top1", "averaged").text(100, ".2f", "%"),
                     c.final("top1", "rank0").text(100, ".2f", "%")])
    return rows


def exact_model(cells):
    """Whether some run of the cells logged the exact final model (train.final_average)."""
    return any(not math.isnan(r.final_model("top1")) for c in cells for r in c.runs)


def generalization_rows(cells):
    """Train loss, test loss and their gap (ggbench/generalization.py), and the exact final model's
    top-1 where the runs logged it, per cell."""
    exact = exact_model(cells)
    rows = [["algorithm", "n", "train loss (last interval)", "test loss (averaged model)", "train-test gap"] +
            (["top-1 exact final model"] if exact else [])]
    for c in cells:
        rows.append([c.label, str(c.n), c.stat(generalization.train_loss).short(1, ".3f"),
                     c.stat(generalization.test_loss).short(1, ".3f"), c.stat(generalization.gap).short(1, ".3f")] +
                    ([c.stat(lambda r: r.final_model("top1")).short(100, ".2f", "%")] if exact else []))
    return rows


def variant_lines(cells):
    """Each variant of an algorithm (options off its defaults) against the algorithm at its defaults in
    the same context: final top-1 of the averaged model and the train-test gap, with Welch intervals."""
    lines = []
    for c in cells:
        ref = cellmod.reference_cell(cells, c, c.first.algorithm)
        if ref is None or ref is c:
            continue
        top1 = stats.compare(c.values(lambda r: r.final("top1", "averaged")),
                             ref.values(lambda r: r.final("top1", "averaged")))
        gap = stats.compare(c.values(generalization.gap), ref.values(generalization.gap))
        lines.append(f"- {c.label} − {ref.label}: top-1 {top1.text()}; train-test gap "
                     f"{gap.text(1, '')} (n={top1.n_a} vs {top1.n_b})")
    return lines


def gap_lines(cells):
    """One line per algorithm with a reference cell in its context: the gap of its final top-1
    (averaged model and worker 0) to the reference, and whether it exceeds its interval."""
    lines = []
    for group, what in (("averaged", "averaged model"), ("rank0", "worker 0")):
        for c, ref, diff in cellmod.gaps(cells, REFERENCE, "top1", group):
            lines.append(f"- {c.label} − {ref.label}, {what}: {diff.text()} (n={diff.n_a} vs {diff.n_b})")
    return lines


def context_section(ctx_cells, with_platform, clock="train"):
    """Markdown lines of one context: accuracy over seeds, gaps, time to accuracy."""
    head = cellmod.context_text(ctx_cells[0], with_platform)
    md = [f"**{head}**", ""] + md_table(accuracy_rows(ctx_cells))
    gaps = gap_lines(ctx_cells)
    if gaps:
        md += ["", f"Gap to {REFERENCE} (difference of means, 95% Welch interval; 'no difference' when it "
                   "contains 0):"] + gaps
    thresholds = tta.targets(ctx_cells, REFERENCE, TARGET_FRACTIONS)
    if thresholds:
        unit = tta.clock_unit([c.first for c in ctx_cells])
        md += ["", f"Time to accuracy, averaged model ({unit}, {'training time only' if clock == 'train' else 'evaluations included'}; "
                   f"thresholds: {', '.join(f'{int(100 * f)}%' for f in TARGET_FRACTIONS)} of "
                   f"{REFERENCE if any(c.label == REFERENCE for c in ctx_cells) else 'the best'} mean final top-1; "
                   "the first evaluation at or above it, mean ± 95% interval over the seeds that reached it):", ""]
        md += md_table(tta.table(ctx_cells, thresholds, "averaged", clock))
    if ctx_cells[0].partition not in ("reshuffle", "fixed", "-") or exact_model(ctx_cells):
        md += ["", "Over-fitting and the exact final model (ggbench/generalization.py: the mean training-batch "
                   "loss of the last evaluation interval against the averaged model's test loss; the exact "
                   "final model is every replica after train.final_average):", ""]
        md += md_table(generalization_rows(ctx_cells))
        variants = variant_lines(ctx_cells)
        if variants:
            md += ["", "Variants against their algorithm at its defaults (difference of means, 95% Welch interval):"] + \
                variants
    return md + [""]


def section(runs, clock="train"):
    """Markdown lines of a study's section on seeds and comparisons; [] when no run of it was repeated
    with another seed and no context holds the reference next to another algorithm."""
    cells = cellmod.group(runs)
    contexts = cellmod.contexts(cells)
    repeated = any(c.n > 1 for c in cells)
    compared = any(len(cs) > 1 and any(c.label == REFERENCE for c in cs) for cs in contexts.values())
    if not (repeated or compared):
        return []
    with_platform = runlog.several_platforms(runs)
    md = ["### Over seeds, by setting", "",
          "Runs that differ only in train.seed form one cell: mean ± 95% Student-t interval (t_{0.975,n-1}·s/√n), "
          "sd and n; n=1 has no interval. Settings (p, scaling regime, data partition) are never mixed.", ""]
    for ctx_cells in contexts.values():
        md += context_section(ctx_cells, with_platform, clock)
    return md
