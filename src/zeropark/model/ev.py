"""EV pile groups as a flexibility window on cumulative energy, unmet energy written off at a
penalty, and optional V2G discharge with losses and a wear cost.

Per group g and step t (Δt [h]; E_lo(t) ≤ E_hi(t) the group's cumulative-energy envelope [kWh]
from the sessions: what must have been delivered by t, and what could have been at most):

- charging power 0 ≤ p(t) ≤ P_max(t) [kW] (plugged-in pile limit), V2G 0 ≤ v(t) ≤ P_max(t);
- flexibility f(t) = e(t) + u(t) − E_lo(t), bounded 0 ≤ f(t) ≤ E_hi(t) − E_lo(t) [kWh], with e the
  cumulative delivered energy and u the cumulative unmet (written-off) energy;
- dynamics f(t) − f(t−1) − Δt·p(t) + Δt·v(t)/(η_c·η_d) − w(t) = −(E_lo(t) − E_lo(t−1)) with
  f(−1) = 0 and E_lo(−1) = 0, where w(t) ≥ 0 [kWh] is the energy written off as unmet in step t,
  η_c the charging efficiency (grid → battery) and η_d the V2G efficiency (battery → park): a kWh
  delivered back takes 1/η_d kWh from the battery, which took 1/(η_c·η_d) kWh of grid-side
  charging to put there;
- cost: π_u · Σ_t w(t), i.e. the penalty π_u [CNY/kWh] on the total unmet energy u(T−1) = Σ w,
  plus the V2G wear cost Σ_t c_w·Δt·v(t) [CNY/kWh delivered];
- V2G groups also keep e(t) ≥ 0 (the cars as a whole never give back more than they got):
  u(t) = u(t−1) + w(t) and f(t) − u(t) ≥ −E_lo(t).

This is the same feasible set as "E_lo ≤ e + u ≤ E_hi, e(t) = e(t−1) + Δt·(p − v/(η_c·η_d)),
u non-decreasing" with one row per group and step instead of three, and every row and bound on
the scale of one step's energy rather than of the year's cumulative energy, which makes year-long
LPs several times faster for the simplex. Outputs e and u are recovered by :func:`delivered_and_unmet`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, SizedAsset, SizingHook, SizingPlan, Values, size_cap
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

# Block names (columns, then rows) of the dispatch ...
POWER_KW = "ev.power_kw"
FLEX_KWH = "ev.flex_kwh"
WRITEOFF_KWH = "ev.writeoff_kwh"
V2G_KW = "ev.v2g_kw"
UNMET_KWH = "ev.unmet_kwh"
ENERGY_BALANCE = "ev.energy_balance"
UNMET_SUM = "ev.unmet_sum"
DELIVERED_NONNEG = "ev.delivered_nonneg"
# ... of the sizing model (:func:`zeropark.planning.sizing.add_sizing`) ...
PILES = "ev.piles"
PILE_LIMIT = "ev.pile_limit"
# ... and the recovered e(t), u(t) a rolling horizon stitches into its values
DELIVERED_KWH = "ev.delivered_kwh"
UNMET_CUM_KWH = "ev.unmet_cum_kwh"

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from zeropark.model.context import PyomoContext


def _arrays(d: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    groups = [d.prof.ev[g] for g in d.ev_names]
    return (np.array([g.e_lo_kwh for g in groups]), np.array([g.e_hi_kwh for g in groups]),
            np.array([g.p_max_kw for g in groups]))


def ev_envelope_kwh(d: ModelData) -> np.ndarray:
    """E_lo per group and step [kWh], (G, T): what must have been delivered by each step."""
    return _arrays(d)[0]


def v2g_names(d: ModelData) -> list[str]:
    return [g.name for g in d.sc.ev.groups if g.v2g]


def v2g_params(d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Per V2G group (order of :func:`v2g_names`): grid-side charging energy a kWh delivered back
    takes from the envelope, 1/(η_c·η_d) [kWh/kWh], and the wear cost c_w [CNY/kWh]."""
    groups = [g for g in d.sc.ev.groups if g.v2g]
    back = np.array([1.0 / (float(g.efficiency) * float(g.v2g_efficiency)) for g in groups])
    wear = np.array([float(g.v2g_wear_cost_per_kwh) for g in groups])
    return back, wear


