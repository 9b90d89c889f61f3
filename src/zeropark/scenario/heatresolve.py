"""Fill the heat units' defaults from their ``models/heat.yaml`` entries and check them.

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


def resolve_heat(sc: Scenario, lib: Library) -> None:
    """Fill and check ``sc.heat`` in place."""
    heat = sc.heat
    assert heat is not None
    for i, u in enumerate(heat.supply):
        field = f"heat.supply.{i}.technology"
        key = u.technology or DEFAULT_SUPPLY_KEY[(u.kind, u.source if u.kind == "heat_pump"
                                                   else "air")]
        entry = _entry(lib, key, u.kind, field)
        for name in _SUPPLY_FIELDS:
            if getattr(u, name) is None and name in entry:
                setattr(u, name, float(entry[name]))
        for name in _NEEDS[u.kind]:
            if getattr(u, name) is None:
                raise ScenarioError(f"heat.supply.{i}.{name}", None,
                                    f"a number, or a technology entry giving it ({key} does not)")
        if u.max_capacity_kw is not None and u.max_capacity_kw < u.capacity_kw:
            raise ScenarioError(f"heat.supply.{i}.max_capacity_kw", u.max_capacity_kw,
                                f"at least capacity_kw ({u.capacity_kw:g})")
    for i, s in enumerate(heat.storage):
        key = s.technology or DEFAULT_STORE_KEY[s.kind]
        entry = _entry(lib, key, s.kind, f"heat.storage.{i}.technology")
        for name in _STORE_FIELDS:
            if getattr(s, name) is None and name in entry:
                setattr(s, name, float(entry[name]))
        for name in ("charge_efficiency", "discharge_efficiency", "loss_per_h"):
            if getattr(s, name) is None:
                raise ScenarioError(f"heat.storage.{i}.{name}", None,
                                    f"a number, or a technology entry giving it ({key} does not)")
        if s.max_energy_kwh is not None and s.max_energy_kwh < s.energy_kwh:
            raise ScenarioError(f"heat.storage.{i}.max_energy_kwh", s.max_energy_kwh,
                                f"at least energy_kwh ({s.energy_kwh:g})")
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
