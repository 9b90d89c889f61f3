"""Heat supply and the heat balance per temperature level (family ``heat``).

Each supply unit u serves its levels l; one column per served pair ("arc" ``u/l``) and step t:
``heat.output_kw[u/l, t]`` [kW thermal]. With dt the step length [h], D[l,t] the demand, ch/dis
the thermal stores' charge and discharge on level l (family ``heat_storage``):

    Σ_u out[u/l,t] + Σ_s (dis[s,t] − ch[s,t]) + unserved[l,t] = D[l,t]   (heat.balance) [kW]
    Σ_l out[u/l,t] ≤ C_u                      (heat.capacity, units serving several levels) [kW]
    0 ≤ unserved[l,t] ≤ D[l,t],  cost p_unserved · dt per kW         [currency]

Energy drawn per kWh of heat delivered (the unit's conversion, all linear in the output):

- gas / coal boiler: fuel (LHV) F = out / η [kW]; CHP: F = out / η_th and electricity
  out · η_el / η_th added to the power balance as supply
- electric boiler: electricity out / η, heat pump: out / COP[u,l,t], both added to the power
  balance as demand: bal[t] −= e[u/l,t] · out[u/l,t]
- heat pump COP (Carnot-fraction model, temperatures in K):
  COP = min(cop_max, max(1, η_C · T_sink / (T_sink − T_src))), T_sink = level temperature +
  approach, T_src = source temperature − approach; the air source follows the hourly ambient
  temperature (``Profiles.temp_air_c``), a waste-heat source is the stream's temperature
- waste heat drawn from the stream W [kW]: recovery out / η, waste-heat heat pump
  out · (1 − 1/COP); Σ ≤ W at every step (heat.waste_heat)

Fuel cost per kWh of heat: gas price / (9.886 kWh/m³ · η), coal price / (5.815 kWh/kg · 1000 · η)
(kWh per m³ and per kg from the tce factors of GB/T 2589-2020 at 8.141 kWh per kgce). The fuel
burned enters the emissions ledger (:mod:`zeropark.model.emissions`): Scope 1 CO2 = F · dt ·
(0.2187 kg/kWh gas, 0.3560 kg/kWh coal) and tce = F · dt / 8.141 kgce/kWh under both tce
factors (fuel energy is counted the same way in both; only electricity differs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeropark.errors import ScenarioError
from zeropark.model import heatstore
from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import (
    KGCE_PER_M3_GAS,
    KGCE_PER_T_COAL,
    KGCO2_PER_M3_GAS,
    KGCO2_PER_T_COAL,
    ModelData,
)
from zeropark.model.family import Family, Output, SizedAsset, SizingHook, SizingPlan, size_cap
from zeropark.model.lp import MatrixLP
from zeropark.scenario.heat import LEVELS, Heat, WasteHeat

#: Block names of this family (the rest of the code base uses these constants).
OUTPUT_KW = "heat.output_kw"  #: heat delivered per unit/level arc [kW thermal]
UNSERVED_KW = "heat.unserved_kw"  #: heat demand not served per level [kW thermal]
CAPACITY_KW = "heat.capacity_kw"  #: sized capacity per unit [kW thermal] (sizing only)
BALANCE = "heat.balance"  #: heat balance per level and step
CAPACITY = "heat.capacity"  #: capacity of a unit shared by its levels
WASTE_HEAT = "heat.waste_heat"  #: waste heat drawn within the stream
SIZED_OUTPUT = "heat.sized_output"  #: output within the sized capacity (sizing only)

KWH_PER_KGCE = 29.3076 / 3.6  # 1 kgce = 29.3076 MJ (GB/T 2589-2020) = 8.141 kWh
KWH_PER_M3_GAS = KGCE_PER_M3_GAS * KWH_PER_KGCE  # 9.886 kWh (LHV) per m³
KWH_PER_KG_COAL = KGCE_PER_T_COAL / 1000.0 * KWH_PER_KGCE  # 5.815 kWh per kg raw coal
#: CO2 per kWh of fuel (LHV) [kg/kWh].
KGCO2_PER_KWH_FUEL = {"gas": KGCO2_PER_M3_GAS / KWH_PER_M3_GAS,
                      "coal": KGCO2_PER_T_COAL / 1000.0 / KWH_PER_KG_COAL}
KELVIN = 273.15
_FUEL_OF_KIND = {"gas_boiler": "gas", "chp": "gas", "coal_boiler": "coal"}


def enabled(d: ModelData) -> bool:
    """Whether the scenario has a heat section."""
    return getattr(d.sc, "heat", None) is not None


def section(d: ModelData) -> Heat:
    """The scenario's heat section (callers check :func:`enabled` first)."""
    heat = d.sc.heat
    if heat is None:
        raise ScenarioError("heat", None, "a heat section")
    return heat


