"""PV arrays (curtailable; DC-coupled arrays feed through a converter efficiency) and direct green
power supply (绿电直连/PPA: contract profile as upper bound, price per kWh, minimum take).

Per array a and step t (Δt the step length [h]):

    0 ≤ p[a,t] ≤ A[a,t]                 [kW]  available power from the profiles (pv.power_kw)
    balance: + η[a]·p[a,t]                    η = 1 for AC-coupled arrays, the converter
                                              efficiency for DC-coupled ones

Direct green supply, with G(t) [kW] the contract profile, π [currency/kWh] its price and M
[kWh] the minimum take over the horizon (the annual minimum pro rata, at most what the contract
delivers in the horizon):

    0 ≤ g(t) ≤ G(t)                     [kW]  (green.direct_kw)
    Σ_t Δt·g(t) ≥ M                     [kWh] (green.min_take)
    balance: + g(t);  cost: Σ_t π·Δt·g(t)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData, pv_bus_efficiency
from zeropark.model.family import Family, Output, SizedAsset, SizingHook, SizingPlan, Values, size_cap
from zeropark.model.lp import INF, MatrixLP
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

# Block names: PV power per array and step, the direct green supply and its minimum take, and
# the capacity column and rows sizing adds (:func:`zeropark.planning.sizing.add_sizing`).
POWER_KW = "pv.power_kw"
GREEN_DIRECT_KW = "green.direct_kw"
GREEN_MIN_TAKE = "green.min_take"
CAPACITY_KWP = "pv.capacity_kwp"
CAPACITY = "pv.capacity"

#: Rooftop PV per m² of usable roof [kWp/m²]: labelled default for flat C&I roofs with row
#: spacing (≈ 20 % efficient modules cover 1 m² per 0.2 kWp; spacing and access leave ~75 %).
KWP_PER_M2 = 0.15


def pv_efficiency(d: ModelData) -> np.ndarray:
    """Factor from an array's available power to AC-bus supply (converter for DC-coupled)."""
    return pv_bus_efficiency(d.sc)


def min_take_kwh(d: ModelData) -> float:
    """Minimum green direct take over the horizon [kWh]: the annual minimum pro rata, but never
    more than the contract delivers in the horizon (a windless week cannot owe wind energy)."""
    direct = d.sc.green_power.direct
    if direct is None or d.prof.green_direct_kw is None:
        return 0.0
    available = float(np.sum(d.prof.green_direct_kw)) * d.dt_h
    return min(direct.min_take_kwh * d.horizon_fraction, available)


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form of the module docstring: PV power per array and step (bounded by the
    availability) and the direct green supply with its minimum take, in the balance rows."""
    steps = range(d.T)
    if d.pv_names:
        pv = lp.var("pv.power_kw", (d.pv_names, steps), 0.0, d.prof.pv_avail_kw)
        lp.add_terms(bal, [(pv_efficiency(d)[:, None], pv)])  # balance: + Σ_a η[a]·p[a,t]
    direct = d.sc.green_power.direct
    if direct is not None and d.prof.green_direct_kw is not None:
        gd = lp.var("green.direct_kw", (steps,), 0.0, d.prof.green_direct_kw,
                    direct.price_per_kwh * d.dt_h)
        lp.add_terms(bal, [(1.0, gd)])  # balance: + g(t)
        if min_take_kwh(d) > 0:  # Σ_t Δt·g(t) ≥ M
            lp.constrain("green.min_take", (), [(d.dt_h, gd)], lo=min_take_kwh(d))


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form of the module docstring: blocks ``m.pv`` (``power_kw[array, t]``) and
    ``m.green`` (``direct_kw[t]``, ``min_take``)."""
    T, dt = d.T, d.dt_h
    if d.pv_names:
        eff = dict(zip(d.pv_names, pv_efficiency(d), strict=True))
        avail = {a: d.prof.pv_avail_kw[i] for i, a in enumerate(d.pv_names)}
        b = m.pv = pyo.Block()
        b.A = pyo.Set(initialize=d.pv_names, ordered=True)
        b.T = pyo.Set(initialize=range(T), ordered=True)
        b.power_kw = pyo.Var(b.A, b.T, bounds=lambda _, a, t: (0.0, avail[a][t]))
        ctx.balance.append(lambda t: sum(eff[a] * b.power_kw[a, t] for a in d.pv_names))
    direct = d.sc.green_power.direct
    if direct is not None and d.prof.green_direct_kw is not None:
        cap = d.prof.green_direct_kw
        g = m.green = pyo.Block()
        g.T = pyo.Set(initialize=range(T), ordered=True)
        g.direct_kw = pyo.Var(g.T, bounds=lambda _, t: (0.0, cap[t]))
        if min_take_kwh(d) > 0:
            g.min_take = pyo.Constraint(expr=sum(dt * g.direct_kw[t] for t in g.T) >= min_take_kwh(d))
        ctx.balance.append(lambda t: g.direct_kw[t])
        ctx.costs.append(sum(direct.price_per_kwh * dt * g.direct_kw[t] for t in range(T)))


