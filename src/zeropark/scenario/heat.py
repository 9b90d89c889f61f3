"""Schema of the park's heat system: demand per temperature level, supply units, thermal storage.

Three temperature levels (sink temperatures are scenario options, defaults in brackets):
``hot_water`` (< 100 °C, default supply 80 °C), ``lp_steam`` (low-pressure steam, default
150 °C ≈ 0.4 MPa saturated) and ``mp_steam`` (medium-pressure steam, default 200 °C ≈ 1.5 MPa
saturated). Each supply unit and each store serves only the levels its kind can physically
serve; a request beyond that is refused with one ``ScenarioError``. All powers are thermal [kW]
unless the name says otherwise; the model equations are in :mod:`zeropark.model.heat`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from zeropark.errors import ScenarioError
from zeropark.scenario import resolve
from zeropark.scenario.components import Frozen
from zeropark.scenario.heatresolve import store_defaults, supply_defaults

Level = Literal["hot_water", "lp_steam", "mp_steam"]
#: The temperature levels, in model order.
LEVELS: tuple[str, ...] = ("hot_water", "lp_steam", "mp_steam")

SupplyKind = Literal["gas_boiler", "coal_boiler", "electric_boiler", "heat_pump", "waste_heat",
                     "chp"]
#: Levels each supply kind can serve. Industrial heat pumps deliver up to about 150 °C at
#: reasonable COP (high-temperature units are still demonstrations above that), so they are
#: refused for medium-pressure steam; waste-heat recovery is further limited by the stream's
#: temperature (checked against the level's sink temperature).
SUPPLY_LEVELS: dict[str, tuple[str, ...]] = {
    "gas_boiler": LEVELS, "coal_boiler": LEVELS, "electric_boiler": LEVELS,
    "heat_pump": ("hot_water", "lp_steam"), "waste_heat": LEVELS, "chp": LEVELS,
}
StoreKind = Literal["hot_water_tank", "steam_accumulator", "solid_media"]
#: Levels each store kind can serve: a pressurised-water tank holds hot water only, a steam
#: accumulator (Ruths) delivers saturated steam, molten-salt / solid-media stores any level.
STORE_LEVELS: dict[str, tuple[str, ...]] = {
    "hot_water_tank": ("hot_water",), "steam_accumulator": ("lp_steam", "mp_steam"),
    "solid_media": LEVELS,
}


class HeatDemand(Frozen):
    """Heat demand per level: synthetic by park type, or read from a CSV file."""

    source: Literal["synthetic", "csv"] = Field(
        default="synthetic", description="synthetic = the park type's shift and holiday calendar "
        "(the same as the electric load's) scaled to annual_mwh; csv = a file with one column per "
        "level [kW thermal].")
    park_type: str | None = Field(
        default=None, description="Shape of the synthetic demand; default: loads.park_type.")
    annual_mwh: dict[Level, float] = Field(
        default_factory=dict, description="Heat delivered per calendar year and level [MWh "
        "thermal] (synthetic source); levels not listed have no demand.")
    base_share: float = Field(
        default=0.3, ge=0, le=1, description="Share of each level's mean demand that runs round "
        "the clock (standby, losses, continuous processes); the rest follows the shift pattern. "
        "Assumption: 0.3.")
    path: Path | None = Field(default=None, description="CSV file (csv source), inside the "
                              "scenario folder: a time column and one column per level [kW].")
    columns: dict[Level, str] = Field(
        default_factory=dict, description="CSV column per level (csv source); levels not listed "
        "have no demand.")

    @model_validator(mode="after")
    def _check(self) -> HeatDemand:
        for level, mwh in self.annual_mwh.items():
            if not 0 <= mwh <= 1e9:
                raise ValueError(f"annual_mwh.{level}: a number in [0, 1e9] MWh, got {mwh}")
        if self.source == "csv" and (self.path is None or not self.columns):
            raise ValueError("source csv needs 'path' and 'columns' (level -> column)")
        if self.source == "synthetic" and (self.path is not None or self.columns):
            raise ValueError("'path' and 'columns' belong to source csv")
        return self


class WasteHeat(Frozen):
    """A waste-heat stream the park can recover (flue gas, cooling water, compressor heat)."""

    power_kw: float = Field(ge=0, le=1e7, description="Heat the stream carries, available every "
                            "step [kW thermal].")
    temperature_c: float = Field(ge=0, le=1000, description="Temperature of the stream [°C]: the "
                                 "source temperature of a waste-heat heat pump, and the limit "
                                 "of direct recovery.")


class HeatSupply(Frozen):
    """One heat supply unit; numbers not given come from its library ``technology`` entry."""

    name: str = Field(min_length=1, max_length=100, description="Unit name, unique among the "
                      "heat supply units.")
    kind: SupplyKind = Field(description="gas_boiler, coal_boiler, electric_boiler, heat_pump, "
                             "waste_heat (direct recovery through a heat exchanger) or chp "
                             "(gas combined heat and power).")
    technology: str | None = Field(default=None, description="Key in models/heat.yaml giving "
                                   "efficiency, COP model, capex and sources.")
    levels: list[Level] = Field(min_length=1, description="Temperature levels the unit serves "
                                "(each must be possible for its kind).")
    capacity_kw: float = Field(ge=0, le=1e7, description="Rated heat output [kW thermal], shared "
                               "by its levels.")
    max_capacity_kw: float | None = Field(default=None, ge=0, le=1e8, description="Upper "
                                          "bound of capacity_kw when sizing [kW thermal].")
    efficiency: float | None = Field(default=None, gt=0, le=1.2, description="Heat out per "
                                     "energy in: fuel (LHV) for boilers and CHP, electricity for "
                                     "electric boilers, waste heat for recovery [-].")
    electric_efficiency: float | None = Field(default=None, ge=0, le=1, description="CHP only: "
                                              "electricity out per fuel in (LHV) [-].")
    source: Literal["air", "waste_heat"] = Field(
        default="air", description="Heat pump only: heat source; air follows the hourly ambient "
        "temperature of the weather profile, waste_heat uses heat.waste_heat.")
    carnot_efficiency: float | None = Field(default=None, gt=0, le=1, description="Heat pump: "
                                            "COP as a share of the Carnot COP [-].")
    approach_k: float | None = Field(default=None, ge=0, le=50, description="Heat pump: "
                                     "temperature difference at each heat exchanger [K].")
    cop_max: float | None = Field(default=None, ge=1, le=20, description="Heat pump: cap on the "
                                  "COP at small lifts [-].")
    capex_per_kw: float | None = Field(default=None, ge=0, le=1e6, description="Investment per "
                                       "kW thermal, for sizing [currency/kW].")
    lifetime_years: float | None = Field(default=None, gt=0, le=100, description="Economic "
                                         "lifetime, for sizing [yr].")

    @model_validator(mode="before")
    @classmethod
    def _library_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return supply_defaults(data, resolve.library_of(info))

    @model_validator(mode="after")
    def _levels_possible(self) -> HeatSupply:
        allowed = SUPPLY_LEVELS[self.kind]
        for level in self.levels:
            if level not in allowed:
                why = (" (industrial heat pumps deliver up to about 150 °C; medium-pressure steam "
                       "needs a boiler, CHP, or a heat pump on low-pressure steam followed by "
                       "mechanical vapour recompression, not modelled)"
                       if self.kind == "heat_pump" else "")
                raise ValueError(f"levels: a {self.kind} cannot serve {level}; allowed "
                                 f"{list(allowed)}{why}")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels: repeated level in {self.levels}")
        if self.electric_efficiency is not None and self.kind != "chp":
            raise ValueError("electric_efficiency: only for kind chp")
        if self.max_capacity_kw is not None and self.max_capacity_kw < self.capacity_kw:
            raise ScenarioError("max_capacity_kw", self.max_capacity_kw,
                                f"at least capacity_kw ({self.capacity_kw:g})")
        return self


class HeatStore(Frozen):
    """One thermal store on one level; numbers not given come from its library entry."""

    name: str = Field(min_length=1, max_length=100, description="Store name, unique among the "
                      "heat stores.")
    kind: StoreKind = Field(description="hot_water_tank, steam_accumulator or solid_media "
                            "(molten salt, concrete, bricks).")
    technology: str | None = Field(default=None, description="Key in models/heat.yaml.")
    level: Level = Field(description="The temperature level it charges from and discharges to.")
    energy_kwh: float = Field(ge=0, le=1e9, description="Usable heat content [kWh thermal].")
    power_kw: float = Field(ge=0, le=1e8, description="Charge and discharge limit [kW thermal].")
    max_energy_kwh: float | None = Field(default=None, ge=0, le=1e10, description="Upper bound "
                                         "of energy_kwh when sizing [kWh thermal].")
    charge_efficiency: float | None = Field(default=None, gt=0, le=1, description="Heat stored "
                                            "per heat charged [-].")
    discharge_efficiency: float | None = Field(default=None, gt=0, le=1, description="Heat "
                                               "delivered per heat drawn from the store [-].")
    loss_per_h: float | None = Field(default=None, ge=0, le=0.5, description="Share of the heat "
                                     "content lost per hour (standing losses) [1/h].")
    soc_initial: float = Field(default=0.5, ge=0, le=1, description="Initial heat content as a "
                               "share of energy_kwh; the horizon must end with at least as "
                               "much [-].")
    capex_per_kwh: float | None = Field(default=None, ge=0, le=1e6, description="Investment per "
                                        "kWh thermal, for sizing [currency/kWh].")
    lifetime_years: float | None = Field(default=None, gt=0, le=100, description="Economic "
                                         "lifetime, for sizing [yr].")

    @model_validator(mode="before")
    @classmethod
    def _library_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return store_defaults(data, resolve.library_of(info))

    @model_validator(mode="after")
    def _level_possible(self) -> HeatStore:
        if self.level not in STORE_LEVELS[self.kind]:
            raise ValueError(f"level: a {self.kind} cannot serve {self.level}; allowed "
                             f"{list(STORE_LEVELS[self.kind])}")
        if self.max_energy_kwh is not None and self.max_energy_kwh < self.energy_kwh:
            raise ScenarioError("max_energy_kwh", self.max_energy_kwh,
                                f"at least energy_kwh ({self.energy_kwh:g})")
        return self


class HeatLevels(Frozen):
    """Supply temperature of each level (the heat pump's sink; the limit of waste-heat use)."""

    hot_water: float = Field(default=80.0, ge=20, lt=100, description="Hot-water supply "
                             "temperature [°C] (assumption: 80 °C).")
    lp_steam: float = Field(default=150.0, ge=100, le=180, description="Low-pressure steam "
                            "temperature [°C] (assumption: 150 °C ≈ 0.4 MPa saturated).")
    mp_steam: float = Field(default=200.0, gt=180, le=300, description="Medium-pressure steam "
                            "temperature [°C] (assumption: 200 °C ≈ 1.5 MPa saturated).")


class HeatPrices(Frozen):
    """Fuel prices of the heat units (electricity is priced by the grid tariff)."""

    natural_gas_per_m3: float = Field(default=3.5, ge=0, le=100, description="Natural gas price "
                                      "[currency/m³] (assumption: 3.5 CNY/m³, industrial gas "
                                      "in eastern China, order of magnitude).")
    coal_per_t: float = Field(default=900.0, ge=0, le=1e5, description="Coal price "
                              "[currency/t] (assumption: 900 CNY/t delivered thermal coal).")


class Heat(Frozen):
    """The park's heat system: demand per level, supply units, thermal stores, fuel prices."""

    demand: HeatDemand = Field(default_factory=HeatDemand, description="Heat demand per "
                               "temperature level [kW thermal].")
    supply: list[HeatSupply] = Field(default_factory=list, description="Heat supply units.")
    storage: list[HeatStore] = Field(default_factory=list, description="Thermal stores.")
    levels: HeatLevels = Field(default_factory=HeatLevels, description="Supply temperature "
                               "of each level [°C].")
    waste_heat: WasteHeat | None = Field(default=None, description="A recoverable waste-heat "
                                         "stream (for waste_heat units and waste-heat-source "
                                         "heat pumps).")
    prices: HeatPrices = Field(default_factory=HeatPrices, description="Fuel prices.")
    unserved_penalty_per_kwh: float = Field(
        default=5.0, ge=0, le=1e6, description="Cost of heat demand not served [currency/kWh "
        "thermal]; high, so heat is left unserved only when no unit can deliver it.")

    @model_validator(mode="after")
    def _cross_checks(self) -> Heat:
        for label, items in (("supply", self.supply), ("storage", self.storage)):
            names = [u.name for u in items]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"{label}: names must be unique, repeated: {sorted(dup)}")
        for i, u in enumerate(self.supply):
            waste = u.kind == "waste_heat" or (u.kind == "heat_pump" and u.source == "waste_heat")
            if waste and self.waste_heat is None:
                raise ValueError(f"supply.{i}: a {u.kind} on waste heat needs heat.waste_heat "
                                 "(power_kw, temperature_c)")
            if u.kind == "waste_heat" and self.waste_heat is not None:
                for level in u.levels:
                    sink = getattr(self.levels, level)
                    if self.waste_heat.temperature_c <= sink:
                        raise ValueError(
                            f"supply.{i}.levels: waste heat at {self.waste_heat.temperature_c:g} "
                            f"°C cannot deliver {level} at {sink:g} °C (use a heat pump)")
        return self
