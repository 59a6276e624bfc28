"""What the built trainer knows, asked from the trainer itself: `gg_train --describe` prints JSON

  {"version": {"git", "build_type", "backends"},
   "algorithms": [spec, ...],          registry order = the canonical order of legends and tables
   "models": [...], "layers": [...], "datasets": [...], "partitions": [...]}

with one spec per algorithm (see ggbench/spec.py). The Python tools keep no copy of algorithm names,
options, defaults or rank layouts: they hold a Registry made from this output. The output is cached
per process and per command (the only module-level state of the package).

Finding the binary: the study runners take --build-dir (gg_train at <build-dir>/experiments/gg_train)
and stop with one clear error when it is missing or lacks --describe. The log readers (figures,
summary, report) use for_readers(): --build-dir when given (an error if it does not answer), else
build/release under the working directory, else under the repository root; when none answers they go
on without a registry (see ggbench/runlog.py for what that changes)."""
import functools
import json
import os
import subprocess

from . import spec as specs

DEFAULT_BUILD_DIR = os.path.join("build", "release")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DESCRIBE_TIMEOUT_S = 120


class RegistryError(Exception):
    """The trainer could not be asked (missing, too old, bad output), or a name it does not know."""


def binary_in(build_dir):
    return os.path.join(build_dir, "experiments", "gg_train")


@functools.lru_cache(maxsize=None)
def describe(command):
    """The parsed output of `*command --describe` (command: a tuple, e.g. (binary,) or an smpirun
    prefix ending in the binary). Raises RegistryError with one line saying what went wrong."""
    shown = " ".join(command[-1:])
    try:
        res = subprocess.run(list(command) + ["--describe"], capture_output=True, text=True,
                             timeout=DESCRIBE_TIMEOUT_S)
    except OSError as e:
        raise RegistryError(f"{shown}: cannot run ({e.strerror})") from None
    except subprocess.TimeoutExpired:
        raise RegistryError(f"{shown} --describe: no answer in {DESCRIBE_TIMEOUT_S} s") from None
    if res.returncode != 0:
        why = (res.stderr.strip() or res.stdout.strip() or f"exit {res.returncode}").splitlines()[-1]
        raise RegistryError(f"{shown} --describe failed ({why}); rebuild gg_train: the tools need its --describe")
    return parse(res.stdout, shown)


def parse(text, source):
    """The describe document from text (a launcher may print lines before the JSON)."""
    start = text.find("{")
    try:
        doc = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError as e:
        raise RegistryError(f"{source} --describe: not JSON ({e.msg} at line {e.lineno})") from None
    algos = doc.get("algorithms") if isinstance(doc, dict) else None
    if not isinstance(algos, list) or not all(
            isinstance(a, dict) and isinstance(a.get("name"), str) and isinstance(a.get("options"), list)
            and isinstance(a.get("layout"), dict) for a in algos):
        raise RegistryError(f"{source} --describe: no \"algorithms\" list of specs with name, options and layout")
    return doc


class Registry:
    """The algorithms of one describe document, in registry order."""

    def __init__(self, doc, source="gg_train"):
        self.doc = doc
        self.source = source
        self._specs = {a["name"]: a for a in doc["algorithms"]}

    @property
    def names(self):
        return [a["name"] for a in self.doc["algorithms"]]

    def index(self, name):
        """Position in the registry (legend and table order), None for an unknown name."""
        return self.names.index(name) if name in self._specs else None

    def find(self, name):
        """The spec of an algorithm, None for an unknown name."""
        return self._specs.get(name)

    def spec(self, name):
        """The spec of an algorithm; RegistryError naming the known ones otherwise."""
        if name not in self._specs:
            raise RegistryError(f"unknown algorithm {json.dumps(name)} (known: {', '.join(self.names)})")
        return self._specs[name]

    def defaults(self, name):
        return specs.defaults(self.spec(name))

    def servers(self, block):
        """Ranks of a run with this algorithm block that do not train (parameter servers)."""
        return specs.servers(self.spec(block.get("name")), block)


def from_binary(binary, launcher=(), build_hint=None):
    """The registry of a built gg_train (run through `launcher`, e.g. smpirun, when given). Raises
    RegistryError when it is not built or cannot describe itself."""
    if not os.path.isfile(binary):
        hint = build_hint or f"cmake --build {os.path.dirname(os.path.dirname(binary)) or '.'}"
        raise RegistryError(f"{binary}: not built; build it first ({hint}): the tools read the algorithms "
                            f"from gg_train --describe")
    return Registry(describe(tuple(launcher) + (binary,)), binary)


def for_readers(build_dir=None):
    """The registry for tools that read run logs. With build_dir (their --build-dir) its gg_train must
    answer (RegistryError otherwise); without, build/release under the working directory or the
    repository root is tried, and None is returned when no gg_train there answers --describe (the
    tools then fall back to what the logs hold)."""
    if build_dir:
        return from_binary(binary_in(build_dir))
    for d in (DEFAULT_BUILD_DIR, os.path.join(REPO, DEFAULT_BUILD_DIR)):
        if os.access(binary_in(d), os.X_OK):
            try:
                return from_binary(binary_in(d))
            except RegistryError:
                return None
    return None


def add_build_dir(ap):
    """The --build-dir option of the tools that read run logs (see for_readers)."""
    ap.add_argument("--build-dir", default=None,
                    help="build whose gg_train --describe describes the algorithms of run logs that do not "
                         "describe them themselves (default: build/release here or in the repository, if built)")
