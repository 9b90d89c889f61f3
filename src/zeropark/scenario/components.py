"""Schema of the park's physical components: site, time, PV, weather, loads, storage, EV, flexible loads.

Every field carries its unit in its name. Defaults are the technology defaults of ``models/`` where a
``technology`` key is given; plain defaults here are conservative, documented values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base model: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False)


class Site(Strict):
    """Where the park is."""

    name: str = Field(min_length=1, max_length=200)
    latitude: float = Field(ge=-90, le=90, description="[deg north]")
    longitude: float = Field(ge=-180, le=180, description="[deg east]")
    altitude_m: float = Field(default=0.0, ge=-500, le=9000)
    timezone: str = Field(default="Asia/Shanghai", description="IANA name; its standard offset is used")


class TimeSpec(Strict):
    """The horizon: start, then either ``end`` (exclusive) or ``steps``; step length."""

    start: str = Field(description="ISO date or datetime, local standard time")
    end: str | None = Field(default=None, description="exclusive end, ISO; or give steps")
    steps: int | None = Field(default=None, ge=1, le=8784 * 4 * 2)
    step: Literal["1h", "60min", "30min", "15min"] = "1h"

    @model_validator(mode="after")
    def _end_or_steps(self) -> TimeSpec:
        if (self.end is None) == (self.steps is None):
            raise ValueError("give exactly one of 'end' or 'steps'")
        return self


class Clearness(Strict):
    """Seeded stochastic clearness model applied to pvlib clear-sky irradiance."""

    preset: str | None = Field(default=None, description="key in models/climate.yaml")
    monthly_clearness: list[float] | None = Field(default=None, min_length=12, max_length=12)
    monthly_temp_air_c: list[float] | None = Field(default=None, min_length=12, max_length=12)
    variability: float = Field(default=0.3, ge=0, le=1)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _preset_or_values(self) -> Clearness:
        if self.preset is None and self.monthly_clearness is None:
            raise ValueError("give a climate 'preset' key or 12 'monthly_clearness' values")
        if self.monthly_clearness is not None and not all(
            0 < k <= 1 for k in self.monthly_clearness
        ):
            raise ValueError("monthly_clearness values must lie in (0, 1]")
        return self


class Weather(Strict):
    """Irradiance source for all PV arrays."""

    source: Literal["clearsky", "file"] = "clearsky"
    clearness: Clearness | None = None
    path: Path | None = None
    format: Literal["epw", "tmy3", "csv"] = "epw"

    @model_validator(mode="after")
    def _need(self) -> Weather:
        if self.source == "clearsky" and self.clearness is None:
            raise ValueError("source 'clearsky' needs a 'clearness' block")
        if self.source == "file" and self.path is None:
            raise ValueError("source 'file' needs a 'path' to an EPW/TMY3/CSV file")
        return self


class ProfileFile(Strict):
    """A CSV time series (columns ``time`` and a value column)."""

    path: Path
    column: str | None = None
    unit: Literal["kw", "kw_per_kwp"] = "kw"


class PvArray(Strict):
    """A PV array: DC capacity, inverter (AC) limit, orientation."""

    name: str = Field(min_length=1, max_length=100)
    capacity_kw: float = Field(ge=0, le=1e7, description="DC nameplate [kWp]")
    ac_limit_kw: float | None = Field(default=None, gt=0, le=1e7, description="inverter limit [kW]")
    tilt_deg: float = Field(default=20.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360)
    losses_pct: float = Field(default=14.0, ge=0, lt=100)
    temperature_model: str = "open_rack_glass_polymer"
    gamma_pdc_per_c: float = Field(default=-0.0035, ge=-0.02, le=0)
    inverter_efficiency: float = Field(default=0.96, gt=0, le=1)
    dc_coupled: bool = False
    converter_efficiency: float = Field(default=0.98, gt=0, le=1, description="DC/DC for dc_coupled")
    profile: ProfileFile | None = Field(default=None, description="measured/forecast PV profile CSV")
    max_capacity_kw: float | None = Field(default=None, ge=0, description="sizing cap [kWp]")
    technology: str = "pv-rooftop"


class Loads(Strict):
    """The park's inflexible electric load."""

    source: Literal["synthetic", "csv"] = "synthetic"
    park_type: str = "two_shift"
    peak_kw: float | None = Field(default=None, gt=0, le=1e7)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    path: Path | None = None
    column: str | None = None
    scale: float = Field(default=1.0, gt=0, le=1e3)

    @model_validator(mode="after")
    def _need(self) -> Loads:
        if self.source == "synthetic" and self.peak_kw is None:
            raise ValueError("source 'synthetic' needs 'peak_kw'")
        if self.source == "csv" and self.path is None:
            raise ValueError("source 'csv' needs 'path'")
        return self


