"""Certificates (GEC), offsets (CCER), carbon price and the targets: green-power share, emission
cap and the zero-carbon park core indicator (tCO2 per tce), each hard or soft (slack at a penalty).

Definitions (over the horizon, kWh and kg):
- green G = Σ (PV used + green direct − export)·dt + 1000·GEC [MWh]
- consumption C = Σ (PV used + green direct + import − export)·dt
- emissions E = Σ ef·import·dt + fixed fuels − 1000·CCER [t]; CCER ≤ max_share · gross emissions
- certificates cover grid electricity only: 1000·GEC ≤ Σ import·dt
- indicator CO2 = E − ef̄·1000·GEC (certificates count as zero-emission; green direct is already
  zero) — or, with ``green_counts_zero_emission: false``, E + Σ ef·green direct·dt
- tce = 0.1229 kgce/kWh · C + fixed fuels (kgce)
"""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import KGCE_PER_KWH_EQUAL_VALUE, ModelData
from zeropark.model.lp import MatrixLP
from zeropark.model.pv import pv_efficiency


def _has_direct(d: ModelData) -> bool:
    return d.sc.green_power.direct is not None and d.prof.green_direct_kw is not None


def ef_mean(d: ModelData) -> float:
    """Mean grid emission factor over the horizon [kg/kWh] (what one certificate displaces)."""
    return float(np.mean(d.prof.ef_kg_per_kwh)) if d.T else 0.0


