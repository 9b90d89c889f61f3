"""The warm-up done while HiGHS solves (zeropark.warmup): what runs, when, and what it may not do.

Module-loading checks run in a fresh interpreter, as in test_startup.py; no timing assertions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zeropark import warmup

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No task pending or done, no thread, in this test."""
    monkeypatch.setattr(warmup, "_pending", [])
    monkeypatch.setattr(warmup, "_done", set())
    monkeypatch.setattr(warmup, "_thread", None)


def _fresh_interpreter(code: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), *sys.path])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_unknown_task_is_refused_naming_the_tasks(fresh: None) -> None:
    with pytest.raises(KeyError, match="'netcdf'.*results, plot, excel"):
        warmup.request("netcdf")
    assert warmup._pending == []


def test_tasks_run_in_one_background_thread_once(fresh: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    monkeypatch.setitem(warmup.TASKS, "results",
                        lambda: seen.append(("results", threading.current_thread().name)))
    monkeypatch.setitem(warmup.TASKS, "plot",
                        lambda: seen.append(("plot", threading.current_thread().name)))
    warmup.request("results", "plot", "results")
    warmup.start()
    warmup.start()  # a second start while the thread runs starts nothing
    warmup.wait()
    assert seen == [("results", "zeropark-warmup"), ("plot", "zeropark-warmup")]
    warmup.request("plot")  # done already: not run again
    warmup.start()
    warmup.wait()
    assert len(seen) == 2


def test_a_failing_task_is_left_to_the_code_that_needs_it(fresh: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ImportError("no module named openpyxl")

    monkeypatch.setitem(warmup.TASKS, "excel", broken)
    monkeypatch.setitem(warmup.TASKS, "results", lambda: ran.append("results"))
    warmup.request("excel", "results")
    warmup.start()
    warmup.wait()  # the error is not raised here, and the next task still ran
    assert ran == ["results"]


def test_nothing_runs_unless_asked_and_the_solve_starts_what_was_asked() -> None:
    """A 24-step solve through the public API writes no NetCDF, so netCDF4 is loaded only when
    the warm-up was asked for; the request is carried out by the solve and finished by then."""
    code = """
import json, sys
from zeropark import warmup
from zeropark.api import prepare, solve_data
ask = {ask}
if ask:
    warmup.request("results")
before = "netCDF4" in sys.modules
r = solve_data(prepare("scenarios/demo-park.yaml", steps=24))
print(json.dumps({{"before": before, "after": "netCDF4" in sys.modules,
                   "thread": warmup._thread is not None, "ok": r.ok}}))
"""
    asked = _fresh_interpreter(code.format(ask=True))
    assert asked == {"before": False, "after": True, "thread": False, "ok": True}
    unasked = _fresh_interpreter(code.format(ask=False))
    assert unasked == {"before": False, "after": False, "thread": False, "ok": True}
