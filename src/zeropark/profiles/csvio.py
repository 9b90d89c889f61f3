"""Reading user time-series and table CSVs safely.

This module owns the path from a user's CSV file to a numpy array aligned with the scenario's time
index, and the checks on the way. Every problem raises :class:`zeropark.errors.ScenarioError` naming
the field the caller passes in, the row (data rows are counted from 1, the header is not a row) and,
where there is one, the timestamp.

Time convention: ``time`` is a tz-naive :class:`pandas.DatetimeIndex` of step START instants in
local standard time with a regular step of ``dt_h`` hours; step ``t`` covers
``[time[t], time[t] + dt)``.
A CSV timestamp likewise marks the start of the interval its value holds for.

Alignment rules of :func:`read_series_csv`, in order:

1. CSV step equal to the horizon step: every horizon instant must be a CSV timestamp. A CSV covering
   a longer period (e.g. a whole year for a one-week run) is fine: the horizon's rows are selected.
2. CSV step coarser than the horizon step (e.g. hourly values, 15-min horizon): each CSV value holds
   for its whole interval and is repeated (forward-filled) on every horizon step inside it. For a
   power that keeps the energy of each hour; for a price or factor the hourly value applies to each
   sub-step. Every horizon step must lie inside one CSV interval.
3. CSV step finer than the horizon step (e.g. 15-min meter data, hourly horizon): the values inside
   each horizon step are averaged (mean power, time-weighted mean price). Every horizon step must be
   fully covered.

The CSV step is the smallest gap between consecutive timestamps.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.guard import read_input_bytes

__all__ = [
    "ALLOWED_DT_H",
    "KINDS",
    "check_time_index",
    "parse_number_column",
    "parse_time_column",
    "read_series_csv",
    "read_table_csv",
]

#: Step lengths the scenario allows [h].
ALLOWED_DT_H: tuple[float, ...] = (1.0, 0.5, 0.25)
#: Kinds of series :func:`read_series_csv` knows; only ``"price"`` may be negative.
KINDS: tuple[str, ...] = ("power", "price", "factor")

_HOUR = pd.Timedelta(hours=1)
# A trailing UTC offset ("Z", "+08:00", "+0800", "-05") after a clock time.
_TZ_SUFFIX = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$")
# Excel writes UTF-8 with a BOM; Chinese Windows tools often write GB18030/GBK.
_ENCODINGS = ("utf-8-sig", "gb18030")
_EMPTY = "a CSV file with a header and data rows (file is empty)"


def check_time_index(time: pd.DatetimeIndex, dt_h: float, *, field: str = "time") -> None:
    """Check that ``time`` follows the time convention.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Step start instants, tz-naive local standard time.
    dt_h : float [h]
        Step length; one of :data:`ALLOWED_DT_H`.
    field : str
        Field path used in the error.

    Raises
    ------
    ScenarioError
        If ``dt_h`` is not allowed, ``time`` is empty, tz-aware or not regular at ``dt_h``.
    """
    if dt_h not in ALLOWED_DT_H:
        raise ScenarioError(f"{field}.dt_h", dt_h, f"one of {list(ALLOWED_DT_H)} hours")
    if not isinstance(time, pd.DatetimeIndex) or len(time) == 0:
        raise ScenarioError(field, type(time).__name__, "a non-empty pandas.DatetimeIndex")
    if time.tz is not None:
        raise ScenarioError(field, str(time.tz), "tz-naive timestamps in local standard time")
    if len(time) > 1:
        steps_h = np.diff(time.values).astype("timedelta64[s]").astype(np.float64) / 3600.0
        bad = np.flatnonzero(np.abs(steps_h - dt_h) > 1e-9)
        if bad.size:
            i = int(bad[0])
            raise ScenarioError(
                field,
                f"step {i + 1} at {time[i + 1]} is {steps_h[i]:g} h after the previous one",
                f"a regular step of dt_h = {dt_h:g} h",
            )


def _read_csv(path: str | Path, field: str) -> pd.DataFrame:
    """Read a CSV as strings (missing cells NaN), with clear errors for unreadable files."""
    raw = read_input_bytes(path, field, what="CSV file")  # regular file, size limit
    if not raw:
        raise ScenarioError(field, str(path), _EMPTY)
    last_error: Exception | None = None
    for encoding in _ENCODINGS:
        try:
            with warnings.catch_warnings():
                # A data row longer than the header would silently become the index, or be cut.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(
                    io.BytesIO(raw), dtype=str, encoding=encoding, skipinitialspace=True,
                    index_col=False,
                )
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except pd.errors.EmptyDataError as exc:
            raise ScenarioError(field, str(path), _EMPTY) from exc
        except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as exc:
            raise ScenarioError(
                field, str(path), f"a well-formed CSV file (parser said: {exc})".strip()
            ) from exc
        break
    else:
        raise ScenarioError(
            field, str(path), "a CSV file encoded as UTF-8 or GB18030"
        ) from last_error
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise ScenarioError(field, str(path), "a CSV file with at least one data row")
    return df


def read_table_csv(path: str | Path, *, field: str, required: Sequence[str]) -> pd.DataFrame:
    """Read a table CSV (e.g. EV sessions) and check its columns.

    Values are returned as strings (missing cells as NaN), so that nothing is silently mis-parsed;
    convert columns with :func:`parse_time_column` and :func:`parse_number_column`, which name the
    offending row.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file, UTF-8 (with or without BOM) or GB18030.
    field : str
        Field path used in errors, e.g. ``"ev.sessions_path"``.
    required : sequence of str
        Column names that must be present (header names are stripped of spaces).

    Returns
    -------
    pandas.DataFrame
        All columns of the file, string values, index 0..n-1.

    Raises
    ------
    ScenarioError
        Missing, empty or unparseable file, or a required column missing.
    """
    df = _read_csv(path, field)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ScenarioError(
            field, f"columns {list(df.columns)}", f"columns {list(required)}; missing {missing}"
        )
    return df.reset_index(drop=True)


def _row_label(i: int, stamps: pd.Series | pd.DatetimeIndex | None = None) -> str:
    label = f"row {i + 1}"
    if stamps is not None:
        ts = stamps[i]
        if not pd.isna(ts):
            label += f" ({pd.Timestamp(ts).isoformat(sep=' ')})"
    return label


def parse_time_column(values: pd.Series, *, field: str, column: str) -> pd.Series:
    """Parse ISO 8601 timestamps in local standard time, naming the first bad row.

    Parameters
    ----------
    values : pandas.Series
        Raw column (strings or timestamps).
    field : str
        Field path used in errors.
    column : str
        Column name, shown in errors.

    Returns
    -------
    pandas.Series
        ``datetime64[ns]`` values, tz-naive, same index positions.

    Raises
    ------
    ScenarioError
        Missing, unparseable or tz-aware (UTC offset given) timestamps.
    """
    raw = values.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        if getattr(raw.dt, "tz", None) is not None:
            raise ScenarioError(field, f"column {column!r} is tz-aware", "tz-naive local time")
        parsed = raw.astype("datetime64[ns]")
    else:
        text = raw.astype(object).where(raw.notna(), None)
        missing = np.flatnonzero(text.isna().to_numpy())
        if missing.size:
            label = _row_label(int(missing[0]))
            raise ScenarioError(field, f"{label}: empty {column!r}", "a timestamp in every row")
        text = text.map(lambda s: str(s).strip())
        has_tz = text.map(lambda s: _TZ_SUFFIX.search(s) is not None).to_numpy(dtype=bool)
        if has_tz.any():
            i = int(np.flatnonzero(has_tz)[0])
            raise ScenarioError(
                field,
                f"{_row_label(i)}: {column} {text[i]!r}",
                "timestamps in local standard time without a UTC offset",
            )
        try:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):  # mixed offsets and other oddities
            parsed = pd.Series([_one_stamp(s) for s in text])
        aware = np.array([getattr(v, "tzinfo", None) is not None for v in parsed], dtype=bool)
        if aware.any() or getattr(getattr(parsed, "dt", None), "tz", None) is not None:
            # an offset the pattern above does not know (hour-only '2025-07-14T00Z', …)
            i = int(np.flatnonzero(aware)[0]) if aware.any() else 0
            raise ScenarioError(
                field,
                f"{_row_label(i)}: {column} {text[i]!r}",
                "timestamps in local standard time without a UTC offset",
            )
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise ScenarioError(
                field,
                f"{_row_label(i)}: {column} {text[i]!r}",
                "ISO 8601 timestamps like '2025-01-01 00:00'",
            )
        parsed = parsed.astype("datetime64[ns]")
    return parsed


def _one_stamp(text: str) -> pd.Timestamp | None:
    """One ISO timestamp, or None when it cannot be read."""
    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None


def parse_number_column(
    values: pd.Series,
    *,
    field: str,
    column: str,
    allow_negative: bool = True,
    integer: bool = False,
    stamps: pd.Series | pd.DatetimeIndex | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Parse a numeric column, naming the first bad row.

    Parameters
    ----------
    values : pandas.Series
        Raw column (strings or numbers).
    field : str
        Field path used in errors.
    column : str
        Column name, shown in errors.
    allow_negative : bool
        Whether values < 0 are accepted.
    integer : bool
        Whether values must be whole numbers (returned as int64).
    stamps : pandas.Series or DatetimeIndex, optional
        Timestamps of the rows, shown next to the row number in errors.
    rows : numpy.ndarray of int, optional
        Only check and return these positions (e.g. the rows a horizon uses).

    Returns
    -------
    numpy.ndarray
        float64 (or int64 if ``integer``) values.

    Raises
    ------
    ScenarioError
        Empty/NaN, non-numeric, infinite, negative (unless allowed) or non-integer values.
    """
    raw = values.reset_index(drop=True)
    positions = np.arange(len(raw)) if rows is None else np.asarray(rows, dtype=np.int64)
    sub = raw.iloc[positions]
    num = pd.to_numeric(sub, errors="coerce").to_numpy(dtype=np.float64)
    missing = sub.isna().to_numpy()
    text = sub.astype(object).map(lambda s: str(s).strip().lower()).to_numpy()
    nan_text = np.isin(text, ["nan", "na", "n/a", "null", "none", ""])
    nan_like = missing | (np.isnan(num) & nan_text)
    non_numeric = np.isnan(num) & ~nan_like

    def _fail(mask: np.ndarray, what: str | Callable[[int], str], allowed: str) -> None:
        if mask.any():
            k = int(np.flatnonzero(mask)[0])
            shown = what(k) if callable(what) else what
            label = _row_label(int(positions[k]), stamps)
            raise ScenarioError(field, f"{label}: {column} {shown}", allowed)

    _fail(nan_like, "is empty or NaN", f"a number in every row of column {column!r}")
    _fail(non_numeric, lambda k: repr(str(sub.iloc[k])), f"numbers in column {column!r}")
    _fail(~np.isfinite(num), lambda k: repr(str(sub.iloc[k])), "finite numbers")
    if not allow_negative:
        _fail(num < 0, lambda k: f"= {num[k]:g}", f"values >= 0 in column {column!r}")
    if integer:
        whole = f"whole numbers in column {column!r}"
        _fail(num != np.round(num), lambda k: f"= {num[k]:g}", whole)
        return num.astype(np.int64)
    return num


