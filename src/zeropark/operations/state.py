"""The operations state: what the nightly schedule must know about the park right now.

Owns the validated state file (JSON) that the nightly ``zeropark schedule`` reads and
``zeropark ledger update`` rolls forward: state of charge per storage unit, the month-to-date
peak import already billed, the year-to-date ledger of consumption, green supply, emissions and
certificates (so annual targets are pursued pro rata), the EVs plugged in now, the
demand-response events already committed, and the flexible loads' last executed power (their
ramp limit from it binds the first step). Every invalid entry raises one
:class:`~zeropark.errors.ScenarioError` naming the field path (``state.<path>``), the value and
what is allowed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, field_validator

from zeropark.errors import ScenarioError
from zeropark.guard import read_input_text
from zeropark.io import atomic_write_text
from zeropark.scenario import DrEvent, Scenario
from zeropark.scenario.components import Strict
from zeropark.strictload import json_data

STATE_SCHEMA_VERSION: Literal[1] = 1
_MAX_STATE_BYTES = 20_000_000


def _iso(value: str | None, what: str) -> str | None:
    """Check an ISO timestamp without UTC offset; returns it normalised (``YYYY-MM-DDTHH:MM:SS``)."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"{what}: an ISO date or datetime such as 2026-11-29T00:00") from None
    if ts.tzinfo is not None:
        raise ValueError(f"{what}: local standard time without a UTC offset")
    return ts.isoformat()


class StorageState(Strict):
    """State of one storage unit at ``as_of``."""

    soc: float = Field(ge=0, le=1, description="state of charge [fraction of energy_kwh]")
    power_kw: float | None = Field(
        default=None, ge=-1e8, le=1e8, allow_inf_nan=False,
        description="last executed net power [kW], + discharge, − charge (the first step of the "
        "next plan is within the unit's ramp limit of it); None = unknown (first step free)")


class MonthPeak(Strict):
    """Highest grid import of the billing month so far (already billed as demand)."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="billing month, YYYY-MM")
    peak_import_kw: float = Field(ge=0, le=1e8, description="month-to-date peak import [kW]")


class Ledger(Strict):
    """Metered totals of the target period so far (default: the calendar year).

    Annual targets (green-power share, emission cap, zero-carbon indicator) apply to the period
    ``[period_start, period_end)``; each schedule gets the pro-rata share of what remains.
    """

    period_start: str | None = Field(default=None, description="ISO; default 1 January")
    period_end: str | None = Field(default=None, description="ISO, exclusive; default +1 year")
    through: str | None = Field(
        default=None, description="actuals are included up to this instant (exclusive)"
    )
    consumption_kwh: float = Field(default=0.0, ge=0, description="PV used + green + import − export")
    green_kwh: float = Field(default=0.0, description="PV used + green direct − export [kWh]")
    import_kwh: float = Field(default=0.0, ge=0)
    export_kwh: float = Field(default=0.0, ge=0)
    emissions_kg: float = Field(default=0.0, ge=0, description="grid import × emission factor")
    certificates_mwh: float = Field(default=0.0, ge=0, description="green certificates bought")
    offsets_t: float = Field(default=0.0, ge=0, description="CCER offsets retired")

    @field_validator("period_start", "period_end", "through")
    @classmethod
    def _times(cls, v: str | None) -> str | None:
        return _iso(v, "timestamp")


class PluggedEv(Strict):
    """An EV plugged in at ``as_of``."""

    group: str = Field(min_length=1, description="pile group name in the scenario")
    pile: int = Field(ge=0, description="pile number in the group, 0..count-1")
    energy_kwh: float = Field(ge=0, le=2000, description="energy still wanted, battery side [kWh]")
    departure: str = Field(description="expected departure, ISO local time")
    max_power_kw: float | None = Field(
        default=None, gt=0, le=2000, description="car's charging limit, battery side [kW]"
    )
    id: str | None = Field(default=None, max_length=100, description="car or session id")

    @field_validator("departure")
    @classmethod
    def _departure(cls, v: str) -> str | None:
        return _iso(v, "departure")


FlexPowerKw = Annotated[float, Field(ge=0, le=1e8, allow_inf_nan=False)]


class OpsState(Strict):
    """Everything the nightly schedule carries over from the day before."""

    schema_version: Literal[1] = STATE_SCHEMA_VERSION
    as_of: str | None = Field(default=None, description="instant the state holds for (ISO)")
    storage: dict[str, StorageState] = Field(default_factory=dict)
    month_to_date: MonthPeak | None = None
    ledger: Ledger = Field(default_factory=Ledger)
    ev_plugged: list[PluggedEv] | None = Field(
        default=None, description="None = unknown (use the scenario's sessions); [] = none"
    )
    dr_committed: list[DrEvent] = Field(default_factory=list)
    flex_power_kw: dict[str, FlexPowerKw] | None = Field(
        default=None, description="last executed power per flexible load [kW] (the first step "
        "of the next plan is within its ramp limit of it); None = unknown (first step free)"
    )

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, v: str | None) -> str | None:
        return _iso(v, "as_of")

    def content_hash(self) -> str:
        """SHA-256 (16 hex digits) of the canonical JSON of the state."""
        # an unknown flex_power_kw is left out: states written before the field keep their hash
        drop = {"flex_power_kw"} if self.flex_power_kw is None else None
        data = self.model_dump(mode="json", exclude=drop)
        for unit in data["storage"].values():  # likewise an unknown storage power
            if unit.get("power_kw") is None:
                unit.pop("power_kw", None)
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        """Indented JSON text (round-trips through :func:`state_from_dict`)."""
        # never write NaN or infinity (the fields refuse them; this refuses them again on output)
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2,
                          allow_nan=False) + "\n"


def _error(err: ValidationError) -> ScenarioError:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown field (check spelling); see docs/operations.md for the state fields"
    if first["type"] == "missing":
        msg = "this field is required"
    return ScenarioError(f"state.{loc}" if loc else "state", first.get("input"), msg)


def state_from_dict(data: Any) -> OpsState:
    """Validate a dict into an :class:`OpsState`.

    Raises
    ------
    ScenarioError
        Naming ``state.<field path>``, the value received and what is allowed.
    """
    if not isinstance(data, dict):
        raise ScenarioError("state", type(data).__name__, "a JSON object")
    try:
        return OpsState.model_validate(data)
    except ValidationError as err:
        raise _error(err) from None


def load_state(path: str | Path) -> OpsState:
    """Read and validate a state JSON file."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError("--state", str(path), "an existing state JSON file "
                            "(create one with 'zeropark ledger init')")
    text = read_input_text(p, "--state", what="state JSON file", max_bytes=_MAX_STATE_BYTES)
    return state_from_dict(json_data(text, "--state", str(path)))


