"""Binding caps of a sizing run and their shadow prices.

A sized asset whose size equals its cap is *binding*: the optimum would buy more if allowed. Its
shadow price is what one more unit of cap would save per year, read from the LP duals: the
integer columns (pile counts, exclusivity binaries) are fixed at the optimum found, the LP is
solved again, and the reduced cost ``r_j`` of the capacity column j at its upper bound is
``∂ objective / ∂ cap_j`` over the horizon. Per year::

    shadow_j = − r_j / horizon_fraction          [currency/yr per kWp, kWh, kW or pile]

For storage the cap on energy Ē also caps power at Ē/d (d the technology's duration), so the
shadow price of ``max_energy_kwh`` is ``−(r_E + r_P / d) / horizon_fraction``; the power row
carries the same value (widening the energy cap is the one lever). For pile counts the value is
the LP marginal of a fractional pile, not the value of a whole pile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np

from zeropark.model.lp import MatrixLP
from zeropark.scenario import Solver

if TYPE_CHECKING:
    from zeropark.model.family import SizingPlan

#: Relative tolerance for "the size is at its cap".
AT_CAP_RTOL = 1e-6



def at_cap(size: float, cap: float) -> bool:
    """Whether a size is at its cap (within :data:`AT_CAP_RTOL`)."""
    return size >= cap - AT_CAP_RTOL * max(1.0, abs(cap))


def reduced_costs(lp: MatrixLP, values: Mapping[str, np.ndarray], opts: Solver) -> np.ndarray | None:
    """Reduced costs of every column of ``lp`` with its integer columns fixed at ``values``.

    Returns
    -------
    ndarray or None
        ``None`` when the fixed LP does not solve to optimality (no duals to read).
    """
    from zeropark.solve import new_highs, solve_interruptibly

    x = np.zeros(lp.n_cols)
    for name, b in lp.var_blocks.items():
        if name in values:
            x[b.index().ravel()] = np.asarray(values[name], float).ravel()
    ints = lp.arrays()["integer"]
    model = lp.to_highs(relax=True)
    lb, ub = np.asarray(model.col_lower_), np.asarray(model.col_upper_)
    fixed = np.round(x[ints])
    lb[ints], ub[ints] = fixed, fixed
    model.col_lower_, model.col_upper_ = lb, ub
    h = new_highs()
    for key, value in {"output_flag": False, "threads": int(opts.threads),
                       "time_limit": float(max(opts.time_limit_s, 1e-3))}.items():
        h.setOptionValue(key, value)
    h.passModel(model)
    solve_interruptibly(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_dual)


def shadow_prices(lp: MatrixLP, plan: SizingPlan, rc: np.ndarray | None,
                  frac: float) -> dict[str, float | None]:
    """Shadow price of each sized asset's cap [currency/yr per unit] (see the module docstring).

    Parameters
    ----------
    lp : MatrixLP
        The sizing model the duals belong to.
    plan : SizingPlan
    rc : ndarray or None
        Reduced costs from :func:`reduced_costs` (``None``: every price is ``None``).
    frac : float
        Horizon share of a year the model's costs are charged for.
    """
    out: dict[str, float | None] = {}
    if rc is None or frac <= 0:
        return {s.key: None for s in plan.assets}
    from zeropark.planning.sizing import hooks

    for hook in hooks():
        if hook.shadow is not None:
            out.update(hook.shadow(rc, lp, plan, frac))
            continue
        for col in hook.columns:
            for k, s in enumerate(plan.of(col)):
                out[s.key] = -float(rc[lp.cols(col)[k]]) / frac
    return out


def cap_report(assets: list[dict[str, Any]], prices: Mapping[str, float | None]) -> list[str]:
    """Flag binding caps in the ``kpis["sizing"]["assets"]`` rows (in place); returns the keys
    of the binding ones."""
    binding = []
    for a in assets:
        a["at_cap"] = bool(at_cap(a["size"], a["cap"]))
        price = prices.get(a["asset"])
        a["shadow_price_per_unit_year"] = None if price is None else (
            price if a["at_cap"] else 0.0)
        if a["at_cap"]:
            binding.append(a["asset"])
    return binding
