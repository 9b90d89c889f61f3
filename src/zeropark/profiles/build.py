"""Build every profile of a scenario: the one place where scenario fields meet the pure profile
functions (pvlib PV, synthetic or CSV loads, TOU tariffs, emission factors, EV envelopes, DR)."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.library import Library
from zeropark.profiles import csvio, ev, green, load, tariff
from zeropark.profiles.base import EvGroupProfile, Profiles
from zeropark.profiles.drbaseline import dr_profiles
from zeropark.scenario import GreenDirect, ProfileFile, Scenario
from zeropark.scenario.heat import LEVELS
from zeropark.scenario.resolve import library_for

_log = logging.getLogger(__name__)


def heat_demand_kw(sc: Scenario, time: pd.DatetimeIndex) -> np.ndarray:
    """Heat demand per level [kW thermal], shape (3, T) (see :mod:`zeropark.profiles.heat`)."""
    from zeropark.profiles.heat import csv_heat_kw, synthetic_heat_kw

    if sc.heat is None:  # no heat section: no heat demand
        return np.zeros((len(LEVELS), len(time)))
    dem = sc.heat.demand
    if dem.source == "csv":
        return csv_heat_kw(sc, time, lambda pf, field: _csv(sc, pf, time, field, "power"))
    return synthetic_heat_kw(time, park_type=dem.park_type or sc.loads.park_type,
                             annual_mwh=dem.annual_mwh, base_share=dem.base_share)


def _csv(sc: Scenario, pf: ProfileFile, time: pd.DatetimeIndex, field: str,
         kind: str, peak: list[np.ndarray | None] | None = None) -> np.ndarray:
    path = sc.resolve_path(pf.path, f"{field}.path")
    return csvio.read_series_csv(path, time, field=f"{field}.path", column=pf.column,
                                 dt_h=sc.dt_h, kind=kind, peak=peak)


def load_peak_ratio(sc: Scenario, time: pd.DatetimeIndex, load_kw: np.ndarray,
                    csv_peak: np.ndarray | None, demand_charge_per_kw_month: float,
                    month_fraction: np.ndarray, month_index: np.ndarray,
                    ) -> tuple[np.ndarray | None, str]:
    """Intra-step peak-to-mean ratio of the load and a sentence saying where it comes from.

    Billed demand is the highest 15-min average. At 15-min steps the steps show it (ratio None).
    At longer steps: from the load CSV when it is finer than the step; from the synthetic load's
    seeded quarter-hour variation; otherwise (a load CSV no finer than the step) the ratio is
    unknown, and a warning gives the likely under-billing: the billing rules'
    ``hourly_peak_ratio_assumed`` − 1 times the demand charge on each month's peak load, pro rata
    (:math:`(\\rho - 1) \\sum_m f_m c^{dem} \\max_{t \\in m} L_t`).
    """
    if sc.dt_h <= 0.25:
        return None, "15-min steps: the highest step is the billed demand"
    if csv_peak is not None:
        return csv_peak, ("step import + the load's rise to its highest quarter-hour, "
                          "from the sub-hourly load CSV")
    if sc.loads.source == "synthetic":
        return (load.synthetic_peak_ratio(time, park_type=sc.loads.park_type,
                                          seed=sc.loads.seed, dt_h=sc.dt_h),
                "step import + the load's rise to its highest quarter-hour, from the synthetic "
                "quarter-hour load")
    if demand_charge_per_kw_month <= 0 or sc.grid.billing == "capacity":
        return None, "no demand charge: intra-hour peaks not needed"
    from zeropark.model.grid import billing_rules

    rho = billing_rules(sc).hourly_peak_ratio_assumed
    peaks = np.zeros(len(month_fraction))
    np.maximum.at(peaks, month_index, load_kw)
    err = (rho - 1.0) * demand_charge_per_kw_month * float((month_fraction * peaks).sum())
    note = (f"load data no finer than the {sc.dt_h:g} h step cannot show the billed demand "
            f"(highest 15-min average): at an assumed 15-min peak {rho - 1:.0%} above the step "
            f"mean (billing:{sc.grid.billing_rules}.hourly_peak_ratio_assumed) the demand charge "
            f"is under-billed by about {err:,.0f} {sc.currency}; give 15-min load data")
    warnings.warn(f"loads: {note}", UserWarning, stacklevel=2)
    return None, note


def weather_frame(sc: Scenario, lib: Library, time: pd.DatetimeIndex) -> pd.DataFrame | None:
    """Irradiance and temperature for the horizon (None when no PV needs it)."""
    from zeropark.profiles import solar, weatherfile  # pvlib: imported where PV is computed

    w = sc.weather
    if w is None:
        return None
    site = sc.site
    if w.source == "file":
        assert w.path is not None  # the schema requires a path for source file
        path = sc.resolve_path(w.path, "weather.path")
        return weatherfile.read_weather_file(path, fmt=w.format, time=time,
                                       utc_offset_h=sc.utc_offset_h, field="weather.path")
    c = w.clearness
    assert c is not None  # the schema requires a clearness block for source clearsky
    kt, temp = c.monthly_clearness, c.monthly_temp_air_c
    if c.preset is not None:
        preset = lib.get("climate", c.preset, "weather.clearness.preset")
        kt = kt or preset["monthly_clearness"]
        temp = temp or preset.get("monthly_temp_air_c")
    assert kt is not None  # the schema requires a preset or monthly_clearness
    return solar.clearsky_weather(
        time, latitude=site.latitude, longitude=site.longitude, altitude_m=site.altitude_m,
        utc_offset_h=sc.utc_offset_h, monthly_clearness=kt, seed=c.seed,
        variability=c.variability, monthly_temp_air_c=temp, field="weather.clearness")


def pv_profiles(sc: Scenario, time: pd.DatetimeIndex, wx: pd.DataFrame | None) -> np.ndarray:
    """Available power of each array [kW], shape (n_arrays, T)."""
    from zeropark.profiles import solar

    out = np.zeros((len(sc.pv), len(time)))
    for i, a in enumerate(sc.pv):
        if a.profile is not None:
            values = _csv(sc, a.profile, time, f"pv.{i}.profile", "power")
            out[i] = values * (a.capacity_kw if a.profile.unit == "kw_per_kwp" else 1.0)
            continue
        if a.capacity_kw == 0:
            continue  # an array of 0 kWp (e.g. a sweep's lower end) produces nothing
        assert wx is not None  # the schema requires weather for an array without a profile
        out[i] = solar.pv_ac_power_kw(
            time, wx, latitude=sc.site.latitude, longitude=sc.site.longitude,
            altitude_m=sc.site.altitude_m, utc_offset_h=sc.utc_offset_h,
            capacity_kw=a.capacity_kw, ac_limit_kw=a.ac_limit_kw, tilt_deg=a.tilt_deg,
            azimuth_deg=a.azimuth_deg, losses_pct=a.losses_pct,
            temperature_model=a.temperature_model, gamma_pdc_per_c=a.gamma_pdc_per_c,
            inverter_efficiency=a.inverter_efficiency, dc_output=a.dc_coupled, field=f"pv.{i}")
    return out


def _green_direct(sc: Scenario, g: GreenDirect, time: pd.DatetimeIndex,
                  wx: pd.DataFrame | None) -> np.ndarray:
    if g.shape == "flat":
        return np.full(len(time), g.capacity_kw)
    if g.shape == "wind":
        return g.capacity_kw * green.synthetic_wind_cf(time, seed=g.seed, dt_h=sc.dt_h)
    if g.shape == "file":
        assert g.profile is not None  # the schema requires a profile for shape file
        values = _csv(sc, g.profile, time, "green_power.direct.profile", "power")
        return values * (g.capacity_kw if g.profile.unit == "kw_per_kwp" else 1.0)
    assert wx is not None  # the schema requires weather for shape solar
    from zeropark.profiles import solar

    lat = sc.site.latitude
    return solar.pv_ac_power_kw(
        time, wx, latitude=lat, longitude=sc.site.longitude, altitude_m=sc.site.altitude_m,
        utc_offset_h=sc.utc_offset_h, capacity_kw=g.capacity_kw * 1.2,
        ac_limit_kw=g.capacity_kw, tilt_deg=min(abs(lat), 40.0),
        azimuth_deg=180.0 if lat >= 0 else 0.0, field="green_power.direct")


def ev_specs(sc: Scenario) -> list[ev.EvGroupSpec]:
    """Pile-group specs for the EV profile functions."""
    return [
        ev.EvGroupSpec(
            name=g.name, count=g.count, power_kw=g.power_kw, efficiency=g.efficiency,
            sessions_per_pile_per_day=g.sessions_per_pile_per_day,
            arrival_mean_h=g.arrival_mean_h, arrival_std_h=g.arrival_std_h,
            dwell_mean_h=g.dwell_mean_h, dwell_std_h=g.dwell_std_h,
            energy_mean_kwh=g.energy_mean_kwh, energy_std_kwh=g.energy_std_kwh,
            weekend_factor=g.weekend_factor)
        for g in sc.ev.groups
    ]


def ev_sessions(sc: Scenario, time: pd.DatetimeIndex) -> pd.DataFrame:
    """The horizon's charging sessions (synthetic or from CSV)."""
    specs = ev_specs(sc)
    if sc.ev.sessions.source == "csv":
        assert sc.ev.sessions.path is not None  # the schema requires a path for source csv
        path = sc.resolve_path(sc.ev.sessions.path, "ev.sessions.path")
        return ev.read_sessions_csv(path, {g.name: g.count for g in specs},
                                    field="ev.sessions.path")
    return ev.synthetic_sessions(time, specs, seed=sc.ev.sessions.seed, field="ev")  # adds .groups.i


