"""Solar resource and photovoltaic output.

Owns: synthetic weather (pvlib clear sky times a seeded stochastic clearness model), reading measured
or typical-year weather files (EPW, TMY3, csv) onto the scenario time axis, PV AC and DC power with
pvlib (PVWatts chain), the specific-yield metric, and the climate presets in ``models/climate.yaml``.

Time convention: ``time`` is a tz-naive ``pd.DatetimeIndex`` of step START instants in the site's
local standard time (fixed offset ``utc_offset_h`` [h] east of UTC, no daylight saving) with a regular
step ``dt_h`` [h]. Every value of a step is the mean over the step; sun position and irradiance are
evaluated at the step midpoint.

Nothing here touches the network: pvlib's Linke turbidity climatology is the ``LinkeTurbidities.h5``
file bundled with pvlib.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib
import yaml
from scipy import interpolate, signal, special, stats

from zeropark.errors import ScenarioError

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Columns of every weather frame: irradiance [W/m2], air temperature [°C], wind speed [m/s]."""

WEATHER_FORMATS: tuple[str, ...] = ("epw", "tmy3", "csv")
TEMPERATURE_MODELS: tuple[str, ...] = tuple(pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"])

CLEARNESS_MIN = 0.05
"""Lowest daily clearness [-]: even a heavily overcast day keeps ~5 % of clear-sky GHI."""
CLEARNESS_MAX = 1.0
DAY_TO_DAY_CORRELATION = 0.4
"""Lag-1 autocorrelation of the daily clearness: weather systems persist for a few days."""
INTRADAY_CORRELATION_TIME_H = 1.0
"""e-folding time [h] of the within-day clearness fluctuations (passing cloud fields)."""
WIND_SPEED_M_PER_S = 2.0
"""Mean wind speed [m/s] of synthetic weather and of csv files without a wind column."""
ALBEDO = 0.2

_CUM_DAYS = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365])
_MONTH_MID_DOY = (_CUM_DAYS[:-1] + _CUM_DAYS[1:]) / 2.0
_HOURS_PER_TYPICAL_YEAR = 8760
_CLIMATE_FILE = "climate.yaml"


# time axis


def _step_h(time: pd.DatetimeIndex, field: str = "time") -> float:
    """Validate the scenario time axis and return its step [h]."""
    if not isinstance(time, pd.DatetimeIndex):
        raise ScenarioError(field, type(time).__name__, "a pandas DatetimeIndex of step starts")
    if time.tz is not None:
        raise ScenarioError(field, str(time.tz), "tz-naive local standard time (give utc_offset_h)")
    if len(time) < 2:
        if len(time) == 1 and time.freq is not None:
            return pd.to_timedelta(time.freq) / pd.Timedelta(hours=1)
        raise ScenarioError(field, len(time), "at least 2 steps, or 1 step with a freq")
    steps_h = np.asarray((time[1:] - time[:-1]) / pd.Timedelta(hours=1), dtype=float)
    if (steps_h <= 0).any():
        i = int(np.argmax(steps_h <= 0))
        raise ScenarioError(field, str(time[i + 1]), f"strictly increasing times (after {time[i]})")
    if not np.allclose(steps_h, steps_h[0], rtol=0, atol=1e-9):
        raise ScenarioError(field, sorted(set(steps_h.round(6))), "a regular step")
    return float(steps_h[0])


def _check_offset(utc_offset_h: float, field: str) -> datetime.timezone:
    if not np.isfinite(utc_offset_h) or not -12.0 <= utc_offset_h <= 14.0:
        raise ScenarioError(field, utc_offset_h, "a UTC offset in [-12, 14] h (8.0 for China)")
    return datetime.timezone(datetime.timedelta(hours=float(utc_offset_h)))


def _midpoints_utc(time: pd.DatetimeIndex, dt_h: float, utc_offset_h: float) -> pd.DatetimeIndex:
    """Step midpoints as tz-aware UTC instants (pvlib works in UTC to support fractional offsets)."""
    tz = _check_offset(utc_offset_h, "utc_offset_h")
    return (time + pd.Timedelta(hours=dt_h / 2.0)).tz_localize(tz).tz_convert("UTC")


