"""Margins of the day-ahead plan against forecast error: a peak guard and a DR delivery margin.

A plan that sits exactly at the month-to-date peak or exactly at a committed DR event's import
cap is exceeded by the first forecast error that goes the wrong way: the demand charge is billed
on the metered peak, and DR is settled on the metered import. Two margins keep the plan below
those lines.

**Forecast error model** (one-sided, per step, an assumption stated as options): the load
forecast errs with a relative standard deviation ``load_error`` (default 5 %) and the PV
forecast with ``pv_error`` (default 25 %, day-ahead PV errs far more than load), independent::

    σ_t = sqrt((load_error · L_t)² + (pv_error · PV_t)²)        [kW]

with ``L_t`` the forecast inflexible load and ``PV_t`` the forecast available PV. A chance-style
margin is ``z · σ_t``: the import exceeds the plan by more than it with probability 1 − Φ(z).

**Peak guard.** Rows ``P_m + G_m − p^imp_t ≥ e_t + μ_t`` (``operations.peak_guard``) with the
guard ``μ_t = peak_margin_kw`` when given, else ``PEAK_Z · σ_t``, and a breach column
``G_m ≥ 0`` per billing month priced at ``PEAK_GUARD_PRICE_SHARE`` (½) of the demand charge.
Below the month-to-date peak ``F`` the plan keeps ``μ_t`` under it as long as that costs less
than half the demand charge per kW given up; the billed peak ``P_m`` is never raised for the
guard (that would bill a reserve at the full demand charge and take the battery from DR and
energy). Why ½: at the line, a symmetric forecast error pushes the metered peak up with
probability ½, so the first kW of distance saves about half a kW of expected demand.
``metadata.expected`` is computed from the planned import; the objective includes the breach
cost.

**Lookahead discount.** A schedule is executed for its first ``EXECUTED_H`` (24 h); the next
night re-plans the rest. The demand charge is a maximum, and the day executed is metered and
billed whatever comes after it: raising today's import to the peak tomorrow's forecast needs
saves nothing if tomorrow comes as forecast and costs the demand charge on the difference if it
comes lower (or if the next night finds a cheaper way). So the steps after the executed day
enter the peak rows and the guard rows at their forecast less ``κ_t = lookahead_z · σ_t``::

    P_m − p^imp_t ≥ e_t − κ_t,    P_m + G_m − p^imp_t ≥ e_t + μ_t − κ_t      (t ≥ EXECUTED_H)

and ``κ_t = 0`` on the executed day. Tomorrow still counts in full for energy, SOC, EVs and DR;
only its claim on today's peak is discounted: today is raised for tomorrow only when tomorrow
needs it beyond ``lookahead_z`` standard deviations of its forecast error.

**DR delivery margin.** For each DR event of the horizon a second shortfall row asks for the
requested energy plus the margin ``M_e = H · (dr_margin_kw or DR_Z · mean_{t∈e} σ_t)`` [kWh]
when the event is accepted (``a_e``), with its own slack ``S'_e ≥ 0`` at
``DR_MARGIN_PENALTY_FACTOR`` times the event's penalty per kWh::

    −S'_e + Σ_{t∈e} (p^imp_t − p^exp_t) Δt + (Q_e + M_e + M1_e) a_e ≤ B_e + M1_e

(``M1_e`` the event's own big-M, so the row is slack when ``a_e = 0``). Errors inside a
window are taken as fully correlated (one weather, one production plan), hence the window mean
of ``σ_t``, not its root-sum-square. With ``dr_margin_hard`` (default) the slack of an event
not yet committed is 0: an event is accepted only if its margin can be kept (so it is delivered
with probability Φ(DR_Z) under the error model); a committed event (``state.dr_committed``)
must be delivered whatever the margin costs, so its slack stays open and priced.

Defaults (chosen on replays of July 2025 on the demo park, seeds 1–3, and then frozen; see
``docs/operations.md``): ``PEAK_Z = 1.28`` (the guard covers 90 % of load/PV errors per step;
1.645 and 2.0 changed the regret by less than 0.05 points), ``LOOKAHEAD_Z = 3`` (regret fell
from 1.75 % without discount to 1.38 % at z = 1.28, 1.28 % at 2 and 1.0–1.25 % from 3 on, where
it stops changing; 3 σ: today is raised only for a tomorrow that is almost sure to need it),
``DR_Z = 1.645`` with the hard margin (95 %: a missed DR commitment is penalised and harms the
next offer; with the soft margin July's event was accepted in 2 of 3 seeds and in one of them
2,814 kWh short). ``Margins.off()`` restores the plan at the lines (zero margins, no lookahead
discount), as before these options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from zeropark.errors import ScenarioError
from zeropark.model import dr, grid
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import Profiles

PEAK_Z = 1.28
"""Quantile of the peak guard [-]: 90 % one-sided (default; see the module docstring)."""
DR_Z = 1.645
"""Quantile of the DR delivery margin [-]: 95 % one-sided."""
LOAD_ERROR = 0.05
"""Relative standard deviation of the day-ahead load forecast [-] (assumption: ±5 %)."""
PV_ERROR = 0.25
"""Relative standard deviation of the day-ahead PV forecast [-] (assumption: ±25 % day to day)."""
PEAK_GUARD_PRICE_SHARE = 0.5
"""Price of a kW of peak guard given up, as a share of the demand charge [-]: at the line, a
symmetric forecast error pushes the metered peak up with probability 1/2."""
LOOKAHEAD_Z = 3.0
"""Quantile of the lookahead discount [-]: the steps after the executed day are billed at their
forecast net load less ``LOOKAHEAD_Z · σ_t`` (default; see the module docstring)."""
EXECUTED_H = 24.0
"""Hours of a schedule executed before the next night's schedule replaces it [h]."""
DR_MARGIN_PENALTY_FACTOR = 5.0
"""Cost of using the DR margin, as a multiple of the event's penalty per kWh [-]."""


