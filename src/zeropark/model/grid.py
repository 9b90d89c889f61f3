"""Grid connection: import/export within limits, TOU energy cost, monthly demand charge, and
import/export exclusivity binaries only in the steps where simultaneous flow could pay."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from zeropark.model.context import PyomoContext
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP


def _limits(d: ModelData) -> tuple[float, float]:
    return d.sc.grid.import_limit_kw, d.sc.grid.export_limit_kw


def _peak_floor(d: ModelData) -> np.ndarray:
    floor = d.prof.peak_floor_kw
    return np.zeros(d.months) if floor is None else np.asarray(floor, float)


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    T, dt = d.T, d.dt_h
    L_imp, L_exp = _limits(d)
    steps = range(T)
    imp = lp.var("grid.import_kw", (steps,), 0.0, L_imp, d.prof.import_price_per_kwh * dt)
    exp = lp.var("grid.export_kw", (steps,), 0.0, L_exp, -d.prof.export_price_per_kwh * dt)
    lp.add(bal, imp, 1.0)
    lp.add(bal, exp, -1.0)
    months = d.prof.month_labels
    peak = lp.var("grid.peak_kw", (months,), _peak_floor(d), np.inf,
                  d.prof.demand_charge_per_kw_month)
    rows = lp.rows("grid.peak", (steps,), lo=0.0)
    lp.add(rows, peak[d.prof.month_index], 1.0)
    lp.add(rows, imp, -1.0)
    b = d.grid_binary_steps
    if len(b):
        u = lp.var("grid.exclusive", (list(b),), 0.0, 1.0, integer=True)
        r1 = lp.rows("grid.import_if_on", (list(b),), hi=0.0)
        lp.add(r1, imp[b], 1.0)
        lp.add(r1, u, -L_imp)
        r2 = lp.rows("grid.export_if_off", (list(b),), hi=L_exp)
        lp.add(r2, exp[b], 1.0)
        lp.add(r2, u, L_exp)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form (same rows, columns and coefficients as :func:`add_matrix`)."""
    T, dt = d.T, d.dt_h
    L_imp, L_exp = _limits(d)
    price_imp, price_exp = d.prof.import_price_per_kwh, d.prof.export_price_per_kwh
    months = d.prof.month_labels
    floor = _peak_floor(d)
    b = m.grid = pyo.Block()
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.M = pyo.Set(initialize=months, ordered=True)
    b.import_kw = pyo.Var(b.T, bounds=(0.0, L_imp))
    b.export_kw = pyo.Var(b.T, bounds=(0.0, L_exp))
    b.peak_kw = pyo.Var(b.M, bounds=lambda _, mo: (floor[months.index(mo)], None))
    month_of = [months[i] for i in d.prof.month_index]
    b.peak = pyo.Constraint(b.T, rule=lambda b, t: b.peak_kw[month_of[t]] - b.import_kw[t] >= 0)
    bsteps = [int(t) for t in d.grid_binary_steps]
    if bsteps:
        b.B = pyo.Set(initialize=bsteps, ordered=True)
        b.exclusive = pyo.Var(b.B, within=pyo.Binary)
        b.import_if_on = pyo.Constraint(
            b.B, rule=lambda b, t: b.import_kw[t] - L_imp * b.exclusive[t] <= 0)
        b.export_if_off = pyo.Constraint(
            b.B, rule=lambda b, t: b.export_kw[t] + L_exp * b.exclusive[t] <= L_exp)
    ctx.balance.append(lambda t: b.import_kw[t] - b.export_kw[t])
    ctx.costs.append(sum(price_imp[t] * dt * b.import_kw[t] for t in range(T)))
    ctx.costs.append(sum(-price_exp[t] * dt * b.export_kw[t] for t in range(T)))
    ctx.costs.append(sum(d.prof.demand_charge_per_kw_month * b.peak_kw[mo] for mo in months))
