"""Formats planners and analysts use: the Excel workbook of a result and CF metadata in the
NetCDF files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

import zeropark as zp
from zeropark.cf import utc_offset_text
from zeropark.cli import main
from zeropark.examples import battery, tiny, tiny_dict

openpyxl = pytest.importorskip("openpyxl")


def _arbitrage(**sections: object) -> zp.Result:
    # Charge 5 kW at price 1 (4.5 kWh stored at η_c 0.9), discharge it in the price-3 step:
    # import 5, 0.5, 5 → 5·1 + 0.5·3 + 5·2 = 16.5.
    sc, prof = tiny(3, dict(load_kw=[0, 5, 5], price=[1, 3, 2]),
                    storage=[battery(charge_efficiency=0.9)], **sections)
    r = zp.run(sc, prof)
    assert r.objective == pytest.approx(16.5, abs=1e-7)
    return r


def _sheets(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_workbook_holds_kpis_monthly_table_and_time_series(tmp_path: Path) -> None:
    from zeropark.excel import write_excel

    r = _arbitrage()
    sheets = _sheets(write_excel(r, tmp_path / "results.xlsx"))
    assert list(sheets) == ["KPIs", "Monthly", "Time series", "About"]
    kpis = {row[0]: (row[1], row[2]) for row in sheets["KPIs"][1:]}
    assert kpis["total_cost"] == (pytest.approx(16.5), "CNY")
    assert kpis["import_kwh"] == (pytest.approx(10.5), "kWh")
    assert kpis["zero_carbon_indicator.value"][1] == "tCO2/tce"
    assert kpis["green_share"][1] == "1" and kpis["co2_t"][1] == "t"
    costs = [v for k, (v, _) in kpis.items() if k.startswith("cost_breakdown.")]
    assert sum(costs) == pytest.approx(16.5)
    header, *months = sheets["Monthly"]
    assert header[0] == "month" and [m[0] for m in months] == ["2025-07"]
    row = dict(zip(header, months[0], strict=True))
    assert row["grid_import_mwh"] == pytest.approx(10.5e-3)
    assert row["energy_cost_CNY"] == pytest.approx(16.5)  # no demand charge: all energy
    assert row["billed_peak_import_kw"] == pytest.approx(5.0)
    header, *steps = sheets["Time series"]
    assert header[:2] == ("time", "load_kw")
    imp = header.index("grid_import_kw")
    assert [s[imp] for s in steps] == pytest.approx([5, 0.5, 5])
    assert [s[0] for s in steps] == list(pd.date_range("2025-07-01", periods=3, freq="h"))
    about = dict(sheets["About"][1:])
    assert "UTC+08:00" in about["time"] and about["LP relaxation"] == "no"


def test_workbook_revenues_are_negative_and_lines_add_up(tmp_path: Path) -> None:
    from zeropark.excel import write_excel

    # PV 5, load 2, export at 2 (import price 1), exclusivity: export 3 kWh → revenue 6, total −6
    sc, prof = tiny(1, dict(load_kw=[2], price=1.0, export_price=2.0, pv_kw=[[5]]),
                    pv=[{"name": "roof", "capacity_kw": 6}],
                    grid={"import_limit_kw": 100.0, "export_limit_kw": 50.0},
                    weather={"source": "clearsky", "clearness": {"monthly_clearness": [0.5] * 12}})
    r = zp.run(sc, prof)
    kpis = {row[0]: row[1] for row in _sheets(write_excel(r, tmp_path / "x.xlsx"))["KPIs"][1:]}
    assert kpis["cost_breakdown.export_revenue"] == pytest.approx(-6.0)
    assert kpis["total_cost"] == pytest.approx(-6.0)
    assert sum(v for k, v in kpis.items() if k.startswith("cost_breakdown.")) == pytest.approx(-6)


def test_cli_run_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_dict(24)), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "o"), "--excel",
                                    "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "results.xlsx" in res.output
    steps = _sheets(tmp_path / "o" / "results.xlsx")["Time series"][1:]
    assert len(steps) == 24
    # without openpyxl: one line saying how to install it, before any solve, nothing written
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "p"), "--excel"])
    assert res.exit_code == 2 and 'pip install "zeropark[excel]"' in res.output
    assert "building" not in res.output and not (tmp_path / "p" / "kpis.json").exists()


def test_results_nc_follows_cf_conventions(tmp_path: Path) -> None:
    r = _arbitrage()
    r.write(tmp_path)
    with xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf") as ds:
        assert ds.attrs["Conventions"] == "CF-1.10"
        assert ds.attrs["title"] == "zeropark dispatch of tiny" and "source" in ds.attrs
        assert ds.attrs["time_utc_offset"] == "+08:00"
        assert ds.attrs["time_zone"] == "Asia/Shanghai"
        for name, da in ds.data_vars.items():
            assert da.attrs.get("long_name") and "units" in da.attrs, name
        assert ds.import_price_per_kwh.attrs["units"] == "CNY/kWh"
        assert ds.export_price_per_kwh.attrs["units"] == "CNY/kWh"
        assert ds.time.attrs["standard_name"] == "time" and ds.time.attrs["utc_offset"] == "+08:00"
        assert "local standard time" in ds.time.attrs["long_name"]
        # the timestamps are those of the scenario, not shifted to UTC
        assert pd.Timestamp(ds.time.values[0]) == pd.Timestamp("2025-07-01 00:00")
        assert ds.storage.attrs["long_name"] == "storage unit"


def test_utc_offset_of_other_sites(tmp_path: Path) -> None:
    assert utc_offset_text(8) == "+08:00" and utc_offset_text(5.5) == "+05:30"
    assert utc_offset_text(-3.5) == "-03:30" and utc_offset_text(0) == "+00:00"
    data = tiny_dict(3)
    data["site"]["timezone"] = "Asia/Kolkata"
    r = zp.run(zp.scenario_from_dict(data))
    assert r.dataset.attrs["time_utc_offset"] == "+05:30"
    # Berlin: standard time (+01:00), never the summer offset
    data["site"]["timezone"] = "Europe/Berlin"
    assert zp.run(zp.scenario_from_dict(data)).dataset.attrs["time_utc_offset"] == "+01:00"


def test_profiles_nc_has_cf_metadata(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_dict(24)), encoding="utf-8")
    res = CliRunner().invoke(main, ["profiles", str(path), "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    with xr.open_dataset(tmp_path / "profiles.nc", engine="h5netcdf") as ds:
        assert ds.attrs["Conventions"] == "CF-1.10"
        assert ds.import_price_per_kwh.attrs["units"] == "CNY/kWh"
        assert np.all([bool(da.attrs.get("long_name")) for da in ds.data_vars.values()])


def _pvgis_json_from_epw(path: Path, epw: Path) -> Path:
    """A PVGIS TMY JSON (the layout PVGIS serves) holding the EPW's year, stamped in UTC: the EPW
    is in UTC+8, so UTC hour h of the year holds the EPW's local hour h + 8 (wrapping round)."""
    import json

    import pvlib

    data, _ = pvlib.iotools.read_epw(epw, coerce_year=2019)
    shift = 8
    rows = []
    utc = pd.date_range("2019-01-01", periods=8760, freq="h")
    for i, t in enumerate(utc):
        rec = data.iloc[(i + shift) % 8760]
        rows.append({"time(UTC)": f"{t:%Y%m%d:%H%M}", "T2m": float(rec.temp_air),
                     "RH": 50.0, "G(h)": float(rec.ghi), "Gb(n)": float(rec.dni),
                     "Gd(h)": float(rec.dhi), "IR(h)": 300.0, "WS10m": float(rec.wind_speed),
                     "WD10m": 0.0, "SP": 101325.0})
    doc = {"inputs": {"location": {"latitude": 31.3, "longitude": 120.6, "elevation": 5.0},
                      "meteo_data": {}},
           "outputs": {"months_selected": [{"month": m, "year": 2019} for m in range(1, 13)],
                       "tmy_hourly": rows},
           "meta": {"inputs": {}, "outputs": {}}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_pvgis_tmy_reads_like_the_same_epw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zeropark import guard
    from zeropark.profiles import weatherfile

    # the weather file sits in tmp_path, outside the tiny scenario's folder: allowed as
    # `zeropark --allow-outside tmp_path` would (the path policy has its own tests)
    monkeypatch.setenv(guard.ENV_ALLOW, str(tmp_path.resolve()))

    epw = Path(__file__).parent / "data" / "suzhou-synthetic.epw"
    pvgis = _pvgis_json_from_epw(tmp_path / "tmy.json", epw)
    time = pd.date_range("2025-01-01", periods=8760, freq="h")
    a = weatherfile.read_weather_file(epw, fmt="epw", time=time, utc_offset_h=8.0, field="w")
    b = weatherfile.read_weather_file(pvgis, fmt="pvgis", time=time, utc_offset_h=8.0, field="w")
    # hourly steps on the hour get the file values unchanged: the two files agree exactly
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), atol=1e-9)
    # and a scenario takes it as weather.format: pvgis
    data = tiny_dict(24, weather={"source": "file", "path": str(pvgis), "format": "pvgis"},
                     pv=[{"name": "roof", "capacity_kw": 100}])
    assert zp.run(zp.scenario_from_dict(data)).kpis["pv_generation_kwh"] > 0
    with pytest.raises(zp.ScenarioError, match="weather"):
        (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
        weatherfile.read_weather_file(tmp_path / "bad.json", fmt="pvgis", time=time, utc_offset_h=8.0,
                                field="weather.path")
