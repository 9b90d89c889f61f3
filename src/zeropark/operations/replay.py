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

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zeropark.api import finish
from zeropark.errors import ScenarioError
from zeropark.model import dr, ev, flexload, pv, storage
from zeropark.model.builder import build_matrix
from zeropark.model.data import model_data, pv_bus_efficiency
from zeropark.operations.ledger import read_actuals, update_state
from zeropark.operations.margins import Margins
from zeropark.operations.publish import local_time
from zeropark.operations.schedule import Schedule, make_schedule
from zeropark.operations.state import OpsState, initial_state, state_from_dict
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario
from zeropark.solve import solve_matrix

_FIX_TOL_KW = 1e-3
#: How the perfect-foresight benchmark and the replayed dispatch are billed the demand charge:
#: ``pro_rata`` — the stretch's share of each month (hours of the month in the stretch), as a
#: ``zeropark run`` of the stretch; ``month`` — each month's peak in full, as every nightly
#: schedule bills it (the month-to-date peak is the month's bill whatever follows).
DEMAND_BASES = ("pro_rata", "month")


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
    drifts : list of dict or None
        Each night's drift report (plan against the executed day, DR delivery included).
    """

    schedules: list[Schedule]
    states: list[OpsState]
    time: pd.DatetimeIndex
    dispatch: dict[str, np.ndarray]
    dr_accepted: list[str]
    drifts: list[dict | None] = dataclasses.field(default_factory=list)


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


@dataclass(frozen=True)
class ForecastError:
    """A seeded day-ahead forecast error: one relative error per calendar date for the load
    and one for PV, normal with standard deviations ``load_error`` and ``pv_error``.

    The forecast is ``truth × (1 + bias + ε_date)`` (``load_bias``, ``pv_bias``: a systematic
    relative error, default 0; PV clipped to [0, the array's rating]); a date's
    errors depend only on (seed, date), so the two nights that forecast a date (48 h horizons)
    see the same error, and a replay is reproducible. Day-level errors are the hard case for
    the demand charge and DR: the whole day is off the same way.
    """

    load_error: float = 0.05
    pv_error: float = 0.25
    seed: int = 0
    load_bias: float = 0.0
    pv_bias: float = 0.0

    def __post_init__(self) -> None:
        for name in ("load_error", "pv_error"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0.0 <= v <= 1.0):
                raise ScenarioError(f"--{name.replace('_', '-')}", v, "a fraction in [0, 1]")
        for name in ("load_bias", "pv_bias"):
            v = getattr(self, name)
            if not (np.isfinite(v) and -1.0 <= v <= 1.0):
                raise ScenarioError(f"--{name.replace('_', '-')}", v, "a fraction in [-1, 1]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ScenarioError("--seed", self.seed, "an integer >= 0")

    def factors(self, time: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        """(1 + ε_load, 1 + ε_pv) per step of ``time``."""
        load, pv = np.ones(len(time)), np.ones(len(time))
        dates = time.normalize()
        for day in pd.unique(dates):
            rng = np.random.default_rng([self.seed, pd.Timestamp(day).toordinal()])
            e_load, e_pv = rng.standard_normal(2)
            mask = np.asarray(dates == day)
            load[mask] = 1.0 + self.load_bias + self.load_error * e_load
            pv[mask] = max(1.0 + self.pv_bias + self.pv_error * e_pv, 0.0)
        return np.maximum(load, 0.0), pv

    def apply(self, fc: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
        """The forecast table with the errors laid on (load and PV columns)."""
        out = fc.copy()
        f_load, f_pv = self.factors(pd.DatetimeIndex(fc["time"]))
        out["load_kw"] = fc["load_kw"] * f_load
        for a in sc.pv:
            col = f"pv_kw[{a.name}]"
            if col in out:
                rating = max(a.ac_limit_kw or 0.0, a.capacity_kw)
                out[col] = np.clip(fc[col] * f_pv, 0.0, rating)
        return out


def execute(sched: Schedule, truth: Profiles, first: int, n: int, fc_pv_kw: np.ndarray,
            export_limit_kw: float = np.inf) -> dict[str, np.ndarray]:
    """The first ``n`` steps of a plan executed against the truth from step ``first``.

    Storage, EVs and flexible loads follow their setpoints (the plan is feasible for them
    whatever the weather); PV runs at the true availability unless the plan curtailed it (then
    at most the planned power); the grid absorbs the difference (import, or export up to the
    export limit, beyond which PV is curtailed).

    Returns the executed arrays (as :attr:`ReplayResult.dispatch`) for the ``n`` steps.
    """
    p = sched.plan
    sl = slice(first, first + n)
    avail = truth.pv_avail_kw[:, sl]
    planned_pv = p.pv_kw[:, :n]
    curtailed = planned_pv < fc_pv_kw[:, :n] - _FIX_TOL_KW
    pv = np.where(curtailed, np.minimum(planned_pv, avail), avail)
    gd = p.green_direct_kw[:n]
    if truth.green_direct_kw is not None:
        gd = np.minimum(gd, truth.green_direct_kw[sl])
    ch, dis = p.storage_charge_kw[:, :n], p.storage_discharge_kw[:, :n]
    ev, flex = p.ev_group_kw[:, :n], p.flex_kw[:, :n]
    net = (truth.load_kw[sl] + flex.sum(axis=0) + ev.sum(axis=0) + ch.sum(axis=0)
           - dis.sum(axis=0) - pv.sum(axis=0) - gd)
    export = np.minimum(np.maximum(-net, 0.0), export_limit_kw)
    spill = np.maximum(-net, 0.0) - export  # PV curtailed beyond the export limit
    if spill.any() and pv.size:
        share = pv / np.maximum(pv.sum(axis=0), 1e-9)
        pv = pv - share * spill
    return {"grid_import_kw": np.maximum(net, 0.0), "grid_export_kw": export, "pv_kw": pv,
            "green_direct_kw": gd, "storage_charge_kw": ch, "storage_discharge_kw": dis,
            "ev_group_kw": ev, "flex_kw": flex}


def executed_actuals(sched: Schedule, run: dict[str, np.ndarray], time: pd.DatetimeIndex
                     ) -> pd.DataFrame:
    """Metered actuals of an executed day: grid, PV, SOC and device power as executed."""
    cols: dict[str, object] = {
        "time": time, "grid_import_kw": run["grid_import_kw"],
        "grid_export_kw": run["grid_export_kw"], "pv_kw": run["pv_kw"].sum(axis=0),
        "green_direct_kw": run["green_direct_kw"],
        "ef_kg_per_kwh": [iv["ef_kg_per_kwh"] for iv in sched.doc["intervals"][:len(time)]],
    }
    p = sched.plan
    for i, u in enumerate(sched.doc["assets"]["storage"]):
        cols[f"soc[{u['name']}]"] = np.clip(p.storage_soc_kwh[i, :len(time)]
                                            / max(u["energy_kwh"], 1e-9), 0.0, 1.0)
        cols[f"storage_kw[{u['name']}]"] = (run["storage_discharge_kw"][i]
                                            - run["storage_charge_kw"][i])
    for i, f in enumerate(sched.doc["assets"]["flexible_loads"]):
        cols[f"flex_kw[{f['name']}]"] = np.maximum(run["flex_kw"][i], 0.0)
    for group, piles in sched.pile_kw.items():
        for k in range(piles.shape[0]):
            cols[f"ev_pile_kw[{group}/{k}]"] = np.maximum(piles[k, :len(time)], 0.0)
    return pd.DataFrame(cols)


def replay(sc: Scenario, prof: Profiles, *, start: str | pd.Timestamp, days: int,
           horizon_h: float = 48.0, state: OpsState | None = None,
           end_soc: dict[str, float] | None = None,
           time_limit_s: float | None = None, error: ForecastError | None = None,
           margins: Margins | None = None, horizon_end: str = "state",
           intra_step_peak: str = "scenario") -> ReplayResult:
    """Run ``days`` nightly schedules and execute each first day.

    Without ``error`` the forecasts are ``prof`` itself and each day is executed exactly as
    planned. With a :class:`ForecastError` each night's forecast is ``prof`` with the seeded
    errors laid on, and the day is executed against ``prof`` (the truth) by :func:`execute`:
    devices follow the setpoints, the grid absorbs the difference, and the ledger is updated
    with those actuals (``ReplayResult.drifts`` holds each night's drift report, DR delivery
    included).

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
    error : ForecastError, optional
        Forecast error model (default: perfect forecasts).
    margins : Margins, optional
        Margins of every night's schedule (default: the documented defaults).
    horizon_end : {"state", "reference"}, default "state"
        Every night's end-of-horizon storage rule (see :func:`make_schedule`).
    intra_step_peak : {"average", "scenario"}, default "scenario"
        Every night's billing of steps coarser than 15 min (see :func:`make_schedule`).
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
    drifts: list[dict | None] = []
    parts: dict[str, list[np.ndarray]] = {}
    accepted: list[str] = []
    for night in range(days):  # nights, not time steps
        t = t0 + pd.Timedelta(days=night)
        hours = min(horizon_h, (end - t) / pd.Timedelta(hours=1))
        fc = forecast_frame(prof, sc, t, hours)
        if error is not None:
            fc = error.apply(fc, sc)
        last = night == days - 1
        # the flexible loads' ramp continues from the power executed in the last step
        sc_night = sc if night == 0 or not sc.flexible_loads else sc.replace(
            {f"flexible_loads.{i}.initial_power_kw": float(parts["flex_kw"][-1][i, -1])
             for i in range(len(sc.flexible_loads))})
        sched = make_schedule(sc_night, state, start=t, horizon_h=hours, step=step, forecast=fc,
                              time_limit_s=time_limit_s, end_soc=end_soc if last else None,
                              margins=margins, horizon_end=horizon_end,
                              intra_step_peak=intra_step_peak)
        schedules.append(sched)
        n = int(round(24 / prof.dt_h))
        p = sched.plan
        if error is None:
            run = {"grid_import_kw": p.grid_import_kw, "grid_export_kw": p.grid_export_kw,
                   "pv_kw": p.pv_kw, "green_direct_kw": p.green_direct_kw,
                   "storage_charge_kw": p.storage_charge_kw,
                   "storage_discharge_kw": p.storage_discharge_kw,
                   "ev_group_kw": p.ev_group_kw, "flex_kw": p.flex_kw}
            run = {k: v[..., :n] for k, v in run.items()}
            actuals = read_actuals(actuals_from_schedule(sched, 24.0))
        else:
            first = int((t - prof.time[0]) / pd.Timedelta(hours=prof.dt_h))
            fc_pv = np.array([fc[f"pv_kw[{a.name}]"].to_numpy() for a in sc.pv]).reshape(
                len(sc.pv), len(fc))
            run = execute(sched, prof, first, n, fc_pv, sc.grid.export_limit_kw)
            actuals = read_actuals(executed_actuals(sched, run, prof.time[first:first + n]))
        for key, arr in run.items():
            parts.setdefault(key, []).append(arr)
        accepted += [e for e in p.dr_accepted if e not in accepted]
        executed = min(24.0 / hours, 1.0)  # certificates and offsets: the executed day's share
        up = update_state(state, actuals, sched.doc,
                          certificates_mwh=p.certificates_mwh * executed,
                          offsets_t=p.offsets_t * executed)
        state = up.state
        states.append(state)
        drifts.append(up.drift)
    dispatch = {k: np.concatenate(v, axis=-1) for k, v in parts.items()}
    time = pd.date_range(t0, end, freq=pd.Timedelta(hours=prof.dt_h), inclusive="left")
    return ReplayResult(schedules, states, time, dispatch, accepted, drifts)


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
    fixed = {pv.POWER_KW: dispatch["pv_kw"] / eta[:, None] if len(sc.pv) else None,
             pv.GREEN_DIRECT_KW: dispatch.get("green_direct_kw"),
             storage.CHARGE_KW: dispatch["storage_charge_kw"],
             storage.DISCHARGE_KW: dispatch["storage_discharge_kw"],
             ev.POWER_KW: np.maximum(dispatch["ev_group_kw"], 0.0),
             flexload.POWER_KW: dispatch["flex_kw"]}
    for name, value in fixed.items():
        if value is None or not lp.has(name):
            continue
        cols = lp.cols(name).ravel()
        v = np.asarray(value, float).ravel()
        rows = lp.rows(f"replay.fix.{name}", (range(cols.size),), v - _FIX_TOL_KW,
                       v + _FIX_TOL_KW)
        lp.add(rows, cols, 1.0)
    if lp.has(dr.ACCEPT):
        take = np.array([1.0 if n in (dr_accepted or []) else 0.0 for n in d.dr_names])
        rows = lp.rows("replay.fix.dr", (d.dr_names,), take, take)
        lp.add(rows, lp.cols(dr.ACCEPT), 1.0)
    out = solve_matrix(lp, sc.solver)
    return finish(d, out, "matrix", dict(out.timings))


def ramp_violations(sc: Scenario, dispatch: dict[str, np.ndarray], dt_h: float) -> dict[str, int]:
    """Steps where a ramp-limited device changed power by more than its ramp × step (night
    boundaries included), per flexible load and storage unit."""
    out: dict[str, int] = {}
    for i, f in enumerate(sc.flexible_loads):
        if f.ramp_kw_per_h is not None:
            jumps = np.abs(np.diff(dispatch["flex_kw"][i]))
            out[f"flex:{f.name}"] = int((jumps > f.ramp_kw_per_h * dt_h + _FIX_TOL_KW).sum())
    for i, u in enumerate(sc.storage):
        if u.ramp_kw_per_h is not None:
            q = dispatch["storage_discharge_kw"][i] - dispatch["storage_charge_kw"][i]
            out[f"storage:{u.name}"] = int((np.abs(np.diff(q)) > u.ramp_kw_per_h * dt_h
                                            + _FIX_TOL_KW).sum())
    return out


def _split(k: dict) -> dict[str, float]:
    b = k["cost_breakdown"]
    parts = {"energy": b["energy"] - b["export_revenue"], "demand": b["demand"],
             "dr": b["dr_penalty"] - b["dr_revenue"]}
    parts["other"] = k["total_cost"] - sum(parts.values())
    return parts


def night_regret(prof: Profiles, perfect: Result, realized: Result, steps_per_night: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Regret of each executed day: (energy part, demand part) [currency], one per night.

    Energy: Σ over the day of (import price × import − export price × export) Δt, replayed
    minus perfect. Demand: the demand charge (× the month's billed share) on the rise of the
    running month peak of the billed import (import + the intra-step excursion) during the day,
    replayed minus perfect — the month's demand charge is attributed to the days that raised the
    peak. DR payments and target terms are left to the totals (they settle per event and per
    period). Summed over the nights the demand part is the demand-charge regret whenever every
    month starts with the replay; the energy part is the energy regret.
    """
    dt = prof.dt_h
    frac = (np.ones(len(prof.month_labels)) if prof.month_fraction is None
            else np.asarray(prof.month_fraction, float))
    rate = prof.demand_charge_per_kw_month * frac[prof.month_index]
    exc = prof.peak_excursion_kw

    def parts(res: Result) -> tuple[np.ndarray, np.ndarray]:
        ds = res.dataset
        if ds is None:
            raise ValueError("night_regret needs solved results")
        imp = np.asarray(ds["grid_import_kw"].values, float)
        exp = np.asarray(ds["grid_export_kw"].values, float)
        energy = (prof.import_price_per_kwh * imp - prof.export_price_per_kwh * exp) * dt
        billed = imp + exc
        running = np.zeros_like(billed)
        for m in range(len(prof.month_labels)):
            mask = prof.month_index == m
            running[mask] = np.maximum.accumulate(billed[mask])
        rise = np.diff(np.concatenate([[0.0], running]))
        rise[np.r_[True, np.diff(prof.month_index) != 0]] = running[
            np.r_[True, np.diff(prof.month_index) != 0]]  # a new month starts from zero
        return energy, rise * rate

    e_r, d_r = parts(realized)
    e_p, d_p = parts(perfect)
    nights = len(e_r) // steps_per_night
    shape = (nights, steps_per_night)
    n = nights * steps_per_night
    return ((e_r[:n] - e_p[:n]).reshape(shape).sum(axis=1),
            (d_r[:n] - d_p[:n]).reshape(shape).sum(axis=1))


def regret_report(sc: Scenario, prof: Profiles, rep: ReplayResult, perfect: Result,
                  realized: Result) -> dict[str, object]:
    """Regret of the replayed nights against perfect foresight, split by cost, and per night:
    peak exceedance over the plan, DR delivery, EV unmet energy, fallbacks.

    Parameters
    ----------
    sc : Scenario
        The scenario re-timed to the replayed stretch.
    prof : Profiles
        The truth over the stretch.
    rep : ReplayResult
    perfect : Result
        The full-stretch optimum on the truth (perfect foresight).
    realized : Result
        :func:`evaluate_dispatch` of the replayed dispatch on the truth.
    """
    a, b = _split(realized.kpis), _split(perfect.kpis)
    bill = perfect.kpis["total_cost"]
    n = int(round(24 / prof.dt_h))
    nights = []
    e_night, d_night = night_regret(prof, perfect, realized, n)
    for k, (sched, drift) in enumerate(zip(rep.schedules, rep.drifts, strict=True)):
        meta = sched.doc["metadata"]
        day = rep.dispatch["grid_import_kw"][k * n:(k + 1) * n]
        planned = float(np.max(sched.plan.grid_import_kw[:n]))
        floor = rep.states[k].month_to_date
        floor_kw = floor.peak_import_kw if floor is not None else 0.0
        delivery = (drift or {}).get("dr_delivery", [])
        nights.append({
            "start": meta["start"], "status": meta["status"], "fallback": meta["fallback"],
            "planned_peak_kw": planned, "actual_peak_kw": float(day.max()),
            "month_peak_before_kw": floor_kw,
            "peak_exceedance_kw": max(0.0, float(day.max()) - max(planned, floor_kw)),
            "dr_shortfall_kwh": float(sum(e["shortfall_kwh"] for e in delivery)),
            "dr_shortfall_planned_kwh": float(sum(e.get("planned_shortfall_kwh") or 0.0
                                                  for e in delivery)),
            "dr_shortfall_suffered_kwh": float(sum(e.get("suffered_shortfall_kwh", 0.0)
                                                   for e in delivery)),
            "dr_events": [e["event"] for e in delivery],
            "ev_unmet_kwh": float(meta["expected"]["ev_unmet_kwh"]),
            "regret_energy": float(e_night[k]), "regret_demand": float(d_night[k]),
        })
    regret = {key: a[key] - b[key] for key in a}
    return {
        "days": len(rep.schedules), "from": str(rep.time[0]), "to": str(rep.time[-1]),
        "perfect_cost": bill, "replayed_cost": realized.kpis["total_cost"],
        "regret": realized.kpis["total_cost"] - bill,
        "regret_pct": 100.0 * (realized.kpis["total_cost"] - bill) / bill if bill else 0.0,
        "regret_by_part": regret,
        "dr_shortfall_kwh": float(sum(x["dr_shortfall_kwh"] for x in nights)),
        "dr_shortfall_planned_kwh": float(sum(x["dr_shortfall_planned_kwh"] for x in nights)),
        "dr_shortfall_suffered_kwh": float(sum(x["dr_shortfall_suffered_kwh"] for x in nights)),
        "peak_exceedances": int(sum(x["peak_exceedance_kw"] > 1e-3 for x in nights)),
        "ramp_violations": ramp_violations(sc, rep.dispatch, prof.dt_h),
        "fallbacks": int(sum(x["fallback"] for x in nights)),
        "ev_unmet_kwh": float(realized.kpis.get("ev_unmet_kwh", 0.0)),
        "nights": nights,
    }


def run_replay(sc: Scenario, *, start: str | pd.Timestamp, days: int, horizon_h: float = 48.0,
               step: str = "1h", error: ForecastError | None = None,
               margins: Margins | None = None, time_limit_s: float | None = None,
               horizon_end: str = "state", demand_basis: str = "month",
               intra_step_peak: str = "scenario") -> tuple[dict[str, object], ReplayResult]:
    """Replay ``days`` nights of ``sc`` from ``start`` against its own profiles as the truth and
    report the regret against perfect foresight (:func:`regret_report`).

    The truth is the scenario's profiles re-timed to ``[start, start + days)`` at ``step``
    (window-independent, so a date is the same as in the scenario's own run). DR events without
    a ``baseline_kw`` get the truth's baseline (window mean) as a published baseline, so the
    nightly plans and the settlement use the same one, as a DR programme does (a baseline taken
    from each night's own forecast would move with the forecast error). Forecasts are the
    truth with ``error`` laid on (None: perfect forecasts); the last night ends each storage unit
    at least at its scenario initial SOC, as the perfect-foresight run does.
    """
    from zeropark.api import prepare, solve_data
    from zeropark.operations.horizon import STEPS
    from zeropark.profiles.build import build_profiles

    if demand_basis not in DEMAND_BASES:
        raise ScenarioError("--demand-basis", demand_basis, f"one of {list(DEMAND_BASES)}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ScenarioError("--days", days, "a whole number of days, 1 to 366")
    if step not in STEPS:
        raise ScenarioError("--step", step, f"one of {list(STEPS)}")
    try:
        t0 = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise ScenarioError("--start", start, "an ISO date such as 2025-07-24") from None
    if t0.tzinfo is not None or t0 != t0.normalize():
        raise ScenarioError("--start", start, "a local midnight without UTC offset")
    steps = int(round(days * 24 / STEPS[step]))
    stretch = sc.replace({"time": {"start": t0.isoformat(), "steps": steps, "step": step}})
    truth = build_profiles(stretch)
    if truth.dr_events:  # DR baselines are published data: the same for plans and settlement
        base = {e.name: float(np.mean(e.baseline_steps_kw())) for e in truth.dr_events}
        events = [{**e.model_dump(mode="json", exclude_none=True),
                   **({"baseline_kw": base[e.name]} if e.name in base else {})}
                  for e in sc.demand_response.events]
        sc = sc.replace({"demand_response.events": events})
        stretch = stretch.replace({"demand_response.events": events})
        truth = build_profiles(stretch)
    end_soc = {u.name: float(u.soc_initial) for u in sc.storage
               if u.end_condition != "free" and not u.free_start}
    rep = replay(sc, truth, start=t0, days=days, horizon_h=horizon_h, end_soc=end_soc or None,
                 time_limit_s=time_limit_s, error=error, margins=margins,
                 horizon_end=horizon_end, intra_step_peak=intra_step_peak)
    bench = truth
    if demand_basis == "month":  # bill each month's peak in full, as the nightly plans do
        bench = dataclasses.replace(truth, month_fraction=None)  # None: whole months
    perfect = solve_data(prepare(stretch, bench))
    realized = evaluate_dispatch(stretch, bench, rep.dispatch, rep.dr_accepted)
    if not (perfect.ok and realized.ok):
        raise ScenarioError("replay", f"perfect foresight {perfect.status}, replayed "
                            f"{realized.status}", "both solved (see the scenario's limits)")
    report = regret_report(stretch, bench, rep, perfect, realized)
    # what perfect foresight itself leaves undelivered (chosen: the penalty costs less)
    report["perfect_dr_shortfall_kwh"] = float(sum(
        e["shortfall_kwh"] for e in (perfect.kpis.get("dr_events") or {}).values()
        if e["accepted"]))
    report["forecast_error"] = (None if error is None else dataclasses.asdict(error))
    report["margins"] = dataclasses.asdict(margins if margins is not None else Margins())
    report["horizon_end"] = horizon_end
    report["demand_basis"] = demand_basis
    report["intra_step_peak"] = intra_step_peak
    return report, rep


def replay_figure(report: dict, currency: str = "CNY") -> Any:
    """Three panels, one point per night: regret (energy and demand-charge parts, stacked,
    :func:`night_regret`), planned vs actual peak import with the month-to-date peak before the
    night, and DR shortfall."""
    from matplotlib.figure import Figure

    nights = report["nights"]
    x = np.arange(len(nights))
    labels = [str(n["start"])[5:10] for n in nights]
    fig = Figure(figsize=(max(6.0, 0.45 * len(nights) + 3.0), 7.5))
    ax = fig.subplots(3, 1, sharex=True)
    e = np.array([n.get("regret_energy", 0.0) for n in nights]) / 1e3
    d = np.array([n.get("regret_demand", 0.0) for n in nights]) / 1e3
    ax[0].bar(x, e, color="tab:blue", label="energy")
    ax[0].bar(x, d, bottom=np.where(d * e > 0, e, 0.0), color="tab:orange",
              label="demand charge")
    ax[0].axhline(0, color="0.3", lw=0.8)
    ax[0].set_ylabel(f"regret [k{currency}]")
    ax[0].set_title(f"regret {report['regret']:,.0f} {currency} "
                    f"({report['regret_pct']:+.2f} % of the perfect-foresight bill)", fontsize=9)
    ax[0].legend(fontsize=7)
    for key, style, label in (("planned_peak_kw", "o-", "planned peak"),
                              ("actual_peak_kw", "s-", "actual peak"),
                              ("month_peak_before_kw", "--", "month-to-date peak before")):
        ax[1].plot(x, [n[key] / 1e3 for n in nights], style, ms=4, label=label)
    over = [i for i, n in enumerate(nights) if n["peak_exceedance_kw"] > 1e-3]
    if over:
        ax[1].plot(over, [nights[i]["actual_peak_kw"] / 1e3 for i in over], "x", color="red",
                   ms=8, label="exceedance")
    ax[1].set_ylabel("import peak [MW]")
    ax[1].legend(fontsize=7)
    short = [n["dr_shortfall_kwh"] for n in nights]
    ax[2].bar(x, short, color="tab:red")
    ax[2].set_ylim(0, max(1.0, 1.1 * max(short, default=0.0)))
    ax[2].set_ylabel("DR shortfall [kWh]")
    ax[2].set_xticks(x, labels, rotation=90, fontsize=7)
    ax[2].set_xlabel("night (schedule start)")
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_replay_plot(report: dict, path: str | Path, currency: str = "CNY") -> Path:
    """Write :func:`replay_figure` as a PNG (atomically)."""
    from zeropark.io import atomic_write_bytes
    from zeropark.plots import figure_bytes

    out = Path(path)
    atomic_write_bytes(out, figure_bytes(replay_figure(report, currency)))
    return out


def replay_lines(report: dict) -> list[str]:
    """A readable replay report: one line per night, then the totals."""
    out = [f"{'night':<26} {'status':<10} {'plan peak':>10} {'actual':>10} {'exceed':>8} "
           f"{'DR short':>9} {'EV unmet':>9} {'regret':>9}"]
    for n in report["nights"]:
        out.append(f"{n['start']:<26} {('FALLBACK' if n['fallback'] else n['status']):<10} "
                   f"{n['planned_peak_kw']:>10,.0f} {n['actual_peak_kw']:>10,.0f} "
                   f"{n['peak_exceedance_kw']:>8,.0f} {n['dr_shortfall_kwh']:>9,.0f} "
                   f"{n['ev_unmet_kwh']:>9,.1f} "
                   f"{n.get('regret_energy', 0.0) + n.get('regret_demand', 0.0):>+9,.0f}")
    parts = report["regret_by_part"]
    out.append(f"regret {report['regret']:,.0f} ({report['regret_pct']:+.2f} % of the perfect-"
               f"foresight bill {report['perfect_cost']:,.0f}): energy {parts['energy']:+,.0f}, "
               f"demand {parts['demand']:+,.0f}, DR {parts['dr']:+,.0f}, other "
               f"{parts['other']:+,.0f}")
    ramps = report["ramp_violations"]
    out.append(f"DR shortfall {report['dr_shortfall_kwh']:,.0f} kWh (planned "
               f"{report.get('dr_shortfall_planned_kwh', 0.0):,.0f}, suffered "
               f"{report.get('dr_shortfall_suffered_kwh', 0.0):,.0f}); peak exceedances "
               f"{report['peak_exceedances']}; ramp violations "
               f"{sum(ramps.values()) if ramps else 0}"
               + (f" ({', '.join(f'{k} {v}' for k, v in ramps.items())})" if ramps else "")
               + f"; fallbacks {report['fallbacks']}; EV unmet {report['ev_unmet_kwh']:,.1f} kWh")
    return out
