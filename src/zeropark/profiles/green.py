"""Contract profiles for direct green-power supply (绿电直连): flat, wind or solar shapes.

The wind shape is synthetic: an AR(1) hourly wind speed (Weibull-like marginal) through a
generic turbine power curve, seeded; it stands in for a contract profile when none is given and is
labelled as such in the scenario. A measured contract profile should be supplied as CSV.
"""

from __future__ import annotations

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
    mean_speed_m_s : float [m/s] hub-height mean wind speed
    dt_h : float [h]
    """
    rng = np.random.default_rng(seed)
    n = len(time)
    phi = 0.97 ** dt_h  # hour-to-hour persistence of the weather
    z = rng.standard_normal(n)
    x = ar1_filter(z, phi, gain=np.sqrt(1 - phi**2))
    hours = time.hour.to_numpy() + time.minute.to_numpy() / 60
    diurnal = 1 + 0.15 * np.cos(2 * np.pi * (hours - 2) / 24)  # stronger at night (inland China)
    speed = mean_speed_m_s * diurnal * np.exp(0.45 * x - 0.45**2 / 2)
    cut_in, rated, cut_out = 3.0, 12.0, 25.0
    cf = np.clip((speed**3 - cut_in**3) / (rated**3 - cut_in**3), 0.0, 1.0)
    cf[speed >= cut_out] = 0.0
    return cf
