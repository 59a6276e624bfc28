"""Labels, order and colours of runs, from the registry (`gg_train --describe`) and the logs' own
algorithm specs, never from tables of names in Python: new logs (algorithm_spec), old logs (spec from
the registry, or the documented fallback without one), describe-driven order, server counts and
colours.

  /usr/bin/python3 -m unittest discover -s tests/plots -p "test_labels.py" -v"""
import colorsys
import copy
import pathlib
import sys
import tempfile
import unittest

from matplotlib.colors import to_rgb

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
import fake_runs  # noqa: E402
from ggbench import registry, runlog, spec, style  # noqa: E402

REG = registry.Registry(fake_runs.DESCRIBE, "fake")


def reordered(names):
    """A registry with the same algorithms in another order."""
    doc = copy.deepcopy(fake_runs.DESCRIBE)
    doc["algorithms"] = [REG.spec(n) for n in names]
    return registry.Registry(doc, "reordered")


def run_of(block, known=REG, log_spec=None):
    """A Run as load() makes it, without a file."""
    s = log_spec or (known.find(block["name"]) if known else None)
    return runlog.Run(path="x.h5", name="x", config={"algorithm": block}, attrs={}, spec=s,
                      index=known.index(block["name"]) if known else None, registry=known)


class LogLabels(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gg_labels_")
        self.root = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, block, **kw):
        path = self.root / f"{len(list(self.root.iterdir()))}.h5"
        fake_runs.write_run(path, block, 4, steps=4, evals=2, **kw)
        return path

    def test_new_logs_label_from_their_own_algorithm_spec(self):
        path = self.write({"name": "gossipgrad", "timing": "sync", "shuffle": "none"})
        run = runlog.load(path)  # no registry at all: the log describes itself
        self.assertEqual(run.spec_source, "log")
        self.assertEqual(run.block["rotation"], "shift")  # effective config: every option recorded
        self.assertEqual(run.label, "gossipgrad (timing=sync, shuffle=none)")
        # The log's spec wins over the registry's: here its default rotation is "none".
        own = copy.deepcopy(REG.spec("gossipgrad"))
        next(o for o in own["options"] if o["name"] == "rotation")["default"] = "none"
        shifted = runlog.load(self.write({"name": "gossipgrad"}, spec=own), REG)
        self.assertEqual(shifted.label, "gossipgrad (rotation=shift)")
        plain = runlog.load(self.write({"name": "gossipgrad", "rotation": "none"}, spec=own), REG)
        self.assertEqual(plain.label, "gossipgrad")

    def test_old_logs_take_the_spec_from_describe(self):
        path = self.write({"name": "gossipgrad", "rotation": "shift", "shuffle": "none"}, old_style=True)
        run = runlog.load(path, REG)
        self.assertEqual(run.spec_source, "describe")
        self.assertEqual(run.label, "gossipgrad (shuffle=none)")
        self.assertEqual(run.options["topology"], "hypercube")
        self.assertEqual(runlog.load(self.write({"name": "ps"}, old_style=True), REG).label, "ps")

    def test_old_logs_without_registry_list_the_options_they_set(self):
        path = self.write({"name": "gossipgrad", "rotation": "shift", "shuffle": "none"}, old_style=True)
        run = runlog.load(path)
        self.assertIsNone(run.spec)
        self.assertIsNone(run.index)
        self.assertEqual(run.label, "gossipgrad (rotation=shift, shuffle=none)")
        self.assertEqual(runlog.load(self.write({"name": "ps"}, old_style=True)).label, "ps")

    def test_unknown_algorithm_falls_back_and_sorts_last(self):
        odd = run_of({"name": "zz_unregistered", "push": 2})
        self.assertEqual(odd.label, "zz_unregistered (push=2)")
        self.assertIsNone(odd.index)
        runs = [odd] + [run_of({"name": n}) for n in ("gossipgrad", "allreduce")]
        self.assertEqual([r.algorithm for r in sorted(runs, key=runlog.sort_key)],
                         ["allreduce", "gossipgrad", "zz_unregistered"])

    def test_order_is_the_registry_order(self):
        names = ["gossipgrad", "allreduce", "ps"] + [n for n in REG.names if n not in ("gossipgrad", "allreduce", "ps")]
        for known in (REG, reordered(names)):
            runs = [run_of({"name": n}, known) for n in reversed(REG.names)]
            runs.append(run_of({"name": "gossipgrad", "rotation": "none"}, known))
            got = [r.label for r in sorted(runs, key=runlog.sort_key)]
            want = [n for n in known.names for _ in range(2 if n == "gossipgrad" else 1)]
            self.assertEqual([g.split()[0] for g in got], want)
            self.assertEqual(got.index("gossipgrad") + 1, got.index("gossipgrad (rotation=none)"))