def _increments(e_lo: np.ndarray) -> np.ndarray:
    """E_lo(t) − E_lo(t−1) per group, with E_lo(−1) = 0 [kWh]."""
    return np.diff(e_lo, axis=1, prepend=0.0)


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the equations in the module docstring."""
    G, T, dt = d.ev_names, d.T, d.dt_h
    if not G:
        return
    steps = range(T)
    e_lo, e_hi, p_max = _arrays(d)
    p = lp.var("ev.power_kw", (G, steps), 0.0, p_max)
    f = lp.var("ev.flex_kwh", (G, steps), 0.0, e_hi - e_lo)
    w = lp.var("ev.writeoff_kwh", (G, steps), 0.0, np.inf, d.sc.ev.unmet_penalty_per_kwh)
    lp.add(bal[None, :], p, -1.0)
    rhs = -_increments(e_lo)
    dyn = lp.rows("ev.energy_balance", (G, steps), rhs, rhs)
    lp.add(dyn, f, 1.0)
    lp.add(dyn[:, 1:], f[:, :-1], -1.0)
    lp.add(dyn, p, -dt)
    lp.add(dyn, w, -1.0)
    V = v2g_names(d)
    if V:
        idx = [G.index(g) for g in V]
        back, wear = v2g_params(d)
        v = lp.var("ev.v2g_kw", (V, steps), 0.0, p_max[idx], (wear * dt)[:, None])
        lp.add(bal[None, :], v, 1.0)
        lp.add(dyn[idx], v, (back * dt)[:, None])
        u = lp.var("ev.unmet_kwh", (V, steps), 0.0)
        acc = lp.rows("ev.unmet_sum", (V, steps), 0.0, 0.0)
        lp.add(acc, u, 1.0)
        lp.add(acc[:, 1:], u[:, :-1], -1.0)
        lp.add(acc, w[idx], -1.0)
        nonneg = lp.rows("ev.delivered_nonneg", (V, steps), lo=-e_lo[idx])
        lp.add(nonneg, f[idx], 1.0)
        lp.add(nonneg, u, -1.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the equations in the module docstring."""
    import pyomo.environ as pyo

    G, T, dt = d.ev_names, d.T, d.dt_h
    if not G:
        return
    e_lo, e_hi, p_max = _arrays(d)
    inc = _increments(e_lo)
    k = {g: i for i, g in enumerate(G)}
    V = v2g_names(d)
    back, wear = v2g_params(d)
    kv = {g: i for i, g in enumerate(V)}
    b = m.ev = pyo.Block()
    b.G = pyo.Set(initialize=G, ordered=True)
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.power_kw = pyo.Var(b.G, b.T, bounds=lambda _, g, t: (0.0, p_max[k[g], t]))
    b.flex_kwh = pyo.Var(b.G, b.T, bounds=lambda _, g, t: (0.0, e_hi[k[g], t] - e_lo[k[g], t]))
    b.writeoff_kwh = pyo.Var(b.G, b.T, bounds=(0.0, None))
    if V:
        b.V = pyo.Set(initialize=V, ordered=True)
        b.v2g_kw = pyo.Var(b.V, b.T, bounds=lambda _, g, t: (0.0, p_max[k[g], t]))
        b.unmet_kwh = pyo.Var(b.V, b.T, bounds=(0.0, None))

    def energy_balance(b: pyo.Block, g: str, t: int) -> pyo.Expression:
        prev = b.flex_kwh[g, t - 1] if t > 0 else 0.0
        out = back[kv[g]] * dt * b.v2g_kw[g, t] if g in V else 0.0
        return (b.flex_kwh[g, t] - prev - dt * b.power_kw[g, t] + out - b.writeoff_kwh[g, t]
                == -inc[k[g], t])

    b.energy_balance = pyo.Constraint(b.G, b.T, rule=energy_balance)
    if V:
        b.unmet_sum = pyo.Constraint(
            b.V, b.T, rule=lambda b, g, t: b.unmet_kwh[g, t]
            - (b.unmet_kwh[g, t - 1] if t > 0 else 0.0) - b.writeoff_kwh[g, t] == 0)
        b.delivered_nonneg = pyo.Constraint(
            b.V, b.T, rule=lambda b, g, t: b.flex_kwh[g, t] - b.unmet_kwh[g, t] >= -e_lo[k[g], t])

    def net(t: int) -> pyo.Expression:
        out = -sum(b.power_kw[g, t] for g in G)
        return out + sum(b.v2g_kw[g, t] for g in V) if V else out

    ctx.balance.append(net)
    ctx.costs.append(sum(d.sc.ev.unmet_penalty_per_kwh * b.writeoff_kwh[g, t]
                         for g in G for t in range(T)))
    if V:
        ctx.costs.append(sum(wear[kv[g]] * dt * b.v2g_kw[g, t] for g in V for t in range(T)))


