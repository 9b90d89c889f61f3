"""Shared context of the Pyomo builder: what each component contributes to the shared rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyomo.core.expr.numeric_expr import NumericValue

TermFn = Callable[[int], NumericValue | float]


@dataclass
class PyomoContext:
    """Terms collected while the components are built.

    ``balance`` holds functions t -> (supply − demand) contributions of each component at step t;
    ``costs`` the objective terms of each component.
    """

    balance: list[TermFn] = field(default_factory=list)
    costs: list[NumericValue | float] = field(default_factory=list)