class SpecAnswers(unittest.TestCase):
    def test_servers_from_the_layout(self):
        self.assertEqual(REG.servers({"name": "ps"}), 1)
        self.assertEqual(REG.servers({"name": "ps", "servers": 3}), 3)
        self.assertEqual(REG.servers({"name": "gossipgrad"}), 0)
        relay = {"name": "relay", "options": [{"name": "relays", "type": "int", "default": 2}],
                 "layout": {"servers_option": "relays"}}
        self.assertEqual(spec.servers(relay, {"name": "relay"}), 2)
        self.assertEqual(spec.servers(relay, {"name": "relay", "relays": 5}), 5)

    def test_defaults_and_unknown_names(self):
        self.assertEqual(REG.defaults("ps"), {"servers": 1, "mode": "sync", "staleness": 0})
        self.assertEqual(REG.names[:4], ["allreduce", "ps", "gossip", "gossipgrad"])
        with self.assertRaises(registry.RegistryError) as e:
            REG.spec("sgd")
        self.assertIn(f"known: {', '.join(REG.names)})", str(e.exception))

    def test_check_block(self):
        gg, ps = REG.spec("gossipgrad"), REG.spec("ps")
        self.assertIsNone(spec.check_block(gg, {"name": "gossipgrad", "rotation": "none", "shuffle": "none"}, "a"))
        self.assertIn("a.rotaton: unknown option of gossipgrad", spec.check_block(gg, {"rotaton": "none"}, "a"))
        self.assertIn("expected one of none, shift, permutation", spec.check_block(gg, {"rotation": "x"}, "a"))
        self.assertIn("a.shuffle: expected string, got true", spec.check_block(gg, {"shuffle": True}, "a"))  # the old bool
        self.assertIn("a.shuffle: expected one of none, partner, ring", spec.check_block(gg, {"shuffle": "off"}, "a"))
        self.assertIn("a.servers: expected int", spec.check_block(ps, {"servers": True}, "a"))
        self.assertIsNone(spec.check_block(ps, {"servers": 0}, "a"))  # colocated
        self.assertIn("-1 is outside [0, 1.04858e+06]", spec.check_block(ps, {"servers": -1}, "a"))


def hue(hex_color):
    return colorsys.rgb_to_hls(*to_rgb(hex_color))[0]


class Colours(unittest.TestCase):
    def test_each_algorithm_takes_its_registry_palette_entry(self):
        colours = [style.color(run_of({"name": n})) for n in REG.names]
        self.assertEqual(colours, list(style.PALETTE[:len(REG.names)]))
        swapped = reordered(["ps", "allreduce", "gossip", "gossipgrad"])
        self.assertEqual(style.color(run_of({"name": "ps"}, swapped)), style.PALETTE[0])

    def test_single_option_variants_all_get_distinct_colours(self):
        blocks = [{"name": n} for n in REG.names]
        blocks += [{"name": n, k: v} for n in REG.names for k, v in spec.single_variants(REG.spec(n))]
        # allreduce: timing; ps: mode; gossip: topology, exchange, timing, async_rule; gossipgrad: those,
        # 2 rotations, shuffle; ...
        self.assertGreaterEqual(len(blocks), len(REG.names) + 10)
        colours = [style.color(run_of(b)) for b in blocks]
        self.assertEqual(len(set(colours)), len(colours), colours)
        # numbered over the whole registry: the first variant takes the first palette entry no algorithm has
        first = {"name": "allreduce", "timing": "async"}
        self.assertEqual(style.color(run_of(first)), style.PALETTE[len(REG.names)])

    def test_other_variants_are_shades_of_their_algorithm(self):
        base = style.color(run_of({"name": "gossipgrad"}))
        blocks = [{"name": "gossipgrad", "rotation": "none", "shuffle": "none"}, {"name": "ps", "servers": 2}]
        for block, of in zip(blocks, (base, style.color(run_of({"name": "ps"})))):
            c = style.color(run_of(block))
            self.assertNotEqual(c, of)
            d = abs(hue(c) - hue(of))
            self.assertLess(min(d, 1 - d), 0.01, c)  # the same hue (on the circle: red sits at 0 and 1)
        unknown = style.color(run_of({"name": "gossipgrad", "rotation": "none"}, known=None))
        self.assertNotEqual(unknown, style.color(run_of({"name": "gossipgrad"}, known=None)))

    def test_colour_is_stable_per_label(self):
        a = run_of({"name": "gossipgrad", "rotation": "none"})
        b = run_of({"name": "gossipgrad", "rotation": "none", "shuffle": "partner", "timing": "async"})
        self.assertEqual(a.label, b.label)
        self.assertEqual(style.color(a), style.color(b))
        multi = {"name": "gossipgrad", "rotation": "none", "shuffle": "none"}
        self.assertEqual(style.color(run_of(multi)), style.color(run_of(dict(multi))))
        self.assertNotEqual(style.color(run_of(multi)), style.color(run_of({"name": "gossipgrad"})))


if __name__ == "__main__":
    unittest.main()
