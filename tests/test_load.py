"""Tests of zeropark.profiles.load: holiday calendar and synthetic park loads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.profiles.load import (
    PARK_TYPES,
    makeup_workdays,
    public_holidays,
    rest_days,
    spring_festival_days,
    synthetic_load_kw,
    synthetic_peak_ratio,
)

YEAR_2025 = pd.date_range("2025-01-01", periods=8760, freq="h")


@pytest.fixture(scope="module")
def year_loads() -> dict[str, pd.Series]:
    return {
        pt: pd.Series(
            synthetic_load_kw(YEAR_2025, park_type=pt, peak_kw=2000.0, seed=7, dt_h=1.0),
            index=YEAR_2025,
        )
        for pt in PARK_TYPES
    }


def test_public_holidays_2025_from_the_notice() -> None:
    days = public_holidays(2025)
    spring = {dt.date(2025, 1, 28) + dt.timedelta(days=k) for k in range(8)}
    national = {dt.date(2025, 10, 1) + dt.timedelta(days=k) for k in range(8)}
    assert spring <= days and national <= days
    assert len(days) == 28
    assert spring_festival_days(2025) == spring
    assert makeup_workdays(2025) == {
        dt.date(2025, 1, 26), dt.date(2025, 2, 8), dt.date(2025, 4, 27),
        dt.date(2025, 9, 28), dt.date(2025, 10, 11),
    }  # fmt: skip
    assert dt.date(2025, 1, 26) not in days
    assert len(public_holidays([2024, 2026])) == 28 + 33


def test_fallback_years_use_fixed_dates_and_lunar_new_year() -> None:
    days = public_holidays(2030)
    assert {dt.date(2030, 1, 1), dt.date(2030, 5, 1), dt.date(2030, 5, 2)} <= days
    assert {dt.date(2030, 10, d) for d in (1, 2, 3)} <= days
    # Lunar New Year 2030 is 3 Feb: 除夕 .. 初三.
    assert spring_festival_days(2030) == {dt.date(2030, 2, d) for d in (2, 3, 4, 5)}
    assert makeup_workdays(2030) == set()
    assert public_holidays(2040) == {
        dt.date(2040, 1, 1), dt.date(2040, 5, 1), dt.date(2040, 5, 2),
        dt.date(2040, 10, 1), dt.date(2040, 10, 2), dt.date(2040, 10, 3),
    }  # fmt: skip


def test_rest_days_respect_makeup_workdays() -> None:
    days = pd.DatetimeIndex(["2025-01-26", "2025-01-19", "2025-01-29", "2025-01-27"])
    np.testing.assert_array_equal(rest_days(days), [False, True, True, False])


def test_peak_over_a_year_is_peak_kw(year_loads: dict[str, pd.Series]) -> None:
    for pt, load in year_loads.items():
        assert load.max() == pytest.approx(2000.0, rel=1e-12), pt
        assert load.min() >= 0.0
        assert load.mean() > 0.1 * 2000.0


def test_short_horizon_is_not_rescaled_and_matches_the_year(
    year_loads: dict[str, pd.Series],
) -> None:
    week = pd.date_range("2025-04-07", periods=168, freq="h")
    got = synthetic_load_kw(week, park_type="office", peak_kw=2000.0, seed=7, dt_h=1.0)
    np.testing.assert_allclose(got, year_loads["office"][week].to_numpy())
    assert got.max() < 0.95 * 2000.0


def test_spring_festival_dip_2025(year_loads: dict[str, pd.Series]) -> None:
    for pt in ("two_shift", "logistics", "office", "continuous_process"):
        load = year_loads[pt]
        festival = load["2025-01-28":"2025-02-04"].mean()
        normal_week = load["2025-02-17":"2025-02-23"].mean()
        assert festival < 0.9 * normal_week, pt
    shift = year_loads["two_shift"]
    assert shift["2025-01-28":"2025-02-04"].mean() < 0.4 * shift["2025-02-17":"2025-02-23"].mean()


def test_weekends_lower_for_two_shift(year_loads: dict[str, pd.Series]) -> None:
    march = year_loads["two_shift"]["2025-03"]
    weekend = march.index.day_of_week >= 5
    assert march[weekend].mean() < 0.6 * march[~weekend].mean()
    # 27 Apr 2025 is a Sunday worked in lieu (调休): loaded like a working day.
    load = year_loads["two_shift"]
    assert load["2025-04-27"].mean() > 1.5 * load["2025-04-20"].mean()


def test_data_centre_is_flat_and_office_peaks_in_summer(
    year_loads: dict[str, pd.Series],
) -> None:
    dc = year_loads["data_centre"]
    assert dc.min() > 0.5 * dc.max()
    office = year_loads["office"]
    assert office["2025-07"].mean() > 1.1 * office["2025-04"].mean()
    assert office.idxmax().month in (6, 7, 8, 9)


def test_same_seed_identical_other_seed_different() -> None:
    t = pd.date_range("2026-06-01", periods=96, freq="h")
    a = synthetic_load_kw(t, park_type="logistics", peak_kw=500.0, seed=3, dt_h=1.0)
    b = synthetic_load_kw(t, park_type="logistics", peak_kw=500.0, seed=3, dt_h=1.0)
    c = synthetic_load_kw(t, park_type="logistics", peak_kw=500.0, seed=4, dt_h=1.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sub_hourly_varies_within_the_hour_keeping_its_mean() -> None:
    # Quarter-hours vary around the hourly value (billed demand is the highest 15-min average),
    # each hour's mean is the hourly value, and the same seed gives the same quarters.
    hourly = pd.date_range("2025-02-28 12:00", periods=48, freq="h")
    quarter = pd.date_range("2025-02-28 12:00", periods=192, freq="15min")
    half = pd.date_range("2025-02-28 12:00", periods=96, freq="30min")
    h = synthetic_load_kw(hourly, park_type="two_shift", peak_kw=800.0, seed=1, dt_h=1.0)
    q = synthetic_load_kw(quarter, park_type="two_shift", peak_kw=800.0, seed=1, dt_h=0.25)
    q2 = synthetic_load_kw(quarter, park_type="two_shift", peak_kw=800.0, seed=1, dt_h=0.25)
    x = synthetic_load_kw(half, park_type="two_shift", peak_kw=800.0, seed=1, dt_h=0.5)
    np.testing.assert_array_equal(q, q2)
    np.testing.assert_allclose(q.reshape(-1, 4).mean(axis=1), h, rtol=1e-12)
    np.testing.assert_allclose(x.reshape(-1, 2).mean(axis=1), h, rtol=1e-12)
    np.testing.assert_allclose(x, q.reshape(-1, 2).mean(axis=1), rtol=1e-12)
    spread = q.reshape(-1, 4).max(axis=1) / h - 1.0
    assert np.all(spread > 0) and 0.01 < spread.mean() < 0.15  # two_shift quarter_std 0.05
    # at hourly steps the peak-to-mean ratio reproduces the highest quarter-hour of each hour
    r = synthetic_peak_ratio(hourly, park_type="two_shift", seed=1, dt_h=1.0)
    np.testing.assert_allclose(r * h, q.reshape(-1, 4).max(axis=1), rtol=1e-12)
    r2 = synthetic_peak_ratio(half, park_type="two_shift", seed=1, dt_h=0.5)
    np.testing.assert_allclose(r2 * x, q.reshape(-1, 2).max(axis=1), rtol=1e-12)
    assert synthetic_peak_ratio(quarter, park_type="two_shift", seed=1, dt_h=0.25) == \
        pytest.approx(np.ones(192))


def test_horizon_across_new_year() -> None:
    t = pd.date_range("2025-12-31 22:00", periods=4, freq="h")
    got = synthetic_load_kw(t, park_type="office", peak_kw=100.0, seed=0, dt_h=1.0)
    assert got.shape == (4,) and np.all(got > 0)


def test_bad_input() -> None:
    t = YEAR_2025[:24]
    with pytest.raises(ScenarioError, match=r"loads\.0\.park_type.*'two_shift'") as info:
        synthetic_load_kw(t, park_type="steel", peak_kw=1.0, seed=0, dt_h=1.0, field="loads.0")
    assert info.value.field == "loads.0.park_type"
    with pytest.raises(ScenarioError, match=r"loads\.peak_kw"):
        synthetic_load_kw(t, park_type="office", peak_kw=-1.0, seed=0, dt_h=1.0)
    with pytest.raises(ScenarioError, match=r"loads\.seed"):
        synthetic_load_kw(t, park_type="office", peak_kw=1.0, seed=-1, dt_h=1.0)
    with pytest.raises(ScenarioError, match=r"time\.dt_h"):
        synthetic_load_kw(t, park_type="office", peak_kw=1.0, seed=0, dt_h=2.0)
