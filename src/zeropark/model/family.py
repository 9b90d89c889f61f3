"""The component-family protocol: everything one family of components owns, in one place.

A family module (``grid``, ``pv``, ``storage``, ``ev``, ``flexload``, ``dr``, ``carbon``, and the
heat families) ends with ``FAMILY = Family(...)`` and is listed once in
:data:`zeropark.model.registry.FAMILIES`. The core (builder, solve, results, diagnosis, sizing)
loops over that registry and never spells a family's block names itself: each family module
defines its block names as constants (``storage.CHARGE_KW = "storage.charge_kw"``), which the
rest of the code base uses.

What a family owns
------------------
``add_matrix(lp, d, bal)``
    Its columns and rows in the sparse-matrix form; ``bal`` are the power-balance row indices
    (supply − demand = load), to which it adds its terms.
``add_pyomo(m, d, ctx)``
    The same model as a Pyomo block ``m.<name>`` (imported lazily), adding its balance terms and
    costs to ``ctx``. Both forms must build the same model (``tests/test_equivalence.py``).
``row_words`` / ``col_words``
    Block name → words a park engineer understands (diagnosis, error messages). A key ending in
    ``_`` names a prefix of per-component blocks (``flex.window_energy_`` → "energy window of
    flexible load 0" for ``flex.window_energy_0``).
``outputs(d, values)``
    Its variables of ``results.nc``: list of :class:`Output` (name, dims, units, long name, data).
``coords(d)``
    The dimension coordinates its outputs use (e.g. ``{"storage": [...]}``).
``profile_outputs(sc, prof)``
    Its variables of ``profiles.nc`` (the inputs it reads from the profiles) and their
    coordinates, as ``(outputs, coords)`` (optional).
``rounding(lp, values, permissive)``
    Integer values for its integer blocks, from a relaxed solution ``values`` (warm start);
    blocks it leaves out round to nearest.
``candidates(lp, x, rounded)``
    Further integer points worth trying as the warm start besides ``rounded`` (optional; e.g.
    each way of settling the demand-response events the relaxation takes part-way).
``sizing``
    The capacities that can be decision variables, each a :class:`SizingHook`.
``kpis(d, values)``
    Its entries of ``kpis.json`` (optional); a ``"cost_breakdown"`` entry holds its cost lines
    [currency], which join ``cost_breakdown`` and add up into ``total_cost`` (the grid's billing,
    the storage cycles and the heat families' ``heat_fuel`` come this way; the older cost lines
    are still computed in :func:`zeropark.results.compute_kpis`). A line that is already there,
    such as ``penalties``, is added to; a dict entry two families give (``heat`` from
    ``heat_storage`` and ``heat``) is merged one level deep.
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
    extra: Mapping[str, str] = field(default_factory=dict)

    def attrs(self) -> dict[str, str]:
        """The xarray attributes of this output."""
        a = {"units": self.units, "long_name": self.long_name}
        if self.note:
            a["note"] = self.note
        return {**a, **self.extra}


@dataclass(frozen=True)
class SizedAsset:
    """One sized decision of a sizing run.

    Attributes
    ----------
    key : str
        Asset key of ``kpis["sizing"]``: ``pv.<name>.capacity_kw``, ``storage.<name>.energy_kwh``,
        ``storage.<name>.power_kw``, ``ev.<name>.count``, ...
    index : int
        Position of the asset in its scenario list.
    existing : float
        The scenario's present size [kWp, kWh, kW, piles, ...].
    cap : float
        Upper bound of the size.
    unit : str
    cost : zeropark.planning.capex.UnitCost
        Annualized cost of one unit.
    integer : bool
        Whole units only (pile counts).
    """

    key: str
    index: int
    existing: float
    cap: float
    unit: str
    cost: Any
    integer: bool = False


@dataclass
class SizingPlan:
    """What a sizing run sizes: the assets of each capacity column block, in column order, and
    what the hooks keep between choosing the assets and building their rows.

    ``per_kwp`` maps a PV array index to its availability per kWp over the full horizon
    [kW/kWp]; ``data`` holds any other per-family numbers (e.g. storage durations).
    """

    sized: dict[str, list[SizedAsset]] = field(default_factory=dict)
    per_kwp: dict[int, np.ndarray] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, column: str, asset: SizedAsset) -> None:
        """Size ``asset`` with the next column of block ``column``."""
        self.sized.setdefault(column, []).append(asset)

    def of(self, column: str) -> list[SizedAsset]:
        """The assets sized by column block ``column`` (empty if none)."""
        return self.sized.get(column, [])

    @property
    def assets(self) -> list[SizedAsset]:
        return [a for assets in self.sized.values() for a in assets]


def size_cap(explicit: float | None, size: float, factor: float | None,
             field_path: str) -> float | None:
    """Cap of a sized asset: its explicit cap, else ``factor`` × its present size (``all``
    sizing), else None (not sized).

    Raises
    ------
    ScenarioError
        ``factor`` given but the present size is 0 (nothing to multiply).
    """
    from zeropark.errors import ScenarioError

    if explicit is not None:
        return float(explicit)
    if factor is None:
        return None
    if size <= 0:
        raise ScenarioError(field_path, None, "an explicit cap: the asset's present size is 0, "
                                              "so all_factor × size gives nothing to size")
    return factor * size


@dataclass(frozen=True)
class SizingHook:
    """The capacities of a family that sizing can turn into decision variables
    (:mod:`zeropark.planning.sizing` calls these for every hook of every registered family).

    ``key`` is the asset key pattern (e.g. ``"storage.{name}.energy_kwh"``), ``cap_field`` the
    scenario field that sets its cap (e.g. ``"storage.N.max_energy_kwh"``), ``unit`` its unit and
    ``columns`` the capacity column blocks it adds, one column per sized asset.

    ``select(plan, sc, profiles, options)``
        Adds the assets to size to ``plan`` (with caps and unit costs); ``options`` holds
        ``all_factor``, ``roof_m2`` and known ``per_kwp`` profiles.
    ``add(lp, d, plan, per_kwp)``
        Adds the capacity columns and the rows tying the dispatch to them to the envelope
        model (every sized asset at its cap); ``per_kwp`` on the model's steps.
    ``changes(sc, plan, sizes)``
        Scenario field changes that give the sized assets the ``sizes`` (asset key → size).
    ``profiles(prof, sc, plan, sizes, per_kwp, envelope)``
        Profiles at ``sizes`` (``envelope``: the envelope model's, at the caps).
    ``loosen(lp, plan)``
        Drops dispatch bounds that only repeat a cap (so the cap's dual sits on its column).
    ``widen(sc, key, cap, options)``
        ``{field path: cap}`` widening asset ``key``'s cap to ``cap`` ({} if it cannot widen).
    ``shadow(rc, lp, plan, frac)``
        Shadow price per asset key from reduced costs (default: −rc of its column / frac).
    """

    key: str
    cap_field: str
    unit: str
    add: Callable[..., None] | None = None
    columns: tuple[str, ...] = ()
    select: Callable[..., None] | None = None
    changes: Callable[..., dict[str, Any]] | None = None
    profiles: Callable[..., Any] | None = None
    loosen: Callable[..., None] | None = None
    widen: Callable[..., dict[str, Any]] | None = None
    shadow: Callable[..., dict[str, float]] | None = None


def _no_outputs(d: ModelData, values: Values) -> list[Output]:
    return []


def _no_coords(d: ModelData) -> Mapping[str, Sequence[str]]:
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
    coords: Callable[[ModelData], Mapping[str, Sequence[str]]] = _no_coords
    rounding: Callable[[MatrixLP, Values, bool], dict[str, np.ndarray]] | None = None
    candidates: Callable[[MatrixLP, np.ndarray, np.ndarray], list[np.ndarray]] | None = None
    sizing: tuple[SizingHook, ...] = ()
    kpis: Callable[[ModelData, Values], dict[str, Any]] | None = None
    profile_outputs: Callable[[Any, Any], tuple[list[Output], Mapping[str, Sequence[str]]]] | None = None
