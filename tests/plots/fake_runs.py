"""Synthetic run logs that follow core/log/SCHEMA.md exactly, for testing the figures, the summary and
the report without running the trainer. New-style logs (the default) are what a gg_train with
--describe writes: the effective algorithm block (every option, defaults filled in) and the
algorithm_spec attribute, both from fake_describe.json (the stand-in's registry). Old-style logs
(old_style=True) hold only the options given and no algorithm_spec, like results/reference/."""
import json
import pathlib

import h5py
import numpy as np

METRIC_GROUPS = ("rank0", "averaged", "replica_min", "replica_max")
DESCRIBE_TEXT = (pathlib.Path(__file__).resolve().parent / "fake_describe.json").read_text()
DESCRIBE = json.loads(DESCRIBE_TEXT)
SPECS = {a["name"]: a for a in DESCRIBE["algorithms"]}


def effective(block):
    """The block with every option of its spec, defaults filled in (as gg_train records it)."""
    spec = SPECS[block["name"]]
    return {"name": block["name"], **{o["name"]: block.get(o["name"], o["default"]) for o in spec["options"]}}


def workers_of(block, ranks):
    option = SPECS[block["name"]]["layout"]["servers_option"]
    return ranks - (int(effective(block)[option]) if option else 0)


def write_run(path, algorithm, ranks, steps=40, evals=4, batch=32, finished=True, seed=0, old_style=False,
              spec=None):
    """Writes one run log. algorithm is the config's algorithm block, e.g. {"name": "gossipgrad"}; spec
    overrides the algorithm_spec written (new style only)."""
    rng = np.random.default_rng(seed)
    workers = workers_of(algorithm, ranks)
    block = algorithm if old_style else effective(algorithm)
    config = {"name": "fake", "model": "lenet", "data": {"name": "fashion-mnist"}, "algorithm": block,
              "train": {"epochs": 2, "batch": batch}, "output": {"path": str(path)}}
    comm_scale = {"allreduce": 2.0 * np.log2(max(2, workers)), "ps": 3.0 * workers}.get(algorithm["name"], 1.0)
    str_t = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        a = f.attrs
        a.create("schema_version", 1, dtype="int64")
        a.create("finished", 1 if finished else 0, dtype="int64")
        if finished:
            a.create("wall_s", 12.5, dtype="float64")
        if not old_style:
            a.create("algorithm_spec", json.dumps(spec or SPECS[algorithm["name"]]), dtype=str_t)
        for key, value in (("config", json.dumps(config)), ("git_revision", "abc1234"), ("host", "test"),
                           ("mpi_library", "Fake MPI"), ("hdf5_version", "1.10.8"), ("compiler", "gcc 12"),
                           ("start_time", "2024-01-01T00:00:00Z"), ("model_layers", "[]")):
            a.create(key, value, dtype=str_t)
        for key, value in (("workers", workers), ("ranks", ranks), ("num_params", 431080)):
            a.create(key, value, dtype="int64")
        compute = rng.uniform(0.020, 0.025, (steps, workers)).astype("f4")
        comm = (0.001 * comm_scale * rng.uniform(0.8, 1.2, (steps, workers))).astype("f4")
        loss = (2.3 * np.exp(-np.arange(steps) / 20.0)[:, None] + rng.uniform(0, 0.1, (steps, workers))).astype("f4")
        partner = np.tile((np.arange(workers) + 1) % workers, (steps, 1)).astype("i4")
        s = f.create_group("steps")
        s.create_dataset("step", data=np.arange(steps, dtype="i8"), maxshape=(None,))
        for key, value in (("compute_s", compute), ("comm_s", comm), ("wait_s", 0.3 * comm),
                           ("bytes_sent", np.full((steps, workers), 1724320, dtype="u8")),
                           ("partner", partner), ("loss", loss)):
            s.create_dataset(key, data=value, maxshape=(None, workers))
        s.create_dataset("loss_mean", data=loss.mean(axis=1), maxshape=(None,))
        e = f.create_group("eval")
        step = np.linspace(steps / evals, steps, evals).astype("i8")
        top1 = 0.9 - 0.5 * np.exp(-np.arange(1, evals + 1))
        for key, value in (("step", step), ("epoch", step / (steps / 2.0)), ("wall_s", step * 0.03),
                           ("consensus", np.zeros(evals) if algorithm["name"] in ("allreduce", "ps")
                            else 0.1 / np.arange(1, evals + 1))):
            e.create_dataset(key, data=value, maxshape=(None,))
        for group, shift in zip(METRIC_GROUPS, (0.0, 0.005, -0.01, 0.01)):
            g = e.create_group(group)
            g.create_dataset("top1", data=top1 + shift, maxshape=(None,))
            g.create_dataset("top5", data=np.minimum(1.0, top1 + 0.08), maxshape=(None,))
            g.create_dataset("loss", data=1.5 - top1, maxshape=(None,))


def write_study(root):
    """A small study directory: the four algorithms at p = 2 and 4, plus three gossipgrad variants."""
    blocks = [{"name": "allreduce"}, {"name": "ps"}, {"name": "gossip"}, {"name": "gossipgrad"},
              {"name": "gossipgrad", "rotation": "none"}, {"name": "gossipgrad", "shuffle": False},
              {"name": "gossipgrad", "timing": "sync"}]
    paths = []
    for i, block in enumerate(blocks):
        for p in ((2, 4) if i < 4 else (4,)):
            name = "_".join([block["name"]] + [f"{k}-{v}" for k, v in block.items() if k != "name"] + [f"p{p}"])
            d = root / name
            d.mkdir(parents=True)
            write_run(d / "run.h5", block, p, seed=i * 10 + p)
            paths.append(d / "run.h5")
    # Strong scaling: global batch 64 split over the workers.
    for p in (2, 4):
        d = root / f"allreduce_p{p}_gb64"
        d.mkdir()
        write_run(d / "run.h5", {"name": "allreduce"}, p, batch=64 // p, seed=100 + p)
    return paths