def _check_site(latitude: float, longitude: float, altitude_m: float, field: str) -> None:
    if not np.isfinite(latitude) or not -90.0 <= latitude <= 90.0:
        raise ScenarioError(f"{field}.latitude", latitude, "degrees north in [-90, 90]")
    if not np.isfinite(longitude) or not -180.0 <= longitude <= 180.0:
        raise ScenarioError(f"{field}.longitude", longitude, "degrees east in [-180, 180]")
    if not np.isfinite(altitude_m) or not -500.0 <= altitude_m <= 9000.0:
        raise ScenarioError(f"{field}.altitude_m", altitude_m, "metres above sea level")


# synthetic weather


def _clearsky(
    mid_utc: pd.DatetimeIndex, solpos: pd.DataFrame, latitude: float, longitude: float,
    altitude_m: float,
) -> pd.DataFrame:
    """Clear-sky GHI/DNI/DHI [W/m2]: Ineichen with pvlib's bundled Linke turbidity climatology.

    The climatology is read from ``LinkeTurbidities.h5`` inside pvlib (h5py, no network). If that
    file or h5py is missing, Simplified Solis with pvlib's default aerosol (AOD700 = 0.1) and
    precipitable water (1 cm) is used instead, with a warning; it is ~5-10 % brighter in hazy
    eastern China, which the calibrated clearness would then not compensate.
    """
    location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    try:
        return location.get_clearsky(mid_utc, model="ineichen", solar_position=solpos)
    except (ImportError, OSError) as exc:
        warnings.warn(
            f"Linke turbidity climatology unavailable ({exc}); using simplified_solis clear sky",
            UserWarning, stacklevel=3,
        )
        return location.get_clearsky(mid_utc, model="simplified_solis", solar_position=solpos)


def _latitude_temperature_c(latitude: float) -> np.ndarray:
    """Monthly mean air temperature [°C] from latitude alone.

    A coarse fit to the 1991-2020 normals of Guangzhou (23 N), Suzhou (31 N) and Hohhot (41 N):
    annual mean 22.5 - 0.8 (|lat| - 23) °C, half seasonal range 7.8 + 0.5 (|lat| - 23) °C, coldest
    in mid-January (mid-July south of the equator). Monsoon East Asia only; elsewhere pass
    ``monthly_temp_air_c``.
    """
    lat = abs(latitude)
    mean_c = 22.5 - 0.8 * (lat - 23.0)
    half_range_c = max(1.0, 7.8 + 0.5 * (lat - 23.0))
    phase = np.cos(2.0 * np.pi * (_MONTH_MID_DOY - 15.0) / 365.0)
    return mean_c - np.sign(latitude or 1.0) * half_range_c * phase


def _smooth_monthly(time_mid: pd.DatetimeIndex, monthly: np.ndarray) -> np.ndarray:
    """Interpolate 12 monthly means linearly between mid-month days, cyclically over the year."""
    doy = np.asarray(time_mid.dayofyear, dtype=float) - 1.0 + np.asarray(time_mid.hour) / 24.0
    xp = np.concatenate([_MONTH_MID_DOY - 365.0, _MONTH_MID_DOY, _MONTH_MID_DOY + 365.0])
    return np.interp(doy, xp, np.tile(monthly, 3))


