"""Cost–carbon Pareto front by the ε-constraint method: a hand-computable front (grid vs a dearer
green supply), monotonicity on a real small park, the anchors, and ``zeropark pareto``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import zeropark as zp
from zeropark.cli import main
from zeropark.examples import battery, tiny, tiny_dict
from zeropark.planning.pareto import max_green_share, min_emissions_t, pareto

WEATHER = {"source": "clearsky", "clearness": {"preset": "yangtze-delta"}}


def two_hours(direct_kw: float = 100.0):
    """2 h, load 100 kW; grid 0.3 then 0.5 CNY/kWh at 0.5 kg/kWh; green supply 0.6 CNY/kWh.

    Minimum cost: all grid, 80 CNY, 100 kg. Replacing grid by green costs 0.1 CNY/kWh in hour 2
    (0.2 CNY per kg avoided), then 0.3 CNY/kWh in hour 1 (0.6 CNY/kg): cost(ε kg) =
    80 + 0.2·(100 − ε) for ε ≥ 50, 90 + 0.6·(50 − ε) below.
    """
    return tiny(2, {"load_kw": [100.0, 100.0], "price": [0.3, 0.5], "ef": 0.5,
                    "green_direct_kw": direct_kw},
                green_power={"direct": {"capacity_kw": direct_kw, "shape": "flat",
                                        "price_per_kwh": 0.6}})


def test_front_against_emissions_by_hand() -> None:
    sc, prof = two_hours()
    res = pareto(sc, prof, versus="co2", points=5, serial=True)
    t = res.table
    assert res.anchors["min_cost"] == pytest.approx(0.1)
    assert res.anchors["best"] == pytest.approx(0.0, abs=1e-9)
    assert list(t["outcome"]) == ["solved"] * 5
    assert t["epsilon"].to_numpy() == pytest.approx([0.1, 0.075, 0.05, 0.025, 0.0], abs=1e-5)
    assert t["total_cost"].to_numpy() == pytest.approx([80, 85, 90, 105, 120], abs=1e-3)
    assert t["co2_t"].to_numpy() == pytest.approx([0.1, 0.075, 0.05, 0.025, 0.0], abs=1e-5)
    # marginal abatement cost Δcost/ΔCO2 between adjacent points: 0.2 CNY/kg = 200 CNY/t while
    # hour 2 is replaced, then 0.6 CNY/kg = 600 CNY/t
    assert np.isnan(t["mac_per_t"].iloc[0])
    assert t["mac_per_t"].to_numpy()[1:] == pytest.approx([200, 200, 600, 600], rel=1e-3)


def test_front_against_green_share_by_hand() -> None:
    sc, prof = two_hours()
    res = pareto(sc, prof, versus="green_share", points=5, serial=True)
    t = res.table
    assert res.anchors["min_cost"] == pytest.approx(0.0, abs=1e-9)
    assert res.anchors["best"] == pytest.approx(1.0)
    assert t["green_share"].to_numpy() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0], abs=1e-5)
    assert t["total_cost"].to_numpy() == pytest.approx([80, 85, 90, 105, 120], abs=1e-3)


def test_anchors_respect_a_limited_green_supply() -> None:
    sc, prof = two_hours(direct_kw=40.0)
    # at most 40 of 100 kW green each hour: share 0.4, emissions 0.5·120 kg = 0.06 t
    assert max_green_share(sc, prof) == pytest.approx(0.4)
    assert min_emissions_t(sc, prof) == pytest.approx(0.06)


def test_front_is_monotone_on_a_small_park(tmp_path) -> None:
    data = tiny_dict(48, weather=WEATHER, loads={"source": "synthetic", "peak_kw": 50.0},
                     pv=[{"name": "roof", "capacity_kw": 40.0}],
                     storage=[battery("bat", 80.0, 40.0, charge_efficiency=0.95,
                                      discharge_efficiency=0.95)],
                     grid={"import_limit_kw": 500.0, "export_limit_kw": 20.0,
                           "export_price_per_kwh": 0.35},
                     green_power={"direct": {"capacity_kw": 20.0, "shape": "wind",
                                             "price_per_kwh": 0.9},
                                  "offsets": {"price_per_t": 70.0, "max_share": 0.05}},
                     targets={"emission_cap": {"value_t": 5.0, "mode": "soft"}})
    sc = zp.scenario_from_dict(data)
    res = pareto(sc, versus="co2", points=6, serial=True, out_dir=tmp_path)
    t = res.table
    assert (t["outcome"] == "solved").all()
    cost, co2, eps = (t[c].to_numpy() for c in ("total_cost", "co2_t", "epsilon"))
    assert (np.diff(eps) < 0).all()
    assert (co2 <= eps + 1e-6).all()  # every point meets its cap
    assert (np.diff(co2) <= 1e-7).all()  # emissions fall …
    assert (np.diff(cost) >= -1e-6).all()  # … and cost rises along the front
    assert cost[-1] > cost[0]
    # convex front: the marginal cost of abatement never falls
    slope = np.diff(cost) / -np.diff(co2)
    assert (np.diff(slope) >= -1e-6 * np.abs(slope[1:]).max()).all()
    assert (tmp_path / "pareto.csv").is_file() and (tmp_path / "pareto.png").stat().st_size > 0
    assert (tmp_path / "sweep.nc").is_file()
    # the ε points are sweep cases: a rerun reuses them
    again = pareto(sc, versus="co2", points=6, serial=True, out_dir=tmp_path)
    assert again.sweep.skipped == 6 and again.sweep.ran == 0


def test_cli_pareto(tmp_path) -> None:
    data = tiny_dict(24, weather=WEATHER, loads={"source": "synthetic", "peak_kw": 50.0},
                     pv=[{"name": "roof", "capacity_kw": 30.0}],
                     green_power={"direct": {"capacity_kw": 10.0, "shape": "flat",
                                             "price_per_kwh": 0.8}})
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["pareto", str(path), "--versus", "green-share", "--points",
                                    "3", "--serial", "--no-progress", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = (out / "pareto.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("point,epsilon,total_cost")
    assert (out / "pareto.png").is_file()
    res = CliRunner().invoke(main, ["pareto", str(path), "--points", "1", "-o", str(out)])
    assert res.exit_code == 2


def test_front_with_sizing_by_hand() -> None:
    # 5 h, load 100 kW, PV 0/0.5/1/0.5/0 kW per kWp (cap 1000 kWp), grid 0.1 CNY/kWh at
    # 0.5 kg/kWh. Minimum cost sizes K = 100 kWp (tests/test_sizing.py): 300 kWh imported, 150 kg.
    # Each kWp beyond 100 adds 1 kWh of shoulder-hour PV (−0.5 kg) for c − 0.1 CNY, up to
    # K = 200 where PV covers hours 1–3 and the nights' 200 kWh (100 kg) remain.
    sc, prof = tiny(5, {"load_kw": [100.0] * 5, "price": 0.1, "ef": 0.5,
                        "pv_kw": [[0, 0.5, 1.0, 0.5, 0]]},
                    pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": 1000.0}],
                    weather=WEATHER)
    c = (2800 * 0.06 * 1.06**25 / (1.06**25 - 1) + 40) * 5 / 8760  # per kWp over 5 h
    res = pareto(sc, prof, versus="co2", points=3, sizing=True, serial=True)
    t = res.table
    assert res.anchors["min_cost"] == pytest.approx(0.150)
    assert res.anchors["best"] == pytest.approx(0.100)
    # (the last ε sits 1 g above the minimum for the solver's tolerance: 2 Wp less)
    assert t["sizing.sizes.pv.roof.capacity_kw"].to_numpy() == pytest.approx([100, 150, 200],
                                                                              abs=0.01)
    base = 0.1 * 300 + 100 * c
    assert t["objective"].to_numpy() == pytest.approx(
        [base, base + 50 * (c - 0.1), base + 100 * (c - 0.1)], rel=1e-5)
    # each tonne avoided costs (c − 0.1) CNY per kWp / 0.0005 t per kWp
    assert t["mac_per_t"].to_numpy()[1:] == pytest.approx([(c - 0.1) / 0.0005] * 2, rel=1e-3)
