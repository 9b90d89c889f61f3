"""Schema of the park's physical components: site, time, PV, weather, loads, storage, EV, flexible loads.

Every field carries its unit in its name. Defaults are the technology defaults of ``models/`` where a
``technology`` key is given; plain defaults here are conservative, documented values. Fields that
say "None = technology value" are filled from the library while the scenario is validated (see
:mod:`zeropark.scenario.resolve`), so a validated scenario holds a number in each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from zeropark.errors import ScenarioError
from zeropark.scenario import resolve

#: Default of a field the library fills while the scenario is validated (the ``mode="before"``
#: validators below, see :mod:`zeropark.scenario.resolve`): the schema shows no default, and a
#: validated model never holds it, so the field is typed ``float``.
FROM_LIBRARY: Any = None


class Strict(BaseModel):
    """Base model: unknown keys are errors (a typo must not be silently ignored); NaN and ±inf
    are refused in every number field."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False,
                              allow_inf_nan=False)


class Frozen(Strict):
    """Base of every scenario block: :class:`Strict`, and frozen once validated (make variants
    with ``model_copy(update=...)`` or :meth:`zeropark.scenario.Scenario.replace`)."""

    model_config = ConfigDict(frozen=True)


class Site(Frozen):
    """Where the park is."""

    name: str = Field(min_length=1, max_length=200, description="Park name, shown in reports and results.")
    latitude: float = Field(
        ge=-90, le=90, description="Site latitude [deg north], used for sun position and clear-sky irradiance"
    )
    longitude: float = Field(
        ge=-180, le=180,
        description="Site longitude [deg east], used for sun position and clear-sky irradiance"
    )
    altitude_m: float = Field(
        default=0.0, ge=-500, le=9000,
        description="Site altitude above sea level, used by the clear-sky model."
    )
    timezone: str = Field(default="Asia/Shanghai", description="IANA name; its standard offset is used")


class TimeSpec(Frozen):
    """The horizon: start, then either ``end`` (exclusive) or ``steps``; step length."""

    start: str = Field(description="ISO date or datetime, local standard time")
    end: str | None = Field(default=None, description="exclusive end, ISO; or give steps")
    steps: int | None = Field(
        default=None, ge=1, le=8784 * 4 * 2, description="Number of time steps in the horizon; or give end."
    )
    step: Literal["1h", "60min", "30min", "15min"] = Field(
        default="1h",
        description="Length of one time step; sub-hourly synthetic loads vary within the hour "
        "around its value (seeded quarter-hour factors).",
    )

    @model_validator(mode="after")
    def _end_or_steps(self) -> TimeSpec:
        if (self.end is None) == (self.steps is None):
            raise ValueError("give exactly one of 'end' or 'steps'")
        return self


class Clearness(Frozen):
    """Seeded stochastic clearness model applied to pvlib clear-sky irradiance."""

    preset: str | None = Field(
        default=None,
        description="Climate key in models/climate.yaml giving monthly clearness and air temperature.",
    )
    monthly_clearness: list[float] | None = Field(
        default=None, min_length=12, max_length=12,
        description="Mean clearness index (GHI / clear-sky GHI) for "
        "Jan–Dec, each in (0, 1]; overrides the preset.",
    )
    monthly_temp_air_c: list[float] | None = Field(
        default=None, min_length=12, max_length=12,
        description="Mean air temperature for Jan–Dec; None = the "
        "preset's values, else a latitude climatology.",
    )
    variability: float = Field(
        default=0.3, ge=0, le=1,
        description="Spread of daily clearness around the monthly mean (0 = every day at the mean).",
    )
    seed: int = Field(
        default=1, ge=0, le=2**32 - 1,
        description="Random seed of the synthetic weather; same seed, same series."
    )

    @model_validator(mode="after")
    def _preset_or_values(self) -> Clearness:
        if self.preset is None and self.monthly_clearness is None:
            raise ValueError("give a climate 'preset' key or 12 'monthly_clearness' values")
        if self.monthly_clearness is not None and not all(
            0 < k <= 1 for k in self.monthly_clearness
        ):
            raise ValueError("monthly_clearness values must lie in (0, 1]")
        return self


