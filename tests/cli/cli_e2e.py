#!/usr/bin/python3
"""End-to-end checks of gg_train's command line (registered with ctest by tests/cli/CMakeLists.txt).

    cli_e2e.py --gg-train PATH --mpiexec PATH --source DIR --build-type TYPE --work DIR CHECK [ARGS]

CHECK is one of
  describe           --describe prints one valid JSON document: the paper's four algorithms first, in
                     registry order, each with its options (type, default within its choices / range, doc)
  version            --version names the build's git revision (a commit of the source tree), its BLAS
                     kernels (a user's OPENBLAS_CORETYPE respected and named) and build
                     type, agrees with --describe, and is printed once under mpiexec
  rerun ALGO NP      a short run is re-run from the config stored in its HDF5 log (changing only
                     output.path): /steps/loss (and every other per-step value that is not a timing)
                     is bitwise identical; the stored config is a fixed point and holds every option of
                     the algorithm (--describe's defaults where not set); another seed gives other losses
  bad-args NP        bad command lines exit with status 2 and print exactly one error line naming the
                     offending option, under mpiexec -n NP (NP = 1: no mpiexec)
  bad-options        algorithm options that do not fit the number of ranks (or are out of range), under
                     mpiexec: every rank exits with status 2 on its own (each rank runs inside a shell that
                     reports its exit status, so mpiexec cannot cut a rank short), exactly one error line
                     naming the option is printed, nothing goes to stdout, no log file is written
  final-average M NP gossipgrad on NP ranks with train.final_average=M (allreduce or hypercube): the log's
                     last /eval row is the exact final model (attributes final_average, final_exact_row),
                     its replica top-1 equals the averaged model's exactly and the replicas agree; the row
                     before it records the replicas as trained; ggbench.runlog exposes both
Exit status 0 when every check passes; otherwise each failure is printed as 'FAIL: ...'.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

FOUR = ["allreduce", "ps", "gossip", "gossipgrad"]
TIMEOUT_S = 120
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL: " + message, flush=True)
    return ok


class GgTrain:
    def __init__(self, args):
        self.exe = args.gg_train
        self.mpiexec = args.mpiexec
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def command(self, np_, argv):
        if np_ <= 1:
            return [self.exe] + argv
        return [self.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(np_),
                "-x", "OPENBLAS_NUM_THREADS", "-x", "OMP_NUM_THREADS", self.exe] + argv

    def run(self, argv, np_=1, cwd=None):
        cmd = self.command(np_, argv)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=self.env, cwd=cwd)
        except subprocess.TimeoutExpired:
            check(False, "timed out (hang?) after %d s: %s" % (TIMEOUT_S, " ".join(cmd)))
            raise SystemExit(1)
        return p

    def ok(self, argv, np_=1, cwd=None):
        p = self.run(argv, np_, cwd)
        if not check(p.returncode == 0, "exit status %d from %s\n%s%s" % (
                p.returncode, " ".join(self.command(np_, argv)), p.stdout[-3000:], p.stderr[-3000:])):
            raise SystemExit(1)
        return p


def describe(gg):
    p = gg.ok(["--describe"])
    try:
        doc = json.loads(p.stdout)  # the whole of stdout: one JSON document, nothing else
    except json.JSONDecodeError as e:
        check(False, "--describe did not print valid JSON (%s):\n%s" % (e, p.stdout[:2000]))
        return None
    return doc


def check_option(algo, o):
    where = "algorithm %s option %s" % (algo, o.get("name"))
    if not check(all(k in o for k in ("name", "type", "default", "doc")), where + ": needs name, type, default, doc"):
        return
    check(isinstance(o["doc"], str) and o["doc"].strip() != "", where + ": empty doc")
    d, t = o["default"], o["type"]
    kinds = {"bool": lambda v: isinstance(v, bool),
             "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
             "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
             "string": lambda v: isinstance(v, str)}
    if not check(t in kinds, where + ": unknown type %r" % t):
        return
    check(kinds[t](d), where + ": default %r is not of type %s" % (d, t))
    if "choices" in o:
        check(d in o["choices"], where + ": default %r not among the choices %r" % (d, o["choices"]))
    if "min" in o:
        check(d >= o["min"], where + ": default %r below min %r" % (d, o["min"]))
    if "max" in o:
        check(d <= o["max"], where + ": default %r above max %r" % (d, o["max"]))


def check_describe(gg, args):
    doc = describe(gg)
    if doc is None:
        return
    algos = doc.get("algorithms")
    if not check(isinstance(algos, list) and all(isinstance(a, dict) for a in algos),
                 "--describe: 'algorithms' must be a list of objects"):
        return
    names = [a.get("name") for a in algos]
    check(names[:4] == FOUR, "--describe: algorithms must start with %s in registry order, got %s" % (FOUR, names))
    check(len(set(names)) == len(names), "--describe: duplicate algorithm names %s" % names)
    for a in algos:
        for key in ("summary", "provenance", "reference"):
            check(isinstance(a.get(key), str) and a[key] != "", "algorithm %s: empty %s" % (a.get("name"), key))
        opts = a.get("options")
        if not check(isinstance(opts, list), "algorithm %s: 'options' must be a list" % a.get("name")):
            continue
        onames = [o.get("name") for o in opts]
        check(len(set(onames)) == len(onames), "algorithm %s: duplicate options %s" % (a["name"], onames))
        for o in opts:
            check_option(a["name"], o)
    by_name = {a["name"]: {o["name"]: o for o in a.get("options", [])} for a in algos}
    # What the paper's algorithms must expose (each default says what a plain run does).
    expected = {"ps": {"servers": 1, "mode": "sync"},
                "gossip": {"topology": "hypercube"},
                "gossipgrad": {"topology": "hypercube", "shuffle": "partner"}}
    for algo, defaults in expected.items():
        for opt, value in defaults.items():
            o = by_name.get(algo, {}).get(opt)
            if check(o is not None, "algorithm %s has no option %s" % (algo, opt)):
                check(o["default"] == value, "%s.%s default is %r, expected %r" % (algo, opt, o["default"], value))
    for key in ("models", "datasets"):
        check(isinstance(doc.get(key), list) and doc[key], "--describe: '%s' must be a non-empty list" % key)
    if check(isinstance(doc.get("version"), dict), "--describe: no 'version' object"):
        check(doc["version"].get("build_type") == args.build_type,
              "--describe: build_type %r, built as %r" % (doc["version"].get("build_type"), args.build_type))


def check_version(gg, args):
    p = gg.ok(["--version"])
    m = re.fullmatch(r"gg_train (\S+) \((\S+) build; backends: (\S+)\)\n"
                     r"BLAS: OpenBLAS \S+( \(DYNAMIC_ARCH\))?, kernels (\S+) \(chosen by ([^;)]+)[^\n]*\)\n", p.stdout)
    if not check(m is not None, "--version: unexpected format %r" % p.stdout):
        return
    rev, build_type, backends, _, kernels, chosen_by = m.groups()
    check(chosen_by in ("CPU features", "OpenBLAS"), "--version: kernels chosen by %r without OPENBLAS_CORETYPE" % chosen_by)
    forced = subprocess.run(gg.command(1, ["--version"]), capture_output=True, text=True, timeout=TIMEOUT_S,
                            env=dict(gg.env, OPENBLAS_CORETYPE="Prescott"))
    check("kernels Prescott (chosen by OPENBLAS_CORETYPE" in forced.stdout,
          "--version with OPENBLAS_CORETYPE=Prescott: the user's kernels must run and be named, got %r" % forced.stdout)
    check(build_type == args.build_type, "--version: build type %r, built as %r" % (build_type, args.build_type))
    check("mpi" in backends.split(","), "--version: backends %r lack mpi" % backends)
    inside = subprocess.run(["git", "-C", args.source, "rev-parse", "--git-dir"], capture_output=True).returncode == 0
    if inside:
        commit = rev[:-len("-dirty")] if rev.endswith("-dirty") else rev
        check(re.fullmatch(r"[0-9a-f]{7,40}", commit) is not None, "--version: %r is not a git revision" % rev)
        found = subprocess.run(["git", "-C", args.source, "cat-file", "-e", commit + "^{commit}"],
                               capture_output=True).returncode == 0
        check(found, "--version: %r is not a commit of %s" % (rev, args.source))
    else:
        check(rev == "unknown", "--version: %r outside a git checkout, expected 'unknown'" % rev)
    doc = describe(gg)
    if doc is not None:
        check(doc.get("version", {}).get("git") == rev,
              "--describe says git %r, --version %r" % (doc.get("version", {}).get("git"), rev))
    p2 = gg.ok(["--version"], np_=2)
    check(p2.stdout == p.stdout, "--version under mpiexec -n 2 must print once, as on one rank; got %r" % p2.stdout)


def stored_config(path):
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["config"])


# Per-step datasets that must repeat exactly (the others are timings).
EXACT_STEPS = ["loss", "loss_mean", "step", "partner", "bytes_sent"]


def steps_of(path):
    with h5py.File(path, "r") as f:
        return {k: f["steps"][k][()] for k in EXACT_STEPS if k in f["steps"]}


def check_rerun(gg, args):
    algo, np_ = args.algo, args.np
    work = args.work
    a, b, c = (os.path.join(work, n) for n in ("first.h5", "rerun.h5", "other_seed.h5"))
    base = ["--config", os.path.join(args.source, "experiments", "configs", "quick.json"),
            "--set", "train.max_steps=12", "--set", "data.train_limit=1024", "--set", "data.test_limit=256",
            "--set", "train.evals_per_epoch=0", "--set", "train.seed=5", "--set", "algorithm.name=" + algo]
    overrides = {"gossipgrad": {"rotation": "permutation"}, "ps": {"servers": 1, "mode": "sync"}}.get(algo, {})
    for k, v in overrides.items():
        base += ["--set", "algorithm.%s=%s" % (k, json.dumps(v) if not isinstance(v, str) else v)]
    gg.ok(base + ["--quiet", "--set", "output.path=" + a], np_)
    cfg = stored_config(a)

    # The stored config holds every option of the algorithm: --describe's default unless set.
    doc = describe(gg)
    if doc is not None:
        spec = {x["name"]: x for x in doc["algorithms"]}.get(algo)
        if check(spec is not None, "--describe lists no algorithm %s" % algo):
            want = {"name": algo}
            want.update({o["name"]: o["default"] for o in spec["options"]})
            want.update(overrides)
            check(cfg.get("algorithm") == want, "stored algorithm block %s, expected %s (defaults from --describe)"
                  % (json.dumps(cfg.get("algorithm"), sort_keys=True), json.dumps(want, sort_keys=True)))
    check(cfg.get("train", {}).get("seed") == 5 and cfg["train"].get("max_steps") == 12,
          "stored config lost the --set values: train %s" % cfg.get("train"))

    # Re-run from the stored config alone, only the output path changed.
    cfg["output"]["path"] = b
    cfg_path = os.path.join(work, "from_log.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)
    gg.ok(["--config", cfg_path, "--quiet"], np_)
    cfg_b = stored_config(b)
    check(cfg_b == cfg, "the re-run's stored config differs from the config it was given:\n%s\n%s"
          % (json.dumps(cfg, sort_keys=True), json.dumps(cfg_b, sort_keys=True)))

    sa, sb = steps_of(a), steps_of(b)
    check("loss" in sa and sa["loss"].shape[0] == 12, "/steps/loss of the first run: %s" % sa.get("loss"))
    for k in EXACT_STEPS:
        if k in sa or k in sb:
            same = k in sa and k in sb and sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape and \
                sa[k].tobytes() == sb[k].tobytes()
            check(same, "/steps/%s differs between the run and its re-run from the log:\n%s\n%s" % (k, sa.get(k), sb.get(k)))

    # The comparison can tell runs apart: another seed gives other losses.
    gg.ok(base + ["--quiet", "--set", "train.seed=6", "--set", "output.path=" + c], np_)
    check(steps_of(c)["loss"].tobytes() != sa["loss"].tobytes(), "train.seed 6 gave the same losses as seed 5")


def check_bad_args(gg, args):
    cases = [  # argv, text the single error line must contain (naming the option)
        (["--bogus"], "--bogus"),
        (["--set"], "--set"),
        (["--set", "train.epochs"], "--set 'train.epochs': expected key.path=value"),
        (["--config"], "--config"),
        (["--quiet=maybe"], "--quiet"),
        (["stray"], "stray"),
    ]
    if args.np > 1:
        cases = cases[:3]  # under mpiexec: the agreement among ranks, on the three that matter most
    for argv, needle in cases:
        p = gg.run(argv, args.np)
        out = p.stdout + p.stderr
        what = "gg_train %s (np %d)" % (" ".join(argv), args.np)
        check(p.returncode == 2, "%s: exit status %d, expected 2\n%s" % (what, p.returncode, out))
        lines = [ln for ln in out.splitlines() if "error:" in ln]
        check(len(lines) == 1, "%s: expected exactly one error line, got %d:\n%s" % (what, len(lines), out))
        check(any(needle in ln for ln in lines), "%s: the error line does not name %r:\n%s" % (what, needle, out))
        check(p.stdout == "", "%s: printed to stdout:\n%s" % (what, p.stdout))


BAD_OPTIONS = [  # ranks, --set overrides, text the single error line must contain (naming the option)
    (5, ["algorithm.name=dpsgd", "algorithm.topology=torus"], "'algorithm.topology' torus needs p = rows x cols"),
    (7, ["algorithm.name=dpsgd", "algorithm.topology=torus"], "'algorithm.topology' torus"),
    (6, ["algorithm.name=gossip_pga", "algorithm.topology=hypercube"],
     "algorithm.topology: hypercube needs a power-of-two number of workers, got 6"),
    (3, ["algorithm.name=gossip_pga"], "algorithm.topology: hypercube"),  # the default topology
    (4, ["algorithm.name=local_sgd", "algorithm.period=0"], "'algorithm.period' must be in [1,"),
    (4, ["algorithm.name=gossip_pga", "algorithm.period=0"], "'algorithm.period' must be in [1,"),
    (4, ["algorithm.name=adpsgd", "algorithm.graph=star"], "'algorithm.graph'"),
    (4, ["algorithm.name=sgp", "algorithm.overlap=3"], "'algorithm.overlap'"),
    (4, ["algorithm.name=dpsgd", "algorithm.period=2"], "algorithm.period"),  # not an option of dpsgd
]
RANK_EXIT = re.compile(r"^gg_rank_exit (\d+) (\d+)$", re.M)


def check_bad_options(gg, args):
    synth = ["--set", "data.name=synthetic", "--set", "data.shape=[28,28,1]", "--set", "data.train_size=2048",
             "--set", "data.test_size=256"]
    # Each rank: gg_train, then one line with its rank and exit status; the shell exits 0, so that mpiexec
    # lets every rank finish (it aborts the job at the first non-zero exit).
    report = 'r=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-?}}; "$0" "$@"; echo "gg_rank_exit $r $?" >&2'
    for np_, sets, needle in BAD_OPTIONS:
        out_path = os.path.join(args.work, "never.h5")
        argv = synth + ["--set", "output.path=" + out_path] + [a for s in sets for a in ("--set", s)]
        cmd = [gg.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(np_), "-x", "OPENBLAS_NUM_THREADS",
               "-x", "OMP_NUM_THREADS", "sh", "-c", report, gg.exe] + argv
        what = "gg_train %s (np %d)" % (" ".join(sets), np_)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=gg.env)
        except subprocess.TimeoutExpired:
            check(False, "%s: timed out (hang?)" % what)
            continue
        out = p.stdout + p.stderr
        codes = {int(r): int(c) for r, c in RANK_EXIT.findall(p.stderr)}
        check(sorted(codes) == list(range(np_)), "%s: exit reports from ranks %s, expected 0..%d\n%s"
              % (what, sorted(codes), np_ - 1, out))
        bad = {r: c for r, c in codes.items() if c != 2}
        check(not bad, "%s: ranks with an exit status other than 2: %s\n%s" % (what, bad, out))
        lines = [ln for ln in out.splitlines() if "error:" in ln]
        check(len(lines) == 1, "%s: expected exactly one error line, got %d:\n%s" % (what, len(lines), out))
        check(any(needle in ln for ln in lines), "%s: the error line does not contain %r:\n%s" % (what, needle, out))
        check(p.stdout == "", "%s: printed to stdout:\n%s" % (what, p.stdout))
        check(not os.path.exists(out_path), "%s: wrote %s" % (what, out_path))


def check_final_average(gg, args):
    path = os.path.join(args.work, "final.h5")
    gg.ok(["--config", os.path.join(args.source, "experiments", "configs", "quick.json"),
           "--set", "data.name=synthetic", "--set", "data.shape=[28,28,1]", "--set", "data.train_size=2048",
           "--set", "data.test_size=256", "--set", "train.max_steps=12", "--set", "train.evals_per_epoch=0",
           "--set", "algorithm.name=gossipgrad", "--set", "train.final_average=" + args.method,
           "--set", "output.path=" + path], args.np)
    with h5py.File(path, "r") as f:
        ev = f["eval"]
        top1 = {g: ev[g + "/top1"][()] for g in ("rank0", "averaged", "replica_min", "replica_max")}
        rows = len(ev["step"])
        check(rows == 2, "/eval has %d rows, expected the last step's and the final model's" % rows)
        check(ev.attrs.get("final_average") == args.method, "/eval final_average = %r" % ev.attrs.get("final_average"))
        check(int(ev.attrs.get("final_exact_row", -1)) == rows - 1, "/eval final_exact_row = %r, expected %d"
              % (ev.attrs.get("final_exact_row"), rows - 1))
        check(ev["step"][-1] == ev["step"][0] == 12, "/eval/step %s" % ev["step"][()])
        check(top1["rank0"][-1] == top1["averaged"][-1], "final model: replica top-1 %r != averaged top-1 %r"
              % (top1["rank0"][-1], top1["averaged"][-1]))
        check(top1["replica_min"][-1] == top1["replica_max"][-1] == top1["rank0"][-1],
              "final model: the replicas differ (top-1 %r..%r)" % (top1["replica_min"][-1], top1["replica_max"][-1]))
        check(ev["consensus"][-1] < 1e-6 < ev["consensus"][0],
              "consensus before / after the average: %s" % ev["consensus"][()])
    sys.path.insert(0, args.source)
    from ggbench import runlog
    run = runlog.load(path)
    check(run.final_average == args.method, "runlog: final_average %r" % run.final_average)
    check(run.final_model("top1") == top1["rank0"][-1], "runlog: final_model() %r" % run.final_model("top1"))
    check(run.final_replica("top1") == top1["rank0"][0] and len(run.eval["step"]) == 1,
          "runlog: final_replica() %r, eval rows %d" % (run.final_replica("top1"), len(run.eval["step"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gg-train", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--build-type", required=True)
    ap.add_argument("--work", required=True, help="scratch directory (a fresh subdirectory is made)")
    sub = ap.add_subparsers(dest="check", required=True)
    sub.add_parser("describe")
    sub.add_parser("version")
    r = sub.add_parser("rerun")
    r.add_argument("algo")
    r.add_argument("np", type=int)
    b = sub.add_parser("bad-args")
    b.add_argument("np", type=int)
    sub.add_parser("bad-options")
    fa = sub.add_parser("final-average")
    fa.add_argument("method", choices=["allreduce", "hypercube"])
    fa.add_argument("np", type=int)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    args.work = tempfile.mkdtemp(prefix=args.check + "_", dir=args.work)
    gg = GgTrain(args)
    try:
        {"describe": check_describe, "version": check_version, "rerun": check_rerun,
         "bad-args": check_bad_args, "bad-options": check_bad_options,
         "final-average": check_final_average}[args.check](gg, args)
    finally:
        if not failures:
            shutil.rmtree(args.work, ignore_errors=True)
    if failures:
        print("%d check(s) failed (files kept in %s)" % (len(failures), args.work))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
