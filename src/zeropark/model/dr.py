r"""Demand-response events, settled on the delivered reduction.

Per event :math:`e` with window steps :math:`W`, step :math:`\Delta t`, window length
:math:`H = |W|\Delta t`, baseline :math:`B_t` (data, see :mod:`zeropark.profiles.drbaseline`),
requested reduction :math:`R` and settlement band :math:`[\rho_{min}, \rho_{max}]`:

- delivered energy (an expression of the grid columns, never touching the baseline):
  :math:`D = \sum_{t \in W} (B_t - (imp_t - exp_t))\,\Delta t` [kWh]; requested energy
  :math:`Q = R H`; the average delivered kW is :math:`D / H`.
- columns: ``accept`` :math:`a` (binary; fixed to 1 for committed events), ``qualified``
  :math:`q` (binary: the delivery reached the minimum ratio), ``paid_kwh`` :math:`P \in [0,
  \rho_{max} Q]` (settled delivered energy), ``short_kwh`` :math:`S \ge 0` (shortfall).
- rows:

  .. math::

      q &\le a                                   &\text{(dr.qualify)}\\
      P &\le \rho_{max} Q\, q                    &\text{(dr.cap)}\\
      P &\le D + M_1 (1 - q)                     &\text{(dr.paid)}\\
      D &\ge \rho_{min} Q - M_3 (1 - q)          &\text{(dr.minimum)}\\
      S &\ge Q a - D - M_1 (1 - a)               &\text{(dr.shortfall)}

- cost: :math:`-\frac{\pi}{H} P + \lambda S` with :math:`\pi` the payment per kW of average
  reduction and :math:`\lambda` the penalty per kWh short.

So an event pays only on what is delivered, nothing below :math:`\rho_{min}` of the request,
nothing more above :math:`\rho_{max}`, and an accepted event pays :math:`\lambda` per kWh short of
the request. A park that cannot lower its import below the baseline can never earn.

Big-Ms from data: with :math:`\bar n_t` the most the park can import in step :math:`t`
(:func:`zeropark.model.data.max_deficit_kw`), the least possible delivery is
:math:`D_{min} = \sum_W (B_t - \bar n_t)\Delta t`; :math:`M_1 = \max(0, -D_{min})` and
:math:`M_3 = \max(0, \rho_{min} Q - D_{min})` are the smallest values that leave a declined or
unqualified event unconstrained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, Values
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import DrEventProfile

# Block names (columns, then rows)
ACCEPT = "dr.accept"
QUALIFIED = "dr.qualified"
PAID_KWH = "dr.paid_kwh"
SHORT_KWH = "dr.short_kwh"
QUALIFY = "dr.qualify"
CAP = "dr.cap"
PAID = "dr.paid"
MINIMUM = "dr.minimum"
SHORTFALL = "dr.shortfall"
COLUMNS = (ACCEPT, QUALIFIED, PAID_KWH, SHORT_KWH)

SETTLE_RTOL = 1e-6  # relative tolerance of the ex-post minimum-ratio test (solver feasibility)


@dataclass(frozen=True)
class EventData:
    """Numbers of one event both builders use."""

    steps: np.ndarray  # int indices of the window's steps
    hours: float  # H [h]
    baseline_kwh: float  # Σ B_t Δt
    requested_kwh: float  # Q = R H
    pay_per_kwh: float  # π / H
    m1: float
    m3: float


def event_data(d: ModelData) -> list[EventData]:
    """Per event of ``d.prof.dr_events``: window, energies and big-Ms (see module docstring)."""
    from zeropark.model.data import max_deficit_kw

    most = max_deficit_kw(d.sc, d.prof)
    out = []
    for e in d.prof.dr_events:
        steps = np.flatnonzero(e.mask)
        hours = len(steps) * d.dt_h
        base = float(e.baseline_steps_kw().sum()) * d.dt_h
        q = e.reduction_kw * hours
        d_min = base - float(most[steps].sum()) * d.dt_h
        out.append(EventData(steps, hours, base, q, e.payment_per_kw / hours,
                             max(0.0, -d_min), max(0.0, e.min_ratio * q - d_min)))
    return out


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the module docstring: per event the accept/qualified binaries, the paid and
    short columns and the five settlement rows, with the delivered energy D written on the grid
    columns of the event's steps (after the grid family is built)."""
    events = d.prof.dr_events
    if not events:
        return
    E = d.dr_names
    ed = event_data(d)
    lam = np.array([e.penalty_per_kwh for e in events])
    a = lp.var("dr.accept", (E,), np.array([1.0 if e.committed else 0.0 for e in events]),
               1.0, 0.0, integer=True)
    q = lp.var("dr.qualified", (E,), 0.0, 1.0, 0.0, integer=True)
    p = lp.var("dr.paid_kwh", (E,), 0.0,
               np.array([e.max_ratio * x.requested_kwh for e, x in zip(events, ed, strict=True)]),
               -np.array([x.pay_per_kwh for x in ed]))
    s = lp.var("dr.short_kwh", (E,), 0.0, np.inf, lam)
    Q = np.array([x.requested_kwh for x in ed])
    base = np.array([x.baseline_kwh for x in ed])
    m1 = np.array([x.m1 for x in ed])
    m3 = np.array([x.m3 for x in ed])
    rmin = np.array([e.min_ratio for e in events])
    rmax = np.array([e.max_ratio for e in events])

    lp.constrain("dr.qualify", (E,), [(1.0, q), (-1.0, a)], hi=0.0)  # q − a ≤ 0
    lp.constrain("dr.cap", (E,), [(1.0, p), (-rmax * Q, q)], hi=0.0)  # P − ρmax·Q·q ≤ 0
    # with D = B − Σ_W net·Δt moved to the left (net = imp − exp, added below per event):
    # P + Σ net Δt + M1·q ≤ B + M1
    paid = lp.constrain("dr.paid", (E,), [(1.0, p), (m1, q)], hi=base + m1)
    # Σ net Δt + M3·q ≤ B − ρmin·Q + M3
    minimum = lp.constrain("dr.minimum", (E,), [(m3, q)], hi=base - rmin * Q + m3)
    # −S + Σ net Δt + (Q + M1)·a ≤ B + M1
    short = lp.constrain("dr.shortfall", (E,), [(-1.0, s), (Q + m1, a)], hi=base + m1)
    imp, exp = lp.cols("grid.import_kw"), lp.cols("grid.export_kw")
    for i, x in enumerate(ed):  # Σ_{t ∈ W} (imp[t] − exp[t])·Δt in the event's three rows
        net = [(d.dt_h, imp[x.steps]), (-d.dt_h, exp[x.steps])]
        for rows, name in ((paid, "dr.paid"), (minimum, "dr.minimum"), (short, "dr.shortfall")):
            lp.add_terms(rows[i], net, name)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the module docstring: block ``m.dr`` over the events, reading
    ``m.grid.import_kw`` and ``m.grid.export_kw``."""
    events = {e.name: e for e in d.prof.dr_events}
    if not events:
        return
    ed = dict(zip(events, event_data(d), strict=True))
    b = m.dr = pyo.Block()
    b.E = pyo.Set(initialize=list(events), ordered=True)
    b.accept = pyo.Var(b.E, within=pyo.Binary,
                       bounds=lambda _, e: (1.0 if events[e].committed else 0.0, 1.0))
    b.qualified = pyo.Var(b.E, within=pyo.Binary, bounds=(0.0, 1.0))
    b.paid_kwh = pyo.Var(b.E, bounds=lambda _, e: (
        0.0, events[e].max_ratio * ed[e].requested_kwh))
    b.short_kwh = pyo.Var(b.E, bounds=(0.0, None))
    g = m.grid

    def net_kwh(e: str) -> pyo.Expression:
        return sum((g.import_kw[t] - g.export_kw[t]) * d.dt_h for t in ed[e].steps.tolist())

    def delivered(e: str) -> pyo.Expression:
        return ed[e].baseline_kwh - net_kwh(e)

    b.qualify = pyo.Constraint(b.E, rule=lambda b, e: b.qualified[e] <= b.accept[e])
    b.cap = pyo.Constraint(b.E, rule=lambda b, e: b.paid_kwh[e] <= events[e].max_ratio
                           * ed[e].requested_kwh * b.qualified[e])
    b.paid = pyo.Constraint(b.E, rule=lambda b, e: b.paid_kwh[e]
                            <= delivered(e) + ed[e].m1 * (1 - b.qualified[e]))
    b.minimum = pyo.Constraint(b.E, rule=lambda b, e: delivered(e) >= events[e].min_ratio
                               * ed[e].requested_kwh - ed[e].m3 * (1 - b.qualified[e]))
    b.shortfall = pyo.Constraint(b.E, rule=lambda b, e: b.short_kwh[e] >= ed[e].requested_kwh
                                 * b.accept[e] - delivered(e) - ed[e].m1 * (1 - b.accept[e]))
    ctx.costs.append(sum(-ed[e].pay_per_kwh * b.paid_kwh[e] for e in events))
    ctx.costs.append(sum(events[e].penalty_per_kwh * b.short_kwh[e] for e in events))


@dataclass(frozen=True)
class Settlement:
    """Settlement of one event from a dispatch (ex post, no solver involved).

    All energies in kWh over the window; ``delivered_kwh`` = baseline − net import energy (may be
    negative: import above the baseline).
    """

    name: str
    accepted: bool
    baseline_kwh: float
    requested_kwh: float
    delivered_kwh: float
    qualified: bool
    paid_kwh: float
    short_kwh: float
    revenue: float
    penalty: float


def settle(e: DrEventProfile, net_kw: np.ndarray, dt_h: float, accepted: bool) -> Settlement:
    """Settle an event on a net-import series (the rule of the module docstring)."""
    steps = np.flatnonzero(e.mask)
    hours = len(steps) * dt_h
    base = float(e.baseline_steps_kw().sum()) * dt_h
    q = e.reduction_kw * hours
    delivered = base - float(np.asarray(net_kw, float)[steps].sum()) * dt_h
    qualified = accepted and delivered >= e.min_ratio * q - SETTLE_RTOL * max(1.0, q)
    paid = min(max(delivered, 0.0), e.max_ratio * q) if qualified else 0.0
    short = max(q - delivered, 0.0) if accepted else 0.0
    return Settlement(e.name, accepted, base, q, delivered, qualified, paid, short,
                      e.payment_per_kw / hours * paid, e.penalty_per_kwh * short)


def outputs(d: ModelData, values: Values) -> list[Output]:
    """Delivered reduction and settlement baseline in the event steps for ``results.nc``."""
    from zeropark.model.grid import EXPORT_KW, IMPORT_KW

    T = d.T
    net = np.asarray(values[IMPORT_KW], float) - np.asarray(values[EXPORT_KW], float)
    delivered, base = np.zeros(T), np.full(T, np.nan)
    for e in d.prof.dr_events:
        base[e.mask] = e.baseline_steps_kw()
        delivered[e.mask] = base[e.mask] - net[e.mask]
    return [
        Output("dr_delivered_kw", ("time",), delivered, "kW",
               "demand-response reduction: baseline minus net import in events",
               note="baseline − net import in event steps (negative: above the baseline), 0 "
                    "outside"),
        Output("dr_baseline_kw", ("time",), base, "kW",
               "demand-response settlement baseline in event steps (NaN outside)",
               note="settlement baseline in event steps, NaN outside"),
    ]


def candidates(lp: MatrixLP, x: np.ndarray, rounded: np.ndarray) -> list[np.ndarray]:
    """Integer points to try besides ``rounded`` (integer columns in column order): for the
    events the relaxation ``x`` takes part-way (accept strictly between 0 and 1), every
    settlement of them (declined; accepted and not qualified; accepted and qualified) with the
    other integers as rounded. At most 3 such events (27 points); none for committed events.

    An event's payment in the relaxation scales with a fractional accept, so rounding it to the
    nearest value can leave the start far above the optimum (demo year: 0.13 % above the bound
    with the event accepted, 0.08 % declined), which the MILP then cannot close in minutes.
    """
    import itertools

    if not lp.has(ACCEPT) or not lp.has(QUALIFIED):
        return []
    arr = lp.arrays()
    pos = {int(c): k for k, c in enumerate(np.flatnonzero(arr["integer"]))}
    acc, qual = lp.cols(ACCEPT).ravel(), lp.cols(QUALIFIED).ravel()
    part = [e for e in range(acc.size) if 1e-6 < x[acc[e]] < 1 - 1e-6 and arr["lb"][acc[e]] < 0.5]
    if not part or len(part) > 3:  # at most 27 LPs, each from the relaxation's basis
        return []
    out = []
    for combo in itertools.product(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)), repeat=len(part)):
        cand = rounded.copy()
        for e, (a, q) in zip(part, combo, strict=True):
            cand[pos[int(acc[e])]], cand[pos[int(qual[e])]] = a, q
        if not np.array_equal(cand, rounded):
            out.append(cand)
    return out


FAMILY = Family(
    name="dr", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        QUALIFY: "demand-response qualification",
        CAP: "demand-response payment cap",
        PAID: "demand-response paid delivery",
        MINIMUM: "demand-response minimum response",
        SHORTFALL: "demand-response shortfall",
    },
    col_words={
        ACCEPT: "demand-response participation",
        QUALIFIED: "demand-response minimum response",
        PAID_KWH: "demand-response settled delivery [kWh]",
        SHORT_KWH: "demand-response shortfall [kWh]",
    },
    outputs=outputs, candidates=candidates,
)
