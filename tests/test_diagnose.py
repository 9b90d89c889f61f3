"""Explainable infeasibility: zeropark.diagnose and zeropark.reliability (elastic model, target
bounds, data checks, IIS). Every expected number is worked out by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import zeropark as zp
from zeropark.diagnose import diagnose, iis_conflict
from zeropark.examples import battery, tiny
from zeropark.profiles.base import EvGroupProfile
from zeropark.reliability.datacheck import ev_conflicts, ev_group_conflict

PV = [{"name": "roof", "capacity_kw": 10, "profile": {"path": "pv.csv"}}]
# 4 h of 10 kW load, PV 0/8/6/0 kW: green share at most 14/40 = 35 %; import 26 kWh × 0.5 = 13 kg
FOUR_H = {"load_kw": [10, 10, 10, 10], "price": 1.0, "pv_kw": [[0, 8, 6, 0]], "ef": 0.5}


def _diag(sc: zp.Scenario, prof: zp.Profiles) -> tuple[zp.Result, zp.diagnose.Diagnosis]:
    result = zp.run(sc, prof)
    assert not result.ok
    return result, diagnose(zp.prepare(sc, prof))


def test_import_limit_below_load_names_limit_load_and_time() -> None:
    sc, prof = tiny(3, {"load_kw": [5, 12, 5], "price": 1.0}, grid={"import_limit_kw": 10.0})
    result, diag = _diag(sc, prof)
    assert result.status == zp.Status.INFEASIBLE
    assert "import limit 10 kW below load 12 kW at 2025-07-01 01:00" in result.explanation
    (cause,) = diag.causes
    assert cause.kind == "import_limit" and diag.method == "elastic LP"
    assert cause.data["unserved_kwh"] == pytest.approx(2.0)


def test_storage_is_used_before_load_is_called_unserved() -> None:
    # 2 × 4 kW over the limit; the 4 kWh battery (half full, 5 kW spare at 00:00 to fill it)
    # covers 4 kWh of the 8 kWh, so 4 kWh stay unserved
    sc, prof = tiny(4, {"load_kw": [5, 14, 14, 5], "price": 1.0}, grid={"import_limit_kw": 10.0},
                    storage=[battery(energy_kwh=4, power_kw=4, soc_initial=0.5)])
    _, diag = _diag(sc, prof)
    (cause,) = diag.causes
    assert cause.kind == "import_limit"
    assert cause.data["unserved_kwh"] == pytest.approx(4.0)
    assert "import limit 10 kW" in cause.sentence


def test_hard_green_share_reports_the_best_reachable_share() -> None:
    sc, prof = tiny(4, FOUR_H, pv=PV, targets={"green_share": {"value": 0.9, "mode": "hard"}})
    result, diag = _diag(sc, prof)
    assert "green share 90 % unreachable: at most 35 % with the assets given" in result.explanation
    assert diag.causes[0].data["best"] == pytest.approx(0.35, abs=1e-7)
    # the same target as soft: the solved share is the bound the diagnosis gave
    soft = sc.replace({"targets.green_share.mode": "soft", "targets.green_share.penalty_per_kwh": 9})
    assert zp.run(soft, prof).kpis["green_share"] == pytest.approx(0.35, abs=1e-7)


def test_hard_emission_cap_and_indicator() -> None:
    sc, prof = tiny(4, FOUR_H, pv=PV, targets={"emission_cap": {"value_t": 0.01, "mode": "hard"}})
    result, diag = _diag(sc, prof)
    assert "emission cap 0.01 t unreachable: at least 0.013 t" in result.explanation
    assert diag.causes[0].data["best"] == pytest.approx(0.013, rel=1e-7)
    # 13 kgCO2 per 0.1229 kgce/kWh × 40 kWh = 4.916 kgce → 2.6444 tCO2/tce
    sc, prof = tiny(4, FOUR_H, pv=PV, targets={
        "zero_carbon_indicator": {"threshold_t_per_tce": 0.2, "mode": "hard"}})
    result, diag = _diag(sc, prof)
    assert diag.causes[0].data["best"] == pytest.approx(13 / (0.1229 * 40), rel=1e-7)
    assert "zero-carbon indicator 0.200 tCO2/tce unreachable: at least 2.644" in result.explanation


def test_targets_reachable_alone_but_not_together() -> None:
    # 00:00 ef 0.1, 01:00 ef 1.0 with 5 kW PV; load 10 kW each. A battery charging at 50 %
    # efficiency shifts imports to 00:00: emissions 6 − 0.4·x kg for x kWh charged (least 2 kg at
    # x = 10) but the losses lower the green share 5/(20 + 0.5·x). Share 25 % forces x = 0 →
    # 6 kg; a 4 kg cap alone is reachable (x ≥ 5).
    sc, prof = tiny(2, {"load_kw": [10, 10], "price": 1.0, "pv_kw": [[0, 5]], "ef": [0.1, 1.0]},
                    pv=PV, storage=[battery(energy_kwh=10, power_kw=10, charge_efficiency=0.5)],
                    targets={"green_share": {"value": 0.25, "mode": "hard"},
                             "emission_cap": {"value_t": 0.004, "mode": "hard"}})
    result, diag = _diag(sc, prof)
    assert diag.method == "target bounds"
    (cause,) = diag.causes
    assert cause.kind == "targets_joint"
    assert cause.data["best"] == pytest.approx(0.006, rel=1e-7)
    assert ("with green share ≥ 25 %, emissions are at least 0.006 t" in result.explanation)


def test_green_direct_minimum_take_and_surplus() -> None:
    sc, prof = tiny(4, {**FOUR_H, "green_direct_kw": 5.0}, pv=PV, green_power={
        "direct": {"capacity_kw": 5, "shape": "flat", "price_per_kwh": 0.3, "min_take_kwh": 1e9}})
    # 4 h of 5 kW offered; the annual 1e9 kWh pro rata (456,621 kWh) is capped at what the
    # contract delivers in the horizon, so everything offered is taken and the park is feasible
    result = zp.run(sc, prof)
    assert result.ok and result.kpis["green_direct_kwh"] == pytest.approx(20.0)
    # a negative load (net generation) under anti-backflow cannot be absorbed
    sc, prof = tiny(3, {"load_kw": [5, -3, 5], "price": 1.0})
    result, diag = _diag(sc, prof)
    assert diag.causes[0].kind == "surplus"
    assert "3 kW of supply can be neither used nor exported at 2025-07-01 01:00" in \
        result.explanation
    assert "anti-backflow" in result.explanation


def test_on_off_conflict_is_found_by_the_elastic_milp() -> None:
    # 1-h windows of 30 kWh, but the electrolyser runs at 0 or 50–60 kW: LP feasible, MILP not
    sc, prof = tiny(3, {"load_kw": [1, 1, 1], "price": 1.0}, flexible_loads=[
        {"name": "el", "max_power_kw": 60, "min_on_power_kw": 50, "energy_per_window_kwh": 30,
         "window_h": 1}])
    result, diag = _diag(sc, prof)
    assert diag.method == "elastic MILP"
    assert "minimum-on power of flexible loads" in result.explanation
    assert "flexible load el must draw at least 50 kWh in the window" in result.explanation


def _ev(e_lo: list[float], e_hi: list[float], p_max: list[float]) -> EvGroupProfile:
    return EvGroupProfile(np.array(e_lo, float), np.array(e_hi, float), np.array(p_max, float),
                          float(e_lo[-1]))


def test_ev_window_the_piles_cannot_deliver() -> None:
    # 8 plugged-in 120 kW piles = 960 kW; the envelope asks 1,240 kWh more between 18:00 and
    # 19:00 than could have arrived before: 280 kWh stay unmet (soft, at the penalty)
    T = 24
    lo, hi = np.zeros(T), np.zeros(T)
    lo[18:], hi[18:] = 1240.0, 1240.0  # nothing may arrive before 18:00
    g = _ev(lo.tolist(), hi.tolist(), [960.0] * T)
    c = ev_group_conflict("depot-dc", g, 1.0)
    assert (c.first, c.last) == (18, 18) and not c.inverted
    sc, prof = tiny(T, {"load_kw": [1.0] * T, "price": 1.0, "ev": {"depot-dc": g}},
                    ev={"groups": [{"name": "depot-dc", "count": 8, "power_kw": 120}]})
    d = zp.prepare(sc, prof)
    (conflict,) = ev_conflicts(d)
    assert conflict.sentence(d) == ("EV group depot-dc needs 1,240 kWh between 2025-07-01 18:00 "
                                    "and 2025-07-01 19:00 but its piles deliver at most 960 kWh")
    result = zp.run(sc, prof)
    assert result.ok and result.kpis["ev_unmet_kwh"] == pytest.approx(280.0)


def test_inconsistent_ev_envelope_is_a_data_conflict_and_an_iis() -> None:
    # must have 8 kWh by 01:00, may have at most 5 kWh by 02:00: delivered energy cannot fall
    g = _ev([8, 0], [10, 5], [10, 10])
    sc, prof = tiny(2, {"load_kw": [1, 1], "price": 1.0, "ev": {"depot": g}},
                    ev={"groups": [{"name": "depot", "count": 2, "power_kw": 5}]})
    result, diag = _diag(sc, prof)
    assert diag.method == "data check"
    assert ("EV group depot must have received 8 kWh by 2025-07-01 01:00 but may have received "
            "at most 5 kWh by 2025-07-01 02:00") in result.explanation
    (cause,) = iis_conflict(zp.prepare(sc, prof))
    assert cause.kind == "iis"
    items = " ".join(cause.data["items"])
    # the envelope is a bound on the flexibility f = e + u − E_lo (see model/ev.py): E_lo falls by
    # 8 kWh at 01:00, so the step's balance forces f ≥ 8 there while its upper bound is 5 − 0
    assert "ev.energy_balance[depot, 2025-07-01 01:00] = 8" in items
    assert "ev.flex_kwh[depot, 2025-07-01 01:00] ≤ 5" in items


def test_nan_and_inverted_bounds_are_named() -> None:
    sc, prof = tiny(4, {"load_kw": [1, np.nan, 1, 1], "price": 1.0})
    with pytest.raises(zp.ScenarioError, match="load_kw is nan at 2025-07-01 01:00"):
        zp.run(sc, prof)  # refused before building the model
    sc, prof = tiny(4, {"load_kw": [1, 1, 1, 1], "price": 1.0, "pv_kw": [[0, -2, 1, 0]]}, pv=PV)
    result = zp.run(sc, prof)
    assert "pv.power_kw[roof, 2025-07-01 01:00]: lower end 0 above upper end -2" in \
        result.explanation


@pytest.fixture(scope="module")
def demo_week() -> tuple[zp.Scenario, zp.Profiles]:
    from zeropark.profiles.build import build_profiles

    sc = zp.load_scenario(Path(__file__).parents[1] / "scenarios" / "demo-park.yaml")
    sc = sc.replace({"time": {"start": "2025-07-14", "steps": 168, "step": "1h"}})
    return sc, build_profiles(sc)


def test_demo_week_import_limit_and_time_limit(demo_week: tuple) -> None:
    sc, prof = demo_week
    result = zp.run(sc.replace({"grid.import_limit_kw": 15000}), prof)
    assert result.status == zp.Status.INFEASIBLE
    assert "import limit 15,000 kW below load" in result.explanation
    assert "steps affected" in result.explanation
    timed = zp.run(sc.replace({"solver.time_limit_s": 0.0}), prof)
    assert timed.status == zp.Status.NO_SOLUTION
    assert "no feasible dispatch found within the time limit of 0 s" in timed.explanation
    assert "? rows" not in timed.explanation


def test_time_limit_message_names_the_model_size_for_the_pyomo_engine() -> None:
    # the Pyomo engine's outcome carries no model size (its time limit ended without a solution):
    # the message counts the same model in matrix form instead of printing "? rows"
    from zeropark.diagnose import diagnose
    from zeropark.model.builder import build_matrix
    from zeropark.solve import SolveOutcome

    sc, prof = tiny(24, {"load_kw": [10.0] * 24, "price": 1.0}, storage=[battery("b", 20.0, 5.0)])
    d = zp.prepare(sc, prof)
    out = SolveOutcome(zp.Status.NO_SOLUTION, float("nan"), float("nan"), float("nan"), {},
                       message="time limit")
    text = diagnose(d, out).text(d.sc.name)
    lp = build_matrix(d)
    n_int = int(lp.arrays()["integer"].sum())
    assert f"({lp.n_rows} rows, {lp.n_cols} columns, {n_int} integer)" in text
    assert "?" not in text


def test_cli_prints_the_explanation_and_exits_3(tmp_path: Path) -> None:
    from zeropark.cli import main

    text = (Path(__file__).parents[1] / "scenarios" / "demo-park.yaml").read_text()
    text = text.replace("import_limit_kw: 26000", "import_limit_kw: 15000")
    text = text.replace('end: "2026-01-01"', 'end: "2025-01-08"')
    (tmp_path / "park.yaml").write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(tmp_path / "park.yaml"), "-o",
                                    str(tmp_path / "out"), "--no-plot"])
    assert res.exit_code == 3
    assert "no solution: demo-park: infeasible: import limit 15,000 kW below load" \
        in res.output


def test_diagnose_command_lists_causes_and_model_health(tmp_path: Path) -> None:
    from zeropark.reliability.commands import diagnose_command

    text = (Path(__file__).parents[1] / "scenarios" / "demo-park.yaml").read_text()
    text = text.replace("import_limit_kw: 26000", "import_limit_kw: 15000")
    (tmp_path / "park.yaml").write_text(text.replace('end: "2026-01-01"', 'end: "2025-01-08"'),
                                        encoding="utf-8")
    res = CliRunner().invoke(diagnose_command, [str(tmp_path / "park.yaml")])
    assert res.exit_code == 3
    assert "matrix coefficients" in res.output
    assert "found by elastic LP:\n  - import limit 15,000 kW below load" in res.output
