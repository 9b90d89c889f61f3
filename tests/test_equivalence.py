"""The Pyomo and matrix builders produce the same MILP (rows, columns, nonzeros, bounds, costs,
integrality up to ordering and row sign) and the same optimum — on the bundled parks and on
randomized small scenarios."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeropark import load_scenario, prepare, solve_data
from zeropark.examples import battery, tiny
from zeropark.model.builder import build_matrix, build_pyomo
from zeropark.model.equivalence import differences, from_matrix, from_pyomo
from zeropark.profiles.base import DrEventProfile, EvGroupProfile

ROOT = Path(__file__).resolve().parents[1]
PARKS = sorted((ROOT / "scenarios").glob("*.yaml"))


def assert_same_model(d) -> None:  # noqa: ANN001
    a, b = from_matrix(build_matrix(d)), from_pyomo(build_pyomo(d))
    assert len(a.cols) == len(b.cols) and len(a.rows) == len(b.rows) and a.nnz == b.nnz
    assert differences(a, b) == []
    m, p = solve_data(d, engine="matrix"), solve_data(d, engine="pyomo")
    assert m.status == p.status
    if m.ok:
        # both solved to HiGHS tolerances (1e-7 primal/dual for LPs, 1e-6 for a MILP's integer
        # and row feasibility): a tiny MILP whose optimum is 1.0 may come back as 0.999999 from
        # one form (seen with a semi-continuous load and with sub-1e-6 export prices), so the
        # objectives agree to rel 1e-7 + abs 1e-5
        assert m.objective == pytest.approx(p.objective, rel=1e-7, abs=1e-5)


@pytest.mark.parametrize("path", PARKS, ids=lambda p: p.stem)
def test_bundled_parks_same_model_and_optimum(path: Path) -> None:
    # a summer day with PV surplus, DR events and EV sessions, 24 hourly steps; solved to a
    # proven optimum (gap 0): inside a park's own gap (1 % for inner-mongolia) two valid answers
    # of the same model may differ
    sc = load_scenario(path).replace({"solver.mip_gap": 0.0})
    assert_same_model(prepare(sc, start=24 * 196, steps=24))


def test_demand_response_settlement_same_model_and_optimum() -> None:
    # two events (one committed), per-step baselines, a storage unit to deliver with, 15-min steps
    T = 8
    a, b = np.zeros(T, bool), np.zeros(T, bool)
    a[2:5], b[6:] = True, True
    dr = [DrEventProfile("offered", a, np.linspace(8, 12, T), 3.0, 15.0, 1.0),
          DrEventProfile("committed", b, 9.0, 4.0, 5.0, 2.0, True, 0.8, 1.1)]
    sc, prof = tiny(T, dict(load_kw=[10] * T, price=[0.3, 0.3, 1, 1, 1, 0.6, 1, 1], dr=dr,
                            dt_h=0.25),
                    time={"start": "2025-07-01", "steps": T, "step": "15min"},
                    storage=[battery(energy_kwh=4, power_kw=8, charge_efficiency=0.9)])
    d = prepare(sc, prof)
    assert_same_model(d)
    r = solve_data(d)
    assert r.kpis["dr_events"]["committed"]["accepted"]


def test_differences_detect_a_changed_coefficient() -> None:
    sc, prof = tiny(3, dict(load_kw=[0, 5, 5], price=[1, 3, 2]), storage=[battery()])
    d = prepare(sc, prof)
    lp = build_matrix(d)
    lp._v[-1] = lp._v[-1] * 1.01  # perturb the last coefficient block
    assert differences(from_matrix(lp), from_pyomo(build_pyomo(d)))


@st.composite
def small_case(draw: st.DrawFn) -> tuple:
    T = draw(st.integers(2, 6))
    floats = st.floats(0.0, 20.0, allow_nan=False)
    load = draw(st.lists(floats, min_size=T, max_size=T))
    price = draw(st.lists(st.floats(-0.5, 3.0), min_size=T, max_size=T))
    export_price = draw(st.lists(st.floats(0.0, 3.0), min_size=T, max_size=T))
    pv = draw(st.lists(floats, min_size=T, max_size=T))
    sections: dict = {
        "grid": {"import_limit_kw": 200.0, "export_limit_kw": draw(st.sampled_from([0.0, 10.0]))},
        "pv": [{"name": "roof", "capacity_kw": 25, "dc_coupled": draw(st.booleans())}],
        "weather": {"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}},
        "solver": {"mip_gap": 0.0, "exclusivity": draw(st.sampled_from(["auto", "all", "none"]))},
    }
    if draw(st.booleans()):
        end = draw(st.sampled_from(["free", "cyclic", "at_least_initial"]))
        sections["storage"] = [battery(
            energy_kwh=draw(st.floats(1, 30)), power_kw=draw(st.floats(1, 10)),
            charge_efficiency=draw(st.floats(0.8, 1.0)),
            soc_initial=draw(st.sampled_from([0.5, "free"])) if end == "cyclic" else 0.5,
            end_condition=end,
            self_discharge_per_h=draw(st.floats(0, 0.01)),
            throughput_cost_per_kwh=draw(st.floats(0, 0.1)),
            max_cycles_per_day=draw(st.sampled_from([None, 1.0])),
            ramp_kw_per_h=draw(st.sampled_from([None, 3.0])))]
    ev = None
    if draw(st.booleans()):
        need = draw(st.floats(0, 7 * T))
        lo = np.clip(need - 7 * np.arange(T - 1, -1, -1), 0, None)
        hi = np.minimum(7 * np.arange(1, T + 1), need)
        ev = {"depot": EvGroupProfile(lo, hi, np.full(T, 7.0), need)}
        sections["ev"] = {"groups": [{"name": "depot", "count": 1, "power_kw": 7,
                                      "v2g": draw(st.booleans()),
                                      "v2g_efficiency": draw(st.floats(0.8, 1.0)),
                                      "v2g_wear_cost_per_kwh": draw(st.sampled_from([0.0, 0.35]))}]}
    if draw(st.booleans()):
        sections["flexible_loads"] = [{"name": "flex", "max_power_kw": 5.0,
                                       "energy_per_window_kwh": 48.0, "window_h": 24,
                                       "ramp_kw_per_h": draw(st.sampled_from([None, 2.0])),
                                       "min_on_power_kw": draw(st.sampled_from([None, 1.0])),
                                       "initial_power_kw": draw(st.sampled_from([None, 0.0,
                                                                                 4.0]))}]
    dr = None
    if draw(st.booleans()):
        mask = np.zeros(T, bool)
        mask[-draw(st.integers(1, T)):] = True
        baseline = np.asarray(draw(st.lists(floats, min_size=T, max_size=T)))
        dr = [DrEventProfile("e", mask, baseline, draw(st.floats(0.5, 10)), draw(st.floats(0, 5)),
                             draw(st.floats(0, 2)), draw(st.booleans()),
                             draw(st.sampled_from([0.0, 0.5, 0.8])),
                             draw(st.sampled_from([1.0, 1.2])))]
    targets: dict = {"carbon_price_per_t": draw(st.sampled_from([0.0, 90.0]))}
    if draw(st.booleans()):
        targets["green_share"] = {"value": draw(st.floats(0, 0.8)), "mode": "soft"}
        sections["green_power"] = {"certificates": {"price_per_mwh": 5.0}, "offsets": {}}
    if draw(st.booleans()):
        targets["zero_carbon_indicator"] = {"mode": "soft"}
    targets["accounting"] = {
        "scope2_method": draw(st.sampled_from(["location", "market"])),
        "offsets_in_indicator": draw(st.booleans()),
        "offset_cap_base": draw(st.sampled_from(["indicator", "gross"])),
        "carbon_price_scope": draw(st.sampled_from(["scope1", "scope1_2_location",
                                                    "scope1_2_market", "indicator"])),
        "tce_factor": draw(st.sampled_from(["equal_value", "coal_equivalent"]))}
    if draw(st.booleans()):
        sections["fuels"] = {"natural_gas_m3_per_year": 8760.0}
    sections["targets"] = targets
    prof = dict(load_kw=load, price=price, export_price=export_price, pv_kw=[pv], ev=ev, dr=dr,
                demand_charge=draw(st.sampled_from([0.0, 30.0])))
    return tiny(T, prof, **sections)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_case())
def test_random_small_scenarios_same_model_and_optimum(case: tuple) -> None:
    sc, prof = case
    assert_same_model(prepare(sc, prof))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_case())
def test_binary_rule_never_changes_the_optimum(case: tuple) -> None:
    """Binaries only where they can pay ('auto') gives the same optimum as binaries everywhere."""
    sc, prof = case
    auto = solve_data(prepare(sc.replace({"solver.exclusivity": "auto"}), prof))
    full = solve_data(prepare(sc.replace({"solver.exclusivity": "all"}), prof))
    assert auto.status == full.status
    if auto.ok:
        assert auto.objective == pytest.approx(full.objective, rel=1e-6, abs=1e-6)


def test_flexible_load_ramp_from_initial_power_same_model_and_optimum() -> None:
    # three loads: ramped with a known initial power (a flex.ramp_start row), ramped with an
    # unknown one (NaN: no row), and an initial power without a ramp limit (no row)
    loads = [{"name": n, "max_power_kw": 10.0, "energy_per_window_kwh": 20.0, "window_h": 4,
              "ramp_kw_per_h": r} for n, r in (("a", 3.0), ("b", 3.0), ("c", None))]
    sc, prof = tiny(4, dict(load_kw=[5, 5, 5, 5], price=[3, 1, 2, 1]), flexible_loads=loads)
    d = replace(prepare(sc, prof), flex_initial_kw=np.array([9.0, np.nan, 0.0]))
    lp = build_matrix(d)
    assert lp.row_blocks["flex.ramp_start"].labels == (["a"],)
    assert_same_model(d)
    r = solve_data(d)
    assert r.dataset.flex_power_kw.values[0, 0] == pytest.approx(6.0, abs=1e-7)  # 9 − 3


@pytest.mark.parametrize(("ramp", "initial", "cost"), [(None, None, 30.0), (5.0, None, 50.0),
                                                       (5.0, 0.0, 50.0), (5.0, 5.0, 60.0)])
def test_battery_ramp_same_model_and_hand_optimum(ramp: float | None, initial: float | None,
                                                  cost: float) -> None:
    """Load 10 kW for 3 h at 1, 1, 5 CNY/kWh; ideal 20 kWh / 10 kW battery, half full, must end
    at least half full, so its net power q (discharge − charge) sums to ≤ 0 and the bill is
    70 − (q0 + q1 + 5 q2). Unlimited: q = (−10, 0, 10), 30. Ramp 5 kW/h: q2 ≤ q1 + 5 and
    |q1 − q0| ≤ 5 with q0 = −q1 − q2 give q1 ≤ 0, so q = (−5, 0, 5) and 70 − 20 = 50, the same
    when the power before was 0 (q0 ∈ [−5, 5]). Discharging 5 kW before: q0 ≥ 0 forces
    q1 ≤ −2.5, q = (0, −2.5, 2.5) and 70 − 10 = 60."""
    sc, prof = tiny(3, dict(load_kw=[10, 10, 10], price=[1, 1, 5]), storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial",
        ramp_kw_per_h=ramp)])
    d = prepare(sc, prof)
    if initial is not None:
        d = replace(d, storage_initial_kw=np.array([initial]))
    lp = build_matrix(d)
    assert ("storage.ramp_start" in lp.row_blocks) is (ramp is not None and initial is not None)
    assert_same_model(d)
    r = solve_data(d)
    assert r.objective == pytest.approx(cost, abs=1e-6)
    q = r.dataset.storage_discharge_kw.values[0] - r.dataset.storage_charge_kw.values[0]
    if ramp is not None:
        assert np.abs(np.diff(np.r_[initial if initial is not None else q[0], q])).max() <= (
            5.0 + 1e-6)


def test_heat_families_same_model_and_optimum() -> None:
    # every heat supply kind (a boiler on two levels, coal, electric, air and waste-heat heat
    # pumps, direct recovery, CHP), every store kind, an emission cap and the indicator reading
    # the fuel lines, a battery and a price spread: both forms build the same model
    T = 6
    heat = {
        "demand": {"annual_mwh": {}},
        "supply": [
            {"name": "gb", "kind": "gas_boiler", "levels": ["hot_water", "lp_steam"],
             "capacity_kw": 15},
            {"name": "cb", "kind": "coal_boiler", "levels": ["mp_steam"], "capacity_kw": 8},
            {"name": "eb", "kind": "electric_boiler", "levels": ["lp_steam", "mp_steam"],
             "capacity_kw": 10},
            {"name": "hp", "kind": "heat_pump", "levels": ["hot_water"], "capacity_kw": 6},
            {"name": "whp", "kind": "heat_pump", "source": "waste_heat", "levels": ["lp_steam"],
             "capacity_kw": 4},
            {"name": "rec", "kind": "waste_heat", "levels": ["hot_water"], "capacity_kw": 3},
            {"name": "chp", "kind": "chp", "levels": ["lp_steam"], "capacity_kw": 5},
        ],
        "storage": [
            {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 20,
             "power_kw": 5},
            {"name": "acc", "kind": "steam_accumulator", "level": "mp_steam", "energy_kwh": 10,
             "power_kw": 4},
            {"name": "salt", "kind": "solid_media", "level": "lp_steam", "energy_kwh": 30,
             "power_kw": 6, "soc_initial": 0.2},
        ],
        "waste_heat": {"power_kw": 5, "temperature_c": 95},
    }
    sc, prof = tiny(T, dict(load_kw=[5, 8, 12, 10, 6, 4], price=[0.3, 0.3, 1.2, 1.2, 0.7, 0.3],
                            ef=0.55, temp_air_c=[-2, 1, 8, 12, 6, 3],
                            heat_demand_kw={"hot_water": [8, 9, 10, 12, 9, 7],
                                            "lp_steam": [10, 12, 14, 13, 11, 9],
                                            "mp_steam": [4, 5, 7, 7, 5, 3]}),
                    heat=heat, storage=[battery(energy_kwh=10, power_kw=5)],
                    weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}},
                    targets={"carbon_price_per_t": 90,
                             "emission_cap": {"value_t": 0.5, "mode": "soft"},
                             "zero_carbon_indicator": {"threshold_t_per_tce": 0.2,
                                                       "mode": "soft", "penalty_per_t": 60}})
    d = prepare(sc, prof)
    assert_same_model(d)
    lp = build_matrix(d)
    assert {"heat.balance", "heat.capacity", "heat.waste_heat",
            "heat_storage.soc_balance"} <= set(lp.row_blocks)


def test_pyomo_engine_starts_from_the_matrix_rounding() -> None:
    # The Pyomo engine's MILP starts from the matrix engine's rounded relaxation (its columns
    # are the Pyomo variables by name): HiGHS takes it as the first incumbent, so the answer is
    # never worse than that point, and both engines reach the same optimum within the gap.
    from zeropark.api import solve_outcome
    from zeropark.solve import rounded_point

    sc = load_scenario(ROOT / "scenarios" / "demo-park.yaml")
    d = prepare(sc, steps=48)
    lp = build_matrix(d)
    point = rounded_point(lp, sc.solver)
    assert point is not None
    x, how = point
    assert how == "rounded relaxation"  # the demo's relaxation is fractional in these 2 days
    arr = lp.arrays()
    start_cost = float(arr["cost"] @ np.array([x[n] for n in lp.col_names()])) + lp.objective_offset
    _, out, timings = solve_outcome(d, engine="pyomo")
    assert out.status.has_solution and "warm start: rounded relaxation" in out.message
    assert timings["warm_start_s"] > 0
    assert out.objective <= start_cost * (1 + 1e-9)
    _, m, _ = solve_outcome(d, engine="matrix")
    assert out.objective == pytest.approx(m.objective, rel=2 * sc.solver.mip_gap)
