"""Launcher kind sbatch: one batch script per run (<run dir>/job.sbatch) with the study's resources,
submitted with `sbatch --parsable --wait` (all runs at once; each waiting client returns when its job
ends) or, with launcher.wait false, with `sbatch --parsable` and the job ids printed and kept in
<results>/<study>/jobs.json.

While waiting the runner asks squeue why pending jobs wait, and cancels a job whose reason says it can
never start as submitted (more nodes than the partition has, a limit of its QOS or account, ...). When
a job ends, scontrol (or sacct) says how: the run's status.json records it, and a run that failed,
was cancelled, timed out or was refused names the cause in one line. The script itself records its end
in status.json too (ok, failed with srun's exit code, or ended by SIGTERM: cancelled or out of time),
so a study submitted without waiting is summarized correctly whenever its jobs finish."""
import json
import os
import shlex
import subprocess
import sys
import time

from .. import run_meta, run_status
from ..launch import first_error
from . import slurm

SCRIPT = "job.sbatch"


def sbatch_options(launcher, run, study):
    """The #SBATCH lines' options of one run."""
    out = os.path.join(run["out_dir"], "log.txt")
    opts = [f"--job-name={study}/{run['name']}", f"--output={out}", f"--chdir={os.getcwd()}"]
    opts += slurm.resources(launcher, run["ranks"])
    for key in ("time", "partition", "account"):
        if getattr(launcher, key):
            opts.append(f"--{key}={getattr(launcher, key)}")
    return opts + list(launcher.batch_args)


