"""Decarbonisation path: the cheapest plan that passes the zero-carbon park core indicator, and
the cost per tonne of CO2 of each lever, side by side.

Three questions, one command (``zeropark path``):

1. **The plan.** Minimum cost (operation + annualised investment when assets are sized) with the
   core indicator as a *hard* constraint, ``CO2 − thr · tce ≤ 0`` (:mod:`zeropark.model.carbon`,
   the scenario's threshold and tce factor; a plan that meets it only by leaving heat demand
   unserved does not pass). If no plan passes, the **best achievable** plan is
   solved instead — the indicator soft at the price ceiling (:data:`CEILING_PER_T`) per tonne
   over, so the excess ``CO2 − thr · tce`` is cut wherever a tonne costs less than that — and
   :func:`missing_levers` says what is missing (e.g. fuel emissions above the whole allowance:
   only a lever that cuts fuel use, such as electrifying heat, can close the gap).
2. **The reference.** The park without any of the levers (grid and fuels only), at minimum cost
   with no indicator pressure (indicator soft at penalty 0); every other price, target and
   penalty of the scenario stays in the cost, as in :mod:`zeropark.planning.pareto`.
3. **Each lever**, by the project's single definition of abatement cost
   (:func:`zeropark.results.abatement_cost_per_t`: Δ annual cost / Δ indicator CO2 against the
   same plan without the lever):

   - *alone, cost-optimal*: reference + the lever, minimum cost. Negative = no-regret (it pays by
     itself); NaN = not used or no abatement.
   - *alone, full potential*: reference + the lever with every tonne of CO2 worth the price
     ceiling: the tonnes it can abate on its own below that price and their average cost per
     tonne (the price itself is not counted in the cost).
   - *in the plan*: the plan without the lever, re-optimised under the same hard target: the extra
     cost of doing without it, or that no plan passes without it (then the best indicator
     without it).

A lever is a :class:`Lever` in :data:`LEVERS`: a key, a label, whether the scenario has it, and
how to take it out of a scenario (and its profiles). Adding a lever (e.g. electrifying heat) is one
entry: ``register_lever(Lever("electrify-heat", "electrify heat", present=…, remove=…,
reaches="fuels"))``. Levers a scenario declares without code come from
:func:`lever_from_changes` (CLI: ``--lever NAME:PATH=VALUE``, the changes that take it out).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError, SolveError
from zeropark.profiles.base import Profiles
from zeropark.results import TCE_FACTORS, Result
from zeropark.scenario import Scenario, load_scenario
from zeropark.solve import Status

#: Default price ceiling [currency/tCO2]: the most a tonne is worth in the best-achievable plan
#: and the full-potential runs (an assumption, see docs/planning.md). Above it, levers that are
#: not levers — leaving EV energy unmet at its penalty (≈ 83,000 CNY/t on the demo park) or
#: wasting green energy to raise the tce the indicator divides by (≈ 14,000 CNY/t) — stay unused.
CEILING_PER_T = 5000.0
_ZERO_THRESHOLD = 1e-9
LEVERS_TABLE = "levers.csv"
PATH_TABLE = "path.csv"
LEVERS_PLOT = "levers.png"
_REL_TOL = 1e-6

Reach = Literal["electricity", "fuels", "offsets"]
Remove = Callable[[Scenario, Profiles | None], tuple[Scenario, Profiles | None]]


@dataclass(frozen=True)
class Lever:
    """One decarbonisation lever.

    Attributes
    ----------
    key : str
        Short name (``pv``, ``certificates``, ``electrify-heat``); the row of the lever table.
    label : str
        Words for tables and plots.
    present : callable(Scenario) -> bool
        Whether the scenario has the lever (levers it lacks are listed as absent, not solved).
    remove : callable(Scenario, Profiles or None) -> (Scenario, Profiles or None)
        The same park without the lever; profiles (when given) changed to match the scenario.
    reaches : {"electricity", "fuels", "offsets"}
        Which emissions the lever can cut: electricity (Scope 2), fuels (Scope 1, e.g.
        electrifying heat) or offsets (counted only with ``accounting.offsets_in_indicator``).
    hint : str
        How to give the scenario this lever when it lacks it.
    """

    key: str
    label: str
    present: Callable[[Scenario], bool]
    remove: Remove
    reaches: Reach = "electricity"
    hint: str = ""


def _no_pv(sc: Scenario, prof: Profiles | None) -> tuple[Scenario, Profiles | None]:
    if prof is not None:
        prof = dataclasses.replace(prof, pv_avail_kw=np.zeros((0, prof.n_steps)))
    return sc.replace({"pv": []}), prof


def _changes(changes: Mapping[str, Any]) -> Remove:
    def remove(sc: Scenario, prof: Profiles | None) -> tuple[Scenario, Profiles | None]:
        return sc.replace(dict(changes)), prof
    return remove


_ELECTRIC_HEAT = ("electric_boiler", "heat_pump")


def _has_electric_heat(sc: Scenario) -> bool:
    return sc.heat is not None and any(u.kind in _ELECTRIC_HEAT for u in sc.heat.supply)


def _no_electric_heat(sc: Scenario, prof: Profiles | None) -> tuple[Scenario, Profiles | None]:
    """The park with its fuel-fired heat only: electric boilers, heat pumps and thermal stores
    (which only pay with electric heat) taken out."""
    assert sc.heat is not None
    keep = [u.model_dump(mode="json", exclude_none=True) for u in sc.heat.supply
            if u.kind not in _ELECTRIC_HEAT]
    return sc.replace({"heat.supply": keep, "heat.storage": []}), prof


#: The levers, in table order. Append with :func:`register_lever`.
LEVERS: list[Lever] = [
    Lever("pv", "on-site PV", lambda sc: bool(sc.pv), _no_pv,
          hint="add a pv array with max_capacity_kw (or --all FACTOR)"),
    Lever("storage", "battery storage", lambda sc: bool(sc.storage), _changes({"storage": []}),
          hint="add a storage unit with max_energy_kwh (or --all FACTOR)"),
    Lever("certificates", "green certificates (GEC)",
          lambda sc: sc.green_power.certificates is not None,
          _changes({"green_power.certificates": None}),
          hint="set green_power.certificates (price_per_mwh, max_mwh)"),
    Lever("green-direct", "direct green power", lambda sc: sc.green_power.direct is not None,
          _changes({"green_power.direct": None}),
          hint="set green_power.direct (a green supply contract)"),
    Lever("offsets", "CCER offsets", lambda sc: sc.green_power.offsets is not None,
          _changes({"green_power.offsets": None}), reaches="offsets",
          hint="set green_power.offsets and targets.accounting.offsets_in_indicator: true"),
    Lever("electrify-heat", "electrify heat (heat pump, electric boiler, thermal store)",
          _has_electric_heat, _no_electric_heat, reaches="fuels",
          hint="add heat.supply units of kind heat_pump or electric_boiler with max_capacity_kw "
               "(and a heat.storage tank), see docs/heat.md"),
]


def register_lever(lever: Lever) -> None:
    """Add a lever to :data:`LEVERS` (replacing one with the same key)."""
    for i, known in enumerate(LEVERS):
        if known.key == lever.key:
            LEVERS[i] = lever
            return
    LEVERS.append(lever)


def lever_from_changes(key: str, changes: Mapping[str, Any], *, label: str | None = None,
                       reaches: Reach = "electricity") -> Lever:
    """A lever a scenario declares: ``changes`` (dotted paths, as ``Scenario.replace``) take it
    out of the park; it is present when the scenario does not already equal those values."""
    def present(sc: Scenario) -> bool:
        try:
            return sc.replace(dict(changes)).content_hash() != sc.content_hash()
        except ScenarioError:
            return False
    return Lever(key, label or key, present, _changes(changes), reaches)


def parse_lever(text: str) -> tuple[str, str, Any]:
    """``NAME:PATH=VALUE`` → (name, path, value); the value parsed as YAML (``0``, ``null``)."""
    import yaml

    name, sep, rest = text.partition(":")
    path, eq, value = rest.partition("=")
    if not sep or not eq or not name.strip() or not path.strip():
        raise ScenarioError("--lever", text, "NAME:PATH=VALUE (the change that takes the lever "
                                             "out), e.g. heat-pump:heat.0.max_capacity_kw=0")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    return name.strip(), path.strip(), parsed


# -- runs --------------------------------------------------------------------------------------


@dataclass
class _Opts:
    start: int = 0
    steps: int | None = None
    all_factor: float | None = None
    roof_m2: dict[str, float] = field(default_factory=dict)
    ceiling_per_t: float = CEILING_PER_T
    threshold: float | None = None  # the scenario's indicator threshold [t/tce], once known


def _indicator(sc: Scenario, mode: str, penalty: float = 0.0) -> Scenario:
    from zeropark.scenario.market import IndicatorTarget

    ind = sc.targets.zero_carbon_indicator or IndicatorTarget()
    target = ind.model_dump(mode="json")
    target.update({"mode": mode, "penalty_per_t": float(penalty)})
    return sc.replace({"targets.zero_carbon_indicator": target})


def _sizes_anything(sc: Scenario, prof: Profiles, o: _Opts) -> bool:
    from zeropark.planning.sizing import sizing_plan

    roof = {k: v for k, v in o.roof_m2.items() if k in {a.name for a in sc.pv}}
    return bool(sizing_plan(sc, prof, all_factor=o.all_factor, roof_m2=roof).assets)


def solve_min_cost(sc: Scenario, profiles: Profiles, *, start: int = 0, steps: int | None = None,
                   all_factor: float | None = None,
                   roof_m2: Mapping[str, float] | None = None) -> Result:
    """Minimum cost of ``sc`` over the window: :func:`zeropark.planning.sizing.size` when
    anything has a cap (``all_factor``, ``roof_m2`` for arrays it names, ``max_*`` fields),
    else the dispatch of the park as it is."""
    return _solve(sc, profiles, _Opts(start, steps, all_factor, dict(roof_m2 or {})))


def _solve(sc: Scenario, prof: Profiles, o: _Opts) -> Result:
    """Minimum cost of ``sc``: a sizing run when anything has a cap, else a dispatch."""
    t0 = time.perf_counter()
    if _sizes_anything(sc, prof, o):
        from zeropark.planning.sizing import size

        roof = {k: v for k, v in o.roof_m2.items() if k in {a.name for a in sc.pv}}
        res = size(sc, prof, start=o.start, steps=o.steps, all_factor=o.all_factor,
                   roof_m2=roof)
    else:
        from zeropark.api import prepare, solve_data

        res = solve_data(prepare(sc, prof, start=o.start, steps=o.steps))
    res.timings["path_run_s"] = time.perf_counter() - t0
    return res


def _priced(sc: Scenario, price_per_t: float) -> Scenario:
    """``sc`` with every tonne of the indicator's CO2 priced at ``price_per_t``: the indicator
    soft with an own threshold of ~0 (so the excess is the whole CO2) at that penalty."""
    from zeropark.scenario.market import IndicatorTarget

    ind = sc.targets.zero_carbon_indicator or IndicatorTarget()
    target = ind.model_dump(mode="json")
    target.update({"mode": "soft", "penalty_per_t": float(price_per_t), "threshold_rule": "own",
                   "threshold_t_per_tce": _ZERO_THRESHOLD})
    return sc.replace({"targets.zero_carbon_indicator": target})


def _potential(sc: Scenario, prof: Profiles, o: _Opts) -> Result:
    """Minimum cost of ``sc`` with every tonne of CO2 priced at the ceiling (its potential
    below that price); the KPIs of the scenario's own threshold, the penalty kept apart."""
    res = _solve(_priced(sc, o.ceiling_per_t), prof, o)
    if res.ok:
        _restate(res, o.ceiling_per_t, o.threshold)
    return res


