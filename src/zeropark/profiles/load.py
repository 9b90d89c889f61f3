"""Synthetic electricity loads of Chinese industrial parks, and the Chinese public-holiday calendar.

This module owns (1) the working-day calendar of mainland China — public holidays and the make-up
working days (调休), from the ``holidays`` package with a small override table for years it does
not know yet — and (2) a synthetic hourly load shape per park type built from it: shift
patterns by hour of day, working day vs rest day, a Spring Festival dip with the slow shutdown
before and the slow return after, a cooling (summer) and heating (winter) component, and seeded
AR(1) noise.

Scaling: the shape is built for each whole calendar year the horizon touches and scaled so that
its maximum over that calendar year is exactly ``peak_kw``; the horizon's values are then taken
from it. So a one-week winter horizon is not stretched up to the peak, and a horizon gives the
same values as the same days of a year-long run (same seed).

Intra-hour variation: the hourly value is the hour's mean power. Sub-hourly steps vary around it
by a seeded, deterministic factor per quarter-hour, ``1 + z`` with ``z`` drawn normal with the park
type's ``quarter_std`` (an assumption, see :data:`_SHAPES`), clipped to ±3 std and de-meaned within
each hour, so every hour's mean equals the hourly value and a 15-min run has exactly the energy of
the hourly run. Grid companies bill the highest 15-min average demand; at hourly steps
:func:`synthetic_peak_ratio` gives the same variation as a per-step peak-to-mean ratio.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.profiles.csvio import check_time_index
from zeropark.profiles.noise import ar1_filter

__all__ = [
    "HOLIDAY_OVERRIDE_YEARS",
    "PARK_TYPES",
    "makeup_workdays",
    "public_holidays",
    "rest_days",
    "spring_festival_days",
    "synthetic_load_kw",
    "synthetic_peak_ratio",
]

#: Park types :func:`synthetic_load_kw` knows.
PARK_TYPES: tuple[str, ...] = (
    "continuous_process",
    "two_shift",
    "logistics",
    "office",
    "data_centre",
)

HolidayTable = dict[int, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]]

# The calendar comes from the `holidays` package (its China calendar: the State Council notices
# "国务院办公厅关于<year>年部分节假日安排的通知" for the years they are published, with the days off
# moved by 调休 and the make-up working days; beyond them the statutory days of the
# 全国年节及纪念日放假办法 with a weekday in lieu (补假) of a holiday on a weekend).
#
# Override table, for a year whose notice is out but not yet in the installed package: days off
# as the notice's inclusive ranges (weekend days inside a range may be included) and the make-up
# working days, e.g. ``{2027: ((("01-01", "01-01"), ("02-05", "02-12"), ...), ("02-14", ...))}``.
# Empty: holidays 0.109 carries every notice up to 2026 (no 2027 notice yet). Remove a year once
# the package knows it; tests/test_load.py fails while a year here is also in the package.
_OVERRIDES: HolidayTable = {}
#: Years whose calendar comes from the project's override table instead of the package.
HOLIDAY_OVERRIDE_YEARS: tuple[int, ...] = tuple(sorted(_OVERRIDES))
_SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"  # the package's en_US name of 正月初一..


@functools.lru_cache(maxsize=256)
def _package_year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date], dt.date]:
    """Days off, make-up working days and Lunar New Year's Day of ``year`` from ``holidays``."""
    import holidays  # imported on first use: only synthetic loads and EV sessions need it

    cn = holidays.country_holidays("CN", years=year, language="en_US")
    off = frozenset(d for d in cn if d.year == year)
    makeup = frozenset(d for d in cn.weekend_workdays if d.year == year)
    lny = min(d for d, name in cn.items() if _SPRING_FESTIVAL in name.split("; "))
    return off, makeup, lny


def _date(year: int, md: str) -> dt.date:
    return dt.date(year, int(md[:2]), int(md[3:]))


def _calendar(year: int, overrides: HolidayTable | None) -> tuple[frozenset[dt.date],
                                                                    frozenset[dt.date]]:
    """Days off and make-up working days of one year: override table, else the package."""
    table = (_OVERRIDES if overrides is None else overrides).get(year)
    if table is None:
        return _package_year(year)[:2]
    off: set[dt.date] = set()
    for a, b in table[0]:
        first, last = _date(year, a), _date(year, b)
        off.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
    return frozenset(off), frozenset(_date(year, md) for md in table[1])


