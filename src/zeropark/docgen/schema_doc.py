"""The scenario format reference (docs/scenario-reference.md), generated from the pydantic schema.

Everything in the reference comes from ``Scenario.model_json_schema()``: sections are the schema's
models in the order a YAML file meets them, rows are their fields with type, default, allowed range
and description; the unit column is read from the field name's unit suffix (``_kw`` → kW), the
naming rule every field follows. A test regenerates the file and compares it with the committed
one, so the reference cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from typing import Any

HEADER = """<!-- Generated from the pydantic schema by `zeropark docs scenario -o docs/scenario-reference.md`.
     Do not edit by hand: change the field descriptions in src/zeropark/scenario/ and regenerate. -->

# Scenario file reference

A scenario is one YAML file describing a park: where it is, the horizon, its assets, the market it
trades in, its targets and the solver options. `zeropark validate FILE` checks a file; every error
names the field path (e.g. `storage.0.soc_min`), the value received and what is allowed. Unknown
keys are errors, so a typo is never silently ignored. Relative paths inside the file are resolved
against the file's folder. A ready-made example is `scenarios/demo-park.yaml`.

Conventions:

- Units are part of every field name: `_kw` kW, `_kwh` kWh, `_per_kwh` currency per kWh,
  `_t` tonnes CO2, `_deg` degrees, `_h` hours. Money is in the scenario's `currency` (default CNY).
- *Default* `—` on an optional field means "not set": for storage efficiencies, SOC window,
  self-discharge and throughput cost, and for pile power and efficiency, the value then comes from
  the `technology` entry in `models/technologies.yaml` (or a documented fallback).
- Lists of named items (`pv`, `storage`, `flexible_loads`, `ev.groups`,
  `demand_response.events`) need unique `name`s.
