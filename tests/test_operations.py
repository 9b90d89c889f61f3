"""Tests of zeropark.operations: state, forecasts, pro-rata targets, the nightly schedule (always a
plan), its schema and per-pile setpoints, publishing, the ledger update and the CLI.

Hand-checked cases use the tiny park of :mod:`zeropark.examples` with a flat 1 CNY/kWh price:
one day of 50 kW load with 60 kW at 18–20 h and an ideal 20 kWh / 10 kW battery (half full, must
end at least half full) under a 40 CNY/(kW·month) demand charge.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from zeropark.cli import main
from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny_dict, tiny_profiles
from zeropark.operations.fallback import storage_tou
from zeropark.operations.forecast import read_forecast
from zeropark.operations.horizon import build_horizon, pro_rata
from zeropark.operations.ledger import read_actuals, update_state
from zeropark.operations.margins import Margins
from zeropark.operations.publish import (
    LONG_COLUMNS,
    LONG_HEADER_KEYS,
    InvalidScheduleError,
    local_time,
    long_table,
    publish,
    read_long_csv,
    read_schedule,
    schedule_schema,
)
from zeropark.operations.replay import forecast_frame, replay
from zeropark.operations.schedule import Schedule, make_schedule
from zeropark.operations.state import (
    check_against,
    initial_state,
    load_state,
    save_state,
    state_from_dict,
)
from zeropark.scenario import load_scenario, scenario_from_dict
from zeropark.scenario.resolve import library_for

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "ops"
DEMO = REPO / "scenarios" / "demo-park.yaml"
CREATED = "2026-11-28T22:00:00+00:00"


# -- helpers -------------------------------------------------------------------------------------
def tiny_park(**sections):
    base = {"storage": [battery(energy_kwh=20, power_kw=10, soc_initial=0.5,
                                end_condition="at_least_initial")],
            "grid": {"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 40.0}}
    base.update(sections)
    return scenario_from_dict(tiny_dict(24, **base))


def tiny_forecast(load=None, price=1.0) -> pd.DataFrame:
    if load is None:
        load = np.full(24, 50.0)
        load[18:20] = 60.0
    return pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                         "load_kw": load, "import_price_per_kwh": price})


def tiny_schedule(sc=None, state=None, forecast=None, **kw) -> Schedule:
    sc = sc or tiny_park()
    state = state or state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []})
    kw.setdefault("margins", Margins.off())  # hand-checked optima are at the lines
    # and on hourly averages (the default "scenario" adds the synthetic load's intra-hour peak)
    kw.setdefault("intra_step_peak", "average")
    return make_schedule(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                         forecast=tiny_forecast() if forecast is None else forecast,
                         created_at=CREATED, **kw)


def full_validate(doc: dict) -> None:
    """Independent of the package's fast path: every item against the shipped schema."""
    jsonschema.Draft202012Validator(schedule_schema()).validate(doc)


def imports(doc: dict) -> np.ndarray:
    return np.array([iv["grid_import_kw"] for iv in doc["intervals"]])


@pytest.fixture(scope="module")
def demo():
    return load_scenario(DEMO)


@pytest.fixture(scope="module")
def demo_schedule(demo, tmp_path_factory) -> tuple[Schedule, dict, Path]:
    """The issue's case: 48 h at 15 min, 200 piles, plugged-in EVs, a committed DR event, a
    month-to-date peak, a year-to-date ledger and an hourly forecast; published and read back."""
    state = load_state(DATA / "state-demo.json")
    s = make_schedule(demo, state, start="2026-11-29T00:00", horizon_h=48, step="15min",
                      forecast=DATA / "forecast-demo-48h.csv", created_at=CREATED)
    out = tmp_path_factory.mktemp("sched")
    paths = publish(s, out)
    return s, json.loads(paths[0].read_text()), out


# -- state ---------------------------------------------------------------------------------------
def test_state_file_validates_and_round_trips(demo, tmp_path):
    state = load_state(DATA / "state-demo.json")
    check_against(state, demo)
    assert state.storage["lfp-main"].soc == 0.42
    assert len(state.ev_plugged) == 3 and state.dr_committed[0].name == "grid-peak-cut-1130"
    save_state(state, tmp_path / "s.json")
    assert load_state(tmp_path / "s.json") == state
    fresh = initial_state(demo, "2026-11-29T00:00")
    assert fresh.storage["lfp-main"].soc == demo.storage[0].soc_initial
    assert fresh.ev_plugged == [] and fresh.ledger.through is None
    # written before the flexible loads' power was carried: still loads, power unknown
    assert state.flex_power_kw is None and fresh.flex_power_kw is None
    assert "flex_power_kw" not in state.to_json()
    known = state_from_dict({**state.model_dump(mode="json"),
                             "flex_power_kw": {"dc-data-hall": 1600.0}})
    check_against(known, demo)
    save_state(known, tmp_path / "k.json")
    assert load_state(tmp_path / "k.json").flex_power_kw == {"dc-data-hall": 1600.0}
    assert known.content_hash() != state.content_hash()


@pytest.mark.parametrize("data, field", [
    ({"storage": {"lfp-main": {"soc": 1.5}}}, "state.storage.lfp-main.soc"),
    ({"ledger": {"emissions_kg": -1}}, "state.ledger.emissions_kg"),
    ({"month_to_date": {"month": "Nov", "peak_import_kw": 1}}, "state.month_to_date.month"),
    ({"ev_plugged": [{"group": "x", "pile": 0, "energy_kwh": 1, "departure": "tomorrow"}]},
     "state.ev_plugged.0.departure"),
    ({"socs": {}}, "state.socs"),
    ({"flex_power_kw": {"hall": -1.0}}, "state.flex_power_kw.hall"),
    ({"flex_power_kw": {"hall": float("nan")}}, "state.flex_power_kw.hall"),
    ({"flex_power_kw": {"hall": float("inf")}}, "state.flex_power_kw.hall"),
    ({"flex_power_kw": {"hall": 2e8}}, "state.flex_power_kw.hall"),
    ({"flex_power_kw": {"hall": "high"}}, "state.flex_power_kw.hall"),
])
def test_bad_state_names_the_field(data, field):
    with pytest.raises(ScenarioError) as err:
        state_from_dict(data)
    assert err.value.field == field


@pytest.mark.parametrize("data, field", [
    ({"storage": {"nope": {"soc": 0.5}}}, "state.storage.nope"),
    ({"ev_plugged": [{"group": "fleet-dc", "pile": 40, "energy_kwh": 1,
                      "departure": "2026-11-29T03:00"}]}, "state.ev_plugged.0.pile"),
    ({"ev_plugged": [{"group": "bus", "pile": 0, "energy_kwh": 1,
                      "departure": "2026-11-29T03:00"}]}, "state.ev_plugged.0.group"),
    ({"flex_power_kw": {"dc-data-hal": 1500.0}}, "state.flex_power_kw.dc-data-hal"),
])
def test_state_must_match_the_scenario(demo, data, field):
    with pytest.raises(ScenarioError) as err:
        check_against(state_from_dict(data), demo)
    assert err.value.field == field


