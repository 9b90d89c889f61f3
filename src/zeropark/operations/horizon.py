"""One schedule horizon: the scenario variant, its profiles and the carry-over from the state.

Owns the step from (scenario, state, start, horizon, step, forecast) to the inputs of one
day-ahead optimisation: the scenario re-timed to the horizon with the state's SOC as initial SOC
and the committed DR events forced in; the profiles with the forecast laid over them, the
month-to-date peak as the demand-charge floor, and the EV envelopes rebuilt from the scenario's
sessions in the horizon plus the EVs plugged in now; the flexible loads' power before the start
(their first step's ramp limit); and the pro-rata share of the annual targets
left after the year-to-date ledger (applied to the model rows by :mod:`zeropark.operations.schedule`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.model import carbon
from zeropark.model.data import (
    HOURS_PER_YEAR,
    KGCE_PER_GJ_HEAT,
    KGCE_PER_M3_GAS,
    KGCE_PER_T_COAL,
    KGCO2_PER_GJ_HEAT,
    KGCO2_PER_M3_GAS,
    KGCO2_PER_T_COAL,
    model_data,
)
from zeropark.model.emissions import indicator_threshold, kgce_per_kwh
from zeropark.model.flexload import band_kw
from zeropark.operations.forecast import (
    Forecast,
    apply_forecast,
    check_plausible,
    correction_lines,
    read_forecast,
    sanitize_forecast,
)
from zeropark.operations.state import OpsState, check_against, ledger_period
from zeropark.profiles import build
from zeropark.profiles.base import Profiles
from zeropark.profiles.ev import SESSION_COLUMNS
from zeropark.scenario import Scenario

STEPS: dict[str, float] = {"15min": 0.25, "30min": 0.5, "1h": 1.0, "60min": 1.0}
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class ProRata:
    """The horizon's share of the annual targets after the year-to-date ledger.

    ``carry`` maps a target row block (``targets.green_share``, ``targets.emission_cap``,
    ``targets.indicator``) to the coefficient of a column fixed at 1 added to that row, which
    shifts its bound by the carried amount (kWh or kg).
    """

    share: float
    carry: dict[str, float]
    info: dict[str, float | str | None]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Horizon:
    """Inputs of one day-ahead optimisation.

    Attributes
    ----------
    sc : Scenario
        The scenario re-timed to the horizon (SOC from the state, committed DR events).
    base : Profiles
        The scenario's own profiles with the state applied (used when the forecast is rejected).
    prof : Profiles
        ``base`` with the forecast laid over it (``base`` when no forecast was given).
    sessions : pandas.DataFrame
        Charging sessions of the horizon, every group (scenario's plus the plugged-in EVs).
    floor_kw : numpy.ndarray [kW]
        Month-to-date peak per billing month of the horizon.
    pro_rata : ProRata
    forecast : Forecast or None
    forecast_error : str or None
        Why the forecast was rejected (then ``prof`` is ``base``).
    warnings : list of str
    storage_initial_kw : numpy.ndarray [kW] or None
        Each storage unit's net power before the start (+ discharge; the state's last executed
        power; NaN where unknown), None when the state knows none.
    flex_initial_kw : numpy.ndarray [kW] or None
        Each flexible load's power before the start (the state's last executed power, clamped to
        its band; NaN where unknown), None when the state knows none.
    """

    sc: Scenario
    base: Profiles
    prof: Profiles
    sessions: pd.DataFrame
    floor_kw: np.ndarray
    pro_rata: ProRata
    forecast: Forecast | None
    forecast_error: str | None
    warnings: list[str]
    flex_initial_kw: np.ndarray | None = None
    storage_initial_kw: np.ndarray | None = None

    @property
    def start(self) -> pd.Timestamp:
        return self.prof.time[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.prof.time[-1] + pd.Timedelta(hours=self.prof.dt_h)


#: Longest horizon of one schedule [h]: 14 days (1,344 steps of 15 min). A day-ahead schedule
#: needs 1–3 days; longer horizons belong to ``zeropark run`` (planning), and 732 days at 15 min
#: once ran out of memory (43 GiB) instead of publishing a plan.
MAX_HORIZON_H = 14 * 24.0


def horizon_steps(horizon_h: float, step: str) -> int:
    """Number of steps of ``step`` in ``horizon_h`` hours (must divide exactly, at most
    :data:`MAX_HORIZON_H`)."""
    if step not in STEPS:
        raise ScenarioError("--step", step, f"one of {list(STEPS)}")
    if not 0 < horizon_h <= MAX_HORIZON_H:
        raise ScenarioError("--horizon", f"{horizon_h:g} h",
                            f"a horizon of at most {MAX_HORIZON_H:g} h ({MAX_HORIZON_H / 24:g} d) "
                            "for a schedule; plan longer periods with 'zeropark run'")
    n = horizon_h / STEPS[step]
    if n < 1 or abs(n - round(n)) > 1e-9:
        raise ScenarioError("--horizon", f"{horizon_h:g} h", f"a whole number of {step} steps")
    return int(round(n))


def horizon_scenario(sc: Scenario, state: OpsState, start: pd.Timestamp, steps: int, step: str,
                     time_limit_s: float | None = None) -> tuple[Scenario, list[str]]:
    """The scenario re-timed to the horizon, with the state's SOC and committed DR events."""
    warnings: list[str] = []
    changes: dict[str, object] = {
        "time": {"start": start.isoformat(), "steps": steps, "step": step},
    }
    if time_limit_s is not None:
        changes["solver.time_limit_s"] = float(time_limit_s)
    for i, unit in enumerate(sc.storage):
        if unit.name not in state.storage:
            warnings.append(f"state has no SOC for storage {unit.name!r}: using the scenario's "
                            f"soc_initial {unit.soc_initial}")
            continue
        soc = state.storage[unit.name].soc
        clamped = min(max(soc, unit.soc_min), unit.soc_max)
        if clamped != soc:
            warnings.append(f"storage {unit.name!r}: state SOC {soc:g} outside the window "
                            f"[{unit.soc_min:g}, {unit.soc_max:g}]; planned from {clamped:g}")
        changes[f"storage.{i}.soc_initial"] = clamped
    if state.dr_committed:
        mine = {e.name for e in state.dr_committed}
        events = [e.model_dump(mode="json", exclude_none=True)
                  for e in sc.demand_response.events if e.name not in mine]
        events += [{**e.model_dump(mode="json", exclude_none=True), "committed": True}
                   for e in state.dr_committed]
        changes["demand_response.events"] = events
    try:
        return sc.replace(changes), warnings
    except ScenarioError as err:
        raise ScenarioError(f"(horizon) {err.field}", err.value, err.allowed) from None


