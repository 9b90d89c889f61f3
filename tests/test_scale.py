"""Numerical robustness: the same park at 1 kW and at 1 GW, MW-scale parks with kW-scale piles,
big-M values taken from data, solutions re-checked independently of HiGHS, and refusal of
results beyond tolerance."""

from __future__ import annotations

import dataclasses

import highspy
import numpy as np
import pytest

import zeropark as zp
from zeropark.api import finish
from zeropark.examples import battery, tiny
from zeropark.model.builder import build_matrix
from zeropark.model.data import max_deficit_kw
from zeropark.profiles.base import DrEventProfile, EvGroupProfile
from zeropark.reliability.numerics import (
    balance_residual_kw,
    block_ranges,
    refusal,
    residuals,
    scaling_report,
    solver_quality,
)
from zeropark.solve import solve_matrix

T = 24
HOURS = np.arange(T)
LOAD = 0.6 + 0.4 * np.sin(HOURS / 24 * 2 * np.pi - 1.5)  # peak 1.0
PV = np.clip(np.sin((HOURS - 6) / 12 * np.pi), 0, None) * 0.8
PRICE = np.where((HOURS >= 8) & (HOURS < 22), 1.0, 0.3)
PRICE[3] = -0.05  # a negative price: storage binaries there
EXPORT = np.full(T, 0.35)
EXPORT[12] = 1.2  # export pays more than import: grid binaries there
# rows whose coefficients are powers by design: x ≤ M·on with M a column's own bound
BIG_M_ROWS = {"grid.import_if_on", "grid.export_if_off", "storage.charge_if_on",
              "storage.discharge_if_off", "flex.min_on", "flex.max_on", "dr.cap", "dr.paid",
              "dr.minimum", "dr.shortfall"}


def park(k: float, import_limit_kw: float | None = None) -> tuple[zp.Scenario, zp.Profiles]:
    """A park with every component, all powers and energies × ``k`` (k = 1: 1 kW peak load)."""
    dr = [DrEventProfile("cut", (HOURS >= 18) & (HOURS < 20), 0.9 * k, 0.3 * k, 5.0, 2.0)]
    return tiny(
        T, {"load_kw": LOAD * k, "price": PRICE, "export_price": EXPORT, "pv_kw": [PV * k],
            "ef": 0.58, "dr": dr, "demand_charge": 30.0},
        pv=[{"name": "roof", "capacity_kw": k, "profile": {"path": "pv.csv"}}],
        storage=[battery(energy_kwh=2 * k, power_kw=k, charge_efficiency=0.95,
                         discharge_efficiency=0.95, soc_initial=0.5,
                         end_condition="at_least_initial")],
        flexible_loads=[{"name": "dc", "max_power_kw": 0.5 * k, "min_on_power_kw": 0.1 * k,
                         "energy_per_window_kwh": 4 * k, "window_h": 12,
                         "ramp_kw_per_h": 0.3 * k}],
        grid={"import_limit_kw": import_limit_kw or 3 * k, "export_limit_kw": 0.5 * k},
        targets={"green_share": {"value": 0.5, "mode": "soft", "penalty_per_kwh": 0.1},
                 # own threshold: at 1 GW the park falls in a national size band (0.3)
                 "zero_carbon_indicator": {"threshold_t_per_tce": 0.2, "mode": "soft",
                                           "penalty_per_t": 50, "threshold_rule": "own"}},
        green_power={"certificates": {"price_per_mwh": 5, "max_mwh": 0.002 * k}},
        solver={"mip_gap": 1e-6, "threads": 1},
    )


def _solve(k: float, **kw: float) -> tuple[zp.Result, object, np.ndarray, object]:
    """One real HiGHS solve: the Result, the matrix model, the solution vector and the data."""
    sc, prof = park(k, **kw)
    d = zp.prepare(sc, prof)
    lp = build_matrix(d)
    out = solve_matrix(lp, sc.solver)
    x = np.concatenate([np.ravel(out.values[name]) for name in lp.var_blocks])
    return finish(d, out, "matrix", {}), lp, x, d


@pytest.fixture(scope="module")
def runs() -> dict[float, tuple]:
    """The park at 1 kW and 1 GW peak load, and at 1 kW under a 100 GW (schema maximum)
    transformer."""
    return {1.0: _solve(1.0), 1e6: _solve(1e6), "loose": _solve(1.0, import_limit_kw=1e8)}