def plan_cost(kpis: Mapping[str, Any]) -> float:
    """Annual-cost figure of a run as in :func:`zeropark.results.abatement_cost_per_t`, without
    the indicator's own penalty (that of the best-achievable plan is not a cost of the park)."""
    sizing = kpis.get("sizing")
    cost = float(sizing["total_cost_with_investment"] if sizing else kpis["total_cost"])
    return cost - _indicator_penalty(kpis)


def cost_per_t(plan: Mapping[str, Any], without: Mapping[str, Any]) -> float:
    """Cost of abatement [currency/tCO2] of :func:`zeropark.results.abatement_cost_per_t`, with
    the costs of :func:`plan_cost` (the indicator's own penalty left out): ``(cost(plan) −
    cost(without)) / (CO2(without) − CO2(plan))``; NaN when the plan does not lower the CO2."""
    abated = float(without["co2_t"]) - float(plan["co2_t"])
    if abated <= 1e-9 * max(1.0, abs(float(without["co2_t"]))):
        return float("nan")
    return (plan_cost(plan) - plan_cost(without)) / abated


def _indicator_penalty(kpis: Mapping[str, Any]) -> float:
    return float(kpis.get("path_indicator_penalty", 0.0))


def run_row(name: str, result: Result | None, *, note: str = "") -> dict[str, Any]:
    """One run as a row: cost, CO2 and the indicator under both tce factors.

    ``allowance_t_<factor>`` = threshold × tce, the CO2 the indicator allows;
    ``gap_t_<factor>`` = CO2 − allowance (> 0: tonnes still to abate; ≤ 0: passes).
    """
    row: dict[str, Any] = {"run": name, "note": note}
    if result is not None:
        row["seconds"] = float(result.timings.get("path_run_s", float("nan")))
    if result is None or not result.ok:
        row["outcome"] = "no solution" if result is not None else "not run"
        if result is not None:
            row["status"] = str(result.status)
        return row
    k = result.kpis
    zc = k["zero_carbon_indicator"]
    thr = float(zc["threshold"])
    co2 = float(k["co2_t"])
    row.update({"outcome": "solved", "status": str(result.status), "cost": plan_cost(k),
                "co2_t": co2, "scope1_fuels_t": float(k["emissions"]["scope1_fuels_t"]),
                "threshold_t_per_tce": thr, "tce_factor": zc["tce_factor"],
                "pass": bool(zc["pass"])})
    for f in TCE_FACTORS:
        by = zc["by_tce_factor"][f]
        allowance = thr * float(by["energy_tce"])
        row.update({f"indicator_{f}": float(by["value"]), f"energy_tce_{f}": float(by["energy_tce"]),
                    f"allowance_t_{f}": allowance, f"gap_t_{f}": co2 - allowance,
                    f"pass_{f}": bool(by["pass"])})
    if "sizing" in k:
        row["investment"] = float(k["sizing"]["investment"])
        for key, val in k["sizing"]["sizes"].items():
            row[f"size.{key}"] = float(val)
    return row