def _check_monthly(values: Sequence[float], lo: float, hi: float, field: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ScenarioError(field, values, "12 numbers, January to December") from None
    if arr.shape != (12,) or not np.isfinite(arr).all():
        raise ScenarioError(field, values, "12 finite numbers, January to December")
    if (arr <= lo).any() or (arr > hi).any():
        raise ScenarioError(field, values, f"every value in ({lo}, {hi}]")
    return arr


def _daily_clearness(
    rng: np.random.Generator, mean_by_day: np.ndarray, variability: float
) -> np.ndarray:
    """Daily clearness: an AR(1) Gaussian copula mapped onto a scaled Beta distribution.

    The Beta variable lives on [CLEARNESS_MIN, CLEARNESS_MAX]; with mean mu (rescaled to [0, 1]) its
    variance is ``variability * mu (1 - mu)``: 0 gives every day the monthly mean, values near 1 give
    only fully clear or fully overcast days.
    """
    z = rng.standard_normal(mean_by_day.size)
    if z.size > 1:
        phi = DAY_TO_DAY_CORRELATION
        innovations = np.sqrt(1.0 - phi**2) * z[1:]
        z[1:] = signal.lfilter([1.0], [1.0, -phi], innovations, zi=[phi * z[0]])[0]
    span = CLEARNESS_MAX - CLEARNESS_MIN
    mu = np.clip((mean_by_day - CLEARNESS_MIN) / span, 1e-3, 1.0 - 1e-3)
    if variability == 0.0:
        return CLEARNESS_MIN + span * mu
    concentration = 1.0 / variability - 1.0
    u = np.clip(special.ndtr(z), 1e-9, 1.0 - 1e-9)
    return CLEARNESS_MIN + span * stats.beta.ppf(u, mu * concentration, (1 - mu) * concentration)


def _match_monthly_mean(
    k_day: np.ndarray, clear_kwh_day: np.ndarray, month_code: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Rescale daily clearness so each month's clear-sky-weighted mean equals its target exactly.

    Clipping to [CLEARNESS_MIN, CLEARNESS_MAX] after a rescale shifts the mean again, so a few
    fixed-point iterations (vectorized over all days) are run.
    """
    weight = np.bincount(month_code, clear_kwh_day)
    target_month = np.zeros(weight.size)
    target_month[month_code] = target
    for _ in range(12):
        mean = np.bincount(month_code, k_day * clear_kwh_day) / np.where(weight > 0, weight, 1.0)
        factor = np.where(mean > 0, target_month / np.where(mean > 0, mean, 1.0), 1.0)
        k_day = np.clip(k_day * factor[month_code], CLEARNESS_MIN, CLEARNESS_MAX)
    return k_day


def clearsky_weather(
    time: pd.DatetimeIndex,
    *,
    latitude: float,
    longitude: float,
    altitude_m: float,
    utc_offset_h: float,
    monthly_clearness: Sequence[float],
    seed: int,
    variability: float = 0.3,
    monthly_temp_air_c: Sequence[float] | None = None,
    field: str = "weather",
) -> pd.DataFrame:
    """Synthetic weather: pvlib clear sky times a seeded stochastic clearness, split by Erbs.

    Clearness k (actual / clear-sky GHI) is built in three layers:

    1. a daily value per calendar day, Beta-distributed around the month's ``monthly_clearness``
       with variance ``variability * mu (1 - mu)`` (mu the mean rescaled to the Beta's support
       [0.05, 1.0]) and day-to-day persistence from an AR(1) Gaussian copula (lag-1 correlation
       0.4), so runs of cloudy and sunny days alternate;
    2. a per-month rescale (weighted by each day's clear-sky energy) so that every month's
       sum(GHI) / sum(clear-sky GHI) equals ``monthly_clearness`` exactly (up to clipping at 1.0);
    3. within-day fluctuations, an AR(1) process with 1 h e-folding time and relative standard
       deviation ``2 variability (1 - k_day)`` (largest on broken-cloud days), renormalized so each
       day keeps its daily clearness.

    GHI is split into DNI and DHI with :func:`pvlib.irradiance.erbs`; DNI is capped at the
    clear-sky DNI and DHI closes the balance. Air temperature follows the monthly climatology
    (interpolated between mid-months) plus a diurnal cosine peaking at 15:00 whose half-amplitude
    1 + 5.5 k_day [°C] grows on clear days. Wind speed is 2 m/s with a ±0.8 m/s afternoon-peaking
    diurnal cycle.

    Parameters
    ----------
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    latitude, longitude : float [deg]
        Site, degrees north and east.
    altitude_m : float [m]
        Site altitude above sea level.
    utc_offset_h : float [h]
        Fixed offset of local standard time from UTC (8.0 for China).
    monthly_clearness : sequence of 12 float [-]
        Mean ratio of actual to clear-sky GHI per calendar month, in (0.05, 1].
    seed : int
        Seed of the random generator; the same inputs and seed give identical output.
    variability : float [-], default 0.3
        Spread of the daily clearness in [0, 1); 0 gives a deterministic, scaled clear sky.
    monthly_temp_air_c : sequence of 12 float [°C], optional
        Monthly mean air temperature; default: a latitude fit for monsoon East Asia.
    field : str, default "weather"
        Dotted path prefix used in error messages.

    Returns
    -------
    pd.DataFrame
        Columns ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], indexed by
        ``time``; each value is the mean over its step.
    """
    dt_h = _step_h(time)
    _check_site(latitude, longitude, altitude_m, field)
    target = _check_monthly(
        monthly_clearness, CLEARNESS_MIN, CLEARNESS_MAX, f"{field}.monthly_clearness"
    )
    if monthly_temp_air_c is None:
        temp_monthly_c = _latitude_temperature_c(latitude)
    else:
        temp_monthly_c = _check_monthly(monthly_temp_air_c, -60.0, 50.0, f"{field}.monthly_temp_air_c")
    if not (isinstance(variability, int | float) and 0.0 <= variability < 1.0):
        raise ScenarioError(f"{field}.variability", variability, "a number in [0, 1)")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ScenarioError(f"{field}.seed", seed, "an integer")

    mid_utc = _midpoints_utc(time, dt_h, utc_offset_h)
    solpos = pvlib.solarposition.get_solarposition(mid_utc, latitude, longitude, altitude_m)
    clear = _clearsky(mid_utc, solpos, latitude, longitude, altitude_m)
    clear_ghi = clear["ghi"].to_numpy()

    day_code, days = pd.factorize(time.normalize())
    month_code, _ = pd.factorize(np.asarray(days.year) * 12 + np.asarray(days.month))
    clear_day = np.bincount(day_code, clear_ghi)
    rng = np.random.default_rng(int(seed))
    target_day = target[np.asarray(days.month) - 1]
    k_day = _daily_clearness(rng, target_day, float(variability))
    k_day = _match_monthly_mean(k_day, clear_day, month_code, target_day)

    eps = rng.standard_normal(len(time))
    phi = np.exp(-dt_h / INTRADAY_CORRELATION_TIME_H)
    eps[1:] = signal.lfilter(
        [1.0], [1.0, -phi], np.sqrt(1.0 - phi**2) * eps[1:], zi=[phi * eps[0]]
    )[0]
    k_step = k_day[day_code] * (1.0 + 2.0 * variability * (1.0 - k_day[day_code]) * eps)
    k_step = np.clip(k_step, 0.02, 1.05)
    actual_day = np.bincount(day_code, k_step * clear_ghi)
    wanted_day = k_day * clear_day
    rescale = np.where(actual_day > 0, wanted_day / np.where(actual_day > 0, actual_day, 1.0), 1.0)
    ghi = k_step * rescale[day_code] * clear_ghi

    zenith = solpos["zenith"].to_numpy()
    split = pvlib.irradiance.erbs(pd.Series(ghi, index=mid_utc), solpos["zenith"], mid_utc)
    cos_zenith = np.clip(np.cos(np.radians(zenith)), 0.0, None)
    dni = np.minimum(np.nan_to_num(split["dni"].to_numpy()), clear["dni"].to_numpy())
    dhi = np.clip(ghi - dni * cos_zenith, 0.0, None)

    hour_mid = np.asarray((time + pd.Timedelta(hours=dt_h / 2.0)).hour, dtype=float) + (
        np.asarray((time + pd.Timedelta(hours=dt_h / 2.0)).minute, dtype=float) / 60.0
    )
    diurnal = np.cos(2.0 * np.pi * (hour_mid - 15.0) / 24.0)
    temp_air = _smooth_monthly(time + pd.Timedelta(hours=dt_h / 2.0), temp_monthly_c)
    temp_air = temp_air + (1.0 + 5.5 * k_day[day_code]) * diurnal
    wind = WIND_SPEED_M_PER_S + 0.8 * np.cos(2.0 * np.pi * (hour_mid - 14.0) / 24.0)
    return pd.DataFrame(
        {"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp_air, "wind_speed": wind},
        index=time,
    )


# climate presets


def _models_dir() -> Path:
    """``zeropark/models`` in an installed wheel, else ``models/`` at the root of a checkout."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "models"
    return packaged if packaged.is_dir() else here.parents[3] / "models"


def load_climate_preset(key: str, *, field: str = "weather.climate") -> dict[str, Any]:
    """One entry of ``models/climate.yaml``.

    Parameters
    ----------
    key : str
        Preset name, e.g. ``"yangtze-delta"``.
    field : str, default "weather.climate"
        Dotted path used in error messages.

    Returns
    -------
    dict
        ``source, year, monthly_clearness`` (12 [-]), ``monthly_temp_air_c`` (12 [°C]),
        ``reference_site`` (``name, latitude, longitude, altitude_m``) and ``notes``.
    """
    with open(_models_dir() / _CLIMATE_FILE, encoding="utf-8") as fh:
        presets = yaml.safe_load(fh)["presets"]
    if key not in presets:
        raise ScenarioError(field, key, f"one of {sorted(presets)}")
    return dict(presets[key])


# weather files


def _typical_hour(time: pd.DatetimeIndex) -> np.ndarray:
    """Hours since 1 January 00:00 on a 365-day calendar; 29 February reuses 28 February."""
    month = np.asarray(time.month, dtype=int)
    day = np.asarray(time.day, dtype=int)
    day = np.where((month == 2) & (day == 29), 28, day)
    hours = (
        np.asarray(time.hour, dtype=float) + np.asarray(time.minute, dtype=float) / 60.0
        + np.asarray(time.second, dtype=float) / 3600.0
    )
    return (_CUM_DAYS[month - 1] + day - 1) * 24.0 + hours


def _unreadable(field: str, path: Path, fmt: str, exc: Exception) -> ScenarioError:
    return ScenarioError(field, str(path), f"a readable {fmt} weather file ({exc})")


def _read_typical_year(path: Path, fmt: str, field: str) -> tuple[np.ndarray, float]:
    """Hourly values (8760 x 5) of an EPW/TMY3 typical year, in file time order, and its UTC offset."""
    try:
        if fmt == "epw":
            # a leap coerce_year lets rows dated 29 February parse; only month/day/hour are used
            data, meta = pvlib.iotools.read_epw(path, coerce_year=2024)
            month = data["month"].to_numpy(dtype=int)
            day = data["day"].to_numpy(dtype=int)
            hour = data["hour"].to_numpy(dtype=int) - 1
            missing_codes = {"ghi": 9999, "dni": 9999, "dhi": 9999, "temp_air": 99.9,
                             "wind_speed": 999}
        else:
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
            start = data.index - pd.Timedelta(hours=1)  # TMY3 stamps the end of the hour
            month, day, hour = (np.asarray(start.month), np.asarray(start.day),
                                np.asarray(start.hour))
            missing_codes = {}
        file_tz = float(meta["TZ"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, OSError,
            UnicodeDecodeError) as exc:
        raise _unreadable(field, path, fmt, exc) from exc
    absent = [c for c in WEATHER_COLUMNS if c not in data.columns]
    if absent:
        raise ScenarioError(field, str(path), f"columns {list(WEATHER_COLUMNS)}; missing {absent}")
    values = data[list(WEATHER_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    for column, code in missing_codes.items():
        values[column] = values[column].mask(values[column] >= code)
    values = values.mask(values <= -9000.0)  # TMY3 missing-data marker -9900
    _check_no_nan(values, field, path)
    keep = ~((month == 2) & (day == 29))
    values = values.to_numpy(dtype=float)[keep]
    position = (_CUM_DAYS[np.clip(month[keep], 1, 12) - 1] + day[keep] - 1) * 24 + hour[keep]
    if (np.diff(position) <= 0).any():
        row = int(np.argmax(np.diff(position) <= 0)) + 1
        raise ScenarioError(field, str(path), f"times increasing hour by hour; out of order at "
                            f"data row {row} (month {month[keep][row]}, day {day[keep][row]})")
    if not np.array_equal(position, np.arange(_HOURS_PER_TYPICAL_YEAR)):
        raise ScenarioError(field, str(path), f"one record per hour of a 365-day year (8760); "
                            f"got {len(position)} records covering a different set of hours")
    return values, file_tz


def _check_no_nan(values: pd.DataFrame, field: str, path: Path) -> None:
    bad = values.isna()
    if bad.to_numpy().any():
        column = str(bad.any().idxmax())
        row = int(np.argmax(bad[column].to_numpy()))
        raise ScenarioError(field, str(path), f"no missing or non-numeric values; column "
                            f"{column!r} has {int(bad[column].sum())}, first at data row {row}")


def _typical_year_onto(
    hourly: np.ndarray, shift_h: float, time: pd.DatetimeIndex, dt_h: float
) -> np.ndarray:
    """Step means of a cyclic hourly typical year, read at ``time`` shifted by ``shift_h`` [h].

    The cumulative integral of the hourly means is interpolated with a monotone (PCHIP) spline and
    differenced over each step: every hour keeps its exact energy, hourly steps on the hour return
    the file values unchanged, sub-hourly steps vary smoothly, and non-negative quantities such as
    irradiance stay non-negative (and exactly zero through the night).
    """
    pad = 48
    extended = np.concatenate([hourly[-pad:], hourly, hourly[:pad]])
    knots = np.arange(-pad, _HOURS_PER_TYPICAL_YEAR + pad + 1, dtype=float)
    cumulative = np.vstack([np.zeros((1, hourly.shape[1])), np.cumsum(extended, axis=0)])
    spline = interpolate.PchipInterpolator(knots, cumulative, axis=0)
    start = np.mod(_typical_hour(time) + shift_h, _HOURS_PER_TYPICAL_YEAR)
    return (spline(start + dt_h) - spline(start)) / dt_h


def _read_csv(path: Path, time: pd.DatetimeIndex, field: str) -> np.ndarray:
    try:
        data = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(field, path, "csv", exc) from exc
    required = ["time", "ghi", "dni", "dhi", "temp_air"]
    absent = [c for c in required if c not in data.columns]
    if absent:
        raise ScenarioError(field, str(path), f"columns {required} (+ optional wind_speed); "
                            f"missing {absent}")
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(data["time"]))
    except (ValueError, TypeError) as exc:
        raise _unreadable(field, path, "csv", exc) from exc
    if stamps.tz is not None:
        raise ScenarioError(field, str(path), "naive times in local standard time (no offset)")
    if stamps.hasnans:
        raise ScenarioError(field, str(path), "a time on every row")
    if len(stamps) > 1 and not (stamps[1:] > stamps[:-1]).all():
        row = int(np.argmax(~np.asarray(stamps[1:] > stamps[:-1]))) + 1
        raise ScenarioError(field, str(path), f"strictly increasing times; out of order at data "
                            f"row {row} ({stamps[row]})")
    if len(data) != len(time):
        raise ScenarioError(field, str(path), f"{len(time)} rows, one per step from {time[0]} "
                            f"to {time[-1]}; got {len(data)}")
    if not stamps.equals(pd.DatetimeIndex(time)):
        row = int(np.argmax(np.asarray(stamps != time)))
        raise ScenarioError(field, str(path), f"the scenario step starts; row {row} has "
                            f"{stamps[row]}, expected {time[row]}")
    if "wind_speed" not in data.columns:
        data["wind_speed"] = WIND_SPEED_M_PER_S
    values = data[list(WEATHER_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    _check_no_nan(values, field, path)
    return values.to_numpy(dtype=float)


def read_weather_file(
    path: str | Path,
    *,
    fmt: str,
    time: pd.DatetimeIndex,
    utc_offset_h: float,
    field: str,
) -> pd.DataFrame:
    """Weather from a file, as step means on the scenario time axis.

    ``epw`` and ``tmy3`` files are typical years: each record is placed by (month, day, hour) on
    the horizon's own year, shifted from the file's time zone to ``utc_offset_h``, wrapped around
    the year end, and 29 February repeats 28 February. Records are hourly means (as the formats
    define irradiance; temperature and wind are treated the same); steps that are shorter or not
    on the hour get the exact mean of a smooth, energy-conserving interpolation (see
    ``_typical_year_onto``). A ``csv`` file is a measured series with columns
    ``time, ghi, dni, dhi, temp_air[, wind_speed]`` whose ``time`` column must equal ``time``
    (step starts, local standard time); a missing wind column defaults to 2 m/s.

    Parameters
    ----------
    path : str or Path
        Weather file.
    fmt : {"epw", "tmy3", "csv"}
        File format.
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    utc_offset_h : float [h]
        Site's standard-time UTC offset.
    field : str
        Dotted path of the file in the scenario (e.g. ``"weather.path"``), named in every error.

    Returns
    -------
    pd.DataFrame
        Columns ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], indexed by
        ``time``.

    Raises
    ------
    ScenarioError
        Unknown format, missing or unreadable file, missing columns, missing values, wrong number
        of rows (csv), times out of order or not matching the horizon.
    """
    dt_h = _step_h(time)
    tz = _check_offset(utc_offset_h, "utc_offset_h")
    if fmt not in WEATHER_FORMATS:
        raise ScenarioError(field, fmt, f"a weather file format in {list(WEATHER_FORMATS)}")
    file = Path(path)
    if not file.is_file():
        raise ScenarioError(field, str(path), "an existing weather file")
    if fmt == "csv":
        values = _read_csv(file, time, field)
    else:
        hourly, file_tz = _read_typical_year(file, fmt, field)
        shift_h = file_tz - tz.utcoffset(None) / datetime.timedelta(hours=1)
        values = _typical_year_onto(hourly, shift_h, time, dt_h)
        values[:, :3] = np.clip(values[:, :3], 0.0, None)
        values[:, 4] = np.clip(values[:, 4], 0.0, None)
    return pd.DataFrame(values, index=time, columns=list(WEATHER_COLUMNS))


# PV power


def _weather_arrays(weather: pd.DataFrame, time: pd.DatetimeIndex, field: str) -> pd.DataFrame:
    if not isinstance(weather, pd.DataFrame):
        raise ScenarioError(field, type(weather).__name__, "a DataFrame of weather")
    absent = [c for c in WEATHER_COLUMNS if c not in weather.columns]
    if absent:
        raise ScenarioError(field, list(weather.columns), f"columns {list(WEATHER_COLUMNS)}; "
                            f"missing {absent}")
    if len(weather) != len(time):
        raise ScenarioError(field, len(weather), f"{len(time)} rows, one per time step")
    if isinstance(weather.index, pd.DatetimeIndex) and not weather.index.equals(time):
        raise ScenarioError(field, str(weather.index[0]), "an index equal to the time axis")
    values = weather[list(WEATHER_COLUMNS)].astype(float)
    if values.isna().to_numpy().any():
        raise ScenarioError(field, "NaN", "complete weather (no missing values)")
    return values


def _check_pv(
    capacity_kw: float, ac_limit_kw: float, tilt_deg: float, azimuth_deg: float,
    losses_pct: float, temperature_model: str, gamma_pdc_per_c: float,
    inverter_efficiency: float, field: str,
) -> None:
    checks = [
        ("capacity_kw", capacity_kw, 0.0 < capacity_kw < np.inf, "a positive capacity [kWp]"),
        ("ac_limit_kw", ac_limit_kw, 0.0 < ac_limit_kw < np.inf, "a positive limit [kW]"),
        ("tilt_deg", tilt_deg, 0.0 <= tilt_deg <= 90.0, "a tilt in [0, 90] deg"),
        ("azimuth_deg", azimuth_deg, 0.0 <= azimuth_deg <= 360.0,
         "an azimuth in [0, 360] deg, 180 = south"),
        ("losses_pct", losses_pct, 0.0 <= losses_pct < 100.0, "losses in [0, 100) %"),
        ("gamma_pdc_per_c", gamma_pdc_per_c, -0.02 <= gamma_pdc_per_c <= 0.0,
         "a power temperature coefficient in [-0.02, 0] 1/°C"),
        ("inverter_efficiency", inverter_efficiency, 0.0 < inverter_efficiency <= 1.0,
         "an efficiency in (0, 1]"),
    ]
    for name, value, ok, allowed in checks:
        if not ok:
            raise ScenarioError(f"{field}.{name}", value, allowed)
    if temperature_model not in TEMPERATURE_MODELS:
        raise ScenarioError(f"{field}.temperature_model", temperature_model,
                            f"one of {list(TEMPERATURE_MODELS)}")


def pv_ac_power_kw(
    time: pd.DatetimeIndex,
    weather: pd.DataFrame,
    *,
    latitude: float,
    longitude: float,
    altitude_m: float,
    utc_offset_h: float,
    capacity_kw: float,
    ac_limit_kw: float,
    tilt_deg: float,
    azimuth_deg: float,
    losses_pct: float = 14.0,
    temperature_model: str = "open_rack_glass_polymer",
    gamma_pdc_per_c: float = -0.0035,
    inverter_efficiency: float = 0.96,
    dc_output: bool = False,
    field: str = "pv",
) -> np.ndarray:
    """Output [kW] of a fixed PV array: PVWatts chain with pvlib, AC by default.

    Chain: NREL SPA sun position at step midpoints; plane-of-array irradiance with the Hay-Davies
    sky model (albedo 0.2); beam reflection loss with :func:`pvlib.iam.physical`; SAPM cell
    temperature; :func:`pvlib.pvsystem.pvwatts_dc`; then ``losses_pct`` (soiling, wiring,
    mismatch, availability; PVWatts' 14 % default). The inverter is :func:`pvlib.inverter.pvwatts`
    sized so that its AC rating is ``ac_limit_kw`` (``pdc0 = ac_limit_kw / inverter_efficiency``,
    PVWatts v5 part-load curve); a DC/AC ratio above one therefore clips at exactly
    ``ac_limit_kw``. With ``dc_output=True`` (DC-coupled array feeding a DC bus or battery) the
    inverter is skipped and the DC power after losses is clipped at ``ac_limit_kw``, then the
    DC/DC converter rating.

    Parameters
    ----------
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    weather : pd.DataFrame
        ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], one row per step.
    latitude, longitude : float [deg]
        Site, degrees north and east.
    altitude_m : float [m]
        Site altitude.
    utc_offset_h : float [h]
        Standard-time UTC offset.
    capacity_kw : float [kWp]
        DC nameplate at STC.
    ac_limit_kw : float [kW]
        Inverter AC rating (or DC/DC converter rating with ``dc_output``).
    tilt_deg : float [deg]
        Tilt from horizontal.
    azimuth_deg : float [deg]
        Orientation clockwise from north (180 = south).
    losses_pct : float [%], default 14
        DC system losses.
    temperature_model : str, default "open_rack_glass_polymer"
        Key of ``pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS['sapm']``.
    gamma_pdc_per_c : float [1/°C], default -0.0035
        Power temperature coefficient.
    inverter_efficiency : float [-], default 0.96
        Nominal inverter efficiency in (0, 1]; unused with ``dc_output``.
    dc_output : bool, default False
        Return DC power after losses (no inverter) instead of AC.
    field : str, default "pv"
        Dotted path prefix used in error messages, e.g. ``"pv.0"``.

    Returns
    -------
    np.ndarray [kW]
        Mean power of each step, in [0, ac_limit_kw].
    """
    dt_h = _step_h(time)
    _check_site(latitude, longitude, altitude_m, field)
    _check_pv(capacity_kw, ac_limit_kw, tilt_deg, azimuth_deg, losses_pct, temperature_model,
              gamma_pdc_per_c, inverter_efficiency, field)
    values = _weather_arrays(weather, time, f"{field}.weather")
    mid_utc = _midpoints_utc(time, dt_h, utc_offset_h)
    solpos = pvlib.solarposition.get_solarposition(mid_utc, latitude, longitude, altitude_m)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, solpos["apparent_zenith"], solpos["azimuth"],
        *(pd.Series(values[c].to_numpy(), index=mid_utc) for c in ("dni", "ghi", "dhi")),
        dni_extra=pvlib.irradiance.get_extra_radiation(mid_utc), albedo=ALBEDO, model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, solpos["apparent_zenith"], solpos["azimuth"])
    poa_direct = np.nan_to_num(poa["poa_direct"].to_numpy())
    poa_diffuse = np.nan_to_num(poa["poa_diffuse"].to_numpy())
    effective = poa_direct * pvlib.iam.physical(aoi.to_numpy()) + poa_diffuse
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][temperature_model]
    temp_cell = pvlib.temperature.sapm_cell(
        poa_direct + poa_diffuse, values["temp_air"].to_numpy(), values["wind_speed"].to_numpy(),
        **params,
    )
    dc_kw = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, capacity_kw, gamma_pdc_per_c)
    dc_kw = np.clip(np.asarray(dc_kw, dtype=float) * (1.0 - losses_pct / 100.0), 0.0, None)
    if dc_output:
        return np.minimum(dc_kw, ac_limit_kw)
    ac_kw = pvlib.inverter.pvwatts(dc_kw, ac_limit_kw / inverter_efficiency, inverter_efficiency)
    return np.clip(np.asarray(ac_kw, dtype=float), 0.0, ac_limit_kw)


def annual_yield_kwh_per_kwp(power_kw: np.ndarray, capacity_kw: float, dt_h: float) -> float:
    """Specific yield [kWh/kWp]: energy of ``power_kw`` over the series divided by capacity.

    Pass a one-year series for the annual yield; shorter series are not scaled up.

    Parameters
    ----------
    power_kw : array_like [kW]
        Mean power per step.
    capacity_kw : float [kWp]
        DC nameplate.
    dt_h : float [h]
        Step length.

    Returns
    -------
    float [kWh/kWp]
    """
    power = np.asarray(power_kw, dtype=float)
    if not np.isfinite(power).all():
        raise ScenarioError("power_kw", "NaN or inf", "finite power values")
    if not 0.0 < capacity_kw < np.inf:
        raise ScenarioError("capacity_kw", capacity_kw, "a positive capacity [kWp]")
    if not 0.0 < dt_h < np.inf:
        raise ScenarioError("dt_h", dt_h, "a positive step [h]")
    return float(power.sum() * dt_h / capacity_kw)
