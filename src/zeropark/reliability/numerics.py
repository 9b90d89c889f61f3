"""Numerical health of a built model and of a solution, checked independently of the solver.

- :func:`nonfinite_entries`: NaN/inf in costs, bounds, right-hand sides or coefficients, named by
  row/column and timestamp (a NaN price would otherwise give an "optimal" NaN objective).
- :func:`scaling_report`: the range of matrix coefficients, costs and bounds, with the block that
  holds each extreme; a well-scaled zeropark model keeps matrix coefficients within about 1e-3..1e4
  at any park size, because powers and energies enter bounds and right-hand sides, not the matrix.
- :func:`residuals`: how far a solution vector violates rows, bounds and integrality, recomputed
  from the matrix (not taken from HiGHS's own report).
- :func:`balance_residual_kw`: the power balance of a solved dataset, step by step.

:func:`solver_quality` and :func:`refusal` (HiGHS's own report, checked on every solve) are defined
in :mod:`zeropark.solver_quality`, beside :mod:`zeropark.solve`, and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP
from zeropark.reliability.names import col_label, row_label

# The checks of HiGHS's own quality report live beside solve.py; re-exported here, where the
# independent checks are.
from zeropark.solver_quality import MAX_PRIMAL_INFEASIBILITY as MAX_PRIMAL_INFEASIBILITY
from zeropark.solver_quality import (
    MAX_RELATIVE_DUAL_INFEASIBILITY as MAX_RELATIVE_DUAL_INFEASIBILITY,
)
from zeropark.solver_quality import SolverQuality as SolverQuality
from zeropark.solver_quality import refusal as refusal
from zeropark.solver_quality import solver_quality as solver_quality

if TYPE_CHECKING:
    import xarray as xr

# Finite bounds at or above this are "no bound" (HiGHS treats ≥ 1e20 as infinite).
_INF_BOUND = 1e20


def nonfinite_profiles(d: ModelData, limit: int = 5) -> list[str]:
    """Profile series holding NaN, inf or numbers ≥ 1e20, with the first offending timestamp."""
    from zeropark.reliability.names import when

    prof = d.prof
    series: dict[str, np.ndarray | None] = {
        "load_kw": prof.load_kw, "import_price_per_kwh": prof.import_price_per_kwh,
        "export_price_per_kwh": prof.export_price_per_kwh, "ef_kg_per_kwh": prof.ef_kg_per_kwh,
        "green_direct_kw": prof.green_direct_kw,
    }
    for i, name in enumerate(d.pv_names):
        series[f"pv_avail_kw[{name}]"] = prof.pv_avail_kw[i]
    for name, g in prof.ev.items():
        for attr in ("e_lo_kwh", "e_hi_kwh", "p_max_kw"):
            series[f"ev[{name}].{attr}"] = getattr(g, attr)
    found = []
    for name, values in series.items():
        if values is None:
            continue
        v = np.asarray(values, float)
        bad = np.flatnonzero(~np.isfinite(v) | (np.abs(v) >= _INF_BOUND))
        if bad.size:
            t = int(bad[0])
            huge = " (HiGHS reads numbers ≥ 1e20 as infinite)" if np.isfinite(v[t]) else ""
            found.append(f"{name} is {v[t]:g} at {when(d, t)}{huge}"
                         + (f" (and {bad.size - 1} more steps)" if bad.size > 1 else ""))
    if not np.isfinite(prof.demand_charge_per_kw_month):
        found.append(f"demand_charge_per_kw_month is {prof.demand_charge_per_kw_month}")
    return found[:limit]


def nonfinite_entries(lp: MatrixLP, d: ModelData, limit: int = 5) -> list[str]:
    """Readable list of NaN/inf data in the model (at most ``limit`` entries).

    Infinite bounds are allowed where they mean "unbounded" (−inf lower, +inf upper); NaN anywhere,
    +inf as a lower bound, −inf as an upper bound, non-finite costs or coefficients, and finite
    numbers of 1e20 or more (which HiGHS would silently read as infinite) are not.
    """
    arr = lp.arrays()
    found: list[str] = []

    def add(kind: str, idx: np.ndarray, values: np.ndarray, row: bool) -> None:
        for i in idx[: max(limit - len(found), 0)]:
            name = row_label(lp, int(i), d) if row else col_label(lp, int(i), d)
            found.append(f"{name}: {kind} is {values[i]}")

    def huge(v: np.ndarray) -> np.ndarray:
        return np.isfinite(v) & (np.abs(v) >= _INF_BOUND)  # HiGHS would read these as infinite

    add("cost", np.flatnonzero(~np.isfinite(arr["cost"]) | huge(arr["cost"])), arr["cost"], False)
    lb, ub, lo, hi = arr["lb"], arr["ub"], arr["row_lo"], arr["row_hi"]
    add("lower bound", np.flatnonzero(np.isnan(lb) | (lb == np.inf) | huge(lb)), lb, False)
    add("upper bound", np.flatnonzero(np.isnan(ub) | (ub == -np.inf) | huge(ub)), ub, False)
    add("lower limit", np.flatnonzero(np.isnan(lo) | (lo == np.inf) | huge(lo)), lo, True)
    add("upper limit", np.flatnonzero(np.isnan(hi) | (hi == -np.inf) | huge(hi)), hi, True)
    if len(found) < limit:
        a = lp.matrix().tocoo()
        bad = np.flatnonzero(~np.isfinite(a.data) | huge(a.data))
        for k in bad[: limit - len(found)]:
            found.append(f"{row_label(lp, int(a.row[k]), d)} × {col_label(lp, int(a.col[k]), d)}:"
                         f" coefficient is {a.data[k]}")
    return found


@dataclass(frozen=True)
class ScalingReport:
    """Ranges of the absolute non-zero numbers of a model and where the extremes sit."""

    matrix_min: float
    matrix_max: float
    matrix_min_at: str
    matrix_max_at: str
    cost_min: float
    cost_max: float
    bound_max: float
    rhs_max: float

    @property
    def matrix_ratio(self) -> float:
        """max/min of the absolute non-zero matrix coefficients (1 for an empty matrix)."""
        return self.matrix_max / self.matrix_min if self.matrix_min > 0 else 1.0

    def lines(self) -> list[str]:
        return [
            f"matrix coefficients {self.matrix_min:.3g} ({self.matrix_min_at}) .. "
            f"{self.matrix_max:.3g} ({self.matrix_max_at})",
            f"costs {self.cost_min:.3g} .. {self.cost_max:.3g}",
            f"largest finite bound {self.bound_max:.3g}, largest right-hand side {self.rhs_max:.3g}",
        ]


def _abs_range(values: np.ndarray) -> tuple[float, float, int, int]:
    v = np.abs(values[np.isfinite(values)])
    nz = np.flatnonzero(v > 0)
    if not nz.size:
        return 0.0, 0.0, -1, -1
    lo, hi = nz[np.argmin(v[nz])], nz[np.argmax(v[nz])]
    return float(v[lo]), float(v[hi]), int(lo), int(hi)


def scaling_report(lp: MatrixLP) -> ScalingReport:
    """Coefficient, cost, bound and right-hand-side ranges of a built model."""
    a = lp.matrix().tocoo()
    arr = lp.arrays()
    mn, mx, i_mn, i_mx = _abs_range(a.data)

    def where(k: int) -> str:
        if k < 0:
            return "-"
        rows = {b.start: b.name for b in lp.row_blocks.values()}
        cols = {b.start: b.name for b in lp.var_blocks.values()}
        r_start = max(s for s in rows if s <= a.row[k])
        c_start = max(s for s in cols if s <= a.col[k])
        return f"{rows[r_start]} × {cols[c_start]}"

    cost_lo, cost_hi, _, _ = _abs_range(arr["cost"])
    bounds = np.concatenate([arr["lb"], arr["ub"]])
    rhs = np.concatenate([arr["row_lo"], arr["row_hi"]])
    bounds = bounds[np.abs(bounds) < _INF_BOUND]
    rhs = rhs[np.abs(rhs) < _INF_BOUND]
    return ScalingReport(
        matrix_min=mn, matrix_max=mx, matrix_min_at=where(i_mn), matrix_max_at=where(i_mx),
        cost_min=cost_lo, cost_max=cost_hi,
        bound_max=_abs_range(bounds)[1] if bounds.size else 0.0,
        rhs_max=_abs_range(rhs)[1] if rhs.size else 0.0,
    )


def block_ranges(lp: MatrixLP) -> dict[str, tuple[float, float]]:
    """Smallest and largest absolute non-zero matrix coefficient of each row block."""
    a = lp.matrix().tocsr()
    out = {}
    for name, block in lp.row_blocks.items():
        data = np.abs(a[block.start:block.start + block.size].data)
        data = data[data > 0]
        if data.size:
            out[name] = (float(data.min()), float(data.max()))
    return out


@dataclass(frozen=True)
class Residuals:
    """Largest violations of a solution vector [model units: kW, kWh, kg, …].

    ``row`` and ``bound`` are absolute; ``row_relative`` divides each row violation by
    ``max(1, |limit|)`` so that a 1 GW park and a 1 kW park are judged alike.
    """

    row: float
    row_relative: float
    row_at: str
    bound: float
    bound_at: str
    integrality: float

    def ok(self, tol: float = 1e-6) -> bool:
        return self.row_relative <= tol and self.bound <= tol * 10 and self.integrality <= 1e-6


def residuals(lp: MatrixLP, x: np.ndarray, d: ModelData) -> Residuals:
    """Row, bound and integrality violations of ``x`` recomputed from the matrix."""
    arr = lp.arrays()
    x = np.asarray(x, float)
    ax = lp.matrix() @ x
    lo, hi = arr["row_lo"], arr["row_hi"]
    viol = np.maximum(np.maximum(lo - ax, ax - hi), 0.0)
    limit = np.where(lo - ax > ax - hi, np.abs(lo), np.abs(hi))
    rel = viol / np.maximum(1.0, np.where(np.isfinite(limit), limit, 1.0))
    bviol = np.maximum(np.maximum(arr["lb"] - x, x - arr["ub"]), 0.0)
    ints = arr["integer"]
    frac = np.abs(x[ints] - np.round(x[ints]))
    r = int(np.argmax(rel)) if rel.size else -1
    b = int(np.argmax(bviol)) if bviol.size else -1
    return Residuals(
        row=float(viol.max(initial=0.0)), row_relative=float(rel.max(initial=0.0)),
        row_at=row_label(lp, r, d) if r >= 0 else "-",
        bound=float(bviol.max(initial=0.0)), bound_at=col_label(lp, b, d) if b >= 0 else "-",
        integrality=float(frac.max(initial=0.0)),
    )


def balance_residual_kw(ds: xr.Dataset) -> np.ndarray:
    """Supply − demand − load per step of a solved dataset [kW] (zero up to round-off)."""
    supply = (ds.pv_power_kw.sum("pv") + ds.green_direct_kw + ds.grid_import_kw
              + ds.storage_discharge_kw.sum("storage"))
    if "ev_v2g_kw" in ds:
        supply = supply + ds.ev_v2g_kw.sum("ev_group")
    demand = (ds.grid_export_kw + ds.storage_charge_kw.sum("storage") + ds.ev_power_kw.sum("ev_group")
              + ds.flex_power_kw.sum("flex") + ds.load_kw)
    return np.asarray((supply - demand).values, float)
