"""Battery storage: SOC dynamics with efficiencies and self-discharge, SOC window, initial SOC and
end condition, throughput cost on discharge, optional daily cycle limit, and charge/discharge
exclusivity binaries only where dumping energy could pay (see ``binary_rule_steps``).

Per unit s and step t (dt the step length [h], k = 1 − self-discharge·dt):

    soc[s,t] = k·soc[s,t-1] + η_c·dt·ch[s,t] − dt/η_d·dis[s,t]     (storage.soc_balance)
    soc[s,-1] = S0 = soc_initial·E, or with ``soc_initial: free`` a column
    S0 = storage.soc_start_kwh[s] ∈ [soc_min·E, soc_max·E] chosen by the optimiser
    soc[s,T-1] = S0 (cyclic), ≥ S0 (at_least_initial), none (free)  (storage.end)

With ``ramp_kw_per_h`` r the net power q[s,t] = dis[s,t] − ch[s,t] changes by at most r·dt per
step, and the first step stays within r·dt of the power before the horizon when it is known
(``ModelData.storage_initial_kw``, nightly operations)::

    −r·dt ≤ q[s,t] − q[s,t-1] ≤ r·dt,  t ≥ 1                      (storage.ramp)
    q_init − r·dt ≤ q[s,0] ≤ q_init + r·dt                          (storage.ramp_start)

A free start is only allowed with a cyclic end (PyPSA's cyclic storage convention): the horizon
then neither borrows nor banks energy, whatever start the optimiser picks.

The end target E_end = S0 unless ``ModelData.storage_end_kwh`` sets it (the last window of a
rolling horizon, whose initial SOC is the carried one, ends at the scenario's initial SOC).
"""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family
from zeropark.model.lp import MatrixLP


def params(d: ModelData) -> dict[str, np.ndarray]:
    """Per-unit parameter vectors (length S)."""
    units = d.sc.storage

    def arr(attr: str) -> np.ndarray:
        return np.array([float(getattr(u, attr)) for u in units])

    e = arr("energy_kwh")
    free = np.array([u.free_start for u in units], dtype=bool)
    init = np.array([0.0 if u.free_start else float(u.soc_initial) for u in units]) * e
    return {
        "E": e, "P": arr("power_kw"), "eta_c": arr("charge_efficiency"),
        "eta_d": arr("discharge_efficiency"), "lo": arr("soc_min") * e, "hi": arr("soc_max") * e,
        "init": init, "free": free, "keep": 1.0 - arr("self_discharge_per_h") * d.dt_h,
        "cost": arr("throughput_cost_per_kwh"),
        "cycles": np.array([np.inf if u.max_cycles_per_day is None else u.max_cycles_per_day
                            for u in units]),
        "end": np.array([u.end_condition for u in units]),
        # target of the end condition: the initial SOC, unless the model data sets another
        "end_kwh": (init if d.storage_end_kwh is None
                    else np.asarray(d.storage_end_kwh, float)),
    }


