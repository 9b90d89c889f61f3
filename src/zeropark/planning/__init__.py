"""Planning: capacity sizing co-optimized with the dispatch, scenario sweeps on Dask distributed,
and the cost–carbon Pareto front (ε-constraint).

- :func:`zeropark.planning.sizing.size` → Result with ``kpis["sizing"]``
- :func:`zeropark.planning.sweep.sweep` / :func:`~zeropark.planning.sweep.run_sweep` →
  SweepResult (one xarray Dataset over the case dimensions)
- :func:`zeropark.planning.pareto.pareto` → ParetoResult

Submodules are not imported here, so ``import zeropark`` stays light.
"""