def horizon_sessions(sc: Scenario, state: OpsState, time: pd.DatetimeIndex
                     ) -> tuple[pd.DataFrame, list[str]]:
    """Sessions of the horizon: the scenario's, with the EVs plugged in now taken from the state.

    When the state lists the plugged-in EVs (``ev_plugged`` not null), scenario sessions that
    arrived before the start are replaced by them (each arriving at the start with the energy it
    still wants), and scenario sessions that would arrive on an occupied pile before that EV
    leaves are dropped.
    """
    warnings: list[str] = []
    if not sc.ev.groups:
        return pd.DataFrame(columns=list(SESSION_COLUMNS)), warnings
    start, dt = time[0], pd.Timedelta(hours=sc.dt_h)
    end = time[-1] + dt
    syn = build.ev_sessions(sc, time)
    syn = syn[(syn["departure"] > start) & (syn["arrival"] < end)].copy()
    syn["id"] = None
    if state.ev_plugged is None:
        return syn.reset_index(drop=True), warnings
    syn = syn[syn["arrival"] >= start]
    specs = {s.name: s for s in build.ev_specs(sc)}
    rows = []
    for ev in state.ev_plugged:
        dep = pd.Timestamp(ev.departure)
        if dep <= start:
            warnings.append(f"EV on pile {ev.pile} of {ev.group!r} left at {dep} before the "
                            "start: ignored")
            continue
        spec = specs[ev.group]
        car_kw = ev.max_power_kw if ev.max_power_kw is not None else spec.power_kw * spec.efficiency
        # battery-side energy the pile and car can deliver before departure
        rate_kw = min(spec.power_kw * spec.efficiency, car_kw)
        hours = (dep - start) / pd.Timedelta(hours=1)
        most_kwh = rate_kw * hours
        if ev.energy_kwh > most_kwh + 1e-6:
            who = f"EV {ev.id!r}" if ev.id else "EV"
            warnings.append(
                f"{who} on pile {ev.pile} of {ev.group!r} asks {ev.energy_kwh:,.3f} kWh by {dep} "
                f"but at most {most_kwh:,.3f} kWh can be delivered ({rate_kw:g} kW for "
                f"{hours:g} h): {ev.energy_kwh - most_kwh:,.3f} kWh will be missing")
        rows.append((ev.group, ev.pile, start, dep, ev.energy_kwh, car_kw, ev.id))
    plugged = pd.DataFrame(rows, columns=[*SESSION_COLUMNS, "id"])
    if len(plugged):
        key = plugged.set_index(["group", "pile"])["departure"]
        busy_until = pd.MultiIndex.from_frame(syn[["group", "pile"]]).map(
            lambda k: key.get(k, pd.NaT))
        clash = np.asarray(pd.Series(busy_until, index=syn.index).notna()
                           & (syn["arrival"] < pd.Series(busy_until, index=syn.index)))
        if clash.any():
            warnings.append(f"{int(clash.sum())} expected arrival(s) on piles still occupied by "
                            "plugged-in EVs dropped")
            syn = syn[~clash]
    parts = [plugged.astype({"pile": np.int64, "energy_kwh": float, "max_power_kw": float}), syn]
    columns = list(dict.fromkeys(c for p in parts for c in p.columns))
    # empty parts left out: pandas 2.x warns when an empty frame takes part in the dtypes
    out = pd.concat([p for p in parts if len(p)] or parts, ignore_index=True).reindex(
        columns=columns)
    out["arrival"] = pd.to_datetime(out["arrival"]).astype("datetime64[ns]")
    out["departure"] = pd.to_datetime(out["departure"]).astype("datetime64[ns]")
    out = out.sort_values(["arrival", "group", "pile"], kind="stable").reset_index(drop=True)
    return out, warnings