@dataclass(frozen=True)
class Margins:
    """Margins of one schedule.

    Attributes
    ----------
    peak_margin_kw : float or None [kW]
        Fixed peak guard; None = chance-style ``PEAK_Z · σ_t``.
    dr_margin_kw : float or None [kW]
        Fixed DR delivery margin (window mean); None = ``DR_Z · mean σ_t``.
    load_error, pv_error : float [-]
        Relative standard deviations of the load and PV forecasts.
    peak_z, dr_z : float [-]
        Quantiles of the chance-style margins.
    lookahead_z : float [-]
        Quantile of the lookahead discount κ_t = lookahead_z · σ_t (0: none).
    guard_price_share : float [-]
        Price of a kW of peak guard given up, as a share of the demand charge.
    dr_penalty_factor : float [-]
        Price of the DR margin's slack, as a multiple of the event's penalty per kWh.
    dr_margin_hard : bool
        Accept an event not yet committed only with its margin kept (no slack).
    """

    peak_margin_kw: float | None = None
    dr_margin_kw: float | None = None
    load_error: float = LOAD_ERROR
    pv_error: float = PV_ERROR
    peak_z: float = PEAK_Z
    dr_z: float = DR_Z
    lookahead_z: float = LOOKAHEAD_Z
    guard_price_share: float = PEAK_GUARD_PRICE_SHARE
    dr_penalty_factor: float = DR_MARGIN_PENALTY_FACTOR
    dr_margin_hard: bool = True

    def __post_init__(self) -> None:
        for name in ("peak_margin_kw", "dr_margin_kw"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and 0.0 <= v <= 1e7):
                raise ScenarioError(f"--{name.removesuffix('_kw').replace('_', '-')}", v,
                                    "'auto' or a margin in kW, 0 to 1e7")
        for name in ("load_error", "pv_error"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= 1.0):
                raise ScenarioError(f"--{name.replace('_', '-')}", v,
                                    "a relative standard deviation in [0, 1]")
        if not (math.isfinite(self.dr_penalty_factor) and 0.0 <= self.dr_penalty_factor <= 1e3):
            raise ScenarioError("dr_penalty_factor", self.dr_penalty_factor,
                                "a multiple of the event's penalty in [0, 1000]")
        if not (math.isfinite(self.guard_price_share) and 0.0 <= self.guard_price_share <= 1.0):
            raise ScenarioError("guard_price_share", self.guard_price_share,
                                "a share of the demand charge in [0, 1]")
        for name in ("peak_z", "dr_z", "lookahead_z"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= 5.0):
                raise ScenarioError(name, v, "a quantile z in [0, 5]")

    @classmethod
    def off(cls) -> Margins:
        """No margins: plans sit at the month-to-date peak and the DR caps, and every step of
        the horizon is billed at its forecast (no lookahead discount)."""
        return cls(peak_margin_kw=0.0, dr_margin_kw=0.0, lookahead_z=0.0)

    def sigma_kw(self, prof: Profiles) -> np.ndarray:
        """Forecast error σ_t of the net load [kW], shape (T,)."""
        pv = np.asarray(prof.pv_avail_kw, float).sum(axis=0) if len(prof.pv_avail_kw) else 0.0
        return np.hypot(self.load_error * np.asarray(prof.load_kw, float),
                        self.pv_error * np.asarray(pv, float) * np.ones(prof.n_steps))

    def peak_kw(self, prof: Profiles) -> np.ndarray:
        """Peak guard μ_t [kW], shape (T,)."""
        if self.peak_margin_kw is not None:
            return np.full(prof.n_steps, float(self.peak_margin_kw))
        return self.peak_z * self.sigma_kw(prof)

    def lookahead_kw(self, prof: Profiles) -> np.ndarray:
        """Lookahead discount κ_t [kW], shape (T,): ``lookahead_z · σ_t`` on the steps from
        :data:`EXECUTED_H` on, 0 on the executed day."""
        kappa = self.lookahead_z * self.sigma_kw(prof)
        kappa[:int(round(EXECUTED_H / prof.dt_h))] = 0.0
        return kappa

    def dr_kw(self, prof: Profiles) -> list[float]:
        """DR delivery margin of each event of ``prof.dr_events`` [kW, window mean]."""
        if self.dr_margin_kw is not None:
            return [float(self.dr_margin_kw)] * len(prof.dr_events)
        sigma = self.sigma_kw(prof)
        return [float(self.dr_z * sigma[e.mask].mean()) for e in prof.dr_events]

    def describe(self) -> dict[str, Any]:
        """The rule, for ``metadata.margins``."""
        return {
            "peak_rule": ("fixed" if self.peak_margin_kw is not None else
                          f"z·σ, z = {self.peak_z:g}")
            + (f"; lookahead −z·σ, z = {self.lookahead_z:g}" if self.lookahead_z > 0 else ""),
            "dr_rule": ("fixed" if self.dr_margin_kw is not None else f"z·σ, z = {self.dr_z:g}")
            + ("; kept to accept" if self.dr_margin_hard else ""),
            "load_error": self.load_error, "pv_error": self.pv_error,
        }


