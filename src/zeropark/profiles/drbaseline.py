"""Demand-response events on the time index, with baselines computed from data.

A DR event is settled against a *baseline*: the net grid import the park would have had in the
event window without responding. The baseline is always data — a fixed value the user gives
(``baseline_kw``, e.g. as announced by the grid company), or computed here by the rule of
``demand_response.baseline`` — and never a decision variable of the solve that settles the event,
so the optimiser cannot inflate it.

Rule (labelled default; provincial programmes use "the average load of the same hours on the
previous several similar days", the number of days and the day types vary — check the province's
current rule):

1. Candidate days are the calendar days strictly before the event day, at most
   ``lookback_days`` before it, of the same kind as the event day (working day, or rest day =
   weekend or public holiday, by the mainland-China calendar with its make-up working days 调休,
   :func:`zeropark.profiles.load.rest_days`), that hold no DR event of the scenario, and for which
   the data cover every step of the event's clock window.
2. The ``days`` most recent candidates are taken; the baseline of each step of the window is the
   mean net grid import at the same clock time on those days.
3. Data: the metered net import of ``demand_response.baseline.history`` when given (only its
   days are used); otherwise the scenario's own net import *without any action*
   (:func:`no_action_net_import_kw`) on the days of the horizon before the event.
4. Fallback when history is short: fewer candidates than ``days`` — the mean over those found;
   none — the event day's own net import without any action over the window (what the park
   would import that day if it did nothing). The KPIs show which applied (``baseline_source``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.profiles import csvio
from zeropark.profiles.base import DrEventProfile, Profiles
from zeropark.profiles.load import rest_days
from zeropark.scenario import Scenario

MAX_NET_KW = 1e9  # larger magnitudes are unit or typing errors (cf. csvio.MAX_MAGNITUDE)


def no_action_net_import_kw(sc: Scenario, prof: Profiles) -> np.ndarray:
    r"""Net grid import of the park if it takes no action at all [kW], per step.

    "No action" means:

    - the inflexible load as profiled;
    - each flexible load at its reference: its mean power ``energy_per_window_kwh / window_h``,
      clipped to ``[min_power_kw, max_power_kw]``, in every step;
    - each EV pile group charging uncontrolled: every session at full pile power from plug-in
      until its energy is delivered (the early edge of the group's energy envelope, grid side),
      no V2G;
    - storage idle;
    - all available PV used (AC-bus side, after any DC/DC converter) and direct green supply at
      its contract profile;

    and the result limited by the grid connection:

    .. math:: n_t = \min(\max(L_t + F + E_t - PV_t - G_t,\ -X),\ I)

    with ``X`` the export limit (surplus beyond it is curtailed) and ``I`` the import limit.
    """
    from zeropark.model.data import pv_bus_efficiency

    T, dt = prof.n_steps, prof.dt_h
    demand = np.asarray(prof.load_kw, float).copy()
    for f in sc.flexible_loads:
        ref = f.energy_per_window_kwh / f.window_h
        demand += min(max(ref, f.min_power_kw), f.max_power_kw)
    for g in sc.ev.groups:
        if g.name in prof.ev:
            demand += np.diff(prof.ev[g.name].e_hi_kwh, prepend=0.0) / dt
    supply = np.zeros(T)
    if len(sc.pv):
        supply += (pv_bus_efficiency(sc)[:, None] * prof.pv_avail_kw).sum(axis=0)
    if prof.green_direct_kw is not None and sc.green_power.direct is not None:
        supply += prof.green_direct_kw
    return np.clip(demand - supply, -sc.grid.export_limit_kw, sc.grid.import_limit_kw)


def read_history_kw(sc: Scenario, dt_h: float) -> pd.Series:
    """The metered net grid import of ``demand_response.baseline.history`` at the run's step.

    Finer data are averaged over each step (a step counts only if fully covered); coarser data
    hold for every step inside their interval.

    Returns
    -------
    pandas.Series
        kW indexed by step start (local standard time); may be negative (export).

    Raises
    ------
    ScenarioError
        Unreadable file, bad timestamps or values, a step that neither divides nor is a multiple
        of the run's step, magnitudes above 1e9 kW.
    """
    pf = sc.demand_response.baseline.history
    assert pf is not None  # called only for a baseline with a history file
    field = "demand_response.baseline.history.path"
    path = sc.resolve_path(pf.path, field)
    df = csvio.read_table_csv(path, field=field, required=["time"])
    values = [c for c in df.columns if c != "time"]
    column = pf.column
    if column is None:
        if len(values) != 1:
            raise ScenarioError(field, f"value columns {values}",
                                "exactly one value column besides 'time', or a 'column'")
        column = values[0]
    elif column not in values:
        raise ScenarioError(f"{field}", f"column {column!r}", f"one of the columns {values}")
    stamps = csvio.parse_time_column(df["time"], field=field, column="time")
    kw = csvio.parse_number_column(df[column], field=field, column=column, stamps=stamps)
    order = np.diff(stamps.to_numpy().astype("datetime64[ns]").astype(np.int64))
    if (order <= 0).any():
        i = int(np.flatnonzero(order <= 0)[0]) + 1
        raise ScenarioError(field, f"row {i + 1} ({stamps.iloc[i]})",
                            "strictly increasing timestamps")
    big = np.flatnonzero(np.abs(kw) > MAX_NET_KW)
    if big.size:
        raise ScenarioError(field, f"{kw[big[0]]:g} in row {big[0] + 1}",
                            f"net import of magnitude at most {MAX_NET_KW:g} kW")
    s = pd.Series(kw, index=pd.DatetimeIndex(stamps))
    dt = pd.Timedelta(hours=dt_h)
    step = pd.Series(s.index).diff().min() if len(s) > 1 else dt
    if step == dt:
        return s
    if step < dt:
        per = dt / step
        if abs(per - round(per)) > 1e-9:
            raise ScenarioError(field, f"CSV step {step}", f"a step that divides {dt}")
        grouped = s.groupby(s.index.floor(dt))
        full = grouped.count() == round(per)
        return grouped.mean()[full]
    per = step / dt
    if abs(per - round(per)) > 1e-9:
        raise ScenarioError(field, f"CSV step {step}", f"a multiple of {dt}")
    k = round(per)
    idx = (s.index.repeat(k) + np.tile(np.arange(k), len(s)) * dt)
    return pd.Series(np.repeat(s.to_numpy(), k), index=idx)


def _event_mask(sc: Scenario, i: int, time: pd.DatetimeIndex) -> tuple[np.ndarray, pd.Timestamp]:
    e = sc.demand_response.events[i]
    f = f"demand_response.events.{i}"
    try:
        start = pd.Timestamp(f"{e.date} {e.start}")
        end = pd.Timestamp(f"{e.date} {e.end}")
    except ValueError:
        raise ScenarioError(f"{f}.start", f"{e.date} {e.start}-{e.end}",
                            "date YYYY-MM-DD and times HH:MM") from None
    if end <= start:
        raise ScenarioError(f"{f}.end", e.end, f"a time after start {e.start} on the same day")
    return np.asarray((time >= start) & (time < end)), start.normalize()


def similar_day_baseline_kw(day: pd.Timestamp, offsets: pd.TimedeltaIndex, data: pd.Series,
                            *, days: int, lookback_days: int,
                            excluded: set[pd.Timestamp]) -> tuple[np.ndarray | None, list]:
    """Mean of ``data`` at ``day' + offsets`` over the ``days`` most recent similar days ``day'``.

    Parameters
    ----------
    day : Timestamp — the event day (midnight)
    offsets : TimedeltaIndex — clock times of the window's steps after midnight
    data : Series [kW] — net import by step start
    days, lookback_days : int — see :class:`zeropark.scenario.DrBaseline`
    excluded : set of Timestamp — days never used (days of DR events)

    Returns
    -------
    (baseline per step [kW] or None when no similar day has data, the days used)
    """
    candidates = pd.date_range(day - pd.Timedelta(days=lookback_days), day - pd.Timedelta(days=1))
    kind = rest_days(pd.DatetimeIndex([day]))[0]
    same = candidates[rest_days(candidates) == kind][::-1]  # most recent first
    rows, used = [], []
    for d in same:
        if d in excluded:
            continue
        vals = data.reindex(d + offsets).to_numpy()
        if np.isnan(vals).any():
            continue
        rows.append(vals)
        used.append(d)
        if len(rows) == days:
            break
    if not rows:
        return None, []
    return np.mean(rows, axis=0), used


def dr_profiles(sc: Scenario, prof: Profiles) -> list[DrEventProfile]:
    """The scenario's DR events mapped onto the horizon (events outside it are dropped), each
    with its baseline: the event's ``baseline_kw`` when given, else by the rule of the module
    docstring."""
    dr = sc.demand_response
    time = prof.time
    masks = [_event_mask(sc, i, time) for i in range(len(dr.events))]
    if not any(m.any() for m, _ in masks):
        return []
    excluded = {d for _, d in masks}
    own = pd.Series(no_action_net_import_kw(sc, prof), index=time)
    history = read_history_kw(sc, prof.dt_h) if dr.baseline.history is not None else None
    data, label = (own, "scenario net import without action") if history is None else (
        history, "metered history")
    out = []
    for e, (mask, day) in zip(dr.events, masks, strict=True):
        if not mask.any():
            continue
        if e.baseline_kw is not None:
            baseline: float | np.ndarray = float(e.baseline_kw)
            source = "given"
        else:
            offsets = time[mask] - day
            mean, used = similar_day_baseline_kw(
                day, offsets, data, days=dr.baseline.days,
                lookback_days=dr.baseline.lookback_days, excluded=excluded)
            baseline = np.zeros(prof.n_steps)
            if mean is None:
                baseline[mask] = own.to_numpy()[mask]
                source = "event day's own net import without action (no similar day in data)"
            else:
                baseline[mask] = mean
                kind = "rest" if rest_days(pd.DatetimeIndex([day]))[0] else "working"
                source = (f"{label}: mean of {len(used)} previous {kind} day(s) "
                          f"{', '.join(d.strftime('%Y-%m-%d') for d in sorted(used))}")
        out.append(DrEventProfile(
            e.name, mask, baseline, e.reduction_kw, e.payment_per_kw, e.penalty_per_kwh,
            e.committed, dr.settlement.min_response_ratio, dr.settlement.max_response_ratio,
            source))
    return out