def delivered_and_unmet(d: ModelData, values: Values) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative delivered energy e(t) and unmet energy u(t) per group [kWh], (G, T) each.

    u(t) = Σ_{τ≤t} w(τ) and e(t) = f(t) + E_lo(t) − u(t) (see the module docstring).
    """
    G, T = len(d.ev_names), d.T
    if DELIVERED_KWH in values:  # already recovered and stitched (rolling horizon)
        return (np.asarray(values[DELIVERED_KWH], float),
                np.asarray(values[UNMET_CUM_KWH], float))
    if not G or FLEX_KWH not in values:
        return np.zeros((G, T)), np.zeros((G, T))
    e_lo = _arrays(d)[0]
    unmet = np.cumsum(np.asarray(values[WRITEOFF_KWH], float).reshape(G, T), axis=1)
    flex = np.asarray(values[FLEX_KWH], float).reshape(G, T)
    return flex + e_lo - unmet, unmet


def undeliverable_kwh(d: ModelData, what: str = "undeliverable_kwh") -> np.ndarray:
    """Per group, grid-side energy no dispatch can deliver [kWh]: asked beyond what fits the
    stay (``undeliverable_kwh``) or of cars turned away (``turned_away_kwh``); see
    ``EvGroupProfile``."""
    return np.array([float(getattr(d.prof.ev.get(g), what, 0.0)) for g in d.ev_names])


def outputs(d: ModelData, values: Values) -> list[Output]:
    """Charging power, cumulative delivered and unmet energy, undeliverable and turned-away
    energy per group, and the V2G power of every group (0 where not V2G) when any group has
    V2G, for ``results.nc``."""
    G, T = len(d.ev_names), d.T
    power = np.asarray(values[POWER_KW], float) if POWER_KW in values else np.zeros((G, T))
    delivered, unmet = delivered_and_unmet(d, values)
    out = [
        Output("ev_power_kw", ("ev_group", "time"), power, "kW",
               "EV charging power of the pile group, grid side"),
        Output("ev_delivered_kwh", ("ev_group", "time"), delivered, "kWh",
               "EV energy delivered since the start of the horizon, grid side",
               note="cumulative, grid side"),
        Output("ev_unmet_kwh", ("ev_group", "time"), unmet, "kWh",
               "EV energy requested but not delivered so far", note="cumulative"),
        Output("ev_undeliverable_kwh", ("ev_group",), undeliverable_kwh(d), "kWh",
               "EV energy asked beyond what pile and car can deliver during the stay, grid side",
               note="grid side; asked beyond what pile and car can deliver during the stay "
                    "(not in ev_unmet_kwh)"),
        Output("ev_turned_away_kwh", ("ev_group",), undeliverable_kwh(d, "turned_away_kwh"),
               "kWh", "EV energy of cars that found every pile busy, grid side",
               note="grid side; cars that found every pile busy (not in ev_unmet_kwh)"),
    ]
    if V2G_KW in values:
        full = np.zeros((G, T))
        for i, g in enumerate(v2g_names(d)):
            full[d.ev_names.index(g)] = values[V2G_KW][i]
        out.append(Output("ev_v2g_kw", ("ev_group", "time"), full, "kW",
                          "EV vehicle-to-grid discharge of the pile group"))
    return out


def profile_outputs(sc: Scenario, prof: Profiles) -> tuple[list[Output], dict[str, list[str]]]:
    """Each group's cumulative-energy envelope and plugged-in power limit for ``profiles.nc``."""
    groups = list(prof.ev)

    def stack(attr: str) -> np.ndarray:
        return (np.array([getattr(prof.ev[g], attr) for g in groups]) if groups
                else np.zeros((0, prof.n_steps)))

    return [
        Output("ev_e_lo_kwh", ("ev_group", "time"), stack("e_lo_kwh"), "kWh",
               "EV cumulative energy needed by the end of the step"),
        Output("ev_e_hi_kwh", ("ev_group", "time"), stack("e_hi_kwh"), "kWh",
               "EV cumulative energy the plugged-in cars can take by the end of the step"),
        Output("ev_p_max_kw", ("ev_group", "time"), stack("p_max_kw"), "kW",
               "EV charging power limit of the plugged-in cars"),
    ], {"ev_group": groups}


