"""Public Python API: load a scenario, derive variants, build the Pyomo model, run, get a Result.

The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from zeropark import warmup
from zeropark.errors import ScenarioError, SolveError
from zeropark.model import grid as grid_family
from zeropark.model import storage
from zeropark.model.builder import build_matrix
from zeropark.model.builder import build_pyomo as _build_pyomo
from zeropark.model.data import ModelData, model_data
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.progress import current as current_progress
from zeropark.scenario import Scenario, load_scenario
from zeropark.solve import (
    MAX_PRIMAL_INFEASIBILITY,
    SolveOutcome,
    Status,
    rounded_point,
    solve_matrix,
    solve_pyomo,
)

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from zeropark.profiles.build import SolarParts
    from zeropark.results import Result

# Simultaneous flows below this share of the unit's power are numerical noise, not dumping.
_EXCLUSIVE_TOL = 1e-6


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def prepare(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
            start: int = 0, steps: int | None = None,
            solar_from: Callable[[], SolarParts | None] | None = None) -> ModelData:
    """Scenario + profiles (built if not given), restricted to ``steps`` from ``start``.

    ``solar_from`` hands over the pvlib part of a whole horizon's profiles computed elsewhere
    (:func:`zeropark.profiles.build.build_profiles`); it is not asked for a window.
    """
    sc = _as_scenario(scenario)
    if profiles is None:
        from zeropark.profiles.build import build_profiles, build_window_profiles

        current_progress().phase("profiles")
        if start or steps is not None:  # only the window asked for (profiles are per date)
            n = len(sc.time_index())
            profiles = build_window_profiles(sc, start, n if steps is None else start + steps)
            start, steps = 0, None
        else:
            profiles = build_profiles(sc, solar_from)
    if start or steps is not None:
        stop = profiles.n_steps if steps is None else min(start + steps, profiles.n_steps)
        profiles = profiles.window(start, stop)
    d = model_data(sc, profiles)
    from zeropark.reliability.numerics import nonfinite_profiles

    bad = nonfinite_profiles(d, limit=1)
    if bad:
        raise ScenarioError("profiles", bad[0], "finite numbers (no NaN or inf) below 1e20")
    return d


def build_pyomo(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
                start: int = 0, steps: int | None = None) -> pyo.ConcreteModel:
    """The Pyomo model of a scenario, to inspect or extend before :func:`solve_model`.

    Components are named by family: ``m.grid.import_kw[t]``, ``m.storage.soc_kwh[unit, t]``,
    ``m.pv.power_kw[array, t]``, ``m.ev.power_kw[group, t]``, ``m.flex.power_kw[load, t]``,
    ``m.balance.power[t]``; the objective is ``m.objective``.
    """
    d = prepare(scenario, profiles, start=start, steps=steps)
    m = _build_pyomo(d)
    m._zeropark_data = d
    return m


def solve_model(m: pyo.ConcreteModel, *, relax: bool = False) -> Result:
    """Solve a (possibly user-extended) model from :func:`build_pyomo` into a :class:`Result`."""
    d = getattr(m, "_zeropark_data", None)
    if d is None:
        raise SolveError("solve_model needs a model made by zeropark.build_pyomo")
    t0 = time.perf_counter()
    out = solve_pyomo(m, d.sc.solver, relax=relax)
    return finish(d, out, "pyomo", {"build_s": 0.0, **out.timings,
                                    "total_s": time.perf_counter() - t0}, relax=relax)


def _violations(d: ModelData, out: SolveOutcome) -> tuple[np.ndarray, np.ndarray]:
    """Steps without binaries where the solution flows both ways at once."""
    v = out.values
    imp, exp = v[grid_family.IMPORT_KW], v[grid_family.EXPORT_KW]
    scale = max(d.sc.grid.import_limit_kw, 1.0) * _EXCLUSIVE_TOL
    grid = np.flatnonzero(np.minimum(imp, exp) > scale)
    grid = np.setdiff1d(grid, d.grid_binary_steps)
    sto = np.zeros(0, int)
    if storage.CHARGE_KW in v:
        p = np.array([max(u.power_kw, 1.0) for u in d.sc.storage])[:, None] * _EXCLUSIVE_TOL
        both = (np.minimum(v[storage.CHARGE_KW], v[storage.DISCHARGE_KW]) > p).any(axis=0)
        sto = np.setdiff1d(np.flatnonzero(both), d.storage_binary_steps)
    return grid, sto


def solve_outcome(d: ModelData, *, engine: str | None = None, relax: bool | None = None,
                  lp_hook: Callable[[MatrixLP, ModelData], None] | None = None
                  ) -> tuple[ModelData, SolveOutcome, dict[str, float]]:
    """Build and solve prepared model data without making a Result.

    Returns the model data actually solved (the exclusivity check may have added binaries), the
    solver outcome and the summed phase timings; :func:`solve_data` turns them into a Result.
    Parameters as :func:`solve_data`.
    """
    engine = engine or d.sc.solver.engine
    if lp_hook is not None and engine != "matrix":
        raise SolveError(f"solver.engine: got {engine!r}; an lp_hook needs the 'matrix' engine")
    relax = d.sc.solver.relax if relax is None else relax
    timings: dict[str, float] = {}
    # solver.time_limit_s covers every solve below together (the exclusivity check may solve
    # again): each gets what is left of it
    deadline = time.perf_counter() + d.sc.solver.time_limit_s
    for _ in range(4):
        t0 = time.perf_counter()
        opts = d.sc.solver.model_copy(update={"time_limit_s": max(deadline - t0, 1e-3)})
        current_progress().phase("build")
        if engine == "pyomo":
            model = _build_pyomo(d)
            t1 = time.perf_counter()
            start = None
            if not relax:  # the matrix engine's rounded relaxation as the MILP's first incumbent
                current_progress().phase("warm start (rounded relaxation)")
                start = rounded_point(build_matrix(d), opts)
                t_start = time.perf_counter()
                timings["warm_start_s"] = timings.get("warm_start_s", 0.0) + t_start - t1
                opts = opts.model_copy(update={"time_limit_s": max(deadline - t_start, 1e-3)})
            out = solve_pyomo(model, opts, relax=relax, start=start)
        elif engine == "matrix":
            lp = build_matrix(d)
            if lp_hook is not None:
                lp_hook(lp, d)
            t1 = time.perf_counter()
            out = solve_matrix(lp, opts, relax=relax)
        else:
            raise SolveError(f"solver.engine: got {engine!r}; one of 'matrix', 'pyomo'")
        for k, val in {"build_s": t1 - t0, **out.timings}.items():
            timings[k] = timings.get(k, 0.0) + val
        if not out.status.has_solution or relax or d.sc.solver.exclusivity != "auto":
            break
        # Exact safeguard on top of the rule: where the solution still flows both ways in a step
        # without a binary, add binaries there and solve again.
        grid, sto = _violations(d, out)
        if not len(grid) and not len(sto):
            break
        if deadline - time.perf_counter() < 1.0:
            out = dataclasses.replace(out, message=(
                f"{out.message}; time limit reached before the exclusivity re-solve: "
                f"{len(grid)} step(s) import and export at once, {len(sto)} charge and "
                "discharge at once"))
            break
        d = dataclasses.replace(
            d, grid_binary_steps=np.union1d(d.grid_binary_steps, grid),
            storage_binary_steps=np.union1d(d.storage_binary_steps, sto))
    return d, out, timings


def solve_data(d: ModelData, *, engine: str | None = None, relax: bool | None = None,
               lp_hook: Callable[[MatrixLP, ModelData], None] | None = None) -> Result:
    """Build and solve prepared model data; the core of :func:`run`.

    Parameters
    ----------
    d : ModelData
    engine : {"matrix", "pyomo"}, optional
    relax : bool, optional
    lp_hook : callable(lp, d), optional
        Called on every freshly built matrix model before it is solved (matrix engine only), to
        add rows/columns or shift bounds (operations, sizing). It is called again whenever the
        exclusivity check rebuilds the model with more binaries.
    """
    d, out, timings = solve_outcome(d, engine=engine, relax=relax, lp_hook=lp_hook)
    return finish(d, out, engine or d.sc.solver.engine, timings,
                  relax=d.sc.solver.relax if relax is None else relax)


RELAXATION_NOTE = ("LP relaxation: on/off and integer decisions relaxed to fractions; the cost is a "
                   "lower bound and the dispatch need not be feasible for the park")


def finish(d: ModelData, out: SolveOutcome, engine: str, timings: dict[str, float], *,
           relax: bool = False) -> Result:
    """Dataset, KPIs and explanation of a solve outcome.

    With ``relax`` the result is labelled as an LP relaxation: ``kpis["solver"]["relaxation"]``,
    ``kpis["solver"]["note"]`` and the Dataset attributes ``relaxation`` (1) and ``comment``.
    """
    t0 = time.perf_counter()
    warmup.wait()  # xarray and the results modules, imported while HiGHS solved (if asked)
    from zeropark.results import Result, build_dataset, compute_kpis

    if out.status.has_solution and out.max_primal_infeasibility > MAX_PRIMAL_INFEASIBILITY:
        out.status = Status.ERROR
        out.message = (f"HiGHS reports primal infeasibility {out.max_primal_infeasibility:.3g} "
                       f"> {MAX_PRIMAL_INFEASIBILITY:g}: result refused")
    if not out.status.has_solution:
        from zeropark.diagnose import explain

        explanation = explain(d, out)
        return Result(out.status, out.objective, out.bound, out.gap, None,
                      {"scenario": d.sc.name, "solver": {"status": str(out.status),
                                                         "message": out.message},
                       "explanation": explanation},
                      timings, explanation, out.size)
    current_progress().phase("results")
    from zeropark.model.carbon import per_step_cover

    out.values = per_step_cover(d, out.values)  # certificates bought as a horizon total
    ds = build_dataset(d, out, engine)
    from zeropark.cf import apply_cf

    apply_cf(ds, currency=d.sc.currency, utc_offset_h=d.sc.utc_offset_h,
             timezone=d.sc.site.timezone, title=f"zeropark dispatch of {d.sc.name}",
             history=f"solved by zeropark with the {engine} engine (HiGHS)")
    kpis = compute_kpis(d, out, ds)
    timings["extract_s"] = timings.get("extract_s", 0.0) + time.perf_counter() - t0
    kpis["timings"] = {k: round(val, 4) for k, val in timings.items()}
    kpis["model_size"] = out.size
    kpis["engine"] = engine
    kpis["solver"]["relaxation"] = bool(relax)
    ds.attrs["relaxation"] = int(bool(relax))
    if relax:
        kpis["solver"]["note"] = RELAXATION_NOTE
        ds.attrs["comment"] = RELAXATION_NOTE
        ds.attrs["status"] = f"{out.status} (LP relaxation)"
    return Result(out.status, out.objective, out.bound, out.gap, ds, kpis, timings, "", out.size,
                  out.values)


def run(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
        engine: str | None = None, relax: bool | None = None, start: int = 0,
        steps: int | None = None) -> Result:
    """Solve a scenario's dispatch and return a :class:`Result`.

    Parameters
    ----------
    scenario : Scenario or path to a YAML file
    profiles : Profiles, optional
        Pre-built profiles (default: built from the scenario with pvlib etc.).
    engine : {"matrix", "pyomo"}, optional
        Default: ``scenario.solver.engine`` ("matrix").
    relax : bool, optional
        Solve the LP relaxation only.
    start, steps : int
        Restrict the horizon to ``steps`` steps from step ``start``.
    """
    return solve_data(prepare(scenario, profiles, start=start, steps=steps),
                      engine=engine, relax=relax)