def test_plugged_in_evs_replace_earlier_arrivals_and_occupy_their_pile(demo):
    start = "2026-11-30T00:00"
    unknown = build_horizon(demo, state_from_dict({}), start=start, horizon_h=24, step="1h")
    syn = unknown.sessions
    later = syn[(syn["group"] == "staff-ac") & (syn["arrival"] > pd.Timestamp(start))].iloc[0]
    state = state_from_dict({"ev_plugged": [
        {"group": "staff-ac", "pile": int(later["pile"]), "energy_kwh": 5.0,
         "departure": str(later["arrival"] + pd.Timedelta(hours=1)), "id": "night-owl"}]})
    hz = build_horizon(demo, state, start=start, horizon_h=24, step="1h")
    mine = hz.sessions[(hz.sessions["group"] == "staff-ac")
                       & (hz.sessions["pile"] == later["pile"])]
    assert mine.iloc[0]["id"] == "night-owl" and mine.iloc[0]["arrival"] == pd.Timestamp(start)
    assert not (mine["arrival"] == later["arrival"]).any()
    assert any("occupied" in w for w in hz.warnings)
    assert (hz.sessions["arrival"] >= pd.Timestamp(start)).all()


# -- forecasts -----------------------------------------------------------------------------------
def test_hourly_forecast_is_held_on_quarter_hours_and_quarter_hours_are_averaged(tmp_path):
    hourly = pd.DataFrame({"time": pd.date_range("2025-07-01", periods=3, freq="h"),
                           "load_kw": [10.0, 20.0, 30.0]})
    t15 = pd.date_range("2025-07-01", periods=12, freq="15min")
    fc = read_forecast(hourly, t15, 0.25, [])
    assert fc.values["load_kw"].tolist() == [10.0] * 4 + [20.0] * 4 + [30.0] * 4
    quarter = pd.DataFrame({"time": t15, "load_kw": np.arange(12.0)})
    path = tmp_path / "f.csv"
    quarter.to_csv(path, index=False)
    fc = read_forecast(path, t15[::4], 1.0, [])
    assert fc.values["load_kw"].tolist() == [1.5, 5.5, 9.5]


@pytest.mark.parametrize("frame, field", [
    (pd.DataFrame({"time": pd.date_range("2025-07-01", periods=2, freq="h"), "load_kw": 1.0}),
     "forecast.load_kw"),  # does not cover the horizon
    (pd.DataFrame({"time": pd.date_range("2025-07-01", periods=4, freq="h"), "lod_kw": 1.0}),
     "forecast.lod_kw"),  # typo
    (pd.DataFrame({"time": pd.date_range("2025-07-01", periods=4, freq="h"),
                   "load_kw": [1.0, np.nan, 1.0, 1.0]}), "forecast.load_kw"),
    (pd.DataFrame({"time": pd.date_range("2025-07-01", periods=4, freq="h"),
                   "pv_kw": [1.0, np.inf, 1.0, 1.0]}), "forecast.pv_kw"),  # non-finite
])
def test_bad_forecast_names_the_column(frame, field):
    with pytest.raises(ScenarioError) as err:
        read_forecast(frame, pd.date_range("2025-07-01", periods=4, freq="h"), 1.0, ["roof"])
    assert err.value.field == field


# -- forecast sanity (rules in docs/operations.md "Forecast sanity") ---------------------------
CLEARSKY = {"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}}


def pv_park(**sections):
    """tiny_park with one array: 100 kW DC, AC limit 80 kW (clip at 80, refuse above 105 kW)."""
    return tiny_park(pv=[{"name": "roof", "capacity_kw": 100.0, "ac_limit_kw": 80.0}],
                     weather=CLEARSKY, **sections)


def pv_forecast(pv) -> pd.DataFrame:
    fc = tiny_forecast()
    fc["pv_kw"] = pv
    return fc


def sanity_horizon(sc, fc):
    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []})
    return build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                         forecast=fc)


def test_pv_above_the_ac_limit_is_clipped_and_listed_in_the_metadata():
    pv = np.zeros(24)
    pv[11], pv[12], pv[13] = 95.0, 104.0, 80.0  # 95, 104 > AC 80 and ≤ 105 (105 % of 100)
    pv[2] = -1.5  # night: −1.5 ≥ −2 % × 80 = −1.6 kW → clipped to 0
    hz = sanity_horizon(pv_park(), pv_forecast(pv))
    assert hz.forecast_error is None
    got = hz.prof.pv_avail_kw.sum(axis=0)
    assert got[11] == got[12] == got[13] == 80.0 and got[2] == 0.0
    fixes = {c["rule"]: c for c in hz.forecast.corrections}
    assert fixes["pv_above_ac_limit"] == {
        "column": "pv_kw", "rule": "pv_above_ac_limit", "action": "clipped", "steps": 2,
        "first": "2025-07-01T11:00:00", "worst_value": 104.0, "limit": 80.0, "max_change": 24.0}
    assert fixes["negative_pv"]["steps"] == 1 and fixes["negative_pv"]["max_change"] == 1.5
    assert any(w.startswith("forecast.pv_kw: 2 step(s) clipped to 80") for w in hz.warnings)
    s = tiny_schedule(pv_park(), forecast=pv_forecast(pv))
    full_validate(s.doc)
    meta = s.doc["metadata"]
    assert not meta["fallback"] and s.doc["schema_version"] == "1.2.0"
    assert [c["rule"] for c in meta["forecast_corrections"]] == ["negative_pv",
                                                                 "pv_above_ac_limit"]
    pv_out = np.array([iv["pv_kw"] for iv in s.doc["intervals"]])
    assert pv_out.max() <= 80.0 + 1e-6
    # a clean forecast: no corrections, an empty list
    assert tiny_schedule(pv_park()).doc["metadata"]["forecast_corrections"] == []


@pytest.mark.parametrize("column, values, field, shown", [
    ("pv_kw", {12: 106.0}, "forecast.pv_kw", "106 at 2025-07-01 12:00:00"),  # > 105 % of 100
    ("pv_kw", {3: -1.7}, "forecast.pv_kw", "-1.7 at 2025-07-01 03:00:00"),  # < −2 % of 80
    ("load_kw", {5: -3.0}, "forecast.load_kw", "-3 at 2025-07-01 05:00:00"),  # sign error
    ("load_kw", {7: np.nan}, "forecast.load_kw", "row 8"),  # non-finite
    ("load_kw", {7: np.inf}, "forecast.load_kw", "row 8"),
])
def test_refused_forecast_names_column_time_value_and_still_publishes_the_fallback(
        column, values, field, shown):
    fc = pv_forecast(np.zeros(24))
    for i, x in values.items():
        fc.loc[i, column] = x
    hz = sanity_horizon(pv_park(), fc)
    assert hz.forecast_error.startswith(field) and shown in hz.forecast_error
    assert "\n" not in hz.forecast_error  # one line
    s = tiny_schedule(pv_park(), forecast=fc)
    meta = check_fallback(s, pv_park())
    assert meta["reasons"][0].startswith("forecast rejected: " + field)
    assert meta["forecast_corrections"] == [] and meta["inputs"]["forecast_used"] is False


