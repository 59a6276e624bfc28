"""Statistics over seeds (ggbench/stats.py), seed cells and settings (ggbench/cells.py), seed and regime
expansion of studies (ggbench/study.py), time to accuracy (ggbench/tta.py) on synthetic logs
(fake_runs.py), and the summary, scaling table, figure and report built on them.

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_stats.py" -v"""
import json
import os
import pathlib
import sys
import tempfile
import unittest

import h5py
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

import fake_runs  # noqa: E402
from ggbench import cells, registry, runlog, stats, study, summary, tta  # noqa: E402
from ggbench import generalization, report_stats  # noqa: E402
from ggbench.figures import scaling, time_to_accuracy  # noqa: E402

REGISTRY = registry.Registry(fake_runs.DESCRIBE)


class TQuantile(unittest.TestCase):
    def test_known_values(self):
        for df, t in ((1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452), (120, 1.9799)):
            self.assertAlmostEqual(stats.t_quantile(0.975, df), t, places=4, msg=f"df={df}")
        self.assertAlmostEqual(stats.t_quantile(0.95, 10), 1.8125, places=4)
        self.assertAlmostEqual(stats.t_quantile(0.025, 4), -2.7764, places=4)
        self.assertAlmostEqual(stats.t_quantile(0.975, 1e6), 1.95996, places=4)

    def test_cdf_and_quantile_invert(self):
        for df in (1, 3.5, 17):
            for p in (0.6, 0.9, 0.999):
                self.assertAlmostEqual(stats.t_cdf(stats.t_quantile(p, df), df), p, places=10)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            stats.t_quantile(1.0, 3)
        with self.assertRaises(ValueError):
            stats.t_quantile(0.9, 0)


class Intervals(unittest.TestCase):
    def test_mean_sd_ci(self):
        s = stats.describe([1.0, 2.0, 3.0])
        self.assertEqual((s.n, s.mean, s.sd), (3, 2.0, 1.0))
        self.assertAlmostEqual(s.half, 4.3027 / 3 ** 0.5, places=3)
        self.assertIn("± 2.48", s.text())
        ten = stats.describe(range(10))  # sd = sqrt(55/6)
        self.assertAlmostEqual(ten.half, 2.2622 * (55 / 6) ** 0.5 / 10 ** 0.5, places=3)

    def test_one_run_has_no_interval_and_nan_is_left_out(self):
        s = stats.describe([0.9, float("nan"), None])
        self.assertEqual(s.n, 1)
        self.assertFalse(s.has_interval)
        self.assertEqual(s.text(100, ".1f", "%"), "90.0% (n=1, no interval)")
        self.assertEqual(stats.describe([]).text(), "-")

    def test_welch(self):
        a, b = [0.90, 0.91, 0.92], [0.80, 0.82, 0.84, 0.86]
        d = stats.compare(a, b)
        va, vb = 0.0001 / 3, (0.02 ** 2 * 20 / 12) / 4  # variances of the means
        df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 3)
        self.assertAlmostEqual(d.df, df, places=9)
        self.assertAlmostEqual(d.half, stats.t_quantile(0.975, df) * (va + vb) ** 0.5, places=12)
        self.assertAlmostEqual(d.diff, 0.91 - 0.83, places=12)
        self.assertTrue(d.differs)
        self.assertIn("a difference at 95%", d.text())
        same = stats.compare([0.900, 0.910, 0.895], [0.904, 0.898, 0.910])
        self.assertFalse(same.differs)
        self.assertRegex(same.text(), r"^[−+]0\.\d\d ± \d\.\d\d points: no difference at 95%$")
        one = stats.compare([0.9], [0.8, 0.81])
        self.assertIsNone(one.differs)
        self.assertIn("no interval", one.text())


