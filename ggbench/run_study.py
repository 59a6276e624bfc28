"""Runs a study (experiments/studies/*.json) or one config under mpirun, srun or sbatch and collects the logs.

  /usr/bin/python3 scripts/run_study.py experiments/studies/quick.json
  /usr/bin/python3 scripts/run_study.py experiments/configs/quick.json --ranks 4 --set train.epochs=1
  /usr/bin/python3 -m ggbench.run_study experiments/studies/quick.json --dry-run
  /usr/bin/python3 scripts/run_study.py experiments/studies/quick.json --ranks 128 --launcher sbatch \\
      --launcher-set tasks_per_node=8 --launcher-set gpus_per_task=1 --dry-run

Study files are described in ggbench/study.py, their "launcher" block (local mpirun, mpirun with a
hostfile, srun inside an allocation, or sbatch) in ggbench/launchers/__init__.py. Each run's stdout and
stderr go to <results>/<study>/<run>/log.txt, its log to run.h5 and its outcome to status.json next to
it; at the end a summary table of the runs (failed ones marked) and the figures of the whole study
(<results>/<study>/figures/). --dry-run prints the exact command lines, or for sbatch the batch
scripts; with sbatch, --timeout becomes each job's time limit (minutes, rounded up). Otherwise, at
--timeout a run is asked to stop through its stop request file (<log>.stop, which the ranks see whatever
launched them): it checkpoints at its next boundary and its status is "stopped"; --resume then skips the
runs that succeeded and continues the others from their checkpoints. The runner claims its study's
results folder (<results>/<study>/.runner.lock): a second runner on a live folder is refused. The algorithms,
their options and their server ranks come from `gg_train --describe` of --build-dir's gg_train, so
even --dry-run needs it built. Exit codes: 0 all runs succeeded (or, with
sbatch and wait false, all were submitted), 1 some run failed, 2 invalid input."""
import argparse
import math
import os
import sys

from . import launchers, registry, runner
from .launch import first_error
from .launchers import batch
from .study import StudyError, read_target


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="a study (experiments/studies/*.json) or a config file")
    runner.add_args(ap, "build/release")
    ap.add_argument("--launcher", choices=launchers.KINDS, help="launcher kind (overrides the study's launcher.kind)")
    ap.add_argument("--launcher-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a key of the study's launcher block (env.NAME=VALUE: one variable)")
    ap.add_argument("--mpirun", default=None, help="mpirun program of kinds local and hostfile (default: mpirun)")
    ap.add_argument("--no-plots", action="store_true", help="skip drawing results/<study>/figures/")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    prog = "run_study"
    binary = registry.binary_in(args.build_dir)
    try:
        runner.check_args(args)
        doc = read_target(args.target, args.ranks)
        launcher = launchers.from_study(doc, args.target, args.launcher, args.launcher_set, args.mpirun)
        if args.resume and launcher.kind == "sbatch":
            raise StudyError("--resume: not with launcher sbatch (resubmit the stopped runs' jobs with --resume)")
        if args.timeout and launcher.kind == "sbatch":  # Slurm ends the job at its time limit
            launcher.time = str(math.ceil(args.timeout / 60))
        known = registry.from_binary(binary)
        study, runs = runner.plan(doc, args.target, known, args)
        launchers.check_ready(launcher, runs, args.target, args.dry_run)
        if not args.dry_run:
            runner.claim(os.path.join(args.results, study.name), prog)
    except (StudyError, registry.RegistryError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    cores, is_root = os.cpu_count() or 1, hasattr(os, "geteuid") and os.geteuid() == 0

    def program(run):
        return [binary] + run["args"] + ["--quiet"]

    def command(run):
        return launchers.command(launcher, run["ranks"], program(run), cores, is_root)

    def check(run, log_path, status, rc, wall, cpu):  # the log's first error names the cause
        cause = first_error(log_path) if rc else None
        return (f"{status}: {cause}" if cause else status), rc, ""

    if not args.dry_run:
        runner.write_base(study)
    if launcher.kind == "sbatch":
        failed, logs = batch.run_all(runs, launcher, program, study.name, args.dry_run, progress)
    else:
        resume = runner.resume_plan(runs) if args.resume else None
        failed, logs = runner.execute(runs, command, args.timeout, args.dry_run, check=check,
                                      launcher=launcher.kind, study=study.name, resume=resume)
    if args.dry_run:
        return 0
    study_dir = os.path.join(args.results, study.name)
    if launcher.kind == "sbatch" and not launcher.wait:
        print(f"\n{len(runs) - failed}/{len(runs)} runs submitted (job ids in {study_dir}/jobs.json); when they "
              f"have finished: /usr/bin/python3 scripts/summarize.py {study_dir}")
        return 1 if failed else 0
    if logs or failed:
        runner.report(logs, study_dir, known, not args.no_plots, prog, runs)
    print(f"\n{len(runs) - failed}/{len(runs)} runs succeeded; logs under {study_dir}/")
    return 1 if failed else 0


def progress(run, line, failed):
    """One batch run's outcome, with the end of its log when it failed."""
    print(f"  {run['name']}: {line}", flush=True)
    log_path = os.path.join(run["out_dir"], "log.txt")
    if failed:
        runner.show_tail(log_path)


if __name__ == "__main__":
    sys.exit(main())
