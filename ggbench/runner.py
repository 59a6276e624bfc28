"""What the mpirun and SMPI study runners (ggbench/run_study.py, ggbench/run_smpi.py) share: their
common command line, turning a study into runs (validated against the registry of the built gg_train),
the loop that runs them one by one (each run's outcome in its status.json, ggbench/run_status.py), and
the summary at the end."""
import json
import os
import resource
import sys
import time

from . import run_meta, run_status
from . import study as studies
from .launch import STOPPED, command_line, run_one, tail


def add_args(ap, build_dir):
    """Options of both runners; the build directory's default differs."""
    ap.add_argument("--build-dir", default=build_dir,
                    help="where gg_train was built; its --describe names the algorithms (default: %(default)s)")
    ap.add_argument("--results", default="results", help="results root (default: %(default)s)")
    ap.add_argument("--ranks", type=int, nargs="+", default=None, metavar="P",
                    help="rank counts of a single config (default: 1), or replacing a study's sweep.ranks "
                         "(its sweep.workers in a study that sweeps workers)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra override for every run")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTR",
                    help="run only runs whose name contains it")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per run before it is asked to stop (checkpoint at its next boundary, status "
                         "'stopped'), and killed if it does not within 120 s")
    ap.add_argument("--resume", action="store_true",
                    help="continue a study: runs that succeeded are skipped, runs stopped with a checkpoint "
                         "(status 'stopped') continue with gg_train --resume, the others run again")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")


def check_args(args):
    if args.ranks is not None and min(args.ranks) < 1:
        raise studies.StudyError("--ranks: expected positive integers")
    studies.check_cli_sets(args.set)
    if os.path.exists(args.results) and not os.path.isdir(args.results):
        raise studies.StudyError(f"--results {args.results}: exists and is not a folder")


_CLAIMS = []  # the open, locked claim files: held until the process ends