def _find_time_column(df: pd.DataFrame, field: str) -> str:
    matches = [c for c in df.columns if c.lower() == "time"]
    if not matches:
        raise ScenarioError(field, f"columns {list(df.columns)}", "a 'time' column")
    return matches[0]


def _check_increasing(stamps: pd.Series, field: str) -> None:
    values = stamps.to_numpy()
    if len(values) < 2:
        return
    step = np.diff(values).astype(np.int64)
    dup = np.flatnonzero(step == 0)
    back = np.flatnonzero(step < 0)
    first_dup = int(dup[0]) if dup.size else len(values)
    first_back = int(back[0]) if back.size else len(values)
    if first_dup < first_back:
        i = first_dup + 1
        raise ScenarioError(
            field,
            f"{_row_label(i, stamps)} repeats the timestamp of row {i}",
            "unique timestamps (no duplicates)",
        )
    if back.size:
        i = first_back + 1
        raise ScenarioError(
            field,
            f"{_row_label(i, stamps)} comes before row {i} ({pd.Timestamp(values[i - 1])})",
            "timestamps in increasing order",
        )


def _horizon_text(time: pd.DatetimeIndex, dt_h: float) -> str:
    end = time[-1] + pd.Timedelta(hours=dt_h)
    return f"{len(time)} steps of {dt_h:g} h from {time[0]} to {end}"


