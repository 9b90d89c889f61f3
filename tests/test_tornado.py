"""Sensitivity tornado of a sizing answer: a PV sizing case whose optimum at ±20 % of each input
is worked out by hand, bad input, and ``zeropark tornado``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zeropark.cli import main
from zeropark.errors import ScenarioError
from zeropark.examples import tiny
from zeropark.planning.capex import capital_recovery_factor
from zeropark.planning.tornado import spans, tornado

CAPEX_YR = 2800 * capital_recovery_factor(0.06, 25)  # pv-rooftop annualised capex per kWp
C = (CAPEX_YR + 40) * 5 / 8760  # capex + O&M per kWp over 5 h ≈ 0.148 CNY


def pv_case():
    """5 h, load 100 kW at 0.1 CNY/kWh and 0.5 kg/kWh; PV 0/0.5/1/0.5/0 kW per kWp, up to 1000.

    A kWp saves 0.1·2 = 0.2 CNY until the noon hour saturates (K = 100), then 0.1 CNY: with
    0.1 < C < 0.2 the optimum is K = 100 kWp, cost 0.1·(500 − 200) + 100·C.
    """
    return tiny(5, {"load_kw": [100.0] * 5, "price": 0.1, "ef": 0.5,
                    "pv_kw": [[0, 0.5, 1.0, 0.5, 0]]},
                pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": 1000.0}],
                weather={"source": "clearsky", "clearness": {"preset": "yangtze-delta"}})


def test_tornado_by_hand(tmp_path) -> None:
    sc, prof = pv_case()
    res = tornado(sc, prof, out_dir=tmp_path)
    assert res.base["cost"] == pytest.approx(30 + 100 * C, rel=1e-6)
    assert res.base["size.pv.roof.capacity_kw"] == pytest.approx(100.0)
    # 300 kWh from the grid at 0.5 kg over 500 kWh × 0.1229 kgce
    assert res.base["indicator"] == pytest.approx(0.150 / (500 * 0.1229e-3), rel=1e-6)
    t = res.table.set_index(["input", "side"])
    # no certificates in the scenario: gec_price is left out
    assert set(res.table["input"]) == {"capex", "tariff", "pv_yield", "emission_factor"}
    # capex ±20 %: C moves by ±0.2·CAPEX_YR·5/8760 per kWp, still in (0.1, 0.2): K stays 100
    for side, s in (("low", -1), ("high", 1)):
        assert t.loc[("capex", side), "d_cost"] == pytest.approx(
            s * 100 * 0.2 * CAPEX_YR * 5 / 8760, rel=1e-6)
        assert t.loc[("capex", side), "d_size.pv.roof.capacity_kw"] == pytest.approx(0, abs=1e-6)
        # tariff ±20 %: 300 kWh bought at 0.08 / 0.12; the first kWp saves 0.16 / 0.24 > C and
        # beyond the noon saturation 0.08 / 0.12 < C: K stays 100
        assert t.loc[("tariff", side), "d_cost"] == pytest.approx(s * 6.0, rel=1e-6)
        # emission factor ±20 %: no carbon price, the same plan; the indicator moves ±20 %
        assert t.loc[("emission_factor", side), "d_cost"] == pytest.approx(0, abs=1e-6)
        assert t.loc[("emission_factor", side), "d_indicator"] == pytest.approx(
            s * 0.2 * res.base["indicator"], rel=1e-6)
    # PV yield −20 %: 0.8 kW/kWp at noon saturates at K = 125 (0.16 > C before, 0.08 after);
    # +20 %: 1.2 kW/kWp saturates at K = 83.3. Either way 300 kWh are bought: Δcost = ΔK·C
    assert t.loc[("pv_yield", "low"), "size.pv.roof.capacity_kw"] == pytest.approx(125.0)
    assert t.loc[("pv_yield", "low"), "d_cost"] == pytest.approx(25 * C, rel=1e-6)
    assert t.loc[("pv_yield", "high"), "size.pv.roof.capacity_kw"] == pytest.approx(100 / 1.2)
    assert t.loc[("pv_yield", "high"), "d_cost"] == pytest.approx(
        (100 / 1.2 - 100) * C, rel=1e-6)
    # sorted by the span of the cost: tariff (12) > pv_yield (6.2) > capex (5.0) > ef (0)
    assert list(spans(res).index) == ["tariff", "pv_yield", "capex", "emission_factor"]
    assert (tmp_path / "tornado.csv").read_text().splitlines()[1].startswith("base,")
    assert (tmp_path / "tornado.png").stat().st_size > 1000


def test_tornado_bad_input() -> None:
    sc, prof = pv_case()
    for delta in (0.0, 1.0, -0.1):
        with pytest.raises(ScenarioError, match="--delta"):
            tornado(sc, prof, delta=delta)
    with pytest.raises(ScenarioError, match="--inputs"):
        tornado(sc, prof, inputs=["capex", "wind"])


@pytest.mark.slow
def test_tornado_command_on_the_demo_week(tmp_path) -> None:
    r = CliRunner().invoke(main, ["tornado", "scenarios/demo-park.yaml", "--all", "3",
                                  "--horizon", "7d", "--inputs", "tariff,emission_factor",
                                  "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "base: cost" in r.output and "tariff" in r.output
    assert (tmp_path / "tornado.png").is_file()
    r = CliRunner().invoke(main, ["tornado", "scenarios/demo-park.yaml", "--inputs", "wind"])
    assert r.exit_code == 2 and "--inputs" in r.output
