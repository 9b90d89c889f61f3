"""The pvlib part of the profiles computed in a forked process (zeropark.profiles.forked).

The forked copy must give bit-for-bit the arrays of the main process, give nothing whenever it
would have had something to say (an error, a warning), never outlive its job, and never be forked
while another thread runs. The job forks only from a process whose only thread is the main one,
so each check runs in a fresh interpreter (the test process has threads of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo-park.yaml"

pytestmark = pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2,
                                reason="the job forks on Linux with two cores or more only")

_PRELUDE = (
    "import os, threading, time, warnings\n"
    "import numpy as np, pandas as pd\n"
    "from zeropark.errors import ScenarioError\n"
    "from zeropark.profiles.build import build_profiles, solar_parts\n"
    "from zeropark.profiles.forked import SolarJob\n"
    "from zeropark.scenario import load_scenario\n"
    f"demo = load_scenario({str(DEMO)!r})\n"
)


def _check(code: str, **env: str) -> None:
    """Run the prelude and ``code`` in a fresh interpreter; it must finish without an error."""
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + code], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src"), **env})
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_forked_parts_and_profiles_are_the_main_process_ones() -> None:
    _check(
        "job = SolarJob.start(lambda: demo)\n"
        "assert job is not None\n"
        "got, want = job.result(), solar_parts(demo)\n"
        "pd.testing.assert_frame_equal(got.weather, want.weather)\n"
        "np.testing.assert_array_equal(got.pv_avail_kw, want.pv_avail_kw)\n"
        "assert got.green_direct_kw is None and want.green_direct_kw is None\n"
        "assert got.pv_avail_kw.max() > 1000.0  # the demo's 8 MWp array at midday\n"
        "job = SolarJob.start(lambda: demo)\n"
        "a, b = build_profiles(demo, job.result), build_profiles(demo)\n"
        "for name in ('load_kw', 'pv_avail_kw', 'import_price_per_kwh', 'temp_air_c',\n"
        "             'heat_demand_kw', 'ef_kg_per_kwh'):\n"
        "    np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)\n"
        "assert a.ev.keys() == b.ev.keys()\n")


def test_a_failing_or_warning_job_gives_nothing() -> None:
    _check(
        "def broken():\n"
        "    raise ScenarioError('weather.path', 'gone.epw', 'an existing file')\n"
        "def noisy():\n"
        "    warnings.warn('something to show', UserWarning, stacklevel=1)\n"
        "    return demo\n"
        "for source in (broken, noisy):\n"
        "    job = SolarJob.start(source)\n"
        "    assert job is not None and job.result() is None, source\n"
        "# the caller then computes the part itself, and its error surfaces as without the job\n"
        "bad = demo.replace({'weather.source': 'file', 'weather.path': 'no-such-file.epw'})\n"
        "try:\n"
        "    build_profiles(bad, lambda: None)\n"
        "except ScenarioError as err:\n"
        "    assert 'weather.path' in str(err), err\n"
        "else:\n"
        "    raise AssertionError('no error for a missing weather file')\n")


def test_close_stops_and_reaps_the_job_and_a_stuck_job_is_not_waited_for() -> None:
    _check(
        "job = SolarJob.start(lambda: demo)\n"
        "pid = job._pid\n"
        "job.close(); job.close()  # again: nothing to do\n"
        "try:\n"
        "    os.waitpid(pid, os.WNOHANG)\n"
        "    raise AssertionError('not reaped')\n"
        "except ChildProcessError:\n"
        "    pass\n"
        "assert job.result() is None\n"
        "import zeropark.profiles.forked as forked\n"
        "forked.WAIT_S = 0.5\n"
        "job = SolarJob.start(lambda: time.sleep(30) or demo)\n"
        "t = time.monotonic()\n"
        "assert job.result() is None and time.monotonic() - t < 5\n")


def test_no_fork_while_another_thread_runs_or_when_turned_off() -> None:
    _check(
        "stop = threading.Event()\n"
        "worker = threading.Thread(target=stop.wait, daemon=True)\n"
        "worker.start()\n"
        "assert SolarJob.start(lambda: demo) is None, 'forked beside a running thread'\n"
        "stop.set(); worker.join()\n"
        "job = SolarJob.start(lambda: demo)\n"
        "assert job is not None\n"
        "job.close()\n")
    _check("assert SolarJob.start(lambda: demo) is None\n", ZEROPARK_NO_FORK="1")


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
    a, b = outs["0"], outs["1"]
    assert a["solver"]["objective"] == b["solver"]["objective"]
    assert a["cost_breakdown"] == b["cost_breakdown"]
    assert (tmp_path / "no-fork-0" / "timeseries.csv").read_bytes() == \
        (tmp_path / "no-fork-1" / "timeseries.csv").read_bytes()