def _restate(res: Result, penalty: float, threshold: float | None = None) -> None:
    """Record the indicator penalty paid (kept out of :func:`plan_cost`); with ``threshold``
    (a run priced at a ~0 threshold) restate the verdicts at the scenario's own threshold."""
    k = res.kpis
    zc = k["zero_carbon_indicator"]
    over = max(float(k["co2_t"]) - float(zc["threshold"]) * float(k["energy_tce"]), 0.0)
    k["path_indicator_penalty"] = over * penalty
    if threshold is not None:
        zc["threshold"] = threshold
        zc["pass"] = bool(zc["value"] <= threshold + 1e-9)
        for by in zc["by_tce_factor"].values():
            by["pass"] = bool(by["value"] <= threshold + 1e-9)


def _best_effort(sc: Scenario, prof: Profiles, o: _Opts) -> Result:
    """The plan closest to passing: the indicator soft at the price ceiling per tonne over."""
    res = _solve(_indicator(sc, "soft", o.ceiling_per_t), prof, o)
    if res.ok:
        _restate(res, o.ceiling_per_t)
    return res


def _passes_hard(res: Result) -> bool:
    """A hard-target plan passes only if it serves the park's heat: leaving heat demand unserved
    (a penalty, :mod:`zeropark.model.heat`) cuts the fuel it would burn, but is no plan."""
    # the KPIs mark an indicator met with heat or EV energy unserved (results._not_served_fails)
    return res.ok and "not_served" not in res.kpis["zero_carbon_indicator"]


