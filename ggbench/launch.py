"""Starting one run and watching it: a run with its output in a log file and a timeout that ends the
whole process group, the last lines of a log, and the first error a log reports. What the command is (mpirun, srun) comes from
ggbench/launchers/."""
import os
import re
import shlex
import signal
import subprocess
import time


def command_line(cmd, env):
    """The shell line of a command with its extra environment, as printed by --dry-run and in log.txt."""
    return " ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "") + shlex.join(cmd)


STOPPED = 75        # gg_train's exit status after a stop at a boundary, checkpoint written
STOP_GRACE_S = 120  # how long a run may take to reach its boundary and checkpoint after a stop request


def run_one(cmd, env, log_path, timeout, stop_file=None, append=False):
    """Runs cmd with output to log_path (appended to with append); returns (status text, exit code). At
    the timeout, with a stop_file (the run's <output.path>.stop), the run is asked to stop: the file is
    created, which the ranks see at their next agreement, whatever launched them (mpirun kills the
    ranks one second after forwarding a SIGTERM, too soon for a checkpoint); a run that then exits with
    STOPPED within STOP_GRACE_S has checkpointed ("STOPPED", 75). Otherwise, or without a stop_file,
    its process group is ended (end_group)."""
    with open(log_path, "a" if append else "w", encoding="utf-8") as log:
        log.write("$ " + command_line(cmd, env) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                start_new_session=True)  # own process group: a timeout ends mpirun and ranks
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if stop_file and request_stop(proc, stop_file) == STOPPED:
                return f"STOPPED at the {timeout:.0f} s timeout (checkpoint written; continue with --resume)", STOPPED
            end_group(proc)
            return f"TIMEOUT after {timeout:.0f} s", 124
    return ("ok", 0) if rc == 0 else (f"FAILED (exit {rc})", rc)


def request_stop(proc, stop_file, grace=None):
    """Creates stop_file and waits up to `grace` seconds for the run to end; its exit status, or None if
    it is still running."""
    try:
        with open(stop_file, "w", encoding="utf-8") as f:
            f.write("stop requested by the study runner's --timeout\n")
    except OSError:
        return None
    try:
        return proc.wait(timeout=STOP_GRACE_S if grace is None else grace)
    except subprocess.TimeoutExpired:
        return None


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def end_group(proc, grace=10.0):
    """SIGTERM to the run's process group, then SIGKILL to whatever of the group is left after `grace`
    seconds: the launcher may exit at once while a rank that handles SIGTERM itself (gg_train stops at
    its next agreed boundary, which a stuck simulation never reaches) would outlive it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()  # reap the launcher, so that only live members keep the group
        if not group_alive(proc.pid):
            break
        time.sleep(0.1)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5  # killed members still count until they are reaped (by init)
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def tail(path, n=4):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip() for line in f.readlines()[-n:]]


def first_error(path):
    """The first 'program: error: ...' line of a log (gg_train's own error, or srun's, e.g. 'srun: error:
    Only allocated 1 nodes asked for 2'), or None."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        m = re.search(r"^[\w.-]+: error: .*$", f.read(), re.M)
    return m.group(0).strip() if m else None
