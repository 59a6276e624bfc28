#!/usr/bin/python3
"""Faults under mpiexec, end to end (registered with ctest by tests/fault/CMakeLists.txt).

    faults.py --gg-train PATH --mpiexec PATH --work DIR CHECK

CHECK is one of
  kill9 R        kill -9 of rank R of 4 in mid-run (after the first evaluation): the job ends, non-zero,
                 and the run log is readable (finished = 0, at least one evaluation, staging file gone)
  stall          SIGSTOP of rank 2 of 4 in mid-run with comm.stall_warn_s = 2, comm.stall_abort_s = 6: one
                 warning names rank 2 as not in any communication call, then one error line and exit
                 code 5; the stopped rank is gone afterwards and the log is readable
  second-run     a second run on the output path of a live run (2 ranks each) is refused at once (exit 2
                 on every rank, one error line), the first run finishes (exit 0) and its log is intact
  live-read      the log of a running job is read with h5py's defaults again and again: reads succeed
                 while finished = 0, the evaluations grow, and the finished log has them all
  huge-steps     train.max_steps = 1e15 without evaluations: the run trains (progress lines) with bounded
                 memory instead of reserving memory for every step, and is then killed
Times (to name a stalled rank, to end the job) are printed as 'measured: ...'. Exit status 0 when every
check passes; otherwise each failure is printed as 'FAIL: ...'.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import h5py

SYNTH = ["--set", "data.name=synthetic", "--set", "data.shape=[28,28,1]", "--set", "data.train_size=2048",
         "--set", "data.test_size=256"]
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL: " + message, flush=True)
    return ok


class Job:
    """gg_train under mpiexec in the background; its ranks carry a unique marker in their environment."""

    def __init__(self, args, np_, argv, out_name):
        self.mark = uuid.uuid4().hex
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", GG_FAULT_MARK=self.mark)
        cmd = [args.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(np_), "-x", "OPENBLAS_NUM_THREADS",
               "-x", "OMP_NUM_THREADS", "-x", "GG_FAULT_MARK", args.gg_train] + argv
        self.out_path = os.path.join(args.work, out_name)
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, env=env)
        self.t0 = time.monotonic()

    def text(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def rank_pid(self, rank):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if b"GG_FAULT_MARK=" + self.mark.encode() in env and b"OMPI_COMM_WORLD_RANK=%d" % rank in env:
                return int(pid)
        return None

    def ranks_alive(self):
        return [r for r in range(64) if self.rank_pid(r) is not None]

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for r in range(64):
            pid = self.rank_pid(r)
            if pid:
                for sig in (signal.SIGCONT, signal.SIGKILL):
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
        self.out.close()


def wait_for(cond, timeout, what):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if cond():
            return True
        time.sleep(0.05)
    return check(False, "timed out after %d s waiting for %s" % (timeout, what))


def read_log(path):
    """(finished, evaluations, steps, stopped) of a run log, read with h5py's defaults."""
    with h5py.File(path, "r") as f:
        return int(f.attrs["finished"]), f["eval/step"].shape[0], f["steps/loss"].shape[0], f.attrs.get("stopped")


def check_readable(path, what, finished=0):
    try:
        fin, evals, steps, _ = read_log(path)
    except Exception as e:  # noqa: BLE001 -- any failure to read is the finding
        return check(False, "%s: the log %s is not readable: %s" % (what, path, e))
    check(fin == finished, "%s: finished = %d, expected %d" % (what, fin, finished))
    check(evals >= 1 and steps >= evals, "%s: %d evaluations, %d steps" % (what, evals, steps))
    check(not os.path.exists(os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".part")),
          "%s: the staging file is left next to the log" % what)
    return True


def long_run(out, extra=()):
    return SYNTH + ["--set", "algorithm.name=gossipgrad", "--set", "train.max_steps=1000000", "--set",
                    "train.log_every=20", "--set", "output.path=" + out] + list(extra)