def outputs(d: ModelData, values: Values) -> list[Output]:
    """PV used, available and curtailed (AC side: DC-coupled arrays through their converter) and
    the direct green power taken, for ``results.nc``."""
    A, T = len(d.pv_names), d.T
    pv = np.asarray(values[POWER_KW], float) if POWER_KW in values else np.zeros((A, T))
    eta = pv_efficiency(d)[:, None] if A else np.zeros((0, 1))
    avail = d.prof.pv_avail_kw
    green = (np.asarray(values[GREEN_DIRECT_KW], float) if GREEN_DIRECT_KW in values
             else np.zeros(T))
    return [
        Output("pv_power_kw", ("pv", "time"), pv * eta, "kW", "PV power used, AC side"),
        Output("pv_available_kw", ("pv", "time"), avail * eta, "kW",
               "PV power available from the weather, AC side"),
        Output("pv_curtailed_kw", ("pv", "time"), (avail - pv) * eta, "kW",
               "PV power curtailed (available minus used)"),
        Output("green_direct_kw", ("time",), green, "kW", "direct green power taken (PPA)"),
    ]


def profile_outputs(sc: Scenario, prof: Profiles) -> tuple[list[Output], dict[str, list[str]]]:
    """Available PV power (as built, before any converter) and the green direct contract profile
    for ``profiles.nc``."""
    out = [Output("pv_available_kw", ("pv", "time"), prof.pv_avail_kw, "kW",
                  "PV power available from the weather, AC side")]
    if prof.green_direct_kw is not None:
        out.append(Output("green_direct_kw", ("time",), prof.green_direct_kw, "kW",
                          "direct green power taken (PPA)"))
    return out, {"pv": [a.name for a in sc.pv]}


def coords(d: ModelData) -> dict[str, list[str]]:
    """PV array names."""
    return {"pv": list(d.pv_names)}


# -- sizing ------------------------------------------------------------------------------------
# Array a with cap K̄: column pv.capacity_kwp[a] K ∈ [0, K̄] at the annualized cost per kWp, and
# rows pv.capacity[a,t]: p_pv[a,t] − avail_per_kwp[a,t]·K ≤ 0, where avail_per_kwp is the
# scenario's availability divided by its capacity (recomputed at 1 kWp by pvlib when the capacity
# is 0). The inverter is assumed to scale with the array (DC/AC ratio kept).


def at_one_kwp(sc: Scenario, arrays: list[int]) -> Scenario:
    """``sc`` with the given arrays at 1 kWp (inverter at the technology's DC/AC ratio)."""
    from zeropark.scenario.resolve import library_for

    changes: dict[str, Any] = {}
    for i in arrays:
        a = sc.pv[i]
        entry = library_for(sc).get("technologies", a.technology, f"pv.{i}.technology")
        changes[f"pv.{i}.capacity_kw"] = 1.0
        changes[f"pv.{i}.ac_limit_kw"] = 1.0 / float(entry.get("dc_ac_ratio", 1.2))
    return sc.replace(changes) if changes else sc


def per_kwp(sc: Scenario, profiles: Profiles, i: int) -> np.ndarray:
    """Available power per kWp of array ``i`` [kW/kWp] on the profiles' time index."""
    from zeropark.errors import ScenarioError

    a = sc.pv[i]
    if a.capacity_kw > 0:
        return np.asarray(profiles.pv_avail_kw[i] / a.capacity_kw, float)
    if a.profile is not None and a.profile.unit == "kw":
        raise ScenarioError(f"pv.{i}.capacity_kw", 0.0, "> 0 to size an array whose profile is "
                                                        "in kW (or give it in kw_per_kwp)")
    from zeropark.profiles.build import pv_profiles, weather_frame
    from zeropark.scenario.resolve import library_for

    one = at_one_kwp(sc, [i])
    wx = weather_frame(one, library_for(one), profiles.time)
    return np.asarray(pv_profiles(one, profiles.time, wx)[i], float)


