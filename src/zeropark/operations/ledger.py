"""Closing the loop: roll metered actuals into the state for the next night, report drift.

``update_state(state, actuals, plan)`` adds the actual intervals to the year-to-date ledger
(consumption, green supply, emissions; certificates and offsets bought), carries the SOC at the
end, the month-to-date peak import (never lower than the peak already billed this month), the
EVs still plugged in with the energy they still want, the DR events still ahead, and each
flexible load's power in the last interval (its ramp limit binds the next plan); and, when
the schedule the day was run on is given, reports how far the actuals drifted from it.

Actuals table (CSV or DataFrame): ``time`` (interval start, local standard time, regular step)
and ``grid_import_kw`` (required); optional ``grid_export_kw``, ``pv_kw``, ``green_direct_kw``,
``ef_kg_per_kwh``, ``soc[<unit>]`` (fraction at the END of the interval),
``ev_pile_kw[<group>/<pile>]`` and ``flex_kw[<load>]``. What is absent is taken from the plan
where it covers the interval (PV, green supply, emission factor, SOC, pile power, flexible-load
power), and said so in the warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.operations.publish import local_time
from zeropark.operations.state import OpsState, ledger_period, state_from_dict
from zeropark.profiles.csvio import parse_number_column, parse_time_column, read_table_csv

_HOUR = pd.Timedelta(hours=1)
_SOC = re.compile(r"^soc\[(.+)\]$")
_PILE = re.compile(r"^ev_pile_kw\[(.+)/(\d+)\]$")
_FLEX = re.compile(r"^flex_kw\[(.+)\]$")
_STO = re.compile(r"^storage_kw\[(.+)\]$")
_PLAIN = ("grid_import_kw", "grid_export_kw", "pv_kw", "green_direct_kw", "ef_kg_per_kwh")


@dataclass(frozen=True)
class Actuals:
    """Metered intervals: start instants, step [h] and one array per column."""

    time: pd.DatetimeIndex
    dt_h: float
    values: dict[str, np.ndarray]
    utc_offset_h: float | None = None  # the offset the timestamps carried (None: none given)

    @property
    def end(self) -> pd.Timestamp:
        return self.time[-1] + pd.Timedelta(hours=self.dt_h)


@dataclass(frozen=True)
class LedgerUpdate:
    """The rolled-forward state, the drift from the plan and what to tell the operator."""

    state: OpsState
    drift: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


#: Largest metered power accepted [kW] (as the CSV readers' power limit).
_MAX_METERED_KW = 1e9


def read_actuals(src: str | Path | pd.DataFrame, *, field: str = "actuals") -> Actuals:
    """Read and check an actuals table (see the module docstring).

    Raises
    ------
    ScenarioError
        Unreadable file, unknown column, bad timestamps or step, NaN or negative values.
    """
    if isinstance(src, pd.DataFrame):
        df = src.reset_index() if "time" not in src.columns else src.reset_index(drop=True)
    else:
        df = read_table_csv(src, field=field, required=["time", "grid_import_kw"])
    if "grid_import_kw" not in df.columns:
        raise ScenarioError(field, list(df.columns), "a 'grid_import_kw' column")
    df, offset_h = _strip_offset(df, f"{field}.time")
    stamps = parse_time_column(df["time"], field=f"{field}.time", column="time")
    time = pd.DatetimeIndex(stamps)
    if len(time) < 2:  # the step is read from consecutive timestamps: never guessed
        raise ScenarioError(f"{field}.time", f"{len(time)} row", "at least two rows (the step, "
                            "15 min, 30 min or 1 h, is read from consecutive timestamps)")
    steps_h = np.diff(time.values).astype("timedelta64[s]").astype(float) / 3600.0
    dt = float(steps_h[0])
    if len(steps_h) and (np.abs(steps_h - dt) > 1e-9).any() or dt not in (0.25, 0.5, 1.0):
        raise ScenarioError(f"{field}.time", f"steps {sorted(set(steps_h.round(4)))} h",
                            "a regular step of 15 min, 30 min or 1 h, increasing")
    values: dict[str, np.ndarray] = {}
    for col in df.columns:
        if col == "time":
            continue
        if not (col in _PLAIN or _SOC.match(col) or _PILE.match(col) or _FLEX.match(col)
                or _STO.match(col)):
            raise ScenarioError(f"{field}.{col}", col, f"one of {list(_PLAIN)}, soc[<unit>], "
                                "storage_kw[<unit>], ev_pile_kw[<group>/<pile>], "
                                "flex_kw[<load>]")
        values[col] = parse_number_column(df[col], field=f"{field}.{col}", column=col,
                                          allow_negative=bool(_STO.match(col)),
                                          stamps=stamps).astype(float)
        too_big = np.flatnonzero(np.abs(values[col]) > _MAX_METERED_KW)
        if too_big.size:  # a unit or typing error, which the ledger would carry for a year
            i = int(too_big[0])
            raise ScenarioError(f"{field}.{col}", f"{values[col][i]:g} in row {i + 1} "
                                f"({time[i]})", f"at most {_MAX_METERED_KW:g} kW")
        if _SOC.match(col) and (values[col] > 1).any():
            raise ScenarioError(f"{field}.{col}", float(values[col].max()), "a fraction 0..1")
    return Actuals(time, dt, values, offset_h)


_OFFSET = re.compile(r"^(.*\d)([+-])(\d{2}):(\d{2})$")


def _match(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    """The match of a column name the caller already selected with ``pattern``."""
    m = pattern.match(text)
    if m is None:
        raise ValueError(f"{text!r} does not match {pattern.pattern}")
    return m


def _strip_offset(df: pd.DataFrame, field: str) -> tuple[pd.DataFrame, float | None]:
    """Timestamps written as the schedule writes them (``…T00:00:00+08:00``): one offset for
    every row, taken off (the wall time is local standard time) and returned [h]."""
    col = df["time"]
    if not len(col) or not all(isinstance(v, str) for v in col):
        return df, None
    found = [_OFFSET.match(v.strip()) for v in col]
    if not any(found):
        return df, None
    offsets = {(m.group(2), m.group(3), m.group(4)) if m else None for m in found}
    if len(offsets) != 1 or None in offsets:
        raise ScenarioError(field, sorted(str(o) for o in offsets),
                            "one UTC offset for every row (or none): local standard time")
    pick = offsets.pop()
    assert pick is not None  # checked above
    sign, hh, mm = pick
    offset_h = (1 if sign == "+" else -1) * (int(hh) + int(mm) / 60)
    out = df.copy()
    out["time"] = [m.group(1) for m in found if m is not None]
    return out, offset_h


@dataclass(frozen=True)
class _PlanView:
    """A schedule document as arrays, averaged onto the actual rows it fully covers.

    ``weight[r, j]`` is the share of actual row ``rows[r]`` that plan interval ``j`` covers, so
    ``weight @ x`` is the plan's mean power over each row (actuals may be coarser or finer than
    the plan, by whole multiples).
    """

    rows: np.ndarray  # actual row positions the plan covers
    weight: np.ndarray  # (len(rows), plan intervals)
    end_idx: int | None  # plan interval ending where the last covered row ends, if any
    doc: dict[str, Any]

    def series(self, key: str) -> np.ndarray:
        return self.weight @ np.array([iv[key] for iv in self.doc["intervals"]], float)

    def soc_end(self, unit: str) -> float | None:
        if self.end_idx is None:
            return None
        return float(self.doc["intervals"][self.end_idx]["storage"][unit]["soc"])

    def flex_end(self, load: str) -> float | None:
        """Planned power of ``load`` in the last covered interval [kW]."""
        if self.end_idx is None:
            return None
        return self.doc["intervals"][self.end_idx].get("flex_kw", {}).get(load)

    def piles(self, group: str) -> np.ndarray:
        arr = np.array([iv["ev_piles_kw"][group] for iv in self.doc["intervals"]], float)
        return self.weight @ arr.reshape(len(self.doc["intervals"]), -1)


def _plan_view(doc: dict[str, Any] | None, act: Actuals, warnings: list[str]) -> _PlanView | None:
    if doc is None:
        return None
    meta = doc["metadata"]
    dt_p, T = meta["step_h"], meta["n_intervals"]
    start = local_time(meta["start"])
    t0 = np.asarray((act.time - start) / _HOUR, float)  # row starts [h from plan start]
    edges = np.arange(T + 1) * dt_p
    lo = np.maximum(t0[:, None], edges[None, :-1])
    hi = np.minimum(t0[:, None] + act.dt_h, edges[None, 1:])
    weight = np.clip(hi - lo, 0.0, None) / act.dt_h
    covered = np.abs(weight.sum(axis=1) - 1.0) < 1e-9
    if not covered.any():
        warnings.append("the plan does not cover the actuals: plan values not used")
        return None
    if not covered.all():
        warnings.append(f"{int((~covered).sum())} actual interval(s) outside the plan")
    rows = np.flatnonzero(covered)
    end_h = t0[rows[-1]] + act.dt_h
    j = end_h / dt_p - 1
    end_idx = int(round(j)) if abs(j - round(j)) < 1e-9 and 0 <= round(j) < T else None
    return _PlanView(rows, weight[rows], end_idx, doc)


def _column(act: Actuals, key: str, plan: _PlanView | None, plan_key: str | None,
            default: float | None, warnings: list[str]) -> np.ndarray:
    """An actual column, else the plan's values where it covers the rows, else ``default``."""
    if key in act.values:
        return act.values[key]
    out = np.full(len(act.time), np.nan)
    if plan is not None and plan_key is not None:
        out[plan.rows] = plan.series(plan_key)
    missing = np.isnan(out)
    if missing.any():
        if default is None:
            raise ScenarioError(f"actuals.{key}", "missing", f"a '{key}' column, or a schedule "
                                "covering every actual interval")
        out[missing] = default
        warnings.append(f"no '{key}' for {int(missing.sum())} interval(s): {default:g} assumed")
    elif plan is not None and plan_key is not None and np.abs(out).max(initial=0.0) > 0:
        warnings.append(f"'{key}' taken from the plan")
    return out


