"""Export a park as a PyPSA network (``zeropark export-pypsa``), to cross-check zeropark's
dispatch in PyPSA. PyPSA is imported only here, and only when the export runs
(``pip install pypsa``).

The network has one AC bus ``park`` and, in zeropark's units (kW, kWh, currency per kWh; hourly
snapshot weightings = the step length in hours, so the objective is in the same currency):

- ``Load`` ``load``: the inflexible load [kW];
- ``Generator`` ``pv.<name>`` per array: ``p_nom`` = its peak available AC power, ``p_max_pu``
  the available power (× the DC/AC converter efficiency of a DC-coupled array) over ``p_nom``,
  marginal cost 0 (curtailable);
- ``Generator`` ``grid_import``: ``p_nom`` = the import limit, marginal cost the import price;
- ``Generator`` ``grid_export`` (when the export limit is > 0): ``p_nom`` = the export limit,
  ``p_min_pu`` = −1, ``p_max_pu`` = 0, marginal cost the export price (negative output earns it);
- ``Generator`` ``green_direct`` (a direct green supply): its contract profile as
  ``p_max_pu``, marginal cost its price;
- per storage unit a bus ``storage.<name>``, a ``Store`` (``e_nom`` = energy, ``e_min_pu`` /
  ``e_max_pu`` = the SOC window, ``e_initial`` = the initial SOC after one step of self-discharge,
  since PyPSA applies no standing loss to the initial state in the first step and zeropark does,
  ``standing_loss`` = self-discharge per hour, ``e_cyclic`` for ``end_condition: cyclic``) and
  two ``Link``s: ``<name>.charge`` (park → store, ``efficiency`` = charge efficiency, ``p_nom`` =
  power) and ``<name>.discharge`` (store → park, ``efficiency`` = discharge efficiency,
  ``p_nom`` = power / discharge efficiency so that the AC output is ≤ power, marginal cost =
  throughput cost × discharge efficiency per kWh drawn from the store).

What PyPSA's standard components do not hold is left out and listed in
``network.meta["zeropark_left_out"]`` (and printed): EV groups, flexible loads, demand response,
demand and capacity charges, certificates, offsets, targets, carbon price, fixed fuels, heat, the
``at_least_initial`` end condition, the daily cycle limit, a green supply's minimum take, and
the exclusivity of import/export and charge/discharge (an LP may do both, as zeropark's
``--relax``). A park without these is the same LP in both tools (tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click
import numpy as np

from zeropark.clitools import handle_errors
from zeropark.errors import ScenarioError
from zeropark.model.data import ModelData

Format = Literal["netcdf", "csv"]


def _require_pypsa() -> Any:
    try:
        import pypsa
    except ImportError:
        raise ScenarioError("export-pypsa", "pypsa not installed",
                            "install it first: pip install pypsa") from None
    api = getattr(getattr(pypsa, "options", None), "api", None)
    if api is not None and getattr(api, "legacy_string_dtype", False) is None:
        api.legacy_string_dtype = False  # keep pandas' str dtype (the PyPSA 2.0 default)
    return pypsa


def _known(value: float | None, field: str) -> float:
    """A storage parameter the model data has resolved (from the technology library)."""
    if value is None:
        raise ScenarioError(field, None, "a value (or a storage technology that gives one)")
    return float(value)


def left_out(d: ModelData) -> list[str]:
    """What of the park the network does not hold (see the module docstring)."""
    sc, out = d.sc, []
    if sc.ev.groups:
        out.append(f"EV groups ({len(sc.ev.groups)})")
    if sc.flexible_loads:
        out.append(f"flexible loads ({len(sc.flexible_loads)})")
    if d.prof.dr_events:
        out.append(f"demand-response events ({len(d.prof.dr_events)})")
    if d.prof.demand_charge_per_kw_month or d.prof.capacity_charge_per_month:
        out.append("demand and capacity charges")
    gp = sc.green_power
    if gp.certificates is not None:
        out.append("green certificates")
    if gp.offsets is not None:
        out.append("offsets")
    if gp.direct is not None and gp.direct.min_take_kwh > 0:
        out.append("green supply minimum take")
    tg = sc.targets
    if tg.green_share or tg.emission_cap or tg.zero_carbon_indicator or tg.carbon_price_per_t:
        out.append("targets and carbon price")
    f = sc.fuels
    if f.natural_gas_m3_per_year or f.coal_t_per_year or f.heat_gj_per_year:
        out.append("fixed fuels")
    if sc.heat is not None:
        n_u, n_s = len(sc.heat.supply), len(sc.heat.storage)
        out.append(f"heat system ({n_u} supply unit{'s' * (n_u != 1)}, {n_s} thermal "
                   f"store{'s' * (n_s != 1)}, heat demand and the fuel and electricity it takes)")
    for u in sc.storage:
        if u.end_condition == "at_least_initial":
            out.append(f"storage {u.name}: end condition at_least_initial")
        if u.max_cycles_per_day is not None:
            out.append(f"storage {u.name}: daily cycle limit")
        if u.soc_initial == "free":
            out.append(f"storage {u.name}: free initial SOC (exported at soc_min)")
    if sc.grid.export_limit_kw > 0 or sc.storage:
        out.append("exclusivity of import/export and charge/discharge (LP)")
    return out


def pypsa_network(d: ModelData) -> Any:
    """The park of ``d`` as a :class:`pypsa.Network` (module docstring)."""
    import pandas as pd

    from zeropark.model.pv import pv_efficiency

    pypsa = _require_pypsa()
    p, sc = d.prof, d.sc
    n = pypsa.Network()
    n.set_snapshots(pd.DatetimeIndex(p.time, name="snapshot"))
    n.snapshot_weightings.loc[:, :] = d.dt_h
    n.add("Carrier", ["AC", "solar", "grid", "green", "battery"])
    n.add("Bus", "park", carrier="AC")

    def series(values: Any) -> Any:
        return pd.Series(np.asarray(values, float), n.snapshots)

    n.add("Load", "load", bus="park", p_set=series(p.load_kw))
    eta = np.broadcast_to(np.asarray(pv_efficiency(d), float), (len(sc.pv),))
    for i, a in enumerate(sc.pv):
        avail = np.asarray(p.pv_avail_kw[i], float) * float(eta[i])
        nom = max(float(avail.max(initial=0.0)), 1e-3)
        n.add("Generator", f"pv.{a.name}", bus="park", carrier="solar", p_nom=nom,
              p_max_pu=series(avail / nom), marginal_cost=0.0)
    n.add("Generator", "grid_import", bus="park", carrier="grid", p_nom=sc.grid.import_limit_kw,
          marginal_cost=series(p.import_price_per_kwh))
    if sc.grid.export_limit_kw > 0:
        n.add("Generator", "grid_export", bus="park", carrier="grid",
              p_nom=sc.grid.export_limit_kw, p_min_pu=-1.0, p_max_pu=0.0,
              marginal_cost=series(p.export_price_per_kwh))
    direct = sc.green_power.direct
    if direct is not None and p.green_direct_kw is not None:
        nom = max(float(np.max(p.green_direct_kw, initial=0.0)), 1e-3)
        n.add("Generator", "green_direct", bus="park", carrier="green", p_nom=nom,
              p_max_pu=series(np.asarray(p.green_direct_kw, float) / nom),
              marginal_cost=direct.price_per_kwh)
    for i, u in enumerate(sc.storage):
        eta_c = _known(u.charge_efficiency, f"storage.{i}.charge_efficiency")
        eta_d = _known(u.discharge_efficiency, f"storage.{i}.discharge_efficiency")
        soc_min = _known(u.soc_min, f"storage.{i}.soc_min")
        loss = _known(u.self_discharge_per_h, f"storage.{i}.self_discharge_per_h")
        wear = _known(u.throughput_cost_per_kwh, f"storage.{i}.throughput_cost_per_kwh")
        bus = f"storage.{u.name}"
        n.add("Bus", bus, carrier="battery")
        init = soc_min if u.soc_initial == "free" else float(u.soc_initial)
        n.add("Store", u.name, bus=bus, carrier="battery", e_nom=u.energy_kwh,
              e_min_pu=soc_min, e_max_pu=_known(u.soc_max, f"storage.{i}.soc_max"),
              e_initial=(1.0 - loss * d.dt_h) * init * u.energy_kwh,
              standing_loss=loss, e_cyclic=u.end_condition == "cyclic")
        n.add("Link", f"{u.name}.charge", bus0="park", bus1=bus, carrier="battery",
              p_nom=u.power_kw, efficiency=eta_c)
        n.add("Link", f"{u.name}.discharge", bus0=bus, bus1="park", carrier="battery",
              p_nom=u.power_kw / eta_d, efficiency=eta_d, marginal_cost=wear * eta_d)
    n.meta = {"zeropark_scenario": sc.name, "zeropark_left_out": left_out(d),
              "units": "kW, kWh, currency per kWh", "step_h": d.dt_h}
    return n


def export_pypsa(d: ModelData, out: str | Path, fmt: Format = "netcdf") -> tuple[Path, list[str]]:
    """Write the network of ``d``: a netCDF file (``fmt="netcdf"``, ``out`` a file) or PyPSA's
    CSV folder (``fmt="csv"``, ``out`` a folder). Returns the path and what was left out."""
    if fmt not in ("netcdf", "csv"):
        raise ScenarioError("--format", fmt, "netcdf or csv")
    n = pypsa_network(d)
    path = Path(out)
    if fmt == "netcdf":
        path.parent.mkdir(parents=True, exist_ok=True)
        n.export_to_netcdf(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        n.export_to_csv_folder(path)
    return path, list(n.meta["zeropark_left_out"])


@click.command("export-pypsa")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", type=click.Path(), default="park.nc", show_default=True,
              help="Output: a .nc file (netcdf) or a folder (csv).")
@click.option("--format", "fmt", type=click.Choice(["netcdf", "csv"]), default="netcdf",
              show_default=True, help="PyPSA netCDF file or PyPSA CSV folder.")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to export, e.g. 7d [default: all].")
@handle_errors
def export_pypsa_command(scenario: str, out: str, fmt: str, start: str | None,
                         horizon: str | None) -> None:
    """Write the park as a PyPSA network (needs pypsa), to cross-check the dispatch in PyPSA.

    One AC bus with the load, PV, grid import/export, a direct green supply and storage (Store +
    charge/discharge Links). What PyPSA's components do not hold (EV groups, flexible loads, DR,
    demand charges, certificates, targets, fuels, …) is left out and listed.
    """
    from zeropark.api import prepare
    from zeropark.clitools import window_of
    from zeropark.scenario import load_scenario

    _require_pypsa()
    sc = load_scenario(scenario)
    first, steps = window_of(sc, start, horizon)
    d = prepare(sc, start=first, steps=steps)
    path, missing = export_pypsa(d, out, fmt)  # type: ignore[arg-type]
    for item in missing:
        click.echo(f"left out: {item}")
    click.echo(f"wrote {path} ({fmt}, {d.T} snapshots of {d.dt_h:g} h)")


COMMANDS: list[click.Command] = [export_pypsa_command]
