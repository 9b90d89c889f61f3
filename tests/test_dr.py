"""Demand response as it is settled: a baseline from data, payment on the delivered reduction
within a settlement band, a penalty on the shortfall. Tiny cases whose optima are worked out by
hand; both engines must hit them exactly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from zeropark import ScenarioError, run
from zeropark.examples import battery, tiny
from zeropark.model.dr import event_data, settle
from zeropark.profiles.base import DrEventProfile
from zeropark.profiles.drbaseline import dr_profiles, no_action_net_import_kw

ENGINES = ["matrix", "pyomo"]
PV_FILE = {"path": "pv.csv"}  # never read: the tests pass the PV profile directly


def _event(**kw: object) -> dict:
    base = {"name": "cut", "date": "2025-07-01", "start": "01:00", "end": "03:00",
            "reduction_kw": 4.0, "payment_per_kw": 2.0, "penalty_per_kwh": 0.5}
    base.update(kw)
    return base


def _with_events(sc, prof):  # noqa: ANN001, ANN202
    """The scenario's events on the profiles, baselines by the scenario's rule."""
    return sc, dataclasses.replace(prof, dr_events=dr_profiles(sc, prof))


# -- settlement on the delivered reduction ------------------------------------------------------
def _battery_case(energy_kwh: float, power_kw: float = 20.0, **event: object) -> tuple:
    # Load 10 kW in 3 hourly steps at price 1; the event covers steps 1–2 (H = 2 h) and asks
    # R = 4 kW below the 10 kW baseline (no PV, no flexibility besides the battery: the same-day
    # fallback baseline is the load, 10 kW), so Q = 8 kWh. The battery starts empty with
    # η_c = 0.8: delivering x kWh in the window means buying x/0.8 in step 0 and x less in the
    # window, i.e. it costs 0.25·x. Without the event the optimum is 30 (battery idle).
    sc, prof = tiny(3, dict(load_kw=[10, 10, 10], price=1.0),
                    storage=[battery(energy_kwh=energy_kwh, power_kw=power_kw,
                                     charge_efficiency=0.8)],
                    demand_response={"events": [_event(**event)]})
    return _with_events(sc, prof)


@pytest.mark.parametrize("engine", ENGINES)
def test_delivered_reduction_is_paid_and_the_shortfall_penalised(engine: str) -> None:
    # Battery 6 kWh: x ≤ 6 kWh = 75 % of Q (inside the 50–120 % band). Each kWh delivered earns
    # π/H = 2/2 = 1, saves 0.5 of penalty and costs 0.25, so x = 6: pay 6, penalty 0.5·(8 − 6)
    # = 1, cost 30 + 0.25·6 − 6 + 1 = 26.5 < 30 (declining).
    sc, prof = _battery_case(6.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(26.5, abs=1e-7)
    ev = r.kpis["dr_events"]["cut"]
    assert ev["accepted"] and ev["qualified"]
    assert ev["baseline_kwh"] == pytest.approx(20.0)
    assert ev["requested_kwh"] == pytest.approx(8.0)
    assert ev["delivered_kwh"] == pytest.approx(6.0, abs=1e-7)
    assert ev["paid_kwh"] == pytest.approx(6.0, abs=1e-7)
    assert ev["shortfall_kwh"] == pytest.approx(2.0, abs=1e-7)
    assert r.kpis["dr_revenue"] == pytest.approx(6.0, abs=1e-7)
    assert r.kpis["dr_penalty"] == pytest.approx(1.0, abs=1e-7)
    assert r.kpis["cost_breakdown"]["dr_revenue"] == pytest.approx(6.0, abs=1e-7)
    assert r.kpis["cost_breakdown"]["dr_penalty"] == pytest.approx(1.0, abs=1e-7)
    assert r.kpis["cost_breakdown"]["penalties"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, abs=1e-7)
    # per step: baseline − net import, summing to the delivered energy
    delivered = r.dataset.dr_delivered_kw.values
    assert delivered[0] == 0.0 and delivered[1:].sum() == pytest.approx(6.0, abs=1e-7)
    assert np.isnan(r.dataset.dr_baseline_kw.values[0])
    assert r.dataset.dr_baseline_kw.values[1:] == pytest.approx([10.0, 10.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_below_the_minimum_ratio_nothing_is_paid(engine: str) -> None:
    # Battery 3 kWh: x ≤ 3 = 37.5 % of Q < 50 %: accepting earns nothing and pays the shortfall,
    # so the optimum declines: 30.
    sc, prof = _battery_case(3.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(30.0, abs=1e-7)
    assert r.kpis["dr_events_accepted"] == []
    assert r.kpis["dr_revenue"] == 0.0 and r.kpis["dr_penalty"] == 0.0
    # Committed (already accepted): settled the same way. Delivering still pays off against the
    # penalty (0.5 > 0.25 per kWh), x = 3, no payment: 30 + 0.25·3 + 0.5·(8 − 3) = 33.25.
    sc, prof = _battery_case(3.0, committed=True)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(33.25, abs=1e-7)
    ev = r.kpis["dr_events"]["cut"]
    assert ev["accepted"] and ev["committed"] and not ev["qualified"]
    assert ev["delivered_kwh"] == pytest.approx(3.0, abs=1e-7)
    assert ev["paid_kwh"] == pytest.approx(0.0, abs=1e-7)
    assert r.kpis["dr_revenue"] == pytest.approx(0.0, abs=1e-7)
    assert r.kpis["dr_penalty"] == pytest.approx(2.5, abs=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_payment_is_capped_above_the_maximum_ratio(engine: str) -> None:
    # Battery 20 kWh: above 1.2·Q = 9.6 kWh nothing more is paid and delivering still costs
    # 0.25/kWh, so x = 9.6: 30 + 0.25·9.6 − 1·9.6 = 22.8; no shortfall.
    sc, prof = _battery_case(20.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(22.8, abs=1e-7)
    ev = r.kpis["dr_events"]["cut"]
    assert ev["paid_kwh"] == pytest.approx(9.6, abs=1e-7)
    assert ev["delivered_kwh"] == pytest.approx(9.6, abs=1e-7)
    assert ev["shortfall_kwh"] == pytest.approx(0.0, abs=1e-7)
    assert r.kpis["dr_revenue"] == pytest.approx(9.6, abs=1e-7)
    # a wider band pays the whole 12 kWh the battery can then deliver (20 kW·1 h charged at
    # η 0.8 = 16 kWh stored, capped by 1.5·Q = 12): 30 + 0.25·12 − 12 = 21
    sc2 = sc.replace({"demand_response.settlement.max_response_ratio": 1.5})
    _, prof2 = _with_events(sc2, prof)
    r = run(sc2, prof2, engine=engine)
    assert r.objective == pytest.approx(21.0, abs=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_committed_event_without_flexibility_pays_the_whole_shortfall(engine: str) -> None:
    # Nothing can move: delivered 0, penalty 0.5·Q = 4 on top of the energy 30.
    sc, prof = tiny(3, dict(load_kw=[10, 10, 10], price=1.0),
                    demand_response={"events": [_event(committed=True)]})
    r = run(*_with_events(sc, prof), engine=engine)
    assert r.objective == pytest.approx(34.0, abs=1e-7)
    assert r.kpis["dr_events"]["cut"]["delivered_kwh"] == pytest.approx(0.0, abs=1e-7)
    assert r.kpis["dr_penalty"] == pytest.approx(4.0, abs=1e-7)


# -- finding 2: a park without flexibility never profits --------------------------------------
def _no_flex_park(payment: float, penalty: float, reduction_kw: float = 50.0,
                  export_limit_kw: float = 0.0) -> tuple:
    # Load 100 kW in 4 hourly steps at price 1, PV [0, 30, 130, 0] kW, no storage, EV or flexible
    # load; the event covers steps 1–2.
    sc, prof = tiny(4, dict(load_kw=[100] * 4, price=1.0, export_price=0.3,
                            pv_kw=[[0, 30, 130, 0]]),
                    pv=[{"name": "roof", "capacity_kw": 150, "profile": PV_FILE}],
                    grid={"import_limit_kw": 1000.0, "export_limit_kw": export_limit_kw},
                    demand_response={"events": [_event(
                        reduction_kw=reduction_kw, payment_per_kw=payment,
                        penalty_per_kwh=penalty)]})
    return _with_events(sc, prof)


@pytest.mark.parametrize("engine", ENGINES)
def test_finding_2_no_flexibility_park_declines_the_event(engine: str) -> None:
    # The old rule paid on the *requested* reduction when the accept binary was 1. On this park
    # with R = 50 kW, 15 CNY/kW and 1 CNY/kWh it accepted, delivered nothing, earned 15·50 = 750
    # and paid only 40 of penalty (its baseline, load + flexible mean = 100 kW, ignored the PV,
    # so the 30 kW of PV counted as "delivered"): objective 340 + 40 − 750 = −370. Without PV
    # the same park earned 750 and paid 100 (50 kW short for 2 h): 400 + 100 − 750 = −250.
    # Now the baseline is the net import without action (same-day fallback: [70, 0] kW, PV
    # included) and only the delivered reduction (none is possible) is paid: the park declines
    # and pays its energy, 100 + 70 + 0 + 100 = 270 (PV beyond the load is curtailed).
    sc, prof = _no_flex_park(payment=15.0, penalty=1.0)
    assert prof.dr_events[0].baseline_steps_kw() == pytest.approx([70.0, 0.0])
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(270.0, abs=1e-7)
    assert r.kpis["dr_events_accepted"] == []
    assert r.kpis["dr_revenue"] == 0.0


@pytest.mark.parametrize("export_limit_kw", [0.0, 50.0])
@pytest.mark.parametrize("reduction_kw", [1.0, 50.0])
def test_no_flexibility_park_never_profits_over_a_grid_of_prices(reduction_kw: float,
                                                                 export_limit_kw: float) -> None:
    # Whatever the payment and penalty, the optimum equals the cost without any event (the park
    # cannot lower its net import below its own no-action import), and if it accepts at all
    # (only possible at penalty 0) it earns nothing.
    free = None
    for payment in (0.0, 1.0, 15.0, 100.0, 1000.0):
        for penalty in (0.0, 1.0, 10.0):
            sc, prof = _no_flex_park(payment, penalty, reduction_kw, export_limit_kw)
            if free is None:
                free = run(sc, dataclasses.replace(prof, dr_events=[])).objective
            r = run(sc, prof)
            assert r.objective == pytest.approx(free, abs=1e-6), (payment, penalty)
            net = r.kpis["dr_revenue"] - r.kpis["dr_penalty"]
            assert net <= 1e-9
            if penalty > 0:
                assert r.kpis["dr_events_accepted"] == []


# -- finding 3: the baseline from data --------------------------------------------------------
def test_finding_3_baseline_is_the_no_action_net_import_not_load_plus_flex_mean() -> None:
    # Three identical working days (Tue 1 – Thu 3 July 2025), hourly: load 100 kW, PV 30 kW at
    # 14:00, a flexible load of 120 kWh per 24 h (reference 5 kW); the event on Thursday at
    # 14:00–15:00. The old rule gave load + flexible mean = 105 kW, above anything the park would
    # import. Now: mean net import without action at 14:00 on Tue and Wed = 100 + 5 − 30 = 75,
    # exactly what the park imports on Thursday without action.
    T = 72
    pv = np.zeros(T)
    pv[[14, 38, 62]] = 30.0
    sc, prof = tiny(T, dict(load_kw=np.full(T, 100.0), price=1.0, pv_kw=[pv]),
                    pv=[{"name": "roof", "capacity_kw": 40, "profile": PV_FILE}],
                    flexible_loads=[{"name": "kiln", "max_power_kw": 20,
                                     "energy_per_window_kwh": 120, "window_h": 24}],
                    demand_response={"events": [_event(date="2025-07-03", start="14:00",
                                                       end="15:00")]})
    sc, prof = _with_events(sc, prof)
    e = prof.dr_events[0]
    own = no_action_net_import_kw(sc, prof)
    assert e.baseline_steps_kw() == pytest.approx([75.0])
    assert e.baseline_steps_kw() <= own[e.mask] + 1e-9
    assert "2025-07-01, 2025-07-02" in e.baseline_source
    # never from decisions: the same baseline whatever the payment, and the run reports it
    for payment in (0.0, 50.0):
        sc_p = sc.replace({"demand_response.events.0.payment_per_kw": payment})
        _, prof_p = _with_events(sc_p, prof)
        r = run(sc_p, prof_p)
        assert r.dataset.dr_baseline_kw.values[62] == pytest.approx(75.0)


@pytest.fixture(autouse=True)
def _history_folder_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the tiny scenarios live in the working folder and read their meter history from tmp_path:
    # allowed as `zeropark --allow-outside tmp_path` would (the path policy has its own tests)
    from zeropark import guard

    monkeypatch.setenv(guard.ENV_ALLOW, str(tmp_path.resolve()))


def _history(tmp_path: Path, rows: list[tuple[str, float]]) -> Path:
    path = tmp_path / "meter.csv"
    path.write_text("time,net_import_kw\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


HISTORY = [  # hand-made metered net import at 14:00 and 15:00
    ("2025-07-09 14:00", 100), ("2025-07-09 15:00", 110),  # Wed
    ("2025-07-10 14:00", 999),  # Thu: 15:00 missing → day not usable
    ("2025-07-11 14:00", 120), ("2025-07-11 15:00", 130),  # Fri
    ("2025-07-12 14:00", 500), ("2025-07-12 15:00", 500),  # Sat (rest day)
    ("2025-07-13 14:00", 500), ("2025-07-13 15:00", 500),  # Sun (rest day)
    ("2025-07-14 14:00", 140), ("2025-07-14 15:00", 150),  # Mon
    ("2025-07-15 14:00", 160), ("2025-07-15 15:00", 170),  # Tue
]


def _history_case(tmp_path: Path, days: int, date: str = "2025-07-16") -> DrEventProfile:
    path = _history(tmp_path, HISTORY)
    sc, prof = tiny(2, dict(load_kw=[1000, 1000], price=1.0, start=f"{date} 14:00"),
                    time={"start": f"{date}T14:00", "steps": 2, "step": "1h"},
                    demand_response={
                        "baseline": {"days": days, "history": {"path": str(path)}},
                        "events": [_event(date=date, start="14:00", end="16:00")]})
    return _with_events(sc, prof)[1].dr_events[0]


def test_baseline_from_metered_history_uses_previous_similar_days(tmp_path: Path) -> None:
    # Wed 16 July, 3 days: the 3 most recent working days with full data are Tue 15, Mon 14 and
    # Fri 11 (the weekend is another kind, Thu 10 lacks 15:00): 14:00 → (160+140+120)/3 = 140,
    # 15:00 → (170+150+130)/3 = 150. The event day's own load (1000 kW) plays no part.
    e = _history_case(tmp_path, days=3)
    assert e.baseline_steps_kw() == pytest.approx([140.0, 150.0])
    assert "metered history" in e.baseline_source
    # 5 days asked, 4 usable (Wed 9 added): the mean of those found, (520/4, 560/4)
    e = _history_case(tmp_path, days=5)
    assert e.baseline_steps_kw() == pytest.approx([130.0, 140.0])
    assert "4 previous working day" in e.baseline_source


def test_rest_day_event_is_compared_with_rest_days(tmp_path: Path) -> None:
    # Saturday 19 July: only the rest days Sat 12 and Sun 13 qualify → 500 kW.
    e = _history_case(tmp_path, days=5, date="2025-07-19")
    assert e.baseline_steps_kw() == pytest.approx([500.0, 500.0])
    assert "rest day" in e.baseline_source


def test_no_similar_day_falls_back_to_the_event_days_own_no_action_import(tmp_path: Path) -> None:
    # The history ends on 15 July; an event on 1 August (lookback 10 days) has no similar day
    # in it: the baseline is the event day's own net import without action, the load 1000 kW.
    path = _history(tmp_path, HISTORY)
    sc, prof = tiny(2, dict(load_kw=[1000, 1000], price=1.0, start="2025-08-01 14:00"),
                    time={"start": "2025-08-01T14:00", "steps": 2, "step": "1h"},
                    demand_response={
                        "baseline": {"lookback_days": 10, "history": {"path": str(path)}},
                        "events": [_event(date="2025-08-01", start="14:00", end="16:00")]})
    e = _with_events(sc, prof)[1].dr_events[0]
    assert e.baseline_steps_kw() == pytest.approx([1000.0, 1000.0])
    assert "own net import" in e.baseline_source


def test_finer_history_is_averaged_over_each_step(tmp_path: Path) -> None:
    # 30-min meter data, hourly run: each hour is the mean of its two half hours; Tue 15 July
    # only (days = 1): 14:00 → (100 + 200)/2 = 150, 15:00 → (0 + −40)/2 = −20 (export).
    path = _history(tmp_path, [("2025-07-15 14:00", 100), ("2025-07-15 14:30", 200),
                               ("2025-07-15 15:00", 0), ("2025-07-15 15:30", -40)])
    sc, prof = tiny(2, dict(load_kw=[10, 10], price=1.0, start="2025-07-16 14:00"),
                    time={"start": "2025-07-16T14:00", "steps": 2, "step": "1h"},
                    demand_response={"baseline": {"days": 1, "history": {"path": str(path)}},
                                     "events": [_event(date="2025-07-16", start="14:00",
                                                       end="16:00")]})
    e = _with_events(sc, prof)[1].dr_events[0]
    assert e.baseline_steps_kw() == pytest.approx([150.0, -20.0])


@pytest.mark.parametrize(("rows", "needle"), [
    ([("2025-07-15 14:00", 1), ("2025-07-15 13:00", 2)], "strictly increasing"),
    ([("2025-07-15 14:00", "abc")], "numbers in column"),
    ([("2025-07-15 14:00", 2e9)], "magnitude at most"),
    ([("2025-07-15 14:00", 1), ("2025-07-15 14:40", 2)], "divides"),
])
def test_bad_history_is_refused_with_the_field(tmp_path: Path, rows: list, needle: str) -> None:
    path = _history(tmp_path, rows)
    sc, prof = tiny(2, dict(load_kw=[10, 10], price=1.0, start="2025-07-16 14:00"),
                    time={"start": "2025-07-16T14:00", "steps": 2, "step": "1h"},
                    demand_response={"baseline": {"history": {"path": str(path)}},
                                     "events": [_event(date="2025-07-16", start="14:00",
                                                       end="16:00")]})
    with pytest.raises(ScenarioError, match="demand_response.baseline.history") as err:
        dr_profiles(sc, prof)
    assert needle in str(err.value)


@pytest.mark.parametrize(("changes", "field"), [
    ({"demand_response.settlement.min_response_ratio": 1.5}, "min_response_ratio"),
    ({"demand_response.settlement.max_response_ratio": 0.9}, "max_response_ratio"),
    ({"demand_response.baseline.days": 0}, "days"),
])
def test_bad_settlement_options_are_refused(changes: dict, field: str) -> None:
    sc, _ = tiny(2, dict(load_kw=[10, 10], price=1.0))
    with pytest.raises(ScenarioError, match=field):
        sc.replace(changes)


def test_defaults_of_the_profile_and_the_schema_agree() -> None:
    from zeropark.scenario import DrSettlement

    e = DrEventProfile("x", np.array([True]), 1.0, 1.0, 0.0, 0.0)
    s = DrSettlement()
    assert (e.min_ratio, e.max_ratio) == (s.min_response_ratio, s.max_response_ratio)


# -- big-M and ex-post settlement -------------------------------------------------------------
def test_big_m_is_the_least_that_frees_a_declined_event() -> None:
    # Battery case with 6 kWh/20 kW: most the park can import per step = load 10 + battery 20
    # = 30 kW, so D_min = 20 − 2·30 = −40 kWh: M1 = 40, M3 = 0.5·8 + 40 = 44.
    sc, prof = _battery_case(6.0)
    from zeropark import prepare

    (x,) = event_data(prepare(sc, prof))
    assert (x.m1, x.m3, x.requested_kwh, x.baseline_kwh) == pytest.approx((40, 44, 8, 20))


def test_ex_post_settlement_matches_the_rule() -> None:
    e = DrEventProfile("x", np.array([False, True, True]), 10.0, 4.0, 2.0, 0.5)
    net = np.array([0.0, 7.0, 9.0])  # delivered (10−7) + (10−9) = 4 kWh of Q = 8: 50 %, paid
    s = settle(e, net, 1.0, accepted=True)
    assert (s.delivered_kwh, s.qualified, s.paid_kwh, s.short_kwh) == (4.0, True, 4.0, 4.0)
    assert (s.revenue, s.penalty) == (4.0, 2.0)
    s = settle(e, net + 0.5, 1.0, accepted=True)  # 3 kWh: below 50 %, nothing paid
    assert (s.qualified, s.paid_kwh, s.short_kwh) == (False, 0.0, 5.0)
    s = settle(e, np.array([0.0, 12.0, 12.0]), 1.0, accepted=False)  # declined: nothing at all
    assert (s.delivered_kwh, s.paid_kwh, s.short_kwh) == (-4.0, 0.0, 0.0)


def test_warm_start_tries_every_settlement_of_a_part_taken_event() -> None:
    # The relaxation may take an event part-way (accept 0.7): its payment then scales with the
    # fraction, so the nearest rounding (accept) can start far above the optimum. The warm start
    # tries the rounded point first, then declined (0, 0), accepted unqualified (1, 0) and
    # accepted and qualified (1, 1), the rest of the point as rounded.
    from zeropark import prepare
    from zeropark.model.builder import build_matrix
    from zeropark.solve import rounding_candidates

    d = prepare(*_no_flex_park(15.0, 1.0))
    lp = build_matrix(d)
    x = np.zeros(lp.n_cols)
    acc, qual = lp.cols("dr.accept").ravel(), lp.cols("dr.qualified").ravel()
    x[acc[0]], x[qual[0]] = 0.7, 0.7
    ints = np.flatnonzero(lp.arrays()["integer"])
    pos = {int(c): k for k, c in enumerate(ints)}
    rounded = np.round(x[ints])
    cands = rounding_candidates(lp, x, rounded)
    assert np.array_equal(cands[0], rounded)
    settled = {(c[pos[int(acc[0])]], c[pos[int(qual[0])]]) for c in cands}
    assert settled == {(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)} and len(cands) == 3
    # an integral relaxation, or a committed event, leaves only the rounded point
    x[acc[0]], x[qual[0]] = 1.0, 1.0
    assert len(rounding_candidates(lp, x, np.round(x[ints]))) == 1