def script(launcher, run, program, study):
    """The batch script of one run: resources, the environment, the study's setup lines, srun, and the
    end recorded in status.json."""
    name = f"{study}/{run['name']}"
    status = os.path.join(run["out_dir"], run_status.FILE)
    log = os.path.join(run["out_dir"], "log.txt")
    srun, env = slurm.srun_command(launcher, run["ranks"], program)
    lines = ["#!/bin/bash",
             f"# {name}: written by ggbench.run_study (launcher kind sbatch); "
             f"submitted with: sbatch --parsable{' --wait' if launcher.wait else ''} "
             f"{os.path.join(run['out_dir'], SCRIPT)}"]
    lines += [f"#SBATCH {o}" for o in sbatch_options(launcher, run, study)]
    lines += ["set -u",
              "record() {  # state, cause: this run's status.json (ggbench/run_status.py)",
              f"  printf '{{\"run\": \"{name}\", \"state\": \"%s\", \"cause\": \"%s\", \"launcher\": \"sbatch\", "
              f"\"job\": \"%s\"}}\\n' \"$1\" \"$2\" \"$SLURM_JOB_ID\" > {shlex.quote(status)}",
              "}",
              "trap 'record failed \"job $SLURM_JOB_ID ended by SIGTERM (cancelled or out of time)\"; exit 143' TERM"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    lines += list(launcher.setup)
    lines += [shlex.join(srun),
              "rc=$?",
              "if [ $rc -eq 0 ]; then record ok \"\"; exit 0; fi",
              f"error=$(grep -m1 -E '^[A-Za-z0-9_.-]+: error: ' {shlex.quote(log)} | tr -d '\"\\\\')",
              "record failed \"job $SLURM_JOB_ID: srun exited with $rc${error:+: $error}\"",
              "exit $rc"]
    return "\n".join(lines) + "\n"


def submit_command(launcher, path):
    return ["sbatch", "--parsable"] + (["--wait"] if launcher.wait else []) + [path]


class Job:
    """One submitted run: its waiting sbatch, its job id, and a cause found while it waited."""

    def __init__(self, run, proc, job_id, started):
        self.run, self.proc, self.id, self.started = run, proc, job_id, started
        self.cause = None


def submit(launcher, run, path):
    """(Popen of sbatch, job id or None, rejection cause or None)."""
    proc = subprocess.Popen(submit_command(launcher, path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    first = proc.stdout.readline().strip()  # --parsable: "id" or "id;cluster" once submitted
    job_id = first.split(";")[0] if first.split(";")[0].isdigit() else None
    if job_id is not None:
        if not launcher.wait:
            proc.communicate()
        return proc, job_id, None
    _, err = proc.communicate()
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    why = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else f"exit {proc.returncode}")
    return proc, None, f"sbatch refused the job: {why}"


def run_all(runs, launcher, program_of, study, dry_run, progress):
    """Submits every run; with launcher.wait, waits for all and returns (number failed, run.h5 paths);
    without, returns (number refused, []). progress(run, status line, failed) prints one run's outcome."""
    if dry_run:
        for run in runs:
            path = os.path.join(run["out_dir"], SCRIPT)
            print(f"# ---- {path} (submit: {shlex.join(submit_command(launcher, path))})")
            print(script(launcher, run, program_of(run), study), end="")
        return 0, []
    failed, jobs = 0, []
    for run in runs:
        os.makedirs(run["out_dir"], exist_ok=True)
        if run.get("meta"):
            run_meta.write(run["out_dir"], run["meta"])
        path = os.path.join(run["out_dir"], SCRIPT)
        with open(path, "w", encoding="utf-8") as f:
            f.write(script(launcher, run, program_of(run), study))
        run_status.write(run["out_dir"], f"{study}/{run['name']}", "submitted", launcher="sbatch")
        proc, job_id, refused = submit(launcher, run, path)
        if refused:
            failed += 1
            run_status.write(run["out_dir"], f"{study}/{run['name']}", "failed", refused, "sbatch")
            progress(run, f"FAILED: {refused}", True)
            continue
        if run_status.read(run["out_dir"])["state"] == "submitted":  # the job has not recorded its end
            run_status.write(run["out_dir"], f"{study}/{run['name']}", "submitted", launcher="sbatch", job=job_id)
        print(f"  {run['name']} ({run['ranks']} ranks): submitted as job {job_id}", flush=True)
        jobs.append(Job(run, proc, job_id, time.time()))
    if jobs:
        record_jobs(os.path.dirname(jobs[0].run["out_dir"]), jobs)
    if not launcher.wait:
        return failed, []
    try:
        failed_waiting, logs = wait(jobs, launcher, study, progress)
    except KeyboardInterrupt:  # the jobs are Slurm's now: they run on and record their end themselves
        for job in jobs:
            if job.proc.poll() is None:
                job.proc.terminate()
        print(f"\ninterrupted; the jobs run on (ids in {os.path.dirname(jobs[0].run['out_dir'])}/jobs.json): "
              f"summarize the study when they have finished", file=sys.stderr)
        raise
    return failed + failed_waiting, logs


def record_jobs(study_dir, jobs):
    """Adds the submitted jobs to <study dir>/jobs.json ({run: job id})."""
    path = os.path.join(study_dir, "jobs.json")
    known = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            known = json.load(f)
    known.update({j.run["name"]: j.id for j in jobs})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(known, f, indent=1)


def wait(jobs, launcher, study, progress):
    """Waits for the jobs' sbatch --wait clients, cancelling jobs that can never start; (failed, logs)."""
    failed, logs, waiting, t0 = 0, [], list(jobs), time.time()
    while waiting:
        for job_id, reason in slurm.pending([j.id for j in waiting if j.cause is None]).items():
            job = next((j for j in waiting if j.id == job_id), None)
            why = job and slurm.never_starts(job_id, reason, launcher.layout(job.run["ranks"])[0])
            if why:
                job.cause = f"{why}: it can never start; cancelled"
                slurm.cancel(job_id)
        for job in [j for j in waiting if j.proc.poll() is not None]:
            waiting.remove(job)
            job.proc.communicate()
            ok, cause = slurm.outcome(job.id, slurm.job_info(job.id))
            h5 = os.path.join(job.run["out_dir"], "run.h5")
            if ok and not os.path.isfile(h5):
                ok, cause = False, f"job {job.id} completed without writing {h5}"
            error = None if ok or job.cause else first_error(os.path.join(job.run["out_dir"], "log.txt"))
            cause = job.cause or (f"{cause}: {error}" if error else cause)
            run_status.write(job.run["out_dir"], f"{study}/{job.run['name']}", "ok" if ok else "failed", cause,
                             "sbatch", job.id)
            if os.path.isfile(h5):
                logs.append(h5)
            failed += not ok
            progress(job.run, f"{'ok' if ok else 'FAILED: ' + cause} in {time.time() - job.started:.1f} s", not ok)
        if waiting:
            time.sleep(min(30.0, 1.0 + (time.time() - t0) / 10))
    return failed, logs
