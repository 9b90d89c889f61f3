"""A sparse LP/MILP assembled from vectorized blocks, handed to HiGHS as one ``HighsLp``.

Components add named variable blocks (``grid.import_kw`` over time, ``storage.soc_kwh`` over units ×
time) and named row blocks, then append coefficient triplets with numpy broadcasting. Names follow
the Pyomo form exactly (``storage.charge_kw[bat,3]``) so the two builders can be compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

INF = highspy.kHighsInf


@dataclass(frozen=True)
class Block:
    """A named block of columns or rows: first index and axis labels."""

    name: str
    start: int
    labels: tuple[Sequence[Any], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.labels)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.labels else 1

    def index(self) -> np.ndarray:
        """Indices of the block, shaped like its labels."""
        return np.arange(self.start, self.start + self.size).reshape(self.shape)

    def names(self) -> list[str]:
        if not self.labels:
            return [self.name]
        grids = np.meshgrid(*[np.asarray(a, dtype=object) for a in self.labels], indexing="ij")
        flat = [g.ravel() for g in grids]
        return [f"{self.name}[{','.join(str(x) for x in parts)}]" for parts in zip(*flat, strict=True)]


class MatrixLP:
    """Column/row blocks and COO triplets of one model."""

    def __init__(self) -> None:
        self.var_blocks: dict[str, Block] = {}
        self.row_blocks: dict[str, Block] = {}
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._row_lo: list[np.ndarray] = []
        self._row_hi: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self.n_cols = 0
        self.n_rows = 0
        self.objective_offset = 0.0
        self.meta: dict[str, np.ndarray] = {}  # data a heuristic may need (not part of the LP)

    def var(self, name: str, labels: tuple[Sequence[Any], ...], lb: float | np.ndarray = 0.0,
            ub: float | np.ndarray = INF, cost: float | np.ndarray = 0.0,
            integer: bool = False) -> np.ndarray:
        """Add a block of columns; returns their indices shaped like ``labels``."""
        block = Block(name, self.n_cols, labels)
        shape = block.shape
        self.var_blocks[name] = block
        self._lb.append(np.broadcast_to(np.asarray(lb, float), shape).ravel())
        self._ub.append(np.broadcast_to(np.asarray(ub, float), shape).ravel())
        self._cost.append(np.broadcast_to(np.asarray(cost, float), shape).ravel())
        self._integer.append(np.full(block.size, integer))
        self.n_cols += block.size
        return block.index()

    def rows(self, name: str, labels: tuple[Sequence[Any], ...], lo: float | np.ndarray = -INF,
             hi: float | np.ndarray = INF) -> np.ndarray:
        """Add a block of rows ``lo <= a·x <= hi``; returns their indices shaped like ``labels``."""
        block = Block(name, self.n_rows, labels)
        self.row_blocks[name] = block
        self._row_lo.append(np.broadcast_to(np.asarray(lo, float), block.shape).ravel())
        self._row_hi.append(np.broadcast_to(np.asarray(hi, float), block.shape).ravel())
        self.n_rows += block.size
        return block.index()

    def add(self, rows: np.ndarray | int, cols: np.ndarray | int,
            vals: np.ndarray | float) -> None:
        """Append coefficients; the three arguments broadcast against each other."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols), np.asarray(vals, float))
        self._r.append(r.ravel())
        self._c.append(c.ravel())
        self._v.append(v.ravel())

    def cols(self, name: str) -> np.ndarray:
        """Indices of an existing column block."""
        return self.var_blocks[name].index()

    def has(self, name: str) -> bool:
        return name in self.var_blocks

    # -- assembly ----------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Concatenated bounds, costs, integrality."""
        cat = np.concatenate
        return {
            "lb": cat(self._lb) if self._lb else np.zeros(0),
            "ub": cat(self._ub) if self._ub else np.zeros(0),
            "cost": cat(self._cost) if self._cost else np.zeros(0),
            "integer": cat(self._integer) if self._integer else np.zeros(0, bool),
            "row_lo": cat(self._row_lo) if self._row_lo else np.zeros(0),
            "row_hi": cat(self._row_hi) if self._row_hi else np.zeros(0),
        }

    def matrix(self) -> sp.csc_matrix:
        """Constraint matrix (duplicates summed, explicit zeros dropped)."""
        if not self._r:
            return sp.csc_matrix((self.n_rows, self.n_cols))
        a = sp.coo_matrix(
            (np.concatenate(self._v), (np.concatenate(self._r), np.concatenate(self._c))),
            shape=(self.n_rows, self.n_cols),
        ).tocsc()
        a.sum_duplicates()
        a.eliminate_zeros()
        return a

    def to_highs(self, relax: bool = False) -> highspy.HighsLp:
        """The model as a ``highspy.HighsLp`` (column-wise matrix)."""
        arr = self.arrays()
        a = self.matrix()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = arr["cost"]
        lp.col_lower_ = arr["lb"]
        lp.col_upper_ = arr["ub"]
        lp.row_lower_ = arr["row_lo"]
        lp.row_upper_ = arr["row_hi"]
        lp.offset_ = self.objective_offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        if not relax and arr["integer"].any():
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                for i in arr["integer"]
            ]
        return lp

    def col_names(self) -> list[str]:
        return [n for b in self.var_blocks.values() for n in b.names()]

    def row_names(self) -> list[str]:
        return [n for b in self.row_blocks.values() for n in b.names()]

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a solution vector into named arrays shaped like their blocks."""
        return {name: np.asarray(x)[b.index()] for name, b in self.var_blocks.items()}
