"""Heat demand profiles per temperature level [kW thermal], shape (3, T) in
:data:`zeropark.scenario.heat.LEVELS` order.

Synthetic demand follows the park type's shift pattern on the same calendar as the electric load
(working days, rest days, public holidays and 调休 make-up days, the Spring Festival shutdown):
for each calendar year with hourly activity a_h (the park type's working-day or rest-day hour
value, scaled down around the Spring Festival) and base share b,

    q_h = Q / H · (b + (1 − b) · a_h / mean(a))     [kW thermal]

with Q the level's annual heat [kWh] and H the hours of the year, so each whole calendar year
delivers exactly Q. Steps shorter than an hour hold the hour's value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from zeropark.profiles import load
from zeropark.scenario.heat import LEVELS, Level


@functools.lru_cache(maxsize=16)
def activity(park_type: str, year: int) -> np.ndarray:
    """Hourly relative activity of one calendar year (no noise, no weather), mean 1."""
    shape = load._SHAPES[park_type]
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    rest = load.rest_days(days)
    sf_days = days.normalize().isin(pd.DatetimeIndex(sorted(load.spring_festival_days(year))))
    work_h, rest_h = np.asarray(shape.work), np.asarray(shape.rest)
    act = np.where(rest[:, None], rest_h[None, :], work_h[None, :])
    act = np.where(sf_days[:, None], rest_h[None, :] * shape.sf_factor, act)
    w = np.where(sf_days, 0.0, load._sf_weight(days, shape))
    act = (act * (1.0 - (1.0 - shape.sf_factor) * w)[:, None]).ravel()
    return act / act.mean()


def synthetic_heat_kw(time: pd.DatetimeIndex, *, park_type: str, annual_mwh: Mapping[Level, float],
                      base_share: float) -> np.ndarray:
    """Synthetic heat demand per level [kW thermal], shape (3, T) (module docstring)."""
    out = np.zeros((len(LEVELS), len(time)))
    years, hour_idx, _ = load._hour_and_quarter(time)
    for y in np.unique(years):
        mask = years == y
        a = activity(park_type, int(y))
        w = base_share + (1.0 - base_share) * a[hour_idx[mask]]
        for level, mwh in annual_mwh.items():
            out[LEVELS.index(level), mask] = 1000.0 * mwh / len(a) * w
    return out


def csv_heat_kw(sc: Any, time: pd.DatetimeIndex,
                read: Callable[[Any, str], np.ndarray]) -> np.ndarray:
    """Heat demand per level from the scenario's CSV file, one column per level [kW thermal]."""
    from zeropark.scenario import ProfileFile

    dem = sc.heat.demand
    out = np.zeros((len(LEVELS), len(time)))
    for level, column in dem.columns.items():
        out[LEVELS.index(level)] = read(ProfileFile(path=dem.path, column=column),
                                        f"heat.demand.columns.{level}")
    return out