def _energy(a: np.ndarray, dt: float) -> float:
    return float(np.sum(a)) * dt


def _session_deliveries(doc: dict[str, Any], act: Actuals, plan: _PlanView
                        ) -> tuple[list[dict[str, Any]], np.ndarray, list[str]]:
    """Grid-side energy each plan session received over the actual rows [kWh]: metered pile
    power shared among the sessions on the pile in proportion to their planned power (or their
    plugged-in share of the interval), else the plan's own session power."""
    warnings: list[str] = []
    sessions = doc["ev_sessions"]
    dt = act.dt_h
    meta = doc["metadata"]
    start = local_time(meta["start"])
    T = meta["n_intervals"]
    n = len(sessions)
    planned = np.zeros((n, T))
    plugged = np.zeros((n, T))
    for k, s in enumerate(sessions):  # sessions: bookkeeping, not model building
        f = s["first_interval"]
        planned[k, f:f + len(s["power_kw"])] = s["power_kw"]
        a = (local_time(s["arrival"]) - start) / _HOUR / meta["step_h"]
        b = (local_time(s["departure"]) - start) / _HOUR / meta["step_h"]
        t = np.arange(T)
        plugged[k] = np.clip(np.minimum(b, t + 1) - np.maximum(a, t), 0.0, 1.0)
    planned_rows = planned @ plan.weight.T  # (sessions, covered rows) mean kW
    plugged_rows = plugged @ plan.weight.T
    delivered = planned_rows.sum(axis=1) * dt
    metered = [c for c in act.values if _PILE.match(c)]
    if metered:
        key = np.array([f"{s['group']}/{s['pile']}" for s in sessions], dtype=object)
        delivered = np.zeros(n)
        lost = 0.0
        for col in metered:
            group, pile = _match(_PILE, col).groups()
            mine = np.flatnonzero(key == f"{group}/{pile}")
            kw = act.values[col][plan.rows]
            if not len(mine):
                lost += _energy(kw, dt)
                continue
            w = planned_rows[mine]
            w = np.where(w.sum(axis=0) > 0, w, plugged_rows[mine])
            total = w.sum(axis=0)
            share = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
            lost += _energy(kw * (total <= 0), dt)
            delivered[mine] += (share * kw).sum(axis=1) * dt
        if lost > 1e-3:
            warnings.append(f"{lost:.3f} kWh metered on piles without a planned EV")
        missing = {f"{s['group']}/{s['pile']}" for s in sessions} - {
            "/".join(_match(_PILE, c).groups()) for c in metered}
        if missing:
            warnings.append(f"{len(missing)} pile(s) with planned EVs are not metered: counted "
                            "as delivering nothing")
    return sessions, delivered, warnings


