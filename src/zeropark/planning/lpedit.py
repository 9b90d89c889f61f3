"""Post-processing of a built :class:`~zeropark.model.lp.MatrixLP` for the planning modes.

Sizing and the Pareto anchors start from the normal dispatch model and change a few bounds,
right-hand sides and objective coefficients. ``MatrixLP`` keeps its bounds as lists of read-only
per-block arrays; :func:`own_arrays` merges each list into one writable array so that global
indices can be edited in place, while later ``lp.var``/``lp.rows`` calls keep appending blocks.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from zeropark.model.lp import MatrixLP

_LISTS = {"lb": "_lb", "ub": "_ub", "cost": "_cost", "row_lo": "_row_lo", "row_hi": "_row_hi"}


def own_arrays(lp: MatrixLP) -> dict[str, np.ndarray]:
    """Merge the bound, cost and row-bound lists of ``lp`` into single writable arrays.

    Returns
    -------
    dict of str to ndarray
        ``lb``, ``ub``, ``cost`` (length ``n_cols``) and ``row_lo``, ``row_hi`` (length
        ``n_rows``); editing them edits the model.
    """
    arr = lp.arrays()
    out = {}
    for key, attr in _LISTS.items():
        merged = np.array(arr[key], dtype=float, copy=True)
        setattr(lp, attr, [merged])
        out[key] = merged
    return out


def set_cols(lp: MatrixLP, cols: np.ndarray, *, lb: float | np.ndarray | None = None,
             ub: float | np.ndarray | None = None, cost: float | np.ndarray | None = None) -> None:
    """Change lower/upper bounds or costs of existing columns (global indices)."""
    arr = own_arrays(lp)
    idx = np.asarray(cols).ravel()
    for key, val in (("lb", lb), ("ub", ub), ("cost", cost)):
        if val is not None:
            arr[key][idx] = np.broadcast_to(np.asarray(val, float), np.shape(cols)).ravel()


def set_rows(lp: MatrixLP, rows: np.ndarray, *, lo: float | np.ndarray | None = None,
             hi: float | np.ndarray | None = None) -> None:
    """Change the bounds (right-hand sides) of existing rows (global indices)."""
    arr = own_arrays(lp)
    idx = np.asarray(rows).ravel()
    for key, val in (("row_lo", lo), ("row_hi", hi)):
        if val is not None:
            arr[key][idx] = np.broadcast_to(np.asarray(val, float), np.shape(rows)).ravel()


def row_vector(lp: MatrixLP, row: int) -> np.ndarray:
    """Dense coefficient vector (length ``n_cols``) of one row."""
    a: sp.csr_matrix = lp.matrix().tocsr()
    return np.asarray(a.getrow(int(row)).toarray()).ravel()


def set_objective(lp: MatrixLP, cost: np.ndarray, offset: float = 0.0) -> None:
    """Replace the whole objective by ``cost · x + offset``."""
    arr = own_arrays(lp)
    arr["cost"][:] = np.asarray(cost, float)
    lp.objective_offset = float(offset)