def resolved(value: float | None, field_path: str) -> float:
    """A unit's number that the library fills during validation (efficiency, COP model, ...);
    None only if neither the scenario nor its technology gives it."""
    if value is None:
        raise ScenarioError(field_path, None, "a value, in the scenario or from its technology in "
                                              "models/heat.yaml")
    return float(value)


def heat_pump_cop(sink_c: float, source_c: np.ndarray | float, carnot_efficiency: float,
                  approach_k: float, cop_max: float) -> np.ndarray:
    """COP of a heat pump (Carnot-fraction model, see the module docstring) [-]."""
    t_sink = sink_c + approach_k + KELVIN
    t_src = np.asarray(source_c, float) - approach_k + KELVIN
    lift = np.maximum(t_sink - t_src, 1e-6)
    return np.clip(carnot_efficiency * t_sink / lift, 1.0, cop_max)


def demand_kw(d: ModelData) -> np.ndarray:
    """Heat demand per level [kW thermal], shape (3, T) (zeros without a demand profile)."""
    dem = d.prof.heat_demand_kw
    if dem is None:
        return np.zeros((len(LEVELS), d.T))
    dem = np.asarray(dem, float)
    if dem.shape != (len(LEVELS), d.T):
        raise ScenarioError("heat.demand", f"shape {dem.shape}",
                            f"one row per level ({len(LEVELS)}) and one value per step ({d.T}); "
                            "representative periods do not aggregate the heat profiles yet")
    return dem


def _waste_heat(heat: Heat) -> WasteHeat:
    if heat.waste_heat is None:
        raise ScenarioError("heat.waste_heat", None, "a waste-heat stream for the waste-heat "
                                                     "units and heat pumps")
    return heat.waste_heat


