"""Starting one run and watching it: the mpirun command prefix, a run with its output in a log file
and a timeout that ends the whole process group, and the last lines of a log."""
import os
import shlex
import signal
import subprocess


def mpirun_prefix(ranks, cores, is_root, mpirun):
    """(command prefix, extra environment) for `ranks` processes on a machine with `cores` cores."""
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"} if ranks >= cores else {}
    if ranks == 1:
        return [], env
    cmd = [mpirun, "-np", str(ranks), "--mca", "btl", "self,vader", "--bind-to", "none"]
    if is_root:
        cmd.append("--allow-run-as-root")
    if ranks > cores:
        cmd.append("--oversubscribe")
    return cmd, env


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
