"""Work a command will need after its solve, done while HiGHS solves.

HiGHS solves in its own thread and releases Python's interpreter lock, so during a solve the
main thread only waits (:func:`zeropark.solve.solve_interruptibly`) and, on a 2-core machine,
one core is idle. What a command does after the solve but does not need the solution for --
importing xarray, the NetCDF writer (netCDF4, and dask and distributed, which xarray's writer
looks up whenever dask is installed), matplotlib and its fonts, openpyxl -- costs
0.5–1.5 s in a fresh process. A command names that work with :func:`request` before it solves;
the first solve then runs it in one background thread (:func:`start`), and the code that needs
it calls :func:`wait` first.

Rules that keep this safe:

- the work only imports modules and draws or writes throw-away objects in memory; it changes no
  state a result depends on, so a result is the same with or without it;
- the main thread calls :func:`wait` before it builds results, the part of a command that needs
  what the work imports (between HiGHS calls it runs only the solver loop); were both threads to
  import one module at once, Python's per-module import lock makes one wait for the other;
- a task that fails is ignored here: the same import or write fails again where it is needed,
  with the error message that place gives;
- each task runs at most once per process (later requests of a done task do nothing), and
  nothing runs unless a command asked for it, so library use and tests are unaffected.
"""

from __future__ import annotations

import importlib
import io
import threading
from collections.abc import Callable

__all__ = ["TASKS", "request", "start", "wait"]


def _results() -> None:
    """Modules that results, KPIs and the CF attributes import, and one tiny result written.

    A two-step dataset shaped like a result (a time coordinate, a variable per asset with a string
    coordinate, units) built as :func:`zeropark.results.build_dataset` builds one, written to
    memory the way ``results.nc`` (:func:`zeropark.io.netcdf_bytes`) and ``timeseries.csv`` are:
    this loads netCDF4, lets xarray do its one-time dask lookups and first-use set-up of time
    indexes (≈ 0.05 s the first real dataset would otherwise spend).
    """
    for name in ("zeropark.results", "zeropark.cf", "zeropark.model.carbon"):
        importlib.import_module(name)
    import numpy as np
    import pandas as pd
    import xarray as xr

    from zeropark.io import netcdf_bytes
    from zeropark.results import _variable, timeseries_csv, timeseries_frame

    time = pd.date_range("2025-01-01", periods=2, freq="h", name="time")
    ds = xr.Dataset({"x_kw": _variable(("asset", "time"), np.zeros((1, 2)), {"units": "kW"})},
                    coords={"time": time, "asset": _variable(("asset",), np.array(["a"]))})
    netcdf_bytes(ds)
    timeseries_csv(timeseries_frame(ds))


def _plot() -> None:
    """matplotlib, the plotting module and its font lookup: one small figure rendered to PNG.

    Rendered without :func:`zeropark.plots.figure_bytes`, whose warning filter and rc settings
    are process-wide state the main thread may be using.
    """
    from matplotlib.figure import Figure

    from zeropark import plots

    plots.font_fallback()
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [0, 1], label="PV")
    fig.legend()
    fig.savefig(io.BytesIO(), format="png")


def _excel() -> None:
    """openpyxl, and one tiny workbook saved to memory."""
    import openpyxl

    openpyxl.Workbook().save(io.BytesIO())


#: The work a command can ask for, by name.
TASKS: dict[str, Callable[[], None]] = {"results": _results, "plot": _plot, "excel": _excel}

_lock = threading.Lock()
_pending: list[str] = []
_done: set[str] = set()
_thread: threading.Thread | None = None


def request(*names: str) -> None:
    """Ask for the named tasks (keys of :data:`TASKS`) to run during the next solve.

    Raises
    ------
    KeyError
        A name that is not a task.
    """
    with _lock:
        for name in names:
            if name not in TASKS:
                raise KeyError(f"warm-up task {name!r}: one of {', '.join(TASKS)}")
            if name not in _done and name not in _pending:
                _pending.append(name)


def _run(names: list[str]) -> None:
    for name in names:
        try:
            TASKS[name]()
        except Exception:  # noqa: BLE001 -- the real call reports it where it is needed
            pass


def start() -> None:
    """Start the requested tasks in a background thread; nothing to do if none is pending or a
    thread already runs (its tasks are then run by the next :func:`start` after :func:`wait`)."""
    global _thread
    with _lock:
        if not _pending or _thread is not None:
            return
        names = list(_pending)
        _pending.clear()
        _done.update(names)
        _thread = threading.Thread(target=_run, args=(names,), name="zeropark-warmup",
                                   daemon=True)
        _thread.start()


def wait() -> None:
    """Wait until the running tasks, if any, have finished."""
    global _thread
    thread = _thread
    if thread is not None:
        thread.join()
        with _lock:
            _thread = None
        from zeropark import gcpause

        gcpause.settle()  # what the tasks imported stays out of later collections' scans