def coords(d: ModelData) -> dict[str, list[str]]:
    """EV pile group names."""
    return {"ev_group": list(d.ev_names)}


# -- sizing ------------------------------------------------------------------------------------
# Group g with cap n̄: integer column ev.piles[g] n ∈ [N_g, n̄] and rows ev.pile_limit[g,t]:
# p_ev + p_v2g − n·pile_kw ≤ 0: the piles bound the group's simultaneous charging power. Piles
# are piles, one car each at a time: N_g is the largest number of the group's sessions plugged in
# at once within the horizon, so the sized count can hold every car it serves. Where more cars are
# plugged in at once than the cap n̄ allows, they are served first come, first served on n̄ piles
# before the solve (each car, in arrival order, takes the pile free longest; a car finding all n̄
# busy is turned away) and the turned-away energy is reported unmet
# (``kpis["ev_unmet_by_group"]``); energy the piles cannot deliver is unmet at the penalty.


def _select(plan: SizingPlan, sc: Scenario, profiles: Profiles, options: Mapping[str, Any]) -> None:
    """Groups with a cap on their pile count (``max_count`` or ``all_factor`` × count)."""
    from zeropark.planning.capex import pile_cost

    for i, g in enumerate(sc.ev.groups):
        cap = size_cap(g.max_count, g.count, options.get("all_factor"), f"ev.groups.{i}.max_count")
        if cap is None:
            continue
        plan.add(PILES, SizedAsset(f"ev.{g.name}.count", i, g.count, float(np.floor(cap)), "piles",
                                   pile_cost(sc, i), integer=True))


def plugged_at_once(d: ModelData, names: list[str]) -> np.ndarray:
    """Per group, the most sessions plugged in at the same time within the horizon: the fewest
    piles that hold every car served at once (0 for a group without a session table)."""
    import pandas as pd

    from zeropark.profiles.ev import peak_plugged

    start = d.prof.time[0]
    end = start + pd.Timedelta(hours=d.T * d.dt_h)
    return np.array([float(peak_plugged(d.prof.ev[g].sessions, start, end))
                     if g in d.prof.ev and len(d.prof.ev[g].sessions) else 0.0 for g in names])