def indicator_rhs(d: ModelData) -> float:
    """Right-hand side of the CO2-per-tce row [kg]: threshold × fixed kgce − fixed CO2, ledger
    included (so the indicator holds for ledger + horizon)."""
    thr = d.sc.targets.zero_carbon_indicator.threshold_t_per_tce
    return thr * (d.fuel_kgce + d.ledger.kgce) - d.fuel_co2_kg - d.ledger.co2_kg


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form (built after every other component)."""
    sc, dt, ef, led = d.sc, d.dt_h, d.prof.ef_kg_per_kwh, d.ledger
    tg = sc.targets
    imp, exp = lp.cols("grid.import_kw"), lp.cols("grid.export_kw")
    pv = lp.cols("pv.power_kw") if lp.has("pv.power_kw") else None
    gd = lp.cols("green.direct_kw") if _has_direct(d) else None
    eta = pv_efficiency(d)[:, None]
    cert, offs = sc.green_power.certificates, sc.green_power.offsets
    gec = ccer = None
    if cert is not None:
        gec = lp.var("certificates.gec_mwh", (), 0.0,
                     np.inf if cert.max_mwh is None else cert.max_mwh, cert.price_per_mwh)
        row = lp.rows("certificates.within_import", (), hi=0.0)
        lp.add(row, gec, 1000.0)
        lp.add(row, imp, -dt)
    if offs is not None:
        ccer = lp.var("offsets.ccer_t", (), 0.0, np.inf, offs.price_per_t)
        row = lp.rows("offsets.cap", (), hi=offs.max_share * d.fuel_co2_kg)
        lp.add(row, ccer, 1000.0)
        lp.add(row, imp, -offs.max_share * ef * dt)
    cp = tg.carbon_price_per_t
    if cp > 0:
        carbon = lp.var("targets.carbon_cost", (), -np.inf, np.inf, 1.0)
        row = lp.rows("targets.carbon_cost_def", (), cp * d.fuel_co2_kg / 1000.0,
                      cp * d.fuel_co2_kg / 1000.0)
        lp.add(row, carbon, 1.0)
        lp.add(row, imp, -cp * ef * dt / 1000.0)
        if ccer is not None:
            lp.add(row, ccer, cp)
    if tg.green_share is not None:
        s = tg.green_share.value
        row = lp.rows("targets.green_share", (), lo=s * led.consumption_kwh - led.green_kwh)
        if pv is not None:
            lp.add(row, pv, (1 - s) * eta * dt)
        if gd is not None:
            lp.add(row, gd, (1 - s) * dt)
        lp.add(row, exp, -(1 - s) * dt)
        lp.add(row, imp, -s * dt)
        if gec is not None:
            lp.add(row, gec, 1000.0)
        if tg.green_share.mode == "soft":
            short = lp.var("targets.green_short_kwh", (), 0.0, np.inf,
                           tg.green_share.penalty_per_kwh)
            lp.add(row, short, 1.0)
    if tg.emission_cap is not None:
        row = lp.rows("targets.emission_cap", (),
                      hi=tg.emission_cap.value_t * 1000 - d.fuel_co2_kg - led.co2_kg)
        lp.add(row, imp, ef * dt)
        if ccer is not None:
            lp.add(row, ccer, -1000.0)
        if tg.emission_cap.mode == "soft":
            over = lp.var("targets.cap_over_t", (), 0.0, np.inf, tg.emission_cap.penalty_per_t)
            lp.add(row, over, -1000.0)
    ind = tg.zero_carbon_indicator
    if ind is not None:
        thr = ind.threshold_t_per_tce * KGCE_PER_KWH_EQUAL_VALUE  # kgCO2 allowed per kWh consumed
        row = lp.rows("targets.indicator", (), hi=indicator_rhs(d))
        lp.add(row, imp, (ef - thr) * dt)
        lp.add(row, exp, thr * dt)
        if pv is not None:
            lp.add(row, pv, -thr * eta * dt)
        if gd is not None:
            gd_coef = -thr * dt + (0.0 if tg.green_counts_zero_emission else ef * dt)
            lp.add(row, gd, gd_coef)
        if ccer is not None:
            lp.add(row, ccer, -1000.0)
        if gec is not None and tg.green_counts_zero_emission:
            lp.add(row, gec, -1000.0 * ef_mean(d))
        if ind.mode == "soft":
            over = lp.var("targets.indicator_over_t", (), 0.0, np.inf, ind.penalty_per_t)
            lp.add(row, over, -1000.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form (built after every other component)."""
    sc, dt, ef, T = d.sc, d.dt_h, d.prof.ef_kg_per_kwh, d.T
    tg = sc.targets
    g = m.grid
    eta = dict(zip(d.pv_names, pv_efficiency(d), strict=True))
    cert, offs = sc.green_power.certificates, sc.green_power.offsets
    b = m.targets = pyo.Block()

    def pv_sum(coef: float) -> pyo.Expression:
        if not d.pv_names:
            return 0.0
        return sum(coef * eta[a] * dt * m.pv.power_kw[a, t] for a in d.pv_names for t in range(T))

    def gd_sum(coef: np.ndarray | float) -> pyo.Expression:
        if not _has_direct(d):
            return 0.0
        c = np.broadcast_to(coef, (T,))
        return sum(c[t] * m.green.direct_kw[t] for t in range(T))

    imp_ef = sum(ef[t] * dt * g.import_kw[t] for t in range(T))
    gec = ccer = 0.0
    if cert is not None:
        m.certificates = pyo.Block()
        m.certificates.gec_mwh = pyo.Var(bounds=(0.0, cert.max_mwh))
        gec = m.certificates.gec_mwh
        m.certificates.within_import = pyo.Constraint(
            expr=1000.0 * gec - sum(dt * g.import_kw[t] for t in range(T)) <= 0)
        ctx.costs.append(cert.price_per_mwh * gec)
    if offs is not None:
        m.offsets = pyo.Block()
        m.offsets.ccer_t = pyo.Var(bounds=(0.0, None))
        ccer = m.offsets.ccer_t
        m.offsets.cap = pyo.Constraint(
            expr=1000.0 * ccer - offs.max_share * imp_ef <= offs.max_share * d.fuel_co2_kg)
        ctx.costs.append(offs.price_per_t * ccer)
    cp = tg.carbon_price_per_t
    if cp > 0:
        b.carbon_cost = pyo.Var(bounds=(None, None))
        const = cp * d.fuel_co2_kg / 1000.0
        b.carbon_cost_def = pyo.Constraint(
            expr=b.carbon_cost - cp / 1000.0 * imp_ef + cp * ccer == const)
        ctx.costs.append(b.carbon_cost)
    exp_sum = sum(dt * g.export_kw[t] for t in range(T))
    imp_sum = sum(dt * g.import_kw[t] for t in range(T))
    if tg.green_share is not None:
        s = tg.green_share.value
        expr = (pv_sum(1 - s) + gd_sum((1 - s) * dt) - (1 - s) * exp_sum - s * imp_sum
                + 1000.0 * gec)
        if tg.green_share.mode == "soft":
            b.green_short_kwh = pyo.Var(bounds=(0.0, None))
            expr = expr + b.green_short_kwh
            ctx.costs.append(tg.green_share.penalty_per_kwh * b.green_short_kwh)
        b.green_share = pyo.Constraint(
            expr=expr >= s * d.ledger.consumption_kwh - d.ledger.green_kwh)
    if tg.emission_cap is not None:
        expr = imp_ef - 1000.0 * ccer
        if tg.emission_cap.mode == "soft":
            b.cap_over_t = pyo.Var(bounds=(0.0, None))
            expr = expr - 1000.0 * b.cap_over_t
            ctx.costs.append(tg.emission_cap.penalty_per_t * b.cap_over_t)
        b.emission_cap = pyo.Constraint(
            expr=expr <= tg.emission_cap.value_t * 1000 - d.fuel_co2_kg - d.ledger.co2_kg)
    ind = tg.zero_carbon_indicator
    if ind is not None:
        thr = ind.threshold_t_per_tce * KGCE_PER_KWH_EQUAL_VALUE
        gd_coef = -thr * dt + (0.0 if tg.green_counts_zero_emission else ef * dt)
        expr = (sum((ef[t] - thr) * dt * g.import_kw[t] for t in range(T)) + thr * exp_sum
                + pv_sum(-thr) + gd_sum(gd_coef) - 1000.0 * ccer)
        if tg.green_counts_zero_emission:
            expr = expr - 1000.0 * ef_mean(d) * gec
        if ind.mode == "soft":
            b.indicator_over_t = pyo.Var(bounds=(0.0, None))
            expr = expr - 1000.0 * b.indicator_over_t
            ctx.costs.append(ind.penalty_per_t * b.indicator_over_t)
        b.indicator = pyo.Constraint(expr=expr <= indicator_rhs(d))