class Weather(Frozen):
    """Irradiance source for all PV arrays."""

    source: Literal["clearsky", "file"] = Field(
        default="clearsky",
        description="clearsky = seeded synthetic weather from the "
        "clearness block; file = a weather file at path.",
    )
    clearness: Clearness | None = Field(
        default=None, description="Stochastic clearness settings, required when source is clearsky."
    )
    path: Path | None = Field(
        default=None, description="Weather file, required when source is file; relative to the scenario file."
    )
    format: Literal["epw", "tmy3", "pvgis", "csv"] = Field(
        default="epw",
        description="Weather file format; pvgis = a PVGIS typical-year file (JSON, CSV or EPW as "
        "downloaded from PVGIS, hours in UTC); csv needs columns time, ghi, dni, dhi, "
        "temp_air[, wind_speed].",
    )

    @model_validator(mode="after")
    def _need(self) -> Weather:
        if self.source == "clearsky" and self.clearness is None:
            raise ValueError("source 'clearsky' needs a 'clearness' block")
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs a 'path' to an EPW/TMY3/PVGIS/CSV file")
        return self


class ProfileFile(Frozen):
    """A CSV time series (columns ``time`` and a value column)."""

    path: Path = Field(
        description="CSV with a time column (local standard time, step "
        "start) and values; relative to the scenario."
    )
    column: str | None = Field(
        default=None, description="Value column to read; needed only when the CSV has several value columns."
    )
    unit: Literal["kw", "kw_per_kwp"] = Field(
        default="kw",
        description="Power profiles: kw = absolute power, kw_per_kwp "
        "= per-kWp values multiplied by capacity_kw.",
    )


class PvArray(Frozen):
    """A PV array: DC capacity, inverter (AC) limit, orientation."""

    name: str = Field(min_length=1, max_length=100, description="Array name, unique among the PV arrays.")
    capacity_kw: float = Field(
        ge=0, le=1e7, description="DC nameplate [kWp]; also scales a kw_per_kwp profile"
    )
    ac_limit_kw: float = Field(
        default=FROM_LIBRARY, gt=0, le=1e7,
        description="Inverter limit [kW] (converter rating if dc_coupled); None = capacity_kw / 1.2.",
    )
    tilt_deg: float = Field(
        default=20.0, ge=0, le=90, description="Module tilt from horizontal (0 = flat, 90 = vertical facade)."
    )
    azimuth_deg: float = Field(
        default=180.0, ge=0, lt=360, description="Module azimuth clockwise from north (180 = due south)."
    )
    losses_pct: float = Field(
        default=14.0, ge=0, lt=100,
        description="DC system losses (soiling, wiring, mismatch, "
        "ageing) applied in the pvlib PVWatts chain.",
    )
    temperature_model: str = Field(
        default="open_rack_glass_polymer",
        description="pvlib SAPM cell-temperature parameter set, e.g. open_rack_glass_polymer.",
    )
    gamma_pdc_per_c: float = Field(
        default=-0.0035, ge=-0.02, le=0,
        description="Module power temperature coefficient (−0.0035 = −0.35 % per °C above 25 °C).",
    )
    inverter_efficiency: float = Field(
        default=0.96, gt=0, le=1,
        description="Nominal inverter DC→AC efficiency; unused for dc_coupled arrays."
    )
    dc_coupled: bool = Field(
        default=False,
        description="Array feeds the park's DC bus (光储直柔) via a DC/DC converter instead of an inverter.",
    )
    converter_efficiency: float = Field(
        default=0.98, gt=0, le=1,
        description="DC/DC converter efficiency for dc_coupled arrays; ignored otherwise"
    )
    profile: ProfileFile | None = Field(
        default=None, description="measured/forecast PV profile CSV, used instead of the pvlib model"
    )
    max_capacity_kw: float | None = Field(
        default=None, ge=0, description="sizing cap [kWp]; None = not sized (unless --all)"
    )
    technology: str = Field(
        default="pv-rooftop",
        description="Technology key in models/technologies.yaml for capex, O&M, lifetime and DC/AC ratio.",
    )

    @model_validator(mode="before")
    @classmethod
    def _library_defaults(cls, data: Any) -> Any:
        return resolve.pv_defaults(data)

    @field_validator("temperature_model")
    @classmethod
    def _sapm_key(cls, key: str) -> str:
        resolve.check_temperature_model(key)
        return key


