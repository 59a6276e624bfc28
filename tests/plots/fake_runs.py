"""Synthetic run logs that follow core/log/SCHEMA.md exactly, for testing the figures, the summary and
the report without running the trainer. New-style logs (the default) are what a gg_train with
--describe writes: the effective algorithm block (every option, defaults filled in) and the
algorithm_spec attribute, both from fake_describe.json (the stand-in's registry). Old-style logs
(old_style=True) hold only the options given and no algorithm_spec, like results/reference/.

/steps follows schema 2 by default: compute_s, comm_s (calls), exposed_s, total_s, mem_s, staging_s,
bytes_sent/recv, msgs_sent, mem_bytes, staleness. Asynchronous gossip exchanges (gossip, and gossipgrad
unless timing=sync) are hidden: exposed 0 while the total is FAKE_HIDDEN_TOTAL_S; the others wait for
30% of their calls and are in flight 3x as long as their calls. schema=1 writes the old datasets
(wait_s, bytes_sent, partner, loss) and no cost_model, like the reference logs. simulated=True writes
what an SMPI run writes (mpi_library, a cost model that charges host work: mem_s > 0) with byte counts
divided by payload_scale, as the runner's proxy models are; write_runner_record() writes the runner's
smpi_runs.json that records the scale and the platform."""
import json
import pathlib

import h5py
import numpy as np

METRIC_GROUPS = ("rank0", "averaged", "replica_min", "replica_max")
DESCRIBE_TEXT = (pathlib.Path(__file__).resolve().parent / "fake_describe.json").read_text()
DESCRIBE = json.loads(DESCRIBE_TEXT)
SPECS = {a["name"]: a for a in DESCRIBE["algorithms"]}
BYTES = 1724320           # bytes sent (and received) per worker and step, true units
FAKE_HIDDEN_TOTAL_S = 0.0169  # total exchange time of a hidden exchange
MEM_S = 0.0005            # charged host work per step of a simulated run
COST_MODEL = {"mem_GBps": 100.0, "staging_GBps": 0.0, "progress_us": 1.0, "source": "fake platform properties"}


def effective(block):
    """The block with every option of its spec, defaults filled in (as gg_train records it)."""
    spec = SPECS[block["name"]]
    return {"name": block["name"], **{o["name"]: block.get(o["name"], o["default"]) for o in spec["options"]}}


def workers_of(block, ranks):
    option = SPECS[block["name"]]["layout"]["servers_option"]
    return ranks - (int(effective(block)[option]) if option else 0)


def hidden(block):
    """Whether the fake exchange of this algorithm block overlaps compute completely."""
    return block["name"] in ("gossip", "gossipgrad") and block.get("timing", "async") != "sync"


