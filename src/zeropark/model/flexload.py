"""DC-flexible loads (data centre, electrolyser, 光储直柔 building): power band, ramp limit, a fixed
energy per window shiftable inside the window, and optional minimum-on (semi-continuous) power.

Per load f and step t (Δt [h]):

    P_min[f] ≤ p[f,t] ≤ P_max[f]         [kW]  (flex.power_kw; balance: − p[f,t])
    Σ_{t ∈ w} Δt·p[f,t] = E[f,w]         [kWh] every window w of window_h hours
                                               (flex.window_energy_<f>; a window cut short by
                                               the horizon end gets E pro rata)

Semi-continuous loads (``min_on_power_kw`` P_on) run at 0 or in [P_on, P_max], with on[f,t] ∈
{0, 1} and the band's lower end 0:

    p[f,t] − P_on·on[f,t] ≥ 0                  (flex.min_on)
    p[f,t] − P_max·on[f,t] ≤ 0                 (flex.max_on)

Ramp limit with ramp rate r_f [kW/h] and step Δt [h]:

    |p[f,t] − p[f,t−1]| ≤ r_f·Δt           t = 1..T−1                    (flex.ramp)
    |p[f,0] − p_init[f]| ≤ r_f·Δt                                        (flex.ramp_start)

where p_init[f] [kW] is the load's power just before the horizon (``ModelData.flex_initial_kw``, or
the scenario's ``initial_power_kw``: e.g. the last executed power of the nightly operations); the
start row exists only when p_init[f] is known.
"""

from __future__ import annotations

import numpy as np

from zeropark.errors import ScenarioError
from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, Values
from zeropark.model.lp import MatrixLP
from zeropark.scenario.components import FlexibleLoad

# Block names (columns, then rows); the window rows are one block per load, named by
# :func:`window_energy` (``flex.window_energy_0``, …).
POWER_KW = "flex.power_kw"
ON = "flex.on"
RAMP = "flex.ramp"
RAMP_START = "flex.ramp_start"
MIN_ON = "flex.min_on"
MAX_ON = "flex.max_on"
WINDOW_ENERGY_PREFIX = "flex.window_energy_"
#: ``MatrixLP.meta`` key of the semi-continuous loads' minimum-on power [kW]
META_MIN_ON_KW = "flex.min_on_kw"


def window_energy(i: int) -> str:
    """Row block of load ``i``'s energy windows."""
    return f"{WINDOW_ENERGY_PREFIX}{i}"


