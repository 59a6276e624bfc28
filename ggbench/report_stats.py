"""The report's sections on repeated runs (seeds) of one study: final accuracy over seeds, each
algorithm's gap to the reference algorithm (allreduce SGD, the paper's baseline) with its Welch
interval, and time to accuracy. Only cells of one context are compared (same platform, scaling regime,
data partition, workers and config but the algorithm: ggbench/cells.py). Used by ggbench/report.py.

Statistics: ggbench/stats.py (mean ± t_{0.975,n-1}·s/√n; Welch for differences; "n=1, no interval").
Times: ggbench/tta.py (simulated under SMPI, wall-clock otherwise; first evaluation at or above the
threshold, no interpolation)."""
from . import cells as cellmod
from . import runlog, tta

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