def flex_initial(sc: Scenario, state: OpsState) -> tuple[np.ndarray | None, list[str]]:
    """Each flexible load's power before the start [kW]: the state's last executed power, clamped
    to the load's power band (off counts as 0 for minimum-on loads); NaN where the state does not
    know it, None when it knows none."""
    known = state.flex_power_kw
    if not known or not sc.flexible_loads:
        return None, []
    warnings: list[str] = []
    out = np.full(len(sc.flexible_loads), np.nan)
    for i, f in enumerate(sc.flexible_loads):
        if f.name not in known:
            continue
        lo, hi = band_kw(f)
        kw = known[f.name]
        out[i] = min(max(kw, lo), hi)
        if out[i] != kw:
            warnings.append(f"flexible load {f.name!r}: state power {kw:g} kW outside its band "
                            f"[{lo:g}, {hi:g}] kW; ramp counted from {out[i]:g} kW")
    return out, warnings


def month_floor(prof: Profiles, state: OpsState) -> tuple[np.ndarray, list[str]]:
    """Month-to-date peak per billing month of the horizon (zero for months not yet started)."""
    floor = np.zeros(len(prof.month_labels))
    mtd = state.month_to_date
    if mtd is None:
        return floor, []
    if mtd.month in prof.month_labels:
        floor[prof.month_labels.index(mtd.month)] = mtd.peak_import_kw
        return floor, []
    if mtd.month > prof.month_labels[-1]:
        return floor, [f"state month_to_date {mtd.month} lies after the horizon: ignored"]
    return floor, []  # an earlier month: its peak was billed, this month starts from zero


def _fuel_per_year(sc: Scenario) -> tuple[float, float]:
    f = sc.fuels
    co2 = (f.natural_gas_m3_per_year * KGCO2_PER_M3_GAS + f.coal_t_per_year * KGCO2_PER_T_COAL
           + f.heat_gj_per_year * KGCO2_PER_GJ_HEAT)
    kgce = (f.natural_gas_m3_per_year * KGCE_PER_M3_GAS + f.coal_t_per_year * KGCE_PER_T_COAL
            + f.heat_gj_per_year * KGCE_PER_GJ_HEAT)
    return co2, kgce