def _cheapest_passing(sc: Scenario, prof: Profiles, o: _Opts) -> tuple[Result, bool]:
    """(result, passes): the hard-target plan, or the best-achievable one when none passes
    (also when the hard target is met only by leaving heat unserved)."""
    hard = _solve(_indicator(sc, "hard"), prof, o)
    if _passes_hard(hard):
        return hard, True
    if not hard.ok and hard.status != Status.INFEASIBLE:
        raise SolveError(f"{sc.name}: the plan with the indicator as a hard target has no "
                         f"solution ({hard.status}): {hard.explanation}")
    best = _best_effort(sc, prof, o)
    if not best.ok:
        raise SolveError(f"{sc.name}: no best-achievable plan either ({best.status}): "
                         f"{best.explanation}")
    return best, False


@dataclass
class PathResult:
    """Outcome of :func:`path`.

    Attributes
    ----------
    passes : bool
        Whether a plan passes the core indicator (hard target, the scenario's tce factor).
    plan : Result
        The cheapest passing plan, or the best-achievable plan when none passes.
    runs : pandas.DataFrame
        One row per run (``reference``, ``plan``, per lever ``<key>.alone``, ``<key>.potential``,
        ``<key>.without``): :func:`run_row`.
    levers : pandas.DataFrame
        One row per lever: ``lever``, ``label``, ``reaches``, ``present``, ``counted``,
        ``alone_abated_t``, ``alone_cost_delta``, ``alone_cost_per_t``,
        ``potential_abated_t``, ``potential_cost_delta``, ``potential_cost_per_t``,
        ``without_passes``, ``without_extra_cost``, ``without_indicator_<factor>``, ``note``.
    missing : list of str
        What no lever of the scenario can do (empty when a plan passes).
    summary : dict
        The JSON-ready summary stored in the plan's ``kpis["path"]``.
    """

    passes: bool
    plan: Result
    runs: pd.DataFrame
    levers: pd.DataFrame
    missing: list[str]
    summary: dict[str, Any]


