"""CF conventions (https://cfconventions.org) for the NetCDF files zeropark writes.

:func:`apply_cf` adds to a result or profiles dataset what CF-aware tools (ncdump readers,
Panoply, cf-xarray, CDO) look for: the global ``Conventions``, ``title``, ``source`` and
``history``; a ``long_name`` and ``units`` on every variable and coordinate; prices in currency
per kWh (e.g. ``CNY/kWh``), not just the currency; and the time axis described as local standard
time with its UTC offset. The time values themselves stay tz-naive local standard time (as
everywhere in zeropark), so files read back with xarray give the same timestamps.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import xarray as xr

CONVENTIONS = "CF-1.10"

# long_name and units of each variable; "{cur}" is replaced by the scenario currency.
VARIABLES: dict[str, tuple[str, str]] = {
    "load_kw": ("inflexible load (mean power over the step)", "kW"),
    "pv_power_kw": ("PV power used, AC side", "kW"),
    "pv_available_kw": ("PV power available from the weather, AC side", "kW"),
    "pv_curtailed_kw": ("PV power curtailed (available minus used)", "kW"),
    "green_direct_kw": ("direct green power taken (PPA)", "kW"),
    "grid_import_kw": ("grid import", "kW"),
    "grid_export_kw": ("grid export", "kW"),
    "storage_charge_kw": ("battery charging power, AC side", "kW"),
    "storage_discharge_kw": ("battery discharging power, AC side", "kW"),
    "storage_soc_kwh": ("stored energy at the end of the step", "kWh"),
    "storage_soc": ("state of charge at the end of the step, share of capacity", "1"),
    "storage_soc_start_kwh": ("stored energy at the start of the horizon (chosen by the optimiser "
                              "where soc_initial is free)", "kWh"),
    "ev_power_kw": ("EV charging power of the pile group, grid side", "kW"),
    "ev_v2g_kw": ("EV vehicle-to-grid discharge of the pile group", "kW"),
    "ev_delivered_kwh": ("EV energy delivered since the start of the horizon, grid side", "kWh"),
    "ev_unmet_kwh": ("EV energy requested but not delivered so far", "kWh"),
    "ev_undeliverable_kwh": ("EV energy asked beyond what pile and car can deliver during the "
                             "stay, grid side", "kWh"),
    "ev_turned_away_kwh": ("EV energy of cars that found every pile busy, grid side", "kWh"),
    "flex_power_kw": ("flexible-load power", "kW"),
    "dr_delivered_kw": ("demand-response reduction: baseline minus net import in events", "kW"),
    "dr_baseline_kw": ("demand-response settlement baseline in event steps (NaN outside)", "kW"),
    "import_price_per_kwh": ("grid import price", "{cur}/kWh"),
    "export_price_per_kwh": ("grid export price", "{cur}/kWh"),
    "ef_kg_per_kwh": ("grid CO2 emission factor (kg CO2 per kWh imported)", "kg/kWh"),
    "emissions_kg": ("CO2 emissions of grid import in the step (kg CO2)", "kg"),
    "peak_import_kw": ("billed peak grid import of the month", "kW"),
    "ev_e_lo_kwh": ("EV cumulative energy needed by the end of the step", "kWh"),
    "ev_e_hi_kwh": ("EV cumulative energy the plugged-in cars can take by the end of the step",
                    "kWh"),
    "ev_p_max_kw": ("EV charging power limit of the plugged-in cars", "kW"),
    "month_index": ("billing month of the step (index into the month labels)", "1"),
}

COORDINATES: dict[str, str] = {
    "pv": "PV array", "storage": "storage unit", "ev_group": "EV pile group",
    "flex": "flexible load", "month": "billing month (YYYY-MM)",
    "heat_unit": "heat supply unit", "heat_level": "heat temperature level",
    "heat_store": "thermal store",
}


def utc_offset_text(hours: float) -> str:
    """``+08:00`` for 8.0, ``-03:30`` for -3.5."""
    sign = "-" if hours < 0 else "+"
    minutes = int(round(abs(hours) * 60))
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def apply_cf(ds: xr.Dataset, *, currency: str, utc_offset_h: float, timezone: str,
             title: str, history: str | None = None) -> xr.Dataset:
    """Add CF metadata to ``ds`` in place (and return it).

    Parameters
    ----------
    ds : xarray.Dataset
        A result or profiles dataset (variables named as in ``docs/results.md``).
    currency : str
        Scenario currency; prices get units ``<currency>/kWh``.
    utc_offset_h : float [h]
        Standard UTC offset of the site (local standard time, no daylight saving).
    timezone : str
        IANA name of the site's timezone.
    title : str
        What the file holds.
    history : str, optional
        One line on how the file was made.
    """
    for name, da in ds.data_vars.items():
        if name in VARIABLES:
            long_name, units = VARIABLES[str(name)]
            da.attrs["long_name"] = long_name
            da.attrs["units"] = units.format(cur=currency)
    offset = utc_offset_text(utc_offset_h)
    if "time" in ds.coords:
        ds["time"].attrs.update({
            "standard_name": "time", "axis": "T",
            "long_name": f"start of the step, local standard time (UTC{offset}, {timezone}, "
                         "no daylight saving)",
            "utc_offset": offset,
        })
    for name, long_name in COORDINATES.items():
        if name in ds.coords:
            ds[name].attrs["long_name"] = long_name
    attrs: dict[str, Any] = {
        "Conventions": CONVENTIONS, "title": title,
        "source": f"zeropark {version('zeropark')}",
        "time_zone": timezone, "time_utc_offset": offset,
    }
    if history:
        attrs["history"] = history
    ds.attrs.update(attrs)
    return ds
