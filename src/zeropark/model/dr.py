"""Demand-response events: a participation binary per event; if accepted, net grid import in the
window must stay at or below baseline − requested reduction, with any shortfall penalised; the
payment is earned on the requested reduction. The big-M is derived from data: the import limit."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from zeropark.model.context import PyomoContext
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP


def pairs(d: ModelData) -> list[tuple[str, int]]:
    """(event, step) pairs covered by an event window."""
    return [(e.name, int(t)) for e in d.prof.dr_events for t in np.flatnonzero(e.mask)]


def _coef(d: ModelData) -> dict[str, float]:
    """Coefficient of the accept binary: L − baseline + reduction (L = import limit)."""
    L = d.sc.grid.import_limit_kw
    return {e.name: L - e.baseline_kw + e.reduction_kw for e in d.prof.dr_events}


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    events = d.prof.dr_events
    if not events:
        return
    E = d.dr_names
    L = d.sc.grid.import_limit_kw
    lb = np.array([1.0 if e.committed else 0.0 for e in events])
    pay = np.array([-e.payment_per_kw * e.reduction_kw for e in events])
    y = lp.var("dr.accept", (E,), lb, 1.0, pay, integer=True)
    prs = pairs(d)
    labels = [f"{e},{t}" for e, t in prs]
    ev_idx = np.array([E.index(e) for e, _ in prs])
    t_idx = np.array([t for _, t in prs])
    pen = np.array([events[i].penalty_per_kwh * d.dt_h for i in ev_idx])
    short = lp.var("dr.short_kw", (labels,), 0.0, np.inf, pen)
    rows = lp.rows("dr.reduction", (labels,), hi=L)
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
    L = d.sc.grid.import_limit_kw
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
        + coef[e] * b.accept[e] <= L)
    ctx.costs.append(sum(-ev.payment_per_kw * ev.reduction_kw * b.accept[n]
                         for n, ev in events.items()))
    ctx.costs.append(sum(events[e].penalty_per_kwh * d.dt_h * b.short_kw[e, t] for e, t in b.P))
