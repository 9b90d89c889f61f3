"""Grid connection: import/export within limits, TOU energy cost, the monthly basic charge of a
two-part tariff, and import/export exclusivity binaries only in the steps where simultaneous flow
could pay.

Flows per step t (Δt [h], c^imp_t and c^exp_t the import and export prices [currency/kWh]):

- :math:`0 \\le p^{imp}_t \\le L^{imp}`, :math:`0 \\le p^{exp}_t \\le L^{exp}_t` [kW]
  (``grid.import_kw``, ``grid.export_kw``; :math:`L^{exp}_t = 0` where exporting would need
  simultaneous import);
- balance: :math:`+p^{imp}_t - p^{exp}_t`; cost :math:`\\sum_t (c^{imp}_t p^{imp}_t -
  c^{exp}_t p^{exp}_t)\\Delta t`;
- exclusivity in the binary steps B, with :math:`u_t \\in \\{0, 1\\}` (``grid.exclusive``) and
  data-derived :math:`M^{imp}_t`, :math:`M^{exp}_t` (the most the park could import or export):
  :math:`p^{imp}_t \\le M^{imp}_t u_t` (``grid.import_if_on``),
  :math:`p^{exp}_t \\le M^{exp}_t (1 - u_t)` (``grid.export_if_off``).

Basic charge (see ``docs/billing.md``), with :math:`f_m` the share of billing month :math:`m` the
horizon covers, :math:`c^{dem}` the demand price [currency/(kW·month)], :math:`C^{cap}` the
capacity charge of the transformer [currency/month], :math:`r_t` the intra-step peak-to-mean
ratio and :math:`P_m` the billed demand (highest 15-min average import) of month :math:`m`:

- peak rows, every basis: :math:`P_m \\ge p^{imp}_t + e_t` for the steps of month :math:`m`,
  with :math:`e_t = (r_t - 1) L_t` the load's rise of its highest 15-min average above the step
  mean (other flows held through the step), and :math:`P_m \\ge` the month-to-date peak
  (operations);
- ``demand``: :math:`\\sum_m f_m c^{dem} P_m`;
- ``capacity``: the constant :math:`\\sum_m f_m C^{cap}`;
- ``contract`` (合同最大需量): contract :math:`K_m \\ge \\phi S` (floor share of the transformer
  kVA) and excess :math:`X_m \\ge 0` with :math:`P_m - \\tau K_m - X_m \\le 0`; cost
  :math:`\\sum_m f_m c^{dem} (K_m + \\mu X_m)` (tolerance :math:`\\tau` = 1.05, excess multiplier
  :math:`\\mu` = 2);
- ``choose``: binary :math:`y_q` per basis period (1 = capacity) with cost
  :math:`\\sum_{m \\in q} f_m C^{cap}`; the contract rows become
  :math:`P_m - \\tau K_m - X_m - M_m y_q \\le 0` and :math:`K_m + \\phi S y_q \\ge \\phi S`, with
  :math:`M_m` the largest billed demand the month can reach (data-derived).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, Values
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

# Block names (columns, then rows): the only place outside the builders that spells them.
IMPORT_KW = "grid.import_kw"
EXPORT_KW = "grid.export_kw"
PEAK_KW = "grid.peak_kw"
CONTRACT_KW = "grid.contract_kw"
EXCESS_KW = "grid.excess_kw"
CAPACITY_BASIS = "grid.capacity_basis"
EXCLUSIVE = "grid.exclusive"
PEAK = "grid.peak"
CONTRACT = "grid.contract"
CONTRACT_FLOOR = "grid.contract_floor"
IMPORT_IF_ON = "grid.import_if_on"
EXPORT_IF_OFF = "grid.export_if_off"


@dataclass(frozen=True)
class BillingRules:
    """Two-part tariff rules of a ``models/billing.yaml`` entry (see that file for sources)."""

    key: str
    contract_tolerance: float
    excess_multiplier: float
    contract_floor_share: float
    basis_period: str
    hourly_peak_ratio_assumed: float


def billing_rules(sc: Scenario) -> BillingRules:
    """The scenario's billing rules entry, checked.

    Raises
    ------
    ScenarioError
        Unknown key or a rule outside its range.
    """
    from zeropark.errors import ScenarioError
    from zeropark.scenario.resolve import library_for

    key = sc.grid.billing_rules
    e = library_for(sc).get("billing", key, "grid.billing_rules")
    checks = {"contract_tolerance": (1.0, 2.0), "excess_multiplier": (1.0, 10.0),
              "contract_floor_share": (0.0, 1.0), "hourly_peak_ratio_assumed": (1.0, 3.0)}
    for name, (lo, hi) in checks.items():
        val = e.get(name)
        if isinstance(val, bool) or not isinstance(val, int | float) or not lo <= val <= hi:
            raise ScenarioError(f"billing:{key}.{name}", val, f"a number in [{lo:g}, {hi:g}]")
    if e.get("basis_period") not in ("year", "quarter"):
        raise ScenarioError(f"billing:{key}.basis_period", e.get("basis_period"),
                            "year or quarter")
    return BillingRules(key, float(e["contract_tolerance"]), float(e["excess_multiplier"]),
                        float(e["contract_floor_share"]), str(e["basis_period"]),
                        float(e["hourly_peak_ratio_assumed"]))


def _limits(d: ModelData) -> tuple[float, float]:
    return d.sc.grid.import_limit_kw, d.sc.grid.export_limit_kw


def _peak_floor(d: ModelData) -> np.ndarray:
    floor = d.prof.peak_floor_kw
    return np.zeros(d.months) if floor is None else np.asarray(floor, float)


def export_upper_kw(d: ModelData) -> np.ndarray:
    """Export limit per step: zero where exporting would need simultaneous import."""
    ub = np.full(d.T, d.sc.grid.export_limit_kw)
    ub[d.export_blocked_steps] = 0.0
    return ub


def big_m(d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """Data-derived big-M of the exclusivity rows in the binary steps: the most the park could
    import (all on-site demand, nothing on-site supplied) and export (its largest surplus)."""
    from zeropark.model.data import max_deficit_kw, max_surplus_kw

    b = d.grid_binary_steps
    m_imp = max_deficit_kw(d.sc, d.prof)[b]
    m_exp = np.minimum(max_surplus_kw(d.sc, d.prof)[b], d.sc.grid.export_limit_kw)
    return m_imp, np.maximum(m_exp, 0.0)


def month_weight(d: ModelData) -> np.ndarray:
    """Share :math:`f_m` of each billing month's basic charge the run carries, shape (M,).

    From :func:`zeropark.profiles.tariff.billing_month_fraction` (hours of the month in the
    horizon over the hours of the month); 1 for whole months and for hand-made profiles without
    ``month_fraction``. Demand and capacity charges are both multiplied by it.
    """
    f = d.prof.month_fraction
    return np.ones(d.months) if f is None else np.asarray(f, float)


def peak_excursion_kw(d: ModelData) -> np.ndarray:
    """Rise :math:`e_t = (r_t - 1) L_t` [kW] of the load's highest 15-min average above the step
    mean, shape (T,); zero at 15-min steps or without sub-hourly information.

    The billed demand is the highest 15-min average import; with PV, storage and the other flows
    held through the step the import's highest quarter-hour is :math:`p^{imp}_t + e_t`, so the
    peak row is :math:`P_m - p^{imp}_t \\ge e_t`.
    """
    return d.prof.peak_excursion_kw


def capacity_cost(d: ModelData) -> float:
    """Fixed capacity (kVA) charge over the horizon [currency]:
    :math:`c^{cap} \\sum_m f_m`, pro rata to the share of each billing month covered."""
    return d.prof.capacity_charge_per_month * float(month_weight(d).sum())


def demand_cost_per_kw(d: ModelData) -> np.ndarray:
    """Objective coefficient of each month's peak [currency/kW]: :math:`c^{dem} f_m`."""
    return d.prof.demand_charge_per_kw_month * month_weight(d)


