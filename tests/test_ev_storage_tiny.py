"""V2G losses and wear, EV sessions that cannot receive their energy, a free cyclic storage
start, and piles as piles: tiny cases whose optima are worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from zeropark import Status, run
from zeropark.examples import tiny
from zeropark.profiles.base import EvGroupProfile

ENGINES = ["matrix", "pyomo"]


def _v2g_case(**group: float) -> tuple:
    # One car plugged in for 3 h on a 10 kW V2G pile; it needs 10 kWh (grid side) by the end and
    # may hold them from the first step on. Load 10 kW; prices 1, 1.5, 1.
    lo, hi = np.array([0.0, 0.0, 10.0]), np.array([10.0, 10.0, 10.0])
    ev = {"depot": EvGroupProfile(lo, hi, np.full(3, 10.0), 10.0)}
    spec = {"name": "depot", "count": 1, "power_kw": 10.0, "efficiency": 1.0, "v2g": True,
            **group}
    return tiny(3, dict(load_kw=[10, 10, 10], price=[1.0, 1.5, 1.0], ev=ev),
                ev={"groups": [spec], "unmet_penalty_per_kwh": 100.0})


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_lossless_and_free_arbitrage_pays(engine: str) -> None:
    # The old behaviour, still reachable with η = 1 and no wear: charge 10 kWh at 1, give them
    # back at 1.5 in step 1, charge 10 kWh again at 1: 20 + 0 + 20 = 40 (instead of 45).
    sc, prof = _v2g_case(v2g_efficiency=1.0, v2g_wear_cost_per_kwh=0.0)
    r = run(sc, prof, engine=engine)
    assert r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(40.0, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(10.0, abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_discharge_efficiency_shrinks_the_arbitrage(engine: str) -> None:
    # η_c = 1 (given), η_d = 0.81: a kWh delivered takes 1/0.81 kWh of charging. Step 0 charges
    # 10 (the pile limit), so at most 8.1 kWh can come back in step 1; step 2 recharges 10.
    # Value per kWh delivered 1.5 − 1/0.81 = 0.2654 > 0, so deliver 8.1:
    # 20·1 + (10 − 8.1)·1.5 + 20·1 = 42.85.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.0)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(42.85, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(8.1, abs=1e-6)
    # The car's cumulative grid-side energy: 10 − 8.1/0.81 + 10 = 10 at the end.
    assert r.dataset.ev_delivered_kwh.values[0] == pytest.approx([10, 0, 10], abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_v2g_wear_cost_makes_the_arbitrage_unprofitable(engine: str) -> None:
    # As above plus a wear cost of 0.5 per kWh delivered: 1.5 − 1/0.81 − 0.5 = −0.235 < 0, so V2G
    # stays off and the car just charges 10 kWh at price 1: 10 + 15 + 10 + 10 = 45.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.5)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(45.0, abs=1e-6)
    assert r.kpis["ev_v2g_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert r.kpis["cost_breakdown"]["v2g_wear"] == pytest.approx(0.0, abs=1e-6)
    # Wear 0.2 keeps it worth doing (0.0654 per kWh): 42.85 + 0.2·8.1 = 44.47, wear line 1.62.
    sc, prof = _v2g_case(v2g_efficiency=0.81, v2g_wear_cost_per_kwh=0.2)
    r = run(sc, prof, engine=engine)
    assert r.objective == pytest.approx(44.47, abs=1e-6)
    assert r.kpis["cost_breakdown"]["v2g_wear"] == pytest.approx(1.62, abs=1e-6)
    assert r.kpis["total_cost"] == pytest.approx(r.objective, abs=1e-6)


def test_v2g_defaults_come_from_the_group_and_the_library() -> None:
    sc, _ = _v2g_case()
    g = sc.ev.groups[0]
    assert g.v2g_efficiency == g.efficiency == 1.0  # symmetric converter by default
    assert g.v2g_wear_cost_per_kwh == pytest.approx(0.35)  # models/technologies.yaml ev-v2g