def ev_profiles(sc: Scenario, time: pd.DatetimeIndex,
                sessions: pd.DataFrame | None = None) -> dict[str, EvGroupProfile]:
    """Envelope of each pile group."""
    if not sc.ev.groups:
        return {}
    sessions = ev_sessions(sc, time) if sessions is None else sessions
    specs = {s.name: s for s in ev_specs(sc)}
    env = ev.ev_envelopes(sessions, time, sc.dt_h, list(specs.values()))
    _check_undeliverable(sc, sessions, time, env)
    return {
        name: EvGroupProfile(e.e_lo_kwh, e.e_hi_kwh, e.p_max_kw, float(e.requested_kwh),
                             sessions[sessions["group"] == name].reset_index(drop=True),
                             specs[name], e.undeliverable_kwh, e.n_undeliverable)
        for name, e in env.items()
    }


def _check_undeliverable(sc: Scenario, sessions: pd.DataFrame, time: pd.DatetimeIndex,
                         env: dict[str, ev.EvEnvelope]) -> None:
    """Refuse (``ev.infeasible_sessions: error``) or warn about sessions of the horizon that ask
    more than their pile and car can deliver during the stay (their excess is counted unmet)."""
    if not any(e.n_undeliverable for e in env.values()):
        return
    if sc.ev.infeasible_sessions == "error":
        end = time[-1] + pd.Timedelta(hours=sc.dt_h)
        bad = ev.undeliverable_sessions(sessions, ev_specs(sc))
        bad = bad[(bad["departure"] > time[0]) & (bad["departure"] <= end)]
        i, first = int(bad.index[0]), bad.iloc[0]
        shown = (f"row {i + 1}: group {first['group']!r} arriving {first['arrival']} asks "
                 f"{first['requested_grid_kwh']:.3f} kWh, at most "
                 f"{first['deliverable_grid_kwh']:.3f} kWh fit the stay")
        field = "ev.sessions.path" if sc.ev.sessions.source == "csv" else "ev.sessions"
        raise ScenarioError(field, shown,
                            "sessions whose energy the pile and car can deliver while plugged in "
                            "(grid side), or ev.infeasible_sessions: report")
    for name, e in env.items():
        if e.n_undeliverable:
            _log.warning(
                "EV group %r: %d session(s) ask %.3f kWh (grid side) more than their pile and "
                "car can deliver while plugged in; counted as unmet (ev.infeasible_sessions: "
                "error refuses them)", name, e.n_undeliverable, e.undeliverable_kwh)


