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
from zeropark.model.family import Family
from zeropark.model.lp import MatrixLP

#: the horizon's certificate-covered import when every step has the same grid factor [kWh]
COVERED_TOTAL = "certificates.covered_kwh"
COVERED_PER_STEP = "certificates.covered_kw"


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
    if COVERED_PER_STEP not in line.terms or not certificates_aggregated(d):
        return line
    terms = dict(line.terms)
    c = np.asarray(terms.pop(COVERED_PER_STEP), float).ravel()
    terms[COVERED_TOTAL] = np.asarray(c[0] / d.dt_h)
    return em.Line(line.const, terms)


def per_step_cover(d: ModelData, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``values`` with the per-step cover [kW] recovered from an aggregated total:
    covered_t = import_t · C / Σ_t import_t·dt (zero where nothing is imported); unchanged if the
    per-step cover is already there or the model has no total."""
    if COVERED_TOTAL not in values or COVERED_PER_STEP in values:
        return values
    imp = np.asarray(values["grid.import_kw"], float)
    total_kwh = float(imp.sum()) * d.dt_h
    cover_kwh = float(np.asarray(values[COVERED_TOTAL], float))
    share = min(cover_kwh / total_kwh, 1.0) if total_kwh > 0 else 0.0
    return {**values, COVERED_PER_STEP: imp * share}


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
        out["offsets.cap"] = (line, -np.inf, -line.const)
    if cp > 0:
        priced = em.priced_line(d)
        if offs is not None:
            line = ln["offsets"] - priced
            out["targets.offsets_within_priced"] = (line, -np.inf, -line.const)
    if tg.green_share is not None:
        s = tg.green_share.value
        line = ln["green"] - ln["consumption"] * s
        out["targets.green_share"] = (line, s * led.consumption_kwh - led.green_kwh, np.inf)
    ind_line = em.indicator_line(d)
    if tg.emission_cap is not None:
        out["targets.emission_cap"] = (ind_line, -np.inf, tg.emission_cap.value_t * 1000
                                       - ind_line.const - led.co2_kg)
    if tg.zero_carbon_indicator is not None:
        thr, _ = em.indicator_threshold(d)
        out["targets.indicator"] = (ind_line - ln["tce"] * thr, -np.inf, indicator_rhs(d, thr))
    return out


def _slack(d: ModelData) -> dict[str, tuple[str, float, float]]:
    """Soft rows: slack column name, its coefficient in the row and its cost."""
    tg, out = d.sc.targets, {}
    if tg.green_share is not None and tg.green_share.mode == "soft":
        out["targets.green_share"] = ("targets.green_short_kwh", 1.0, tg.green_share.penalty_per_kwh)
    if tg.emission_cap is not None and tg.emission_cap.mode == "soft":
        out["targets.emission_cap"] = ("targets.cap_over_t", -1000.0, tg.emission_cap.penalty_per_t)
    ind = tg.zero_carbon_indicator
    if ind is not None and ind.mode == "soft":
        out["targets.indicator"] = ("targets.indicator_over_t", -1000.0, ind.penalty_per_t)
    return out


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form (built after every other component)."""
    sc, dt = d.sc, d.dt_h
    steps = range(d.T)
    cert, offs = sc.green_power.certificates, sc.green_power.offsets
    imp = lp.cols("grid.import_kw")
    if cert is not None and certificates_aggregated(d):
        total = lp.var(COVERED_TOTAL, (), 0.0, np.inf, cert.price_per_mwh / 1000.0)
        row = lp.rows("certificates.within_import", (), hi=0.0)
        lp.add(row, total, 1.0)
        lp.add(row, imp, -dt)
        if cert.max_mwh is not None:
            row = lp.rows("certificates.max", (), hi=1000.0 * cert.max_mwh)
            lp.add(row, total, 1.0)
    elif cert is not None:
        cov = lp.var("certificates.covered_kw", (steps,), 0.0, np.inf,
                     cert.price_per_mwh / 1000.0 * dt)
        row = lp.rows("certificates.within_import", (steps,), hi=0.0)
        lp.add(row, cov, 1.0)
        lp.add(row, imp, -1.0)
        if cert.max_mwh is not None:
            row = lp.rows("certificates.max", (), hi=1000.0 * cert.max_mwh)
            lp.add(row, cov, dt)
    if offs is not None:
        lp.var("offsets.ccer_t", (), 0.0, np.inf, offs.price_per_t)
    cp = sc.targets.carbon_price_per_t
    if cp > 0:
        priced = _model_line(d, em.priced_line(d) - em.lines(d)["offsets"])
        carbon = lp.var("targets.carbon_cost", (), -np.inf, np.inf, 1.0)
        const = cp * priced.const / 1000.0
        row = lp.rows("targets.carbon_cost_def", (), const, const)
        lp.add(row, carbon, 1.0)
        priced.add_matrix(lp, row, -cp / 1000.0)
    slack = _slack(d)
    for name, (line, lo, hi) in _rows(d).items():
        row = lp.rows(name, (), lo, hi)
        _model_line(d, line).add_matrix(lp, row)
        if name in slack:
            col, coef, cost = slack[name]
            lp.add(row, lp.var(col, (), 0.0, np.inf, cost), coef)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form (built after every other component)."""
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


FAMILY = Family(name="carbon", add_matrix=add_matrix, add_pyomo=add_pyomo)