def _as_years(years: int | Iterable[int]) -> list[int]:
    return [int(years)] if isinstance(years, int | np.integer) else sorted({int(y) for y in years})


def public_holidays(years: int | Iterable[int], *,
                    overrides: HolidayTable | None = None) -> set[dt.date]:
    """Days off for public holidays in mainland China.

    Parameters
    ----------
    years : int or iterable of int
        Calendar years.
    overrides : dict, optional
        Override table in the format of the module's ``_OVERRIDES`` (default: that table).

    Returns
    -------
    set of datetime.date
        The statutory holidays (wherever they fall) and the weekdays given off in exchange (调休
        or 补假), from the ``holidays`` package; an override year gives its ranges as published.
        Ordinary weekend days inside a holiday break are not listed: see :func:`rest_days`.
    """
    days: set[dt.date] = set()
    for y in _as_years(years):
        days |= _calendar(y, overrides)[0]
    return days


def makeup_workdays(years: int | Iterable[int], *,
                    overrides: HolidayTable | None = None) -> set[dt.date]:
    """Weekend days that are working days (调休) in mainland China (``holidays`` package or the
    override table; none for years without a published notice)."""
    days: set[dt.date] = set()
    for y in _as_years(years):
        days |= _calendar(y, overrides)[1]
    return days


def spring_festival_days(years: int | Iterable[int]) -> set[dt.date]:
    """Days of the Spring Festival break: the run of consecutive rest days (holidays, and weekend
    days that are not 调休) that holds Lunar New Year's Day (正月初一)."""
    days: set[dt.date] = set()
    for y in _as_years(years):
        off, makeup = _calendar(y, None)
        lny = _package_year(y)[2]

        def rest(d: dt.date, off: frozenset[dt.date] = off,
                 makeup: frozenset[dt.date] = makeup) -> bool:
            return d in off or (d.weekday() >= 5 and d not in makeup)

        first = last = lny
        while rest(first - dt.timedelta(days=1)):
            first -= dt.timedelta(days=1)
        while rest(last + dt.timedelta(days=1)):
            last += dt.timedelta(days=1)
        days.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
    return days


def rest_days(dates: pd.DatetimeIndex) -> np.ndarray:
    """Whether each date is a rest day: a public holiday, or a weekend day that is not 调休.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Any instants; only their calendar date counts.

    Returns
    -------
    numpy.ndarray of bool
    """
    years = sorted(set(dates.year.tolist()))
    day = dates.normalize()
    hol = day.isin(pd.DatetimeIndex(sorted(public_holidays(years))))
    mk = day.isin(pd.DatetimeIndex(sorted(makeup_workdays(years))))
    return np.asarray(hol | ((dates.day_of_week >= 5) & ~mk), dtype=bool)


@dataclass(frozen=True)
class _ParkShape:
    """Relative load shape of one park type (1.0 ≈ full activity)."""

    work: tuple[float, ...]  # 24 hourly values on a working day
    rest: tuple[float, ...]  # 24 hourly values on a rest day
    sf_factor: float  # activity on Spring Festival days, relative to a rest day
    sf_before_d: int  # days of slow shutdown before the Spring Festival
    sf_after_d: int  # days of slow return after it (workers come back by 元宵节)
    cool_share: float  # cooling load at full cooling demand and full occupancy
    heat_share: float  # electric heating (heat pumps / AC) at full heating demand
    hvac_base: float  # HVAC running share when the site is idle (1 = always on)
    noise_std: float  # std of the multiplicative AR(1) noise
    noise_phi: float  # hour-to-hour autocorrelation of the noise
    quarter_std: float = 0.03  # std of the quarter-hour factor around the hourly mean


def _h(spec: dict[tuple[int, int], float]) -> tuple[float, ...]:
    """24 hourly values from {(first_hour, last_hour): value} spans."""
    out = [0.0] * 24
    for (a, b), v in spec.items():
        for hour in range(a, b + 1):
            out[hour] = v
    return tuple(out)


