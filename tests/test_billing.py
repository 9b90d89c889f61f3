"""Two-part tariff billing: pro-rated basic charges, billed demand at 15 min, contract vs capacity.

Each case is small enough to be worked out by hand in its comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeropark import run
from zeropark.api import prepare
from zeropark.examples import tiny_dict
from zeropark.scenario import scenario_from_dict

ENGINES = ["matrix", "pyomo"]


def _load_csv(path: Path, start: str, values_kw: list[float] | np.ndarray, freq: str) -> Path:
    time = pd.date_range(start, periods=len(values_kw), freq=freq)
    pd.DataFrame({"time": time.strftime("%Y-%m-%dT%H:%M"), "load_kw": values_kw}).to_csv(
        path, index=False)
    return path


def _csv_scenario(tmp_path: Path, start: str, steps: int, step: str, values_kw, csv_freq: str,
                  **grid):
    _load_csv(tmp_path / "load.csv", start, values_kw, csv_freq)
    g = {"import_limit_kw": 5000.0, "tariff": "jiangsu-2025", **grid}
    d = tiny_dict(steps, time={"start": start, "steps": steps, "step": step},
                  loads={"source": "csv", "path": "load.csv"}, grid=g)
    return scenario_from_dict(d, base_dir=tmp_path)


# --- 1. basic charges pro-rated for partial billing months -------------------------------------
# (hourly load data at hourly steps: the 15-min under-billing warning is tested below)
HOURLY_DATA = pytest.mark.filterwarnings("ignore:loads. load data no finer:UserWarning")


@HOURLY_DATA
@pytest.mark.parametrize("engine", ENGINES)
def test_demand_charge_pro_rated_over_month_boundary(tmp_path: Path, engine: str) -> None:
    # 48 h from 31 Jul 00:00 at a flat 1,000 kW, Jiangsu 2025 (40 CNY/kW·month; summer day:
    # 8 h peak 0.98, 8 h valley 0.33, 8 h flat 0.62 → 15,440 CNY a day, 30,880 for two days).
    # Before: each touched month billed in full, 2 · 40 · 1,000 = 80,000 CNY demand charge.
    # Now: 24 h of the 744 h of July and 24 h of the 744 h of August,
    # 40 · 1,000 · (24/744 + 24/744) = 2,580.645 CNY.
    sc = _csv_scenario(tmp_path, "2025-07-31", 48, "1h", [1000.0] * 48, "h")
    r = run(sc, engine=engine)
    assert r.kpis["cost_breakdown"]["energy"] == pytest.approx(30880.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(80000.0 * 24 / 744, abs=1e-6)
    assert r.kpis["total_cost"] == pytest.approx(30880.0 + 80000.0 * 24 / 744, abs=1e-6)
    assert r.kpis["billing"]["month_fraction"] == pytest.approx(
        {"2025-07": 24 / 744, "2025-08": 24 / 744})


@HOURLY_DATA
@pytest.mark.parametrize("engine", ENGINES)
def test_capacity_charge_pro_rated_the_same_way(tmp_path: Path, engine: str) -> None:
    # Same 48 h on capacity billing: 2,000 kVA · 25 CNY/kVA·month · (24/744 + 24/744)
    # = 3,225.806 CNY (before: 50,000 · 12 · 48 / 8760 = 3,287.67, a year's share).
    sc = _csv_scenario(tmp_path, "2025-07-31", 48, "1h", [1000.0] * 48, "h",
                       billing="capacity", transformer_kva=2000.0,
                       capacity_charge_per_kva_month=25.0)
    r = run(sc, engine=engine)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(50000.0 * 48 / 744, abs=1e-6)


@HOURLY_DATA
def test_whole_months_carry_the_whole_charge(tmp_path: Path) -> None:
    # All of February 2025 (672 h) then 1 h of March: fractions 1 and 1/744.
    d = prepare(_csv_scenario(tmp_path, "2025-02-01", 673, "1h", [10.0] * 673, "h"))
    assert d.prof.month_fraction == pytest.approx([1.0, 1 / 744])
    # a shorter study cut from it carries its own share of each month
    assert d.prof.window(0, 24).month_fraction == pytest.approx([24 / 672])


# --- 2. billed demand = highest 15-min average ---------------------------------------------------

def _meter_day() -> np.ndarray:
    # One July day of 15-min meter data: 1,000 kW flat, except 10:00–11:00 with quarters
    # 1,899 / 1,299 / 1,299 / 1,295 kW (hourly mean (1,899 + 1,299 + 1,299 + 1,295) / 4 = 1,448).
    q = np.full(96, 1000.0)
    q[40:44] = [1899.0, 1299.0, 1299.0, 1295.0]
    return q


@pytest.mark.parametrize(("step", "steps"), [("15min", 96), ("1h", 24)])
@pytest.mark.parametrize("engine", ENGINES)
def test_billed_demand_is_the_highest_quarter_hour(tmp_path: Path, engine: str, step: str,
                                                   steps: int) -> None:
    # Before, the hourly run averaged the meter data and billed 1,448 kW (−24 %), silently.
    # Now the hour's peak-to-mean ratio 1,899 / 1,448 from the data lifts the peak row:
    # billed 1,899 kW at both steps; demand charge 40 · 1,899 · 24/744 = 2,450.32 CNY.
    sc = _csv_scenario(tmp_path, "2025-07-10", steps, step, _meter_day(), "15min")
    r = run(sc, engine=engine)
    b = r.kpis["billing"]
    assert b["billed_demand_kw_by_month"]["2025-07"] == pytest.approx(1899.0, abs=1e-6)
    assert r.kpis["peak_import_kw_by_month"]["2025-07"] == pytest.approx(1899.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(40 * 1899 * 24 / 744, abs=1e-6)
    assert ("from the sub-hourly load CSV" in b["billed_demand_rule"]) == (step == "1h")
    # the hourly load is still the hour's mean (energy unchanged)
    assert r.kpis["import_kwh"] == pytest.approx(float(_meter_day().sum()) / 4, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_intra_hour_rise_adds_to_the_import_with_pv(engine: str) -> None:
    # The meter hour above (mean 1,448 kW, highest quarter 1,899 kW, ratio 1,899/1,448) with
    # 1,000 kW of PV through the hour: import 448 kW on average, and its highest quarter-hour is
    # 1,899 − 1,000 = 899 kW = 448 + (1,899 − 1,448). Scaling the import by the ratio instead
    # would bill 448 · 1,899/1,448 = 587.5 kW (under-billed). Hour 0: 1 kW mean with a 4 kW
    # quarter (ratio 4) adds 3 kW, not 4×: 1 + 3 = 4 kW. Billed: 899 kW, 40 CNY → 35,960 CNY.
    from dataclasses import replace

    from zeropark.examples import tiny

    sc, prof = tiny(2, dict(load_kw=[1.0, 1448.0], price=0.0, demand_charge=40.0,
                            pv_kw=[[0.0, 1000.0]]),
                    pv=[{"name": "roof", "capacity_kw": 1000.0, "profile": {"path": "pv.csv"}}])
    prof = replace(prof, peak_ratio=np.array([4.0, 1899.0 / 1448.0]))
    r = run(sc, prof, engine=engine)
    assert r.kpis["billing"]["billed_demand_kw_by_month"]["2025-07"] == pytest.approx(899.0)
    assert r.objective == pytest.approx(40.0 * 899.0, abs=1e-6)


def test_five_minute_data_is_averaged_to_quarter_hours_first(tmp_path: Path) -> None:
    # 5-min rows 3,000 / 0 / 0 kW in the first quarter of 10:00, 1,000 kW elsewhere: the
    # quarter's average is 1,000 kW, so nothing above 1,000 kW is billed (not the 3,000 kW
    # spike). Hour 10 mean = (1,000 + 3 · 1,000) / 4 = 1,000 kW, ratio 1.
    five = np.full(288, 1000.0)
    five[120:123] = [3000.0, 0.0, 0.0]
    sc = _csv_scenario(tmp_path, "2025-07-10", 24, "1h", five, "5min")
    d = prepare(sc)
    assert d.prof.peak_ratio == pytest.approx(np.ones(24))


def test_hourly_csv_warns_once_with_the_likely_under_billing(tmp_path: Path) -> None:
    # Hourly data at hourly steps cannot show the 15-min peak: a warning sizes the error at the
    # rules' assumed 5 %: 0.05 · 40 CNY/kW·month · 1,000 kW · 24/744 = 64.5 CNY.
    sc = _csv_scenario(tmp_path, "2025-07-10", 24, "1h", [1000.0] * 24, "h")
    with pytest.warns(UserWarning, match=r"under-billed by about 65 CNY") as rec:
        d = prepare(sc)
    assert len([w for w in rec if "billed demand" in str(w.message)]) == 1
    assert d.prof.peak_ratio is None
    assert "under-billed by about 65 CNY" in d.prof.peak_ratio_source


@pytest.mark.parametrize("engine", ENGINES)
def test_synthetic_load_bills_the_same_peak_at_15_min_and_1_h(engine: str) -> None:
    # A load-only park (no flexibility): import = load, so the billed demand at 15 min is the
    # highest synthetic quarter-hour, and at 1 h the hourly mean times its synthetic
    # peak-to-mean ratio gives exactly the same number.
    def billed(step: str, steps: int) -> float:
        d = tiny_dict(steps, time={"start": "2025-07-14", "steps": steps, "step": step},
                      loads={"source": "synthetic", "peak_kw": 1000.0, "park_type": "two_shift"},
                      grid={"import_limit_kw": 5000.0})
        return run(scenario_from_dict(d), engine=engine).kpis["billing"][
            "billed_demand_kw_by_month"]["2025-07"]

    quarter, hourly = billed("15min", 96), billed("1h", 24)
    assert hourly == pytest.approx(quarter, rel=1e-9)
    assert quarter > 1000.0 * 0.9  # above the summer weekday's highest hourly mean


# --- 3. two-part tariff choices: contracted maximum demand or transformer capacity ---------------
# Hand-made profiles bill whole months (month_fraction None → f = 1), 40 CNY/kW·month demand
# price, 25 CNY/kVA·month capacity price, energy free, rules cn-two-part-2016 (105 %, double
# price on the excess, contract ≥ 40 % of the transformer kVA).

def _two_part(load_kw, kva: float, engine: str, start: str = "2025-07-01", **grid):
    from dataclasses import replace

    from zeropark.examples import tiny

    sc, prof = tiny(len(load_kw), dict(load_kw=load_kw, price=0.0, demand_charge=40.0,
                                       start=start),
                    grid={"import_limit_kw": 5000.0, "transformer_kva": kva, **grid})
    cap = 25.0 * kva if sc.grid.billing in ("capacity", "choose") else 0.0
    return run(sc, replace(prof, capacity_charge_per_month=cap), engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_choose_picks_contract_when_it_is_cheaper(engine: str) -> None:
    # 1,000 kW flat, 2,000 kVA: best contract max(0.4 · 2,000, 1,000 / 1.05) = 952.381 kW →
    # 40 · 952.381 = 38,095.24 CNY; capacity 25 · 2,000 = 50,000 CNY → contract.
    r = _two_part([1000.0, 1000.0], 2000.0, engine, billing="choose")
    b = r.kpis["billing"]
    assert b["basis"] == {"2025": "contract"}
    assert b["contract_kw_by_month"]["2025-07"] == pytest.approx(1000 / 1.05, abs=1e-6)
    assert r.objective == pytest.approx(40 * 1000 / 1.05, abs=1e-6)
    assert b["basic_charge"] == pytest.approx(r.objective, abs=1e-6)
    assert b["basis_costs_same_dispatch"]["capacity"] == pytest.approx(50000.0)
    assert b["basis_costs_same_dispatch"]["contract"] == pytest.approx(40 * 1000 / 1.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_choose_picks_capacity_when_it_is_cheaper(engine: str) -> None:
    # 1,000 kW flat, 1,200 kVA: contract max(480, 952.381) → 38,095.24 CNY; capacity
    # 25 · 1,200 = 30,000 CNY → capacity, and no contract is reported.
    r = _two_part([1000.0, 1000.0], 1200.0, engine, billing="choose")
    b = r.kpis["billing"]
    assert b["basis"] == {"2025": "capacity"}
    assert r.objective == pytest.approx(30000.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(30000.0, abs=1e-6)
    assert b["contract_kw_by_month"] == {"2025-07": None}
    assert b["basis_costs_same_dispatch"]["contract"] == pytest.approx(40 * 1000 / 1.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_contract_floor_is_40_percent_of_the_transformer(engine: str) -> None:
    # 300 kW flat, 2,000 kVA: 300 / 1.05 = 285.7 kW is below the floor 0.4 · 2,000 = 800 kW, so
    # the contract is 800 kW: 40 · 800 = 32,000 CNY (capacity would be 50,000).
    r = _two_part([300.0, 300.0], 2000.0, engine, billing="choose")
    assert r.kpis["billing"]["basis"] == {"2025": "contract"}
    assert r.kpis["billing"]["contract_kw_by_month"]["2025-07"] == pytest.approx(800.0, abs=1e-6)
    assert r.objective == pytest.approx(32000.0, abs=1e-6)


@pytest.mark.parametrize(("contract", "expected", "excess"), [
    (960.0, 40 * 960.0, 0.0),  # 1,000 ≤ 1.05 · 960 = 1,008: billed at the contract
    (900.0, 40 * 900.0 + 2 * 40 * 55.0, 55.0),  # 1,000 − 945 = 55 kW at double price: 40,400
    (500.0, 40 * 800.0 + 2 * 40 * 160.0, 160.0),  # below the floor: set at 800, excess 160
])
@pytest.mark.parametrize("engine", ENGINES)
def test_fixed_contract_bills_the_excess_above_105_percent_at_double(
        engine: str, contract: float, expected: float, excess: float) -> None:
    r = _two_part([1000.0, 1000.0], 2000.0, engine, billing="contract", contract_kw=contract)
    assert r.objective == pytest.approx(expected, abs=1e-6)
    assert r.kpis["billing"]["excess_kw_by_month"]["2025-07"] == pytest.approx(excess, abs=1e-6)
    assert r.kpis["billing"]["basis"] == {"horizon": "contract"}


@pytest.mark.parametrize("engine", ENGINES)
def test_quarterly_basis_may_switch_where_yearly_may_not(engine: str) -> None:
    # 30 Jun 1,000 kW, 1 Jul 500 kW, 1,200 kVA; each month billed whole (hand-made profiles).
    # June: contract 952.381 kW → 38,095.24 or capacity 30,000; July: contract max(480, 476.19)
    # = 480 kW → 19,200 or capacity 30,000.
    # Per year (default): contract both 57,295.24 < capacity both 60,000 → contract.
    # Per quarter: capacity in Q2 + contract in Q3 = 49,200.
    load = [1000.0] * 24 + [500.0] * 24
    yearly = _two_part(load, 1200.0, engine, start="2025-06-30", billing="choose")
    assert yearly.kpis["billing"]["basis"] == {"2025": "contract"}
    assert yearly.objective == pytest.approx(40 * 1000 / 1.05 + 19200.0, abs=1e-6)
    quarterly = _two_part(load, 1200.0, engine, start="2025-06-30", billing="choose",
                          basis_period="quarter")
    assert quarterly.kpis["billing"]["basis"] == {"2025-Q2": "capacity", "2025-Q3": "contract"}
    assert quarterly.objective == pytest.approx(30000.0 + 19200.0, abs=1e-6)


@pytest.mark.parametrize(("grid", "match"), [
    ({"billing": "contract"}, r"^grid: .*needs 'transformer_kva'"),
    ({"billing": "capacity"}, r"^grid: .*needs 'transformer_kva'"),
    ({"billing": "choose"}, r"^grid: .*needs 'transformer_kva'"),
    ({"billing": "demand", "contract_kw": 500.0}, r"contract_kw .*needs billing 'contract'"),
    ({"billing": "contract", "transformer_kva": 1.0, "basis_period": "quarter"},
     r"basis_period applies to billing 'choose'"),
    ({"billing": "choose", "transformer_kva": 1.0, "basis_period": "month"}, r"basis_period"),
    ({"billing": "prepaid"}, r"billing"),
])
def test_bad_billing_settings_are_named(grid: dict, match: str) -> None:
    from zeropark.errors import ScenarioError

    with pytest.raises(ScenarioError, match=match):
        scenario_from_dict(tiny_dict(2, grid={"import_limit_kw": 10.0, **grid}))


def test_unknown_billing_rules_key_is_named() -> None:
    from zeropark.errors import ScenarioError
    from zeropark.examples import tiny

    sc, prof = tiny(2, dict(load_kw=[1.0, 1.0], price=0.0),
                    grid={"import_limit_kw": 10.0, "billing": "contract", "transformer_kva": 10.0,
                          "billing_rules": "nowhere-1999"})
    with pytest.raises(ScenarioError, match=r"^grid\.billing_rules: got 'nowhere-1999'"):
        run(sc, prof)


@pytest.mark.parametrize("grid", [
    {"billing": "choose", "basis_period": "quarter"},
    {"billing": "contract"},
    {"billing": "contract", "contract_kw": 600.0},
    {"billing": "capacity"},
    {"billing": "demand"},
])
def test_both_forms_build_the_same_billing_model(grid: dict) -> None:
    # contract/excess/basis columns and rows, pro-rating shares and peak ratios, in both builders
    from dataclasses import replace

    from zeropark import solve_data
    from zeropark.examples import battery, tiny
    from zeropark.model.builder import build_matrix, build_pyomo
    from zeropark.model.equivalence import differences, from_matrix, from_pyomo

    sc, prof = tiny(4, dict(load_kw=[900.0, 1000.0, 300.0, 700.0], price=[1, 2, 1, 2],
                            demand_charge=40.0, start="2025-06-30 22:00"),
                    grid={"import_limit_kw": 5000.0, "transformer_kva": 1500.0, **grid},
                    storage=[battery(energy_kwh=200.0, power_kw=100.0)])
    prof = replace(prof, capacity_charge_per_month=25.0 * 1500.0,
                   month_fraction=np.array([2 / 720, 2 / 744]),
                   peak_ratio=np.array([1.0, 1.2, 1.05, 1.1]), peak_floor_kw=np.array([0.0, 650.0]))
    d = prepare(sc, prof)
    a, b = from_matrix(build_matrix(d)), from_pyomo(build_pyomo(d))
    assert differences(a, b) == []
    m, p = solve_data(d, engine="matrix"), solve_data(d, engine="pyomo")
    assert m.objective == pytest.approx(p.objective, rel=1e-7, abs=1e-6)
    assert m.kpis["total_cost"] == pytest.approx(m.objective, rel=1e-9, abs=1e-6)


def test_kpi_table_says_which_basis_and_contracts() -> None:
    from zeropark.clitools import kpi_lines

    r = _two_part([1000.0, 1000.0], 2000.0, "matrix", billing="choose")
    text = "\n".join(kpi_lines(r.kpis))
    assert "billing basis" in text and "2025 contract" in text
    assert "2025-07 952 kW" in text
    # why: what each basis would cost for this dispatch, cheapest first
    assert "contract 38,095, actual demand 40,000, capacity 50,000 CNY" in text
