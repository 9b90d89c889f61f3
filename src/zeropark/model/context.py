"""Shared context of the Pyomo builder: what each component contributes to the shared rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zeropark.lazy import lazy_module

if TYPE_CHECKING:
    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import NumericValue
else:
    # ``pyomo.environ`` for the family modules' Pyomo forms, imported when a Pyomo model is first
    # built: the matrix engine never loads Pyomo (nor the scipy.stats its import hooks pull in).
    pyo = lazy_module("pyomo.environ")

# ``pyo`` is re-exported: the family modules import it from here
__all__ = ["PyomoContext", "TermFn", "pyo"]

TermFn = Callable[[int], "NumericValue | float"]


@dataclass
class PyomoContext:
    """Terms collected while the components are built.

    ``balance`` holds functions t -> (supply − demand) contributions of each component at step t;
    ``costs`` the objective terms of each component.
    """

    balance: list[TermFn] = field(default_factory=list)
    costs: list[NumericValue | float] = field(default_factory=list)
