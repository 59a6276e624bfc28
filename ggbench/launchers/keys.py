"""The study's "launcher" block: its keys, which launcher kinds take each, their defaults per kind and
their validation (one StudyError naming the key). See ggbench/launchers/__init__.py for the meaning."""
import json
import math
import re
from dataclasses import dataclass, field, fields

from ..study import StudyError

KINDS = ("local", "hostfile", "srun", "sbatch")
MPIRUN = ("local", "hostfile")
SLURM = ("srun", "sbatch")
SPREAD = ("hostfile", "srun", "sbatch")  # kinds that place ranks on several nodes


def _string(v):
    return v is None or (isinstance(v, str) and v != "")


def _name(v):  # Slurm partition / account names, time limits: no spaces or quotes in a batch script
    return v is None or (isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_.,:+-]+", v) is not None)


def _time(v):  # Slurm's forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
    return v is None or (isinstance(v, str) and re.fullmatch(r"(\d+-)?\d+(:\d\d){0,2}", v) is not None)


def _count(v):
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)


def _strings(v):
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _env(v):
    return isinstance(v, dict) and all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) and
                                       isinstance(x, (str, int, float)) and not isinstance(x, bool)
                                       for k, x in v.items())


# key: (kinds that take it, check, what a valid value looks like)
KEYS = {
    "kind": (KINDS, lambda v: v in KINDS, "one of " + ", ".join(KINDS)),
    "transport": (KINDS, _string, "Open MPI btl list like \"self,vader,tcp\", or null"),
    "bind": (KINDS, _string, "a binding like \"none\" or \"core\", or null"),
    "oversubscribe": (KINDS, lambda v: v is None or isinstance(v, bool), "true, false or null"),
    "env": (KINDS, _env, "an object of NAME: value"),
    "args": (KINDS, _strings, "a list of strings"),
    "mpirun": (MPIRUN, _string, "the mpirun program"),
    "hostfile": (("hostfile",), lambda v: isinstance(v, str) and v != "", "a hostfile path"),
    "nodes": (SPREAD, _count, "a positive integer"),
    "tasks_per_node": (SPREAD, _count, "a positive integer"),
    "gpus_per_task": (SLURM, _count, "a positive integer"),
    "cpus_per_task": (SLURM, _count, "a positive integer"),
    "mpi": (SLURM, _string, "srun's --mpi plugin like \"pmix\", or null"),
    "time": (("sbatch",), _time, "a Slurm time limit like \"30\", \"01:30:00\" or \"1-00:00:00\""),
    "partition": (("sbatch",), _name, "a partition name"),
    "account": (("sbatch",), _name, "an account name"),
    "wait": (("sbatch",), lambda v: isinstance(v, bool), "true or false"),
    "setup": (("sbatch",), _strings, "a list of shell lines"),
    "batch_args": (("sbatch",), _strings, "a list of sbatch options"),
}


@dataclass
class Launcher:
    """A validated launcher block, defaults filled in. oversubscribe None: for kind local, when a run
    has more ranks than this machine has cores; for the others, no."""
    kind: str = "local"
    transport: str = None
    bind: str = None
    oversubscribe: bool = False
    env: dict = field(default_factory=dict)
    args: list = field(default_factory=list)
    mpirun: str = "mpirun"
    hostfile: str = None
    nodes: int = None
    tasks_per_node: int = None
    gpus_per_task: int = None
    cpus_per_task: int = None
    mpi: str = None
    time: str = None
    partition: str = None
    account: str = None
    wait: bool = True
    setup: list = field(default_factory=list)
    batch_args: list = field(default_factory=list)

    def layout(self, ranks):
        """(nodes, tasks per node) a run of `ranks` ranks asks for; None where Slurm or Open MPI decide.
        With only tasks_per_node, the nodes are as many as the ranks need."""
        nodes, per_node = self.nodes, self.tasks_per_node
        if per_node and not nodes:
            nodes = math.ceil(ranks / per_node)
        return nodes, per_node


DEFAULTS = {
    # this machine: shared memory only, no binding (ranks outnumber cores), oversubscribed when needed
    "local": {"transport": "self,vader", "bind": "none", "oversubscribe": None},
    "hostfile": {},                # Open MPI's own transport selection and binding
    "srun": {"mpi": "pmix"},       # Debian's Open MPI 4.1 finds its ranks through PMIx, not PMI-2
    "sbatch": {"mpi": "pmix"},
}
assert all(set(d) <= {f.name for f in fields(Launcher)} for d in DEFAULTS.values())


def parse_value(text):
    """A --launcher-set value: JSON if it parses, else the string (as gg_train's --set)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def merge(block, src, kind=None, sets=()):
    """The launcher block with the command line's --launcher KIND and --launcher-set KEY=VALUE applied
    (env.NAME=value sets one variable). Raises StudyError for a block that is not an object or a
    malformed assignment."""
    if not isinstance(block, dict):
        raise StudyError(f"{src}: launcher: expected an object like {{\"kind\": \"sbatch\", \"nodes\": 2}}")
    block = dict(block)
    if kind:
        block["kind"] = kind
    for s in sets:
        key, eq, value = s.partition("=")
        if not eq or not key:
            raise StudyError(f"--launcher-set '{s}': expected key=value")
        if key.startswith("env."):
            block["env"] = {**block.get("env", {}), key[4:]: parse_value(value)}
        else:
            block[key] = parse_value(value)
    return block


def validate(block, src):
    """The Launcher of a launcher block (an object, see merge); StudyError naming the first key that is
    wrong."""
    kind = block.get("kind", "local")
    if kind not in KINDS:
        raise StudyError(f"{src}: launcher.kind: expected one of {', '.join(KINDS)}, got {json.dumps(kind)}")
    for key, value in block.items():
        if key not in KEYS:
            raise StudyError(f"{src}: launcher.{key}: unknown key (allowed: {', '.join(KEYS)})")
        kinds, check, expected = KEYS[key]
        if kind not in kinds:
            allowed = [k for k, (ks, _, _) in KEYS.items() if kind in ks]
            raise StudyError(f"{src}: launcher.{key}: not a key of kind {kind} (its keys: {', '.join(allowed)})")
        if not check(value):
            raise StudyError(f"{src}: launcher.{key}: expected {expected}, got {json.dumps(value)}")
    if kind == "hostfile" and "hostfile" not in block:
        raise StudyError(f"{src}: launcher.hostfile: missing (kind hostfile runs on the hosts it lists)")
    values = {**DEFAULTS[kind], **block}
    values["env"] = {k: str(v) for k, v in values.get("env", {}).items()}
    return Launcher(**values)


def check_fit(launcher, runs, src):
    """Every run's ranks fit the nodes and tasks per node the study fixes; StudyError naming the run."""
    for run in runs:
        nodes, per_node = launcher.layout(run["ranks"])
        if nodes and per_node and nodes * per_node < run["ranks"]:
            raise StudyError(f"{src}: run {run['name']}: {run['ranks']} ranks do not fit on launcher.nodes "
                             f"{nodes} x launcher.tasks_per_node {per_node}")
        if nodes and nodes > run["ranks"]:
            raise StudyError(f"{src}: run {run['name']}: launcher.nodes {nodes} is more than its "
                             f"{run['ranks']} ranks")
