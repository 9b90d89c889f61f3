"""Representative-period sizing: typical days or weeks chosen with ``tsam``, storage chronology
kept by inter-period SOC linking, extreme periods kept for the monthly demand charge.

The year is cut into periods of L steps (a day or a week; a last, shorter period is kept as it
is). ``tsam`` (hierarchical clustering, medoid representation) groups the periods into K clusters
on the profiles that drive the dispatch (load, PV per kWp, import price, grid emission factor, EV
plug-in power, direct green supply); each cluster is represented by its medoid, a real period of
the year. Some periods are always kept as their own representative with weight 1 ("extreme
periods"): the period holding each month's peak load (so every month's demand-charge peak is in
the model), every period with a demand-response event, and the last period if it is shorter.

The aggregated model built on these periods is :mod:`zeropark.planning.aggregate`.
The sizes found are then checked by a full-year dispatch with the sizes fixed (see
:func:`zeropark.planning.sizing.size`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.model.data import ModelData, model_data
from zeropark.profiles.base import EvGroupProfile, Profiles

#: Period kinds of ``--periods`` and their length [h].
PERIOD_HOURS = {"typical-days": 24.0, "typical-weeks": 168.0}


@dataclass(frozen=True)
class PeriodSpec:
    """Parsed ``--periods`` option: K typical periods of ``hours`` each."""

    kind: str
    count: int
    link_storage: bool = True  # False: each representative period cyclic on its own (ablation)

    @property
    def hours(self) -> float:
        return PERIOD_HOURS[self.kind]

    def __str__(self) -> str:
        return f"{self.kind}:{self.count}"


def parse_periods(text: str) -> PeriodSpec:
    """Parse ``typical-days:K`` or ``typical-weeks:K`` (K ≥ 1 typical periods).

    Raises
    ------
    ScenarioError
        For anything else.
    """
    m = re.fullmatch(r"\s*(typical-days|typical-weeks)\s*:\s*(\d+)\s*", str(text))
    if not m or int(m.group(2)) < 1:
        raise ScenarioError("periods", text, "typical-days:K or typical-weeks:K with K ≥ 1 "
                                             "(e.g. typical-days:12)")
    return PeriodSpec(m.group(1), int(m.group(2)))


@dataclass(frozen=True)
class Selection:
    """Which original periods represent the year.

    Attributes
    ----------
    starts, lengths : ndarray[int]
        First step and number of steps of every original period (chronological, N of them).
    rep_of : ndarray[int]
        Index (into ``reps``) of the representative of each original period.
    reps : ndarray[int]
        Original period index of each representative period, in model order.
    weights : ndarray[float]
        Number of original periods each representative stands for.
    extreme : ndarray[bool]
        Whether each representative is an extreme period (kept on its own, weight 1).
    """

    starts: np.ndarray
    lengths: np.ndarray
    rep_of: np.ndarray
    reps: np.ndarray
    weights: np.ndarray
    extreme: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        """Full-year step index of every step of the aggregated model."""
        return np.concatenate([np.arange(self.starts[p], self.starts[p] + self.lengths[p])
                               for p in self.reps])

    @property
    def rep_starts(self) -> np.ndarray:
        """First step of each representative period in the aggregated model."""
        lens = self.lengths[self.reps]
        return np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(int)


def _features(prof: Profiles, per_kwp: dict[int, np.ndarray]) -> pd.DataFrame:
    """The profiles that drive the dispatch, one column each (constant columns dropped)."""
    cols: dict[str, np.ndarray] = {"load_kw": prof.load_kw,
                                   "import_price": prof.import_price_per_kwh,
                                   "export_price": prof.export_price_per_kwh,
                                   "ef": prof.ef_kg_per_kwh}
    for i in range(prof.pv_avail_kw.shape[0]):
        cols[f"pv{i}"] = per_kwp.get(i, prof.pv_avail_kw[i])
    for name, g in prof.ev.items():
        cols[f"ev.{name}"] = g.p_max_kw
    if prof.green_direct_kw is not None:
        cols["green_direct"] = prof.green_direct_kw
    if prof.heat_demand_kw is not None:
        for level, row in enumerate(np.asarray(prof.heat_demand_kw, float)):
            cols[f"heat{level}"] = row
    if prof.temp_air_c is not None:
        cols["temp_air"] = prof.temp_air_c
    keep = {k: np.asarray(v, float) for k, v in cols.items() if np.ptp(v) > 0}
    return pd.DataFrame(keep or {"load_kw": prof.load_kw}, index=prof.time)


def select_periods(prof: Profiles, spec: PeriodSpec,
                   per_kwp: dict[int, np.ndarray] | None = None) -> Selection:
    """Cut the horizon into periods, keep the extreme ones, cluster the rest with ``tsam``.

    Parameters
    ----------
    prof : Profiles
        Full-horizon profiles.
    spec : PeriodSpec
    per_kwp : dict of PV array index to availability per kWp, optional
        Used instead of ``prof.pv_avail_kw`` for arrays being sized (their profile in ``prof``
        may be at the cap or zero).
    """
    L = int(round(spec.hours / prof.dt_h))
    T = prof.n_steps
    if L < 1 or abs(L * prof.dt_h - spec.hours) > 1e-9:
        raise ScenarioError("periods", str(spec), f"a period length that is a whole number of "
                                                  f"{prof.dt_h:g} h steps")
    starts = np.arange(0, T, L)
    lengths = np.minimum(L, T - starts)
    N = len(starts)
    period_of = np.repeat(np.arange(N), lengths)
    forced: set[int] = set()
    if lengths[-1] < L:
        forced.add(N - 1)
    for m in np.unique(prof.month_index):
        in_month = np.flatnonzero(prof.month_index == m)
        forced.add(int(period_of[in_month[np.argmax(prof.load_kw[in_month])]]))
    for e in prof.dr_events:
        forced.update(int(p) for p in np.unique(period_of[e.mask]))
    free = np.array([p for p in range(N) if p not in forced and lengths[p] == L], int)
    rep_of_period = np.full(N, -1)
    reps: list[int] = []
    weights: list[float] = []
    extreme: list[bool] = []
    if len(free):
        k = min(spec.count, len(free))
        centers, assign = _cluster(prof, per_kwp or {}, starts[free], L, k)
        for c in range(len(centers)):
            members = free[assign == c]
            if not len(members):
                continue
            rep_of_period[members] = len(reps)
            reps.append(int(free[centers[c]]))
            weights.append(float(len(members)))
            extreme.append(False)
    for p in sorted(forced):
        rep_of_period[p] = len(reps)
        reps.append(p)
        weights.append(1.0)
        extreme.append(True)
    return Selection(starts, lengths, rep_of_period, np.array(reps, int), np.array(weights),
                     np.array(extreme, bool))


def _cluster(prof: Profiles, per_kwp: dict[int, np.ndarray], starts: np.ndarray, L: int,
             k: int) -> tuple[np.ndarray, np.ndarray]:
    """Medoid (index into ``starts``) of each of ``k`` clusters and the cluster of each period."""
    try:
        import tsam  # optional dependency, imported only when representative periods are asked for
    except ImportError:
        raise ScenarioError("periods", "typical periods", "the tsam package installed "
                                                          "(pip install 'zeropark[periods]')") from None

    feats = _features(prof, per_kwp)
    idx = np.concatenate([np.arange(s, s + L) for s in starts])
    data = feats.iloc[idx].reset_index(drop=True)
    data.index = pd.date_range("2001-01-01", periods=len(data), freq=pd.Timedelta(hours=prof.dt_h))
    if k >= len(starts):
        return np.arange(len(starts)), np.arange(len(starts))
    res = tsam.aggregate(data, n_clusters=k, period_duration=L * prof.dt_h,
                         temporal_resolution=prof.dt_h,
                         cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
                         preserve_column_means=False)
    assign = np.asarray(res.cluster_assignments, int)
    centers = np.asarray(res.clustering.cluster_centers, int)
    return centers, assign


def _ev_window(g: EvGroupProfile, start: int, stop: int) -> EvGroupProfile:
    """The group's envelope over one period, rebased to the energy due by its end: what must be
    delivered is ``E_lo[t] − E_lo[start−1]`` (the part of the year's as-late-as-possible
    delivery that falls in the period), at most ``E_hi[t] − E_lo[start−1]``; the periods' dues
    add up to the year's."""
    base = g.e_lo_kwh[start - 1] if start > 0 else 0.0
    lo = g.e_lo_kwh[start:stop] - base
    hi = np.maximum(g.e_hi_kwh[start:stop] - base, lo)
    return dataclasses.replace(g, e_lo_kwh=lo, e_hi_kwh=hi, p_max_kw=g.p_max_kw[start:stop].copy(),
                               requested_kwh=float(lo[-1]), sessions=pd.DataFrame(), spec=None)


