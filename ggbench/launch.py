"""Starting one run and watching it: a run with its output in a log file and a timeout that ends the
whole process group, the last lines of a log, and the first error a log reports. What the command is (mpirun, srun) comes from
ggbench/launchers/."""
import os
import re
import shlex
import signal
import subprocess


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
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return f"TIMEOUT after {timeout:.0f} s", 124
    return ("ok", 0) if rc == 0 else (f"FAILED (exit {rc})", rc)


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