class SolarParts(NamedTuple):
    """The profiles that need pvlib: weather, PV availability, direct green supply."""

    weather: pd.DataFrame | None
    pv_avail_kw: np.ndarray
    green_direct_kw: np.ndarray | None


def solar_parts(sc: Scenario, lib: Library | None = None,
                time: pd.DatetimeIndex | None = None) -> SolarParts:
    """The weather of the scenario's horizon and what is computed from it (pvlib); ``lib`` and
    ``time`` when the caller already has the scenario's library and time index."""
    time = sc.time_index() if time is None else time
    wx = weather_frame(sc, library_for(sc) if lib is None else lib, time)
    direct = sc.green_power.direct
    gd = _green_direct(sc, direct, time, wx) if direct is not None else None
    return SolarParts(wx, pv_profiles(sc, time, wx), gd)


def build_profiles(sc: Scenario,
                   solar_from: Callable[[], SolarParts | None] | None = None) -> Profiles:
    """All profiles of a scenario on its time index.

    ``solar_from``, if given, is asked for the pvlib part (:func:`solar_parts`) once every other
    profile is built (:class:`zeropark.profiles.forked.SolarJob` computes it in a second
    process meanwhile); when it answers None, that part is computed here.
    """
    lib = library_for(sc)
    time = sc.time_index()
    dt = sc.dt_h
    csv_peak: list[np.ndarray | None] = []
    if sc.loads.source == "csv":
        assert sc.loads.path is not None  # the schema requires a path for source csv
        pf = ProfileFile(path=sc.loads.path, column=sc.loads.column)
        load_kw = _csv(sc, pf, time, "loads", "power", peak=csv_peak)
    else:
        assert sc.loads.peak_kw is not None  # the schema requires peak_kw for source synthetic
        load_kw = load.synthetic_load_kw(time, park_type=sc.loads.park_type,
                                         peak_kw=sc.loads.peak_kw, seed=sc.loads.seed, dt_h=dt,
                                         field="loads")
    load_kw = load_kw * sc.loads.scale
    g = sc.grid
    demand_charge = g.demand_charge_per_kw_month
    capacity_charge = g.capacity_charge_per_kva_month
    if g.tariff is not None:
        tar = lib.tariff(g.tariff, "grid.tariff")
        price = tariff.tou_price_per_kwh(time, tar, field="grid.tariff")
        if demand_charge is None:
            demand_charge = tar.demand_charge_per_kw_month or 0.0
        if capacity_charge is None:
            capacity_charge = tar.capacity_charge_per_kva_month or 0.0
    else:
        assert g.price_file is not None  # the schema requires a tariff or a price_file
        price = _csv(sc, g.price_file, time, "grid.price_file", "price")
    export = (np.full(len(time), g.export_price_per_kwh) if g.export_price_file is None
              else _csv(sc, g.export_price_file, time, "grid.export_price_file", "price"))
    if g.emission_factor is not None:
        ef_entry = lib.get("emission_factors", g.emission_factor, "grid.emission_factor")
        ef = np.full(len(time), float(ef_entry["value_kg_per_kwh"]))
    else:
        assert g.emission_factor_file is not None  # the schema requires a factor or a file
        ef = _csv(sc, g.emission_factor_file, time, "grid.emission_factor_file", "factor")
    month_index, month_labels = tariff.billing_month_index(time)
    month_fraction = tariff.billing_month_fraction(time, dt)
    demand_charge = float(demand_charge or 0.0) if g.billing != "capacity" else 0.0
    ratio, ratio_source = load_peak_ratio(sc, time, load_kw, csv_peak[0] if csv_peak else None,
                                          demand_charge, month_fraction, month_index)
    ev_groups = ev_profiles(sc, time)
    heat_kw = None if sc.heat is None else heat_demand_kw(sc, time)
    parts = solar_from() if solar_from is not None else None
    wx, pv_kw, gd = parts if parts is not None else solar_parts(sc, lib, time)
    prof = Profiles(
        time=time, dt_h=dt, load_kw=np.asarray(load_kw, float),
        pv_avail_kw=pv_kw, import_price_per_kwh=np.asarray(price, float),
        export_price_per_kwh=np.asarray(export, float), ef_kg_per_kwh=np.asarray(ef, float),
        month_index=np.asarray(month_index, int), month_labels=list(month_labels),
        green_direct_kw=gd, ev=ev_groups,
        demand_charge_per_kw_month=demand_charge,
        capacity_charge_per_month=(float(capacity_charge or 0.0) * (g.transformer_kva or 0.0)
                                   if g.billing in ("capacity", "choose") else 0.0),
        month_fraction=month_fraction, peak_ratio=ratio, peak_ratio_source=ratio_source,
        heat_demand_kw=heat_kw,
        temp_air_c=None if wx is None else np.asarray(wx["temp_air"], float),
    )
    return dataclasses.replace(prof, dr_events=dr_profiles(sc, prof))