def update_state(state: OpsState, actuals: Actuals, plan: dict[str, Any] | None = None, *,
                 certificates_mwh: float = 0.0, offsets_t: float = 0.0) -> LedgerUpdate:
    """Roll metered actuals into the state (see the module docstring).

    Parameters
    ----------
    state : OpsState
        The state the plan was made from.
    actuals : Actuals
        Metered intervals (:func:`read_actuals`).
    plan : dict, optional
        The schedule document the day ran on (for EV sessions, the values actuals lack, and the
        drift report).
    certificates_mwh, offsets_t : float
        Green certificates [MWh] and CCER offsets [t] bought since the last update.

    Returns
    -------
    LedgerUpdate
    """
    warnings: list[str] = []
    act = actuals
    lg = state.ledger
    if lg.through is not None:
        keep = act.time >= pd.Timestamp(lg.through)
        if not keep.all():
            warnings.append(f"{int((~keep).sum())} interval(s) before {lg.through} are already in "
                            "the ledger: skipped")
            if not keep.any():
                return LedgerUpdate(state, None, warnings)
            act = Actuals(act.time[keep], act.dt_h, {k: v[keep] for k, v in act.values.items()},
                          act.utc_offset_h)
        if act.time[0] > pd.Timestamp(lg.through):
            warnings.append(f"gap: the ledger ends {lg.through}, the actuals start {act.time[0]}")
    dt = act.dt_h
    planned_offset = (plan or {}).get("metadata", {}).get("utc_offset_h")
    if (act.utc_offset_h is not None and planned_offset is not None
            and abs(act.utc_offset_h - planned_offset) > 1e-9):
        raise ScenarioError("actuals.time", f"UTC offset {act.utc_offset_h:+g} h",
                            f"the schedule's offset {planned_offset:+g} h (local standard time)")
    pv_ = _plan_view(plan, act, warnings)
    imp = act.values["grid_import_kw"]
    exp = _column(act, "grid_export_kw", pv_, "grid_export_kw", 0.0, warnings)
    pv = _column(act, "pv_kw", pv_, "pv_kw", 0.0, warnings)
    gd = _column(act, "green_direct_kw", pv_, "green_direct_kw", 0.0, warnings)
    ef = _column(act, "ef_kg_per_kwh", pv_, "ef_kg_per_kwh", None, warnings)
    data = state.model_dump(mode="json")
    ledger = data["ledger"]
    if lg.through is None and lg.period_start is None:
        ledger["period_start"] = act.time[0].isoformat()
        ledger["period_end"] = pd.Timestamp(year=act.time[0].year + 1, month=1, day=1).isoformat()
    p_start, p_end = ledger_period(state_from_dict(data), act.time[0])
    later = np.asarray(act.time >= p_end)
    totals = ("consumption_kwh", "green_kwh", "import_kwh", "export_kwh", "emissions_kg")

    def add(mask: np.ndarray) -> None:
        ledger["consumption_kwh"] = max(ledger["consumption_kwh"] + _energy(
            (pv + gd + imp - exp)[mask], dt), 0.0)
        ledger["green_kwh"] += _energy((pv + gd - exp)[mask], dt)
        ledger["import_kwh"] += _energy(imp[mask], dt)
        ledger["export_kwh"] += _energy(exp[mask], dt)
        ledger["emissions_kg"] += _energy((ef * imp)[mask], dt)

    add(~later)
    if later.any():
        warnings.append(f"the ledger period ended {p_end}: a new period starts")
        ledger.update({k: 0.0 for k in (*totals, "certificates_mwh", "offsets_t")})
        ledger["period_start"] = p_end.isoformat()
        ledger["period_end"] = (p_end + pd.DateOffset(years=1)).isoformat()
        add(later)
    ledger["certificates_mwh"] += certificates_mwh
    ledger["offsets_t"] += offsets_t
    ledger["through"] = act.end.isoformat()
    data["as_of"] = act.end.isoformat()
    # month-to-date peak: the month of the last interval
    months = act.time.strftime("%Y-%m")
    last = months[-1]
    peak = float(imp[np.asarray(months == last)].max())
    mtd = state.month_to_date
    if mtd is not None and mtd.month == last:
        peak = max(peak, mtd.peak_import_kw)
    data["month_to_date"] = {"month": last, "peak_import_kw": peak}
    for unit in list(data["storage"]) + [
            u["name"] for u in (plan or {}).get("assets", {}).get("storage", [])
            if u["name"] not in data["storage"]]:
        col = f"soc[{unit}]"
        if col in act.values:
            data["storage"][unit] = {"soc": float(act.values[col][-1])}
        elif (pv_ is not None and pv_.rows[-1] == len(act.time) - 1
              and pv_.soc_end(unit) is not None):
            data["storage"][unit] = {"soc": pv_.soc_end(unit)}
            warnings.append(f"SOC of {unit!r} taken from the plan")
        else:
            warnings.append(f"no SOC for {unit!r} at {act.end}: kept from the state")
        if unit in data["storage"]:  # last power: metered, else the plan's, else unknown
            power = _storage_power(unit, act, pv_)
            data["storage"][unit]["power_kw"] = power
            if power is None and state.storage.get(unit, None) is not None and \
                    state.storage[unit].power_kw is not None:
                warnings.append(f"no power for storage {unit!r} at {act.end}: unknown (its next "
                                "first step is not ramp-limited)")
    data["ev_plugged"], ev_warn = _plugged(state, act, plan, pv_)
    warnings += ev_warn
    data["dr_committed"] = _dr_ahead(state, act, plan)
    data["flex_power_kw"], flex_warn = _flex_power(state, act, plan, pv_)
    warnings += flex_warn
    new = state_from_dict(data)
    drift = _drift(act, pv_, imp, exp, ef) if pv_ is not None else None
    return LedgerUpdate(new, drift, warnings)