def claim(study_dir, prog):
    """Claims a study's results folder for this runner, as gg_train claims its log: a write lock on
    <study_dir>/.runner.lock, which the kernel drops when the process ends (a killed runner leaves no
    stale claim). A second runner on a live folder is refused (StudyError) before it writes anything."""
    import fcntl
    try:
        os.makedirs(study_dir, exist_ok=True)
        fd = os.open(os.path.join(study_dir, ".runner.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise studies.StudyError(f"{study_dir}: cannot create the results folder ({e.strerror})") from None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = ""
        try:
            holder = os.read(fd, 200).decode(errors="replace").strip()
        except OSError:
            pass
        os.close(fd)
        raise studies.StudyError(f"{study_dir}: another study runner is writing this results folder"
                                 f"{' (' + holder + ')' if holder else ''}; wait until it ends or choose "
                                 "another --results") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{prog} pid {os.getpid()}\n".encode())
    _CLAIMS.append(fd)
    return fd


def plan(doc, src, registry, args, first=(), transform=None):
    """(Study, runs) of a study document: validated, changed by transform(study) if given (the SMPI
    runner's proxy model), its inline base placed under the results, expanded with the command line's
    --set, filtered by --only. Raises StudyError."""
    study = studies.validate_study(doc, src, registry)
    if transform:
        transform(study)
    studies.place_base(study, args.results)
    runs = studies.expand(study, args.results, args.set, first)
    if args.only:
        runs = [r for r in runs if any(s in r["name"] for s in args.only)]
        if not runs:
            raise studies.StudyError(f"no run matches --only {' '.join(args.only)}")
    return study, runs


def write_base(study):
    """Writes an inline base config where place_base put it."""
    if study.inline_base:
        os.makedirs(os.path.dirname(study.base_path), exist_ok=True)
        with open(study.base_path, "w", encoding="utf-8") as f:
            json.dump(study.base, f, indent=2)


def resume_plan(runs):
    """--resume of a study: {run name: "skip" | "resume" | "run"} from each run's status.json and
    checkpoint folder: ok: skip; any other run with a committed checkpoint (its LATEST: stopped at the
    timeout, or killed after checkpointing): resume; the rest run again from the start."""
    plan = {}
    for run in runs:
        status = run_status.read(run["out_dir"])
        state = status["state"] if status else None
        latest = os.path.join(run["out_dir"], "run.h5.ckpt", "LATEST")
        plan[run["name"]] = "skip" if state == "ok" else "resume" if os.path.isfile(latest) else "run"
    return plan


def execute(runs, command, timeout, dry_run, unit="ranks", prepare=None, check=None, launcher="local", study="",
            resume=None):
    """Runs each run in turn, output in <out_dir>/log.txt; with dry_run only prints the command lines.
    command(run) -> (argv, extra env); prepare(run) is called once its directory exists; check(run,
    log_path, status, rc, wall seconds, CPU seconds) -> (status, rc, note) may overrule the exit code and
    add to the progress line. Each run's outcome goes to its status.json (`launcher` names what ran it, `study`
    prefixes the run's name there); a run stopped at the timeout with a checkpoint is "stopped". resume
    (resume_plan's answer, or None): runs to skip, and runs to continue with --resume (their log.txt
    appended to).
    Returns (number failed, run.h5 paths written)."""
    failed, logs, start = 0, [], time.time()
    for i, run in enumerate(runs, 1):
        how = (resume or {}).get(run["name"], "run")
        if how == "skip":
            print(f"[{i}/{len(runs)}] {run['name']}: done before, skipped")
            h5 = os.path.join(run["out_dir"], "run.h5")
            if not dry_run and os.path.exists(h5):
                logs.append(h5)
            continue
        if how == "resume":
            run = {**run, "args": run["args"] + ["--resume"]}
        cmd, env = command(run)
        if dry_run:
            print(command_line(cmd, env))
            continue
        os.makedirs(run["out_dir"], exist_ok=True)
        if run.get("meta"):
            run_meta.write(run["out_dir"], run["meta"])
        if prepare:
            prepare(run)
        log_path = os.path.join(run["out_dir"], "log.txt")
        print(f"[{i}/{len(runs)}] {run['name']} ({run['ranks']} {unit}){' resumed' if how == 'resume' else ''} ...",
              end=" ", flush=True)
        t0, cpu0 = time.time(), children_cpu_s()
        status, rc = run_one(cmd, env, log_path, timeout, os.path.join(run["out_dir"], "run.h5.stop"),
                             append=how == "resume")
        wall, cpu, note = time.time() - t0, children_cpu_s() - cpu0, ""
        if check:
            status, rc, note = check(run, log_path, status, rc, wall, cpu)
        print(f"{status} in {wall:.1f} s{note} (total {time.time() - start:.0f} s)", flush=True)
        h5 = os.path.join(run["out_dir"], "run.h5")
        if os.path.exists(h5):
            logs.append(h5)
        state = "ok" if rc == 0 else "stopped" if rc == STOPPED else "failed"
        run_status.write(run["out_dir"], f"{study}/{run['name']}" if study else run["name"], state,
                         "" if rc == 0 else status, launcher)
        if rc != 0:
            failed += 1
            show_tail(log_path)
    return failed, logs


def children_cpu_s():
    """User + system CPU seconds of this process's waited-for descendants: a run's share is the difference
    around it (a simulation on a loaded machine keeps its CPU time while its wall time grows)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def show_tail(log_path):
    """The last lines of a failed run's log, and where the whole log is."""
    if os.path.isfile(log_path):
        for line in tail(log_path, 6):
            print(f"    | {line}")
        print(f"    full log: {log_path}")


def report(logs, study_dir, registry, plots, prog, runs=()):
    """Summary table of this invocation's logs, the failed ones among `runs` marked; with plots, the
    figures of every log in the study directory into <study_dir>/figures/."""
    try:  # the runners themselves need no h5py, numpy or matplotlib
        from . import runlog, summary
    except ImportError as e:
        print(f"{prog}: no summary ({e}); run under /usr/bin/python3", file=sys.stderr)
        return
    print()
    statuses = [s for s in (run_status.read(r["out_dir"]) for r in runs) if s is not None]
    try:
        print("\n".join(summary.table(runlog.load_all(logs, registry), statuses)))
        if plots and logs:
            from .figures import all as figures
            out = os.path.join(study_dir, "figures")
            print(f"\nfigures in {out}/:")
            figures.draw_all(runlog.load_all([study_dir], registry), out, os.path.basename(study_dir) + "_")
    except runlog.RunLogError as e:
        print(f"{prog}: no summary or figures: {e}", file=sys.stderr)