# quarter_std (assumption, no metered survey read): quarter-hour swings around the hourly mean,
# small for flat process and IT loads, larger where machines, sorting lines and chillers start and
# stop within the hour.
# Illustrative shapes, not measured data: typical of published Chinese load-survey shapes (flat
# process industry; two 8-h shifts 08:00–24:00 with meal breaks; night sorting peak for express
# logistics; 09:00–18:00 offices; flat IT load with cooling for data centres).
_SHAPES: dict[str, _ParkShape] = {
    "continuous_process": _ParkShape(
        work=_h({(0, 7): 0.90, (8, 17): 0.95, (18, 23): 0.92}),
        rest=_h({(0, 7): 0.88, (8, 17): 0.91, (18, 23): 0.89}),
        sf_factor=0.85, sf_before_d=1, sf_after_d=4,
        cool_share=0.08, heat_share=0.03, hvac_base=0.8, noise_std=0.02, noise_phi=0.9,
        quarter_std=0.02,
    ),
    "two_shift": _ParkShape(
        work=_h({(0, 5): 0.25, (6, 6): 0.35, (7, 7): 0.60, (8, 11): 0.95, (12, 12): 0.75,
                 (13, 16): 0.95, (17, 17): 0.80, (18, 22): 0.90, (23, 23): 0.60}),
        rest=_h({(0, 7): 0.24, (8, 17): 0.32, (18, 23): 0.27}),
        sf_factor=0.55, sf_before_d=4, sf_after_d=10,
        cool_share=0.15, heat_share=0.05, hvac_base=0.2, noise_std=0.04, noise_phi=0.8,
        quarter_std=0.05,
    ),
    "logistics": _ParkShape(
        work=_h({(0, 3): 0.90, (4, 6): 0.55, (7, 7): 0.50, (8, 17): 0.62, (18, 19): 0.75,
                 (20, 23): 0.95}),
        rest=_h({(0, 3): 0.78, (4, 6): 0.48, (7, 7): 0.45, (8, 17): 0.55, (18, 19): 0.65,
                 (20, 23): 0.82}),
        sf_factor=0.40, sf_before_d=5, sf_after_d=7,
        cool_share=0.12, heat_share=0.04, hvac_base=0.3, noise_std=0.05, noise_phi=0.8,
        quarter_std=0.06,
    ),
    "office": _ParkShape(
        work=_h({(0, 6): 0.20, (7, 7): 0.35, (8, 8): 0.70, (9, 11): 0.95, (12, 12): 0.85,
                 (13, 17): 0.95, (18, 18): 0.70, (19, 20): 0.45, (21, 23): 0.25}),
        rest=_h({(0, 7): 0.20, (8, 17): 0.30, (18, 23): 0.22}),
        sf_factor=0.85, sf_before_d=1, sf_after_d=3,
        cool_share=0.45, heat_share=0.20, hvac_base=0.15, noise_std=0.03, noise_phi=0.8,
        quarter_std=0.03,
    ),
    "data_centre": _ParkShape(
        work=_h({(0, 7): 0.84, (8, 21): 0.86, (22, 23): 0.85}),
        rest=_h({(0, 7): 0.84, (8, 21): 0.85, (22, 23): 0.84}),
        sf_factor=1.0, sf_before_d=0, sf_after_d=0,
        cool_share=0.25, heat_share=0.0, hvac_base=1.0, noise_std=0.01, noise_phi=0.95,
        quarter_std=0.01,
    ),
}  # fmt: skip

# Temperature proxy of an east-China site [°C]: annual mean, seasonal and diurnal amplitudes,
# coldest day of year, hottest hour; and day-to-day weather anomaly (AR(1) per day).
_T_MEAN_C, _T_SEASON_C, _T_DAY_C, _COLDEST_DOY, _HOTTEST_HOUR = 17.0, 12.0, 4.0, 20, 15
_T_ANOM_STD_C, _T_ANOM_PHI = 2.5, 0.8
_COOL_FROM_C, _COOL_FULL_C = 24.0, 10.0  # cooling starts above 24 °C, full 10 K above that
_HEAT_BELOW_C, _HEAT_FULL_C = 12.0, 12.0  # heating starts below 12 °C, full 12 K below that


def _ar1(rng: np.random.Generator, n: int, std: float, phi: float) -> np.ndarray:
    """Stationary AR(1) noise x[k] = phi·x[k-1] + e[k], marginal std ``std`` (IIR filter)."""
    z = rng.standard_normal(n) * std * np.sqrt(1.0 - phi**2)
    x0 = rng.standard_normal() * std
    return ar1_filter(z, phi, y_prev=x0)


