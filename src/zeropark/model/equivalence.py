"""Prove the two builders produce the same LP/MILP: canonical forms compared up to row/column order
and row sign. Used by the equivalence tests; also handy when adding a component."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.repn.standard_repn import generate_standard_repn

from zeropark.model.lp import MatrixLP


@dataclass
class CanonicalLP:
    """Columns by name and rows as sign-normalised, rounded tuples."""

    cols: dict[str, tuple[float, float, float, bool]]  # name -> (lb, ub, cost, integer)
    rows: list[tuple[Any, ...]]
    nnz: int
    offset: float


def _r(x: float) -> float:
    if math.isinf(x):
        return x
    return float(f"{x:.9g}") + 0.0  # +0.0 folds -0.0


def _row(terms: dict[str, float], lo: float, hi: float) -> tuple[Any, ...]:
    items = sorted((k, c) for k, c in terms.items() if c != 0)
    if items and items[0][1] < 0:
        items = [(k, -c) for k, c in items]
        lo, hi = -hi, -lo
    return (tuple((k, _r(c)) for k, c in items), _r(lo), _r(hi))


def from_matrix(lp: MatrixLP) -> CanonicalLP:
    """Canonical form of the matrix builder's model."""
    arr = lp.arrays()
    names = lp.col_names()
    cols = {n: (_r(arr["lb"][i]), _r(arr["ub"][i]), _r(arr["cost"][i]), bool(arr["integer"][i]))
            for i, n in enumerate(names)}
    a = lp.matrix().tocsr()
    rows = []
    for i in range(lp.n_rows):
        lo_i, hi_i = a.indptr[i], a.indptr[i + 1]
        terms = {names[j]: float(v) for j, v in zip(a.indices[lo_i:hi_i], a.data[lo_i:hi_i],
                                                      strict=True)}
        rows.append(_row(terms, float(arr["row_lo"][i]), float(arr["row_hi"][i])))
    return CanonicalLP(cols, sorted(rows), int(a.nnz), _r(lp.objective_offset))


def from_pyomo(m: pyo.ConcreteModel) -> CanonicalLP:
    """Canonical form of the Pyomo builder's model."""
    cols: dict[str, list[Any]] = {}
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        lb = -np.inf if v.lb is None else float(v.lb)
        ub = np.inf if v.ub is None else float(v.ub)
        cols[v.name] = [_r(lb), _r(ub), 0.0, bool(v.is_integer() or v.is_binary())]
    obj = next(m.component_data_objects(pyo.Objective, active=True))
    repn = generate_standard_repn(obj.expr, compute_values=True)
    for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        cols[v.name][2] = _r(cols[v.name][2] + float(c))
    rows, nnz = [], 0
    for con in m.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        r = generate_standard_repn(con.body, compute_values=True)
        const = float(r.constant or 0.0)
        lo = -np.inf if con.lower is None else float(pyo.value(con.lower)) - const
        hi = np.inf if con.upper is None else float(pyo.value(con.upper)) - const
        terms: dict[str, float] = {}
        for v, c in zip(r.linear_vars, r.linear_coefs, strict=True):
            terms[v.name] = terms.get(v.name, 0.0) + float(c)
        nnz += sum(1 for c in terms.values() if c != 0)
        rows.append(_row(terms, lo, hi))
    return CanonicalLP({k: (v[0], v[1], v[2], v[3]) for k, v in cols.items()}, sorted(rows), nnz,
                       _r(float(repn.constant or 0.0)))


def differences(a: CanonicalLP, b: CanonicalLP, limit: int = 5) -> list[str]:
    """Human-readable differences (empty when the two models are the same)."""
    out = []
    if set(a.cols) != set(b.cols):
        only_a = sorted(set(a.cols) - set(b.cols))[:limit]
        only_b = sorted(set(b.cols) - set(a.cols))[:limit]
        out.append(f"columns differ: only in first {only_a}, only in second {only_b}")
    else:
        bad = [k for k in a.cols if a.cols[k] != b.cols[k]][:limit]
        out += [f"column {k}: {a.cols[k]} vs {b.cols[k]}" for k in bad]
    if len(a.rows) != len(b.rows):
        out.append(f"row count {len(a.rows)} vs {len(b.rows)}")
    sa, sb = set(a.rows), set(b.rows)
    for row in list(sa - sb)[:limit]:
        out.append(f"row only in first: {row}")
    for row in list(sb - sa)[:limit]:
        out.append(f"row only in second: {row}")
    if a.nnz != b.nnz:
        out.append(f"nnz {a.nnz} vs {b.nnz}")
    if a.offset != b.offset:
        out.append(f"objective offset {a.offset} vs {b.offset}")
    return out