def path(scenario: Scenario | str | Path, profiles: Profiles | None = None, *, start: int = 0,
         steps: int | None = None, all_factor: float | None = None,
         roof_m2: Mapping[str, float] | None = None, levers: Sequence[Lever] | None = None,
         only: Sequence[str] | None = None, ceiling_per_t: float = CEILING_PER_T,
         out_dir: str | Path | None = None) -> PathResult:
    """The cheapest plan passing the core indicator and the lever comparison (module docstring).

    Parameters
    ----------
    scenario : Scenario or path
        Its ``targets.zero_carbon_indicator`` gives the threshold (default target if none); the
        mode is overridden (hard for the plan, penalty 0 for the reference and lever runs).
    profiles : Profiles, optional
        Full-horizon profiles (default: built once, PV at 1 kWp where the array is 0 kWp).
    start, steps : int
        Horizon window (capex charged pro rata, as in sizing).
    all_factor, roof_m2
        Sizing caps as in :func:`zeropark.planning.sizing.size`; without any cap the park is
        dispatched as it is and only the dispatch levers (certificates, direct supply, offsets)
        change anything.
    levers : sequence of Lever, optional
        Default :data:`LEVERS` (plus nothing); pass more with :func:`lever_from_changes`.
    only : sequence of str, optional
        Lever keys to compare (default all present); the plan and the reference still use every
        lever of ``levers``.
    ceiling_per_t : float
        Price ceiling [currency/tCO2] (:data:`CEILING_PER_T`): the penalty per tonne over the
        allowance in the best-achievable plan and the price of every tonne in the
        full-potential runs.
    out_dir : path, optional
        Writes the plan's run files (``kpis.json`` with ``kpis["path"]``, ``results.nc``, …),
        ``levers.csv``, ``path.csv`` and ``levers.png``.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    all_levers = list(LEVERS if levers is None else levers)
    keys = [lv.key for lv in all_levers]
    if len(set(keys)) != len(keys):
        raise ScenarioError("levers", keys, "each lever key once")
    if only is not None:
        unknown = [k for k in only if k not in keys]
        if unknown:
            raise ScenarioError("--only", unknown[0], f"one of {keys}")
    if profiles is None:
        from zeropark.planning.sizing import sizing_profiles

        profiles = sizing_profiles(sc)[0]
    if not 0 < ceiling_per_t <= 1e6:
        raise ScenarioError("--ceiling", ceiling_per_t, "a price per tCO2 in (0, 1e6]")
    o = _Opts(start, steps, all_factor, dict(roof_m2 or {}), ceiling_per_t)
    present = [lv for lv in all_levers if lv.present(sc)]

    plan, passes = _cheapest_passing(sc, profiles, o)
    o.threshold = float(plan.kpis["zero_carbon_indicator"]["threshold"])
    rows = [run_row("plan" if passes else "best achievable", plan,
                    note="" if passes else "no plan passes: indicator excess minimised")]

    ref_sc: Scenario = sc
    ref_prof: Profiles | None = profiles
    for lv in present:
        ref_sc, ref_prof = lv.remove(ref_sc, ref_prof)
    assert ref_prof is not None
    free = _indicator(ref_sc, "soft", 0.0)
    reference = _solve(free, ref_prof, o)
    if not reference.ok:
        raise SolveError(f"{sc.name}: the reference (no levers) has no solution "
                         f"({reference.status}): {reference.explanation}")
    rows.append(run_row("reference", reference, note="no levers, no indicator pressure"))

    counted = sc.targets.accounting.offsets_in_indicator
    table = []
    for lv in all_levers:
        entry: dict[str, Any] = {"lever": lv.key, "label": lv.label, "reaches": lv.reaches,
                                 "present": lv in present,
                                 "counted": lv.reaches != "offsets" or counted}
        if lv not in present:
            entry["note"] = f"absent from the scenario: {lv.hint}" if lv.hint else "absent"
        elif only is not None and lv.key not in only:
            entry["note"] = "not compared (--only)"
        elif not entry["counted"]:
            entry["note"] = ("offsets do not count toward the indicator "
                             "(targets.accounting.offsets_in_indicator: false)")
        else:
            entry.update(_lever_runs(lv, sc, profiles, ref_sc, ref_prof, reference, plan, passes,
                                     all_levers, present, o, rows))
        table.append(entry)
    levers_df = pd.DataFrame(table)
    runs = pd.DataFrame(rows)
    missing = [] if passes else missing_levers(plan.kpis, all_levers, present, sc)
    summary = _summary(sc, plan, passes, reference, levers_df, runs, missing)
    plan.kpis["path"] = summary
    plan.kpis.pop("path_indicator_penalty", None)
    result = PathResult(passes, plan, runs, levers_df, missing, summary)
    if out_dir is not None:
        write_path(result, out_dir)
    return result


def _lever_runs(lv: Lever, sc: Scenario, prof: Profiles, ref_sc: Scenario, ref_prof: Profiles,
                reference: Result, plan: Result, passes: bool, all_levers: list[Lever],
                present: list[Lever], o: _Opts, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The three figures of one lever (module docstring), appending its runs to ``rows``."""
    out: dict[str, Any] = {}
    # the reference plus this lever: remove every other present lever from the full scenario
    alone_sc: Scenario = sc
    alone_prof: Profiles | None = prof
    for other in present:
        if other is not lv:
            alone_sc, alone_prof = other.remove(alone_sc, alone_prof)
    assert alone_prof is not None
    alone_sc = _indicator(alone_sc, "soft", 0.0)
    alone = _solve(alone_sc, alone_prof, o)
    rows.append(run_row(f"{lv.key}.alone", alone, note="reference + lever, minimum cost"))
    if alone.ok:
        out["alone_abated_t"] = float(reference.kpis["co2_t"]) - float(alone.kpis["co2_t"])
        out["alone_cost_delta"] = plan_cost(alone.kpis) - plan_cost(reference.kpis)
        out["alone_cost_per_t"] = cost_per_t(alone.kpis, reference.kpis)
    full = _potential(alone_sc, alone_prof, o)
    rows.append(run_row(f"{lv.key}.potential", full,
                        note=f"reference + lever, every tonne worth {o.ceiling_per_t:g}"))
    if full.ok:
        out["potential_abated_t"] = float(reference.kpis["co2_t"]) - float(full.kpis["co2_t"])
        out["potential_cost_delta"] = plan_cost(full.kpis) - plan_cost(reference.kpis)
        out["potential_cost_per_t"] = cost_per_t(full.kpis, reference.kpis)
    # the plan without this lever, under the same hard target
    wo_sc, wo_prof = lv.remove(sc, prof)
    assert wo_prof is not None
    if passes:
        wo = _solve(_indicator(wo_sc, "hard"), wo_prof, o)
        out["without_passes"] = _passes_hard(wo)
        if out["without_passes"]:
            out["without_extra_cost"] = plan_cost(wo.kpis) - plan_cost(plan.kpis)
            rows.append(run_row(f"{lv.key}.without", wo, note="plan without the lever"))
            return out
    wo = _best_effort(wo_sc, wo_prof, o)
    out["without_passes"] = False if not wo.ok else bool(wo.kpis["zero_carbon_indicator"]["pass"])
    rows.append(run_row(f"{lv.key}.without", wo,
                        note="best achievable without the lever"))
    if wo.ok:
        zc = wo.kpis["zero_carbon_indicator"]["by_tce_factor"]
        for f in TCE_FACTORS:
            out[f"without_indicator_{f}"] = float(zc[f]["value"])
        out["without_extra_cost"] = plan_cost(wo.kpis) - plan_cost(plan.kpis)
    return out


