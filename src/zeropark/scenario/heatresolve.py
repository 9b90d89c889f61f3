"""Fill the heat units' defaults from their ``models/heat.yaml`` entries while the scenario is
validated (the ``mode="before"`` validators of :mod:`zeropark.scenario.heat`), and check what
needs the whole scenario.

A unit without ``technology`` takes its kind's default entry (``gas_boiler`` → ``gas-boiler``,
an air-source heat pump → ``heat-pump-air``, ...). A value given in the scenario always wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zeropark.errors import ScenarioError
from zeropark.library import Library

if TYPE_CHECKING:
    from zeropark.scenario import Scenario

#: Library entry used when a unit names no technology.
DEFAULT_SUPPLY_KEY: dict[tuple[str, str], str] = {
    ("gas_boiler", "air"): "gas-boiler", ("coal_boiler", "air"): "coal-boiler",
    ("electric_boiler", "air"): "electric-boiler", ("heat_pump", "air"): "heat-pump-air",
    ("heat_pump", "waste_heat"): "heat-pump-waste-heat",
    ("waste_heat", "air"): "waste-heat-exchanger", ("chp", "air"): "gas-chp",
}
DEFAULT_STORE_KEY = {"hot_water_tank": "hot-water-tank", "steam_accumulator": "steam-accumulator",
                     "solid_media": "solid-media-store"}
_SUPPLY_FIELDS = ["efficiency", "electric_efficiency", "carnot_efficiency", "approach_k",
                  "cop_max", "capex_per_kw", "lifetime_years"]
_STORE_FIELDS = ["charge_efficiency", "discharge_efficiency", "loss_per_h", "capex_per_kwh",
                 "lifetime_years"]
#: Fields each supply kind needs once resolved.
_NEEDS = {"gas_boiler": ["efficiency"], "coal_boiler": ["efficiency"],
          "electric_boiler": ["efficiency"], "waste_heat": ["efficiency"],
          "chp": ["efficiency", "electric_efficiency"],
          "heat_pump": ["carnot_efficiency", "approach_k", "cop_max"]}


def _entry(lib: Library, key: str, kind: str, field: str) -> dict[str, Any]:
    entry = lib.get("heat", key, field)
    if entry.get("kind") != kind:
        raise ScenarioError(field, key, f"a models/heat.yaml entry of kind {kind} "
                            f"(this one is {entry.get('kind')})")
    return entry


def supply_defaults(data: Any, lib: Library) -> Any:
    """Heat-unit data with its numbers filled from its ``models/heat.yaml`` entry (the
    ``mode="before"`` validator of :class:`zeropark.scenario.heat.HeatSupply`; a value given in
    the scenario wins).

    Raises
    ------
    ScenarioError
        Field ``technology`` (relative to the unit) for an unknown key or an entry of another
        kind; a field the unit's kind needs that neither the scenario nor the entry gives.
    """
    if not isinstance(data, dict) or data.get("kind") not in _NEEDS:
        return data  # the schema reports it
    kind = data["kind"]
    source = data.get("source", "air") if kind == "heat_pump" else "air"
    key = data.get("technology") or DEFAULT_SUPPLY_KEY.get((kind, source))
    if not isinstance(key, str):
        return data  # an invalid source: the schema reports it
    entry = _entry(lib, key, kind, "technology")
    data = {**data, **{name: float(entry[name]) for name in _SUPPLY_FIELDS
                       if data.get(name) is None and name in entry}}
    for name in _NEEDS[kind]:
        if data.get(name) is None:
            raise ScenarioError(name, None,
                                f"a number, or a technology entry giving it ({key} does not)")
    return data


def store_defaults(data: Any, lib: Library) -> Any:
    """Thermal-store data with efficiencies, losses, capex and lifetime filled from its
    ``models/heat.yaml`` entry (the ``mode="before"`` validator of
    :class:`zeropark.scenario.heat.HeatStore`).

    Raises
    ------
    ScenarioError
        As :func:`supply_defaults`.
    """
    if not isinstance(data, dict) or data.get("kind") not in DEFAULT_STORE_KEY:
        return data
    key = data.get("technology") or DEFAULT_STORE_KEY[data["kind"]]
    entry = _entry(lib, key, data["kind"], "technology")
    data = {**data, **{name: float(entry[name]) for name in _STORE_FIELDS
                       if data.get(name) is None and name in entry}}
    for name in ("charge_efficiency", "discharge_efficiency", "loss_per_h"):
        if data.get(name) is None:
            raise ScenarioError(name, None,
                                f"a number, or a technology entry giving it ({key} does not)")
    return data


def check_heat(sc: Scenario) -> None:
    """Checks of the heat section that need the rest of the scenario (the park type of the
    electric load, the weather block)."""
    heat = sc.heat
    if heat is None:
        return
    dem = heat.demand
    if dem.source == "synthetic":
        from zeropark.profiles.load import PARK_TYPES

        park = dem.park_type or sc.loads.park_type
        if park not in PARK_TYPES:
            raise ScenarioError("heat.demand.park_type", park, f"one of {list(PARK_TYPES)}")
    served = {lv for u in heat.supply for lv in u.levels}
    for level in _demand_levels(heat):
        if level not in served:
            raise ScenarioError("heat.supply", [u.name for u in heat.supply],
                                f"at least one unit serving {level}, which has demand")
    air_hp = [u.name for u in heat.supply if u.kind == "heat_pump" and u.source == "air"]
    if air_hp and sc.weather is None:
        raise ScenarioError("weather", None, f"a weather block: the air-source heat pump "
                            f"{air_hp[0]!r} follows the hourly ambient temperature")


def _demand_levels(heat: Any) -> list[str]:
    d = heat.demand
    if d.source == "csv":
        return list(d.columns)
    return [lv for lv, mwh in d.annual_mwh.items() if mwh > 0]
