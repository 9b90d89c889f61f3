"""The component-family protocol: everything one family of components owns, in one place.

A family module (``grid``, ``pv``, ``storage``, ``ev``, ``flexload``, ``dr``, ``carbon``, and the
heat families) ends with ``FAMILY = Family(...)`` and is listed once in
:data:`zeropark.model.registry.FAMILIES`. The core (builder, solve, results, diagnosis, sizing)
loops over that registry and never spells a family's block names itself.

What a family owns
------------------
``add_matrix(lp, d, bal)``
    Its columns and rows in the sparse-matrix form; ``bal`` are the power-balance row indices
    (supply − demand = load), to which it adds its terms.
``add_pyomo(m, d, ctx)``
    The same model as a Pyomo block ``m.<name>`` (imported lazily), adding its balance terms and
    costs to ``ctx``. Both forms must build the same model (``tests/test_equivalence.py``).
``row_words`` / ``col_words``
    Block name → words a park engineer understands (diagnosis, error messages).
``outputs(d, values)``
    Its variables of ``results.nc``: list of :class:`Output` (name, dims, units, long name, data).
``coords(d)``
    The dimension coordinates its outputs use (e.g. ``{"storage": [...]}``).
``rounding(lp, values, permissive)``
    Integer values for its integer blocks, from a relaxed solution ``values`` (warm start);
    blocks it leaves out round to nearest.
``candidates(lp, x, rounded)``
    Further integer points worth trying as the warm start besides ``rounded`` (optional; e.g.
    each way of settling the demand-response events the relaxation takes part-way).
``sizing``
    The capacities that can be decision variables, each a :class:`SizingHook`.
``kpis(d, values)``
    Its KPI and cost-line contributions (optional).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from zeropark.model.context import PyomoContext
    from zeropark.model.data import ModelData
    from zeropark.model.lp import MatrixLP

Values = Mapping[str, np.ndarray]

#: Row block of the power balance (supply − demand = load), built by the core before any family.
BALANCE_POWER = "balance.power"


@dataclass(frozen=True)
class Output:
    """One variable of ``results.nc`` contributed by a family.

    ``data`` has the shape of ``dims`` (e.g. ``("storage", "time")``); ``units`` follows CF
    conventions (``"kW"``, ``"kWh"``, ``"1"``, a currency code).
    """

    name: str
    dims: tuple[str, ...]
    data: np.ndarray
    units: str
    long_name: str
    note: str = ""

    def attrs(self) -> dict[str, str]:
        """The xarray attributes of this output."""
        a = {"units": self.units, "long_name": self.long_name}
        if self.note:
            a["note"] = self.note
        return a


@dataclass(frozen=True)
class SizingHook:
    """A capacity of the family that sizing can turn into a decision variable.

    ``key`` is the scenario field path pattern (e.g. ``"storage.{i}.energy_kwh"``), ``cap_field``
    the field holding its cap (e.g. ``"storage.{i}.max_energy_kwh"``), ``unit`` its unit and
    ``add(lp, d, plan)`` adds the capacity columns and the rows tying dispatch to them.
    """

    key: str
    cap_field: str
    unit: str
    add: Callable[..., Any] | None = None


def _no_outputs(d: ModelData, values: Values) -> list[Output]:
    return []


def _no_coords(d: ModelData) -> dict[str, Sequence[str]]:
    return {}


@dataclass(frozen=True)
class Family:
    """One component family: both model forms, its words, outputs, rounding and sizing."""

    name: str
    add_matrix: Callable[[MatrixLP, ModelData, np.ndarray], None]
    add_pyomo: Callable[[Any, ModelData, PyomoContext], None]
    row_words: Mapping[str, str] = field(default_factory=dict)
    col_words: Mapping[str, str] = field(default_factory=dict)
    outputs: Callable[[ModelData, Values], list[Output]] = _no_outputs
    coords: Callable[[ModelData], dict[str, Sequence[str]]] = _no_coords
    rounding: Callable[[MatrixLP, Values, bool], dict[str, np.ndarray]] | None = None
    candidates: Callable[[MatrixLP, np.ndarray, np.ndarray], list[np.ndarray]] | None = None
    sizing: tuple[SizingHook, ...] = ()
    kpis: Callable[[ModelData, Values], dict[str, float]] | None = None
