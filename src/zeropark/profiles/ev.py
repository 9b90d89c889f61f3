"""EV charging sessions: synthetic or from CSV, aggregated to group envelopes, and back to piles.

This module owns the session table, its aggregation per pile group into the cumulative-energy
envelope the optimizer uses (``E_lo[t] <= sum(p_ev * dt) <= E_hi[t]``, ``p_ev <= p_max``), and the
disaggregation of a group schedule to per-session / per-pile setpoints (least laxity first).

Session table: a DataFrame with :data:`SESSION_COLUMNS`: ``group`` (str), ``pile`` (int, 0..count-1
in the group), ``arrival``, ``departure`` (tz-naive, local standard time), ``energy_kwh`` (energy
the car wants) and ``max_power_kw`` (the car's maximum), both battery side. Sessions on one pile
never overlap; a pile is free again at departure.

Grid side: a session's power cap is ``p = min(pile power_kw, max_power_kw / efficiency)`` and its
energy ``e = energy_kwh / efficiency``, capped at what ``p`` can deliver from the later of arrival
and horizon start until departure (``requested_kwh`` keeps the uncapped sum). A session that
arrived before the horizon start still needs its whole ``energy_kwh`` (operations pass the
remaining energy); one leaving after the horizon end must by then only have received what cannot
be delivered after it, and can have received at most what fits before the end.
"""

from __future__ import annotations

import heapq
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.profiles.csvio import (
    check_time_index,
    parse_number_column,
    parse_time_column,
    read_table_csv,
)
from zeropark.profiles.load import rest_days
from zeropark.profiles.noise import day_ordinals

__all__ = [
    "SESSION_COLUMNS", "EvEnvelope", "EvGroupSpec", "disaggregate_least_laxity", "ev_envelopes",
    "leaving_kwh", "peak_plugged", "pile_setpoints_kw", "read_sessions_csv", "synthetic_sessions",
    "turn_away", "undeliverable_sessions",
]  # fmt: skip

_log = logging.getLogger(__name__)
_HOUR = pd.Timedelta(hours=1)
_EPS_KWH = 1e-9

#: Columns of a session table, in order.
SESSION_COLUMNS = ("group", "pile", "arrival", "departure", "energy_kwh", "max_power_kw")


@dataclass(frozen=True)
class EvGroupSpec:
    """A group of identical charging piles and the statistics of the cars that use them.

    Attributes
    ----------
    name : str
        Group name, unique in the park.
    count : int
        Number of piles (>= 1).
    power_kw : float [kW]
        Rated power of one pile, grid side (> 0).
    efficiency : float
        Charging efficiency grid → battery, in (0, 1].
    sessions_per_pile_per_day : float
        Mean cars per pile on a working day wanting to charge (Poisson; >= 0); cars finding every
        pile busy are turned away.
    arrival_mean_h, arrival_std_h : float [h]
        Arrival hour of day, mean in [0, 24) and std (>= 0); normal, clipped to the day.
    dwell_mean_h, dwell_std_h : float [h]
        Plugged-in time, mean (> 0) and std (>= 0); normal, at least 15 min.
    energy_mean_kwh, energy_std_kwh : float [kWh]
        Energy wanted, battery side, mean and std (>= 0); normal, at least 0.5 kWh, capped at what
        the pile can deliver during the dwell.
    weekend_factor : float
        Multiplier of ``sessions_per_pile_per_day`` on rest days (weekends not 调休, holidays).
    """

    name: str
    count: int
    power_kw: float
    efficiency: float = 0.95
    sessions_per_pile_per_day: float = 1.0
    arrival_mean_h: float = 8.5
    arrival_std_h: float = 1.0
    dwell_mean_h: float = 8.0
    dwell_std_h: float = 1.5
    energy_mean_kwh: float = 20.0
    energy_std_kwh: float = 8.0
    weekend_factor: float = 0.3

    def check(self, field: str) -> None:
        """Raise :class:`ScenarioError` (field path ``field.<attribute>``) for a bad value."""
        rules: list[tuple[str, bool, str]] = [
            ("name", isinstance(self.name, str) and self.name.strip() != "", "a non-empty name"),
            ("count", isinstance(self.count, int | np.integer) and self.count >= 1,
             "an integer >= 1"),
            ("power_kw", self.power_kw > 0, "> 0 [kW]"),
            ("efficiency", 0 < self.efficiency <= 1, "in (0, 1]"),
            ("sessions_per_pile_per_day", self.sessions_per_pile_per_day >= 0, ">= 0"),
            ("arrival_mean_h", 0 <= self.arrival_mean_h < 24, "in [0, 24) [h]"),
            ("arrival_std_h", self.arrival_std_h >= 0, ">= 0 [h]"),
            ("dwell_mean_h", self.dwell_mean_h > 0, "> 0 [h]"),
            ("dwell_std_h", self.dwell_std_h >= 0, ">= 0 [h]"),
            ("energy_mean_kwh", self.energy_mean_kwh >= 0, ">= 0 [kWh]"),
            ("energy_std_kwh", self.energy_std_kwh >= 0, ">= 0 [kWh]"),
            ("weekend_factor", self.weekend_factor >= 0, ">= 0"),
        ]  # fmt: skip
        for attr, ok, allowed in rules:
            value = getattr(self, attr)
            finite = isinstance(value, str) or bool(np.isfinite(value))
            if not (ok and finite):
                raise ScenarioError(f"{field}.{attr}", value, allowed)