def test_same_park_at_1_kw_and_1_gw(runs: dict) -> None:
    # the matrix engine with every component, as zeropark.run would solve it
    small, big = runs[1.0][0], runs[1e6][0]
    assert small.status == big.status == zp.Status.OPTIMAL
    assert big.objective / 1e6 == pytest.approx(small.objective, rel=1e-7)
    for kpi in ("green_share", "self_sufficiency", "co2_per_tce"):
        assert big.kpis[kpi] == pytest.approx(small.kpis[kpi], rel=1e-6, abs=1e-9)
    assert big.kpis["dr_events_accepted"] == small.kpis["dr_events_accepted"] == ["cut"]


def test_solutions_pass_an_independent_check(runs: dict) -> None:
    for k, (result, lp, x, d) in runs.items():
        k = 1.0 if k == "loose" else k
        res = residuals(lp, x, d)
        assert res.row_relative <= 1e-7, (k, res)
        assert res.bound <= 1e-9 * k, (k, res)
        assert res.integrality <= 1e-9, (k, res)
        assert np.abs(balance_residual_kw(result.dataset)).max() <= 1e-7 * k


def test_highs_primal_and_dual_infeasibilities_within_tolerance(runs: dict) -> None:
    for k, (_, lp, _, _) in runs.items():
        k = 1.0 if k == "loose" else k
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp.to_highs(relax=True))
        h.run()
        q = solver_quality(h)
        assert q.has_primal and q.has_dual
        cost_scale = float(np.abs(lp.arrays()["cost"]).max())
        assert refusal(q, cost_scale) is None, (k, q)
        assert q.max_primal_infeasibility <= 1e-7 * k


def test_matrix_coefficients_do_not_grow_with_the_park(runs: dict) -> None:
    small, big = block_ranges(runs[1.0][1]), block_ranges(runs[1e6][1])
    assert small.keys() == big.keys()
    for name in small.keys() - BIG_M_ROWS:
        assert big[name] == pytest.approx(small[name], rel=1e-12), name
        assert 1e-3 <= small[name][0] and small[name][1] <= 1e3, (name, small[name])
    # big-M rows scale with the park: their M is a power of the park, not a constant
    for name in small.keys() & BIG_M_ROWS:
        assert big[name][1] >= 1e5 * small[name][1], name
    report = scaling_report(runs[1e6][1])
    assert report.matrix_max_at.split(" × ")[0] in BIG_M_ROWS


def _coefs(lp: object, row: str, col: str) -> np.ndarray:
    a = lp.matrix().tocsr()
    rb, cb = lp.row_blocks[row], lp.var_blocks[col]
    sub = a[rb.start:rb.start + rb.size][:, cb.start:cb.start + cb.size]
    return np.asarray(sub.sum(axis=1)).ravel()


def test_big_m_values_come_from_data(runs: dict) -> None:
    for k in (1.0, 1e6):
        _, lp, _, d = runs[k]
        sc = d.sc
        assert len(d.grid_binary_steps) and len(d.storage_binary_steps)
        m_imp = -_coefs(lp, "grid.import_if_on", "grid.exclusive")
        assert m_imp == pytest.approx(max_deficit_kw(sc, d.prof)[d.grid_binary_steps])
        assert (m_imp <= sc.grid.import_limit_kw).all()
        p = sc.storage[0].power_kw
        assert -_coefs(lp, "storage.charge_if_on", "storage.mode") == pytest.approx(p)
        f = sc.flexible_loads[0]
        assert -_coefs(lp, "flex.max_on", "flex.on") == pytest.approx(f.max_power_kw)
        assert -_coefs(lp, "flex.min_on", "flex.on") == pytest.approx(f.min_on_power_kw)
        e = d.prof.dr_events[0]
        # M1: most the park can import over the window above its baseline energy [kWh]
        m1 = float((max_deficit_kw(sc, d.prof)[e.mask] - e.baseline_steps_kw()).sum()) * d.dt_h
        assert m1 > 0
        assert _coefs(lp, "dr.paid", "dr.qualified") == pytest.approx(m1)
        q = e.reduction_kw * e.mask.sum() * d.dt_h
        assert _coefs(lp, "dr.minimum", "dr.qualified") == pytest.approx(e.min_ratio * q + m1)
        assert _coefs(lp, "dr.shortfall", "dr.accept") == pytest.approx(q + m1)
        hours = e.mask.sum() * d.dt_h
        assert m1 <= k * 3 * hours  # never above the transformer (3 kW per kW of peak here)


