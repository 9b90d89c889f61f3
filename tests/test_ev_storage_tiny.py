"""V2G losses and wear, EV sessions that cannot receive their energy, a free cyclic storage
start, and piles as piles: tiny cases whose optima are worked out by hand in the comments."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeropark import ScenarioError, Status, run, scenario_from_dict
from zeropark.clitools import kpi_lines
from zeropark.examples import battery, tiny, tiny_dict
from zeropark.planning.sizing import size
from zeropark.profiles.base import EvGroupProfile
from zeropark.profiles.ev import (
    SESSION_COLUMNS,
    EvGroupSpec,
    ev_envelopes,
    peak_plugged,
    turn_away,
    undeliverable_sessions,
)

ENGINES = ["matrix", "pyomo"]


def _v2g_case(**group: float) -> tuple:
    # One car plugged in for 3 h on a 10 kW V2G pile; it needs 10 kWh (grid side) by the end and
    # may hold them from the first step on. Load 10 kW; prices 1, 1.5, 1.
    lo, hi = np.array([0.0, 0.0, 10.0]), np.array([10.0, 10.0, 10.0])
    ev = {"depot": EvGroupProfile(lo, hi, np.full(3, 10.0), 10.0)}
    spec = {"name": "depot", "count": 1, "power_kw": 10.0, "efficiency": 1.0, "v2g": True,
            **group}
    return tiny(3, dict(load_kw=[10, 10, 10], price=[1.0, 1.5, 1.0], ev=ev),
                ev={"groups": [spec], "unmet_penalty_per_kwh": 100.0})


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_lossless_and_free_arbitrage_pays(engine: str) -> None:
    # The old behaviour, still reachable with η = 1 and no wear: charge 10 kWh at 1, give them
    # back at 1.5 in step 1, charge 10 kWh again at 1: 20 + 0 + 20 = 40 (instead of 45).
    sc, prof = _v2g_case(v2g_efficiency=1.0, v2g_wear_cost_per_kwh=0.0)
    r = run(sc, prof, engine=engine)
    assert r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(40.0, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(10.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_discharge_efficiency_shrinks_the_arbitrage(engine: str) -> None:
    # η_c = 1 (given), η_d = 0.81: a kWh delivered takes 1/0.81 kWh of charging. Step 0 charges
    # 10 (the pile limit), so at most 8.1 kWh can come back in step 1; step 2 recharges 10.
    # Value per kWh delivered 1.5 − 1/0.81 = 0.2654 > 0, so deliver 8.1:
    # 20·1 + (10 − 8.1)·1.5 + 20·1 = 42.85.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(42.85, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(8.1, abs=1e-6)
    # The car's cumulative grid-side energy: 10 − 8.1/0.81 + 10 = 10 at the end.
    assert r.dataset.ev_delivered_kwh.values[0] == pytest.approx([10, 0, 10], abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_wear_cost_makes_the_arbitrage_unprofitable(engine: str) -> None:
    # As above plus a wear cost of 0.5 per kWh delivered: 1.5 − 1/0.81 − 0.5 = −0.235 < 0, so V2G
    # stays off and the car just charges 10 kWh at price 1: 10 + 15 + 10 + 10 = 45.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.5)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(45.0, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["v2g_wear"] == pytest.approx(0.0, abs=1e-6)
    # Wear 0.2 keeps it worth doing (0.0654 per kWh): 42.85 + 0.2·8.1 = 44.47, wear line 1.62.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.2)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(44.47, abs=1e-6)
    assert r.kpis["cost_breakdown"]["v2g_wear"] == pytest.approx(1.62, abs=1e-6)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, abs=1e-6)


def test_v2g_defaults_come_from_the_group_and_the_library() -> None:
    sc, _ = _v2g_case()
    g = sc.ev.groups[0]
    assert g.v2g_efficiency == g.efficiency == 1.0  # symmetric converter by default
    assert g.v2g_wear_cost_per_kwh == pytest.approx(0.35)  # models/technologies.yaml ev-v2g


# -- EV sessions that cannot receive their energy during the stay ----------------------------------

SESSIONS_CSV = """group,pile,arrival,departure,energy_kwh,max_power_kw
depot,0,2025-07-01 01:00,2025-07-01 02:00,8.0,3.58
depot,1,2025-07-01 00:00,2025-07-01 03:00,6.0,7.0
"""


def _csv_park(tmp_path: Path, **ev: object) -> dict:
    (tmp_path / "sessions.csv").write_text(SESSIONS_CSV)
    return tiny_dict(4, ev={"groups": [{"name": "depot", "count": 2, "power_kw": 7.0,
                                        "efficiency": 1.0}],
                            "sessions": {"source": "csv", "path": "sessions.csv"}, **ev})


def test_envelope_counts_what_the_stay_cannot_hold() -> None:
    # Car 0 wants 8.0 kWh in a 1 h stay at its 3.58 kW limit (η = 1): 3.58 kWh can be delivered,
    # 4.42 kWh cannot. Before, the envelope silently capped it to 3.58 and reported 0 unmet.
    sessions = read_sessions_csv_text(SESSIONS_CSV)
    time = pd.date_range("2025-07-01", periods=4, freq="h")
    spec = EvGroupSpec(name="depot", count=2, power_kw=7.0, efficiency=1.0)
    env = ev_envelopes(sessions, time, 1.0, [spec])["depot"]
    assert env.e_hi_kwh[-1] == pytest.approx(3.58 + 6.0)
    assert env.undeliverable_kwh == pytest.approx(4.42)
    assert env.n_undeliverable == 1
    # A horizon that ends before car 0 leaves (at 02:00) does not count it: the horizon where
    # it leaves does, so consecutive windows count it once.
    early = ev_envelopes(sessions, time[:1], 1.0, [spec])["depot"]
    assert early.undeliverable_kwh == 0.0 and early.n_undeliverable == 0
    bad = undeliverable_sessions(sessions, [spec])
    assert list(bad.index) == [0]
    assert bad["deliverable_grid_kwh"].iloc[0] == pytest.approx(3.58)


@pytest.mark.parametrize("engine", ENGINES)
def test_undeliverable_energy_is_reported_unmet_per_group(
        engine: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # 3.58 + 6.0 = 9.58 kWh delivered, 4.42 kWh reported unmet (not priced: no dispatch can
    # deliver it, so the objective is the energy bill only).
    with caplog.at_level(logging.WARNING):
        r = run(scenario_from_dict(_csv_park(tmp_path), base_dir=tmp_path), engine=engine)
    assert r.status == Status.OPTIMAL
    k = r.kpis
    assert k["ev_energy_kwh"] == pytest.approx(9.58, abs=1e-6)
    assert k["ev_unmet_kwh"] == pytest.approx(4.42, abs=1e-6)
    assert k["ev_unmet_by_group"]["depot"] == pytest.approx(
        {"unmet_kwh": 4.42, "dispatch_unmet_kwh": 0.0, "undeliverable_kwh": 4.42,
         "undeliverable_sessions": 1, "turned_away_kwh": 0.0, "turned_away_sessions": 0},
        abs=1e-6)
    assert k["cost_breakdown"]["penalties"] == pytest.approx(0.0, abs=1e-6)
    assert r.dataset.ev_undeliverable_kwh.values == pytest.approx([4.42])
    assert "1 session(s) ask 4.420 kWh" in caplog.text
    line = next(x for x in kpi_lines(k) if x.startswith("EV energy / unmet"))
    assert line.endswith("4.4 kWh (of which 4.4 kWh cannot fit the stay)")


def test_undeliverable_sessions_refused_on_request(tmp_path: Path) -> None:
    sc = scenario_from_dict(_csv_park(tmp_path, infeasible_sessions="error"), base_dir=tmp_path)
    with pytest.raises(ScenarioError, match=r"^ev\.sessions\.path: .*row 1: group 'depot'.*"
                                            r"asks 8\.000 kWh, at most 3\.580 kWh fit the stay"):
        run(sc)
    with pytest.raises(ScenarioError, match=r"ev\.infeasible_sessions"):
        scenario_from_dict(tiny_dict(2, ev={"infeasible_sessions": "drop"}))


def read_sessions_csv_text(text: str) -> pd.DataFrame:
    import io

    df = pd.read_csv(io.StringIO(text), parse_dates=["arrival", "departure"])
    return df[list(SESSION_COLUMNS)]


# -- storage start: soc_initial free with a cyclic end ---------------------------------------------

def _cyclic(soc_initial: float | str) -> tuple:
    # 10 kWh / 5 kW battery, η_c = 0.9, η_d = 1, cyclic end. Load 5 kW, prices 3 then 1.
    return tiny(2, dict(load_kw=[5, 5], price=[3.0, 1.0]),
                storage=[battery(energy_kwh=10, power_kw=5, charge_efficiency=0.9,
                                 soc_initial=soc_initial, end_condition="cyclic")])


@pytest.mark.parametrize("engine", ENGINES)
def test_free_cyclic_start_is_chosen_by_the_optimiser(engine: str) -> None:
    # Pinned at 0.2 (2 kWh): discharge the 2 kWh at price 3, recharge 2/0.9 kWh at price 1:
    # (5 − 2)·3 + (5 + 2/0.9)·1 = 9 + 7.2222 = 16.2222.
    r = run(*_cyclic(0.2), engine=engine)
    assert r.objective == pytest.approx(9 + 5 + 2 / 0.9, abs=1e-6)
    # Free start: discharge x at price 3 and recharge x/0.9 ≤ 5 kW at price 1 (a kWh discharged
    # saves 3 − 1/0.9 > 0), so x = 4.5 and any start S0 ≥ 4.5 kWh:
    # (5 − 4.5)·3 + (5 + 5)·1 = 1.5 + 10 = 11.5 < 16.2222.
    r = run(*_cyclic("free"), engine=engine)
    assert r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(11.5, abs=1e-6)
    start = float(r.dataset.storage_soc_start_kwh.values[0])
    assert 4.5 - 1e-6 <= start <= 10 + 1e-6
    assert float(r.dataset.storage_soc_kwh.values[0, -1]) == pytest.approx(start, abs=1e-6)
    # Pinned at 0: the battery cannot do anything (empty at the start, empty again at the end).
    assert run(*_cyclic(0.0), engine=engine).objective == pytest.approx(20.0, abs=1e-6)


def test_free_start_needs_a_cyclic_end_and_one_solve() -> None:
    with pytest.raises(ScenarioError, match=r"^storage\.0\.soc_initial: got 'free'; .*cyclic"):
        scenario_from_dict(tiny_dict(2, storage=[battery(soc_initial="free",
                                                          end_condition="at_least_initial")]))
    with pytest.raises(ScenarioError, match=r"^storage\.0\.soc_initial: got 'full'"):
        scenario_from_dict(tiny_dict(2, storage=[battery(soc_initial="full")]))
    with pytest.raises(ScenarioError, match=r"^storage\.0\.soc_initial: got 1\.5"):
        scenario_from_dict(tiny_dict(2, storage=[battery(soc_initial=1.5)]))
    from zeropark.rolling import run_rolling

    sc, _ = _cyclic("free")
    with pytest.raises(ScenarioError, match=r"storage\.0\.soc_initial.*rolling"):
        run_rolling(sc, "1h:1h", compare_full=False)


@pytest.mark.parametrize("case", ["v2g", "free_start"])
def test_both_forms_build_the_same_model(case: str) -> None:
    from zeropark import prepare
    from zeropark.model.builder import build_matrix, build_pyomo
    from zeropark.model.equivalence import differences, from_matrix, from_pyomo

    sc, prof = (_v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.2) if case == "v2g"
                else _cyclic("free"))
    d = prepare(sc, prof)
    a, b = from_matrix(build_matrix(d)), from_pyomo(build_pyomo(d))
    assert differences(a, b) == []
    extra = "ev.v2g_kw[depot,1]" if case == "v2g" else "storage.soc_start_kwh[bat]"
    assert extra in a.cols and extra in b.cols


# -- piles as piles (sizing) -----------------------------------------------------------------------

def _ten_cars(max_count: int) -> tuple:
    # 10 cars plugged in together 08:00–12:00, 7 kWh each, on 7 kW piles (η = 1). As pooled
    # power, 70 kWh in 4 h needs 17.5 kW → 3 piles; one car per pile needs 10.
    time = pd.date_range("2025-07-01 08:00", periods=4, freq="h")
    sessions = pd.DataFrame({
        "group": ["depot"] * 10, "pile": list(range(10)),
        "arrival": [time[0]] * 10, "departure": [time[0] + pd.Timedelta(hours=4)] * 10,
        "energy_kwh": [7.0] * 10, "max_power_kw": [7.0] * 10})
    spec = EvGroupSpec(name="depot", count=10, power_kw=7.0, efficiency=1.0)
    env = ev_envelopes(sessions, time, 1.0, [spec])["depot"]
    group = EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw, env.requested_kwh,
                           sessions, spec)
    return tiny(4, dict(load_kw=[0.0] * 4, price=0.5, ev={"depot": group},
                        start="2025-07-01 08:00"),
                time={"start": "2025-07-01T08:00", "steps": 4, "step": "1h"},
                ev={"groups": [{"name": "depot", "technology": "ac-7kw", "count": 10,
                                "power_kw": 7.0, "efficiency": 1.0, "max_count": max_count}],
                    "unmet_penalty_per_kwh": 50.0})


def test_peak_plugged_counts_cars_at_once() -> None:
    sc, prof = _ten_cars(20)
    sessions = prof.ev["depot"].sessions
    assert peak_plugged(sessions) == 10
    # a car leaving at the minute another arrives frees its pile for it
    later = sessions.assign(arrival=sessions["arrival"] + pd.Timedelta(hours=4),
                            departure=sessions["departure"] + pd.Timedelta(hours=4))
    assert peak_plugged(pd.concat([sessions, later])) == 10
    assert peak_plugged(sessions, end=sessions["arrival"].iloc[0]) == 0
    served, away = turn_away(sessions, 6)
    assert len(served) == 6 and len(away) == 4 and sorted(served["pile"]) == list(range(6))


def test_ten_overlapping_cars_need_ten_piles() -> None:
    # Every car is served (an unmet kWh costs 50, a pile 3000·CRF(6 %, 8 yr)·4/8760 ≈ 0.22):
    # one car per pile needs 10 piles, although 3 piles of pooled power could deliver 70 kWh.
    r = size(*_ten_cars(20))
    assert r.status == Status.OPTIMAL
    assert r.kpis["sizing"]["sizes"] == {"ev.depot.count": 10}
    assert r.kpis["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert r.kpis["ev_energy_kwh"] == pytest.approx(70.0, abs=1e-6)


def test_cars_beyond_the_cap_are_turned_away_first_come_first_served() -> None:
    # Cap 6 piles: the first 6 cars (arrival order, ties in table order) get a pile, 4 are turned
    # away before the solve; their 4·7 = 28 kWh are reported unmet, the 6 cars get 42 kWh.
    r = size(*_ten_cars(6))
    assert r.kpis["sizing"]["sizes"] == {"ev.depot.count": 6}
    group = r.kpis["ev_unmet_by_group"]["depot"]
    assert group["turned_away_kwh"] == pytest.approx(28.0)
    assert group["turned_away_sessions"] == 4
    assert r.kpis["ev_unmet_kwh"] == pytest.approx(28.0, abs=1e-6)
    assert r.kpis["ev_energy_kwh"] == pytest.approx(42.0, abs=1e-6)


def test_indicator_met_by_leaving_ev_energy_unmet_is_a_fail() -> None:
    # One car needs 10 kWh in one hour; nothing else uses energy. Grid power (0.5 kg/kWh,
    # 0.1229 kgce/kWh) is ≈ 4 t CO2/tce, far above the hard 0.2 threshold, so the only way to
    # "meet" it is to leave the car uncharged at the penalty: 10 kWh × 100 = 1,000 CNY. The
    # ratio is then 0, but the verdict is FAIL, with the reason on the KPI line.
    ev = {"depot": EvGroupProfile(np.array([10.0]), np.array([10.0]), np.array([10.0]), 10.0)}
    hard = {"zero_carbon_indicator": {"threshold_t_per_tce": 0.2, "threshold_rule": "own",
                                      "mode": "hard"}}
    group = {"name": "depot", "count": 1, "power_kw": 10.0, "efficiency": 1.0}
    sc, prof = tiny(1, dict(load_kw=[0.0], price=1.0, ev=ev),
                    ev={"groups": [group], "unmet_penalty_per_kwh": 100.0}, targets=hard)
    r = run(sc, prof)
    assert r.ok and r.objective == pytest.approx(1000.0)
    assert r.kpis["ev_unmet_kwh"] == pytest.approx(10.0)
    zc = r.kpis["zero_carbon_indicator"]
    assert zc["value"] == pytest.approx(0.0)
    assert zc["pass"] is False and not any(v["pass"] for v in zc["by_tce_factor"].values())
    (line,) = [x for x in kpi_lines(r.kpis) if x.startswith("CO2 per tce")]
    assert "FAIL (10.0 kWh of EV charging demand not served: not a pass)" in line
    # without the hard target the car is charged (1 × 10 = 10 CNY) and the park fails on its
    # ratio, not on service
    sc2, prof2 = tiny(1, dict(load_kw=[0.0], price=1.0, ev=ev),
                      ev={"groups": [group], "unmet_penalty_per_kwh": 100.0})
    r2 = run(sc2, prof2)
    assert r2.objective == pytest.approx(10.0) and r2.kpis["ev_unmet_kwh"] == pytest.approx(0.0)
    assert "not_served" not in r2.kpis["zero_carbon_indicator"]
