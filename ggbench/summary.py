"""Prints one line per run log: algorithm, ranks, final top-1 (worker 0 and averaged model),
throughput and the mean compute/comm/wait time per step. Runs whose status.json (written by the study
runners, ggbench/run_status.py) says they failed are marked FAILED, those that left no log included,
and their causes listed below the table; runs still with Slurm show as SUBMITTED.

  /usr/bin/python3 scripts/summarize.py results/quick [more dirs or run.h5 files]
  /usr/bin/python3 -m ggbench.summary results/quick

Exit code 2 if an input is not a GossipGraD-Bench run log."""
import argparse
import os
import sys

from . import registry, run_status, runlog

COLUMNS = ["run", "algorithm", "ranks", "epochs", "top1 rank0", "top1 avg", "img/s",
           "compute ms", "comm ms", "wait ms", "status"]


def pct(x):
    return "-" if x != x else f"{100 * x:.2f}%"  # x != x: NaN


def num(x, fmt):
    return "-" if x != x else format(x, fmt)


def row(run):
    compute, comm, wait = run.mean_step_ms()
    epochs = run.eval["epoch"][-1] if len(run.eval["epoch"]) else float("nan")
    return [run.name, run.label, str(run.ranks), num(float(epochs), ".2f"),
            pct(run.final("top1", "rank0")), pct(run.final("top1", "averaged")),
            num(run.images_per_s(), ".0f"), num(compute, ".2f"), num(comm, ".2f"), num(wait, ".2f"),
            "finished" if run.finished else "INCOMPLETE"]


def marked(status):
    return "FAILED" if status["state"] == "failed" else "SUBMITTED"


def table(runs, statuses=()):
    """The summary as aligned text lines, runs ordered by algorithm (registry order) then ranks; with
    the runs' statuses (run_status.collect), failed and unfinished runs are marked and listed below."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks, r.name))
    by_dir = {s["dir"]: s for s in statuses if s["state"] != "ok"}
    rows = [COLUMNS]
    for r in runs:
        cells = row(r)
        status = by_dir.pop(os.path.dirname(os.path.abspath(r.path)), None)
        rows.append(cells[:-1] + [marked(status)] if status else cells)
    left = sorted(by_dir.values(), key=lambda s: s["run"])  # no log at all
    rows += [[os.path.basename(s["dir"])] + ["-"] * (len(COLUMNS) - 2) + [marked(s)] for s in left]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [s for s in statuses if s["state"] != "ok"]
    if notes:
        lines.append("")
        lines += [f"{s['run']}: " + (s["cause"] if s.get("cause") else "submitted, no end recorded yet" +
                  (f" (job {s['job']})" if s.get("job") else "")) for s in sorted(notes, key=lambda s: s["run"])]
    return lines


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
