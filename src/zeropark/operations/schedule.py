"""The nightly day-ahead schedule: optimise one horizon, fall back to rules when that fails, and
assemble the published document (JSON, versioned schema) and table (CSV) with per-pile setpoints.

``make_schedule`` always returns a schedule: a solver failure, a time limit without incumbent, an
infeasible model, a rejected forecast or an optimised plan that fails its own checks all lead to
the rule-based plan of :mod:`zeropark.operations.fallback`, flagged ``fallback: true`` with the
reasons. Only invalid scenario or state input raises (:class:`~zeropark.errors.ScenarioError`).
"""

from __future__ import annotations

import dataclasses
import datetime
import time as timer
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from zeropark.api import solve_data
from zeropark.errors import ScenarioError
from zeropark.model import storage
from zeropark.model.data import ModelData, model_data
from zeropark.model.grid import capacity_cost
from zeropark.model.lp import MatrixLP
from zeropark.operations.evsplit import add_session_rows, disaggregate, lp_split, session_grid
from zeropark.operations.fallback import fallback_plan
from zeropark.operations.horizon import Horizon, build_horizon
from zeropark.operations.margins import Margins, add_margin_rows
from zeropark.operations.plan import Plan, plan_from_result
from zeropark.operations.publish import (
    SCHEMA_VERSION,
    check_schedule,
    local_time,
    utc_offset_text,
)
from zeropark.operations.state import OpsState
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario

_TOL_KW = 1e-3


@dataclass(frozen=True)
class Schedule:
    """A schedule ready to publish.

    Attributes
    ----------
    doc : dict
        The JSON document (validated against ``schedule.schema.json``).
    frame : pandas.DataFrame
        The CSV table: one row per interval.
    plan : Plan
        Unrounded setpoints (group-level EV power).
    pile_kw : dict of str to numpy.ndarray [kW]
        Per-pile setpoints, shape (piles, T), unrounded.
    result : Result or None
        The optimisation result (None when it was not attempted).
    """

    doc: dict[str, Any]
    frame: pd.DataFrame
    plan: Plan
    pile_kw: dict[str, np.ndarray]
    result: Result | None = None

    @property
    def fallback(self) -> bool:
        return bool(self.doc["metadata"]["fallback"])

    @property
    def status(self) -> str:
        return str(self.doc["metadata"]["status"])

    @property
    def start(self) -> pd.Timestamp:
        """First interval start, tz-naive local standard time."""
        return local_time(self.doc["metadata"]["start"])


def _apply_carry(lp: MatrixLP, d: ModelData, carry: dict[str, float],
                 end_soc: dict[str, float] | None) -> None:
    """Shift target rows by the ledger carry-over (a column fixed at 1) and add end-SOC floors."""
    present = {name: c for name, c in carry.items() if name in lp.row_blocks and c != 0.0}
    if present:
        one = lp.var("operations.carry", (), 1.0, 1.0)
        for name, coef in present.items():
            lp.add(lp.row_blocks[name].index(), one, coef)
    names = [n for n in d.storage_names if n in (end_soc or {})]
    if names and lp.has(storage.SOC_KWH):
        idx = [d.storage_names.index(n) for n in names]
        energy = np.array([d.sc.storage[i].energy_kwh for i in idx])
        target = np.array([(end_soc or {})[n] for n in names]) * energy
        rows = lp.rows("operations.end_soc", (names,), lo=target)
        lp.add(rows, lp.cols(storage.SOC_KWH)[idx, -1], 1.0)


#: End-of-horizon storage rules of a schedule (``horizon_end``): ``state`` — the scenario's end
#: condition counted from the horizon's start SOC (the state's): every 48 h plan ends at least
#: as full as it started; ``reference`` — counted from the scenario's own ``soc_initial``, the
#: level the scenario's whole-period run must end at (no night-to-night ratchet).
HORIZON_END_RULES = ("state", "reference")


