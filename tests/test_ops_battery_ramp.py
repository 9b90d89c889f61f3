"""Battery ramp limit across nights: the state carries the last executed battery power and the
next plan's first step stays within the ramp of it (as for flexible loads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeropark.examples import battery, tiny_dict
from zeropark.operations.ledger import read_actuals, update_state
from zeropark.operations.margins import Margins
from zeropark.operations.schedule import make_schedule
from zeropark.operations.state import state_from_dict
from zeropark.scenario import scenario_from_dict


def park(ramp: float | None):
    return scenario_from_dict(tiny_dict(24, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial",
        ramp_kw_per_h=ramp)], grid={"import_limit_kw": 1000.0}))


def plan(ramp: float | None, power_kw: float | None):
    price = np.ones(24)
    price[0] = 5.0  # discharging at once pays: the ramp from the state's power bounds it
    fc = pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                       "load_kw": 50.0, "import_price_per_kwh": price})
    state = state_from_dict({"storage": {"bat": {"soc": 0.5, "power_kw": power_kw}},
                             "ev_plugged": []})
    s = make_schedule(park(ramp), state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                      forecast=fc, margins=Margins.off(), created_at="2026-12-02T00:00:00+00:00",
                      intra_step_peak="average")  # hand-checked on hourly averages
    assert not s.fallback, s.doc["metadata"]["reasons"]
    return s, np.array([iv["storage"]["bat"]["power_kw"] for iv in s.doc["intervals"]])


@pytest.mark.parametrize(("ramp", "before", "first"), [
    (None, -10.0, 10.0),   # no limit: full discharge in the dear first hour
    # limit, power before unknown: the first step is free but must ramp down afterwards
    # (4 kW/h), and the 10 kWh in the battery hold 7 + 3 kWh: 7 kW
    (4.0, None, 7.0),
    (4.0, -10.0, -6.0),    # charging at 10 kW before: at most −10 + 4 = −6 kW
    (4.0, 0.0, 4.0),       # idle before: at most 4 kW
])
def test_first_step_within_the_ramp_of_the_last_power(ramp, before, first):
    s, q = plan(ramp, before)
    assert q[0] == pytest.approx(first, abs=1e-3)
    if ramp is not None:
        assert np.abs(np.diff(q)).max() <= ramp + 1e-3


def test_ledger_carries_the_battery_power_metered_or_planned():
    s, q = plan(4.0, 0.0)
    time = pd.date_range("2025-07-01", periods=24, freq="h")
    base = {"time": time, "grid_import_kw": 50.0, "ef_kg_per_kwh": 0.5}
    up = update_state(state_from_dict({"storage": {"bat": {"soc": 0.5, "power_kw": 3.0}},
                                       "ev_plugged": []}), read_actuals(pd.DataFrame(base)), s.doc)
    assert up.state.storage["bat"].power_kw == pytest.approx(q[-1], abs=1e-3)  # the plan's
    metered = read_actuals(pd.DataFrame({**base, "storage_kw[bat]": -2.5}))
    up = update_state(state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []}),
                      metered, s.doc)
    assert up.state.storage["bat"].power_kw == -2.5


def test_a_state_without_battery_power_keeps_its_hash():
    old = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []})
    same = state_from_dict({"storage": {"bat": {"soc": 0.5, "power_kw": None}},
                            "ev_plugged": []})
    assert old.content_hash() == same.content_hash()
    assert "power_kw" not in old.to_json()
