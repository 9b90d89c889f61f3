"""The emissions ledger: every CO2, energy and green-power quantity of the park as a named linear
line over the model's columns, built once and used alike by the objective (carbon price), the
targets (emission cap, core indicator, green share), the KPIs and the rolling ledger.

A line is ``const + Σ_b coef_b · x_b`` over column blocks ``b`` (``grid.import_kw`` over time,
``pv.power_kw`` over arrays × time, ``offsets.ccer_t`` a scalar). Lines of one horizon [kg, kWh,
kgce] (dt the step length [h], ef_t the grid factor, r the residual-mix factor [kg/kWh]):

- ``scope1``           F = fixed fuels (gas, coal, purchased heat), pro rata, + the fuel the
  heat units burn (Σ co2_a · out_a,t · dt over ``heat.output_kw``, :mod:`zeropark.model.heat`)
  [kgCO2]
- ``scope2_location``  Σ ef_t · import_t · dt
- ``certificates``     Σ ef_t · covered_t · dt  (certificate-covered import, covered_t ≤ import_t)
- ``scope2_market``    Σ r · (import_t − covered_t) · dt
- ``green_direct``     Σ ef_t · direct_t · dt   (direct green supply at the grid factor; shown only)
- ``indicator``        the core indicator's CO2 before offsets:
  F + scope2_location − certificates (location method), F + scope2_market (market method), or
  F + scope2_location + green_direct when green supply does not count as zero-emission
- ``offsets``          1000 · ccer_t [kgCO2]
- ``gross``            F + scope2_location
- ``consumption``      Σ (η·pv + direct + import − export) · dt [kWh]
- ``green``            Σ (η·pv + direct − export + covered) · dt [kWh] (certificate-based)
- ``tce``              k · consumption + fuel kgce (fixed + heat units') [kgce], k the
  electricity tce factor (CHP electricity used on site is not in consumption: its fuel is)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zeropark.model.data import KGCE_PER_KWH_EQUAL_VALUE, ModelData
from zeropark.model.pv import pv_efficiency

#: National size bands of the zero-carbon park core indicator (models/indicators.yaml keys).
BAND_KEYS = ("zero-carbon-park-2025-small", "zero-carbon-park-2025-large")


@dataclass(frozen=True)
class Line:
    """``const + Σ coef · column`` over named column blocks; coefficients shaped like blocks."""

    const: float = 0.0
    terms: dict[str, np.ndarray] = field(default_factory=dict)

    def __add__(self, other: Line) -> Line:
        terms = dict(self.terms)
        for k, c in other.terms.items():
            terms[k] = terms[k] + c if k in terms else c
        return Line(self.const + other.const, terms)

    def __mul__(self, s: float) -> Line:
        return Line(self.const * s, {k: c * s for k, c in self.terms.items()})

    __rmul__ = __mul__

    def __sub__(self, other: Line) -> Line:
        return self + other * -1.0

    def value(self, values: dict[str, Any], steps: int | None = None, total: int = 0) -> float:
        """The line at a solution (``values`` by block name); with ``steps`` only the first
        ``steps`` of ``total`` time steps, scalar columns and the constant pro rata."""
        if steps is None:
            return self.const + sum(float(np.sum(c * np.asarray(values[k], float)))
                                    for k, c in self.terms.items())
        share = steps / total if total else 0.0
        out = self.const * share
        for k, c in self.terms.items():
            v = np.asarray(values[k], float)
            out += (float(c * v) * share if np.ndim(c) == 0
                    else float(np.sum(c[..., :steps] * v[..., :steps])))
        return out

    def add_matrix(self, lp: Any, row: Any, scale: float = 1.0) -> None:
        """Append the line's coefficients (× ``scale``) to a matrix row."""
        for k, c in self.terms.items():
            lp.add(row, lp.cols(k), scale * c)

    def pyomo(self, m: Any, labels: dict[str, list[str]], scale: float = 1.0) -> Any:
        """The variable part as a Pyomo expression (× ``scale``); ``labels`` names the first axis
        of two-dimensional blocks."""
        expr: Any = 0.0
        for k, c in self.terms.items():
            block, name = k.split(".")
            var = getattr(getattr(m, block), name)
            c = scale * np.asarray(c, float)
            if c.ndim == 0:
                expr = expr + float(c) * var
            elif c.ndim == 1:
                expr = expr + sum(float(c[t]) * var[t] for t in range(len(c)) if c[t] != 0)
            else:
                names = labels[k]
                expr = expr + sum(float(c[i, t]) * var[names[i], t]
                                  for i in range(c.shape[0]) for t in range(c.shape[1])
                                  if c[i, t] != 0)
        return expr


