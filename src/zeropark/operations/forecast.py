"""Forecasts for a schedule horizon: read, align, check plausibility, and lay over the profiles.

A forecast is a CSV (or a DataFrame) with a ``time`` column (interval start, local standard time)
and any of the columns in :data:`FORECAST_COLUMNS`; a column that is absent keeps the scenario's
own profile. PV is given as power (``pv_kw`` for the whole park, split over the arrays in
proportion to the scenario's own availability, or ``pv_kw[<array>]`` per array), or as
irradiance (``ghi`` and optionally ``dni``, ``dhi``, ``temp_air``, ``wind_speed``) run through
the scenario's pvlib chain. Steps equal to, coarser than (held) or finer than (averaged) the
schedule step are accepted. A forecast that cannot be read or fails a plausibility check raises
:class:`~zeropark.errors.ScenarioError` naming ``forecast.<column>``; the schedule then publishes
the rule-based fallback plan. Before the plausibility check, :func:`sanitize_forecast` applies the
documented correction rules (:data:`SANITY_RULES`): small negative PV/irradiance clipped to 0, PV
between its AC limit and 105 % of its rating clipped to the AC limit; negative load, a load that
looks like MW, and larger errors are refused. Every correction is listed in the schedule's
``metadata.forecast_corrections``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from zeropark.errors import ScenarioError
from zeropark.profiles import build
from zeropark.profiles.base import Profiles
from zeropark.profiles.csvio import parse_number_column, parse_time_column, read_table_csv
from zeropark.scenario import Scenario
from zeropark.scenario.resolve import library_for

#: Known columns and their kind ("power" ≥ 0, "price" any sign, "factor" ≥ 0, "weather").
FORECAST_COLUMNS: dict[str, str] = {
    "load_kw": "power",
    "pv_kw": "power",
    "green_direct_kw": "power",
    "import_price_per_kwh": "price",
    "export_price_per_kwh": "price",
    "ef_kg_per_kwh": "factor",
    "ghi": "power",
    "dni": "power",
    "dhi": "power",
    "temp_air": "weather",
    "wind_speed": "power",
}
_IRRADIANCE = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
MAX_EF_KG_PER_KWH = 3.0  # above any grid (lignite ≈ 1.2); catches g/kWh entered as kg/kWh
MAX_GHI_W_PER_M2 = 1500.0  # above the solar constant at ground level
PRICE_FACTOR = 10.0  # a forecast price beyond 10× the tariff's largest |price| is a unit error
#: Negative PV down to this fraction of the rating is clipped to 0 (assumption: inverter standby
#: draw and meter offsets at night are well below 2 % of the rating); below it, refused.
PV_NEGATIVE_TOLERANCE = 0.02
#: Negative irradiance down to this value [W/m²] is clipped to 0 (assumption: pyranometer
#: night offsets are a few W/m²); below it, refused.
IRRADIANCE_NEGATIVE_TOLERANCE_W_PER_M2 = 10.0
#: A forecast load whose horizon maximum is below this fraction of the scenario's own load
#: maximum over the same horizon is refused as a unit error (MW entered as kW is 0.1 %).
LOAD_MAGNITUDE_MIN_RATIO = 0.01
#: PV above the AC limit but within this factor of the rating is clipped to the AC limit.
PV_RATING_FACTOR = 1.05

#: The correction rule per case (documented in docs/operations.md, "Forecast sanity").
SANITY_RULES: dict[str, str] = {
    "non_finite": "refused: NaN, empty or infinite value in any column",
    "negative_load": "refused: load_kw < 0 (a sign or net-metering error)",
    "negative_pv": "clipped to 0 if ≥ −2 % of the rating, refused below",
    "negative_irradiance": "clipped to 0 if ≥ −10 W/m², refused below",
    "negative_other": "refused: green_direct_kw, wind_speed, ef_kg_per_kwh < 0",
    "pv_above_ac_limit": "clipped to the AC limit (the inverter clips) up to 105 % of the "
                         "rating, refused above",
    "load_magnitude": "refused: horizon maximum below 1 % of the scenario's own load maximum "
                      "(MW instead of kW)",
}


@dataclass(frozen=True)
class Forecast:
    """Forecast values aligned with a horizon.

    Attributes
    ----------
    source : str
        File path, or ``"(dataframe)"``.
    values : dict of str to numpy.ndarray
        One array per column present, one value per horizon step (units of the column name).
    digest : str
        SHA-256 (16 hex digits) of the aligned values as read (before corrections), for the
        schedule metadata.
    corrections : tuple of dict
        Corrections applied by :func:`sanitize_forecast` (``column``, ``rule``, ``action``,
        ``steps``, ``first``, ``worst_value``, ``limit``, ``max_change``).
    """

    source: str
    values: dict[str, np.ndarray]
    digest: str
    corrections: tuple[dict[str, Any], ...] = ()

    @property
    def columns(self) -> list[str]:
        return sorted(self.values)


def _align(stamps_ns: np.ndarray, values: np.ndarray, time: pd.DatetimeIndex, dt_h: float,
           field: str) -> np.ndarray:
    """Values on the horizon steps: exact, held from coarser rows, or averaged from finer ones."""
    hor = time.values.astype("datetime64[ns]").astype(np.int64)
    dt_ns = int(round(dt_h * 3600e9))
    step_ns = int(np.diff(stamps_ns).min()) if len(stamps_ns) > 1 else dt_ns
    n = len(stamps_ns)
    if step_ns >= dt_ns:
        j = np.searchsorted(stamps_ns, hor, side="right") - 1
        jc = np.clip(j, 0, n - 1)
        ok = (j >= 0) & (hor + dt_ns <= stamps_ns[jc] + max(step_ns, dt_ns))
        if step_ns == dt_ns:
            ok &= stamps_ns[jc] == hor
        out = values[jc]
    else:
        per = dt_ns / step_ns
        if abs(per - round(per)) > 1e-9:
            raise ScenarioError(field, f"step {step_ns / 3.6e12:g} h",
                                f"a step dividing the schedule step {dt_h:g} h")
        lo = np.searchsorted(stamps_ns, hor, side="left")
        hi = np.searchsorted(stamps_ns, hor + dt_ns, side="left")
        ok = (lo < n) & (stamps_ns[np.minimum(lo, n - 1)] == hor) & (hi - lo == round(per))
        csum = np.concatenate([[0.0], np.cumsum(values)])
        out = (csum[np.minimum(hi, n)] - csum[np.minimum(lo, n)]) / round(per)
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        raise ScenarioError(field, f"no value for the step at {time[first]}",
                            f"rows covering the horizon {time[0]} – "
                            f"{time[-1] + pd.Timedelta(hours=dt_h)} without gaps")
    return np.asarray(out, float)


def _known(column: str, arrays: list[str]) -> bool:
    if column in FORECAST_COLUMNS:
        return True
    return column.startswith("pv_kw[") and column.endswith("]") and column[6:-1] in arrays


def read_forecast(src: str | Path | pd.DataFrame, time: pd.DatetimeIndex, dt_h: float,
                  pv_arrays: list[str], *, field: str = "forecast") -> Forecast:
    """Read a forecast table and align every column with the horizon.

    Parameters
    ----------
    src : str, Path or pandas.DataFrame
        CSV file, or a table with a ``time`` column (or a DatetimeIndex named anything).
    time : pandas.DatetimeIndex
        Horizon step starts (tz-naive, local standard time).
    dt_h : float [h]
        Schedule step.
    pv_arrays : list of str
        PV array names of the scenario (for ``pv_kw[<array>]`` columns).
    field : str
        Prefix of the field path in errors.

    Returns
    -------
    Forecast

    Raises
    ------
    ScenarioError
        Unreadable file, unknown column, bad or missing timestamps, gaps, NaN or negative values.
    """
    if isinstance(src, pd.DataFrame):
        df = src.reset_index() if "time" not in src.columns else src.reset_index(drop=True)
        if "time" not in df.columns:
            df = df.rename(columns={df.columns[0]: "time"})
        source = "(dataframe)"
    else:
        df = read_table_csv(src, field=field, required=["time"])
        source = str(src)
    stamps = parse_time_column(df["time"], field=f"{field}.time", column="time")
    ns = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)
    if len(ns) > 1 and (np.diff(ns) <= 0).any():
        i = int(np.flatnonzero(np.diff(ns) <= 0)[0]) + 1
        raise ScenarioError(f"{field}.time", f"row {i + 1}: {stamps[i]}",
                            "strictly increasing timestamps")
    values: dict[str, np.ndarray] = {}
    for column in df.columns:
        if column == "time":
            continue
        if not _known(str(column), pv_arrays):
            allowed = sorted(FORECAST_COLUMNS) + [f"pv_kw[{a}]" for a in pv_arrays]
            raise ScenarioError(f"{field}.{column}", column, f"one of the columns {allowed}")
        # negative values are judged by sanitize_forecast (clipped or refused by rule)
        raw = parse_number_column(df[column], field=f"{field}.{column}", column=str(column),
                                  allow_negative=True, stamps=stamps)
        values[str(column)] = _align(ns, raw.astype(float), time, dt_h, f"{field}.{column}")
    if "pv_kw" in values and any(c.startswith("pv_kw[") for c in values):
        raise ScenarioError(f"{field}.pv_kw", "pv_kw and pv_kw[<array>]",
                            "either the park total or per-array columns, not both")
    if any(c in values for c in ("dni", "dhi", "temp_air", "wind_speed")) and "ghi" not in values:
        raise ScenarioError(f"{field}.ghi", "missing", "a 'ghi' column with the other irradiance "
                            "columns")
    if "ghi" in values and ("pv_kw" in values or any(c.startswith("pv_kw[") for c in values)):
        raise ScenarioError(f"{field}.ghi", "ghi and pv_kw", "PV as power or as irradiance, "
                            "not both")
    digest = hashlib.sha256()
    for key in sorted(values):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(values[key]).tobytes())
    return Forecast(source, values, digest.hexdigest()[:16])


def _weather(sc: Scenario, time: pd.DatetimeIndex, dt_h: float,
             v: dict[str, np.ndarray]) -> pd.DataFrame:
    """Weather frame from forecast irradiance; DNI/DHI by the Erbs split when absent, temperature
    and wind from the scenario's weather (or 20 °C, 2 m/s) when absent."""
    ghi = v["ghi"]
    frame = pd.DataFrame({"ghi": ghi}, index=time)
    if "dni" not in v or "dhi" not in v:
        tz = datetime.timezone(datetime.timedelta(hours=sc.utc_offset_h))
        mid = (time + pd.Timedelta(hours=dt_h / 2)).tz_localize(tz)
        pos = pvlib.solarposition.get_solarposition(mid, sc.site.latitude, sc.site.longitude,
                                                    sc.site.altitude_m)
        split = pvlib.irradiance.erbs(pd.Series(ghi, index=mid), pos["zenith"], mid)
        frame["dni"] = np.nan_to_num(np.asarray(split["dni"], float))
        frame["dhi"] = np.nan_to_num(np.asarray(split["dhi"], float))
    for key in ("dni", "dhi", "temp_air", "wind_speed"):
        if key in v:
            frame[key] = v[key]
    if "temp_air" not in frame or "wind_speed" not in frame:
        base = (build.weather_frame(sc, library_for(sc), time) if sc.weather is not None
                else None)
        for key, default in (("temp_air", 20.0), ("wind_speed", 2.0)):
            if key not in frame:
                frame[key] = base[key].to_numpy() if base is not None else default
    return frame[list(_IRRADIANCE)]