def _align(
    stamps: pd.Series, time: pd.DatetimeIndex, dt_h: float, field: str
) -> tuple[np.ndarray, np.ndarray]:
    """Map horizon steps to CSV rows.

    Returns ``(rows, owner)``: the CSV rows used and, for each, the horizon step it belongs to.
    Values of rows with the same owner are averaged (rule 3); a row may own several steps when the
    CSV is coarser (rule 2), in which case ``owner`` is the step index and ``rows`` repeats.
    """
    csv_ns = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)
    hor_ns = time.values.astype("datetime64[ns]").astype(np.int64)
    T = len(hor_ns)
    dt_ns = int(round(dt_h * 3600e9))
    csv_step_ns = int(np.diff(csv_ns).min()) if len(csv_ns) > 1 else dt_ns
    ratio = csv_step_ns / dt_ns

    if abs(ratio - 1.0) < 1e-9 or len(csv_ns) == 1:
        idx = np.searchsorted(csv_ns, hor_ns)
        found = (idx < len(csv_ns)) & (csv_ns[np.minimum(idx, len(csv_ns) - 1)] == hor_ns)
        if found.all():
            return idx, np.arange(T)
        needed = T
    elif ratio > 1.0:
        # Coarser CSV: each horizon step takes the value of the CSV interval that contains it.
        j = np.searchsorted(csv_ns, hor_ns, side="right") - 1
        jc = np.maximum(j, 0)
        found = (j >= 0) & (hor_ns + dt_ns <= csv_ns[jc] + csv_step_ns)
        if found.all():
            return jc, np.arange(T)
        needed = int(np.ceil(T / ratio))
    else:
        # Finer CSV: average the rows inside each horizon step; each step must be fully covered.
        per_step = dt_ns / csv_step_ns
        if abs(per_step - round(per_step)) > 1e-9:
            raise ScenarioError(
                field,
                f"CSV step {csv_step_ns / 3600e9:g} h",
                f"a step that divides the horizon step of {dt_h:g} h",
            )
        lo = np.searchsorted(csv_ns, hor_ns, side="left")
        hi = np.searchsorted(csv_ns, hor_ns + dt_ns, side="left")
        starts_ok = (lo < len(csv_ns)) & (csv_ns[np.minimum(lo, len(csv_ns) - 1)] == hor_ns)
        found = starts_ok & (hi - lo == int(round(per_step)))
        if found.all():
            counts = hi - lo
            owner = np.repeat(np.arange(T), counts)
            rows = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            rows = rows + np.repeat(lo, counts)
            return rows, owner
        needed = int(round(T * per_step))

    first = int(np.flatnonzero(~found)[0])
    if len(csv_ns) < needed and csv_ns[0] <= hor_ns[0]:
        raise ScenarioError(
            field,
            f"{len(csv_ns)} rows ending at {pd.Timestamp(csv_ns[-1])}",
            f"at least {needed} rows covering the horizon ({_horizon_text(time, dt_h)}); "
            f"expected {needed}, got {len(csv_ns)}; first uncovered step {time[first]}",
        )
    k = min(first, len(csv_ns) - 1)
    raise ScenarioError(
        field,
        f"horizon step {first} at {time[first]} has no matching CSV row "
        f"(CSV row {k + 1} is {pd.Timestamp(csv_ns[k])})",
        f"timestamps that cover the horizon ({_horizon_text(time, dt_h)})",
    )