def test_demand_response_big_m_is_at_most_what_the_park_can_draw(runs: dict) -> None:
    _, lp, _, d = runs["loose"]
    e = d.prof.dr_events[0]
    most = max_deficit_kw(d.sc, d.prof)[e.mask]
    m1 = float((most - e.baseline_steps_kw()).sum()) * d.dt_h
    assert _coefs(lp, "dr.paid", "dr.qualified").max() <= m1 + 1e-9
    assert m1 < 1e3  # the 1e8 kW transformer does not enter: the park draws ~1 kW


def test_transformer_far_larger_than_the_park_still_solves_exactly(runs: dict) -> None:
    loose = runs["loose"][0]  # schema maximum 1e8 kW vs a 1 kW park
    assert loose.status == zp.Status.OPTIMAL
    assert loose.objective == pytest.approx(runs[1.0][0].objective, rel=1e-6)
    assert loose.kpis["dr_events_accepted"] == ["cut"]


def test_mw_park_with_kw_piles() -> None:
    # a 50 MW park and three 7 kW piles: 3 × 20 kWh to deliver between 08:00 and 16:00
    k = 50_000.0
    sc, prof = park(k)
    lo = np.where(HOURS >= 15, 60.0, 0.0)
    hi = np.minimum(np.maximum(HOURS - 7, 0) * 21.0, 60.0)
    p_max = np.where((HOURS >= 8) & (HOURS < 16), 21.0, 0.0)
    ev = {"staff": EvGroupProfile(lo, hi, p_max, 60.0)}
    prof = dataclasses.replace(prof, ev=ev)
    sc = sc.replace({"ev.groups": [{"name": "staff", "count": 3, "power_kw": 7}],
                     "ev.unmet_penalty_per_kwh": 50})
    result = zp.run(sc, prof)
    assert result.ok
    assert result.kpis["ev_energy_kwh"] == pytest.approx(60.0, abs=1e-6)
    assert result.kpis["ev_unmet_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert np.abs(balance_residual_kw(result.dataset)).max() <= 1e-7 * k


def test_results_beyond_tolerance_are_refused(runs: dict) -> None:
    _, lp, _, d = runs[1.0]
    out = solve_matrix(lp, d.sc.solver)
    out.max_primal_infeasibility = 0.5  # what HiGHS would report for a broken solve
    result = finish(d, out, "matrix", {})
    assert result.status == zp.Status.ERROR and result.dataset is None
    assert "primal infeasibility 0.5 > 0.0001: result refused" in result.explanation
    assert "matrix coefficients" in result.explanation


def test_nan_price_is_refused_not_optimal() -> None:
    sc, prof = tiny(4, {"load_kw": [1, 1, 1, 1], "price": [1, np.nan, 1, 1]})
    try:
        result = zp.run(sc, prof)
    except zp.ScenarioError:
        return
    assert not result.ok and "import_price_per_kwh is nan" in result.explanation


@pytest.mark.parametrize("relax", [True, False])
def test_pass_to_hands_highs_the_same_model_as_to_highs(runs: dict, relax: bool) -> None:
    lp = runs[1.0][1]
    models = []
    for hand_over in (lambda h: h.passModel(lp.to_highs(relax=relax)),
                      lambda h: lp.pass_to(h, relax=relax)):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        hand_over(h)
        models.append(h.getLp())
    a, b = models
    assert (a.num_col_, a.num_row_, a.offset_) == (b.num_col_, b.num_row_, b.offset_)
    for field in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    for field in ("start_", "index_", "value_"):
        np.testing.assert_array_equal(getattr(a.a_matrix_, field), getattr(b.a_matrix_, field))
    ints_a = [int(v) for v in a.integrality_] or [0] * a.num_col_  # to_highs omits all-continuous
    assert ints_a == [int(v) for v in b.integrality_]
    assert any(ints_a) == (not relax)