def parse_margin(value: str | float | None, option: str) -> float | None:
    """``auto`` (or None) → None (chance-style), else a margin in kW."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        kw = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(option, value, "'auto' or a margin in kW, 0 to 1e7") from None
    if not (math.isfinite(kw) and 0.0 <= kw <= 1e7):
        raise ScenarioError(option, value, "'auto' or a margin in kW, 0 to 1e7")
    return kw


def add_margin_rows(lp: MatrixLP, d: ModelData, margins: Margins) -> dict[str, Any]:
    """Add the peak guard and the DR delivery margin rows to a built matrix model.

    Returns the numbers used (for ``metadata.margins``).
    """
    from zeropark.model.dr import event_data

    prof = d.prof
    info: dict[str, Any] = margins.describe()
    guard = margins.peak_kw(prof)
    info["peak_margin_kw_max"] = float(np.round(guard.max(initial=0.0), 3))
    info["peak_margin_kw_mean"] = float(np.round(guard.mean() if guard.size else 0.0, 3))
    kappa = margins.lookahead_kw(prof)
    if lp.has(grid.PEAK_KW) and np.any(kappa > 0):
        lp.shift_row_lo(grid.PEAK, -kappa)
    if lp.has(grid.PEAK_KW) and np.any(guard > 0):
        imp, peak = lp.cols(grid.IMPORT_KW), lp.cols(grid.PEAK_KW)
        price = margins.guard_price_share * grid.basic_charge_data(d).c_peak
        breach = lp.var("operations.peak_guard_breach_kw", (prof.month_labels,), 0.0, np.inf,
                        price)
        rows = lp.rows("operations.peak_guard", (range(d.T),),
                       lo=prof.peak_excursion_kw + guard - kappa)
        lp.add(rows, peak[prof.month_index], 1.0)
        lp.add(rows, breach[prof.month_index], 1.0)
        lp.add(rows, imp, -1.0)
    info["dr_margin_kw"] = {}
    if not prof.dr_events or not lp.has(dr.ACCEPT):
        return info
    dr_kw = margins.dr_kw(prof)
    a = lp.cols(dr.ACCEPT)
    imp, exp = lp.cols(grid.IMPORT_KW), lp.cols(grid.EXPORT_KW)
    E = [e.name for e in prof.dr_events]
    # an event not yet committed is accepted only with its margin kept (no slack); a committed
    # one is delivered as far as the park can (slack at a price)
    s = lp.var("operations.dr_margin_short_kwh", (E,), 0.0,
               np.array([np.inf if e.committed or not margins.dr_margin_hard else 0.0
                         for e in prof.dr_events]),
               np.array([margins.dr_penalty_factor * e.penalty_per_kwh
                         for e in prof.dr_events]))
    for i, (e, x) in enumerate(zip(prof.dr_events, event_data(d), strict=True)):
        info["dr_margin_kw"][e.name] = float(np.round(dr_kw[i], 3))
        if dr_kw[i] <= 0:
            continue
        m_kwh = dr_kw[i] * x.hours
        row = lp.rows(f"operations.dr_margin[{e.name}]", ((e.name,),), hi=x.baseline_kwh + x.m1)
        lp.add(row, s[i], -1.0)
        lp.add(row, a[i], x.requested_kwh + m_kwh + x.m1)
        lp.add(row, imp[x.steps], d.dt_h)
        lp.add(row, exp[x.steps], -d.dt_h)
    return info