def params(d: ModelData) -> dict[str, Any]:
    """Per-arc data: names, unit and level index, electricity/fuel/waste heat per kWh of heat
    (shape (A, T) where they vary), fuel cost per kWh, and the levels with rows."""
    heat = section(d)
    units, T = heat.supply, d.T
    dem = demand_kw(d)  # checks its shape first
    temp = d.prof.temp_air_c
    if temp is not None and np.shape(temp) != (T,):
        raise ScenarioError("weather", f"{np.shape(temp)[0]} ambient temperatures",
                            f"one per step ({T}); representative periods do not aggregate the "
                            "heat profiles yet")
    arcs = [(i, LEVELS.index(lv)) for i, u in enumerate(units) for lv in u.levels]
    A = len(arcs)
    elec = np.zeros((A, T))
    fuel = np.zeros(A)
    fuel_kind = np.array([""] * A, dtype=object)
    waste = np.zeros((A, T))
    cop = np.full((A, T), np.nan)
    for a, (i, li) in enumerate(arcs):
        u = units[i]
        eff = (resolved(u.efficiency, f"heat.supply.{i}.efficiency")
               if u.kind != "heat_pump" else 1.0)
        if u.kind in _FUEL_OF_KIND:
            fuel[a] = 1.0 / eff
            fuel_kind[a] = _FUEL_OF_KIND[u.kind]
        if u.kind == "chp":
            elec[a] = -resolved(u.electric_efficiency, f"heat.supply.{i}.electric_efficiency") / eff
        elif u.kind == "electric_boiler":
            elec[a] = 1.0 / eff
        elif u.kind == "waste_heat":
            waste[a] = 1.0 / eff
        elif u.kind == "heat_pump":
            if u.source == "air":
                if d.prof.temp_air_c is None:
                    raise ScenarioError(f"heat.supply.{i}.source", "air", "an ambient "
                                        "temperature profile (a weather block)")
                src = np.asarray(d.prof.temp_air_c, float)
            else:
                src = np.full(T, _waste_heat(heat).temperature_c)
            sink = getattr(heat.levels, LEVELS[li])
            f = f"heat.supply.{i}."
            cop[a] = heat_pump_cop(sink, src, resolved(u.carnot_efficiency, f + "carnot_efficiency"),
                                   resolved(u.approach_k, f + "approach_k"),
                                   resolved(u.cop_max, f + "cop_max"))
            elec[a] = 1.0 / cop[a]
            if u.source == "waste_heat":
                waste[a] = 1.0 - 1.0 / cop[a]
    pr = heat.prices
    price_per_fuel_kwh = {"gas": pr.natural_gas_per_m3 / KWH_PER_M3_GAS,
                          "coal": pr.coal_per_t / 1000.0 / KWH_PER_KG_COAL, "": 0.0}
    cost = np.array([fuel[a] * price_per_fuel_kwh[fuel_kind[a]] for a in range(A)])
    used = sorted({li for _, li in arcs} | {LEVELS.index(s.level) for s in heat.storage}
                  | set(np.flatnonzero(dem.sum(axis=1) > 0).tolist()))
    return {
        "arcs": arcs, "names": [f"{units[i].name}/{LEVELS[li]}" for i, li in arcs],
        "cap": np.array([units[i].capacity_kw for i, _ in arcs]), "elec": elec, "fuel": fuel,
        "fuel_kind": fuel_kind, "waste": waste, "cop": cop, "cost": cost, "demand": dem,
        "levels": used, "served": [li for li in used if dem[li].sum() > 0],
        "shared": [i for i, u in enumerate(units) if len(u.levels) > 1],
    }


def fuel_line_coef(d: ModelData, what: str) -> dict[str, np.ndarray]:
    """Ledger terms of the fuel burned by the heat units, on ``heat.output_kw`` (A, T):
    ``what`` = "co2" [kgCO2], "kgce" [kgce], "gas_kgce" [kgce of natural gas only]."""
    if not enabled(d) or not section(d).supply:
        return {}
    p = params(d)
    if what == "co2":
        per = np.array([KGCO2_PER_KWH_FUEL.get(k, 0.0) for k in p["fuel_kind"]])
    elif what == "kgce":
        per = np.full(len(p["arcs"]), 1.0 / KWH_PER_KGCE)
    else:
        per = np.array([1.0 / KWH_PER_KGCE if k == "gas" else 0.0 for k in p["fuel_kind"]])
    coef = (p["fuel"] * per)[:, None] * np.full((1, d.T), d.dt_h)
    return {OUTPUT_KW: coef} if np.any(coef) else {}


def baseline_kgce(d: ModelData) -> float:
    """Heat demand over the horizon at the heat tce factor (1/8.141 kgce per kWh), for the
    indicator's size band before any decision [kgce]."""
    return float(demand_kw(d).sum()) * d.dt_h / KWH_PER_KGCE if enabled(d) else 0.0


