"""Explain an infeasible or failed solve in the user's terms (placeholder: bare status)."""

from __future__ import annotations

from zeropark.model.data import ModelData
from zeropark.solve import SolveOutcome


def explain(d: ModelData, out: SolveOutcome) -> str:
    """One paragraph saying why there is no solution."""
    return f"{d.sc.name}: solver status {out.status} ({out.message})"
