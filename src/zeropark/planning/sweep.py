"""Scenario sweeps on Dask distributed: cases, the worker function, rerun skipping, and the merge
of all cases into one ``xarray.Dataset`` (case dimensions × KPIs, optionally time series).

A case is a scenario plus dotted-path changes (``{"storage.0.energy_kwh": 5000}``) and the
coordinates it takes in the sweep. Cases run on a Dask ``LocalCluster`` started for the sweep
(one single-threaded worker process per core), on an existing cluster (scheduler address), or
serially in this process. Every finished case is written at once to ``DIR/cases/<id>.json``
(and ``<id>.nc`` with time series), so a rerun skips the cases already done; a case that raises
is recorded with its error and retried on the next run. A case whose solve has no solution
(infeasible, time limit without incumbent) is a result, recorded with its status, not retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from zeropark.errors import ScenarioError
from zeropark.planning.records import (
    flatten_kpis,
    load_record,
    records_dataset,
    records_table,
    save_record,
    write_outputs,
)
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

_PROFILE_CACHE_SIZE = 4
# Scenario parts that build_profiles never reads: variants differing only here share profiles.
_NOT_IN_PROFILES = ("name", "description", "sources", "currency", "storage", "targets", "fuels",
                    "solver", "sizing")
_NOT_IN_PROFILES_NESTED = (("grid", "import_limit_kw"), ("grid", "export_limit_kw"),
                           ("ev", "unmet_penalty_per_kwh"), ("green_power", "certificates"),
                           ("green_power", "offsets"))


@dataclass(frozen=True)
class CaseOptions:
    """How every case of a sweep is solved.

    Attributes
    ----------
    mode : {"run", "size"}
        Dispatch (:func:`zeropark.run`) or sizing (:func:`zeropark.planning.sizing.size`).
    engine : {"matrix", "pyomo"}, optional
    relax : bool, optional
    all_factor : float, optional
        Sizing mode: cap of assets without a cap = factor × present size.
    time_series : bool
        Keep each case's dispatch dataset (merged into the sweep dataset).
    """

    mode: Literal["run", "size"] = "run"
    engine: str | None = None
    relax: bool | None = None
    all_factor: float | None = None
    time_series: bool = False


@dataclass(frozen=True)
class Case:
    """One scenario variant of a sweep.

    Attributes
    ----------
    case_id : str
        Hash of the base scenario's content, the changes, the window and the options.
    label : str
        Name of the base scenario in the sweep.
    scenario : Scenario
        The base scenario (the changes are applied in the worker).
    changes : dict
        Dotted-path changes, as for :meth:`Scenario.replace`.
    coords : dict
        Coordinates of the case on the sweep's dimensions.
    start, steps : int
        Window of the horizon to solve (``steps`` None: to the end).
    info : dict
        Extra scalar columns for the table (e.g. the ε of a Pareto point).
    """

    case_id: str
    label: str
    scenario: Scenario
    changes: dict[str, Any]
    coords: dict[str, Any]
    start: int = 0
    steps: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class SweepResult:
    """All cases of a sweep.

    Attributes
    ----------
    dataset : xarray.Dataset
        Case dimensions × KPIs (``total_cost``, ``co2_t``, ``cost_breakdown.energy`` …), plus
        ``case_id``, ``outcome`` (solved / no_solution / error), ``status``, ``error``; with
        time series also the dispatch variables over (case dimensions, time, asset).
    table : pandas.DataFrame
        One row per case, the same columns.
    records : list of dict
        The raw case records.
    ran, skipped, failed : int
        Cases solved now, reused from an earlier run, and raising an error.
    """

    dataset: xr.Dataset
    table: pd.DataFrame
    records: list[dict[str, Any]]
    ran: int
    skipped: int
    failed: int
    timings: dict[str, float] = field(default_factory=dict)


# -- cases ---------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A ``--set`` value: number (``5000`` → int, ``2.5e4`` → float), else a YAML scalar
    (``true``, ``null``, text)."""
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``"storage.0.energy_kwh=0,5000,10000"`` → ``("storage.0.energy_kwh", [0, 5000, 10000])``."""
    path, sep, values = text.partition("=")
    path = path.strip()
    items = [v.strip() for v in values.split(",")]
    if not sep or not path or not all(items):
        raise ScenarioError("--set", text, "PATH=V1,V2,... e.g. storage.0.energy_kwh=0,5000")
    parsed = [parse_value(v) for v in items]
    for raw, value in zip(items, parsed, strict=True):
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError("--set", f"{path}={raw}", "finite numbers (no nan or inf)")
    return path, parsed


def check_path(sc: Scenario, path: str) -> None:
    """Raise :class:`ScenarioError` if ``path`` names no field of the scenario."""
    node: Any = sc.model_dump(mode="json")
    for i, part in enumerate(path.split(".")):
        where = ".".join(path.split(".")[: i + 1])
        if node is None:
            return  # an optional block not set yet: the values create it (validated per case)
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError("--set", path, f"'{where}': a list index 0..{len(node) - 1}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise ScenarioError("--set", path, f"'{where}': a field, one of {sorted(node)}")
            node = node[part]
        else:
            raise ScenarioError("--set", path, f"'{where}' is a value, not a section")


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def profiles_digest(prof: Profiles) -> str:
    """Hash of the main arrays of a profiles object (identifies explicitly given profiles)."""
    h = hashlib.sha256()
    for arr in (prof.load_kw, prof.pv_avail_kw, prof.import_price_per_kwh,
                prof.export_price_per_kwh, prof.ef_kg_per_kwh):
        h.update(np.ascontiguousarray(arr, float).tobytes())
    h.update(str(prof.time[0]).encode() if prof.n_steps else b"")
    return h.hexdigest()[:16]


def make_case(sc: Scenario, changes: Mapping[str, Any], coords: Mapping[str, Any],
              options: CaseOptions, *, label: str | None = None, start: int = 0,
              steps: int | None = None, info: Mapping[str, Any] | None = None,
              profiles_token: str = "") -> Case:
    """A :class:`Case` with its id (stable across runs for the same inputs)."""
    key = {"base": sc.content_hash(), "changes": dict(changes), "start": start, "steps": steps,
           "mode": options.mode, "engine": options.engine, "relax": options.relax,
           "all_factor": options.all_factor, "profiles": profiles_token}
    return Case(_digest(key), label or sc.name, sc, dict(changes), dict(coords), start, steps,
                dict(info or {}))


#: Most cases a sweep makes without ``force`` (``zeropark sweep --force``).
MAX_CASES = 10_000


def count_cases(n_scenarios: int, grid: Mapping[str, Sequence[Any]]) -> int:
    """Number of cases of the full factorial, counted before any is made."""
    return n_scenarios * math.prod(len(values) for values in grid.values())


def grid_cases(scenarios: Sequence[Scenario], grid: Mapping[str, Sequence[Any]],
               options: CaseOptions, *, windows: Sequence[tuple[int, int | None]] | None = None,
               force: bool = False) -> list[Case]:
    """The full factorial of ``grid`` (path → values) for every scenario.

    Dimensions: ``scenario`` (only with several scenarios, labelled by name) then the paths.

    Raises
    ------
    ScenarioError
        More than :data:`MAX_CASES` cases without ``force`` (counted first: 4 × 100 values once
        meant 10⁸ cases and minutes of silence).
    """
    import itertools

    n = count_cases(len(scenarios), grid)
    if n > MAX_CASES and not force:
        raise ScenarioError("--set", f"{n:,} cases",
                            f"at most {MAX_CASES:,} cases (fewer values, or --force)")

    labels = _unique_labels([sc.name for sc in scenarios])
    for sc in scenarios:
        for path in grid:
            check_path(sc, path)
    for path, values in grid.items():
        if not len(values):
            raise ScenarioError("--set", path, "at least one value")
    cases = []
    paths = list(grid)
    for k, sc in enumerate(scenarios):
        start, steps = windows[k] if windows is not None else (0, None)
        for combo in itertools.product(*[list(grid[p]) for p in paths]):
            changes = dict(zip(paths, combo, strict=True))
            coords = ({"scenario": labels[k]} if len(scenarios) > 1 else {}) | changes
            cases.append(make_case(sc, changes, coords, options, label=labels[k], start=start,
                                   steps=steps))
    return cases


def _unique_labels(names: list[str]) -> list[str]:
    out = []
    for i, n in enumerate(names):
        out.append(n if names.count(n) == 1 else f"{n}#{names[: i + 1].count(n)}")
    return out


# -- the worker side -----------------------------------------------------------------------------
_PROFILE_CACHE: OrderedDict[str, Profiles] = OrderedDict()


def _profile_key(sc: Scenario, token: str) -> str:
    data = sc.model_dump(mode="json")
    for key in _NOT_IN_PROFILES:
        data.pop(key, None)
    for outer, inner in _NOT_IN_PROFILES_NESTED:
        if isinstance(data.get(outer), dict):
            data[outer].pop(inner, None)
    return _digest({"data": data, "base": str(sc.base_dir), "token": token})


def _profiles_for(sc: Scenario, token: str) -> Profiles:
    """Profiles of ``sc``, shared between variants of one sweep that only differ elsewhere."""
    from zeropark.profiles.build import build_profiles

    key = _profile_key(sc, token)
    if key in _PROFILE_CACHE:
        _PROFILE_CACHE.move_to_end(key)
        return _PROFILE_CACHE[key]
    prof = build_profiles(sc)
    _PROFILE_CACHE[key] = prof
    while len(_PROFILE_CACHE) > _PROFILE_CACHE_SIZE:
        _PROFILE_CACHE.popitem(last=False)
    return prof


def run_case(case: Case, options: CaseOptions, profiles: Profiles | None = None,
             token: str = "") -> dict[str, Any]:
    """Solve one case; never raises (an error becomes the record's ``error``).

    Returns
    -------
    dict
        ``case_id``, ``scenario``, ``coords``, ``changes``, ``info``, ``outcome`` (solved /
        no_solution / error), ``status``, ``objective``, ``error``, ``kpis`` (flat),
        ``wall_s``, ``worker``; ``timeseries`` (xarray.Dataset) with ``options.time_series``.
    """
    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "case_id": case.case_id, "scenario": case.label, "coords": case.coords,
        "changes": case.changes, "info": case.info, "outcome": "error", "status": "",
        "objective": float("nan"), "error": "", "kpis": {},
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        sc = case.scenario.replace(case.changes) if case.changes else case.scenario
        if options.mode == "size":
            from zeropark.planning.sizing import size

            # 0 kWp arrays: pvlib cannot build them, sizing builds them at 1 kWp itself
            zero_pv = any(a.capacity_kw <= 0 for a in sc.pv)
            prof = profiles if profiles is not None or zero_pv else _profiles_for(sc, token)
            res = size(sc, prof, start=case.start, steps=case.steps,
                       all_factor=options.all_factor, relax=options.relax)
        else:
            prof = profiles if profiles is not None else _profiles_for(sc, token)
            from zeropark.api import prepare, solve_data

            d = prepare(sc, prof, start=case.start, steps=case.steps)
            res = solve_data(d, engine=options.engine, relax=options.relax)
        record.update(status=str(res.status), objective=float(res.objective))
        if res.ok:
            record.update(outcome="solved", kpis=flatten_kpis(res.kpis))
            if options.time_series and res.dataset is not None:
                ds = res.dataset.copy()
                ds.attrs = {}
                record["timeseries"] = ds
        else:
            record.update(outcome="no_solution", error=res.explanation)
    except Exception as err:  # noqa: BLE001 - a failed case is recorded, the sweep goes on
        record.update(outcome="error", error=f"{type(err).__name__}: {err}")
    record["wall_s"] = time.perf_counter() - t0
    return record


# -- execution -----------------------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes of the default LocalCluster: one per usable core."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


#: Longest wait for a Dask scheduler to answer [s].
CONNECT_TIMEOUT_S = 20.0


def _connect(client_class: Any, scheduler: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """Connect to ``scheduler`` within ``timeout_s`` seconds, whatever answers there.

    ``Client(timeout=…)`` bounds the TCP connect only: a server that accepts the connection but
    never speaks Dask's handshake kept it waiting for minutes. The connection is made in a daemon
    thread that is abandoned after ``timeout_s``.

    Raises
    ------
    ScenarioError
        Bad address, refused connection, or no Dask answer in time.
    """
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            # not the process's default client: a failed or hung attempt would otherwise stay
            # the scheduler of every later dask computation in this process (cases are
            # submitted to the client explicitly)
            box["client"] = client_class(scheduler, timeout=f"{max(timeout_s - 5, 1):g}s",
                                         set_as_default=False)
        except BaseException as err:  # noqa: BLE001 - reported in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=connect, name="zeropark-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise ScenarioError("--scheduler", scheduler,
                            f"a Dask scheduler that answers within {timeout_s:g} s (something "
                            "accepts connections there but does not answer as one)")
    if "error" in box:
        err = box["error"]
        if isinstance(err, KeyboardInterrupt):
            raise err
        text = " ".join(str(err).split())[:200]
        raise ScenarioError("--scheduler", scheduler, "the address of a running Dask scheduler "
                            f"such as tcp://host:8786 ({type(err).__name__}: {text})")
    return box["client"]


@contextlib.contextmanager
def dask_client(client: Any = None, scheduler: str | None = None,
                workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: the one given, one connected to ``scheduler``, or one of an
    in-process ``LocalCluster`` with ``workers`` single-threaded worker processes."""
    if client is not None:
        yield client
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - optional dependency
        raise ScenarioError("--scheduler", scheduler, "dask[distributed] installed "
                            "(pip install 'zeropark[dask]'), or --serial") from None
    if scheduler is not None:
        c = _connect(Client, scheduler)
        try:
            yield c
        finally:
            c.close()
        return
    n = workers or default_workers()
    # ":0": the scheduler's HTTP endpoint on a free port (8787 may be taken by another
    # cluster, which distributed reports with a warning); no dashboard. Worker logs below
    # CRITICAL are silenced: a case's own errors are in its record, and shutdown races
    # (heartbeats to a closing scheduler) would otherwise print tracebacks.
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as c:
        yield c


def _progress(total: int, enabled: bool) -> Any:
    import click

    if not enabled:
        return contextlib.nullcontext(None)
    return click.progressbar(length=total, label="cases done", file=sys.stderr,
                             show_pos=True, show_percent=False)


def run_sweep(cases: Sequence[Case], options: CaseOptions = CaseOptions(), *,
              out_dir: str | Path | None = None, client: Any = None,
              scheduler: str | None = None, workers: int | None = None, serial: bool = False,
              progress: bool = False, profiles: Profiles | None = None) -> SweepResult:
    """Run cases (skipping those already done in ``out_dir``) and merge them.

    Parameters
    ----------
    cases : sequence of Case
    options : CaseOptions
    out_dir : path, optional
        Writes ``cases/``, ``sweep.nc`` and ``sweep.csv`` there; earlier cases are reused.
    client : distributed.Client, optional
        Run on this client.
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Worker processes of the default LocalCluster (default: one per core).
    serial : bool
        Run in this process without Dask.
    progress : bool
        Show a progress bar of cases done on stderr.
    profiles : Profiles, optional
        Profiles every case uses (default: built per case from its scenario, shared between
        variants that differ only in fields the profiles do not depend on).
    """
    t0 = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else None
    ids = [c.case_id for c in cases]
    if len(set(ids)) != len(ids):
        first: dict[str, Case] = {}
        for c in cases:
            first.setdefault(c.case_id, c)
        cases = list(first.values())
    records: dict[str, dict[str, Any]] = {}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for c in cases:
            rec = load_record(out, c, options)
            if rec is not None:
                records[c.case_id] = rec
    skipped = len(records)
    todo = [c for c in cases if c.case_id not in records]
    token = uuid.uuid4().hex

    def done(rec: dict[str, Any]) -> None:
        records[rec["case_id"]] = rec
        if out is not None:
            save_record(out, rec)

    if todo and serial:
        with _progress(len(todo), progress) as bar:
            for c in todo:
                done(run_case(c, options, profiles, token))
                if bar is not None:
                    bar.update(1)
    elif todo:
        from distributed import as_completed

        with dask_client(client, scheduler, workers) as cl:
            prof = cl.scatter(profiles, broadcast=True) if profiles is not None else None
            futures = {cl.submit(run_case, c, options, prof, token, pure=False): c for c in todo}
            with _progress(len(todo), progress) as bar:
                for fut in as_completed(futures):
                    c = futures[fut]
                    try:
                        rec = fut.result()
                    except Exception as err:  # noqa: BLE001 - worker lost, task cancelled ...
                        rec = run_case_failed(c, err)
                    done(rec)
                    fut.release()
                    if bar is not None:
                        bar.update(1)
    ordered = [records[c.case_id] for c in cases]
    table = records_table(ordered)
    ds = records_dataset(ordered, table)
    if out is not None:
        write_outputs(out, ds, table)
    failed = sum(r["outcome"] == "error" for r in ordered)
    return SweepResult(ds, table, ordered, len(todo), skipped, failed,
                       {"total_s": time.perf_counter() - t0})


def run_case_failed(case: Case, err: BaseException) -> dict[str, Any]:
    """The record of a case whose task died outside :func:`run_case` (e.g. a lost worker)."""
    return {"case_id": case.case_id, "scenario": case.label, "coords": case.coords,
            "changes": case.changes, "info": case.info, "outcome": "error", "status": "",
            "objective": float("nan"), "error": f"{type(err).__name__}: {err}", "kpis": {},
            "worker": "", "wall_s": float("nan")}


def sweep(scenarios: Scenario | Sequence[Scenario], grid: Mapping[str, Sequence[Any]], *,
          options: CaseOptions = CaseOptions(), start: int = 0, steps: int | None = None,
          **run: Any) -> SweepResult:
    """Full-factorial sweep of ``grid`` over one or more scenarios (see :func:`run_sweep`).

    Example: ``sweep(sc, {"storage.0.energy_kwh": [0, 5000], "pv.0.capacity_kw": [4000, 8000]},
    steps=168, out_dir="out/sweep")``.
    """
    scs = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    cases = grid_cases(scs, grid, options, windows=[(start, steps)] * len(scs))
    if run.get("profiles") is not None:
        token = profiles_digest(run["profiles"])
        cases = [replace(c, case_id=_digest([c.case_id, token])) for c in cases]
    return run_sweep(cases, options, **run)