# -- matrix form --------------------------------------------------------------------------------
def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form (after ``heat_storage``, whose columns enter the heat balance)."""
    if not enabled(d):
        return
    p, T, dt = params(d), d.T, d.dt_h
    steps = range(T)
    L = [LEVELS[li] for li in p["levels"]]
    dem = p["demand"][p["levels"]]
    rows = lp.rows(BALANCE, (L, steps), dem, dem)
    row_of = {li: k for k, li in enumerate(p["levels"])}
    if p["arcs"]:
        out = lp.var(OUTPUT_KW, (p["names"], steps), 0.0, p["cap"][:, None],
                     (p["cost"] * dt)[:, None])
        lvl = np.array([row_of[li] for _, li in p["arcs"]])
        lp.add(rows[lvl], out, 1.0)
        lp.add(bal[None, :], out, -p["elec"])
        if p["shared"]:
            units = section(d).supply
            r = lp.rows(CAPACITY, ([units[i].name for i in p["shared"]], steps),
                        hi=np.array([units[i].capacity_kw for i in p["shared"]])[:, None])
            for k, i in enumerate(p["shared"]):
                mine = [a for a, (j, _) in enumerate(p["arcs"]) if j == i]
                lp.add(r[k][None, :], out[mine], 1.0)
        w = [a for a in range(len(p["arcs"])) if np.any(p["waste"][a])]
        if w:
            r = lp.rows(WASTE_HEAT, (steps,), hi=_waste_heat(section(d)).power_kw)
            lp.add(r[None, :], out[w], p["waste"][w])
    if p["served"]:
        s_rows = [row_of[li] for li in p["served"]]
        un = lp.var(UNSERVED_KW, ([LEVELS[li] for li in p["served"]], steps), 0.0,
                    p["demand"][p["served"]], section(d).unserved_penalty_per_kwh * dt)
        lp.add(rows[s_rows], un, 1.0)
    if lp.has(heatstore.CHARGE_KW):
        stores = section(d).storage
        at = np.array([row_of[LEVELS.index(s.level)] for s in stores])
        lp.add(rows[at], lp.cols(heatstore.DISCHARGE_KW), 1.0)
        lp.add(rows[at], lp.cols(heatstore.CHARGE_KW), -1.0)


# -- Pyomo form ---------------------------------------------------------------------------------
def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form (after ``heat_storage``)."""
    if not enabled(d):
        return
    p, T, dt = params(d), d.T, d.dt_h
    names, arcs = p["names"], p["arcs"]
    a_of = {n: a for a, n in enumerate(names)}
    b = m.heat = pyo.Block()
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.L = pyo.Set(initialize=[LEVELS[li] for li in p["levels"]], ordered=True)
    if arcs:
        b.A = pyo.Set(initialize=names, ordered=True)
        b.output_kw = pyo.Var(b.A, b.T, bounds=lambda _, a, t: (0.0, p["cap"][a_of[a]]))
        ctx.costs.append(sum(p["cost"][a] * dt * b.output_kw[n, t]
                             for a, n in enumerate(names) if p["cost"][a] for t in range(T)))
        elec = p["elec"]
        ctx.balance.append(lambda t: -sum(elec[a, t] * b.output_kw[n, t]
                                          for a, n in enumerate(names) if elec[a, t]))
    served = [LEVELS[li] for li in p["served"]]
    if served:
        b.S = pyo.Set(initialize=served, ordered=True)
        b.unserved_kw = pyo.Var(
            b.S, b.T, bounds=lambda _, lv, t: (0.0, p["demand"][LEVELS.index(lv), t]))
        pen = section(d).unserved_penalty_per_kwh * dt
        ctx.costs.append(sum(pen * b.unserved_kw[lv, t] for lv in served for t in range(T)))
    hs = getattr(m, "heat_storage", None)
    stores = section(d).storage

    def balance(b: pyo.Block, lv: str, t: int) -> Any:
        li = LEVELS.index(lv)
        expr: Any = sum(b.output_kw[n, t] for n, (_, lj) in zip(names, arcs, strict=True)
                        if lj == li)
        if lv in served:
            expr = expr + b.unserved_kw[lv, t]
        if hs is not None:
            expr = expr + sum(hs.discharge_kw[s.name, t] - hs.charge_kw[s.name, t]
                              for s in stores if s.level == lv)
        return expr == p["demand"][li, t]

    b.balance = pyo.Constraint(b.L, b.T, rule=balance)
    units = section(d).supply
    if p["shared"]:
        b.U = pyo.Set(initialize=[units[i].name for i in p["shared"]], ordered=True)
        u_of = {units[i].name: i for i in p["shared"]}

        def capacity(b: pyo.Block, name: str, t: int) -> Any:
            i = u_of[name]
            return sum(b.output_kw[n, t] for n, (j, _) in zip(names, arcs, strict=True)
                       if j == i) <= units[i].capacity_kw

        b.capacity = pyo.Constraint(b.U, b.T, rule=capacity)
    w = [a for a in range(len(arcs)) if np.any(p["waste"][a])]
    if w:
        stream = _waste_heat(section(d)).power_kw
        b.waste_heat = pyo.Constraint(b.T, rule=lambda b, t: sum(
            p["waste"][a, t] * b.output_kw[names[a], t] for a in w) <= stream)


