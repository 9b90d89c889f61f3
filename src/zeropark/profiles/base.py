"""The ``Profiles`` container: every time series the model needs, on one time index.

Profiles are plain numpy arrays so that the two model builders, the operations code and the tests
can construct them directly (tests build tiny hand-checkable profiles without pvlib).
"""

from __future__ import annotations

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
    """

    e_lo_kwh: np.ndarray
    e_hi_kwh: np.ndarray
    p_max_kw: np.ndarray
    requested_kwh: float
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    spec: Any = None  # zeropark.profiles.ev.EvGroupSpec, to rebuild envelopes for a window


@dataclass(frozen=True)
class DrEventProfile:
    """One demand-response event mapped onto the time index."""

    name: str
    mask: np.ndarray  # bool [T]: steps in the event window
    baseline_kw: float
    reduction_kw: float
    payment_per_kw: float
    penalty_per_kwh: float
    committed: bool = False


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
            DrEventProfile(e.name, e.mask[sl].copy(), e.baseline_kw, e.reduction_kw,
                           e.payment_per_kw, e.penalty_per_kwh, e.committed)
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
        )


def _window_ev(g: EvGroupProfile, time: pd.DatetimeIndex, dt_h: float, start: int,
               stop: int) -> EvGroupProfile:
    """The group's envelope over a window: rebuilt from its sessions when they are known (a car
    plugged in before the window still needs what it cannot get later), else the loosest
    rebased envelope (as if the most / the least had been delivered before the window)."""
    if g.spec is not None and len(g.sessions):
        from zeropark.profiles.ev import ev_envelopes

        env = ev_envelopes(g.sessions, time, dt_h, [g.spec])[g.spec.name]
        return EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw,
                              float(env.requested_kwh), g.sessions, g.spec)
    lo_prev = g.e_lo_kwh[start - 1] if start > 0 else 0.0
    hi_prev = g.e_hi_kwh[start - 1] if start > 0 else 0.0
    lo = np.maximum(g.e_lo_kwh[start:stop] - hi_prev, 0.0)
    hi = g.e_hi_kwh[start:stop] - lo_prev
    return EvGroupProfile(lo, hi, g.p_max_kw[start:stop].copy(), float(lo[-1]) if len(lo) else 0.0,
                          g.sessions, g.spec)
