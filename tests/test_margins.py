"""Peak guard and DR delivery margin of the day-ahead schedule, hand-checked on the tiny park.

The tiny park (:mod:`zeropark.examples`), one day at 1 h: 50 kW load with 60 kW at 18–20 h, a
flat 1 CNY/kWh price, an ideal 20 kWh / 10 kW battery half full that must end at least half full,
a 40 CNY/(kW·month) demand charge. Energy is 1220 kWh whatever the plan (ideal battery, flat
price), so the objective is 1220 + what the margins cost. The least peak the battery can reach
is 155/3 kW (x = 5/3 kW above 50 kW; see tests/test_operations.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny_dict
from zeropark.operations.margins import Margins, parse_margin
from zeropark.operations.schedule import make_schedule
from zeropark.operations.state import state_from_dict
from zeropark.scenario import scenario_from_dict

TOL = 2e-3


def park(demand_charge: float = 40.0):
    return scenario_from_dict(tiny_dict(24, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": demand_charge}))


def forecast() -> pd.DataFrame:
    load = np.full(24, 50.0)
    load[18:20] = 60.0
    return pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                         "load_kw": load, "import_price_per_kwh": 1.0})


def run(margins: Margins, floor_kw: float | None = None, dr: list | None = None,
        demand_charge: float = 40.0):
    state = {"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []}
    if floor_kw is not None:
        state["month_to_date"] = {"month": "2025-07", "peak_import_kw": floor_kw}
    if dr is not None:
        state["dr_committed"] = dr
    s = make_schedule(park(demand_charge), state_from_dict(state), start="2025-07-01T00:00",
                      horizon_h=24, step="1h", forecast=forecast(), margins=margins,
                      created_at="2026-12-02T00:00:00+00:00",
                      intra_step_peak="average")  # hand-checked on hourly averages (the
    # default "scenario" would add the tiny synthetic load's intra-hour peak)
    assert not s.fallback, s.doc["metadata"]["reasons"]
    imp = np.array([iv["grid_import_kw"] for iv in s.doc["intervals"]])
    return s.doc["metadata"], imp


def test_fixed_peak_guard_stays_below_the_month_peak():
    """Floor 58 kW, guard 5 kW: import ≤ 53 kW is reachable (x = 3 ≥ 5/3), so nothing more is
    billed: objective 1220, every import ≤ 53. Without the guard the plan may touch 58."""
    meta, imp = run(Margins(peak_margin_kw=5.0, dr_margin_kw=0.0), floor_kw=58.0)
    assert meta["objective"] == pytest.approx(1220.0, rel=1e-6)
    assert imp.max() <= 53.0 + TOL
    assert meta["margins"]["peak_rule"].startswith("fixed")  # then the lookahead discount
    assert meta["margins"]["peak_margin_kw_max"] == 5.0
    _, bare = run(Margins.off(), floor_kw=58.0)
    assert bare.max() <= 58.0 + TOL


def test_peak_guard_that_cannot_be_kept_is_paid_for():
    """Floor 55 kW, guard 5 kW: import ≤ 50 kW would need x = 0 (impossible: the battery must
    be refilled), the least peak is 155/3, so the guard is breached by 155/3 + 5 − 55 = 5/3 kW
    at half the demand charge: objective 1220 + 0.5 × 40 × 5/3 = 1253.333; the billed peak
    stays at the floor and the plan peaks at 155/3."""
    meta, imp = run(Margins(peak_margin_kw=5.0, dr_margin_kw=0.0), floor_kw=55.0)
    assert meta["objective"] == pytest.approx(1220.0 + 0.5 * 40.0 * 5.0 / 3.0, rel=1e-6)
    assert imp.max() == pytest.approx(155.0 / 3.0, abs=TOL)
    assert meta["expected"]["demand_charge_incremental"] == pytest.approx(0.0, abs=1e-6)


def test_chance_peak_guard_from_the_load_error():
    """Load error 10 %, z = 1: σ = 5 kW at 50 kW and 6 kW at 60 kW. Floor 57 kW: import ≤ 52
    kW, and ≤ 51 kW at 18–20 h: discharge 2 × 9 = 18 kWh, recharged 10 kWh before 18 h (SOC
    cap) + 4 × 2 = 8 kWh after — exactly feasible, so objective 1220."""
    m = Margins(dr_margin_kw=0.0, load_error=0.1, pv_error=0.0, peak_z=1.0)
    meta, imp = run(m, floor_kw=57.0)
    assert meta["objective"] == pytest.approx(1220.0, rel=1e-6)
    assert imp[18:20].max() <= 51.0 + TOL and imp.max() <= 52.0 + TOL
    assert meta["margins"]["peak_margin_kw_max"] == pytest.approx(6.0)
    assert meta["margins"]["peak_margin_kw_mean"] == pytest.approx((22 * 5 + 2 * 6) / 24, abs=1e-3)


EVENT = {"name": "cut", "date": "2025-07-01", "start": "18:00", "end": "20:00",
         "reduction_kw": 5.0, "baseline_kw": 60.0, "payment_per_kw": 0.0,
         "penalty_per_kwh": 1.0}


def test_dr_margin_plans_below_the_committed_cap():
    """Committed cut of 5 kW from a 60 kW baseline (cap 55 kW) at 18–20 h, no demand charge.
    Margin 3 kW: the window's mean import ≤ 52 kW (16 kWh delivered, battery 8 kW), at no extra
    cost with an ideal battery and a flat price: objective 1220."""
    meta, imp = run(Margins(peak_margin_kw=0.0, dr_margin_kw=3.0), dr=[EVENT], demand_charge=0)
    assert meta["objective"] == pytest.approx(1220.0, rel=1e-6)
    assert imp[18:20].mean() <= 52.0 + TOL
    assert meta["margins"]["dr_margin_kw"] == {"cut": 3.0}
    _, bare = run(Margins.off(), dr=[EVENT], demand_charge=0)
    assert bare[18:20].mean() <= 55.0 + TOL


def test_dr_margin_beyond_the_battery_costs_its_penalty():
    """Margin 15 kW asks 10 + 30 = 40 kWh; the 10 kW battery gives 20 kWh: 20 kWh of margin
    short at 5 × 1 CNY/kWh = 100: objective 1320; the commitment itself is met (20 ≥ 10)."""
    meta, imp = run(Margins(peak_margin_kw=0.0, dr_margin_kw=15.0), dr=[EVENT], demand_charge=0)
    assert meta["objective"] == pytest.approx(1320.0, rel=1e-6)
    assert imp[18:20].mean() == pytest.approx(50.0, abs=TOL)


@pytest.mark.parametrize(("value", "field"), [("-1", "--peak-margin"), ("nan", "--peak-margin"),
                                              ("lots", "--dr-margin"), ("1e9", "--dr-margin")])
def test_bad_margin_options_are_refused(value, field):
    with pytest.raises(ScenarioError, match=field):
        parse_margin(value, field)


@pytest.mark.parametrize("kw", [{"load_error": -0.1}, {"pv_error": float("inf")},
                                {"peak_margin_kw": -5.0}, {"dr_z": 9.0}])
def test_bad_margins_are_refused(kw):
    with pytest.raises(ScenarioError):
        Margins(**kw)


def test_auto_is_the_default_and_zero_is_off():
    assert parse_margin("auto", "--peak-margin") is None
    assert parse_margin("0", "--peak-margin") == 0.0
    assert Margins().peak_margin_kw is None and Margins.off().peak_margin_kw == 0.0


def metered_day(event_kw: float):
    """Meter readings of 1 July 2025: 50 kW import, ``event_kw`` at 18–20 h."""
    from zeropark.operations.ledger import read_actuals

    imp = np.full(24, 50.0)
    imp[18:20] = event_kw
    return read_actuals(pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                                      "grid_import_kw": imp, "ef_kg_per_kwh": 0.5}))


def test_drift_report_says_whether_dr_was_delivered():
    """The plan keeps the cut (cap 55 kW at 18–20 h). Metered import 57 kW in both hours:
    delivered (60 − 57) × 2 = 6 of 5 × 2 = 10 kWh, 4 kWh short, both hours above the cap.
    Metered 54 kW: 12 kWh delivered, none short."""
    from zeropark.operations.ledger import drift_lines, update_state

    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": [],
                             "dr_committed": [EVENT]})
    s = make_schedule(park(0.0), state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                      forecast=forecast(), margins=Margins.off(),
                      created_at="2026-12-02T00:00:00+00:00")
    for metered, short, above in ((57.0, 4.0, 2), (54.0, 0.0, 0)):
        act = metered_day(metered)
        up = update_state(state, act, s.doc)
        (dr,) = up.drift["dr_delivery"]
        assert dr["event"] == "cut" and dr["complete"] and dr["committed"]
        assert dr["requested_kwh"] == pytest.approx(10.0)
        assert dr["delivered_kwh"] == pytest.approx(2 * (60.0 - metered))
        assert dr["shortfall_kwh"] == pytest.approx(short)
        assert dr["intervals_above_cap"] == above and dr["delivered"] is (short == 0.0)
        # the plan meant to deliver all of it: whatever is short was suffered, not chosen
        assert dr["planned_delivered_kwh"] >= 10.0 - TOL
        assert dr["planned_shortfall_kwh"] == pytest.approx(0.0, abs=TOL)
        assert dr["suffered_shortfall_kwh"] == pytest.approx(short, abs=TOL)
        line = next(x for x in drift_lines(up.drift, True) if x.startswith("DR cut"))
        assert ("SHORT 4.0 kWh" in line) is (short > 0)


def test_drift_report_tells_a_chosen_shortfall_from_a_suffered_one():
    """A committed cut of 15 kW from the 60 kW baseline at 18–20 h asks 30 kWh; the 10 kW
    battery can give at most 2 × 10 = 20 kWh (import 50 kW), so the plan delivers 20 and is 10
    kWh short by choice. Metered 50 kW: short 10, all of it planned. Metered 52 kW: delivered 16,
    short 14 = 10 planned + 4 suffered."""
    from zeropark.operations.ledger import update_state

    big = {**EVENT, "reduction_kw": 15.0}
    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": [],
                             "dr_committed": [big]})
    s = make_schedule(park(0.0), state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                      forecast=forecast(), margins=Margins.off(), intra_step_peak="average",
                      created_at="2026-12-02T00:00:00+00:00")
    for metered, short, suffered in ((50.0, 10.0, 0.0), (52.0, 14.0, 4.0)):
        act = metered_day(metered)
        (dr,) = update_state(state, act, s.doc).drift["dr_delivery"]
        assert dr["planned_delivered_kwh"] == pytest.approx(20.0, abs=TOL)
        assert dr["shortfall_kwh"] == pytest.approx(short, abs=TOL)
        assert dr["planned_shortfall_kwh"] == pytest.approx(10.0, abs=TOL)
        assert dr["suffered_shortfall_kwh"] == pytest.approx(suffered, abs=TOL)


def test_an_offered_event_is_accepted_only_with_its_margin_kept():
    """The same cut offered (in the scenario, not yet committed), paid 100 CNY per kW of average
    reduction, no demand charge. Margin 15 kW asks 10 + 30 = 40 kWh; the 10 kW battery gives at
    most 20 kWh in the 2 h window, so the margin cannot be kept: the hard margin (default)
    declines the event. The soft margin accepts it (the payment of at least 5 kW × 100 = 500
    CNY beats 20 kWh of margin short at 5 × 1 CNY/kWh = 100 CNY). A 2.5 kW margin (10 + 5 =
    15 ≤ 20 kWh) is kept, and the event accepted, either way."""
    offered = {**EVENT, "payment_per_kw": 100.0}
    sc = scenario_from_dict(tiny_dict(24, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0}, demand_response={"events": [offered]}))
    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []})

    def accepted(margins: Margins) -> list[str]:
        s = make_schedule(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                          forecast=forecast(), margins=margins, intra_step_peak="average",
                          created_at="2026-12-02T00:00:00+00:00")
        assert not s.fallback, s.doc["metadata"]["reasons"]
        return list(s.plan.dr_accepted)

    wide = Margins(peak_margin_kw=0.0, dr_margin_kw=15.0)
    assert wide.dr_margin_hard and accepted(wide) == []
    assert accepted(Margins(peak_margin_kw=0.0, dr_margin_kw=15.0, dr_margin_hard=False)) == [
        "cut"]
    assert accepted(Margins(peak_margin_kw=0.0, dr_margin_kw=2.5)) == ["cut"]
    assert "kept to accept" in Margins().describe()["dr_rule"]
