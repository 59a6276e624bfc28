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


def run_one(cmd, env, log_path, timeout):
    """Runs cmd with output to log_path; returns (status text, exit code)."""
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + command_line(cmd, env) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                start_new_session=True)  # own process group: a timeout ends mpirun and ranks
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            end_group(proc)
            return f"TIMEOUT after {timeout:.0f} s", 124
    return ("ok", 0) if rc == 0 else (f"FAILED (exit {rc})", rc)


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