def test_load_in_mw_is_refused_by_the_magnitude_rule():
    # the scenario's own load peaks at 800 kW; a forecast of 0.8 (MW) is 0.1 % of it, below 1 %
    sc = pv_park(loads={"source": "synthetic", "peak_kw": 800.0})
    own = sanity_horizon(sc, None).base.load_kw.max()
    fc = tiny_forecast(load=np.full(24, own / 1000))
    hz = sanity_horizon(sc, fc)
    assert hz.forecast_error.startswith("forecast.load_kw") and "MW instead of kW" in \
        hz.forecast_error
    # 2 % of the scenario's own maximum is a (very low) load, not a unit error: accepted
    assert sanity_horizon(sc, tiny_forecast(load=np.full(24, own / 50))).forecast_error is None


def test_cli_schedule_with_a_refused_forecast_publishes_the_fallback(tmp_path):
    sc_path = tmp_path / "park.yaml"
    sc_path.write_text(yaml.safe_dump(tiny_dict(24, storage=[battery(energy_kwh=20, power_kw=10)],
                                                pv=[{"name": "roof", "capacity_kw": 100.0,
                                                     "ac_limit_kw": 80.0}], weather=CLEARSKY)))
    fc = pv_forecast(np.zeros(24))
    fc.loc[4, "pv_kw"] = -50.0
    fc.to_csv(tmp_path / "fc.csv", index=False)
    state = tmp_path / "state.json"
    runner = CliRunner()
    assert runner.invoke(main, ["ledger", "init", str(sc_path), "--as-of", "2025-07-01T00:00",
                                "-o", str(state)]).exit_code == 0
    out = runner.invoke(main, ["schedule", str(sc_path), "--start", "2025-07-01T00:00",
                               "--horizon", "24h", "--step", "1h", "--state", str(state),
                               "--forecast", str(tmp_path / "fc.csv"), "-o",
                               str(tmp_path / "out")])
    assert out.exit_code == 4, out.output
    line = [x for x in out.output.splitlines() if x.startswith("fallback: forecast rejected")]
    assert line == ["fallback: forecast rejected: forecast.pv_kw: got '-50 at 2025-07-01 "
                    "04:00:00'; ≥ -1.6 kW (−2 % of the rating; smaller negatives are clipped "
                    "to 0)"]
    assert read_schedule(tmp_path / "out" / "schedule-20250701T0000.json")["metadata"][
        "fallback"] is True


def test_intra_step_peak_bills_the_scenarios_quarter_hour_peak_on_the_forecast_load():
    # no storage: the plan imports the forecast load, 50 kW flat. Billed as hourly averages the
    # horizon's peak is 50 kW; with the scenario's intra-hour peak ratio r_t it is 50 × max r_t
    sc = tiny_park(storage=[])
    state = state_from_dict({"ev_plugged": []})
    flat = tiny_forecast(load=np.full(24, 50.0))
    # "average" is no longer the default (since schedule format 1.2 "scenario" is): asked for
    avg = make_schedule(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                        forecast=flat, created_at=CREATED, margins=Margins.off(),
                        intra_step_peak="average")
    hz = build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                       forecast=flat, intra_step_peak="scenario")
    ratio = hz.prof.peak_ratio
    assert ratio is not None and ratio.min() >= 1.0 and ratio.max() > 1.0
    np.testing.assert_array_equal(ratio, hz.base.peak_ratio)  # the scenario's, kept
    assert build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                         forecast=flat, intra_step_peak="average").prof.peak_ratio is None
    default = build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                            forecast=flat)  # the default bills the scenario's intra-step peak
    np.testing.assert_array_equal(default.prof.peak_ratio, ratio)
    quarter = make_schedule(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                            forecast=flat, created_at=CREATED, margins=Margins.off(),
                            intra_step_peak="scenario")
    peak = lambda s: s.doc["metadata"]["expected"]["peak_import_kw"]["2025-07"]  # noqa: E731
    assert peak(avg) == pytest.approx(50.0, abs=1e-6)
    assert peak(quarter) == pytest.approx(50.0 * ratio.max(), abs=1e-6)
    np.testing.assert_allclose(imports(quarter.doc), 50.0, atol=1e-6)
    with pytest.raises(ScenarioError, match="--intra-step-peak"):
        build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h",
                      intra_step_peak="max")


def test_horizon_end_reference_ends_at_the_scenarios_soc_not_the_states():
    # battery 20 kWh, scenario soc_initial 0.5, at_least_initial; the state says 0.9 (18 kWh).
    # Flat price 1 CNY/kWh and a 40 CNY/kW demand charge: discharging only saves money, so the
    # plan ends at the lowest SOC its end rule allows — 0.9 under "state" (the state's SOC),
    # 0.5 under "reference" (the scenario's soc_initial)
    state = state_from_dict({"storage": {"bat": {"soc": 0.9}}, "ev_plugged": []})
    end = {}
    for rule in ("state", "reference"):
        s = tiny_schedule(state=state, horizon_end=rule)
        assert s.doc["metadata"]["horizon_end"] == rule and not s.fallback
        full_validate(s.doc)
        end[rule] = s.doc["intervals"][-1]["storage"]["bat"]["soc"]
    assert end["state"] == pytest.approx(0.9, abs=1e-6)
    assert end["reference"] == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(ScenarioError, match="--horizon-end"):
        tiny_schedule(horizon_end="free")


def test_irradiance_forecast_goes_through_pvlib(demo):
    state = state_from_dict({"ev_plugged": []})
    base = build_horizon(demo, state, start="2026-06-01T00:00", horizon_h=24, step="1h")
    ghi = np.clip(900 * np.sin((np.arange(24) + 0.5 - 6) / 12 * np.pi), 0, None)
    fc = pd.DataFrame({"time": base.prof.time, "ghi": ghi, "temp_air": 25.0})
    bright = build_horizon(demo, state, start="2026-06-01T00:00", horizon_h=24, step="1h",
                           forecast=fc).prof.pv_avail_kw[0]
    fc["ghi"] = ghi / 2
    dim = build_horizon(demo, state, start="2026-06-01T00:00", horizon_h=24, step="1h",
                        forecast=fc).prof.pv_avail_kw[0]
    assert bright[:5].max() == 0 and bright[20:].max() == 0
    assert 0.5 * demo.pv[0].ac_limit_kw < bright[12] <= demo.pv[0].ac_limit_kw + 1e-6
    assert (dim <= bright + 1e-9).all() and dim[12] < 0.7 * bright[12]


