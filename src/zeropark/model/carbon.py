"""Certificates (GEC), offsets (CCER), carbon price and the targets: green-power share, emission
cap and the zero-carbon park core indicator (tCO2 per tce), each hard or soft (slack at a penalty).

Every quantity is a line of the emissions ledger (:mod:`zeropark.model.emissions`); over the
horizon, with dt the step length [h]:

- certificates per step: 0 ≤ covered_t ≤ import_t [kW], Σ covered_t·dt ≤ 1000·max_mwh, cost
  price/1000 per kWh covered; credited at that step's factor (or, market-based, the uncovered
  import at the residual-mix factor)
- with the same grid factor in every step (an annual factor, the usual case) only the horizon's
  total Σ covered_t·dt enters any row or cost, so the model keeps that total as one column
  C = ``certificates.covered_kwh`` [kWh] with 0 ≤ C ≤ Σ import_t·dt (one row) instead of a column
  and a row per step: the same feasible set for every line, without the degenerate choice of which
  steps to cover (the demo year's LP relaxation solves about 4× faster). The per-step cover is
  then recovered as covered_t = import_t · C / Σ import_t·dt (:func:`per_step_cover`), a point of
  the per-step model with the same cost and ledger
- offsets: 1000·ccer ≤ max_share · base (the indicator's emissions after certificates, or gross)
- carbon cost = price/1000 · (priced line − 1000·ccer), priced line per ``carbon_price_scope``;
  1000·ccer ≤ priced line (offsets never earn money)
- green share: green − s·consumption ≥ s·C_ledger − G_ledger (− shortfall when soft)
- emission cap and core indicator on the indicator line I (offsets per ``offsets_in_indicator``):
  I ≤ cap;  I − thr·tce ≤ 0, with thr fixed before the solve (national band or own threshold)
"""

from __future__ import annotations

import numpy as np

from zeropark.model import emissions as em
from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, Values
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

# Block names: certificates, offsets and targets (columns, then rows)
CERT_COVERED_KW = "certificates.covered_kw"
OFFSETS_CCER_T = "offsets.ccer_t"
CARBON_COST = "targets.carbon_cost"
GREEN_SHORT_KWH = "targets.green_short_kwh"
CAP_OVER_T = "targets.cap_over_t"
INDICATOR_OVER_T = "targets.indicator_over_t"
CERT_WITHIN_IMPORT = "certificates.within_import"
CERT_MAX = "certificates.max"
OFFSETS_CAP = "offsets.cap"
OFFSETS_WITHIN_PRICED = "targets.offsets_within_priced"
CARBON_COST_DEF = "targets.carbon_cost_def"
GREEN_SHARE = "targets.green_share"
EMISSION_CAP = "targets.emission_cap"
INDICATOR = "targets.indicator"
#: target rows whose right-hand side a ledger carry-over shifts (operations)
TARGET_ROWS = (GREEN_SHARE, EMISSION_CAP, INDICATOR)

#: the horizon's certificate-covered import when every step has the same grid factor [kWh]
CERT_COVERED_KWH = "certificates.covered_kwh"


def certificates_aggregated(d: ModelData) -> bool:
    """True if certificates are bought and every step has the same grid emission factor, so the
    model needs only the horizon's covered total (see the module docstring)."""
    if d.sc.green_power.certificates is None or d.T == 0:
        return False
    ef = np.asarray(d.prof.ef_kg_per_kwh, float)
    return bool(np.all(ef == ef.flat[0]))


def _model_line(d: ModelData, line: em.Line) -> em.Line:
    """``line`` as the model holds it: with aggregated certificates its per-step cover term
    Σ c·covered_t (c the same in every step, [unit per kW]) becomes (c/dt)·C."""
    if CERT_COVERED_KW not in line.terms or not certificates_aggregated(d):
        return line
    terms = dict(line.terms)
    c = np.asarray(terms.pop(CERT_COVERED_KW), float).ravel()
    terms[CERT_COVERED_KWH] = np.asarray(c[0] / d.dt_h)
    return em.Line(line.const, terms)


