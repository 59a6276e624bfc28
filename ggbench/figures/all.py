"""Draws every figure (accuracy, time to accuracy, breakdown, efficiency, consensus, ablation) for a set of run logs.

  /usr/bin/python3 plots/make_figures.py results/quick --out results/quick/figures
  /usr/bin/python3 -m ggbench.figures.all results/quick --out results/quick/figures"""
import sys

from .. import runlog, style
from . import ablation, accuracy, breakdown, consensus, efficiency, time_to_accuracy

MODULES = (accuracy, time_to_accuracy, breakdown, efficiency, consensus, ablation)


def draw_all(runs, out, prefix=""):
    """Returns the paths written (PNG and PDF of each figure)."""
    return [p for m in MODULES for p in m.plot(runs, out, prefix)]


def main(argv=None):
    args = style.parse_args(__doc__.splitlines()[0], argv)
    draw_all(runlog.load_or_exit(args.inputs, "make_figures", args.build_dir), args.out, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