def _plugged(state: OpsState, act: Actuals, plan: dict[str, Any] | None,
             pv_: _PlanView | None) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """EVs still plugged in at the end of the actuals, with the energy they still want."""
    end = act.end
    if plan is not None and pv_ is not None:
        sessions, delivered, warnings = _session_deliveries(plan, act, pv_)
        eff = {g["name"]: g["efficiency"] for g in plan["assets"]["ev_groups"]}
        out = []
        for s, kwh in zip(sessions, delivered, strict=True):
            if local_time(s["arrival"]) < end < local_time(s["departure"]):
                out.append({"group": s["group"], "pile": s["pile"], "id": s["id"],
                            "energy_kwh": round(max(s["energy_kwh"] - kwh * eff[s["group"]], 0.0),
                                                6),
                            "departure": local_time(s["departure"]).isoformat(),
                            "max_power_kw": s["max_power_kw"]})
        return out, warnings
    if state.ev_plugged is None:
        return None, ["no plan: EVs plugged in are unknown (ev_plugged left null)"]
    out, warnings = [], ["no plan: EVs that arrived since the state are unknown"]
    for ev in state.ev_plugged:
        if pd.Timestamp(ev.departure) <= end:
            continue
        col = f"ev_pile_kw[{ev.group}/{ev.pile}]"
        item = ev.model_dump(mode="json", exclude_none=True)
        if col in act.values:
            item["energy_kwh"] = max(ev.energy_kwh - _energy(act.values[col], act.dt_h), 0.0)
        out.append(item)
    return out, warnings