# Largest plausible magnitude per kind (kW, currency/kWh, kgCO2/kWh or share): beyond this a number
# is a unit or typing error, and near 1e20 HiGHS would read it as infinite.
MAX_MAGNITUDE = {"power": 1e9, "price": 1e4, "factor": 1e3}
_UNIT_SUFFIXES = {"w": "W", "mw": "MW", "gw": "GW", "wh": "Wh", "kwh": "kWh", "mwh": "MWh",
                  "gwh": "GWh"}


def _check_unit_in_header(column: str, kind: str, field: str) -> None:
    """A power column whose header names another unit (``load_mw``, ``pv (W)``) is refused rather
    than read as kW (1000× off); ``zeropark repair-csv`` converts such files. An energy column
    (``load_kwh``: energy per interval) is refused too: read as kW it would be off by the step
    length (4× at 15 min)."""
    if kind != "power":
        return
    import re

    m = re.search(r"(?:^|[_\s(\[])(w|mw|gw|wh|kwh|mwh|gwh)[)\]]?\s*$", column.strip().lower())
    if m and m.group(1).endswith("wh"):
        raise ScenarioError(field, f"column {column!r} ({_UNIT_SUFFIXES[m.group(1)]})",
                            "mean power per interval in kW, not energy per interval (divide "
                            "kWh per interval by the interval length in hours; name the column "
                            "<name>_kw)")
    if m:
        raise ScenarioError(field, f"column {column!r} ({_UNIT_SUFFIXES[m.group(1)]})",
                            "values in kW (convert the column, e.g. with `zeropark repair-csv`)")


