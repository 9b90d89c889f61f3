"""The rule-based fallback plan: a schedule that can always be made, without a solver.

Published (flagged ``fallback: true``) when the optimisation fails, times out without a
solution, is infeasible, or the forecast is rejected. The rules are simple and safe:

- EVs charge as early as their pile, car and departure allow (the groups' upper envelope);
- flexible loads run flat at their window's mean power (semi-continuous loads at least at their
  minimum-on power, from the window start, until the window energy is delivered);
- storage follows a time-of-use rule within its SOC window: charge at full power in the cheapest
  third of the horizon's prices (within the import limit), discharge against the park's own net
  load in the dearest third and in committed demand-response windows, and soak up PV surplus at
  any time; it never discharges into export;
- PV and direct green supply are used first; grid import covers the rest up to the import limit;
  surplus is exported up to the export limit where the export price is not negative, the rest
  curtailed. Load beyond the import limit is reported as unserved.
"""

from __future__ import annotations

import numpy as np

from zeropark.model.data import pv_bus_efficiency
from zeropark.operations.plan import Plan
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario


def flex_flat_kw(sc: Scenario, T: int, dt_h: float) -> np.ndarray:
    """Flexible loads at their window's mean power [kW], shape (F, T).

    Windows start at the horizon start (as in the model); a window cut short by the horizon end
    gets its pro-rata energy. Semi-continuous loads whose mean lies below their minimum-on power
    run at the power that delivers the window energy in whole steps from the window start.
    """
    out = np.zeros((len(sc.flexible_loads), T))
    hours = np.arange(T) * dt_h
    for i, f in enumerate(sc.flexible_loads):  # loads, not time steps
        mean = f.energy_per_window_kwh / f.window_h
        lo = f.min_power_kw if f.min_on_power_kw is None else 0.0
        p = np.full(T, min(max(mean, lo), f.max_power_kw))
        if f.min_on_power_kw is not None and 0 < mean < f.min_on_power_kw:
            w = (hours // f.window_h).astype(int)
            steps_per = np.bincount(w)
            energy = mean * steps_per * dt_h
            n_on = np.maximum(np.floor(energy / (f.min_on_power_kw * dt_h)), 1.0)
            first = np.concatenate([[0], np.cumsum(steps_per)[:-1]])
            pos = np.arange(T) - first[w]
            level = np.minimum(energy / (n_on * dt_h), f.max_power_kw)
            p = np.where(pos < n_on[w], level[w], 0.0)
        out[i] = p
    return out


def ev_asap_kw(sc: Scenario, prof: Profiles) -> np.ndarray:
    """Group charging power as early as possible [kW], shape (G, T): the upper envelope's steps."""
    G = [g.name for g in sc.ev.groups]
    out = np.zeros((len(G), prof.n_steps))
    for k, name in enumerate(G):
        if name in prof.ev:
            out[k] = np.diff(prof.ev[name].e_hi_kwh, prepend=0.0) / prof.dt_h
    return out


def _take(amount: float, cap: np.ndarray) -> np.ndarray:
    """Split a scalar ``amount`` over units in order, each up to its ``cap``."""
    before = np.cumsum(cap) - cap
    return np.clip(amount - before, 0.0, cap)


def storage_tou(sc: Scenario, prof: Profiles, net_kw: np.ndarray, dr_mask: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Charge, discharge and SOC [kW, kW, kWh], shape (S, T), of the time-of-use rule.

    ``net_kw`` is the park's load minus on-site supply before storage (positive = import need).
    """
    units = sc.storage
    S, T, dt = len(units), prof.n_steps, prof.dt_h
    ch, dis, soc = np.zeros((S, T)), np.zeros((S, T)), np.zeros((S, T))
    if not S:
        return ch, dis, soc
    E = np.array([u.energy_kwh for u in units])
    P = np.array([u.power_kw for u in units])
    eta_c = np.array([u.charge_efficiency for u in units])
    eta_d = np.array([u.discharge_efficiency for u in units])
    lo, hi = np.array([u.soc_min for u in units]) * E, np.array([u.soc_max for u in units]) * E
    keep = 1.0 - np.array([u.self_discharge_per_h for u in units]) * dt
    price = prof.import_price_per_kwh
    q_lo, q_hi = np.quantile(price, [1 / 3, 2 / 3])
    cheap = (price <= q_lo + 1e-12) & (price < q_hi - 1e-12)
    dear = ((price >= q_hi - 1e-12) & (price > q_lo + 1e-12)) | dr_mask
    limit = sc.grid.import_limit_kw
    e = np.array([u.start_share for u in units]) * E
    # Sequential by nature: each step's room depends on the SOC the previous steps left.
    # Vectorized over units within a step.
    for t in range(T):
        e = e * keep
        room_ch = np.clip((hi - e) / (eta_c * dt), 0.0, P)
        room_dis = np.clip((e - lo) * eta_d / dt, 0.0, P)
        need = float(net_kw[t])
        if dear[t] and need > 0:
            dis[:, t] = _take(need, room_dis)
        elif cheap[t]:
            ch[:, t] = _take(max(limit - need, 0.0), room_ch)
        elif need < 0:
            ch[:, t] = _take(-need, room_ch)
        # self-discharge below the window is made up at once
        ch[:, t] = np.maximum(ch[:, t], np.minimum(np.maximum(lo - e, 0.0) / (eta_c * dt), P))
        e = e + eta_c * ch[:, t] * dt - dis[:, t] * dt / eta_d
        soc[:, t] = e
    return ch, dis, soc


def fallback_plan(sc: Scenario, prof: Profiles) -> Plan:
    """The rule-based plan of a horizon (see the module docstring).

    Parameters
    ----------
    sc : Scenario
        The horizon's scenario (initial SOC from the state).
    prof : Profiles
        The horizon's profiles (EV envelopes, DR events, forecast where accepted).
    """
    T, dt = prof.n_steps, prof.dt_h
    eta = pv_bus_efficiency(sc)
    pv = prof.pv_avail_kw * eta[:, None] if len(sc.pv) else np.zeros((0, T))
    direct = sc.green_power.direct is not None and prof.green_direct_kw is not None
    gd = np.asarray(prof.green_direct_kw, float) if direct else np.zeros(T)
    flex = flex_flat_kw(sc, T, dt)
    ev = ev_asap_kw(sc, prof)
    committed = [e for e in prof.dr_events if e.committed]
    dr_mask = np.zeros(T, bool)
    for e in committed:
        dr_mask |= e.mask
    net = prof.load_kw + flex.sum(axis=0) + ev.sum(axis=0) - pv.sum(axis=0) - gd
    ch, dis, soc = storage_tou(sc, prof, net, dr_mask)
    net = net + ch.sum(axis=0) - dis.sum(axis=0)
    imp = np.clip(net, 0.0, sc.grid.import_limit_kw)
    unserved = np.maximum(net - sc.grid.import_limit_kw, 0.0)
    exp = np.where(prof.export_price_per_kwh >= 0, np.clip(-net, 0.0, sc.grid.export_limit_kw),
                   0.0)
    spill = np.maximum(-net - exp, 0.0)
    pv_total = pv.sum(axis=0)
    cut_pv = np.minimum(spill, pv_total)
    pv_used = pv * np.where(pv_total > 0, 1.0 - cut_pv / np.where(pv_total > 0, pv_total, 1.0),
                            0.0)[None, :]
    gd_used = np.maximum(gd - (spill - cut_pv), 0.0)
    return Plan(
        grid_import_kw=imp, grid_export_kw=exp, pv_kw=pv_used, green_direct_kw=gd_used,
        storage_charge_kw=ch, storage_discharge_kw=dis, storage_soc_kwh=soc, ev_group_kw=ev,
        flex_kw=flex, dr_accepted=[e.name for e in committed], unserved_kw=unserved,
    )