def _sf_weight(days: pd.DatetimeIndex, shape: _ParkShape) -> np.ndarray:
    """Spring Festival weight per day: 1 in the holiday, linear ramps before and after, else 0."""
    years = sorted(set(days.year.tolist()) | {days.year.min() - 1, days.year.max() + 1})
    weight = np.zeros(len(days))
    day_ns = days.values.astype("datetime64[D]")
    for y in years:  # a few calendar years, not time steps
        sf = sorted(spring_festival_days(y))
        if not sf:
            continue
        start, end = np.datetime64(sf[0], "D"), np.datetime64(sf[-1], "D")
        before = (start - day_ns).astype(np.int64)
        after = (day_ns - end).astype(np.int64)
        w = np.where((before <= 0) & (after <= 0), 1.0, 0.0)
        if shape.sf_before_d:
            w = np.maximum(w, np.where(before > 0, 1.0 - before / (shape.sf_before_d + 1), 0.0))
        if shape.sf_after_d:
            w = np.maximum(w, np.where(after > 0, 1.0 - after / (shape.sf_after_d + 1), 0.0))
        weight = np.maximum(weight, w)
    return weight


@functools.lru_cache(maxsize=64)
def _year_shape(park_type: str, seed: int, year: int) -> np.ndarray:
    """Hourly relative load of one calendar year, max = 1 (read-only)."""
    shape = _SHAPES[park_type]
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    n_days = len(days)
    rng = np.random.default_rng([seed, year, PARK_TYPES.index(park_type)])

    rest = rest_days(days)
    sf_days = days.normalize().isin(pd.DatetimeIndex(sorted(spring_festival_days(year))))
    work_h, rest_h = np.asarray(shape.work), np.asarray(shape.rest)
    activity = np.where(rest[:, None], rest_h[None, :], work_h[None, :])  # [day, hour]
    activity = np.where(sf_days[:, None], rest_h[None, :] * shape.sf_factor, activity)
    w = np.where(sf_days, 0.0, _sf_weight(days, shape))
    activity = activity * (1.0 - (1.0 - shape.sf_factor) * w)[:, None]

    doy = np.arange(n_days)[:, None]
    hour = np.arange(24)[None, :]
    anomaly_c = _ar1(rng, n_days, _T_ANOM_STD_C, _T_ANOM_PHI)[:, None]
    temp_c = (
        _T_MEAN_C
        - _T_SEASON_C * np.cos(2 * np.pi * (doy - _COLDEST_DOY) / 365.25)
        + _T_DAY_C * np.cos(2 * np.pi * (hour - _HOTTEST_HOUR) / 24.0)
        + anomaly_c
    )
    cool = np.clip((temp_c - _COOL_FROM_C) / _COOL_FULL_C, 0.0, None)
    heat = np.clip((_HEAT_BELOW_C - temp_c) / _HEAT_FULL_C, 0.0, None)
    occupancy = shape.hvac_base + (1.0 - shape.hvac_base) * activity / work_h.max()
    rel = activity + (shape.cool_share * cool + shape.heat_share * heat) * occupancy

    noise = _ar1(rng, rel.size, shape.noise_std, shape.noise_phi)
    rel = np.clip(rel.ravel() * (1.0 + noise), 0.0, None)
    rel /= rel.max()
    rel.flags.writeable = False
    return rel


@functools.lru_cache(maxsize=64)
def _quarter_factor(park_type: str, seed: int, year: int) -> np.ndarray:
    """Quarter-hour factors of one calendar year, shape (hours, 4), each row's mean exactly 1
    (read-only)."""
    shape = _SHAPES[park_type]
    hours = 24 * (366 if pd.Timestamp(year=year, month=12, day=31).day_of_year == 366 else 365)
    rng = np.random.default_rng([seed, year, PARK_TYPES.index(park_type), 15])
    z = np.clip(rng.standard_normal((hours, 4)), -3.0, 3.0) * shape.quarter_std
    z -= z.mean(axis=1, keepdims=True)
    f = 1.0 + z
    f.flags.writeable = False
    return f


