"""Solve a built model with HiGHS (matrix form through highspy, Pyomo form through Pyomo's HiGHS
interface) and map the outcome to one typed :class:`SolveOutcome` for both engines."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo

from zeropark.model.lp import MatrixLP
from zeropark.scenario import Solver

# A result whose primal infeasibility exceeds this (kW/kWh scale) is refused.
MAX_PRIMAL_INFEASIBILITY = 1e-4


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


def _highs_options(opts: Solver) -> dict[str, object]:
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


def solve_matrix(lp: MatrixLP, opts: Solver, *, relax: bool = False) -> SolveOutcome:
    """Hand the matrix model to HiGHS (``passModel``) and solve it."""
    t0 = time.perf_counter()
    model = lp.to_highs(relax=relax)
    h = highspy.Highs()
    for key, value in _highs_options(opts).items():
        h.setOptionValue(key, value)
    h.passModel(model)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    status = _MODEL_STATUS.get(h.getModelStatus(), Status.ERROR)
    info = h.getInfo()
    is_mip = not relax and bool(lp.arrays()["integer"].any())
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == Status.TIME_LIMIT and not has_x:
        status = Status.NO_SOLUTION
    if status == Status.ERROR and has_x:
        status = Status.TIME_LIMIT
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = float("nan")
    if status.has_solution:
        x = np.asarray(h.getSolution().col_value)
        values = lp.values(x)
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if is_mip else objective
        gap = float(info.mip_gap) if is_mip else 0.0
        if status == Status.OPTIMAL and is_mip and gap > opts.mip_gap + 1e-9:
            gap = min(gap, opts.mip_gap)
    t3 = time.perf_counter()
    a = lp.matrix()
    return SolveOutcome(
        status=status, objective=objective, bound=bound, gap=gap, values=values,
        timings={"handoff_s": t1 - t0, "solve_s": t2 - t1, "extract_s": t3 - t2},
        size={"rows": lp.n_rows, "cols": lp.n_cols, "nnz": int(a.nnz),
              "integers": int(lp.arrays()["integer"].sum()) if not relax else 0},
        message=h.modelStatusToString(h.getModelStatus()),
        max_primal_infeasibility=float(info.max_primal_infeasibility) if has_x else 0.0,
    )


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


def solve_pyomo(m: pyo.ConcreteModel, opts: Solver, *, relax: bool = False) -> SolveOutcome:
    """Solve the Pyomo model with Pyomo's HiGHS interface (highspy underneath)."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    if relax:
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    solver = Highs()
    hopts = _highs_options(opts)
    t0 = time.perf_counter()
    res = solver.solve(
        m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
        time_limit=hopts.pop("time_limit"), threads=hopts.pop("threads"),
        rel_gap=hopts.pop("mip_rel_gap"), solver_options=hopts,
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
        message=str(tc),
    )
