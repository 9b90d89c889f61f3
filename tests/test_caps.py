"""Binding caps of sizing runs: flagged, with shadow prices equal to the finite difference of the
optimum, by hand on tiny cases."""

from __future__ import annotations

import pytest

from zeropark.errors import ScenarioError
from zeropark.examples import battery, tiny
from zeropark.planning.sizing import size

WEATHER = {"source": "clearsky", "clearness": {"preset": "yangtze-delta"}}
CRF_25 = 0.06 * 1.06**25 / (1.06**25 - 1)  # pv-rooftop lifetime 25 yr at 6 %
CRF_15 = 0.06 * 1.06**15 / (1.06**15 - 1)  # lfp-2h lifetime 15 yr


def pv_case(cap: float):
    """5 h, load 100 kW at 0.1 CNY/kWh, PV 0/0.5/1/0.5/0 kW per kWp; no export."""
    return tiny(5, {"load_kw": [100.0] * 5, "price": 0.1, "pv_kw": [[0, 0.5, 1.0, 0.5, 0]]},
                pv=[{"name": "roof", "capacity_kw": 1.0, "max_capacity_kw": cap}],
                weather=WEATHER)


def asset(result, key: str) -> dict:
    return next(a for a in result.kpis["sizing"]["assets"] if a["asset"] == key)


def test_pv_cap_binds_and_its_shadow_price_is_the_finite_difference() -> None:
    # Below 100 kWp a kWp saves 0.1·(0.5+1+0.5) = 0.2 CNY over the 5 h and costs
    # c = (2800·CRF + 40)·5/8760: at a 60 kWp cap the optimum buys all 60, and one more kWp of cap
    # is worth (0.2 − c) per 5 h, i.e. (0.2 − c)·8760/5 CNY/yr.
    c = (2800 * CRF_25 + 40) * 5 / 8760
    r60, r61 = size(*pv_case(60.0)), size(*pv_case(61.0))
    a = asset(r60, "pv.roof.capacity_kw")
    assert a["at_cap"] is True
    assert r60.kpis["sizing"]["binding_caps"] == ["pv.roof.capacity_kw"]
    by_hand = (0.2 - c) * 8760 / 5
    finite_difference = -(r61.objective - r60.objective) * 8760 / 5
    assert a["shadow_price_per_unit_year"] == pytest.approx(by_hand, rel=1e-6)
    assert a["shadow_price_per_unit_year"] == pytest.approx(finite_difference, rel=0.01)


def test_free_size_is_not_flagged() -> None:
    r = size(*pv_case(1000.0))  # optimum 100 kWp, far from the cap
    a = asset(r, "pv.roof.capacity_kw")
    assert a["at_cap"] is False and a["shadow_price_per_unit_year"] in (0.0, None)
    assert r.kpis["sizing"]["binding_caps"] == []


def test_storage_energy_cap_shadow_price_includes_the_power_it_allows() -> None:
    # 4 h, load 100 kW, price 0.3, 0.3, 1.0, 1.0: each kWh shifted saves 0.7 CNY. With the energy
    # cap at 150 kWh (optimum 200) the battery is E = 150, P = E/2 = 75: one more kWh of cap
    # buys 1 kWh of E and 0.5 kW of P and saves 0.7 − c_E − c_P/2 over the 4 h.
    def case(cap: float):
        return tiny(4, {"load_kw": [100.0] * 4, "price": [0.3, 0.3, 1.0, 1.0]},
                    storage=[battery("bat", 0.0, 0.0, max_energy_kwh=cap)])

    c_e = 540 * CRF_15 * 4 / 8760
    c_p = (300 * CRF_15 + 28) * 4 / 8760
    r150, r151 = size(*case(150.0)), size(*case(151.0))
    e = asset(r150, "storage.bat.energy_kwh")
    assert e["at_cap"] is True and asset(r150, "storage.bat.power_kw")["at_cap"] is True
    by_hand = (0.7 - c_e - c_p / 2) * 8760 / 4
    finite_difference = -(r151.objective - r150.objective) * 8760 / 4
    assert e["shadow_price_per_unit_year"] == pytest.approx(by_hand, rel=1e-6)
    assert e["shadow_price_per_unit_year"] == pytest.approx(finite_difference, rel=0.01)
    # per kW of power: the same lever, d = 2 kWh of energy cap per kW
    assert asset(r150, "storage.bat.power_kw")["shadow_price_per_unit_year"] == pytest.approx(
        2 * by_hand, rel=1e-6)


def test_cli_names_the_binding_cap(tmp_path) -> None:
    import json

    import yaml
    from click.testing import CliRunner

    from zeropark.cli import main
    from zeropark.examples import tiny_dict

    data = tiny_dict(24, weather=WEATHER, loads={"source": "synthetic", "peak_kw": 50.0},
                     pv=[{"name": "roof", "capacity_kw": 20.0, "max_capacity_kw": 5.0}])
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data))
    res = CliRunner().invoke(main, ["size", str(path), "-o", str(tmp_path / "o"), "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "cap binds: pv.roof.capacity_kw = 5 kWp: one more kWp of cap would save" in res.output
    kpis = json.loads((tmp_path / "o" / "kpis.json").read_text())
    assert kpis["sizing"]["binding_caps"] == ["pv.roof.capacity_kw"]
    assert kpis["sizing"]["assets"][0]["shadow_price_per_unit_year"] > 0


def test_no_caps_says_what_to_add() -> None:
    sc, prof = tiny(5, {"load_kw": [100.0] * 5, "price": 0.1, "pv_kw": [[0, 0.5, 1.0, 0.5, 0]]},
                    pv=[{"name": "roof", "capacity_kw": 1.0}], weather=WEATHER)
    with pytest.raises(ScenarioError, match=r"--all FACTOR .*--all 3") as err:
        size(sc, prof)
    assert "pv.N.max_capacity_kw" in str(err.value) and "--set" in str(err.value)


def test_widening_stops_when_no_cap_binds_or_at_the_budget() -> None:
    from zeropark.planning.sizing import size_widening

    # cap 60 binds (optimum 100 kWp) → 120 does not: two rounds, 100 kWp
    r = size_widening(*pv_case(60.0), factor=2.0)
    w = r.kpis["sizing"]["widening"]
    assert [x["caps"]["pv.roof.capacity_kw"] for x in w["rounds"]] == [60.0, 120.0]
    assert w["stopped"] == "no_binding_cap"
    assert r.kpis["sizing"]["sizes"]["pv.roof.capacity_kw"] == pytest.approx(100.0)
    # a budget of 200 000 CNY: 60 kWp cost 168 000, 100 kWp would cost 280 000 → keep 60
    r = size_widening(*pv_case(60.0), factor=2.0, budget=200000.0)
    assert r.kpis["sizing"]["widening"]["stopped"] == "budget"
    assert r.kpis["sizing"]["sizes"]["pv.roof.capacity_kw"] == pytest.approx(60.0)
    # a roof is physical: never widened
    r = size_widening(*pv_case(1000.0), factor=2.0, roof_m2={"roof": 300.0})
    assert r.kpis["sizing"]["widening"]["stopped"] == "roof"
    with pytest.raises(ScenarioError, match="factor > 1"):
        size_widening(*pv_case(60.0), factor=1.0)
