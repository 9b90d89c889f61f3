"""Explain an infeasible or failed solve in the user's terms.

:func:`explain` is called by :func:`zeropark.api.finish` whenever a solve ends without a
solution; :func:`diagnose` returns the same findings as typed :class:`Cause` objects with their
numbers. For an infeasible model the steps are, stopping at the first that finds a cause:

1. data checks: NaN/inf numbers, bounds whose lower end is above the upper end, EV envelopes
   that are inverted (:mod:`zeropark.reliability.numerics`, :mod:`~zeropark.reliability.datacheck`);
2. the elastic LP with the hard targets set aside: non-zero slacks become sentences such as
   "import limit 8,000 kW below load 9,350 kW at 2025-07-15 14:00"
   (:mod:`zeropark.reliability.elastic`);
3. each hard target alone, then the hard targets together: the best reachable value, e.g.
   "green share 90 % unreachable: at most 73.4 % with the assets given";
4. the elastic MILP, when only the on/off decisions make the model infeasible;
5. HiGHS's irreducible infeasible subset (IIS) when the conflict is structural (no slack helps).

LP bounds are exact statements for the model without integers and safe bounds ("at most",
"at least") for the model with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.reliability import datacheck, sentences
from zeropark.reliability.elastic import (
    Elastic,
    best_target_value,
    build_elastic,
    new_highs,
    solution,
    target_row,
)
from zeropark.reliability.names import col_label, row_label, words
from zeropark.reliability.numerics import nonfinite_entries, nonfinite_profiles, scaling_report
from zeropark.solve import SolveOutcome, Status

_IIS_FROM_LP = 2
_IIS_IRREDUCIBLE = 4


@dataclass(frozen=True)
class Cause:
    """One reason for the missing solution: a kind, a sentence and the numbers behind it."""

    kind: str
    sentence: str
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    """All causes found, and by which method (``data check``, ``elastic LP``, ``target bounds``,
    ``elastic MILP``, ``IIS``, ``status``)."""

    status: Status
    causes: list[Cause]
    method: str

    def text(self, name: str) -> str:
        """``<park>: <status>: <cause>; <cause> …``"""
        body = "; ".join(c.sentence for c in self.causes) or "no cause found"
        return f"{name}: {self.status}: {body}"


def explain(d: ModelData, out: SolveOutcome) -> str:
    """One paragraph saying why there is no solution.

    Never raises (except on Ctrl-C): if the diagnosis itself fails, the bare solver status is
    returned with the reason the diagnosis failed.
    """
    try:
        return diagnose(d, out).text(d.sc.name)
    except Exception as err:  # noqa: BLE001 - an explanation must never turn into a crash
        return (f"{d.sc.name}: solver status {out.status} ({out.message}); the diagnosis failed "
                f"({type(err).__name__}: {err})")


def diagnose(d: ModelData, out: SolveOutcome | None = None) -> Diagnosis:
    """Why ``d`` has no solution (``out`` None: assume the solver said infeasible)."""
    status = Status.INFEASIBLE if out is None else out.status
    if status in (Status.TIME_LIMIT, Status.NO_SOLUTION):
        return Diagnosis(status, [_time_limit(d, out)], "status")
    if status in (Status.ERROR, Status.UNBOUNDED):
        return _error(d, out, status)
    return _infeasible(d)


# -- no solution for other reasons ------------------------------------------------------------------
def _time_limit(d: ModelData, out: SolveOutcome | None) -> Cause:
    size = dict(out.size) if out is not None else {}
    if not {"rows", "cols", "integers"} <= size.keys():
        # the Pyomo engine reports no size: count the same model in matrix form (milliseconds)
        lp = build_matrix(d)
        size = {"rows": lp.n_rows, "cols": lp.n_cols,
                "integers": int(lp.arrays()["integer"].sum()), **size}
    limit = d.sc.solver.time_limit_s
    return Cause("time_limit",
                 f"no feasible dispatch found within the time limit of {limit:g} s "
                 f"({size.get('rows', '?')} rows, {size.get('cols', '?')} columns, "
                 f"{size.get('integers', '?')} integer); raise solver.time_limit_s, loosen "
                 f"solver.mip_gap or solve the LP relaxation (--relax)",
                 {"time_limit_s": limit, **size})


def _error(d: ModelData, out: SolveOutcome | None, status: Status) -> Diagnosis:
    lp = build_matrix(d)
    bad = nonfinite_profiles(d) or nonfinite_entries(lp, d)
    if bad:
        return _nonfinite(status, bad)
    message = out.message if out is not None else ""
    if status == Status.UNBOUNDED:
        arr = lp.arrays()
        free = np.flatnonzero((arr["cost"] < 0) & (arr["ub"] >= highspy.kHighsInf))
        names = [col_label(lp, int(i), d) for i in free[:5]]
        return Diagnosis(status, [Cause(
            "unbounded", "the cost can fall without limit: "
            + (f"unbounded columns with a negative cost: {', '.join(names)}" if names else
               "a combination of flows earns money without limit (check negative prices)"),
            {"columns": names})], "status")
    report = scaling_report(lp)
    return Diagnosis(status, [Cause(
        "numerical", f"{message or 'solver error'}; model numbers: " + "; ".join(report.lines()),
        {"matrix_ratio": report.matrix_ratio, "message": message})], "status")


def _nonfinite(status: Status, bad: list[str]) -> Diagnosis:
    return Diagnosis(status, [Cause(
        "nonfinite", "the model contains numbers that are not finite or too large (check the "
        "profiles): " + "; ".join(bad), {"entries": bad})], "data check")


# -- infeasible --------------------------------------------------------------------------------------
def _infeasible(d: ModelData) -> Diagnosis:
    e = build_elastic(d)
    bad = nonfinite_profiles(d) or nonfinite_entries(e.lp, d)
    if bad:
        return _nonfinite(Status.INFEASIBLE, bad)
    causes = [Cause("ev_envelope", c.sentence(d), {"group": c.group, "needed_kwh": c.needed_kwh,
                                                   "deliverable_kwh": c.deliverable_kwh})
              for c in datacheck.ev_conflicts(d) if c.inverted]
    inverted = [s for s in datacheck.inverted_bounds(e.lp, d) if not s.startswith("EV charging")]
    causes += [Cause("bounds", s) for s in inverted]
    if causes:
        return Diagnosis(Status.INFEASIBLE, causes, "data check")

    h = new_highs(e.model(), d)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return Diagnosis(Status.INFEASIBLE, iis_conflict(d), "IIS")
    x = solution(h) if status == highspy.HighsModelStatus.kOptimal else None
    if x is None:
        return Diagnosis(Status.INFEASIBLE, [Cause(
            "incomplete", f"the model is infeasible; its diagnosis stopped early "
            f"({h.modelStatusToString(status)} within solver.time_limit_s = "
            f"{d.sc.solver.time_limit_s:g} s)")], "elastic LP")
    causes = _slack_causes(e, x)
    if causes:
        return Diagnosis(Status.INFEASIBLE, causes, "elastic LP")
    causes = _target_causes(e, x)
    if causes:
        return Diagnosis(Status.INFEASIBLE, causes, "target bounds")
    if e.lp.arrays()["integer"].any():
        return Diagnosis(Status.INFEASIBLE, _integer_causes(e), "elastic MILP")
    return Diagnosis(Status.INFEASIBLE, [Cause(
        "numerical", "the elastic model finds a feasible dispatch within tolerance, so the "
        "infeasibility is numerical: check for very large or very small numbers in the scenario")],
        "elastic LP")


def _tol_kwh(d: ModelData) -> float:
    load = np.abs(np.asarray(d.prof.load_kw, float))
    return 1e-6 * max(1.0, float(load.max(initial=0.0)) * d.dt_h)


def _slack_causes(e: Elastic, x: np.ndarray, prefix: str = "") -> list[Cause]:
    """Sentences for every slack block with energy above round-off."""
    d, tol = e.d, _tol_kwh(e.d)
    values = e.lp.values(x)
    causes = []
    for name, s in {**e.slacks, **e.target_slacks}.items():
        energy = np.asarray(values[name], float) * s.kwh_per_unit
        if energy.sum() <= tol:
            continue
        for kind, sentence, data in sentences.describe(d, name, values, energy):
            causes.append(Cause(kind, prefix + sentence, data))
    return causes


def _target_causes(e: Elastic, x: np.ndarray) -> list[Cause]:
    """Hard targets beyond reach alone, or together, with the physical slacks held at zero."""
    if not e.hard:
        return []
    d = e.d
    rows = {key: target_row(e, key) for key in e.hard}
    keys = list(e.hard)

    def best(kept: tuple[str, ...], key: str) -> float:
        hh = new_highs(e.model(targets=kept), d)
        cols = np.concatenate([s.cols.ravel() for s in e.slacks.values()]).astype(np.int32)
        hi = np.maximum(x[cols], 0.0)  # the physical stage's minimum (zero up to round-off)
        hh.changeColsBounds(len(cols), cols, np.zeros(len(cols)), hi)
        return best_target_value(hh, rows[key], x)

    causes = []
    for key in keys:
        value = sentences.target_value(d, key)
        reach = best((), key)
        if not sentences.reachable(key, value, reach):
            causes.append(Cause("target", sentences.target_sentence(key, value, reach),
                                {"target": key, "value": value, "best": reach}))
    if causes:
        return causes
    for k in range(1, len(keys)):
        key = keys[k]
        value = sentences.target_value(d, key)
        reach = best(tuple(keys[:k]), key)
        if not sentences.reachable(key, value, reach):
            return [Cause("targets_joint", sentences.joint_sentence(d, keys[:k], key, reach),
                          {"targets": keys[: k + 1], "best": reach})]
    return []


def _integer_causes(e: Elastic) -> list[Cause]:
    """Elastic MILP with all hard targets kept (missable at a cost)."""
    d = e.d
    h = new_highs(e.model(integer=True, targets=tuple(e.hard), target_slack=True), d,
                  time_limit_s=60.0)
    h.run()
    x = solution(h)
    families = sentences.integer_families(e.lp)
    if x is None:
        return [Cause("integer", f"the LP relaxation is feasible but no dispatch with the on/off "
                      f"decisions ({families}) was found within the time limit",
                      {"families": families})]
    causes = _slack_causes(e, x, prefix=f"with the on/off decisions ({families}): ")
    return causes or [Cause("integer", f"the LP relaxation is feasible but the on/off decisions "
                            f"({families}) make the model infeasible", {"families": families})]


def iis_conflict(d: ModelData) -> list[Cause]:
    """Structural conflict from HiGHS's irreducible infeasible subset of the LP relaxation."""
    lp = build_matrix(d)
    h = new_highs(lp.to_highs(relax=True), d)
    # from the LP's dual ray, then reduced to an irreducible set (HiGHS ≥ 1.12 option values)
    h.setOptionValue("iis_strategy", _IIS_FROM_LP | _IIS_IRREDUCIBLE)
    h.run()
    items: list[str] = []
    if hasattr(h, "getIis"):
        status, iis = h.getIis()
        if status != highspy.HighsStatus.kError and iis.valid_:
            arr = lp.arrays()
            for i, b in zip(iis.row_index_, iis.row_bound_, strict=True):
                name = row_label(lp, int(i), d)
                items.append(f"{words(name.split('[', 1)[0], row=True)} {name}"
                             f"{_side(int(b), arr['row_lo'][i], arr['row_hi'][i])}")
            for j, b in zip(iis.col_index_, iis.col_bound_, strict=True):
                if int(b) not in (2, 3, 4):  # the column's bounds are not part of the conflict
                    continue
                name = col_label(lp, int(j), d)
                items.append(f"{words(name.split('[', 1)[0], row=False)} {name}"
                             f"{_side(int(b), arr['lb'][j], arr['ub'][j])}")
    if not items:
        return [Cause("iis", "the model is infeasible and neither the elastic model nor HiGHS's "
                      "IIS could locate the conflict")]
    shown = "; ".join(items[:8]) + (f" (+{len(items) - 8} more)" if len(items) > 8 else "")
    return [Cause("iis", f"conflicting constraints (HiGHS IIS): {shown}", {"items": items})]


def _side(bound: int, lo: float, hi: float) -> str:
    if lo == hi:
        return f" = {lo:,.6g}"
    if bound == 2:
        return f" ≥ {lo:,.6g}"
    if bound == 3:
        return f" ≤ {hi:,.6g}"
    if bound == 4:
        return f" in [{lo:,.6g}, {hi:,.6g}]"
    return ""
