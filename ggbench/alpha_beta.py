"""Sanity check of the simulated network: the simulated time of one pair exchange and of one allreduce
(gg_comm_probe under smpirun, same SMPI settings as scripts/run_smpi.py) against the alpha-beta formula
of the platform file. Exit code 1 if any differs by more than --tolerance (default 20%).

  /usr/bin/python3 scripts/smpi_alpha_beta.py [--platform p100_edr_fattree] [--bytes 26214400] [--scale 1]
  /usr/bin/python3 -m ggbench.alpha_beta

Formulas (alpha = latency of the links on the route, B = link bandwidth, m = message bytes):
  pair exchange, both directions at once on full-duplex links:   alpha + m / B
  ring allreduce (Open MPI's tuned choice for large m):            2 (p-1) (alpha + m / (p B))
  recursive halving/doubling (our nonblocking allreduce, p = 2^k): 2 log2(p) alpha + 2 (p-1)/p m / B
On the fat tree a route inside one leaf switch has 2 links, across leaves 4."""
import argparse
import math
import os
import re
import subprocess
import sys

from . import smpi

UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def platform_params(path):
    text = open(path).read()
    bw = re.search(r'\bbw="([0-9.eE+-]+)([kMGT]?)Bps"', text)
    lat = re.search(r'\blat="([0-9.eE+-]+)(us|ns|ms|s)"', text)
    per_leaf = re.search(r'topo_parameters="2;(\d+),', text)
    lat_s = float(lat.group(1)) * {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[lat.group(2)]
    return float(bw.group(1)) * UNITS[bw.group(2)], lat_s, int(per_leaf.group(1)) if per_leaf else None


def probe(args, plat, p, stride):
    out_dir = os.path.join(args.results, "smpi_alpha_beta")
    os.makedirs(out_dir, exist_ok=True)
    hostfile = os.path.join(out_dir, f"hostfile_{p}")
    with open(hostfile, "w") as f:
        f.write("\n".join(smpi.host_names(plat, p)) + "\n")
    binary = os.path.join(args.build_dir, "experiments", "gg_comm_probe")
    cmd = smpi.smpi_command("smpirun", binary, plat, hostfile, p,
                                ["--bytes", str(int(args.bytes / args.scale)), "--stride", str(stride), "--reps", "2",
                                 "--iallreduce", "ring"])
    cmd.remove("--quiet")
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **smpi.smpi_env(binary)})
    if res.returncode != 0:
        sys.exit(f"smpi_alpha_beta: probe failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(pair|allreduce|iallreduce) ([0-9.eE+-]+)$",
                                                               res.stdout, re.M)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="p100_edr_fattree")
    ap.add_argument("--bytes", type=float, default=25 * 2**20, help="message size in true bytes (default 25 MiB)")
    ap.add_argument("--scale", type=float, default=1, help="payload scale, as in run_smpi.py (default 1)")
    ap.add_argument("--ranks", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--tolerance", type=float, default=0.2)
    ap.add_argument("--build-dir", default="build/smpi")
    ap.add_argument("--results", default="results")
    args = ap.parse_args(argv)
    try:
        src = smpi.find_file(args.platform, "experiments/platforms", ".xml")
    except smpi.StudyError as e:
        print(f"smpi_alpha_beta: error: {e}", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(args.results, "smpi_alpha_beta"), exist_ok=True)
    plat = smpi.scaled_platform(src, args.scale, os.path.join(args.results, "smpi_alpha_beta", "platform.xml"))
    B, a_link, per_leaf = platform_params(src)  # true (unscaled) values: times must not depend on the scale
    m = args.bytes
    print(f"platform {os.path.basename(src)}: B = {B / 1e9:.3g} GB/s, link latency {a_link * 1e6:.3g} us, "
          f"message {m / 2**20:.3g} MiB, payload scale {args.scale:g}")
    print(f"{'operation':<34}{'simulated s':>14}{'alpha-beta s':>14}{'ratio':>8}")
    bad = 0
    for p in args.ranks:
        cross = per_leaf is not None and p > per_leaf
        stride = per_leaf if cross else 1
        got = probe(args, plat, p, stride)
        alpha_pair = a_link * (4 if cross else 2)
        ring_alpha = a_link * (4 if cross else 2)  # the slowest ring hop crosses leaves once p > per_leaf
        rows = [(f"pair exchange p={p} ({'cross-leaf' if cross else 'same leaf'})", got.get("pair"),
                 alpha_pair + m / B),
                (f"allreduce p={p} (ompi selector)", got.get("allreduce"), 2 * (p - 1) * (ring_alpha + m / (p * B))),
                (f"iallreduce p={p} (halving/doubling)" if p & (p - 1) == 0 else f"iallreduce p={p} (ring)",
                 got.get("iallreduce"),
                 2 * math.log2(p) * ring_alpha + 2 * (p - 1) / p * m / B if p & (p - 1) == 0
                 else 2 * (p - 1) * (ring_alpha + m / (p * B)))]
        for name, sim, model in rows:
            ratio = sim / model if sim else float("nan")
            ok = abs(ratio - 1) <= args.tolerance
            bad += not ok
            print(f"{name:<34}{sim:>14.6g}{model:>14.6g}{ratio:>8.3f}{'' if ok else '  <-- off by more than %d%%' % (100 * args.tolerance)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
