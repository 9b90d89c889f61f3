"""Tiny scenarios whose optima are worked out by hand; both engines must hit them exactly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from zeropark import Status, prepare, run, solve_data
from zeropark.examples import battery, tiny
from zeropark.model.data import ModelData
from zeropark.profiles.base import DrEventProfile, EvGroupProfile
from zeropark.profiles.ev import EvGroupSpec, ev_envelopes

ENGINES = ["matrix", "pyomo"]


@pytest.mark.parametrize("engine", ENGINES)
def test_three_step_arbitrage_with_charge_efficiency(engine: str) -> None:
    # Charge 5 kW at price 1 (4.5 kWh stored at η_c 0.9), discharge it in the price-3 step:
    # 5·1 + (5 − 4.5)·3 + 5·2 = 16.5. Discharging in the price-2 step instead would save less.
    sc, prof = tiny(3, dict(load_kw=[0, 5, 5], price=[1, 3, 2]),
                    storage=[battery(charge_efficiency=0.9)])
    r = run(sc, prof, engine=engine)
    assert r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(16.5, abs=1e-7)
    assert r.dataset.storage_charge_kw.values[0] == pytest.approx([5, 0, 0], abs=1e-7)
    assert r.dataset.grid_import_kw.values == pytest.approx([5, 0.5, 5], abs=1e-7)
    assert r.kpis["total_cost"] == pytest.approx(16.5, abs=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_battery_shaves_the_demand_charge(engine: str) -> None:
    # Flat price 1, demand charge 100/kW·month, peak load 30 kW in step 2. A 10 kW battery can
    # take at most 10 kW off the peak → peak 20 kW. Energy 60 kWh (η = 1) + 100·20 = 2060.
    sc, prof = tiny(4, dict(load_kw=[10, 10, 30, 10], price=1.0, demand_charge=100.0),
                    storage=[battery(energy_kwh=20, power_kw=10)])
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(2060.0, abs=1e-6)
    assert r.kpis["peak_import_kw_by_month"]["2025-07"] == pytest.approx(20.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(2000.0, abs=1e-6)


def _one_ev(penalty: float) -> tuple:
    # One EV, 20 kWh, plugged in for 4 h on a 7 kW pile (η = 1): built with the real envelope code.
    time = pd.date_range("2025-07-01", periods=4, freq="h")
    sessions = pd.DataFrame({"group": ["depot"], "pile": [0], "arrival": [time[0]],
                             "departure": [time[0] + pd.Timedelta(hours=4)],
                             "energy_kwh": [20.0], "max_power_kw": [50.0]})
    spec = EvGroupSpec(name="depot", count=1, power_kw=7.0, efficiency=1.0)
    env = ev_envelopes(sessions, time, 1.0, [spec])["depot"]
    assert env.e_lo_kwh == pytest.approx([0, 6, 13, 20])
    assert env.e_hi_kwh == pytest.approx([7, 14, 20, 20])
    group = EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw, env.requested_kwh, sessions)
    return tiny(4, dict(load_kw=[0, 0, 0, 0], price=[3, 1, 1, 3], ev={"depot": group}),
                ev={"groups": [{"name": "depot", "count": 1, "power_kw": 7, "efficiency": 1.0}],
                    "unmet_penalty_per_kwh": penalty})


@pytest.mark.parametrize("engine", ENGINES)
def test_ev_charges_before_its_deadline(engine: str) -> None:
    # 7 kWh in each cheap step (14 at price 1), the remaining 6 kWh at price 3: 14 + 18 = 32.
    sc, prof = _one_ev(penalty=5.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(32.0, abs=1e-7)
    assert r.kpis["ev_energy_kwh"] == pytest.approx(20.0, abs=1e-7)
    assert r.kpis["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-7)
    # A penalty below the expensive price leaves exactly those 6 kWh unmet: 14 + 6·2 = 26.
    sc, prof = _one_ev(penalty=2.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(26.0, abs=1e-7)
    assert r.kpis["ev_unmet_kwh"] == pytest.approx(6.0, abs=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_green_share_met_by_certificates(engine: str) -> None:
    # 1000 kWh from the grid at 0.5; a hard 30 % green share needs 0.3 MWh of certificates at
    # 5 per MWh: 500 + 1.5 = 501.5.
    sc, prof = tiny(1, dict(load_kw=[1000], price=0.5),
                    green_power={"certificates": {"price_per_mwh": 5.0}},
                    targets={"green_share": {"value": 0.3, "mode": "hard"}})
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(501.5, abs=1e-7)
    assert r.kpis["certificates_mwh"] == pytest.approx(0.3, abs=1e-9)
    assert r.kpis["green_share"] == pytest.approx(0.3, abs=1e-9)


def _dr_case(payment: float) -> tuple:
    # Load 10 kW; event in step 1 asks 4 kW below a 10 kW baseline. The battery (η_c 0.8) must
    # buy 5 kWh in step 0 to deliver 4 kWh in step 1: delivering costs 5 − 4 = 1.
    event = DrEventProfile("ev1", np.array([False, True]), 10.0, 4.0, payment, 100.0)
    return tiny(2, dict(load_kw=[10, 10], price=1.0, dr=[event]),
                storage=[battery(energy_kwh=4, power_kw=5, charge_efficiency=0.8)])


@pytest.mark.parametrize("engine", ENGINES)
def test_dr_event_accepted_exactly_when_payment_exceeds_cost(engine: str) -> None:
    sc, prof = _dr_case(payment=0.3)  # 4 kW · 0.3 = 1.2 > 1 → accept: 20 + 1 − 1.2 = 19.8
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(19.8, abs=1e-7)
    assert r.kpis["dr_events_accepted"] == ["ev1"]
    assert r.kpis["dr_revenue"] == pytest.approx(1.2)
    sc, prof = _dr_case(payment=0.2)  # 0.8 < 1 → decline: 20
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(20.0, abs=1e-7)
    assert r.kpis["dr_events_accepted"] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_anti_backflow_curtails_surplus(engine: str) -> None:
    # PV 10 kW, load 4 kW, export would earn 1/kWh. Export limit 0: curtail 6 kW, cost 0.
    sc, prof = tiny(1, dict(load_kw=[4], price=1.0, export_price=1.0, pv_kw=[[10]]),
                    pv=[{"name": "roof", "capacity_kw": 12}],
                    weather={"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}})
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["export_kwh"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["pv_curtailed_kwh"] == pytest.approx(6.0, abs=1e-9)
    # Export limit 5 kW: export 5, curtail 1, earn 5.
    sc = sc.replace({"grid.export_limit_kw": 5.0})
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(-5.0, abs=1e-9)
    assert r.kpis["pv_curtailed_kwh"] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_simultaneous_import_export_never_pays_through(engine: str) -> None:
    # Export pays more than import (2 > 1) with 3 kW of PV surplus possible: without exclusivity
    # the LP would export 50 kW (earning 100) and import 47 to cover it: −53. Exclusive optimum:
    # export only the 3 kW surplus: −6.
    sc, prof = tiny(1, dict(load_kw=[2], price=1.0, export_price=2.0, pv_kw=[[5]]),
                    pv=[{"name": "roof", "capacity_kw": 6}],
                    grid={"import_limit_kw": 100.0, "export_limit_kw": 50.0},
                    weather={"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}})
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(-6.0, abs=1e-9)
    assert r.kpis["import_kwh"] == pytest.approx(0.0, abs=1e-9)
    relaxed = run(sc.replace({"solver.exclusivity": "none"}), prof, engine=engine)
    assert relaxed.objective == pytest.approx(-53.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_hard_target_infeasible_soft_target_reports_shortfall(engine: str) -> None:
    # No green supply at all: a hard 50 % share is infeasible, a soft one pays 0.1/kWh short.
    base = dict(load_kw=[100, 100], price=0.5)
    sc, prof = tiny(2, base, targets={"green_share": {"value": 0.5, "mode": "hard"}})
    r = run(sc, prof, engine=engine)
    assert r.status == Status.INFEASIBLE
    assert r.dataset is None and r.explanation
    sc, prof = tiny(2, base, targets={"green_share": {"value": 0.5, "mode": "soft",
                                                      "penalty_per_kwh": 0.1}})
    r = run(sc, prof, engine=engine)
    assert r.kpis["green_share_shortfall_kwh"] == pytest.approx(100.0, abs=1e-7)
    assert r.objective == pytest.approx(100.0 + 10.0, abs=1e-7)


@pytest.mark.parametrize("engine", ENGINES)
def test_capacity_charge_is_a_fixed_pro_rata_cost(engine: str) -> None:
    # 10 kWh at 1 plus 100 kVA · 20 per kVA·month, pro rata for 1 hour of July (744 hours).
    # (Before billing months were pro-rated by their own length this was 1 h of a 8760-h year,
    # 2000 · 12 / 8760 = 2.74; now 2000 / 744 = 2.69, the same rule as the demand charge.)
    sc, prof = tiny(1, dict(load_kw=[10], price=1.0),
                    grid={"import_limit_kw": 100.0, "billing": "capacity",
                          "transformer_kva": 100.0, "capacity_charge_per_kva_month": 20.0})
    from zeropark.profiles.tariff import billing_month_fraction

    prof = replace(prof, capacity_charge_per_month=20.0 * 100.0,
                   month_fraction=billing_month_fraction(prof.time, 1.0))
    r = run(sc, prof, engine=engine)
    fixed = 2000.0 / 744
    assert r.objective == pytest.approx(10.0 + fixed, abs=1e-9)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(fixed, abs=1e-9)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, abs=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_flexible_load_ramp_continues_from_the_initial_power(engine: str) -> None:
    # 4 kWh in a 2 h window, ramp 2 kW/h, prices 1 then 5: free start p = (3, 1), cost 3 + 5 = 8;
    # from 0 kW before the horizon the first step is at most 2 kW: p = (2, 2), cost 2 + 10 = 12.
    flex = {"name": "dc", "max_power_kw": 5.0, "energy_per_window_kwh": 4.0, "window_h": 2,
            "ramp_kw_per_h": 2.0}
    sc, prof = tiny(2, dict(load_kw=[0, 0], price=[1, 5]), flexible_loads=[flex])
    assert run(sc, prof, engine=engine).objective == pytest.approx(8.0, abs=1e-7)
    sc0 = sc.replace({"flexible_loads.0.initial_power_kw": 0.0})
    r = run(sc0, prof, engine=engine)
    assert r.objective == pytest.approx(12.0, abs=1e-7)
    assert r.values["flex.power_kw"][0] == pytest.approx([2.0, 2.0], abs=1e-7)


def _hall(initial_kw: float | None) -> ModelData:
    # One flexible load: 15 kWh in a 3-h window, 0–10 kW, ramp 2 kW/h, no other load.
    sc, prof = tiny(3, dict(load_kw=[0, 0, 0], price=[1, 2, 3]),
                    flexible_loads=[{"name": "hall", "max_power_kw": 10.0, "window_h": 3,
                                     "energy_per_window_kwh": 15.0, "ramp_kw_per_h": 2.0}])
    d = prepare(sc, prof)
    return d if initial_kw is None else replace(d, flex_initial_kw=np.array([initial_kw]))


@pytest.mark.parametrize("engine", ENGINES)
def test_flexible_load_first_step_is_ramp_limited_by_its_initial_power(engine: str) -> None:
    # Unknown initial power: front-load the cheap steps as steeply as the ramp allows,
    # p = (a, a − 2, a − 4) with 3a − 6 = 15 → (7, 5, 3), cost 7·1 + 5·2 + 3·3 = 26.
    r = solve_data(_hall(None), engine=engine)
    assert r.objective == pytest.approx(26.0, abs=1e-7)
    assert r.dataset.flex_power_kw.values[0] == pytest.approx([7, 5, 3], abs=1e-7)
    # Drawing 1 kW just before: p0 ≤ 1 + 2 = 3, p1 ≤ 5, p2 ≤ 7 and 3 + 5 + 7 = 15 is all the
    # ramp lets in, so (3, 5, 7) is the only feasible plan: 3·1 + 5·2 + 7·3 = 34.
    r = solve_data(_hall(1.0), engine=engine)
    assert r.objective == pytest.approx(34.0, abs=1e-7)
    assert r.dataset.flex_power_kw.values[0] == pytest.approx([3, 5, 7], abs=1e-7)
    # From 0 kW the window cannot be filled (at most 2 + 4 + 6 = 12 kWh): infeasible, and the
    # explanation blames the start: 1 kW more at the first step lifts every step by 1 (+3 kWh).
    r = solve_data(_hall(0.0), engine=engine)
    assert r.status == Status.INFEASIBLE
    assert ("flexible load hall must change its power by 1 kW more than its ramp limit of "
            "2 kW/h allows from its initial 0 kW at 2025-07-01 00:00") in r.explanation
    # NaN = unknown, as None
    r = solve_data(_hall(float("nan")), engine=engine)
    assert r.objective == pytest.approx(26.0, abs=1e-7)


def _fixed_charge_lp():  # noqa: ANN202
    # min x + 10·y, 6 ≤ x ≤ 10·y, y binary. LP relaxation: y = 0.6, x = 6 → 12 (the bound); the
    # rounded point y = 1, x = 6 → 16, which is also the MILP optimum; its gap to the bound is
    # (16 − 12) / 16 = 25 %.
    from zeropark.model.lp import MatrixLP

    lp = MatrixLP()
    x = lp.var("x", (["x"],), 6.0, 100.0, 1.0)
    y = lp.var("y", (["y"],), 0.0, 1.0, 10.0, integer=True)
    r = lp.rows("link", (["link"],), hi=0.0)
    lp.add(r, x, 1.0)
    lp.add(r, y, -10.0)
    return lp


@pytest.mark.parametrize(("mip_gap", "bound", "gap"), [(0.3, 12.0, 0.25), (0.1, 16.0, 0.0)])
def test_rounded_point_within_the_gap_of_the_lp_bound_is_the_answer(mip_gap: float, bound: float,
                                                                   gap: float) -> None:
    # a 30 % gap accepts the rounded point against the LP bound (no branch and bound: bound 12,
    # gap 25 %); a 10 % gap hands it to branch and bound, which proves 16 optimal (gap 0)
    from zeropark.scenario import Solver
    from zeropark.solve import solve_matrix

    out = solve_matrix(_fixed_charge_lp(), Solver(mip_gap=mip_gap))
    assert out.status == Status.OPTIMAL
    assert out.objective == pytest.approx(16.0) and out.values["y"][0] == pytest.approx(1.0)
    assert out.bound == pytest.approx(bound) and out.gap == pytest.approx(gap, abs=1e-9)