# -- month-to-date peak (hand-checked) -----------------------------------------------------------
def test_month_to_date_peak_is_never_paid_again():
    """No peak yet: the cheapest peak is 155/3 kW (battery 10 kWh down at 18–20 h, recharged
    within the 20 kWh cap), so objective = 1220 kWh × 1 + 40 × 155/3. With 55 kW already billed
    this month, keeping import ≤ 55 kW costs nothing more: objective = 1220 and no incremental
    demand charge; with 70 kW billed the 60 kW load needs no shaving at all."""
    free = tiny_schedule()
    meta = free.doc["metadata"]
    assert meta["objective"] == pytest.approx(1220 + 40 * 155 / 3, rel=1e-6)
    assert imports(free.doc).max() == pytest.approx(155 / 3, abs=2e-3)
    for floor, peak in ((55.0, 55.0), (70.0, 60.0)):
        state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": [],
                                 "month_to_date": {"month": "2025-07", "peak_import_kw": floor}})
        s = tiny_schedule(state=state)
        m = s.doc["metadata"]
        assert m["objective"] == pytest.approx(1220.0, rel=1e-6)
        assert m["expected"]["demand_charge_incremental"] == pytest.approx(0.0, abs=1e-6)
        assert m["expected"]["month_peak_floor_kw"] == {"2025-07": floor}
        assert imports(s.doc).max() <= peak + 2e-3


def test_a_past_months_peak_is_not_carried_into_a_new_month():
    state = state_from_dict({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": [],
                             "month_to_date": {"month": "2025-06", "peak_import_kw": 70.0}})
    s = tiny_schedule(state=state)
    assert s.doc["metadata"]["expected"]["month_peak_floor_kw"] == {"2025-07": 0.0}
    assert s.doc["metadata"]["objective"] == pytest.approx(1220 + 40 * 155 / 3, rel=1e-6)


