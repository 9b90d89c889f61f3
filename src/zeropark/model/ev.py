"""EV pile groups: grid-side charging power within the plugged-in limit, cumulative delivered
energy between the group's envelope E_lo ≤ delivered + unmet ≤ E_hi, unmet energy (cumulative,
non-decreasing) at a penalty, and optional V2G discharge."""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP


def _arrays(d: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    groups = [d.prof.ev[g] for g in d.ev_names]
    return (np.array([g.e_lo_kwh for g in groups]), np.array([g.e_hi_kwh for g in groups]),
            np.array([g.p_max_kw for g in groups]))


def v2g_names(d: ModelData) -> list[str]:
    return [g.name for g in d.sc.ev.groups if g.v2g]


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    G, T, dt = d.ev_names, d.T, d.dt_h
    if not G:
        return
    steps = range(T)
    e_lo, e_hi, p_max = _arrays(d)
    pen = np.zeros((len(G), T))
    pen[:, -1] = d.sc.ev.unmet_penalty_per_kwh
    p = lp.var("ev.power_kw", (G, steps), 0.0, p_max)
    e = lp.var("ev.energy_kwh", (G, steps), 0.0)
    u = lp.var("ev.unmet_kwh", (G, steps), 0.0, np.inf, pen)
    lp.add(bal[None, :], p, -1.0)
    dyn = lp.rows("ev.energy_balance", (G, steps), 0.0, 0.0)
    lp.add(dyn, e, 1.0)
    lp.add(dyn[:, 1:], e[:, :-1], -1.0)
    lp.add(dyn, p, -dt)
    env = lp.rows("ev.envelope", (G, steps), e_lo, e_hi)
    lp.add(env, e, 1.0)
    lp.add(env, u, 1.0)
    mono = lp.rows("ev.unmet_monotone", (G, range(1, T)), lo=0.0)
    lp.add(mono, u[:, 1:], 1.0)
    lp.add(mono, u[:, :-1], -1.0)
    V = v2g_names(d)
    if V:
        idx = [G.index(g) for g in V]
        v = lp.var("ev.v2g_kw", (V, steps), 0.0, p_max[idx])
        lp.add(bal[None, :], v, 1.0)
        lp.add(dyn[idx], v, dt)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form."""
    G, T, dt = d.ev_names, d.T, d.dt_h
    if not G:
        return
    e_lo, e_hi, p_max = _arrays(d)
    k = {g: i for i, g in enumerate(G)}
    V = v2g_names(d)
    b = m.ev = pyo.Block()
    b.G = pyo.Set(initialize=G, ordered=True)
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.power_kw = pyo.Var(b.G, b.T, bounds=lambda _, g, t: (0.0, p_max[k[g], t]))
    b.energy_kwh = pyo.Var(b.G, b.T, bounds=(0.0, None))
    b.unmet_kwh = pyo.Var(b.G, b.T, bounds=(0.0, None))
    if V:
        b.V = pyo.Set(initialize=V, ordered=True)
        b.v2g_kw = pyo.Var(b.V, b.T, bounds=lambda _, g, t: (0.0, p_max[k[g], t]))

    def energy_balance(b: pyo.Block, g: str, t: int) -> pyo.Expression:
        prev = b.energy_kwh[g, t - 1] if t > 0 else 0.0
        back = dt * b.v2g_kw[g, t] if g in V else 0.0
        return b.energy_kwh[g, t] - prev - dt * b.power_kw[g, t] + back == 0

    b.energy_balance = pyo.Constraint(b.G, b.T, rule=energy_balance)
    b.envelope = pyo.Constraint(
        b.G, b.T, rule=lambda b, g, t: (e_lo[k[g], t], b.energy_kwh[g, t] + b.unmet_kwh[g, t],
                                        e_hi[k[g], t]))
    b.unmet_monotone = pyo.Constraint(
        b.G, pyo.RangeSet(1, T - 1),
        rule=lambda b, g, t: b.unmet_kwh[g, t] - b.unmet_kwh[g, t - 1] >= 0)

    def net(t: int) -> pyo.Expression:
        out = -sum(b.power_kw[g, t] for g in G)
        return out + sum(b.v2g_kw[g, t] for g in V) if V else out

    ctx.balance.append(net)
    ctx.costs.append(sum(d.sc.ev.unmet_penalty_per_kwh * b.unmet_kwh[g, T - 1] for g in G))
