"""ggbench/registry.py: asking gg_train --describe (once per process), its errors, and the agreement of
the stand-in (fake_describe.json, answered by fake_gg_train.py) with the real trainer.

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_registry.py" -v
The agreement test uses $GG_TRAIN (ctest sets it to the built gg_train), else build/release's, and is
skipped with a message when that is missing or has no --describe. The stand-in describes the paper's
four algorithms; the trainer may register more."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
from ggbench import registry  # noqa: E402

FAKE = json.loads((HERE / "fake_describe.json").read_text())
PROSE = ("summary", "reference", "doc")  # free text: the tools never read it, so it may differ


def script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def strip(obj):
    """What the Python tools rely on: everything but the free text."""
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in PROSE}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def disagreements(fake, real):
    """How the stand-in's describe differs from the real one. The stand-in may cover fewer algorithms
    (it describes the four of the paper; the trainer may have more) and fewer entries of the other
    registries, but what it has must be exactly what the trainer says, algorithms in the same order."""
    out = [f"no \"{k}\" in the real output" for k in fake if k not in real]
    real_algos = {a["name"]: a for a in real.get("algorithms", [])}
    for a in fake["algorithms"]:
        if a["name"] not in real_algos:
            out.append(f"algorithm {a['name']}: not in the real registry")
        elif strip(a) != strip(real_algos[a["name"]]):
            out.append(f"algorithm {a['name']}: {json.dumps(strip(a))} != {json.dumps(strip(real_algos[a['name']]))}")
    order = [a["name"] for a in real.get("algorithms", []) if a["name"] in {f["name"] for f in fake["algorithms"]}]
    if order != [a["name"] for a in fake["algorithms"] if a["name"] in real_algos]:
        out.append(f"algorithm order: real {order}")
    for key, values in fake.items():
        if key not in ("algorithms", "version") and key in real and not set(values) <= set(real[key]):
            out.append(f"{key}: {sorted(set(values) - set(real[key]))} not in the real output")
    return out


class Describe(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_registry_")
        self.root = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_asked_once_per_process_and_binary(self):
        calls = self.root / "calls"
        binary = script(self.root / "gg_train", f"echo x >> {calls}\ncat {HERE / 'fake_describe.json'}\n")
        first = registry.from_binary(binary)
        second = registry.from_binary(binary)
        self.assertEqual(first.names, second.names)
        self.assertEqual(calls.read_text().count("x"), 1)

    def test_missing_binary_says_build_first(self):
        with self.assertRaises(registry.RegistryError) as e:
            registry.from_binary(str(self.root / "build" / "experiments" / "gg_train"))
        self.assertIn("not built; build it first (cmake --build", str(e.exception))

    def test_binary_without_describe(self):
        binary = script(self.root / "old",
                        "echo \"gg_train: error: unknown argument '--describe' (see --help)\" >&2\nexit 2\n")
        with self.assertRaises(registry.RegistryError) as e:
            registry.from_binary(binary)
        msg = str(e.exception)
        self.assertIn("--describe failed (gg_train: error: unknown argument '--describe'", msg)
        self.assertIn("rebuild gg_train", msg)
        self.assertEqual(len(msg.splitlines()), 1)

    def test_output_that_is_not_a_registry(self):
        cases = (("echo '{oops'\n", "not JSON"), ("echo hello\n", "no \"algorithms\" list"),
                 ("echo '{\"models\": []}'\n", "no \"algorithms\" list"))
        for i, (body, words) in enumerate(cases):
            binary = script(self.root / f"bad{i}", body)
            with self.subTest(body=body), self.assertRaises(registry.RegistryError) as e:
                registry.from_binary(binary)
            self.assertIn(words, str(e.exception))

    def test_launcher_lines_before_the_json_are_skipped(self):
        text = "[0.000000] [smpi_config/INFO] hello\n" + json.dumps(FAKE)
        self.assertEqual(registry.parse(text, "x")["algorithms"][3]["name"], "gossipgrad")

    def test_readers_given_a_build_dir_need_its_gg_train(self):
        with self.assertRaises(registry.RegistryError):
            registry.for_readers(str(self.root / "nobuild"))

    def test_fake_answers_describe(self):
        r = subprocess.run([str(HERE / "fake_gg_train.py"), "--describe"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), FAKE)


class FakeAgreesWithReal(unittest.TestCase):
    def test_fake_describe_matches_the_real_one(self):
        real = os.environ.get("GG_TRAIN") or str(REPO / "build" / "release" / "experiments" / "gg_train")
        if not os.access(real, os.X_OK):
            self.skipTest(f"no real gg_train at {real} (build it to compare)")
        r = subprocess.run([real, "--describe"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            self.skipTest(f"{real} has no --describe yet: {(r.stderr or r.stdout).strip()[:200]}")
        real_doc = json.loads(r.stdout)
        for key in ("version", "algorithms", "models", "layers", "datasets", "partitions"):
            self.assertIn(key, real_doc)
        problems = disagreements(FAKE, real_doc)
        self.assertEqual(problems, [], "tests/plots/fake_describe.json no longer matches gg_train --describe; "
                                       "update those entries from build/release/experiments/gg_train --describe")

    def test_disagreements_are_found(self):
        real = json.loads(json.dumps(FAKE))
        real["algorithms"].append({"name": "more", "options": [], "layout": {"servers_option": None}})
        self.assertEqual(disagreements(FAKE, real), [])  # the trainer may know more
        gg = real["algorithms"][3]
        gg["options"][0]["default"] = "dissemination"
        gg["summary"] = "other words"
        real["algorithms"][0], real["algorithms"][1] = real["algorithms"][1], real["algorithms"][0]
        real["models"] = real["models"][1:]
        got = disagreements(FAKE, real)
        self.assertEqual(len(got), 3, got)
        self.assertTrue(got[0].startswith("algorithm gossipgrad: "), got)
        self.assertTrue(got[1].startswith("algorithm order: "), got)
        self.assertTrue(got[2].startswith("models: "), got)

if __name__ == "__main__":
    unittest.main()
