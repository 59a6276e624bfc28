"""scripts/run_study.py and scripts/run_smpi.py: study validation against the registry of gg_train
--describe, expansion into mpirun / smpirun command lines, and full runs of small studies against a
stand-in gg_train (fake_gg_train.py, synthetic run logs) and smpirun (fake_smpirun.py).

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_run_study.py" -v"""
import copy
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RUNNER = REPO / "scripts" / "run_study.py"
SMPI_RUNNER = REPO / "scripts" / "run_smpi.py"
FAKE = json.loads((HERE / "fake_describe.json").read_text())
NAMES = ", ".join(a["name"] for a in FAKE["algorithms"])


class StudyCase(unittest.TestCase):
    """A temporary directory with a stand-in build, a base config and helpers to run a runner."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_runner_")
        self.root = pathlib.Path(self.tmp.name)
        self.build = self.root / "build"
        (self.build / "experiments").mkdir(parents=True)
        os.symlink(HERE / "fake_gg_train.py", self.build / "experiments" / "gg_train")
        self.config = self.root / "base.json"
        self.config.write_text(json.dumps({"name": "t", "model": "lenet", "train": {"epochs": 1}}))

    def tearDown(self):
        self.tmp.cleanup()

    def study(self, doc):
        path = self.root / "study.json"
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def runner(self, *args, build=None, script=RUNNER):
        return subprocess.run([PY, script, *map(str, args), "--build-dir", build or self.build, "--results",
                               self.root / "results"], capture_output=True, text=True, timeout=120)

    def build_with(self, describe):
        """A build whose gg_train answers --describe with `describe` (a dict) or, given None, fails like
        a gg_train that predates --describe; anything else goes to the stand-in."""
        build = self.root / f"build{len(list(self.root.glob('build*')))}"
        (build / "experiments").mkdir(parents=True)
        if describe is None:
            answer = "echo \"gg_train: error: unknown argument '--describe' (see --help)\" >&2; exit 2"
        else:
            (build / "describe.json").write_text(json.dumps(describe))
            answer = f"cat {build / 'describe.json'}; exit 0"
        gg = build / "experiments" / "gg_train"
        gg.write_text(f"#!/bin/sh\nif [ \"$1\" = --describe ]; then {answer}; fi\n"
                      f"exec {HERE / 'fake_gg_train.py'} \"$@\"\n")
        gg.chmod(0o755)
        return build

    def assert_bad(self, doc, *fragments):
        r = self.runner(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, r.stderr)



class RunStudy(StudyCase):
    def test_invalid_studies_exit_2_with_one_line(self):
        base = str(self.config)
        self.assert_bad('{"name": "x", "base": ', "malformed JSON at line 1")
        self.assert_bad({"name": "x", "base": base, "swep": {}}, "swep: unknown key")
        self.assert_bad({"name": "x", "base": base, "sweep": {"rank": [2]}}, "sweep.rank: unknown key")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": [2, "4"]}}, "sweep.ranks[1]", "positive integer")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": 4}}, "sweep.ranks", "non-empty list")
        self.assert_bad({"name": "x", "base": base, "sweep": {"algorithm": [{"name": "sgd"}]}},
                        "sweep.algorithm[0].name", f"expected one of {NAMES}, got")
        self.assert_bad({"name": "x", "base": base,
                         "sweep": {"algorithm": [{"name": "gossipgrad", "rotaton": "none"}]}},
                        "sweep.algorithm[0].rotaton: unknown option of gossipgrad (options: topology,")
        self.assert_bad({"name": "x", "base": base, "sweep": {"algorithm": [{"name": "ps", "mode": "lazy"}]}},
                        "sweep.algorithm[0].mode: expected one of sync, async")
        self.assert_bad({"name": "x y", "base": base}, "name:")
        self.assert_bad({"name": "x", "base": "missing.json"}, "base", "not found")
        self.assert_bad({"name": "x", "base": base, "set": {"output.path": "a"}}, "chosen by the runner")
        self.assert_bad({"name": "x", "base": base, "sweep": {"algorithm": [{"name": "ps"}], "ranks": [4],
                                                               "global_batch": 100}}, "does not divide among 3 workers")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": [4], "global_batch": 64}},
                        "sweep.global_batch: needs the algorithm")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": [4], "workers": [4]}}, "not both")
        self.assert_bad({"name": "x", "base": base, "sweep": {"workers": [0]}}, "sweep.workers[0]", "positive integer")

    def test_workers_sweep_adds_server_ranks_and_keeps_the_global_batch(self):
        doc = {"name": "w", "base": str(self.config),
               "sweep": {"algorithm": [{"name": "allreduce"}, {"name": "ps"}, {"name": "ps", "servers": 2}],
                         "workers": [4, 16], "global_batch": 64}}
        r = self.runner(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 6)
        def line(name):
            [l] = [l for l in lines if f"/{name}/run.h5" in l]
            return l
        self.assertIn("-np 4 ", line("allreduce_w4_gb64"))
        self.assertIn("-np 5 ", line("ps_w4_gb64"))
        self.assertIn("-np 18 ", line("ps_servers-2_w16_gb64"))
        for name, batch in (("allreduce_w4_gb64", 16), ("ps_w4_gb64", 16), ("ps_servers-2_w16_gb64", 4)):
            self.assertIn(f"--set train.batch={batch} ", line(name))

    def test_algorithm_names_come_from_describe(self):
        doc = copy.deepcopy(FAKE)
        doc["algorithms"].append({"name": "extra_algo", "summary": "", "provenance": "extension", "reference": "",
                                  "options": [], "layout": {"servers_option": None}})
        build = self.build_with(doc)
        ok = {"name": "x", "base": str(self.config), "sweep": {"algorithm": [{"name": "extra_algo"}], "ranks": [4]}}
        r = self.runner(self.study(ok), "--dry-run", build=build)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("/x/extra_algo_p4/run.h5", r.stdout)
        bad = {"name": "x", "base": str(self.config), "sweep": {"algorithm": [{"name": "sgd"}]}}
        r = self.runner(self.study(bad), "--dry-run", build=build)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"expected one of {NAMES}, extra_algo, got \"sgd\"", r.stderr)

    def test_server_ranks_come_from_the_layout(self):
        doc = copy.deepcopy(FAKE)
        gossip = next(a for a in doc["algorithms"] if a["name"] == "gossip")
        gossip["options"].append({"name": "relays", "type": "int", "default": 2, "min": 0, "doc": ""})
        gossip["layout"]["servers_option"] = "relays"
        ps = next(a for a in doc["algorithms"] if a["name"] == "ps")
        ps["layout"]["servers_option"] = None
        study = {"name": "w", "base": str(self.config), "sweep": {
            "algorithm": [{"name": "gossip"}, {"name": "gossip", "relays": 3}, {"name": "ps"}], "workers": [4]}}
        r = self.runner(self.study(study), "--dry-run", build=self.build_with(doc))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertIn("-np 6 ", next(l for l in lines if "/gossip_w4/" in l))
        self.assertIn("-np 7 ", next(l for l in lines if "/gossip_relays-3_w4/" in l))
        self.assertIn("-np 4 ", next(l for l in lines if "/ps_w4/" in l))

    def test_dry_run_needs_a_gg_train_that_describes_itself(self):
        doc = {"name": "x", "base": str(self.config)}
        for build, words in ((self.root / "empty", "not built; build it first (cmake --build"),
                             (self.build_with(None), "--describe failed")):
            with self.subTest(build=build.name):
                r = self.runner(self.study(doc), "--dry-run", build=build)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(words, r.stderr)

    def test_expansion_and_launcher_flags(self):
        doc = {"name": "s", "base": str(self.config), "set": {"train.epochs": 2},
               "sweep": {"algorithm": [{"name": "allreduce"}, {"name": "gossipgrad", "rotation": "none"}],
                         "ranks": [1, 2, 64], "set": {"train.batch": [16, 32]}}}
        r = self.runner(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 2 * 3 * 2)
        one = [l for l in lines if "_p1_" in l]
        self.assertTrue(all("mpirun" not in l for l in one))
        big = [l for l in lines if "-np 64" in l]
        self.assertEqual(len(big), 4)
        self.assertTrue(all("--oversubscribe" in l and "OPENBLAS_NUM_THREADS=1" in l for l in big))
        self.assertEqual(all("--allow-run-as-root" in l for l in big), os.geteuid() == 0)
        self.assertIn("'algorithm={\"name\":\"gossipgrad\",\"rotation\":\"none\"}'", r.stdout)
        self.assertIn("gossipgrad_rotation-none_p64_batch-32", r.stdout)
        self.assertIn("--set train.epochs=2", r.stdout)
        only = self.runner(self.study(doc), "--dry-run", "--only", "allreduce_p2")
        self.assertEqual(len(only.stdout.strip().splitlines()), 2)

    def test_runs_collects_logs_and_summarizes(self):
        doc = {"name": "mini", "base": str(self.config),
               "sweep": {"algorithm": [{"name": "allreduce"}, {"name": "gossipgrad"}], "ranks": [1]}}
        r = self.runner(self.study(doc))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[2/2] gossipgrad_p1", r.stdout)
        self.assertIn("top1 rank0", r.stdout)  # the summary table
        for run in ("allreduce_p1", "gossipgrad_p1"):
            d = self.root / "results" / "mini" / run
            self.assertTrue((d / "run.h5").is_file())
            self.assertIn("fake_gg_train:", (d / "log.txt").read_text())
        for fig in ("accuracy", "breakdown", "efficiency", "consensus", "ablation"):
            self.assertTrue((self.root / "results" / "mini" / "figures" / f"mini_{fig}.pdf").is_file(), fig)

    def test_seeds_and_regime_are_run_and_recorded(self):
        doc = {"name": "seeded", "base": str(self.config), "regime": {"kind": "fixed_worker_batch", "warmup_epochs": 1,
                                                                      "reference_batch": 32},
               "sweep": {"algorithm": [{"name": "allreduce"}], "ranks": [1], "seeds": [1, 2]}}
        r = self.runner(self.study(doc), "--no-plots")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for seed in (1, 2):
            d = self.root / "results" / "seeded" / f"allreduce_p1_s{seed}"
            meta = json.loads((d / "run_meta.json").read_text())
            self.assertEqual((meta["regime"], meta["seed"], meta["lr_reference_batch"]), ("fixed_worker_batch", seed, 32))
            self.assertIn("train.seed=", (d / "log.txt").read_text())
        self.assertIn("Over seeds", r.stdout)  # the summary's table over seeds: one cell of two runs
        bad = dict(doc, sweep={**doc["sweep"], "seeds": [1, 1]})
        self.assert_bad(bad, "sweep.seeds[1]: seed 1 appears twice")

    def test_failure_and_timeout_are_reported(self):
        doc = {"name": "bad", "base": str(self.config), "sweep": {"ranks": [1]}}
        r = self.runner(self.study(doc), "--set", "fake.exit=3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAILED (exit 3)", r.stdout)
        r = self.runner(self.study(doc), "--set", "fake.sleep=30", "--timeout", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("TIMEOUT", r.stdout)

    def test_timeout_ends_ranks_that_ignore_sigterm(self):
        # the launcher dies of SIGTERM at once, its child ignores it (as gg_train defers it to a step
        # boundary): end_group must not leave the child running
        sys.path.insert(0, str(REPO))
        from ggbench import launch  # noqa: E402
        proc = subprocess.Popen(["sh", "-c", "sh -c 'trap \"\" TERM; sleep 60' & sleep 60"], start_new_session=True)
        time.sleep(0.3)
        launch.end_group(proc, grace=0.5)
        self.assertFalse(launch.group_alive(proc.pid))

    def test_single_config(self):
        r = self.runner(self.config, "--ranks", "2", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("-np 2", r.stdout)
        self.assertIn("output.path=", r.stdout)


class RunSmpi(StudyCase):
    """The SMPI runner shares the study code: same validation, expansion and run loop."""

    def smpi(self, *args, build=None):
        return self.runner(*args, "--smpirun", HERE / "fake_smpirun.py", build=build, script=SMPI_RUNNER)

    def test_same_validation_as_run_study(self):
        doc = {"name": "x", "base": str(self.config), "sweep": {"algorithm": [{"name": "sgd"}]}}
        r = self.smpi(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(f"sweep.algorithm[0].name: expected one of {NAMES}, got", r.stderr)
        r = self.smpi(self.study(doc), "--dry-run", build=self.root / "nobuild")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("build it first (cmake --preset smpi", r.stderr)

    def test_proxy_study_dry_run(self):
        doc = {"name": "sp", "base": str(self.config), "smpi": {"profile": "lenet_cpu", "payload_scale": 4},
               "set": {"train.bucket_kb": 4096},
               "sweep": {"algorithm": [{"name": "allreduce"}, {"name": "ps", "servers": 2}], "workers": [8, 16],
                         "global_batch": 64}}
        r = self.smpi(self.study(doc), "--dry-run", "--only", "_w16")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 2)
        ps = next(l for l in lines if "/ps_servers-2_w16_gb64/" in l)
        self.assertIn("-np 18 ", ps)
        self.assertIn("--set comm.iallreduce=ring", ps)
        self.assertIn("--set train.bucket_kb=1024", ps)  # true units / payload scale
        self.assertIn("--set train.batch=4", ps)
        self.assertIn("--cfg=smpi/coll-selector:ompi", ps)

    def test_seeds_expand_under_smpi(self):
        doc = {"name": "ss", "base": str(self.config),
               "sweep": {"algorithm": [{"name": "allreduce"}], "ranks": [4], "seeds": [5, 6]}}
        r = self.smpi(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertIn("/allreduce_p4_s5/", lines[0])
        self.assertIn("--set train.seed=6", lines[1])

    def test_runs_record_simulated_time_and_summarize(self):
        doc = {"name": "sm", "base": str(self.config),
               "sweep": {"algorithm": [{"name": "gossipgrad"}, {"name": "ps"}], "ranks": [4]}}
        r = self.smpi(self.study(doc))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1.000 s simulated", r.stdout)
        self.assertIn("top1 rank0", r.stdout)  # the summary table, as run_study prints it
        study = self.root / "results" / "sm"
        runs = json.loads((study / "smpi_runs.json").read_text())
        self.assertEqual(sorted(e["run"] for e in runs), ["gossipgrad_p4", "ps_p4"])
        for e in runs:  # the CPU time of the run's processes (Python stand-ins: well above 0)
            self.assertGreater(e["cpu_s"], 0, e)
            self.assertLessEqual(e["cpu_s"], e["wall_s"] * os.cpu_count() + 0.05, e)
        self.assertTrue((study / "ps_p4" / "run.h5").is_file())
        self.assertEqual(len((study / "ps_p4" / "hostfile").read_text().split()), 4)


if __name__ == "__main__":
    unittest.main()
