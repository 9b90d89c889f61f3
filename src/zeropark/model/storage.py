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

from collections.abc import Mapping
from typing import Any

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, SizedAsset, SizingHook, SizingPlan, Values, size_cap
from zeropark.model.lp import INF, MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

# Block names (columns, then rows) of the dispatch ...
CHARGE_KW = "storage.charge_kw"
DISCHARGE_KW = "storage.discharge_kw"
SOC_KWH = "storage.soc_kwh"
SOC_START_KWH = "storage.soc_start_kwh"
MODE = "storage.mode"
SOC_BALANCE = "storage.soc_balance"
END = "storage.end"
CHARGE_IF_ON = "storage.charge_if_on"
DISCHARGE_IF_OFF = "storage.discharge_if_off"
DAILY_CYCLES = "storage.daily_cycles"
RAMP = "storage.ramp"
RAMP_START = "storage.ramp_start"
# ... and of the sizing model (:func:`zeropark.planning.sizing.add_sizing`)
ENERGY_CAP_KWH = "storage.energy_cap_kwh"
POWER_CAP_KW = "storage.power_cap_kw"
CHARGE_CAP = "storage.charge_cap"
DISCHARGE_CAP = "storage.discharge_cap"
DURATION = "storage.duration"
SOC_MAX_CAP = "storage.soc_max_cap"
SOC_MIN_CAP = "storage.soc_min_cap"


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
    r = np.array([float(units[i].ramp_kw_per_h or 0.0) * d.dt_h for i in ramped])
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
    """Matrix form of the module docstring: charge, discharge and SOC columns (throughput cost
    on discharge), the SOC balance rows, the free start and end condition, the exclusivity rows
    in the binary steps and the daily cycle limit (Σ_day Δt·dis ≤ cycles·(soc_max − soc_min)·E)."""
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
            lp.add(r[[ends.index(int(i)) for i in free]], s0, -1.0)
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
        rows = lp.rows(RAMP, ([S[i] for i in ramped], range(1, T)),
                       -r_dt[:, None], r_dt[:, None])
        for c, sign in ((dis, 1.0), (ch, -1.0)):
            lp.add(rows, c[ramped, 1:], sign)
            lp.add(rows, c[ramped, :-1], -sign)
    if first:
        idx = [i for i, _, _ in first]
        q0 = np.array([q for _, q, _ in first])
        r0 = np.array([x for _, _, x in first])
        rows = lp.rows(RAMP_START, ([S[i] for i in idx],), q0 - r0, q0 + r0)
        lp.add(rows, dis[idx, 0], 1.0)
        lp.add(rows, ch[idx, 0], -1.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the module docstring: block ``m.storage`` with ``charge_kw``,
    ``discharge_kw`` and ``soc_kwh`` over (unit, t), ``soc_balance``, ``end``, ``mode`` and
    ``daily_cycles``."""
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


def soc_start_kwh(d: ModelData, values: Values) -> np.ndarray:
    """Per unit, the SOC at the horizon start [kWh]: given, or chosen where free."""
    units = d.sc.storage
    out = np.array([0.0 if u.free_start else float(u.soc_initial) * u.energy_kwh for u in units])
    free = [i for i, u in enumerate(units) if u.free_start]
    if free and SOC_START_KWH in values:
        out[free] = np.asarray(values[SOC_START_KWH], float)
    return out


def outputs(d: ModelData, values: Values) -> list[Output]:
    """Charge, discharge and SOC per unit and step for ``results.nc``."""
    shape = (len(d.storage_names), d.T)

    def get(name: str) -> np.ndarray:
        return np.asarray(values[name], float) if name in values else np.zeros(shape)

    soc = get(SOC_KWH)
    cap = np.array([u.energy_kwh for u in d.sc.storage])
    return [
        Output("storage_charge_kw", ("storage", "time"), get(CHARGE_KW), "kW",
               "battery charging power, AC side"),
        Output("storage_discharge_kw", ("storage", "time"), get(DISCHARGE_KW), "kW",
               "battery discharging power, AC side"),
        Output("storage_soc_kwh", ("storage", "time"), soc, "kWh",
               "stored energy at the end of the step", note="end of step"),
        Output("storage_soc", ("storage", "time"), soc / np.where(cap > 0, cap, 1.0)[:, None],
               "1", "state of charge at the end of the step, share of capacity"),
        Output("storage_soc_start_kwh", ("storage",), soc_start_kwh(d, values), "kWh",
               "stored energy at the start of the horizon (chosen by the optimiser where "
               "soc_initial is free)",
               note="SOC at the horizon start (chosen by the optimiser where soc_initial is "
                    "free)"),
    ]


def kpis(d: ModelData, values: Values) -> dict[str, Any]:
    """``storage_equivalent_cycles`` per unit: Σ_t Δt·dis[s,t] / ((soc_max − soc_min)·E)."""
    units = d.sc.storage
    dis = (np.asarray(values[DISCHARGE_KW], float) if DISCHARGE_KW in values
           else np.zeros((len(units), d.T)))
    return {"storage_equivalent_cycles": {
        u.name: float(dis[i].sum() * d.dt_h / max(u.energy_kwh * (u.soc_max - u.soc_min), 1e-9))
        for i, u in enumerate(units)}}


def coords(d: ModelData) -> dict[str, list[str]]:
    """Storage unit names."""
    return {"storage": list(d.storage_names)}


def rounding(lp: MatrixLP, values: Values, permissive: bool) -> dict[str, np.ndarray]:
    """Charge/discharge binaries follow the dominant flow of the relaxation (charge ≥ discharge
    → charging allowed), so the rounded point stays feasible."""
    if not lp.has(MODE):
        return {}
    steps = np.asarray(lp.var_blocks[MODE].labels[1], int)
    return {MODE: values[CHARGE_KW][:, steps] >= values[DISCHARGE_KW][:, steps]}


# -- sizing ------------------------------------------------------------------------------------
# Unit s with cap Ē: columns storage.energy_cap_kwh[s] E ∈ [0, Ē] and storage.power_cap_kw[s]
# P ∈ [0, Ē/d] with d the technology's duration_h (the C-rate limit, P ≤ E/d: storage.duration);
# rows charge ≤ P, discharge ≤ P (storage.charge_cap, storage.discharge_cap), soc_min·E ≤ soc ≤
# soc_max·E (storage.soc_min_cap, storage.soc_max_cap); the initial SOC (right-hand side of
# storage.soc_balance at t = 0), the end condition and the daily cycle limit become coefficients
# on E.

_DURATIONS_H = "storage.durations_h"  # SizingPlan.data key: duration d of each sized unit [h]


def _select(plan: SizingPlan, sc: Scenario, profiles: Profiles, options: Mapping[str, Any]) -> None:
    """Units with a cap on energy (``max_energy_kwh`` or ``all_factor`` × size); the power cap
    follows at Ē/d."""
    from zeropark.planning.capex import storage_costs

    for i, u in enumerate(sc.storage):
        cap = size_cap(u.max_energy_kwh, u.energy_kwh, options.get("all_factor"),
                       f"storage.{i}.max_energy_kwh")
        if cap is None:
            continue
        c_e, c_p, dur = storage_costs(sc, i)
        plan.add(ENERGY_CAP_KWH, SizedAsset(f"storage.{u.name}.energy_kwh", i, u.energy_kwh, cap,
                                            "kWh", c_e))
        plan.add(POWER_CAP_KW, SizedAsset(f"storage.{u.name}.power_kw", i, u.power_kw, cap / dur,
                                          "kW", c_p))
        plan.data.setdefault(_DURATIONS_H, []).append(dur)


def _add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan,
                per_kwp: Mapping[int, np.ndarray]) -> None:
    """Energy and power columns and the rows tying the dispatch to them (see above)."""
    from zeropark.planning.lpedit import set_cols, set_rows

    energy, power = plan.of(ENERGY_CAP_KWH), plan.of(POWER_CAP_KW)
    if not energy:
        return
    frac, T = d.horizon_fraction, d.T
    p = params(d)
    idx = [s.index for s in energy]
    names = [d.storage_names[i] for i in idx]
    steps = range(T)
    units = [d.sc.storage[i] for i in idx]
    soc_min = np.array([u.soc_min for u in units])
    soc_max = np.array([u.soc_max for u in units])
    soc_init = np.array([0.0 if u.free_start else float(u.soc_initial) for u in units])
    e = lp.var(ENERGY_CAP_KWH, (names,), 0.0, np.array([s.cap for s in energy]),
               np.array([s.cost.annualized_per_year * frac for s in energy]))
    pw = lp.var(POWER_CAP_KW, (names,), 0.0, np.array([s.cap for s in power]),
                np.array([s.cost.annualized_per_year * frac for s in power]))
    ch, dis = lp.cols(CHARGE_KW)[idx], lp.cols(DISCHARGE_KW)[idx]
    soc = lp.cols(SOC_KWH)[idx]
    for name, flow in ((CHARGE_CAP, ch), (DISCHARGE_CAP, dis)):
        r = lp.rows(name, (names, steps), hi=0.0)
        lp.add(r, flow, 1.0)
        lp.add(r, pw[:, None], -1.0)
    r = lp.rows(DURATION, (names,), hi=0.0)
    lp.add(r, pw, 1.0)
    lp.add(r, e, -1.0 / np.array(plan.data[_DURATIONS_H]))
    set_cols(lp, soc, lb=0.0)
    r = lp.rows(SOC_MAX_CAP, (names, steps), hi=0.0)
    lp.add(r, soc, 1.0)
    lp.add(r, e[:, None], -soc_max[:, None])
    if (soc_min > 0).any():
        r = lp.rows(SOC_MIN_CAP, (names, steps), lo=0.0)
        lp.add(r, soc, 1.0)
        lp.add(r, e[:, None], -soc_min[:, None])
    free = [k for k, u in enumerate(units) if u.free_start]
    if free:
        # A free start is cyclic (S0 = soc[T-1]), so the sized window rows on soc already keep
        # it within [soc_min·E, soc_max·E]; only its bound soc_min·cap must go.
        labels = list(lp.var_blocks[SOC_START_KWH].labels[0])
        set_cols(lp, lp.cols(SOC_START_KWH)[[labels.index(names[k]) for k in free]], lb=0.0)
    bal0 = lp.row_blocks[SOC_BALANCE].index()[idx, 0]
    set_rows(lp, bal0, lo=0.0, hi=0.0)
    lp.add(bal0, e, -p["keep"][idx] * soc_init)
    if END in lp.row_blocks:
        block = lp.row_blocks[END]
        ends = list(block.labels[0])
        for k, i in enumerate(idx):
            if names[k] in ends:
                row = block.index()[ends.index(names[k])]
                cyclic = p["end"][i] == "cyclic"
                set_rows(lp, row, lo=0.0, hi=0.0 if cyclic else np.inf)
                lp.add(row, e[k], -soc_init[k])
    if DAILY_CYCLES in lp.row_blocks:
        block = lp.row_blocks[DAILY_CYCLES]
        limited = list(block.labels[0])
        for k, i in enumerate(idx):
            if names[k] in limited:
                rows = block.index()[limited.index(names[k])]
                set_rows(lp, rows, hi=0.0)
                lp.add(rows, e[k], -p["cycles"][i] * (soc_max[k] - soc_min[k]))


def _changes(sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float]) -> dict[str, Any]:
    """Energy and power of the sized units at ``sizes``."""
    changes: dict[str, Any] = {}
    for s in plan.of(ENERGY_CAP_KWH):
        changes[f"storage.{s.index}.energy_kwh"] = sizes[s.key]
    for s in plan.of(POWER_CAP_KW):
        changes[f"storage.{s.index}.power_kw"] = sizes[s.key]
    return changes


def _loosen(lp: MatrixLP, plan: SizingPlan) -> None:
    """Charge, discharge and SOC of the sized units without their cap bounds."""
    from zeropark.planning.lpedit import set_cols

    idx = [s.index for s in plan.of(ENERGY_CAP_KWH)]
    if idx:
        for name in (CHARGE_KW, DISCHARGE_KW, SOC_KWH):
            set_cols(lp, lp.cols(name)[idx], ub=INF)


def _widen(sc: Scenario, key: str, cap: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """``max_energy_kwh`` of a sized unit; the power cap follows the energy cap (none of its own)."""
    family, name, what = key.split(".", 2)
    if family != "storage" or what != "energy_kwh":
        return {}
    return {f"storage.{[u.name for u in sc.storage].index(name)}.max_energy_kwh": cap}


def _shadow(rc: np.ndarray, lp: MatrixLP, plan: SizingPlan, frac: float) -> dict[str, float]:
    """The energy cap Ē also caps power at Ē/d: its shadow price is −(r_E + r_P/d)/frac per kWh,
    and the power row carries the same value per kW (× d)."""
    out: dict[str, float] = {}
    energy, power = plan.of(ENERGY_CAP_KWH), plan.of(POWER_CAP_KW)
    if not energy:
        return out
    e_cols, p_cols = lp.cols(ENERGY_CAP_KWH), lp.cols(POWER_CAP_KW)
    for k, (e, p) in enumerate(zip(energy, power, strict=True)):
        dur = plan.data[_DURATIONS_H][k]
        value = -(float(rc[e_cols[k]]) + float(rc[p_cols[k]]) / dur) / frac
        out[e.key] = value
        out[p.key] = value * dur  # per kW of power = per d kWh of energy cap
    return out


SIZING = SizingHook(key="storage.{name}.energy_kwh", cap_field="storage.N.max_energy_kwh",
                    unit="kWh", add=_add_sizing, columns=(ENERGY_CAP_KWH, POWER_CAP_KW),
                    select=_select, changes=_changes, loosen=_loosen, widen=_widen,
                    shadow=_shadow)


FAMILY = Family(
    name="storage", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        SOC_BALANCE: "storage energy balance",
        END: "storage end condition",
        CHARGE_IF_ON: "charge/discharge exclusivity",
        DISCHARGE_IF_OFF: "charge/discharge exclusivity",
        DAILY_CYCLES: "storage daily cycle limit",
        RAMP: "storage power ramp limit",
        RAMP_START: "storage power ramp limit from its last metered power",
        CHARGE_CAP: "storage charge power within the sized power",
        DISCHARGE_CAP: "storage discharge power within the sized power",
        DURATION: "storage power within energy / duration",
        SOC_MAX_CAP: "storage SOC within the sized energy",
        SOC_MIN_CAP: "storage SOC above its minimum share of the sized energy",
    },
    col_words={
        CHARGE_KW: "storage charge power [kW]",
        DISCHARGE_KW: "storage discharge power [kW]",
        SOC_KWH: "storage SOC window [kWh]",
        SOC_START_KWH: "storage start SOC (free, cyclic) [kWh]",
        MODE: "no simultaneous charge/discharge",
        ENERGY_CAP_KWH: "storage energy to build [kWh]",
        POWER_CAP_KW: "storage power to build [kW]",
    },
    outputs=outputs, coords=coords, rounding=rounding, sizing=(SIZING,), kpis=kpis,
)
