"""Small scenario builders shared by tests, notebooks and benchmarks.

``tiny(...)`` returns a scenario and hand-made profiles of a few steps whose optimum can be worked
out by hand; prices, loads and PV are given directly so no pvlib or library data is involved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zeropark.profiles.base import DrEventProfile, EvGroupProfile, Profiles
from zeropark.scenario import Scenario, scenario_from_dict


def tiny_dict(steps: int, **sections: Any) -> dict[str, Any]:
    """A minimal valid scenario dict of ``steps`` hourly steps; ``sections`` replace top keys."""
    base: dict[str, Any] = {
        "name": "tiny",
        "sources": ["hand-made test case"],
        "site": {"name": "tiny", "latitude": 31.3, "longitude": 120.6},
        "time": {"start": "2025-07-01", "steps": steps, "step": "1h"},
        "loads": {"source": "synthetic", "peak_kw": 1.0},
        "grid": {"import_limit_kw": 1000.0, "export_limit_kw": 0.0},
        "solver": {"mip_gap": 0.0, "threads": 1},
    }
    base.update(sections)
    return base


def tiny_profiles(load_kw: Any, price: Any, *, export_price: Any = 0.0, ef: Any = 0.5,
                  pv_kw: Any = None, green_direct_kw: Any = None,
                  ev: dict[str, EvGroupProfile] | None = None,
                  dr: list[DrEventProfile] | None = None, demand_charge: float = 0.0,
                  dt_h: float = 1.0, start: str = "2025-07-01", heat_demand_kw: Any = None,
                  temp_air_c: Any = None) -> Profiles:
    """Profiles from plain lists (broadcast to the length of ``load_kw``); ``heat_demand_kw`` is
    a mapping level -> list [kW thermal], ``temp_air_c`` the ambient temperature [°C]."""
    load = np.asarray(load_kw, float)
    T = len(load)
    time = pd.date_range(start, periods=T, freq=pd.Timedelta(hours=dt_h))
    pv = np.zeros((0, T)) if pv_kw is None else np.atleast_2d(np.asarray(pv_kw, float))
    month_index = np.searchsorted(np.unique(time.to_period("M").astype(str)),
                                  time.to_period("M").astype(str))
    return Profiles(
        time=time, dt_h=dt_h, load_kw=load, pv_avail_kw=pv,
        import_price_per_kwh=np.broadcast_to(np.asarray(price, float), (T,)).copy(),
        export_price_per_kwh=np.broadcast_to(np.asarray(export_price, float), (T,)).copy(),
        ef_kg_per_kwh=np.broadcast_to(np.asarray(ef, float), (T,)).copy(),
        month_index=month_index, month_labels=sorted(set(time.to_period("M").astype(str))),
        green_direct_kw=None if green_direct_kw is None else np.broadcast_to(
            np.asarray(green_direct_kw, float), (T,)).copy(),
        ev=ev or {}, dr_events=dr or [], demand_charge_per_kw_month=demand_charge,
        heat_demand_kw=None if heat_demand_kw is None else _heat_levels(heat_demand_kw, T),
        temp_air_c=None if temp_air_c is None else np.broadcast_to(
            np.asarray(temp_air_c, float), (T,)).copy(),
    )


def _heat_levels(by_level: dict[str, Any], T: int) -> np.ndarray:
    from zeropark.scenario.heat import LEVELS

    out = np.zeros((len(LEVELS), T))
    for level, values in by_level.items():
        out[LEVELS.index(level)] = np.broadcast_to(np.asarray(values, float), (T,))
    return out


def tiny(steps: int, profiles_kw: dict[str, Any], **sections: Any) -> tuple[Scenario, Profiles]:
    """Scenario and profiles in one call: ``profiles_kw`` go to :func:`tiny_profiles`."""
    sc = scenario_from_dict(tiny_dict(steps, **sections))
    return sc, tiny_profiles(**profiles_kw)


def battery(name: str = "bat", energy_kwh: float = 10.0, power_kw: float = 5.0,
            **kw: Any) -> dict[str, Any]:
    """A storage unit dict with ideal defaults (η = 1, SOC window 0–1, start empty, no costs)."""
    unit = {"name": name, "energy_kwh": energy_kwh, "power_kw": power_kw,
            "charge_efficiency": 1.0, "discharge_efficiency": 1.0, "soc_min": 0.0,
            "soc_max": 1.0, "soc_initial": 0.0, "end_condition": "free",
            "self_discharge_per_h": 0.0, "throughput_cost_per_kwh": 0.0}
    unit.update(kw)
    return unit
