"""Grid connection: import/export within limits, TOU energy cost, monthly demand charge, and
import/export exclusivity binaries only in the steps where simultaneous flow could pay."""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP


def _limits(d: ModelData) -> tuple[float, float]:
    return d.sc.grid.import_limit_kw, d.sc.grid.export_limit_kw


def _peak_floor(d: ModelData) -> np.ndarray:
    floor = d.prof.peak_floor_kw
    return np.zeros(d.months) if floor is None else np.asarray(floor, float)


def export_upper_kw(d: ModelData) -> np.ndarray:
    """Export limit per step: zero where exporting would need simultaneous import."""
    ub = np.full(d.T, d.sc.grid.export_limit_kw)
    ub[d.export_blocked_steps] = 0.0
    return ub


def big_m(d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Data-derived big-M of the exclusivity rows in the binary steps: the most the park could
    import (all on-site demand, nothing on-site supplied) and export (its largest surplus)."""
    from zeropark.model.data import max_deficit_kw, max_surplus_kw

    b = d.grid_binary_steps
    m_imp = max_deficit_kw(d.sc, d.prof)[b]
    m_exp = np.minimum(max_surplus_kw(d.sc, d.prof)[b], d.sc.grid.export_limit_kw)
    return m_imp, np.maximum(m_exp, 0.0)


def capacity_cost(d: ModelData) -> float:
    """Fixed capacity (kVA) charge over the horizon, pro rata to 12 months a year [currency]."""
    return d.prof.capacity_charge_per_month * 12.0 * d.horizon_fraction


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    lp.objective_offset += capacity_cost(d)
    T, dt = d.T, d.dt_h
    L_imp, L_exp = _limits(d)
    steps = range(T)
    imp = lp.var("grid.import_kw", (steps,), 0.0, L_imp, d.prof.import_price_per_kwh * dt)
    exp = lp.var("grid.export_kw", (steps,), 0.0, export_upper_kw(d),
                 -d.prof.export_price_per_kwh * dt)
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
        m_imp, m_exp = big_m(d)
        u = lp.var("grid.exclusive", (list(b),), 0.0, 1.0, integer=True)
        r1 = lp.rows("grid.import_if_on", (list(b),), hi=0.0)
        lp.add(r1, imp[b], 1.0)
        lp.add(r1, u, -m_imp)
        r2 = lp.rows("grid.export_if_off", (list(b),), hi=m_exp)
        lp.add(r2, exp[b], 1.0)
        lp.add(r2, u, m_exp)


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
    exp_ub = export_upper_kw(d)
    b.export_kw = pyo.Var(b.T, bounds=lambda _, t: (0.0, exp_ub[t]))
    b.peak_kw = pyo.Var(b.M, bounds=lambda _, mo: (floor[months.index(mo)], None))
    month_of = [months[i] for i in d.prof.month_index]
    b.peak = pyo.Constraint(b.T, rule=lambda b, t: b.peak_kw[month_of[t]] - b.import_kw[t] >= 0)
    bsteps = [int(t) for t in d.grid_binary_steps]
    if bsteps:
        m_imp, m_exp = (dict(zip(bsteps, m, strict=True)) for m in big_m(d))
        b.B = pyo.Set(initialize=bsteps, ordered=True)
        b.exclusive = pyo.Var(b.B, within=pyo.Binary)
        b.import_if_on = pyo.Constraint(
            b.B, rule=lambda b, t: b.import_kw[t] - m_imp[t] * b.exclusive[t] <= 0)
        b.export_if_off = pyo.Constraint(
            b.B, rule=lambda b, t: b.export_kw[t] + m_exp[t] * b.exclusive[t] <= m_exp[t])
    ctx.balance.append(lambda t: b.import_kw[t] - b.export_kw[t])
    ctx.costs.append(sum(price_imp[t] * dt * b.import_kw[t] for t in range(T)))
    ctx.costs.append(sum(-price_exp[t] * dt * b.export_kw[t] for t in range(T)))
    ctx.costs.append(sum(d.prof.demand_charge_per_kw_month * b.peak_kw[mo] for mo in months))
    ctx.costs.append(capacity_cost(d))