@dataclass(frozen=True)
class BasicCharge:
    """Numbers of the basic-charge columns and rows of one model; both forms read them.

    ``c_peak`` [currency/kW] per month is the cost of the billed demand column (basis demand);
    ``offset`` [currency] the fixed part (basis capacity). With contract rows: contract bounds,
    costs of contract and excess [currency/kW] per month and the tolerance; with ``choose`` also
    the basis periods, the month → period map, the capacity cost of each period [currency], the
    big-M of each month [kW] and the contract floor [kW].
    """

    basis: str
    c_peak: np.ndarray
    offset: float
    c_contract: np.ndarray = field(default_factory=lambda: np.zeros(0))
    c_excess: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contract_lb: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contract_ub: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tolerance: float = 1.0
    periods: list[str] = field(default_factory=list)
    period_of_month: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    c_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    big_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    floor_kw: float = 0.0

    @property
    def has_contract(self) -> bool:
        """Contract rows exist (billing ``contract`` or ``choose``): one contract cost per month."""
        return self.c_contract.size > 0

    @property
    def has_choice(self) -> bool:
        """The basis is chosen per period (billing ``choose``)."""
        return len(self.periods) > 0


def basis_periods(labels: list[str], period: str) -> tuple[list[str], np.ndarray]:
    """Basis periods (``"2025"`` or ``"2025-Q3"``) of billing months ``"YYYY-MM"``, and the
    period index of each month."""
    keys = [lab[:4] if period == "year" else f"{lab[:4]}-Q{(int(lab[5:7]) - 1) // 3 + 1}"
            for lab in labels]
    uniq = list(dict.fromkeys(keys))
    return uniq, np.array([uniq.index(k) for k in keys], dtype=np.int64)


