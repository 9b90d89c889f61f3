"""Sweeps: a LocalCluster of 2 worker processes gives the serial results case by case; a failing
case is recorded while the others finish; a rerun skips done cases; the merged dataset and table;
a real ``dask scheduler`` + ``dask worker`` on loopback driven by ``zeropark sweep --scheduler``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from click.testing import CliRunner

import zeropark as zp
from zeropark.cli import main
from zeropark.examples import battery, tiny_dict
from zeropark.planning.sweep import (
    CaseOptions,
    grid_cases,
    parse_set,
    run_sweep,
    sweep,
)

distributed = pytest.importorskip("distributed")

WEATHER = {"source": "clearsky", "clearness": {"preset": "yangtze-delta"}}
GRID = {"storage.0.energy_kwh": [0, 4, 8, -1], "pv.0.capacity_kw": [1, 3]}


def park(steps: int = 24, **sections) -> dict:
    """A small park: 3 kW peak load, PV, a 4 kWh battery, paid export."""
    data = tiny_dict(steps, pv=[{"name": "roof", "capacity_kw": 2.0}], weather=WEATHER,
                     loads={"source": "synthetic", "peak_kw": 3.0},
                     storage=[battery("bat", 4.0, 2.0)],
                     grid={"import_limit_kw": 100.0, "export_limit_kw": 1.0,
                           "export_price_per_kwh": 0.3})
    data.update(sections)
    return data


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        scheduler_kwargs={"dashboard": False}, silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def serial_result() -> object:
    return sweep(zp.scenario_from_dict(park()), GRID, serial=True)


def test_local_cluster_equals_serial_case_by_case(client, serial_result) -> None:
    sc = zp.scenario_from_dict(park())
    dist = sweep(sc, GRID, client=client)
    ser = serial_result
    assert dist.ran == 8 and dist.skipped == 0 and dist.failed == 2  # the two -1 kWh cases
    assert list(dist.table["case_id"]) == list(ser.table["case_id"])
    for a, b in zip(dist.records, ser.records, strict=True):
        assert a["outcome"] == b["outcome"]
        if a["outcome"] == "solved":
            assert a["objective"] == pytest.approx(b["objective"], rel=1e-9)
            for k in ("total_cost", "co2_t", "import_kwh", "green_share"):
                assert a["kpis"][k] == pytest.approx(b["kpis"][k], rel=1e-9, abs=1e-9)
    # the cases ran in the worker processes, not here
    workers = set(dist.table["worker"])
    assert all(w and not w.endswith(f":{os.getpid()}") for w in workers)


def test_failing_case_is_recorded_and_the_others_finish(serial_result) -> None:
    t = serial_result.table
    bad = t[t["storage.0.energy_kwh"] == -1]
    assert len(bad) == 2 and (bad["outcome"] == "error").all()
    assert bad["error"].str.contains("storage.0.energy_kwh").all()
    good = t[t["storage.0.energy_kwh"] != -1]
    assert (good["outcome"] == "solved").all() and len(good) == 6
    assert serial_result.failed == 2
    # more storage never costs more (free battery, ideal efficiency)
    ds = serial_result.dataset
    cost = ds["total_cost"].sel({"storage.0.energy_kwh": [0, 4, 8]}).values
    assert (np.diff(cost, axis=0) <= 1e-9).all()
    assert (np.diff(cost, axis=1) <= 1e-9).all()  # more PV never costs more either


def test_dataset_and_files(tmp_path) -> None:
    sc = zp.scenario_from_dict(park())
    out = tmp_path / "sw"
    res = sweep(sc, {"storage.0.energy_kwh": [0, 8]}, serial=True, out_dir=out,
                options=CaseOptions(time_series=True))
    ds = xr.load_dataset(out / "sweep.nc", engine="h5netcdf")
    assert list(ds["storage.0.energy_kwh"].values) == [0, 8]
    assert ds["total_cost"].dims == ("storage.0.energy_kwh",)
    assert ds["grid_import_kw"].dims == ("storage.0.energy_kwh", "time")
    assert ds.sizes["time"] == 24
    # each case's series matches its KPI: import energy = Σ import · dt
    assert ds["grid_import_kw"].sum("time").values == pytest.approx(ds["import_kwh"].values)
    assert set(ds["outcome"].values) == {"solved"}
    table = (out / "sweep.csv").read_text().splitlines()
    assert len(table) == 3 and table[0].startswith("storage.0.energy_kwh,")
    assert len(list((out / "cases").glob("*.json"))) == 2
    assert len(list((out / "cases").glob("*.nc"))) == 2
    assert res.table["total_cost"].iloc[1] <= res.table["total_cost"].iloc[0] + 1e-9


def test_rerun_skips_cases_already_done(tmp_path) -> None:
    sc = zp.scenario_from_dict(park())
    grid = {"storage.0.energy_kwh": [0, 4, -1]}
    first = sweep(sc, grid, serial=True, out_dir=tmp_path, options=CaseOptions(time_series=True))
    assert (first.ran, first.skipped, first.failed) == (3, 0, 1)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cases").iterdir()}
    again = sweep(sc, grid, serial=True, out_dir=tmp_path, options=CaseOptions(time_series=True))
    # the two solved cases are reused, the failed one is retried (and fails again)
    assert (again.ran, again.skipped, again.failed) == (1, 2, 1)
    for rec in first.records:
        path = tmp_path / "cases" / f"{rec['case_id']}.json"
        changed = path.stat().st_mtime_ns != stamps[path.name]
        assert changed == (rec["outcome"] == "error")
    assert again.table["total_cost"].equals(first.table["total_cost"])
    assert again.dataset["grid_import_kw"].equals(first.dataset["grid_import_kw"])
    # a different window is a different case
    other = sweep(sc, grid, serial=True, out_dir=tmp_path, steps=12)
    assert other.skipped == 0


def test_no_solution_is_a_result_not_an_error(tmp_path) -> None:
    sc = zp.scenario_from_dict(park(targets={"emission_cap": {"value_t": 1.0, "mode": "hard"}}))
    res = sweep(sc, {"targets.emission_cap.value_t": [1.0, 0.0]}, serial=True, out_dir=tmp_path)
    assert list(res.table["outcome"]) == ["solved", "no_solution"]
    assert res.table["status"].iloc[1] == "infeasible" and res.failed == 0
    again = sweep(sc, {"targets.emission_cap.value_t": [1.0, 0.0]}, serial=True,
                  out_dir=tmp_path)
    assert again.skipped == 2


def test_scenarios_dimension_and_profile_sharing() -> None:
    a = zp.scenario_from_dict(park(name="north"))
    b = zp.scenario_from_dict(park(name="south", loads={"source": "synthetic", "peak_kw": 4.0}))
    cases = grid_cases([a, b], {"storage.0.energy_kwh": [0, 4]}, CaseOptions())
    assert [c.coords for c in cases][:2] == [{"scenario": "north", "storage.0.energy_kwh": 0},
                                             {"scenario": "north", "storage.0.energy_kwh": 4}]
    res = run_sweep(cases, serial=True)
    ds = res.dataset
    assert ds["total_cost"].dims == ("scenario", "storage.0.energy_kwh")
    assert list(ds["scenario"].values) == ["north", "south"]
    grid = sweep(a, {"pv.0.capacity_kw": [3, 1], "storage.0.energy_kwh": [4, 0]}, serial=True)
    assert list(grid.dataset["pv.0.capacity_kw"].values) == [3, 1]  # order as given
    assert list(grid.dataset["storage.0.energy_kwh"].values) == [4, 0]
    assert float(grid.dataset["total_cost"].sel({"pv.0.capacity_kw": 1,
                                                 "storage.0.energy_kwh": 0})) == \
        pytest.approx(float(grid.table.query("`pv.0.capacity_kw` == 1 and "
                                             "`storage.0.energy_kwh` == 0")["total_cost"].iloc[0]))
    assert float(ds["consumption_kwh"].sel(scenario="south", **{"storage.0.energy_kwh": 0})) > \
        float(ds["consumption_kwh"].sel(scenario="north", **{"storage.0.energy_kwh": 0}))
    from zeropark.planning.sweep import _profile_key

    assert _profile_key(a.replace({"storage.0.energy_kwh": 9}), "t") == _profile_key(a, "t")
    assert _profile_key(a.replace({"pv.0.capacity_kw": 9}), "t") != _profile_key(a, "t")


def test_set_parsing_and_bad_paths() -> None:
    assert parse_set("storage.0.energy_kwh=0,5000,2.5e4") == ("storage.0.energy_kwh",
                                                              [0, 5000, 25000.0])
    assert parse_set("storage.0.technology=lfp-2h,lfp-4h")[1] == ["lfp-2h", "lfp-4h"]
    with pytest.raises(zp.ScenarioError, match="--set"):
        parse_set("storage.0.energy_kwh")
    sc = zp.scenario_from_dict(park())
    with pytest.raises(zp.ScenarioError, match="storage.5"):
        grid_cases([sc], {"storage.5.energy_kwh": [1]}, CaseOptions())
    with pytest.raises(zp.ScenarioError, match="energy_kw"):
        grid_cases([sc], {"storage.0.energy_kw": [1]}, CaseOptions())


def test_cli_sweep_serial_sizing_and_exit_codes(tmp_path) -> None:
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(park()))
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(main, ["sweep", str(path), "--set", "grid.export_price_per_kwh=0.1,0.5",
                               "--size", "--all", "3", "--serial", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "cases done" in res.output  # the progress bar (on stderr)
    ds = xr.load_dataset(out / "sweep.nc", engine="h5netcdf")
    pv = ds["sizing.sizes.pv.roof.capacity_kw"].values
    assert pv[1] >= pv[0] - 1e-9  # a better export price never buys less PV
    assert "2 cases: 2 run, 0 already done, 0 failed" in res.output
    res = runner.invoke(main, ["sweep", str(path), "--set", "storage.0.energy_kwh=-1,-2",
                               "--serial", "--no-progress", "-o", str(tmp_path / "bad")])
    assert res.exit_code == 3 and "no case has a solution" in res.output
    res = runner.invoke(main, ["sweep", str(path), "--set", "storage.0.nope=1", "--serial",
                               "-o", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "storage.0.nope" in res.output


def _dask(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_external_scheduler_and_worker_on_loopback(tmp_path) -> None:
    sched_file = tmp_path / "scheduler.json"
    work = tmp_path / "worker"
    work.mkdir()
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(sched_file), cwd=tmp_path)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(_dask("worker", address, "--nworkers", "1", "--nthreads", "1",
                           "--host", "127.0.0.1", "--no-dashboard", "--local-directory",
                           str(work), cwd=work))
        with distributed.Client(address, timeout="30s") as c:
            c.wait_for_workers(1, timeout=60)
        path = tmp_path / "park.yaml"
        path.write_text(yaml.safe_dump(park()))
        out = tmp_path / "out"
        args = ["sweep", "park.yaml", "--set", "storage.0.energy_kwh=0,4,-1",
                "--scheduler", address, "--no-progress", "-o", str(out)]
        cwd = os.getcwd()
        os.chdir(tmp_path)  # a relative scenario path: workers get the absolute folder
        try:
            res = CliRunner().invoke(main, args)
        finally:
            os.chdir(cwd)
        assert res.exit_code == 0, res.output
        assert "3 cases: 3 run, 0 already done, 1 failed" in res.output
        table = (out / "sweep.csv").read_text()
        ds = xr.load_dataset(out / "sweep.nc", engine="h5netcdf")
        assert list(ds["outcome"].values) == ["solved", "solved", "error"]  # as given: 0, 4, -1
        assert f":{os.getpid()}," not in table  # solved by the external worker
        serial = sweep(zp.load_scenario(path), {"storage.0.energy_kwh": [0, 4]}, serial=True)
        assert ds["total_cost"].sel({"storage.0.energy_kwh": [0, 4]}).values == \
            pytest.approx(serial.table["total_cost"].values, rel=1e-9)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
