"""Publishing schedules: the shipped JSON Schema, the checks a schedule must pass, and the
atomic write that never replaces a good schedule by a broken one.

Files: ``DIR/schedule-<YYYYMMDDTHHMM>.json``, ``.csv`` (wide: one row per interval),
``.meta.json`` (the wide CSV's metadata) and ``.long.csv`` (long: one row per interval and device,
with a ``#`` metadata header; :func:`read_long_csv`). Each is written to a temporary file in
``DIR`` and renamed; the CSVs first, the JSON last, so a reader that sees the JSON sees all.
A fallback plan never overwrites an optimised schedule of the same start (it is
written as ``schedule-<start>.fallback.json`` / ``.csv`` instead).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError, ZeroparkError
from zeropark.guard import read_input_text
from zeropark.io import atomic_write_text
from zeropark.strictload import json_data

if TYPE_CHECKING:
    from collections.abc import Callable

    import jsonschema

    from zeropark.operations.schedule import Schedule

SCHEMA_VERSION = "1.2.0"
SCHEMA_FILE = "schedule.schema.json"
_PILE_TOL_KW = 1e-3


class InvalidScheduleError(ZeroparkError, ValueError):
    """A schedule document breaks its schema or an invariant (it must not be published)."""


@functools.cache
def schedule_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package (``zeropark/operations/schedule.schema.json``)."""
    text = resources.files("zeropark.operations").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    """The reference validator (jsonschema, Draft 2020-12): decides, and words the error, when
    :func:`_fast_validator` refuses a document."""
    import jsonschema

    schema = schedule_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@functools.cache
def _fast_validator() -> Callable[[Any], Any]:
    """The shipped schema compiled to Python code by ``fastjsonschema`` (≈ 10× faster than
    :func:`_validator` on a schedule, plus ≈ 0.1 s to compile once per process).

    The schema uses only keywords that mean the same in Draft 2020-12 and in the drafts
    ``fastjsonschema`` implements (type, enum, const, properties, required,
    additionalProperties, items as one schema, minItems, minimum, exclusiveMinimum, maximum,
    pattern; ``$ref`` to ``#/$defs/…`` without sibling keywords), so both accept the same
    documents (``tests/test_publish_validate.py``). Should they ever differ on a document the
    compiled one refuses, the reference decides (:func:`validate_schedule`).
    """
    import fastjsonschema

    return fastjsonschema.compile(schedule_schema(), use_default=False, use_formats=False)


def _ends(values: list[Any]) -> list[Any]:
    """A number list reduced to its smallest and largest element (same validity under an
    ``items: {type: number, minimum: …}`` schema); lists holding anything else are kept whole."""
    if len(values) < 3 or not all(type(v) is float or type(v) is int for v in values):
        return values
    return [min(values), max(values)]


