"""Launcher kinds local and hostfile: the mpirun command line of one run, and the checks of a hostfile
against the runs (enough hosts for the nodes a run asks for, enough slots unless oversubscribed)."""
import math
import os

from ..study import StudyError

THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def command(launcher, ranks, program, cores, is_root):
    """(argv, extra environment) running `program` (a list: binary and arguments) on `ranks` ranks.
    Kind local runs a single rank without mpirun and gives every rank one BLAS/OpenMP thread when the
    ranks fill this machine's `cores`; kind hostfile hands the environment to remote ranks with -x."""
    env = dict(launcher.env)
    if launcher.kind == "local" and ranks >= cores:
        env = {**THREAD_ENV, **env}
    if launcher.kind == "local" and ranks == 1:
        return list(program), env
    cmd = [launcher.mpirun, "-np", str(ranks)]
    if launcher.kind == "hostfile":
        cmd += ["--hostfile", launcher.hostfile]
        nodes, per_node = launcher.layout(ranks)
        if per_node or nodes:  # spread over the first `nodes` hosts
            cmd += ["--map-by", f"ppr:{per_node or math.ceil(ranks / nodes)}:node"]
    if launcher.transport:
        cmd += ["--mca", "btl", launcher.transport]
    if launcher.bind:
        cmd += ["--bind-to", launcher.bind]
    if is_root:
        cmd.append("--allow-run-as-root")
    oversubscribe = ranks > cores if launcher.oversubscribe is None and launcher.kind == "local" \
        else bool(launcher.oversubscribe)
    if oversubscribe:
        cmd.append("--oversubscribe")
        if launcher.kind == "hostfile":  # slots declared in a hostfile turn off yielding: ranks would spin
            cmd += ["--mca", "mpi_yield_when_idle", "1"]
    if launcher.kind == "hostfile":
        cmd += [a for k, v in env.items() for a in ("-x", f"{k}={v}")]
        env = {}
    return cmd + list(launcher.args) + list(program), env


def read_hostfile(path):
    """[(host, slots or None)] of an Open MPI hostfile ('host [slots=N] [max_slots=M]', # comments)."""
    hosts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            slots = next((w.split("=", 1)[1] for w in words[1:] if w.startswith("slots=")), None)
            hosts.append((words[0], int(slots) if slots and slots.isdigit() else None))
    return hosts


def check_hostfile(launcher, runs, src):
    """The hostfile exists and holds every run: at least the nodes it asks for, and (when every host
    declares its slots and the study does not oversubscribe) at least a slot per rank. StudyError
    naming the run otherwise."""
    path = launcher.hostfile
    if not os.path.isfile(path):
        raise StudyError(f"{src}: launcher.hostfile: {path}: no such file")
    hosts = read_hostfile(path)
    if not hosts:
        raise StudyError(f"{src}: launcher.hostfile: {path} lists no host")
    names = {h for h, _ in hosts}
    slots = None if any(s is None for _, s in hosts) else sum(s for _, s in hosts)
    for run in runs:
        nodes, per_node = launcher.layout(run["ranks"])
        if nodes and nodes > len(names):
            raise StudyError(f"{src}: run {run['name']}: asks for {nodes} nodes, hostfile {path} lists "
                             f"{len(names)}")
        if slots is not None and run["ranks"] > slots and not launcher.oversubscribe:
            raise StudyError(f"{src}: run {run['name']}: {run['ranks']} ranks, hostfile {path} declares "
                             f"{slots} slots (set launcher.oversubscribe to run more ranks than slots)")
