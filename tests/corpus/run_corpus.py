#!/usr/bin/python3
"""Runs the bad-input corpus (cases.py) against gg_train; registered with ctest in shards
(tests/corpus/CMakeLists.txt).

    run_corpus.py --gg-train PATH --mpiexec PATH --work DIR [--shard K/N] [--only NAME ...] [--list]

Each case runs in a fresh folder of its own (its cwd), made by the case's setup. Checked for every case:
  - every rank's exit status is the expected one (under mpiexec each rank runs inside a shell that
    reports its own status, so mpiexec cannot cut a rank short), and nothing hangs (timeout);
  - exactly one output line contains "error:" (none when the expected status is 0); it starts with
    "gg_train: error: ", contains the case's text and is at most 400 characters long; stdout is empty
    for set-up errors (exit status 2);
  - whatever else the case checks (its `after`: a refused --resume leaves the log byte for byte);
  - nothing is left behind: afterwards the folder holds exactly what the setup put there, plus the files
    the case must leave (a diverged run's log after its first evaluation holds `stopped`, finished = 0).
Prints one line per case with its time, then a summary; exit status 0 when every case passes.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES  # noqa: E402

TIMEOUT_S = 90
MAX_LINE = 400
RANK_EXIT = re.compile(r"^gg_rank_exit (\d+) (\d+)$", re.M)
REPORT = 'r=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-?}}; "$0" "$@"; echo "gg_rank_exit $r $?" >&2'


def listing(d):
    out = set()
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(root, n), d))
    return out


def command(args, case, argv):
    if case.np <= 1:
        return [args.gg_train] + argv
    return [args.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(case.np), "-x", "OPENBLAS_NUM_THREADS",
            "-x", "OMP_NUM_THREADS", "sh", "-c", REPORT, args.gg_train] + argv


def check_left_log(path, case, problems):
    import h5py
    try:
        with h5py.File(path, "r") as f:
            finished = int(f.attrs["finished"])
            stopped = f.attrs.get("stopped", "")
            evals = f["eval/step"].shape[0]
    except Exception as e:  # noqa: BLE001 -- any failure to read is the finding
        problems.append("%s is not a readable run log: %s" % (path, e))
        return
    if case.code == 0 and finished != 1:
        problems.append("%s: finished = %d after a successful run" % (path, finished))
    if case.code == 4 and (finished != 0 or "diverged" not in str(stopped) or evals < 1):
        problems.append("%s: a diverged run's log needs finished 0, `stopped` and an evaluation; got %d, %r, %d"
                        % (path, finished, stopped, evals))


def run_case(args, case):
    d = os.path.join(args.work, case.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    values = {"d": d}
    made = case.setup(d) if case.setup else {}
    hold = (made or {}).pop("hold", [])
    values.update(made or {})
    before = listing(d)
    def fill(s):
        for k, v in values.items():
            s = s.replace("{%s}" % k, str(v))
        return s
    argv = ["--quiet", "--set", "output.path=" + os.path.join(d, "out", "run.h5")]
    for s in case.base + case.sets:
        argv += ["--set", fill(s)]
    argv += [fill(a) for a in case.argv]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    problems = []
    t0 = time.monotonic()
    try:
        p = subprocess.run(command(args, case, argv), capture_output=True, text=True, errors="replace",
                           timeout=TIMEOUT_S, env=env, cwd=d)
    except subprocess.TimeoutExpired:
        for h in hold:
            h.close()
        return ["timed out after %d s (a hang)" % TIMEOUT_S], time.monotonic() - t0
    elapsed = time.monotonic() - t0
    for h in hold:
        h.close()
    out = p.stdout + p.stderr
    if case.np <= 1:
        codes = {0: p.returncode}
    else:
        codes = {int(r): int(c) for r, c in RANK_EXIT.findall(p.stderr)}
        if sorted(codes) != list(range(case.np)):
            problems.append("exit reports from ranks %s, expected 0..%d" % (sorted(codes), case.np - 1))
    wrong = {r: c for r, c in codes.items() if c != case.code}
    if wrong:
        problems.append("ranks with an exit status other than %d: %s" % (case.code, wrong))
    lines = [ln for ln in out.splitlines() if "error:" in ln]
    if case.code == 0:
        if lines:
            problems.append("error lines in a run that must succeed: %s" % lines)
    else:
        needle = fill(case.needle)
        if len(lines) != 1:
            problems.append("expected exactly one error line, got %d" % len(lines))
        for ln in lines:
            if not ln.startswith("gg_train: error: "):
                problems.append("error line does not start with 'gg_train: error: ': %r" % ln[:200])
            if len(ln) > MAX_LINE:
                problems.append("error line of %d characters (at most %d)" % (len(ln), MAX_LINE))
        if not any(needle in ln for ln in lines):
            problems.append("no error line contains %r" % needle)
        if p.stdout and case.code == 2:  # set-up errors: before any header or progress line
            problems.append("printed to stdout: %r" % p.stdout[:300])
    expected = set(case.leaves) | {os.path.dirname(x) for x in case.leaves} - {""}
    left = sorted(listing(d) - before - expected)
    if left:
        problems.append("left behind: %s" % left)
    if case.after:
        problems += case.after(d, values)
    for rel in case.leaves:
        path = os.path.join(d, rel)
        if not os.path.exists(path):
            problems.append("%s was not written" % rel)
        elif path.endswith(".h5"):
            check_left_log(path, case, problems)
    if problems:
        problems.append("output:\n" + out[-4000:])
    return problems, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gg-train", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--shard", default="1/1", help="K/N: run every N-th case starting at the K-th")
    ap.add_argument("--only", nargs="*", help="case names")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    names = [c.name for c in CASES]
    if len(set(names)) != len(names):
        print("FAIL: duplicate case names")
        return 1
    k, n = (int(x) for x in args.shard.split("/"))
    cases = [c for i, c in enumerate(CASES) if i % n == k - 1 and (not args.only or c.name in args.only)]
    if args.list:
        for c in cases:
            print("%-40s np %d  exit %d  %s" % (c.name, c.np, c.code, c.needle))
        print("%d cases (%d in the whole corpus)" % (len(cases), len(CASES)))
        return 0
    args.gg_train = os.path.abspath(args.gg_train)
    os.environ["GG_CORPUS_GG_TRAIN"], os.environ["GG_CORPUS_MPIEXEC"] = args.gg_train, args.mpiexec  # fixtures.killed_run
    args.work = os.path.abspath(os.path.join(args.work, "shard%d" % k))
    os.makedirs(args.work, exist_ok=True)
    failed = []
    t_all = time.monotonic()
    for c in cases:
        problems, elapsed = run_case(args, c)
        print("%-4s %-40s np %d  %5.1f s" % ("ok" if not problems else "FAIL", c.name, c.np, elapsed), flush=True)
        if problems:
            failed.append(c.name)
            for pr in problems:
                print("     " + pr.replace("\n", "\n     "), flush=True)
        else:
            shutil.rmtree(os.path.join(args.work, c.name), ignore_errors=True)
    print("%d of %d cases passed (shard %s of a corpus of %d) in %.1f s" % (
        len(cases) - len(failed), len(cases), args.shard, len(CASES), time.monotonic() - t_all))
    if failed:
        print("failed: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