def _pv_limits(sc: Scenario) -> dict[str, tuple[float, float]]:
    """Per PV column: (clip limit = AC limit or capacity, refusal limit = 105 % of the rating)."""
    out = {f"pv_kw[{a.name}]": (a.ac_limit_kw or a.capacity_kw,
                                PV_RATING_FACTOR * max(a.ac_limit_kw or 0.0, a.capacity_kw))
           for a in sc.pv}
    out["pv_kw"] = (sum(v[0] for v in out.values()), sum(v[1] for v in out.values()))
    return out


def sanitize_forecast(sc: Scenario, prof: Profiles, fc: Forecast) -> Forecast:
    """Apply the forecast sanity rules (:data:`SANITY_RULES`): clip what is safe, refuse the rest.

    Rules, per column (the first offending step is named in a refusal):

    - ``load_kw`` < 0 → refused; horizon maximum < 1 % of the scenario's own load maximum over
      the same horizon (``LOAD_MAGNITUDE_MIN_RATIO``) → refused (MW entered as kW gives 0.1 %).
    - ``pv_kw``, ``pv_kw[<array>]``: −2 % of the rating ≤ value < 0 → clipped to 0; below →
      refused. AC limit < value ≤ 105 % of max(AC limit, capacity) → clipped to the AC limit (the
      inverter clips; a forecast of DC power); above → refused (by :func:`check_plausible`).
    - ``ghi``, ``dni``, ``dhi``: −10 W/m² ≤ value < 0 → clipped to 0; below → refused.
    - ``green_direct_kw``, ``wind_speed``, ``ef_kg_per_kwh`` < 0 → refused.
    - NaN, empty or infinite values were already refused by :func:`read_forecast`.

    Parameters
    ----------
    sc : Scenario
        The horizon's scenario (PV ratings).
    prof : Profiles
        The scenario's own profiles of the horizon (load maximum for the magnitude rule).
    fc : Forecast
        As read.

    Returns
    -------
    Forecast
        Values after clipping, with ``corrections`` listing each rule applied (column, rule,
        action, number of steps, first step, worst value, limit, largest change).

    Raises
    ------
    ScenarioError
        ``forecast.<column>``: value and time of the first step that breaks a refusal rule.
    """
    v = {k: a.copy() for k, a in fc.values.items()}
    fixes: list[dict[str, Any]] = []

    def refuse(column: str, mask: np.ndarray, allowed: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise ScenarioError(f"forecast.{column}", f"{v[column][i]:g} at {prof.time[i]}",
                                allowed)

    def clip(column: str, mask: np.ndarray, to: float, rule: str) -> None:
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        worst = int(idx[np.argmax(np.abs(v[column][idx] - to))])
        fixes.append({"column": column, "rule": rule, "action": "clipped",
                      "steps": int(mask.sum()), "first": str(prof.time[idx[0]].isoformat()),
                      "worst_value": float(v[column][worst]), "limit": float(to),
                      "max_change": float(abs(v[column][worst] - to))})
        v[column][mask] = to

    if "load_kw" in v:
        refuse("load_kw", v["load_kw"] < 0, "≥ 0 kW (a negative load is a sign or "
               "net-metering error)")
        own = float(prof.load_kw.max(initial=0.0))
        peak = float(v["load_kw"].max(initial=0.0))
        if own > 0 and peak < LOAD_MAGNITUDE_MIN_RATIO * own:
            raise ScenarioError("forecast.load_kw", f"horizon maximum {peak:g} kW",
                                f"≥ {LOAD_MAGNITUDE_MIN_RATIO * own:g} kW (1 % of the scenario's "
                                f"own maximum {own:g} kW over the horizon; MW instead of kW?)")
    for column, (ac, _) in _pv_limits(sc).items():
        if column not in v:
            continue
        tol = PV_NEGATIVE_TOLERANCE * ac
        refuse(column, v[column] < -tol, f"≥ {-tol:g} kW (−2 % of the rating; smaller "
               "negatives are clipped to 0)")
        clip(column, v[column] < 0, 0.0, "negative_pv")
        # above 105 % of the rating stays for check_plausible to refuse
        limit = _pv_limits(sc)[column][1]
        clip(column, (v[column] > ac + 1e-9) & (v[column] <= limit + 1e-9), ac,
             "pv_above_ac_limit")
    for column in ("ghi", "dni", "dhi"):
        if column in v:
            tol = IRRADIANCE_NEGATIVE_TOLERANCE_W_PER_M2
            refuse(column, v[column] < -tol, f"≥ {-tol:g} W/m² (smaller negatives are clipped "
                   "to 0)")
            clip(column, v[column] < 0, 0.0, "negative_irradiance")
    for column in ("green_direct_kw", "wind_speed", "ef_kg_per_kwh"):
        if column in v:
            refuse(column, v[column] < 0, "≥ 0")
    return dataclasses.replace(fc, values=v, corrections=tuple(fixes))


def correction_lines(fc: Forecast) -> list[str]:
    """One warning line per correction of :func:`sanitize_forecast`."""
    return [f"forecast.{c['column']}: {c['steps']} step(s) clipped to {c['limit']:g} "
            f"({c['rule']}; first {c['first']}, worst {c['worst_value']:g}, largest change "
            f"{c['max_change']:g})" for c in fc.corrections]


def check_plausible(sc: Scenario, prof: Profiles, fc: Forecast) -> None:
    """Reject forecasts no park could have: raises ScenarioError naming ``forecast.<column>``.

    Checks: load within what the grid connection and every on-site source together can supply;
    PV within 105 % of each array's rating; prices within ±10× the tariff's largest price;
    emission factors ≤ 3 kg/kWh; GHI ≤ 1500 W/m²; air temperature within −60…70 °C.
    """
    v = fc.values

    def bad(column: str, mask: np.ndarray, shown: np.ndarray, allowed: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise ScenarioError(f"forecast.{column}", f"{shown[i]:g} at {prof.time[i]}", allowed)

    if "load_kw" in v:
        supply = (sc.grid.import_limit_kw + sum(a.ac_limit_kw or a.capacity_kw for a in sc.pv)
                  + sum(u.power_kw for u in sc.storage)
                  + (sc.green_power.direct.capacity_kw if sc.green_power.direct else 0.0))
        bad("load_kw", v["load_kw"] > supply, v["load_kw"],
            f"≤ {supply:g} kW (import limit plus every on-site source)")
    ratings = {a.name: 1.05 * max(a.ac_limit_kw or 0.0, a.capacity_kw) for a in sc.pv}
    for name, rating in ratings.items():
        col = f"pv_kw[{name}]"
        if col in v:
            bad(col, v[col] > rating + 1e-9, v[col], f"≤ {rating:g} kW (105 % of the rating)")
    if "pv_kw" in v:
        total = sum(ratings.values())
        bad("pv_kw", v["pv_kw"] > total + 1e-9, v["pv_kw"], f"≤ {total:g} kW (105 % of the "
            "park's PV rating)")
    scale = PRICE_FACTOR * max(1.0, float(np.abs(prof.import_price_per_kwh).max(initial=0.0)))
    for col in ("import_price_per_kwh", "export_price_per_kwh"):
        if col in v:
            bad(col, np.abs(v[col]) > scale, v[col],
                f"|price| ≤ {scale:g} {sc.currency}/kWh (10× the tariff; per kWh, not MWh?)")
    if "ef_kg_per_kwh" in v:
        bad("ef_kg_per_kwh", v["ef_kg_per_kwh"] > MAX_EF_KG_PER_KWH, v["ef_kg_per_kwh"],
            f"≤ {MAX_EF_KG_PER_KWH:g} kgCO2/kWh (kg, not g)")
    if "ghi" in v:
        bad("ghi", v["ghi"] > MAX_GHI_W_PER_M2, v["ghi"], f"≤ {MAX_GHI_W_PER_M2:g} W/m²")
    if "temp_air" in v:
        t = v["temp_air"]
        bad("temp_air", (t < -60) | (t > 70), t, "−60…70 °C")


def apply_forecast(sc: Scenario, prof: Profiles, fc: Forecast) -> Profiles:
    """Profiles with the forecast's columns laid over the scenario's own.

    DR baselines left to the scenario (``baseline_kw: null``) are recomputed by the scenario's
    baseline rule from the forecast profiles (net import without action; see
    :mod:`zeropark.profiles.drbaseline`) — data, never the plan's own decisions.
    """
    v = fc.values
    T = prof.n_steps
    changes: dict[str, Any] = {}
    if "load_kw" in v:
        changes["load_kw"] = v["load_kw"].copy()
        # the scenario's intra-step peak ratio belongs to its own load, not to the forecast's
        changes["peak_ratio"] = None
        changes["peak_ratio_source"] = (f"forecast load at {prof.dt_h:g} h steps: billed as "
                                        "the step average (schedule at 15 min to see the "
                                        "15-min peak)")
    for key, attr in (("import_price_per_kwh", "import_price_per_kwh"),
                      ("export_price_per_kwh", "export_price_per_kwh"),
                      ("ef_kg_per_kwh", "ef_kg_per_kwh")):
        if key in v:
            changes[attr] = v[key].copy()
    if "green_direct_kw" in v and prof.green_direct_kw is not None:
        changes["green_direct_kw"] = v["green_direct_kw"].copy()
    names = [a.name for a in sc.pv]
    pv = prof.pv_avail_kw.copy()
    if "ghi" in v and names:
        pv = build.pv_profiles(sc, prof.time, _weather(sc, prof.time, prof.dt_h, v))
    elif "pv_kw" in v and names:
        own = prof.pv_avail_kw
        total = own.sum(axis=0)
        rating = np.array([a.ac_limit_kw or a.capacity_kw for a in sc.pv], float)
        by_rating = rating / max(rating.sum(), 1e-9)
        share = np.where(total > 1e-9, own / np.where(total > 1e-9, total, 1.0),
                         by_rating[:, None])
        pv = share * v["pv_kw"][None, :]
    for i, name in enumerate(names):
        col = f"pv_kw[{name}]"
        if col in v:
            pv[i] = v[col]
    changes["pv_avail_kw"] = pv.reshape(len(names), T)
    out = dataclasses.replace(prof, **changes)
    if out.dr_events:
        fresh = {e.name: e for e in build.dr_profiles(sc, out)}
        out = dataclasses.replace(out, dr_events=[
            dataclasses.replace(e, baseline_kw=fresh[e.name].baseline_kw,
                                baseline_source=fresh[e.name].baseline_source)
            if e.name in fresh
            else e for e in out.dr_events])
    return out