def _flex_power(state: OpsState, act: Actuals, plan: dict[str, Any] | None,
                pv_: _PlanView | None) -> tuple[dict[str, float] | None, list[str]]:
    """Each flexible load's power in the last actual interval [kW]: metered (``flex_kw[<load>]``),
    else the plan's setpoint when the plan covers that interval, else unknown (dropped)."""
    names = list(state.flex_power_kw or {}) + [
        f["name"] for f in (plan or {}).get("assets", {}).get("flexible_loads", [])
        if f["name"] not in (state.flex_power_kw or {})]
    names += [_match(_FLEX, c).group(1) for c in act.values
              if _FLEX.match(c) and _match(_FLEX, c).group(1) not in names]
    out: dict[str, float] = {}
    warnings: list[str] = []
    for name in names:
        col = f"flex_kw[{name}]"
        planned = (pv_.flex_end(name) if pv_ is not None and pv_.rows[-1] == len(act.time) - 1
                   else None)
        if col in act.values:
            out[name] = float(act.values[col][-1])
        elif planned is not None:
            out[name] = float(planned)
            warnings.append(f"power of flexible load {name!r} taken from the plan")
        else:
            warnings.append(f"no power for flexible load {name!r} at {act.end}: unknown (its "
                            "next first step is not ramp-limited)")
    return out or None, warnings