def _dr_lookback_steps(sc: Scenario, time: pd.DatetimeIndex) -> int:
    """Steps before a window that its DR baselines read (their similar-day lookback), 0 when
    no event inside the window takes its baseline from the scenario's own net import."""
    dr = sc.demand_response
    if dr.baseline.history is not None:
        return 0
    days = set(time.normalize())
    needs = any(e.baseline_kw is None and pd.Timestamp(e.date).normalize() in days
                for e in dr.events)
    if not needs:
        return 0
    return int(round((dr.baseline.lookback_days + 1) * 24 / sc.dt_h))


def build_window_profiles(sc: Scenario, start: int, stop: int) -> Profiles:
    """Profiles of steps ``start:stop`` of the scenario, built for that window only.

    Every profile of a date is the same in any window (load and wind per calendar year, weather
    per calendar day, EV sessions per day from 1 January), so this equals
    ``build_profiles(sc).window(start, stop)`` at a fraction of the time and memory. DR events
    whose baseline is the similar-day mean of the scenario's own net import need the days before
    them: the window is then built from ``lookback_days + 1`` days earlier and cut.

    Parameters
    ----------
    sc : Scenario
    start, stop : int
        Step positions in the scenario's time index, ``0 <= start < stop``.
    """
    time = sc.time_index()
    stop = min(stop, len(time))
    first = max(0, start - _dr_lookback_steps(sc, time[start:stop]))
    if first == 0 and stop == len(time):
        return build_profiles(sc).window(start, stop)
    sub = sc.replace({"time": {"start": time[first].isoformat(), "steps": stop - first,
                               "step": sc.time.step}})
    return build_profiles(sub).window(start - first, stop - first)