def _add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan,
                per_kwp: Mapping[int, np.ndarray]) -> None:
    """Pile-count columns ``ev.piles`` and rows ``ev.pile_limit`` (see above)."""
    sized = plan.of(PILES)
    if not sized:
        return
    names = [d.ev_names[s.index] for s in sized]
    idx = [s.index for s in sized]
    caps = np.array([s.cap for s in sized])
    n = lp.var(PILES, (names,), np.minimum(plugged_at_once(d, names), caps), caps,
               np.array([s.cost.annualized_per_year * d.horizon_fraction for s in sized]),
               integer=True)
    pile_kw = np.array([d.sc.ev.groups[i].power_kw for i in idx])
    r = lp.rows(PILE_LIMIT, (names, range(d.T)), hi=0.0)
    lp.add(r, lp.cols(POWER_KW)[idx], 1.0)
    lp.add(r, n[:, None], -pile_kw[:, None])
    if lp.has(V2G_KW):
        v2g = [g.name for g in d.sc.ev.groups if g.v2g]
        for k, i in enumerate(idx):
            if d.ev_names[i] in v2g:
                lp.add(r[k], lp.cols(V2G_KW)[v2g.index(d.ev_names[i])], 1.0)


def _changes(sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float]) -> dict[str, Any]:
    """Pile counts at ``sizes`` (whole piles)."""
    return {f"ev.groups.{s.index}.count": int(round(sizes[s.key])) for s in plan.of(PILES)}


def _profiles(prof: Profiles, sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float],
              per_kwp: Mapping[int, np.ndarray], envelope: bool) -> Profiles:
    """For the envelope model: every sized group holds at most its cap of cars at once; where
    more sessions overlap, they are served first come, first served on the cap's piles and the
    others turned away (see above)."""
    import pandas as pd

    from zeropark.profiles.base import EvGroupProfile
    from zeropark.profiles.ev import ev_envelopes, leaving_kwh, peak_plugged, turn_away

    if not envelope or not prof.n_steps or not plan.of(PILES):
        return prof
    start, end = prof.time[0], prof.time[-1] + pd.Timedelta(hours=prof.dt_h)
    groups = dict(prof.ev)
    for s in plan.of(PILES):
        name = sc.ev.groups[s.index].name
        g = groups.get(name)
        if g is None or g.spec is None or not len(g.sessions):
            continue
        if peak_plugged(g.sessions, start, end) <= s.cap:
            continue
        served, away = turn_away(g.sessions, int(s.cap))
        away = pd.concat([g.turned_away, away]) if len(g.turned_away) else away
        env = ev_envelopes(served, prof.time, prof.dt_h, [g.spec])[name]
        away_kwh, n_away = leaving_kwh(away, prof.time, prof.dt_h, g.spec)
        groups[name] = EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw,
                                      float(env.requested_kwh), served.reset_index(drop=True),
                                      g.spec, env.undeliverable_kwh, env.n_undeliverable, away,
                                      away_kwh, n_away)
    return dataclasses.replace(prof, ev=groups)


def _widen(sc: Scenario, key: str, cap: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """``max_count`` of a sized group, in whole piles."""
    family, name, _ = key.split(".", 2)
    if family != "ev":
        return {}
    return {f"ev.groups.{[g.name for g in sc.ev.groups].index(name)}.max_count": int(np.floor(cap))}


SIZING = SizingHook(key="ev.{name}.count", cap_field="ev.groups.N.max_count", unit="piles",
                    add=_add_sizing, columns=(PILES,), select=_select, changes=_changes,
                    profiles=_profiles, widen=_widen)


FAMILY = Family(
    name="ev", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        ENERGY_BALANCE: "EV energy balance",
        UNMET_SUM: "EV unmet energy",
        DELIVERED_NONNEG: "EV energy returned by V2G",
        PILE_LIMIT: "EV charging power within the sized piles",
    },
    col_words={
        POWER_KW: "EV charging power (plugged-in limit) [kW]",
        FLEX_KWH: "EV charging envelope (energy ahead of the minimum) [kWh]",
        WRITEOFF_KWH: "EV energy written off as unmet [kWh]",
        UNMET_KWH: "EV unmet energy [kWh]",
        V2G_KW: "V2G power [kW]",
        PILES: "EV piles to build",
    },
    outputs=outputs, coords=coords, sizing=(SIZING,), profile_outputs=profile_outputs,
)