def energy_preserving(series: np.ndarray, sel: Selection, rounds: int = 20) -> np.ndarray:
    """``series`` on the representative periods, the typical ones rescaled so that the weighted
    sum equals the full horizon's (as tsam's ``rescaleClusterPeriods``), never above the
    series' own maximum.

    The typical periods' values are multiplied by s = (Σ_full − Σ_extreme) / Σ_typical w_r·Σ_r
    and clipped at max(series), repeated while clipping leaves a shortfall (``rounds`` times at
    most). Extreme periods keep their values (weight 1). Used for the direct green supply: its
    contract's minimum take is an annual energy, and the medoid days alone can hold less of it
    than the year (the Inner Mongolia park's wind days did: the aggregated model was infeasible).
    """
    full = np.asarray(series, float)
    out = full[sel.steps].copy()
    rep_len = sel.lengths[sel.reps]
    rep_of_step = np.repeat(np.arange(len(sel.reps)), rep_len)
    w = sel.weights[rep_of_step]
    typical = ~sel.extreme[rep_of_step]
    target = float(full.sum()) - float((w * out)[~typical].sum())
    top = float(full.max(initial=0.0))
    for _ in range(rounds):
        have = float((w * out)[typical].sum())
        if have <= 0 or abs(have - target) <= 1e-9 * max(abs(target), 1.0):
            break
        out[typical] = np.minimum(out[typical] * (target / have), top)
    return out


