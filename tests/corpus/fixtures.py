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
