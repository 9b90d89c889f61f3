"""Capacity sizing co-optimized with the dispatch: PV kWp per array, storage energy and power,
and the integer pile count of EV groups, each with annualized capex plus fixed O&M.

The model is the normal dispatch matrix (``build_matrix``) built for an *envelope* scenario in
which every sized asset is at its cap, then transformed here (``src/zeropark/model`` is not
touched):

- PV array a with cap K̄: column ``pv.capacity_kwp[a]`` ∈ [0, K̄] and rows
  ``pv.capacity[a,t]``: p_pv[a,t] − avail_per_kwp[a,t]·K ≤ 0, where avail_per_kwp is the
  scenario's availability divided by its capacity (recomputed at 1 kWp by pvlib when the
  capacity is 0). The inverter is assumed to scale with the array (DC/AC ratio kept).
- Storage s with cap Ē: columns ``storage.energy_cap_kwh[s]`` E ∈ [0, Ē] and
  ``storage.power_cap_kw[s]`` P ∈ [0, Ē/d] with d the technology's ``duration_h`` (the C-rate
  limit, P ≤ E/d); rows charge ≤ P, discharge ≤ P, soc_min·E ≤ soc ≤ soc_max·E; the initial SOC
  (right-hand side of ``storage.soc_balance`` at t = 0), the end condition and the daily cycle
  limit become coefficients on E.
- EV group g with cap n̄: integer column ``ev.piles[g]`` n ∈ [N_g, n̄] and rows
  ``ev.pile_limit[g,t]``: p_ev + p_v2g − n·pile_kw ≤ 0: the piles bound the group's simultaneous
  charging power. Piles are piles, one car each at a time: N_g is the largest number of the
  group's sessions plugged in at once within the horizon, so the sized count can hold every car
  it serves. The cars (sessions, energy envelope, plugged-in limit) are the scenario's; where
  more cars are plugged in at once than the cap n̄ allows, they are served first come, first
  served on n̄ piles before the solve (each car, in arrival order, takes the pile free longest;
  a car finding all n̄ busy is turned away) and the turned-away energy is reported unmet
  (``kpis["ev_unmet_by_group"]``); energy the piles cannot deliver is unmet at the penalty.

The cost of a unit of capacity is (capex·CRF + fixed O&M per year) × the horizon's share of a year;
sizes are total capacities (green-field: the scenario's present size is not a sunk cost).
Only assets with a cap are sized (``pv.N.max_capacity_kw``, ``storage.N.max_energy_kwh``,
``ev.groups.N.max_count``); ``all_factor`` gives every other asset the cap factor × its size.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zeropark.api import finish, prepare, solve_outcome
from zeropark.errors import ScenarioError
from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.model.lp import INF, MatrixLP
from zeropark.model.storage import params as storage_params
from zeropark.planning.capex import UnitCost, pile_cost, pv_cost, storage_costs
from zeropark.planning.caps import at_cap, cap_report, reduced_costs, shadow_prices
from zeropark.planning.lpedit import set_cols, set_rows
from zeropark.planning.periods import (
    PeriodSpec,
    aggregate_lp,
    aggregated_data,
    parse_periods,
    select_periods,
)
from zeropark.profiles.base import EvGroupProfile, Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario, load_scenario

#: Rooftop PV per m² of usable roof [kWp/m²]: labelled default for flat C&I roofs with row
#: spacing (≈ 20 % efficient modules cover 1 m² per 0.2 kWp; spacing and access leave ~75 %).
KWP_PER_M2 = 0.15
_ZERO = 1e-6


@dataclass(frozen=True)
class SizedAsset:
    """One sized decision.

    Attributes
    ----------
    key : str
        ``pv.<name>.capacity_kw``, ``storage.<name>.energy_kwh``, ``storage.<name>.power_kw`` or
        ``ev.<name>.count``.
    index : int
        Position of the asset in its scenario list.
    existing : float
        The scenario's present size [kWp, kWh, kW or piles].
    cap : float
        Upper bound of the size.
    unit : str
    cost : UnitCost
    """

    key: str
    index: int
    existing: float
    cap: float
    unit: str
    cost: UnitCost


@dataclass
class SizingPlan:
    """What is sized, with caps and costs; PV availability per kWp over the full horizon."""

    pv: list[SizedAsset] = field(default_factory=list)
    energy: list[SizedAsset] = field(default_factory=list)
    power: list[SizedAsset] = field(default_factory=list)
    durations_h: list[float] = field(default_factory=list)
    piles: list[SizedAsset] = field(default_factory=list)
    pv_per_kwp: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def assets(self) -> list[SizedAsset]:
        return [*self.pv, *self.energy, *self.power, *self.piles]


def _cap(explicit: float | None, size: float, factor: float | None, field: str) -> float | None:
    if explicit is not None:
        return float(explicit)
    if factor is None:
        return None
    if size <= 0:
        raise ScenarioError(field, None, "an explicit cap: the asset's present size is 0, so "
                                         "all_factor × size gives nothing to size")
    return factor * size


def _at_one_kwp(sc: Scenario, arrays: list[int]) -> Scenario:
    """``sc`` with the given PV arrays at 1 kWp (inverter at the technology's DC/AC ratio)."""
    from zeropark.scenario.resolve import library_for

    changes: dict[str, Any] = {}
    for i in arrays:
        a = sc.pv[i]
        entry = library_for(sc).get("technologies", a.technology, f"pv.{i}.technology")
        changes[f"pv.{i}.capacity_kw"] = 1.0
        changes[f"pv.{i}.ac_limit_kw"] = 1.0 / float(entry.get("dc_ac_ratio", 1.2))
    return sc.replace(changes) if changes else sc


def _per_kwp(sc: Scenario, profiles: Profiles, i: int) -> np.ndarray:
    """Available power per kWp of array ``i`` [kW/kWp] on the profiles' time index."""
    a = sc.pv[i]
    if a.capacity_kw > 0:
        return profiles.pv_avail_kw[i] / a.capacity_kw
    if a.profile is not None and a.profile.unit == "kw":
        raise ScenarioError(f"pv.{i}.capacity_kw", 0.0, "> 0 to size an array whose profile is "
                                                        "in kW (or give it in kw_per_kwp)")
    from zeropark.profiles.build import pv_profiles, weather_frame
    from zeropark.scenario.resolve import library_for

    one = _at_one_kwp(sc, [i])
    wx = weather_frame(one, library_for(one), profiles.time)
    return pv_profiles(one, profiles.time, wx)[i]


def sizing_profiles(sc: Scenario) -> tuple[Profiles, dict[int, np.ndarray]]:
    """Profiles of ``sc``, and the per-kWp availability of its 0 kWp arrays (built at 1 kWp,
    since pvlib rejects a 0 kWp array)."""
    from zeropark.profiles.build import build_profiles

    zero = [i for i, a in enumerate(sc.pv) if a.capacity_kw <= 0]
    prof = build_profiles(_at_one_kwp(sc, zero))
    if not zero:
        return prof, {}
    known = {i: prof.pv_avail_kw[i].copy() for i in zero}
    avail = prof.pv_avail_kw.copy()
    avail[zero] = 0.0
    return dataclasses.replace(prof, pv_avail_kw=avail), known


def sizing_plan(sc: Scenario, profiles: Profiles, *, all_factor: float | None = None,
                roof_m2: Mapping[str, float] | None = None,
                per_kwp: Mapping[int, np.ndarray] | None = None) -> SizingPlan:
    """Decide what is sized, with which cap and unit cost.

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
    roof = dict(roof_m2 or {})
    unknown = sorted(set(roof) - {a.name for a in sc.pv})
    if unknown:
        raise ScenarioError("roof_m2", unknown[0], f"a PV array name, one of {[a.name for a in sc.pv]}")
    plan = SizingPlan()
    for i, a in enumerate(sc.pv):
        cap = _cap(a.max_capacity_kw, a.capacity_kw, None if a.name in roof else all_factor,
                   f"pv.{i}.max_capacity_kw")
        if a.name in roof:
            if roof[a.name] < 0:
                raise ScenarioError(f"roof_m2.{a.name}", roof[a.name], "an area ≥ 0 m²")
            area_cap = roof[a.name] * KWP_PER_M2
            cap = area_cap if cap is None else min(cap, area_cap)
        if cap is None:
            continue
        plan.pv.append(SizedAsset(f"pv.{a.name}.capacity_kw", i, a.capacity_kw, cap, "kWp",
                                  pv_cost(sc, i)))
        known = (per_kwp or {}).get(i)
        plan.pv_per_kwp[i] = known if known is not None else _per_kwp(sc, profiles, i)
    for i, u in enumerate(sc.storage):
        cap = _cap(u.max_energy_kwh, u.energy_kwh, all_factor, f"storage.{i}.max_energy_kwh")
        if cap is None:
            continue
        c_e, c_p, dur = storage_costs(sc, i)
        plan.energy.append(SizedAsset(f"storage.{u.name}.energy_kwh", i, u.energy_kwh, cap,
                                      "kWh", c_e))
        plan.power.append(SizedAsset(f"storage.{u.name}.power_kw", i, u.power_kw, cap / dur,
                                     "kW", c_p))
        plan.durations_h.append(dur)
    for i, g in enumerate(sc.ev.groups):
        cap = _cap(g.max_count, g.count, all_factor, f"ev.groups.{i}.max_count")
        if cap is None:
            continue
        plan.piles.append(SizedAsset(f"ev.{g.name}.count", i, g.count, float(np.floor(cap)),
                                     "piles", pile_cost(sc, i)))
    return plan


def _with_sizes(sc: Scenario, plan: SizingPlan, sizes: Mapping[str, float]) -> Scenario:
    """The scenario with the sized assets at ``sizes`` (inverter limits scaled with PV)."""
    changes: dict[str, Any] = {}
    for s in plan.pv:
        k = sizes[s.key]
        a = sc.pv[s.index]
        changes[f"pv.{s.index}.capacity_kw"] = k
        raw_ac = a.ac_limit_kw if a.capacity_kw > 0 else None
        if raw_ac is not None and k > 0:
            changes[f"pv.{s.index}.ac_limit_kw"] = raw_ac * k / a.capacity_kw
    for s in plan.energy:
        changes[f"storage.{s.index}.energy_kwh"] = sizes[s.key]
    for s in plan.power:
        changes[f"storage.{s.index}.power_kw"] = sizes[s.key]
    for s in plan.piles:
        changes[f"ev.groups.{s.index}.count"] = int(round(sizes[s.key]))
    return sc.replace(changes) if changes else sc


def _with_pv(prof: Profiles, plan: SizingPlan, sizes: Mapping[str, float],
             per_kwp: Mapping[int, np.ndarray]) -> Profiles:
    """Profiles with the sized arrays' availability at ``sizes`` (``per_kwp`` on their index)."""
    avail = prof.pv_avail_kw.copy()
    for s in plan.pv:
        avail[s.index] = per_kwp[s.index] * sizes[s.key]
    return dataclasses.replace(prof, pv_avail_kw=avail)


def add_sizing(lp: MatrixLP, d: ModelData, plan: SizingPlan, per_kwp: dict[int, np.ndarray]
               ) -> None:
    """Turn the envelope model ``lp`` (sized assets at their caps) into the sizing model."""
    frac, T = d.horizon_fraction, d.T
    steps = range(T)
    if plan.pv:
        names = [d.pv_names[s.index] for s in plan.pv]
        rows_of = [s.index for s in plan.pv]
        cost = np.array([s.cost.annualized_per_year * frac for s in plan.pv])
        cap = lp.var("pv.capacity_kwp", (names,), 0.0, np.array([s.cap for s in plan.pv]), cost)
        power = lp.cols("pv.power_kw")[rows_of]
        r = lp.rows("pv.capacity", (names, steps), hi=0.0)
        lp.add(r, power, 1.0)
        lp.add(r, cap[:, None], -np.array([per_kwp[i] for i in rows_of]))
    if plan.energy:
        _add_storage(lp, d, plan)
    if plan.piles:
        names = [d.ev_names[s.index] for s in plan.piles]
        idx = [s.index for s in plan.piles]
        caps = np.array([s.cap for s in plan.piles])
        n = lp.var("ev.piles", (names,), np.minimum(_plugged_at_once(d, names), caps), caps,
                   np.array([s.cost.annualized_per_year * frac for s in plan.piles]),
                   integer=True)
        pile_kw = np.array([d.sc.ev.groups[i].power_kw for i in idx])
        r = lp.rows("ev.pile_limit", (names, steps), hi=0.0)
        lp.add(r, lp.cols("ev.power_kw")[idx], 1.0)
        lp.add(r, n[:, None], -pile_kw[:, None])
        if lp.has("ev.v2g_kw"):
            v2g = [g.name for g in d.sc.ev.groups if g.v2g]
            for k, i in enumerate(idx):
                if d.ev_names[i] in v2g:
                    lp.add(r[k], lp.cols("ev.v2g_kw")[v2g.index(d.ev_names[i])], 1.0)


def _plugged_at_once(d: ModelData, names: list[str]) -> np.ndarray:
    """Per EV group, the most sessions plugged in at the same time within the horizon: the
    fewest piles that hold every car served at once (0 for a group without a session table)."""
    from zeropark.profiles.ev import peak_plugged

    start = d.prof.time[0]
    end = start + pd.Timedelta(hours=d.T * d.dt_h)
    return np.array([float(peak_plugged(d.prof.ev[g].sessions, start, end))
                     if g in d.prof.ev and len(d.prof.ev[g].sessions) else 0.0 for g in names])


def _turn_away_at_caps(prof: Profiles, plan: SizingPlan, sc: Scenario) -> Profiles:
    """Profiles in which every sized group holds at most its cap of cars at once: where more
    sessions overlap, they are served first come, first served on the cap's piles and the
    others turned away (see the module docstring)."""
    from zeropark.profiles.ev import ev_envelopes, leaving_kwh, peak_plugged, turn_away

    if not prof.n_steps:
        return prof
    start, end = prof.time[0], prof.time[-1] + pd.Timedelta(hours=prof.dt_h)
    ev = dict(prof.ev)
    for s in plan.piles:
        name = sc.ev.groups[s.index].name
        g = ev.get(name)
        if g is None or g.spec is None or not len(g.sessions):
            continue
        if peak_plugged(g.sessions, start, end) <= s.cap:
            continue
        served, away = turn_away(g.sessions, int(s.cap))
        away = pd.concat([g.turned_away, away]) if len(g.turned_away) else away
        env = ev_envelopes(served, prof.time, prof.dt_h, [g.spec])[name]
        away_kwh, n_away = leaving_kwh(away, prof.time, prof.dt_h, g.spec)
        ev[name] = EvGroupProfile(env.e_lo_kwh, env.e_hi_kwh, env.p_max_kw,
                                  float(env.requested_kwh), served.reset_index(drop=True), g.spec,
                                  env.undeliverable_kwh, env.n_undeliverable, away, away_kwh,
                                  n_away)
    return dataclasses.replace(prof, ev=ev)


def _add_storage(lp: MatrixLP, d: ModelData, plan: SizingPlan) -> None:
    frac, T = d.horizon_fraction, d.T
    p = storage_params(d)
    idx = [s.index for s in plan.energy]
    names = [d.storage_names[i] for i in idx]
    steps = range(T)
    units = [d.sc.storage[i] for i in idx]
    soc_min = np.array([u.soc_min for u in units])
    soc_max = np.array([u.soc_max for u in units])
    soc_init = np.array([0.0 if u.free_start else float(u.soc_initial) for u in units])
    e = lp.var("storage.energy_cap_kwh", (names,), 0.0, np.array([s.cap for s in plan.energy]),
               np.array([s.cost.annualized_per_year * frac for s in plan.energy]))
    pw = lp.var("storage.power_cap_kw", (names,), 0.0, np.array([s.cap for s in plan.power]),
                np.array([s.cost.annualized_per_year * frac for s in plan.power]))
    ch, dis = lp.cols("storage.charge_kw")[idx], lp.cols("storage.discharge_kw")[idx]
    soc = lp.cols("storage.soc_kwh")[idx]
    for name, flow in (("storage.charge_cap", ch), ("storage.discharge_cap", dis)):
        r = lp.rows(name, (names, steps), hi=0.0)
        lp.add(r, flow, 1.0)
        lp.add(r, pw[:, None], -1.0)
    r = lp.rows("storage.duration", (names,), hi=0.0)
    lp.add(r, pw, 1.0)
    lp.add(r, e, -1.0 / np.array(plan.durations_h))
    set_cols(lp, soc, lb=0.0)
    r = lp.rows("storage.soc_max_cap", (names, steps), hi=0.0)
    lp.add(r, soc, 1.0)
    lp.add(r, e[:, None], -soc_max[:, None])
    if (soc_min > 0).any():
        r = lp.rows("storage.soc_min_cap", (names, steps), lo=0.0)
        lp.add(r, soc, 1.0)
        lp.add(r, e[:, None], -soc_min[:, None])
    free = [k for k, u in enumerate(units) if u.free_start]
    if free:
        # A free start is cyclic (S0 = soc[T-1]), so the sized window rows on soc already keep
        # it within [soc_min·E, soc_max·E]; only its bound soc_min·cap must go.
        labels = list(lp.var_blocks["storage.soc_start_kwh"].labels[0])
        set_cols(lp, lp.cols("storage.soc_start_kwh")[[labels.index(names[k]) for k in free]],
                 lb=0.0)
    bal0 = lp.row_blocks["storage.soc_balance"].index()[idx, 0]
    set_rows(lp, bal0, lo=0.0, hi=0.0)
    lp.add(bal0, e, -p["keep"][idx] * soc_init)
    if "storage.end" in lp.row_blocks:
        block = lp.row_blocks["storage.end"]
        ends = list(block.labels[0])
        for k, i in enumerate(idx):
            if names[k] in ends:
                row = block.index()[ends.index(names[k])]
                cyclic = p["end"][i] == "cyclic"
                set_rows(lp, row, lo=0.0, hi=0.0 if cyclic else np.inf)
                lp.add(row, e[k], -soc_init[k])
    if "storage.daily_cycles" in lp.row_blocks:
        block = lp.row_blocks["storage.daily_cycles"]
        limited = list(block.labels[0])
        for k, i in enumerate(idx):
            if names[k] in limited:
                rows = block.index()[limited.index(names[k])]
                set_rows(lp, rows, hi=0.0)
                lp.add(rows, e[k], -p["cycles"][i] * (soc_max[k] - soc_min[k]))


def _sizes(plan: SizingPlan, values: dict[str, np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    for assets, col in ((plan.pv, "pv.capacity_kwp"), (plan.energy, "storage.energy_cap_kwh"),
                        (plan.power, "storage.power_cap_kw"), (plan.piles, "ev.piles")):
        for k, s in enumerate(assets):
            x = float(values[col][k])
            x = round(x) if s.unit == "piles" and abs(x - round(x)) < 1e-6 else x
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
        raise ScenarioError("sizing", "no caps", "a cap on at least one asset to size: set "
                            "pv.N.max_capacity_kw, storage.N.max_energy_kwh or "
                            "ev.groups.N.max_count (in the scenario or with --set), or size "
                            "every asset with --all FACTOR (all_factor; e.g. --all 3: up to "
                            "3 × its present size)")
    caps = {s.key: s.cap for s in plan.assets}
    profiles = _turn_away_at_caps(profiles, plan, sc)
    stop = profiles.n_steps if steps is None else min(start + steps, profiles.n_steps)
    d = prepare(_with_sizes(sc, plan, caps), _with_pv(profiles, plan, caps, plan.pv_per_kwp),
                start=start, steps=stop - start)
    per_kwp = {i: arr[start:stop] for i, arr in plan.pv_per_kwp.items()}
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
        extreme ones (:mod:`zeropark.planning.periods`), then dispatch the full horizon with
        the sizes fixed. ``kpis["sizing"]["periods"]`` reports both objectives and their
        difference. Needs the full horizon (no ``start``/``steps``).

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
            return finish(d_agg, out_agg, "matrix", agg["timings"])
        fixed = _sizes(plan, out_agg.values)

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
    d_sized = dataclasses.replace(d, sc=sc_sized, prof=_with_pv(d.prof, plan, sizes, per_kwp))
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
            "difference": agg_obj - full_obj,
            "difference_pct": 100.0 * (agg_obj - full_obj) / abs(full_obj) if full_obj else 0.0,
            "seconds": time.perf_counter() - t_start,
        })
        result.kpis["sizing"]["periods"] = agg
    result.dataset.attrs["sizing_sizes"] = str(sizes)
    return result


def loosen_envelope(lp: MatrixLP, plan: SizingPlan) -> None:
    """Drop the dispatch columns' upper bounds that only repeat the caps (the envelope model
    has every sized asset at its cap; the rows of :func:`add_sizing` bound them by the size).
    The feasible set is unchanged, but the duals of the caps then sit on the capacity columns,
    where :mod:`zeropark.planning.caps` reads them."""
    if plan.pv:
        set_cols(lp, lp.cols("pv.power_kw")[[s.index for s in plan.pv]], ub=INF)
    if plan.energy:
        idx = [s.index for s in plan.energy]
        for name in ("storage.charge_kw", "storage.discharge_kw", "storage.soc_kwh"):
            set_cols(lp, lp.cols(name)[idx], ub=INF)


def fix_sizes(lp: MatrixLP, plan: SizingPlan, sizes: Mapping[str, float]) -> None:
    """Fix the capacity columns of :func:`add_sizing` at ``sizes`` (a dispatch of given sizes,
    priced like the sizing model)."""
    for assets, col in ((plan.pv, "pv.capacity_kwp"), (plan.energy, "storage.energy_cap_kwh"),
                        (plan.power, "storage.power_cap_kw"), (plan.piles, "ev.piles")):
        if assets:
            x = np.array([sizes[s.key] for s in assets])
            set_cols(lp, lp.cols(col), lb=x, ub=x)


def _solve_periods(spec: PeriodSpec, plan: SizingPlan, d: ModelData,
                   per_kwp: dict[int, np.ndarray], relax: bool | None
                   ) -> tuple[ModelData, Any, dict[str, Any]]:
    """Size on representative periods (see :mod:`zeropark.planning.periods`)."""
    t0 = time.perf_counter()
    sel = select_periods(d.prof, spec, per_kwp)
    t1 = time.perf_counter()
    d_agg = aggregated_data(d, sel)
    full = build_matrix(d)
    idx = sel.steps
    per_kwp_agg = {i: arr[idx] for i, arr in per_kwp.items()}

    def hook(lp: MatrixLP, d_now: ModelData) -> None:
        add_sizing(lp, d_now, plan, per_kwp_agg)
        energy = {s.index: int(lp.cols("storage.energy_cap_kwh")[k])
                  for k, s in enumerate(plan.energy)}
        aggregate_lp(lp, d_now, sel, full, d.prof.month_index, energy, spec.link_storage)

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
    roofs = set((kwargs.get("roof_m2") or {}).keys())
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
            name = a["asset"].split(".")[1]
            if a["asset"].startswith("pv.") and name in roofs:
                continue
            path = _cap_path(sc, a["asset"])
            if path is not None:
                cap = a["cap"] * factor
                changes[path] = int(np.floor(cap)) if path.endswith("max_count") else cap
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


def _cap_path(sc: Scenario, key: str) -> str | None:
    """Scenario path of the cap behind a ``kpis["sizing"]`` asset key (None for storage power,
    which follows the energy cap)."""
    family, name, what = key.split(".", 2)
    if family == "pv":
        i = [a.name for a in sc.pv].index(name)
        return f"pv.{i}.max_capacity_kw"
    if family == "storage" and what == "energy_kwh":
        i = [u.name for u in sc.storage].index(name)
        return f"storage.{i}.max_energy_kwh"
    if family == "ev":
        i = [g.name for g in sc.ev.groups].index(name)
        return f"ev.groups.{i}.max_count"
    return None
