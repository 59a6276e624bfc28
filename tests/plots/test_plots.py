"""Runs every figure script, scripts/summarize.py and paper/make_report.py on synthetic run logs
(fake_runs.py) and checks their outputs and their rejection of files that are not run logs (exit code 2).
The scripts read the registry of a stand-in build (fake_gg_train.py answering --describe).

  /usr/bin/python3 -m unittest discover -s tests/plots -v"""
import os
import pathlib
import re
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


def table(stdout):
    """[{column: cell}] of an aligned text table (header, rule, rows up to the first empty line) and the
    lines after it (the notes)."""
    lines = stdout.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("-") and set(l) <= {"-", " "}) - 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    head = re.split(r"\s{2,}", lines[start].strip())
    rows = [dict(zip(head, re.split(r"\s{2,}", l.strip()))) for l in lines[start + 2:end]]
    return rows, lines[end:]


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
        rows, _ = table(r.stdout)
        self.assertIn("comm total ms", rows[0])
        self.assertIn("comm exposed ms", rows[0])
        self.assertIn("MB recv", rows[0])
        # fake_runs: allreduce calls ~ 2 log2(p) ms, exposed 30% and total 3x of them, so t(4)/t(2) of both
        # is about 2 (uniform noise of +-20%); gossipgrad is hidden with a constant total.
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith("allreduce ") and "total" in l)
        total, exposed = (re.search(rf"{k} [0-9.]+ / [0-9.]+ ms = ([0-9.]+)", line) for k in ("total", "exposed"))
        self.assertIsNotNone(total, line)
        self.assertIsNotNone(exposed, line)
        self.assertAlmostEqual(float(total.group(1)), 2.0, delta=0.3)
        self.assertAlmostEqual(float(exposed.group(1)), 2.0, delta=0.3)
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith("gossipgrad ") and "total" in l)
        self.assertIn("total 16.9 / 16.9 ms = 1.00", line)
        self.assertIn("exposed hidden at both p", line)
        self.assertNotIn("fully overlapped", r.stdout)

    def write_smpi_study(self, results, study, scale, schema=2, platforms=("p100_edr_fattree",)):
        """Simulated runs of allreduce and gossipgrad at p = 16 and 128, one results folder per platform
        with the runner's record (the same run names on each platform)."""
        for k, platform in enumerate(platforms):
            root = results / study / platform if len(platforms) > 1 else results / study
            for block, p in [({"name": "allreduce"}, 16), ({"name": "allreduce"}, 128), ({"name": "gossipgrad"}, 16),
                             ({"name": "gossipgrad"}, 128)]:
                d = root / f"{block['name']}_p{p}"
                d.mkdir(parents=True)
                fake_runs.write_run(d / "run.h5", block, p, steps=6, seed=p + k, schema=schema, simulated=True,
                                    payload_scale=scale)
            fake_runs.write_runner_record(root, platform, scale)

    def report(self, results, name):
        r = run(REPO / "paper" / "make_report.py", "--results", results, "--out", self.root / name,
                "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        return (self.root / name / "REPORT.md").read_text()

    def test_report_uses_the_simulated_studies(self):
        results = self.root / "results"
        platforms = ("p100_edr_fattree", "knl_aries_dragonfly")
        self.write_smpi_study(results, "smpi_resnet50_weak", 256, platforms=platforms)
        md = self.report(results, "report")
        eff = next(l for l in md.splitlines() if l.startswith("| ~100% efficiency"))
        comm = next(l for l in md.splitlines() if l.startswith("| O(1) communication"))
        for platform in platforms:  # same run names on both platforms: each is its own series
            self.assertIn(f"**{platform}**", eff)
            self.assertIn(f"**{platform}**", comm)
        self.assertRegex(eff, r"allreduce: [0-9.]+%, total [0-9.]+ ms, exposed [0-9.]+ ms")
        self.assertIn("gossipgrad: ", eff)
        self.assertIn("hidden (total 16.9 ms)", eff)
        for cell in (comm.split("<br>")):
            if "allreduce, p=16→128" in cell:
                self.assertRegex(cell, r"total [0-9.]+ / [0-9.]+ ms = 1\.[5-9]")  # 2 log2 p: 7/4 = 1.75
                self.assertRegex(cell, r"exposed [0-9.]+ / [0-9.]+ ms = 1\.[5-9]")
                self.assertIn("Θ(log p): holds", cell)
            if "gossipgrad, p=16→128" in cell:
                self.assertIn("total 16.9 / 16.9 ms = 1.00; exposed hidden at both p", cell)
                self.assertIn("O(1): holds", cell)
            if "p=16→128" in cell:  # bytes in true units: the payload scale undone
                self.assertIn("1.72 MB sent/step", cell)
        self.assertEqual(comm.count("p=16→128"), 4, comm)
        self.assertNotIn("fully overlapped", md)
        self.assertNotIn("0/0", md)
        self.assertIn("Cost model, p100_edr_fattree: memory work 100 GB/s", md)
        rows, _ = table(md.split("## Study `smpi_resnet50_weak`")[1].split("```")[1])
        self.assertEqual(len(rows), 8)
        self.assertEqual({row["platform"] for row in rows if row["run"] == "allreduce_p16"}, set(platforms))
        self.assertIn("mem ms", rows[0])  # simulated runs charge host work
        self.assertEqual({row["mem ms"] for row in rows}, {"0.5"})
        self.assertTrue((self.root / "report" / "figures" / "smpi_resnet50_weak_scaling_comm.png").is_file())

    def test_report_leads_with_the_cost_model_study(self):
        results = self.root / "results_cost"
        self.write_smpi_study(results, "smpi_resnet50_weak", 256, schema=1)
        self.write_smpi_study(results, "smpi_cost", 256, platforms=("p100_edr_fattree", "v100_10gbe_leafspine"))
        md = self.report(results, "report_cost")
        comm = next(l for l in md.splitlines() if l.startswith("| O(1) communication"))
        cells = comm.split("<br>")
        self.assertTrue(cells[0].startswith("| O(1) communication per step, vs Θ(log p) for allreduce | **In short**"), cells[0])
        self.assertIn("v100_10gbe_leafspine (bandwidth-bound, ResNet-50, p=16→128): Θ(log p): holds", cells[0])
        self.assertIn("O(1): holds (total ×1.00)", cells[0])
        self.assertTrue(cells[1].startswith("study smpi_cost: "), cells[1])
        self.assertIn("studies smpi_resnet50_weak: total not measured (schema-1 logs, no cost model); not used", comm)
        self.assertNotIn("cannot be judged", comm)  # the old study's lines are left out, not shown as evidence
        eff = next(l for l in md.splitlines() if l.startswith("| ~100% efficiency"))
        self.assertIn("**v100_10gbe_leafspine** p=128: allreduce: ", eff)
        self.assertIn("study smpi_cost", eff)
        self.assertNotIn("total not measured", eff)
        for fig in ("platforms_efficiency", "platforms_comm"):  # one panel per platform, drawn for the report
            self.assertIn(f"figures/smpi_cost_{fig}.png", md)
            self.assertTrue((self.root / "report_cost" / "figures" / f"smpi_cost_{fig}.png").is_file())

    def test_platform_panels_keep_platforms_apart(self):
        results = self.root / "results_panels"
        platforms = ("p100_edr_fattree", "v100_10gbe_leafspine")
        self.write_smpi_study(results, "smpi_cost", 256, platforms=platforms)
        sys.path.insert(0, str(REPO))
        try:
            from ggbench import runlog
            from ggbench.figures import platforms as panels
        finally:
            sys.path.remove(str(REPO))
        runs = runlog.load_all([results / "smpi_cost"])
        data, colors = panels.collect(runs)
        self.assertEqual(set(data), set(platforms))  # same run names on both: never one series
        for platform in platforms:
            self.assertEqual(set(data[platform]), {"allreduce", "gossipgrad"})
            self.assertEqual(set(data[platform]["allreduce"]), {16, 128})
            mine = [r for r in runs if r.platform == platform and r.label == "allreduce" and r.ranks == 128]
            self.assertEqual(data[platform]["allreduce"][128].total_s, mine[0].cost().total_s)
        self.assertEqual(set(colors), {"allreduce", "gossipgrad"})
        paths = panels.plot(runs, str(self.root / "panels"), "x_")
        self.assertEqual(sorted(os.path.basename(p) for p in paths),
                         ["x_platforms_comm.pdf", "x_platforms_comm.png", "x_platforms_efficiency.pdf",
                          "x_platforms_efficiency.png"])

    def test_report_on_old_logs_says_what_was_not_measured(self):
        results = self.root / "results_old"
        self.write_smpi_study(results, "smpi_resnet50_weak", 256, schema=1)
        md = self.report(results, "report_old")
        comm = next(l for l in md.splitlines() if l.startswith("| O(1) communication"))
        self.assertIn("total not measured", comm)
        self.assertIn("O(1): cannot be judged, total not measured (schema-1 logs)", comm)
        self.assertIn("Θ(log p): cannot be judged", comm)
        self.assertNotIn("holds", comm)
        eff = next(l for l in md.splitlines() if l.startswith("| ~100% efficiency"))
        self.assertIn("total not measured", eff)
        self.assertIn("Cost model, p100_edr_fattree: not recorded (schema-1 logs)", md)

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
        rows, notes = table(r.stdout)
        self.assertIn("top1 rank0", rows[0])
        self.assertEqual(len(rows), len(self.paths) + 2)  # runs, strong-scaling runs
        self.assertIn("gossipgrad (rotation=none)", r.stdout)
        self.assertIn("finished", r.stdout)
        self.assertNotIn("platform", rows[0])  # one platform
        self.assertNotIn("mem ms", rows[0])  # real runs: nothing charged
        for row in rows:
            with self.subTest(run=row["run"]):
                self.assertEqual((row["MB sent"], row["MB recv"]), ("1.72", "1.72"))
                total = float(row["comm total ms"])
                if row["algorithm"] in ("gossip", "gossipgrad", "gossipgrad (rotation=none)",
                                        "gossipgrad (shuffle=none)"):
                    self.assertEqual(row["comm exposed ms"], "hidden")
                    self.assertAlmostEqual(total, 16.9)
                else:
                    self.assertGreater(total, float(row["comm exposed ms"]))
                    self.assertGreater(float(row["comm exposed ms"]), 0)
        self.assertTrue(any(n.startswith("hidden: ") for n in notes), notes)
        self.assertFalse(any("not measured" in n for n in notes), notes)

    def test_old_log_fallback_says_not_measured(self):
        d = self.root / "mixed"
        for name, schema in (("old_gg", 1), ("new_gg", 2)):
            (d / name).mkdir(parents=True)
            fake_runs.write_run(d / name / "run.h5", {"name": "gossipgrad"}, 4, schema=schema, old_style=schema == 1)
        r = run(REPO / "scripts" / "summarize.py", d, "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, notes = table(r.stdout)
        old, new = (next(row for row in rows if row["run"] == n) for n in ("old_gg", "new_gg"))
        self.assertEqual((old["comm total ms"], old["MB recv"]), ("n/m", "n/m"))
        self.assertGreater(float(old["comm exposed ms"]), 0)  # the old wait_s
        self.assertEqual(old["MB sent"], "1.72")
        self.assertEqual(new["comm exposed ms"], "hidden")
        note = next(n for n in notes if n.startswith("n/m: not measured"))
        self.assertIn("old_gg", note)
        self.assertNotIn("new_gg", note)
        r = run(REPO / "plots" / "plot_scaling.py", d, "--table", "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, notes = table(r.stdout)
        self.assertEqual(sorted(row["comm total ms"] for row in rows), ["16.9", "n/m"])
        self.assertTrue(any(n.startswith("n/m: not measured") for n in notes), r.stdout)

    def test_simulated_run_without_record_has_no_true_bytes(self):
        d = self.root / "unrecorded" / "gossipgrad_p4"
        d.mkdir(parents=True)
        fake_runs.write_run(d / "run.h5", {"name": "gossipgrad"}, 4, simulated=True, payload_scale=16)
        r = run(REPO / "scripts" / "summarize.py", d.parent, "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, notes = table(r.stdout)
        self.assertEqual((rows[0]["MB sent"], rows[0]["MB recv"]), ("n/m", "n/m"))
        self.assertTrue(any("payload scale" in n and "gossipgrad_p4" in n for n in notes), notes)
        fake_runs.write_runner_record(d.parent, "p100_edr_fattree", 16)
        rows, _ = table(run(REPO / "scripts" / "summarize.py", d.parent, "--build-dir", self.build).stdout)
        self.assertEqual(rows[0]["MB sent"], "1.72")

    def test_newer_schema_exits_2(self):
        d = self.root / "future"
        d.mkdir()
        fake_runs.write_run(d / "run.h5", {"name": "allreduce"}, 2, schema=3)
        r = run(REPO / "scripts" / "summarize.py", d)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("schema_version 3 is newer", r.stderr)

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
        algos = [row["algorithm"].split()[0] for row in table(r.stdout)[0]]
        self.assertEqual(list(dict.fromkeys(algos)), ["allreduce", "ps", "gossip", "gossipgrad"])


if __name__ == "__main__":
    unittest.main()