def reference_end_kwh(sc: Scenario) -> np.ndarray:
    """End targets of the ``reference`` rule [kWh]: each unit's scenario ``soc_initial`` ×
    energy (the horizon scenario's ``soc_initial`` is the state's SOC, so pass the scenario)."""
    # a free start ("free") is cyclic from its own free start value: its target is not used
    return np.array([u.soc_initial * u.energy_kwh if not isinstance(u.soc_initial, str) else 0.0
                     for u in sc.storage], float)


def optimise(hz: Horizon, *, end_soc: dict[str, float] | None = None,
             margins: Margins | None = None, info: dict[str, Any] | None = None,
             end_kwh: np.ndarray | None = None,
             ) -> tuple[Result, dict[str, np.ndarray]]:
    """Solve the horizon's MILP with the matrix builder and HiGHS.

    As :func:`zeropark.api.solve_data`, plus: target rows shifted by the pro-rata carry-over, the
    month-to-date demand charge and a capacity-billed month's capacity charge (already incurred)
    taken out of the objective, the flexible loads' first step within their ramp limit of the
    state's last executed power, the exact per-session EV rows of
    :func:`~zeropark.operations.evsplit.add_session_rows`, and optional end-of-horizon SOC floors
    ``end_soc`` [fraction] per storage unit, and the peak guard and DR delivery margin of
    :mod:`zeropark.operations.margins` (``margins``; default :class:`Margins` ``()``, the
    documented defaults; ``Margins.off()`` for none). ``info`` receives the margins used.
    ``end_kwh`` [kWh] per storage unit replaces the target of the scenario's end condition
    (``soc[T-1] ≥ end_kwh`` for ``at_least_initial``, ``=`` for ``cyclic``; default the horizon's
    start SOC), see :data:`HORIZON_END_RULES`.

    Returns
    -------
    (Result, dict of group name to per-session power [kW], shape (sessions, T))
    """
    # the flexible loads' power before the start bounds their first step (ramp limit)
    d = dataclasses.replace(model_data(hz.sc, hz.prof), flex_initial_kw=hz.flex_initial_kw,
                            storage_initial_kw=hz.storage_initial_kw)
    if end_kwh is not None and len(hz.sc.storage):
        d = dataclasses.replace(d, storage_end_kwh=np.asarray(end_kwh, float))
    # already billed this month whatever the schedule does: the demand charge on the month-to-date
    # peak and (capacity basis) the month's capacity charge
    incurred = hz.prof.demand_charge_per_kw_month * float(np.sum(hz.floor_kw))
    if hz.sc.grid.billing == "capacity":
        incurred += capacity_cost(d)
    layout: dict[str, Any] = {}

    def hook(lp: MatrixLP, d_now: ModelData) -> None:
        _apply_carry(lp, d_now, hz.pro_rata.carry, end_soc)
        layout["sessions"] = add_session_rows(lp, d_now, hz.sessions)
        used = add_margin_rows(lp, d_now, Margins() if margins is None else margins)
        if info is not None:
            info.update(used)
        lp.objective_offset -= incurred

    result = solve_data(d, engine="matrix", lp_hook=hook)
    split = (lp_split(result.values, d, hz.sessions, layout["sessions"])
             if result.ok else {})
    return result, split


def _r(x: Any, digits: int = 3) -> Any:
    """Round for publication (and turn -0.0 into 0.0)."""
    return np.round(np.asarray(x, float), digits) + 0.0


def _time(ts: pd.Timestamp, offset: str = "") -> str:
    """ISO 8601 local standard time, with the UTC offset ``offset`` (e.g. ``+08:00``)."""
    return pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%S") + offset


