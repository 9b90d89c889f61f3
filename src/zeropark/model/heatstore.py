"""Thermal stores (family ``heat_storage``): hot-water tanks, steam accumulators, molten-salt or
solid-media stores, each on one temperature level.

Per store s and step t (dt the step length [h], k = 1 − loss_per_h · dt, E the usable content
[kWh thermal], P the charge/discharge limit [kW thermal]):

    soc[s,t] = k · soc[s,t−1] + η_c · dt · ch[s,t] − dt / η_d · dis[s,t]   (heat_storage.soc_balance)
    soc[s,−1] = soc_initial · E;  soc[s,T−1] ≥ soc_initial · E              (heat_storage.end)
    0 ≤ ch, dis ≤ P;  0 ≤ soc ≤ E

Charge and discharge enter the heat balance of the store's level (:mod:`zeropark.model.heat`,
built after this family): + dis − ch. No exclusivity binaries: charging and discharging at once
only loses heat, which never pays while heat has a positive cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import Family, Output, SizedAsset, SizingHook, SizingPlan, size_cap
from zeropark.model.lp import MatrixLP

#: Block names of this family (the rest of the code base uses these constants).
CHARGE_KW = "heat_storage.charge_kw"  #: heat charged [kW thermal]
DISCHARGE_KW = "heat_storage.discharge_kw"  #: heat discharged [kW thermal]
SOC_KWH = "heat_storage.soc_kwh"  #: heat content at the end of the step [kWh thermal]
ENERGY_KWH = "heat_storage.energy_kwh"  #: sized content per store [kWh thermal] (sizing only)
SOC_BALANCE = "heat_storage.soc_balance"  #: content balance per store and step
END = "heat_storage.end"  #: ends at least as full as it started
SIZED_SOC = "heat_storage.sized_soc"  #: content within the sized store (sizing only)


def _stores(d: ModelData) -> list[Any]:
    heat = getattr(d.sc, "heat", None)
    return [] if heat is None else list(heat.storage)


def params(d: ModelData) -> dict[str, np.ndarray]:
    """Per-store parameter vectors."""
    st = _stores(d)

    def arr(attr: str) -> np.ndarray:
        return np.array([float(getattr(s, attr)) for s in st])

    e = arr("energy_kwh")
    return {"E": e, "P": arr("power_kw"), "eta_c": arr("charge_efficiency"),
            "eta_d": arr("discharge_efficiency"), "keep": 1.0 - arr("loss_per_h") * d.dt_h,
            "init": arr("soc_initial") * e}


def add_matrix(lp: MatrixLP, d: ModelData, bal: np.ndarray) -> None:
    """Matrix form."""
    st = _stores(d)
    if not st:
        return
    p, T, dt = params(d), d.T, d.dt_h
    S, steps = [s.name for s in st], range(T)
    ch = lp.var(CHARGE_KW, (S, steps), 0.0, p["P"][:, None])
    dis = lp.var(DISCHARGE_KW, (S, steps), 0.0, p["P"][:, None])
    soc = lp.var(SOC_KWH, (S, steps), 0.0, p["E"][:, None])
    rhs = np.zeros((len(S), T))
    rhs[:, 0] = p["keep"] * p["init"]
    rows = lp.rows(SOC_BALANCE, (S, steps), rhs, rhs)
    lp.add(rows, soc, 1.0)
    lp.add(rows[:, 1:], soc[:, :-1], -p["keep"][:, None])
    lp.add(rows, ch, -(p["eta_c"] * dt)[:, None])
    lp.add(rows, dis, (dt / p["eta_d"])[:, None])
    end = lp.rows(END, (S,), p["init"], np.inf)
    lp.add(end, soc[:, -1], 1.0)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form."""
    st = _stores(d)
    if not st:
        return
    p, T, dt = params(d), d.T, d.dt_h
    S = [s.name for s in st]
    k = {s: i for i, s in enumerate(S)}
    b = m.heat_storage = pyo.Block()
    b.S = pyo.Set(initialize=S, ordered=True)
    b.T = pyo.Set(initialize=range(T), ordered=True)
    b.charge_kw = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (0.0, p["P"][k[s]]))
    b.discharge_kw = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (0.0, p["P"][k[s]]))
    b.soc_kwh = pyo.Var(b.S, b.T, bounds=lambda _, s, t: (0.0, p["E"][k[s]]))

    def soc_balance(b: pyo.Block, s: str, t: int) -> Any:
        i = k[s]
        prev = p["keep"][i] * (b.soc_kwh[s, t - 1] if t > 0 else p["init"][i])
        flow = p["eta_c"][i] * dt * b.charge_kw[s, t] - dt / p["eta_d"][i] * b.discharge_kw[s, t]
        return b.soc_kwh[s, t] == prev + flow

    b.soc_balance = pyo.Constraint(b.S, b.T, rule=soc_balance)
    b.end = pyo.Constraint(b.S, rule=lambda b, s: b.soc_kwh[s, T - 1] >= p["init"][k[s]])


def outputs(d: ModelData, values: Any) -> list[Output]:
    """Variables of ``results.nc``: charge, discharge and heat content per store."""
    st = _stores(d)
    if not st:
        return []
    dims = ("heat_store", "time")

    def get(name: str) -> np.ndarray:
        return np.asarray(values.get(name, np.zeros((len(st), d.T))), float)

    return [
        Output("heat_storage_charge_kw", dims, get(CHARGE_KW), "kW",
               "heat charged into the store", "thermal"),
        Output("heat_storage_discharge_kw", dims, get(DISCHARGE_KW), "kW",
               "heat discharged from the store", "thermal"),
        Output("heat_storage_soc_kwh", dims, get(SOC_KWH), "kWh",
               "heat content of the store", "thermal, end of step"),
    ]


