"""Prints one line per run log: algorithm, ranks, final top-1 (worker 0 and averaged model), throughput
and what a step cost: step and compute time, the communication's total time (an exchange in flight,
hidden or not) next to its exposed time (the step waited), charged host work where any run has some,
and megabytes sent and received per worker and step in true units (ggbench/runlog.py, Cost). Runs
whose status.json (written by the study runners, ggbench/run_status.py) says they failed are marked
FAILED, those that left no log included, and their causes listed below the table; runs still with
Slurm show as SUBMITTED.

  /usr/bin/python3 scripts/summarize.py results/quick [more dirs or run.h5 files]
  /usr/bin/python3 -m ggbench.summary results/quick

Runs that differ only in their seed (ggbench/cells.py) are also shown as one row each of a second
table, "over seeds": mean ± 95% Student-t interval and n of final top-1 (worker 0's replica and the
averaged model), throughput and step time; with n = 1 a cell says "n=1, no interval". It appears when
some cell has more than one run; cells of different scaling regimes or data partitions stay apart.

Also the wording every table, figure and the report use for communication cost, so that none of them
shows exposed time alone or a 0 that was not measured: a value the log does not hold prints as n/m
(a note under the table says why); an exposed time of 0 while an exchange was in flight prints as
'hidden' (with the total next to it); 0 ms only where nothing was in flight.

Exit code 2 if an input is not a GossipGraD-Bench run log."""
import argparse
import math
import os
import sys

from . import cells as cellmod
from . import registry, run_status, runlog

NOT_MEASURED = "n/m"
HEAD = ["run", "algorithm", "platform", "ranks", "epochs", "top1 rank0", "top1 avg", "img/s"]
COST = ["step ms", "compute ms", "comm total ms", "comm exposed ms", "mem ms", "MB sent", "MB recv"]
TAIL = ["status"]


def pct(x):
    return "-" if x != x else f"{100 * x:.2f}%"  # x != x: NaN


def num(x, fmt):
    return "-" if x != x else format(x, fmt)


def missing(x):
    return x is None or math.isnan(x)


def amount(x):
    """Three significant digits below 100, whole numbers above; n/m for NaN; exactly 0 as 0."""
    if missing(x):
        return NOT_MEASURED
    if x == 0:
        return "0"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def ms(seconds):
    return amount(1e3 * seconds if not missing(seconds) else seconds)


def mb(nbytes):
    return amount(nbytes / 1e6 if not missing(nbytes) else nbytes)


def exposed(cost):
    """Exposed ms as a cell: 'hidden' when the step waited for nothing while an exchange was in flight."""
    return "hidden" if cost.exposed_s == 0 and cost.total_s > 0 else ms(cost.exposed_s)


def comm(cost):
    """Communication per step in words, total and exposed together."""
    total, waited = cost.total_s, cost.exposed_s
    if missing(total):
        return f"exposed {ms(waited)} ms, total not measured"
    if total == 0 and waited == 0:
        return "nothing in flight (0 ms)" if cost.bytes_sent == 0 else \
            f"0 ms in flight although {mb(cost.bytes_sent)} MB were sent per step (the meter missed it)"
    if waited == 0:
        return f"hidden (total {ms(total)} ms)"
    return f"total {ms(total)} ms, exposed {ms(waited)} ms"


def growth(lo, hi, metric):
    """t(hi)/t(lo) of a Cost metric ('total_s' or 'exposed_s') in words, e.g. 'total 16.9 / 15.2 ms =
    1.11'; 'exposed hidden at both p' when it is 0 at both while exchanges were in flight."""
    name = metric[:-2]
    a, b = getattr(lo, metric), getattr(hi, metric)
    if missing(a) or missing(b):
        return f"{name} not measured"
    text = f"{name} {ms(b)} / {ms(a)} ms"
    if a > 0:
        return f"{text} = {b / a:.2f}"
    if b > 0:
        return f"{text} (from 0)"
    if metric == "exposed_s" and lo.total_s > 0 and hi.total_s > 0:
        return f"{name} hidden at both p (0 ms waited)"
    return f"{text} (0 at both)"


def cost_cells(cost):
    """{column of COST: text}: the cells every per-run table shares."""
    return {"step ms": ms(cost.step_s), "compute ms": ms(cost.compute_s), "comm total ms": ms(cost.total_s),
            "comm exposed ms": exposed(cost), "mem ms": ms(cost.mem_s), "MB sent": mb(cost.bytes_sent),
            "MB recv": mb(cost.bytes_recv)}


def columns(runs, costs, head=HEAD, tail=TAIL):
    """The columns a table of these runs shows: platform only when they span several, mem ms only
    when some run was charged host work."""
    out = [c for c in head if c != "platform" or runlog.several_platforms(runs)]
    charged = any(cost.mem_s > 0 for cost in costs)
    out += [c for c in COST if c != "mem ms" or charged]
    return out + list(tail)


