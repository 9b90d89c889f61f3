"""Synthetic electricity loads of Chinese industrial parks, and the Chinese public-holiday calendar.

This module owns (1) the working-day calendar of mainland China — public holidays and the make-up
working days (调休) — and (2) a synthetic hourly load shape per park type built from it: shift
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
from scipy.signal import lfilter

from zeropark.errors import ScenarioError
from zeropark.profiles.csvio import check_time_index

__all__ = [
    "OFFICIAL_HOLIDAY_YEARS",
    "PARK_TYPES",
    "PROVISIONAL_HOLIDAY_YEARS",
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

# Days off (inclusive ranges, weekends inside a range included) and make-up working days (调休),
# from the General Office of the State Council notices
# "国务院办公厅关于<year>年部分节假日安排的通知": 2024 published Oct 2023, 2025 published
# Nov 2024, 2026 published Nov 2025. Cross-checked against the day lists of the `chinesecalendar`
# package 1.11.0.
_OFFICIAL: dict[int, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    2024: (
        (
            ("01-01", "01-01"),  # 元旦
            ("02-10", "02-17"),  # 春节
            ("04-04", "04-06"),  # 清明节
            ("05-01", "05-05"),  # 劳动节
            ("06-10", "06-10"),  # 端午节
            ("09-15", "09-17"),  # 中秋节
            ("10-01", "10-07"),  # 国庆节
        ),
        ("02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"),
    ),
    2025: (
        (
            ("01-01", "01-01"),
            ("01-28", "02-04"),  # 春节, from 2025 including 除夕
            ("04-04", "04-06"),
            ("05-01", "05-05"),
            ("05-31", "06-02"),
            ("10-01", "10-08"),  # 国庆节 + 中秋节
        ),
        ("01-26", "02-08", "04-27", "09-28", "10-11"),
    ),
    2026: (
        (
            ("01-01", "01-03"),
            ("02-15", "02-23"),
            ("04-04", "04-06"),
            ("05-01", "05-05"),
            ("06-19", "06-21"),
            ("09-25", "09-27"),
            ("10-01", "10-07"),
        ),
        ("01-04", "02-14", "02-28", "05-09", "09-20", "10-10"),
    ),
}
# No notice for 2027 had been published when this table was written: 2027 holds the statutory days
# of the 全国年节及纪念日放假办法 (revised by State Council Decree No. 795, in force 2025-01-01) on
# their 2027 lunar/solar dates, without bridging days or make-up working days. Replace with the
# official ranges once the notice is out.
_PROVISIONAL: dict[int, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    2027: (
        (
            ("01-01", "01-01"),
            ("02-05", "02-08"),  # 除夕 .. 初三
            ("04-05", "04-05"),
            ("05-01", "05-02"),
            ("06-09", "06-09"),
            ("09-15", "09-15"),
            ("10-01", "10-03"),
        ),
        (),
    ),
}
#: Years whose holidays come from an official State Council notice.
OFFICIAL_HOLIDAY_YEARS: tuple[int, ...] = tuple(sorted(_OFFICIAL))
#: Years whose holidays are the statutory days only (no notice yet).
PROVISIONAL_HOLIDAY_YEARS: tuple[int, ...] = tuple(sorted(_PROVISIONAL))

# Lunar New Year's Day (春节, 正月初一), Gregorian date; astronomical, from the Chinese lunisolar
# calendar. Used to place the Spring Festival outside the covered years.
_LUNAR_NEW_YEAR: dict[int, str] = {
    2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10", 2025: "01-29",
    2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03", 2031: "01-23",
    2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08",
}  # fmt: skip


def _date(year: int, md: str) -> dt.date:
    return dt.date(year, int(md[:2]), int(md[3:]))


def _ranges(year: int, spans: Iterable[tuple[str, str]]) -> list[tuple[dt.date, dt.date]]:
    return [(_date(year, a), _date(year, b)) for a, b in spans]


def _expand(ranges: Iterable[tuple[dt.date, dt.date]]) -> set[dt.date]:
    days: set[dt.date] = set()
    for a, b in ranges:
        days.update(a + dt.timedelta(days=k) for k in range((b - a).days + 1))
    return days


def _year_ranges(year: int) -> list[tuple[dt.date, dt.date]]:
    """Holiday ranges of one year: official, provisional, or the fixed-date fallback."""
    table = _OFFICIAL.get(year) or _PROVISIONAL.get(year)
    if table is not None:
        return _ranges(year, table[0])
    # Fallback: fixed-date statutory holidays (元旦, 劳动节, 国庆节; 劳动节 2 days from 2025), plus
    # the statutory Spring Festival days where the lunar date is known.
    labour_end = "05-02" if year >= 2025 else "05-01"
    spans = [("01-01", "01-01"), ("05-01", labour_end), ("10-01", "10-03")]
    out = _ranges(year, spans)
    if year in _LUNAR_NEW_YEAR:
        lny = _date(year, _LUNAR_NEW_YEAR[year])
        out.append((lny - dt.timedelta(days=1 if year >= 2025 else 0), lny + dt.timedelta(days=2)))
    return out


def _as_years(years: int | Iterable[int]) -> list[int]:
    return [int(years)] if isinstance(years, int | np.integer) else sorted({int(y) for y in years})


def public_holidays(years: int | Iterable[int]) -> set[dt.date]:
    """Days off for public holidays in mainland China.

    Parameters
    ----------
    years : int or iterable of int
        Calendar years.

    Returns
    -------
    set of datetime.date
        Every day inside an official holiday range (weekend days inside a range included). For
        2024–2026 from the State Council notices; for 2027 the statutory days only (no notice yet);
        for other years the fixed-date statutory holidays (1 Jan, 1 May (and 2 May from 2025),
        1–3 Oct) plus the statutory Spring Festival days for 2020–2035. Weekends are not included
        unless inside a range; see :func:`rest_days`.
    """
    days: set[dt.date] = set()
    for y in _as_years(years):
        days |= _expand(_year_ranges(y))
    return days


def makeup_workdays(years: int | Iterable[int]) -> set[dt.date]:
    """Weekend days that are working days (调休) in mainland China, from the notices (2024–2026)."""
    days: set[dt.date] = set()
    for y in _as_years(years):
        table = _OFFICIAL.get(y) or _PROVISIONAL.get(y)
        if table is not None:
            days.update(_date(y, md) for md in table[1])
    return days


def spring_festival_days(years: int | Iterable[int]) -> set[dt.date]:
    """Days off of the Spring Festival holiday (the holiday range holding Lunar New Year's Day)."""
    days: set[dt.date] = set()
    for y in _as_years(years):
        if y not in _LUNAR_NEW_YEAR:
            continue
        lny = _date(y, _LUNAR_NEW_YEAR[y])
        days |= _expand(r for r in _year_ranges(y) if r[0] <= lny <= r[1])
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
    out, _ = lfilter([1.0], [1.0, -phi], z, zi=[phi * x0])
    return np.asarray(out)


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