class Loads(Frozen):
    """The park's inflexible electric load."""

    source: Literal["synthetic", "csv"] = Field(
        default="synthetic",
        description="synthetic = seeded park-type profile with "
        "Chinese holidays; csv = measured series at path.",
    )
    park_type: str = Field(
        default="two_shift",
        description="Synthetic shape: continuous_process, two_shift, logistics, office or data_centre.",
    )
    peak_kw: float | None = Field(
        default=None, gt=0, le=1e7,
        description="Annual peak of the synthetic load; required when source is synthetic.",
    )
    seed: int = Field(
        default=1, ge=0, le=2**32 - 1, description="Random seed of the synthetic load; same seed, same load."
    )
    path: Path | None = Field(
        default=None,
        description="Load CSV in kW, required when source is csv; relative to the scenario file."
    )
    column: str | None = Field(
        default=None,
        description="Value column of the load CSV; needed only when it has several value columns."
    )
    scale: float = Field(
        default=1.0, gt=0, le=1e3,
        description="Multiplier applied to the built load (e.g. 1.1 for 10 % growth)."
    )

    @model_validator(mode="after")
    def _need(self) -> Loads:
        if self.source == "synthetic" and self.peak_kw is None:
            raise ValueError("source 'synthetic' needs 'peak_kw'")
        if self.source == "csv" and self.path is None:
            raise ValueError("source 'csv' needs 'path'")
        return self


class FlexibleLoad(Frozen):
    """A DC-flexible load (data centre, electrolyser, 光储直柔 building) shiftable within windows."""

    name: str = Field(min_length=1, max_length=100, description="Load name, unique among the flexible loads.")
    kind: Literal["data_centre", "electrolyser", "building", "other"] = Field(
        default="other",
        description="Type of flexible load; shown in reports, the model treats all kinds alike."
    )
    min_power_kw: float = Field(
        default=0.0, ge=0, le=1e7,
        description="Minimum power drawn in every step (must be 0 with min_on_power_kw)."
    )
    max_power_kw: float = Field(gt=0, le=1e7, description="Maximum power drawn in any step.")
    ramp_kw_per_h: float | None = Field(
        default=None, gt=0, description="Maximum power change between consecutive steps; None = unlimited"
    )
    energy_per_window_kwh: float = Field(
        ge=0, le=1e9,
        description="Energy consumed in each window, shiftable within it; "
        "a window cut by the horizon gets a pro-rata share.",
    )
    window_h: int = Field(default=24, ge=1, le=8784, description="window length [h], from start")
    min_on_power_kw: float | None = Field(
        default=None, gt=0, description="semi-continuous: off, or at least this power"
    )

    initial_power_kw: float | None = Field(
        default=None, ge=0, le=1e7,
        description="Power drawn in the step before the horizon (nightly schedules, rolling "
        "windows): with a ramp limit the first step stays within one ramp of it; None = free.",
    )

    @model_validator(mode="after")
    def _band(self) -> FlexibleLoad:
        if self.min_power_kw > self.max_power_kw:
            raise ValueError(
                f"min_power_kw {self.min_power_kw} > max_power_kw {self.max_power_kw}"
            )
        if self.min_on_power_kw is not None and self.min_on_power_kw > self.max_power_kw:
            raise ValueError("min_on_power_kw must not exceed max_power_kw")
        if self.min_on_power_kw is not None and self.min_power_kw > 0:
            raise ValueError("min_on_power_kw (semi-continuous) needs min_power_kw = 0")
        return self


