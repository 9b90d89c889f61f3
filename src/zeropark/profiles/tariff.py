"""Time-of-use (TOU) tariffs: period labels, energy prices and billing months per time step.

This module turns a tariff entry (see ``models/tariffs.yaml``; validated by
:class:`zeropark.entries.Tariff`, where its format is described) into arrays aligned with a time
index. Every function takes a :class:`~zeropark.entries.Tariff` or a plain mapping (validated on
the way in).

All functions are vectorized: the tariff is turned once into a (month, minute-of-day) lookup
table, which is then indexed with the time stamps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from zeropark.entries import (
    MINUTES_PER_DAY,
    PERIOD_NAMES,
    PERIOD_OVERRIDES,
    Tariff,
    window_mask,
)
from zeropark.errors import ScenarioError

__all__ = [
    "MINUTES_PER_DAY", "PERIOD_NAMES", "PERIOD_OVERRIDES", "Tariff", "billing_month_fraction",
    "billing_month_index", "period_codes", "period_table", "tou_period_labels",
    "tou_price_per_kwh", "validate_tariff",
]

_CODE = {name: i for i, name in enumerate(PERIOD_NAMES)}
# Windows are painted in this order, so that an overriding period is painted after the one it
# overrides; the remaining overlaps are rejected by the Tariff model.
_PAINT_ORDER = ("flat", "valley", "peak", "deep_valley", "critical")

TariffLike = Tariff | Mapping[str, Any]


def validate_tariff(tariff: Any, field: str) -> Tariff:
    """Check a TOU tariff and raise a clear error for the first problem found.

    Checks that every month 1..12 is covered by exactly one rule, that windows lie in
    [0, 24] h with start < end, that periods other than critical/peak and deep_valley/valley do
    not overlap, that every period used (including ``default_period``) has a price, and that
    prices and demand/capacity charges are finite and non-negative.

    Parameters
    ----------
    tariff : Tariff or Mapping
        Tariff entry, as in ``models/tariffs.yaml``.
    field : str
        Field path of the tariff, used in error messages, e.g. ``"grid.tariff"``.

    Returns
    -------
    Tariff
        The validated tariff.

    Raises
    ------
    ScenarioError
        Naming the offending field, e.g. ``"grid.tariff.periods.1.months"``.
    """
    return Tariff.parse(tariff, field)


def period_table(tariff: TariffLike, field: str = "grid.tariff") -> np.ndarray:
    """Lookup table of period codes by month and minute of day.

    Parameters
    ----------
    tariff : Tariff or Mapping
        Tariff entry; a mapping is validated here.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        int8 array of shape (12, 1440); ``table[month - 1, minute]`` is an index into
        :data:`PERIOD_NAMES`.
    """
    valid = Tariff.parse(tariff, field)
    table = np.full((12, MINUTES_PER_DAY), _CODE[valid.default_period], dtype=np.int8)
    for rule in valid.periods:
        rows = np.asarray(rule.months) - 1
        day = table[rows[0]].copy()
        windows = rule.windows()
        for name in _PAINT_ORDER:
            if name in windows:
                day[window_mask(windows[name])] = _CODE[name]
        table[rows] = day
    return table


def _check_time(time: Any, field: str) -> pd.DatetimeIndex:
    if not isinstance(time, pd.DatetimeIndex):
        raise ScenarioError(field, type(time).__name__, "a pandas DatetimeIndex of step starts")
    if time.tz is not None:
        raise ScenarioError(
            field, str(time.tz), "tz-naive time stamps in local standard time (China: UTC+8)"
        )
    if time.hasnans:
        raise ScenarioError(field, "NaT", "time stamps without missing values")
    return time


def period_codes(
    time: pd.DatetimeIndex, tariff: TariffLike, field: str = "grid.tariff"
) -> np.ndarray:
    """Integer period code (index into :data:`PERIOD_NAMES`) of each time step.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Tariff or Mapping
        Tariff entry.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        int8 array, one code per step.
    """
    time = _check_time(time, "time")
    table = period_table(tariff, field)
    month_idx = time.month.to_numpy() - 1
    minute = time.hour.to_numpy() * 60 + time.minute.to_numpy()
    return table[month_idx, minute]


def tou_period_labels(
    time: pd.DatetimeIndex, tariff: TariffLike, field: str = "grid.tariff"
) -> np.ndarray:
    """TOU period name of each time step.

    A step takes the period of its start instant, so with 15-min steps the step starting at
    13:45 belongs to whatever period covers 13:45.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Tariff or Mapping
        Tariff entry, as in ``models/tariffs.yaml``.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        str array of period names ("critical", "peak", "flat", "valley", "deep_valley").
    """
    return np.asarray(PERIOD_NAMES)[period_codes(time, tariff, field)]


def tou_price_per_kwh(
    time: pd.DatetimeIndex, tariff: TariffLike, field: str = "grid.tariff"
) -> np.ndarray:
    """Energy price of each time step.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Tariff or Mapping
        Tariff entry, as in ``models/tariffs.yaml``.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        float array of energy prices [CNY/kWh], one per step.
    """
    valid = Tariff.parse(tariff, field)
    codes = period_codes(time, valid, field)
    # the Tariff model guarantees a price for every period the table can contain
    prices = np.array([valid.prices_per_kwh.get(name, np.nan) for name in PERIOD_NAMES])
    return prices[codes]


def billing_month_index(time: pd.DatetimeIndex) -> tuple[np.ndarray, list[str]]:
    """Calendar billing month of each time step within the horizon.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.

    Returns
    -------
    index : numpy.ndarray
        int64 array, 0..M-1: position of each step's calendar month among the M months the
        horizon touches, in chronological order.
    labels : list of str
        The M months as ``"YYYY-MM"``.
    """
    time = _check_time(time, "time")
    month_number = time.year.to_numpy().astype(np.int64) * 12 + time.month.to_numpy() - 1
    unique, index = np.unique(month_number, return_inverse=True)
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in unique.tolist()]
    return index.astype(np.int64).reshape(-1), labels


def billing_month_fraction(time: pd.DatetimeIndex, dt_h: float) -> np.ndarray:
    """Fraction of each billing month the horizon covers.

    Grid companies pro-rate the monthly basic charge (demand or capacity) of a partial billing
    month by the days of service in it; a horizon shorter than a month likewise carries only its
    share of the month's basic charge:

    .. math:: f_m = \\frac{n_m \\, \\Delta t}{24 \\, D_m}

    with :math:`n_m` the steps of the horizon in month :math:`m`, :math:`\\Delta t` the step
    [h] and :math:`D_m` the days of the calendar month.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    dt_h : float [h]
        Step length.

    Returns
    -------
    numpy.ndarray
        float array of shape (M,), one fraction in (0, 1] per month of
        :func:`billing_month_index`, in the same order.
    """
    index, labels = billing_month_index(time)
    steps = np.bincount(index, minlength=len(labels)).astype(float)
    days = np.array([pd.Period(label, "M").days_in_month for label in labels], float)
    return np.minimum(steps * dt_h / (24.0 * days), 1.0)
