"""One look for every figure: Agg backend, common rcParams, the shared command line, and colours.

Colours come from the registry, not from tables of names:
  - an algorithm takes entry i of PALETTE, i = its position in `gg_train --describe`;
  - a variant that changes ONE option with a finite set of values (a string's choices, a bool) takes
    the next free colour: the variants of all algorithms are numbered in registry order, then option
    order, then value order (ggbench/spec.py single_variants), and variant g takes entry g of the
    palette entries no algorithm uses followed by EXTRA, so no two such variants share a colour (up
    to 10 - algorithms + 16 of them);
  - any other variant (several options, a number) takes a darker or lighter shade of its algorithm's
    colour, chosen by a hash of its options.
So a label has the same colour in every figure as long as the registry is the same. Without a registry
(or for a name it does not know) an algorithm's colour comes from a hash of its name and its variants
are shades of it."""
import argparse
import colorsys
import os
import zlib

import matplotlib
from matplotlib.colors import to_hex, to_rgb

from . import registry
from . import spec as specs

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")  # tab10
EXTRA = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1",  # tab20b/c
         "#6b6ecf", "#b5cf6b", "#e7ba52", "#d6616b", "#ce6dbd", "#9ecae1", "#fd8d3c", "#a1d99b")
# Shades: HLS lightness moved this fraction of the way to LIGHTEST (positive) or DARKEST (negative).
SHADES = (-0.4, +0.4, +0.65, -0.65, +0.2, -0.2, +0.8, -0.85)
LIGHTEST, DARKEST = 0.9, 0.08
# The parts of a step's time, stacked in this order (they add up to the step time, Cost.step_s), and
# the marker that shows the total exchange time (in flight, hidden or not) beside them.
PHASES = ("compute", "calls", "exposed", "mem")
PHASE_COLORS = {"compute": "#4c72b0", "calls": "#dd8452", "exposed": "#c44e52", "mem": "#8172b2"}
PHASE_LABELS = {"compute": "compute", "calls": "comm calls (not waiting)", "exposed": "exposed (step waited)",
                "mem": "charged host work"}
TOTAL = dict(marker="D", markersize=6, markerfacecolor="white", markeredgecolor="black", linestyle="none")
TOTAL_LABEL = "comm total (in flight, hidden or not)"
NO_TOTAL = "no diamond: total not measured (schema-1 log)"


def phases(cost):
    """{phase: ms} of a Cost in PHASES order; a part the log did not measure counts 0 (mem of schema-1
    logs, whose step time has no such part)."""
    def part(x):
        return 0.0 if x != x else 1e3 * x
    return {"compute": part(cost.compute_s), "calls": max(0.0, part(cost.comm_s) - part(cost.exposed_s)),
            "exposed": part(cost.exposed_s), "mem": part(cost.mem_s)}


def total_ms(cost):
    """The total exchange time in ms, None when it was not measured (no marker then)."""
    return None if cost.total_s != cost.total_s else 1e3 * cost.total_s


def base_color(index, name):
    """Palette entry of an algorithm: by registry index, else by a hash of its name."""
    i = index if index is not None else zlib.crc32(name.encode())
    return PALETTE[i % len(PALETTE)]


def shade(hex_color, k):
    """Shade k (1, 2, ...) of a colour; k = 0 is the colour itself."""
    if k == 0:
        return hex_color
    h, lightness, s = colorsys.rgb_to_hls(*to_rgb(hex_color))
    f = SHADES[(k - 1) % len(SHADES)]
    lightness += f * (LIGHTEST - lightness) if f > 0 else f * (lightness - DARKEST)
    return to_hex(colorsys.hls_to_rgb(h, lightness, s))


def variant_slots(known):
    """[(algorithm, option, value)] of every single-option variant of the registry, in order."""
    return [(name, option, value) for name in known.names for option, value in specs.single_variants(known.spec(name))]


def variant_colors(known):
    """The colours single-option variants take in turn: palette entries no algorithm uses, then EXTRA."""
    return PALETTE[len(known.names):] + EXTRA


def color(run):
    """The colour of a run's label (see the module doc)."""
    base = base_color(run.index, run.algorithm)
    variant = run.variant
    if not variant:
        return base
    known = run.registry
    if known is not None and run.index is not None and len(variant) == 1:
        slot = (run.algorithm,) + tuple(variant.items())[0]
        slots = variant_slots(known)
        if slot in slots:
            free = variant_colors(known)
            return free[slots.index(slot) % len(free)]
    text = ",".join(f"{k}={specs.value_text(v)}" for k, v in sorted(variant.items()))
    return shade(base, 1 + zlib.crc32(text.encode()) % len(SHADES))


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
    """Command line shared by the figure scripts: result dirs/files, --out, --prefix, --build-dir."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("inputs", nargs="+", help="run.h5 files or results/<study> directories")
    ap.add_argument("--out", default="results/figures", help="directory for the PNG and PDF (default: %(default)s)")
    ap.add_argument("--prefix", default=None,
                    help="file name prefix (default: the study directory's name when one directory is given)")
    registry.add_build_dir(ap)
    args = ap.parse_args(argv)
    if args.prefix is None:
        one_dir = len(args.inputs) == 1 and os.path.isdir(args.inputs[0])
        args.prefix = os.path.basename(os.path.normpath(args.inputs[0])) + "_" if one_dir else ""
    return args


def note(ax, text):
    """A centred message in an axis that has nothing to show."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4", wrap=True)


def note_below(ax, text):
    """A small grey line under the figure of an axis: what the figure could not show."""
    ax.figure.text(0.01, -0.01, text, fontsize=7, color="0.4", va="top", ha="left")