@dataclass(frozen=True, eq=False)
class EvEnvelope:
    """Aggregate charging envelope of one pile group, grid side.

    Attributes
    ----------
    e_lo_kwh : numpy.ndarray [kWh], shape (T,)
        Cumulative energy that must have been delivered by the END of step t (latest charging).
    e_hi_kwh : numpy.ndarray [kWh], shape (T,)
        Cumulative energy that can have been delivered by the END of step t (earliest charging).
    p_max_kw : numpy.ndarray [kW], shape (T,)
        Mean over step t of the summed power caps of the plugged-in sessions.
    requested_kwh : float [kWh]
        Energy the sessions overlapping the horizon ask for, grid side (uncapped).
    n_sessions : int
        Sessions overlapping the horizon.
    deliverable_kwh : float [kWh]
        What the piles can deliver to them within the horizon (``e_hi_kwh[-1]``).
    undeliverable_kwh : float [kWh]
        Energy that sessions leaving within the horizon ask for beyond what their pile and car can
        physically deliver during the whole stay (see :func:`undeliverable_sessions`); it is not
        in the envelope, so it is unmet whatever the dispatch.
    n_undeliverable : int
        Number of those sessions.
    """

    e_lo_kwh: np.ndarray
    e_hi_kwh: np.ndarray
    p_max_kw: np.ndarray
    requested_kwh: float
    n_sessions: int
    deliverable_kwh: float
    undeliverable_kwh: float = 0.0
    n_undeliverable: int = 0


def _specs_by_name(groups: Sequence[EvGroupSpec], field: str) -> dict[str, EvGroupSpec]:
    specs: dict[str, EvGroupSpec] = {}
    for i, spec in enumerate(groups):
        spec.check(f"{field}.groups.{i}")
        if spec.name in specs:
            raise ScenarioError(f"{field}.groups.{i}.name", spec.name, "a name not used before")
        specs[spec.name] = spec
    return specs


def _session_frame(group, pile, arrival, departure, energy_kwh, max_power_kw) -> pd.DataFrame:
    """A session table with the canonical column order and dtypes."""
    values = (group, pile, arrival, departure, energy_kwh, max_power_kw)
    dtypes = (object, np.int64, "datetime64[ns]", "datetime64[ns]", np.float64, np.float64)
    return pd.DataFrame(
        {
            c: pd.Series(np.asarray(v), dtype=t)
            for c, v, t in zip(SESSION_COLUMNS, values, dtypes, strict=True)
        }
    )


def _assign_piles(arrival_min: np.ndarray, departure_min: np.ndarray, count: int) -> np.ndarray:
    """Car-park assignment: each car, in arrival order, takes the pile that has been free longest;
    a car that finds every pile busy is turned away (pile -1). A pile is free again at departure.
    """
    free: list[tuple[int, int]] = [(np.iinfo(np.int64).min, k) for k in range(count)]
    heapq.heapify(free)
    # Sequential by nature (each car sees the piles the cars before it took); loops over cars,
    # not time steps, with O(log count) work each, on Python ints (a NumPy scalar per car would
    # cost more than the heap operation).
    arrival, departure = arrival_min.tolist(), departure_min.tolist()
    pile = [-1] * len(arrival)
    for k in np.argsort(arrival_min, kind="stable").tolist():
        free_at, which = free[0]
        if free_at <= arrival[k]:
            heapq.heapreplace(free, (departure[k], which))
            pile[k] = which
    return np.array(pile, dtype=np.int64)


