"""Solve a built model with HiGHS (matrix form through highspy, Pyomo form through Pyomo's HiGHS
interface) and map the outcome to one typed :class:`SolveOutcome` for both engines."""

from __future__ import annotations

import enum
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from zeropark import gcpause, warmup
from zeropark.model import registry
from zeropark.model.context import pyo  # pyomo.environ, imported only by the Pyomo engine
from zeropark.model.lp import MatrixLP
from zeropark.progress import current as current_progress
from zeropark.progress import percent
from zeropark.scenario import Solver
from zeropark.solver_quality import MAX_PRIMAL_INFEASIBILITY as MAX_PRIMAL_INFEASIBILITY
from zeropark.solver_quality import refusal, solver_quality


class Status(enum.StrEnum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"  # feasible incumbent, gap open
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # stopped (time limit) without an incumbent
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.TIME_LIMIT)


@dataclass
class SolveOutcome:
    """What the solver returned, engine-independent."""

    status: Status
    objective: float
    bound: float
    gap: float
    values: dict[str, np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    message: str = ""
    max_primal_infeasibility: float = 0.0


_BANNER_SHOWN = False


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` instance; the copyright banner HiGHS prints to stdout on its first
    construction in a process is swallowed, so CLI output (tables, JSON) stays clean."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _BANNER_SHOWN = True
    return h


def solve_interruptibly(h: highspy.Highs, poll_s: float = 0.05) -> None:
    """Run HiGHS so that Ctrl-C stops it within milliseconds.

    ``h.run()`` would hold the main thread until the solve returns, so the solve runs in HiGHS's
    own thread while the main thread waits in short slices, where Python can deliver SIGINT.
    A Ctrl-C cancels the solve, waits for HiGHS to stop and raises ``KeyboardInterrupt`` --
    always, even when HiGHS finished its last iteration before it saw the cancel request (its
    status then reads "optimal", and a run that was interrupted must not go on to write results).
    Between slices the active progress reporter may write a status line (:mod:`zeropark.progress`).
    The work a command asked :mod:`zeropark.warmup` for starts with the solve.
    """
    progress = current_progress()
    h.HandleKeyboardInterrupt = True  # subscribes HiGHS's interrupt callbacks to cancelSolve
    h.startSolve()
    gcpause.resume()  # the command's imports are done (zeropark.gcpause)
    warmup.start()  # what the command asked to prepare while HiGHS solves
    interrupted = False
    while True:
        try:
            done, _ = h.wait(poll_s)
        except KeyboardInterrupt:
            interrupted = True
            h.cancelSolve()
            continue
        if done:
            break
        progress.tick()
    if interrupted or h.getModelStatus() == highspy.HighsModelStatus.kInterrupt:
        raise KeyboardInterrupt


def _highs_options(opts: Solver) -> dict[str, bool | int | float | str]:
    return {
        "output_flag": False,
        "time_limit": float(max(opts.time_limit_s, 1e-3)),
        "mip_rel_gap": float(opts.mip_gap),
        "threads": int(opts.threads),
        "random_seed": int(opts.seed),
        "presolve": "on",
    }


_MODEL_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInterrupt: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.TIME_LIMIT,
}


def round_binaries(lp: MatrixLP, x: np.ndarray, permissive: bool = False) -> np.ndarray:
    """Integer values for every integer column, rounded the way each family needs.

    Each registered family's ``rounding`` hook gives the values of its integer blocks (e.g. the
    exclusivity binaries follow the dominant flow so the rounded point stays feasible; the
    ``permissive`` retry is the more feasible choice); every other integer rounds to nearest.
    """
    ints = lp.arrays()["integer"]
    out = np.round(x[ints])
    values = lp.values(x)
    pos = {int(i): k for k, i in enumerate(np.flatnonzero(ints))}
    for family in registry.FAMILIES:
        if family.rounding is None:
            continue
        for name, val in family.rounding(lp, values, permissive).items():
            cols = lp.cols(name).ravel()
            out[[pos[int(c)] for c in cols]] = np.asarray(val, float).ravel()
    return out


def _misjudged(h: highspy.Highs, cost: np.ndarray, offset: float) -> bool:
    """True if the objective HiGHS reports differs from the cost of the solution it returns."""
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution to check
        return False
    x = np.asarray(h.getSolution().col_value)
    recomputed = float(cost @ x) + float(offset)
    reported = float(info.objective_function_value)
    return abs(recomputed - reported) > 1e-7 * max(1.0, abs(recomputed))


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's relative MIP gap: |objective − bound| / max(|objective|, 1)."""
    return abs(objective - bound) / max(abs(objective), 1.0)


def within_gap(objective: float, bound: float, mip_gap: float) -> bool:
    """True if a feasible ``objective`` is within the relative ``mip_gap`` of a lower ``bound``
    (equal counts, so a zero gap accepts only a point that meets the bound)."""
    return objective - bound <= mip_gap * max(abs(objective), 1.0) + 1e-9 * max(abs(bound), 1.0)


def rounding_candidates(lp: MatrixLP, x: np.ndarray, rounded: np.ndarray) -> list[np.ndarray]:
    """Integer points to try as the warm start: ``rounded``, then the points each registered
    family's ``candidates`` hook proposes from the relaxation ``x`` (demand response: every
    settlement of the events the relaxation takes part-way)."""
    out = [rounded]
    for family in registry.FAMILIES:
        if family.candidates is not None:
            out.extend(family.candidates(lp, x, rounded))
    return out


def _best_rounding(h: highspy.Highs, lp: MatrixLP, x_lp: np.ndarray, idx: np.ndarray,
                   run: Callable[[], None]) -> tuple[float, Any, np.ndarray | None]:
    """The best feasible rounding of the relaxation ``x_lp``: the rounded point, and each way
    of settling the DR events the relaxation takes part-way (few events: a handful of LPs from
    the relaxation's basis), with the integer columns ``idx`` fixed in ``h`` and ``run`` solving
    it; permissive rounding only if no strict one is feasible. Returns its objective, HiGHS's
    solution and the fixed integer values (``inf, None, None`` if none is feasible). Shared by
    :func:`solve_matrix` and :func:`rounded_point`."""
    best, start, best_fixed = np.inf, None, None
    for permissive in (False, True):
        for fixed in rounding_candidates(lp, x_lp, round_binaries(lp, x_lp, permissive)):
            h.changeColsBounds(len(idx), idx, fixed, fixed)
            run()
            if (h.getModelStatus() == highspy.HighsModelStatus.kOptimal
                    and h.getInfo().objective_function_value < best):
                best = h.getInfo().objective_function_value
                start, best_fixed = h.getSolution(), fixed
        if start is not None:
            break
    return best, start, best_fixed


def solve_matrix(lp: MatrixLP, opts: Solver, *, relax: bool = False,
                 warm_start: bool = True) -> SolveOutcome:
    """Hand the matrix model to HiGHS (``passModel``) and solve it.

    A MILP is first solved as its LP relaxation. If the relaxation is already integral it is the
    MILP optimum (no branching at all). Otherwise its rounded binaries are fixed and the LP solved
    again, which gives a feasible incumbent handed to the MILP as a start: the MILP then only has
    to prove the gap, and a time limit always leaves a solution.
    """
    t0 = time.perf_counter()
    arr = lp.arrays()
    ints = arr["integer"]
    is_mip = not relax and bool(ints.any())
    h = new_highs()
    for key, value in _highs_options(opts).items():
        h.setOptionValue(key, value)
    progress = current_progress()
    progress.attach(h)
    nnz = lp.pass_to(h, relax=True)
    t1 = time.perf_counter()
    deadline = t1 + max(opts.time_limit_s, 1e-3)

    in_highs = 0.0  # wall time of the HiGHS calls [s]

    def run_within_limit() -> None:
        # the time limit covers all phases together: relaxation, rounded LP, MILP
        nonlocal in_highs
        t = time.perf_counter()
        h.setOptionValue("time_limit", max(deadline - t, 1e-3))
        solve_interruptibly(h)
        in_highs += time.perf_counter() - t

    progress.phase("LP relaxation" if is_mip else "LP")
    run_within_limit()
    note = ""
    early: float | None = None  # LP bound of a rounded point accepted without branch and bound
    if is_mip and h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        x_lp = np.asarray(h.getSolution().col_value)
        frac = np.abs(x_lp[ints] - np.round(x_lp[ints]))
        idx = np.flatnonzero(ints).astype(np.int32)
        if frac.max(initial=0.0) <= 1e-7:
            is_mip = False  # relaxation integral: optimal for the MILP
            note = "LP relaxation integral"
        else:
            relax_bound = float(h.getInfo().objective_function_value)
            best, start, best_fixed = np.inf, None, None
            if warm_start:
                progress.phase("rounding")
                best, start, best_fixed = _best_rounding(h, lp, x_lp, idx, run_within_limit)
            if best_fixed is not None and within_gap(best, relax_bound, opts.mip_gap):
                # the rounded point is already within the requested gap of the relaxation's
                # bound, so of the MILP optimum: it is the answer, no branch and bound needed
                h.changeColsBounds(len(idx), idx, best_fixed, best_fixed)
                run_within_limit()
                if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                    early = relax_bound
                    is_mip = False
                    note = "rounded relaxation within the gap of the LP bound"
        if is_mip and early is None:
            if warm_start:
                lb, ub = arr["lb"][ints], arr["ub"][ints]
                h.changeColsBounds(len(idx), idx, lb, ub)
            h.changeColsIntegrality(len(idx), idx,
                                    np.full(len(idx), highspy.HighsVarType.kInteger))
            if start is not None:
                h.setSolution(start)
                note = "warm start from rounded relaxation"
            progress.phase("MILP")
            run_within_limit()
            if start is not None and _misjudged(h, arr["cost"], lp.objective_offset):
                # HiGHS (seen with 1.16) can value a user-given start wrongly after presolve and
                # then stop on it as "optimal" with an objective below the true optimum: solve
                # the MILP again without the start
                h.clearSolver()
                lp.pass_to(h, relax=True)
                h.changeColsIntegrality(len(idx), idx,
                                        np.full(len(idx), highspy.HighsVarType.kInteger))
                run_within_limit()
                note = "warm start dropped (HiGHS misjudged its objective)"
    elif is_mip:
        # relaxation not optimal (infeasible/unbounded/time): the MILP cannot do better
        is_mip = False
    t2 = time.perf_counter()
    status = _MODEL_STATUS.get(h.getModelStatus(), Status.ERROR)
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == Status.TIME_LIMIT and not has_x:
        status = Status.NO_SOLUTION
    if status == Status.ERROR and has_x:
        status = Status.TIME_LIMIT
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = float("nan")
    refused = None
    if status.has_solution:
        cost_scale = float(np.abs(arr["cost"]).max(initial=0.0))
        refused = refusal(solver_quality(h), cost_scale)
        x = np.asarray(h.getSolution().col_value)
        values = lp.values(x)
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if is_mip else objective
        gap = float(info.mip_gap) if is_mip else 0.0
        if early is not None:
            bound, gap = early, relative_gap(objective, early)
        if refused is not None or not np.isfinite(objective):
            status = Status.ERROR
            note = refused or f"objective {objective} is not finite"
    t3 = time.perf_counter()
    progress.note(f"HiGHS: {h.modelStatusToString(h.getModelStatus())}"
                  + (f", objective {objective:,.0f}, gap {percent(gap)}" if status.has_solution else "")
                  + f" ({t2 - t1:.1f} s)")
    return SolveOutcome(
        status=status, objective=objective, bound=bound, gap=gap, values=values,
        timings={"handoff_s": t1 - t0, "solve_s": t2 - t1, "highs_s": in_highs,
                 "extract_s": t3 - t2},
        size={"rows": lp.n_rows, "cols": lp.n_cols, "nnz": nnz,
              "integers": int(ints.sum()) if not relax else 0},
        message=h.modelStatusToString(h.getModelStatus()) + (f"; {note}" if note else ""),
        max_primal_infeasibility=float(info.max_primal_infeasibility) if has_x else 0.0,
    )


def rounded_point(lp: MatrixLP, opts: Solver) -> tuple[dict[str, float], str] | None:
    """The warm start of :func:`solve_matrix` as values by column name: the LP relaxation,
    its binaries rounded (and each way of settling part-taken DR events) and fixed, the LP
    solved again; the best feasible point. ``None`` if the relaxation is not optimal or no
    rounded point is feasible. The second item says which (integral relaxation or rounding).

    The Pyomo engine starts its MILP from this point (the names are the Pyomo variables'), so
    both engines share one rounding.
    """
    arr = lp.arrays()
    ints = arr["integer"]
    h = new_highs()
    for key, value in _highs_options(opts).items():
        h.setOptionValue(key, value)
    lp.pass_to(h, relax=True)
    deadline = time.perf_counter() + max(opts.time_limit_s, 1e-3)

    def run() -> None:
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
        solve_interruptibly(h)

    run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    names = lp.col_names()
    x_lp = np.asarray(h.getSolution().col_value)
    if np.abs(x_lp[ints] - np.round(x_lp[ints])).max(initial=0.0) <= 1e-7:
        return dict(zip(names, x_lp.tolist(), strict=True)), "LP relaxation integral"
    _, start, _ = _best_rounding(h, lp, x_lp, np.flatnonzero(ints).astype(np.int32), run)
    if start is None:
        return None
    return dict(zip(names, list(start.col_value), strict=True)), "rounded relaxation"


def _var_arrays(m: pyo.ConcreteModel) -> dict[str, np.ndarray]:
    """Every Pyomo variable as an array shaped like its index sets (ordered as built)."""
    out: dict[str, np.ndarray] = {}
    for var in m.component_objects(pyo.Var, descend_into=True):
        vals = np.array([np.nan if v.value is None else v.value for v in var.values()], float)
        if not var.is_indexed():
            out[var.name] = vals.reshape(())
            continue
        sets = list(var.index_set().subsets())
        shape = tuple(len(s) for s in sets)
        out[var.name] = vals.reshape(shape)
    return out


def _starting(highs_cls: type, m: pyo.ConcreteModel, start: dict[str, float]) -> Any:
    """An instance of Pyomo's HiGHS interface that hands HiGHS ``start`` (values by variable
    name) as its first incumbent, just before it runs. The interface offers no warm start, so
    this reads its private map from variable ``id`` to HiGHS column
    (``_pyomo_var_to_solver_var_map``) and its highspy model (``_solver_model``); if a Pyomo
    version lacks them, or the start does not name every variable, HiGHS runs without the start
    and ``started`` stays False."""
    by_id = {id(v): start[v.name] for v in m.component_data_objects(pyo.Var, descend_into=True)
             if v.name in start}

    class Starting(highs_cls):
        started = False

        def _solve(self) -> Any:
            cols = getattr(self, "_pyomo_var_to_solver_var_map", None)
            h = getattr(self, "_solver_model", None)
            if isinstance(cols, dict) and isinstance(h, highspy.Highs) and len(cols) == len(by_id):
                x = np.zeros(h.getNumCol())
                for vid, col in cols.items():
                    x[col] = by_id.get(vid, 0.0)
                sol = highspy.HighsSolution()
                sol.col_value = x.tolist()
                sol.value_valid = True
                self.started = h.setSolution(sol) == highspy.HighsStatus.kOk
            return super()._solve()

    return Starting()


def solve_pyomo(m: pyo.ConcreteModel, opts: Solver, *, relax: bool = False,
                start: tuple[dict[str, float], str] | None = None) -> SolveOutcome:
    """Solve the Pyomo model with Pyomo's HiGHS interface (highspy underneath).

    ``start`` (a MILP only): a feasible point by variable name, from :func:`rounded_point`,
    handed to HiGHS as its first incumbent, so a time limit always leaves a solution and the
    MILP mostly has to prove the gap, as in :func:`solve_matrix`.
    """
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    if relax:
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    progress = current_progress()
    progress.phase("solve (Pyomo)")  # Pyomo's interface runs HiGHS itself: no status lines
    new_highs()  # absorb the banner before Pyomo's interface creates its own instance
    # HiGHS keeps one global thread pool; Pyomo's interface fails ("unknown") if an earlier
    # instance in this process initialised it with another thread count
    highspy.Highs.resetGlobalScheduler(True)
    solver = _starting(Highs, m, start[0]) if start is not None and not relax else Highs()
    hopts = _highs_options(opts)
    if progress.highs_log:
        del hopts["output_flag"]  # the interface turns the log on for ``tee``
    t0 = time.perf_counter()
    res = solver.solve(
        m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
        time_limit=hopts.pop("time_limit"), threads=hopts.pop("threads"),
        rel_gap=hopts.pop("mip_rel_gap"), solver_options=hopts,
        tee=[progress.stream] if progress.highs_log else False,
    )
    t1 = time.perf_counter()
    tc = res.termination_condition
    has_x = res.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = Status.OPTIMAL
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        status = Status.INFEASIBLE
    elif tc == TerminationCondition.unbounded:
        status = Status.UNBOUNDED
    elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                TerminationCondition.interrupted):
        status = Status.TIME_LIMIT if has_x else Status.NO_SOLUTION
    else:
        status = Status.ERROR
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = float("nan")
    if status.has_solution:
        res.solution_loader.load_vars()
        values = _var_arrays(m)
        objective = float(res.incumbent_objective)
        bound = float(res.objective_bound) if res.objective_bound is not None else objective
        gap = abs(objective - bound) / max(abs(objective), 1e-9) if np.isfinite(bound) else 0.0
    t2 = time.perf_counter()
    return SolveOutcome(
        status=status, objective=objective, bound=bound, gap=gap, values=values,
        timings={"handoff_s": 0.0, "solve_s": t1 - t0, "extract_s": t2 - t1},
        message=str(tc) + (f"; warm start: {start[1]}" if getattr(solver, "started", False)
                           and start is not None else ""),
    )