# -- annual targets pro rata ---------------------------------------------------------------------
def test_year_to_date_green_deficit_is_bought_back_pro_rata():
    """Hard 50 % green share, no PV, certificates 5 CNY/MWh, 240 kWh load. Alone the horizon needs
    0.12 MWh; with a 100 kWh deficit carried and the period ending with the horizon, 0.22 MWh."""
    sc = scenario_from_dict(tiny_dict(
        24, grid={"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 0.0},
        green_power={"certificates": {"price_per_mwh": 5.0}},
        targets={"green_share": {"value": 0.5, "mode": "hard"}}))
    flat = tiny_forecast(load=np.full(24, 10.0))
    alone = tiny_schedule(sc, state_from_dict({"ev_plugged": []}), flat)
    assert alone.doc["metadata"]["expected"]["certificates_mwh"] == pytest.approx(0.12)
    assert alone.doc["metadata"]["objective"] == pytest.approx(240 + 0.12 * 5)
    behind = state_from_dict({"ev_plugged": [], "ledger": {
        "period_start": "2025-01-01", "period_end": "2025-07-02", "through": "2025-07-01",
        "consumption_kwh": 200.0, "green_kwh": 0.0}})
    s = tiny_schedule(sc, behind, flat)
    m = s.doc["metadata"]
    assert m["targets"]["green_deficit_kwh"] == pytest.approx(100.0)
    assert m["expected"]["certificates_mwh"] == pytest.approx(0.22)
    assert m["objective"] == pytest.approx(240 + 0.22 * 5)


def test_pro_rata_shares(demo):
    # the ledger counts fixed fuels for the past part of the year: the demo's gas as a fixed
    # fuel again (its heat section's fuel is a model decision, not in the ledger; warned)
    sc = demo.replace({"targets.emission_cap": {"value_t": 1000.0, "mode": "soft"},
                       "heat": None, "fuels": {"natural_gas_m3_per_year": 2_000_000}})
    state = state_from_dict({"ledger": {
        "period_start": "2026-01-01", "period_end": "2027-01-01", "through": "2026-12-30",
        "consumption_kwh": 1000.0, "green_kwh": 300.0, "certificates_mwh": 0.0,
        "import_kwh": 700.0, "emissions_kg": 400_000.0}})
    pr = pro_rata(sc, state, pd.Timestamp("2026-12-30"), 24.0)
    assert pr.share == pytest.approx(0.5)  # 24 h of the 48 h left in the year
    assert pr.carry["targets.green_share"] == pytest.approx(-0.5 * (0.35 * 1000 - 300))
    fuel_kg = 2_000_000 * 2.162 * 363 * 24 / 8760  # natural gas to 30 December
    budget = 0.5 * (1_000_000 - 400_000 - fuel_kg)
    assert pr.info["emission_budget_kg"] == pytest.approx(budget)
    assert pr.carry["targets.emission_cap"] == pytest.approx(1_000_000 - budget)
    assert not [w for w in pr.warnings if w.startswith("heat")]
    with_heat = pro_rata(demo, state, pd.Timestamp("2026-12-30"), 24.0)
    assert [w for w in with_heat.warnings if w.startswith("heat: the fuel")]


# -- the demo schedule: schema, per-pile setpoints, EVs served, DR, balance ----------------------
def test_demo_schedule_is_optimal_and_valid(demo_schedule):
    s, doc, out = demo_schedule
    meta = doc["metadata"]
    full_validate(doc)
    assert meta["status"] == "optimal" and meta["fallback"] is False and meta["reasons"] == []
    assert meta["n_intervals"] == 192 and meta["step"] == "15min" and meta["horizon_h"] == 48
    assert meta["inputs"]["forecast_used"] and "load_kw" in meta["inputs"]["forecast_columns"]
    assert meta["gap"] <= 1e-3
    piles = {g: len(doc["intervals"][0]["ev_piles_kw"][g]) for g in ("staff-ac", "fleet-dc")}
    assert piles == {"staff-ac": 160, "fleet-dc": 40}
    frame = pd.read_csv(out / "schedule-20261129T0000.csv")
    assert len(frame) == 192 and frame.filter(like="ev_pile_kw[").shape[1] == 200
    np.testing.assert_allclose(frame["grid_import_kw"], imports(doc))
    assert not list(out.glob(".*.tmp"))


def test_pile_setpoints_respect_pile_power_and_every_ev_is_served(demo_schedule, demo):
    _, doc, _ = demo_schedule
    start, dt = pd.Timestamp("2026-11-29"), 0.25
    groups = {g.name: g for g in demo.ev.groups}
    for name, g in groups.items():
        p = np.array([iv["ev_piles_kw"][name] for iv in doc["intervals"]])
        assert p.min() >= 0 and p.max() <= g.power_kw + 1e-3
    assert doc["metadata"]["expected"]["ev_unmet_kwh"] < 1e-3
    by_pile: dict[tuple[str, int], np.ndarray] = {}
    for s in doc["ev_sessions"]:
        g = groups[s["group"]]
        cap = min(g.power_kw, s["max_power_kw"] / g.efficiency)
        power = np.zeros(192)
        power[s["first_interval"]:s["first_interval"] + len(s["power_kw"])] = s["power_kw"]
        assert power.max() <= cap + 1e-3
        a = max((local_time(s["arrival"]) - start) / pd.Timedelta(hours=1), 0.0)
        d = (local_time(s["departure"]) - start) / pd.Timedelta(hours=1)
        t = np.arange(192) * dt
        plugged = (t + dt > a) & (t < d)
        assert power[~plugged].max(initial=0.0) == 0.0  # only while plugged in
        wanted = min(s["energy_kwh"] / g.efficiency, cap * (d - a))
        if d <= 48:  # leaves inside the horizon: gets all it wants by departure
            assert s["planned_kwh"] == pytest.approx(wanted, abs=2e-3)
        key = (s["group"], s["pile"])
        by_pile[key] = by_pile.get(key, 0) + power
    for (name, pile), power in by_pile.items():  # piles carry exactly their sessions
        p = np.array([iv["ev_piles_kw"][name][pile] for iv in doc["intervals"]])
        np.testing.assert_allclose(p, power, atol=2e-3)
    plugged_now = {s["id"]: s for s in doc["ev_sessions"] if s["id"]}
    assert set(plugged_now) == {"van-17", "van-04", "car-a42"}
    assert plugged_now["van-04"]["planned_kwh"] == pytest.approx(12.0 / 0.95, abs=2e-3)


def test_demo_schedule_state_dr_peak_and_balance(demo_schedule, demo):
    _, doc, _ = demo_schedule
    meta = doc["metadata"]
    exp = meta["expected"]
    assert exp["month_peak_floor_kw"] == {"2026-11": 14800.0}
    charge = library_for(demo).get("tariffs", "jiangsu-2025", "t")["demand_charge_per_kw_month"]
    peak = imports(doc).max()
    assert exp["peak_import_kw"]["2026-11"] == pytest.approx(max(peak, 14800.0), abs=2e-3)
    assert exp["demand_charge_incremental"] == pytest.approx(
        charge * max(peak - 14800.0, 0.0), abs=0.1)
    dr = doc["assets"]["dr_events"]
    assert [(e["name"], e["committed"], e["accepted"]) for e in dr] == [
        ("grid-peak-cut-1130", True, True)]
    in_event = [iv for iv in doc["intervals"] if iv["dr"]]
    assert len(in_event) == 8 and in_event[0]["start"] == "2026-11-30T17:00:00+08:00"
    u = demo.storage[0]
    first = doc["intervals"][0]["storage"]["lfp-main"]["power_kw"]
    flow = first / u.discharge_efficiency if first > 0 else first * u.charge_efficiency
    soc = 0.42 * (1 - u.self_discharge_per_h * 0.25) - flow * 0.25 / u.energy_kwh
    assert doc["intervals"][0]["storage"]["lfp-main"]["soc"] == pytest.approx(soc, abs=1e-5)
    for iv in doc["intervals"]:
        supply = (iv["grid_import_kw"] - iv["grid_export_kw"] + iv["pv_kw"]
                  + iv["green_direct_kw"] + sum(u["power_kw"] for u in iv["storage"].values()))
        demand = (iv["load_kw"] + sum(iv["flex_kw"].values())
                  + sum(sum(p) for p in iv["ev_piles_kw"].values()))
        assert supply == pytest.approx(demand, abs=0.3)
        assert iv["emissions_kg"] == pytest.approx(
            iv["ef_kg_per_kwh"] * iv["grid_import_kw"] * 0.25, abs=2e-3)


def test_same_inputs_same_schedule(demo_schedule, demo):
    s, _, _ = demo_schedule
    again = make_schedule(demo, load_state(DATA / "state-demo.json"), start="2026-11-29T00:00",
                          horizon_h=48, step="15min", forecast=DATA / "forecast-demo-48h.csv",
                          created_at=CREATED)
    for doc in (s.doc, again.doc):
        doc["metadata"].pop("timings_s")
    assert again.doc == s.doc
    pd.testing.assert_frame_equal(again.frame, s.frame)


# -- always a plan -------------------------------------------------------------------------------
def check_fallback(s: Schedule, sc) -> dict:
    doc = s.doc
    full_validate(doc)
    meta = doc["metadata"]
    assert meta["fallback"] is True and meta["objective"] is None and meta["reasons"]
    assert (s.frame["fallback"] == 1).all()
    for u in sc.storage:
        soc = np.array([iv["storage"][u.name]["soc"] for iv in doc["intervals"]])
        assert soc.min() >= u.soc_min - 1e-6 and soc.max() <= u.soc_max + 1e-6
    assert imports(doc).max() <= sc.grid.import_limit_kw + 1e-6
    return meta


def test_time_limit_zero_gives_the_rule_based_fallback(demo):
    state = load_state(DATA / "state-demo.json")
    s = make_schedule(demo, state, start="2026-11-29T00:00", horizon_h=24, step="15min",
                      time_limit_s=0.0, created_at=CREATED)
    meta = check_fallback(s, demo)
    assert meta["status"] == "no_solution" and "no_solution" in meta["reasons"][0]
    assert meta["expected"]["ev_unmet_kwh"] < 1e-3
    # EVs charge as early as pile and car allow: at full power from arrival until served
    for sess in s.doc["ev_sessions"]:
        g = next(g for g in demo.ev.groups if g.name == sess["group"])
        cap = min(g.power_kw, sess["max_power_kw"] / g.efficiency)
        full = [p for p in sess["power_kw"][1:-1] if p > 0]
        if sess["planned_kwh"] > cap * 0.75:  # needs more than three quarters of an hour
            assert full and max(full) == pytest.approx(cap, abs=2e-3)
    flex = [iv["flex_kw"]["dc-data-hall"] for iv in s.doc["intervals"]]
    assert flex == pytest.approx([1600.0] * 96)  # 38.4 MWh / 24 h, flat


def test_infeasible_model_gives_the_fallback():
    sc = tiny_park(targets={"emission_cap": {"value_t": 0.0, "mode": "hard"}})
    s = tiny_schedule(sc)
    meta = check_fallback(s, sc)
    assert meta["status"] == "infeasible" and "infeasible" in meta["reasons"][0]
    # TOU rule on a flat price: the battery only soaks surplus, so import follows the load
    np.testing.assert_allclose(imports(s.doc), tiny_forecast()["load_kw"], atol=1e-3)


@pytest.mark.parametrize("price, reason", [
    (620.0, "forecast.import_price_per_kwh"),  # CNY/MWh entered as CNY/kWh
    (np.nan, "forecast.import_price_per_kwh"),
])
def test_rejected_forecast_gives_the_fallback(price, reason):
    s = tiny_schedule(forecast=tiny_forecast(price=price))
    meta = check_fallback(s, tiny_park())
    assert meta["status"] == "not_solved" and meta["inputs"]["forecast_used"] is False
    assert meta["reasons"][0].startswith("forecast rejected: " + reason)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-20, 40), min_size=6, max_size=30),
       st.lists(st.floats(0.1, 2.0), min_size=6, max_size=30),
       st.floats(0.0, 1.0))
