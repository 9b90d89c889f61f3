"""Tests of zeropark.profiles.csvio: aligning user CSVs with the horizon, and every error path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.profiles.csvio import (
    check_time_index,
    parse_number_column,
    read_series_csv,
    read_table_csv,
)

FIELD = "loads.0.path"


def _write(tmp_path: Path, text: str, name: str = "series.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _csv(stamps: pd.DatetimeIndex, values, header: str = "time,load_kw") -> str:
    rows = [f"{ts:%Y-%m-%d %H:%M},{v}" for ts, v in zip(stamps, values, strict=True)]
    return header + "\n" + "\n".join(rows) + "\n"


HOURS = pd.date_range("2025-01-01", periods=24, freq="h")


def test_exact_hourly_series(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv(HOURS, np.arange(24) * 1.5))
    got = read_series_csv(path, HOURS, field=FIELD, dt_h=1.0)
    np.testing.assert_array_equal(got, np.arange(24) * 1.5)
    assert got.dtype == np.float64


def test_longer_csv_selects_horizon_rows(tmp_path: Path) -> None:
    year = pd.date_range("2025-01-01", periods=8760, freq="h")
    path = _write(tmp_path, _csv(year, np.arange(8760)))
    week = pd.date_range("2025-03-03", periods=168, freq="h")
    got = read_series_csv(path, week, field=FIELD, dt_h=1.0)
    start = int((week[0] - year[0]) / pd.Timedelta(hours=1))
    np.testing.assert_array_equal(got, np.arange(start, start + 168))


def test_hourly_csv_is_repeated_on_quarter_hours(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv(HOURS, np.arange(24) + 10.0))
    quarter = pd.date_range("2025-01-01 06:00", periods=8, freq="15min")
    got = read_series_csv(path, quarter, field=FIELD, dt_h=0.25)
    np.testing.assert_array_equal(got, [16, 16, 16, 16, 17, 17, 17, 17])


def test_quarter_hour_csv_is_averaged_on_hours(tmp_path: Path) -> None:
    quarter = pd.date_range("2025-01-01", periods=96, freq="15min")
    path = _write(tmp_path, _csv(quarter, np.arange(96)))
    got = read_series_csv(path, HOURS, field=FIELD, dt_h=1.0)
    np.testing.assert_allclose(got, np.arange(96).reshape(24, 4).mean(axis=1))


def test_named_column_and_negative_price(tmp_path: Path) -> None:
    text = "time,price_per_kwh,other\n" + "".join(
        f"{ts:%Y-%m-%dT%H:%M:%S},{-0.1 + 0.1 * i},x\n" for i, ts in enumerate(HOURS)
    )
    path = _write(tmp_path, text)
    got = read_series_csv(path, HOURS, field=FIELD, column="price_per_kwh", dt_h=1.0, kind="price")
    assert got[0] == pytest.approx(-0.1)


def test_gb18030_file_with_bom_free_chinese_header(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv(HOURS, np.ones(24), header="time,负荷_kw"), encoding="gb18030")
    np.testing.assert_array_equal(read_series_csv(path, HOURS, field=FIELD, dt_h=1.0), np.ones(24))


def _raises(path: Path, *details: str, time: pd.DatetimeIndex = HOURS, **kw) -> ScenarioError:
    kw.setdefault("dt_h", 1.0)
    with pytest.raises(ScenarioError) as info:
        read_series_csv(path, time, field=FIELD, **kw)
    err = info.value
    assert err.field == FIELD
    message = str(err)
    assert message.startswith(FIELD)
    for detail in details:
        assert detail in message, message
    return err


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.csv", "nope.csv", "existing CSV file")


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    _raises(_write(tmp_path, "", "empty.csv"), "empty")
    _raises(_write(tmp_path, "time,load_kw\n", "header.csv"), "at least one data row")


def test_unparseable_file(tmp_path: Path) -> None:
    _raises(
        _write(tmp_path, "time,load_kw\n2025-01-01 00:00,1\n2025-01-01 01:00,1,2,3\n"),
        "well-formed CSV",
    )
    # Every row one field longer than the header: pandas would take column 1 as the index.
    _raises(
        _write(tmp_path, "time,load_kw\n2025-01-01 00:00,1,2\n2025-01-01 01:00,1,2\n"),
        "well-formed CSV",
    )
    _raises(
        _write(tmp_path, "time,load_kw\n2025-01-01 00:00,1,2\n2025-01-01 01:00,1\n"),
        "well-formed CSV",
    )


def test_missing_time_and_value_columns(tmp_path: Path) -> None:
    _raises(_write(tmp_path, "stamp,load_kw\n2025-01-01 00:00,1\n"), "'time' column")
    _raises(_write(tmp_path, "time\n2025-01-01 00:00\n"), "exactly one value column")
    _raises(_write(tmp_path, _csv(HOURS, np.ones(24))), "one of the columns", column="pv_kw")
    two = "time,a,b\n" + "".join(f"{ts},1,2\n" for ts in HOURS)
    _raises(_write(tmp_path, two), "exactly one value column")


def test_non_numeric_and_nan_values_name_the_row(tmp_path: Path) -> None:
    values = ["1"] * 24
    values[4] = "abc"
    _raises(_write(tmp_path, _csv(HOURS, values)), "row 5", "2025-01-01 04:00", "'abc'")
    values[4] = ""
    _raises(_write(tmp_path, _csv(HOURS, values)), "row 5", "empty or NaN")
    values[4] = "NaN"
    _raises(_write(tmp_path, _csv(HOURS, values)), "row 5", "empty or NaN")
    values[4] = "inf"
    _raises(_write(tmp_path, _csv(HOURS, values)), "row 5", "finite")


def test_bad_values_outside_horizon_are_ignored(tmp_path: Path) -> None:
    values = ["1"] * 24
    values[20] = "n/a"
    path = _write(tmp_path, _csv(HOURS, values))
    got = read_series_csv(path, HOURS[:10], field=FIELD, dt_h=1.0)
    np.testing.assert_array_equal(got, np.ones(10))


def test_wrong_length_says_expected_and_got(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv(HOURS[:20], np.ones(20)))
    _raises(path, "expected 24, got 20", "first uncovered step 2025-01-01 20:00")
    quarter = pd.date_range("2025-01-01", periods=96, freq="15min")
    _raises(path, "expected 24, got 20", time=quarter, dt_h=0.25)


def test_non_monotonic_and_duplicate_timestamps(tmp_path: Path) -> None:
    swapped = list(HOURS)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    _raises(
        _write(tmp_path, _csv(pd.DatetimeIndex(swapped), np.ones(24))), "row 7", "increasing order"
    )
    dup = list(HOURS)
    dup[8] = dup[7]
    _raises(
        _write(tmp_path, _csv(pd.DatetimeIndex(dup), np.ones(24))),
        "row 9",
        "repeats the timestamp of row 8",
        "no duplicates",
    )


def test_timestamps_not_matching_horizon_show_first_mismatch(tmp_path: Path) -> None:
    shifted = HOURS + pd.Timedelta(minutes=30)
    _raises(
        _write(tmp_path, _csv(shifted, np.ones(24))),
        "horizon step 0 at 2025-01-01 00:00:00",
        "CSV row 1 is 2025-01-01 00:30:00",
    )
    gap = HOURS.delete(10).append(pd.DatetimeIndex(["2025-01-02 00:00"]))
    _raises(_write(tmp_path, _csv(gap, np.ones(24))), "horizon step 10 at 2025-01-01 10:00:00")


def test_bad_timestamps(tmp_path: Path) -> None:
    stamps = [f"{ts:%Y-%m-%d %H:%M}" for ts in HOURS]
    stamps[3] = "yesterday"
    text = "time,v\n" + "".join(f"{s},1\n" for s in stamps)
    _raises(_write(tmp_path, text), "row 4", "'yesterday'", "ISO 8601")
    stamps[3] = "2025-01-01T03:00+08:00"
    text = "time,v\n" + "".join(f"{s},1\n" for s in stamps)
    _raises(_write(tmp_path, text), "row 4", "without a UTC offset")


def test_negative_values_rejected_for_power_and_factor(tmp_path: Path) -> None:
    values = np.ones(24)
    values[2] = -5.0
    path = _write(tmp_path, _csv(HOURS, values))
    _raises(path, "row 3", "values >= 0")
    _raises(path, "row 3", kind="factor")
    assert read_series_csv(path, HOURS, field=FIELD, dt_h=1.0, kind="price")[2] == -5.0


def test_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv(HOURS, np.ones(24)))
    with pytest.raises(ValueError, match="kind"):
        read_series_csv(path, HOURS, field=FIELD, dt_h=1.0, kind="energy")


def test_check_time_index() -> None:
    check_time_index(HOURS, 1.0)
    with pytest.raises(ScenarioError, match=r"time\.dt_h"):
        check_time_index(HOURS, 2.0)
    with pytest.raises(ScenarioError, match="regular step"):
        check_time_index(HOURS.delete(3), 1.0)
    with pytest.raises(ScenarioError, match="tz-naive"):
        check_time_index(HOURS.tz_localize("Asia/Shanghai"), 1.0)


def test_read_table_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, " group , pile\nA,1\nB,2\n")
    df = read_table_csv(path, field="ev.sessions_path", required=["group", "pile"])
    assert list(df.columns) == ["group", "pile"]
    assert len(df) == 2
    with pytest.raises(ScenarioError, match=r"ev\.sessions_path.*missing \['energy_kwh'\]"):
        read_table_csv(path, field="ev.sessions_path", required=["group", "energy_kwh"])
    with pytest.raises(ScenarioError, match=r"ev\.sessions_path.*existing CSV"):
        read_table_csv(tmp_path / "none.csv", field="ev.sessions_path", required=["group"])


def test_parse_number_column_integer() -> None:
    got = parse_number_column(pd.Series(["1", "2"]), field="f", column="pile", integer=True)
    assert got.dtype == np.int64
    with pytest.raises(ScenarioError, match="row 2: pile = 2.5"):
        parse_number_column(pd.Series(["1", "2.5"]), field="f", column="pile", integer=True)