def ramp_limits(d: ModelData) -> tuple[list[int], np.ndarray, list[tuple[int, float, float]]]:
    """Ramp-limited units: their indices, r·dt [kW] each, and (index, q_init [kW], r·dt [kW]) of
    those whose power before the horizon is known (clamped to ±power_kw)."""
    units = d.sc.storage
    ramped = [i for i, u in enumerate(units) if u.ramp_kw_per_h is not None]
    r = np.array([units[i].ramp_kw_per_h * d.dt_h for i in ramped])
    first: list[tuple[int, float, float]] = []
    if d.storage_initial_kw is not None and d.T:
        given = np.asarray(d.storage_initial_kw, float)
        if given.shape != (len(units),):
            raise ValueError(f"storage_initial_kw: shape {given.shape}, expected ({len(units)},)")
        for j, i in enumerate(ramped):
            if np.isfinite(given[i]):
                q0 = min(max(float(given[i]), -units[i].power_kw), units[i].power_kw)
                first.append((i, q0, float(r[j])))
    return ramped, r, first


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    if not d.storage_names:
        return
    p, S, T, dt = params(d), d.storage_names, d.T, d.dt_h
    steps = range(T)
    ch = lp.var("storage.charge_kw", (S, steps), 0.0, p["P"][:, None])
    dis = lp.var("storage.discharge_kw", (S, steps), 0.0, p["P"][:, None],
                 (p["cost"] * dt)[:, None])
    soc = lp.var("storage.soc_kwh", (S, steps), p["lo"][:, None], p["hi"][:, None])
    lp.add(bal[None, :], dis, 1.0)
    lp.add(bal[None, :], ch, -1.0)
    rhs = np.zeros((len(S), T))
    rhs[:, 0] = p["keep"] * p["init"]
    rows = lp.rows("storage.soc_balance", (S, steps), rhs, rhs)
    lp.add(rows, soc, 1.0)
    lp.add(rows[:, 1:], soc[:, :-1], -p["keep"][:, None])
    lp.add(rows, ch, -(p["eta_c"] * dt)[:, None])
    lp.add(rows, dis, (dt / p["eta_d"])[:, None])
    free = np.flatnonzero(p["free"])
    if free.size:
        s0 = lp.var("storage.soc_start_kwh", ([S[i] for i in free],), p["lo"][free],
                    p["hi"][free])
        lp.add(rows[free, 0], s0, -p["keep"][free])
    ends = [i for i, e in enumerate(p["end"]) if e != "free"]
    if ends:
        names = [S[i] for i in ends]
        hi = np.where(p["end"][ends] == "cyclic", p["end_kwh"][ends], np.inf)
        r = lp.rows("storage.end", (names,), p["end_kwh"][ends], hi)
        lp.add(r, soc[ends, -1], 1.0)
        if free.size:  # free starts are cyclic: soc[T-1] − S0 = 0
            lp.add(r[[ends.index(i) for i in free]], s0, -1.0)
    b = d.storage_binary_steps
    if len(b):
        z = lp.var("storage.mode", (S, list(b)), 0.0, 1.0, integer=True)
        r1 = lp.rows("storage.charge_if_on", (S, list(b)), hi=0.0)
        lp.add(r1, ch[:, b], 1.0)
        lp.add(r1, z, -p["P"][:, None])
        r2 = lp.rows("storage.discharge_if_off", (S, list(b)), hi=p["P"][:, None])
        lp.add(r2, dis[:, b], 1.0)
        lp.add(r2, z, p["P"][:, None])
    limited = [i for i, c in enumerate(p["cycles"]) if np.isfinite(c)]
    if limited:
        names = [S[i] for i in limited]
        cap = (p["cycles"] * (p["hi"] - p["lo"]))[limited]
        r = lp.rows("storage.daily_cycles", (names, range(d.n_days)), hi=cap[:, None])
        lp.add(r[:, d.day_index], dis[limited, :], dt)
    ramped, r_dt, first = ramp_limits(d)
    if ramped and T > 1:
        rows = lp.rows("storage.ramp", ([S[i] for i in ramped], range(1, T)),
                       -r_dt[:, None], r_dt[:, None])
        for c, sign in ((dis, 1.0), (ch, -1.0)):
            lp.add(rows, c[ramped, 1:], sign)
            lp.add(rows, c[ramped, :-1], -sign)
    if first:
        idx = [i for i, _, _ in first]
        q0 = np.array([q for _, q, _ in first])
        r0 = np.array([x for _, _, x in first])
        rows = lp.rows("storage.ramp_start", ([S[i] for i in idx],), q0 - r0, q0 + r0)
        lp.add(rows, dis[idx, 0], 1.0)
        lp.add(rows, ch[idx, 0], -1.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form."""
    if not d.storage_names:
        return
    p, S, T, dt = params(d), d.storage_names, d.T, d.dt_h
    k = {s: i for i, s in enumerate(S)}
    b = m.storage = pyo.Block()
    b.S = pyo.Set(initialize=S, ordered=True)
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.charge_kw = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (0.0, p["P"][k[s]]))
    b.discharge_kw = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (0.0, p["P"][k[s]]))
    b.soc_kwh = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (p["lo"][k[s]], p["hi"][k[s]]))
    free = [s for s in S if p["free"][k[s]]]
    if free:
        b.soc_start_kwh = pyo.Var(pyo.Set(initialize=free, ordered=True),
                                  bounds=lambda _, s: (p["lo"][k[s]], p["hi"][k[s]]))

    def start(s: str) -> pyo.Expression | float:
        return b.soc_start_kwh[s] if s in free else p["init"][k[s]]

    def soc_balance(b: pyo.Block, s: str, t: int) -> pyo.Expression:
        i = k[s]
        prev = p["keep"][i] * (b.soc_kwh[s, t - 1] if t > 0 else start(s))
        flow = p["eta_c"][i] * dt * b.charge_kw[s, t] - dt / p["eta_d"][i] * b.discharge_kw[s, t]
        return b.soc_kwh[s, t] == prev + flow

    b.soc_balance = pyo.Constraint(b.S, b.T, rule=soc_balance)
    ends = [s for s in S if p["end"][k[s]] != "free"]
    if ends:
        def end_rule(b: pyo.Block, s: str) -> pyo.Expression:
            i = k[s]
            if p["end"][i] == "cyclic":
                return b.soc_kwh[s, T - 1] == (start(s) if s in free else p["end_kwh"][i])
            return b.soc_kwh[s, T - 1] >= p["end_kwh"][i]

        b.end = pyo.Constraint(pyo.Set(initialize=ends, ordered=True), rule=end_rule)
    bsteps = [int(t) for t in d.storage_binary_steps]
    if bsteps:
        b.B = pyo.Set(initialize=bsteps, ordered=True)
        b.mode = pyo.Var(b.S, b.B, within=pyo.Binary)
        b.charge_if_on = pyo.Constraint(
            b.S, b.B, rule=lambda b, s, t: b.charge_kw[s, t] - p["P"][k[s]] * b.mode[s, t] <= 0)
        b.discharge_if_off = pyo.Constraint(
            b.S, b.B,
            rule=lambda b, s, t: b.discharge_kw[s, t] + p["P"][k[s]] * b.mode[s, t] <= p["P"][k[s]])
    limited = [s for s in S if np.isfinite(p["cycles"][k[s]])]
    if limited:
        steps_of_day = [np.flatnonzero(d.day_index == day).tolist() for day in range(d.n_days)]

        def cycles(b: pyo.Block, s: str, day: int) -> pyo.Expression:
            i = k[s]
            cap = p["cycles"][i] * (p["hi"][i] - p["lo"][i])
            return sum(dt * b.discharge_kw[s, t] for t in steps_of_day[day]) <= cap

        b.daily_cycles = pyo.Constraint(
            pyo.Set(initialize=limited, ordered=True), range(d.n_days), rule=cycles)
    ramped, r_dt, first = ramp_limits(d)
    if ramped and T > 1:
        r_of = {S[i]: float(r_dt[j]) for j, i in enumerate(ramped)}

        def net(s: str, t: int) -> pyo.Expression:
            return b.discharge_kw[s, t] - b.charge_kw[s, t]

        b.ramp = pyo.Constraint(
            pyo.Set(initialize=list(r_of), ordered=True), pyo.RangeSet(1, T - 1),
            rule=lambda b, s, t: (-r_of[s], net(s, t) - net(s, t - 1), r_of[s]))
    if first:
        q_of = {S[i]: (q0, r0) for i, q0, r0 in first}
        b.ramp_start = pyo.Constraint(
            pyo.Set(initialize=list(q_of), ordered=True),
            rule=lambda b, s: (q_of[s][0] - q_of[s][1],
                               b.discharge_kw[s, 0] - b.charge_kw[s, 0], q_of[s][0] + q_of[s][1]))
    ctx.balance.append(lambda t: sum(b.discharge_kw[s, t] - b.charge_kw[s, t] for s in S))
    ctx.costs.append(sum(p["cost"][k[s]] * dt * b.discharge_kw[s, t] for s in S for t in range(T)))


FAMILY = Family(name="storage", add_matrix=add_matrix, add_pyomo=add_pyomo)
