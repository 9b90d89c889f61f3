"""Replay nightly operations over a stretch of days, and price a dispatch under the full-horizon
objective.

``replay`` runs the nightly loop the way an operator would — schedule the next ``horizon_h``
hours, execute the first day, roll the actuals into the state (SOC, month-to-date peak, ledger,
EVs still plugged in, DR commitments, flexible loads' last power) — with the executed day equal
to the plan and forecasts taken from given profiles (perfect forecasts when they are the
profiles of the whole stretch).
``evaluate_dispatch`` prices the executed dispatch with the same objective as a single
full-horizon run (fixing every physical decision, leaving the accounting free), so the two can
be compared: the cost of deciding night by night.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeropark.api import finish
from zeropark.model.builder import build_matrix
from zeropark.model.data import model_data, pv_bus_efficiency
from zeropark.operations.ledger import read_actuals, update_state
from zeropark.operations.publish import local_time
from zeropark.operations.schedule import Schedule, make_schedule
from zeropark.operations.state import OpsState, initial_state, state_from_dict
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario
from zeropark.solve import solve_matrix

_FIX_TOL_KW = 1e-3


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of :func:`replay`.

    Attributes
    ----------
    schedules : list of Schedule
        One per night.
    states : list of OpsState
        The state before each night, then the final state.
    time : DatetimeIndex
        Steps executed.
    dispatch : dict of str to ndarray
        Executed setpoints on ``time``: ``grid_import_kw``, ``grid_export_kw`` (T,);
        ``pv_kw`` (A, T, AC bus); ``green_direct_kw`` (T,); ``storage_charge_kw``,
        ``storage_discharge_kw`` (S, T); ``ev_group_kw`` (G, T); ``flex_kw`` (F, T).
    dr_accepted : list of str
    """

    schedules: list[Schedule]
    states: list[OpsState]
    time: pd.DatetimeIndex
    dispatch: dict[str, np.ndarray]
    dr_accepted: list[str]


def forecast_frame(prof: Profiles, sc: Scenario, start: pd.Timestamp, hours: float
                   ) -> pd.DataFrame:
    """A forecast table (load, PV per array, prices, emission factor, green supply) cut from
    ``prof`` for ``hours`` from ``start``."""
    first = int((start - prof.time[0]) / pd.Timedelta(hours=prof.dt_h))
    n = int(round(hours / prof.dt_h))
    if first < 0 or first + n > prof.n_steps:
        raise ValueError(f"profiles do not cover {start} + {hours:g} h")
    sl = slice(first, first + n)
    cols = {"time": prof.time[sl], "load_kw": prof.load_kw[sl],
            "import_price_per_kwh": prof.import_price_per_kwh[sl],
            "export_price_per_kwh": prof.export_price_per_kwh[sl],
            "ef_kg_per_kwh": prof.ef_kg_per_kwh[sl]}
    for i, a in enumerate(sc.pv):
        cols[f"pv_kw[{a.name}]"] = prof.pv_avail_kw[i, sl]
    if prof.green_direct_kw is not None:
        cols["green_direct_kw"] = prof.green_direct_kw[sl]
    return pd.DataFrame(cols)


def actuals_from_schedule(sched: Schedule, hours: float) -> pd.DataFrame:
    """The first ``hours`` of a schedule as if metered exactly (unrounded plan values)."""
    p, meta = sched.plan, sched.doc["metadata"]
    n = int(round(hours / meta["step_h"]))
    time = pd.date_range(local_time(meta["start"]), periods=meta["n_intervals"],
                         freq=pd.Timedelta(hours=meta["step_h"]))[:n]
    cols: dict[str, object] = {
        "time": time, "grid_import_kw": np.maximum(p.grid_import_kw[:n], 0.0),
        "grid_export_kw": np.maximum(p.grid_export_kw[:n], 0.0),
        "pv_kw": np.maximum(p.pv_kw.sum(axis=0)[:n], 0.0),
        "green_direct_kw": np.maximum(p.green_direct_kw[:n], 0.0),
        "ef_kg_per_kwh": [iv["ef_kg_per_kwh"] for iv in sched.doc["intervals"][:n]],
    }
    for i, u in enumerate(sched.doc["assets"]["storage"]):
        cols[f"soc[{u['name']}]"] = np.clip(p.storage_soc_kwh[i, :n] / max(u["energy_kwh"], 1e-9),
                                            0.0, 1.0)
    for i, f in enumerate(sched.doc["assets"]["flexible_loads"]):
        cols[f"flex_kw[{f['name']}]"] = np.maximum(p.flex_kw[i, :n], 0.0)
    for group, piles in sched.pile_kw.items():
        for k in range(piles.shape[0]):
            cols[f"ev_pile_kw[{group}/{k}]"] = np.maximum(piles[k, :n], 0.0)
    return pd.DataFrame(cols)


