"""What the study runners know of a run that its log does not hold, next to the log:
<results>/<study>/<run>/run_meta.json, written when the run starts (ggbench/runner.py, and the sbatch
launcher when it submits), read by ggbench/runlog.py (Run.meta):

  {"study": "scaling", "run": "allreduce_w16_s2", "regime": "fixed_worker_batch" | "fixed_global_batch"
   | null, "seed": 2 | null, "lr_reference_batch": 256 | null}

regime: the study's scaling regime (ggbench/study.py), null when the study set none; seed: the swept
train.seed (null when the study does not sweep seeds; the log's config holds train.seed either way);
lr_reference_batch: optimizer.scale_lr_reference_batch chosen for fixed_worker_batch."""
import json
import os

FILE = "run_meta.json"


def write(out_dir, meta):
    """Writes a run's metadata (the "meta" of ggbench.study.expand's run) atomically."""
    path = os.path.join(out_dir, FILE)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f)
        f.write("\n")
    os.replace(tmp, path)


def read(out_dir):
    """The metadata of the run in out_dir, {} without a readable file."""
    path = os.path.join(out_dir, FILE)
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}
