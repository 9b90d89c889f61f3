"""Contract profiles for direct green-power supply (绿电直连): flat, wind or solar shapes.

The wind shape is synthetic: an AR(1) hourly wind speed (Weibull-like marginal) through a
generic turbine power curve, seeded; it stands in for a contract profile when none is given and is
labelled as such in the scenario. A measured contract profile should be supplied as CSV.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from zeropark.profiles.noise import ar1_filter


def synthetic_wind_cf(time: pd.DatetimeIndex, *, seed: int, mean_speed_m_s: float = 7.0,
                      dt_h: float = 1.0) -> np.ndarray:
    """Capacity factor [0–1] of a wind contract, per step.

    Parameters
    ----------
    time : DatetimeIndex, step starts
    seed : int
        One random stream per (seed, calendar year, step): the AR(1) runs over the calendar year
        and a window takes its steps from it, so a date's wind does not depend on the window.
    mean_speed_m_s : float [m/s] hub-height mean wind speed
    dt_h : float [h]
    """
    phi = 0.97 ** dt_h  # hour-to-hour persistence of the weather
    step = pd.Timedelta(hours=dt_h)
    x = np.empty(len(time))
    years = np.asarray(time.year)
    for y in pd.unique(years):
        mask = years == y
        pos = np.asarray((time[mask] - pd.Timestamp(year=int(y), month=1, day=1)) // step,
                         dtype=np.int64)
        x[mask] = _year_noise(int(seed), int(y), float(dt_h), phi)[pos]
    hours = time.hour.to_numpy() + time.minute.to_numpy() / 60
    diurnal = 1 + 0.15 * np.cos(2 * np.pi * (hours - 2) / 24)  # stronger at night (inland China)
    speed = mean_speed_m_s * diurnal * np.exp(0.45 * x - 0.45**2 / 2)
    cut_in, rated, cut_out = 3.0, 12.0, 25.0
    cf = np.clip((speed**3 - cut_in**3) / (rated**3 - cut_in**3), 0.0, 1.0)
    cf[speed >= cut_out] = 0.0
    return cf


@functools.lru_cache(maxsize=16)
def _year_noise(seed: int, year: int, dt_h: float, phi: float) -> np.ndarray:
    """Unit-variance AR(1) noise on the calendar year's step grid from 1 January 00:00
    (read-only)."""
    n = int(np.ceil((366 * 24) / dt_h)) + 1  # covers a leap year and a step off the grid
    rng = np.random.default_rng([seed % 2**63, year, int(round(dt_h * 3600))])
    x = ar1_filter(rng.standard_normal(n), phi, gain=np.sqrt(1 - phi**2))
    x.flags.writeable = False
    return x