class Seeds(unittest.TestCase):
    BASE = {"name": "t", "train": {"batch": 32, "epochs": 1}, "optimizer": {"lr": 0.1}}

    def validate(self, **doc):
        return study.validate_study({"name": "x", "base": self.BASE, **doc}, "s.json", REGISTRY)

    def expand(self, **doc):
        s = self.validate(**doc)
        study.place_base(s, "/tmp/results")
        return study.expand(s, "/tmp/results")

    def test_seeds_expand_with_suffix_and_train_seed(self):
        runs = self.expand(sweep={"algorithm": [{"name": "allreduce"}], "ranks": [2, 4], "seeds": [3, 1]})
        self.assertEqual([r["name"] for r in runs], ["allreduce_p2_s3", "allreduce_p2_s1", "allreduce_p4_s3",
                                                     "allreduce_p4_s1"])
        self.assertIn("train.seed=3", runs[0]["args"])
        self.assertEqual(runs[1]["meta"]["seed"], 1)
        plain = self.expand(sweep={"algorithm": [{"name": "allreduce"}], "ranks": [2]})
        self.assertEqual(plain[0]["name"], "allreduce_p2")
        self.assertFalse(any("train.seed" in a for a in plain[0]["args"]))
        self.assertIsNone(plain[0]["meta"]["seed"])

    def test_seed_validation(self):
        for seeds, text in (([1, 1], "seeds[1]: seed 1 appears twice"), ([0], "seeds[0]: expected a positive integer"),
                            ([2, "3"], "seeds[1]"), ([True], "seeds[0]"), ([], "non-empty list"),
                            (4, "non-empty list")):
            with self.assertRaisesRegex(study.StudyError, text.replace("[", r"\[").replace("]", r"\]")):
                self.validate(sweep={"seeds": seeds})
        with self.assertRaisesRegex(study.StudyError, "conflicts with a train.seed"):
            self.validate(set={"train.seed": 4}, sweep={"seeds": [1, 2]})

    def test_regimes(self):
        gb = self.expand(sweep={"algorithm": [{"name": "allreduce"}], "ranks": [2, 4], "global_batch": 64})
        self.assertEqual({r["meta"]["regime"] for r in gb}, {study.FIXED_GLOBAL})
        self.assertIn("train.batch=16", gb[1]["args"])
        wb = self.expand(regime={"kind": "fixed_worker_batch", "warmup_epochs": 0.5},
                         sweep={"algorithm": [{"name": "allreduce"}, {"name": "ps"}], "workers": [2, 4], "seeds": [1]})
        self.assertEqual({r["meta"]["regime"] for r in wb}, {study.FIXED_WORKER})
        for r in wb:  # the lr scales with workers x 32 from the fewest workers' global batch, 2 x 32
            self.assertIn("optimizer.scale_lr_reference_batch=64", r["args"])
            self.assertIn("optimizer.warmup_epochs=0.5", r["args"])
            self.assertFalse(any(a.startswith("train.batch=") for a in r["args"]))
        ref = self.expand(regime={"kind": "fixed_worker_batch", "reference_batch": 256, "warmup_epochs": 1},
                          sweep={"ranks": [2]})
        self.assertIn("optimizer.scale_lr_reference_batch=256", ref[0]["args"])
        for doc, text in (({"regime": "fixed_global_batch"}, "needs sweep.global_batch"),
                          ({"regime": "fixed_worker_batch"}, "needs a warm-up"),
                          ({"regime": "weak"}, "expected one of fixed_global_batch, fixed_worker_batch"),
                          ({"regime": {"kind": "fixed_worker_batch", "warmup": 1}}, "regime.warmup: unknown key"),
                          ({"regime": {"kind": "fixed_worker_batch", "warmup_epochs": 1},
                            "sweep": {"algorithm": [{"name": "allreduce"}], "global_batch": 64}},
                           "conflicts with sweep.global_batch")):
            with self.assertRaisesRegex(study.StudyError, text):
                self.validate(**doc)


