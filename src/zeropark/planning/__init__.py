"""Planning: capacity sizing co-optimized with the dispatch, scenario sweeps on Dask distributed,
and the cost–carbon Pareto front (ε-constraint).

``size(sc)`` → Result with ``kpis["sizing"]``; ``sweep(sc, {"storage.0.energy_kwh": [0, 5000]})``
→ SweepResult (one xarray Dataset over the case dimensions); ``pareto(sc, versus="co2")`` →
ParetoResult. Submodules are imported lazily so ``import zeropark`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pareto", "size", "sweep"]


def __getattr__(name: str) -> Any:
    if name == "size":
        from zeropark.planning.sizing import size

        return size
    if name == "sweep":
        from zeropark.planning.sweep import sweep

        return sweep
    if name == "pareto":
        from zeropark.planning.pareto import pareto

        return pareto
    raise AttributeError(name)