def _drop(data: Any, loc: tuple[Any, ...]) -> bool:
    """Remove the entry at ``loc`` from nested dicts/lists, or else its nearest existing
    parent below the top; True if something was removed."""
    for n in range(len(loc), 0, -1):
        node = data
        try:
            for key in loc[: n - 1]:
                node = node[key]
            del node[loc[n - 1]]
            return True
        except (KeyError, IndexError, TypeError):
            continue
    return False


def salvage_state(path: str | Path, sc: Scenario, as_of: str) -> tuple[OpsState, list[str]]:
    """Read what can be trusted of a broken state file; never raises.

    Invalid fields (NaN, out of range, unknown names, …) are dropped one by one and the rest is
    validated again; when nothing usable is left — the file is missing, not JSON, not an object
    — the state is the scenario's defaults (:func:`initial_state` at ``as_of``).

    Returns
    -------
    (OpsState, list of str)
        The salvaged state and one line per ignored field (``state.<path>: <why>``).
    """
    ignored: list[str] = []
    defaults = "the scenario's defaults are used for the whole state"
    try:
        text = read_input_text(Path(path), "--state", what="state JSON file",
                               max_bytes=_MAX_STATE_BYTES)
    except ScenarioError as err:
        return initial_state(sc, as_of), [f"{err}: {defaults}"]
    try:
        data: Any = json_data(text, "--state", str(path))
    except ScenarioError as err:
        if "duplicate key" in str(err) or "nested" in str(err):
            return initial_state(sc, as_of), [f"{err}: {defaults}"]
        try:  # NaN / Infinity: read leniently, the fields holding them are dropped below
            data = json.loads(text)
        except (ValueError, RecursionError):
            return initial_state(sc, as_of), [f"{err}: {defaults}"]
    if not isinstance(data, dict):
        return initial_state(sc, as_of), [f"state: not a JSON object: {defaults}"]
    for _ in range(50):
        try:
            state = OpsState.model_validate(data)
            check_against(state, sc)
            return state, ignored
        except ValidationError as err:
            removed = False
            for e in err.errors():
                loc = tuple(e["loc"])
                if loc and _drop(data, loc):
                    ignored.append(f"state.{'.'.join(map(str, loc))}: "
                                   f"{e['msg'].removeprefix('Value error, ')}")
                    removed = True
            if not removed:
                break
        except ScenarioError as err:
            loc = tuple(int(k) if k.isdigit() else k
                        for k in err.field.removeprefix("state.").split("."))
            if not _drop(data, loc):
                break
            ignored.append(str(err))
    return initial_state(sc, as_of), [*ignored, f"state still invalid: {defaults}"]


def save_state(state: OpsState, path: str | Path) -> None:
    """Write the state atomically (temp file + rename)."""
    atomic_write_text(Path(path), state.to_json())