def peak_plugged(sessions: pd.DataFrame, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> int:
    """Largest number of sessions plugged in at the same time (within ``[start, end)`` if given).

    A session occupies ``[arrival, departure)``: a car leaving at the minute another arrives frees
    its pile for it. O(n log n) over the sessions.
    """
    a = sessions["arrival"].to_numpy("datetime64[ns]").astype(np.int64)
    d = sessions["departure"].to_numpy("datetime64[ns]").astype(np.int64)
    if start is not None:
        a = np.maximum(a, pd.Timestamp(start).value)
    if end is not None:
        d = np.minimum(d, pd.Timestamp(end).value)
    keep = d > a
    if not keep.any():
        return 0
    times = np.concatenate([a[keep], d[keep]])
    step = np.concatenate([np.ones(int(keep.sum()), np.int64), -np.ones(int(keep.sum()), np.int64)])
    order = np.lexsort((step, times))  # at equal times departures (−1) before arrivals
    return int(np.cumsum(step[order]).max())


def turn_away(sessions: pd.DataFrame, count: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First come, first served on ``count`` piles: each car, in arrival order, takes the pile
    free longest; a car that finds every pile busy is turned away. A pile is free again at
    departure.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Sessions of ONE group (:data:`SESSION_COLUMNS`).
    count : int
        Piles available (>= 0).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The sessions served, with ``pile`` renumbered to 0..count-1 (original row index kept), and
        the sessions turned away.
    """
    a = sessions["arrival"].to_numpy("datetime64[ns]").astype(np.int64)
    d = sessions["departure"].to_numpy("datetime64[ns]").astype(np.int64)
    pile = _assign_piles(a, d, int(count)) if count > 0 else np.full(len(a), -1, np.int64)
    served = sessions[pile >= 0].copy()
    served["pile"] = pile[pile >= 0]
    return served, sessions[pile < 0].copy()


def leaving_kwh(sessions: pd.DataFrame, time: pd.DatetimeIndex, dt_h: float,
                spec: EvGroupSpec) -> tuple[float, int]:
    """Grid-side energy asked (``energy_kwh / efficiency``) and number of the sessions that leave
    within the horizon (departure in ``(start, end]``), e.g. to count turned-away cars once over
    consecutive windows."""
    if not len(sessions) or not len(time):
        return 0.0, 0
    end = time[-1] + pd.Timedelta(hours=float(dt_h))
    dep = sessions["departure"]
    inside = ((dep > time[0]) & (dep <= end)).to_numpy()
    kwh = float(sessions["energy_kwh"].to_numpy(np.float64)[inside].sum()) / spec.efficiency
    return kwh, int(inside.sum())


def _group_cars(spec: EvGroupSpec, days: pd.DatetimeIndex, seed: int) -> tuple[np.ndarray, ...]:
    """Cars wanting to charge at one group, one RNG stream per (seed, group, day): arrival and
    departure [min since 1970], energy [kWh] and car max power [kW], battery side."""
    rest = rest_days(days)
    name_key = zlib.crc32(spec.name.encode("utf-8"))
    cols: list[list[np.ndarray]] = [[], [], [], []]
    day_min = (days.to_numpy("datetime64[m]").astype(np.int64)).tolist()
    for ordinal, first_min, is_rest in zip(day_ordinals(days), day_min, rest, strict=True):
        rng = np.random.default_rng([seed, name_key, ordinal])  # days, not time steps
        lam = spec.sessions_per_pile_per_day * spec.count
        n = int(rng.poisson(lam * (spec.weekend_factor if is_rest else 1.0)))
        arr_h = np.clip(rng.normal(spec.arrival_mean_h, abs(spec.arrival_std_h), n), 0.0, 24.0 - 1 / 60)
        dwell_h = np.maximum(rng.normal(spec.dwell_mean_h, abs(spec.dwell_std_h), n), 0.25)
        energy = np.maximum(rng.normal(spec.energy_mean_kwh, abs(spec.energy_std_kwh), n), 0.5)
        car_kw = np.round(spec.power_kw * spec.efficiency * rng.uniform(0.6, 1.2, n), 3)
        arr_min = first_min + np.round(arr_h * 60).astype(np.int64)
        dep_min = arr_min + np.maximum(np.round(dwell_h * 60).astype(np.int64), 15)
        # Ask no more than the pile and the car can deliver while plugged in.
        cap = np.minimum(spec.power_kw * spec.efficiency, car_kw) * (dep_min - arr_min) / 60.0
        energy = np.floor(np.minimum(energy, cap) * 1000.0) / 1000.0
        for col, values in zip(cols, (arr_min, dep_min, energy, car_kw), strict=True):
            col.append(values)
    return tuple(np.concatenate(c) for c in cols)


def synthetic_sessions(
    time: pd.DatetimeIndex,
    groups: Sequence[EvGroupSpec],
    *,
    seed: int,
    field: str = "ev",
    dt_h: float | None = None,
) -> pd.DataFrame:
    """Random charging sessions for each pile group.

    Per group and day, the number of cars is Poisson with mean ``sessions_per_pile_per_day ×
    count`` (times ``weekend_factor`` on rest days, Chinese public holidays included); arrival,
    dwell and energy are normal (see :class:`EvGroupSpec`). Cars take, in arrival order, the pile
    that has been free longest; a car that finds all piles busy goes elsewhere, so sessions on a
    pile never overlap and the realized rate is below the asked one only when the group is full.

    Generation starts on 1 January of the horizon's first year (and the days before whose cars may
    still be plugged in), so a horizon gets the same sessions as those days of a year-long run.

    Parameters
    ----------
    time : pandas.DatetimeIndex
        Horizon step starts (tz-naive, regular step ``dt_h``).
    groups : sequence of EvGroupSpec
        Pile groups; errors name ``field.groups.<i>.<attribute>``.
    seed : int
        Random seed (>= 0); each (seed, group name, day) has its own random stream.
    field, dt_h : str, float [h], optional
        Field path used in errors; step length (inferred from ``time`` if omitted).

    Returns
    -------
    pandas.DataFrame
        Session table (:data:`SESSION_COLUMNS`) of the sessions overlapping the horizon, sorted by
        arrival, group and pile; arrival and departure on whole minutes.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"{field}.seed", seed, "an integer >= 0")
    specs = _specs_by_name(groups, field)
    if dt_h is None:
        dt_h = (time[1] - time[0]) / _HOUR if len(time) > 1 else 1.0
    check_time_index(time, float(dt_h))
    start, end = time[0], time[-1] + pd.Timedelta(hours=float(dt_h))
    start_min, end_min = start.value // 60_000_000_000, end.value // 60_000_000_000
    anchor = pd.Timestamp(year=start.year, month=1, day=1)
    rank = {name: i for i, name in enumerate(sorted(specs))}  # the order of the group names
    parts: list[tuple[np.ndarray, ...]] = []
    for spec in specs.values():
        reach_h = 24 + spec.dwell_mean_h + 5 * spec.dwell_std_h
        first = anchor - pd.Timedelta(days=int(np.ceil(reach_h / 24)))
        days = pd.date_range(first, (end - pd.Timedelta(minutes=1)).normalize(), freq="D")
        arr, dep, energy, car_kw = _group_cars(spec, days, int(seed))
        pile = _assign_piles(arr, dep, spec.count)
        keep = (pile >= 0) & (dep > start_min) & (arr < end_min)
        parts.append((np.full(int(keep.sum()), rank[spec.name]), pile[keep], arr[keep],
                      dep[keep], energy[keep], car_kw[keep]))
    if not parts:
        return _session_frame(*[[]] * 6)
    group, pile, arr, dep, energy, car_kw = (np.concatenate(c) for c in zip(*parts, strict=True))
    # by arrival, then group name, then pile; stable, as a stable sort of the table would be
    order = np.lexsort((pile, group, arr))
    names = np.array(sorted(specs), dtype=object)
    return _session_frame(names[group[order]], pile[order], (arr[order] * 60).astype("datetime64[s]"),
                          (dep[order] * 60).astype("datetime64[s]"), energy[order], car_kw[order])