def _condensed(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with the per-pile and per-session number lists reduced by :func:`_ends`:
    validating it is equivalent to validating ``doc`` and ~20× faster."""
    out = dict(doc)
    if isinstance(doc.get("intervals"), list):
        out["intervals"] = [
            {**iv, "ev_piles_kw": {g: _ends(a) if isinstance(a, list) else a
                                   for g, a in iv["ev_piles_kw"].items()}}
            if isinstance(iv, dict) and isinstance(iv.get("ev_piles_kw"), dict) else iv
            for iv in doc["intervals"]]
    if isinstance(doc.get("ev_sessions"), list):
        out["ev_sessions"] = [
            {**s, "power_kw": _ends(s["power_kw"])}
            if isinstance(s, dict) and isinstance(s.get("power_kw"), list) else s
            for s in doc["ev_sessions"]]
    return out


def validate_schedule(doc: dict[str, Any]) -> None:
    """Validate a schedule document against the shipped JSON Schema.

    The compiled validator (:func:`_fast_validator`) accepts a valid document; a document it
    refuses is checked again by the reference validator (jsonschema), which words the error.

    Raises
    ------
    InvalidScheduleError
        Naming the path of the first offending value.
    """
    import fastjsonschema

    small = _condensed(doc)
    try:
        _fast_validator()(small)
        return
    except fastjsonschema.JsonSchemaException:
        pass  # the reference validator decides and names the first offending value
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(small))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise InvalidScheduleError(f"schedule {where}: {error.message}")


def check_schedule(doc: dict[str, Any]) -> None:
    """Schema plus the invariants the schema cannot express.

    Checks: the number of intervals; every pile setpoint within its pile's power; SOC within the
    unit's window (fallback plans may start outside it, so there only within 0–1); JSON without
    NaN or infinity.

    Raises
    ------
    InvalidScheduleError
    """
    validate_schedule(doc)
    meta, intervals = doc["metadata"], doc["intervals"]
    if len(intervals) != meta["n_intervals"]:
        raise InvalidScheduleError(f"{len(intervals)} intervals, metadata says {meta['n_intervals']}")
    for g in doc["assets"]["ev_groups"]:
        piles = np.array([iv["ev_piles_kw"][g["name"]] for iv in intervals], float)
        if piles.size and piles.shape[1] != g["piles"]:
            raise InvalidScheduleError(f"group {g['name']!r}: {piles.shape[1]} piles, "
                                  f"assets say {g['piles']}")
        if piles.size and piles.max() > g["pile_power_kw"] + _PILE_TOL_KW:
            raise InvalidScheduleError(f"group {g['name']!r}: a pile setpoint of {piles.max():g} kW "
                                  f"exceeds the pile power {g['pile_power_kw']:g} kW")
    if not meta["fallback"]:
        for u in doc["assets"]["storage"]:
            soc = np.array([iv["storage"][u["name"]]["soc"] for iv in intervals], float)
            if soc.min() < u["soc_min"] - 1e-5 or soc.max() > u["soc_max"] + 1e-5:
                raise InvalidScheduleError(f"storage {u['name']!r}: SOC outside "
                                      f"[{u['soc_min']}, {u['soc_max']}]")
    try:
        json.dumps(doc, allow_nan=False)
    except ValueError as err:
        raise InvalidScheduleError(f"schedule holds NaN or infinity ({err})") from None


def utc_offset_text(utc_offset_h: float) -> str:
    """ISO 8601 offset of local standard time, e.g. ``+08:00``."""
    minutes = int(round(float(utc_offset_h) * 60))
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_time(text: str | pd.Timestamp) -> pd.Timestamp:
    """A schedule time as a tz-naive local standard time: schedules since 1.1 write the offset
    (``2026-11-29T00:00:00+08:00``), 1.0 wrote none; the wall time is the same."""
    ts = pd.Timestamp(text)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def schedule_stem(start: pd.Timestamp) -> str:
    """File stem of a schedule: ``schedule-<YYYYMMDDTHHMM>``."""
    return f"schedule-{pd.Timestamp(start):%Y%m%dT%H%M}"


def read_schedule(path: str | Path) -> dict[str, Any]:
    """Read and validate a published schedule JSON.

    Raises
    ------
    InvalidScheduleError
        Unreadable, not JSON, or not valid against the schema.
    """
    p = Path(path)
    try:  # a regular file within the size limit, strict JSON (no NaN, no duplicate keys)
        doc = json_data(read_input_text(p, "schedule", what="schedule JSON file"), "schedule",
                        str(p))
    except ScenarioError as err:
        raise InvalidScheduleError(f"not a readable schedule ({err})") from None
    validate_schedule(doc)
    return doc


def _is_good(path: Path) -> bool:
    """An existing, valid, optimised (non-fallback) schedule."""
    if not path.is_file():
        return False
    try:
        return not read_schedule(path)["metadata"]["fallback"]
    except InvalidScheduleError:
        return False


def schedule_json(doc: dict[str, Any]) -> str:
    """The published JSON text: compact, one interval or session per line, no NaN."""
    head = {k: v for k, v in doc.items() if k not in ("intervals", "ev_sessions")}
    chunks = [json.dumps(head, indent=1, allow_nan=False).removesuffix("\n}")]
    for key in ("intervals", "ev_sessions"):
        items = [json.dumps(x, separators=(",", ":"), allow_nan=False) for x in doc[key]]
        body = "[\n  " + ",\n  ".join(items) + "\n ]" if items else "[]"
        chunks.append(f',\n "{key}": {body}')
    return "".join(chunks) + "\n}\n"


_REVISION = re.compile(r"^(schedule-\d{8}T\d{4})\.r(\d+)\.json$")
_CURRENT = re.compile(r"^schedule-(\d{8}T\d{4})(\.fallback)?\.json$")


def next_revision(out: Path, stem: str) -> int:
    """1 + the highest revision of ``stem`` already in ``out`` (1 for the first)."""
    numbers = [int(m.group(2)) for p in out.glob(f"{stem}.r*.json")
               if (m := _REVISION.match(p.name)) and m.group(1) == stem]
    return max(numbers, default=0) + 1


def csv_metadata(doc: dict[str, Any]) -> dict[str, Any]:
    """The CSV's sidecar (``<stem>.meta.json``): what an EMS needs before the first row."""
    meta = doc["metadata"]
    keys = ("scenario", "status", "fallback", "revision", "valid_from", "valid_to", "created_at",
            "time_zone", "utc_offset_h", "step", "n_intervals", "currency", "zeropark_version")
    return {"schema": "zeropark.schedule.csv", "schema_version": doc["schema_version"],
            **{k: meta.get(k) for k in keys},
            "units": {"*_kw": "kW, interval mean", "storage_kw[*]": "kW, + discharge, − charge",
                      "storage_soc[*]": "fraction of the unit's energy at the interval end",
                      "*_price_per_kwh": f"{meta['currency']}/kWh",
                      "expected_cost": meta["currency"], "emissions_kg": "kgCO2",
                      "start": f"interval start, local standard time ({meta.get('time_zone')})"}}


#: Metadata keys of the long CSV's ``#`` header, in order (values JSON-encoded).
LONG_HEADER_KEYS = ("schema", "schema_version", "scenario", "status", "fallback", "revision",
                    "valid_from", "valid_to", "created_at", "time_zone", "step", "currency")
LONG_COLUMNS = ("time", "device_id", "device_type", "kind", "value_kw", "unit",
                "sign_convention")
#: Wide-CSV column prefix → (device type, kind, sign convention) in the long CSV.
_LONG_DEVICES: tuple[tuple[str, str, str, str], ...] = (
    ("storage_kw[", "storage", "setpoint", "+ discharge, - charge"),
    ("flex_kw[", "flexible_load", "setpoint", "+ consumption"),
    ("ev_pile_kw[", "ev_pile", "setpoint", "+ charging, grid side"),
    ("grid_import_kw", "grid", "expected", "+ import"),
    ("grid_export_kw", "grid", "expected", "+ export"),
    ("dr_import_cap_kw", "grid", "limit", "net import at most this (accepted DR events only)"),
)


def _long_devices(frame: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    """(wide column, device id, device type, kind, sign convention) of each device column."""
    out = []
    names = {"grid_import_kw": "import", "grid_export_kw": "export",
             "dr_import_cap_kw": "dr_import_cap"}
    for column in frame.columns:
        for prefix, dtype, kind, sign in _LONG_DEVICES:
            if column == prefix or (prefix.endswith("[") and column.startswith(prefix)):
                name = column[len(prefix):-1] if prefix.endswith("[") else names[column]
                out.append((column, f"{dtype}/{name}", dtype, kind, sign))
    return out


def long_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The long-format table of a schedule's wide table (:attr:`Schedule.frame`).

    One row per interval and device, interval-major, devices in the wide table's column order:
    ``time`` (interval start with UTC offset), ``device_id`` (``storage/<unit>``,
    ``flexible_load/<load>``, ``ev_pile/<group>/<pile>``, ``grid/import``, ``grid/export``,
    ``grid/dr_import_cap``), ``device_type``, ``kind`` (``setpoint`` to execute, ``expected``
    grid exchange, ``limit``), ``value_kw`` [kW, interval mean], ``unit`` (``kW``) and
    ``sign_convention``. DR caps appear only in intervals with an accepted event.
    """
    dev = _long_devices(frame)
    T, D = len(frame), len(dev)
    values = frame[[d[0] for d in dev]].to_numpy(dtype=float).reshape(T * D)
    out = pd.DataFrame({
        "time": np.repeat(frame["start"].to_numpy(), D),
        **{c: np.tile(np.array([d[k] for d in dev], dtype=object), T)
           for k, c in ((1, "device_id"), (2, "device_type"), (3, "kind"))},
        "value_kw": values, "unit": "kW",
        "sign_convention": np.tile(np.array([d[4] for d in dev], dtype=object), T)})
    return out[np.isfinite(values)].reset_index(drop=True)


def _csv_text(x: str) -> str:
    return '"' + x.replace('"', '""') + '"' if any(c in x for c in ',"\n\r') else x


def long_csv_text(doc: dict[str, Any], frame: pd.DataFrame) -> str:
    """The long CSV: ``# key: <JSON value>`` header lines (:data:`LONG_HEADER_KEYS`), then the
    :func:`long_table` with its column header (the same text as ``long_table(frame).to_csv``,
    formatted directly: ~10× faster on 40 k rows)."""
    meta = {"schema": "zeropark.schedule.long", "schema_version": doc["schema_version"],
            **doc["metadata"]}
    head = "".join(f"# {k}: {json.dumps(meta.get(k), allow_nan=False)}\n"
                   for k in LONG_HEADER_KEYS)
    dev = _long_devices(frame)
    mids = [",".join(_csv_text(x) for x in d[1:4]) + "," for d in dev]
    tails = [",kW," + _csv_text(d[4]) for d in dev]
    values = frame[[d[0] for d in dev]].to_numpy(dtype=float)
    lines = [",".join(LONG_COLUMNS)]
    for t, row in zip(frame["start"].tolist(), values.tolist(), strict=True):
        ts = _csv_text(str(t)) + ","
        lines.extend(ts + m + repr(v) + e for m, v, e in zip(mids, row, tails, strict=True)
                     if math.isfinite(v))
    return head + "\n".join(lines) + "\n"


def read_long_csv(path: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Read a long CSV: its ``#`` header as a dict and its rows as a DataFrame.

    The rows alone also read with ``pd.read_csv(path, comment="#")`` as long as no device name
    holds ``#``; this reader skips the header lines by count instead, so it never depends on
    that.

    Returns
    -------
    (dict, pandas.DataFrame)
        Header values (JSON-decoded) and the rows (columns :data:`LONG_COLUMNS`).
    """
    meta: dict[str, Any] = {}
    n = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("# "):
                break
            key, _, value = line[2:].rstrip("\n").partition(": ")
            meta[key] = json.loads(value)
            n += 1
    return meta, pd.read_csv(path, skiprows=n)


def publish(schedule: Schedule, out_dir: str | Path) -> list[Path]:
    """Write the schedule atomically into ``out_dir``, as a new revision and as the current plan.

    Every call writes ``schedule-<start>.r<N>.json``, ``.csv``, ``.meta.json`` (the CSV's
    metadata sidecar) and ``.long.csv`` (long format with a ``#`` metadata header)
    with ``N`` one more than the highest revision of that start already there
    (``metadata.revision``), so reruns and fallbacks never overwrite an earlier plan. The plan to
    execute is ``schedule-<start>.json`` / ``.csv`` / ``.meta.json`` (the current pointer, a copy
    of the newest revision written by atomic rename), except that a fallback never replaces an
    optimised current plan: it is then ``schedule-<start>.fallback.*`` and its warnings say so.

    Returns
    -------
    list of Path
        The current JSON and CSV written (the revision's files are ``<stem>.r<N>.*``, ``N`` in
        ``doc["metadata"]["revision"]``).

    Raises
    ------
    InvalidScheduleError
        The document fails its checks; nothing is written.
    """
    doc = schedule.doc
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = schedule_stem(schedule.start)
    stem = base
    if schedule.fallback and _is_good(out / f"{stem}.json"):
        doc["metadata"]["warnings"].append(
            f"an optimised schedule for this start exists and was kept: {stem}.json")
        stem += ".fallback"
    revision = next_revision(out, base)
    doc["metadata"]["revision"] = revision
    check_schedule(doc)
    text = schedule_json(doc)
    json.loads(text)  # the writer's own output must parse
    csv_text = schedule.frame.to_csv(index=False, lineterminator="\n")
    side = json.dumps(csv_metadata(doc), indent=1, allow_nan=False) + "\n"
    long_text = long_csv_text(doc, schedule.frame)
    rev = f"{base}.r{revision}"
    for name in (rev, stem):  # the revision first: the current pointer never runs ahead of it
        for suffix, content in ((".csv", csv_text), (".meta.json", side),
                                (".long.csv", long_text), (".json", text)):
            atomic_write_text(out / f"{name}{suffix}", content)
    return [out / f"{stem}.json", out / f"{stem}.csv"]


def find_current(folder: Path, at: pd.Timestamp) -> Path | None:
    """The current plan in ``folder`` covering ``at`` (tz-naive local time): the latest start at
    or before ``at`` whose horizon still covers it, the optimised plan before a fallback of the
    same start. Candidates are chosen by file name; only those opened are validated (newest
    first, usually one)."""
    cands: list[tuple[pd.Timestamp, bool, Path]] = []
    for p in folder.glob("schedule-*.json"):
        m = _CURRENT.match(p.name)
        if m is None:
            continue
        start = pd.Timestamp(dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M"))
        if start <= at:
            cands.append((start, m.group(2) is not None, p))
    for _, _, path in sorted(cands, key=lambda c: (-c[0].value, c[1])):
        try:
            meta = read_schedule(path)["metadata"]
        except InvalidScheduleError:
            continue
        if local_time(meta["start"]) <= at < local_time(meta["end"]):
            return path
    return None
