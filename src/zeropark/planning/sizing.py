"""Capacity sizing co-optimized with the dispatch: the capacities the families offer (PV kWp per
array, storage energy and power, the integer pile count of EV groups, ...), each with annualized
capex plus fixed O&M.

The model is the normal dispatch matrix (``build_matrix``) built for an *envelope* scenario in
which every sized asset is at its cap, then transformed by the sizing hooks of the registered
families (:class:`zeropark.model.family.SizingHook`; the equations are in each family's module):
each adds a capacity column per sized asset and the rows tying its dispatch to it.

The cost of a unit of capacity is (capex·CRF + fixed O&M per year) × the horizon's share of a year;
sizes are total capacities (green-field: the scenario's present size is not a sunk cost).
Only assets with a cap are sized (each hook's ``cap_field``: ``pv.N.max_capacity_kw``,
``storage.N.max_energy_kwh``, ``ev.groups.N.max_count``, ``heat.supply.N.max_capacity_kw``,
``heat.storage.N.max_energy_kwh``); ``all_factor`` gives every other asset
the cap factor × its size.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zeropark.api import finish, prepare, solve_outcome
from zeropark.errors import ScenarioError
from zeropark.model import registry
from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.model.family import SizedAsset, SizingHook, SizingPlan
from zeropark.model.lp import MatrixLP
from zeropark.model.pv import KWP_PER_M2
from zeropark.planning.aggregate import aggregate_lp, full_horizon_piles, sized_energy_cols
from zeropark.planning.caps import at_cap, cap_report, reduced_costs, shadow_prices
from zeropark.planning.lpedit import set_cols
from zeropark.planning.periods import (
    PeriodSpec,
    aggregated_data,
    parse_periods,
    select_periods,
)
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario, load_scenario

__all__ = ["KWP_PER_M2", "SizedAsset", "SizingPlan", "add_sizing", "size", "size_widening",
           "sizing_model", "sizing_plan"]

_ZERO = 1e-6


def hooks() -> list[SizingHook]:
    """The sizing hooks of every registered family, in registry order."""
    return [h for family in registry.FAMILIES for h in family.sizing]


def sizing_profiles(sc: Scenario) -> tuple[Profiles, dict[int, np.ndarray]]:
    """Profiles of ``sc``, and the per-kWp availability of its 0 kWp PV arrays (built at 1 kWp,
    since pvlib rejects a 0 kWp array)."""
    from zeropark.model.pv import at_one_kwp
    from zeropark.profiles.build import build_profiles

    zero = [i for i, a in enumerate(sc.pv) if a.capacity_kw <= 0]
    prof = build_profiles(at_one_kwp(sc, zero))
    if not zero:
        return prof, {}
    known = {i: prof.pv_avail_kw[i].copy() for i in zero}
    avail = prof.pv_avail_kw.copy()
    avail[zero] = 0.0
    return dataclasses.replace(prof, pv_avail_kw=avail), known


def sizing_plan(sc: Scenario, profiles: Profiles, *, all_factor: float | None = None,
                roof_m2: Mapping[str, float] | None = None,
                per_kwp: Mapping[int, np.ndarray] | None = None) -> SizingPlan:
    """Decide what is sized, with which cap and unit cost: each family's ``select`` hook.

    Parameters
    ----------
    sc : Scenario
    profiles : Profiles
        Full-horizon profiles of ``sc`` (PV availability is scaled per kWp from them).
    all_factor : float, optional
        Cap of every asset without an explicit cap = factor × its present size.
    roof_m2 : mapping of PV array name to roof area [m²], optional
        Caps the array at area × :data:`KWP_PER_M2` (and at its ``max_capacity_kw`` if set).
    per_kwp : mapping of array index to availability per kWp [kW/kWp], optional
        Already known per-kWp profiles (else derived from ``profiles`` or pvlib).
    """
    if all_factor is not None and not all_factor > 0:
        raise ScenarioError("all_factor", all_factor, "a factor > 0")
    plan = SizingPlan()
    options = {"all_factor": all_factor, "roof_m2": dict(roof_m2 or {}),
               "per_kwp": dict(per_kwp or {})}
    for hook in hooks():
        if hook.select is not None:
            hook.select(plan, sc, profiles, options)
    return plan


def _with_sizes(sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float]) -> Scenario:
    """The scenario with the sized assets at ``sizes`` (each family's ``changes`` hook)."""
    changes: dict[str, Any] = {}
    for hook in hooks():
        if hook.changes is not None:
            changes.update(hook.changes(sc, plan, sizes))
    return sc.replace(changes) if changes else sc


def _with_profiles(prof: Profiles, sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float],
                   per_kwp: Mapping[int, np.ndarray], envelope: bool = False) -> Profiles:
    """Profiles at ``sizes`` (each family's ``profiles`` hook; ``per_kwp`` on their index)."""
    for hook in hooks():
        if hook.profiles is not None:
            prof = hook.profiles(prof, sc, plan, sizes, per_kwp, envelope)
    return prof