def month_peak_bound_kw(d: ModelData) -> np.ndarray:
    """Largest billed demand each month can reach [kW], shape (M,): the month-to-date floor or
    :math:`\\max_t (\\min(L^{imp}, D_t + L^{exp}) + e_t)` with :math:`D_t` the most on-site
    demand."""
    from zeropark.model.data import max_deficit_kw

    imp_ub = np.minimum(d.sc.grid.import_limit_kw,
                        max_deficit_kw(d.sc, d.prof) + d.sc.grid.export_limit_kw)
    bound = _peak_floor(d).copy()
    np.maximum.at(bound, d.prof.month_index, imp_ub + peak_excursion_kw(d))
    return bound


def basic_charge_data(d: ModelData) -> BasicCharge:
    """The basic charge of the scenario's billing basis (see the module docstring)."""
    g = d.sc.grid
    w = month_weight(d)
    p_dem = d.prof.demand_charge_per_kw_month
    if g.billing in ("demand", "capacity"):
        return BasicCharge(g.billing, p_dem * w, capacity_cost(d))
    rules = billing_rules(d.sc)
    floor_kw = rules.contract_floor_share * float(g.transformer_kva or 0.0)
    M = d.months
    kw: dict[str, Any] = dict(c_contract=p_dem * w, c_excess=rules.excess_multiplier * p_dem * w,
              tolerance=rules.contract_tolerance, floor_kw=floor_kw)
    if g.billing == "contract":
        if g.contract_kw is not None:  # a contract below the floor is set at the floor
            fixed = np.full(M, max(g.contract_kw, floor_kw))
            return BasicCharge("contract", np.zeros(M), 0.0, contract_lb=fixed,
                               contract_ub=fixed.copy(), **kw)
        return BasicCharge("contract", np.zeros(M), 0.0, contract_lb=np.full(M, floor_kw),
                           contract_ub=np.full(M, np.inf), **kw)
    periods, pom = basis_periods(d.prof.month_labels, g.basis_period or rules.basis_period)
    c_cap = np.bincount(pom, weights=d.prof.capacity_charge_per_month * w,
                        minlength=len(periods))
    return BasicCharge("choose", np.zeros(M), 0.0, contract_lb=np.zeros(M),
                       contract_ub=np.full(M, np.inf), periods=periods, period_of_month=pom,
                       c_capacity=c_cap, big_m=month_peak_bound_kw(d), **kw)


