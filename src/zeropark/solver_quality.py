"""Quality of HiGHS's last solution as HiGHS reports it, and when a solution must be refused.

Beside :mod:`zeropark.solve`, which applies it to every solve; the independent checks (residuals
recomputed from the matrix, scaling, non-finite data) are in :mod:`zeropark.reliability.numerics`.
Depends on neither, so there is no import cycle between the solver and the checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

#: A result whose primal infeasibility exceeds this (kW/kWh scale) is refused.
MAX_PRIMAL_INFEASIBILITY = 1e-4
#: Largest dual infeasibility accepted, relative to the largest absolute cost coefficient.
MAX_RELATIVE_DUAL_INFEASIBILITY = 1e-6


@dataclass(frozen=True)
class SolverQuality:
    """What HiGHS reports about the quality of its last solution (−1: not available)."""

    max_primal_infeasibility: float
    max_dual_infeasibility: float
    max_integrality_violation: float
    has_primal: bool
    has_dual: bool


def solver_quality(h: highspy.Highs) -> SolverQuality:
    """Primal/dual infeasibilities and integrality violation of ``h``'s last solve."""
    info = h.getInfo()
    return SolverQuality(
        max_primal_infeasibility=float(info.max_primal_infeasibility),
        max_dual_infeasibility=float(info.max_dual_infeasibility),
        max_integrality_violation=float(info.max_integrality_violation),
        has_primal=info.primal_solution_status == 2,
        has_dual=info.dual_solution_status == 2,
    )


def refusal(q: SolverQuality, cost_scale: float = 1.0) -> str | None:
    """Why a solution must be refused, or None when it is within tolerance.

    The primal check is absolute (model units); the dual check, made only when HiGHS has a dual
    solution (LPs), is relative to ``cost_scale`` (the largest absolute cost coefficient): a dual
    infeasibility means the point may not be optimal.
    """
    if q.has_primal and q.max_primal_infeasibility > MAX_PRIMAL_INFEASIBILITY:
        return (f"HiGHS reports primal infeasibility {q.max_primal_infeasibility:.3g} > "
                f"{MAX_PRIMAL_INFEASIBILITY:g}: result refused")
    dual_tol = MAX_RELATIVE_DUAL_INFEASIBILITY * max(1.0, cost_scale)
    if q.has_dual and q.max_dual_infeasibility > dual_tol:
        return (f"HiGHS reports dual infeasibility {q.max_dual_infeasibility:.3g} > {dual_tol:.3g}:"
                f" the solution may not be optimal; result refused")
    if np.isfinite(q.max_integrality_violation) and q.max_integrality_violation > 1e-6:
        return (f"HiGHS reports integrality violation {q.max_integrality_violation:.3g}: result "
                f"refused")
    return None