def expected(hz: Horizon, prof: Profiles, plan: Plan, owed_kwh: float) -> dict[str, Any]:
    """Horizon totals of a plan: energy, green share, emissions, costs, peaks."""
    dt = prof.dt_h
    imp, exp = np.maximum(plan.grid_import_kw, 0.0), np.maximum(plan.grid_export_kw, 0.0)
    onsite = np.maximum(plan.pv_kw.sum(axis=0) + plan.green_direct_kw, 0.0)
    consumption = float((onsite + imp - exp).sum()) * dt
    green = float((onsite - exp).sum()) * dt + 1000.0 * plan.certificates_mwh
    peak = np.zeros(len(prof.month_labels))
    np.maximum.at(peak, prof.month_index, imp + prof.peak_excursion_kw)  # highest 15-min avg
    floor = np.asarray(hz.floor_kw, float)
    return {
        "import_kwh": float(imp.sum()) * dt,
        "export_kwh": float(exp.sum()) * dt,
        "consumption_kwh": consumption,
        "green_kwh": green,
        "green_share": float(np.clip(green / consumption, 0, 1)) if consumption > 0 else 0.0,
        "emissions_kg": float((prof.ef_kg_per_kwh * imp).sum()) * dt,
        "energy_cost": float((prof.import_price_per_kwh * imp
                              - prof.export_price_per_kwh * exp).sum()) * dt,
        "demand_charge_incremental": prof.demand_charge_per_kw_month
        * float(np.maximum(peak - floor, 0.0).sum()),
        "peak_import_kw": dict(zip(prof.month_labels, np.maximum(peak, floor).tolist(),
                                   strict=True)),
        "month_peak_floor_kw": dict(zip(prof.month_labels, floor.tolist(), strict=True)),
        "ev_energy_kwh": float(np.maximum(plan.ev_group_kw, 0).sum()) * dt,
        "ev_unmet_kwh": float(owed_kwh),
        "unserved_kwh": float(np.sum(plan.unserved_kw)) * dt
        if plan.unserved_kw is not None else 0.0,
        "dr_accepted": list(plan.dr_accepted),
        "certificates_mwh": float(plan.certificates_mwh),
    }


def _balance_residual(prof: Profiles, plan: Plan) -> np.ndarray:
    supply = (plan.grid_import_kw - plan.grid_export_kw + plan.pv_kw.sum(axis=0)
              + plan.green_direct_kw + plan.storage_discharge_kw.sum(axis=0))
    demand = (prof.load_kw + plan.flex_kw.sum(axis=0) + plan.ev_group_kw.sum(axis=0)
              + plan.storage_charge_kw.sum(axis=0))
    unserved = 0.0 if plan.unserved_kw is None else plan.unserved_kw
    return supply + unserved - demand


def _session_records(hz: Horizon, prof: Profiles, session_kw: dict[str, np.ndarray],
                     tz: str = "") -> list[dict[str, Any]]:
    """One record per EV session: identity, wishes, and its planned power while plugged in."""
    T, dt = prof.n_steps, prof.dt_h
    out: list[dict[str, Any]] = []
    for g in hz.sc.ev.groups:  # groups, then sessions: output formatting only
        rows = hz.sessions[hz.sessions["group"] == g.name] if len(hz.sessions) else hz.sessions
        if not len(rows):
            continue
        x = session_kw[g.name]
        q = session_grid(rows, prof.time, dt, g.efficiency, g.power_kw)
        first = np.minimum(np.floor(q["a"] / dt + 1e-9).astype(int), T - 1)
        stop = np.clip(np.ceil(q["dc"] / dt - 1e-9).astype(int), first + 1, T)
        xr = _r(x)
        for j, row in enumerate(rows.itertuples(index=False)):
            ident = getattr(row, "id", None)
            out.append({
                "group": g.name, "pile": int(row.pile),
                "id": None if ident is None or pd.isna(ident) else str(ident),
                "arrival": _time(row.arrival, tz), "departure": _time(row.departure, tz),
                "energy_kwh": float(_r(row.energy_kwh)),
                "max_power_kw": float(_r(row.max_power_kw)),
                "planned_kwh": float(_r(x[j].sum() * dt)),
                "first_interval": int(first[j]),
                "power_kw": xr[j, first[j]:stop[j]].tolist(),
            })
    return out


