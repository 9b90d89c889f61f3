"""Demand-response events: a participation binary per event; if accepted, net grid import in the
window must stay at or below baseline − requested reduction, with any shortfall penalised; the
payment is earned on the requested reduction. The big-M is derived from data: the most the park
can draw in the event's window (all on-site demand, nothing on-site supplied, at most the import
limit)."""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP


def pairs(d: ModelData) -> list[tuple[str, int]]:
    """(event, step) pairs covered by an event window."""
    return [(e.name, int(t)) for e in d.prof.dr_events for t in np.flatnonzero(e.mask)]


def big_m(d: ModelData) -> dict[str, float]:
    """Per event: the largest net import possible in its window [kW]."""
    from zeropark.model.data import max_deficit_kw

    deficit = max_deficit_kw(d.sc, d.prof)
    return {e.name: float(deficit[e.mask].max()) for e in d.prof.dr_events}


def _coef(d: ModelData) -> dict[str, float]:
    """Coefficient of the accept binary: M − baseline + reduction (M = :func:`big_m`).

    Row: net − short + coef·accept ≤ M, i.e. net ≤ M (+ short) when declined and
    net ≤ baseline − reduction (+ short) when accepted.
    """
    m = big_m(d)
    return {e.name: m[e.name] - e.baseline_kw + e.reduction_kw for e in d.prof.dr_events}


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    events = d.prof.dr_events
    if not events:
        return
    E = d.dr_names
    m = big_m(d)
    lb = np.array([1.0 if e.committed else 0.0 for e in events])
    pay = np.array([-e.payment_per_kw * e.reduction_kw for e in events])
    y = lp.var("dr.accept", (E,), lb, 1.0, pay, integer=True)
    prs = pairs(d)
    labels = [f"{e},{t}" for e, t in prs]
    ev_idx = np.array([E.index(e) for e, _ in prs])
    t_idx = np.array([t for _, t in prs])
    pen = np.array([events[i].penalty_per_kwh * d.dt_h for i in ev_idx])
    short = lp.var("dr.short_kw", (labels,), 0.0, np.inf, pen)
    rows = lp.rows("dr.reduction", (labels,), hi=np.array([m[e] for e, _ in prs]))
    imp, exp = lp.cols("grid.import_kw"), lp.cols("grid.export_kw")
    coef = _coef(d)
    lp.add(rows, imp[t_idx], 1.0)
    lp.add(rows, exp[t_idx], -1.0)
    lp.add(rows, short, -1.0)
    lp.add(rows, y[ev_idx], np.array([coef[E[i]] for i in ev_idx]))


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form."""
    events = {e.name: e for e in d.prof.dr_events}
    if not events:
        return
    big = big_m(d)
    coef = _coef(d)
    b = m.dr = pyo.Block()
    b.E = pyo.Set(initialize=list(events), ordered=True)
    b.P = pyo.Set(initialize=pairs(d), ordered=True, dimen=2)
    b.accept = pyo.Var(b.E, within=pyo.Binary,
                       bounds=lambda _, e: (1.0 if events[e].committed else 0.0, 1.0))
    b.short_kw = pyo.Var(b.P, bounds=(0.0, None))
    g = m.grid
    b.reduction = pyo.Constraint(
        b.P, rule=lambda b, e, t: g.import_kw[t] - g.export_kw[t] - b.short_kw[e, t]
        + coef[e] * b.accept[e] <= big[e])
    ctx.costs.append(sum(-ev.payment_per_kw * ev.reduction_kw * b.accept[n]
                         for n, ev in events.items()))
    ctx.costs.append(sum(events[e].penalty_per_kwh * d.dt_h * b.short_kw[e, t] for e, t in b.P))