def step_metrics(rng, block, steps, workers, schema, simulated, payload_scale):
    """{dataset: [steps, workers] array} of /steps for the schema."""
    comm_scale = {"allreduce": 2.0 * np.log2(max(2, workers)), "ps": 3.0 * workers}.get(block["name"], 1.0)
    shape = (steps, workers)
    compute = rng.uniform(0.020, 0.025, shape).astype("f4")
    comm = (0.001 * comm_scale * rng.uniform(0.8, 1.2, shape)).astype("f4")
    loss = (2.3 * np.exp(-np.arange(steps) / 20.0)[:, None] + rng.uniform(0, 0.1, shape)).astype("f4")
    partner = np.tile((np.arange(workers) + 1) % workers, (steps, 1)).astype("i4")
    sent = np.full(shape, BYTES // payload_scale, dtype="u8")
    if schema == 1:
        return {"compute_s": compute, "comm_s": comm, "wait_s": 0.3 * comm, "bytes_sent": sent, "partner": partner,
                "loss": loss}
    if hidden(block):
        comm = np.full(shape, 1e-5, dtype="f4")  # posting only
        exposed = np.zeros(shape, dtype="f4")
        total = np.full(shape, FAKE_HIDDEN_TOTAL_S, dtype="f4")
    else:
        exposed, total = (0.3 * comm).astype("f4"), (3.0 * comm).astype("f4")
    return {"compute_s": compute, "comm_s": comm, "exposed_s": exposed, "total_s": total,
            "mem_s": np.full(shape, MEM_S if simulated else 0.0, dtype="f4"), "staging_s": np.zeros(shape, "f4"),
            "bytes_sent": sent, "bytes_recv": sent.copy(), "msgs_sent": np.full(shape, 2, dtype="u8"),
            "mem_bytes": 4 * sent, "partner": partner,
            "staleness": np.full(shape, 1 if hidden(block) else 0, dtype="i4"), "loss": loss}


def write_run(path, algorithm, ranks, steps=40, evals=4, batch=32, finished=True, seed=0, old_style=False,
              spec=None, schema=2, simulated=False, payload_scale=1, train_seed=None, top1_shift=0.0,
              partition=None, top1=None):
    """Writes one run log. algorithm is the config's algorithm block, e.g. {"name": "gossipgrad"}; spec
    overrides the algorithm_spec written (new style only). train_seed and partition go into the config
    (train.seed, data.partition) when given; top1_shift moves every test top-1, top1 (a list of E
    values) replaces the curve of worker 0 and the averaged model."""
    rng = np.random.default_rng(seed)
    workers = workers_of(algorithm, ranks)
    block = algorithm if old_style else effective(algorithm)
    config = {"name": "fake", "model": "lenet", "data": {"name": "fashion-mnist"}, "algorithm": block,
              "train": {"epochs": 2, "batch": batch}, "output": {"path": str(path)}}
    if train_seed is not None:
        config["train"]["seed"] = train_seed
    if partition is not None:
        config["data"]["partition"] = partition
    if simulated:  # a proxy model, as the SMPI runner makes it
        config["model"] = {"layers": [{"type": "proxy", "name": "a", "params": 1000}]}
    str_t = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        a = f.attrs
        a.create("schema_version", schema, dtype="int64")
        a.create("finished", 1 if finished else 0, dtype="int64")
        if finished:
            a.create("wall_s", 12.5, dtype="float64")
        if not old_style:
            a.create("algorithm_spec", json.dumps(spec or SPECS[algorithm["name"]]), dtype=str_t)
        texts = {"config": json.dumps(config), "git_revision": "abc1234", "host": "test",
                 "mpi_library": "SMPI Version 3.32 (fake)" if simulated else "Fake MPI", "hdf5_version": "1.10.8",
                 "compiler": "gcc 12", "start_time": "2024-01-01T00:00:00Z", "model_layers": "[]"}
        if schema >= 2:
            texts["cost_model"] = json.dumps(COST_MODEL if simulated else
                                             {"mem_GBps": 0, "staging_GBps": 0, "progress_us": 0,
                                              "source": "none: real hardware charges its own"})
        for key, value in texts.items():
            a.create(key, value, dtype=str_t)
        for key, value in (("workers", workers), ("ranks", ranks), ("num_params", 431080)):
            a.create(key, value, dtype="int64")
        s = f.create_group("steps")
        s.create_dataset("step", data=np.arange(steps, dtype="i8"), maxshape=(None,))
        metrics = step_metrics(rng, block, steps, workers, schema, simulated, payload_scale)
        for key, value in metrics.items():
            s.create_dataset(key, data=value, maxshape=(None, workers))
        s.create_dataset("loss_mean", data=metrics["loss"].mean(axis=1), maxshape=(None,))
        e = f.create_group("eval")
        step = np.linspace(steps / evals, steps, evals).astype("i8")
        top1 = np.asarray(top1, dtype=float) if top1 is not None else \
            0.9 - 0.5 * np.exp(-np.arange(1, evals + 1)) + top1_shift
        for key, value in (("step", step), ("epoch", step / (steps / 2.0)), ("wall_s", step * 0.03),
                           ("consensus", np.zeros(evals) if algorithm["name"] in ("allreduce", "ps")
                            else 0.1 / np.arange(1, evals + 1))):
            e.create_dataset(key, data=value, maxshape=(None,))
        for group, shift in zip(METRIC_GROUPS, (0.0, 0.005, -0.01, 0.01)):
            g = e.create_group(group)
            g.create_dataset("top1", data=top1 + shift, maxshape=(None,))
            g.create_dataset("top5", data=np.minimum(1.0, top1 + 0.08), maxshape=(None,))
            g.create_dataset("loss", data=1.5 - top1, maxshape=(None,))


def write_runner_record(study_dir, platform, payload_scale):
    """The SMPI runner's smpi_runs.json for every run directory of study_dir (ggbench/run_smpi.py)."""
    study_dir = pathlib.Path(study_dir)
    runs = sorted(d.name for d in study_dir.iterdir() if (d / "run.h5").is_file())
    (study_dir / "smpi_runs.json").write_text(json.dumps(
        [{"run": name, "ranks": 0, "wall_s": 1.0, "simulated_s": 1.0, "status": "ok", "platform": f"{platform}.xml",
          "profile": "fake", "payload_scale": payload_scale} for name in runs], indent=1))


def write_study(root):
    """A small study directory: the four algorithms at p = 2 and 4, plus three gossipgrad variants."""
    blocks = [{"name": "allreduce"}, {"name": "ps"}, {"name": "gossip"}, {"name": "gossipgrad"},
              {"name": "gossipgrad", "rotation": "none"}, {"name": "gossipgrad", "shuffle": "none"},
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


def write_meta(run_dir, study, regime, seed):
    """The study runner's run_meta.json of a run (ggbench/run_meta.py)."""
    run_dir = pathlib.Path(run_dir)
    (run_dir / "run_meta.json").write_text(json.dumps(
        {"study": study, "run": run_dir.name, "regime": regime, "seed": seed, "lr_reference_batch": None}))


SEED_SHIFTS = {"allreduce": (0.0, 0.002, -0.002), "gossipgrad": (-0.030, -0.028, -0.032),
               "gossip": (-0.001, 0.004, -0.004)}


def write_seed_study(root, regime="fixed_worker_batch", ps=(2, 4), seeds=(1, 2, 3), partition="reshuffle"):
    """A study swept over seeds as ggbench/study.py names and records it: allreduce, gossipgrad (3 points
    below allreduce, a clear gap) and gossip (within noise of allreduce) at each p and seed."""
    paths = []
    for name, shifts in SEED_SHIFTS.items():
        for p in ps:
            for seed, shift in zip(seeds, shifts):
                d = pathlib.Path(root) / f"{name}_p{p}_s{seed}"
                d.mkdir(parents=True)
                write_run(d / "run.h5", {"name": name}, p, seed=seed * 7 + p, train_seed=seed, top1_shift=shift,
                          partition=partition)
                write_meta(d, pathlib.Path(root).name, regime, seed)
                paths.append(d / "run.h5")
    return paths