# -- results ------------------------------------------------------------------------------------
def _by_unit_level(d: ModelData, p: dict[str, Any], arc_values: np.ndarray) -> np.ndarray:
    out = np.zeros((len(section(d).supply), len(LEVELS), d.T))
    for a, (i, li) in enumerate(p["arcs"]):
        out[i, li] = arc_values[a]
    return out


def flows(d: ModelData, values: Any) -> dict[str, Any]:
    """Solved heat flows: output (A, T), fuel (LHV) per arc, electricity per arc (+ drawn,
    − generated by CHP), waste heat per arc [kW]."""
    p = params(d)
    out = np.asarray(values.get(OUTPUT_KW, np.zeros((len(p["arcs"]), d.T))), float)
    out = out.reshape(len(p["arcs"]), d.T)
    return {"output": out, "fuel": p["fuel"][:, None] * out, "elec": p["elec"] * out,
            "waste": p["waste"] * out, "params": p}


def outputs(d: ModelData, values: Any) -> list[Output]:
    """Variables of ``results.nc``: heat per unit and level, fuel and electricity per unit,
    unserved heat and demand per level, heat pump COP."""
    if not enabled(d):
        return []
    f = flows(d, values)
    p = f["params"]
    U = len(section(d).supply)
    dims3, dims2 = ("heat_unit", "heat_level", "time"), ("heat_unit", "time")
    unserved = np.zeros((len(LEVELS), d.T))
    if UNSERVED_KW in values:
        unserved[p["served"]] = np.asarray(values[UNSERVED_KW], float)
    cop = np.full((U, d.T), np.nan)
    for a, (i, _) in enumerate(p["arcs"]):
        if np.isfinite(p["cop"][a]).any():
            cop[i] = p["cop"][a]

    def per_unit(x: np.ndarray) -> np.ndarray:
        return np.asarray(_by_unit_level(d, p, x).sum(axis=1))

    fuel_gas = per_unit(np.where(p["fuel_kind"][:, None] == "gas", f["fuel"], 0.0))
    fuel_coal = per_unit(np.where(p["fuel_kind"][:, None] == "coal", f["fuel"], 0.0))
    return [
        Output("heat_supply_kw", dims3, _by_unit_level(d, p, f["output"]), "kW",
               "heat delivered by each unit to each level", "thermal"),
        Output("heat_demand_kw", ("heat_level", "time"), p["demand"], "kW",
               "heat demand per level", "thermal"),
        Output("heat_unserved_kw", ("heat_level", "time"), unserved, "kW",
               "heat demand not served", "thermal"),
        Output("heat_gas_kw", dims2, fuel_gas, "kW", "natural gas burned (lower heating value)",
               f"{KWH_PER_M3_GAS:.3f} kWh per m3"),
        Output("heat_coal_kw", dims2, fuel_coal, "kW", "coal burned (lower heating value)",
               f"{KWH_PER_KG_COAL:.3f} kWh per kg"),
        Output("heat_electricity_kw", dims2, per_unit(f["elec"]), "kW",
               "electricity drawn by heat units (negative: generated by CHP)"),
        Output("heat_pump_cop", dims2, cop, "1", "heat pump coefficient of performance",
               "NaN for units that are not heat pumps"),
    ]


def coords(d: ModelData) -> dict[str, Sequence[str]]:
    if not enabled(d):
        return {}
    return {"heat_unit": [u.name for u in section(d).supply], "heat_level": list(LEVELS)}


