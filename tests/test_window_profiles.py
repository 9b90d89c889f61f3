"""A date's synthetic profiles do not depend on the window asked for (week, night, year).

The seeded generators draw per calendar day (weather, EV sessions) or per calendar year (load,
direct-green wind) and a window takes its dates from them, so the same date is bit-identical in
a week, a 48-h nightly window and the full year, and ``prepare(start=…, steps=…)`` builds only
the window (plus a DR baseline's lookback) yet gives exactly the whole-year profiles cut.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeropark import load_scenario
from zeropark.api import prepare
from zeropark.profiles import green, solar
from zeropark.profiles.build import build_profiles, build_window_profiles

ROOT = Path(__file__).resolve().parents[1]
SUZHOU = {"latitude": 31.3, "longitude": 120.6, "altitude_m": 5.0, "utc_offset_h": 8.0}


def _weather(time: pd.DatetimeIndex) -> pd.DataFrame:
    return solar.clearsky_weather(time, **SUZHOU, monthly_clearness=[0.55] * 12, seed=11)


@pytest.mark.parametrize("freq", ["15min", "1h"])
def test_same_date_same_weather_in_three_windows(freq: str) -> None:
    year = _weather(pd.date_range("2025-01-01", "2026-01-01", freq=freq, inclusive="left"))
    week = _weather(pd.date_range("2025-07-21", "2025-07-28", freq=freq, inclusive="left"))
    # a nightly window starting mid-morning, crossing midnight
    night = _weather(pd.date_range("2025-07-24 10:00", periods=int(48 / pd.Timedelta(freq)
                                                                  .total_seconds() * 3600),
                                   freq=freq))
    for part in (week, night):
        assert np.array_equal(part.to_numpy(), year.loc[part.index].to_numpy())
    assert year.loc["2025-07-24", "ghi"].max() > 100  # a real day, not an all-zero comparison


def test_wind_window_independent_and_new_year_restarts() -> None:
    year = pd.date_range("2025-01-01", "2026-01-02", freq="15min", inclusive="left")
    full = green.synthetic_wind_cf(year, seed=5, dt_h=0.25)
    for a, n in ((96 * 200 + 37, 192), (96 * 364, 96 * 2)):  # mid-year; across the new year
        part = green.synthetic_wind_cf(year[a:a + n], seed=5, dt_h=0.25)
        assert np.array_equal(part, full[a:a + n])
    assert 0.0 < full.mean() < 1.0


def test_window_build_equals_whole_year_cut() -> None:
    sc = load_scenario(ROOT / "scenarios" / "demo-park.yaml")
    whole = build_profiles(sc)
    # 2025-08-04 00:00 + 48 h holds the committed-style DR event of 5 Aug (own-import baseline,
    # which reads the days before it); 2025-03-10 has none
    for day in ("2025-08-04", "2025-03-10"):
        start = int((pd.Timestamp(day) - whole.time[0]) / pd.Timedelta(hours=1))
        cut = whole.window(start, start + 48)
        win = build_window_profiles(sc, start, start + 48)
        assert win.time.equals(cut.time)
        for name in ("load_kw", "pv_avail_kw", "import_price_per_kwh", "export_price_per_kwh",
                     "ef_kg_per_kwh", "month_fraction", "peak_ratio"):
            assert np.array_equal(getattr(win, name), getattr(cut, name)), name
        for g in cut.ev:
            for name in ("e_lo_kwh", "e_hi_kwh", "p_max_kw"):
                assert np.array_equal(getattr(win.ev[g], name), getattr(cut.ev[g], name))
        assert [e.name for e in win.dr_events] == [e.name for e in cut.dr_events]
        for a, b in zip(win.dr_events, cut.dr_events, strict=True):
            # same days, same values up to rounding: the uncontrolled EV edge is a difference of
            # cumulative energies, summed from 1 January in the year (5e-10 kW seen)
            np.testing.assert_allclose(a.baseline_kw, b.baseline_kw, rtol=1e-12, atol=1e-8)
            assert a.baseline_source == b.baseline_source
    assert [e.name for e in build_window_profiles(sc, start, start + 48).dr_events] == []
    d = prepare(sc, start=24 * 216, steps=48)  # 2025-08-05: through the window path
    assert d.prof.n_steps == 48 and d.prof.time[0] == pd.Timestamp("2025-08-05")
