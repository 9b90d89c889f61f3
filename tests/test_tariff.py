"""Tests of TOU period labels, prices and billing months, checked against the period tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.library import Library
from zeropark.profiles.tariff import (
    billing_month_index,
    period_table,
    tou_period_labels,
    tou_price_per_kwh,
    validate_tariff,
)


@pytest.fixture(scope="module")
def lib() -> Library:
    return Library.load()


@pytest.fixture(scope="module")
def jiangsu(lib: Library) -> dict:
    return lib.get("tariffs", "jiangsu-2025", "grid.tariff")


def simple_tariff(**changes: object) -> dict:
    tariff = {
        "prices_per_kwh": {"peak": 1.0, "flat": 0.5, "valley": 0.2},
        "default_period": "flat",
        "periods": [
            {"months": [1, 2, 3, 4, 5, 6], "peak": [[8.5, 11.5]], "valley": [[0, 6]]},
            {"months": [7, 8, 9, 10, 11, 12], "peak": [[18, 22]], "valley": [[22, 24]]},
        ],
    }
    tariff.update(changes)
    return tariff


def label_at(tariff: dict, stamp: str) -> str:
    return str(tou_period_labels(pd.DatetimeIndex([stamp]), tariff)[0])


# --- labels and prices against the period tables ----------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2025-07-01 14:00", "peak"),
        ("2025-07-01 12:00", "valley"),
        ("2025-07-01 23:00", "flat"),
        ("2025-07-01 05:59", "valley"),
        ("2025-07-01 06:00", "flat"),
        ("2025-07-01 21:59", "peak"),
        ("2025-07-01 22:00", "flat"),
        ("2025-04-01 12:00", "valley"),
        ("2025-04-01 15:00", "peak"),
        ("2025-04-01 14:00", "flat"),
        ("2025-04-01 01:00", "flat"),
        ("2025-04-01 02:00", "valley"),
        ("2025-12-31 11:30", "valley"),
    ],
)
def test_jiangsu_2025_points(jiangsu: dict, stamp: str, expected: str) -> None:
    assert label_at(jiangsu, stamp) == expected


def test_jiangsu_2025_summer_day_hourly(jiangsu: dict) -> None:
    time = pd.date_range("2025-07-15", periods=24, freq="h")
    v, f, p = "valley", "flat", "peak"
    expected = [v] * 6 + [f] * 5 + [v] * 2 + [f] + [p] * 8 + [f] * 2
    assert tou_period_labels(time, jiangsu).tolist() == expected
    prices = jiangsu["prices_per_kwh"]
    np.testing.assert_allclose(
        tou_price_per_kwh(time, jiangsu), [prices[name] for name in expected]
    )


def test_jiangsu_2025_year_hour_counts(jiangsu: dict) -> None:
    # Jan, Feb, Jun, Jul, Aug, Dec: 182 days with 8 peak hours; the other 183 days have 7
    time = pd.date_range("2025-01-01", periods=8760, freq="h")
    labels = tou_period_labels(time, jiangsu)
    assert (labels == "peak").sum() == 182 * 8 + 183 * 7
    assert (labels == "valley").sum() == 365 * 8
    assert (labels == "flat").sum() == 8760 - 182 * 8 - 183 * 7 - 365 * 8


def test_quarter_hour_steps_take_the_period_of_their_start(jiangsu: dict) -> None:
    time = pd.date_range("2025-04-01 13:30", periods=8, freq="15min")  # 13:30 .. 15:15
    assert tou_period_labels(time, jiangsu).tolist() == (
        ["valley", "valley", "flat", "flat", "flat", "flat", "peak", "peak"]
    )
    time = pd.date_range("2025-07-01 12:45", periods=2, freq="15min")
    assert tou_period_labels(time, jiangsu).tolist() == ["valley", "flat"]


def test_half_hour_window_bounds() -> None:
    tariff = simple_tariff()
    time = pd.date_range("2025-03-03 08:15", periods=14, freq="15min")  # 08:15 .. 11:30
    labels = tou_period_labels(time, tariff).tolist()
    assert labels == ["flat"] + ["peak"] * 12 + ["flat"]


def test_leap_day(jiangsu: dict) -> None:
    time = pd.date_range("2024-02-28", periods=48, freq="h")
    labels = tou_period_labels(time, jiangsu)
    assert labels[24 + 14] == "peak"  # 2024-02-29 14:00, winter rule
    np.testing.assert_array_equal(labels[:24], labels[24:])
    assert len(tou_price_per_kwh(pd.date_range("2024-01-01", "2024-12-31 23:00", freq="h"),
                                 jiangsu)) == 8784


def test_zhejiang_critical_overrides_peak(lib: Library) -> None:
    tariff = lib.get("tariffs", "zhejiang-2024", "grid.tariff")
    assert label_at(tariff, "2025-01-10 09:00") == "critical"
    assert label_at(tariff, "2025-01-10 08:00") == "peak"
    assert label_at(tariff, "2025-01-10 16:59") == "critical"
    assert label_at(tariff, "2025-01-10 17:00") == "peak"
    assert label_at(tariff, "2025-01-10 23:00") == "flat"
    assert label_at(tariff, "2025-05-10 09:00") == "peak"
    assert label_at(tariff, "2025-05-10 11:00") == "valley"


def test_guangdong_critical_only_in_summer(lib: Library) -> None:
    tariff = lib.get("tariffs", "guangdong-2021", "grid.tariff")
    time = pd.DatetimeIndex(["2021-08-02 11:00", "2021-06-02 11:00", "2021-08-02 10:00",
                             "2021-08-02 13:00", "2021-08-02 07:00"])
    np.testing.assert_allclose(
        tou_price_per_kwh(time, tariff), [1.4291, 1.1433, 1.1433, 0.6725, 0.2556]
    )


def test_critical_overrides_peak_in_table() -> None:
    tariff = simple_tariff(prices_per_kwh={"critical": 2.0, "peak": 1.0, "flat": 0.5,
                                           "valley": 0.2})
    tariff["periods"][0]["critical"] = [[9, 10]]
    table = period_table(tariff)
    labels = np.array(["critical", "peak", "flat", "valley", "deep_valley"])[table[0]]
    assert labels[9 * 60] == "critical" and labels[10 * 60] == "peak"
    assert labels[8 * 60 + 59] == "peak" and labels[8 * 60 + 29] == "flat"


def test_empty_time_index(jiangsu: dict) -> None:
    empty = pd.DatetimeIndex([])
    assert tou_price_per_kwh(empty, jiangsu).shape == (0,)
    index, labels = billing_month_index(empty)
    assert index.shape == (0,) and labels == []


def test_all_bundled_tariffs_price_every_hour(lib: Library) -> None:
    time = pd.date_range("2025-01-01", periods=8760, freq="h")
    for key in lib.keys("tariffs"):
        price = tou_price_per_kwh(time, lib.get("tariffs", key, "grid.tariff"))
        assert np.isfinite(price).all() and (price > 0).all(), key


# --- time index checks -------------------------------------------------------------------------


def test_tz_aware_time_is_rejected(jiangsu: dict) -> None:
    time = pd.date_range("2025-01-01", periods=3, freq="h", tz="Asia/Shanghai")
    with pytest.raises(ScenarioError, match="tz-naive"):
        tou_period_labels(time, jiangsu)


def test_time_must_be_datetime_index(jiangsu: dict) -> None:
    with pytest.raises(ScenarioError, match="DatetimeIndex"):
        tou_price_per_kwh(pd.Series(pd.date_range("2025-01-01", periods=3, freq="h")), jiangsu)


# --- billing months ----------------------------------------------------------------------------


def test_billing_months_across_month_boundary() -> None:
    time = pd.date_range("2025-01-31 22:00", periods=4, freq="h")
    index, labels = billing_month_index(time)
    assert index.tolist() == [0, 0, 1, 1]
    assert labels == ["2025-01", "2025-02"]


def test_billing_months_across_year_boundary_quarter_hours() -> None:
    time = pd.date_range("2024-12-31 23:30", periods=4, freq="15min")
    index, labels = billing_month_index(time)
    assert index.tolist() == [0, 0, 1, 1]
    assert labels == ["2024-12", "2025-01"]


def test_billing_months_full_year() -> None:
    time = pd.date_range("2024-01-01", periods=8784, freq="h")
    index, labels = billing_month_index(time)
    assert labels[0] == "2024-01" and labels[-1] == "2024-12" and len(labels) == 12
    assert np.bincount(index)[1] == 29 * 24  # leap February


# --- validation ---------------------------------------------------------------------------------


def test_bundled_like_tariff_is_valid() -> None:
    validate_tariff(simple_tariff(), "grid.tariff")


def test_month_covered_twice() -> None:
    tariff = simple_tariff()
    tariff["periods"][1]["months"] = [6, 7, 8, 9, 10, 11, 12]
    with pytest.raises(ScenarioError, match="month 6 is already in grid.tariff.periods.0") as info:
        validate_tariff(tariff, "grid.tariff")
    assert info.value.field == "grid.tariff.periods.1.months"


def test_month_missing() -> None:
    tariff = simple_tariff()
    tariff["periods"][1]["months"] = [7, 8, 9, 10, 11]
    with pytest.raises(ScenarioError, match=r"months \[12\] not covered") as info:
        tou_period_labels(pd.date_range("2025-01-01", periods=2, freq="h"), tariff)
    assert info.value.field == "grid.tariff.periods"


@pytest.mark.parametrize(
    ("window", "where"),
    [
        ([20, 25], "peak.0"),
        ([-1, 3], "peak.0"),
        ([10, 10], "peak.0"),
        ([12, 9], "peak.0"),
        ([8.123, 9], "peak.0"),
        ([8], "peak.0"),
        (["8", 9], "peak.0"),
    ],
)
def test_bad_windows(window: list, where: str) -> None:
    tariff = simple_tariff()
    tariff["periods"][0]["peak"] = [window]
    with pytest.raises(ScenarioError, match="0 <= start < end <= 24") as info:
        validate_tariff(tariff, "scenario.grid.tariff")
    assert info.value.field == f"scenario.grid.tariff.periods.0.{where}"


def test_overlapping_peak_and_valley() -> None:
    tariff = simple_tariff()
    tariff["periods"][0]["valley"] = [[0, 9]]
    with pytest.raises(ScenarioError, match="do not overlap peak .*8.5 h"):
        validate_tariff(tariff, "grid.tariff")


@pytest.mark.parametrize(
    ("changes", "field", "match"),
    [
        ({"prices_per_kwh": {"peak": 1.0, "flat": -0.5, "valley": 0.2}},
         "grid.tariff.prices_per_kwh.flat", ">= 0"),
        ({"prices_per_kwh": {"peak": 1.0, "flat": 0.5}},
         "grid.tariff.prices_per_kwh", "missing valley"),
        ({"prices_per_kwh": {"peak": 1.0, "flat": 0.5, "valley": 0.2, "sholder": 0.7}},
         "grid.tariff.prices_per_kwh", "period names"),
        ({"prices_per_kwh": {"peak": float("nan"), "flat": 0.5, "valley": 0.2}},
         "grid.tariff.prices_per_kwh.peak", ">= 0"),
        ({"default_period": "normal"}, "grid.tariff.default_period", "one of"),
        ({"periods": []}, "grid.tariff.periods", "non-empty list"),
        ({"demand_charge_per_kw_month": -1}, "grid.tariff.demand_charge_per_kw_month", ">= 0"),
    ],
)
def test_bad_tariff_fields(changes: dict, field: str, match: str) -> None:
    with pytest.raises(ScenarioError, match=match) as info:
        validate_tariff(simple_tariff(**changes), "grid.tariff")
    assert info.value.field == field


def test_critical_window_needs_a_price() -> None:
    tariff = simple_tariff()
    tariff["periods"][1]["critical"] = [[19, 20]]
    with pytest.raises(ScenarioError, match="missing critical"):
        tou_price_per_kwh(pd.date_range("2025-07-01", periods=2, freq="h"), tariff)


def test_unknown_rule_key_and_bad_months() -> None:
    tariff = simple_tariff()
    tariff["periods"][0]["shoulder"] = [[6, 8]]
    with pytest.raises(ScenarioError) as info:
        validate_tariff(tariff, "grid.tariff")
    assert info.value.field == "grid.tariff.periods.0.shoulder"
    tariff = simple_tariff()
    tariff["periods"][0]["months"] = [0, 1, 2, 3, 4, 5, 6]
    with pytest.raises(ScenarioError, match="integer months 1..12"):
        validate_tariff(tariff, "grid.tariff")


def test_not_a_mapping() -> None:
    with pytest.raises(ScenarioError, match="mapping") as info:
        validate_tariff(["peak"], "grid.tariff")
    assert info.value.field == "grid.tariff"