def replay(sc: Scenario, prof: Profiles, *, start: str | pd.Timestamp, days: int,
           horizon_h: float = 48.0, state: OpsState | None = None,
           end_soc: dict[str, float] | None = None,
           time_limit_s: float | None = None) -> ReplayResult:
    """Run ``days`` nightly schedules with perfect execution of each first day.

    Parameters
    ----------
    sc : Scenario
    prof : Profiles
        Forecast source covering ``start`` to ``start + days``; its step is the schedule step.
    start : str or Timestamp
        First night's schedule start.
    days : int
    horizon_h : float [h], default 48
        Each night's horizon, cut at the end of the replay.
    state : OpsState, optional
        Initial state (default: the scenario's initial SOCs, no EVs plugged in, a ledger whose
        target period is the replayed stretch).
    end_soc : dict of str to float, optional
        Minimum SOC [fraction] per unit at the end of the replay (applied to the last night).
    time_limit_s : float [s], optional
    """
    t0 = pd.Timestamp(start)
    end = t0 + pd.Timedelta(days=days)
    step = {0.25: "15min", 0.5: "30min", 1.0: "1h"}[prof.dt_h]
    if state is None:
        base = initial_state(sc, t0.isoformat()).model_dump(mode="json")
        base["ledger"] = {"period_start": t0.isoformat(), "period_end": end.isoformat(),
                          "through": t0.isoformat()}
        base["ev_plugged"] = None  # night one: the scenario's own sessions already plugged in
        state = state_from_dict(base)
    schedules, states = [], [state]
    parts: dict[str, list[np.ndarray]] = {}
    accepted: list[str] = []
    for night in range(days):  # nights, not time steps
        t = t0 + pd.Timedelta(days=night)
        hours = min(horizon_h, (end - t) / pd.Timedelta(hours=1))
        fc = forecast_frame(prof, sc, t, hours)
        last = night == days - 1
        # the flexible loads' ramp continues from the power executed in the last step
        sc_night = sc if night == 0 or not sc.flexible_loads else sc.replace(
            {f"flexible_loads.{i}.initial_power_kw": float(parts["flex_kw"][-1][i, -1])
             for i in range(len(sc.flexible_loads))})
        sched = make_schedule(sc_night, state, start=t, horizon_h=hours, step=step, forecast=fc,
                              time_limit_s=time_limit_s, end_soc=end_soc if last else None)
        schedules.append(sched)
        n = int(round(24 / prof.dt_h))
        p = sched.plan
        for key, arr in (("grid_import_kw", p.grid_import_kw), ("grid_export_kw", p.grid_export_kw),
                         ("pv_kw", p.pv_kw), ("green_direct_kw", p.green_direct_kw),
                         ("storage_charge_kw", p.storage_charge_kw),
                         ("storage_discharge_kw", p.storage_discharge_kw),
                         ("ev_group_kw", p.ev_group_kw), ("flex_kw", p.flex_kw)):
            parts.setdefault(key, []).append(arr[..., :n])
        accepted += [e for e in p.dr_accepted if e not in accepted]
        actuals = read_actuals(actuals_from_schedule(sched, 24.0))
        executed = min(24.0 / hours, 1.0)  # certificates and offsets: the executed day's share
        state = update_state(state, actuals, sched.doc,
                             certificates_mwh=p.certificates_mwh * executed,
                             offsets_t=p.offsets_t * executed).state
        states.append(state)
    dispatch = {k: np.concatenate(v, axis=-1) for k, v in parts.items()}
    time = pd.date_range(t0, end, freq=pd.Timedelta(hours=prof.dt_h), inclusive="left")
    return ReplayResult(schedules, states, time, dispatch, accepted)


def evaluate_dispatch(sc: Scenario, prof: Profiles, dispatch: dict[str, np.ndarray],
                      dr_accepted: list[str] | None = None) -> Result:
    """Price a given dispatch with the full-horizon objective of ``sc`` over ``prof``.

    PV, green supply, storage, EV and flexible-load power are fixed (within 1 W) and DR
    participation as given; grid import/export, peaks, SOC, certificates, offsets and target
    slacks follow from them at least cost. The result's objective is what the dispatch costs.
    """
    d = model_data(sc, prof)
    lp = build_matrix(d)
    eta = pv_bus_efficiency(sc)
    fixed = {"pv.power_kw": dispatch["pv_kw"] / eta[:, None] if len(sc.pv) else None,
             "green.direct_kw": dispatch.get("green_direct_kw"),
             "storage.charge_kw": dispatch["storage_charge_kw"],
             "storage.discharge_kw": dispatch["storage_discharge_kw"],
             "ev.power_kw": np.maximum(dispatch["ev_group_kw"], 0.0),
             "flex.power_kw": dispatch["flex_kw"]}
    for name, value in fixed.items():
        if value is None or not lp.has(name):
            continue
        cols = lp.cols(name).ravel()
        v = np.asarray(value, float).ravel()
        rows = lp.rows(f"replay.fix.{name}", (range(cols.size),), v - _FIX_TOL_KW,
                       v + _FIX_TOL_KW)
        lp.add(rows, cols, 1.0)
    if lp.has("dr.accept"):
        take = np.array([1.0 if n in (dr_accepted or []) else 0.0 for n in d.dr_names])
        rows = lp.rows("replay.fix.dr", (d.dr_names,), take, take)
        lp.add(rows, lp.cols("dr.accept"), 1.0)
    out = solve_matrix(lp, sc.solver)
    return finish(d, out, "matrix", dict(out.timings))
