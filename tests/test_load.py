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


def _span(first: str, last: str) -> set[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {a + dt.timedelta(days=k) for k in range((b - a).days + 1)}


def test_2025_calendar_follows_the_notice() -> None:
    """国务院办公厅关于2025年部分节假日安排的通知 (Nov 2024), by hand: breaks 1-1; 1-28..2-4;
    4-4..4-6; 5-1..5-5; 5-31..6-2; 10-1..10-8; make-up working days 1-26, 2-8, 4-27, 9-28, 10-11.
    Listed days off are the statutory days (1-1; 1-28 除夕, 1-29..1-31; 4-4; 5-1, 5-2; 5-31;
    10-1..10-3; 10-6 中秋) plus the weekdays given in exchange (2-3, 2-4, 5-5, 6-2, 10-7, 10-8):
    19 days; the other break days are ordinary weekend days."""
    breaks = (_span("2025-01-01", "2025-01-01") | _span("2025-01-28", "2025-02-04")
              | _span("2025-04-04", "2025-04-06") | _span("2025-05-01", "2025-05-05")
              | _span("2025-05-31", "2025-06-02") | _span("2025-10-01", "2025-10-08"))
    makeup = {dt.date(2025, 1, 26), dt.date(2025, 2, 8), dt.date(2025, 4, 27),
              dt.date(2025, 9, 28), dt.date(2025, 10, 11)}
    days = public_holidays(2025)
    assert len(days) == 19 and days <= breaks
    assert all(d.weekday() >= 5 for d in breaks - days)
    assert makeup_workdays(2025) == makeup
    assert spring_festival_days(2025) == _span("2025-01-28", "2025-02-04")
    year = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    rest = {d.date() for d, r in zip(year, rest_days(year), strict=True) if r}
    weekends = {d.date() for d in year if d.weekday() >= 5}
    assert rest == breaks | (weekends - makeup)


@pytest.mark.parametrize("year", [2019, 2022, 2023, 2024, 2025, 2026])
def test_calendar_matches_the_holidays_package(year: int) -> None:
    """Every day of the year: rest day iff the package lists it as a holiday, or it is a weekend
    day the package does not list as a working day; make-up days are the package's."""
    import holidays

    cn = holidays.country_holidays("CN", years=year)
    workdays = {d for d in cn.weekend_workdays if d.year == year}
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    expected = [d.date() in cn or (d.weekday() >= 5 and d.date() not in workdays) for d in days]
    np.testing.assert_array_equal(rest_days(days), expected)
    assert makeup_workdays(year) == workdays
    assert public_holidays(year) == {d for d in cn if d.year == year}


def test_years_checked_by_hand_from_the_notices() -> None:
    # 2019: 国庆 10-1..10-7, 9-29 (Sun) and 10-12 (Sat) worked. 2023: 春节 1-21..1-27, 1-28 and
    # 1-29 worked. 2022: 清明 4-3..4-5, 4-2 (Sat) worked.
    assert {dt.date(2019, 9, 29), dt.date(2019, 10, 12)} <= makeup_workdays(2019)
    assert spring_festival_days(2023) == _span("2023-01-21", "2023-01-27")
    assert {dt.date(2023, 1, 28), dt.date(2023, 1, 29)} <= makeup_workdays(2023)
    days = pd.date_range("2022-04-01", "2022-04-06", freq="D")
    np.testing.assert_array_equal(rest_days(days), [False, False, True, True, True, False])
    oct_2019 = pd.date_range("2019-09-28", "2019-10-12", freq="D")
    np.testing.assert_array_equal(
        rest_days(oct_2019),
        [True, False, False] + [True] * 7 + [False] * 5)  # 9-28 Sat off; 10-8..10-12 worked


def test_every_year_has_a_spring_festival_around_lunar_new_year() -> None:
    """Lunar New Year's Day 2040 is 12 Feb (Sun), no notice yet: statutory 除夕 11 Feb (Sat) and
    12–14 Feb, with weekdays in lieu of the two weekend days, 15–16 Feb (Wed, Thu); 17 Feb (Fri)
    is worked. (The table this replaces had no Spring Festival at all for 2040.)"""
    assert spring_festival_days(2040) == _span("2040-02-11", "2040-02-16")
    for year in range(2000, 2060):
        sf = spring_festival_days(year)
        assert len(sf) >= 3, year
        assert min(sf) >= dt.date(year, 1, 19) and max(sf) <= dt.date(year, 3, 1), year


def test_override_table_replaces_the_package_for_its_year() -> None:
    table = {2031: ((("01-01", "01-01"), ("01-22", "01-29")), ("01-19",))}
    assert public_holidays(2031, overrides=table) == {dt.date(2031, 1, 1)} | _span(
        "2031-01-22", "2031-01-29")
    assert makeup_workdays(2031, overrides=table) == {dt.date(2031, 1, 19)}
    assert public_holidays(2030, overrides=table) == public_holidays(2030)  # other years: package


def test_override_years_are_unknown_to_the_package() -> None:
    """An override for a year whose notice the package already carries is stale: remove it."""
    import holidays

    from zeropark.profiles.load import HOLIDAY_OVERRIDE_YEARS

    for year in HOLIDAY_OVERRIDE_YEARS:
        assert not holidays.country_holidays("CN", years=year).weekend_workdays, year


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
