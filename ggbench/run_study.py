"""Runs a study (experiments/studies/*.json) or one config under mpirun and collects the logs.

  /usr/bin/python3 scripts/run_study.py experiments/studies/quick.json
  /usr/bin/python3 scripts/run_study.py experiments/configs/quick.json --ranks 4 --set train.epochs=1
  /usr/bin/python3 -m ggbench.run_study experiments/studies/quick.json --dry-run

Study files are described in ggbench/study.py. Each run's stdout and stderr go to
<results>/<study>/<run>/log.txt, its log to run.h5 next to it; at the end a summary table of the runs
and the figures of the whole study (<results>/<study>/figures/). The algorithms, their options and
their server ranks come from `gg_train --describe` of --build-dir's gg_train, so even --dry-run needs
it built. Exit codes: 0 all runs succeeded, 1 some run failed, 2 invalid input."""
import argparse
import os
import shutil
import sys

from . import registry, runner
from .launch import mpirun_prefix
from .study import StudyError, read_target


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="a study (experiments/studies/*.json) or a config file")
    runner.add_args(ap, "build/release")
    ap.add_argument("--mpirun", default="mpirun", help="MPI launcher (default: %(default)s)")
    ap.add_argument("--no-plots", action="store_true", help="skip drawing results/<study>/figures/")
    args = ap.parse_args(argv)
    prog = "run_study"
    binary = registry.binary_in(args.build_dir)
    try:
        runner.check_args(args)
        doc = read_target(args.target, args.ranks)
        known = registry.from_binary(binary)
        study, runs = runner.plan(doc, args.target, known, args)
        if not args.dry_run and any(r["ranks"] > 1 for r in runs) and shutil.which(args.mpirun) is None:
            raise StudyError(f"{args.mpirun}: not found on PATH")
    except (StudyError, registry.RegistryError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    cores, is_root = os.cpu_count() or 1, hasattr(os, "geteuid") and os.geteuid() == 0

    def command(run):
        prefix, env = mpirun_prefix(run["ranks"], cores, is_root, args.mpirun)
        return prefix + [binary] + run["args"] + ["--quiet"], env

    if not args.dry_run:
        runner.write_base(study)
    failed, logs = runner.execute(runs, command, args.timeout, args.dry_run)
    if args.dry_run:
        return 0
    study_dir = os.path.join(args.results, study.name)
    if logs:
        runner.report(logs, study_dir, known, not args.no_plots, prog)
    print(f"\n{len(runs) - failed}/{len(runs)} runs succeeded; logs under {study_dir}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