def test_tou_rule_stays_within_the_soc_window(net, price, soc0):
    n = min(len(net), len(price))
    unit = battery(energy_kwh=30, power_kw=8, soc_initial=min(max(soc0, 0.1), 0.9),
                   soc_min=0.1, soc_max=0.9, charge_efficiency=0.95, discharge_efficiency=0.9,
                   self_discharge_per_h=0.001)
    sc = scenario_from_dict(tiny_dict(n, storage=[unit]))
    prof = tiny_profiles(np.zeros(n), price[:n])
    ch, dis, soc = storage_tou(sc, prof, np.array(net[:n]), np.zeros(n, bool))
    assert soc.min() >= 3.0 - 1e-9 and soc.max() <= 27.0 + 1e-9
    assert (np.minimum(ch, dis) == 0).all() and ch.max() <= 8 + 1e-9
    assert (dis <= np.maximum(np.array(net[:n]), 0) + 1e-9).all()  # never into export


# -- publishing ----------------------------------------------------------------------------------
def test_fallback_never_replaces_a_good_schedule_and_broken_ones_are_not_written(tmp_path):
    good = tiny_schedule()
    json_path, csv_path = publish(good, tmp_path)
    assert json_path.name == "schedule-20250701T0000.json" and csv_path.suffix == ".csv"
    before = json_path.read_bytes()
    full_validate(read_schedule(json_path))
    bad = tiny_schedule(forecast=tiny_forecast(price=620.0))
    paths = publish(bad, tmp_path)
    assert paths[0].name == "schedule-20250701T0000.fallback.json"
    assert json_path.read_bytes() == before
    assert "was kept" in read_schedule(paths[0])["metadata"]["warnings"][-1]
    broken = tiny_schedule()
    broken.doc["intervals"][3]["grid_import_kw"] = -5.0
    with pytest.raises(InvalidScheduleError, match="intervals/3/grid_import_kw"):
        publish(broken, tmp_path)
    assert json_path.read_bytes() == before
    # the current plan and the fallback, each with its CSV metadata sidecar, and both as
    # immutable revisions (r1 the optimised plan, r2 the fallback; the broken one wrote nothing)
    stem = "schedule-20250701T0000"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{stem}{kind}{ext}" for kind in ("", ".fallback", ".r1", ".r2")
        for ext in (".csv", ".json", ".meta.json", ".long.csv"))
    assert read_schedule(tmp_path / f"{stem}.r1.json")["metadata"]["revision"] == 1
    assert read_schedule(paths[0])["metadata"]["revision"] == 2
    rerun = tiny_schedule()  # a rerun of the same day: revision 3 becomes the current plan
    publish(rerun, tmp_path)
    assert read_schedule(json_path)["metadata"]["revision"] == 3
    assert (tmp_path / f"{stem}.r1.json").read_bytes() == before  # the previous one is kept
    side = json.loads((tmp_path / f"{stem}.meta.json").read_text())
    assert side["revision"] == 3 and side["time_zone"] == "UTC+08:00" and side["status"] == (
        "optimal")


def test_long_csv_has_a_metadata_header_and_one_row_per_interval_and_device(tmp_path):
    good = tiny_schedule()
    publish(good, tmp_path)
    path = tmp_path / "schedule-20250701T0000.long.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == '# schema: "zeropark.schedule.long"'
    assert lines[1] == '# schema_version: "1.2.0"' and '# fallback: false' in lines
    assert lines[len(LONG_HEADER_KEYS)] == ",".join(LONG_COLUMNS)
    meta, rows = read_long_csv(path)
    assert meta["status"] == "optimal" and meta["revision"] == 1 and meta["fallback"] is False
    assert meta["valid_from"] == "2025-07-01T00:00:00+08:00"
    assert meta["valid_to"] == "2025-07-02T00:00:00+08:00"
    assert meta["created_at"] == CREATED
    # tiny park: one battery and the grid, no DR → 24 intervals × 3 devices
    assert len(rows) == 72 and list(rows.columns) == list(LONG_COLUMNS)
    assert rows["device_id"].iloc[:3].tolist() == ["grid/import", "grid/export", "storage/bat"]
    assert (rows["unit"] == "kW").all()
    bat = rows[rows["device_id"] == "storage/bat"]
    assert (bat["kind"] == "setpoint").all()
    assert (bat["sign_convention"] == "+ discharge, - charge").all()
    np.testing.assert_allclose(bat["value_kw"], good.frame["storage_kw[bat]"], atol=1e-9)
    assert bat["time"].tolist() == good.frame["start"].tolist()
    assert bat["time"].iloc[0] == "2025-07-01T00:00:00+08:00"
    # pandas alone reads the rows too
    plain = pd.read_csv(path, comment="#")
    assert len(plain) == 72 and plain["value_kw"].sum() == pytest.approx(rows["value_kw"].sum())
    # a fallback says so in its header
    publish(tiny_schedule(forecast=tiny_forecast(price=620.0)), tmp_path)
    meta, _ = read_long_csv(tmp_path / "schedule-20250701T0000.fallback.long.csv")
    assert meta["fallback"] is True and meta["revision"] == 2 and meta["status"] == "not_solved"


def test_long_csv_of_the_demo_holds_every_pile_and_the_dr_cap(demo_schedule):
    s, doc, out = demo_schedule
    meta, rows = read_long_csv(out / "schedule-20261129T0000.long.csv")
    T = len(doc["intervals"])
    piles = sum(g["piles"] for g in doc["assets"]["ev_groups"])
    setpoints = rows[rows["kind"] == "setpoint"]
    n_dev = len(doc["assets"]["storage"]) + len(doc["assets"]["flexible_loads"]) + piles
    assert len(setpoints) == T * n_dev and piles == 200
    cap_steps = int(np.isfinite(s.frame["dr_import_cap_kw"].to_numpy(float)).sum())
    assert cap_steps > 0 and (rows["kind"] == "limit").sum() == cap_steps
    wide = setpoints.pivot(index="time", columns="device_id", values="value_kw")
    np.testing.assert_allclose(wide["ev_pile/" + doc["assets"]["ev_groups"][0]["name"] + "/0"],
                               s.frame["ev_pile_kw[" + doc["assets"]["ev_groups"][0]["name"]
                                       + "/0]"], atol=1e-9)
    assert meta["revision"] == doc["metadata"]["revision"]
    # the hand-formatted text is exactly pandas' CSV of the long table
    text = (out / "schedule-20261129T0000.long.csv").read_text()
    assert text.split("\n", len(LONG_HEADER_KEYS))[-1] == long_table(s.frame).to_csv(
        index=False, lineterminator="\n")


