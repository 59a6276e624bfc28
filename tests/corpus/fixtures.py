"""Bad inputs made on the fly for the corpus (cases.py): small IDX and CIFAR-10 data sets, each a fresh
folder that one case then damages, configs, special files and held locks. Nothing here needs the
dataset packages: the images are random bytes."""
import fcntl
import gzip
import json
import os
import struct

import numpy as np

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TRAIN, TEST = 256, 64


def idx_images(count, rows=28, cols=28, seed=0, claim=None):
    pixels = np.random.default_rng(seed).integers(0, 256, size=count * rows * cols, dtype=np.uint8)
    return struct.pack(">IIII", 0x803, count if claim is None else claim, rows, cols) + pixels.tobytes()


def idx_labels(count, seed=0, claim=None, classes=10):
    labels = np.random.default_rng(seed + 1).integers(0, classes, size=count, dtype=np.uint8)
    return struct.pack(">II", 0x801, count if claim is None else claim) + labels.tobytes()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def idx_dir(d, gz=False, **replace):
    """A valid small MNIST-style folder under d/data (train 256, test 64 images); `replace` maps a file
    name (without .gz) to the bytes to write instead, or to a callable(path) that makes the file."""
    data = os.path.join(d, "data")
    os.makedirs(data, exist_ok=True)
    good = {IDX_FILES[0]: idx_images(TRAIN), IDX_FILES[1]: idx_labels(TRAIN),
            IDX_FILES[2]: idx_images(TEST, seed=2), IDX_FILES[3]: idx_labels(TEST, seed=2)}
    for name in IDX_FILES:
        path = os.path.join(data, name + (".gz" if gz else ""))
        content = replace.get(name, good[name])
        if callable(content):
            content(path)
        else:
            write(path, gzip.compress(content) if gz else content)
    return data


def cifar_record(label, seed):
    return bytes([label]) + np.random.default_rng(seed).integers(0, 256, size=3072, dtype=np.uint8).tobytes()


def cifar_dir(d, **replace):
    """A valid small CIFAR-10 folder (8 records per training file, 8 test records) under d/cifar."""
    data = os.path.join(d, "cifar")
    os.makedirs(data, exist_ok=True)
    names = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        path = os.path.join(data, name)
        content = replace.get(name, b"".join(cifar_record(r % 10, 100 * k + r) for r in range(8)))
        if callable(content):
            content(path)
        else:
            write(path, content)
    return data


def fifo(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mkfifo(path, 0o600)
    return path


def symlink(target):
    return lambda path: os.symlink(target, path)


def config(d, doc, name="config.json"):
    """Writes a config file: doc is a dict (written as JSON), str or bytes (written as is)."""
    if isinstance(doc, dict):
        doc = json.dumps(doc)
    return write(os.path.join(d, name), doc.encode() if isinstance(doc, str) else doc)


def deep_json(levels, inner="1"):
    return '{"model": ' + "[" * levels + inner + "]" * levels + "}"


class HeldLock:
    """Holds a lock on a file for as long as the case runs: kind "posix" (a whole-file write lock: what a
    running gg_train holds, as seen through F_OFD_GETLK) or "flock" (what an HDF5 writer holds)."""

    def __init__(self, path, kind):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if kind == "posix":
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self):
        os.close(self.fd)


# ---- checkpoints ----
# A checkpointing run that setup() makes and kills: the case then continues it (--resume) or starts
# over the same output.path. run_corpus.py says where gg_train and mpiexec are (environment).
CHECKPOINTED = ["train.checkpoint_every=4", "train.evals_per_epoch=4", "train.max_steps=60"]


def gg_command(np_, argv):
    train, mpiexec = os.environ["GG_CORPUS_GG_TRAIN"], os.environ["GG_CORPUS_MPIEXEC"]
    if np_ <= 1:
        return [train] + argv
    return [mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", str(np_), train] + argv


def killed_run(d, np_, sets, timeout=60):
    """Starts the run of output.path d/out/run.h5 with `sets` (--set KEY=VALUE each) on np_ ranks, waits
    for its first committed checkpoint and kills the job (SIGKILL, launcher and ranks at once). Leaves
    the log (it holds evaluations) and d/out/run.h5.ckpt/ with LATEST. Returns the manifest."""
    import signal
    import subprocess
    import time
    out = os.path.join(d, "out", "run.h5")
    argv = ["--quiet", "--set", "output.path=" + out]
    for s in sets:
        argv += ["--set", s]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    p = subprocess.Popen(gg_command(np_, argv), cwd=d, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    latest = out + ".ckpt/LATEST"
    t0 = time.monotonic()
    try:
        while not (os.path.exists(latest) and os.path.exists(out)):
            if p.poll() is not None:
                raise RuntimeError("the run to interrupt ended first: " + p.stderr.read().decode(errors="replace"))
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("no checkpoint after %d s" % timeout)
            time.sleep(0.02)
    finally:  # the ranks first frozen, then every process of the job killed at once
        below = descendants(p.pid)
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in below:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if sig == signal.SIGSTOP:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        p.wait()
        p.stderr.close()
        for pid in below:  # dead (their locks released), or a zombie
            while os.path.exists("/proc/%d" % pid) and "\nState:\tZ" not in open_status(pid):
                time.sleep(0.01)
    with open(latest) as f:
        return json.load(f)


def descendants(pid):
    """Every process below pid (the ranks under mpiexec)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def open_status(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return "\n" + f.read()
    except OSError:
        return "\nState:\tZ"


def rank_file(d, manifest, rank):
    return os.path.join(d, "out", "run.h5.ckpt", "step-%08d" % manifest["step"], "rank-%05d.ckpt" % rank)


def replace_with(path, how):
    """Replaces a file by what `how` names: "fifo", "directory", "dev_zero" (a symbolic link to /dev/zero),
    "missing", "truncated" (its last 100 bytes cut), "huge" (a sparse file of 100 MiB)."""
    if how == "truncated":
        os.truncate(path, os.path.getsize(path) - 100)
        return
    if os.path.isdir(path) and not os.path.islink(path):
        os.rmdir(path)
    elif os.path.lexists(path):
        os.remove(path)
    if how == "fifo":
        os.mkfifo(path, 0o600)
    elif how == "directory":
        os.mkdir(path)
    elif how == "dev_zero":
        os.symlink("/dev/zero", path)
    elif how == "huge":
        with open(path, "wb") as f:
            f.truncate(100 << 20)
    elif how != "missing":
        raise ValueError(how)


def file_digest(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def manifest_naming(log_path):
    """A LATEST (JSON) of a committed checkpoint of the run whose log is log_path."""
    return json.dumps({"format": 1, "step": 4, "final": False, "ranks": 1, "workers": 1, "algorithm": "allreduce",
                       "written": "2026-01-01T00:00:00Z", "git_revision": "x",
                       "config": {"output": {"path": log_path}}})