def _storage_power(unit: str, act: Actuals, pv_: _PlanView | None) -> float | None:
    """A storage unit's net power in the last actual interval [kW, + discharge]: metered
    (``storage_kw[<unit>]``), else the plan's setpoint when the plan covers that interval."""
    col = f"storage_kw[{unit}]"
    if col in act.values:
        return float(act.values[col][-1])
    if pv_ is not None and pv_.end_idx is not None and pv_.rows[-1] == len(act.time) - 1:
        return float(pv_.doc["intervals"][pv_.end_idx]["storage"][unit]["power_kw"])
    return None


def _dr_ahead(state: OpsState, act: Actuals, plan: dict[str, Any] | None) -> list[dict]:
    """Committed DR events that end after the actuals, plus the ones the plan accepted."""
    end = act.end

    def ends(date: str, hhmm: str) -> pd.Timestamp:
        return pd.Timestamp(f"{date} {hhmm}")

    out = [e.model_dump(mode="json", exclude_none=True) for e in state.dr_committed
           if ends(e.date, e.end) > end]
    names = {e["name"] for e in out}
    for e in (plan or {}).get("assets", {}).get("dr_events", []):
        if not e["accepted"] or e["name"] in names or not e.get("date") or not e.get("window"):
            continue
        start_hm, end_hm = e["window"].split("-")
        if ends(e["date"], end_hm) > end:
            out.append({"name": e["name"], "date": e["date"], "start": start_hm, "end": end_hm,
                        "baseline_kw": e["baseline_kw"], "reduction_kw": e["reduction_kw"],
                        "payment_per_kw": e["payment_per_kw"],
                        "penalty_per_kwh": e["penalty_per_kwh"], "committed": True})
    for e in out:
        e["committed"] = True
    return out


