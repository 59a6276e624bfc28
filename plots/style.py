"""One look for every figure: a fixed colour per algorithm and per known variant, Agg backend."""
import argparse
import os
import zlib

import matplotlib

from runlog import sort_key  # noqa: F401  (re-exported: legends list algorithms in one order)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

# Base algorithms (tab10, colour-blind friendlier order).
ALGORITHM_COLORS = {
    "allreduce": "#1f77b4",   # blue
    "ps": "#ff7f0e",          # orange
    "gossip": "#2ca02c",      # green
    "gossipgrad": "#d62728",  # red
}
# Variants by their label (plots/runlog.py algorithm_label); these keep their colour in every figure.
VARIANT_COLORS = {
    "ps (mode=async)": "#e6a65d",
    "gossip (timing=async)": "#98df8a",
    "gossipgrad (rotation=none)": "#8c564b",
    "gossipgrad (rotation=permutation)": "#9467bd",
    "gossipgrad (shuffle=off)": "#e377c2",
    "gossipgrad (timing=sync)": "#17becf",
    "gossipgrad (topology=dissemination)": "#bcbd22",
    "gossipgrad (exchange=parameters)": "#7f7f7f",
}
_FALLBACK = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1"]
PHASE_COLORS = {"compute": "#4c72b0", "comm": "#dd8452", "wait": "#c44e52"}


def color(label):
    """The colour of an algorithm label; unknown variants get a stable colour from their name."""
    if label in ALGORITHM_COLORS:
        return ALGORITHM_COLORS[label]
    if label in VARIANT_COLORS:
        return VARIANT_COLORS[label]
    return _FALLBACK[zlib.crc32(label.encode()) % len(_FALLBACK)]


def setup():
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3,
                         "font.size": 10, "legend.fontsize": 8, "axes.spines.top": False,
                         "axes.spines.right": False})


def save(fig, out_dir, stem):
    """Writes <out_dir>/<stem>.png and .pdf; returns both paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"{stem}.{ext}") for ext in ("png", "pdf")]
    fig.tight_layout()
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    for p in paths:
        print(p)
    return paths


def parse_args(description, argv=None):
    """Command line shared by the plot scripts: result dirs/files, --out, --prefix."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("inputs", nargs="+", help="run.h5 files or results/<study> directories")
    ap.add_argument("--out", default="results/figures", help="directory for the PNG and PDF (default: %(default)s)")
    ap.add_argument("--prefix", default=None,
                    help="file name prefix (default: the study directory's name when one directory is given)")
    args = ap.parse_args(argv)
    if args.prefix is None:
        one_dir = len(args.inputs) == 1 and os.path.isdir(args.inputs[0])
        args.prefix = os.path.basename(os.path.normpath(args.inputs[0])) + "_" if one_dir else ""
    return args


def note(ax, text):
    """A centred message in an axis that has nothing to show."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4", wrap=True)
