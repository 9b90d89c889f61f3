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


@pytest.mark.parametrize("engine", ENGINES)
def test_capacity_charge_pro_rated_the_same_way(tmp_path: Path, engine: str) -> None:
    # Same 48 h on capacity billing: 2,000 kVA · 25 CNY/kVA·month · (24/744 + 24/744)
    # = 3,225.806 CNY (before: 50,000 · 12 · 48 / 8760 = 3,287.67, a year's share).
    sc = _csv_scenario(tmp_path, "2025-07-31", 48, "1h", [1000.0] * 48, "h",
                       billing="capacity", transformer_kva=2000.0,
                       capacity_charge_per_kva_month=25.0)
    r = run(sc, engine=engine)
    assert r.kpis["cost_breakdown"]["demand"] == pytest.approx(50000.0 * 48 / 744, abs=1e-6)


def test_whole_months_carry_the_whole_charge(tmp_path: Path) -> None:
    # All of February 2025 (672 h) then 1 h of March: fractions 1 and 1/744.
    d = prepare(_csv_scenario(tmp_path, "2025-02-01", 673, "1h", [10.0] * 673, "h"))
    assert d.prof.month_fraction == pytest.approx([1.0, 1 / 744])
    # a shorter study cut from it carries its own share of each month
    assert d.prof.window(0, 24).month_fraction == pytest.approx([24 / 672])
