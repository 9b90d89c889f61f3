"""EV charging per session and per pile for the day-ahead schedule.

The group envelope of the model (``E_lo ≤ Σ p·dt ≤ E_hi``, ``p ≤ p_max``) is an outer
approximation of what the group's sessions can take together: a group optimum may push power
into a step where the plugged-in EVs that could take it are already full. For the nightly
schedule, :func:`add_session_rows` therefore adds the exact per-session structure to the
horizon's matrix model — a charging column per (session, plugged-in step) capped at the
session's power times its plugged-in share of the step, the group's power equal to the sum of
its sessions, and each session's energy between what it must have by departure (or by the horizon
end) and what it can take, a shortfall at the EV unmet penalty. The group optimum is then
always disaggregatable: :func:`disaggregate` splits it least laxity first
(:func:`zeropark.profiles.ev.disaggregate_least_laxity`) and, only where that heuristic leaves
energy unplaced, takes the model's own per-session split instead.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeropark.model import ev
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP
from zeropark.operations.plan import Plan
from zeropark.profiles.base import Profiles
from zeropark.profiles.ev import disaggregate_least_laxity, pile_setpoints_kw
from zeropark.scenario import Scenario

_HOUR = pd.Timedelta(hours=1)
_TOL_KWH = 1e-3


def session_grid(sessions: pd.DataFrame, time: pd.DatetimeIndex, dt_h: float, eff: float,
                 pile_kw: float) -> dict[str, np.ndarray]:
    """Grid-side session quantities in hours from the horizon start.

    Returns arrays per session: clipped arrival ``a`` and departure ``dc`` [h], true departure
    ``d`` [h], power cap ``p`` [kW], deliverable energy ``e_cap`` [kWh] (as
    :func:`zeropark.profiles.ev.ev_envelopes`) and ``need`` [kWh], what must be delivered within
    the horizon (all of ``e_cap`` if it leaves inside, else what cannot fit after the end).
    """
    horizon_h = len(time) * dt_h
    a = np.clip(np.asarray((sessions["arrival"] - time[0]) / _HOUR, float), 0.0, horizon_h)
    d = np.asarray((sessions["departure"] - time[0]) / _HOUR, float)
    dc = np.clip(d, 0.0, horizon_h)
    p = np.minimum(pile_kw, sessions["max_power_kw"].to_numpy(float) / eff)
    e = sessions["energy_kwh"].to_numpy(float) / eff
    e_cap = np.where(dc > a, np.minimum(e, p * (d - a)), 0.0)
    need = np.maximum(e_cap - p * np.maximum(d - horizon_h, 0.0), 0.0)
    return {"a": a, "d": d, "dc": dc, "p": p, "e_cap": e_cap, "need": need}


@dataclass(frozen=True)
class SessionPairs:
    """Plugged-in (session, step) pairs of one group: session row, step, cap [kW]."""

    session: np.ndarray
    step: np.ndarray
    cap_kw: np.ndarray


def session_pairs(q: dict[str, np.ndarray], T: int, dt_h: float) -> SessionPairs:
    """Every step a session is plugged in for, with its cap ``p × plugged-in share``."""
    first = np.floor(q["a"] / dt_h + 1e-9).astype(int)
    stop = np.minimum(np.ceil(q["dc"] / dt_h - 1e-9).astype(int), T)
    n = np.maximum(stop - first, 0)
    sess = np.repeat(np.arange(len(n)), n)
    step = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(first, n)
    t0, t1 = step * dt_h, (step + 1) * dt_h
    frac = (np.minimum(q["dc"][sess], t1) - np.maximum(q["a"][sess], t0)) / dt_h
    cap = q["p"][sess] * np.clip(frac, 0.0, 1.0)
    keep = cap > 1e-9
    return SessionPairs(sess[keep], step[keep], cap[keep])


def _group_rows(sessions: pd.DataFrame, name: str) -> pd.DataFrame:
    return sessions[sessions["group"] == name] if len(sessions) else sessions


def add_session_rows(lp: MatrixLP, d: ModelData, sessions: pd.DataFrame
                     ) -> dict[str, tuple[np.ndarray, SessionPairs]]:
    """Add per-session charging columns and rows to a built matrix model.

    Blocks: ``operations.ev_session_kw`` (one per plugged-in pair and group),
    ``operations.ev_session_short_kwh`` (at the unmet penalty), rows ``operations.ev_link_<g>``
    (group power = Σ sessions) and ``operations.ev_session_energy_<g>``. V2G groups are left to
    the group envelope (their sessions' energy also depends on the discharge).

    Returns
    -------
    dict of group name to (column indices, SessionPairs)
    """
    out: dict[str, tuple[np.ndarray, SessionPairs]] = {}
    if not lp.has(ev.POWER_KW):
        return out
    power = lp.cols(ev.POWER_KW)
    dt = d.dt_h
    for k, g in enumerate(d.sc.ev.groups):  # groups, not time steps
        rows = _group_rows(sessions, g.name)
        if g.v2g or not len(rows):
            continue
        q = session_grid(rows, d.prof.time, dt, g.efficiency, g.power_kw)
        pairs = session_pairs(q, d.T, dt)
        if not len(pairs.step):
            continue
        x = lp.var(f"operations.ev_session_kw_{k}", (range(len(pairs.step)),), 0.0, pairs.cap_kw)
        short = lp.var(f"operations.ev_session_short_kwh_{k}", (range(len(rows)),), 0.0,
                       np.inf, d.sc.ev.unmet_penalty_per_kwh)
        link = lp.rows(f"operations.ev_link_{k}", (range(d.T),), 0.0, 0.0)
        lp.add(link[pairs.step], x, 1.0)
        lp.add(link, power[k], -1.0)
        energy = lp.rows(f"operations.ev_session_energy_{k}", (range(len(rows)),),
                         q["need"], q["e_cap"])
        lp.add(energy[pairs.session], x, dt)
        lp.add(energy, short, 1.0)
        out[g.name] = (x, pairs)
    return out


def lp_split(values: dict[str, np.ndarray], d: ModelData, sessions: pd.DataFrame,
             layout: dict[str, tuple[np.ndarray, SessionPairs]]) -> dict[str, np.ndarray]:
    """Per-session power (sessions of the group × T) [kW] from a solved model's values."""
    out = {}
    for k, g in enumerate(d.sc.ev.groups):
        if g.name not in layout:
            continue
        _, pairs = layout[g.name]
        x = np.clip(values[f"operations.ev_session_kw_{k}"], 0.0, pairs.cap_kw)
        split = np.zeros((len(_group_rows(sessions, g.name)), d.T))
        split[pairs.session, pairs.step] = x
        out[g.name] = split
    return out


@contextmanager
def _quiet(name: str):
    """Silence a logger for the duration (its findings are reported as schedule warnings)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _shortfalls(x: np.ndarray, power: np.ndarray, q: dict[str, np.ndarray], dt: float
                ) -> tuple[float, np.ndarray]:
    unplaced = float((power - x.sum(axis=0)).clip(min=0).sum()) * dt
    owed = (q["need"] - x.sum(axis=1) * dt).clip(min=0)
    return unplaced, owed


def disaggregate(sc: Scenario, prof: Profiles, sessions: pd.DataFrame, plan: Plan,
                 lp_sessions: dict[str, np.ndarray] | None = None
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, list[str]]:
    """Per-pile and per-session setpoints of every group.

    Least laxity first; where that leaves more than 1 Wh unplaced or owed and the model's own
    split ``lp_sessions`` is given and does better, that split is used.

    Returns
    -------
    pile_kw : dict of str to ndarray [kW], shape (piles, T)
    session_kw : dict of str to ndarray [kW], shape (sessions of the group, T), rows in the
        order of ``sessions``
    owed_kwh : float [kWh]
        Energy the sessions still miss at departure (or at the horizon end, for what cannot be
        delivered later).
    warnings : list of str
    """
    pile_kw: dict[str, np.ndarray] = {}
    session_kw: dict[str, np.ndarray] = {}
    warnings: list[str] = []
    owed_total = 0.0
    T, dt = prof.n_steps, prof.dt_h
    for k, g in enumerate(sc.ev.groups):  # groups, not time steps
        rows = _group_rows(sessions, g.name)
        power = np.maximum(plan.ev_group_kw[k], 0.0)
        if not len(rows):
            session_kw[g.name] = np.zeros((0, T))
            pile_kw[g.name] = np.zeros((g.count, T))
            if power.sum() * dt > _TOL_KWH:
                warnings.append(f"EV group {g.name!r}: {power.sum() * dt:.3f} kWh planned "
                                "without any session")
            continue
        with _quiet("zeropark.profiles.ev"):
            x = disaggregate_least_laxity(rows, power, prof.time, dt, efficiency=g.efficiency,
                                          pile_power_kw=g.power_kw)
        q = session_grid(rows, prof.time, dt, g.efficiency, g.power_kw)
        unplaced, owed = _shortfalls(x, power, q, dt)
        alt = (lp_sessions or {}).get(g.name)
        if (unplaced > _TOL_KWH or owed.sum() > _TOL_KWH) and alt is not None \
                and alt.shape == x.shape:
            alt_unplaced, alt_owed = _shortfalls(alt, power, q, dt)
            if alt_unplaced + alt_owed.sum() < unplaced + owed.sum():
                x, unplaced, owed = alt, alt_unplaced, alt_owed
        session_kw[g.name] = x
        pile_kw[g.name] = pile_setpoints_kw(rows, x, count=g.count)
        owed_total += float(owed.sum())
        if unplaced > _TOL_KWH:
            warnings.append(f"EV group {g.name!r}: {unplaced:.3f} kWh of the group plan could "
                            "not be placed on a plugged-in EV")
        if owed.sum() > _TOL_KWH:
            warnings.append(f"EV group {g.name!r}: {owed.sum():.3f} kWh owed to "
                            f"{int((owed > _TOL_KWH).sum())} EV(s) at departure")
    return pile_kw, session_kw, owed_total, warnings