def notes(runs, costs):
    """Lines under a table (after an empty one), if any: what n/m and 'hidden' mean for these runs."""
    lines = []
    old = [r.name for r in runs if not r.measured("total_s")]
    if old:
        which = "all runs" if len(old) == len(runs) else ", ".join(dict.fromkeys(old))
        lines.append(f"n/m: not measured. Schema-1 logs ({which}) recorded no total exchange time, bytes "
                     "received or charged host work; their exposed time is the old wait_s, and an exposed 0 "
                     "there is no evidence that an exchange was hidden.")
    unscaled = [r.name for r in runs if r.payload_scale is None]
    if unscaled:
        lines.append("MB n/m: simulated proxy runs without the runner's record of their payload scale "
                     f"({runlog.RUNNER_RECORD}): {', '.join(dict.fromkeys(unscaled))}.")
    if any(c.exposed_s == 0 and c.total_s > 0 for c in costs):
        lines.append("hidden: an exchange was in flight for the comm total time and the step never waited for it "
                     "(0 ms exposed).")
    if lines:
        lines[:0] = ["", f"Means per worker and step over steps >= {runlog.WARMUP_STEPS}; MB in true units "
                         "(10^6 bytes, payload scale undone)."]
    return lines


def align(rows, left):
    """Text lines of rows (the first is the header): the first `left` columns left-aligned, a rule
    under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def row(run, cost):
    epochs = run.eval["epoch"][-1] if len(run.eval["epoch"]) else float("nan")
    return {"run": run.name, "algorithm": run.label, "platform": run.platform, "ranks": str(run.ranks),
            "epochs": num(float(epochs), ".2f"), "top1 rank0": pct(run.final("top1", "rank0")),
            "top1 avg": pct(run.final("top1", "averaged")), "img/s": num(run.images_per_s(), ".0f"),
            **cost_cells(cost), "status": "finished" if run.finished else "INCOMPLETE"}


def marked(status):
    return {"failed": "FAILED", "stopped": "STOPPED"}.get(status["state"], "SUBMITTED")


def status_notes(statuses):
    """Lines naming every run that failed or has not ended, with its cause."""
    bad = sorted((s for s in statuses if s["state"] != "ok"), key=lambda s: s["run"])
    return [""] + [f"{s['run']}: " + (s["cause"] if s.get("cause") else "submitted, no end recorded yet" +
                   (f" (job {s['job']})" if s.get("job") else "")) for s in bad] if bad else []


def table(runs, statuses=()):
    """The summary as aligned text lines, runs ordered by algorithm (registry order), platform, ranks;
    notes under it where a value was not measured. With the runs' statuses (run_status.collect), failed
    and unfinished runs are marked and listed below, runs that left no log included."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.platform, r.ranks, r.name))
    costs = [r.cost() for r in runs]
    cols = columns(runs, costs)
    by_dir = {s["dir"]: s for s in statuses if s["state"] != "ok"}
    rows = [cols]
    for r, c in zip(runs, costs):
        cells = row(r, c)
        status = by_dir.pop(os.path.dirname(os.path.abspath(r.path)), None)
        if status:
            cells["status"] = marked(status)
        rows.append([cells[k] for k in cols])
    for s in sorted(by_dir.values(), key=lambda s: s["run"]):  # no log at all
        rows.append([os.path.basename(s["dir"])] + ["-"] * (len(cols) - 2) + [marked(s)])
    left = 3 if "platform" in cols else 2
    return align(rows, left) + notes(runs, costs) + status_notes(statuses) + seed_table(runs)


SEED_HEAD = ["algorithm", "platform", "p", "regime", "partition", "n", "seeds", "top1 rank0", "top1 avg",
             "img/s", "step ms"]


def seed_cells(cell):
    """{column of SEED_HEAD: text} of one cell: mean ± 95% interval over its seeds."""
    r = cell.first
    seeds = [s for s in cell.seeds if s is not None]
    top1 = lambda group: cell.final("top1", group).short(100, ".2f", "%")  # noqa: E731
    return {"algorithm": cell.label, "platform": r.platform, "p": str(r.ranks), "regime": cell.regime,
            "partition": cell.partition, "n": str(cell.n), "seeds": ",".join(map(str, seeds)) or "-",
            "top1 rank0": top1("rank0"), "top1 avg": top1("averaged"),
            "img/s": cell.stat(lambda run: run.images_per_s()).short(1, ".0f"),
            "step ms": cell.stat(lambda run: 1e3 * run.cost().step_s).short(1, ".3g")}


def seed_table(runs):
    """Lines of the table over seeds (after an empty line and a title), [] when every cell has one run."""
    cells = cellmod.group(runs)
    if all(c.n == 1 for c in cells):
        return []
    cols = [c for c in SEED_HEAD if c != "platform" or runlog.several_platforms(runs)]
    rows = [cols] + [[seed_cells(c)[k] for k in cols] for c in cells]
    return ["", "Over seeds (runs that differ only in train.seed): mean ± 95% Student-t interval "
                "(t_{0.975,n-1}·s/√n); a cell without ± has n=1, no interval."] + align(rows, len(cols) - 4)


def has_logs(directory):
    return any(n.endswith(".h5") for _, _, names in os.walk(directory) for n in names)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="run.h5 files or results/<study> directories")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    statuses = run_status.collect(args.inputs)
    # a study directory whose runs all failed holds statuses but no log: it still gets its table
    inputs = [p for p in args.inputs if not (os.path.isdir(p) and not has_logs(p) and
                                             any(s["dir"].startswith(os.path.abspath(p)) for s in statuses))]
    runs = runlog.load_or_exit(inputs, "summarize", args.build_dir) if inputs else []
    print("\n".join(table(runs, statuses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