def read_sessions_csv(path: str | Path, groups: dict[str, int], *, field: str) -> pd.DataFrame:
    """Read a session table from CSV and check it.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV with the columns of :data:`SESSION_COLUMNS` (others are kept as read, after them).
        Timestamps ISO 8601 in local standard time; energies [kWh] and powers [kW] battery side.
    groups : dict of str to int
        Known group names and their pile counts.
    field : str
        Field path used in errors, e.g. ``"ev.sessions_path"``.

    Returns
    -------
    pandas.DataFrame
        Session table, rows in file order.

    Raises
    ------
    ScenarioError
        Bad file or column; unknown group; pile not in 0..count-1; bad timestamps; arrival not
        before departure; bad energy or car power; two sessions overlapping on one pile.
    """
    df = read_table_csv(path, field=field, required=list(SESSION_COLUMNS))

    def fail_at(mask: np.ndarray, shown: Callable[[int], str], allowed: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise ScenarioError(field, f"row {i + 1}: {shown(i)}", allowed)

    group = df["group"].astype(object).map(lambda s: s.strip() if isinstance(s, str) else s)
    name = group.to_numpy(dtype=object)
    fail_at(~group.isin(list(groups)).to_numpy(), lambda i: f"group {name[i]!r}",
            f"one of {list(groups)}")  # fmt: skip
    pile = parse_number_column(df["pile"], field=field, column="pile", integer=True)
    count = group.map(groups).to_numpy(dtype=np.int64)
    fail_at(
        (pile < 0) | (pile >= count),
        lambda i: f"pile {pile[i]} in group {name[i]!r} (piles 0..{count[i] - 1})",
        "a pile number in 0..count-1 of its group",
    )
    arrival = parse_time_column(df["arrival"], field=field, column="arrival").to_numpy()
    departure = parse_time_column(df["departure"], field=field, column="departure").to_numpy()
    fail_at(
        arrival >= departure,
        lambda i: f"arrival {pd.Timestamp(arrival[i])} departure {pd.Timestamp(departure[i])}",
        "arrival before departure",
    )
    energy, car_kw = (
        parse_number_column(df[c], field=field, column=c, allow_negative=False)
        for c in ("energy_kwh", "max_power_kw")
    )
    fail_at(car_kw <= 0, lambda i: f"max_power_kw {car_kw[i]:g}", "max_power_kw > 0 [kW]")

    key = name.astype(str)
    order = np.lexsort((arrival, pile, key))
    same = (key[order][1:] == key[order][:-1]) & (pile[order][1:] == pile[order][:-1])
    clash = np.flatnonzero(same & (arrival[order][1:] < departure[order][:-1]))
    if clash.size:
        first, second = int(order[clash[0]]), int(order[clash[0] + 1])
        raise ScenarioError(
            field,
            f"rows {first + 1} and {second + 1} overlap on pile {pile[first]} of group "
            f"{name[first]!r} ({pd.Timestamp(arrival[second])} < "
            f"{pd.Timestamp(departure[first])})",
            "sessions on one pile that do not overlap (a pile is free again at departure)",
        )
    out = _session_frame(name, pile, arrival, departure, energy, car_kw)
    for c in df.columns:
        if c not in SESSION_COLUMNS:
            out[c] = df[c].to_numpy()
    return out


@dataclass(frozen=True)
class _Grid:
    """Per-session grid-side quantities in hours from the horizon start."""

    a: np.ndarray  # arrival clipped to the horizon [h]
    dc: np.ndarray  # departure clipped to the horizon [h]
    d: np.ndarray  # true departure [h] (may lie past the horizon end)
    p: np.ndarray  # power cap, grid side [kW]
    e: np.ndarray  # energy, grid side, uncapped [kWh]
    e_cap: np.ndarray  # energy deliverable from max(arrival, horizon start) to departure [kWh]
    inside: np.ndarray  # plugged in for a positive time within the horizon


def _grid_side(
    sessions: pd.DataFrame, time: pd.DatetimeIndex, dt_h: float, efficiency, pile_power_kw
) -> _Grid:
    """Grid-side session quantities; ``efficiency`` and ``pile_power_kw`` per session or scalar."""
    horizon_h = len(time) * dt_h
    a = np.asarray((sessions["arrival"] - time[0]) / _HOUR, dtype=np.float64)
    d = np.asarray((sessions["departure"] - time[0]) / _HOUR, dtype=np.float64)
    ac, dc = np.clip(a, 0.0, horizon_h), np.clip(d, 0.0, horizon_h)
    inside = dc > ac
    p = np.minimum(pile_power_kw, sessions["max_power_kw"].to_numpy(np.float64) / efficiency)
    e = sessions["energy_kwh"].to_numpy(np.float64) / efficiency
    # Capped at what p can deliver from the later of arrival and horizon start to the true
    # departure: a session leaving after the horizon end keeps its energy, and by the end it only
    # has to have received what cannot be delivered after it.
    e_cap = np.where(inside, np.minimum(e, p * (d - ac)), 0.0)
    return _Grid(a=ac, dc=dc, d=d, p=p, e=e, e_cap=e_cap, inside=inside)


def _hinge_sums(
    knots_h: np.ndarray, coef: np.ndarray, row: np.ndarray, n_rows: int, T: int, dt_h: float
) -> np.ndarray:
    """Evaluate F_r(tau) = sum_j coef_j * max(0, tau - knot_j) at the step ends tau_t = (t+1)·dt.

    Each hinge is binned at the first step end at or after its knot; then F = tau·C − S with C and S
    the running sums of coef and coef·knot. O(hinges + rows·T), no sessions × T matrix.
    """
    k = np.maximum(np.ceil(knots_h / dt_h).astype(np.int64) - 1, 0)
    use = k < T
    bins = row[use] * T + k[use]
    C = np.bincount(bins, weights=coef[use], minlength=n_rows * T).reshape(n_rows, T)
    S = np.bincount(bins, weights=(coef * knots_h)[use], minlength=n_rows * T).reshape(n_rows, T)
    tau = (np.arange(T) + 1.0) * dt_h
    return tau * np.cumsum(C, axis=1) - np.cumsum(S, axis=1)


def ev_envelopes(
    sessions: pd.DataFrame,
    time: pd.DatetimeIndex,
    dt_h: float,
    groups: Sequence[EvGroupSpec],
    *,
    field: str = "ev",
) -> dict[str, EvEnvelope]:
    """Aggregate sessions into one charging envelope per pile group.

    Per session (grid side, see the module docstring), with ``tau`` the end of step t:
    ``E_hi_i(tau) = min(e, p·overlap([arrival, tau]))`` (charge as early as possible) and
    ``E_lo_i(tau) = max(0, e − p·overlap([tau, departure]))`` (as late as possible), with partial
    plug-in within a step handled exactly. Summed per group. Both are sums of hinge functions, so
    they are evaluated with bin counts and cumulative sums in O(sessions + groups·T).

    Parameters
    ----------
    sessions : pandas.DataFrame
        Session table (:data:`SESSION_COLUMNS`).
    time, dt_h : pandas.DatetimeIndex, float [h]
        Horizon step starts (tz-naive, regular) and step length.
    groups : sequence of EvGroupSpec
        Pile groups; every session's group must be one of them.
    field : str
        Field path used in errors.

    Returns
    -------
    dict of str to EvEnvelope
        One envelope per group (zeros for a group without sessions). Guarantees
        ``0 <= e_lo_kwh <= e_hi_kwh``, both nondecreasing, and each step's increase of either at
        most ``p_max_kw[t]·dt_h``.
    """
    check_time_index(time, dt_h)
    specs = _specs_by_name(groups, field)
    names = list(specs)
    T, G = len(time), len(names)
    group = sessions["group"].astype(object).to_numpy()
    row = pd.Index(names).get_indexer(group)
    if (row < 0).any():
        i = int(np.flatnonzero(row < 0)[0])
        shown = f"row {i + 1}: group {group[i]!r}"
        raise ScenarioError(f"{field}.sessions", shown, f"one of {names}")
    eff = np.array([specs[n].efficiency for n in names])[row]
    pile_kw = np.array([specs[n].power_kw for n in names])[row]
    g = _grid_side(sessions, time, dt_h, eff, pile_kw)
    keep = g.inside
    a, dc, d, p, e_cap, row = g.a[keep], g.dc[keep], g.d[keep], g.p[keep], g.e_cap[keep], row[keep]
    w = e_cap / p  # charging time at full power [h]

    def hinges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        return _hinge_sums(
            np.concatenate([starts, stops]), np.concatenate([p, -p]),
            np.concatenate([row, row]), G, T, dt_h,
        )  # fmt: skip

    e_hi = hinges(a, a + w)
    e_lo = hinges(d - w, d)
    plugged = hinges(a, dc)  # Σ p · plugged-in hours up to each step end
    p_max = np.diff(plugged, axis=1, prepend=0.0) / dt_h

    # Round-off guards only (the sums are exact up to float error).
    e_hi = np.maximum.accumulate(np.maximum(e_hi, 0.0), axis=1)
    e_lo = np.minimum(np.maximum.accumulate(np.maximum(e_lo, 0.0), axis=1), e_hi)
    p_max = np.maximum(p_max, 0.0)

    for arr in (e_lo, e_hi, p_max):
        arr.flags.writeable = False  # rows handed out below are views of these
    requested = np.bincount(row, weights=g.e[keep], minlength=G)
    n_sessions = np.bincount(row, minlength=G)
    # Physically undeliverable energy, counted in the horizon where the session leaves (so a
    # session is counted once over consecutive windows).
    short = _short_kwh(sessions, eff, pile_kw)
    leaves = keep & (g.d <= T * dt_h) & (short > _EPS_KWH)
    all_rows = pd.Index(names).get_indexer(group)
    lost = np.bincount(all_rows[leaves], weights=short[leaves], minlength=G)
    n_lost = np.bincount(all_rows[leaves], minlength=G)
    return {
        name: EvEnvelope(e_lo[r], e_hi[r], p_max[r], float(requested[r]), int(n_sessions[r]),
                         float(e_hi[r, -1]), float(lost[r]), int(n_lost[r]))
        for r, name in enumerate(names)
    }  # fmt: skip


def _short_kwh(sessions: pd.DataFrame, efficiency, pile_power_kw) -> np.ndarray:
    """Per session, grid-side energy asked beyond ``p · (departure − arrival)`` [kWh] (≥ 0)."""
    stay_h = np.asarray((sessions["departure"] - sessions["arrival"]) / _HOUR, dtype=np.float64)
    p = np.minimum(pile_power_kw, sessions["max_power_kw"].to_numpy(np.float64) / efficiency)
    e = sessions["energy_kwh"].to_numpy(np.float64) / efficiency
    return np.maximum(e - p * stay_h, 0.0)


def undeliverable_sessions(sessions: pd.DataFrame, groups: Sequence[EvGroupSpec], *,
                           field: str = "ev") -> pd.DataFrame:
    """Sessions asking for more energy than their pile and car can deliver during the stay.

    A session can receive at most ``p · (departure − arrival)`` grid side, with
    ``p = min(pile power_kw, max_power_kw / efficiency)``; it asks ``energy_kwh / efficiency``.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Session table (:data:`SESSION_COLUMNS`).
    groups : sequence of EvGroupSpec
        Pile groups; every session's group must be one of them.
    field : str
        Field path used in errors.

    Returns
    -------
    pandas.DataFrame
        The offending rows (index of ``sessions`` kept) with the added columns
        ``requested_grid_kwh``, ``deliverable_grid_kwh`` and ``undeliverable_grid_kwh`` [kWh].
    """
    specs = _specs_by_name(groups, field)
    names = list(specs)
    group = sessions["group"].astype(object).to_numpy()
    row = pd.Index(names).get_indexer(group)
    if (row < 0).any():
        i = int(np.flatnonzero(row < 0)[0])
        raise ScenarioError(f"{field}.sessions", f"row {i + 1}: group {group[i]!r}",
                            f"one of {names}")
    eff = np.array([specs[n].efficiency for n in names])[row] if len(row) else np.ones(0)
    pile_kw = np.array([specs[n].power_kw for n in names])[row] if len(row) else np.ones(0)
    short = _short_kwh(sessions, eff, pile_kw)
    requested = sessions["energy_kwh"].to_numpy(np.float64) / eff
    bad = short > _EPS_KWH
    out = sessions[bad].copy()
    out["requested_grid_kwh"] = requested[bad]
    out["deliverable_grid_kwh"] = requested[bad] - short[bad]
    out["undeliverable_grid_kwh"] = short[bad]
    return out


def _fill_in_order(amount: float, room: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Give ``amount`` to entries in ``order``, each up to its ``room``; returns the grants."""
    grant, r = np.zeros_like(room), room[order]
    grant[order] = np.clip(amount - (np.cumsum(r) - r), 0.0, r)  # amount left before each entry
    return grant


def disaggregate_least_laxity(
    sessions: pd.DataFrame,
    group_power_kw: np.ndarray,
    time: pd.DatetimeIndex,
    dt_h: float,
    *,
    efficiency: float,
    pile_power_kw: float,
) -> np.ndarray:
    """Split a group's charging power over its sessions, least laxity first.

    At each step, every plugged-in session first gets what it must receive now to still finish by
    its departure (``max(0, r − p·(departure − step end))``); the rest of the group power goes to
    sessions in increasing laxity (slack time ``departure − now − r/p``, ties by earlier
    departure), each up to its cap ``p`` times the plugged-in fraction of the step and never more
    than it still needs. So a group schedule derived from the envelope (e.g. as late as possible
    from ``E_lo``, or as early as possible from ``E_hi``) delivers every session its energy.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Sessions of ONE group (:data:`SESSION_COLUMNS`); rows of the result follow its row order.
    group_power_kw : numpy.ndarray [kW], shape (T,)
        Group charging power, grid side, mean per step (negatives from the solver count as 0).
    time, dt_h : pandas.DatetimeIndex, float [h]
        Horizon step starts and step length.
    efficiency, pile_power_kw : float, float [kW]
        Charging efficiency (0, 1] and rated grid-side power of the group's piles.

    Returns
    -------
    numpy.ndarray [kW], shape (n_sessions, T)
        Grid-side mean power per session and step (sum rows per pile with
        :func:`pile_setpoints_kw`). Group power no plugged-in session can take is left out: the
        remainder is ``group_power_kw − result.sum(axis=0)``; it and energy still owed at departure
        are logged as a warning. Memory n_sessions·T·8 bytes: split year-long runs by day.
    """
    check_time_index(time, dt_h)
    T = len(time)
    power = np.maximum(np.asarray(group_power_kw, dtype=np.float64), 0.0)
    if power.shape != (T,):
        raise ValueError(f"group_power_kw must have shape ({T},), got {power.shape}")
    g = _grid_side(sessions, time, dt_h, efficiency, pile_power_kw)
    out = np.zeros((len(sessions), T))
    remaining = g.e_cap.copy()
    by_arrival = np.flatnonzero(g.inside)[np.argsort(g.a[g.inside], kind="stable")]
    arrival_sorted = g.a[by_arrival]
    active = np.empty(0, dtype=np.int64)
    unplaced = np.zeros(T)
    n_in = 0
    # Sequential by nature: what a session still needs at step t depends on what it got before.
    # Within a step everything is vectorized over the plugged-in sessions.
    for t in range(T):
        t0, t1 = t * dt_h, (t + 1) * dt_h
        n_new = int(np.searchsorted(arrival_sorted, t1, side="left"))
        if n_new > n_in:
            active = np.concatenate([active, by_arrival[n_in:n_new]])
            n_in = n_new
        active = active[(g.dc[active] > t0) & (remaining[active] > _EPS_KWH)]
        if active.size == 0:
            unplaced[t] = power[t]
            continue
        p, r, d = g.p[active], remaining[active], g.d[active]
        frac = (np.minimum(g.dc[active], t1) - np.maximum(g.a[active], t0)) / dt_h
        upper = np.minimum(p * np.clip(frac, 0.0, 1.0), r / dt_h)
        must = np.minimum(np.maximum(r - p * np.maximum(d - t1, 0.0), 0.0) / dt_h, upper)
        laxity = (d - np.maximum(t0, g.a[active])) - r / p
        order = np.lexsort((d, laxity))
        # Must-run amounts first (in laxity order if even they do not fit), then the rest.
        x = _fill_in_order(min(power[t], must.sum()), must, order)
        x += _fill_in_order(max(power[t] - must.sum(), 0.0), upper - must, order)
        out[active, t] = x
        remaining[active] = np.maximum(r - x * dt_h, 0.0)
        unplaced[t] = power[t] - x.sum()

    horizon_h = T * dt_h
    owed = np.where(g.d <= horizon_h, remaining, 0.0)
    if unplaced.sum() * dt_h > 1e-6 or owed.sum() > 1e-6:
        _log.warning(
            "least-laxity disaggregation: %.3f kWh of group power could not be placed; "
            "%.3f kWh owed to %d sessions at departure",
            unplaced.sum() * dt_h, owed.sum(), int((owed > 1e-6).sum()),
        )  # fmt: skip
    return out


def pile_setpoints_kw(
    sessions: pd.DataFrame, session_power_kw: np.ndarray, *, count: int
) -> np.ndarray:
    """Sum per-session power to per-pile setpoints.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Sessions of one group, rows matching ``session_power_kw``.
    session_power_kw : numpy.ndarray [kW], shape (n_sessions, T)
        Per-session power, e.g. from :func:`disaggregate_least_laxity`.
    count : int
        Number of piles in the group.

    Returns
    -------
    numpy.ndarray [kW], shape (count, T)
        Grid-side setpoint per pile and step.
    """
    x = np.asarray(session_power_kw, dtype=np.float64)
    pile = sessions["pile"].to_numpy(np.int64)
    if x.ndim != 2 or x.shape[0] != len(pile):
        raise ValueError(f"session_power_kw must have shape ({len(pile)}, T), got {x.shape}")
    if len(pile) and (pile.min() < 0 or pile.max() >= count):
        raise ValueError(f"pile numbers must lie in 0..{count - 1}")
    out = np.zeros((count, x.shape[1]))
    np.add.at(out, pile, x)
    return out
