"""Heat families: heat pump COP, allowed levels, fuel switching, thermal storage, CHP accounting,
the demo's gas-boiler baseline and the sizing hooks — tiny cases with optima worked out by hand.

Constants used in the comments (src/zeropark/model/heat.py): natural gas 1.2143 kgce/m³ ×
8.141 kWh/kgce = 9.8856163 kWh/m³ (LHV); CO2 2.162 kg/m³ → 0.21870 kg per kWh of gas; fuel tce
1/8.141 = 0.122835 kgce per kWh of fuel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zeropark import load_scenario, prepare, solve_data
from zeropark.errors import ScenarioError
from zeropark.examples import tiny, tiny_dict
from zeropark.model import emissions as em
from zeropark.model.builder import build_matrix
from zeropark.model.heat import KWH_PER_M3_GAS, heat_pump_cop
from zeropark.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
WEATHER = {"source": "clearsky", "clearness": {"preset": "yangtze-delta"}}
GAS_KWH_PER_M3 = 1.2143 * 29.3076 / 3.6  # 9.8856163


def hp(**kw: Any) -> dict[str, Any]:
    """An air-source heat pump on hot water: η_C 0.45, approach 5 K, COP cap 6."""
    unit = {"name": "hp", "kind": "heat_pump", "levels": ["hot_water"], "capacity_kw": 100,
            "carnot_efficiency": 0.45, "approach_k": 5, "cop_max": 6}
    unit.update(kw)
    return unit


def boiler(**kw: Any) -> dict[str, Any]:
    unit = {"name": "gb", "kind": "gas_boiler", "levels": ["hot_water"], "capacity_kw": 100,
            "efficiency": 0.9}
    unit.update(kw)
    return unit


def heat_case(T: int, heat: dict[str, Any], profiles: dict[str, Any], **sections: Any):  # noqa: ANN201
    heat = {"demand": {"annual_mwh": {}}, **heat}
    sections.setdefault("weather", WEATHER)
    sc, prof = tiny(T, profiles, heat=heat, **sections)
    return prepare(sc, prof)


def test_constants_match_the_comments() -> None:
    assert KWH_PER_M3_GAS == pytest.approx(9.8856163, rel=1e-8)


def test_air_source_cop_follows_ambient_temperature() -> None:
    # sink 80 °C hot water + 5 K = 358.15 K; air 0 °C − 5 K = 268.15 K: COP = 0.45 · 358.15 / 90
    # = 1.790750; air 10 °C: 278.15 K, COP = 0.45 · 358.15 / 80 = 2.014594. Demand 10 kW each
    # hour, the heat pump the only unit: electricity 10/1.790750 = 5.584252 kW, then
    # 10/2.014594 = 4.963780 kW, on top of the 1 kW load; cost at 1 CNY/kWh = 12.548032
    d = heat_case(2, {"supply": [hp()]},
                  dict(load_kw=[1, 1], price=1.0, temp_air_c=[0.0, 10.0],
                       heat_demand_kw={"hot_water": [10, 10]}))
    r = solve_data(d)
    cop = r.dataset.heat_pump_cop.sel(heat_unit="hp").values
    assert cop == pytest.approx([1.790750, 2.01459375], rel=1e-9)
    assert r.dataset.heat_electricity_kw.sel(heat_unit="hp").values == pytest.approx(
        [5.584252, 4.963780], rel=1e-6)
    assert r.dataset.grid_import_kw.values == pytest.approx([6.584252, 5.963780], rel=1e-6)
    assert r.objective == pytest.approx(12.548032, rel=1e-6)
    assert r.kpis["heat"]["electricity_kwh"] == pytest.approx(10.548032, rel=1e-6)


def test_cop_is_capped_and_never_below_one() -> None:
    # 30 °C air to 40 °C water: 0.45 · 318.15 / 20 = 7.16 → cap 6; 80 °C water from −60 °C air:
    # 0.45 · 358.15 / 150 = 1.07 (> 1); from −200 °C the Carnot share would be < 1 → 1
    assert heat_pump_cop(40, 30, 0.45, 5, 6) == pytest.approx(6.0)
    assert heat_pump_cop(80, -60, 0.45, 5, 6) == pytest.approx(0.45 * 358.15 / 150)
    assert heat_pump_cop(80, -200, 0.45, 5, 6) == pytest.approx(1.0)


def _bad(heat: dict[str, Any], **sections: Any) -> ScenarioError:
    sections.setdefault("weather", WEATHER)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(tiny_dict(2, heat=heat, **sections))
    return info.value


def test_heat_pump_refused_for_medium_pressure_steam() -> None:
    err = _bad({"supply": [hp(levels=["hot_water", "mp_steam"])]})
    assert err.field == "heat.supply.0"
    assert "heat_pump cannot serve mp_steam" in str(err) and "150 °C" in str(err)


@pytest.mark.parametrize(("heat", "field", "words"), [
    ({"supply": [hp(source="waste_heat")]}, "heat", "needs heat.waste_heat"),
    ({"supply": [boiler(levels=["hot_water", "hot_water"])]}, "heat.supply.0", "repeated"),
    ({"supply": [boiler(), boiler()]}, "heat", "names must be unique"),
    ({"supply": [boiler(electric_efficiency=0.3)]}, "heat.supply.0", "only for kind chp"),
    ({"storage": [{"name": "t", "kind": "hot_water_tank", "level": "lp_steam",
                   "energy_kwh": 1, "power_kw": 1}]}, "heat.storage.0", "cannot serve lp_steam"),
    ({"supply": [{"name": "w", "kind": "waste_heat", "levels": ["lp_steam"], "capacity_kw": 5}],
      "waste_heat": {"power_kw": 10, "temperature_c": 120}}, "heat", "cannot deliver lp_steam"),
    ({"demand": {"annual_mwh": {"lp_steam": 10}}, "supply": [boiler()]}, "heat.supply",
     "serving lp_steam"),
    ({"demand": {"annual_mwh": {"hot_water": -1}}}, "heat.demand", "[0, 1e9]"),
    ({"demand": {"source": "csv"}}, "heat.demand", "needs 'path' and 'columns'"),
    ({"demand": {"park_type": "bakery", "annual_mwh": {}}}, "heat.demand.park_type", "one of"),
    ({"supply": [boiler(technology="no-such-key")]}, "heat.supply.0.technology", ""),
    ({"supply": [boiler(technology="electric-boiler")]}, "heat.supply.0.technology",
     "kind gas_boiler"),
    ({"supply": [boiler(max_capacity_kw=10)]}, "heat.supply.0.max_capacity_kw", "at least"),
    ({"supply": [boiler(kind="steam_engine")]}, "heat.supply.0.kind", ""),
])
def test_bad_heat_inputs(heat: dict[str, Any], field: str, words: str) -> None:
    err = _bad(heat)
    assert err.field == field
    assert words in str(err)
    assert "\n" not in str(err)


def test_air_source_heat_pump_needs_weather() -> None:
    err = _bad({"supply": [hp()]}, weather=None)
    assert err.field == "weather" and "ambient temperature" in str(err)


def test_library_defaults_fill_a_unit_without_numbers() -> None:
    sc = scenario_from_dict(tiny_dict(2, weather=WEATHER, heat={"supply": [
        {"name": "e", "kind": "electric_boiler", "levels": ["mp_steam"], "capacity_kw": 1},
        {"name": "h", "kind": "heat_pump", "levels": ["lp_steam"], "capacity_kw": 1}],
        "storage": [{"name": "t", "kind": "steam_accumulator", "level": "mp_steam",
                     "energy_kwh": 1, "power_kw": 1}]}))
    e, h = sc.heat.supply
    assert e.efficiency == 0.99 and e.capex_per_kw == 250.0  # models/heat.yaml electric-boiler
    assert h.carnot_efficiency == 0.45 and h.cop_max == 6.0  # heat-pump-air
    assert sc.heat.storage[0].loss_per_h == 0.005  # steam-accumulator


def test_heat_blocks_are_frozen_and_replace_refills_from_the_library() -> None:
    import pydantic

    sc = scenario_from_dict(tiny_dict(2, weather=WEATHER, heat={"supply": [
        {"name": "e", "kind": "electric_boiler", "levels": ["hot_water"], "capacity_kw": 1}]}))
    with pytest.raises(pydantic.ValidationError):
        sc.heat.supply[0].capacity_kw = 5.0
    # a variant: the given number wins over the library's, the rest stays filled
    sc2 = sc.replace({"heat.supply.0.efficiency": 0.95, "heat.supply.0.capacity_kw": 5})
    assert sc2.heat.supply[0].efficiency == 0.95 and sc2.heat.supply[0].capacity_kw == 5
    assert sc2.heat.supply[0].capex_per_kw == 250.0 and sc.heat.supply[0].efficiency == 0.99


@pytest.mark.parametrize(("price", "winner", "objective"), [
    # gas heat: 3.5 CNY/m³ / (9.8856163 kWh/m³ · 0.9) = 0.393389 CNY/kWh; heat pump at 10 °C air:
    # COP 2.014594, so the switch is at an electricity price of 0.393389 · 2.014594 = 0.792519
    # (price ratio electricity/gas-per-kWh 2.0146). 10 kW for one hour:
    (0.75, "hp", 10 / 2.01459375 * 0.75),  # 3.722836: the heat pump
    (0.85, "gb", 10 * 3.5 / (GAS_KWH_PER_M3 * 0.9)),  # 3.933893: the boiler
])
def test_boiler_or_heat_pump_by_price_ratio(price: float, winner: str, objective: float) -> None:
    d = heat_case(1, {"supply": [boiler(), hp()], "prices": {"natural_gas_per_m3": 3.5}},
                  dict(load_kw=[0], price=price, temp_air_c=[10.0],
                       heat_demand_kw={"hot_water": [10]}))
    r = solve_data(d)
    assert r.objective == pytest.approx(objective, rel=1e-7)
    assert r.kpis["heat"]["heat_by_source_kwh"][winner] == pytest.approx(10.0)
    assert sum(r.kpis["heat"]["heat_by_source_kwh"].values()) == pytest.approx(10.0)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, rel=1e-9)
    from zeropark.clitools import kpi_lines

    (line,) = [x for x in kpi_lines(r.kpis) if x.startswith("heat delivered")]
    assert f"{winner} 100%" in line


def test_tank_shifts_electric_heat_into_the_valley_with_losses() -> None:
    # electric boiler η 1; tank η 1 each way, 10 %/h standing loss, empty at the start.
    # Demand 0 then 9 kW; price 0.2 (valley) then 1.0. Heating in hour 1 costs 9.0; charging
    # x in hour 0 leaves 0.9·x in hour 1, so x = 10 kWh at 0.2 = 2.0 (1 kWh lost).
    store = {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 100,
             "power_kw": 100, "charge_efficiency": 1, "discharge_efficiency": 1,
             "loss_per_h": 0.1, "soc_initial": 0.0}
    eb = {"name": "eb", "kind": "electric_boiler", "levels": ["hot_water"], "capacity_kw": 100,
          "efficiency": 1.0}
    d = heat_case(2, {"supply": [eb], "storage": [store]},
                  dict(load_kw=[0, 0], price=[0.2, 1.0], heat_demand_kw={"hot_water": [0, 9]}))
    r = solve_data(d)
    assert r.objective == pytest.approx(2.0, rel=1e-9)
    assert r.dataset.heat_storage_soc_kwh.values[0] == pytest.approx([10.0, 0.0], abs=1e-7)
    assert r.dataset.grid_import_kw.values == pytest.approx([10.0, 0.0], abs=1e-7)
    tank = r.kpis["heat"]["storage"]["tank"]
    assert tank["charged_kwh"] == pytest.approx(10.0) and tank["losses_kwh"] == pytest.approx(1.0)


def test_chp_fuel_electricity_and_both_tce_factors_in_the_ledger() -> None:
    # CHP η_th 0.45, η_el 0.40 serves 45 kW of low-pressure steam for one hour: fuel 100 kWh
    # = 100/9.8856163 = 10.115707 m³, CO2 100 · 0.2187017 = 21.87017 kg (Scope 1); electricity
    # 40 kW covers 40 of the 50 kW load, import 10 kWh at 0.5 kg/kWh = 5 kg (Scope 2).
    # tce (equal value) = fuel 100/8.141 = 12.283503 + 10 kWh · 0.1229 = 13.512503 kgce
    chp = {"name": "chp", "kind": "chp", "levels": ["lp_steam"], "capacity_kw": 100,
           "efficiency": 0.45, "electric_efficiency": 0.40}
    d = heat_case(1, {"supply": [chp], "prices": {"natural_gas_per_m3": 0.0}},
                  dict(load_kw=[50], price=1.0, ef=0.5, heat_demand_kw={"lp_steam": [45]}))
    r = solve_data(d)
    k = r.kpis
    co2_gas = 100 * 2.162 / GAS_KWH_PER_M3
    assert k["heat"]["natural_gas_m3"] == pytest.approx(100 / GAS_KWH_PER_M3, rel=1e-7)
    assert k["heat"]["chp_electricity_kwh"] == pytest.approx(40.0, rel=1e-7)
    assert k["import_kwh"] == pytest.approx(10.0, rel=1e-7)
    assert k["emissions"]["scope1_fuels_t"] == pytest.approx(co2_gas / 1000, rel=1e-7)
    assert k["emissions"]["scope2_location_t"] == pytest.approx(0.005, rel=1e-7)
    fuel_kgce = 100 / (29.3076 / 3.6)
    zc = k["zero_carbon_indicator"]["by_tce_factor"]
    assert zc["equal_value"]["energy_tce"] == pytest.approx((fuel_kgce + 1.229) / 1000, rel=1e-7)
    k_ce = em.kgce_per_kwh(d, "coal_equivalent")
    assert zc["coal_equivalent"]["energy_tce"] == pytest.approx(
        (fuel_kgce + 10 * k_ce) / 1000, rel=1e-7)
    assert k["co2_per_tce"] == pytest.approx((co2_gas + 5) / (fuel_kgce + 1.229), rel=1e-7)


def test_emission_cap_sees_the_fuel_the_model_chooses() -> None:
    # Price 0.85 makes the boiler cheaper (see the price-ratio test); a hard cap of 1.0 kg forces
    # heat-pump heat. At ef 0.2: heat pump 0.2/2.014594 = 0.099276 kg per kWh heat, boiler
    # 0.2187017/0.9 = 0.243002; boiler heat x: 10·0.099276 + x·(0.243002 − 0.099276) ≤ 1.0,
    # x = 0.0072421/0.143726 = 0.050388 kWh; cost = x·0.393389 + (10 − x)·0.85/2.014594
    hp_kg, gb_kg = 0.2 / 2.01459375, 2.162 / GAS_KWH_PER_M3 / 0.9
    x = (1.0 - 10 * hp_kg) / (gb_kg - hp_kg)
    gas_cost = 3.5 / (GAS_KWH_PER_M3 * 0.9)
    d = heat_case(1, {"supply": [boiler(), hp()], "prices": {"natural_gas_per_m3": 3.5}},
                  dict(load_kw=[0], price=0.85, ef=0.2, temp_air_c=[10.0],
                       heat_demand_kw={"hot_water": [10]}),
                  targets={"emission_cap": {"value_t": 0.001, "mode": "hard"}})
    r = solve_data(d)
    assert r.kpis["heat"]["heat_by_source_kwh"]["gb"] == pytest.approx(x, rel=1e-6)
    assert r.objective == pytest.approx(x * gas_cost + (10 - x) * 0.85 / 2.01459375, rel=1e-7)
    assert r.kpis["co2_t"] == pytest.approx(0.001, rel=1e-7)


def test_waste_heat_stream_limits_recovery_and_heat_pump() -> None:
    # stream 10 kW at 60 °C. Recovery (η 0.8) cannot reach 80 °C hot water, so a waste-heat heat
    # pump does: COP = 0.5 · 358.15 / (85 − 55) = 5.969167, stream heat used out·(1 − 1/COP);
    # at most 10/(1 − 1/5.969167) = 12.011 kW of heat; demand 20 kW, the rest from the boiler
    cop = 0.5 * 358.15 / 30
    whp = {"name": "whp", "kind": "heat_pump", "source": "waste_heat", "levels": ["hot_water"],
           "capacity_kw": 100, "carnot_efficiency": 0.5, "approach_k": 5, "cop_max": 8}
    d = heat_case(1, {"supply": [boiler(), whp], "waste_heat": {"power_kw": 10,
                                                                 "temperature_c": 60}},
                  dict(load_kw=[0], price=0.1, heat_demand_kw={"hot_water": [20]}))
    r = solve_data(d)
    assert r.kpis["heat"]["heat_by_source_kwh"]["whp"] == pytest.approx(10 / (1 - 1 / cop),
                                                                         rel=1e-7)
    assert r.kpis["heat"]["heat_by_source_kwh"]["gb"] == pytest.approx(20 - 10 / (1 - 1 / cop),
                                                                        rel=1e-7)


def test_unserved_heat_is_paid_and_reported() -> None:
    # boiler 6 kW for a 10 kW demand: 4 kWh unserved at 5 CNY/kWh = 20, gas 6/(9.8856·0.9)·3.5
    d = heat_case(1, {"supply": [boiler(capacity_kw=6)]},
                  dict(load_kw=[0], price=1.0, heat_demand_kw={"hot_water": [10]}))
    r = solve_data(d)
    assert r.kpis["heat"]["unserved_kwh"] == pytest.approx(4.0)
    assert r.objective == pytest.approx(20 + 6 * 3.5 / (GAS_KWH_PER_M3 * 0.9), rel=1e-9)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, rel=1e-9)


@pytest.mark.slow
def test_demo_gas_boiler_baseline_reproduces_scope1() -> None:
    # The demo's heat section (18,190 MWh/yr served by a 92 % gas boiler) replaces its former
    # fixed 2,000,000 m³ of gas = 4,324 t CO2; the electric side is dropped here to keep the
    # full-year model small (the heat side does not depend on it).
    sc = load_scenario(ROOT / "scenarios" / "demo-park.yaml").replace({
        "pv": [], "storage": [], "flexible_loads": [], "ev": {"groups": []},
        "demand_response": {"events": []}, "green_power": {}, "targets": {}})
    assert sc.fuels.natural_gas_m3_per_year == 0  # the gas is now in the heat section
    r = solve_data(prepare(sc))
    assert r.kpis["heat"]["unserved_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert r.kpis["emissions"]["scope1_fuels_t"] == pytest.approx(4324.0, rel=0.005)
    assert r.kpis["heat"]["natural_gas_m3"] == pytest.approx(2.0e6, rel=0.005)


def test_synthetic_heat_demand_follows_the_calendar() -> None:
    # each whole calendar year delivers annual_mwh exactly; a working-day afternoon of a
    # two-shift park needs more heat than the night, and more than a holiday afternoon
    import pandas as pd

    from zeropark.profiles.heat import synthetic_heat_kw

    time = pd.date_range("2025-01-01", periods=8760, freq="h")
    q = synthetic_heat_kw(time, park_type="two_shift", annual_mwh={"lp_steam": 876.0},
                          base_share=0.3)
    assert q[1].sum() == pytest.approx(876_000.0)
    assert q[0].sum() == 0 and q[2].sum() == 0
    s = pd.Series(q[1], index=time)
    assert s["2025-03-12 15:00"] > s["2025-03-12 03:00"]  # Wednesday afternoon vs night
    assert s["2025-03-12 15:00"] > s["2025-10-02 15:00"]  # National Day holiday
    assert q[1].min() >= 0.3 * 100.0 - 1e-9  # the base share runs round the clock


def test_no_heat_section_keeps_fixed_fuels() -> None:
    # without a heat section the fixed fuels are the whole Scope 1: 1000 m³/yr over 1 h
    sc, prof = tiny(1, dict(load_kw=[0], price=1.0), fuels={"natural_gas_m3_per_year": 8760})
    r = solve_data(prepare(sc, prof))
    assert r.kpis["emissions"]["scope1_fuels_t"] == pytest.approx(2.162 / 1000)
    lp = build_matrix(prepare(sc, prof))
    assert not [name for name in (*lp.row_blocks, *lp.var_blocks) if name.startswith("heat")]
    assert r.kpis["heat"] == {}
    assert np.isfinite(r.objective)


def test_heat_demand_from_csv_and_ambient_temperature_from_weather(tmp_path: Path) -> None:
    # one column per level [kW thermal]; the weather's air temperature reaches the profiles
    from zeropark.profiles.build import build_profiles

    (tmp_path / "heat.csv").write_text("time,hw,steam\n2025-07-01 00:00,10,20\n"
                                       "2025-07-01 01:00,11,21\n2025-07-01 02:00,12,22\n")
    data = tiny_dict(3, weather=WEATHER, heat={
        "demand": {"source": "csv", "path": "heat.csv",
                   "columns": {"hot_water": "hw", "lp_steam": "steam"}},
        "supply": [boiler(levels=["hot_water", "lp_steam"]), hp()]})
    sc = scenario_from_dict(data, base_dir=tmp_path)
    prof = build_profiles(sc)
    assert prof.heat_demand_kw.tolist() == [[10, 11, 12], [20, 21, 22], [0, 0, 0]]
    assert prof.temp_air_c is not None and len(prof.temp_air_c) == 3
    assert prof.window(1, 3).heat_demand_kw[1].tolist() == [21, 22]
    r = solve_data(prepare(sc, prof))
    assert sum(r.kpis["heat"]["demand_kwh"].values()) == pytest.approx(96.0)
    assert r.kpis["heat"]["unserved_kwh"] == pytest.approx(0.0)


def test_rolling_run_refuses_thermal_stores() -> None:
    from zeropark.rolling import run_rolling

    store = {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 10,
             "power_kw": 5}
    d = heat_case(4, {"supply": [boiler()], "storage": [store]},
                  dict(load_kw=[0] * 4, price=1.0, heat_demand_kw={"hot_water": [1] * 4}))
    with pytest.raises(ScenarioError) as info:
        run_rolling(d.sc, "2h:1h", profiles=d.prof)
    assert info.value.field == "heat.storage" and "rolling" in str(info.value)


def test_heat_profiles_of_another_length_are_refused() -> None:
    # e.g. profiles aggregated to representative periods without their heat rows
    import dataclasses

    d = heat_case(3, {"supply": [boiler(), hp()]},
                  dict(load_kw=[0] * 3, price=1.0, temp_air_c=[5] * 3,
                       heat_demand_kw={"hot_water": [1] * 3}))
    short = dataclasses.replace(d, prof=dataclasses.replace(
        d.prof, heat_demand_kw=d.prof.heat_demand_kw[:, :2]))
    with pytest.raises(ScenarioError) as info:
        build_matrix(short)
    assert info.value.field == "heat.demand"
    short = dataclasses.replace(d, prof=dataclasses.replace(d.prof, temp_air_c=np.ones(5)))
    with pytest.raises(ScenarioError) as info:
        build_matrix(short)
    assert info.value.field == "weather"


# -- sizing through the registry (zeropark size) -------------------------------------------------
def _eb(**kw: Any) -> dict[str, Any]:
    unit = {"name": "eb", "kind": "electric_boiler", "levels": ["hot_water"], "capacity_kw": 100,
            "efficiency": 1.0}
    unit.update(kw)
    return unit


def test_size_sizes_a_heat_unit_with_its_cap() -> None:
    # electric boiler η 1 sized in [0, 50] kW, demand 10 then 30 kW, price 0.1, unserved 5/kWh.
    # capex 4380/kW over 1 year at rate 0 → 4380 CNY/kW/yr · 2 h / 8760 h = 1.0 per kW on this
    # horizon. Each kW above 10 saves 5 − 0.1 = 4.9 > 1.0 once, each kW below 10 saves twice:
    # C = 30, objective 30 · 1.0 + 40 kWh · 0.1 = 34.0 (operating cost 4.0)
    from zeropark.model.heat import CAPACITY_KW, SIZED_OUTPUT
    from zeropark.planning.sizing import size, sizing_matrix, sizing_model

    eb = _eb(capacity_kw=10, max_capacity_kw=50, capex_per_kw=4380, lifetime_years=1)
    sc, prof = tiny(2, dict(load_kw=[0, 0], price=0.1, heat_demand_kw={"hot_water": [10, 30]}),
                    heat={"demand": {"annual_mwh": {}}, "supply": [eb]}, weather=WEATHER,
                    sizing={"discount_rate": 0.0})
    r = size(sc, prof)
    assert r.objective == pytest.approx(34.0, rel=1e-9)
    assert r.kpis["total_cost"] == pytest.approx(4.0, rel=1e-9)
    assert r.kpis["sizing"]["sizes"] == {"heat.supply.0.capacity_kw": pytest.approx(30.0)}
    (asset,) = r.kpis["sizing"]["assets"]
    assert asset["cap"] == 50 and asset["unit"] == "kW" and asset["existing"] == 10
    assert r.kpis["heat"]["unserved_kwh"] == pytest.approx(0.0, abs=1e-9)
    m = sizing_model(sc, prof)
    lp = sizing_matrix(m.data, m.plan, m.per_kwp)
    assert lp.has(CAPACITY_KW) and SIZED_OUTPUT in lp.row_blocks


def test_size_sizes_an_empty_thermal_store() -> None:
    # electric boiler 100 kW (η 1), tank η 1, no loss, empty at the start, sized in [0, 50] kWh at
    # 0.5 per kWh on this horizon (capex 2190/kWh, 1 yr, rate 0, 2 h); demand 0 then 10 kW, price
    # 0.1 then 1.0: each stored kWh saves 0.9 > 0.5, so E = 10, objective 10 · 0.5 + 10 · 0.1 = 6.0
    # (without the tank: 10 kWh at 1.0 = 10.0)
    from zeropark.planning.sizing import size

    store = {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 0,
             "power_kw": 100, "charge_efficiency": 1, "discharge_efficiency": 1,
             "loss_per_h": 0.0, "soc_initial": 0.0, "max_energy_kwh": 50,
             "capex_per_kwh": 2190, "lifetime_years": 1}
    sc, prof = tiny(2, dict(load_kw=[0, 0], price=[0.1, 1.0],
                            heat_demand_kw={"hot_water": [0, 10]}),
                    heat={"demand": {"annual_mwh": {}}, "supply": [_eb()], "storage": [store]},
                    weather=WEATHER, sizing={"discount_rate": 0.0})
    r = size(sc, prof)
    assert r.objective == pytest.approx(6.0, rel=1e-9)
    assert r.kpis["sizing"]["sizes"]["heat.storage.0.energy_kwh"] == pytest.approx(10.0)
    assert r.kpis["heat"]["storage"]["tank"]["discharged_kwh"] == pytest.approx(10.0)
    assert solve_data(prepare(sc, prof)).objective == pytest.approx(10.0)  # E = 0: no tank


def test_size_sizes_a_thermal_store_whose_initial_content_scales_with_it() -> None:
    # boiler 100 kW at 0.1 then 1.0 CNY/kWh, demand 0 then 10 kW; tank η 1, no loss, half full
    # at the start and at least half full at the end, E ∈ [0, 50] kWh at 1752 CNY/kWh over 1 yr
    # (rate 0) → 0.4 per kWh on these 2 h. Charging c in hour 0: soc0 = E/2 + c ≤ E, so shifting
    # 10 kWh needs E = 20: 20 · 0.4 + 10 · 0.1 = 9.0 < 10.0 (no tank). Were the start content
    # fixed at the cap's half (25 kWh), E < 25 would be infeasible: the size tests the coupling.
    from zeropark.planning.sizing import size

    tank = {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 5,
            "power_kw": 100, "charge_efficiency": 1, "discharge_efficiency": 1,
            "loss_per_h": 0.0, "soc_initial": 0.5, "max_energy_kwh": 50,
            "capex_per_kwh": 1752, "lifetime_years": 1}
    sc, prof = tiny(2, dict(load_kw=[0, 0], price=[0.1, 1.0],
                            heat_demand_kw={"hot_water": [0, 10]}),
                    heat={"demand": {"annual_mwh": {}}, "supply": [_eb()], "storage": [tank]},
                    weather=WEATHER, sizing={"discount_rate": 0.0})
    r = size(sc, prof)
    assert r.objective == pytest.approx(9.0, rel=1e-9)
    assert r.kpis["sizing"]["sizes"]["heat.storage.0.energy_kwh"] == pytest.approx(20.0)
    assert r.dataset.heat_storage_soc_kwh.values.ravel() == pytest.approx([20.0, 10.0])


def test_all_factor_sizes_heat_assets_and_the_no_caps_message_names_them() -> None:
    from zeropark.planning.sizing import sizing_model, sizing_plan

    tank = {"name": "tank", "kind": "hot_water_tank", "level": "hot_water", "energy_kwh": 40,
            "power_kw": 20, "charge_efficiency": 1, "discharge_efficiency": 1, "loss_per_h": 0.0,
            "capex_per_kwh": 100, "lifetime_years": 20}
    sc, prof = tiny(2, dict(load_kw=[0, 0], price=0.1, heat_demand_kw={"hot_water": [10, 30]}),
                    heat={"demand": {"annual_mwh": {}},
                          "supply": [_eb(capex_per_kw=250, lifetime_years=20)],
                          "storage": [tank]}, weather=WEATHER)
    plan = sizing_plan(sc, prof, all_factor=3.0)
    caps = {a.key: a.cap for a in plan.assets if a.key.startswith("heat.")}
    assert caps == {"heat.supply.0.capacity_kw": 300.0, "heat.storage.0.energy_kwh": 120.0}
    with pytest.raises(ScenarioError, match=r"heat\.supply\.N\.max_capacity_kw"):
        sizing_model(sc, prof)


def test_unserved_heat_is_a_penalty_line_through_the_registry() -> None:
    # electric boiler 10 kW (η 1) at 0.1 CNY/kWh, demand 30 kW for 1 h, unserved heat 5 CNY/kWh:
    # 10 kWh of electricity = 1.0 (energy line) + 20 kWh unserved × 5 = 100.0 (penalties line);
    # no fuel burned (heat_fuel 0); total 101.0 = the objective
    sc, prof = tiny(1, dict(load_kw=[0], price=0.1, heat_demand_kw={"hot_water": [30]}),
                    heat={"demand": {"annual_mwh": {}}, "supply": [_eb(capacity_kw=10)],
                          "unserved_penalty_per_kwh": 5.0}, weather=WEATHER)
    r = solve_data(prepare(sc, prof))
    cb = r.kpis["cost_breakdown"]
    assert cb["penalties"] == pytest.approx(100.0) and cb["heat_fuel"] == 0.0
    assert cb["energy"] == pytest.approx(1.0)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, rel=1e-9)
    assert r.objective == pytest.approx(101.0, rel=1e-9)
    assert r.kpis["heat"]["unserved_penalty"] == pytest.approx(100.0)


def test_indicator_met_only_by_unserved_heat_is_not_a_pass() -> None:
    """One hour, 10 kW of hot water from a gas boiler only, no electric load. Gas alone emits
    2.162 kg per 1.2143 kgce = 1.78 t/tce, far above 0.2, so the hard indicator is met only by
    leaving all 10 kWh of heat unserved (at 5 CNY/kWh): the ratio is then 0 (nothing burned),
    but the verdict is FAIL under both tce factors, with the reason on the KPI line."""
    d = heat_case(1, {"supply": [boiler()]},
                  dict(load_kw=[0], price=1.0, heat_demand_kw={"hot_water": [10]}),
                  targets={"zero_carbon_indicator": {"threshold_t_per_tce": 0.2,
                                                     "threshold_rule": "own", "mode": "hard"}})
    r = solve_data(d)
    assert r.ok
    assert r.kpis["heat"]["unserved_kwh"] == pytest.approx(10.0)
    assert r.objective == pytest.approx(10 * 5.0)
    zc = r.kpis["zero_carbon_indicator"]
    assert zc["value"] == pytest.approx(0.0)
    assert zc["pass"] is False and not any(v["pass"] for v in zc["by_tce_factor"].values())
    assert r.kpis["zero_carbon_check"]["core_indicator"]["verdict"] == "fail"
    from zeropark.clitools import kpi_lines

    (line,) = [x for x in kpi_lines(r.kpis) if x.startswith("CO2 per tce")]
    assert "FAIL (10.0 kWh of heat demand not served: not a pass)" in line
    # served heat (no hard target): the same park fails on its ratio, not on service
    d2 = heat_case(1, {"supply": [boiler()]},
                   dict(load_kw=[0], price=1.0, heat_demand_kw={"hot_water": [10]}))
    r2 = solve_data(d2)
    assert r2.kpis["heat"]["unserved_kwh"] == pytest.approx(0.0)
    assert "not_served" not in r2.kpis["zero_carbon_indicator"]
