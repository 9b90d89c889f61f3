"""A sparse LP/MILP assembled from vectorized blocks, handed to HiGHS as one ``HighsLp``.

Components add named variable blocks (``grid.import_kw`` over time, ``storage.soc_kwh`` over units ×
time) and named row blocks, then append coefficient triplets with numpy broadcasting. Names follow
the Pyomo form exactly (``storage.charge_kw[bat,3]``) so the two builders can be compared.

A row family is written like its equation with :meth:`MatrixLP.constrain`: a list of terms
``(coefficient, columns)`` or ``(coefficient, columns, shift)``, each one summand of the left-hand
side. The storage SOC balance of :mod:`zeropark.model.storage`,

    soc[s,t] − k·soc[s,t−1] − η_c·Δt·ch[s,t] + Δt/η_d·dis[s,t] = rhs[s,t]

(k = 1 − self-discharge·Δt, rhs[s,0] = k·S0, else 0), reads::

    rows = lp.constrain("storage.soc_balance", (S, steps), [
        (1.0, soc),
        (-keep[:, None], soc, 1),          # soc[s, t-1]: no term in row t = 0
        (-(eta_c * dt)[:, None], ch),
        ((dt / eta_d)[:, None], dis),
    ], lo=rhs, hi=rhs)

and appends exactly the coefficients of ``lp.rows`` followed by one :meth:`MatrixLP.add` per
term. Rules of a term (checked, with the row block's name in the error):

- rows, columns and coefficient broadcast against each other with numpy's rules, so a per-unit
  coefficient is an ``(S, 1)`` column and a per-step row block ``(T,)`` sums the ``(S, T)``
  columns of every unit (``lp.add_terms(bal, [(eff[:, None], pv)])``);
- ``shift`` k (default 0) is along the last axis, time: row t gets ``coef[t]·cols[t − k]``, and
  rows whose ``t − k`` falls outside the horizon get no term (the initial value belongs in the
  row's bounds, as ``rhs[s,0]`` above); a negative k reads ahead (``cols[t + |k|]``);
- a row family whose rows are a map of the columns (a month per step, a window per step) indexes
  the rows: ``lp.add_terms(rows[month_of_step], [(1.0, imp)])``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

INF = highspy.kHighsInf

Coef = float | np.ndarray
#: One summand of a row family: ``(coefficient, columns)`` or ``(coefficient, columns, shift)``.
Term = tuple[Coef, np.ndarray] | tuple[Coef, np.ndarray, int]


def _term_triplets(rows: np.ndarray | int, term: Term, where: str, k: int,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and values of one term, broadcast and shifted (see the module docstring)."""
    if not isinstance(term, tuple) or len(term) not in (2, 3):
        raise ValueError(f"{where}: term {k} must be (coefficient, columns) or "
                         f"(coefficient, columns, shift), got {term!r}")
    coef, cols = term[0], term[1]
    shift = term[2] if len(term) == 3 else 0
    r, c, v = np.asarray(rows), np.asarray(cols), np.asarray(coef, float)
    if c.dtype.kind not in "iu":
        raise ValueError(f"{where}: term {k} columns must be column indices (from lp.var or "
                         f"lp.cols), got dtype {c.dtype}")
    if shift and (not isinstance(shift, int | np.integer) or isinstance(shift, bool)):
        raise ValueError(f"{where}: term {k} shift must be an integer number of steps, "
                         f"got {shift!r}")
    if shift and (r.ndim == 0 or c.ndim == 0 or r.shape[-1] != c.shape[-1]):
        raise ValueError(f"{where}: term {k} has shift {shift} but rows {r.shape} and columns "
                         f"{c.shape} do not share a time axis (the last, same length)")
    try:
        r, c, v = np.broadcast_arrays(r, c, v)
    except ValueError:
        raise ValueError(f"{where}: term {k} does not broadcast: rows {r.shape}, columns "
                         f"{c.shape}, coefficient {v.shape}") from None
    s = int(shift)
    if s > 0:
        return r[..., s:], c[..., :-s], v[..., s:]
    if s < 0:
        return r[..., :s], c[..., -s:], v[..., :s]
    return r, c, v


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
        self._append(r, c, v)

    def _append(self, r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        """Append triplets already broadcast to one shape."""
        self._r.append(r.ravel())
        self._c.append(c.ravel())
        self._v.append(v.ravel())

    def add_terms(self, rows: np.ndarray | int, terms: Iterable[Term], where: str = "rows",
                  ) -> None:
        """Append ``Σ_k coef_k·cols_k[t − shift_k]`` to ``rows``, one :meth:`add` per term in the
        order given (rules in the module docstring); ``where`` names the rows in errors."""
        checked = [_term_triplets(rows, term, where, k) for k, term in enumerate(terms)]
        for r, c, v in checked:
            self._append(r, c, v)

    def constrain(self, name: str, labels: tuple[Sequence[Any], ...], terms: Iterable[Term],
                  lo: float | np.ndarray = -INF, hi: float | np.ndarray = INF) -> np.ndarray:
        """Add the row family ``lo <= Σ_k coef_k·cols_k[t − shift_k] <= hi``; returns the row
        indices shaped like ``labels`` (e.g. to add terms to them later)."""
        rows = Block(name, self.n_rows, labels).index()
        checked = [_term_triplets(rows, term, name, k) for k, term in enumerate(terms)]
        self.rows(name, labels, lo, hi)  # the same indices, added once every term is checked
        for r, c, v in checked:
            self._append(r, c, v)
        return rows

    def shift_row_lo(self, name: str, delta: np.ndarray) -> None:
        """Add ``delta`` (shaped like the block's labels) to the lower bounds of an existing row
        block (a hook's change of a family's row, e.g. the operations' lookahead discount)."""
        block, start = self.row_blocks[name], 0
        for i, lo in enumerate(self._row_lo):
            if start == block.start and lo.size == block.size:
                self._row_lo[i] = lo + np.broadcast_to(np.asarray(delta, float),
                                                       block.shape).ravel()
                return
            start += lo.size
        raise KeyError(name)  # pragma: no cover - a block's bounds are always stored

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

    def pass_to(self, h: highspy.Highs, relax: bool = False) -> int:
        """Hand the model to ``h`` (``passModel`` from NumPy arrays); returns the number of
        matrix coefficients.

        The same model as ``h.passModel(self.to_highs(relax))``, without filling a
        ``highspy.HighsLp`` field by field, which converts every array element by element
        (about 0.05 s for the demo year's 176k columns and 484k coefficients).
        """
        arr = self.arrays()
        a = self.matrix()
        integrality = (arr["integer"].astype(np.int32) if not relax
                       else np.zeros(self.n_cols, np.int32))  # HiGHS: 1 integer, 0 continuous
        status = h.passModel(
            self.n_cols, self.n_rows, a.nnz, int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize), float(self.objective_offset),
            arr["cost"], arr["lb"], arr["ub"], arr["row_lo"], arr["row_hi"],
            a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data, integrality)
        if status == highspy.HighsStatus.kError:
            raise RuntimeError(f"HiGHS refused the model ({self.n_rows} rows, {self.n_cols} "
                               "columns)")
        return int(a.nnz)

    def col_names(self) -> list[str]:
        return [n for b in self.var_blocks.values() for n in b.names()]

    def row_names(self) -> list[str]:
        return [n for b in self.row_blocks.values() for n in b.names()]

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a solution vector into named arrays shaped like their blocks."""
        return {name: np.asarray(x)[b.index()] for name, b in self.var_blocks.items()}