def check_kill9(args):
    out = os.path.join(args.work, "run.h5")
    job = Job(args, 4, long_run(out), "kill9.txt")
    try:
        if not wait_for(lambda: os.path.exists(out), 120, "the first evaluation (log published)"):
            return
        victim = job.rank_pid(args.rank)
        if not check(victim is not None, "rank %d's process not found" % args.rank):
            return
        t = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        rc = job.wait(60)
        end_s = time.monotonic() - t
        check(rc is not None, "the job did not end within 60 s of kill -9 of rank %d" % args.rank)
        check(rc not in (None, 0), "exit status %s after kill -9 of rank %d" % (rc, args.rank))
        print("measured: kill -9 of rank %d: the job ended after %.2f s (exit %s)" % (args.rank, end_s, rc))
        check(wait_for(lambda: not job.ranks_alive(), 20, "every rank to be gone"), "ranks left running")
        check_readable(out, "after kill -9 of rank %d" % args.rank)
    finally:
        job.kill()


def check_stall(args):
    out = os.path.join(args.work, "run.h5")
    job = Job(args, 4, long_run(out, ["--set", "comm.stall_warn_s=2", "--set", "comm.stall_abort_s=6"]), "stall.txt")
    victim = None
    try:
        if not wait_for(lambda: os.path.exists(out), 120, "the first evaluation (log published)"):
            return
        victim = job.rank_pid(2)
        if not check(victim is not None, "rank 2's process not found"):
            return
        t = time.monotonic()
        os.kill(victim, signal.SIGSTOP)
        named = None
        while job.proc.poll() is None and time.monotonic() - t < 90:
            if named is None and "warning: stall" in job.text():
                named = time.monotonic() - t
            time.sleep(0.02)
        rc = job.wait(1)
        end_s = time.monotonic() - t
        text = job.text()
        print(text[-3000:])
        if named is None and "warning: stall" in text:
            named = end_s
        check(named is not None, "no stall warning after SIGSTOP of rank 2")
        check(rc == 5, "exit status %s, expected 5 (stall)" % rc)
        warnings = [ln for ln in text.splitlines() if "warning: stall" in ln]
        errors = [ln for ln in text.splitlines() if "error:" in ln]
        check(len(warnings) == 1, "expected one stall warning, got %d" % len(warnings))
        check(len(errors) == 1 and errors[0].startswith("gg_train: error: stall: "), "expected one stall error line: %s"
              % errors)
        for ln in warnings + errors:
            check("rank 2 not in any communication call" in ln, "the stall line does not name rank 2: %s" % ln)
        print("measured: SIGSTOP of rank 2 (comm.stall_warn_s 2, comm.stall_abort_s 6): named after %s s, job ended "
              "after %.2f s (exit %s)" % ("%.2f" % named if named is not None else "-", end_s, rc))
        check(wait_for(lambda: not job.ranks_alive(), 20, "every rank to be gone"), "ranks left running (the stopped one?)")
        check_readable(out, "after the stall")
    finally:
        job.kill()


def check_second_run(args):
    out = os.path.join(args.work, "run.h5")
    argv = SYNTH + ["--set", "train.max_steps=160", "--set", "train.evals_per_epoch=2", "--set", "output.path=" + out]
    first = Job(args, 2, argv, "first.txt")
    try:
        if not wait_for(lambda: os.path.exists(out), 120, "the first run's first evaluation"):
            return
        t = time.monotonic()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        report = 'r=${OMPI_COMM_WORLD_RANK:-?}; "$0" "$@"; echo "gg_rank_exit $r $?" >&2'
        second = subprocess.run([args.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", "2", "sh", "-c", report,
                                 args.gg_train, "--quiet"] + argv, capture_output=True, text=True, timeout=120, env=env)
        refused_s = time.monotonic() - t
        text = second.stdout + second.stderr
        errors = [ln for ln in text.splitlines() if "error:" in ln]
        check(len(errors) == 1 and "a running gg_train writes it" in errors[0],
              "the second run's error lines: %s\n%s" % (errors, text))
        check(sorted(text.count("gg_rank_exit %d 2" % r) for r in range(2)) == [1, 1],
              "the second run must exit 2 on both ranks:\n%s" % text)
        print("measured: the second run was refused after %.2f s" % refused_s)
        rc = first.wait(300)
        check(rc == 0, "the first run's exit status %s after the refused second run\n%s" % (rc, first.text()[-2000:]))
        fin, evals, steps, _ = read_log(out)
        # 160 steps of 2 workers x batch 64 over 2048 samples: 16 per epoch, an evaluation every 8.
        check((fin, evals, steps) == (1, 20, 160), "the first run's log: finished %d, %d evaluations, %d steps; "
              "expected 1, 20, 160" % (fin, evals, steps))
        check(sorted(os.listdir(args.work)) == ["first.txt", "run.h5"], "left in the folder: %s" % os.listdir(args.work))
    finally:
        first.kill()


