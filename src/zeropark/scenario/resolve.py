"""Resolve library keys in a validated scenario: check every key exists and fill technology defaults.

Kept apart from the schema so the schema stays a plain description of the YAML file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zeropark import guard
from zeropark.errors import ScenarioError
from zeropark.library import Library

if TYPE_CHECKING:
    from zeropark.scenario import Scenario

# Used when a storage unit names no technology: 0.94 each way (≈ 0.88 round trip, as
# models/technologies.yaml lfp-2h), 5–95 % SOC window.
_STORAGE_FALLBACK: dict[str, float] = {
    "charge_efficiency": 0.94,
    "discharge_efficiency": 0.94,
    "soc_min": 0.05,
    "soc_max": 0.95,
    "self_discharge_per_h": 0.0,
    "throughput_cost_per_kwh": 0.0,
}


def library_for(sc: Scenario) -> Library:
    """The library with the scenario's own override folders applied.

    Every folder and every file in it is resolved with symbolic links followed and must lie
    inside the scenario's folder (or a folder allowed with ``--allow-outside``).
    """
    dirs = []
    for i, d in enumerate(sc.library):
        full = guard.inside_folder(d, sc.base_dir, f"library.{i}")
        if not full.is_dir():
            raise ScenarioError(f"library.{i}", str(d), "an existing folder of YAML files")
        dirs.append(full)
    return Library.load(dirs, confine_to=sc.base_dir)


def _fill(obj: Any, defaults: dict[str, Any], names: list[str]) -> None:
    for name in names:
        if getattr(obj, name) is None and name in defaults:
            setattr(obj, name, defaults[name])


def resolve_with_library(sc: Scenario) -> Scenario:
    """Check library keys and fill technology defaults in place; returns ``sc``."""
    lib = library_for(sc)
    if sc.grid.tariff is not None:
        lib.get("tariffs", sc.grid.tariff, "grid.tariff")
    if sc.grid.emission_factor is not None:
        lib.get("emission_factors", sc.grid.emission_factor, "grid.emission_factor")
    if sc.weather is not None and sc.weather.clearness is not None:
        if sc.weather.clearness.preset is not None:
            lib.get("climate", sc.weather.clearness.preset, "weather.clearness.preset")
    for i, unit in enumerate(sc.storage):
        defaults = dict(_STORAGE_FALLBACK)
        if unit.technology is not None:
            defaults.update(lib.get("technologies", unit.technology, f"storage.{i}.technology"))
        _fill(unit, defaults, list(_STORAGE_FALLBACK))
        if unit.soc_min > unit.soc_max:
            raise ScenarioError(
                f"storage.{i}.soc_min", unit.soc_min, f"at most soc_max ({unit.soc_max})"
            )
        if unit.free_start and unit.end_condition != "cyclic":
            raise ScenarioError(
                f"storage.{i}.soc_initial", "free",
                f"a share in [soc_min, soc_max], or 'free' with end_condition 'cyclic' "
                f"(end = start); end_condition is {unit.end_condition!r}",
            )
        if not unit.free_start and not unit.soc_min <= unit.soc_initial <= unit.soc_max:
            raise ScenarioError(
                f"storage.{i}.soc_initial", unit.soc_initial,
                f"within [soc_min, soc_max] = [{unit.soc_min}, {unit.soc_max}]",
            )
    for i, group in enumerate(sc.ev.groups):
        if group.technology is not None:
            tech = lib.get("technologies", group.technology, f"ev.groups.{i}.technology")
            _fill(group, tech, ["power_kw", "efficiency"])
        if group.power_kw is None:
            raise ScenarioError(
                f"ev.groups.{i}.power_kw", None, "a pile power > 0 kW, or a pile 'technology' key"
            )
        if group.efficiency is None:
            group.efficiency = 0.95
        if group.v2g_efficiency is None:
            group.v2g_efficiency = group.efficiency
        if group.v2g_wear_cost_per_kwh is None:
            v2g = lib.get("technologies", "ev-v2g", f"ev.groups.{i}.v2g_wear_cost_per_kwh")
            group.v2g_wear_cost_per_kwh = float(v2g["v2g_wear_cost_per_kwh"])
    for i, array in enumerate(sc.pv):
        if array.ac_limit_kw is None:
            array.ac_limit_kw = max(array.capacity_kw / 1.2, 1e-6)
        _check_temperature_model(array.temperature_model, f"pv.{i}.temperature_model")
    if sc.heat is not None:  # heat units' technology defaults (models/heat.yaml)
        from zeropark.scenario.heatresolve import resolve_heat

        resolve_heat(sc, lib)
    return sc


def _check_temperature_model(key: str, field: str) -> None:
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    allowed = sorted(TEMPERATURE_MODEL_PARAMETERS["sapm"])
    if key not in allowed:
        raise ScenarioError(field, key, f"one of {allowed}")
