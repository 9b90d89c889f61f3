"""The figure of a sizing run (``dispatch.png`` of ``zeropark size``): the sizes chosen, the
monthly energy balance and monthly peaks of the whole horizon, and its busiest week — so a
full-year sizing is shown as a year, not as one week.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from zeropark.plots import COLORS, _busiest_week, _plot, monthly_sums, save_figure


def monthly_table(ds: xr.Dataset) -> pd.DataFrame:
    """Energy per month [MWh] (PV used, green direct, grid import, export, storage discharge,
    load incl. flexible and EV) and the billed peak import [kW], one row per month."""
    def mwh(values: np.ndarray) -> np.ndarray:
        return monthly_sums(ds, values) / 1e3

    demand = (ds.load_kw.values + ds.flex_power_kw.sum("flex").values
              + ds.ev_power_kw.sum("ev_group").values)
    return pd.DataFrame({
        "month": [str(m) for m in ds.month.values],
        "pv_mwh": mwh(ds.pv_power_kw.sum("pv").values),
        "green_direct_mwh": mwh(ds.green_direct_kw.values),
        "grid_import_mwh": mwh(ds.grid_import_kw.values),
        "grid_export_mwh": mwh(ds.grid_export_kw.values),
        "storage_discharge_mwh": mwh(ds.storage_discharge_kw.sum("storage").values),
        "demand_mwh": mwh(demand),
        "peak_import_kw": np.asarray(ds.peak_import_kw.values, float),
    })


def _size_lines(sizing: Mapping[str, Any]) -> list[str]:
    out = []
    for a in sizing.get("assets", []):
        flag = "  ← at its cap" if a.get("at_cap") else ""
        out.append(f"{a['asset']}: {a['size']:,.0f} {a['unit']} (present {a['existing']:,.0f}, "
                   f"cap {a['cap']:,.0f}){flag}")
    cur = sizing.get("currency", "")
    out.append(f"investment {sizing.get('investment', 0):,.0f} {cur}; annualised "
               f"{sizing.get('annualized_cost_per_year', 0):,.0f} {cur}/yr")
    return out


@_plot
def sizing_overview(ds: xr.Dataset, sizing: Mapping[str, Any]) -> Figure:
    """Sizes (text), monthly energy bars, monthly peak import and the busiest week.

    Parameters
    ----------
    ds : xarray.Dataset
        The sized park's result dataset.
    sizing : mapping
        ``kpis["sizing"]`` (``assets``, ``investment``, ``annualized_cost_per_year``).
    """
    table = monthly_table(ds)
    fig = Figure(figsize=(12, 9.5))
    grid = fig.add_gridspec(3, 2, height_ratios=[0.45, 1.2, 1.2])
    ax_txt = fig.add_subplot(grid[0, :])
    ax_txt.axis("off")
    lines = _size_lines(sizing)
    ax_txt.text(0.0, 1.0, "sizes chosen\n" + "\n".join(lines), va="top", ha="left",
                family="monospace", fontsize=8, transform=ax_txt.transAxes)
    x = np.arange(len(table))
    ax_e = fig.add_subplot(grid[1, 0])
    bottom = np.zeros(len(table))
    for name, col in (("PV", "pv_mwh"), ("green direct", "green_direct_mwh"),
                      ("grid import", "grid_import_mwh")):
        if table[col].abs().max() > 1e-9:
            ax_e.bar(x, table[col], 0.7, bottom=bottom, color=COLORS[name], label=name)
            bottom += table[col].to_numpy()
    if table["grid_export_mwh"].max() > 1e-9:
        ax_e.bar(x, -table["grid_export_mwh"], 0.7, color=COLORS["export"], label="export")
    ax_e.plot(x, table["demand_mwh"], "k_", ms=14, mew=2, label="load + flexible + EV")
    ax_e.axhline(0, color="k", lw=0.6)
    ax_e.set_xticks(x, table["month"], rotation=45 if len(x) > 6 else 0, fontsize=7)
    ax_e.set_ylabel("energy [MWh]")
    ax_e.set_title("monthly energy", fontsize=9)
    ax_e.legend(fontsize=7, loc="best")
    ax_p = fig.add_subplot(grid[1, 1])
    ax_p.bar(x, table["peak_import_kw"] / 1e3, 0.7, color=COLORS["grid import"])
    for xi, v in zip(x, table["peak_import_kw"], strict=True):
        ax_p.annotate(f"{v / 1e3:,.1f}", (xi, v / 1e3), ha="center", va="bottom", fontsize=6)
    ax_p.set_xticks(x, table["month"], rotation=45 if len(x) > 6 else 0, fontsize=7)
    ax_p.set_ylabel("billed peak import [MW]")
    ax_p.set_title("monthly peak (demand charge)", fontsize=9)
    ax_w = fig.add_subplot(grid[2, :])
    w = ds.isel(time=_busiest_week(ds))
    t = w.time.values
    supply = {"PV": w.pv_power_kw.sum("pv").values, "green direct": w.green_direct_kw.values,
              "grid import": w.grid_import_kw.values,
              "storage discharge": w.storage_discharge_kw.sum("storage").values}
    supply = {k: v for k, v in supply.items() if np.abs(v).max(initial=0.0) > 1e-9}
    if supply:
        ax_w.stackplot(t, *[v / 1e3 for v in supply.values()], labels=list(supply),
                       step="post", colors=[COLORS[k] for k in supply])
    demand = (w.load_kw.values + w.flex_power_kw.sum("flex").values
              + w.ev_power_kw.sum("ev_group").values)
    charge = w.storage_charge_kw.sum("storage").values
    if np.abs(charge).max(initial=0.0) > 1e-9:
        ax_w.fill_between(t, -charge / 1e3, step="post", color=COLORS["storage charge"],
                          label="storage charge")
    ax_w.step(t, demand / 1e3, where="post", color="k", lw=1, label="load + flexible + EV")
    ax_w.axhline(0, color="k", lw=0.6)
    ax_w.set_ylabel("power [MW] (charge −)")
    ax_w.set_title(f"busiest week {pd.Timestamp(t[0]):%Y-%m-%d} – {pd.Timestamp(t[-1]):%Y-%m-%d}"
                   " (most grid import)", fontsize=9)
    ax_w.legend(fontsize=7, loc="upper left", ncol=5)
    ax_w.tick_params(axis="x", labelrotation=20, labelsize=7)
    name = ds.attrs.get("scenario", "")
    fig.suptitle(f"{name}: sized park — sizes, monthly view, busiest week", fontsize=10)
    fig.tight_layout()
    return fig


def save_sizing_overview(ds: xr.Dataset, sizing: Mapping[str, Any], path: str | Path) -> None:
    """:func:`sizing_overview` saved to ``path``."""
    save_figure(sizing_overview(ds, sizing), path)
