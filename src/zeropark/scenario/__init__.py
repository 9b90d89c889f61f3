"""The validated scenario: one pydantic v2 model for the whole park, loaded from YAML.

``load_scenario(path)`` is the only way data enters zeropark; every invalid input becomes one
``ScenarioError`` naming the field path, the value received and what is allowed. Library keys are
resolved during validation (:mod:`zeropark.scenario.resolve`): the validated scenario is frozen and
every technology default is a number in it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, model_validator

from zeropark import guard
from zeropark.errors import ScenarioError, from_validation_error
from zeropark.scenario.components import (
    Clearness,
    Ev,
    EvGroup,
    EvSessions,
    FlexibleLoad,
    Frozen,
    Loads,
    ProfileFile,
    PvArray,
    Site,
    Storage,
    TimeSpec,
    Weather,
)
from zeropark.scenario.heat import Heat
from zeropark.scenario.market import (
    CapTarget,
    Certificates,
    DemandResponse,
    DrBaseline,
    DrEvent,
    DrSettlement,
    Fuels,
    GreenDirect,
    GreenPower,
    Grid,
    IndicatorTarget,
    Offsets,
    ShareTarget,
    Sizing,
    Solver,
    Targets,
)
from zeropark.scenario.resolve import check_library_keys, library_context, library_of, load_library
from zeropark.strictload import yaml_data

__all__ = [
    "CapTarget", "Certificates", "Clearness", "DemandResponse", "DrBaseline", "DrEvent",
    "DrSettlement", "Ev", "EvGroup",
    "EvSessions", "FlexibleLoad", "Fuels", "GreenDirect", "GreenPower", "Grid", "IndicatorTarget",
    "Heat", "Loads", "Offsets", "ProfileFile", "PvArray", "Scenario", "ShareTarget", "Site", "Sizing",
    "Solver", "Storage", "Targets", "TimeSpec", "Weather", "load_scenario", "scenario_from_dict",
]

_STEP_H = {"1h": 1.0, "60min": 1.0, "30min": 0.5, "15min": 0.25}
_MAX_FILE_BYTES = 5_000_000
#: Most steps a scenario's horizon may have (also the bound of ``time.steps``): two leap years at
#: 15 min.
MAX_STEPS = 8784 * 4 * 2


class Scenario(Frozen):
    """A whole park: site, horizon, assets, market, targets and solver options."""

    name: str = Field(min_length=1, max_length=200, description="Short name of the park; "
                      "shown in reports and stored with every result.")
    description: str = Field(default="", description="Free text describing the park.")
    sources: list[str] = Field(default_factory=list,
                               description="Where the scenario's numbers come from (documents, years).")
    currency: str = Field(default="CNY", min_length=1, max_length=8,
                          description="Currency of every price and cost in the file.")
    library: list[Path] = Field(default_factory=list, description="Folders of YAML files that "
                                "override models/ entries by key (inside the scenario's folder).")
    site: Site = Field(description="Where the park is (solar position, local standard time).")
    time: TimeSpec = Field(description="The horizon: start, end or number of steps, step length.")
    weather: Weather | None = Field(default=None, description="Irradiance source for PV arrays "
                                    "without a profile: clear sky with clearness model, or a file.")
    pv: list[PvArray] = Field(default_factory=list, description="PV arrays (curtailable).")
    loads: Loads = Field(description="The park's inflexible electric load.")
    flexible_loads: list[FlexibleLoad] = Field(
        default_factory=list, description="Shiftable DC loads: data centres, electrolysers, buildings.")
    storage: list[Storage] = Field(default_factory=list, description="Battery storage units.")
    ev: Ev = Field(default_factory=Ev, description="EV charging pile groups and their sessions.")
    grid: Grid = Field(description="Grid connection: limits, tariff, export price, emission factor.")
    green_power: GreenPower = Field(default_factory=GreenPower, description="Direct green supply, "
                                    "green certificates (GEC) and CCER offsets.")
    demand_response: DemandResponse = Field(default_factory=DemandResponse,
                                            description="Demand-response (peak-cut) events offered.")
    targets: Targets = Field(default_factory=Targets, description="Green share, emission cap, "
                             "zero-carbon indicator (hard or soft) and carbon price.")
    fuels: Fuels = Field(default_factory=Fuels, description="Fixed non-electric energy use per year.")
    heat: Heat | None = Field(default=None, description="Heat demand per temperature level, "
                              "supply units (boilers, heat pumps, CHP, waste heat) and thermal "
                              "stores; the fuel they burn is decided by the model.")
    solver: Solver = Field(default_factory=Solver, description="HiGHS options and engine.")
    sizing: Sizing = Field(default_factory=Sizing, description="Capex annualisation for sizing.")

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        for label, items in (
            ("pv", self.pv), ("storage", self.storage),
            ("flexible_loads", self.flexible_loads), ("ev.groups", self.ev.groups),
            ("demand_response.events", self.demand_response.events),
        ):
            names = [item.name for item in items]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"{label}: names must be unique, repeated: {sorted(dup)}")
        needs_weather = any(a.profile is None for a in self.pv)
        direct = self.green_power.direct
        if direct is not None and direct.shape == "solar":
            needs_weather = True
        if needs_weather and self.weather is None:
            raise ValueError("PV arrays without a 'profile' need a 'weather' block")
        return self

    @model_validator(mode="after")
    def _library_keys(self, info: ValidationInfo) -> Scenario:
        check_library_keys(self, library_of(info))
        if self.heat is not None:  # checks that need the park type and the weather block
            from zeropark.scenario.heatresolve import check_heat

            check_heat(self)
        return self

    # -- derived quantities -------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the scenario are resolved against."""
        return self._base_dir

    @property
    def dt_h(self) -> float:
        """Step length [h]."""
        return _STEP_H[self.time.step]

    @property
    def utc_offset_h(self) -> float:
        """Standard (non-DST) UTC offset of the site's timezone [h]."""
        tz = zoneinfo.ZoneInfo(self.site.timezone)
        jan = pd.Timestamp("2025-01-15", tz=tz)
        jul = pd.Timestamp("2025-07-15", tz=tz)
        offsets = [(ts.utcoffset() or timedelta(0)) - (ts.dst() or timedelta(0))
                   for ts in (jan, jul)]
        return float(min(offsets).total_seconds()) / 3600.0

    def time_index(self) -> pd.DatetimeIndex:
        """Step-start instants, tz-naive local standard time."""
        freq = pd.Timedelta(hours=self.dt_h)
        start = pd.Timestamp(self.time.start)
        if self.time.steps is not None:
            return pd.date_range(start, periods=self.time.steps, freq=freq)
        end = pd.Timestamp(self.time.end)
        return pd.date_range(start, end - freq, freq=freq)

    def resolve_path(self, path: Path, field: str) -> Path:
        """Resolve a referenced file against the scenario folder (symbolic links followed).

        It must lie inside the scenario's folder (or a folder allowed with ``--allow-outside``,
        see :mod:`zeropark.guard`), be a regular file and within the input size limit.
        """
        full = guard.inside_folder(path, self._base_dir, field)
        guard.check_input_file(full, field, shown=path)
        return full

    def content_hash(self) -> str:
        """SHA-256 of the validated scenario and the contents of the files it references."""
        digest = hashlib.sha256(
            json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        )
        for i, path in enumerate(_referenced_files(self)):
            try:  # a file that may not be read is refused where it is used, not here
                full = self.resolve_path(path, "file")
                digest.update(guard.read_input_bytes(full, "file"))
            except ScenarioError:
                digest.update(f"unreadable {i}".encode())
        return digest.hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-ready dict (round-trips through :func:`scenario_from_dict`)."""
        return self.model_dump(mode="json", exclude_none=True)

    def replace(self, changes: dict[str, Any]) -> Scenario:
        """A validated variant with dotted-path changes, e.g. ``{"storage.0.energy_kwh": 2e4}``."""
        data = copy.deepcopy(self._raw) or self.model_dump(mode="json", exclude_none=True)
        for dotted, value in changes.items():
            _set_dotted(data, dotted, value)
        return scenario_from_dict(data, base_dir=self._base_dir)


def _referenced_files(sc: Scenario) -> list[Path]:
    files: list[Path] = []
    if sc.weather is not None and sc.weather.path is not None:
        files.append(sc.weather.path)
    files += [a.profile.path for a in sc.pv if a.profile is not None]
    for maybe in (sc.loads.path, sc.ev.sessions.path):
        if maybe is not None:
            files.append(maybe)
    for pf in (sc.grid.price_file, sc.grid.export_price_file, sc.grid.emission_factor_file):
        if pf is not None:
            files.append(pf.path)
    if sc.green_power.direct is not None and sc.green_power.direct.profile is not None:
        files.append(sc.green_power.direct.profile.path)
    if sc.demand_response.baseline.history is not None:
        files.append(sc.demand_response.baseline.history.path)
    if sc.heat is not None and sc.heat.demand.path is not None:
        files.append(sc.heat.demand.path)
    return files


def _set_dotted(data: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(dotted, value, f"'{where}': index 0..{len(node) - 1}")
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and key not in node:
                node[key] = {}
        else:
            raise ScenarioError(dotted, value, f"'{where}' is not a mapping or list")
        if last:
            node[key] = value
        else:
            node = node[key]


def scenario_from_dict(data: Any, *, base_dir: Path | str | None = None) -> Scenario:
    """Validate a dict into a :class:`Scenario`, resolving library keys and technology defaults.

    Raises
    ------
    ScenarioError
        Naming the first invalid field, the value received and what is allowed.
    """
    if not isinstance(data, dict):
        raise ScenarioError("(scenario)", type(data).__name__, "a YAML mapping at the top level")
    folder = Path(base_dir) if base_dir is not None else Path.cwd()
    lib = load_library(data.get("library"), folder)
    try:
        sc = Scenario.model_validate(copy.deepcopy(data), context=library_context(lib))
    except ValidationError as err:
        raise from_validation_error(err) from None
    sc._base_dir = folder
    sc._raw = copy.deepcopy(data)
    _check_time(sc)
    _check_physical(sc)
    return sc


def _check_physical(sc: Scenario) -> None:
    """Refuse values beyond what the park can physically do (never a silent absurd answer)."""
    for i, event in enumerate(sc.demand_response.events):
        # a cut larger than the whole connection cannot be delivered (a 1e8 kW cut on a 26 MW
        # connection was once accepted and paid, for an objective of -1.2e9 CNY)
        if event.reduction_kw > sc.grid.import_limit_kw:
            raise ScenarioError(f"demand_response.events.{i}.reduction_kw", event.reduction_kw,
                                f"at most the grid import limit {sc.grid.import_limit_kw:g} kW "
                                "(a cut cannot exceed the connection)")


def _check_time(sc: Scenario) -> None:
    try:
        zoneinfo.ZoneInfo(sc.site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            "site.timezone", sc.site.timezone, "an IANA timezone name such as 'Asia/Shanghai'"
        ) from None
    for key in ("start", "end"):
        raw = getattr(sc.time, key)
        if raw is None:
            continue
        try:
            pd.Timestamp(raw)
        except (ValueError, TypeError, OverflowError):
            raise ScenarioError(f"time.{key}", raw, "an ISO date or datetime") from None
        ts = pd.Timestamp(raw)
        if ts.tzinfo is not None:
            raise ScenarioError(f"time.{key}", raw, "a local time without a UTC offset")
        if not 1900 <= ts.year <= 2200:
            raise ScenarioError(f"time.{key}", raw, "a date between the years 1900 and 2200")
    start = pd.Timestamp(sc.time.start)
    if start != start.floor(pd.Timedelta(hours=sc.dt_h)):
        raise ScenarioError("time.start", sc.time.start, f"a multiple of the step {sc.time.step}")
    if sc.time.end is not None:
        n = (pd.Timestamp(sc.time.end) - start) / pd.Timedelta(hours=sc.dt_h)
        if n < 1 or n != int(n):
            raise ScenarioError(
                "time.end", sc.time.end, "after start by a whole number of steps"
            )
        if n > MAX_STEPS:  # the same limit as time.steps: 100 years hourly once validated
            raise ScenarioError(
                "time.end", sc.time.end,
                f"at most {MAX_STEPS:,} steps after start ({n:,.0f} at {sc.time.step}; the limit "
                "is two leap years at 15 min)")


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file. Relative paths inside it are resolved against its folder.
    """
    p = Path(path)
    raw = guard.read_input_bytes(p, "scenario", what="YAML file", max_bytes=_MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError("scenario", str(path), f"valid UTF-8 YAML (byte {err.start} is not "
                            "UTF-8)") from None
    data = yaml_data(text, str(path))
    return scenario_from_dict(data, base_dir=p.parent)