def basic_charge(d: ModelData, values: dict[str, np.ndarray]) -> float:
    """The basic charge of a solution [currency]: the objective's demand/capacity terms."""
    bc = basic_charge_data(d)

    def val(name: str, n: int) -> np.ndarray:
        return np.asarray(values.get(name, np.zeros(n)), float)

    total = float((bc.c_peak * val(PEAK_KW, d.months)).sum()) + bc.offset
    if bc.has_contract:
        total += float((bc.c_contract * val(CONTRACT_KW, d.months)).sum())
        total += float((bc.c_excess * val(EXCESS_KW, d.months)).sum())
    if bc.has_choice:
        total += float((bc.c_capacity * val(CAPACITY_BASIS, len(bc.periods))).sum())
    return total


def _add_basic_matrix(lp: MatrixLP, d: ModelData, imp: np.ndarray) -> None:
    """Billed demand, contract and basis columns and rows (matrix form)."""
    bc = basic_charge_data(d)
    lp.objective_offset += bc.offset
    months = d.prof.month_labels
    month_of = d.prof.month_index
    peak = lp.var("grid.peak_kw", (months,), _peak_floor(d), np.inf, bc.c_peak)
    # P[m(t)] − p_imp[t] ≥ e[t]
    lp.constrain("grid.peak", (range(d.T),), [(1.0, peak[month_of]), (-1.0, imp)],
                 lo=peak_excursion_kw(d))
    if not bc.has_contract:
        return
    k = lp.var("grid.contract_kw", (months,), bc.contract_lb, bc.contract_ub, bc.c_contract)
    x = lp.var("grid.excess_kw", (months,), 0.0, np.inf, bc.c_excess)
    # P[m] − τ·K[m] − X[m] (− M[m]·y[q(m)] with a choice of basis) ≤ 0
    contract = [(1.0, peak), (-bc.tolerance, k), (-1.0, x)]
    if not bc.has_choice:
        lp.constrain("grid.contract", (months,), contract, hi=0.0)
        return
    y = lp.var("grid.capacity_basis", (bc.periods,), 0.0, 1.0, bc.c_capacity, integer=True)
    y_of_month = y[bc.period_of_month]
    lp.constrain("grid.contract", (months,), [*contract, (-bc.big_m, y_of_month)], hi=0.0)
    if bc.floor_kw > 0:
        # K[m] + φS·y[q(m)] ≥ φS
        lp.constrain("grid.contract_floor", (months,),
                     [(1.0, k), (bc.floor_kw, y_of_month)], lo=bc.floor_kw)