def pyomo_labels(d: ModelData) -> dict[str, list[str]]:
    """Axis labels of the two-dimensional blocks a line may use."""
    out = {"pv.power_kw": d.pv_names}
    if getattr(d.sc, "heat", None) is not None:  # heat units' fuel lines
        from zeropark.model.heat import OUTPUT_KW
        from zeropark.model.heat import params as heat_params

        out[OUTPUT_KW] = heat_params(d)["names"]
    return out


def has_direct(d: ModelData) -> bool:
    return d.sc.green_power.direct is not None and d.prof.green_direct_kw is not None


def _library(d: Any) -> Any:
    from zeropark.scenario.resolve import library_for

    return library_for(getattr(d, "sc", d))


def kgce_per_kwh(d: Any, factor: str | None = None) -> float:
    """Electricity tce factor [kgce/kWh] of a model (or a scenario): equal-value 0.1229
    (当量值, GB/T 2589-2020) or the library's coal-equivalent (等价值) entry."""
    sc = getattr(d, "sc", d)
    factor = factor or sc.targets.accounting.tce_factor
    if factor == "equal_value":
        return KGCE_PER_KWH_EQUAL_VALUE
    entry = _library(sc).get("indicators", "electricity-equivalent-value",
                             "targets.accounting.tce_factor")
    return float(entry["kgce_per_kwh"])


def residual_factor(d: ModelData) -> float:
    """Residual-mix factor of uncovered import in market-based accounting [kgCO2/kWh]."""
    key = d.sc.targets.accounting.residual_mix_factor
    return float(_library(d).get("emission_factors", key,
                                 "targets.accounting.residual_mix_factor")["value_kg_per_kwh"])


def _step(d: ModelData, coef: np.ndarray | float) -> np.ndarray:
    return np.broadcast_to(np.asarray(coef, float) * d.dt_h, (d.T,)).copy()


_CACHE: dict[tuple[int, str | None], tuple[ModelData, dict[str, Line]]] = {}


def lines(d: ModelData, tce_factor: str | None = None) -> dict[str, Line]:
    """Every line of the ledger (see the module docstring) for the columns this model has
    (cached per model-data object: both builders and the KPIs ask several times)."""
    key = (id(d), tce_factor)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is d:
        return hit[1]
    out = _lines(d, tce_factor)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = (d, out)
    return out


def _lines(d: ModelData, tce_factor: str | None) -> dict[str, Line]:
    sc, ef = d.sc, np.asarray(d.prof.ef_kg_per_kwh, float)
    acc = sc.targets.accounting
    imp = {"grid.import_kw": _step(d, ef)}
    from zeropark.model.heat import fuel_line_coef

    scope1 = Line(d.fuel_co2_kg, fuel_line_coef(d, "co2"))  # fixed fuels + heat units' fuel
    out: dict[str, Line] = {"scope1": scope1, "scope2_location": Line(0.0, imp)}
    cert = sc.green_power.certificates is not None
    covered = Line(0.0, {"certificates.covered_kw": _step(d, ef)}) if cert else Line()
    out["certificates"] = covered
    r = residual_factor(d) if acc.scope2_method == "market" else 0.0
    market = {"grid.import_kw": _step(d, r)}
    if cert:
        market["certificates.covered_kw"] = _step(d, -r)
    out["scope2_market"] = Line(0.0, market)
    gd = has_direct(d)
    out["green_direct"] = Line(0.0, {"green.direct_kw": _step(d, ef)}) if gd else Line()
    if not sc.targets.green_counts_zero_emission:
        elec = out["scope2_location"] + out["green_direct"]
    elif acc.scope2_method == "market":
        elec = out["scope2_market"]
    else:
        elec = out["scope2_location"] - covered
    out["indicator"] = out["scope1"] + elec
    offs = sc.green_power.offsets is not None
    out["offsets"] = Line(0.0, {"offsets.ccer_t": np.asarray(1000.0)}) if offs else Line()
    out["gross"] = out["scope1"] + out["scope2_location"]
    onsite: dict[str, np.ndarray] = {}
    if d.pv_names:
        onsite["pv.power_kw"] = pv_efficiency(d)[:, None] * np.full((1, d.T), d.dt_h)
    if gd:
        onsite["green.direct_kw"] = _step(d, 1.0)
    onsite["grid.export_kw"] = _step(d, -1.0)
    physical = Line(0.0, onsite)
    out["physical_green"] = physical
    out["consumption"] = physical + Line(0.0, {"grid.import_kw": _step(d, 1.0)})
    out["green"] = physical + (Line(0.0, {"certificates.covered_kw": _step(d, 1.0)})
                               if cert else Line())
    out["tce"] = (out["consumption"] * kgce_per_kwh(d, tce_factor)
                  + Line(d.fuel_kgce, fuel_line_coef(d, "kgce")))
    out["gas_kgce"] = Line(0.0, fuel_line_coef(d, "gas_kgce"))  # heat units' gas (clean share)
    return out


