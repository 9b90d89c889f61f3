"""Decarbonisation path (``zeropark path``): the cheapest plan passing the core indicator, the
best achievable plan when none passes, and each lever's cost per tonne, on tiny parks whose
numbers are worked out by hand in the comments; the lever registry; the command on the demo week.
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from zeropark.cli import main
from zeropark.errors import ScenarioError
from zeropark.examples import tiny
from zeropark.planning.path import (
    LEVERS,
    Lever,
    lever_from_changes,
    parse_lever,
    path,
    register_lever,
)

CRF_25 = 0.06 * 1.06**25 / (1.06**25 - 1)  # pv-rooftop lifetime 25 yr at 6 %
PV_COST_PER_KWP_2H = (2800 * CRF_25 + 40) * 2 / 8760  # annualised capex + O&M over 2 h
KGCE = 0.1229  # equal-value kgce/kWh
KGCE_COAL_EQ = 0.30  # models/indicators.yaml electricity-equivalent-value
GAS_CO2_KG_PER_M3, GAS_KGCE_PER_M3 = 2.162, 1.2143
INDICATOR = {"threshold_t_per_tce": 0.2, "threshold_rule": "own", "mode": "soft",
             "penalty_per_t": 60.0}


def park(gas_m3_per_year: float = 0.0, pv_cap: float = 50.0):
    """2 h, load 100 kW, grid 0.5 CNY/kWh at 0.5 kgCO2/kWh, no export.

    Levers: PV (1 kW/kWp in hour 1, 0 in hour 2; sized up to ``pv_cap``), certificates at
    20 CNY/MWh (0.02 CNY per kWh covered, which abates 0.5 kg: 40 CNY/t), direct green supply of
    100 kW at 0.6 CNY/kWh (0.1 CNY more per 0.5 kg: 200 CNY/t), offsets (not counted).
    """
    return tiny(2, {"load_kw": [100.0, 100.0], "price": 0.5, "ef": 0.5,
                    "pv_kw": [[1.0, 0.0]], "green_direct_kw": 100.0},
                pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": pv_cap}],
                green_power={"certificates": {"price_per_mwh": 20.0},
                             "direct": {"capacity_kw": 100.0, "shape": "flat",
                                        "price_per_kwh": 0.6},
                             "offsets": {"price_per_t": 70.0, "max_share": 0.05}},
                fuels={"natural_gas_m3_per_year": gas_m3_per_year},
                targets={"zero_carbon_indicator": INDICATOR},
                weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})


def lever(res, key):
    return res.levers.set_index("lever").loc[key]


def run(res, name):
    return res.runs.set_index("run").loc[name]


def test_cheapest_passing_plan_and_lever_costs_by_hand(tmp_path) -> None:
    sc, prof = park()
    res = path(sc, prof, out_dir=tmp_path)
    assert res.passes and res.missing == []
    # Allowance: 0.2 t/tce × 200 kWh × 0.1229 kgce/kWh = 4.916 kg. Cheapest: PV to its 50 kWp cap
    # (each kWp saves 0.5 CNY and 0.5 kg for 0.059 CNY), then certificates for the rest:
    # (100 − 25 − 4.916) kg / 0.5 = 140.168 kWh at 0.02 CNY.
    allowance_kg = 0.2 * 200 * KGCE
    cert_kwh = (100 - 25 - allowance_kg) / 0.5
    plan_cost = 150 * 0.5 + 50 * PV_COST_PER_KWP_2H + 0.02 * cert_kwh
    plan = run(res, "plan")
    assert plan["cost"] == pytest.approx(plan_cost, rel=1e-6)
    assert plan["co2_t"] == pytest.approx(allowance_kg / 1000, rel=1e-6)
    assert plan["indicator_equal_value"] == pytest.approx(0.2, rel=1e-6)
    # the same CO2 over 200 kWh × 0.30 kgce/kWh
    assert plan["indicator_coal_equivalent"] == pytest.approx(
        allowance_kg / (200 * KGCE_COAL_EQ), rel=1e-6)
    assert plan["gap_t_equal_value"] == pytest.approx(0.0, abs=1e-9)
    assert plan["gap_t_coal_equivalent"] == pytest.approx(
        (allowance_kg - 0.2 * 200 * KGCE_COAL_EQ) / 1000, rel=1e-6)
    assert plan["size.pv.roof.capacity_kw"] == pytest.approx(50.0)
    # Reference (no levers): all grid, 100 CNY, 100 kg
    ref = run(res, "reference")
    assert ref["cost"] == pytest.approx(100.0) and ref["co2_t"] == pytest.approx(0.1)
    # PV alone pays: 50 kWp abate 25 kg and save 25 − 2.957 CNY: −881.7 CNY/t (no-regret); its
    # potential at the price ceiling is the same 50 kWp
    pv_per_t = (50 * PV_COST_PER_KWP_2H - 25) / 0.025
    assert lever(res, "pv")["alone_cost_per_t"] == pytest.approx(pv_per_t, rel=1e-6)
    assert lever(res, "pv")["alone_abated_t"] == pytest.approx(0.025, rel=1e-6)
    assert lever(res, "pv")["potential_cost_per_t"] == pytest.approx(pv_per_t, rel=1e-6)
    # Certificates and direct supply are not bought without a price on CO2; at the ceiling they
    # cover all 200 kWh: 0.1 t at 40 and 200 CNY/t
    for key, per_t in (("certificates", 40.0), ("green-direct", 200.0)):
        row = lever(res, key)
        assert row["alone_abated_t"] == pytest.approx(0.0, abs=1e-9)
        assert math.isnan(row["alone_cost_per_t"])
        assert row["potential_abated_t"] == pytest.approx(0.1, rel=1e-6)
        assert row["potential_cost_per_t"] == pytest.approx(per_t, rel=1e-6)
    # Without certificates the plan passes on direct supply, 0.1 CNY instead of 0.02 per kWh;
    # without direct supply nothing changes; without PV certificates cover 190.168 kWh instead
    assert lever(res, "certificates")["without_passes"]
    assert lever(res, "certificates")["without_extra_cost"] == pytest.approx(
        0.08 * cert_kwh, rel=1e-6)
    assert lever(res, "green-direct")["without_extra_cost"] == pytest.approx(0.0, abs=1e-6)
    no_pv = 200 * 0.5 + 0.02 * (100 - allowance_kg) / 0.5
    assert lever(res, "pv")["without_extra_cost"] == pytest.approx(no_pv - plan_cost, rel=1e-6)
    # offsets do not count toward the indicator by default: listed, not solved
    assert not lever(res, "offsets")["counted"]
    assert "offsets_in_indicator" in lever(res, "offsets")["note"]
    # files: the plan's run files with kpis["path"], the two tables and the figure
    for name in ("kpis.json", "results.nc", "levers.csv", "path.csv", "levers.png"):
        assert (tmp_path / name).is_file(), name
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert kpis["path"]["passes"] is True
    assert {r["lever"] for r in kpis["path"]["levers"]} >= {"pv", "certificates", "offsets"}


def test_no_plan_passes_with_gas_and_the_missing_lever_is_named() -> None:
    # 438,000 m³/yr of gas is 100 m³ in 2 h: 216.2 kgCO2 and 121.43 kgce. Allowance
    # 0.2 × (24.58 + 121.43) kgce = 29.2 kg < 216.2 kg of fuel CO2: no electricity lever can pass.
    sc, prof = park(gas_m3_per_year=100 * 8760 / 2)
    res = path(sc, prof)
    assert not res.passes
    best = run(res, "best achievable")
    fuel_kg, fuel_kgce = 100 * GAS_CO2_KG_PER_M3, 100 * GAS_KGCE_PER_M3
    # the best plan covers all electricity (CO2 = the fuels only)
    assert best["co2_t"] == pytest.approx(fuel_kg / 1000, rel=1e-6)
    assert best["indicator_equal_value"] == pytest.approx(
        fuel_kg / (200 * KGCE + fuel_kgce), rel=1e-6)
    assert best["indicator_coal_equivalent"] == pytest.approx(
        fuel_kg / (200 * KGCE_COAL_EQ + fuel_kgce), rel=1e-6)
    assert not best["pass_equal_value"] and not best["pass_coal_equivalent"]
    assert len(res.missing) == 1 and "electrify heat" in res.missing[0]
    assert res.summary["passes"] is False
    # without a lever, the best achievable is reported too: without PV the certificates still
    # cover everything (same indicator); the lever table says the plan fails without it
    assert not lever(res, "pv")["without_passes"]
    assert lever(res, "pv")["without_indicator_equal_value"] == pytest.approx(
        best["indicator_equal_value"], rel=1e-6)


def test_a_declared_lever_is_one_entry() -> None:
    # a fuel lever the scenario declares (its fixed gas use, e.g. a process switched to
    # electricity elsewhere; the built-in "electrify-heat" lever works on a heat section): the
    # park without it burns the gas above
    # (216.2 kg in 2 h, nothing to pay for it in this model); with it, no gas. It reaches fuels,
    # so the diagnosis no longer says a fuel lever is missing, and the plan passes.
    sc, prof = park()
    heat = lever_from_changes("cut-gas", {"fuels.natural_gas_m3_per_year": 438000.0},
                              label="cut the fixed gas use", reaches="fuels")
    assert heat.present(sc)
    assert not heat.present(sc.replace({"fuels.natural_gas_m3_per_year": 438000.0}))
    res = path(sc, prof, levers=[*LEVERS, heat], only=["cut-gas"])
    row = lever(res, "cut-gas")
    assert row["alone_abated_t"] == pytest.approx(100 * GAS_CO2_KG_PER_M3 / 1000, rel=1e-6)
    assert row["alone_cost_per_t"] == pytest.approx(0.0, abs=1e-6)
    assert lever(res, "pv")["note"] == "not compared (--only)"
    assert res.passes


def test_register_lever_replaces_by_key_and_bad_input() -> None:
    before = list(LEVERS)
    try:
        extra = Lever("x", "x", lambda sc: False, lambda sc, p: (sc, p))
        register_lever(extra)
        register_lever(Lever("x", "y", lambda sc: False, lambda sc, p: (sc, p)))
        assert [lv.label for lv in LEVERS if lv.key == "x"] == ["y"]
    finally:
        LEVERS[:] = before
    assert parse_lever("hp:fuels.natural_gas_m3_per_year=0") == (
        "hp", "fuels.natural_gas_m3_per_year", 0)
    for bad in ("hp", "hp:path", ":a=1", "hp:=1"):
        with pytest.raises(ScenarioError, match="--lever"):
            parse_lever(bad)
    sc, prof = park()
    with pytest.raises(ScenarioError, match="--only"):
        path(sc, prof, only=["nope"])
    with pytest.raises(ScenarioError, match="--ceiling"):
        path(sc, prof, ceiling_per_t=0.0)


@pytest.mark.slow
def test_path_command_on_the_demo_week(tmp_path) -> None:
    out = tmp_path / "path"
    r = CliRunner().invoke(main, ["path", "scenarios/demo-park.yaml", "--all", "3",
                                  "--horizon", "7d", "--only", "electrify-heat", "-o", str(out)])
    assert r.exit_code == 0, r.output
    # the demo park burns 2 million m³ of gas a year, above the allowance at equal value; its
    # electric boiler and heat pump (zero size, capped) let the plan pass with certificates for
    # the grid power, and without them no plan passes
    assert "PASS: cheapest plan" in r.output and "electrify-heat" in r.output
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["path"]["passes"] is True
    plan = next(x for x in kpis["path"]["runs"] if x["run"] == "plan")
    assert plan["indicator_equal_value"] <= 0.2 + 1e-6
    assert plan["indicator_coal_equivalent"] < plan["indicator_equal_value"]
    by_source = kpis["heat"]["heat_by_source_kwh"]
    assert by_source["heat-pump"] + by_source["e-boiler"] > 0
    heat = next(x for x in kpis["path"]["levers"] if x["lever"] == "electrify-heat")
    assert heat["without_passes"] is False and heat["without_indicator_equal_value"] > 0.2
    assert (out / "levers.png").stat().st_size > 1000
    r = CliRunner().invoke(main, ["path", "scenarios/demo-park.yaml", "--lever", "bad"])
    assert r.exit_code == 2 and "--lever" in r.output


@pytest.mark.slow
def test_report_shows_the_path_section(tmp_path) -> None:
    from zeropark.report.html import render_report

    sc, prof = park(gas_m3_per_year=100 * 8760 / 2)
    path(sc, prof, only=["certificates"], out_dir=tmp_path)
    page = render_report(tmp_path)
    assert 'id="path"' in page and "no plan passes" in page
    assert 'data-figure="levers"' in page
    assert "Missing: fuel CO2 216.2 t" not in page  # tonnes of a 2 h horizon, not 216.2 t
    assert "Missing: fuel CO2 0.2 t" in page and "electrify heat" in page
    assert "green certificates (GEC)" in page


def test_electrify_heat_lever_takes_out_electric_heat_only_and_prices_its_tonnes(tmp_path) -> None:
    """One hour, 10 kW of hot water, no electric load, grid 0.75 CNY/kWh at 0.3 kgCO2/kWh.

    Gas boiler (η 0.9, gas 3.5 CNY/m³ = 0.393389 CNY per kWh of heat) or an air-source heat pump
    at 10 °C (COP 2.014594, 0.372284 CNY per kWh of heat: cheaper, so the plan takes it).
    Without the lever (gas only): 10 / 0.9 kWh of gas × 2.162 / 9.8856163 kg/kWh = 2.430038 kg.
    The heat pump alone: 10 / 2.014594 kWh × 0.3 kg = 1.489138 kg, so it abates 0.940900 kg and
    saves 10 · (0.393389 − 0.372284) CNY: a negative cost per tonne.
    """
    gas_kwh_per_m3 = 1.2143 * 29.3076 / 3.6
    sc, prof = tiny(1, {"load_kw": [0.0], "price": 0.75, "ef": 0.3, "temp_air_c": [10.0],
                        "heat_demand_kw": {"hot_water": [10.0]}},
                    heat={"demand": {"annual_mwh": {}},
                          "supply": [{"name": "gb", "kind": "gas_boiler", "levels": ["hot_water"],
                                      "capacity_kw": 100, "efficiency": 0.9},
                                     {"name": "hp", "kind": "heat_pump", "levels": ["hot_water"],
                                      "capacity_kw": 100, "carnot_efficiency": 0.45,
                                      "approach_k": 5, "cop_max": 6}],
                          "prices": {"natural_gas_per_m3": 3.5}},
                    targets={"zero_carbon_indicator": {**INDICATOR, "threshold_t_per_tce": 10.0}},
                    weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})
    heat_lever = next(lv for lv in LEVERS if lv.key == "electrify-heat")
    assert heat_lever.present(sc) and heat_lever.reaches == "fuels"
    without, _ = heat_lever.remove(sc, prof)
    assert [u.name for u in without.heat.supply] == ["gb"] and not without.heat.storage
    assert not heat_lever.present(without)
    res = path(sc, prof, out_dir=tmp_path, only=["electrify-heat"])
    row = lever(res, "electrify-heat")
    gas_kg = 10 / 0.9 * 2.162 / gas_kwh_per_m3
    hp_kg = 10 / 2.01459375 * 0.3
    assert row["present"] and row["reaches"] == "fuels"
    assert row["alone_abated_t"] == pytest.approx((gas_kg - hp_kg) / 1000, rel=1e-5)
    saving = 10 * 3.5 / (gas_kwh_per_m3 * 0.9) - 10 / 2.01459375 * 0.75
    assert row["alone_cost_delta"] == pytest.approx(-saving, rel=1e-5)
    assert row["alone_cost_per_t"] < 0