def check_live_read(args):
    out = os.path.join(args.work, "run.h5")
    argv = SYNTH + ["--set", "train.max_steps=240", "--set", "train.evals_per_epoch=4", "--set", "output.path=" + out]
    job = Job(args, 2, argv, "live.txt")
    seen, failed_reads = [], 0
    try:
        wait_for(lambda: os.path.exists(out), 120, "the first evaluation (log published)")
        while job.proc.poll() is None:
            try:
                fin, evals, steps, _ = read_log(out)
                if fin == 0:
                    seen.append(evals)
            except Exception:  # noqa: BLE001 -- a read overlapping a write may fail: count it, read again
                failed_reads += 1
            time.sleep(0.1)
        rc = job.wait(10)
        check(rc == 0, "exit status %s\n%s" % (rc, job.text()[-2000:]))
        distinct = sorted(set(seen))
        print("measured: %d live reads succeeded (they saw %d different evaluation counts, %s to %s), %d overlapped a "
              "write and were retried" % (len(seen), len(distinct), min(distinct, default="-"),
                                          max(distinct, default="-"), failed_reads))
        check(len(distinct) >= 2, "live reads must see the evaluations grow while the run goes on: %s" % distinct)
        check(seen == sorted(seen), "evaluations seen out of order: %s" % seen)
        fin, evals, steps, _ = read_log(out)
        check((fin, steps) == (1, 240) and evals >= max(distinct or [0]),
              "the finished log: finished %d, %d evaluations, %d steps" % (fin, evals, steps))
    finally:
        job.kill()


def check_huge_steps(args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = [args.gg_train] + SYNTH + ["--set", "train.max_steps=1000000000000000", "--set", "train.evals_per_epoch=0",
                                     "--set", "train.log_every=10", "--set", "output.path="]
    log = open(os.path.join(args.work, "huge.txt"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def progress_lines():
            with open(log.name) as f:
                return sum(1 for ln in f if ln.startswith("epoch "))
        wait_for(lambda: progress_lines() >= 3 or p.poll() is not None, 120, "three progress lines")
        check(p.poll() is None, "gg_train ended (exit %s) instead of training:\n%s" % (p.poll(), open(log.name).read()))
        with open("/proc/%d/status" % p.pid) as f:
            rss_kb = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
        print("measured: train.max_steps 1e15: training with %.0f MiB resident" % (rss_kb / 1024))
        check(rss_kb < 1024 * 1024, "resident memory %d KiB: step records must not be reserved up front" % rss_kb)
    finally:
        p.kill()
        p.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gg-train", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--work", required=True)
    sub = ap.add_subparsers(dest="check", required=True)
    k = sub.add_parser("kill9")
    k.add_argument("rank", type=int)
    for name in ("stall", "second-run", "live-read", "huge-steps"):
        sub.add_parser(name)
    args = ap.parse_args()
    args.gg_train = os.path.abspath(args.gg_train)
    os.makedirs(args.work, exist_ok=True)
    args.work = os.path.abspath(os.path.join(args.work, args.check + (str(args.rank) if args.check == "kill9" else "")))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    {"kill9": check_kill9, "stall": check_stall, "second-run": check_second_run, "live-read": check_live_read,
     "huge-steps": check_huge_steps}[args.check](args)
    if failures:
        print("%d check(s) failed (files kept in %s)" % (len(failures), args.work))
        return 1
    shutil.rmtree(args.work, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
