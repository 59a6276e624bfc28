"""Where a study's runs run: the study file's "launcher" block (ggbench/run_study.py).

  "launcher": {"kind": "sbatch", "nodes": null, "tasks_per_node": 8, "gpus_per_task": 1,
               "time": "00:30:00", "partition": "gpu", "account": "my_project"}

kind (default local):
  local     mpirun on this machine (a single rank without mpirun)
  hostfile  mpirun on the hosts of launcher.hostfile (an Open MPI hostfile: "host slots=N" lines)
  srun      srun job steps inside the current Slurm allocation (salloc, or a batch job's script)
  sbatch    one batch script per run (<results>/<study>/<run>/job.sbatch), submitted with sbatch; the
            runner waits for the jobs (wait: true) or prints their ids (wait: false)
keys (which kinds take them; null leaves a setting to Open MPI or Slurm):
  transport       all       Open MPI's transports (btl), e.g. "self,vader,tcp": mpirun --mca btl, or
                            OMPI_MCA_btl for srun. Default: "self,vader" for local (shared memory),
                            else Open MPI's own selection
  bind            all       mpirun --bind-to / srun --cpu-bind. Default: "none" for local, else unset
  oversubscribe   all       more ranks than cores (slots, CPUs): mpirun --oversubscribe (with a
                            hostfile also --mca mpi_yield_when_idle 1), srun/sbatch --overcommit.
                            Default: local when a run has more ranks than this machine has cores, else false
  env             all       {"NAME": value} for every rank (local adds OPENBLAS_NUM_THREADS=1 and
                            OMP_NUM_THREADS=1 when the ranks fill the machine)
  args            all       extra arguments of mpirun or srun
  mpirun          local, hostfile   the mpirun program (default mpirun; --mpirun overrides)
  hostfile        hostfile  the hostfile (relative to the working directory, else to the study file)
  nodes           hostfile, srun, sbatch   nodes per run (default: as many as tasks_per_node needs)
  tasks_per_node  hostfile, srun, sbatch   ranks per node (mpirun --map-by ppr:N:node)
  gpus_per_task, cpus_per_task   srun, sbatch
  mpi             srun, sbatch   srun --mpi: how Open MPI's ranks find each other. Default "pmix":
                            Debian's Open MPI 4.1 (and most builds with Slurm support) wires up through
                            PMIx; its ranks fail in MPI_Init under --mpi=pmi2 or none
  time, partition, account   sbatch   the job's time limit ("00:30:00"), partition and account
  wait            sbatch    wait for the jobs (default true)
  setup           sbatch    shell lines run before srun, e.g. ["module load openmpi"]
  batch_args      sbatch    extra sbatch options, e.g. ["--constraint=a100", "--exclusive"]
The command line's --launcher KIND and --launcher-set KEY=VALUE (env.NAME=VALUE for one variable)
override the block; a run whose ranks do not fit nodes x tasks_per_node, an unknown key or a key its
kind does not take is an error naming it."""
import os
import shutil

from ..study import StudyError
from . import batch, mpirun, slurm
from .keys import KINDS, Launcher, check_fit, merge, validate

__all__ = ["KINDS", "Launcher", "from_study", "check_ready", "command", "batch", "slurm"]


def from_study(doc, src, kind=None, sets=(), mpirun_program=None):
    """The Launcher of a study document (its "launcher" block, removed from doc) with the command
    line's overrides. Raises StudyError naming the key."""
    block = merge(doc.pop("launcher", {}) if isinstance(doc, dict) else {}, src, kind, sets)
    if mpirun_program and block.get("kind", "local") in ("local", "hostfile"):
        block["mpirun"] = mpirun_program
    launcher = validate(block, src)
    if launcher.hostfile and not os.path.isfile(launcher.hostfile) and not os.path.isabs(launcher.hostfile):
        beside = os.path.join(os.path.dirname(os.path.abspath(src)), launcher.hostfile)
        if os.path.isfile(beside):
            launcher.hostfile = os.path.relpath(beside)
    return launcher


def check_ready(launcher, runs, src, dry_run):
    """What must hold before the first run: runs fit the nodes, the hostfile holds them, and (unless
    dry_run) the programs the kind runs are on PATH and srun is inside an allocation. StudyError."""
    check_fit(launcher, runs, src)
    if launcher.kind == "hostfile":
        mpirun.check_hostfile(launcher, runs, src)
    if dry_run:
        return
    needs_mpirun = launcher.kind == "hostfile" or any(r["ranks"] > 1 for r in runs)
    if launcher.kind in ("local", "hostfile") and needs_mpirun and shutil.which(launcher.mpirun) is None:
        raise StudyError(f"{src}: launcher.mpirun: {launcher.mpirun}: not found on PATH")
    if launcher.kind in ("srun", "sbatch"):
        slurm.check_commands(launcher.kind, src)
    if launcher.kind == "srun":
        slurm.check_allocation(src)


def command(launcher, ranks, program, cores, is_root):
    """(argv, extra environment) of one run under kind local, hostfile or srun."""
    if launcher.kind == "srun":
        return slurm.srun_command(launcher, ranks, program)
    return mpirun.command(launcher, ranks, program, cores, is_root)
