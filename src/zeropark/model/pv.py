"""PV arrays (curtailable; DC-coupled arrays feed through a converter efficiency) and direct green
power supply (绿电直连/PPA: contract profile as upper bound, price per kWh, minimum take)."""

from __future__ import annotations

import numpy as np

from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData, pv_bus_efficiency
from zeropark.model.family import Family, Output, Values
from zeropark.model.lp import MatrixLP

# Block names: PV power per array and step, the direct green supply and its minimum take, and
# the capacity column and rows sizing adds (:func:`zeropark.planning.sizing.add_sizing`).
POWER_KW = "pv.power_kw"
GREEN_DIRECT_KW = "green.direct_kw"
GREEN_MIN_TAKE = "green.min_take"
CAPACITY_KWP = "pv.capacity_kwp"
CAPACITY = "pv.capacity"


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
    """Matrix form."""
    steps = range(d.T)
    if d.pv_names:
        pv = lp.var("pv.power_kw", (d.pv_names, steps), 0.0, d.prof.pv_avail_kw)
        lp.add(bal[None, :], pv, pv_efficiency(d)[:, None])
    direct = d.sc.green_power.direct
    if direct is not None and d.prof.green_direct_kw is not None:
        gd = lp.var("green.direct_kw", (steps,), 0.0, d.prof.green_direct_kw,
                    direct.price_per_kwh * d.dt_h)
        lp.add(bal, gd, 1.0)
        if min_take_kwh(d) > 0:
            row = lp.rows("green.min_take", (), lo=min_take_kwh(d))
            lp.add(row, gd, d.dt_h)


def add_pyomo(m: pyo.ConcreteModel, d: ModelData, ctx: PyomoContext) -> None:
    """Pyomo form."""
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


def coords(d: ModelData) -> dict[str, list[str]]:
    """PV array names."""
    return {"pv": list(d.pv_names)}


FAMILY = Family(
    name="pv", add_matrix=add_matrix, add_pyomo=add_pyomo,
    row_words={GREEN_MIN_TAKE: "green direct minimum take",
               CAPACITY: "PV power within the sized capacity"},
    col_words={POWER_KW: "PV power (availability) [kW]",
               GREEN_DIRECT_KW: "green direct supply (contract profile) [kW]",
               CAPACITY_KWP: "PV capacity to build [kWp]"},
    outputs=outputs, coords=coords,
)