def check_against(state: OpsState, sc: Scenario) -> None:
    """Cross-check the state with the scenario: unit, group and flexible-load names, pile numbers.

    Raises
    ------
    ScenarioError
        Unknown storage unit, pile group or flexible load, or a pile number outside its group.
    """
    units = [u.name for u in sc.storage]
    for name in state.storage:
        if name not in units:
            raise ScenarioError(f"state.storage.{name}", name, f"a storage unit of the scenario: "
                                f"{units}")
    counts = {g.name: g.count for g in sc.ev.groups}
    seen: set[tuple[str, int]] = set()
    for i, ev in enumerate(state.ev_plugged or []):
        if ev.group not in counts:
            raise ScenarioError(f"state.ev_plugged.{i}.group", ev.group,
                                f"a pile group of the scenario: {list(counts)}")
        if ev.pile >= counts[ev.group]:
            raise ScenarioError(f"state.ev_plugged.{i}.pile", ev.pile,
                                f"a pile number 0..{counts[ev.group] - 1} of group {ev.group!r}")
        if (ev.group, ev.pile) in seen:
            raise ScenarioError(f"state.ev_plugged.{i}.pile", ev.pile,
                                f"one EV per pile (pile {ev.pile} of {ev.group!r} is listed twice)")
        seen.add((ev.group, ev.pile))
    loads = [f.name for f in sc.flexible_loads]
    for name in state.flex_power_kw or {}:
        if name not in loads:
            raise ScenarioError(f"state.flex_power_kw.{name}", name,
                                f"a flexible load of the scenario: {loads}")
    names = [e.name for e in state.dr_committed]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError("state.dr_committed", dup, "unique event names")
    _check_magnitudes(state, sc)


#: Largest ledger period [h]: a leap year.
_YEAR_H = 8784.0


def _check_magnitudes(state: OpsState, sc: Scenario) -> None:
    """Refuse ledger totals and peaks the park cannot physically have reached.

    The bound of every energy total is the park's gross power (import and export limits, PV
    capacity, direct green supply, storage power) over a whole year, ``P × 8784 h``; emissions
    are bounded by that energy at 2 kg/kWh (above any grid's factor); the month-to-date peak by
    twice the import limit. A value beyond them is a metering or typing error, and used as it is
    it would dominate the objective (a ``green_kwh`` of −1e15 gave a 1.5e12 CNY plan).
    """
    direct = sc.green_power.direct
    gross_kw = (sc.grid.import_limit_kw + sc.grid.export_limit_kw
                + sum(a.capacity_kw for a in sc.pv) + sum(u.power_kw for u in sc.storage)
                + (direct.capacity_kw if direct is not None else 0.0))
    limit_kwh = gross_kw * _YEAR_H
    lg = state.ledger
    for name in ("consumption_kwh", "green_kwh", "import_kwh", "export_kwh"):
        value = getattr(lg, name)
        if abs(value) > limit_kwh:
            raise ScenarioError(f"state.ledger.{name}", value,
                                f"magnitude at most {limit_kwh:.4g} kWh (the park's connections "
                                "and assets at full power for a year)")
    if lg.emissions_kg > 2.0 * limit_kwh:
        raise ScenarioError("state.ledger.emissions_kg", lg.emissions_kg,
                            f"at most {2.0 * limit_kwh:.4g} kg (a year of the park's gross power "
                            "at 2 kg/kWh)")
    peak = state.month_to_date
    if peak is not None and peak.peak_import_kw > 2.0 * sc.grid.import_limit_kw:
        raise ScenarioError("state.month_to_date.peak_import_kw", peak.peak_import_kw,
                            f"at most twice the import limit ({2.0 * sc.grid.import_limit_kw:g} kW)")


def initial_state(sc: Scenario, as_of: str) -> OpsState:
    """A fresh state at ``as_of``: scenario initial SOCs, no peak yet, an empty ledger for the
    calendar year of ``as_of`` counted from ``as_of`` (no history), no EV plugged in, flexible
    loads' power unknown."""
    return state_from_dict({
        "as_of": as_of,
        "storage": {u.name: {"soc": u.start_share} for u in sc.storage},
        "ledger": {},
        "ev_plugged": [],
    })


def ledger_period(state: OpsState, at: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Target period of the ledger: its own bounds, else the calendar year of ``at``."""
    lg = state.ledger
    start = pd.Timestamp(lg.period_start) if lg.period_start else pd.Timestamp(year=at.year,
                                                                                  month=1, day=1)
    end = pd.Timestamp(lg.period_end) if lg.period_end else start + pd.DateOffset(years=1)
    if end <= start:
        raise ScenarioError("state.ledger.period_end", lg.period_end, f"after {start}")
    return start, end