def _add_basic_pyomo(b: pyo.Block, d: ModelData, ctx: PyomoContext) -> None:
    """Billed demand, contract and basis columns and rows (Pyomo form)."""
    bc = basic_charge_data(d)
    months = d.prof.month_labels
    floor = _peak_floor(d)
    b.M = pyo.Set(initialize=months, ordered=True)
    b.peak_kw = pyo.Var(b.M, bounds=lambda _, mo: (floor[months.index(mo)], None))
    month_of = [months[i] for i in d.prof.month_index]
    rise = peak_excursion_kw(d)
    b.peak = pyo.Constraint(
        b.T, rule=lambda b, t: b.peak_kw[month_of[t]] - b.import_kw[t] >= rise[t])
    ctx.costs.append(sum(bc.c_peak[i] * b.peak_kw[mo] for i, mo in enumerate(months)))
    ctx.costs.append(bc.offset)
    if not bc.has_contract:
        return
    idx = {mo: i for i, mo in enumerate(months)}
    b.contract_kw = pyo.Var(b.M, bounds=lambda _, mo: (
        bc.contract_lb[idx[mo]], None if np.isinf(bc.contract_ub[idx[mo]])
        else bc.contract_ub[idx[mo]]))
    b.excess_kw = pyo.Var(b.M, bounds=(0.0, None))
    ctx.costs.append(sum(bc.c_contract[i] * b.contract_kw[mo] + bc.c_excess[i] * b.excess_kw[mo]
                         for i, mo in enumerate(months)))
    if not bc.has_choice:
        b.contract = pyo.Constraint(b.M, rule=lambda b, mo: b.peak_kw[mo]
                                    - bc.tolerance * b.contract_kw[mo] - b.excess_kw[mo] <= 0)
        return
    period_of = {mo: bc.periods[bc.period_of_month[i]] for i, mo in enumerate(months)}
    b.Q = pyo.Set(initialize=bc.periods, ordered=True)
    b.capacity_basis = pyo.Var(b.Q, within=pyo.Binary)
    ctx.costs.append(sum(bc.c_capacity[i] * b.capacity_basis[q]
                         for i, q in enumerate(bc.periods)))
    b.contract = pyo.Constraint(b.M, rule=lambda b, mo: b.peak_kw[mo]
                                - bc.tolerance * b.contract_kw[mo] - b.excess_kw[mo]
                                - bc.big_m[idx[mo]] * b.capacity_basis[period_of[mo]] <= 0)
    if bc.floor_kw > 0:
        b.contract_floor = pyo.Constraint(b.M, rule=lambda b, mo: b.contract_kw[mo]
                                          + bc.floor_kw * b.capacity_basis[period_of[mo]]
                                          >= bc.floor_kw)


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the module docstring: import/export columns with their energy costs and
    balance terms, the basic charge (:func:`_add_basic_matrix`) and the exclusivity rows."""
    T, dt = d.T, d.dt_h
    L_imp, L_exp = _limits(d)
    steps = range(T)
    imp = lp.var("grid.import_kw", (steps,), 0.0, L_imp, d.prof.import_price_per_kwh * dt)
    exp = lp.var("grid.export_kw", (steps,), 0.0, export_upper_kw(d),
                 -d.prof.export_price_per_kwh * dt)
    lp.add_terms(bal, [(1.0, imp), (-1.0, exp)])  # balance: + p_imp[t] − p_exp[t]
    _add_basic_matrix(lp, d, imp)
    b = d.grid_binary_steps
    if len(b):
        m_imp, m_exp = big_m(d)
        u = lp.var("grid.exclusive", (list(b),), 0.0, 1.0, integer=True)
        # p_imp[t] − M_imp[t]·u[t] ≤ 0;  p_exp[t] + M_exp[t]·u[t] ≤ M_exp[t]
        lp.constrain("grid.import_if_on", (list(b),), [(1.0, imp[b]), (-m_imp, u)], hi=0.0)
        lp.constrain("grid.export_if_off", (list(b),), [(1.0, exp[b]), (m_exp, u)], hi=m_exp)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form (same rows, columns and coefficients as :func:`add_matrix`)."""
    T, dt = d.T, d.dt_h
    L_imp, L_exp = _limits(d)
    price_imp, price_exp = d.prof.import_price_per_kwh, d.prof.export_price_per_kwh
    b = m.grid = pyo.Block()
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.import_kw = pyo.Var(b.T, bounds=(0.0, L_imp))
    exp_ub = export_upper_kw(d)
    b.export_kw = pyo.Var(b.T, bounds=lambda _, t: (0.0, exp_ub[t]))
    _add_basic_pyomo(b, d, ctx)
    bsteps = [int(t) for t in d.grid_binary_steps]
    if bsteps:
        m_imp, m_exp = (dict(zip(bsteps, m, strict=True)) for m in big_m(d))
        b.B = pyo.Set(initialize=bsteps, ordered=True)
        b.exclusive = pyo.Var(b.B, within=pyo.Binary)
        b.import_if_on = pyo.Constraint(
            b.B, rule=lambda b, t: b.import_kw[t] - m_imp[t] * b.exclusive[t] <= 0)
        b.export_if_off = pyo.Constraint(
            b.B, rule=lambda b, t: b.export_kw[t] + m_exp[t] * b.exclusive[t] <= m_exp[t])
    ctx.balance.append(lambda t: b.import_kw[t] - b.export_kw[t])
    ctx.costs.append(sum(price_imp[t] * dt * b.import_kw[t] for t in range(T)))
    ctx.costs.append(sum(-price_exp[t] * dt * b.export_kw[t] for t in range(T)))


