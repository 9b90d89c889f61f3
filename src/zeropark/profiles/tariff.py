"""Time-of-use (TOU) tariffs: period labels, energy prices and billing months per time step.

This module owns the reading of a tariff entry (see ``models/tariffs.yaml``) into arrays aligned
with a time index. A tariff is a plain mapping::

    prices_per_kwh: {peak: 1.05, flat: 0.62, valley: 0.30}   # [CNY/kWh]; optional critical
    default_period: flat
    periods:
      - months: [1, 2, 6, 7, 8, 12]
        peak: [[14, 22]]                # [start, end) in hours of local standard time
        valley: [[0, 6], [11, 13]]
      - months: [3, 4, 5, 9, 10, 11]
        ...

Every month 1..12 is covered by exactly one rule. A minute no window covers takes
``default_period``. ``critical`` windows override ``peak`` and ``deep_valley`` windows override
``valley``; any other overlap of two periods is an error.

All functions are vectorized: the tariff is turned once into a (month, minute-of-day) lookup
table, which is then indexed with the time stamps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError

#: Period names a tariff may use, in the order of their integer codes.
PERIOD_NAMES: tuple[str, ...] = ("critical", "peak", "flat", "valley", "deep_valley")
#: A window of the key overrides windows of the value where both cover a minute.
PERIOD_OVERRIDES: dict[str, str] = {"critical": "peak", "deep_valley": "valley"}

MINUTES_PER_DAY = 1440
_CODE = {name: i for i, name in enumerate(PERIOD_NAMES)}
# Windows are painted in this order, so that an overriding period is painted after the one it
# overrides; the remaining overlaps are rejected by validate_tariff.
_PAINT_ORDER = ("flat", "valley", "peak", "deep_valley", "critical")
_RULE_KEYS = frozenset(PERIOD_NAMES) | {"months"}
_CHARGE_KEYS = ("demand_charge_per_kw_month", "capacity_charge_per_kva_month")
_MINUTE = np.arange(MINUTES_PER_DAY)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _window_mask(windows: list[Any]) -> np.ndarray:
    """Minutes of a day covered by already validated ``[start, end)`` windows [bool mask]."""
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for start_h, end_h in windows:
        mask |= (_MINUTE >= round(start_h * 60)) & (_MINUTE < round(end_h * 60))
    return mask


def _validate_windows(windows: Any, field: str) -> None:
    allowed = "a list of [start, end) hour pairs with 0 <= start < end <= 24, on whole minutes"
    if not isinstance(windows, list):
        raise ScenarioError(field, windows, allowed)
    for j, window in enumerate(windows):
        wfield = f"{field}.{j}"
        if not (isinstance(window, list | tuple) and len(window) == 2):
            raise ScenarioError(wfield, window, allowed)
        start_h, end_h = window
        if not (_is_number(start_h) and _is_number(end_h)):
            raise ScenarioError(wfield, window, allowed)
        if not 0 <= start_h < end_h <= 24:
            raise ScenarioError(wfield, window, allowed)
        for hour in (start_h, end_h):
            if abs(hour * 60 - round(hour * 60)) > 1e-9:
                raise ScenarioError(wfield, window, allowed)


def _validate_rule(rule: Any, field: str) -> list[int]:
    """Check one rule of ``periods`` and return its months."""
    if not isinstance(rule, Mapping):
        raise ScenarioError(field, rule, "a mapping with months and period windows")
    unknown = sorted(set(rule) - _RULE_KEYS, key=str)
    if unknown:
        raise ScenarioError(
            f"{field}.{unknown[0]}", rule[unknown[0]],
            f"rule keys are months and period names: {', '.join(PERIOD_NAMES)}",
        )
    months = rule.get("months")
    month_allowed = "a non-empty list of distinct integer months 1..12"
    if not isinstance(months, list) or not months:
        raise ScenarioError(f"{field}.months", months, month_allowed)
    for month in months:
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ScenarioError(f"{field}.months", months, month_allowed)
    if len(set(months)) != len(months):
        raise ScenarioError(f"{field}.months", months, month_allowed)

    masks: dict[str, np.ndarray] = {}
    for name in PERIOD_NAMES:
        if name in rule:
            _validate_windows(rule[name], f"{field}.{name}")
            masks[name] = _window_mask(rule[name])
    names = list(masks)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            if PERIOD_OVERRIDES.get(a) == b or PERIOD_OVERRIDES.get(b) == a:
                continue
            both = masks[a] & masks[b]
            if both.any():
                first_h = int(np.argmax(both)) / 60
                raise ScenarioError(
                    f"{field}.{b}", rule[b],
                    f"windows that do not overlap {a} (both cover {first_h:g} h); only "
                    "critical may overlap peak and deep_valley may overlap valley",
                )
    return months


def validate_tariff(tariff: Any, field: str) -> None:
    """Check a TOU tariff mapping and raise a clear error for the first problem found.

    Checks that every month 1..12 is covered by exactly one rule, that windows lie in
    [0, 24] h with start < end, that periods other than critical/peak and deep_valley/valley do
    not overlap, that every period used (including ``default_period``) has a price, and that
    prices and demand/capacity charges are finite and non-negative.

    Parameters
    ----------
    tariff : Mapping
        Tariff entry, as in ``models/tariffs.yaml``.
    field : str
        Field path of the tariff, used in error messages, e.g. ``"grid.tariff"``.

    Raises
    ------
    ScenarioError
        Naming the offending field, e.g. ``"grid.tariff.periods.1.months"``.
    """
    if not isinstance(tariff, Mapping):
        raise ScenarioError(field, tariff, "a mapping with prices_per_kwh, default_period, periods")

    prices = tariff.get("prices_per_kwh")
    if not isinstance(prices, Mapping) or not prices:
        raise ScenarioError(
            f"{field}.prices_per_kwh", prices,
            f"a mapping of period name to price [CNY/kWh]; periods: {', '.join(PERIOD_NAMES)}",
        )
    for name, price in prices.items():
        if name not in _CODE:
            raise ScenarioError(
                f"{field}.prices_per_kwh", name, f"period names: {', '.join(PERIOD_NAMES)}"
            )
        if not _is_number(price) or price < 0:
            raise ScenarioError(
                f"{field}.prices_per_kwh.{name}", price, "a finite price >= 0 [CNY/kWh]"
            )

    default_period = tariff.get("default_period")
    if default_period not in _CODE:
        raise ScenarioError(
            f"{field}.default_period", default_period, f"one of: {', '.join(PERIOD_NAMES)}"
        )

    rules = tariff.get("periods")
    if not isinstance(rules, list) or not rules:
        raise ScenarioError(
            f"{field}.periods", rules, "a non-empty list of rules, each with months and windows"
        )
    owner: dict[int, int] = {}
    used = {default_period}
    for i, rule in enumerate(rules):
        rfield = f"{field}.periods.{i}"
        for month in _validate_rule(rule, rfield):
            if month in owner:
                raise ScenarioError(
                    f"{rfield}.months", month,
                    f"each month in exactly one rule; month {month} is already in "
                    f"{field}.periods.{owner[month]}",
                )
            owner[month] = i
        used.update(name for name in PERIOD_NAMES if name in rule)
    missing = sorted(set(range(1, 13)) - set(owner))
    if missing:
        raise ScenarioError(
            f"{field}.periods", f"months {missing} not covered", "every month 1..12 in one rule"
        )

    unpriced = [name for name in PERIOD_NAMES if name in used and name not in prices]
    if unpriced:
        raise ScenarioError(
            f"{field}.prices_per_kwh", dict(prices),
            f"a price for every period used: missing {', '.join(unpriced)}",
        )

    for key in _CHARGE_KEYS:
        charge = tariff.get(key)
        if charge is not None and (not _is_number(charge) or charge < 0):
            raise ScenarioError(f"{field}.{key}", charge, "null or a finite charge >= 0 [CNY]")


def period_table(tariff: Mapping[str, Any], field: str = "grid.tariff") -> np.ndarray:
    """Lookup table of period codes by month and minute of day.

    Parameters
    ----------
    tariff : Mapping
        Tariff entry; validated here.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        int8 array of shape (12, 1440); ``table[month - 1, minute]`` is an index into
        :data:`PERIOD_NAMES`.
    """
    validate_tariff(tariff, field)
    table = np.full((12, MINUTES_PER_DAY), _CODE[tariff["default_period"]], dtype=np.int8)
    for rule in tariff["periods"]:
        rows = np.asarray(rule["months"]) - 1
        day = table[rows[0]].copy()
        for name in _PAINT_ORDER:
            if name in rule:
                day[_window_mask(rule[name])] = _CODE[name]
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
    time: pd.DatetimeIndex, tariff: Mapping[str, Any], field: str = "grid.tariff"
) -> np.ndarray:
    """Integer period code (index into :data:`PERIOD_NAMES`) of each time step.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Mapping
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
    time: pd.DatetimeIndex, tariff: Mapping[str, Any], field: str = "grid.tariff"
) -> np.ndarray:
    """TOU period name of each time step.

    A step takes the period of its start instant, so with 15-min steps the step starting at
    13:45 belongs to whatever period covers 13:45.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Mapping
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
    time: pd.DatetimeIndex, tariff: Mapping[str, Any], field: str = "grid.tariff"
) -> np.ndarray:
    """Energy price of each time step.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Tz-naive step starts in local standard time.
    tariff : Mapping
        Tariff entry, as in ``models/tariffs.yaml``.
    field : str
        Field path of the tariff for error messages.

    Returns
    -------
    numpy.ndarray
        float array of energy prices [CNY/kWh], one per step.
    """
    codes = period_codes(time, tariff, field)
    # validate_tariff guarantees a price for every period the table can contain
    prices = np.array(
        [float(tariff["prices_per_kwh"].get(name, np.nan)) for name in PERIOD_NAMES]
    )
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
