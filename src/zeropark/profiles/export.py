"""Profiles as an ``xarray.Dataset`` (for ``profiles.nc``) and a printed annual summary."""

from __future__ import annotations

import numpy as np
import xarray as xr

from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario


def profiles_dataset(sc: Scenario, prof: Profiles) -> xr.Dataset:
    """Every profile on (time × asset) with units in attrs."""
    groups = list(prof.ev)
    ev = lambda attr: (np.array([getattr(prof.ev[g], attr) for g in groups])  # noqa: E731
                       if groups else np.zeros((0, prof.n_steps)))
    kw = {"units": "kW"}
    data = {
        "load_kw": (("time",), prof.load_kw, kw),
        "pv_available_kw": (("pv", "time"), prof.pv_avail_kw, kw),
        "import_price_per_kwh": (("time",), prof.import_price_per_kwh, {"units": sc.currency}),
        "export_price_per_kwh": (("time",), prof.export_price_per_kwh, {"units": sc.currency}),
        "ef_kg_per_kwh": (("time",), prof.ef_kg_per_kwh, {"units": "kgCO2/kWh"}),
        "month_index": (("time",), prof.month_index, {"labels": ",".join(prof.month_labels)}),
        "ev_e_lo_kwh": (("ev_group", "time"), ev("e_lo_kwh"), {"units": "kWh"}),
        "ev_e_hi_kwh": (("ev_group", "time"), ev("e_hi_kwh"), {"units": "kWh"}),
        "ev_p_max_kw": (("ev_group", "time"), ev("p_max_kw"), kw),
    }
    if prof.green_direct_kw is not None:
        data["green_direct_kw"] = (("time",), prof.green_direct_kw, kw)
    ds = xr.Dataset(
        {k: xr.DataArray(v, dims=dims, attrs=a) for k, (dims, v, a) in data.items()},
        coords={"time": prof.time, "pv": [a.name for a in sc.pv], "ev_group": groups},
    )
    ds.attrs.update({"scenario": sc.name, "scenario_hash": sc.content_hash(), "dt_h": prof.dt_h,
                     "demand_charge_per_kw_month": prof.demand_charge_per_kw_month})
    from zeropark.cf import apply_cf

    return apply_cf(ds, currency=sc.currency, utc_offset_h=sc.utc_offset_h,
                    timezone=sc.site.timezone, title=f"zeropark profiles of {sc.name}")


def summary_lines(sc: Scenario, prof: Profiles) -> list[str]:
    """Totals over the horizon: PV yield per array, load, EV, prices."""
    dt = prof.dt_h
    hours = prof.n_steps * dt
    lines = [f"{sc.name}: {prof.n_steps} steps of {dt:g} h from {prof.time[0]} "
             f"({hours / 24:.0f} days)"]
    for i, a in enumerate(sc.pv):
        e = float(prof.pv_avail_kw[i].sum()) * dt
        yld = e / a.capacity_kw if a.capacity_kw else 0.0
        lines.append(f"  PV {a.name}: {a.capacity_kw:,.0f} kWp, {e / 1e3:,.1f} MWh, "
                     f"{yld:,.0f} kWh/kWp")
    lines.append(f"  load: {prof.load_kw.sum() * dt / 1e3:,.1f} MWh, peak "
                 f"{prof.load_kw.max():,.0f} kW, mean {prof.load_kw.mean():,.0f} kW")
    for name, g in prof.ev.items():
        n = len(g.sessions)
        lines.append(f"  EV {name}: {n} sessions, {g.requested_kwh / 1e3:,.1f} MWh requested "
                     f"(grid side), max plugged-in power {g.p_max_kw.max():,.0f} kW")
    p = prof.import_price_per_kwh
    lines.append(f"  import price: min {p.min():.3f}, mean {p.mean():.3f}, max {p.max():.3f} "
                 f"{sc.currency}/kWh; demand charge {prof.demand_charge_per_kw_month:g} "
                 f"{sc.currency}/kW·month")
    lines.append(f"  emission factor: mean {prof.ef_kg_per_kwh.mean():.4f} kgCO2/kWh")
    if prof.green_direct_kw is not None:
        lines.append(f"  green direct contract: {prof.green_direct_kw.sum() * dt / 1e3:,.1f} MWh "
                     "available")
    if prof.dr_events:
        lines.append(f"  DR events in horizon: {', '.join(e.name for e in prof.dr_events)}")
    return lines