def missing_levers(kpis: Mapping[str, Any], levers: Sequence[Lever], present: Sequence[Lever],
                   sc: Scenario) -> list[str]:
    """Why the best achievable plan fails, in words: which emissions no lever reaches.

    With ``A = thr · tce`` the allowance and ``F`` the fuel (Scope 1) CO2 of the best plan: if
    ``F > A`` no electricity lever can pass (even zero-emission electricity leaves ``F``); a lever
    that cuts fuel use is missing unless one is present. Otherwise the electricity emissions left
    (``CO2 − F``) exceed ``A − F``: the electricity levers are exhausted (caps, absent levers).
    """
    zc = kpis["zero_carbon_indicator"]
    thr, co2 = float(zc["threshold"]), float(kpis["co2_t"])
    fuels = float(kpis["emissions"]["scope1_fuels_t"])
    allowance = thr * float(kpis["energy_tce"])
    factor = zc["tce_factor"].replace("_", " ")
    out = []
    fuel_levers = [lv.key for lv in present if lv.reaches == "fuels"]
    if fuels > allowance + 1e-9:
        if fuel_levers:
            out.append(f"fuel CO2 {fuels:,.1f} t is above the allowance {allowance:,.1f} t "
                       f"({thr:g} t/tce × {kpis['energy_tce']:,.1f} tce at {factor}) even with "
                       f"the fuel levers present ({', '.join(fuel_levers)}): widen their caps")
        else:
            out.append(f"fuel CO2 {fuels:,.1f} t (Scope 1: gas, coal, purchased heat) alone is "
                       f"above the allowance {allowance:,.1f} t ({thr:g} t/tce × "
                       f"{kpis['energy_tce']:,.1f} tce at {factor}): no electricity lever can "
                       "pass; missing is a lever that cuts fuel use (electrify heat: heat pump, "
                       "electric boiler; or replace the fuel)")
    elec = co2 - fuels
    if elec > max(allowance - fuels, 0.0) + 1e-9:
        absent = [lv.key for lv in levers if lv not in present and lv.reaches == "electricity"]
        binding = list((kpis.get("sizing") or {}).get("binding_caps", []) or [])
        words = [f"electricity CO2 left {elec:,.1f} t"]
        if binding:
            words.append(f"binding caps {', '.join(map(str, binding))}")
        if absent:
            words.append(f"absent electricity levers {', '.join(absent)}")
        cert = sc.green_power.certificates
        if cert is not None and cert.max_mwh is not None:
            words.append(f"certificates limited to {cert.max_mwh:,.0f} MWh")
        out.append("; ".join(words))
    if not out:
        out.append("the indicator misses by less than the solver's tolerance")
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _clean(v) for k, v in r.items()
             if not (isinstance(v, float) and math.isnan(v))}
            for r in df.to_dict("records")]