def _dr_records(sc: Scenario, prof: Profiles, plan: Plan, tz: str = ""
                ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """DR events of the horizon (assets) and, per interval, the accepted ones active in it."""
    T, dt = prof.n_steps, prof.dt_h
    assets: list[dict[str, Any]] = []
    by_step: list[list[dict[str, Any]]] = [[] for _ in range(T)]
    for e in prof.dr_events:
        steps = np.flatnonzero(e.mask)
        base = e.baseline_steps_kw()  # per step; the window mean settles the same energy
        caps = base - e.reduction_kw
        cap = float(_r(caps.mean()))
        accepted = e.name in plan.dr_accepted
        src = next((ev for ev in sc.demand_response.events if ev.name == e.name), None)
        assets.append({
            "name": e.name, "start": _time(prof.time[steps[0]], tz),
            "end": _time(prof.time[steps[-1]] + pd.Timedelta(hours=dt), tz),
            "baseline_kw": float(_r(base.mean())), "reduction_kw": float(_r(e.reduction_kw)),
            "import_cap_kw": cap, "committed": bool(e.committed), "accepted": bool(accepted),
            "payment_per_kw": float(e.payment_per_kw), "penalty_per_kwh": float(e.penalty_per_kwh),
            "date": src.date if src else None, "window": f"{src.start}-{src.end}" if src else None,
        })
        if accepted:
            for t, c in zip(steps, caps, strict=True):
                by_step[t].append({"event": e.name, "import_cap_kw": float(_r(c))})
    return assets, by_step


def _table(starts: list[str], cols: dict[str, np.ndarray], S: list[str], F: list[str],
           s_p: np.ndarray, s_soc: np.ndarray, f_kw: np.ndarray, piles: dict[str, np.ndarray],
           prof: Profiles, plan: Plan, fallback: bool) -> pd.DataFrame:
    """The CSV table: one row per interval, one column per quantity, asset and pile."""
    T = len(starts)
    table: dict[str, Any] = {"start": starts, **{k: cols[k] for k in (
        "grid_import_kw", "grid_export_kw", "load_kw", "pv_kw", "green_direct_kw")}}
    for i, n in enumerate(S):
        table[f"storage_kw[{n}]"] = s_p[i]
        table[f"storage_soc[{n}]"] = s_soc[i]
    for i, n in enumerate(F):
        table[f"flex_kw[{n}]"] = f_kw[i]
    for n, p in piles.items():
        for j in range(p.shape[0]):
            table[f"ev_pile_kw[{n}/{j}]"] = p[j]
    cap = np.full(T, np.nan)
    for e in prof.dr_events:
        if e.name in plan.dr_accepted:
            cap[e.mask] = np.fmin(cap[e.mask], e.baseline_steps_kw() - e.reduction_kw)
    table["dr_import_cap_kw"] = _r(cap)
    for k in ("import_price_per_kwh", "export_price_per_kwh", "expected_cost", "ef_kg_per_kwh",
              "emissions_kg", "green_share"):
        table[k] = cols[k]
    table["fallback"] = np.full(T, int(fallback))
    return pd.DataFrame(table)


def assemble(hz: Horizon, prof: Profiles, plan: Plan, *, status: str, fallback: bool,
             reasons: list[str], warnings: list[str], state: OpsState,
             result: Result | None, created_at: str, timings: dict[str, float],
             lp_sessions: dict[str, np.ndarray] | None = None,
             margins: dict[str, Any] | None = None) -> Schedule:
    """The schedule document and table of a plan (see ``schedule.schema.json``).

    Raises
    ------
    ValueError
        The plan breaks the power balance or holds non-finite numbers.
    """
    sc, T, dt = hz.sc, prof.n_steps, prof.dt_h
    arrays = [v for v in dataclasses.asdict(plan).values() if isinstance(v, np.ndarray)]
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError("the plan holds NaN or infinite values")
    resid = _balance_residual(prof, plan)
    scale = max(1.0, float(np.abs(prof.load_kw).max(initial=0.0)))
    if np.abs(resid).max(initial=0.0) > 1e-4 * scale + _TOL_KW:
        raise ValueError(f"the plan breaks the power balance by {np.abs(resid).max():.3g} kW")
    pile_kw, session_kw, owed, ev_warn = disaggregate(sc, prof, hz.sessions, plan, lp_sessions)
    warnings = warnings + ev_warn
    tz = utc_offset_text(sc.utc_offset_h)
    sessions_out = _session_records(hz, prof, session_kw, tz)
    exp_summary = expected(hz, prof, plan, owed)
    if owed > 1e-3:
        warnings.append(f"{owed:.3f} kWh of EV energy cannot be delivered in time")
    if exp_summary["unserved_kwh"] > 1e-3:
        warnings.append(f"{exp_summary['unserved_kwh']:.3f} kWh of load exceeds the import limit")
    soc = plan.storage_soc_kwh / np.array([max(u.energy_kwh, 1e-9) for u in sc.storage]
                                          ).reshape(-1, 1)
    soc = np.clip(soc, 0.0, 1.0)
    s_power = plan.storage_discharge_kw - plan.storage_charge_kw
    onsite = plan.pv_kw.sum(axis=0) + plan.green_direct_kw
    cons = onsite + plan.grid_import_kw - plan.grid_export_kw
    share = np.where(cons > 1e-9, np.clip((onsite - plan.grid_export_kw)
                                          / np.where(cons > 1e-9, cons, 1.0), 0, 1), 0.0)
    emissions = prof.ef_kg_per_kwh * plan.grid_import_kw * dt
    dr_assets, dr_by_step = _dr_records(sc, prof, plan, tz)
    F = [f.name for f in sc.flexible_loads]
    S = [u.name for u in sc.storage]
    G = [g.name for g in sc.ev.groups]
    cols: dict[str, np.ndarray] = {
        "grid_import_kw": _r(np.maximum(plan.grid_import_kw, 0)),
        "grid_export_kw": _r(np.maximum(plan.grid_export_kw, 0)),
        "load_kw": _r(np.maximum(prof.load_kw, 0)),
        "pv_kw": _r(np.maximum(plan.pv_kw.sum(axis=0), 0)),
        "green_direct_kw": _r(np.maximum(plan.green_direct_kw, 0)),
        "import_price_per_kwh": _r(prof.import_price_per_kwh, 6),
        "export_price_per_kwh": _r(prof.export_price_per_kwh, 6),
        "expected_cost": _r((prof.import_price_per_kwh * np.maximum(plan.grid_import_kw, 0)
                             - prof.export_price_per_kwh * np.maximum(plan.grid_export_kw, 0))
                            * dt),
        "ef_kg_per_kwh": _r(prof.ef_kg_per_kwh, 6),
        "emissions_kg": _r(np.maximum(emissions, 0)),
        "green_share": _r(share, 6),
    }
    s_p, s_soc = _r(s_power), _r(soc, 6)
    f_kw = _r(np.maximum(plan.flex_kw, 0))
    g_kw = _r(np.maximum(plan.ev_group_kw, 0))
    piles = {g: _r(np.maximum(pile_kw[g], 0)) for g in G}
    lists = {k: v.tolist() for k, v in cols.items()}
    starts = [_time(t, tz) for t in prof.time]
    intervals = []
    for t in range(T):  # output formatting, one record per interval
        intervals.append({
            "start": starts[t],
            **{k: lists[k][t] for k in ("grid_import_kw", "grid_export_kw", "load_kw", "pv_kw",
                                        "green_direct_kw")},
            "storage": {n: {"power_kw": float(s_p[i, t]), "soc": float(s_soc[i, t])}
                        for i, n in enumerate(S)},
            "flex_kw": {n: float(f_kw[i, t]) for i, n in enumerate(F)},
            "ev_group_kw": {n: float(g_kw[i, t]) for i, n in enumerate(G)},
            "ev_piles_kw": {n: piles[n][:, t].tolist() for n in G},
            "dr": dr_by_step[t],
            **{k: lists[k][t] for k in ("import_price_per_kwh", "export_price_per_kwh",
                                        "expected_cost", "ef_kg_per_kwh", "emissions_kg",
                                        "green_share")},
        })
    solver = sc.solver
    fc = hz.forecast
    ok = result is not None and result.ok and not fallback
    res = result if ok else None
    meta = {
        "scenario": sc.name, "scenario_hash": sc.content_hash(), "created_at": created_at,
        "start": starts[0], "end": _time(prof.time[-1] + pd.Timedelta(hours=dt), tz),
        "time_zone": f"UTC{tz}", "utc_offset_h": float(sc.utc_offset_h),
        "valid_from": starts[0], "valid_to": _time(prof.time[-1] + pd.Timedelta(hours=dt), tz),
        "revision": 1,
        "horizon_h": T * dt, "step": sc.time.step, "step_h": dt, "n_intervals": T,
        "status": status,
        "objective": float(res.objective) if res is not None else None,
        "bound": float(res.bound) if res is not None and np.isfinite(res.bound) else None,
        "gap": float(max(res.gap, 0.0)) if res is not None and np.isfinite(res.gap) else None,
        "fallback": fallback, "reasons": list(reasons), "warnings": list(warnings),
        "currency": sc.currency, "zeropark_version": version("zeropark"),
        "solver": {"engine": "matrix" if not fallback else "rules",
                   "time_limit_s": solver.time_limit_s, "mip_gap": solver.mip_gap,
                   "threads": solver.threads, "seed": solver.seed},
        "inputs": {"state_hash": state.content_hash(), "state_as_of": state.as_of,
                   "forecast_source": fc.source if fc else None,
                   "forecast_hash": fc.digest if fc else None,
                   "forecast_columns": fc.columns if fc else [],
                   "forecast_used": fc is not None and hz.forecast_error is None},
        "forecast_corrections": (list(fc.corrections) if fc is not None
                                 and hz.forecast_error is None else []),
        "targets": dict(hz.pro_rata.info),
        "expected": exp_summary,
        "margins": margins if margins else None,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
    doc = {
        "schema": "zeropark.schedule", "schema_version": SCHEMA_VERSION, "metadata": meta,
        "assets": {
            "storage": [{"name": u.name, "energy_kwh": u.energy_kwh, "power_kw": u.power_kw,
                         "soc_min": u.soc_min, "soc_max": u.soc_max} for u in sc.storage],
            "ev_groups": [{"name": g.name, "piles": g.count, "pile_power_kw": g.power_kw,
                           "efficiency": g.efficiency} for g in sc.ev.groups],
            "flexible_loads": [{"name": f.name, "min_power_kw": f.min_power_kw,
                                "max_power_kw": f.max_power_kw} for f in sc.flexible_loads],
            "pv": [{"name": a.name, "capacity_kw": a.capacity_kw} for a in sc.pv],
            "dr_events": dr_assets,
        },
        "intervals": intervals,
        "ev_sessions": sessions_out,
    }
    frame = _table(starts, cols, S, F, s_p, s_soc, f_kw, piles, prof, plan, fallback)
    return Schedule(doc, frame, plan, pile_kw, result)


def make_schedule(sc: Scenario, state: OpsState, *, start: str | pd.Timestamp,
                  horizon_h: float = 48.0, step: str = "15min",
                  forecast: str | pd.DataFrame | None = None, time_limit_s: float | None = None,
                  end_soc: dict[str, float] | None = None,
                  created_at: str | None = None,
                  state_ignored: list[str] | None = None,
                  margins: Margins | None = None, horizon_end: str = "state",
                  intra_step_peak: str = "scenario") -> Schedule:
    """The day-ahead schedule of one horizon — always a plan.

    Parameters
    ----------
    sc : Scenario
        The park.
    state : OpsState
        SOC, month-to-date peak, ledger, plugged-in EVs and committed DR events now.
    start : str or Timestamp
        First interval start (local standard time, on the step grid).
    horizon_h : float [h], default 48
    step : {"15min", "30min", "1h"}, default "15min"
    forecast : path, DataFrame or None
        Forecast table (:mod:`zeropark.operations.forecast`); absent columns keep the scenario's
        own profiles.
    time_limit_s : float [s], optional
        Solver time limit (default the scenario's ``solver.time_limit_s``).
    end_soc : dict of str to float, optional
        Minimum SOC [fraction] per storage unit at the horizon end.
    created_at : str, optional
        Creation time to record (default now, UTC).
    state_ignored : list of str, optional
        Problems of a broken state file that :func:`~zeropark.operations.state.salvage_state`
        worked around (one line per ignored field). When given, the optimisation is not trusted:
        the rule-based plan is published, flagged, with these lines as reasons.
    margins : Margins, optional
        Peak guard and DR delivery margin (default: the documented defaults of
        :mod:`zeropark.operations.margins`; ``Margins.off()`` plans at the lines).
    horizon_end : {"state", "reference"}, default "state"
        End-of-horizon storage rule (:data:`HORIZON_END_RULES`): the scenario's end condition
        counted from the state's SOC, or from the scenario's own ``soc_initial``.
    intra_step_peak : {"average", "scenario"}, default "scenario"
        Billing of steps coarser than 15 min (see
        :data:`~zeropark.operations.horizon.INTRA_STEP_PEAK_RULES`).

    Returns
    -------
    Schedule
        Optimised, or the rule-based fallback with ``doc["metadata"]["fallback"] = True`` and the
        reasons.

    Raises
    ------
    ScenarioError
        Invalid start, horizon, step, or a state that does not match the scenario.
    """
    t0 = timer.perf_counter()
    if horizon_end not in HORIZON_END_RULES:
        raise ScenarioError("--horizon-end", horizon_end, f"one of {list(HORIZON_END_RULES)}")
    end_kwh = reference_end_kwh(sc) if horizon_end == "reference" else None
    units = [u.name for u in sc.storage]
    for name, soc in (end_soc or {}).items():
        if name not in units or not 0.0 <= soc <= 1.0:
            raise ScenarioError(f"end_soc.{name}", soc, f"a fraction 0..1 for a unit in {units}")
    created_at = created_at or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    hz = build_horizon(sc, state, start=start, horizon_h=horizon_h, step=step,
                       forecast=forecast, time_limit_s=time_limit_s,
                       intra_step_peak=intra_step_peak)
    t1 = timer.perf_counter()
    timings = {"inputs_s": t1 - t0}
    reasons: list[str] = []
    result: Result | None = None
    split: dict[str, np.ndarray] = {}
    margin_info: dict[str, Any] = {}
    status = "not_solved"
    prof = hz.prof
    if state_ignored:
        reasons += [f"state ignored: {line}" for line in state_ignored]
        if hz.forecast_error is not None:
            prof = hz.base
    elif hz.forecast_error is not None:
        reasons.append(f"forecast rejected: {hz.forecast_error}")
        prof = hz.base
    else:
        try:
            result, split = optimise(hz, end_soc=end_soc, margins=margins, info=margin_info,
                                     end_kwh=end_kwh)
            status = str(result.status)
            if not result.ok:
                reasons.append(f"solver {result.status}: {result.explanation}")
        except Exception as err:  # noqa: BLE001 - always a plan: any failure means fallback
            status = "error"
            reasons.append(f"optimisation failed: {type(err).__name__}: {err}")
    timings["optimise_s"] = timer.perf_counter() - t1
    common: dict[str, Any] = {"state": state, "created_at": created_at, "timings": timings}
    if result is not None and result.ok:
        try:
            sched = assemble(hz, prof, plan_from_result(result), status=status, fallback=False,
                             reasons=[], warnings=list(hz.warnings), result=result,
                             lp_sessions=split, margins=margin_info, **common)
            sched.doc["metadata"]["horizon_end"] = horizon_end
            check_schedule(sched.doc)
            timings["total_s"] = timer.perf_counter() - t0
            sched.doc["metadata"]["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
            return sched
        except Exception as err:  # noqa: BLE001 - a plan that fails its checks is not published
            reasons.append(f"optimised schedule failed its checks: {type(err).__name__}: {err}")
    plan = fallback_plan(hz.sc, prof)
    sched = assemble(hz, prof, plan, status=status, fallback=True, reasons=reasons,
                     warnings=list(hz.warnings), result=result, **common)
    sched.doc["metadata"]["horizon_end"] = horizon_end
    check_schedule(sched.doc)
    timings["total_s"] = timer.perf_counter() - t0
    sched.doc["metadata"]["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
    return sched
