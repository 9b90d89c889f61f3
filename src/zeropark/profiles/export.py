"""Profiles as an ``xarray.Dataset`` (for ``profiles.nc``) and a printed annual summary."""

from __future__ import annotations

from typing import Any

import xarray as xr

from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario


def profiles_dataset(sc: Scenario, prof: Profiles) -> xr.Dataset:
    """Every profile on (time × asset) with units in attrs: the load, then each registered
    family's ``profile_outputs`` (prices, PV availability, EV envelopes, emission factor, ...)."""
    from zeropark.model import registry
    from zeropark.model.family import Output

    outputs = [Output("load_kw", ("time",), prof.load_kw, "kW",
                      "inflexible load (mean power over the step)")]
    coords: dict[str, Any] = {"time": prof.time}
    for family in registry.FAMILIES:
        if family.profile_outputs is not None:
            more, more_coords = family.profile_outputs(sc, prof)
            outputs.extend(more)
            coords.update(more_coords)
    ds = xr.Dataset({o.name: xr.DataArray(o.data, dims=o.dims, attrs=o.attrs()) for o in outputs},
                    coords=coords)
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
