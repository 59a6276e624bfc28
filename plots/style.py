"""One look for every figure: a fixed colour per algorithm and per known variant, Agg backend."""
import os
import zlib

import matplotlib

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
ORDER = ["allreduce", "ps", "gossip", "gossipgrad"]
PHASE_COLORS = {"compute": "#4c72b0", "comm": "#dd8452", "wait": "#c44e52"}


def color(label):
    """The colour of an algorithm label; unknown variants get a stable colour from their name."""
    if label in ALGORITHM_COLORS:
        return ALGORITHM_COLORS[label]
    if label in VARIANT_COLORS:
        return VARIANT_COLORS[label]
    return _FALLBACK[zlib.crc32(label.encode()) % len(_FALLBACK)]


def sort_key(label):
    base = label.split(" ")[0]
    return (ORDER.index(base) if base in ORDER else len(ORDER), label)


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
        fig.savefig(p)
    plt.close(fig)
    for p in paths:
        print(p)
    return paths
