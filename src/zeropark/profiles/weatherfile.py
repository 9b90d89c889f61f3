"""Reading typical-year and measured weather files onto the scenario time axis.

Formats: EPW, TMY3 and PVGIS typical years (read with pvlib's ``iotools``; the hourly typical
year is laid onto the scenario's calendar, time zone and step through a monotone spline of its
running sum, so each hour keeps its energy) and csv with a ``time`` column holding the scenario's
own step starts. The result has the columns of :data:`zeropark.profiles.solar.WEATHER_COLUMNS`;
:mod:`zeropark.profiles.solar` turns weather into PV power. Nothing here uses the network: only
the file given is read.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy import interpolate

from zeropark.errors import ScenarioError
from zeropark.guard import check_input_file, read_input_bytes
from zeropark.profiles.solar import (
    _CUM_DAYS,
    _TYPICAL_YEAR_H,
    WEATHER_COLUMNS,
    WEATHER_FORMATS,
    WIND_SPEED_M_PER_S,
    _fixed_tz,
    _step_h,
)

__all__ = ["read_weather_file"]


def _typical_hour(time: pd.DatetimeIndex) -> np.ndarray:
    """Hours since 1 January 00:00 on a 365-day calendar; 29 February reuses 28 February."""
    month = np.asarray(time.month, dtype=int)
    day = np.asarray(time.day, dtype=int)
    day = np.where((month == 2) & (day == 29), 28, day)
    hours = np.asarray(time.hour) + np.asarray(time.minute) / 60.0 + np.asarray(time.second) / 3600
    return (_CUM_DAYS[month - 1] + day - 1) * 24.0 + hours


def _unreadable(field: str, path: Path, fmt: str, exc: Exception) -> ScenarioError:
    return ScenarioError(field, str(path), f"a readable {fmt} weather file ({exc})")


def _check_no_nan(values: pd.DataFrame, field: str, path: Path) -> None:
    bad = values.isna()
    if bad.to_numpy().any():
        column = str(bad.any().idxmax())
        row = int(np.argmax(bad[column].to_numpy()))
        raise ScenarioError(field, str(path), f"no missing or non-numeric values; column "
                            f"{column!r} has {int(bad[column].sum())}, first at data row {row}")


def _read_typical_year(path: Path, fmt: str, field: str) -> tuple[np.ndarray, float]:
    """Hourly values (8760 x 5) of an EPW/TMY3/PVGIS typical year, and the file's UTC offset [h]."""
    try:
        if fmt == "pvgis":
            # PVGIS TMY (JSON, CSV or EPW as downloaded): hourly records stamped in UTC
            out = pvlib.iotools.read_pvgis_tmy(path, map_variables=True)
            data = out[0]  # pvlib < 0.13 returns (data, months, inputs, meta), later (data, meta)
            stamps = pd.DatetimeIndex(data.index)
            if stamps.tz is not None:
                stamps = stamps.tz_convert("UTC")
            month, day, hour = (np.asarray(stamps.month), np.asarray(stamps.day),
                                np.asarray(stamps.hour))
            codes: dict[str, float] = {}
            meta = {"TZ": 0.0}
        elif fmt == "epw":
            # a leap coerce_year lets rows dated 29 February parse; only month/day/hour are used
            data, meta = pvlib.iotools.read_epw(path, coerce_year=2024)
            month, day = data["month"].to_numpy(dtype=int), data["day"].to_numpy(dtype=int)
            hour = data["hour"].to_numpy(dtype=int) - 1  # EPW hour 1 is 00:00-01:00
            codes = {"ghi": 9999, "dni": 9999, "dhi": 9999, "temp_air": 99.9,
                     "wind_speed": 999}
        else:
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
            start = data.index - pd.Timedelta(hours=1)  # TMY3 stamps the end of the hour
            month, day, hour = (np.asarray(start.month), np.asarray(start.day),
                                np.asarray(start.hour))
            # pvlib moves "02/28 24:00" of a leap year to 1 March 00:00, i.e. a 29 Feb 23:00 start
            day = np.where((month == 2) & (day == 29), 28, day)
            codes = {}
        file_tz = float(meta["TZ"])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, OSError) as exc:
        raise _unreadable(field, path, fmt, exc) from exc
    absent = [c for c in WEATHER_COLUMNS if c not in data.columns]
    if absent:
        raise ScenarioError(field, str(path), f"columns {list(WEATHER_COLUMNS)}; missing {absent}")
    values = data[list(WEATHER_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    for column, code in codes.items():  # EPW "missing" codes
        values[column] = values[column].mask(values[column] >= code)
    values = values.mask(values <= -9000.0)  # TMY3 missing-data marker -9900
    _check_no_nan(values, field, path)
    keep = ~((month == 2) & (day == 29))
    month, day, hour = month[keep], day[keep], hour[keep]
    position = (_CUM_DAYS[np.clip(month, 1, 12) - 1] + day - 1) * 24 + hour
    if (np.diff(position) <= 0).any():
        row = int(np.argmax(np.diff(position) <= 0)) + 1
        raise ScenarioError(field, str(path), f"times increasing hour by hour; out of order at "
                            f"data row {row} (month {month[row]}, day {day[row]})")
    if not np.array_equal(position, np.arange(_TYPICAL_YEAR_H)):
        raise ScenarioError(field, str(path), f"one record per hour of a 365-day year (8760); "
                            f"got {len(position)} records covering other hours")
    return values.to_numpy(dtype=float)[keep], file_tz


def _typical_year_onto(
    hourly: np.ndarray, shift_h: float, time: pd.DatetimeIndex, dt_h: float
) -> np.ndarray:
    """Step means of a cyclic hourly typical year read at ``time + shift_h`` [h].

    The cumulative integral of the hourly means is interpolated with a monotone (PCHIP) spline and
    differenced over each step: each hour keeps its exact energy, hourly steps on the hour get the
    file values unchanged, sub-hourly steps vary smoothly, and non-negative series (irradiance)
    stay non-negative and exactly zero through the night.
    """
    pad = 48
    extended = np.concatenate([hourly[-pad:], hourly, hourly[:pad]])
    knots = np.arange(-pad, _TYPICAL_YEAR_H + pad + 1, dtype=float)
    cumulative = np.vstack([np.zeros((1, hourly.shape[1])), np.cumsum(extended, axis=0)])
    spline = interpolate.PchipInterpolator(knots, cumulative, axis=0)
    start = np.mod(_typical_hour(time) + shift_h, _TYPICAL_YEAR_H)
    return (spline(start + dt_h) - spline(start)) / dt_h


def _read_csv(path: Path, time: pd.DatetimeIndex, field: str) -> np.ndarray:
    required = ["time", "ghi", "dni", "dhi", "temp_air"]
    raw = read_input_bytes(path, field, what="weather file")  # regular file, size limit
    try:
        data = pd.read_csv(io.BytesIO(raw))
        absent = [c for c in required if c not in data.columns]
        stamps = None if absent else pd.DatetimeIndex(pd.to_datetime(data["time"]))
    except (ValueError, TypeError, OSError) as exc:
        raise _unreadable(field, path, "csv", exc) from exc
    if stamps is None:
        raise ScenarioError(field, str(path), f"columns {required} (+ optional wind_speed); "
                            f"missing {absent}")
    if stamps.tz is not None or stamps.hasnans:
        raise ScenarioError(field, str(path), "a naive local-standard time on every row")
    if len(stamps) > 1 and not (stamps[1:] > stamps[:-1]).all():
        row = int(np.argmax(~np.asarray(stamps[1:] > stamps[:-1]))) + 1
        raise ScenarioError(field, str(path), f"strictly increasing times; out of order at data "
                            f"row {row} ({stamps[row]})")
    if len(data) != len(time):
        raise ScenarioError(field, str(path), f"{len(time)} rows, one per step from {time[0]} "
                            f"to {time[-1]}; got {len(data)}")
    if not stamps.equals(time):
        row = int(np.argmax(np.asarray(stamps != time)))
        raise ScenarioError(field, str(path), f"the scenario step starts; row {row} has "
                            f"{stamps[row]}, expected {time[row]}")
    if "wind_speed" not in data.columns:
        data["wind_speed"] = WIND_SPEED_M_PER_S
    values = data[list(WEATHER_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    _check_no_nan(values, field, path)
    return values.to_numpy(dtype=float)


def read_weather_file(
    path: str | Path, *, fmt: str, time: pd.DatetimeIndex, utc_offset_h: float, field: str
) -> pd.DataFrame:
    """Weather from a file, as step means on the scenario time axis.

    ``epw``, ``tmy3`` and ``pvgis`` (a PVGIS TMY download, JSON/CSV/EPW, stamped in UTC) files are
    typical years: each hourly record goes by (month, day, hour) onto
    the horizon's own year(s), shifted from the file's time zone to ``utc_offset_h`` and wrapped
    around the year end; 29 February repeats 28 February. Records are taken as hourly means (as
    the formats define irradiance; temperature and wind alike). Steps shorter than or off the hour
    get the exact mean of a smooth, energy-conserving interpolation (``_typical_year_onto``).
    ``csv`` is a measured series with columns ``time, ghi, dni, dhi, temp_air[, wind_speed]``
    whose ``time`` (step starts, local standard time) must equal ``time``; wind defaults to 2 m/s.

    Parameters
    ----------
    path : str or Path
        Weather file.
    fmt : {"epw", "tmy3", "pvgis", "csv"}
        File format.
    time : pd.DatetimeIndex
        Step starts, tz-naive local standard time, regular step.
    utc_offset_h : float [h]
        Site's standard-time offset from UTC.
    field : str
        Dotted path of the file in the scenario (e.g. ``"weather.path"``), named in every error.

    Returns
    -------
    pd.DataFrame
        ``ghi, dni, dhi`` [W/m2], ``temp_air`` [°C], ``wind_speed`` [m/s], indexed by ``time``.

    Raises
    ------
    ScenarioError
        Unknown format; missing or unparseable file; missing columns; missing values; wrong
        number of rows (csv); times out of order or not matching ``time``.
    """
    dt_h = _step_h(time)
    _fixed_tz(utc_offset_h)
    if fmt not in WEATHER_FORMATS:
        raise ScenarioError(field, fmt, f"a weather file format in {list(WEATHER_FORMATS)}")
    file = Path(path)
    check_input_file(file, field, what="weather file")  # regular file, size limit
    if fmt == "csv":
        values = _read_csv(file, time, field)
    else:
        hourly, file_tz = _read_typical_year(file, fmt, field)
        values = _typical_year_onto(hourly, file_tz - float(utc_offset_h), time, dt_h)
        values[:, [0, 1, 2, 4]] = np.clip(values[:, [0, 1, 2, 4]], 0.0, None)
    return pd.DataFrame(values, index=time, columns=list(WEATHER_COLUMNS))
