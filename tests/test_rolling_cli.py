"""Rolling horizon and the `zeropark run` command end to end (real files, real HiGHS)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from zeropark import ScenarioError, load_scenario
from zeropark.cli import main
from zeropark.rolling import parse_rolling, run_rolling

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios/demo-park.yaml"


def test_rolling_week_close_to_full_horizon_and_carries_state() -> None:
    sc = load_scenario(DEMO)
    r = run_rolling(sc, "48h:24h", start=24 * 195, steps=168)
    info = r.kpis["rolling"]
    assert info["windows"] == 6
    # the full-horizon run is solved to a 0.1 % MIP gap, so rolling may even land a hair below it
    assert abs(info["cost_gap_vs_full"]) < 0.02
    ds = r.dataset
    assert ds.sizes["time"] == 168
    # SOC is continuous across window boundaries: the balance holds at every committed step
    u = sc.storage[0]
    soc = ds.storage_soc_kwh.values[0]
    prev = np.concatenate([[u.soc_initial * u.energy_kwh], soc[:-1]])
    flow = (u.charge_efficiency * ds.storage_charge_kw.values[0]
            - ds.storage_discharge_kw.values[0] / u.discharge_efficiency)
    assert np.allclose(soc, prev * (1 - u.self_discharge_per_h) + flow, atol=1e-5)
    # the month's peak is paid once, on the stitched import (billed demand: the hourly import
    # plus the synthetic load's rise to its highest quarter-hour, the highest 15-min average)
    from zeropark.api import prepare

    rise = prepare(sc, start=24 * 195, steps=168).prof.peak_excursion_kw
    assert r.kpis["peak_import_kw_by_month"]["2025-07"] == pytest.approx(
        float((ds.grid_import_kw.values + rise).max()), rel=1e-9)
    # a week of July carries 168/744 of the month's demand charge, in every window alike
    assert r.kpis["billing"]["month_fraction"] == {"2025-07": pytest.approx(168 / 744)}


def test_parse_rolling_rejects_bad_specs() -> None:
    assert parse_rolling("48h:24h", 1.0) == (48, 24)
    assert parse_rolling("2d:6h", 0.25) == (192, 24)
    for bad in ("48h", "24h:48h", "x:y", "0h:0h"):
        with pytest.raises(ScenarioError, match="--rolling"):
            parse_rolling(bad, 1.0)


def test_cli_run_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(DEMO), "-o", str(out), "--start",
                                    "2025-07-15T00:00", "--horizon", "48h", "--gap", "0.001"])
    assert res.exit_code == 0, res.output
    assert "CO2 per tce" in res.output and "green-power share" in res.output
    names = {p.name for p in out.iterdir()}
    assert {"results.nc", "kpis.json", "timeseries.csv", "dispatch.png"} <= names
    assert not [n for n in names if n.startswith(".")], "no temporary files left behind"
    kpis = json.loads((out / "kpis.json").read_text())
    for key in ("total_cost", "cost_breakdown", "import_kwh", "export_kwh", "consumption_kwh",
                "pv_generation_kwh", "pv_curtailed_kwh", "self_consumption", "self_sufficiency",
                "green_share", "co2_t", "co2_per_tce", "zero_carbon_indicator",
                "peak_import_kw_by_month", "storage_equivalent_cycles", "ev_energy_kwh",
                "ev_unmet_kwh", "dr_revenue", "solver", "timings"):
        assert key in kpis
    assert set(kpis["cost_breakdown"]) == {"energy", "demand", "export_revenue",
                                           "storage_throughput", "green_power", "certificates",
                                           "offsets", "carbon", "penalties", "dr_revenue"}
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
        assert ds.sizes["time"] == 48
        assert ds.attrs["status"] == "optimal"
        assert float(ds.grid_import_kw.sum()) == pytest.approx(kpis["import_kwh"])


def test_cli_run_bad_options_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["run", str(DEMO), "-o", str(tmp_path), "--start", "2031-01-01"])
    assert res.exit_code == 2 and "--start" in res.output
    res = runner.invoke(main, ["run", str(DEMO), "-o", str(tmp_path), "--horizon", "soon"])
    assert res.exit_code == 2 and "--horizon: got 'soon'" in res.output


def test_cli_run_infeasible_exit_3_with_explanation(tmp_path: Path) -> None:
    text = DEMO.read_text().replace(
        "green_share: {value: 0.35, mode: soft, penalty_per_kwh: 0.05}",
        "green_share: {value: 0.35, mode: hard}").replace(
        "  certificates: {price_per_mwh: 5.0}\n", "")
    bad = tmp_path / "park.yaml"
    bad.write_text(text)
    res = CliRunner().invoke(main, ["run", str(bad), "-o", str(tmp_path / "o"),
                                    "--horizon", "24h", "--start", "2025-01-06T00:00"])
    assert res.exit_code == 3, res.output
    assert "no solution" in res.output
    assert "Traceback" not in res.output


def test_cli_rolling_reports_its_gap(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["run", str(DEMO), "-o", str(tmp_path), "--start",
                                    "2025-07-15T00:00", "--horizon", "72h", "--rolling", "48h:24h",
                                    "--no-plot"])
    assert res.exit_code == 0, res.output
    rolling = json.loads((tmp_path / "kpis.json").read_text())["rolling"]
    # [0, 48) commits 24 h; [24, 72) reaches the horizon end and commits all of its 48 h
    assert rolling["windows"] == 2 and rolling["spec"] == "48h:24h"
    assert abs(rolling["cost_gap_vs_full"]) < 0.02
