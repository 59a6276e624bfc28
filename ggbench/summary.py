"""Prints one line per run log: algorithm, ranks, final top-1 (worker 0 and averaged model),
throughput and the mean compute/comm/wait time per step.

  /usr/bin/python3 scripts/summarize.py results/quick [more dirs or run.h5 files]
  /usr/bin/python3 -m ggbench.summary results/quick

Exit code 2 if an input is not a GossipGraD-Bench run log."""
import argparse
import sys

from . import registry, runlog

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


def table(runs):
    """The summary as aligned text lines, runs ordered by algorithm (registry order) then ranks."""
    runs = sorted(runs, key=lambda r: (runlog.sort_key(r), r.ranks, r.name))
    rows = [COLUMNS] + [row(r) for r in runs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="run.h5 files or results/<study> directories")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    runs = runlog.load_or_exit(args.inputs, "summarize", args.build_dir)
    print("\n".join(table(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