def _drift(act: Actuals, pv_: _PlanView, imp: np.ndarray, exp: np.ndarray,
           ef: np.ndarray) -> dict[str, Any]:
    """Actual minus planned over the intervals the plan covers."""
    rows, dt = pv_.rows, act.dt_h

    def compare(actual: np.ndarray, planned: np.ndarray) -> dict[str, float]:
        a_kwh, p_kwh = _energy(actual, dt), _energy(planned, dt)
        diff = actual - planned
        return {"planned_kwh": p_kwh, "actual_kwh": a_kwh, "drift_kwh": a_kwh - p_kwh,
                "drift_pct": 100.0 * (a_kwh - p_kwh) / p_kwh if p_kwh > 1e-9 else 0.0,
                "mae_kw": float(np.abs(diff).mean()), "max_abs_kw": float(np.abs(diff).max())}

    p_imp = pv_.series("grid_import_kw")
    out: dict[str, Any] = {
        "intervals": len(rows), "from": act.time[rows[0]].isoformat(),
        "to": (act.time[rows[-1]] + pd.Timedelta(hours=dt)).isoformat(),
        "grid_import": compare(imp[rows], p_imp),
        "grid_export": compare(exp[rows], pv_.series("grid_export_kw")),
        "peak_import_kw": {"planned": float(p_imp.max()), "actual": float(imp[rows].max())},
        "emissions_kg": {"planned": _energy(pv_.series("emissions_kg"),
                                            dt / pv_.doc["metadata"]["step_h"]),
                         "actual": _energy(ef[rows] * imp[rows], dt)},
        "soc_end": {},
        "dr_delivery": _dr_delivery(act, pv_, imp, exp),
    }
    for u in pv_.doc["assets"]["storage"]:
        col = f"soc[{u['name']}]"
        planned = pv_.soc_end(u["name"])
        if col in act.values and planned is not None:
            actual = float(act.values[col][rows[-1]])
            out["soc_end"][u["name"]] = {"planned": planned, "actual": actual,
                                         "drift": actual - planned}
    out["dr_delivery"] = _dr_delivery(act, pv_, imp, exp)
    metered = [c for c in act.values if _PILE.match(c)]
    if metered:
        planned = sum(float(pv_.piles(g["name"]).sum()) for g in pv_.doc["assets"]["ev_groups"])
        out["ev_energy"] = {"planned_kwh": planned * dt,
                            "actual_kwh": sum(_energy(act.values[c][rows], dt) for c in metered)}
    return out