class Logs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_stats_")
        self.root = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_cells_group_seeds_and_never_mix_regimes_or_partitions(self):
        fake_runs.write_seed_study(self.root / "a", regime="fixed_worker_batch", ps=(4,))
        fake_runs.write_seed_study(self.root / "b", regime="fixed_global_batch", ps=(4,))
        fake_runs.write_seed_study(self.root / "c", regime="fixed_worker_batch", ps=(4,), partition="fixed")
        runs = runlog.load_all([str(self.root)], REGISTRY)
        cs = cells.group(runs)
        self.assertEqual(len(cs), 9)
        self.assertTrue(all(c.n == 3 and sorted(c.seeds) == [1, 2, 3] for c in cs))
        for c in cs:
            self.assertEqual(len({(cells.regime_of(r), cells.partition_of(r)) for r in c.runs}), 1)
        ctx = cells.contexts(cs)
        self.assertEqual(len(ctx), 3)
        for group in ctx.values():
            self.assertEqual(len({(c.regime, c.partition) for c in group}), 1)
        gaps = cells.gaps(cs, "allreduce")
        self.assertEqual(len(gaps), 6)
        for c, ref, diff in gaps:
            self.assertEqual((c.regime, c.partition), (ref.regime, ref.partition))
            self.assertEqual(diff.differs, c.label == "gossipgrad")  # gossipgrad 3 points down; gossip within noise

    def test_summary_and_scaling_table_over_seeds(self):
        fake_runs.write_seed_study(self.root / "s")
        runs = runlog.load_all([str(self.root)], REGISTRY)
        lines = summary.table(runs)
        start = next(i for i, line in enumerate(lines) if line.startswith("Over seeds"))
        rows = [line.split() for line in lines[start + 3:]]
        self.assertEqual(len(rows), 6)
        self.assertIn("89.58 ± 0.50%", lines[start + 3])
        series, _ = scaling.collect(runs)
        self.assertEqual(sorted(len(pts) for pts in series.values()), [2, 2, 2])  # one point per p
        text = scaling.table(series, runs=runs)
        self.assertIn(" n ", text.splitlines()[0] + " ")
        self.assertRegex(text, r"\d ± \d")

    def test_time_to_accuracy_first_eval_at_or_above(self):
        d = self.root / "t" / "allreduce_p2_s1"
        d.mkdir(parents=True)
        fake_runs.write_run(d / "run.h5", {"name": "allreduce"}, 2, steps=40, evals=4, top1=[0.5, 0.7, 0.69, 0.8])
        run = runlog.load(str(d / "run.h5"), REGISTRY)
        # the steps' times: slowest worker's cumulative compute + calls + host work before each evaluation
        per_step = run.steps["compute_s"].astype(float) + run.steps["comm_s"] + run.steps["mem_s"]
        expect = [float(per_step[:s].sum(axis=0).max()) for s in run.eval["step"]]
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(tta.eval_times(run), expect)))
        self.assertEqual(list(tta.eval_times(run, "eval")), list(run.eval["wall_s"]))
        t, epoch = tta.first_reach(run, 0.7, "rank0")  # the second evaluation: no interpolation
        self.assertAlmostEqual(t, expect[1])
        self.assertEqual(epoch, run.eval["epoch"][1])
        self.assertAlmostEqual(tta.first_reach(run, 0.6, "rank0")[0], expect[1])
        self.assertIsNone(tta.first_reach(run, 0.81, "rank0"))
        self.assertEqual(tta.clock_unit([run]), "wall-clock s")

    def test_time_to_accuracy_over_seeds(self):
        for seed, curve in ((1, [0.5, 0.8, 0.9]), (2, [0.5, 0.6, 0.9]), (3, [0.5, 0.6, 0.7])):
            d = self.root / "t" / f"gossip_p2_s{seed}"
            d.mkdir(parents=True)
            fake_runs.write_run(d / "run.h5", {"name": "gossip"}, 2, steps=30, evals=3, top1=curve, simulated=True,
                                train_seed=seed, seed=seed)
            fake_runs.write_meta(d, "t", "fixed_worker_batch", seed)
        runs = runlog.load_all([str(self.root / "t")], REGISTRY)
        (cell,) = cells.group(runs)
        self.assertEqual(tta.clock_unit(cell.runs), "simulated s")
        s, k, n = tta.reach_summary(cell.runs, 0.9, "averaged", "eval")
        self.assertEqual((k, n), (2, 3))
        wall = runs[0].eval["wall_s"]
        self.assertAlmostEqual(s.mean, float(wall[2]))  # both reached it at the third evaluation
        self.assertIn("(2/3 reached)", tta.reach_text(s, k, n))
        self.assertEqual(tta.reach_text(*tta.reach_summary(cell.runs, 0.95)), "not reached (0/3)")
        s, k, n = tta.reach_summary(cell.runs, 0.8)  # averaged = worker 0 + 0.005: seeds 1 and 2
        self.assertEqual((k, n), (2, 3))
        self.assertIn("1/3 reached, no interval", tta.reach_text(stats.describe([1.5]), 1, 3))

    def test_report_section_and_figure(self):
        fake_runs.write_seed_study(self.root / "s", ps=(2,))
        runs = runlog.load_all([str(self.root / "s")], REGISTRY)
        md = "\n".join(report_stats.section(runs))
        self.assertIn("gossipgrad − allreduce, averaged model: −3.00 ± 0.45 points: a difference at 95%", md)
        self.assertRegex(md, r"gossip − allreduce, averaged model: −0\.03 ± \d\.\d\d points: no difference at 95%")
        self.assertIn("not reached (0/3)", md)
        self.assertIn("p=2, fixed_worker_batch, partition reshuffle", md)
        paths = time_to_accuracy.plot(runs, str(self.root / "fig"), "s_", logx=True)
        self.assertTrue(all(os.path.getsize(p) > 0 for p in paths))
        single = [r for r in runs if cells.seed_of(r) == 1]
        self.assertIn("n=1, no interval", "\n".join(report_stats.section(single)))

    def test_train_test_gap_and_shuffle_variants(self):
        """Non-IID cells get the over-fitting table; a variant is compared with its algorithm at defaults."""
        for name, block in (("gg", {"name": "gossipgrad"}), ("none", {"name": "gossipgrad", "shuffle": "none"})):
            for seed in (1, 2, 3):
                d = self.root / "n" / f"{name}_s{seed}"
                d.mkdir(parents=True)
                fake_runs.write_run(d / "run.h5", block, 4, seed=seed, train_seed=seed, partition="classes",
                                    top1_shift=-0.05 if name == "none" else 0.0)
                fake_runs.write_meta(d, "n", "fixed_worker_batch", seed)
        runs = runlog.load_all([str(self.root / "n")], REGISTRY)
        run = runs[0]
        with h5py.File(run.path, "r") as f:
            start = int(f["eval/step"][-2])
            train = float(np.mean(f["steps/loss"][start:]))
            test = float(f["eval/averaged/loss"][-1])
        self.assertAlmostEqual(generalization.train_loss(run), train, places=6)
        self.assertAlmostEqual(generalization.gap(run), test - train, places=6)
        md = "\n".join(report_stats.section(runs))
        self.assertIn("| algorithm | n | train loss (last interval) | test loss (averaged model) | train-test gap |", md)
        self.assertIn("partition classes", md)
        self.assertRegex(md, r"gossipgrad \(shuffle=none\) − gossipgrad: top-1 −5\.00 ± \d\.\d\d points: a difference at 95%")


if __name__ == "__main__":
    unittest.main()
