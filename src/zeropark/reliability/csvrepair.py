"""Documented, explicit repair of messy time-series CSV files.

zeropark's CSV reader (:mod:`zeropark.profiles.csvio`) refuses anything ambiguous with an error
naming the row. This module is the other half: a repair the user runs on purpose, which writes a
clean file (``time,<value>``, ISO timestamps in local standard time, '.' decimals, kW) and says
what it changed. Nothing is repaired silently and nothing is guessed where a guess could be
wrong:

=====================================  ============================================================
problem                                repair
=====================================  ============================================================
``;`` or tab as delimiter              detected, rewritten with ``,``
decimal commas (``1,5``)               with ``decimal=","`` (or a ``;`` file whose values all
                                       look like ``1,5``): rewritten as ``1.5``
units in the header or in the cells    ``W``, ``kW``, ``MW``, ``GW`` (e.g. ``load_mw``,
                                       ``load (MW)``, ``1.2 MW``): converted to kW (power only)
``24:00``                              the next day's ``00:00``
daylight-saving wall-clock times       with ``timezone="Europe/Berlin"`` etc.: converted to local
                                       standard time; the repeated autumn hour is told apart by
                                       its order
identical duplicate rows               dropped; duplicates with different values are an error
rows out of order                      sorted
empty or ``n/a`` cells                 missing steps, treated as gaps (below)
gaps                                   with ``fill_gaps_max_steps=n``: gaps of at most ``n``
                                       steps filled (linear for power, previous value for prices
                                       and factors); longer gaps, and missing first or last
                                       values, are an error
=====================================  ============================================================
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.guard import read_input_bytes
from zeropark.io import atomic_write_text

_TO_KW = {"w": 1e-3, "kw": 1.0, "mw": 1e3, "gw": 1e6}
# a unit at the end of a header, after a separator: load_mw, load (MW), load[kW], load kw
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)(?:[\s_]+|[\s_]*[(\[])(?P<unit>gw|mw|kw|w)[)\]]?$",
                          re.IGNORECASE)
_CELL = re.compile(r"^\s*(?P<num>[-+]?(?:\d[\d.,]*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
                   r"(?P<unit>gw|mw|kw|w)?\s*$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
# cells that mean "no value": read as a missing step, never as a number
_MISSING = frozenset({"", "n/a", "na", "nan", "null", "none", "-", "#n/a"})


def _text(cells: pd.Series) -> pd.Series:
    """Cells as stripped strings, '' for missing ones (pandas 3 keeps NaN through astype(str))."""
    return cells.astype(object).where(cells.notna(), "").astype(str).str.strip()


def _decimal_hint(cell: str, decimal: str) -> str:
    return " (decimal commas? pass --decimal ',')" if decimal != "," and "," in cell else ""


@dataclass
class Repair:
    """What :func:`repair_series_csv` did."""

    source: Path
    target: Path
    rows_in: int
    rows_out: int
    actions: list[str] = field(default_factory=list)


def _read_text(path: Path, fld: str) -> str:
    raw = read_input_bytes(path, fld, what="CSV file")  # regular file, size limit
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ScenarioError(fld, str(path), "a CSV file encoded as UTF-8 or GB18030")


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _numbers(cells: pd.Series, decimal: str, kind: str, header_factor: float, fld: str,
             actions: list[str]) -> np.ndarray:
    text = _text(cells)
    missing = text.str.lower().isin(_MISSING)
    if missing.any():
        actions.append(f"{int(missing.sum())} empty or 'n/a' cells read as missing steps")
        text = text.where(~missing, "0")
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        actions.append("decimal commas rewritten as points")
    elif text.map(lambda s: bool(_THOUSANDS.match(s))).any():
        text = text.map(lambda s: s.replace(",", "") if _THOUSANDS.match(s) else s)
        actions.append("thousands separators removed")
    parts = text.str.extract(_CELL)
    bad = parts["num"].isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ScenarioError(fld, f"row {i + 1}: {cells.iloc[i]!r}{_decimal_hint(text.iloc[i], decimal)}",
                            "a number, optionally with a unit W, kW, MW or GW")
    values = np.array(pd.to_numeric(parts["num"], errors="coerce"), dtype=float)
    if np.isnan(values).any():
        i = int(np.flatnonzero(np.isnan(values))[0])
        raise ScenarioError(fld, f"row {i + 1}: {cells.iloc[i]!r}{_decimal_hint(text.iloc[i], decimal)}",
                            "a number")
    values[missing.to_numpy()] = np.nan
    units = parts["unit"].str.lower()
    if units.notna().any():
        if kind != "power":
            raise ScenarioError(fld, f"unit {units.dropna().iloc[0]!r}", "units only on power")
        factor = units.map(_TO_KW).fillna(header_factor).to_numpy(float)
        actions.append(f"units in cells converted to kW ({', '.join(sorted(set(units.dropna())))})")
        return values * factor
    return values * header_factor


def _times(cells: pd.Series, dayfirst: bool, timezone: str | None, fld: str,
           actions: list[str]) -> pd.DatetimeIndex:
    text = _text(cells)
    midnight = text.str.contains(r"\b24:00(?::00)?$", regex=True)
    text = text.str.replace(r"\b24:00(?::00)?$", "00:00", regex=True)
    if dayfirst:
        stamps = pd.to_datetime(text, dayfirst=True, errors="coerce")
    else:
        stamps = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if stamps.isna().any():
        i = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise ScenarioError(fld, f"row {i + 1}: {cells.iloc[i]!r}",
                            "ISO 8601 timestamps (or dayfirst=True for 30.03.2025 01:00)")
    stamps = stamps + pd.to_timedelta(midnight.to_numpy() * 24, unit="h")
    if midnight.any():
        actions.append(f"{int(midnight.sum())} '24:00' times read as 00:00 of the next day")
    index = pd.DatetimeIndex(stamps)
    if index.tz is not None:
        raise ScenarioError(fld, f"timestamp {cells.iloc[0]!r}", "times without a UTC offset")
    if timezone is None:
        return index
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScenarioError("timezone", timezone, "an IANA timezone name") from None
    try:
        local = index.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except (ValueError, TypeError) as err:  # pytz-style errors from pandas
        raise ScenarioError(fld, str(err), f"wall-clock times of {timezone} in order") from None
    standard_offset = min(ts.utcoffset() - ts.dst() for ts in
                          (pd.Timestamp("2025-01-15", tz=tz), pd.Timestamp("2025-07-15", tz=tz)))
    out = (local.tz_convert("UTC").tz_localize(None) + standard_offset)
    dst = np.asarray(out != index)  # wall clock ahead of standard time
    if dst.any():
        actions.append(f"{int(dst.sum())} daylight-saving times of {timezone} converted to local "
                       f"standard time")
    return out


def repair_series_csv(source: str | Path, target: str | Path, *, kind: str = "power",
                      column: str | None = None, decimal: str | None = None,
                      timezone: str | None = None, dayfirst: bool = False,
                      fill_gaps_max_steps: int = 0) -> Repair:
    """Repair a time-series CSV into a clean file the scenario can reference.

    Parameters
    ----------
    source, target : path
        Messy input and clean output (written atomically; may be the same file).
    kind : {"power", "price", "factor"}
        What the values are; power values are converted to kW when a unit is given.
    column : str, optional
        Value column when there are several.
    decimal : {",", "."}, optional
        Decimal separator; default "." except for ``;``-separated files whose values all look
        like ``1,5``.
    timezone : str, optional
        IANA zone whose daylight-saving wall-clock times the file uses (converted to standard).
    dayfirst : bool
        Read ``30.03.2025 01:00`` style dates.
    fill_gaps_max_steps : int
        Longest gap [steps] filled; 0 leaves every gap an error.

    Returns
    -------
    Repair
        Rows in and out and a list of the changes made (empty: the file was already clean).
    """
    src, dst = Path(source), Path(target)
    fld = str(src)
    text = _read_text(src, fld)
    delim = _delimiter(text)
    actions: list[str] = []
    if delim != ",":
        actions.append(f"delimiter {delim!r} replaced by ','")
    df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, skipinitialspace=True,
                     index_col=False).dropna(how="all")
    df.columns = [str(c).strip() for c in df.columns]
    if df.shape[1] < 2 or len(df) == 0:
        raise ScenarioError(fld, f"columns {list(df.columns)}", "a time column, a value column "
                            "and at least one data row")
    time_col = next((c for c in df.columns if c.lower() == "time"), df.columns[0])
    values_cols = [c for c in df.columns if c != time_col]
    if column is None and len(values_cols) != 1:
        raise ScenarioError(fld, f"value columns {values_cols}", "one value column, or 'column'")
    col = column or values_cols[0]
    if col not in df.columns:
        raise ScenarioError(fld, f"column {col!r}", f"one of {values_cols}")
    name, factor = col, 1.0
    match = _HEADER_UNIT.match(col)
    if kind == "power" and match and match["name"]:
        name, factor = match["name"], _TO_KW[match["unit"].lower()]
        if factor != 1.0:
            actions.append(f"header unit {match['unit']} converted to kW (× {factor:g})")
    if decimal is None:
        cells = _text(df[col])
        cells = cells[~cells.str.lower().isin(_MISSING)]
        decimal = "," if delim == ";" and cells.map(lambda s: bool(
            _DECIMAL_COMMA.match(s) or re.fullmatch(r"[-+]?\d+", s))).all() and \
            cells.str.contains(",").any() else "."
    values = _numbers(df[col], decimal, kind, factor, fld, actions)
    stamps = _times(df[time_col], dayfirst, timezone, fld, actions)
    frame = pd.DataFrame({"value": values}, index=stamps)
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        actions.append("rows sorted by time")
    # a missing value at a timestamp that also has a number is no conflict: keep the number
    frame = frame[~(frame["value"].isna() & frame.index.duplicated(keep=False))]
    dup = frame.index.duplicated(keep="first")
    if dup.any():
        same = frame[frame.index.duplicated(keep=False)].groupby(level=0)["value"].nunique() == 1
        if not same.all():
            ts = same.index[~same.to_numpy()][0]
            hint = " (daylight-saving time? pass timezone=...)" if timezone is None else ""
            raise ScenarioError(fld, f"timestamp {ts} appears with different values{hint}",
                                "one value per timestamp")
        frame = frame[~dup]
        actions.append(f"{int(dup.sum())} identical duplicate rows dropped")
    frame = _fill_gaps(frame, kind, fill_gaps_max_steps, fld, actions, timezone)
    out = name if kind != "power" or name.endswith("_kw") else f"{name}_kw"
    lines = [f"time,{out}"] + [f"{ts:%Y-%m-%d %H:%M:%S},{v:.12g}"
                               for ts, v in zip(frame.index, frame["value"], strict=True)]
    atomic_write_text(dst, "\n".join(lines) + "\n")
    return Repair(src, dst, int(len(df)), int(len(frame)), actions)


def _fill_gaps(frame: pd.DataFrame, kind: str, max_steps: int, fld: str, actions: list[str],
               timezone: str | None) -> pd.DataFrame:
    """Fill missing steps (absent rows and empty cells) of at most ``max_steps`` in a row."""
    empty = frame["value"].isna().to_numpy()
    if len(frame) < 3 and not empty.any():
        return frame
    diffs = np.diff(frame.index.values).astype("timedelta64[s]").astype(np.int64)
    step = int(pd.Series(diffs).mode().iloc[0]) if diffs.size else 0
    if step <= 0:
        step = 0
    big = np.flatnonzero(diffs > step) if step else np.array([], int)
    if not big.size and not empty.any():
        return frame
    full = (pd.date_range(frame.index[0], frame.index[-1], freq=pd.Timedelta(seconds=step))
            if step else frame.index)
    filled = frame.reindex(full)
    gone = filled["value"].isna().to_numpy()
    # runs of missing steps: start index and length
    edges = np.diff(np.concatenate([[0], gone.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    hint = (" (empty or 'n/a' cells)" if empty.any() else
            " (daylight-saving time? pass timezone=...)" if timezone is None else "")
    for first, last in zip(starts, ends, strict=True):
        if first == 0 or last == len(full):
            raise ScenarioError(fld, f"no value at {full[first if first == 0 else last - 1]}"
                                f"{hint}", "a number in the first and last rows (gaps inside "
                                "the series can be filled)")
        if last - first > max_steps:
            raise ScenarioError(fld, f"{int(last - first)} missing steps after "
                                f"{full[first - 1]}{hint}",
                                f"gaps of at most {max_steps} steps (--fill-gaps, fill_gaps_max_steps)")
    missing = int(gone.sum())
    method = "linear" if kind == "power" else "previous value"
    filled["value"] = (filled["value"].interpolate("linear") if kind == "power"
                       else filled["value"].ffill())
    actions.append(f"{missing} missing steps filled ({method})")
    return filled
