"""Launcher kinds srun and sbatch, the Slurm side: srun's command line, the commands each kind needs on
PATH, and what Slurm says about a job (its state, why it waits, how it ended)."""
import os
import re
import shutil
import subprocess

from ..study import StudyError

COMMANDS = {"srun": ("srun",), "sbatch": ("sbatch", "scontrol", "squeue", "scancel", "sinfo")}
QUERY_TIMEOUT_S = 30
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
         "BOOT_FAIL", "DEADLINE")
# Reasons a pending job gives when it can never start as submitted (a partition, QOS or account limit it
# exceeds, or a request no node meets); the runner cancels such a job instead of waiting forever.
NEVER_STARTS = {
    "PartitionNodeLimit": "more nodes than the partition allows",
    "PartitionTimeLimit": "a longer time limit than the partition allows",
    "PartitionConfig": "more than the partition's nodes have (CPUs, GPUs or memory)",
    "BadConstraints": "resources no node has",
    "InvalidAccount": "an account it may not use",
    "InvalidQOS": "a QOS it may not use",
    "AccountNotAllowed": "a partition its account may not use",
    "QOSMaxNodePerJobLimit": "more nodes than its QOS allows per job",
    "QOSMaxGRESPerJob": "more GPUs than its QOS allows per job",
    "QOSMaxCpuPerJobLimit": "more CPUs than its QOS allows per job",
    "QOSMaxWallDurationPerJobLimit": "a longer time limit than its QOS allows",
}


def check_commands(kind, src):
    """StudyError unless the Slurm commands the kind runs are on PATH."""
    missing = [c for c in COMMANDS.get(kind, ()) if shutil.which(c) is None]
    if missing:
        raise StudyError(f"{src}: launcher.kind {kind}: {', '.join(missing)} not found on PATH "
                         f"(run where Slurm's commands are, or install slurm-client)")


def check_allocation(src, environ=os.environ):
    """Kind srun starts job steps: StudyError outside an allocation."""
    if not environ.get("SLURM_JOB_ID"):
        raise StudyError(f"{src}: launcher.kind srun: not inside a Slurm allocation (SLURM_JOB_ID is unset); "
                         f"run it under salloc or in a batch job, or use kind sbatch")


def resources(launcher, ranks):
    """The task geometry of one run as options that sbatch and srun share. srun in a batch job gets them
    again: Slurm 22.05's srun no longer inherits --cpus-per-task from the job."""
    nodes, per_node = launcher.layout(ranks)
    opts = [f"--nodes={nodes}"] if nodes else []
    opts += [f"--ntasks={ranks}"] + ([f"--ntasks-per-node={per_node}"] if per_node else [])
    opts += [f"--gpus-per-task={launcher.gpus_per_task}"] if launcher.gpus_per_task else []
    opts += [f"--cpus-per-task={launcher.cpus_per_task}"] if launcher.cpus_per_task else []
    return opts + (["--overcommit"] if launcher.oversubscribe else [])


def srun_options(launcher, ranks):
    """srun's options for one run: how Open MPI finds its ranks (--mpi), the task geometry, binding and
    the study's extra arguments."""
    opts = [f"--mpi={launcher.mpi}"] if launcher.mpi else []
    opts += resources(launcher, ranks)
    opts += [f"--cpu-bind={launcher.bind}"] if launcher.bind else []
    return opts + list(launcher.args)


def step_env(launcher):
    """Environment of every rank: the study's, plus the transport as Open MPI reads it."""
    env = dict(launcher.env)
    if launcher.transport:
        env["OMPI_MCA_btl"] = launcher.transport
    return env


def srun_command(launcher, ranks, program):
    """(argv, extra environment) of a run under srun inside the current allocation."""
    return ["srun"] + srun_options(launcher, ranks) + list(program), step_env(launcher)


def _run(cmd):
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout if res.returncode == 0 else None


def pending(job_ids):
    """{job id: reason} of the given jobs that are still pending (squeue)."""
    out = _run(["squeue", "-h", "-t", "PENDING", "-o", "%i|%r", "-j", ",".join(job_ids)]) or ""
    return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)


def job_info(job_id):
    """{field: value} of `scontrol show job -o ID` (JobState, ExitCode, Reason, ...); {} once Slurm has
    forgotten the job, then sacct's State and ExitCode where accounting runs."""
    out = _run(["scontrol", "show", "job", "-o", job_id])
    if out:
        return dict(w.split("=", 1) for w in out.split() if "=" in w)
    out = _run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State,ExitCode"]) if shutil.which("sacct") else None
    if out and out.strip():
        state, _, code = out.strip().splitlines()[0].partition("|")
        return {"JobState": state.split()[0], "ExitCode": code}
    return {}


def outcome(job_id, info):
    """(ok, cause) of a job that has left the queue, from job_info()."""
    state = info.get("JobState", "UNKNOWN")
    code = info.get("ExitCode", "")
    if state == "COMPLETED":
        return True, ""
    exit_code, _, signal = code.partition(":")
    what = {"FAILED": f"failed (exit code {exit_code})" if exit_code not in ("", "0") else "failed",
            "CANCELLED": "was cancelled", "TIMEOUT": f"reached its time limit ({info.get('TimeLimit', '?')})",
            "NODE_FAIL": "lost a node", "OUT_OF_MEMORY": "ran out of memory", "PREEMPTED": "was preempted",
            "BOOT_FAIL": "could not boot its nodes", "DEADLINE": "missed its deadline"}.get(state)
    if what is None:
        what = f"ended in state {state}" if state != "UNKNOWN" else "ended; Slurm no longer knows how"
    if signal not in ("", "0"):
        what += f", signal {signal}"
    reason = info.get("Reason", "None")
    return False, f"job {job_id} {what}" + (f" ({reason})" if reason not in ("None", "(null)", "") else "")


def never_starts(job_id, reason, nodes):
    """Why a pending job (asking for `nodes` nodes, None if unset) with this reason can never start as
    submitted, or None when it may still start."""
    if reason not in NEVER_STARTS:
        return None
    if nodes and reason in ("PartitionNodeLimit", "PartitionConfig"):
        partition = job_info(job_id).get("Partition", "")
        out = _run(["sinfo", "-h", "-p", partition, "-o", "%D"]) if partition else None
        have = sum(int(n) for n in out.split() if n.isdigit()) if out else None
        if have is not None and have < nodes:
            return f"job {job_id} asks for {nodes} nodes, partition {partition} has {have} (Slurm: {reason})"
    return f"job {job_id} asks for {NEVER_STARTS[reason]} (Slurm: {reason})"


def cancel(job_id):
    return _run(["scancel", job_id]) is not None