def kpis(d: ModelData, values: Any) -> dict[str, Any]:
    """Entries of ``kpis.json``: ``heat`` (demand, heat by source, fuel, electricity, Scope 1,
    ``fuel_cost`` and ``unserved_penalty`` [currency]) and the cost lines ``heat_fuel`` (fuel
    burned at ``heat.prices``) and ``penalties`` (unserved heat), which are terms of the
    objective. Without a heat section: an empty ``heat`` and a zero ``heat_fuel`` line."""
    if not enabled(d):
        return {"heat": {}, "cost_breakdown": {"heat_fuel": 0.0}}
    f = flows(d, values)
    p, dt = f["params"], d.dt_h
    units = section(d).supply
    unserved = float(np.sum(values.get(UNSERVED_KW, 0.0))) * dt
    gas_kwh = float(f["fuel"][p["fuel_kind"] == "gas"].sum()) * dt
    coal_kwh = float(f["fuel"][p["fuel_kind"] == "coal"].sum()) * dt
    elec = f["elec"]
    co2 = gas_kwh * KGCO2_PER_KWH_FUEL["gas"] + coal_kwh * KGCO2_PER_KWH_FUEL["coal"]
    by_unit = {u.name: float(sum(f["output"][a].sum() for a, (j, _) in enumerate(p["arcs"])
                                 if j == i)) * dt for i, u in enumerate(units)}
    fuel_cost = float((p["cost"][:, None] * f["output"]).sum()) * dt
    penalty = unserved * section(d).unserved_penalty_per_kwh
    return {
        "heat": {
            "demand_kwh": {LEVELS[li]: float(p["demand"][li].sum()) * dt for li in p["levels"]},
            "heat_by_source_kwh": by_unit,
            "unserved_kwh": unserved,
            "natural_gas_m3": gas_kwh / KWH_PER_M3_GAS,
            "coal_t": coal_kwh / KWH_PER_KG_COAL / 1000.0,
            "fuel_kgce": (gas_kwh + coal_kwh) / KWH_PER_KGCE,
            "electricity_kwh": float(elec[elec > 0].sum()) * dt,
            "chp_electricity_kwh": float(-elec[elec < 0].sum()) * dt + 0.0,
            "scope1_t": co2 / 1000.0,
            "fuel_cost": fuel_cost,
            "unserved_penalty": penalty,
        },
        "cost_breakdown": {"heat_fuel": fuel_cost, "penalties": penalty},
    }


# -- sizing hook of the registry (zeropark size) -------------------------------------------------
# Unit u with cap C̄ (max_capacity_kw, or all_factor × capacity_kw): the envelope model has the
# unit at C̄; a column heat.capacity_kw[u] C_u ∈ [0, C̄] at the annualized cost per kW and rows
#     Σ_l out[u/l,t] − C_u ≤ 0                                    (heat.sized_output) [kW]


def unit_cost(sc: Any, item: Any, capex: float | None, field_path: str) -> Any:
    """Cost of one kW (supply) or kWh (store) of a heat asset: its ``capex_per_kw`` /
    ``capex_per_kwh`` × ``sizing.capex_factor``, no fixed O&M, lifetime from
    ``sizing.lifetime_years`` (by name or technology) else the asset's."""
    from zeropark.planning.capex import UnitCost, capital_recovery_factor

    overrides = sc.sizing.lifetime_years
    life = next((overrides[k] for k in (item.name, item.technology) if k in overrides),
                item.lifetime_years)
    if life is None:
        raise ScenarioError(field_path, item.technology, "a technology with lifetime_years, or "
                                                         f"set sizing.lifetime_years.{item.name}")
    key = item.technology or item.kind
    return UnitCost(key, float(capex or 0.0) * sc.sizing.capex_factor, 0.0, float(life),
                    capital_recovery_factor(sc.sizing.discount_rate, float(life)))


