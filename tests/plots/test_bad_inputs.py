"""Every Python tool turns a bad input into one `<tool>: error: ...` line naming the file and exit code 2,
never a traceback: damaged run logs (summarize.py, make_report.py), the runners' results folders, study
names and sweep sizes (run_study.py, run_smpi.py), the SMPI runner's record and payload scale. Also: a
study runner claims its results folder, make_report.py reports a damaged log without dropping its study,
reads that overlap a flush are retried, and a log's checksums (fletcher32) make flipped bytes an error.

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_bad_inputs.py" -v"""
import fcntl
import json
import os
import pathlib
import subprocess
import sys
import time
import unittest

import h5py
import numpy as np

import fake_runs

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
sys.path.insert(0, str(REPO))
from ggbench import runlog  # noqa: E402
from test_run_study import StudyCase  # noqa: E402


class Tools(StudyCase):  # its temporary folder, stand-in build and base config
    def run_tool(self, script, *args):
        return subprocess.run([PY, REPO / script, *map(str, args)], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, MPLBACKEND="Agg"))

    def assert_one_error(self, r, tool, *needles):
        """Exit 2, one line on stderr (`tool: error: ...`) containing every needle, no traceback."""
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(f"{tool}: error: "), lines[0])
        for n in needles:
            self.assertIn(str(n), lines[0])

    def log(self, name="a", study="s", **kw):
        path = self.root / "results" / study / name / "run.h5"
        path.parent.mkdir(parents=True, exist_ok=True)
        fake_runs.write_run(path, {"name": "allreduce"}, 2, **kw)
        return path

    # ---- damaged run logs ----
    DAMAGES = {
        "schema_version_string": (lambda f: f.attrs.__setitem__("schema_version", "two"),
                                  "the schema_version attribute is \"two\", not an integer"),
        "config_json_list": (lambda f: f.attrs.__setitem__("config", "[1, 2]"),
                             "the config attribute is a JSON list, not an object"),
        "eval_step_group": (lambda f: (f["eval"].__delitem__("step"), f["eval"].create_group("step")),
                            "/eval/step is a group, not a dataset"),
        "ranks_string": (lambda f: f.attrs.__setitem__("ranks", "four"),
                         "the ranks attribute is \"four\", not an integer"),
        "steps_dataset_of_strings": (lambda f: (f["steps"].__delitem__("compute_s"),
                                                f["steps"].create_dataset("compute_s", data=np.array([b"x"]))),
                                     "/steps/compute_s holds"),
    }

    def damaged(self, kind, name="bad"):
        path = self.log(name)
        change, needle = self.DAMAGES[kind]
        with h5py.File(path, "r+") as f:
            change(f)
        return path, needle

    def test_summarize_damaged_logs(self):
        for kind in self.DAMAGES:
            with self.subTest(kind):
                path, needle = self.damaged(kind, kind)
                r = self.run_tool("scripts/summarize.py", path, "--build-dir", self.build)
                self.assert_one_error(r, "summarize", path, needle)

    def test_make_report_keeps_the_study_of_a_damaged_log(self):
        self.log("good")
        path, needle = self.damaged("eval_step_group")
        out = self.root / "report"
        r = self.run_tool("paper/make_report.py", "--results", self.root / "results", "--out", out,
                          "--build-dir", self.build)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn(f"make_report: warning: {path}: {needle}", r.stderr)
        text = (out / "REPORT.md").read_text()
        self.assertIn("Studies found: s (1 runs)", text)
        self.assertIn("Damaged run logs left out (1", text)
        self.assertIn("s/bad/run.h5", text)

    def test_make_report_refuses_bad_folders(self):
        self.log("good")
        plain = self.root / "plain"
        plain.write_text("x")
        r = self.run_tool("paper/make_report.py", "--results", self.root / "results", "--out", plain,
                          "--build-dir", self.build)
        self.assert_one_error(r, "make_report", f"--out {plain}: exists and is not a folder")
        r = self.run_tool("paper/make_report.py", "--results", self.root / "nope", "--out", self.root / "o",
                          "--build-dir", self.build)
        self.assert_one_error(r, "make_report", "nope: no such folder")
        (self.root / "empty").mkdir()
        r = self.run_tool("paper/make_report.py", "--results", self.root / "empty", "--out", self.root / "o",
                          "--build-dir", self.build)
        self.assert_one_error(r, "make_report", "empty: no run logs")
        self.assertFalse((self.root / "o" / "REPORT.md").exists())

    # ---- checksums and retries ----
    def test_flipped_bytes_are_an_error(self):
        """A log written with fletcher32 (as gg_train writes its datasets): flipped bytes in a dataset's
        data are an error naming the file, never numbers."""
        path = self.root / "sum.h5"
        with h5py.File(path, "w") as f:
            f.attrs["schema_version"] = 2
            f.attrs["config"] = json.dumps({"algorithm": {"name": "allreduce"}})
            ds = f.create_dataset("eval/step", data=np.arange(1000, dtype=np.int64), chunks=(1000,),
                                  maxshape=(None,), fletcher32=True)
            offset = ds.id.get_offset() if ds.id.get_offset() is not None else ds.id.get_chunk_info(0).byte_offset
        self.assertIsNotNone(runlog.load(str(path)))
        data = bytearray(path.read_bytes())
        data[offset + 100] ^= 0x5A
        path.write_bytes(bytes(data))
        r = self.run_tool("scripts/summarize.py", path, "--build-dir", self.build)
        self.assert_one_error(r, "summarize", path, "checksum does not match (fletcher32)")

    def test_gg_train_logs_carry_checksums(self):
        """A log written by the built gg_train (GG_TRAIN): every dataset has fletcher32; a flipped byte in
        a chunk of /steps/compute_s is an error of summarize.py, not a number."""
        gg = os.environ.get("GG_TRAIN")
        if not gg or not os.path.exists(gg):
            self.skipTest("GG_TRAIN (the built gg_train) not given")
        path = self.root / "real.h5"
        subprocess.run([gg, "--quiet", "--set", "data.name=synthetic", "--set", "data.shape=[28,28,1]",
                        "--set", "data.train_size=512", "--set", "data.test_size=64", "--set", "train.max_steps=4",
                        "--set", f"output.path={path}"], check=True, capture_output=True, timeout=120,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
        with h5py.File(path, "r") as f:
            unsummed = []
            f.visititems(lambda n, o: unsummed.append(n) if isinstance(o, h5py.Dataset) and not o.fletcher32 else None)
            self.assertEqual(unsummed, [], "datasets without a checksum")
            chunk = f["steps/compute_s"].id.get_chunk_info(0)
        self.assertIsNotNone(runlog.load(str(path)))
        data = bytearray(path.read_bytes())
        data[chunk.byte_offset + chunk.size // 2] ^= 0x5A
        path.write_bytes(bytes(data))
        r = self.run_tool("scripts/summarize.py", path, "--build-dir", self.build)
        self.assert_one_error(r, "summarize", path, "checksum does not match (fletcher32)")

    def test_a_read_overlapping_a_flush_is_retried(self):
        path = self.log("live")
        real, calls = runlog._read, []

        def flaky(f, p, not_a_log):
            calls.append(p)
            if len(calls) == 1:
                raise OSError("Can't read data (wrong B-tree signature)")  # what a read mid-flush sees
            return real(f, p, not_a_log)

        runlog._read = flaky
        try:
            run = runlog.load(str(path))
        finally:
            runlog._read = real
        self.assertEqual(len(calls), 2)
        self.assertEqual(run.ranks, 2)

    # ---- study runners ----
    def study(self, doc):
        path = self.root / "study.json"
        path.write_text(json.dumps(doc))
        return path

    def runner(self, *args, script="scripts/run_study.py", results=None):
        return self.run_tool(script, *args, "--build-dir", self.build, "--results", results or self.root / "results")

    def test_results_pointing_at_a_file(self):
        plain = self.root / "plain"
        plain.write_text("x")
        r = self.runner(self.config, results=plain)
        self.assert_one_error(r, "run_study", f"--results {plain}: exists and is not a folder")

    def test_study_names_stay_inside_results(self):
        for name in ("..", "."):
            with self.subTest(name):
                r = self.runner(self.study({"name": name, "base": str(self.config)}))
                self.assert_one_error(r, "run_study", "name: expected a string", "stays inside --results")
        self.assertFalse((self.root / "log.txt").exists())

    def test_a_huge_sweep_is_counted_not_expanded(self):
        doc = {"name": "big", "base": str(self.config),
               "sweep": {"set": {f"train.k{i}": list(range(10)) for i in range(9)}}}  # 10^9 runs
        t0 = time.monotonic()
        r = self.runner(self.study(doc), "--dry-run")
        self.assert_one_error(r, "run_study", "= 1000000000 runs, more than the 10000 a study may have")
        self.assertLess(time.monotonic() - t0, 30)

    def test_a_second_runner_on_a_live_folder_is_refused(self):
        study_dir = self.root / "results" / "config"  # a config file runs as the study named after it
        (self.root / "config.json").write_text(self.config.read_text())
        study_dir.mkdir(parents=True)
        fd = os.open(study_dir / ".runner.lock", os.O_RDWR | os.O_CREAT)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a live runner holds
        try:
            r = self.runner(self.root / "config.json", "--no-plots")
            self.assert_one_error(r, "run_study", f"{study_dir}: another study runner is writing this results folder")
            self.assertFalse((study_dir / "p1").exists(), "the refused runner wrote a run folder")
        finally:
            os.close(fd)
        r = self.runner(self.root / "config.json", "--no-plots")  # the claim ended with its process
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def smpi(self, *args):
        return self.runner(*args, "--smpirun", HERE / "fake_smpirun.py", script="scripts/run_smpi.py")

    def test_payload_scale_zero_is_an_error(self):
        r = self.smpi(self.config, "--payload-scale", "0", "--dry-run")
        self.assert_one_error(r, "run_smpi", "--payload-scale 0: expected a positive number")
        r = self.smpi(self.study({"name": "z", "base": str(self.config), "smpi": {"payload_scale": 0}}), "--dry-run")
        self.assert_one_error(r, "run_smpi", "smpi.payload_scale: expected a positive number, got 0")

    def test_truncated_smpi_record_refused_before_simulating(self):
        study_dir = self.root / "results" / "base"
        study_dir.mkdir(parents=True)
        record = study_dir / "smpi_runs.json"
        record.write_text('[{"run": "p1", "ranks": 1, "wall_s": 1.')
        r = self.smpi(self.config)
        self.assert_one_error(r, "run_smpi", f"{record}: not valid JSON")
        self.assertFalse((study_dir / "p1").exists(), "a run was simulated before the record was checked")


if __name__ == "__main__":
    unittest.main()