def billed_demand_kw(d: ModelData, import_kw: np.ndarray) -> np.ndarray:
    """Billed demand of each month [kW], shape (M,): the highest :math:`p^{imp}_t + e_t` of its
    steps (the highest 15-min average) or the month-to-date peak, whichever is larger."""
    peak = _peak_floor(d).copy()
    np.maximum.at(peak, d.prof.month_index, np.asarray(import_kw, float) + peak_excursion_kw(d))
    return peak


def basis_costs(d: ModelData, import_kw: np.ndarray) -> dict[str, float | None]:
    """Basic charge of the same dispatch on each basis [currency] (None where not priced).

    demand: :math:`\\sum_m f_m c^{dem} P_m`; contract at the best contract for the dispatch,
    :math:`\\sum_m f_m c^{dem} \\max(\\phi S, P_m / \\tau)` (each kW of contract below
    :math:`P_m/\\tau` saves 1 kW of contract and adds :math:`\\tau` kW of excess at
    :math:`\\mu` times the price, :math:`\\tau\\mu` = 2.1 > 1); capacity
    :math:`\\sum_m f_m C^{cap}`.
    """
    g = d.sc.grid
    w, peak = month_weight(d), billed_demand_kw(d, import_kw)
    p_dem = d.prof.demand_charge_per_kw_month
    out: dict[str, float | None] = {"demand": float((p_dem * w * peak).sum()) if p_dem else None,
                                    "contract": None, "capacity": None}
    if g.transformer_kva is not None:
        rules = billing_rules(d.sc)
        floor_kw = rules.contract_floor_share * g.transformer_kva
        if p_dem:
            best = np.maximum(floor_kw, peak / rules.contract_tolerance)
            out["contract"] = float((p_dem * w * best).sum())
        if d.prof.capacity_charge_per_month:
            out["capacity"] = d.prof.capacity_charge_per_month * float(w.sum())
    return out


def billing_kpis(d: ModelData, values: dict[str, np.ndarray]) -> dict[str, object]:
    """What the run billed and why: basis (per basis period for ``choose``), contracts, billed
    demand, pro-rating shares, the basic charge and what the other bases would cost for the same
    dispatch."""
    bc = basic_charge_data(d)
    months = d.prof.month_labels
    imp = np.asarray(values.get(IMPORT_KW, np.zeros(d.T)), float)
    contract: np.ndarray | None = None
    excess: np.ndarray | None = None
    if bc.has_contract:
        contract = np.asarray(values[CONTRACT_KW], float)
        excess = np.asarray(values[EXCESS_KW], float)
    if bc.has_choice and contract is not None and excess is not None:  # choice has contracts
        y = np.round(np.asarray(values[CAPACITY_BASIS], float)).astype(bool)
        basis = {q: ("capacity" if on else "contract") for q, on in zip(bc.periods, y, strict=True)}
        on_contract = ~y[bc.period_of_month]
        contract = np.where(on_contract, contract, np.nan)
        excess = np.where(on_contract, excess, np.nan)
    else:
        basis = {"horizon": bc.basis}

    def by_month(a: np.ndarray | None) -> dict[str, float | None] | None:
        if a is None:
            return None
        return {m: (None if np.isnan(v) else float(v)) for m, v in zip(months, a, strict=True)}

    return {
        "basis": basis,
        "contract_kw_by_month": by_month(contract),
        "excess_kw_by_month": by_month(excess),
        "billed_demand_kw_by_month": by_month(billed_demand_kw(d, imp)),
        "month_fraction": by_month(month_weight(d)),
        "basic_charge": basic_charge(d, values),
        "basis_costs_same_dispatch": basis_costs(d, imp),
        "billed_demand_rule": d.prof.peak_ratio_source,
    }


