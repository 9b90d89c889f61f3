"""Library defaults of a scenario, filled while it is validated.

A scenario is resolved in one pass: :func:`zeropark.scenario.scenario_from_dict` loads the library
(bundled entries, then the scenario's own override folders) and validates the YAML data with it as
pydantic context (:func:`library_context`). The ``mode="before"`` validators of the components
call the functions here to fill every value left empty (``None`` or absent) from the library, so
the validated, frozen :class:`~zeropark.scenario.Scenario` carries a number in every such field
(typed ``float``, never ``float | None``) and nothing is set after validation.
``Scenario.replace`` re-validates the original data, so a changed ``technology`` key brings its
own defaults.

Kept apart from the schema so the schema stays a plain description of the YAML file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError, ValidationInfo

from zeropark import guard
from zeropark.errors import ScenarioError
from zeropark.library import Library

if TYPE_CHECKING:
    from zeropark.scenario import Scenario

#: Used when a storage unit names no technology: 0.94 each way (≈ 0.88 round trip, as
#: models/technologies.yaml lfp-2h), 5–95 % SOC window (labelled defaults).
STORAGE_FALLBACK: dict[str, float] = {
    "charge_efficiency": 0.94,
    "discharge_efficiency": 0.94,
    "soc_min": 0.05,
    "soc_max": 0.95,
    "self_discharge_per_h": 0.0,
    "throughput_cost_per_kwh": 0.0,
}
#: Charging efficiency of a pile group that names neither an efficiency nor a technology
#: (labelled default, as models/technologies.yaml dc-60kw).
EV_EFFICIENCY_FALLBACK = 0.95
#: DC/AC ratio giving the inverter limit of a PV array without ``ac_limit_kw`` (labelled default).
PV_DC_AC_RATIO = 1.2

_CONTEXT_KEY = "library"
_PATHS = TypeAdapter(list[Path])


def load_library(folders: Any, base_dir: Path) -> Library:
    """The library with override ``folders`` (the scenario's raw ``library`` value) applied.

    Every folder and every file in it is resolved with symbolic links followed and must lie
    inside ``base_dir`` (or a folder allowed with ``--allow-outside``). A value that is not a
    list of paths gives the bundled library only: the schema reports it as ``library``.

    Raises
    ------
    ScenarioError
        ``library.<i>`` for a folder that does not exist or lies outside; ``"<file>:<key>"`` for
        a malformed entry.
    """
    try:
        paths = _PATHS.validate_python(folders if folders is not None else [])
    except ValidationError:
        paths = []
    dirs = []
    for i, d in enumerate(paths):
        full = guard.inside_folder(d, base_dir, f"library.{i}")
        if not full.is_dir():
            raise ScenarioError(f"library.{i}", str(d), "an existing folder of YAML files")
        dirs.append(full)
    return Library.load(dirs, confine_to=base_dir)


def library_for(sc: Scenario) -> Library:
    """The library with the scenario's own override folders applied (see :func:`load_library`)."""
    return load_library(sc.library, sc.base_dir)


def library_context(lib: Library) -> dict[str, Any]:
    """Pydantic validation context that resolves library keys with ``lib``."""
    return {_CONTEXT_KEY: lib}


def library_of(info: ValidationInfo) -> Library:
    """The library of a validation context; the bundled library when none was given."""
    context = info.context if isinstance(info.context, Mapping) else {}
    lib = context.get(_CONTEXT_KEY)
    return lib if isinstance(lib, Library) else Library.load()


def _filled(data: dict[str, Any], defaults: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """``data`` with every name in ``names`` that is absent or None taken from ``defaults``."""
    return {**data, **{name: defaults[name] for name in names
                       if data.get(name) is None and name in defaults}}


def storage_defaults(data: Any, lib: Library) -> Any:
    """Storage data with efficiencies, SOC window, self-discharge and wear cost filled.

    From the ``technology`` entry where it gives them, else from :data:`STORAGE_FALLBACK`.

    Raises
    ------
    ScenarioError
        Field ``technology`` (relative to the unit) for an unknown key.
    """
    if not isinstance(data, dict):
        return data  # the schema reports it
    defaults: dict[str, Any] = dict(STORAGE_FALLBACK)
    if isinstance(data.get("technology"), str):
        defaults.update(lib.get("technologies", data["technology"], "technology"))
    return _filled(data, defaults, list(STORAGE_FALLBACK))


def ev_group_defaults(data: Any, lib: Library) -> Any:
    """Pile-group data with power, efficiencies and V2G wear cost filled.

    ``power_kw`` and ``efficiency`` come from the ``technology`` entry; then ``efficiency``
    defaults to :data:`EV_EFFICIENCY_FALLBACK`, ``v2g_efficiency`` to the charging efficiency
    and ``v2g_wear_cost_per_kwh`` to the ``ev-v2g`` technology entry.

    Raises
    ------
    ScenarioError
        Field ``technology`` for an unknown key; ``power_kw`` when neither it nor a technology
        gives the pile power.
    """
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("technology"), str):
        tech = lib.get("technologies", data["technology"], "technology")
        data = _filled(data, tech, ["power_kw", "efficiency"])
    if data.get("power_kw") is None:
        raise ScenarioError("power_kw", None, "a pile power > 0 kW, or a pile 'technology' key")
    data = _filled(data, {"efficiency": EV_EFFICIENCY_FALLBACK}, ["efficiency"])
    data = _filled(data, {"v2g_efficiency": data["efficiency"]}, ["v2g_efficiency"])
    if data.get("v2g_wear_cost_per_kwh") is None:
        v2g = lib.get("technologies", "ev-v2g", "v2g_wear_cost_per_kwh")
        data = {**data, "v2g_wear_cost_per_kwh": v2g["v2g_wear_cost_per_kwh"]}
    return data


def pv_defaults(data: Any) -> Any:
    """PV array data with ``ac_limit_kw`` = capacity / :data:`PV_DC_AC_RATIO` when empty."""
    if not isinstance(data, dict) or data.get("ac_limit_kw") is not None:
        return data
    capacity = data.get("capacity_kw")
    if isinstance(capacity, bool) or not isinstance(capacity, int | float):
        return data  # the schema reports capacity_kw
    return {**data, "ac_limit_kw": max(capacity / PV_DC_AC_RATIO, 1e-6)}


def check_library_keys(sc: Scenario, lib: Library) -> None:
    """Every library key the scenario names exists (tariff, emission factor, climate preset).

    Raises
    ------
    ScenarioError
        Naming the field and listing the known keys.
    """
    if sc.grid.tariff is not None:
        lib.tariff(sc.grid.tariff, "grid.tariff")
    if sc.grid.emission_factor is not None:
        lib.get("emission_factors", sc.grid.emission_factor, "grid.emission_factor")
    if sc.weather is not None and sc.weather.clearness is not None:
        if sc.weather.clearness.preset is not None:
            lib.get("climate", sc.weather.clearness.preset, "weather.clearness.preset")


def check_temperature_model(key: str) -> None:
    """``key`` is a pvlib SAPM cell-temperature parameter set.

    Raises
    ------
    ScenarioError
        With an empty field (the caller's field path is prepended), listing the allowed keys.
    """
    from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

    allowed = sorted(TEMPERATURE_MODEL_PARAMETERS["sapm"])
    if key not in allowed:
        raise ScenarioError("", key, f"one of {allowed}")