class FlexibleLoad(Strict):
    """A DC-flexible load (data centre, electrolyser, 光储直柔 building) shiftable within windows."""

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["data_centre", "electrolyser", "building", "other"] = "other"
    min_power_kw: float = Field(default=0.0, ge=0, le=1e7)
    max_power_kw: float = Field(gt=0, le=1e7)
    ramp_kw_per_h: float | None = Field(default=None, gt=0, description="None = unlimited")
    energy_per_window_kwh: float = Field(ge=0, le=1e9)
    window_h: int = Field(default=24, ge=1, le=8784, description="window length [h], from start")
    min_on_power_kw: float | None = Field(
        default=None, gt=0, description="semi-continuous: off, or at least this power"
    )
    dc_efficiency_gain: float = Field(default=0.0, ge=0, lt=0.2, description="unused; reserved")

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


class Storage(Strict):
    """A battery storage unit."""

    name: str = Field(min_length=1, max_length=100)
    technology: str | None = Field(default=None, description="key in models/technologies.yaml")
    energy_kwh: float = Field(ge=0, le=1e8)
    power_kw: float = Field(ge=0, le=1e8, description="charge and discharge limit (AC)")
    charge_efficiency: float | None = Field(default=None, gt=0, le=1)
    discharge_efficiency: float | None = Field(default=None, gt=0, le=1)
    soc_min: float | None = Field(default=None, ge=0, le=1)
    soc_max: float | None = Field(default=None, ge=0, le=1)
    soc_initial: float = Field(default=0.5, ge=0, le=1)
    end_condition: Literal["cyclic", "at_least_initial", "free"] = "at_least_initial"
    self_discharge_per_h: float | None = Field(default=None, ge=0, lt=0.1)
    throughput_cost_per_kwh: float | None = Field(default=None, ge=0, le=10)
    max_cycles_per_day: float | None = Field(default=None, gt=0, le=24)
    max_energy_kwh: float | None = Field(default=None, ge=0, description="sizing cap [kWh]")


class EvGroup(Strict):
    """A group of identical charging piles."""

    name: str = Field(min_length=1, max_length=100)
    technology: str | None = Field(default=None, description="pile key, e.g. dc-60kw")
    count: int = Field(ge=0, le=100000)
    power_kw: float | None = Field(default=None, gt=0, le=2000)
    efficiency: float | None = Field(default=None, gt=0, le=1)
    v2g: bool = False
    sessions_per_pile_per_day: float = Field(default=1.0, ge=0, le=48)
    arrival_mean_h: float = Field(default=8.5, ge=0, lt=24)
    arrival_std_h: float = Field(default=1.5, ge=0, le=12)
    dwell_mean_h: float = Field(default=8.0, gt=0, le=72)
    dwell_std_h: float = Field(default=1.5, ge=0, le=24)
    energy_mean_kwh: float = Field(default=25.0, ge=0, le=2000)
    energy_std_kwh: float = Field(default=8.0, ge=0, le=2000)
    weekend_factor: float = Field(default=0.5, ge=0, le=5)
    max_count: int | None = Field(default=None, ge=0, description="sizing cap")


class EvSessions(Strict):
    """Where the charging sessions come from."""

    source: Literal["synthetic", "csv"] = "synthetic"
    seed: int = Field(default=7, ge=0, le=2**32 - 1)
    path: Path | None = None

    @model_validator(mode="after")
    def _need(self) -> EvSessions:
        if self.source == "csv" and self.path is None:
            raise ValueError("source 'csv' needs 'path'")
        return self


class Ev(Strict):
    """EV charging: pile groups, sessions and the unmet-energy penalty."""

    groups: list[EvGroup] = Field(default_factory=list)
    sessions: EvSessions = Field(default_factory=EvSessions)
    unmet_penalty_per_kwh: float = Field(
        default=50.0, ge=0, le=1e4,
        description="per kWh not delivered by departure; keep above the demand charge per kW·month "
        "so EV energy is never traded for a lower monthly peak",
    )
