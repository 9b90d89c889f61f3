"""What the CLI prints and writes must read right: relaxations labelled, revenues negative so the
cost lines add up, no "-0", and every share saying what it counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

import zeropark as zp
from zeropark.cli import main
from zeropark.clitools import fmt, kpi_lines, pct
from zeropark.examples import battery, tiny, tiny_dict

ENGINES = ["matrix", "pyomo"]


def _pays_through(**extra: object) -> tuple:
    # Export pays more than import (2 > 1), 3 kW PV surplus (PV 5, load 2), exclusivity binaries
    # in every step. MILP: no import, export 3 → cost −6.
    return tiny(1, dict(load_kw=[2], price=1.0, export_price=2.0, pv_kw=[[5]]),
                pv=[{"name": "roof", "capacity_kw": 6}],
                grid={"import_limit_kw": 100.0, "export_limit_kw": 50.0},
                solver={"mip_gap": 0.0, "threads": 1, "exclusivity": "all"},
                weather={"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}},
                **extra)


def _with_battery() -> tuple:
    # The same with a 10 kWh / 10 kW battery holding 5 kWh (η = 1, end free).
    # MILP: discharge 5, export 8 → −16.
    # LP relaxation, exclusivity u relaxed with the data-derived big-Ms (deficit 2 + 10 = 12,
    # surplus 5 + 10 − 2 = 13): import ≤ 12·u, export = import + 3 + 5 ≤ 13·(1 − u) → u = 0.2,
    # import 2.4, export 10.4: cost 2.4 − 2·10.4 = −18.4.
    return _pays_through(storage=[battery(energy_kwh=10, power_kw=10, soc_initial=0.5)])


@pytest.mark.parametrize("engine", ENGINES)
def test_relaxation_is_labelled_in_kpis_dataset_and_cli(engine: str, tmp_path: Path) -> None:
    sc, prof = _with_battery()
    exact = zp.run(sc, prof, engine=engine)
    assert exact.objective == pytest.approx(-16.0, abs=1e-5)
    assert exact.kpis["solver"]["relaxation"] is False
    assert exact.dataset.attrs["relaxation"] == 0 and "comment" not in exact.dataset.attrs
    relaxed = zp.run(sc, prof, engine=engine, relax=True)
    assert relaxed.objective == pytest.approx(-18.4, abs=1e-6)
    assert relaxed.kpis["solver"]["relaxation"] is True
    assert "lower bound" in relaxed.kpis["solver"]["note"]
    relaxed.write(tmp_path)
    assert json.loads((tmp_path / "kpis.json").read_text())["solver"]["relaxation"] is True
    ds = xr.load_dataset(tmp_path / "results.nc")
    assert ds.attrs["relaxation"] == 1 and ds.attrs["status"] == "optimal (LP relaxation)"
    assert "LP relaxation" in ds.attrs["comment"]
    solver = [line for line in kpi_lines(relaxed.kpis) if line.startswith("solver")]
    assert len(solver) == 1 and "LP relaxation" in solver[0] and "gap" not in solver[0]
    assert "optimal, gap" in next(line for line in kpi_lines(exact.kpis) if line.startswith("solver"))


def test_cli_run_relax_prints_the_label(tmp_path: Path) -> None:
    data = tiny_dict(24, storage=[{"name": "bat", "energy_kwh": 100, "power_kw": 50}])
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out"), "--relax",
                                    "--no-plot"])
    assert res.exit_code == 0, res.output
    assert re.search(r"^solver\s+LP relaxation \(optimal\)", res.output, re.M)
    assert "gap 0" not in res.output


def _cost_rows(lines: list[str]) -> dict[str, float]:
    rows = {}
    for line in lines:
        m = re.match(r"^(\s*)([A-Za-z][\w ]*?)\s{2,}(-?[\d,]+) CNY$", line)  # v2g_wear too
        if m:
            rows[(m[1] + m[2]).strip()] = float(m[3].replace(",", ""))
    return rows


def test_cost_lines_add_up_to_the_total_with_revenues_negative() -> None:
    # PV 5, load 2, export at 2 per kWh, import price 1, exclusivity: export 3 kWh → revenue 6,
    # nothing bought: total −6 = 0 (energy) + … − 6 (export_revenue).
    sc, prof = _pays_through()
    r = zp.run(sc, prof)
    rows = _cost_rows(kpi_lines(r.kpis))
    assert rows["total cost"] == -6 and rows["export_revenue"] == -6
    parts = {k: v for k, v in rows.items() if k != "total cost"}
    assert sum(parts.values()) == rows["total cost"]
    assert set(parts) == set(r.kpis["cost_breakdown"])


def test_demo_week_cost_lines_add_up_within_rounding() -> None:
    r = zp.run("scenarios/demo-park.yaml", start=24 * 194, steps=48)
    rows = _cost_rows(kpi_lines(r.kpis))
    parts = [v for k, v in rows.items() if k != "total cost"]
    assert r.kpis["cost_breakdown"]["dr_revenue"] >= 0 and rows["dr_revenue"] <= 0
    # each printed part is rounded to 1 CNY: the sum is within half a unit per line
    assert abs(sum(parts) - rows["total cost"]) <= 0.5 * (len(parts) + 1)


def test_no_minus_zero() -> None:
    assert fmt(-0.3) == "0" and fmt(-1e-12, 1) == "0.0" and fmt(-0.6) == "-1"
    assert fmt(1234.5, 1) == "1,234.5" and pct(-1e-9) == "0.0 %" and pct(0.974) == "97.4 %"
    sc, prof = tiny(2, dict(load_kw=[1, 1], price=1.0))
    text = "\n".join(kpi_lines(zp.run(sc, prof).kpis))
    assert not re.search(r"-0(\.0+)?\b(?!\.\d*[1-9])", text), text


def test_green_share_says_it_includes_certificates() -> None:
    # 1000 kWh of load, PV 100 kW available (a little less after the PV losses), hard 30 % green
    # share: the rest of the 300 kWh is bought as certificates. The green share (30 %) is split
    # into on-site PV + certificates; self-sufficiency is the physical PV part alone.
    sc, prof = tiny(1, dict(load_kw=[1000], price=0.5, pv_kw=[[100]]),
                    pv=[{"name": "roof", "capacity_kw": 200}],
                    weather={"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}},
                    green_power={"certificates": {"price_per_mwh": 5.0}},
                    targets={"green_share": {"value": 0.3, "mode": "hard"}})
    r = zp.run(sc, prof)
    lines = {line.split("  ")[0]: line for line in kpi_lines(r.kpis)}
    green = lines["green-power share"]
    m = re.search(r"^green-power share\s+30\.0 % of consumption = on-site PV ([\d.]+) % \+ "
                  r"certificates ([\d.]+) % \(([\d.]+) MWh of certificates\); target 30\.0 %$", green)
    assert m, green
    pv_pct, cert_pct, cert_mwh = map(float, m.groups())
    assert pv_pct + cert_pct == pytest.approx(30.0, abs=0.11)
    assert cert_mwh == pytest.approx(round(r.kpis["certificates_mwh"], 1))
    assert 0.1 < cert_mwh / 1.0 < 0.3  # between 20 % and 30 % of 1 MWh (PV after its losses)
    assert lines["self-sufficiency"].endswith(f"{pv_pct} % of consumption from on-site PV")
    assert "not exported" in lines["PV self-consumption"]
    assert "incl. certificates" in lines["clean energy share (≥ 90 %)"]


def test_validate_lists_every_error_one_line_each(tmp_path: Path) -> None:
    data = tiny_dict(24, loads={"source": "synthetic", "peak_kw": -5},
                     grid={"import_limit_kw": -1, "export_limit_kw": 0},
                     storage=[{"name": "b", "energy_kwh": 10, "power_kw": 5, "soc_min": 2}])
    data["site"]["colour"] = "red"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.startswith("error: ")]
    fields = sorted(line.split(":")[1].strip() for line in lines)
    assert fields == ["grid.import_limit_kw", "loads.peak_kw", "site.colour", "storage.0.soc_min"]
    assert "more error" not in res.output
    # the Python API still raises one ScenarioError that counts the others
    with pytest.raises(zp.ScenarioError, match=r"\(and 3 more errors\)"):
        zp.scenario_from_dict(data)


def test_diagnose_prints_its_explanation_once(tmp_path: Path) -> None:
    # no green supply at all: a hard 50 % green share cannot be met
    path = tmp_path / "inf.yaml"
    path.write_text(yaml.safe_dump(tiny_dict(4, targets={"green_share": {"value": 0.5,
                                                                          "mode": "hard"}})),
                    encoding="utf-8")
    res = CliRunner().invoke(main, ["diagnose", str(path)])
    assert res.exit_code == 3
    assert res.output.count("green share 50 % unreachable") == 1, res.output