# -- closing the loop ----------------------------------------------------------------------------
def test_ledger_update_rolls_actuals_into_the_state(demo_schedule):
    s, doc, _ = demo_schedule
    state = load_state(DATA / "state-demo.json")
    n = 96
    plan = s.plan
    act = pd.DataFrame({
        "time": pd.date_range("2026-11-29", periods=n, freq="15min"),
        "grid_import_kw": plan.grid_import_kw[:n] * 1.1,
        "grid_export_kw": 0.0,
        "soc[lfp-main]": 0.6,
    })
    up = update_state(state, read_actuals(act), doc, certificates_mwh=2.0)
    new, lg, old = up.state, up.state.ledger, state.ledger
    imp_kwh = float(act["grid_import_kw"].sum()) * 0.25
    pv_kwh = sum(iv["pv_kw"] for iv in doc["intervals"][:n]) * 0.25
    ef = np.array([iv["ef_kg_per_kwh"] for iv in doc["intervals"][:n]])
    assert new.as_of == "2026-11-30T00:00:00" and lg.through == "2026-11-30T00:00:00"
    assert lg.import_kwh == pytest.approx(old.import_kwh + imp_kwh)
    assert lg.consumption_kwh == pytest.approx(old.consumption_kwh + imp_kwh + pv_kwh, rel=1e-9)
    assert lg.emissions_kg == pytest.approx(
        old.emissions_kg + float((ef * act["grid_import_kw"]).sum()) * 0.25, rel=1e-6)
    assert lg.certificates_mwh == old.certificates_mwh + 2.0
    assert new.storage["lfp-main"].soc == 0.6
    assert new.month_to_date.peak_import_kw == pytest.approx(
        max(14800.0, act["grid_import_kw"].max()))
    assert [e.name for e in new.dr_committed] == ["grid-peak-cut-1130"]
    end = pd.Timestamp("2026-11-30")
    still = [x for x in doc["ev_sessions"]
             if local_time(x["arrival"]) < end < local_time(x["departure"])]
    assert len(new.ev_plugged) == len(still)
    assert up.drift["grid_import"]["drift_pct"] == pytest.approx(10.0, abs=0.01)
    assert up.drift["intervals"] == n
    again = update_state(new, read_actuals(act), doc)  # the same day twice: counted once
    assert again.state.ledger.import_kwh == lg.import_kwh
    assert "already in the ledger" in again.warnings[0]


def test_ledger_starts_a_new_period_at_its_end():
    state = state_from_dict({"ledger": {"period_start": "2025-01-01", "period_end": "2026-01-01",
                                        "through": "2025-12-31T22:00", "import_kwh": 5.0}})
    act = pd.DataFrame({"time": pd.date_range("2025-12-31T22:00", periods=4, freq="h"),
                        "grid_import_kw": 10.0, "ef_kg_per_kwh": 0.5})
    up = update_state(state, read_actuals(act))
    lg = up.state.ledger
    assert lg.period_start == "2026-01-01T00:00:00" and lg.import_kwh == 20.0
    assert lg.emissions_kg == 10.0 and up.state.month_to_date.month == "2026-01"


def test_bad_actuals_are_refused():
    t = pd.date_range("2026-11-29", periods=4, freq="h")
    with pytest.raises(ScenarioError, match="actuals.grid_import_kw"):
        read_actuals(pd.DataFrame({"time": t, "grid_import_kw": [1.0, -2.0, 1.0, 1.0]}))
    with pytest.raises(ScenarioError, match="actuals.time"):
        read_actuals(pd.DataFrame({"time": t[[0, 1, 3]], "grid_import_kw": 1.0}))
    with pytest.raises(ScenarioError, match="ef_kg_per_kwh"):  # no factor and no plan
        update_state(state_from_dict({}), read_actuals(
            pd.DataFrame({"time": t, "grid_import_kw": 1.0})))


# -- flexible loads' power across nights ---------------------------------------------------------
def _hall_park():
    # 50 kW base load and a 0–20 kW hall with ramp 5 kW/h that must draw 240 kWh per day;
    # no battery, no demand charge: the hall alone decides when to draw
    hall = {"name": "hall", "max_power_kw": 20.0, "ramp_kw_per_h": 5.0,
            "energy_per_window_kwh": 240.0, "window_h": 24}
    grid = {"import_limit_kw": 1000.0, "demand_charge_per_kw_month": 0.0}
    return tiny_park(storage=[], grid=grid, flexible_loads=[hall])


def _hall_prices() -> np.ndarray:
    # day 1: 1 CNY/kWh, 0.5 from 20 h; day 2: 3 CNY/kWh until 4 h, then 1
    price = np.ones(48)
    price[20:24] = 0.5
    price[24:28] = 3.0
    return price


def test_second_night_starts_within_the_ramp_of_the_first_nights_last_power():
    sc = _hall_park()
    prof = tiny_profiles(np.full(48, 50.0), _hall_prices())
    rep = replay(sc, prof, start="2025-07-01T00:00", days=2, horizon_h=24)
    first, second = (s.plan.flex_kw[0] for s in rep.schedules)
    assert rep.states[0].flex_power_kw is None  # night one: unknown, its first step is free
    # Night 1 sees only day 1: the 4 cheap hours take the full 20 kW (80 kWh; the other 160 kWh
    # fit before at any ramp-feasible shape), so the last executed power is 20 kW.
    assert first[20:] == pytest.approx([20.0] * 4, abs=1e-6)
    assert rep.states[1].flex_power_kw["hall"] == pytest.approx(20.0, abs=1e-6)
    # Night 2 from 20 kW, ramp 5 kW per hourly step: the dear hours cannot drop to 0 at once,
    # the least it can draw is 15, 10, 5, 0 kW (30 kWh at 3 CNY instead of none).
    assert second[:4] == pytest.approx([15.0, 10.0, 5.0, 0.0], abs=1e-6)
    assert abs(second[0] - first[-1]) <= 5.0 + 1e-6
    # the same night without the carried power jumps 20 kW at midnight
    blind = rep.states[1].model_copy(update={"flex_power_kw": None})
    alone = make_schedule(sc, blind, start="2025-07-02T00:00", horizon_h=24, step="1h",
                          forecast=forecast_frame(prof, sc, pd.Timestamp("2025-07-02"), 24),
                          created_at=CREATED)
    assert alone.plan.flex_kw[0, :4] == pytest.approx([0.0] * 4, abs=1e-6)
    assert rep.schedules[1].doc["metadata"]["expected"]["energy_cost"] == pytest.approx(
        alone.doc["metadata"]["expected"]["energy_cost"] + 30.0 * 3.0 - 30.0 * 1.0, abs=1e-4)


