"""The ``Profiles`` container: every time series the model needs, on one time index.

Profiles are plain numpy arrays so that the two model builders, the operations code and the tests
can construct them directly (tests build tiny hand-checkable profiles without pvlib).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EvGroupProfile:
    """Aggregate energy envelope of one pile group (grid-side kWh, cumulative to the end of step t).

    Attributes
    ----------
    e_lo_kwh, e_hi_kwh : ndarray [kWh]
        Energy that must / can have been delivered by the end of each step.
    p_max_kw : ndarray [kW]
        Sum of the charging power limits of the EVs plugged in during each step.
    requested_kwh : float [kWh]
        Grid-side energy the sessions ask for within the horizon.
    sessions : pandas.DataFrame
        The sessions behind the envelope (for per-pile disaggregation); may be empty.
    undeliverable_kwh : float [kWh]
        Grid-side energy that sessions leaving within the horizon ask for beyond what their pile
        and car can deliver during the stay (not in the envelope: unmet whatever the dispatch).
    n_undeliverable : int
        Number of those sessions.
    turned_away : pandas.DataFrame
        Sessions that found every pile busy (first come, first served) and were turned away;
        ``turned_away_kwh`` [kWh, grid side] and ``n_turned_away`` count those leaving within the
        horizon. Their energy is unmet whatever the dispatch.
    """

    e_lo_kwh: np.ndarray
    e_hi_kwh: np.ndarray
    p_max_kw: np.ndarray
    requested_kwh: float
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    spec: Any = None  # zeropark.profiles.ev.EvGroupSpec, to rebuild envelopes for a window
    undeliverable_kwh: float = 0.0
    n_undeliverable: int = 0
    turned_away: pd.DataFrame = field(default_factory=pd.DataFrame)
    turned_away_kwh: float = 0.0
    n_turned_away: int = 0


@dataclass(frozen=True)
class DrEventProfile:
    """One demand-response event mapped onto the time index.

    Attributes
    ----------
    name : str
    mask : ndarray of bool [T]: steps in the event window
    baseline_kw : float or ndarray [T] [kW]: baseline net grid import, one value for the whole
        window or per step (values outside the window unused); always data, never a decision
    reduction_kw : float [kW]: requested reduction of the window's average net import
    payment_per_kw : float [currency/kW]: paid once per kW of settled average reduction
    penalty_per_kwh : float [currency/kWh]: per kWh short of the requested reduction (accepted)
    committed : bool: already accepted, participation forced
    min_ratio, max_ratio : float: settlement band — no payment below ``min_ratio`` × requested,
        nothing more paid above ``max_ratio`` × requested (labelled defaults 0.5 and 1.2)
    baseline_source : str: how the baseline was obtained (shown in the KPIs)
    """

    name: str
    mask: np.ndarray
    baseline_kw: float | np.ndarray
    reduction_kw: float
    payment_per_kw: float
    penalty_per_kwh: float
    committed: bool = False
    min_ratio: float = 0.5
    max_ratio: float = 1.2
    baseline_source: str = "given"

    def baseline_steps_kw(self) -> np.ndarray:
        """Baseline [kW] of each step in the window, in time order."""
        b = np.broadcast_to(np.asarray(self.baseline_kw, float), self.mask.shape)
        return b[self.mask].copy()


@dataclass(frozen=True)
class Profiles:
    """Time series on one index (tz-naive local standard time, step starts).

    Attributes
    ----------
    time : DatetimeIndex
    dt_h : float [h]
    load_kw : ndarray [kW] inflexible load
    pv_avail_kw : ndarray [kW], shape (n_arrays, T): available PV power (AC, or DC for DC-coupled)
    import_price_per_kwh, export_price_per_kwh : ndarray [currency/kWh]
    ef_kg_per_kwh : ndarray [kgCO2/kWh] grid emission factor
    month_index : ndarray[int] billing month of each step (0..M-1); ``month_labels`` their names
    green_direct_kw : ndarray [kW] or None: contract profile (upper bound of direct green supply)
    ev : dict of group name -> EvGroupProfile
    dr_events : list of DrEventProfile
    peak_floor_kw : ndarray [kW], shape (M,): month-to-date peak already paid (operations)
    demand_charge_per_kw_month : float [currency/(kW·month)] on each month's peak import
    capacity_charge_per_month : float [currency/month] fixed capacity (kVA) charge, pro rata
    month_fraction : ndarray, shape (M,), or None: share of each billing month's basic charge
        (demand and capacity) the run carries, from
        :func:`zeropark.profiles.tariff.billing_month_fraction`; None = whole months (1.0)
    peak_ratio : ndarray [-], shape (T,), or None: intra-step peak-to-mean ratio of the load
        (highest 15-min average over the step's mean, ≥ 1); None = 1 (the step is the metering
        interval). See :attr:`peak_excursion_kw`.
    peak_ratio_source : str: where ``peak_ratio`` comes from (shown in the billing KPIs)
    heat_demand_kw : ndarray [kW thermal], shape (3, T), or None: heat demand per level
        (:data:`zeropark.scenario.heat.LEVELS` order); None = no heat section
    temp_air_c : ndarray [°C], shape (T,), or None: ambient air temperature (air-source heat
        pumps); None = no weather
    """

    time: pd.DatetimeIndex
    dt_h: float
    load_kw: np.ndarray
    pv_avail_kw: np.ndarray
    import_price_per_kwh: np.ndarray
    export_price_per_kwh: np.ndarray
    ef_kg_per_kwh: np.ndarray
    month_index: np.ndarray
    month_labels: list[str]
    green_direct_kw: np.ndarray | None = None
    ev: dict[str, EvGroupProfile] = field(default_factory=dict)
    dr_events: list[DrEventProfile] = field(default_factory=list)
    peak_floor_kw: np.ndarray | None = None
    demand_charge_per_kw_month: float = 0.0
    capacity_charge_per_month: float = 0.0
    month_fraction: np.ndarray | None = None
    peak_ratio: np.ndarray | None = None
    peak_ratio_source: str = "steps"
    heat_demand_kw: np.ndarray | None = None
    temp_air_c: np.ndarray | None = None

    @property
    def peak_excursion_kw(self) -> np.ndarray:
        """How far the load's highest 15-min average rises above its step mean [kW], shape (T,):
        ``(peak_ratio − 1) · load_kw``. With the other flows held through the step, the import's
        highest 15-min average is ``import_kw + peak_excursion_kw``."""
        if self.peak_ratio is None:
            return np.zeros(self.n_steps)
        return (np.asarray(self.peak_ratio, float) - 1.0) * np.asarray(self.load_kw, float)

    @property
    def n_steps(self) -> int:
        """Number of steps T."""
        return len(self.time)

    def window(self, start: int, stop: int) -> Profiles:
        """Profiles restricted to steps ``start:stop`` (rolling horizon, short test runs)."""
        sl = slice(start, stop)
        months = self.month_index[sl]
        used = np.unique(months)
        remap = np.searchsorted(used, months)
        ev = {name: _window_ev(g, self.time[sl], self.dt_h, start, stop)
              for name, g in self.ev.items()}
        dr = [
            dataclasses.replace(e, mask=e.mask[sl].copy(), baseline_kw=(
                e.baseline_kw[sl].copy() if isinstance(e.baseline_kw, np.ndarray)
                and e.baseline_kw.ndim else e.baseline_kw))
            for e in self.dr_events
            if e.mask[sl].any()
        ]
        floor = None if self.peak_floor_kw is None else self.peak_floor_kw[used]
        # a window is a study of its own: it carries the share of each month it covers
        # (rolling windows replace this with the share of the whole horizon, see rolling.py)
        frac = None
        if self.month_fraction is not None:
            from zeropark.profiles.tariff import billing_month_fraction

            frac = billing_month_fraction(self.time[sl], self.dt_h)
        return Profiles(
            time=self.time[sl], dt_h=self.dt_h, load_kw=self.load_kw[sl].copy(),
            pv_avail_kw=self.pv_avail_kw[:, sl].copy(),
            import_price_per_kwh=self.import_price_per_kwh[sl].copy(),
            export_price_per_kwh=self.export_price_per_kwh[sl].copy(),
            ef_kg_per_kwh=self.ef_kg_per_kwh[sl].copy(), month_index=remap,
            month_labels=[self.month_labels[i] for i in used],
            green_direct_kw=None if self.green_direct_kw is None else self.green_direct_kw[sl].copy(),
            ev=ev, dr_events=dr, peak_floor_kw=floor,
            demand_charge_per_kw_month=self.demand_charge_per_kw_month,
            capacity_charge_per_month=self.capacity_charge_per_month, month_fraction=frac,
            peak_ratio=None if self.peak_ratio is None else self.peak_ratio[sl].copy(),
            peak_ratio_source=self.peak_ratio_source,
            heat_demand_kw=(None if self.heat_demand_kw is None
                            else self.heat_demand_kw[:, sl].copy()),
            temp_air_c=None if self.temp_air_c is None else self.temp_air_c[sl].copy(),
        )


def _window_ev(g: EvGroupProfile, time: pd.DatetimeIndex, dt_h: float, start: int,
               stop: int) -> EvGroupProfile:
    """The group's envelope over a window: rebuilt from its sessions when they are known (a car
    plugged in before the window still needs what it cannot get later), else the loosest
    rebased envelope (as if the most / the least had been delivered before the window)."""
    if g.spec is not None and (len(g.sessions) or len(g.turned_away)):
        from zeropark.profiles.ev import ev_envelopes, leaving_kwh

        env = ev_envelopes(g.sessions, time, dt_h, [g.spec])[g.spec.name]
        away_kwh, n_away = leaving_kwh(g.turned_away, time, dt_h, g.spec)
        return EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw,
                              float(env.requested_kwh), g.sessions, g.spec,
                              env.undeliverable_kwh, env.n_undeliverable, g.turned_away,
                              away_kwh, n_away)
    lo_prev = g.e_lo_kwh[start - 1] if start > 0 else 0.0
    hi_prev = g.e_hi_kwh[start - 1] if start > 0 else 0.0
    lo = np.maximum(g.e_lo_kwh[start:stop] - hi_prev, 0.0)
    hi = g.e_hi_kwh[start:stop] - lo_prev
    return EvGroupProfile(lo, hi, g.p_max_kw[start:stop].copy(), float(lo[-1]) if len(lo) else 0.0,
                          g.sessions, g.spec)
