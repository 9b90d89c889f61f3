"""The first-order recursion behind every AR(1) noise series of the synthetic profiles.

A plain loop rather than ``scipy.signal.lfilter``: importing ``scipy.signal`` also imports
``scipy.stats`` (about a second of start-up), while the loop costs well under a millisecond per
thousand steps. It performs the same floating-point operations in the same order as ``lfilter``
with ``b = [gain]``, ``a = [1, -phi]``, so the profiles are bit-for-bit the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ar1_filter(x: np.ndarray, phi: float, *, gain: float = 1.0, y_prev: float = 0.0) -> np.ndarray:
    """``y[k] = gain·x[k] + phi·y[k-1]`` with ``y[-1] = y_prev``.

    Parameters
    ----------
    x : numpy.ndarray
        Input series (1-D), e.g. white-noise innovations.
    phi : float
        Lag-1 coefficient [-].
    gain : float
        Factor on each input value [-].
    y_prev : float
        The value before the first step.

    Returns
    -------
    numpy.ndarray
        The filtered series, same length as ``x``.
    """
    y = np.empty(len(x), dtype=float)
    acc = float(y_prev)
    phi = float(phi)
    gain = float(gain)
    for k, value in enumerate(np.asarray(x, dtype=float).tolist()):
        acc = gain * value + phi * acc
        y[k] = acc
    return y


#: ``datetime.date(1970, 1, 1).toordinal()``: proleptic Gregorian ordinal of the Unix epoch.
_EPOCH_ORDINAL = 719_163


def day_ordinals(days: pd.DatetimeIndex) -> list[int]:
    """``[day.toordinal() for day in days]`` without making a Timestamp per day (tz-naive days).

    The ordinals seed the per-day random streams of the synthetic profiles; this gives the same
    integers as :meth:`pandas.Timestamp.toordinal` in a few microseconds instead of about 40 µs
    a day.
    """
    return (days.to_numpy("datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL).tolist()