def indicator_line(d: ModelData) -> Line:
    """The core indicator's CO2: offsets only when ``offsets_in_indicator``."""
    ln = lines(d)
    if d.sc.targets.accounting.offsets_in_indicator:
        return ln["indicator"] - ln["offsets"]
    return ln["indicator"]


def priced_line(d: ModelData) -> Line:
    """The emissions the carbon price applies to (before offsets)."""
    ln, scope = lines(d), d.sc.targets.accounting.carbon_price_scope
    return {"scope1": ln["scope1"], "scope1_2_location": ln["gross"],
            "scope1_2_market": ln["scope1"] + ln["scope2_market"]
            if d.sc.targets.accounting.scope2_method == "market"
            else ln["scope1"] + market_line(d),
            "indicator": ln["indicator"]}[scope]


def market_line(d: ModelData) -> Line:
    """Market-based Scope 2 even when the indicator uses the location method."""
    r = float(_library(d).get("emission_factors", d.sc.targets.accounting.residual_mix_factor,
                              "targets.accounting.residual_mix_factor")["value_kg_per_kwh"])
    terms = {"grid.import_kw": _step(d, r)}
    if d.sc.green_power.certificates is not None:
        terms["certificates.covered_kw"] = _step(d, -r)
    return Line(0.0, terms)


def offset_base_line(d: ModelData) -> Line:
    """Base of the offset cap: the indicator's emissions after certificates, or gross."""
    ln = lines(d)
    return ln["indicator"] if d.sc.targets.accounting.offset_cap_base == "indicator" else ln["gross"]


# -- indicator threshold from the national size bands -------------------------------------------
def baseline_annual_tce(d: ModelData) -> float:
    """The park's annual energy use before any decision [tce/yr]: inflexible load, flexible-load
    energy and EV energy requested, at the chosen tce factor, plus fixed fuels; pro rata to a
    year from the horizon; heat demand (if any) at its heat content."""
    if d.T == 0 or d.horizon_fraction <= 0:
        return 0.0
    kwh = float(np.sum(d.prof.load_kw)) * d.dt_h
    hours = d.T * d.dt_h
    kwh += sum(f.energy_per_window_kwh * hours / f.window_h for f in d.sc.flexible_loads)
    kwh += sum(float(g.requested_kwh) for g in d.prof.ev.values())
    from zeropark.model.heat import baseline_kgce

    # heat demand counts at its own heat content (1/8.141 kgce per kWh thermal)
    return ((kgce_per_kwh(d) * kwh + d.fuel_kgce + baseline_kgce(d)) / 1000.0
            / d.horizon_fraction)


def band_of(d: ModelData, annual_tce: float) -> dict[str, Any] | None:
    """The national size band (library entry with its key) the annual tce falls in, or None."""
    lib = _library(d)
    for key in BAND_KEYS:
        e = lib.get("indicators", key, "targets.zero_carbon_indicator")
        lo, hi = e["energy_use_tce_per_year_min"], e["energy_use_tce_per_year_max"]
        if annual_tce >= lo and (hi is None or annual_tce < hi):
            return {"key": key, **e}
    return None


def indicator_threshold(d: ModelData) -> tuple[float, dict[str, Any]]:
    """Threshold [tCO2/tce] fixed before the solve, and how it was chosen."""
    ind = d.sc.targets.zero_carbon_indicator
    own = ind.threshold_t_per_tce if ind is not None else 0.2
    tce = baseline_annual_tce(d)
    info: dict[str, Any] = {"baseline_annual_tce": tce, "rule": ind.threshold_rule if ind else
                            "own"}
    band = band_of(d, tce)
    if ind is not None and ind.threshold_rule == "national_band" and band is not None:
        thr = float(band["carbon_intensity_t_per_tce_max"])
        info.update(band=band["key"], source=f"national band {band['key']} "
                    f"({band['energy_use_tce_per_year_min']:,}–"
                    f"{band['energy_use_tce_per_year_max'] or '∞'} tce/yr)")
        return thr, info
    info["band"] = band["key"] if band else None
    if band is None:
        info["source"] = ("own threshold: the national bands (from 200,000 tce/yr) do not apply "
                          f"to {tce:,.0f} tce/yr")
    else:
        info["source"] = "own threshold (threshold_rule own)"
    return own, info