def outputs(d: ModelData, values: Values) -> list[Output]:
    """Grid flows, prices and the billed demand of each month for ``results.nc``."""
    imp, exp = np.asarray(values[IMPORT_KW], float), np.asarray(values[EXPORT_KW], float)
    per_kwh = f"{d.sc.currency}/kWh"
    return [
        Output("grid_import_kw", ("time",), imp, "kW", "grid import"),
        Output("grid_export_kw", ("time",), exp, "kW", "grid export"),
        Output("import_price_per_kwh", ("time",), d.prof.import_price_per_kwh, per_kwh,
               "grid import price"),
        Output("export_price_per_kwh", ("time",), d.prof.export_price_per_kwh, per_kwh,
               "grid export price"),
        Output("peak_import_kw", ("month",), billed_demand_kw(d, imp), "kW",
               "billed peak grid import of the month"),
    ]


def profile_outputs(sc: Scenario, prof: Profiles) -> tuple[list[Output], dict[str, list[str]]]:
    """Prices and the billing month of each step for ``profiles.nc``."""
    per_kwh = f"{sc.currency}/kWh"
    return [
        Output("import_price_per_kwh", ("time",), prof.import_price_per_kwh, per_kwh,
               "grid import price"),
        Output("export_price_per_kwh", ("time",), prof.export_price_per_kwh, per_kwh,
               "grid export price"),
        Output("month_index", ("time",), prof.month_index, "1",
               "billing month of the step (index into the month labels)",
               extra={"labels": ",".join(prof.month_labels)}),
    ], {}


def kpis(d: ModelData, values: Values) -> dict[str, Any]:
    """``billing``: what the run billed and why (:func:`billing_kpis`)."""
    return {"billing": billing_kpis(d, dict(values))}


def coords(d: ModelData) -> dict[str, list[str]]:
    """Billing months (``YYYY-MM``) of the ``peak_import_kw`` output."""
    return {"month": list(d.prof.month_labels)}


def rounding(lp: MatrixLP, values: Values, permissive: bool) -> dict[str, np.ndarray]:
    """Exclusivity binaries follow the dominant flow of the relaxation (import ≥ export → the
    import side is allowed), so the rounded point stays feasible."""
    if not lp.has(EXCLUSIVE):
        return {}
    steps = np.asarray(lp.var_blocks[EXCLUSIVE].labels[0], int)
    return {EXCLUSIVE: values[IMPORT_KW][steps] >= values[EXPORT_KW][steps]}


FAMILY = Family(
    name="grid", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        PEAK: "monthly peak",
        CONTRACT: "contracted maximum demand",
        CONTRACT_FLOOR: "contract floor share of the transformer",
        IMPORT_IF_ON: "import/export exclusivity",
        EXPORT_IF_OFF: "import/export exclusivity",
    },
    col_words={
        IMPORT_KW: "grid import [kW]",
        EXPORT_KW: "grid export [kW]",
        PEAK_KW: "monthly peak import [kW]",
        CONTRACT_KW: "contracted maximum demand [kW]",
        EXCESS_KW: "demand above the contract tolerance [kW]",
        CAPACITY_BASIS: "capacity (kVA) basis chosen",
        EXCLUSIVE: "no simultaneous import/export",
    },
    outputs=outputs, coords=coords, rounding=rounding, profile_outputs=profile_outputs,
    kpis=kpis,
)
