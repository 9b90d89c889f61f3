"""The pvlib part of the profiles computed in a forked process (zeropark.profiles.forked).

The forked copy must give bit-for-bit the arrays of the main process, give nothing whenever it
would have had something to say (an error, a warning), and never outlive its job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeropark.errors import ScenarioError
from zeropark.profiles.build import build_profiles, solar_parts
from zeropark.profiles.forked import SolarJob
from zeropark.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo-park.yaml"

pytestmark = pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2,
                                reason="the job forks on Linux with two cores or more only")


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return load_scenario(DEMO)


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_forked_parts_are_the_main_process_parts(demo) -> None:  # type: ignore[no-untyped-def]
    job = SolarJob.start(lambda: demo)
    assert job is not None
    got = job.result()
    want = solar_parts(demo)
    assert got is not None
    pd.testing.assert_frame_equal(got.weather, want.weather)
    np.testing.assert_array_equal(got.pv_avail_kw, want.pv_avail_kw)
    assert got.green_direct_kw is None and want.green_direct_kw is None
    assert got.pv_avail_kw.max() > 1000.0  # the demo's 8 MWp array at midday


def test_profiles_built_with_the_job_are_identical(demo) -> None:  # type: ignore[no-untyped-def]
    job = SolarJob.start(lambda: demo)
    assert job is not None
    a, b = build_profiles(demo, job.result), build_profiles(demo)
    for name in ("load_kw", "pv_avail_kw", "import_price_per_kwh", "temp_air_c",
                 "heat_demand_kw", "ef_kg_per_kwh"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.ev.keys() == b.ev.keys()


def test_a_failing_job_gives_nothing_and_the_error_comes_from_this_process(demo) -> None:  # type: ignore[no-untyped-def]
    def broken():  # type: ignore[no-untyped-def]
        raise ScenarioError("weather.path", "gone.epw", "an existing file")

    job = SolarJob.start(broken)
    assert job is not None and job.result() is None
    # the caller then computes the part itself: an error surfaces where it would without the job
    bad = demo.replace({"weather.source": "file", "weather.path": "no-such-file.epw"})
    with pytest.raises(ScenarioError, match="weather.path"):
        build_profiles(bad, lambda: None)


def test_a_job_that_would_warn_gives_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    def noisy():  # type: ignore[no-untyped-def]
        warnings.warn("something to show", UserWarning, stacklevel=1)
        return demo

    job = SolarJob.start(noisy)
    assert job is not None and job.result() is None


def test_close_stops_and_reaps_the_job(demo) -> None:  # type: ignore[no-untyped-def]
    job = SolarJob.start(lambda: demo)
    assert job is not None
    pid = job._pid
    assert pid is not None
    job.close()
    job.close()  # again: nothing to do
    assert _reaped(pid) and job.result() is None


def test_no_fork_when_turned_off(monkeypatch: pytest.MonkeyPatch, demo) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZEROPARK_NO_FORK", "1")
    assert SolarJob.start(lambda: demo) is None


@pytest.mark.slow
def test_cli_run_gives_the_same_results_with_and_without_the_job(tmp_path: Path) -> None:
    outs = {}
    for no_fork in ("0", "1"):
        out = tmp_path / f"no-fork-{no_fork}"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "ZEROPARK_NO_FORK": no_fork}
        proc = subprocess.run([sys.executable, "-m", "zeropark", "-q", "run", str(DEMO),
                               "--no-plot", "-o", str(out)], capture_output=True, text=True,
                              env=env, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr
        outs[no_fork] = json.loads((out / "kpis.json").read_text())
        assert (out / "timeseries.csv").stat().st_size > 0
    a, b = outs["0"], outs["1"]
    assert a["solver"]["objective"] == b["solver"]["objective"]
    assert a["cost_breakdown"] == b["cost_breakdown"]
    assert (tmp_path / "no-fork-0" / "timeseries.csv").read_bytes() == \
        (tmp_path / "no-fork-1" / "timeseries.csv").read_bytes()