def _summary(sc: Scenario, plan: Result, passes: bool, reference: Result, levers: pd.DataFrame,
             runs: pd.DataFrame, missing: list[str]) -> dict[str, Any]:
    zc = plan.kpis["zero_carbon_indicator"]
    return {
        "passes": passes,
        "plan": "cheapest plan passing the indicator (hard target)" if passes else
                "best achievable: no plan passes; the indicator excess is minimised",
        "threshold_t_per_tce": float(zc["threshold"]),
        "tce_factor": zc["tce_factor"],
        "currency": sc.currency,
        "plan_cost": plan_cost(plan.kpis),
        "reference_cost": plan_cost(reference.kpis),
        "missing": missing,
        "runs": _records(runs),
        "levers": _records(levers),
    }


def lever_lines(result: PathResult, currency: str = "CNY") -> list[str]:
    """The CLI text: verdict, the runs under both tce factors and the lever table."""
    s = result.summary
    lines = [("PASS: " if result.passes else "NO PLAN PASSES: ") + s["plan"]
             + f" (≤ {s['threshold_t_per_tce']:g} tCO2/tce at "
               f"{s['tce_factor'].replace('_', ' ')})"]
    head: tuple[str, ...] = ("run", "cost", "CO2 t", "t/tce eq.val", "t/tce coal-eq",
                             "gap t eq.val", "gap t coal-eq")
    body: list[tuple[Any, ...]] = []
    for r in s["runs"]:
        if r.get("outcome") != "solved":
            body.append((r["run"], r.get("outcome", ""), "", "", "", "", ""))
            continue
        body.append((r["run"], f"{r['cost']:,.0f}", f"{r['co2_t']:,.1f}",
                     f"{r['indicator_equal_value']:.3f}", f"{r['indicator_coal_equivalent']:.3f}",
                     f"{r['gap_t_equal_value']:,.1f}", f"{r['gap_t_coal_equivalent']:,.1f}"))
    lines += format_table(head, body)
    lines.append("")
    head = ("lever", f"alone {currency}/t", "alone t", f"potential {currency}/t", "potential t",
            "plan without it")
    body = []
    for r in s["levers"]:
        if "alone_cost_per_t" not in r and "potential_cost_per_t" not in r \
                and "alone_abated_t" not in r:
            body.append((r["lever"], "", "", "", "", r.get("note", "")))
            continue
        if r.get("without_passes"):
            wo = f"passes, +{r.get('without_extra_cost', 0.0):,.0f} {currency}"
        elif "without_indicator_equal_value" in r:
            wo = (f"fails: best {r['without_indicator_equal_value']:.3f} / "
                  f"{r['without_indicator_coal_equivalent']:.3f} t/tce")
        else:
            wo = "fails"
        body.append((r["lever"], _money(r.get("alone_cost_per_t")), _t(r.get("alone_abated_t")),
                     _money(r.get("potential_cost_per_t")), _t(r.get("potential_abated_t")), wo))
    lines += format_table(head, body)
    for m in result.missing:
        lines.append(f"missing: {m}")
    return lines