class Storage(Frozen):
    """A battery storage unit."""

    name: str = Field(min_length=1, max_length=100, description="Unit name, unique among the storage units.")
    technology: str | None = Field(default=None, description="key in models/technologies.yaml")
    energy_kwh: float = Field(
        ge=0, le=1e8, description="Nameplate energy capacity; the SOC fields are shares of it."
    )
    power_kw: float = Field(ge=0, le=1e8, description="charge and discharge limit (AC)")
    charge_efficiency: float = Field(
        default=FROM_LIBRARY, gt=0, le=1,
        description="Share of AC charging energy stored; None = technology value, else 0.94."
    )
    discharge_efficiency: float = Field(
        default=FROM_LIBRARY, gt=0, le=1,
        description="Share of stored energy delivered on discharge (AC); None = technology value, else 0.94.",
    )
    soc_min: float = Field(
        default=FROM_LIBRARY, ge=0, le=1,
        description="Lowest state of charge as a share of energy_kwh; None = technology value, else 0.05.",
    )
    soc_max: float = Field(
        default=FROM_LIBRARY, ge=0, le=1,
        description="Highest state of charge as a share of energy_kwh; None = technology value, else 0.95.",
    )
    soc_initial: float | Literal["free"] = Field(
        default=0.5,
        description="State of charge at the horizon start as a share of energy_kwh, within "
        "[soc_min, soc_max]; free = chosen by the optimiser (needs end_condition cyclic).",
    )
    end_condition: Literal["cyclic", "at_least_initial", "free"] = Field(
        default="at_least_initial",
        description="Final SOC rule: cyclic = end equals start, at_least_initial = end ≥ start, free = none.",
    )
    self_discharge_per_h: float = Field(
        default=FROM_LIBRARY, ge=0, lt=0.1,
        description="Share of stored energy lost per hour; None = technology value, else 0.",
    )
    throughput_cost_per_kwh: float = Field(
        default=FROM_LIBRARY, ge=0, le=10,
        description="Wear cost per kWh discharged, added to the objective; None = technology value, else 0.",
    )
    max_cycles_per_day: float | None = Field(
        default=None, gt=0, le=24,
        description="Daily discharge cap in full cycles of the SOC window [cycles/day]; None = unlimited.",
    )
    ramp_kw_per_h: float | None = Field(
        default=None, gt=0, le=1e9,
        description="Maximum change of the net power (discharge − charge) between consecutive "
        "steps, per hour of step [kW/h]; None = unlimited (default: battery inverters reach full "
        "power within a second, so a limit is an operating choice, e.g. a grid code or a "
        "transformer to spare).",
    )
    max_energy_kwh: float | None = Field(
        default=None, ge=0, description="sizing cap [kWh]; None = not sized (unless --all)"
    )

    @model_validator(mode="before")
    @classmethod
    def _library_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return resolve.storage_defaults(data, resolve.library_of(info))

    @field_validator("soc_initial", mode="before")
    @classmethod
    def _share_or_free(cls, value: object) -> object:
        if value == "free":
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError("a share of energy_kwh in [0, 1], or 'free'")
        return value

    @model_validator(mode="after")
    def _soc_window(self) -> Storage:
        if self.soc_min > self.soc_max:
            raise ScenarioError("soc_min", self.soc_min, f"at most soc_max ({self.soc_max})")
        if self.free_start and self.end_condition != "cyclic":
            raise ScenarioError(
                "soc_initial", "free",
                f"a share in [soc_min, soc_max], or 'free' with end_condition 'cyclic' "
                f"(end = start); end_condition is {self.end_condition!r}",
            )
        if not self.free_start and not self.soc_min <= float(self.soc_initial) <= self.soc_max:
            raise ScenarioError(
                "soc_initial", self.soc_initial,
                f"within [soc_min, soc_max] = [{self.soc_min}, {self.soc_max}]",
            )
        return self

    @property
    def free_start(self) -> bool:
        """True when the optimiser chooses the initial SOC (``soc_initial: free``)."""
        return self.soc_initial == "free"

    @property
    def start_share(self) -> float:
        """Initial SOC share for code that needs a number: ``soc_initial``, or the middle of the
        SOC window when it is free (a labelled default for heuristics and fresh states)."""
        if self.soc_initial == "free":
            return 0.5 * (self.soc_min + self.soc_max)
        return float(self.soc_initial)