def pro_rata(sc: Scenario, state: OpsState, start: pd.Timestamp, hours: float,
             threshold_t_per_tce: float | None = None) -> ProRata:
    """The horizon's share of what the annual targets still need after the ledger.

    With ``R`` the hours from the start to the end of the ledger period and ``share = min(1,
    hours / R)``: the green-share row must in addition cover ``share × (s·C − G)`` of the
    year-to-date deficit; the emission-cap row gets ``share ×`` the remaining budget (cap minus
    emissions so far, fuels included); the indicator row must in addition absorb ``share ×`` the
    year-to-date excess of CO2 over threshold × tce (the threshold of the model's row when
    given). A surplus relaxes the horizon likewise.
    Without history (``ledger.through`` null) the ratio targets apply to the horizon alone and
    the cap pro rata by time.
    """
    warnings: list[str] = []
    tg, lg = sc.targets, state.ledger
    p_start, p_end = ledger_period(state, start)
    history = lg.through is not None
    if start >= p_end or start < p_start:
        warnings.append(f"schedule start {start} outside the ledger period {p_start} – {p_end}: "
                        "annual targets applied to the horizon alone (run 'zeropark ledger update')")
        p_start = pd.Timestamp(year=start.year, month=1, day=1)
        p_end, history = p_start + pd.DateOffset(years=1), False
    elif history:
        through = pd.Timestamp(lg.through)
        if through < start:
            warnings.append(f"ledger holds actuals up to {through}, {(start - through) / _HOUR:g} h "
                            "before the start: those hours are missing from the year-to-date")
        elif through > start:
            warnings.append(f"ledger holds actuals up to {through}, after the start {start}")
    remaining_h = (p_end - start) / _HOUR
    period_h = (p_end - p_start) / _HOUR
    share = min(1.0, hours / remaining_h)
    elapsed_h = max((pd.Timestamp(lg.through) - p_start) / _HOUR, 0.0) if history else 0.0
    co2_year, kgce_year = _fuel_per_year(sc)
    if history and elapsed_h > 0 and getattr(sc, "heat", None) is not None:
        warnings.append("heat: the fuel the heat units burned before the start is not in the "
                        "ledger (only fixed fuels are): the year-to-date CO2 and tce are low")
    fuel_co2 = co2_year * elapsed_h / HOURS_PER_YEAR
    fuel_kgce = kgce_year * elapsed_h / HOURS_PER_YEAR
    carry: dict[str, float] = {}
    info: dict[str, float | str | None] = {
        "period_start": p_start.isoformat(), "period_end": p_end.isoformat(),
        "through": lg.through if history else None, "share": share}
    if tg.green_share is not None and history:
        deficit = tg.green_share.value * lg.consumption_kwh - (lg.green_kwh
                                                               + 1000 * lg.certificates_mwh)
        carry[carbon.GREEN_SHARE] = -deficit * share
        info["green_deficit_kwh"] = deficit
    if tg.emission_cap is not None:
        cap_kg = tg.emission_cap.value_t * 1000
        if history:
            budget = (cap_kg - lg.emissions_kg - fuel_co2 + 1000 * lg.offsets_t) * share
        else:
            budget = cap_kg * min(1.0, hours / period_h)
        carry[carbon.EMISSION_CAP] = cap_kg - budget
        info["emission_budget_kg"] = budget
        if budget < 0:
            warnings.append(f"the emission cap of the period is already exceeded "
                            f"(horizon budget {budget / 1000:,.1f} t)")
    ind = tg.zero_carbon_indicator
    if ind is not None and history:
        ef_avg = lg.emissions_kg / lg.import_kwh if lg.import_kwh > 0 else 0.0
        co2 = lg.emissions_kg + fuel_co2
        if tg.accounting.offsets_in_indicator:
            co2 -= 1000 * lg.offsets_t
        if tg.green_counts_zero_emission:  # the ledger keeps totals: import-weighted factor
            co2 -= 1000 * lg.certificates_mwh * ef_avg
        thr = ind.threshold_t_per_tce if threshold_t_per_tce is None else threshold_t_per_tce
        allowed = thr * (kgce_per_kwh(sc) * lg.consumption_kwh + fuel_kgce)
        carry[carbon.INDICATOR] = (co2 - allowed) * share
        info["indicator_excess_kg"] = co2 - allowed
    return ProRata(share, carry, info, warnings)


#: Billing of steps coarser than 15 min in a schedule (``intra_step_peak``): ``average`` — the
#: step's mean import is its demand (the plan cannot see a quarter hour above it); ``scenario`` —
#: the scenario's own intra-step peak ratio applied to the forecast load (what a whole-period run
#: of the scenario bills). At 15-min steps both are the same.
INTRA_STEP_PEAK_RULES = ("average", "scenario")