def test_ledger_update_carries_the_flexible_loads_last_power():
    sc = _hall_park()
    fc = tiny_forecast(price=_hall_prices()[:24])
    state = state_from_dict({"ev_plugged": []})
    s = tiny_schedule(sc, state, forecast=fc)
    planned = s.doc["intervals"][-1]["flex_kw"]["hall"]
    act = pd.DataFrame({"time": pd.date_range("2025-07-01", periods=24, freq="h"),
                        "grid_import_kw": 60.0})
    # metered power wins over the plan
    up = update_state(state, read_actuals(act.assign(**{"flex_kw[hall]": 12.5})), s.doc)
    assert up.state.flex_power_kw == {"hall": 12.5}
    # not metered: the plan's setpoint of the last executed interval (hourly actuals of a plan)
    up = update_state(state, read_actuals(act), s.doc)
    assert planned == pytest.approx(20.0, abs=1e-3)
    assert up.state.flex_power_kw == {"hall": planned}
    assert "power of flexible load 'hall' taken from the plan" in up.warnings
    # neither: unknown again, never a stale value
    known = state_from_dict({"flex_power_kw": {"hall": 7.0}})
    up = update_state(known, read_actuals(act.assign(ef_kg_per_kwh=0.5)))
    assert up.state.flex_power_kw is None
    assert any("no power for flexible load 'hall'" in w for w in up.warnings)
    with pytest.raises(ScenarioError, match=r"actuals.flex_kw\[hall\]"):
        read_actuals(act.assign(**{"flex_kw[hall]": -1.0}))


def test_state_power_outside_the_band_is_clamped_with_a_warning():
    sc = _hall_park()
    state = state_from_dict({"ev_plugged": [], "flex_power_kw": {"hall": 35.0}})
    hz = build_horizon(sc, state, start="2025-07-01T00:00", horizon_h=24, step="1h")
    assert hz.flex_initial_kw == pytest.approx([20.0])
    assert any("outside its band" in w for w in hz.warnings)


# -- CLI -----------------------------------------------------------------------------------------
def _tiny_yaml(path: Path, **sections) -> Path:
    data = tiny_dict(24, storage=[battery(energy_kwh=20, power_kw=10, soc_initial=0.5)],
                     grid={"import_limit_kw": 1000.0}, **sections)
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_schedule_ledger_round_trip(tmp_path):
    runner = CliRunner()
    sc = _tiny_yaml(tmp_path / "park.yaml")
    state = tmp_path / "state.json"
    r = runner.invoke(main, ["ledger", "init", str(sc), "--as-of", "2025-07-01T00:00",
                             "-o", str(state)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["ledger", "init", str(sc), "--as-of", "2025-07-01", "-o", str(state)])
    assert r.exit_code == 2 and "--force" in r.output
    out = tmp_path / "out"
    r = runner.invoke(main, ["schedule", str(sc), "--start", "2025-07-01T00:00", "--horizon",
                             "24h", "--step", "1h", "--state", str(state), "-o", str(out)])
    assert r.exit_code == 0, r.output
    doc = read_schedule(out / "schedule-20250701T0000.json")
    full_validate(doc)
    frame = pd.read_csv(out / "schedule-20250701T0000.csv")
    actuals = frame[["start", "grid_import_kw", "ef_kg_per_kwh"]].rename(columns={"start": "time"})
    actuals["grid_import_kw"] *= 1.2
    actuals.iloc[:12].to_csv(tmp_path / "actuals.csv", index=False)
    r = runner.invoke(main, ["ledger", "update", "--state", str(state), "--actuals",
                             str(tmp_path / "actuals.csv"), "--schedule", str(out),
                             "--report", str(tmp_path / "drift.json")])
    assert r.exit_code == 0, r.output
    assert "+20.0 %" in r.output
    new = load_state(state)
    assert new.as_of == "2025-07-01T12:00:00" and new.ledger.import_kwh > 0
    assert json.loads((tmp_path / "drift.json").read_text())["drift"]["intervals"] == 12
    # the same update again: the intervals are already in the ledger, and the plan was given
    r = runner.invoke(main, ["ledger", "update", "--state", str(state), "--actuals",
                             str(tmp_path / "actuals.csv"), "--schedule", str(out)])
    assert r.exit_code == 0, r.output
    assert "already in the ledger" in r.output and "no plan given" not in r.output
    assert "drift: nothing to compare (no new interval covered by the plan" in r.output
    assert load_state(state).ledger.import_kwh == new.ledger.import_kwh


def test_cli_exit_codes_fallback_and_invalid_input(tmp_path):
    runner = CliRunner()
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"storage": {"bat": {"soc": 0.5}}, "ev_plugged": []}))
    bad = _tiny_yaml(tmp_path / "bad.yaml",
                     targets={"emission_cap": {"value_t": 0.0, "mode": "hard"}})
    out = tmp_path / "out"
    args = ["--start", "2025-07-01T00:00", "--horizon", "24h", "--step", "1h", "-o", str(out)]
    r = runner.invoke(main, ["schedule", str(bad), "--state", str(state), *args])
    assert r.exit_code == 4, r.output
    assert "fallback: solver infeasible" in r.output
    assert read_schedule(out / "schedule-20250701T0000.json")["metadata"]["fallback"] is True
    state.write_text(json.dumps({"storage": {"battery": {"soc": 0.5}}}))
    r = runner.invoke(main, ["schedule", str(bad), "--state", str(state), *args[:-2],
                             "-o", str(tmp_path / "none")])
    # a state that does not match the scenario: always a schedule, the flagged fallback, naming
    # the state field it ignored (it was exit 2 with nothing published)
    assert r.exit_code == 4 and "fallback: state ignored: state.storage.battery" in r.output
    meta = read_schedule(tmp_path / "none" / "schedule-20250701T0000.json")["metadata"]
    assert meta["fallback"] is True and any("state.storage.battery" in x for x in meta["reasons"])
    state.write_text(json.dumps({"storage": {"bat": {"soc": 0.5}}}))
    r = runner.invoke(main, ["schedule", str(bad), "--state", str(state), "--start",
                             "2025-07-01T00:10", "--horizon", "24h", "-o", str(out)])
    assert r.exit_code == 2 and "time.start" in r.output


def test_dr_baseline_comes_from_the_forecast_not_from_the_plan():
    # An event 18:00–20:00 on the horizon's first day: no earlier similar day, so the baseline
    # is the day's own net import without action from the forecast — load 60 kW (no PV, storage
    # idle) — whatever the plan does; the schedule caps net import at 60 − 10 = 50 kW. Accepting
    # pays 50/kW on the average delivered reduction: the battery (10 kW) delivers.
    event = {"name": "cut", "date": "2025-07-01", "start": "18:00", "end": "20:00",
             "reduction_kw": 10, "payment_per_kw": 50, "penalty_per_kwh": 1}
    sc = tiny_park(demand_response={"events": [event]})
    doc = tiny_schedule(sc).doc
    (asset,) = doc["assets"]["dr_events"]
    assert asset["accepted"] and asset["baseline_kw"] == pytest.approx(60.0)
    assert asset["import_cap_kw"] == pytest.approx(50.0)
    evening = imports(doc)[18:20]
    assert (60.0 - evening).sum() >= 0.5 * 10 * 2 - 1e-6  # at least the minimum ratio delivered
    # a different forecast load moves the baseline with it (data, not decisions)
    load = np.full(24, 50.0)
    load[18:20] = 80.0
    doc = tiny_schedule(sc, forecast=tiny_forecast(load=load)).doc
    assert doc["assets"]["dr_events"][0]["baseline_kw"] == pytest.approx(80.0)