def windows(d: ModelData, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Window index of each step and the energy each window must receive [kWh].

    A window cut short by the horizon end receives a pro-rata share of the window energy.
    """
    f = d.sc.flexible_loads[i]
    hours = np.arange(d.T) * d.dt_h
    w = (hours // f.window_h).astype(int)
    steps_per = np.bincount(w)
    energy = f.energy_per_window_kwh * steps_per * d.dt_h / f.window_h
    lo = (f.min_power_kw if f.min_on_power_kw is None else 0.0) * steps_per * d.dt_h
    hi = f.max_power_kw * steps_per * d.dt_h
    bad = (energy < lo - 1e-9) | (energy > hi + 1e-9)
    if bad.any():
        raise ScenarioError(
            f"flexible_loads.{i}.energy_per_window_kwh", f.energy_per_window_kwh,
            f"between min_power_kw·window_h and max_power_kw·window_h "
            f"({f.min_power_kw * f.window_h:g}–{f.max_power_kw * f.window_h:g} kWh)",
        )
    return w, energy


def band_kw(f: FlexibleLoad) -> tuple[float, float]:
    """Power band of one flexible load [kW]: (min, max), with min 0 for a semi-continuous load
    (its minimum-on power is enforced by the on/off rows)."""
    return (0.0 if f.min_on_power_kw is not None else f.min_power_kw), f.max_power_kw


def ramp_start(d: ModelData) -> list[tuple[int, float, float]]:
    """Loads whose first step is ramp-limited by a known initial power.

    The initial power is ``d.flex_initial_kw`` (set by the nightly schedule from the operations
    state) where finite, else the scenario's ``initial_power_kw`` clamped into the load's band.

    Returns
    -------
    list of (load index, p_init [kW], r·Δt [kW])
        Loads with a ramp limit and a known initial power.
    """
    loads = d.sc.flexible_loads
    if not d.T or not loads:
        return []
    init = np.full(len(loads), np.nan)
    for i, f in enumerate(loads):
        if f.initial_power_kw is not None:
            lo, hi = band_kw(f)
            init[i] = min(max(f.initial_power_kw, lo), hi)
    if d.flex_initial_kw is not None:
        given = np.asarray(d.flex_initial_kw, float)
        if given.shape != (len(loads),):
            raise ValueError(f"flex_initial_kw: shape {given.shape}, expected ({len(loads)},)")
        init = np.where(np.isfinite(given), given, init)
    return [(i, float(init[i]), f.ramp_kw_per_h * d.dt_h) for i, f in enumerate(loads)
            if f.ramp_kw_per_h is not None and np.isfinite(init[i])]


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the module docstring: power band columns, one block of window-energy rows
    per load, ramp rows (with the start row where the initial power is known) and the on/off
    rows of semi-continuous loads."""
    F, T, dt = d.flex_names, d.T, d.dt_h
    if not F:
        return
    steps = range(T)
    loads = d.sc.flexible_loads
    lo, hi = np.array([band_kw(f) for f in loads]).T
    p = lp.var("flex.power_kw", (F, steps), lo[:, None], hi[:, None])
    lp.add_terms(bal, [(-1.0, p)])  # balance: − Σ_f p[f,t]
    for i in range(len(loads)):  # Σ_{t ∈ w} Δt·p[f,t] = E[f,w]: row w(t) gets step t
        w, energy = windows(d, i)
        rows = lp.rows(f"flex.window_energy_{i}", (range(len(energy)),), energy, energy)
        lp.add_terms(rows[w], [(dt, p[i])], f"flex.window_energy_{i}")
    ramped = [i for i, f in enumerate(loads) if f.ramp_kw_per_h is not None and T > 1]
    if ramped:  # −r·Δt ≤ p[f,t] − p[f,t−1] ≤ r·Δt for t = 1..T−1
        r = np.array([float(loads[i].ramp_kw_per_h or 0.0) * dt for i in ramped])[:, None]
        lp.constrain("flex.ramp", ([F[i] for i in ramped], range(1, T)),
                     [(1.0, p[ramped, 1:]), (-1.0, p[ramped, :-1])], lo=-r, hi=r)
    first = ramp_start(d)
    if first:  # p_init − r·Δt ≤ p[f,0] ≤ p_init + r·Δt
        idx = [i for i, _, _ in first]
        p0 = np.array([v for _, v, _ in first])
        r0 = np.array([r for _, _, r in first])
        lp.constrain("flex.ramp_start", ([F[i] for i in idx],), [(1.0, p[idx, 0])],
                     lo=p0 - r0, hi=p0 + r0)
    semi = [i for i, f in enumerate(loads) if f.min_on_power_kw is not None]
    if semi:
        names = [F[i] for i in semi]
        on = lp.var("flex.on", (names, steps), 0.0, 1.0, integer=True)
        pmin = np.array([loads[i].min_on_power_kw for i in semi])[:, None]
        lp.meta["flex.min_on_kw"] = pmin[:, 0]
        # p[f,t] − P_on·on[f,t] ≥ 0;  p[f,t] − P_max·on[f,t] ≤ 0
        lp.constrain("flex.min_on", (names, steps), [(1.0, p[semi]), (-pmin, on)], lo=0.0)
        lp.constrain("flex.max_on", (names, steps), [(1.0, p[semi]), (-hi[semi][:, None], on)],
                     hi=0.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the module docstring: block ``m.flex`` with ``power_kw[load, t]``,
    ``window_energy_<i>``, ``ramp``, ``ramp_start``, ``on``, ``min_on`` and ``max_on``."""
    F, T, dt = d.flex_names, d.T, d.dt_h
    if not F:
        return
    loads = d.sc.flexible_loads
    k = {name: i for i, name in enumerate(F)}
    b = m.flex = pyo.Block()
    b.F = pyo.Set(initialize=F, ordered=True)
    b.T = pyo.Set(initialize=range(T), ordered=True)

    def band(_: pyo.Block, f: str, t: int) -> tuple[float, float]:
        return band_kw(loads[k[f]])

    b.power_kw = pyo.Var(b.F, b.T, bounds=band)
    for i, f in enumerate(F):
        w, energy = windows(d, i)
        members = [np.flatnonzero(w == j).tolist() for j in range(len(energy))]
        con = pyo.Constraint(
            range(len(energy)),
            rule=lambda b, j, f=f, members=members, energy=energy: sum(
                dt * b.power_kw[f, t] for t in members[j]) == energy[j])
        b.add_component(f"window_energy_{i}", con)
    ramped = [f for f in F if loads[k[f]].ramp_kw_per_h is not None and T > 1]
    if ramped:
        b.ramp = pyo.Constraint(
            pyo.Set(initialize=ramped, ordered=True), pyo.RangeSet(1, T - 1),
            rule=lambda b, f, t: (-float(loads[k[f]].ramp_kw_per_h or 0.0) * dt,
                                  b.power_kw[f, t] - b.power_kw[f, t - 1],
                                  float(loads[k[f]].ramp_kw_per_h or 0.0) * dt))
    first = {F[i]: (p0, r0) for i, p0, r0 in ramp_start(d)}
    if first:
        b.ramp_start = pyo.Constraint(
            pyo.Set(initialize=list(first), ordered=True),
            rule=lambda b, f: (first[f][0] - first[f][1], b.power_kw[f, 0],
                               first[f][0] + first[f][1]))
    semi = [f for f in F if loads[k[f]].min_on_power_kw is not None]
    if semi:
        b.SEMI = pyo.Set(initialize=semi, ordered=True)
        b.on = pyo.Var(b.SEMI, b.T, within=pyo.Binary)
        b.min_on = pyo.Constraint(b.SEMI, b.T, rule=lambda b, f, t: b.power_kw[f, t]
                                  - loads[k[f]].min_on_power_kw * b.on[f, t] >= 0)
        b.max_on = pyo.Constraint(b.SEMI, b.T, rule=lambda b, f, t: b.power_kw[f, t]
                                  - loads[k[f]].max_power_kw * b.on[f, t] <= 0)
    ctx.balance.append(lambda t: -sum(b.power_kw[f, t] for f in F))


def outputs(d: ModelData, values: Values) -> list[Output]:
    """Power per flexible load and step for ``results.nc``."""
    p = (np.asarray(values[POWER_KW], float) if POWER_KW in values
         else np.zeros((len(d.flex_names), d.T)))
    return [Output("flex_power_kw", ("flex", "time"), p, "kW", "flexible-load power")]


def coords(d: ModelData) -> dict[str, list[str]]:
    """Flexible load names."""
    return {"flex": list(d.flex_names)}


def rounding(lp: MatrixLP, values: Values, permissive: bool) -> dict[str, np.ndarray]:
    """Semi-continuous loads stay on wherever the relaxation runs them at all (keeps ramps and
    window energy reachable); the permissive retry keeps every semi-continuous load on."""
    if not lp.has(ON):
        return {}
    names = list(lp.var_blocks[ON].labels[0])
    all_names = list(lp.var_blocks[POWER_KW].labels[0])
    p = values[POWER_KW][[all_names.index(n) for n in names]]
    return {ON: np.ones_like(p) if permissive else p > 1e-6 * np.maximum(p.max(), 1.0)}


FAMILY = Family(
    name="flexload", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        RAMP: "flexible-load ramp limit",
        RAMP_START: "flexible-load ramp limit from its initial power",
        MIN_ON: "flexible-load minimum-on power",
        MAX_ON: "flexible-load on/off",
        WINDOW_ENERGY_PREFIX: "energy window of flexible load",  # + the load's index
    },
    col_words={POWER_KW: "flexible-load power band [kW]", ON: "minimum-on power of flexible loads"},
    outputs=outputs, coords=coords, rounding=rounding,
)