def build_horizon(sc: Scenario, state: OpsState, *, start: str | pd.Timestamp, horizon_h: float,
                  step: str, forecast: str | pd.DataFrame | None = None,
                  time_limit_s: float | None = None,
                  intra_step_peak: str = "scenario") -> Horizon:
    """Everything one day-ahead optimisation needs.

    Parameters
    ----------
    sc : Scenario
    state : OpsState
    start : str or Timestamp
        First interval start, local standard time, on the step grid.
    horizon_h : float [h]
    step : {"15min", "30min", "1h"}
    forecast : path, DataFrame or None
        Forecast table (see :mod:`zeropark.operations.forecast`); a rejected forecast is reported
        in ``forecast_error`` (the caller publishes the fallback plan).
    time_limit_s : float [s], optional
        Overrides ``solver.time_limit_s``.
    intra_step_peak : {"average", "scenario"}, default "scenario"
        How steps coarser than 15 min are billed (:data:`INTRA_STEP_PEAK_RULES`): as their
        average, or with the scenario's intra-step peak ratio :math:`r_t` (the highest 15-min
        average of its own load over the step mean) applied to the forecast load, so the peak
        row reads P ≥ p_imp(t) + (r_t − 1) L_t.

    Raises
    ------
    ScenarioError
        Bad start, horizon or step; a state that does not match the scenario.
    """
    check_against(state, sc)
    if intra_step_peak not in INTRA_STEP_PEAK_RULES:
        raise ScenarioError("--intra-step-peak", intra_step_peak,
                            f"one of {list(INTRA_STEP_PEAK_RULES)}")
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise ScenarioError("--start", start, "an ISO datetime such as 2026-11-29T00:00") from None
    if ts.tzinfo is not None:
        raise ScenarioError("--start", start, "local standard time without a UTC offset")
    steps = horizon_steps(horizon_h, step)
    sc_h, warnings = horizon_scenario(sc, state, ts, steps, step, time_limit_s)
    if state.as_of is not None and pd.Timestamp(state.as_of) != ts:
        warnings.append(f"state is as of {state.as_of}, the schedule starts {ts.isoformat()}")
    # EV sessions are drawn once, below: build the other profiles without the pile groups
    prof = build.build_profiles(sc_h.replace({"ev.groups": []}) if sc_h.ev.groups else sc_h)
    sessions, ev_warn = horizon_sessions(sc_h, state, prof.time)
    floor, floor_warn = month_floor(prof, state)
    flex0, flex_warn = flex_initial(sc_h, state)
    # the real month is billed in full: its peak (from the month-to-date floor on) costs the
    # whole monthly demand charge, not the horizon's share of it. The month-to-date peak is the
    # metered one, so the schedule bills its own steps as they are (no modelled intra-step peak)
    keep = intra_step_peak == "scenario" and prof.peak_ratio is not None
    base = dataclasses.replace(prof, ev=build.ev_profiles(sc_h, prof.time, sessions),
                               peak_floor_kw=floor, month_fraction=np.ones(len(floor)),
                               peak_ratio=prof.peak_ratio if keep else None,
                               peak_ratio_source=(
                                   f"the scenario's intra-step peak ratio at {sc_h.dt_h:g} h "
                                   "steps (--intra-step-peak scenario)" if keep else
                                   f"schedule steps of {sc_h.dt_h:g} h billed as their average"))
    # DR baselines again, now with the EV sessions (uncontrolled charging is part of "no action")
    base = dataclasses.replace(base, dr_events=build.dr_profiles(sc_h, base))
    thr = (indicator_threshold(model_data(sc_h, base))[0]
           if sc_h.targets.zero_carbon_indicator is not None else None)  # the model row's
    pr = pro_rata(sc_h, state, ts, steps * sc_h.dt_h, thr)
    warnings += ev_warn + floor_warn + flex_warn + pr.warnings
    if sc_h.dt_h > 0.25 and prof.demand_charge_per_kw_month > 0 and not keep:
        warnings.append(f"the demand charge bills the highest 15-min average; {step} steps see "
                        "only their average, so the plan may exceed the month-to-date peak "
                        "within an hour (schedule at 15min to see it)")
    fc, error, prof_fc = None, None, base
    if forecast is not None:
        try:
            fc = read_forecast(forecast, prof.time, sc_h.dt_h, [a.name for a in sc_h.pv])
            fc = sanitize_forecast(sc_h, base, fc)
            check_plausible(sc_h, base, fc)
            prof_fc = apply_forecast(sc_h, base, fc)
            if keep:  # the scenario's intra-step shape, applied to the forecast load
                prof_fc = dataclasses.replace(prof_fc, peak_ratio=base.peak_ratio,
                                              peak_ratio_source=base.peak_ratio_source)
            warnings += correction_lines(fc)
        except ScenarioError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - any bad forecast means the fallback plan
            error = f"{type(err).__name__}: {err}"
    sto0 = np.array([state.storage[u.name].power_kw if u.name in state.storage
                     and state.storage[u.name].power_kw is not None else np.nan
                     for u in sc_h.storage])
    return Horizon(sc_h, base, prof_fc, sessions, floor, pr, fc, error, warnings, flex0,
                   sto0 if np.isfinite(sto0).any() else None)