def coords(d: ModelData) -> dict[str, Sequence[str]]:
    st = _stores(d)
    return {"heat_store": [s.name for s in st]} if st else {}


def kpis(d: ModelData, values: Any) -> dict[str, Any]:
    """``heat.storage``: heat charged, discharged and lost per store [kWh thermal]."""
    st = _stores(d)
    if not st:
        return {}
    dt = d.dt_h
    ch = np.asarray(values[CHARGE_KW], float).reshape(len(st), d.T)
    dis = np.asarray(values[DISCHARGE_KW], float).reshape(len(st), d.T)
    soc = np.asarray(values[SOC_KWH], float).reshape(len(st), d.T)
    p = params(d)
    per_store = {s.name: {"charged_kwh": float(ch[i].sum()) * dt,
                          "discharged_kwh": float(dis[i].sum()) * dt,
                          "losses_kwh": float(ch[i].sum() * dt - dis[i].sum() * dt
                                              - (soc[i, -1] - p["init"][i]))}
                 for i, s in enumerate(st)}
    return {"heat": {"storage": per_store}}


# -- sizing hook of the registry (zeropark size) -------------------------------------------------
# Store s with cap Ē (max_energy_kwh, or all_factor × energy_kwh): the envelope model has the
# store at Ē; a column heat_storage.energy_kwh[s] E_s ∈ [0, Ē] at the annualized cost per kWh,
# rows soc[s,t] − E_s ≤ 0 (heat_storage.sized_soc), and the initial content soc_initial · E_s
# becomes a term on E_s in heat_storage.soc_balance at t = 0 and in heat_storage.end:
#     soc[s,0] − k·soc_initial·E_s − η_c·dt·ch[s,0] + dt/η_d·dis[s,0] = 0
#     soc[s,T−1] − soc_initial·E_s ≥ 0


def _select(plan: SizingPlan, sc: Any, profiles: Any, options: Mapping[str, Any]) -> None:
    """Stores with ``max_energy_kwh`` (or ``all_factor`` × ``energy_kwh``)."""
    from zeropark.model.heat import unit_cost

    if getattr(sc, "heat", None) is None:
        return
    for i, s in enumerate(sc.heat.storage):
        cap = size_cap(s.max_energy_kwh, s.energy_kwh, options.get("all_factor"),
                       f"heat.storage.{i}.max_energy_kwh")
        if cap is not None:
            plan.add(ENERGY_KWH, SizedAsset(f"heat.storage.{i}.energy_kwh", i, s.energy_kwh, cap,
                                            "kWh", unit_cost(sc, s, s.capex_per_kwh,
                                                             f"heat.storage.{i}.technology")))


def _add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan,
                per_kwp: Mapping[int, np.ndarray]) -> None:
    """Energy columns, ``heat_storage.sized_soc`` rows and the initial content on E (above)."""
    from zeropark.planning.lpedit import set_rows

    sized = plan.of(ENERGY_KWH)
    if not sized or not lp.has(SOC_KWH):
        return
    st = _stores(d)
    idx = [s.index for s in sized]
    names = [st[i].name for i in idx]
    share = np.array([float(st[i].soc_initial) for i in idx])
    e = lp.var(ENERGY_KWH, (names,), 0.0, np.array([s.cap for s in sized]),
               np.array([s.cost.annualized_per_year * d.horizon_fraction for s in sized]))
    soc = lp.cols(SOC_KWH)[idx]
    rows = lp.rows(SIZED_SOC, (names, range(d.T)), hi=0.0)
    lp.add(rows, soc, 1.0)
    lp.add(rows, e[:, None], -1.0)
    bal0 = lp.row_blocks[SOC_BALANCE].index()[idx, 0]
    set_rows(lp, bal0, lo=0.0, hi=0.0)
    lp.add(bal0, e, -params(d)["keep"][idx] * share)
    end = lp.row_blocks[END].index()[idx]
    set_rows(lp, end, lo=0.0)
    lp.add(end, e, -share)


def _changes(sc: Any, plan: SizingPlan, sizes: Mapping[str, float]) -> dict[str, Any]:
    return {f"heat.storage.{s.index}.energy_kwh": sizes[s.key] for s in plan.of(ENERGY_KWH)}


def _loosen(lp: MatrixLP, plan: SizingPlan) -> None:
    """Heat content of the sized stores without its cap bound."""
    from zeropark.planning.lpedit import set_cols

    idx = [s.index for s in plan.of(ENERGY_KWH)]
    if idx and lp.has(SOC_KWH):
        set_cols(lp, lp.cols(SOC_KWH)[idx], ub=np.inf)


def _widen(sc: Any, key: str, cap: float, options: Mapping[str, Any]) -> dict[str, Any]:
    parts = key.split(".")
    if parts[:2] != ["heat", "storage"] or parts[-1] != "energy_kwh":
        return {}
    return {f"heat.storage.{parts[2]}.max_energy_kwh": cap}


SIZING = (SizingHook(key="heat.storage.{i}.energy_kwh", cap_field="heat.storage.N.max_energy_kwh",
                     unit="kWh", add=_add_sizing, columns=(ENERGY_KWH,), select=_select,
                     changes=_changes, loosen=_loosen, widen=_widen),)

FAMILY = Family(
    name="heat_storage", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={SOC_BALANCE: "heat content of a thermal store",
               END: "thermal store ends at least as full as it started",
               SIZED_SOC: "heat content within the sized store"},
    col_words={CHARGE_KW: "heat charged into a thermal store",
               DISCHARGE_KW: "heat discharged from a thermal store",
               SOC_KWH: "heat content of a thermal store",
               ENERGY_KWH: "sized thermal store content"},
    outputs=outputs, coords=coords, sizing=SIZING, kpis=kpis,
)