def _dr_delivery(act: Actuals, pv_: _PlanView, imp: np.ndarray, exp: np.ndarray
                 ) -> list[dict[str, Any]]:
    """Delivery of each accepted DR event of the plan against the metered net import.

    Settlement as in the model: delivered energy = Σ (baseline − (import − export)) Δt over the
    event window, shortfall = max(0, reduction × window hours − delivered) [kWh]. An event whose
    window the actuals cover only in part is reported over that part (``complete: false``).

    The shortfall is split into what the plan chose and what execution added: the plan's own
    delivery ``planned_delivered_kwh`` = Σ (baseline − planned net import) Δt over the same
    intervals, ``planned_shortfall_kwh`` = max(0, requested − planned delivered) (a plan may
    deliver less than requested when the penalty costs less than the rest), and
    ``suffered_shortfall_kwh`` = max(0, min(requested, planned delivered) − delivered), the
    committed energy the plan meant to deliver and that did not come (forecast error).
    """
    out: list[dict[str, Any]] = []
    dt = act.dt_h
    net = imp - exp
    planned_net = np.full(len(act.time), np.nan)
    planned_net[pv_.rows] = pv_.series("grid_import_kw") - pv_.series("grid_export_kw")
    for e in pv_.doc["assets"]["dr_events"]:
        if not e["accepted"]:
            continue
        w0, w1 = local_time(e["start"]), local_time(e["end"])
        inside = np.asarray((act.time >= w0) & (act.time + pd.Timedelta(hours=dt) <= w1))
        if not inside.any():
            continue
        hours_seen = float(inside.sum()) * dt
        hours = (w1 - w0) / _HOUR
        requested = float(e["reduction_kw"]) * hours_seen
        delivered = float((e["baseline_kw"] - net[inside]).sum()) * dt
        planned = float((e["baseline_kw"] - planned_net[inside]).sum()) * dt  # NaN: not covered
        out.append({
            "event": e["name"], "committed": bool(e["committed"]),
            "complete": abs(hours_seen - hours) < 1e-9,
            "import_cap_kw": float(e["import_cap_kw"]),
            "actual_mean_net_import_kw": float(net[inside].mean()),
            "requested_kwh": requested, "delivered_kwh": delivered,
            "shortfall_kwh": max(0.0, requested - delivered),
            "planned_delivered_kwh": planned if np.isfinite(planned) else None,
            "planned_shortfall_kwh": (max(0.0, requested - planned) if np.isfinite(planned)
                                      else None),
            "suffered_shortfall_kwh": (max(0.0, min(requested, planned) - delivered)
                                       if np.isfinite(planned)
                                       else max(0.0, requested - delivered)),
            "intervals_above_cap": int((net[inside] > e["import_cap_kw"] + 1e-6).sum()),
            "delivered": delivered >= requested - 1e-6,
        })
    return out


def drift_lines(drift: dict[str, Any] | None, plan_given: bool = False) -> list[str]:
    """A readable drift table; without one, why (no plan, or no new interval the plan covers)."""
    if drift is None and plan_given:
        return ["drift: nothing to compare (no new interval covered by the plan; see the warnings)"]
    if drift is None:
        return ["drift: no plan given (use --schedule)"]
    rows = [("intervals", f"{drift['intervals']} from {drift['from']} to {drift['to']}")]
    for key in ("grid_import", "grid_export", "ev_energy"):
        if key in drift:
            d = drift[key]
            extra = (f" ({d['drift_kwh']:+,.1f} kWh, {d['drift_pct']:+.1f} %, MAE "
                     f"{d['mae_kw']:,.1f} kW)" if "drift_kwh" in d else "")
            rows.append((key.replace("_", " "), f"plan {d['planned_kwh']:,.1f} kWh, actual "
                                                 f"{d['actual_kwh']:,.1f} kWh{extra}"))
    pk = drift["peak_import_kw"]
    rows.append(("peak import", f"plan {pk['planned']:,.1f} kW, actual {pk['actual']:,.1f} kW"))
    em = drift["emissions_kg"]
    rows.append(("emissions", f"plan {em['planned']:,.1f} kg, actual {em['actual']:,.1f} kg"))
    for unit, s in drift["soc_end"].items():
        rows.append((f"SOC {unit} at end", f"plan {s['planned']:.3f}, actual {s['actual']:.3f}"))
    for e in drift.get("dr_delivery", []):
        verdict = ("delivered" if e["delivered"] else
                   f"SHORT {e['shortfall_kwh']:,.1f} kWh")
        rows.append((f"DR {e['event']}", f"{verdict}: {e['delivered_kwh']:,.1f} of "
                     f"{e['requested_kwh']:,.1f} kWh, mean net import "
                     f"{e['actual_mean_net_import_kw']:,.1f} kW (cap {e['import_cap_kw']:,.1f} kW"
                     f", {e['intervals_above_cap']} interval(s) above)"
                     + ("" if e["complete"] else ", window not complete")))
    width = max(len(r[0]) for r in rows)
    return [f"{name:<{width}}  {val}" for name, val in rows]