def per_step_cover(d: ModelData, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``values`` with the per-step cover [kW] recovered from an aggregated total:
    covered_t = import_t · C / Σ_t import_t·dt (zero where nothing is imported); unchanged if the
    per-step cover is already there or the model has no total."""
    if CERT_COVERED_KWH not in values or CERT_COVERED_KW in values:
        return values
    imp = np.asarray(values["grid.import_kw"], float)
    total_kwh = float(imp.sum()) * d.dt_h
    cover_kwh = float(np.asarray(values[CERT_COVERED_KWH], float))
    share = min(cover_kwh / total_kwh, 1.0) if total_kwh > 0 else 0.0
    return {**values, CERT_COVERED_KW: imp * share}


def indicator_rhs(d: ModelData, thr: float) -> float:
    """Right-hand side of the CO2-per-tce row [kg]: threshold × constant kgce − constant CO2,
    ledger included (so the indicator holds for ledger + horizon)."""
    ln = em.lines(d)
    return (thr * (ln["tce"].const + d.ledger.kgce) - em.indicator_line(d).const
            - d.ledger.co2_kg)


def _rows(d: ModelData) -> dict[str, tuple[em.Line, float, float]]:
    """Every target row as (line, lo, hi) on the line's variable part; soft slacks apart."""
    sc, ln, led = d.sc, em.lines(d), d.ledger
    tg, cp = sc.targets, sc.targets.carbon_price_per_t
    offs = sc.green_power.offsets
    out: dict[str, tuple[em.Line, float, float]] = {}
    if offs is not None:
        base = em.offset_base_line(d)
        line = ln["offsets"] - base * offs.max_share
        out[OFFSETS_CAP] = (line, -np.inf, -line.const)
    if cp > 0:
        priced = em.priced_line(d)
        if offs is not None:
            line = ln["offsets"] - priced
            out[OFFSETS_WITHIN_PRICED] = (line, -np.inf, -line.const)
    if tg.green_share is not None:
        s = tg.green_share.value
        line = ln["green"] - ln["consumption"] * s
        out[GREEN_SHARE] = (line, s * led.consumption_kwh - led.green_kwh, np.inf)
    ind_line = em.indicator_line(d)
    if tg.emission_cap is not None:
        out[EMISSION_CAP] = (ind_line, -np.inf, tg.emission_cap.value_t * 1000
                                       - ind_line.const - led.co2_kg)
    if tg.zero_carbon_indicator is not None:
        thr, _ = em.indicator_threshold(d)
        out[INDICATOR] = (ind_line - ln["tce"] * thr, -np.inf, indicator_rhs(d, thr))
    return out


def _slack(d: ModelData) -> dict[str, tuple[str, float, float]]:
    """Soft rows: slack column name, its coefficient in the row and its cost."""
    tg, out = d.sc.targets, {}
    if tg.green_share is not None and tg.green_share.mode == "soft":
        out[GREEN_SHARE] = (GREEN_SHORT_KWH, 1.0, tg.green_share.penalty_per_kwh)
    if tg.emission_cap is not None and tg.emission_cap.mode == "soft":
        out[EMISSION_CAP] = (CAP_OVER_T, -1000.0, tg.emission_cap.penalty_per_t)
    ind = tg.zero_carbon_indicator
    if ind is not None and ind.mode == "soft":
        out[INDICATOR] = (INDICATOR_OVER_T, -1000.0, ind.penalty_per_t)
    return out


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the module docstring (built after every other family: the ledger lines
    read their columns): certificate and offset columns, the carbon-cost definition row and one
    row per target, with its slack column when soft."""
    sc, dt = d.sc, d.dt_h
    steps = range(d.T)
    cert, offs = sc.green_power.certificates, sc.green_power.offsets
    imp = lp.cols("grid.import_kw")
    if cert is not None and certificates_aggregated(d):
        # one horizon total under an annual factor: C − Σ_t import_t·Δt ≤ 0;  C ≤ 1000·max_mwh
        total = lp.var(CERT_COVERED_KWH, (), 0.0, np.inf, cert.price_per_mwh / 1000.0)
        lp.constrain(CERT_WITHIN_IMPORT, (), [(1.0, total), (-dt, imp)], hi=0.0)
        if cert.max_mwh is not None:
            lp.constrain(CERT_MAX, (), [(1.0, total)], hi=1000.0 * cert.max_mwh)
    elif cert is not None:
        cov = lp.var("certificates.covered_kw", (steps,), 0.0, np.inf,
                     cert.price_per_mwh / 1000.0 * dt)
        # covered_t − import_t ≤ 0;  Σ_t covered_t·Δt ≤ 1000·max_mwh
        lp.constrain("certificates.within_import", (steps,), [(1.0, cov), (-1.0, imp)], hi=0.0)
        if cert.max_mwh is not None:
            lp.constrain("certificates.max", (), [(dt, cov)], hi=1000.0 * cert.max_mwh)
    if offs is not None:
        lp.var("offsets.ccer_t", (), 0.0, np.inf, offs.price_per_t)
    cp = sc.targets.carbon_price_per_t
    if cp > 0:  # carbon_cost − price/1000·(priced line − 1000·ccer) = 0 (constants on the right)
        priced = _model_line(d, em.priced_line(d) - em.lines(d)["offsets"])
        carbon = lp.var("targets.carbon_cost", (), -np.inf, np.inf, 1.0)
        const = cp * priced.const / 1000.0
        row = lp.constrain("targets.carbon_cost_def", (), [(1.0, carbon)], lo=const, hi=const)
        priced.add_matrix(lp, row, -cp / 1000.0)
    slack = _slack(d)
    for name, (line, lo, hi) in _rows(d).items():
        row = lp.rows(name, (), lo, hi)
        _model_line(d, line).add_matrix(lp, row)
        if name in slack:
            col, coef, cost = slack[name]
            lp.add_terms(row, [(coef, lp.var(col, (), 0.0, np.inf, cost))], name)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the module docstring (built after every other family): blocks
    ``m.certificates``, ``m.offsets`` and ``m.targets``."""
    sc, dt, T = d.sc, d.dt_h, d.T
    g = m.grid
    labels = em.pyomo_labels(d)
    cert, offs = sc.green_power.certificates, sc.green_power.offsets
    b = m.targets = pyo.Block()
    if cert is not None and certificates_aggregated(d):
        c = m.certificates = pyo.Block()
        c.covered_kwh = pyo.Var(bounds=(0.0, None))
        c.within_import = pyo.Constraint(
            expr=c.covered_kwh - sum(dt * g.import_kw[t] for t in range(T)) <= 0)
        if cert.max_mwh is not None:
            c.max = pyo.Constraint(expr=c.covered_kwh <= 1000.0 * cert.max_mwh)
        ctx.costs.append(cert.price_per_mwh / 1000.0 * c.covered_kwh)
    elif cert is not None:
        c = m.certificates = pyo.Block()
        c.T = pyo.Set(initialize=range(T), ordered=True)
        c.covered_kw = pyo.Var(c.T, bounds=(0.0, None))
        c.within_import = pyo.Constraint(
            c.T, rule=lambda c, t: c.covered_kw[t] - g.import_kw[t] <= 0)
        if cert.max_mwh is not None:
            c.max = pyo.Constraint(expr=sum(dt * c.covered_kw[t] for t in range(T))
                                   <= 1000.0 * cert.max_mwh)
        ctx.costs.append(sum(cert.price_per_mwh / 1000.0 * dt * c.covered_kw[t]
                             for t in range(T)))
    if offs is not None:
        m.offsets = pyo.Block()
        m.offsets.ccer_t = pyo.Var(bounds=(0.0, None))
        ctx.costs.append(offs.price_per_t * m.offsets.ccer_t)
    cp = sc.targets.carbon_price_per_t
    if cp > 0:
        priced = _model_line(d, em.priced_line(d) - em.lines(d)["offsets"])
        b.carbon_cost = pyo.Var(bounds=(None, None))
        b.carbon_cost_def = pyo.Constraint(
            expr=b.carbon_cost + priced.pyomo(m, labels, -cp / 1000.0)
            == cp * priced.const / 1000.0)
        ctx.costs.append(b.carbon_cost)
    slack = _slack(d)
    for name, (line, lo, hi) in _rows(d).items():
        block, attr = name.split(".")
        expr = _model_line(d, line).pyomo(m, labels)
        if name in slack:
            col, coef, cost = slack[name]
            sb, sa = col.split(".")
            var = pyo.Var(bounds=(0.0, None))
            getattr(m, sb).add_component(sa, var)
            expr = expr + coef * var
            ctx.costs.append(cost * var)
        con = expr <= hi if np.isinf(lo) else expr >= lo
        getattr(m, block).add_component(attr, pyo.Constraint(expr=con))


def outputs(d: ModelData, values: Values) -> list[Output]:
    """The grid emission factor and the import's emissions per step for ``results.nc``."""
    from zeropark.model.grid import IMPORT_KW

    ef = d.prof.ef_kg_per_kwh
    return [
        Output("ef_kg_per_kwh", ("time",), ef, "kg/kWh",
               "grid CO2 emission factor (kg CO2 per kWh imported)"),
        Output("emissions_kg", ("time",), ef * np.asarray(values[IMPORT_KW], float) * d.dt_h,
               "kg", "CO2 emissions of grid import in the step (kg CO2)"),
    ]


def profile_outputs(sc: Scenario, prof: Profiles) -> tuple[list[Output], dict[str, list[str]]]:
    """The grid emission factor for ``profiles.nc``."""
    return [Output("ef_kg_per_kwh", ("time",), prof.ef_kg_per_kwh, "kg/kWh",
                   "grid CO2 emission factor (kg CO2 per kWh imported)")], {}


FAMILY = Family(
    name="carbon", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={
        OFFSETS_CAP: "CCER offset cap",
        CERT_WITHIN_IMPORT: "certificates within the grid import",
        CERT_MAX: "certificate purchase limit",
        OFFSETS_WITHIN_PRICED: "offsets within the carbon-priced emissions",
        CARBON_COST_DEF: "carbon cost",
        GREEN_SHARE: "green-power share target",
        EMISSION_CAP: "emission cap",
        INDICATOR: "zero-carbon indicator",
    },
    col_words={
        CERT_COVERED_KW: "certificate-covered import [kW]",
        CERT_COVERED_KWH: "certificate-covered import of the horizon [kWh]",
        OFFSETS_CCER_T: "CCER offsets [t]",
        CARBON_COST: "carbon cost",
        GREEN_SHORT_KWH: "green-power share shortfall [kWh]",
        CAP_OVER_T: "emissions above the cap [t]",
        INDICATOR_OVER_T: "emissions above the zero-carbon indicator [t]",
    },
    outputs=outputs, profile_outputs=profile_outputs,
)