def _select(plan: SizingPlan, sc: Any, profiles: Any, options: Mapping[str, Any]) -> None:
    """Units with ``max_capacity_kw`` (or ``all_factor`` × ``capacity_kw``)."""
    if getattr(sc, "heat", None) is None:
        return
    for i, u in enumerate(sc.heat.supply):
        cap = size_cap(u.max_capacity_kw, u.capacity_kw, options.get("all_factor"),
                       f"heat.supply.{i}.max_capacity_kw")
        if cap is not None:
            plan.add(CAPACITY_KW, SizedAsset(f"heat.supply.{i}.capacity_kw", i, u.capacity_kw,
                                             cap, "kW", unit_cost(sc, u, u.capex_per_kw,
                                                                  f"heat.supply.{i}.technology")))


def _arcs_of(d: ModelData, i: int) -> list[int]:
    return [a for a, (j, _) in enumerate(params(d)["arcs"]) if j == i]


def _add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan,
                per_kwp: Mapping[int, np.ndarray]) -> None:
    """Capacity columns and ``heat.sized_output`` rows (see above)."""
    sized = plan.of(CAPACITY_KW)
    if not sized or not lp.has(OUTPUT_KW):
        return
    names = [section(d).supply[s.index].name for s in sized]
    cap = lp.var(CAPACITY_KW, (names,), 0.0, np.array([s.cap for s in sized]),
                 np.array([s.cost.annualized_per_year * d.horizon_fraction for s in sized]))
    out = lp.cols(OUTPUT_KW)
    rows = lp.rows(SIZED_OUTPUT, (names, range(d.T)), hi=0.0)
    for k, s in enumerate(sized):
        lp.add(rows[k][None, :], out[_arcs_of(d, s.index)], 1.0)
        lp.add(rows[k], cap[k], -1.0)


def _changes(sc: Any, plan: SizingPlan, sizes: Mapping[str, float]) -> dict[str, Any]:
    return {f"heat.supply.{s.index}.capacity_kw": sizes[s.key] for s in plan.of(CAPACITY_KW)}


def _loosen(lp: MatrixLP, plan: SizingPlan) -> None:
    """Output columns and shared-capacity rows of the sized units without their cap bounds."""
    from zeropark.planning.lpedit import set_cols, set_rows

    sized = plan.of(CAPACITY_KW)
    if not sized or not lp.has(OUTPUT_KW):
        return
    labels = list(lp.var_blocks[OUTPUT_KW].labels[0])
    out = lp.cols(OUTPUT_KW)
    shared = list(lp.row_blocks[CAPACITY].labels[0]) if CAPACITY in lp.row_blocks else []
    for name in lp.var_blocks[CAPACITY_KW].labels[0]:
        mine = [a for a, lab in enumerate(labels) if lab.rsplit("/", 1)[0] == name]
        set_cols(lp, out[mine], ub=np.inf)
        if name in shared:
            set_rows(lp, lp.row_blocks[CAPACITY].index()[shared.index(name)], hi=np.inf)


def _widen(sc: Any, key: str, cap: float, options: Mapping[str, Any]) -> dict[str, Any]:
    parts = key.split(".")
    if parts[:2] != ["heat", "supply"] or parts[-1] != "capacity_kw":
        return {}
    return {f"heat.supply.{parts[2]}.max_capacity_kw": cap}


SIZING = (SizingHook(key="heat.supply.{i}.capacity_kw", cap_field="heat.supply.N.max_capacity_kw",
                     unit="kW", add=_add_sizing, columns=(CAPACITY_KW,), select=_select,
                     changes=_changes, loosen=_loosen, widen=_widen),)

FAMILY = Family(
    name="heat", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={BALANCE: "heat balance of a temperature level",
               CAPACITY: "heat unit capacity shared by its levels",
               WASTE_HEAT: "waste-heat stream available",
               SIZED_OUTPUT: "heat output within the sized capacity"},
    col_words={OUTPUT_KW: "heat delivered by a unit to a level",
               UNSERVED_KW: "heat demand not served",
               CAPACITY_KW: "sized heat unit capacity"},
    outputs=outputs, coords=coords, sizing=SIZING, kpis=kpis,
)