def _money(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.0f}"


def _t(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.1f}"


def format_table(head: Sequence[str], body: list[tuple[Any, ...]]) -> list[str]:
    """Left-aligned text columns, the header first."""
    width = [max(len(str(h)), *(len(str(r[i])) for r in body)) if body else len(str(h))
             for i, h in enumerate(head)]
    fmt = [str(h).ljust(w) for h, w in zip(head, width, strict=True)]
    out = ["  ".join(fmt).rstrip()]
    for r in body:
        out.append("  ".join(str(v).ljust(w) for v, w in zip(r, width, strict=True)).rstrip())
    return out


def levers_figure(summary: Mapping[str, Any]) -> Any:
    """Lever comparison: cost per tonne alone (cost-optimal and full potential) per lever, with
    the tonnes each abates, and the plan's indicator under both tce factors against the
    threshold."""
    from matplotlib.figure import Figure

    rows = [r for r in summary["levers"] if "alone_abated_t" in r or "potential_abated_t" in r]
    cur = summary.get("currency", "CNY")
    fig = Figure(figsize=(9, 4.2))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    y = np.arange(len(rows))
    for off, key, label, color in ((-0.2, "alone", "alone, cost-optimal", "tab:green"),
                                   (0.2, "potential", "alone, full potential", "tab:blue")):
        vals = [r.get(f"{key}_cost_per_t") for r in rows]
        v = np.array([np.nan if x is None else x for x in vals], float)
        ax.barh(y + off, np.nan_to_num(v), height=0.38, color=color, label=label)
        for yi, vi, r in zip(y, v, rows, strict=True):
            t = r.get(f"{key}_abated_t")
            text = "no abatement" if not np.isfinite(vi) else f"{vi:,.0f} ({(t or 0):,.0f} t)"
            ax.annotate(text, (0 if not np.isfinite(vi) else vi, yi + off), fontsize=7,
                        xytext=(3, -3), textcoords="offset points")
    ax.set_yticks(y, [r["label"] for r in rows])
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(f"cost of abatement [{cur}/tCO2]")
    ax.set_title("levers against the reference (no levers)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.grid(axis="x", alpha=0.3)
    plan = next((r for r in summary["runs"] if r["run"] in ("plan", "best achievable")), None)
    ref = next((r for r in summary["runs"] if r["run"] == "reference"), None)
    names = [f.replace("_", " ") for f in TCE_FACTORS]
    x = np.arange(len(TCE_FACTORS))
    for off, r, label, color in ((-0.2, ref, "reference", "0.6"),
                                 (0.2, plan, str(plan["run"]) if plan else "plan", "tab:green")):
        if r and r.get("outcome") == "solved":
            ax2.bar(x + off, [r[f"indicator_{f}"] for f in TCE_FACTORS], width=0.38,
                    color=color, label=label)
    ax2.axhline(summary["threshold_t_per_tce"], color="tab:red", ls="--", lw=1,
                label=f"threshold {summary['threshold_t_per_tce']:g}")
    ax2.set_xticks(x, names, fontsize=8)
    ax2.set_ylabel("tCO2 per tce")
    ax2.set_title("core indicator by tce factor", fontsize=9)
    ax2.legend(fontsize=7)
    verdict = "a plan passes" if summary["passes"] else "no plan passes"
    fig.suptitle(f"decarbonisation levers — {verdict}", fontsize=10)
    fig.tight_layout()
    return fig


def write_path(result: PathResult, out_dir: str | Path) -> None:
    """The plan's run files (with ``kpis["path"]``), ``levers.csv``, ``path.csv``, ``levers.png``."""
    from zeropark.io import atomic_write_text
    from zeropark.plots import figure_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = figure_bytes(levers_figure(result.summary))
    result.plan.write(out, extra={LEVERS_PLOT: png})
    atomic_write_text(out / LEVERS_TABLE, result.levers.to_csv(index=False))
    atomic_write_text(out / PATH_TABLE, result.runs.to_csv(index=False))