def read_series_csv(
    path: str | Path,
    time: pd.DatetimeIndex,
    *,
    field: str,
    column: str | None = None,
    dt_h: float,
    kind: str = "power",
    peak: list[np.ndarray | None] | None = None,
) -> np.ndarray:
    """Read one time series from a CSV and align it with the horizon.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV with a ``time`` column (ISO 8601, local standard time, interval start) and one value
        column, or several value columns and ``column`` naming the one to use.
    time : pandas.DatetimeIndex
        Horizon step starts (tz-naive, regular step ``dt_h``).
    field : str
        Field path used in errors, e.g. ``"loads.0.path"``.
    column : str, optional
        Value column to read; required if the CSV has more than one value column.
    dt_h : float [h]
        Horizon step length (1, 0.5 or 0.25).
    kind : {"power", "price", "factor"}
        What the series is; ``"price"`` may be negative, the others must be >= 0. Units are the
        caller's (e.g. kW, CNY/kWh, kgCO2/kWh or a 0..1 capacity factor).
    peak : list, optional
        If given, the per-step ratio of the highest 15-min average to the step mean [-] is
        appended to it (None when the CSV is not finer than the horizon step), for billing the
        maximum demand of a power series read at coarser steps.

    Returns
    -------
    numpy.ndarray
        float64 values, one per horizon step (see the module docstring for alignment rules).

    Raises
    ------
    ScenarioError
        Missing/empty/unparseable file; missing ``time`` or value column; unparseable, tz-aware,
        duplicate or decreasing timestamps; wrong length or timestamps not covering the horizon;
        empty, NaN, non-numeric or infinite values; negative values for ``"power"``/``"factor"``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    check_time_index(time, dt_h)
    df = _read_csv(path, field)
    time_col = _find_time_column(df, field)
    value_cols = [c for c in df.columns if c != time_col]
    if column is None:
        if len(value_cols) != 1:
            raise ScenarioError(
                field,
                f"value columns {value_cols}",
                "exactly one value column besides 'time', or a 'column' naming the one to use",
            )
        column = value_cols[0]
    elif column not in value_cols:
        raise ScenarioError(f"{field}", f"column {column!r}", f"one of the columns {value_cols}")

    _check_unit_in_header(column, kind, field)
    stamps = parse_time_column(df[time_col], field=field, column=time_col)
    _check_increasing(stamps, field)
    rows, owner = _align(stamps, time, dt_h, field)
    used = np.unique(rows)
    values = parse_number_column(
        df[column],
        field=field,
        column=column,
        allow_negative=(kind == "price"),
        stamps=stamps,
        rows=used,
    )
    too_big = np.flatnonzero(np.abs(values) > MAX_MAGNITUDE[kind])
    if too_big.size:
        i = int(used[too_big[0]])
        raise ScenarioError(field, f"{values[too_big[0]]:g} in row {i + 1} ({stamps.iloc[i]})",
                            f"{kind} values of magnitude at most {MAX_MAGNITUDE[kind]:g}")
    full = np.empty(len(df), dtype=np.float64)
    full[used] = values
    if peak is not None:
        peak.append(_peak_ratio(stamps, full, rows, owner, len(time)))
    if len(owner) == len(time) and np.array_equal(owner, np.arange(len(time))):
        return full[rows].copy()
    sums = np.bincount(owner, weights=full[rows], minlength=len(time))
    counts = np.bincount(owner, minlength=len(time))
    return sums / counts


_QUARTER_NS = 15 * 60 * 10**9


def _peak_ratio(stamps: pd.Series, full: np.ndarray, rows: np.ndarray, owner: np.ndarray,
                T: int) -> np.ndarray | None:
    """Highest 15-min average over the step mean, per horizon step, from CSV rows finer than the
    step (rule 3); None when no step holds more than one row (nothing finer to see).

    Rows are first averaged into clock quarter-hours (5-min data: three rows each), then the
    highest quarter-hour of each step is divided by the step's mean; a step whose mean is not
    positive gets 1.
    """
    counts = np.bincount(owner, minlength=T)
    if counts.max(initial=0) <= 1:
        return None
    ns = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)[rows]
    key = owner.astype(np.int64) * (1 << 40) + ns // _QUARTER_NS
    _, q_of_row = np.unique(key, return_inverse=True)
    q_of_row = q_of_row.reshape(-1)
    q_mean = (np.bincount(q_of_row, weights=full[rows])
              / np.bincount(q_of_row))
    q_owner = np.zeros(len(q_mean), dtype=np.int64)
    q_owner[q_of_row] = owner
    q_max = np.full(T, -np.inf)
    np.maximum.at(q_max, q_owner, q_mean)
    mean = np.bincount(owner, weights=full[rows], minlength=T) / np.maximum(counts, 1)
    ok = mean > 0
    return np.where(ok, q_max / np.where(ok, mean, 1.0), 1.0)
