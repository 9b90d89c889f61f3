"""`zeropark replay`: nights executed against the truth under a seeded forecast error, with the
regret against perfect foresight split by cost.

Hand-checked case: the tiny park (tests/test_operations.py) for one day, the truth 50 kW load
with 60 kW at 18–20 h, forecasts 10 % low (bias −0.1, no random error): the plan sees 45/54 kW.
Its least peak is 45 + x with x = 4/3 (the 20 kWh battery, half full, must end half full:
10 kWh charged before 18 h + 4x after ≥ 2 (9 − x) discharged), so the plan imports 46.333 kW at
18–20 h. Executed against the truth the battery follows its setpoints and the grid takes the
missing 10 %: 46.333 + 6 = 52.333 kW, while perfect foresight peaks at 155/3 = 51.667 kW. The
energy (flat 1 CNY/kWh, ideal battery) is the same 1220 kWh, so the regret is the demand
charge on the difference: 40 × (52.333 − 51.667) = 26.667 CNY.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zeropark.api import prepare, solve_data
from zeropark.cli import main
from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny, tiny_dict
from zeropark.operations.margins import Margins
from zeropark.operations.replay import (
    ForecastError,
    evaluate_dispatch,
    regret_report,
    replay,
    run_replay,
)

ROOT = Path(__file__).resolve().parents[1]


def tiny_case():
    load = np.full(24, 50.0)
    load[18:20] = 60.0
    return tiny(24, dict(load_kw=load, price=1.0, demand_charge=40.0), storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0})


def test_known_forecast_error_gives_the_hand_computed_peak_and_regret():
    sc, prof = tiny_case()
    rep = replay(sc, prof, start="2025-07-01", days=1, horizon_h=24, end_soc={"bat": 0.5},
                 error=ForecastError(load_error=0.0, pv_error=0.0, load_bias=-0.1),
                 margins=Margins.off(), intra_step_peak="average")
    # "average" asked for (the default is "scenario"): the hand-made truth has no intra-hour
    # shape, the tiny scenario's synthetic load would give the plans one
    plan = rep.schedules[0].plan.grid_import_kw
    assert plan.max() == pytest.approx(45 + 4 / 3, abs=2e-3)
    executed = rep.dispatch["grid_import_kw"]
    assert executed.max() == pytest.approx(52 + 1 / 3, abs=2e-3)
    assert rep.states[-1].month_to_date.peak_import_kw == pytest.approx(52 + 1 / 3, abs=2e-3)
    perfect = solve_data(prepare(sc, prof))
    realized = evaluate_dispatch(sc, prof, rep.dispatch, rep.dr_accepted)
    report = regret_report(sc, prof, rep, perfect, realized)
    assert report["regret"] == pytest.approx(40 * (52 + 1 / 3 - 155 / 3), abs=0.1)
    assert report["regret_by_part"]["demand"] == pytest.approx(40 * 2 / 3, abs=0.1)
    assert report["regret_by_part"]["energy"] == pytest.approx(0.0, abs=0.1)
    (night,) = report["nights"]
    assert night["peak_exceedance_kw"] == pytest.approx(6.0, abs=2e-3)
    assert report["peak_exceedances"] == 1 and report["fallbacks"] == 0


def test_without_error_the_day_runs_as_planned():
    sc, prof = tiny_case()
    rep = replay(sc, prof, start="2025-07-01", days=1, horizon_h=24, end_soc={"bat": 0.5},
                 margins=Margins.off(), intra_step_peak="average")  # the truth has no intra-hour
    assert rep.dispatch["grid_import_kw"].max() == pytest.approx(155 / 3, abs=2e-3)


def test_errors_depend_on_seed_and_date_only():
    import pandas as pd

    e = ForecastError(seed=3)
    week = pd.date_range("2025-07-01", periods=7 * 24, freq="h")
    load, pv = e.factors(week)
    later, _ = e.factors(week[48:96])
    assert np.array_equal(later, load[48:96])  # the same date, another window
    assert len(np.unique(load)) == 7 and (pv >= 0).all()
    assert not np.array_equal(load, ForecastError(seed=4).factors(week)[0])


@pytest.mark.parametrize("kw", [{"load_error": -0.1}, {"pv_error": 2.0}, {"seed": -1},
                                {"load_bias": float("nan")}])
def test_bad_error_model_is_refused(kw):
    with pytest.raises(ScenarioError):
        ForecastError(**kw)


@pytest.mark.slow
def test_demo_nights_against_the_truth_and_the_command(tmp_path):
    """Two nights of the demo park's August week (the DR event of 5 August is in the second
    night's horizon), hourly, the default error model and margins."""
    from zeropark import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "demo-park.yaml")
    report, rep = run_replay(sc, start="2025-08-03", days=2, error=ForecastError(seed=2))
    assert report["fallbacks"] == 0 and len(report["nights"]) == 2
    assert sum(report["ramp_violations"].values()) == 0  # the state carries the hall's power
    # the replayed dispatch is feasible for the perfect-foresight model: it cannot beat it
    assert report["regret"] >= -1e-3 * report["perfect_cost"]
    assert sum(report["regret_by_part"].values()) == pytest.approx(report["regret"], abs=1e-6)
    # the nights' energy and demand parts add up to the totals'
    for part in ("energy", "demand"):
        assert sum(n[f"regret_{part}"] for n in report["nights"]) == pytest.approx(
            report["regret_by_part"][part], abs=1e-3 * report["perfect_cost"] / 100)
    assert rep.states[-1].month_to_date.peak_import_kw == pytest.approx(
        float(rep.dispatch["grid_import_kw"].max()))
    out = tmp_path / "replay.json"
    r = CliRunner().invoke(main, ["replay", str(ROOT / "scenarios" / "demo-park.yaml"),
                                  "--start", "2025-08-03", "--days", "1", "--perfect",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "regret" in r.output and json.loads(out.read_text())["days"] == 1
    bad = CliRunner().invoke(main, ["replay", str(ROOT / "scenarios" / "demo-park.yaml"),
                                    "--start", "2025-08-03T05:00", "--days", "1"])
    assert bad.exit_code == 2 and "--start" in bad.output


def test_perfect_forecast_regret_vanishes_when_plans_and_benchmark_bill_alike():
    """One night of a tiny synthetic park at 1 h steps, perfect forecasts: the night's plan
    covers the whole stretch, so it is the perfect-foresight plan exactly when it is billed the
    same way — the quarter-hour peak (scenario's intra-hour peak ratio) and the whole month's
    demand charge. Billed as hourly averages, the plan leaves the intra-hour peak to chance and
    pays for it in the demand charge."""
    from zeropark.examples import tiny_dict
    from zeropark.scenario import scenario_from_dict

    sc = scenario_from_dict(tiny_dict(
        24, loads={"source": "synthetic", "peak_kw": 100.0},
        storage=[battery(energy_kwh=40, power_kw=20, soc_initial=0.5,
                         end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0}))
    same, _ = run_replay(sc, start="2025-07-01", days=1, horizon_h=24, margins=Margins.off())
    # the defaults: both bill the quarter-hour peak and the whole month
    assert same["demand_basis"] == "month" and same["intra_step_peak"] == "scenario"
    assert abs(same["regret"]) <= 1e-4 * same["perfect_cost"]
    blind, _ = run_replay(sc, start="2025-07-01", days=1, horizon_h=24, margins=Margins.off(),
                          demand_basis="month", intra_step_peak="average")
    assert blind["perfect_cost"] == pytest.approx(same["perfect_cost"])  # same benchmark
    assert blind["regret_by_part"]["demand"] > 1.0
    # per night: the energy and demand parts add up to the totals' (one night here)
    night = blind["nights"][0]
    assert night["regret_energy"] == pytest.approx(blind["regret_by_part"]["energy"], abs=1e-3)
    assert night["regret_demand"] == pytest.approx(blind["regret_by_part"]["demand"], abs=1e-3)
    # pro rata: the benchmark bills 1/31 of July's demand charge (24 of 744 h)
    pro, _ = run_replay(sc, start="2025-07-01", days=1, horizon_h=24, margins=Margins.off(),
                        intra_step_peak="scenario", demand_basis="pro_rata")
    assert pro["perfect_cost"] < same["perfect_cost"]
    with pytest.raises(ScenarioError, match="--demand-basis"):
        run_replay(sc, start="2025-07-01", days=1, demand_basis="weekly")


def test_replay_command_takes_the_billing_options(tmp_path):
    import yaml

    from zeropark.examples import tiny_dict

    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(tiny_dict(
        24, loads={"source": "synthetic", "peak_kw": 100.0},
        storage=[battery(energy_kwh=40, power_kw=20, soc_initial=0.5,
                         end_condition="at_least_initial")],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0})))
    out = tmp_path / "r.json"
    r = CliRunner().invoke(main, ["replay", str(path), "--start", "2025-07-01", "--days", "1",
                                  "--horizon", "24h", "--perfect", "--peak-margin", "0",
                                  "--dr-margin", "0", "--intra-step-peak", "scenario",
                                  "--demand-basis", "month", "--horizon-end", "reference",
                                  "--lookahead-z", "0", "-o", str(out)])
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert (rep["intra_step_peak"], rep["demand_basis"], rep["horizon_end"]) == (
        "scenario", "month", "reference")
    assert rep["margins"]["lookahead_z"] == 0.0 and rep["margins"]["dr_margin_hard"] is True
    assert abs(rep["regret"]) <= 1e-4 * rep["perfect_cost"]
    png = tmp_path / "replay.png"  # beside the report
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_peak_guard_against_a_known_error_over_two_nights():
    """Two nights of the tiny park (truth 50 kW, 60 kW at 18–20 h, each day), forecasts 10 %
    low (45/54 kW), a month-to-date peak of 58 kW, chance-style guard with load error 10 % and
    z = 1 (no PV): σ_t = 0.1 × forecast load, so μ_t = 4.5 kW, and 5.4 kW at 18–20 h.

    Night 1: the guard keeps the plan at 58 − 5.4 = 52.6 kW at 18–20 h (the battery, with a
    small throughput cost, discharges exactly 54 − 52.6 = 1.4 kW there and puts the 2.8 kWh
    back in the cheap base hours, ≤ 45 + 2.8 < 53.5). Executed against the truth the grid takes
    the missing 6 kW: 58.6 kW, 0.6 kW above the month peak (the error, 6 kW, is 1.11 σ of the
    forecast's 5.4 kW: the z = 1 guard covers all but 0.6 kW of it). Night 2: the month peak is
    now 58.6 kW, the guard keeps 53.2 kW, executed 59.2 kW. Without the guard the plan needs no
    discharge (54 < 58) and the truth reaches 60 kW on night 1.
    """
    from zeropark.examples import tiny_profiles
    from zeropark.operations.state import state_from_dict
    from zeropark.scenario import scenario_from_dict

    load = np.tile(np.where(np.isin(np.arange(24), (18, 19)), 60.0, 50.0), 2)
    prof = tiny_profiles(load_kw=load, price=1.0, demand_charge=40.0)
    sc = scenario_from_dict(tiny_dict(48, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=0.5, end_condition="at_least_initial",
        throughput_cost_per_kwh=0.01)],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0}))
    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": [],
                             "month_to_date": {"month": "2025-07", "peak_import_kw": 58.0}})
    error = ForecastError(load_error=0.0, pv_error=0.0, load_bias=-0.1)
    guard = Margins(load_error=0.1, pv_error=0.0, peak_z=1.0, dr_margin_kw=0.0)
    rep = replay(sc, prof, start="2025-07-01", days=2, horizon_h=24, state=state, error=error,
                 margins=guard, intra_step_peak="average")
    floors = (58.0, 58.6)
    for k, floor in enumerate(floors):
        meta = rep.schedules[k].doc["metadata"]
        assert meta["margins"]["peak_margin_kw_max"] == pytest.approx(5.4, abs=1e-3)
        assert meta["margins"]["peak_margin_kw_mean"] == pytest.approx(
            (22 * 4.5 + 2 * 5.4) / 24, abs=1e-3)
        plan = rep.schedules[k].plan.grid_import_kw[:24]
        np.testing.assert_allclose(plan[18:20], floor - 5.4, atol=2e-3)
        assert plan[:18].max() <= 45 + 2.8 + 2e-3
        executed = rep.dispatch["grid_import_kw"][24 * k:24 * (k + 1)]
        np.testing.assert_allclose(executed - plan, load[:24] - 0.9 * load[:24], atol=1e-6)
        assert executed.max() == pytest.approx(floor + 0.6, abs=2e-3)
        assert rep.states[k + 1].month_to_date.peak_import_kw == pytest.approx(floor + 0.6,
                                                                                abs=2e-3)
    bare = replay(sc, prof, start="2025-07-01", days=1, horizon_h=24, state=state, error=error,
                  margins=Margins.off(), intra_step_peak="average")
    assert bare.dispatch["grid_import_kw"].max() == pytest.approx(60.0, abs=2e-3)


