#!/usr/bin/python3
"""The comparison table of paper/SMPI.md, 'Decentralized baselines', from the run logs of
experiments/studies/smpi_decentralized.json (one results root per platform):

  /usr/bin/python3 results/reference/smpi_decentralized/table.py \
      results/reference/smpi_decentralized/p100_edr_fattree results/reference/smpi_decentralized/knl_aries_dragonfly

Per run, with ggbench's own readers (ggbench.runlog) and per-step means (ggbench.figures.scaling.per_step:
steps >= 2, i.e. warm-up and pipeline filling left out, then the mean over workers): compute, comm (time
inside communication calls) and wait (of which blocked) in simulated ms per step; efficiency =
compute / (compute + comm), as plot_scaling.py; MB sent per worker per step = the mean of
/steps/bytes_sent over the same steps and the workers, times the study's payload scale (from the
runner's smpi_runs.json), so in true units (1 MB = 1e6 bytes). Rows in registry order."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
from ggbench import registry, runlog  # noqa: E402
from ggbench.figures import scaling  # noqa: E402


def study_runs(root):
    """(platform stem, [(run, payload scale, wall s)]) of one results root (its <study>/ directory)."""
    meta_path = next(os.path.join(d, "smpi_runs.json") for d, _, names in sorted(os.walk(root)) if "smpi_runs.json" in names)
    meta = {m["run"]: m for m in json.load(open(meta_path))}
    runs = runlog.load_all([os.path.dirname(meta_path)], registries)
    platforms = {os.path.splitext(m["platform"])[0] for m in meta.values()}
    assert len(platforms) == 1, f"{root}: runs of several platforms {platforms}"
    return platforms.pop(), [(r, float(meta[r.name]["payload_scale"]), meta[r.name]["wall_s"]) for r in runs]


def mb_per_worker_step(run, scale):
    b = run.steps["bytes_sent"]
    first = scaling.SKIP if b.shape[0] > scaling.SKIP else 0
    return float(np.mean(b[first:])) * scale / 1e6


registries = registry.for_readers()  # build/release's --describe, else what the logs hold
print("| platform | algorithm | p | steps (mean over) | compute ms | comm ms | wait ms | MB sent / worker / step | eff. | simulator wall s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for root in sys.argv[1:]:
    platform, runs = study_runs(root)
    for run, scale, wall in sorted(runs, key=lambda x: (runlog.sort_key(x[0]), x[0].ranks, x[0].name)):
        compute, comm, wait = scaling.per_step(run)
        steps = run.steps["compute_s"].shape[0]
        eff = compute / (compute + comm) if compute + comm > 0 else float("nan")
        status = "" if run.finished else " (INCOMPLETE)"
        print(f"| {platform} | {run.label}{status} | {run.ranks} | {steps} ({steps - scaling.SKIP}) | {1e3 * compute:.1f} "
              f"| {1e3 * comm:.4g} | {1e3 * wait:.4g} | {mb_per_worker_step(run, scale):.1f} | {100 * eff:.1f}% | {wall:.1f} |")
