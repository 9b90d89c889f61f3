"""Solar resource and photovoltaic output.

Owns: synthetic weather (pvlib clear sky times a seeded stochastic clearness), PV AC/DC power with
pvlib (PVWatts chain) and the specific-yield metric; weather files (EPW, TMY3, PVGIS, csv) are read
by :mod:`zeropark.profiles.weatherfile`. Climate presets for the synthetic weather are
the library kind ``climate`` (``models/climate.yaml``).

``time`` is always a tz-naive ``pd.DatetimeIndex`` of step starts in local standard time (fixed
offset ``utc_offset_h`` [h] east of UTC, no daylight saving) with a regular step ``dt_h`` [h]. Every
value of a step is its mean over the step; the sun is placed at the step midpoint. Nothing here uses
the network: the Linke turbidity climatology is the ``LinkeTurbidities.h5`` file shipped in pvlib.
"""

from __future__ import annotations

import datetime
import functools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pvlib
from scipy import special

from zeropark.errors import ScenarioError
from zeropark.profiles.noise import ar1_filter, day_ordinals

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Columns of every weather frame: irradiance [W/m2], air temperature [°C], wind speed [m/s]."""
WEATHER_FORMATS: tuple[str, ...] = ("epw", "tmy3", "pvgis", "csv")
TEMPERATURE_MODELS: tuple[str, ...] = tuple(pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"])
CLEARNESS_MIN = 0.05  # [-] even a heavily overcast day keeps ~5 % of clear-sky GHI
CLEARNESS_MAX = 1.0
DAY_TO_DAY_CORRELATION = 0.4  # lag-1 autocorrelation of daily clearness (weather persists)
INTRADAY_CORRELATION_TIME_H = 1.0  # e-folding time of within-day clearness fluctuations
WIND_SPEED_M_PER_S = 2.0  # synthetic weather, and csv files without a wind column
ALBEDO = 0.2

_CUM_DAYS = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365])
_MONTH_MID_DOY = (_CUM_DAYS[:-1] + _CUM_DAYS[1:]) / 2.0
_TYPICAL_YEAR_H = 8760


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


def _fixed_tz(utc_offset_h: float) -> datetime.timezone:
    if not np.isfinite(utc_offset_h) or not -12.0 <= utc_offset_h <= 14.0:
        raise ScenarioError("utc_offset_h", utc_offset_h, "an offset in [-12, 14] h (8 for China)")
    return datetime.timezone(datetime.timedelta(hours=float(utc_offset_h)))


def _midpoints_utc(time: pd.DatetimeIndex, dt_h: float, utc_offset_h: float) -> pd.DatetimeIndex:
    """Step midpoints as UTC instants (pvlib's Location cannot hold a bare fixed offset)."""
    tz = _fixed_tz(utc_offset_h)
    return (time + pd.Timedelta(hours=dt_h / 2.0)).tz_localize(tz).tz_convert("UTC")


_SOLPOS_CACHE: dict[tuple[object, ...], pd.DataFrame] = {}
_SOLPOS_CACHE_SIZE = 8


def solar_position(mid_utc: pd.DatetimeIndex, latitude: float, longitude: float,
                   altitude_m: float) -> pd.DataFrame:
    """``pvlib.solarposition.get_solarposition`` (NREL SPA, numpy) at the instants ``mid_utc``.

    A year of hourly steps takes about 0.05 s, and one profile build asks for the same instants
    up to three times (the year's clear-sky days, the synthetic weather, the PV output), so the
    last few answers for regular instants are kept: keyed by first instant, step, length and
    site, returned as copies. Irregular instants are computed every time.
    """
    step = mid_utc.freq
    if step is None and len(mid_utc) >= 3:
        step = pd.infer_freq(mid_utc)
    if step is None:
        return pvlib.solarposition.get_solarposition(mid_utc, latitude, longitude, altitude_m)
    key = (mid_utc[0], str(step), len(mid_utc), float(latitude), float(longitude),
           float(altitude_m))
    hit = _SOLPOS_CACHE.get(key)
    if hit is None:
        hit = pvlib.solarposition.get_solarposition(mid_utc, latitude, longitude, altitude_m)
        if len(_SOLPOS_CACHE) >= _SOLPOS_CACHE_SIZE:
            _SOLPOS_CACHE.pop(next(iter(_SOLPOS_CACHE)))
        _SOLPOS_CACHE[key] = hit
    return hit.copy()


def _check_site(latitude: float, longitude: float, altitude_m: float, field: str) -> None:
    for name, value, lo, hi in (("latitude", latitude, -90.0, 90.0),
                                ("longitude", longitude, -180.0, 180.0),
                                ("altitude_m", altitude_m, -500.0, 9000.0)):
        if not np.isfinite(value) or not lo <= value <= hi:
            raise ScenarioError(f"{field}.{name}", value, f"a value in [{lo}, {hi}]")


def _clearsky(
    mid_utc: pd.DatetimeIndex, solpos: pd.DataFrame, latitude: float, longitude: float,
    altitude_m: float,
) -> pd.DataFrame:
    """Clear-sky GHI/DNI/DHI [W/m2]: Ineichen with pvlib's bundled Linke turbidity climatology.

    Without h5py or that file, Simplified Solis (pvlib defaults: AOD700 0.1, precipitable water
    1 cm) is used with a warning; it is brighter than Ineichen in hazy eastern China, so presets
    calibrated against Ineichen then overestimate yield by several percent.
    """
    location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    try:
        return location.get_clearsky(mid_utc, model="ineichen", solar_position=solpos)
    except (ImportError, OSError) as exc:
        warnings.warn(f"Linke turbidity climatology unavailable ({exc}); using simplified_solis",
                      UserWarning, stacklevel=3)
        return location.get_clearsky(mid_utc, model="simplified_solis", solar_position=solpos)


def _latitude_temperature_c(latitude: float) -> np.ndarray:
    """Monthly mean air temperature [°C] from latitude: a coarse fit for monsoon East Asia.

    Fitted by eye to the normals of Guangzhou (23 N), Suzhou (31 N) and Hohhot (41 N): annual mean
    22.5 - 0.8 (|lat| - 23) °C, half seasonal range 7.8 + 0.5 (|lat| - 23) °C, coldest mid-January.
    """
    lat = abs(latitude)
    half_range_c = max(1.0, 7.8 + 0.5 * (lat - 23.0))
    phase = np.cos(2.0 * np.pi * (_MONTH_MID_DOY - 15.0) / 365.0)
    return 22.5 - 0.8 * (lat - 23.0) - np.sign(latitude or 1.0) * half_range_c * phase


def _check_monthly(values: Sequence[float], lo: float, hi: float, field: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ScenarioError(field, values, "12 numbers, January to December") from None
    if arr.shape != (12,) or not np.isfinite(arr).all() or (arr <= lo).any() or (arr > hi).any():
        raise ScenarioError(field, values, f"12 numbers (January to December) in ({lo}, {hi}]")
    return arr


def _ar1(z: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance AR(1) series with lag-1 correlation ``phi`` from white noise ``z``."""
    out = z.copy()
    if z.size > 1:
        innovations = np.sqrt(1.0 - phi**2) * z[1:]
        out[1:] = ar1_filter(innovations, phi, y_prev=z[0])
    return out


def _daily_clearness(
    rng: np.random.Generator, mean_by_day: np.ndarray, variability: float
) -> np.ndarray:
    """AR(1) Gaussian copula mapped onto a Beta law on [CLEARNESS_MIN, CLEARNESS_MAX]."""
    z = _ar1(rng.standard_normal(mean_by_day.size), DAY_TO_DAY_CORRELATION)
    span = CLEARNESS_MAX - CLEARNESS_MIN
    mu = np.clip((mean_by_day - CLEARNESS_MIN) / span, 1e-3, 1.0 - 1e-3)
    if variability < 1e-6:  # the Beta law degenerates to its mean
        return CLEARNESS_MIN + span * mu
    concentration = 1.0 / variability - 1.0  # Beta variance = variability * mu (1 - mu)
    u = np.clip(special.ndtr(z), 1e-9, 1.0 - 1e-9)
    # the Beta quantile function (what scipy.stats.beta.ppf evaluates, without importing stats)
    return CLEARNESS_MIN + span * special.betaincinv(mu * concentration, (1 - mu) * concentration, u)


def _match_monthly_mean(
    k_day: np.ndarray, clear_day: np.ndarray, month_code: np.ndarray, target_day: np.ndarray
) -> np.ndarray:
    """Rescale daily clearness so each month's clear-sky-weighted mean equals its target.

    Clipping at the bounds after a rescale moves the mean again, hence a few fixed-point passes.
    """
    weight = np.bincount(month_code, clear_day)
    weight = np.where(weight > 0, weight, 1.0)
    target = np.zeros(weight.size)
    target[month_code] = target_day
    for _ in range(12):
        mean = np.bincount(month_code, k_day * clear_day) / weight
        factor = np.divide(target, mean, out=np.ones_like(mean), where=mean > 0)
        k_day = np.clip(k_day * factor[month_code], CLEARNESS_MIN, CLEARNESS_MAX)
    return k_day



def _whole_days(time: pd.DatetimeIndex, dt_h: float) -> pd.DatetimeIndex:
    """The window extended to whole calendar days on its own step grid (same phase)."""
    step = pd.Timedelta(hours=dt_h)
    first_day = time[0].normalize()
    before = int((time[0] - first_day) // step)
    end = time[-1].normalize() + pd.Timedelta(days=1)
    after = int(-((time[-1] - end) // step)) - 1  # steps after time[-1] that still start in the day
    return pd.date_range(time[0] - before * step, time[-1] + after * step, freq=step)


@functools.lru_cache(maxsize=32)
def _year_clear_day_wh(latitude: float, longitude: float, altitude_m: float, utc_offset_h: float,
                       year: int) -> np.ndarray:
    """Clear-sky GHI of each day of a calendar year [Wh/m2], hourly midpoints (read-only)."""
    hours = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", inclusive="left")
    mid_utc = _midpoints_utc(hours, 1.0, utc_offset_h)
    solpos = solar_position(mid_utc, latitude, longitude, altitude_m)
    ghi = _clearsky(mid_utc, solpos, latitude, longitude, altitude_m)["ghi"].to_numpy()
    out = np.bincount(np.asarray(hours.day_of_year) - 1, ghi)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=32)
def _year_clearness(latitude: float, longitude: float, altitude_m: float, utc_offset_h: float,
                    target: tuple[float, ...], seed: int, variability: float,
                    year: int) -> np.ndarray:
    """Daily clearness of every day of a calendar year (read-only).

    One random stream per (seed, year): the day-to-day AR(1) runs over the calendar year and the
    monthly rescale weighs each month's days by their clear-sky GHI (hourly), so a day's
    clearness does not depend on the window asked for.
    """
    clear_day = _year_clear_day_wh(latitude, longitude, altitude_m, utc_offset_h, year)
    days = pd.date_range(f"{year}-01-01", periods=clear_day.size, freq="D")
    month = np.asarray(days.month)
    target_day = np.asarray(target)[month - 1]
    rng = np.random.default_rng([seed % 2**63, year])
    k_day = _daily_clearness(rng, target_day, variability)
    k_day = _match_monthly_mean(k_day, clear_day, month - 1, target_day)
    k_day.flags.writeable = False
    return k_day


def _intraday_noise(full: pd.DatetimeIndex, day_code: np.ndarray, days: pd.DatetimeIndex,
                    seed: int, dt_h: float) -> np.ndarray:
    """Unit-variance within-day AR(1) noise, one random stream per (seed, date, step).

    Each day starts afresh (at midnight, where GHI is zero), so a day's noise is the same in
    every window that contains it.
    """
    phi = np.exp(-dt_h / INTRADAY_CORRELATION_TIME_H)
    steps_per_day = int(round(24.0 / dt_h * 1000))
    eps = np.empty(len(full))
    counts = np.bincount(day_code, minlength=len(days))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for i, ordinal in enumerate(day_ordinals(days)):
        rng = np.random.default_rng([seed % 2**63, ordinal, steps_per_day])
        eps[offsets[i]:offsets[i + 1]] = _ar1(rng.standard_normal(int(counts[i])), phi)
    return eps


def clearsky_weather(
    time: pd.DatetimeIndex, *, latitude: float, longitude: float, altitude_m: float,
    utc_offset_h: float, monthly_clearness: Sequence[float], seed: int, variability: float = 0.3,
    monthly_temp_air_c: Sequence[float] | None = None, field: str = "weather",
) -> pd.DataFrame:
    """Synthetic weather: pvlib clear sky times a seeded stochastic clearness, split by Erbs.

    Clearness k (actual / clear-sky GHI) has three layers:

    1. one value per calendar day, Beta-distributed on [0.05, 1] around the month's
       ``monthly_clearness`` with variance ``variability * mu (1 - mu)`` (mu: the mean rescaled to
       [0, 1]), persistent from day to day through an AR(1) Gaussian copula (lag-1 correlation
       0.4), so runs of cloudy and sunny days alternate;
    2. a per-month rescale so that each month's sum(GHI) / sum(clear-sky GHI) equals
       ``monthly_clearness`` (exactly, unless days saturate at 1);
    3. within-day AR(1) fluctuations (1 h e-folding time, relative standard deviation
       ``2 variability (1 - k_day)``: largest on broken-cloud days), renormalized per day.

    GHI is split with :func:`pvlib.irradiance.erbs`, DNI capped at clear-sky DNI, and DHI closes
    the balance. Air temperature: the monthly climatology (linear between mid-months) plus a
    diurnal cosine peaking at 15:00 with half-amplitude 1 + 5.5 k_day [°C]. Wind: 2 m/s ± 0.8 m/s,
    peaking at 14:00.

    Parameters
    ----------
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    latitude, longitude, altitude_m : float [deg], [deg], [m]
        Site: degrees north, degrees east, altitude above sea level.
    utc_offset_h : float [h]
        Standard-time offset from UTC (8.0 for China).
    monthly_clearness : sequence of 12 float [-]
        Mean ratio of actual to clear-sky GHI per calendar month, in (0.05, 1].
    seed : int
        Random seed; same inputs and seed give identical output.
    variability : float [-], default 0.3
        Spread of daily clearness in [0, 1); 0 gives a deterministic, scaled clear sky.
    monthly_temp_air_c : sequence of 12 float [°C], optional
        Monthly mean air temperature; default: a latitude fit for monsoon East Asia.
    field : str, default "weather"
        Dotted path prefix for error messages.

    Returns
    -------
    pd.DataFrame
        ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], indexed by ``time``.
    """
    dt_h = _step_h(time)
    _check_site(latitude, longitude, altitude_m, field)
    target = _check_monthly(monthly_clearness, CLEARNESS_MIN, CLEARNESS_MAX,
                            f"{field}.monthly_clearness")
    temp_monthly_c = (_latitude_temperature_c(latitude) if monthly_temp_air_c is None else
                      _check_monthly(monthly_temp_air_c, -60, 50, f"{field}.monthly_temp_air_c"))
    if isinstance(variability, bool) or not (
            isinstance(variability, int | float) and 0.0 <= variability < 1.0):
        raise ScenarioError(f"{field}.variability", variability, "a number in [0, 1)")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ScenarioError(f"{field}.seed", seed, "an integer")

    # Whole calendar days on the window's step grid: every value of a day depends only on that
    # day (and its year's daily clearness), so a date's weather is the same in any window.
    full = _whole_days(time, dt_h)
    mid_utc = _midpoints_utc(full, dt_h, utc_offset_h)
    solpos = solar_position(mid_utc, latitude, longitude, altitude_m)
    clear = _clearsky(mid_utc, solpos, latitude, longitude, altitude_m)
    clear_ghi = clear["ghi"].to_numpy()

    day_code, days = pd.factorize(full.normalize())
    k_day = np.concatenate([
        _year_clearness(float(latitude), float(longitude), float(altitude_m), float(utc_offset_h),
                        tuple(float(v) for v in target), int(seed), float(variability), int(y))
        [np.asarray(days[days.year == y].day_of_year) - 1]
        for y in pd.unique(np.asarray(days.year))])[day_code]

    eps = _intraday_noise(full, day_code, days, int(seed), dt_h)
    k_step = np.clip(k_day * (1.0 + 2.0 * variability * (1.0 - k_day) * eps), 0.02, 1.05)
    got_day = np.bincount(day_code, k_step * clear_ghi)
    want_day = np.bincount(day_code, k_day * clear_ghi)
    rescale = np.divide(want_day, got_day, out=np.ones_like(got_day), where=got_day > 0)
    ghi = k_step * rescale[day_code] * clear_ghi

    split = pvlib.irradiance.erbs(pd.Series(ghi, index=mid_utc), solpos["zenith"], mid_utc)
    cos_zenith = np.clip(np.cos(np.radians(solpos["zenith"].to_numpy())), 0.0, None)
    dni = np.minimum(np.nan_to_num(split["dni"].to_numpy()), clear["dni"].to_numpy())
    dhi = np.clip(ghi - dni * cos_zenith, 0.0, None)

    mid_local = full + pd.Timedelta(hours=dt_h / 2.0)
    hour = np.asarray(mid_local.hour, dtype=float) + np.asarray(mid_local.minute) / 60.0
    day_of_year = np.asarray(mid_local.day_of_year, dtype=float) - 1.0 + hour / 24.0
    mid_months = np.concatenate([_MONTH_MID_DOY - 365.0, _MONTH_MID_DOY, _MONTH_MID_DOY + 365.0])
    temp_air = np.interp(day_of_year, mid_months, np.tile(temp_monthly_c, 3))
    temp_air += (1.0 + 5.5 * k_day) * np.cos(2.0 * np.pi * (hour - 15.0) / 24.0)
    wind = WIND_SPEED_M_PER_S + 0.8 * np.cos(2.0 * np.pi * (hour - 14.0) / 24.0)
    columns = {"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp_air, "wind_speed": wind}
    pos = full.get_indexer(time)
    return pd.DataFrame({k: v[pos] for k, v in columns.items()}, index=time)


def _weather_frame(weather: pd.DataFrame, time: pd.DatetimeIndex, field: str) -> pd.DataFrame:
    if not isinstance(weather, pd.DataFrame):
        raise ScenarioError(field, type(weather).__name__, "a DataFrame of weather")
    absent = [c for c in WEATHER_COLUMNS if c not in weather.columns]
    if absent:
        raise ScenarioError(field, list(weather.columns), f"columns {list(WEATHER_COLUMNS)}")
    if len(weather) != len(time):
        raise ScenarioError(field, len(weather), f"{len(time)} rows, one per time step")
    if isinstance(weather.index, pd.DatetimeIndex) and not weather.index.equals(time):
        raise ScenarioError(field, str(weather.index[0]), "an index equal to the time axis")
    values = weather[list(WEATHER_COLUMNS)].astype(float)
    if not np.isfinite(values.to_numpy()).all():
        raise ScenarioError(field, "NaN or inf", "complete, finite weather")
    return values


def _check_pv(field: str, temperature_model: str, **values: float) -> None:
    bounds = {"capacity_kw": (0.0, np.inf, False), "ac_limit_kw": (0.0, np.inf, False),
              "tilt_deg": (0.0, 90.0, True), "azimuth_deg": (0.0, 360.0, True),
              "losses_pct": (0.0, 99.9, True), "gamma_pdc_per_c": (-0.02, 0.0, True),
              "inverter_efficiency": (0.0, 1.0, False)}
    for name, value in values.items():
        lo, hi, closed = bounds[name]
        if not np.isfinite(value) or value > hi or value < lo or (value == lo and not closed):
            raise ScenarioError(f"{field}.{name}", value, f"a value in {'[' if closed else '('}"
                                f"{lo}, {hi}]")
    if temperature_model not in TEMPERATURE_MODELS:
        raise ScenarioError(f"{field}.temperature_model", temperature_model,
                            f"one of {list(TEMPERATURE_MODELS)}")


def pv_ac_power_kw(
    time: pd.DatetimeIndex, weather: pd.DataFrame, *, latitude: float, longitude: float,
    altitude_m: float, utc_offset_h: float, capacity_kw: float, ac_limit_kw: float,
    tilt_deg: float, azimuth_deg: float, losses_pct: float = 14.0,
    temperature_model: str = "open_rack_glass_polymer", gamma_pdc_per_c: float = -0.0035,
    inverter_efficiency: float = 0.96, dc_output: bool = False, field: str = "pv",
) -> np.ndarray:
    """Output [kW] of a fixed PV array with the PVWatts chain of pvlib; AC unless ``dc_output``.

    Chain: NREL SPA sun position at step midpoints; plane-of-array irradiance with the Hay-Davies
    sky model (albedo 0.2); beam reflection loss :func:`pvlib.iam.physical`; SAPM cell
    temperature; :func:`pvlib.pvsystem.pvwatts_dc`; then ``losses_pct`` (soiling, wiring,
    mismatch, availability; PVWatts' 14 % default). The inverter is :func:`pvlib.inverter.pvwatts`
    sized so that its AC rating is ``ac_limit_kw`` (``pdc0 = ac_limit_kw / inverter_efficiency``,
    PVWatts v5 part-load curve), so a DC/AC ratio above one clips at exactly ``ac_limit_kw``.
    With ``dc_output=True`` (DC-coupled array on a DC bus or battery) there is no inverter: the
    DC power after losses is clipped at ``ac_limit_kw``, then the DC/DC converter rating.

    Parameters
    ----------
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    weather : pd.DataFrame
        ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], one row per step.
    latitude, longitude, altitude_m : float [deg], [deg], [m]
        Site: degrees north, degrees east, altitude above sea level.
    utc_offset_h : float [h]
        Standard-time offset from UTC.
    capacity_kw : float [kWp]
        DC nameplate at STC.
    ac_limit_kw : float [kW]
        Inverter AC rating (converter rating with ``dc_output``).
    tilt_deg, azimuth_deg : float [deg]
        Tilt from horizontal; orientation clockwise from north (180 = south).
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
        Dotted path prefix for error messages, e.g. ``"pv.0"``.

    Returns
    -------
    np.ndarray [kW]
        Mean power of each step, in [0, ac_limit_kw].
    """
    dt_h = _step_h(time)
    _check_site(latitude, longitude, altitude_m, field)
    _check_pv(field, temperature_model, capacity_kw=capacity_kw, ac_limit_kw=ac_limit_kw,
              tilt_deg=tilt_deg, azimuth_deg=azimuth_deg, losses_pct=losses_pct,
              gamma_pdc_per_c=gamma_pdc_per_c, inverter_efficiency=inverter_efficiency)
    values = _weather_frame(weather, time, f"{field}.weather")
    mid_utc = _midpoints_utc(time, dt_h, utc_offset_h)
    solpos = solar_position(mid_utc, latitude, longitude, altitude_m)
    zenith, azimuth = solpos["apparent_zenith"], solpos["azimuth"]
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, zenith, azimuth,
        *(pd.Series(values[c].to_numpy(), index=mid_utc) for c in ("dni", "ghi", "dhi")),
        dni_extra=pvlib.irradiance.get_extra_radiation(mid_utc), albedo=ALBEDO, model="haydavies",
    )
    aoi = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, zenith, azimuth).to_numpy()
    poa_direct = np.nan_to_num(poa["poa_direct"].to_numpy())
    poa_diffuse = np.nan_to_num(poa["poa_diffuse"].to_numpy())
    effective = poa_direct * pvlib.iam.physical(aoi) + poa_diffuse
    temp_cell = pvlib.temperature.sapm_cell(
        poa_direct + poa_diffuse, values["temp_air"].to_numpy(), values["wind_speed"].to_numpy(),
        **pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][temperature_model],
    )
    dc_kw = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, capacity_kw, gamma_pdc_per_c)
    dc_kw = np.clip(np.asarray(dc_kw, dtype=float) * (1.0 - losses_pct / 100.0), 0.0, None)
    if dc_output:
        return np.minimum(dc_kw, ac_limit_kw)
    ac_kw = pvlib.inverter.pvwatts(dc_kw, ac_limit_kw / inverter_efficiency, inverter_efficiency)
    return np.clip(np.asarray(ac_kw, dtype=float), 0.0, ac_limit_kw)


def pv_dc_power_kw(
    time: pd.DatetimeIndex, weather: pd.DataFrame, *, latitude: float, longitude: float,
    altitude_m: float, utc_offset_h: float, capacity_kw: float, ac_limit_kw: float,
    tilt_deg: float, azimuth_deg: float, losses_pct: float = 14.0,
    temperature_model: str = "open_rack_glass_polymer", gamma_pdc_per_c: float = -0.0035,
    field: str = "pv",
) -> np.ndarray:
    """DC output [kW] of a DC-coupled array: :func:`pv_ac_power_kw` with ``dc_output=True``.

    Same parameters, without the inverter; ``ac_limit_kw`` [kW] is the DC/DC converter rating.
    """
    return pv_ac_power_kw(
        time, weather, latitude=latitude, longitude=longitude, altitude_m=altitude_m,
        utc_offset_h=utc_offset_h, capacity_kw=capacity_kw, ac_limit_kw=ac_limit_kw,
        tilt_deg=tilt_deg, azimuth_deg=azimuth_deg, losses_pct=losses_pct,
        temperature_model=temperature_model, gamma_pdc_per_c=gamma_pdc_per_c, dc_output=True,
        field=field,
    )


def annual_yield_kwh_per_kwp(power_kw: np.ndarray, capacity_kw: float, dt_h: float) -> float:
    """Specific yield [kWh/kWp]: energy of the series over DC capacity (not scaled to a year).

    Parameters
    ----------
    power_kw : array_like [kW]
        Mean power per step; pass one year for the annual yield.
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
