"""Assemble the whole model, in either form, from the component modules.

The order is the same in both builders: the power balance rows first, then each component
family, then certificates, offsets and targets (which read other families' columns).
"""

from __future__ import annotations

import numpy as np

from zeropark.model import registry
from zeropark.model.context import PyomoContext, pyo
from zeropark.model.data import ModelData
from zeropark.model.family import BALANCE_POWER
from zeropark.model.lp import MatrixLP


def build_matrix(d: ModelData) -> MatrixLP:
    """The model as a sparse matrix (default engine)."""
    lp = MatrixLP()
    load = np.asarray(d.prof.load_kw, float)
    bal = lp.rows(BALANCE_POWER, (range(d.T),), load, load)
    for family in registry.FAMILIES:
        family.add_matrix(lp, d, bal)
    return lp


def build_pyomo(d: ModelData) -> pyo.ConcreteModel:
    """The model as a Pyomo ``ConcreteModel`` with one block per component family.

    Names are predictable (``m.grid.import_kw[t]``, ``m.storage.soc_kwh[unit, t]``) so users can
    add their own constraints before solving; the objective is ``m.objective``.
    """
    m = pyo.ConcreteModel(name=d.sc.name)
    ctx = PyomoContext()
    for family in registry.FAMILIES:
        family.add_pyomo(m, d, ctx)
    load = np.asarray(d.prof.load_kw, float)
    m.balance = pyo.Block()
    m.balance.power = pyo.Constraint(
        range(d.T), rule=lambda _, t: sum(term(t) for term in ctx.balance) == load[t])
    m.objective = pyo.Objective(expr=sum(ctx.costs), sense=pyo.minimize)
    return m