def add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan, per_kwp: dict[int, np.ndarray]
               ) -> None:
    """Turn the envelope model ``lp`` (sized assets at their caps) into the sizing model: each
    family's ``add`` hook adds its capacity columns and the rows tying its dispatch to them."""
    for hook in hooks():
        if hook.add is not None:
            hook.add(lp, d, plan, per_kwp)


def _sizes(plan: SizingPlan, values: dict[str, np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    for col, assets in plan.sized.items():
        for k, s in enumerate(assets):
            x = float(values[col][k])
            x = round(x) if s.integer and abs(x - round(x)) < 1e-6 else x
            out[s.key] = 0.0 if abs(x) < _ZERO else x
    return out


def sizing_kpis(plan: SizingPlan, sizes: Mapping[str, float], frac: float, rate: float,
                operating_cost: float) -> dict[str, Any]:
    """The ``kpis["sizing"]`` block: sizes, investment and annualized cost."""
    assets: list[dict[str, Any]] = []
    for s in plan.assets:
        x = sizes[s.key]
        assets.append({
            "asset": s.key, "size": x, "unit": s.unit, "existing": s.existing, "cap": s.cap,
            "technology": s.cost.technology, "capex_per_unit": s.cost.capex,
            "fixed_om_per_unit_year": s.cost.fixed_om_per_year,
            "lifetime_years": s.cost.lifetime_years, "crf": s.cost.crf,
            "investment": s.cost.capex * x,
            "annualized_cost_per_year": s.cost.annualized_per_year * x,
        })
    per_year = sum(a["annualized_cost_per_year"] for a in assets)
    return {
        "sizes": dict(sizes),
        "assets": assets,
        "investment": sum(a["investment"] for a in assets),
        "annualized_cost_per_year": per_year,
        "annualized_cost_horizon": per_year * frac,
        "horizon_fraction": frac,
        "discount_rate": rate,
        "operating_cost": operating_cost,
        "total_cost_with_investment": operating_cost + per_year * frac,
    }


@dataclass(frozen=True)
class SizingModel:
    """What :func:`sizing_matrix` needs: the plan, the envelope model data (sized assets at
    their caps, restricted to the window) and the windowed PV availability per kWp."""

    plan: SizingPlan
    data: ModelData
    per_kwp: dict[int, np.ndarray]


def sizing_model(sc: Scenario, profiles: Profiles | None = None, *, start: int = 0,
                 steps: int | None = None, all_factor: float | None = None,
                 roof_m2: Mapping[str, float] | None = None) -> SizingModel:
    """Plan and envelope data of a sizing run (see :func:`size` for the parameters)."""
    known: dict[int, np.ndarray] = {}
    if profiles is None:
        profiles, known = sizing_profiles(sc)
    plan = sizing_plan(sc, profiles, all_factor=all_factor, roof_m2=roof_m2, per_kwp=known)
    if not plan.assets:
        fields = [h.cap_field for h in hooks()]
        raise ScenarioError("sizing", "no caps", "a cap on at least one asset to size: set "
                            f"{', '.join(fields[:-1])} or {fields[-1]} (in the scenario or with "
                            "--set), or size every asset with --all FACTOR (all_factor; e.g. "
                            "--all 3: up to 3 × its present size)")
    caps = {s.key: s.cap for s in plan.assets}
    stop = profiles.n_steps if steps is None else min(start + steps, profiles.n_steps)
    d = prepare(_with_sizes(sc, plan, caps),
                _with_profiles(profiles, sc, plan, caps, plan.per_kwp, envelope=True),
                start=start, steps=stop - start)
    per_kwp = {i: arr[start:stop] for i, arr in plan.per_kwp.items()}
    return SizingModel(plan, d, per_kwp)


def sizing_matrix(d: ModelData, plan: SizingPlan, per_kwp: dict[int, np.ndarray]) -> MatrixLP:
    """The sizing model as a matrix: the dispatch of ``d`` plus :func:`add_sizing`."""
    lp = build_matrix(d)
    add_sizing(lp, d, plan, per_kwp)
    return lp


def size(scenario: Scenario | str | Path, profiles: Profiles | None = None, *, start: int = 0,
         steps: int | None = None, all_factor: float | None = None,
         roof_m2: Mapping[str, float] | None = None, relax: bool | None = None,
         periods: str | PeriodSpec | None = None) -> Result:
    """Size PV, storage and piles together with the dispatch over the horizon.

    Parameters
    ----------
    scenario : Scenario or path to a YAML file
    profiles : Profiles, optional
        Full-horizon profiles (default: built from the scenario).
    start, steps : int
        Optimize over ``steps`` steps from ``start`` (default: the whole horizon, ideally a year).
        Capex is charged pro rata: annualized cost × (horizon hours / 8760).
    all_factor : float, optional
        Also size every asset without a cap, with cap = factor × its present size.
    roof_m2 : mapping of PV array name to usable roof area [m²], optional
        Caps the array at area × :data:`KWP_PER_M2` kWp.
    relax : bool, optional
        Solve the LP relaxation (pile counts may then be fractional).
    periods : str or PeriodSpec, optional
        ``"typical-days:K"`` or ``"typical-weeks:K"``: size on K typical periods plus the
        extreme ones (:mod:`zeropark.planning.periods`, :mod:`zeropark.planning.aggregate`),
        then dispatch the full horizon with the sizes fixed. ``kpis["sizing"]["periods"]``
        reports both objectives and their difference. Needs the full horizon (no ``start``/``steps``).

    Returns
    -------
    Result
        As :func:`zeropark.run`, for the sized park; ``objective`` includes the horizon's share
        of the annualized investment, ``kpis["total_cost"]`` is the operating cost only, and
        ``kpis["sizing"]`` holds the sizes, the investment and the annualized cost.

    Raises
    ------
    ScenarioError
        If nothing is to be sized or cost data is missing.
    """
    t_start = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    model = sizing_model(sc, profiles, start=start, steps=steps, all_factor=all_factor,
                         roof_m2=roof_m2)
    plan, d, per_kwp = model.plan, model.data, model.per_kwp
    profiles_s = time.perf_counter() - t_start
    agg: dict[str, Any] | None = None
    if periods is not None:
        if start or steps is not None:
            raise ScenarioError("periods", str(periods), "the full horizon (no start/horizon "
                                                         "window) with representative periods")
        spec = parse_periods(periods) if isinstance(periods, str) else periods
        d_agg, out_agg, agg = _solve_periods(spec, plan, d, per_kwp, relax)
        if not out_agg.status.has_solution:
            return _periods_failed(sc.name, agg, out_agg)
        fixed = _sizes(plan, out_agg.values)
        # the full-horizon check of these sizes to the same gap: its cost is then an upper
        # bound on the best dispatch of these sizes within that gap
        d = _with_gap(d, agg["mip_gap"])

        def hook(lp: MatrixLP, d_now: ModelData) -> None:
            add_sizing(lp, d_now, plan, per_kwp)
            fix_sizes(lp, plan, fixed)
    else:
        def hook(lp: MatrixLP, d_now: ModelData) -> None:
            add_sizing(lp, d_now, plan, per_kwp)
    t_val = time.perf_counter()
    d, out, timings = solve_outcome(d, engine="matrix", relax=relax, lp_hook=hook)
    timings["profiles_s"] = profiles_s
    if agg is not None:
        timings["validation_s"] = time.perf_counter() - t_val
        for k, val in agg["timings"].items():
            timings[f"periods_{k}"] = val
    if not out.status.has_solution:
        return finish(d, out, "matrix", timings,
                      relax=sc.solver.relax if relax is None else relax)
    sizes = _sizes(plan, out.values)
    sc_sized = _with_sizes(sc, plan, sizes)
    d_sized = dataclasses.replace(d, sc=sc_sized,
                                  prof=_with_profiles(d.prof, sc, plan, sizes, per_kwp))
    result = finish(d_sized, out, "matrix", timings,
                    relax=sc.solver.relax if relax is None else relax)
    result.kpis["sizing"] = sizing_kpis(plan, sizes, d.horizon_fraction, sc.sizing.discount_rate,
                                        result.kpis["total_cost"])
    sizing = result.kpis["sizing"]
    if any(at_cap(sizes[s.key], s.cap) for s in plan.assets):
        t_sp = time.perf_counter()
        if agg is not None:
            prices = agg.pop("shadow_prices")
        else:
            lp = build_matrix(d)
            hook(lp, d)
            loosen_envelope(lp, plan)
            prices = shadow_prices(lp, plan, reduced_costs(lp, out.values, sc.solver),
                                   d.horizon_fraction)
        result.timings["shadow_prices_s"] = time.perf_counter() - t_sp
    else:
        prices = {}
    if agg is not None:
        agg.pop("shadow_prices", None)
    sizing["binding_caps"] = cap_report(sizing["assets"], prices)
    if agg is not None:
        full_obj = float(out.objective)
        agg_obj = float(agg["objective"])
        agg.pop("timings")
        agg.update({
            "full_year_objective": full_obj,
            "full_year_gap": float(out.gap),
            "difference": agg_obj - full_obj,
            "difference_pct": 100.0 * (agg_obj - full_obj) / abs(full_obj) if full_obj else 0.0,
            "seconds": time.perf_counter() - t_start,
        })
        result.kpis["sizing"]["periods"] = agg
    if result.dataset is not None:
        result.dataset.attrs["sizing_sizes"] = str(sizes)
    return result


def loosen_envelope(lp: MatrixLP, plan: SizingPlan) -> None:
    """Drop the dispatch columns' upper bounds that only repeat the caps (the envelope model
    has every sized asset at its cap; the rows of :func:`add_sizing` bound them by the size).
    The feasible set is unchanged, but the duals of the caps then sit on the capacity columns,
    where :mod:`zeropark.planning.caps` reads them."""
    for hook in hooks():
        if hook.loosen is not None:
            hook.loosen(lp, plan)


def fix_sizes(lp: MatrixLP, plan: SizingPlan, sizes: Mapping[str, float]) -> None:
    """Fix the capacity columns of :func:`add_sizing` at ``sizes`` (a dispatch of given sizes,
    priced like the sizing model)."""
    for col, assets in plan.sized.items():
        if assets:
            x = np.array([sizes[s.key] for s in assets])
            set_cols(lp, lp.cols(col), lb=x, ub=x)


def _periods_failed(name: str, agg: dict[str, Any], out: Any) -> Result:
    """The result when the representative-period model has no solution. The diagnosis of plain
    scenarios does not apply to it (its rows are edited), so the explanation says what failed
    and what to do."""
    explanation = (
        f"{name}: the representative-period model ({agg['spec']}: {agg['typical_periods']} "
        f"typical + {agg['extreme_periods']} extreme periods) has no solution ({out.status}: "
        f"{out.message}); size over the full horizon (without --periods), or try another K")
    kpis = {"scenario": name, "solver": {"status": str(out.status), "message": out.message},
            "explanation": explanation}
    return Result(out.status, out.objective, out.bound, out.gap, None, kpis, agg["timings"],
                  explanation, out.size)


def _with_gap(d: ModelData, gap: float) -> ModelData:
    """``d`` with the solver's relative MIP gap set to ``gap``."""
    solver = d.sc.solver
    if gap == solver.mip_gap:
        return d
    return dataclasses.replace(d, sc=d.sc.model_copy(
        update={"solver": solver.model_copy(update={"mip_gap": gap})}))


def _solve_periods(spec: PeriodSpec, plan: SizingPlan, d: ModelData,
                   per_kwp: dict[int, np.ndarray], relax: bool | None
                   ) -> tuple[ModelData, Any, dict[str, Any]]:
    """Size on representative periods (see :mod:`zeropark.planning.periods`)."""
    t0 = time.perf_counter()
    sel = select_periods(d.prof, spec, per_kwp)
    t1 = time.perf_counter()
    d_agg = aggregated_data(d, sel)
    gap = max(d.sc.solver.mip_gap, d.sc.sizing.periods_mip_gap)
    d_agg = _with_gap(d_agg, gap)
    full = build_matrix(d)
    idx = sel.steps
    per_kwp_agg = {i: arr[idx] for i, arr in per_kwp.items()}

    def hook(lp: MatrixLP, d_now: ModelData) -> None:
        add_sizing(lp, d_now, plan, per_kwp_agg)
        full_horizon_piles(lp, d, plan)
        aggregate_lp(lp, d_now, sel, full, d.prof.month_index, sized_energy_cols(lp, plan),
                     spec.link_storage)

    d_agg, out, timings = solve_outcome(d_agg, engine="matrix", relax=relax, lp_hook=hook)
    prices: dict[str, float | None] = {}
    if out.status.has_solution:
        sizes = _sizes(plan, out.values)
        if any(at_cap(sizes[s.key], s.cap) for s in plan.assets):
            lp = build_matrix(d_agg)
            hook(lp, d_agg)
            loosen_envelope(lp, plan)
            prices = shadow_prices(lp, plan, reduced_costs(lp, out.values, d.sc.solver),
                                   d_agg.horizon_fraction)
    timings = {"select_s": t1 - t0, **timings, "total_s": time.perf_counter() - t0}
    info: dict[str, Any] = {
        "spec": str(spec),
        "period_hours": spec.hours,
        "typical_periods": int((~sel.extreme).sum()),
        "extreme_periods": int(sel.extreme.sum()),
        "original_periods": len(sel.starts),
        "steps": int(d_agg.T),
        "objective": float(out.objective),
        "mip_gap": gap,
        "gap": float(out.gap),
        "status": str(out.status),
        "sizes": _sizes(plan, out.values) if out.status.has_solution else {},
        "timings": timings,
        "shadow_prices": prices,
    }
    return d_agg, out, info


def size_widening(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
                  factor: float = 2.0, budget: float | None = None, max_rounds: int = 6,
                  **kwargs: Any) -> Result:
    """:func:`size`, then widen every binding cap by ``factor`` and size again, until no cap
    binds, the investment would exceed ``budget`` or ``max_rounds`` sizings have run.

    Caps set by a roof area (``roof_m2``) are physical and never widened.

    Parameters
    ----------
    scenario, profiles
        As :func:`size`.
    factor : float
        Multiplier of a binding cap per round (> 1).
    budget : float, optional
        Largest investment [currency] accepted: a round whose investment exceeds it is
        discarded and the previous round's result returned.
    max_rounds : int
        Most sizings run (≥ 1).
    **kwargs
        Passed to :func:`size` (``all_factor``, ``periods``, ``start``, ``steps``, …).

    Returns
    -------
    Result
        Of the last accepted round; ``kpis["sizing"]["widening"]`` lists every round (caps,
        binding caps, investment, objective) and why it stopped (``no_binding_cap``, ``budget``,
        ``max_rounds``, ``roof``).
    """
    if not factor > 1:
        raise ScenarioError("widen_caps", factor, "a factor > 1")
    if max_rounds < 1:
        raise ScenarioError("max_rounds", max_rounds, "an integer ≥ 1")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    options = {"roof_m2": dict(kwargs.get("roof_m2") or {})}
    rounds: list[dict[str, Any]] = []
    best: Result | None = None
    reason = "max_rounds"
    for k in range(max_rounds):
        res = size(sc, profiles, **kwargs)
        if not res.ok:
            if best is None:
                return res
            reason = f"round {k + 1}: {res.status}"
            break
        sizing = res.kpis["sizing"]
        rounds.append({"round": k + 1, "caps": {a["asset"]: a["cap"] for a in sizing["assets"]},
                       "binding_caps": list(sizing["binding_caps"]),
                       "investment": sizing["investment"], "objective": float(res.objective)})
        if budget is not None and sizing["investment"] > budget:
            reason = "budget"
            if best is None:
                best = res
            break
        best = res
        changes: dict[str, Any] = {}
        for a in sizing["assets"]:
            if not a["at_cap"]:
                continue
            for hook in hooks():  # a cap set by a roof area is physical: never widened
                if hook.widen is not None:
                    changes.update(hook.widen(sc, a["asset"], a["cap"] * factor, options))
        if not sizing["binding_caps"]:
            reason = "no_binding_cap"
            break
        if not changes:
            reason = "roof"
            break
        sc = sc.replace(changes)
    assert best is not None
    best.kpis["sizing"]["widening"] = {"factor": factor, "budget": budget, "rounds": rounds,
                                       "stopped": reason}
    return best
