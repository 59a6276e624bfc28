"""The bad-input corpus: each case is a gg_train run that must fail with one clear message (run_corpus.py
says exactly what is checked). Cases span command lines, configs, datasets (IDX plain and gzipped,
CIFAR-10), rank counts and algorithm layouts, output paths and training health.

A case: name, the text its single error line must contain, the exit code every rank must return, the
number of ranks, --set overrides and extra arguments ({d}: the case's own folder; other {names}: what
setup(d) returned), and setup(d), which makes the case's inputs in d and returns the names (and, under
"hold", objects to keep alive while the case runs, e.g. held locks)."""
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from fixtures import (CHECKPOINTED, IDX_FILES, HeldLock, cifar_dir, cifar_record, config, deep_json, fifo, file_digest,
                      idx_dir, idx_images, idx_labels, killed_run, manifest_naming, rank_file, replace_with, symlink,
                      write)

SYNTH = ["data.name=synthetic", "data.shape=[28,28,1]", "data.train_size=2048", "data.test_size=256"]
MNIST = ["data.name=mnist", "data.dir={data}"]
CIFAR = ["data.name=cifar10", "data.dir={data}", "model=cifarnet"]


@dataclass
class Case:
    name: str
    needle: str
    code: int = 2
    np: int = 1
    sets: List[str] = field(default_factory=list)
    argv: List[str] = field(default_factory=list)
    setup: Optional[Callable] = None
    base: List[str] = field(default_factory=lambda: SYNTH)
    leaves: List[str] = field(default_factory=list)  # files the case must leave (relative to {d})
    after: Optional[Callable] = None  # after(d, values) -> [problems]: what else the run must have left as it was


def idx(gz=False, **replace):
    return lambda d: {"data": idx_dir(d, gz=gz, **replace)}


def cifar(**replace):
    return lambda d: {"data": cifar_dir(d, **replace)}


def cfg(doc):
    return lambda d: {"cfg": config(d, doc)}


def held(kind, name="out/run.h5"):
    return lambda d: {"hold": [HeldLock(os.path.join(d, name), kind)]}


def latest_is(how):
    """A plain run (no --resume) whose checkpoint folder holds a LATEST that is not a regular file."""
    def setup(d):
        os.makedirs(os.path.join(d, "out", "run.h5.ckpt"))
        replace_with(os.path.join(d, "out", "run.h5.ckpt", "LATEST"), how)
        return {}
    return setup


def killed_then(how, rank=1, np_=2):
    """A run killed after its first checkpoint (fixtures.killed_run), then rank `rank`'s file of the
    committed checkpoint replaced (fixtures.replace_with) -- or nothing done, for how=None."""
    def setup(d):
        m = killed_run(d, np_, SYNTH + CHECKPOINTED)
        if how:
            replace_with(rank_file(d, m, rank), how)
        return {"digest": file_digest(os.path.join(d, "out", "run.h5")), "stepdir": "step-%08d" % m["step"]}
    return setup


def log_unchanged(d, values):
    """A refused --resume leaves the log byte for byte as it was: not cut back, no resume recorded."""
    if file_digest(os.path.join(d, "out", "run.h5")) != values["digest"]:
        return ["the refused --resume changed the log out/run.h5 (cut back or a resume recorded)"]
    return []


def resumed_files(np_, step=60):
    return ["out/run.h5"] + ["out/run.h5.ckpt/step-%08d/rank-%05d.ckpt" % (step, r) for r in range(np_)]