def test_lookahead_discount_keeps_the_executed_day_below_an_uncertain_tomorrow():
    """48 h schedule of the tiny park, no error: day 1 is 50 kW with 60 kW at 18–20 h, day 2 a
    flat 64 kW. The battery (20 kWh, 10 kW, ideal, 0.01 CNY/kWh throughput) starts full and
    must end full, so it cannot shave a flat day: day 2 needs 64 kW. Without a lookahead
    discount tomorrow's 64 kW is the month peak and day 1 may run up to it: the battery stays
    idle and day 1 imports 60 kW at 18–20 h. With ``lookahead_z = 1`` and a 10 % load error,
    day 2 is billed at 64 − 6.4 = 57.6 kW, so day 1 is held at 57.6 kW: the battery discharges
    2.4 kW at 18–20 h and recharges the 4.8 kWh after 20 h (50 + 1.2 kW ≤ 57.6). The demand
    charge billed falls from 40 × 64 to 40 × 57.6 CNY."""
    import pandas as pd

    from zeropark.operations.schedule import make_schedule
    from zeropark.operations.state import state_from_dict
    from zeropark.scenario import scenario_from_dict

    sc = scenario_from_dict(tiny_dict(48, storage=[battery(
        energy_kwh=20, power_kw=10, soc_initial=1.0, end_condition="at_least_initial",
        throughput_cost_per_kwh=0.01)],
        grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0}))
    day1 = np.where(np.isin(np.arange(24), (18, 19)), 60.0, 50.0)
    fc = pd.DataFrame({"time": pd.date_range("2025-07-01", periods=48, freq="h"),
                       "load_kw": np.r_[day1, np.full(24, 64.0)], "import_price_per_kwh": 1.0})
    state = state_from_dict({"storage": {"bat": {"soc": 1.0}}, "ev_plugged": []})

    def plan(lookahead_z: float):
        s = make_schedule(sc, state, start="2025-07-01T00:00", horizon_h=48, step="1h",
                          forecast=fc, intra_step_peak="average",
                          margins=Margins(load_error=0.1, pv_error=0.0, peak_margin_kw=0.0,
                                          dr_margin_kw=0.0, lookahead_z=lookahead_z),
                          created_at="2026-12-02T00:00:00+00:00")
        assert not s.fallback, s.doc["metadata"]["reasons"]
        return s.plan.grid_import_kw, s.doc["metadata"]

    energy = float(day1.sum()) + 24 * 64.0
    imp, meta = plan(0.0)
    np.testing.assert_allclose(imp[18:20], 60.0, atol=2e-3)
    assert meta["objective"] == pytest.approx(energy + 40 * 64.0, abs=1e-3)
    imp, meta = plan(1.0)
    np.testing.assert_allclose(imp[18:20], 57.6, atol=2e-3)
    assert imp[:24].max() == pytest.approx(57.6, abs=2e-3)
    np.testing.assert_allclose(imp[24:], 64.0, atol=2e-3)  # day 2 itself unchanged
    # energy + the billed peak + the throughput cost of 4.8 kWh in and out (0.01 CNY/kWh each)
    assert meta["objective"] == pytest.approx(energy + 40 * 57.6, abs=0.2)
    assert "lookahead" in meta["margins"]["peak_rule"]
