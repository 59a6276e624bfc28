"""Runs every figure script, scripts/summarize.py and paper/make_report.py on synthetic run logs
(fake_runs.py) and checks their outputs and their rejection of files that are not run logs (exit code 2).
The scripts read the registry of a stand-in build (fake_gg_train.py answering --describe).

  /usr/bin/python3 -m unittest discover -s tests/plots -v"""
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import fake_runs  # noqa: E402

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
FIGURES = ("accuracy", "breakdown", "efficiency", "consensus", "ablation")


def fake_build(root):
    """A build directory whose gg_train is the stand-in; returns it."""
    build = pathlib.Path(root) / "build"
    (build / "experiments").mkdir(parents=True, exist_ok=True)
    os.symlink(HERE / "fake_gg_train.py", build / "experiments" / "gg_train")
    return build


def run(*args, cwd=None):
    return subprocess.run([PY, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, "MPLBACKEND": "Agg"})


class PlotScripts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="gg_plots_")
        cls.root = pathlib.Path(cls.tmp.name)
        cls.study = cls.root / "study"
        cls.study.mkdir()
        cls.paths = fake_runs.write_study(cls.study)
        cls.build = fake_build(cls.root)
        cls.not_log = cls.root / "notes.txt"
        cls.not_log.write_text("not a run log\n")
        import h5py  # an HDF5 file that is not a run log either
        cls.other_h5 = cls.root / "other.h5"
        with h5py.File(cls.other_h5, "w") as f:
            f["x"] = [1, 2, 3]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_each_figure_written_as_png_and_pdf(self):
        out = self.root / "figs"
        for fig in FIGURES:
            with self.subTest(figure=fig):
                r = run(REPO / "plots" / f"plot_{fig}.py", self.study, "--out", out, "--build-dir", self.build)
                self.assertEqual(r.returncode, 0, r.stderr)
                for ext in ("png", "pdf"):
                    f = out / f"study_{fig}.{ext}"
                    self.assertTrue(f.is_file(), f"{f} missing; stdout: {r.stdout}")
                    self.assertGreater(f.stat().st_size, 1000)

    def test_single_files_and_prefix(self):
        out = self.root / "single"
        r = run(REPO / "plots" / "plot_accuracy.py", self.paths[0], self.paths[3], "--out", out, "--prefix", "x_")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue((out / "x_accuracy.png").is_file())

    def test_unfinished_run_is_plotted_and_flagged(self):
        d = self.root / "unfinished"
        d.mkdir()
        fake_runs.write_run(d / "run.h5", {"name": "gossipgrad"}, 4, finished=False)
        r = run(REPO / "scripts" / "summarize.py", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("INCOMPLETE", r.stdout)
        self.assertEqual(run(REPO / "plots" / "plot_consensus.py", d, "--out", self.root / "u").returncode, 0)

    def test_scaling_figures_and_ratio(self):
        out = self.root / "scaling"
        r = run(REPO / "plots" / "plot_scaling.py", self.study, "--out", out, "--ratio", "2", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        for fig in ("efficiency", "comm", "breakdown"):
            self.assertTrue((out / f"study_scaling_{fig}.png").is_file(), r.stdout)
        # fake_runs: allreduce comm ~ 2 log2(p) ms, so t(4)/t(2) is about 2 (uniform noise of +-20%)
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith("allreduce ") and "=" in l)
        self.assertAlmostEqual(float(line.split("=")[-1]), 2.0, delta=0.3)

    def test_report_uses_the_simulated_studies(self):
        results = self.root / "results"
        for block, p in [({"name": "allreduce"}, 16), ({"name": "allreduce"}, 128), ({"name": "gossipgrad"}, 16),
                         ({"name": "gossipgrad"}, 128)]:
            d = results / "smpi_resnet50_weak" / f"{block['name']}_p{p}"
            d.mkdir(parents=True)
            fake_runs.write_run(d / "run.h5", block, p, steps=6, seed=p)
        r = run(REPO / "paper" / "make_report.py", "--results", results, "--out", self.root / "report",
                "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        md = (self.root / "report" / "REPORT.md").read_text()
        row = next(l for l in md.splitlines() if l.startswith("| ~100% efficiency"))
        self.assertIn("allreduce: ", row)
        self.assertIn("gossipgrad: ", row)
        comm = next(l for l in md.splitlines() if l.startswith("| O(1) communication"))
        self.assertIn("p=16", comm)
        self.assertIn("p=128", comm)
        self.assertTrue((self.root / "report" / "figures" / "smpi_resnet50_weak_scaling_comm.png").is_file())

    def test_run_still_being_written_is_read(self):
        d = self.root / "writing"
        d.mkdir()
        fake_runs.write_run(d / "run.h5", {"name": "allreduce"}, 2, finished=False)
        import h5py
        with h5py.File(d / "run.h5", "a"):  # as gg_train holds it while training (file locking on)
            r = run(REPO / "scripts" / "summarize.py", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("INCOMPLETE", r.stdout)

    def test_summarize_table(self):
        r = run(REPO / "scripts" / "summarize.py", self.study, "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("top1 rank0", lines[0])
        self.assertEqual(len(lines), 2 + len(self.paths) + 2)  # header, rule, runs, strong-scaling runs
        self.assertIn("gossipgrad (rotation=none)", r.stdout)
        self.assertIn("finished", r.stdout)

    def test_non_run_logs_exit_2(self):
        scripts = [REPO / "scripts" / "summarize.py"] + [REPO / "plots" / f"plot_{f}.py" for f in FIGURES]
        for bad in (self.not_log, self.other_h5):
            for script in scripts:
                with self.subTest(script=script.name, input=bad.name):
                    r = run(script, self.paths[0], bad, "--out", self.root / "bad") if "plot_" in script.name \
                        else run(script, self.paths[0], bad)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn(f"{bad} is not a GossipGraD-Bench run log", r.stderr)

    def test_missing_file_and_empty_dir_exit_2(self):
        empty = self.root / "empty"
        empty.mkdir(exist_ok=True)
        for arg in (self.root / "nope.h5", empty):
            r = run(REPO / "scripts" / "summarize.py", arg)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


    def test_modules_run_with_python_m(self):
        out = self.root / "m"
        r = run("-m", "ggbench.figures.consensus", self.study, "--out", out, "--build-dir", self.build, cwd=REPO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue((out / "study_consensus.png").is_file())
        r = run("-m", "ggbench.summary", self.study, "--build-dir", self.build, cwd=REPO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("gossipgrad (timing=sync)", r.stdout)

    def test_build_dir_without_gg_train_exits_2(self):
        r = run(REPO / "scripts" / "summarize.py", self.study, "--build-dir", self.root / "nobuild")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("not built", r.stderr)

    def test_summary_rows_in_registry_order(self):
        r = run(REPO / "scripts" / "summarize.py", self.study, "--build-dir", self.build)
        algos = [line.split()[1] for line in r.stdout.splitlines()[2:]]
        self.assertEqual(list(dict.fromkeys(algos)), ["allreduce", "ps", "gossip", "gossipgrad"])


if __name__ == "__main__":
    unittest.main()
