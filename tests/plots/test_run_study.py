"""scripts/run_study.py: study validation, expansion into mpirun command lines, and a full run of a
small study against a stand-in gg_train (fake_gg_train.py) that writes synthetic run logs.

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_run_study.py" -v"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RUNNER = REPO / "scripts" / "run_study.py"


class RunStudy(unittest.TestCase):
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

    def runner(self, *args):
        return subprocess.run([PY, RUNNER, *map(str, args), "--build-dir", self.build, "--results",
                               self.root / "results"], capture_output=True, text=True, timeout=120)

    def assert_bad(self, doc, *fragments):
        r = self.runner(self.study(doc), "--dry-run")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, r.stderr)

    def test_invalid_studies_exit_2_with_one_line(self):
        base = str(self.config)
        self.assert_bad('{"name": "x", "base": ', "malformed JSON at line 1")
        self.assert_bad({"name": "x", "base": base, "swep": {}}, "swep: unknown key")
        self.assert_bad({"name": "x", "base": base, "sweep": {"rank": [2]}}, "sweep.rank: unknown key")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": [2, "4"]}}, "sweep.ranks[1]", "positive integer")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": 4}}, "sweep.ranks", "non-empty list")
        self.assert_bad({"name": "x", "base": base, "sweep": {"algorithm": [{"name": "sgd"}]}},
                        "sweep.algorithm[0].name")
        self.assert_bad({"name": "x y", "base": base}, "name:")
        self.assert_bad({"name": "x", "base": "missing.json"}, "base", "not found")
        self.assert_bad({"name": "x", "base": base, "set": {"output.path": "a"}}, "chosen by the runner")
        self.assert_bad({"name": "x", "base": base, "sweep": {"ranks": [4], "global_batch": 102}}, "does not divide")
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

    def test_failure_and_timeout_are_reported(self):
        doc = {"name": "bad", "base": str(self.config), "sweep": {"ranks": [1]}}
        r = self.runner(self.study(doc), "--set", "fake.exit=3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAILED (exit 3)", r.stdout)
        r = self.runner(self.study(doc), "--set", "fake.sleep=30", "--timeout", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("TIMEOUT", r.stdout)

    def test_single_config(self):
        r = self.runner(self.config, "--ranks", "2", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("-np 2", r.stdout)
        self.assertIn("output.path=", r.stdout)


if __name__ == "__main__":
    unittest.main()