def flip_middle(path_bytes):
    b = bytearray(path_bytes)
    for i in range(len(b) // 3, len(b) // 3 + 64):
        b[i] ^= 0x5A
    return bytes(b)


def gz_of(data):
    import gzip
    return gzip.compress(data)


def gz_file(content):
    return lambda path: write(path, content)


CASES = [
    # ---- command lines ----
    Case("cli_unknown_option", "--bogus", argv=["--bogus"]),
    Case("cli_set_without_value", "--set", argv=["--set"]),
    Case("cli_set_without_equals", "--set 'train.epochs': expected key.path=value", argv=["--set", "train.epochs"]),
    Case("cli_set_empty_key", "expected key.path=value", argv=["--set", "=3"]),
    Case("cli_set_empty_key_part", "empty key in path", argv=["--set", "train..epochs=3"]),
    Case("cli_set_long_key_path", "a key path has at most 16 parts", argv=["--set", ".".join(["k"] * 40) + "=1"]),
    Case("cli_set_deep_value", "the value nests deeper than 64 levels",
         argv=["--set", "train.batch=" + "[" * 5000 + "]" * 5000]),
    Case("cli_stray_argument", "stray", argv=["stray"]),
    Case("cli_config_missing", "--config: {d}/nope.json: file not found", argv=["--config", "{d}/nope.json"]),
    Case("cli_config_directory", "is a directory, not a regular file", argv=["--config", "{d}"]),
    Case("cli_config_fifo", "is a FIFO (named pipe), not a regular file", argv=["--config", "{cfg}"],
         setup=lambda d: {"cfg": fifo(os.path.join(d, "in/config.json"))}),
    Case("cli_config_device", "/dev/zero: is a character device", argv=["--config", "/dev/zero"]),
    Case("cli_mpi_unknown_option", "--bogus", np=3, argv=["--bogus"]),
    Case("cli_mpi_config_fifo", "is a FIFO (named pipe)", np=4, argv=["--config", "{cfg}"],
         setup=lambda d: {"cfg": fifo(os.path.join(d, "in/config.json"))}),
    # ---- configs ----
    Case("config_malformed", "malformed JSON at line 2, column", argv=["--config", "{cfg}"],
         setup=cfg('{\n  "train": {"epochs": 2,}\n}\n')),
    Case("config_trailing_bytes", "malformed JSON at line 1, column 20", argv=["--config", "{cfg}"],
         setup=cfg('{"name": "run"}    {"train": {}}')),
    Case("config_nul_then_bytes", "NUL byte at line 1, column 16", argv=["--config", "{cfg}"],
         setup=cfg(b'{"name": "run"}\x00{"train": {"epochs": 99999999}}')),
    Case("config_deep_50000", "nested deeper than 64 levels at line 1", argv=["--config", "{cfg}"],
         setup=cfg(deep_json(50000))),
    Case("config_deep_objects", "nested deeper than 64 levels", argv=["--config", "{cfg}"],
         setup=cfg('{"a":' * 30000 + "1" + "}" * 30000)),
    Case("config_number_overflow", "config.json: number overflow parsing '1e400'", argv=["--config", "{cfg}"],
         setup=cfg('{"train": {"epochs": 1e400}}')),  # found by fuzz_config
    Case("config_not_an_object", "the config must be a JSON object, got array", argv=["--config", "{cfg}"],
         setup=cfg("[1, 2, 3]")),
    Case("config_empty_file", "malformed JSON at line 1, column 1", argv=["--config", "{cfg}"], setup=cfg("")),
    Case("config_too_large", "larger than the 16.0 MiB", argv=["--config", "{cfg}"],
         setup=cfg('{"name": "' + "x" * (17 << 20) + '"}')),
    Case("config_unknown_top_key", "unknown key 'trian'", sets=["trian.epochs=3"]),
    Case("config_unknown_train_key", "unknown key 'train.epoch'", sets=["train.epoch=3"]),
    Case("config_type_mismatch", "'train.batch' must be an integer", sets=["train.batch=big"]),
    Case("config_zero_batch", "'train.batch' must be in [1,", sets=["train.batch=0"]),
    Case("config_negative_lr", "'optimizer.lr' must be in", sets=["optimizer.lr=-1"]),
    Case("config_huge_max_steps", "'train.max_steps' must be in [0, 1000000000000000]",
         sets=["train.max_steps=9000000000000000000"]),
    Case("config_long_key_shortened", "unknown key 'train.kkkkkkkk", sets=["train." + "k" * 20000 + "=1"]),
    Case("config_newline_in_value", "got \"syn\\nthetic\"", sets=["data.name=syn\nthetic"]),
    Case("config_stall_limits_inverted", "'comm.stall_abort_s' (5) must be larger than 'comm.stall_warn_s' (10)",
         sets=["comm.stall_warn_s=10", "comm.stall_abort_s=5"]),
    Case("config_unknown_model", "unknown model 'vgg99'", sets=["model=vgg99"]),
    Case("config_bad_partition", "'data.partition' must be one of {reshuffle, fixed, classes, dirichlet}", sets=["data.partition=random"]),
    Case("config_tf32_without_cuda", "'train.tf32' needs 'train.device': \"cuda\"", sets=["train.tf32=true"]),
    # The corpus runs where no GPU is visible (CI; the sanitizer build has no CUDA backend at all).
    Case("config_mpi_cuda_without_gpu", "'train.device' is \"cuda\", but", np=3, sets=["train.device=cuda"]),
    Case("config_mpi_nccl_without_gpu", "algorithm.transport: \"nccl\" needs the model on a GPU", np=2,
         sets=["algorithm.name=allreduce", "algorithm.transport=nccl"]),
    Case("config_mpi_unknown_key", "unknown key 'train.epoch'", np=4, sets=["train.epoch=3"]),
    # ---- memory asked for by the config ----
    Case("memory_synthetic_too_large", "more than this machine's",
         sets=["data.train_size=2147483648", "data.shape=[64,64,3]"]),
    Case("memory_model_parameters", "model: 1000796000010 parameters: needs 3.6 TiB, more than this machine's",
         sets=['model={"layers": [{"type": "dense", "out": 1000000}, {"type": "dense", "out": 1000000}, '
               '{"type": "dense", "out": 10}]}']),
    Case("memory_mpi_synthetic_too_large", "more than this machine's", np=3,
         sets=["data.train_size=2147483648", "data.shape=[64,64,3]"]),
    # ---- IDX data sets (MNIST format) ----
    Case("idx_missing_dir", "neither {d}/nowhere/train-images-idx3-ubyte.gz nor", base=["data.name=mnist"],
         sets=["data.dir={d}/nowhere"]),
    Case("idx_truncated_images", "truncated: header says 256 images of 28x28 but file holds", base=MNIST,
         setup=idx(**{IDX_FILES[0]: idx_images(256)[:-1000]})),
    Case("idx_header_claims_billions", "truncated: header says 4000000000 images of 28x28 but file holds 200704 bytes",
         base=MNIST, setup=idx(**{IDX_FILES[0]: idx_images(256, claim=4000000000)})),
    Case("idx_gz_header_claims_billions", "truncated: header says 4000000000 images", base=MNIST,
         setup=idx(gz=True, **{IDX_FILES[0]: idx_images(256, claim=4000000000)})),
    Case("idx_gz_truncated_stream", "truncated or corrupt gzip data", base=MNIST,
         setup=idx(gz=True, **{IDX_FILES[0]: gz_file(gz_of(idx_images(256))[:3000])})),
    Case("idx_gz_corrupt_stream", "truncated or corrupt gzip data", base=MNIST,
         setup=idx(gz=True, **{IDX_FILES[2]: gz_file(flip_middle(gz_of(idx_images(64, seed=2))))})),
    Case("idx_labels_as_images", "bad magic number 0x00000801, expected 0x00000803 for IDX images (this is an IDX labels",
         base=MNIST, setup=idx(**{IDX_FILES[0]: idx_labels(256)})),
    Case("idx_trailing_garbage", "trailing garbage: 7 bytes after the 64 images", base=MNIST,
         setup=idx(**{IDX_FILES[2]: idx_images(64, seed=2) + b"GARBAGE"})),
    Case("idx_label_out_of_range", "is out of range [0, 10)", base=MNIST,
         setup=idx(**{IDX_FILES[1]: idx_labels(256, classes=250)})),
    Case("idx_count_mismatch", "holds 256 images but", base=MNIST,
         setup=idx(**{IDX_FILES[1]: idx_labels(200)})),
    Case("idx_labels_claim_more", "truncated: header says 4000000 labels", base=MNIST,
         setup=idx(**{IDX_FILES[3]: idx_labels(64, claim=4000000)})),
    Case("idx_zero_images", "header says the file holds 0 images", base=MNIST,
         setup=idx(**{IDX_FILES[0]: idx_images(0)})),
    Case("idx_implausible_size", "implausible image size 0x28", base=MNIST,
         setup=idx(**{IDX_FILES[0]: idx_images(0, rows=0, claim=5)})),
    Case("idx_empty_file", "truncated: 0 bytes, shorter than the 16-byte IDX images header", base=MNIST,
         setup=idx(**{IDX_FILES[0]: b""})),
    Case("idx_images_fifo", "is a FIFO (named pipe), not a regular file", base=MNIST,
         setup=idx(**{IDX_FILES[0]: fifo})),
    Case("idx_images_directory", "is a directory, not a regular file", base=MNIST,
         setup=idx(**{IDX_FILES[2]: os.mkdir})),
    Case("idx_images_device_link", "is a character device, not a regular file", base=MNIST,
         setup=idx(**{IDX_FILES[0]: symlink("/dev/zero")})),
    Case("idx_mpi_truncated", "truncated: header says 256 images", np=4, base=MNIST,
         setup=idx(**{IDX_FILES[0]: idx_images(256)[:-784]})),
    Case("idx_mpi_labels_fifo", "is a FIFO (named pipe)", np=3, base=MNIST, setup=idx(**{IDX_FILES[3]: fifo})),
    # ---- CIFAR-10 ----
    Case("cifar_missing_file", "data_batch_3.bin: file not found", base=CIFAR,
         setup=cifar(**{"data_batch_3.bin": lambda p: None})),
    Case("cifar_not_a_multiple", "is not a multiple of the 3073-byte CIFAR-10 record", base=CIFAR,
         setup=cifar(**{"data_batch_2.bin": cifar_record(1, 5)[:-1]})),
    Case("cifar_label_out_of_range", "record 0 has label 10, out of range [0, 10)", base=CIFAR,
         setup=cifar(**{"test_batch.bin": cifar_record(10, 1)})),
    Case("cifar_empty_file", "file is empty", base=CIFAR, setup=cifar(**{"data_batch_5.bin": b""})),
    Case("cifar_fifo", "data_batch_4.bin: is a FIFO (named pipe)", base=CIFAR, setup=cifar(**{"data_batch_4.bin": fifo})),
    Case("cifar_mpi_not_a_multiple", "is not a multiple of the 3073-byte", np=3, base=CIFAR,
         setup=cifar(**{"data_batch_1.bin": b"\x01" * 5000})),
    # ---- rank counts and algorithm layouts ----
    Case("ranks_gossipgrad_hypercube_p6", "algorithm.topology: hypercube needs a power-of-two number of workers, got 6 "
         "(set algorithm.topology=dissemination, which serves any p)", np=6, sets=["algorithm.name=gossipgrad"]),
    Case("ranks_gossip_hypercube_p6", "(set algorithm.topology=dissemination, which serves any p)", np=6, sets=["algorithm.name=gossip"]),
    Case("ranks_gossip_pga_p3", "(set algorithm.topology=dissemination, which serves any p)", np=3, sets=["algorithm.name=gossip_pga"]),
    Case("ranks_unknown_algorithm", "unknown algorithm 'gossipgradd'", np=3, sets=["algorithm.name=gossipgradd"]),
    Case("ranks_ps_too_many_servers", "'algorithm.servers' 2 server(s) need at least 3 ranks", np=2,
         sets=["algorithm.name=ps", "algorithm.servers=2"]),
    Case("ranks_ps_single_rank", "'algorithm.servers' 1 server(s) need at least 2 ranks", sets=["algorithm.name=ps"]),
    Case("ranks_dpsgd_torus_p5", "'algorithm.topology' torus needs p = rows x cols", np=5,
         sets=["algorithm.name=dpsgd", "algorithm.topology=torus"]),
    Case("ranks_batch_larger_than_shard", "larger than", np=4, sets=["train.batch=1000"]),
    Case("ranks_fixed_partition_batch", "larger than", np=8,
         sets=["train.batch=300", "data.partition=fixed"]),
    # ---- output paths ----
    Case("output_is_directory", "output.path: {d}/out: is a directory, expected a file name",
         sets=["output.path={d}/out"], setup=lambda d: os.makedirs(os.path.join(d, "out")) or {}),
    Case("output_under_proc", "output.path: /proc/gg/run.h5", sets=["output.path=/proc/gg/run.h5"]),
    Case("output_under_a_file", "{d}/plain is not a directory", sets=["output.path={d}/plain/run.h5"],
         setup=lambda d: write(os.path.join(d, "plain"), b"x") and {}),
    Case("output_is_fifo", "is a FIFO (named pipe), not a regular file", sets=["output.path={out}"],
         setup=lambda d: {"out": fifo(os.path.join(d, "out/run.h5"))}),
    Case("output_is_dev_null", "output.path: /dev/null: is a character device, not a regular file",
         sets=["output.path=/dev/null"]),
    Case("output_live_run_holds_it", "output.path: {d}/out/run.h5: a running gg_train writes it", setup=held("posix")),
    Case("output_hdf5_writer_holds_it", "another program (an HDF5 writer) holds it open for writing",
         setup=held("flock")),
    Case("output_run_setting_up", "another gg_train run is setting up with this output path",
         setup=held("posix", "out/.run.h5.part")),
    Case("output_mpi_live_run_holds_it", "a running gg_train writes it", np=4, setup=held("posix")),
    Case("output_long_name_shortened", "is 3000 bytes long; this file system allows",  # and the line is short
         sets=["output.path={d}/" + "n" * 3000 + "/run.h5"]),
    # ---- checkpoints: the folder (at set-up, with the output path) and its files (regular files only) ----
    Case("ckpt_latest_fifo", "checkpoint: {d}/out/run.h5.ckpt/LATEST: is a FIFO (named pipe), not a regular file",
         setup=latest_is("fifo")),
    Case("ckpt_latest_directory", "checkpoint: {d}/out/run.h5.ckpt/LATEST: is a directory, not a regular file",
         setup=latest_is("directory")),
    Case("ckpt_latest_dev_zero", "checkpoint: {d}/out/run.h5.ckpt/LATEST: is a character device, not a regular file",
         setup=latest_is("dev_zero")),
    Case("ckpt_latest_huge", "LATEST: is 100.0 MiB, larger than the 64.0 MiB a checkpoint manifest may have",
         setup=latest_is("huge")),
    Case("ckpt_mpi_latest_fifo", "LATEST: is a FIFO (named pipe), not a regular file", np=3, setup=latest_is("fifo")),
    Case("ckpt_folder_is_fifo", "output.path: its checkpoint folder {d}/out/run.h5.ckpt is a FIFO "
         "(named pipe), not a folder", setup=lambda d: fifo(os.path.join(d, "out", "run.h5.ckpt")) and {}),
    Case("ckpt_folder_is_file", "its checkpoint folder {d}/out/run.h5.ckpt is a regular file, not a folder",
         setup=lambda d: write(os.path.join(d, "out", "run.h5.ckpt"), b"x") and {}),
    Case("ckpt_folder_is_the_log", "its checkpoint folder {d}/out/run.h5.ckpt is the run log itself",
         setup=lambda d: write(os.path.join(d, "out", "run.h5"), b"an older log")
         and os.symlink("run.h5", os.path.join(d, "out", "run.h5.ckpt")) or {}),
    Case("ckpt_folder_dangling_link", "its checkpoint folder {d}/out/run.h5.ckpt is a symbolic link to nothing",
         setup=lambda d: os.makedirs(os.path.join(d, "out")) or os.symlink("nowhere/x", os.path.join(d, "out", "run.h5.ckpt"))
         or {}),
    Case("ckpt_folder_claimed_by_live_run", "its checkpoint folder {d}/out/run.h5.ckpt is claimed by another live run",
         setup=lambda d: {"hold": [HeldLock(os.path.join(d, "other", "b.h5"), "posix")]} if (
             write(os.path.join(d, "other", "b.h5.ckpt", "LATEST"), manifest_naming(os.path.join(d, "other", "b.h5")).encode())
             and os.makedirs(os.path.join(d, "out")) is None
             and os.symlink(os.path.join(d, "other", "b.h5.ckpt"), os.path.join(d, "out", "run.h5.ckpt")) is None) else {}),
    Case("ckpt_mpi_folder_under_a_file", "its checkpoint folder {d}/out/run.h5.ckpt is a regular file", np=3,
         setup=lambda d: write(os.path.join(d, "out", "run.h5.ckpt"), b"") and {}),
    # run.h5 and run.hdf5 used to share run.ckpt/: now each log has its own folder (LOG.ckpt)
    Case("ckpt_each_log_its_own_folder", "", code=0, sets=["output.path={d}/out/run.hdf5", "train.max_steps=2"],
         setup=lambda d: {"_": fifo(os.path.join(d, "out", "run.ckpt", "LATEST"))}, leaves=["out/run.hdf5"]),
    # checkpoints of older builds (LOG stem + .ckpt) are not silently ignored
    Case("ckpt_legacy_folder_unfinished", "{d}/out/run.ckpt (the checkpoint folder name of older builds) holds the "
         "checkpoint of this log's unfinished run (after step 4): rename it to run.h5.ckpt",
         setup=lambda d: write(os.path.join(d, "out", "run.ckpt", "LATEST"),
                               manifest_naming(os.path.join(d, "out", "run.h5")).encode()) and {}),
    Case("ckpt_legacy_folder_resume", "--resume: {d}/out/run.ckpt holds this log's checkpoint under the folder name of "
         "older builds: rename it to run.h5.ckpt", argv=["--resume"],
         setup=lambda d: write(os.path.join(d, "out", "run.ckpt", "LATEST"),
                               manifest_naming(os.path.join(d, "out", "run.h5")).encode()) and {}),
    # --resume changes nothing until every rank has verified its checkpoint: a refused one leaves the log
    Case("ckpt_mpi_resume_works", "", code=0, np=2, sets=CHECKPOINTED, argv=["--resume"], setup=killed_then(None),
         leaves=resumed_files(2)),
    Case("ckpt_mpi_resume_rank_fifo", "checkpoint: {d}/out/run.h5.ckpt/{stepdir}/rank-00001.ckpt: is a FIFO",
         np=2, sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("fifo"), after=log_unchanged),
    Case("ckpt_mpi_resume_rank_directory", "rank-00001.ckpt: is a directory, not a regular file", np=2,
         sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("directory"), after=log_unchanged),
    Case("ckpt_mpi_resume_rank_dev_zero", "rank-00001.ckpt: is a character device, not a regular file", np=2,
         sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("dev_zero"), after=log_unchanged),
    Case("ckpt_mpi_resume_rank_truncated", "rank-00001.ckpt: holds", np=2,
         sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("truncated"), after=log_unchanged),
    Case("ckpt_mpi_resume_rank_missing", "rank-00001.ckpt: missing (LATEST names step", np=2,
         sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("missing"), after=log_unchanged),
    Case("ckpt_mpi_resume_rank0_huge", "rank-00000.ckpt: not a gg_train checkpoint file", np=2,
         sets=CHECKPOINTED, argv=["--resume"], setup=killed_then("huge", rank=0), after=log_unchanged),
    # ---- training health ----
    # Diverged before the first evaluation: nothing is left; after it: the log, with `stopped`.
    Case("health_diverged_single", "training diverged: worker 0's batch loss was", code=4,
         sets=["optimizer.lr=50", "train.max_steps=40", "train.health_every=4", "train.evals_per_epoch=0"]),
    Case("health_mpi_diverged_gossipgrad", "training diverged: worker", code=4, np=4,
         sets=["algorithm.name=gossipgrad", "optimizer.lr=50", "train.max_steps=40", "train.health_every=4",
               "train.evals_per_epoch=0"]),
    Case("health_mpi_diverged_ps", "training diverged: worker", code=4, np=3,
         sets=["algorithm.name=ps", "optimizer.lr=50", "train.max_steps=40", "train.health_every=4",
               "train.evals_per_epoch=0"]),
    Case("health_mpi_nonfinite_consensus", "training diverged: the consensus distance is nan at step 8", code=4, np=4,
         sets=["algorithm.name=gossipgrad", "optimizer.lr=5", "train.max_loss=0", "train.health_every=0",
               "train.max_steps=16", "train.evals_per_epoch=1"], leaves=["out/run.h5"]),
    # No checkpoint of a diverged model: the health check runs before every commit (nothing is left).
    Case("health_diverged_before_checkpoint", "training diverged: worker 0's batch loss was", code=4,
         sets=["optimizer.lr=50", "train.max_steps=40", "train.health_every=0", "train.evals_per_epoch=0",
               "train.checkpoint_every=4"]),
    Case("health_mpi_nonfinite_before_checkpoint", "parameters are no longer finite at step", code=4, np=4,
         sets=["algorithm.name=gossipgrad", "optimizer.lr=5", "train.max_loss=0", "train.health_every=0",
               "train.max_steps=16", "train.evals_per_epoch=0", "train.checkpoint_every=8"]),
    # What an error message suggests works (code 0: no error line, every rank exits 0).
    Case("ranks_gossip_p6_suggestion_works", "", code=0, np=6,
         sets=["algorithm.name=gossip", "algorithm.topology=dissemination", "train.max_steps=2"],
         leaves=["out/run.h5"]),
]
