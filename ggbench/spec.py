"""Questions answered from ONE algorithm spec, the JSON object that `gg_train --describe` lists under
"algorithms" and that a run log stores as its `algorithm_spec` attribute:

  {"name": "gossipgrad", "summary": ..., "provenance": ..., "reference": ...,
   "options": [{"name": "rotation", "type": "string", "default": "shift", "choices": [...], "doc": ...}, ...],
   "layout": {"servers_option": null}}

Nothing here knows an algorithm by name: defaults, choices and the rank layout all come from the spec.
A spec of None means "unknown" (an old run log read without a gg_train that has --describe); then the
label lists every option the block sets (see label())."""
import json

TYPES = {"bool": (bool,), "int": (int,), "double": (int, float), "string": (str,)}


def defaults(spec):
    """{option: default} of a spec; {} for None."""
    return {o["name"]: o["default"] for o in spec["options"]} if spec else {}


def effective(spec, block):
    """Every option of the block with defaults filled in (no 'name'); without a spec only what it sets."""
    return {**defaults(spec), **{k: v for k, v in block.items() if k != "name"}}


def differing(spec, block):
    """The options of a block that differ from the spec's defaults, in the spec's option order; without
    a spec every option the block sets, sorted by name."""
    if spec is None:
        return {k: block[k] for k in sorted(block) if k != "name"}
    known = defaults(spec)
    values = effective(spec, block)
    order = list(known) + sorted(k for k in values if k not in known)
    return {k: values[k] for k in order if k not in known or values[k] != known[k]}


def value_text(value):
    """How an option value shows in labels: booleans as on/off, strings bare, anything else as JSON."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value if isinstance(value, str) else json.dumps(value)


def label(spec, block):
    """'gossipgrad' or 'gossipgrad (rotation=none, shuffle=none)': the name and the differing options."""
    parts = [f"{k}={value_text(v)}" for k, v in differing(spec, block).items()]
    name = block.get("name", spec["name"] if spec else "?")
    return f"{name} ({', '.join(parts)})" if parts else name


def servers(spec, block):
    """Ranks of a run that do not train: the value of the layout's servers option (its default when the
    block leaves it out), or 0 when the layout names none."""
    option = (spec.get("layout") or {}).get("servers_option")
    if not option:
        return 0
    return int(block.get(option, defaults(spec).get(option, 0)))


def check_block(spec, block, where):
    """Error text for the first option of `block` that the spec rejects (unknown option, wrong type, value
    not among the choices or out of range), or None. `where` prefixes the option, e.g. 'sweep.algorithm[1]'."""
    by_name = {o["name"]: o for o in spec["options"]}
    for key, value in block.items():
        if key == "name":
            continue
        o = by_name.get(key)
        if o is None:
            known = ", ".join(by_name) or "none"
            return f"{where}.{key}: unknown option of {spec['name']} (options: {known})"
        is_bool = isinstance(value, bool)
        if not isinstance(value, TYPES.get(o["type"], (object,))) or (is_bool and o["type"] != "bool"):
            return f"{where}.{key}: expected {o['type']}, got {json.dumps(value)}"
        if "choices" in o and value not in o["choices"]:
            return f"{where}.{key}: expected one of {', '.join(o['choices'])}, got {json.dumps(value)}"
        if ("min" in o and value < o["min"]) or ("max" in o and value > o["max"]):
            bounds = f"[{o.get('min', float('-inf')):g}, {o.get('max', float('inf')):g}]"
            return f"{where}.{key}: {value} is outside {bounds}"
    return None


def single_variants(spec):
    """[(option, value)] of every variant that changes one option with a finite set of values (a
    string's choices, a bool's other value) from its default, in spec order: a stable numbering of the
    variants, used for their colours."""
    out = []
    for o in spec["options"] if spec else ():
        values = o.get("choices") if o["type"] == "string" else ([False, True] if o["type"] == "bool" else None)
        out += [(o["name"], v) for v in values or () if v != o["default"]]
    return out