def aggregated_profiles(prof: Profiles, sel: Selection) -> Profiles:
    """The representative periods one after the other, on the full year's billing months."""
    idx = sel.steps
    evs: dict[str, list[EvGroupProfile]] = {n: [] for n in prof.ev}
    for p in sel.reps:
        a, b = sel.starts[p], sel.starts[p] + sel.lengths[p]
        for n, g in prof.ev.items():
            evs[n].append(_ev_window(g, a, b))
    ev = {n: dataclasses.replace(
        parts[0], e_lo_kwh=np.concatenate([x.e_lo_kwh for x in parts]),
        e_hi_kwh=np.concatenate([x.e_hi_kwh for x in parts]),
        p_max_kw=np.concatenate([x.p_max_kw for x in parts]),
        requested_kwh=float(sum(x.requested_kwh for x in parts))) for n, parts in evs.items()}
    dr = [dataclasses.replace(e, mask=e.mask[idx].copy(),
                              baseline_kw=(e.baseline_kw[idx].copy()
                                           if isinstance(e.baseline_kw, np.ndarray)
                                           and e.baseline_kw.shape == e.mask.shape
                                           else e.baseline_kw))
          for e in prof.dr_events if e.mask[idx].any()]
    return dataclasses.replace(
        prof, time=prof.time[idx], load_kw=prof.load_kw[idx].copy(),
        pv_avail_kw=prof.pv_avail_kw[:, idx].copy(),
        import_price_per_kwh=prof.import_price_per_kwh[idx].copy(),
        export_price_per_kwh=prof.export_price_per_kwh[idx].copy(),
        ef_kg_per_kwh=prof.ef_kg_per_kwh[idx].copy(), month_index=prof.month_index[idx].copy(),
        green_direct_kw=(None if prof.green_direct_kw is None
                         else energy_preserving(prof.green_direct_kw, sel)),
        ev=ev, dr_events=dr,
        peak_ratio=None if prof.peak_ratio is None else prof.peak_ratio[idx].copy(),
        heat_demand_kw=(None if prof.heat_demand_kw is None
                        else np.asarray(prof.heat_demand_kw)[:, idx].copy()),
        temp_air_c=None if prof.temp_air_c is None else np.asarray(prof.temp_air_c)[idx].copy())


def aggregated_data(d_full: ModelData, sel: Selection) -> ModelData:
    """Model data of the representative periods, charged as the full horizon (capex share,
    fixed charges, fuels)."""
    d = model_data(d_full.sc, aggregated_profiles(d_full.prof, sel))
    return dataclasses.replace(d, horizon_fraction=d_full.horizon_fraction,
                               fuel_co2_kg=d_full.fuel_co2_kg, fuel_kgce=d_full.fuel_kgce,
                               ledger=d_full.ledger)
