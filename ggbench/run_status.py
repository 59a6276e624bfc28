"""A run's outcome next to its log, <results>/<study>/<run>/status.json: written by the study runners
when a run ends (and by a batch job's own script, so a study submitted without waiting records how its
jobs ended); read by the summary, which marks failed runs, those that left no run log included.

  {"run": "quick/allreduce_p8", "state": "ok" | "failed" | "stopped" | "submitted", "cause": "job 17 was cancelled",
   "launcher": "sbatch", "job": "17"}

"submitted": the runner handed the run to Slurm and nothing has reported its end yet (still queued or
running, or killed without a chance to write, e.g. a lost node). "stopped": the run was stopped at the
runner's --timeout with a committed checkpoint (gg_train's exit status 75); `run_study.py --resume`
continues it."""
import json
import os

FILE = "status.json"
STATES = ("ok", "failed", "stopped", "submitted")


def write(out_dir, run, state, cause="", launcher="local", job=None):
    assert state in STATES
    path = os.path.join(out_dir, FILE)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"run": run, "state": state, "cause": cause, "launcher": launcher, "job": job}, f)
        f.write("\n")
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def read(out_dir):
    """The status of the run in out_dir, None without one; an unreadable file reads as failed."""
    path = os.path.join(out_dir, FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            status = json.load(f)
        if status.get("state") not in STATES:
            raise ValueError(status.get("state"))
    except (OSError, ValueError, AttributeError) as e:
        status = {"run": os.path.basename(out_dir), "state": "failed", "cause": f"{path}: unreadable ({e})"}
    return {**status, "dir": os.path.abspath(out_dir)}


def collect(paths):
    """The statuses of the runs under the given directories (recursively) and next to given files."""
    dirs = []
    for p in paths:
        if os.path.isdir(p):
            dirs += sorted(d for d, _, names in os.walk(p) if FILE in names)
        else:
            dirs.append(os.path.dirname(os.path.abspath(p)))
    found = (read(d) for d in dict.fromkeys(dirs))
    return [s for s in found if s is not None]