class EvGroup(Frozen):
    """A group of identical charging piles."""

    name: str = Field(
        min_length=1, max_length=100,
        description="Group name, unique among the pile groups; CSV sessions use it."
    )
    technology: str | None = Field(
        default=None, description="pile key, e.g. dc-60kw; fills power_kw and efficiency"
    )
    count: int = Field(ge=0, le=100000, description="Number of identical piles in the group [piles].")
    power_kw: float = Field(
        default=FROM_LIBRARY, gt=0, le=2000,
        description="Rated power of one pile, grid side; None = technology value (required without one).",
    )
    efficiency: float = Field(
        default=FROM_LIBRARY, gt=0, le=1,
        description="Charging efficiency grid → battery; None = technology value, else 0.95."
    )
    v2g: bool = Field(
        default=False, description="Piles can discharge plugged-in cars back to the park (vehicle-to-grid)."
    )
    v2g_efficiency: float = Field(
        default=FROM_LIBRARY, gt=0, le=1,
        description="V2G discharge efficiency car battery → park (AC): the battery gives up delivered "
        "/ v2g_efficiency; None = the group's charging efficiency.",
    )
    v2g_wear_cost_per_kwh: float = Field(
        default=FROM_LIBRARY, ge=0, le=10,
        description="Car-battery wear cost per kWh delivered back by V2G, added to the objective; "
        "None = models/technologies.yaml ev-v2g value.",
    )
    sessions_per_pile_per_day: float = Field(
        default=1.0, ge=0, le=48,
        description="Mean cars per pile on a working day in the "
        "seeded synthetic session generator (Poisson).",
    )
    arrival_mean_h: float = Field(
        default=8.5, ge=0, lt=24,
        description="Mean arrival hour of day of synthetic sessions (normal, clipped to the day).",
    )
    arrival_std_h: float = Field(
        default=1.5, ge=0, le=12, description="Standard deviation of the synthetic arrival hour."
    )
    dwell_mean_h: float = Field(
        default=8.0, gt=0, le=72,
        description="Mean plugged-in time of synthetic sessions (normal, at least 15 min)."
    )
    dwell_std_h: float = Field(
        default=1.5, ge=0, le=24, description="Standard deviation of the synthetic plugged-in time."
    )
    energy_mean_kwh: float = Field(
        default=25.0, ge=0, le=2000,
        description="Mean energy a synthetic session wants, battery "
        "side (normal, ≥ 0.5 kWh, capped by the dwell).",
    )
    energy_std_kwh: float = Field(
        default=8.0, ge=0, le=2000,
        description="Standard deviation of the synthetic session energy, battery side."
    )
    weekend_factor: float = Field(
        default=0.5, ge=0, le=5,
        description="Multiplier of sessions_per_pile_per_day on rest "
        "days: weekends (not 调休) and public holidays.",
    )
    max_count: int | None = Field(
        default=None, ge=0, description="sizing cap on count [piles]; None = not sized (unless --all)"
    )

    @model_validator(mode="before")
    @classmethod
    def _library_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return resolve.ev_group_defaults(data, resolve.library_of(info))


class EvSessions(Frozen):
    """Where the charging sessions come from."""

    source: Literal["synthetic", "csv"] = Field(
        default="synthetic",
        description="synthetic = seeded generator from the group parameters; csv = session table at path.",
    )
    seed: int = Field(
        default=7, ge=0, le=2**32 - 1,
        description="Random seed of the synthetic sessions; same seed, same sessions."
    )
    path: Path | None = Field(
        default=None,
        description="Session CSV: group, pile, arrival, departure, "
        "energy_kwh, max_power_kw; required for csv.",
    )

    @model_validator(mode="after")
    def _need(self) -> EvSessions:
        if self.source == "csv" and self.path is None:
            raise ValueError("source 'csv' needs 'path'")
        return self


class Ev(Frozen):
    """EV charging: pile groups, sessions and the unmet-energy penalty."""

    groups: list[EvGroup] = Field(default_factory=list, description="Charging pile groups of the park.")
    sessions: EvSessions = Field(
        default_factory=EvSessions, description="Source of the charging sessions of all groups."
    )
    unmet_penalty_per_kwh: float = Field(
        default=50.0, ge=0, le=1e4,
        description="per kWh not delivered by departure; keep above the demand charge per kW·month "
        "so EV energy is never traded for a lower monthly peak",
    )
    infeasible_sessions: Literal["report", "error"] = Field(
        default="report",
        description="Sessions asking more than pile and car can deliver during the stay: report = "
        "count the excess as unmet (per group in kpis.json, with a warning); error = refuse.",
    )
