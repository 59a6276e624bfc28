"""Reads gg_train checkpoints: the LATEST manifest and the per-rank files of a run's checkpoint folder
(results/x/run.h5.ckpt for the log results/x/run.h5). Formats: core/train/checkpoint_store.hpp (files)
and core/util/state_io.hpp (records). Used by the resume tests (tests/cli/resume_e2e.py) and to look
at a trained model: the final checkpoint holds every worker's parameters.

    ck = checkpoint.load("results/x/run.h5.ckpt")
    ck.manifest["step"], ck.manifest["final"]
    ck.ranks[0].header["role"], ck.ranks[0].records["model.params"]   # numpy float32 array
"""
import json
import os
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

MAGIC = b"GGCKPT1\n"
KINDS = {1: ("<i8", True), 2: ("<f8", True), 3: ("<f4", False), 4: ("<i8", False), 5: ("u1", False)}


class CheckpointError(Exception):
    """A file that is not a readable gg_train checkpoint (the message names it)."""


@dataclass
class RankFile:
    path: str
    header: dict
    records: dict = field(default_factory=dict)  # name -> int, float or numpy array, in file order


def folder_for(log_path):
    """The checkpoint folder of a run log: its whole name with .ckpt appended (run.h5 -> run.h5.ckpt), so
    that no two logs share one (run.h5 and run.hdf5)."""
    return log_path + ".ckpt"


def read_records(data, source):
    out, pos = {}, 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise CheckpointError(f"{source}: truncated record")
        (n,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + n].decode()
        kind, count = struct.unpack_from("<BQ", data, pos + 2 + n)
        pos += 2 + n + 9
        if kind not in KINDS:
            raise CheckpointError(f"{source}: record '{name}' has unknown kind {kind}")
        dtype, scalar = KINDS[kind]
        size = np.dtype(dtype).itemsize * count
        values = np.frombuffer(data, dtype=dtype, count=count, offset=pos)
        out[name] = values[0].item() if scalar else values
        pos += size
    return out


def read_rank_file(path):
    data = open(path, "rb").read()
    if len(data) < len(MAGIC) + 16 or not data.startswith(MAGIC):
        raise CheckpointError(f"{path}: not a gg_train checkpoint file")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) & 0xFFFFFFFF != crc:
        raise CheckpointError(f"{path}: checksum mismatch")
    (hlen,) = struct.unpack_from("<I", data, len(MAGIC))
    header = json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + hlen])
    at = len(MAGIC) + 4 + hlen
    (slen,) = struct.unpack_from("<Q", data, at)
    state = data[at + 8:at + 8 + slen]
    return RankFile(path, header, read_records(state, path))


@dataclass
class Checkpoint:
    folder: str
    manifest: dict
    ranks: list  # RankFile per rank


def load(folder):
    """The committed checkpoint of a folder (what LATEST names), every rank's file read and checked."""
    latest = os.path.join(folder, "LATEST")
    if not os.path.isfile(latest):
        raise CheckpointError(f"{latest}: missing (no committed checkpoint)")
    manifest = json.load(open(latest))
    step_dir = os.path.join(folder, "step-%08d" % manifest["step"])
    ranks = [read_rank_file(os.path.join(step_dir, "rank-%05d.ckpt" % r)) for r in range(manifest["ranks"])]
    return Checkpoint(folder, manifest, ranks)