"""

# Longest suffix first: the first match wins.
_UNIT_SUFFIXES: list[tuple[str, str]] = [
    ("_t_per_tce", "tCO2/tce"),
    ("_per_kw_month", "currency/(kW·month)"),
    ("_per_pile_per_day", "1/(pile·day)"),
    ("_m3_per_year", "m³/year"),
    ("_gj_per_year", "GJ/year"),
    ("_t_per_year", "t/year"),
    ("_kw_per_h", "kW/h"),
    ("_per_kwh", "currency/kWh"),
    ("_per_mwh", "currency/MWh"),
    ("_per_t", "currency/tCO2"),
    ("_per_day", "1/day"),
    ("_per_kw", "currency/kW"),
    ("_per_c", "1/°C"),
    ("_per_h", "1/h"),
    ("_years", "years"),
    ("_kwh", "kWh"),
    ("_mwh", "MWh"),
    ("_kw", "kW"),
    ("_deg", "°"),
    ("_pct", "%"),
    ("_temp_air_c", "°C"),
    ("_s", "s"),
    ("_h", "h"),
    ("_m", "m"),
    ("_t", "tCO2"),
]
# Dimensionless numbers: shares in [0, 1] and multipliers.
_FRACTION_WORDS = ("efficiency", "soc", "share", "gap", "clearness", "variability", "rate")
_FACTOR_WORDS = ("factor", "scale")


def _is_number(prop: dict[str, Any]) -> bool:
    if "anyOf" in prop:
        return any(_is_number(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return _is_number(prop.get("items", {}))
    return prop.get("type") in ("number", "integer")


def unit_of(field: str, prop: dict[str, Any] | None = None) -> str:
    """Unit of a field, read from its name (``"power_kw"`` → ``"kW"``); ``""`` if none.

    Parameters
    ----------
    field : str
        The field name.
    prop : dict, optional
        Its JSON-schema property; dimensionless words (efficiency, share…) only give a unit to
        numbers.
    """
    for suffix, unit in _UNIT_SUFFIXES:
        if field.endswith(suffix):
            return unit
    if prop is not None and not _is_number(prop):
        return ""
    if any(word in field for word in _FRACTION_WORDS):
        return "fraction"
    if any(word in field for word in _FACTOR_WORDS):
        return "multiplier"
    return ""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return f"def-{name.lower()}"


def _type(prop: dict[str, Any]) -> str:
    """Markdown of a property's type (without the null of an optional field)."""
    if "$ref" in prop:
        name = _ref_name(prop["$ref"])
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in prop:
        parts = [p for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(_type(p) for p in parts)
    if "enum" in prop:
        return "string" if all(isinstance(v, str) for v in prop["enum"]) else "value"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object":
        extra = prop.get("additionalProperties")
        return f"mapping of name → {_type(extra)}" if isinstance(extra, dict) else "mapping"
    if kind == "string" and prop.get("format") == "path":
        return "path"
    return str(kind or "any")


def _allowed(prop: dict[str, Any]) -> str:
    """Markdown of a property's constraints: enum values, bounds, lengths."""
    if "anyOf" in prop:
        return "; ".join(a for a in (_allowed(p) for p in prop["anyOf"]
                                     if p.get("type") != "null") if a)
    out = []
    if "enum" in prop:
        out.append("one of " + ", ".join(f"`{v}`" for v in prop["enum"]))
    lo = [f"≥ {_num(prop['minimum'])}"] if "minimum" in prop else []
    lo += [f"> {_num(prop['exclusiveMinimum'])}"] if "exclusiveMinimum" in prop else []
    hi = [f"≤ {_num(prop['maximum'])}"] if "maximum" in prop else []
    hi += [f"< {_num(prop['exclusiveMaximum'])}"] if "exclusiveMaximum" in prop else []
    out += lo + hi
    for lo_key, hi_key, what in (("minLength", "maxLength", "characters"),
                                 ("minItems", "maxItems", "items")):
        if lo_key in prop or hi_key in prop:
            a, b = prop.get(lo_key), prop.get(hi_key)
            if a is not None and a == b:
                out.append(f"exactly {a} {what}")
            elif b is None:
                out.append(f"at least {a} {what}")
            else:
                out.append(f"{a or 0}–{b} {what}")
    if prop.get("type") == "array" and "items" in prop:
        inner = _allowed(prop["items"])
        if inner:
            out.append(f"each {inner}")
    return ", ".join(out)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e5:
        return f"{value:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in prop:
        return "*(empty)*" if prop.get("type") == "array" or "$ref" in prop else "—"
    value = prop["default"]
    if value is None:
        return "—"
    if value == [] or value == {}:
        return "*(empty)*"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _refs(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """(definition name, path suffix) of the models a property points to."""
    if "$ref" in prop:
        return [(_ref_name(prop["$ref"]), "")]
    if "anyOf" in prop:
        return [r for p in prop["anyOf"] for r in _refs(p)]
    if prop.get("type") == "array":
        return [(name, "[]" + suffix) for name, suffix in _refs(prop.get("items", {}))]
    return []


def _walk(schema: dict[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """Definitions in the order a YAML file meets them (depth first), and where each is used."""
    defs = schema.get("$defs", {})
    order: list[str] = []
    used: dict[str, list[str]] = {}

    def visit(name: str, node: dict[str, Any], path: str) -> None:
        for field, prop in node.get("properties", {}).items():
            for ref, suffix in _refs(prop):
                where = f"{path}.{field}{suffix}" if path else f"{field}{suffix}"
                used.setdefault(ref, []).append(where)
                if ref not in order:
                    order.append(ref)
                    visit(ref, defs[ref], where)

    visit("Scenario", schema, "")
    order += sorted(set(defs) - set(order))
    return order, used


def _table(node: dict[str, Any]) -> list[str]:
    required = set(node.get("required", []))
    lines = ["| Field | Type | Default | Allowed | Unit | Description |",
             "| --- | --- | --- | --- | --- | --- |"]
    for field, prop in node.get("properties", {}).items():
        lines.append("| " + " | ".join([
            f"`{field}`", _cell(_type(prop)), _cell(_default(prop, field in required)),
            _cell(_allowed(prop)), unit_of(field, prop), _cell(prop.get("description", "")),
        ]) + " |")
    return lines


def scenario_reference_markdown(schema: dict[str, Any] | None = None) -> str:
    """The scenario reference as Markdown.

    Parameters
    ----------
    schema : dict, optional
        A JSON schema; default ``zeropark.Scenario.model_json_schema()``.
    """
    if schema is None:
        from zeropark.scenario import Scenario

        schema = Scenario.model_json_schema()
    order, used = _walk(schema)
    defs = schema.get("$defs", {})
    out = [HEADER.rstrip(), "", "## Contents", ""]
    out += [f"- [Scenario (top level)](#{_anchor('Scenario')})"]
    out += [f"- [{name}](#{_anchor(name)}) — `{used.get(name, ['(unused)'])[0]}`"
            for name in order]
    out += ["", f'<a id="{_anchor("Scenario")}"></a>', "", "## Scenario (top level)", ""]
    out += [_cell(schema.get("description", "")), "", *_table(schema)]
    for name in order:
        node = defs[name]
        out += ["", f'<a id="{_anchor(name)}"></a>', "", f"## {name}", ""]
        if node.get("description"):
            out += [_cell(node["description"]), ""]
        where = used.get(name, [])
        if where:
            out += ["Used at: " + ", ".join(f"`{w}`" for w in where), ""]
        out += _table(node)
    return "\n".join(out) + "\n"