def _hour_and_quarter(time: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calendar year, hour of the year and quarter of the hour (0..3) of each step start."""
    years = time.year.to_numpy()
    year_start = time.normalize() - pd.to_timedelta(time.day_of_year - 1, unit="D")
    hours = np.asarray((time - year_start) / pd.Timedelta(hours=1), dtype=np.float64)
    hour_idx = np.floor(hours + 1e-9).astype(np.int64)
    quarter = (time.minute.to_numpy() // 15).astype(np.int64)
    return years, hour_idx, quarter


def _step_quarters(time: pd.DatetimeIndex, park_type: str, seed: int,
                   dt_h: float) -> np.ndarray:
    """Quarter-hour factors of each step's quarters, shape (T, n) with n = 4·dt_h."""
    n = max(int(round(dt_h * 4)), 1)
    years, hour_idx, quarter = _hour_and_quarter(time)
    out = np.empty((len(time), n))
    cols = np.minimum(quarter[:, None] + np.arange(n)[None, :], 3)  # steps start on the grid
    for y in np.unique(years):
        mask = years == y
        out[mask] = _quarter_factor(park_type, int(seed), int(y))[hour_idx[mask][:, None],
                                                                  cols[mask]]
    return out


def synthetic_peak_ratio(time: pd.DatetimeIndex, *, park_type: str, seed: int,
                         dt_h: float) -> np.ndarray:
    """Highest 15-min average over the step's mean of the synthetic load, per step [-].

    The quarter-hour variation of :func:`synthetic_load_kw` (see the module docstring), as the
    ratio the billed demand (highest 15-min average) bears to the step's mean power: 1 at 15-min
    steps, ``max(f_q) / mean(f_q)`` over the step's quarters otherwise.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Step starts, tz-naive local standard time, regular step ``dt_h``.
    park_type : str
        One of :data:`PARK_TYPES` (checked by :func:`synthetic_load_kw`).
    seed : int
        Seed of the load; same seed, same variation.
    dt_h : float [h]
        Step length (1, 0.5 or 0.25).

    Returns
    -------
    numpy.ndarray [-]
        Ratio ≥ 1, one per step.
    """
    f = _step_quarters(time, park_type, seed, dt_h)
    return f.max(axis=1) / f.mean(axis=1)


def synthetic_load_kw(
    time: pd.DatetimeIndex,
    *,
    park_type: str,
    peak_kw: float,
    seed: int,
    dt_h: float,
    field: str = "loads",
) -> np.ndarray:
    """Synthetic electricity load of an industrial park.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Step starts, tz-naive local standard time, regular step ``dt_h``.
    park_type : str
        One of :data:`PARK_TYPES`: ``"continuous_process"`` (24/7 process industry), ``"two_shift"``
        (manufacturing, two shifts 08:00–24:00), ``"logistics"`` (night sorting peak),
        ``"office"`` (office/commercial), ``"data_centre"``.
    peak_kw : float [kW]
        Maximum of the load over each whole calendar year (> 0).
    seed : int
        Seed of the noise and weather anomaly (>= 0); same seed, same load.
    dt_h : float [h]
        Step length (1, 0.5 or 0.25); sub-hourly steps vary around the hour's value by the
        seeded quarter-hour factors (the hour's mean is kept exactly).
    field : str
        Field path used in errors.

    Returns
    -------
    numpy.ndarray [kW]
        Load, one value per step (mean power over the step).

    Raises
    ------
    ScenarioError
        Unknown ``park_type``, ``peak_kw`` not > 0, negative ``seed``, or a bad time index.
    """
    if park_type not in _SHAPES:
        raise ScenarioError(f"{field}.park_type", park_type, f"one of {list(PARK_TYPES)}")
    if not np.isfinite(peak_kw) or peak_kw <= 0:
        raise ScenarioError(f"{field}.peak_kw", peak_kw, "a finite number > 0 [kW]")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"{field}.seed", seed, "an integer >= 0")
    check_time_index(time, dt_h)

    out = np.empty(len(time))
    years, hour_idx, _ = _hour_and_quarter(time)
    for y in np.unique(years):  # one whole-year shape per calendar year touched
        mask = years == y
        out[mask] = _year_shape(park_type, int(seed), int(y))[hour_idx[mask]] * peak_kw
    if dt_h < 1.0:
        out *= _step_quarters(time, park_type, int(seed), dt_h).mean(axis=1)
    return out