def _select(plan: SizingPlan, sc: Scenario, profiles: Profiles, options: Mapping[str, Any]) -> None:
    """Arrays with a cap (``max_capacity_kw``, ``all_factor`` × size, or roof area ×
    :data:`KWP_PER_M2`, whichever is smaller) and their per-kWp availability."""
    from zeropark.errors import ScenarioError
    from zeropark.planning.capex import pv_cost

    roof = dict(options.get("roof_m2") or {})
    known = options.get("per_kwp") or {}
    unknown = sorted(set(roof) - {a.name for a in sc.pv})
    if unknown:
        raise ScenarioError("roof_m2", unknown[0], f"a PV array name, one of {[a.name for a in sc.pv]}")
    for i, a in enumerate(sc.pv):
        cap = size_cap(a.max_capacity_kw, a.capacity_kw,
                       None if a.name in roof else options.get("all_factor"),
                       f"pv.{i}.max_capacity_kw")
        if a.name in roof:
            if roof[a.name] < 0:
                raise ScenarioError(f"roof_m2.{a.name}", roof[a.name], "an area ≥ 0 m²")
            area_cap = roof[a.name] * KWP_PER_M2
            cap = area_cap if cap is None else min(cap, area_cap)
        if cap is None:
            continue
        plan.add(CAPACITY_KWP, SizedAsset(f"pv.{a.name}.capacity_kw", i, a.capacity_kw, cap, "kWp",
                                          pv_cost(sc, i)))
        given = known.get(i)
        plan.per_kwp[i] = given if given is not None else per_kwp(sc, profiles, i)


def _add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan,
                per_kwp: Mapping[int, np.ndarray]) -> None:
    """Capacity columns ``pv.capacity_kwp`` and rows ``pv.capacity`` (see above)."""
    sized = plan.of(CAPACITY_KWP)
    if not sized:
        return
    names = [d.pv_names[s.index] for s in sized]
    rows_of = [s.index for s in sized]
    cost = np.array([s.cost.annualized_per_year * d.horizon_fraction for s in sized])
    cap = lp.var(CAPACITY_KWP, (names,), 0.0, np.array([s.cap for s in sized]), cost)
    power = lp.cols(POWER_KW)[rows_of]
    r = lp.rows(CAPACITY, (names, range(d.T)), hi=0.0)
    lp.add(r, power, 1.0)
    lp.add(r, cap[:, None], -np.array([per_kwp[i] for i in rows_of]))


def _changes(sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float]) -> dict[str, Any]:
    """Array capacities at ``sizes``, inverter limits scaled with them."""
    changes: dict[str, Any] = {}
    for s in plan.of(CAPACITY_KWP):
        k = sizes[s.key]
        a = sc.pv[s.index]
        changes[f"pv.{s.index}.capacity_kw"] = k
        raw_ac = a.ac_limit_kw if a.capacity_kw > 0 else None
        if raw_ac is not None and k > 0:
            changes[f"pv.{s.index}.ac_limit_kw"] = raw_ac * k / a.capacity_kw
    return changes


def _profiles(prof: Profiles, sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float],
              per_kwp: Mapping[int, np.ndarray], envelope: bool) -> Profiles:
    """Profiles with the sized arrays' availability at ``sizes`` (``per_kwp`` on their index)."""
    sized = plan.of(CAPACITY_KWP)
    if not sized:
        return prof
    avail = prof.pv_avail_kw.copy()
    for s in sized:
        avail[s.index] = per_kwp[s.index] * sizes[s.key]
    return dataclasses.replace(prof, pv_avail_kw=avail)


def _loosen(lp: MatrixLP, plan: SizingPlan) -> None:
    """PV power of the sized arrays without its cap bound (the capacity rows bound it)."""
    from zeropark.planning.lpedit import set_cols

    sized = plan.of(CAPACITY_KWP)
    if sized:
        set_cols(lp, lp.cols(POWER_KW)[[s.index for s in sized]], ub=INF)


def _widen(sc: Scenario, key: str, cap: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """``max_capacity_kw`` of a sized array; a cap set by a roof area is physical: never widened."""
    family, name, _ = key.split(".", 2)
    if family != "pv" or name in (options.get("roof_m2") or {}):
        return {}
    return {f"pv.{[a.name for a in sc.pv].index(name)}.max_capacity_kw": cap}


SIZING = SizingHook(key="pv.{name}.capacity_kw", cap_field="pv.N.max_capacity_kw", unit="kWp",
                    add=_add_sizing, columns=(CAPACITY_KWP,), select=_select, changes=_changes,
                    profiles=_profiles, loosen=_loosen, widen=_widen)


FAMILY = Family(
    name="pv", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={GREEN_MIN_TAKE: "green direct minimum take",
               CAPACITY: "PV power within the sized capacity"},
    col_words={POWER_KW: "PV power (availability) [kW]",
               GREEN_DIRECT_KW: "green direct supply (contract profile) [kW]",
               CAPACITY_KWP: "PV capacity to build [kWp]"},
    outputs=outputs, coords=coords, sizing=(SIZING,), profile_outputs=profile_outputs,
)
