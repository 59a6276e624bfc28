"""scripts/run_study.py's launchers without a cluster (a stand-in gg_train, tests/plots/fake_gg_train.py):
the command lines and batch scripts each kind prints with --dry-run, the launcher block's validation
(one line naming the key or the run, exit 2), missing Slurm commands, srun outside an allocation,
--ranks on a study, and the summary marking failed and submitted runs from their status.json.

  /usr/bin/python3 -m unittest discover -s tests/slurm -p "test_launchers.py" -v"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
PLOTS = REPO / "tests" / "plots"
sys.path.insert(0, str(PLOTS))
import fake_runs  # noqa: E402

PY = "/usr/bin/python3"


class Launchers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_launchers_")
        self.root = pathlib.Path(self.tmp.name)
        (self.root / "build" / "experiments").mkdir(parents=True)
        os.symlink(PLOTS / "fake_gg_train.py", self.root / "build" / "experiments" / "gg_train")
        self.config = self.root / "base.json"
        self.config.write_text(json.dumps({"name": "t", "model": "lenet", "train": {"epochs": 1}}))
        self.hosts = self.root / "hosts"
        self.hosts.write_text("# two nodes\nnode1 slots=8\nnode2 slots=8 max_slots=8\n")

    def tearDown(self):
        self.tmp.cleanup()

    def study(self, launcher=None, ranks=(16,), **extra):
        doc = {"name": "s", "base": str(self.config),
               "sweep": {"algorithm": [{"name": "allreduce"}, {"name": "gossipgrad"}], "ranks": list(ranks)}, **extra}
        if launcher is not None:
            doc["launcher"] = launcher
        path = self.root / "study.json"
        path.write_text(json.dumps(doc))
        return path

    def runner(self, *args, env=None):
        cmd = [PY, REPO / "scripts" / "run_study.py", *map(str, args), "--build-dir", self.root / "build",
               "--results", self.root / "results"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=self.root)

    def dry(self, launcher, *args, ranks=(16,)):
        r = self.runner(self.study(launcher, ranks), "--dry-run", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def bad(self, launcher, *fragments, args=(), ranks=(16,), env=None):
        r = self.runner(self.study(launcher, ranks), "--dry-run" if env is None else "--no-plots", *args, env=env)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, r.stderr)
        return r.stderr

    def test_local_takes_its_flags_from_the_launcher(self):
        default = self.dry(None).splitlines()[0]
        self.assertIn("mpirun -np 16 --mca btl self,vader --bind-to none", default)
        self.assertIn("--oversubscribe", default)  # 16 ranks on this machine's cores
        line = self.dry({"transport": None, "bind": "core", "oversubscribe": False, "env": {"X": 1}}).splitlines()[0]
        self.assertNotIn("--mca btl", line)
        self.assertNotIn("--oversubscribe", line)
        self.assertIn("--bind-to core", line)
        self.assertTrue(line.startswith("OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 X=1 mpirun"), line)

    def test_hostfile_command(self):
        out = self.dry({"kind": "hostfile", "hostfile": str(self.hosts), "tasks_per_node": 8,
                        "env": {"OMP_NUM_THREADS": 4}, "args": ["--report-bindings"]})
        line = out.splitlines()[0]
        self.assertTrue(line.startswith(f"mpirun -np 16 --hostfile {self.hosts} --map-by ppr:8:node "), line)
        self.assertIn("-x OMP_NUM_THREADS=4 --report-bindings ", line)
        for local_only in ("--mca btl", "--bind-to", "--oversubscribe", "OPENBLAS"):
            self.assertNotIn(local_only, line)
        line = self.dry({"kind": "hostfile", "hostfile": "hosts", "oversubscribe": True}, ranks=(32,)).splitlines()[0]
        self.assertIn("--oversubscribe --mca mpi_yield_when_idle 1", line)  # relative to the study file

    def test_srun_command(self):
        line = self.dry({"kind": "srun", "tasks_per_node": 8, "gpus_per_task": 1, "transport": "self,vader,tcp",
                         "bind": "cores"}).splitlines()[0]
        self.assertTrue(line.startswith("OMPI_MCA_btl=self,vader,tcp srun --mpi=pmix --nodes=2 --ntasks=16 "
                                        "--ntasks-per-node=8 --gpus-per-task=1 --cpu-bind=cores "), line)
        self.assertIn("build/experiments/gg_train --config", line)

    def test_sbatch_script_for_128_gpus(self):
        launcher = {"kind": "sbatch", "tasks_per_node": 8, "gpus_per_task": 1, "cpus_per_task": 2,
                    "time": "01:30:00", "partition": "gpu", "account": "proj1", "env": {"NCCL_DEBUG": "WARN"},
                    "setup": ["module load openmpi"], "batch_args": ["--exclusive"]}
        out = self.dry(launcher, "--only", "gossipgrad", ranks=(128,))
        header, text = out.split("\n", 1)
        self.assertIn("results/s/gossipgrad_p128/job.sbatch (submit: sbatch --parsable --wait ", header)
        for line in ("#SBATCH --job-name=s/gossipgrad_p128", "#SBATCH --nodes=16", "#SBATCH --ntasks=128",
                     "#SBATCH --ntasks-per-node=8", "#SBATCH --gpus-per-task=1", "#SBATCH --cpus-per-task=2",
                     "#SBATCH --time=01:30:00", "#SBATCH --partition=gpu", "#SBATCH --account=proj1",
                     "#SBATCH --exclusive", "export NCCL_DEBUG=WARN", "module load openmpi"):
            self.assertIn(line + "\n", text)
        self.assertIn("\nsrun --mpi=pmix --nodes=16 --ntasks=128 --ntasks-per-node=8 --gpus-per-task=1 "
                      "--cpus-per-task=2 ", text)
        script = self.root / "job.sbatch"
        script.write_text(text)
        r = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        nowait = self.dry({**launcher, "wait": False}, "--only", "gossipgrad", ranks=(128,))
        self.assertIn("(submit: sbatch --parsable /", nowait)

    def test_ranks_replace_a_studys_sweep(self):
        out = self.dry(None, "--ranks", "4", "128")
        self.assertEqual([l.split(" -np ")[1].split()[0] for l in out.splitlines()], ["4", "128", "4", "128"])

    def test_bad_launcher_blocks_name_the_key(self):
        self.bad({"kind": "pbs"}, "launcher.kind: expected one of local, hostfile, srun, sbatch")
        self.bad({"kind": "sbatch", "nodez": 2}, "launcher.nodez: unknown key")
        self.bad({"partition": "gpu"}, "launcher.partition: not a key of kind local")
        self.bad({"kind": "srun", "time": "1:00"}, "launcher.time: not a key of kind srun")
        self.bad({"kind": "sbatch", "nodes": 0}, "launcher.nodes: expected a positive integer, got 0")
        self.bad({"kind": "sbatch", "time": "half an hour"}, "launcher.time: expected a Slurm time limit")
        self.bad({"kind": "sbatch", "env": {"A B": 1}}, "launcher.env: expected an object of NAME: value")
        self.bad({"kind": "hostfile"}, "launcher.hostfile: missing")
        self.bad({"kind": "hostfile", "hostfile": "nowhere"}, "launcher.hostfile: nowhere: no such file")
        self.bad("sbatch", "launcher: expected an object")
        self.bad(None, "--launcher-set 'nodes': expected key=value", args=("--launcher-set", "nodes"))
        self.bad(None, "launcher.nodes: not a key of kind local", args=("--launcher-set", "nodes=2"))

    def test_runs_that_do_not_fit_are_named(self):
        self.bad({"kind": "sbatch", "nodes": 2, "tasks_per_node": 4}, "run allreduce_p16: 16 ranks do not fit on "
                 "launcher.nodes 2 x launcher.tasks_per_node 4")
        self.bad({"kind": "srun", "nodes": 8}, "run allreduce_p4: launcher.nodes 8 is more than its 4 ranks",
                 ranks=(4,))
        self.bad({"kind": "hostfile", "hostfile": str(self.hosts), "tasks_per_node": 4},
                 "run allreduce_p16: asks for 4 nodes, hostfile", "lists 2")
        self.bad({"kind": "hostfile", "hostfile": str(self.hosts)}, "run allreduce_p32: 32 ranks, hostfile",
                 "declares 16 slots", ranks=(32,))

    def test_missing_slurm_commands_and_no_allocation(self):
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        env["PATH"] = str(bin_dir)
        self.bad({"kind": "sbatch"}, "launcher.kind sbatch: sbatch, scontrol, squeue, scancel, sinfo not found on PATH",
                 env=env)
        self.bad({"kind": "srun"}, "launcher.kind srun: srun not found on PATH", env=env)
        self.assertEqual(self.runner(self.study({"kind": "sbatch"}), "--dry-run", env=env).returncode, 0)
        (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "srun").chmod(0o755)
        self.bad({"kind": "srun"}, "launcher.kind srun: not inside a Slurm allocation (SLURM_JOB_ID is unset)", env=env)


class SummaryMarksFailures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_status_")
        self.study = pathlib.Path(self.tmp.name) / "st"

    def tearDown(self):
        self.tmp.cleanup()

    def status(self, run, state, cause="", job=None):
        d = self.study / run
        d.mkdir(parents=True, exist_ok=True)
        (d / "status.json").write_text(json.dumps({"run": f"st/{run}", "state": state, "cause": cause,
                                                   "launcher": "sbatch", "job": job}))
        return d

    def summarize(self):
        return subprocess.run([PY, REPO / "scripts" / "summarize.py", self.study], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})

    def test_failed_and_submitted_runs_are_marked(self):
        self.status("failed_only", "failed", "job 5 was cancelled", "5")
        r = self.summarize()
        self.assertEqual(r.returncode, 0, r.stderr)  # a study whose runs all failed still gets its table
        self.assertIn("st/failed_only: job 5 was cancelled", r.stdout)
        fake_runs.write_run(self.status("good", "ok") / "run.h5", {"name": "allreduce"}, 4)
        fake_runs.write_run(self.status("broken", "failed", "job 6 failed (exit code 2)") / "run.h5",
                            {"name": "gossipgrad"}, 4, finished=False)
        self.status("queued", "submitted", job="7")
        r = self.summarize()
        self.assertEqual(r.returncode, 0, r.stderr)
        table = r.stdout.split("\n\n")[0].splitlines()[2:]  # the rows end at the first empty line (notes follow)
        rows = {l.split()[0]: l.split()[-1] for l in table}
        self.assertEqual(rows, {"good": "finished", "broken": "FAILED", "failed_only": "FAILED", "queued": "SUBMITTED"})
        self.assertIn("st/broken: job 6 failed (exit code 2)", r.stdout)
        self.assertIn("st/queued: submitted, no end recorded yet (job 7)", r.stdout)


if __name__ == "__main__":
    unittest.main()
