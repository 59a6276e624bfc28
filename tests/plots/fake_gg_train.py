#!/usr/bin/python3
"""Stands in for gg_train in the tests: answers --describe with fake_describe.json (the paper's four
algorithms as the real one describes them, checked by test_registry.py), parses --config/--set like
gg_train and writes a synthetic run log (new style: effective options and algorithm_spec) to
output.path. --set fake.sleep=S sleeps first; fake.exit=N exits with N."""
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import fake_runs  # noqa: E402


def main(argv):
    if "--describe" in argv:
        sys.stdout.write(fake_runs.DESCRIBE_TEXT)
        return 0
    overrides, config = {}, None
    it = iter(argv)
    for arg in it:
        if arg == "--config":
            config = next(it)
        elif arg == "--set":
            key, _, value = next(it).partition("=")
            try:
                overrides[key] = json.loads(value)
            except json.JSONDecodeError:
                overrides[key] = value
    if config is None or not os.path.isfile(config):
        print(f"fake_gg_train: no config {config}", file=sys.stderr)
        return 2
    print("fake_gg_train:", " ".join(argv))
    time.sleep(float(overrides.get("fake.sleep", 0)))
    if int(overrides.get("fake.exit", 0)):
        return int(overrides["fake.exit"])
    ranks = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    out = pathlib.Path(overrides["output.path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fake_runs.write_run(out, overrides.get("algorithm", {"name": "allreduce"}), max(2, ranks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
