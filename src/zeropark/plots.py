"""Plots of results (matplotlib, Agg backend): PNG and SVG."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from zeropark.io import atomic_write_bytes  # noqa: E402


def _busiest_week(ds: xr.Dataset) -> slice:
    """Steps of the week (or whole horizon if shorter) with the highest grid import."""
    dt = float(ds.attrs.get("dt_h", 1.0))
    n = int(round(168 / dt))
    T = ds.sizes["time"]
    if T <= n:
        return slice(0, T)
    imp = np.convolve(ds.grid_import_kw.values, np.ones(n), mode="valid")
    start = int(np.argmax(imp))
    return slice(start, start + n)


def dispatch_stack(ds: xr.Dataset, steps: slice | None = None) -> plt.Figure:
    """Dispatch stack: supply above zero, demand below, SOC on a second axis."""
    w = ds.isel(time=steps if steps is not None else _busiest_week(ds))
    t = w.time.values
    supply = {
        "PV": w.pv_power_kw.sum("pv").values,
        "green direct": w.green_direct_kw.values,
        "grid import": w.grid_import_kw.values,
        "storage discharge": w.storage_discharge_kw.sum("storage").values,
    }
    demand = {
        "load": w.load_kw.values,
        "flexible": w.flex_power_kw.sum("flex").values,
        "EV": w.ev_power_kw.sum("ev_group").values,
        "storage charge": w.storage_charge_kw.sum("storage").values,
        "export": w.grid_export_kw.values,
    }
    fig, ax = plt.subplots(figsize=(12, 5))
    ax.stackplot(t, *[v / 1e3 for v in supply.values()], labels=list(supply), step="post")
    ax.stackplot(t, *[-v / 1e3 for v in demand.values()], labels=list(demand), step="post",
                 alpha=0.8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("power [MW] (supply + / demand −)")
    ax.set_title(f"{ds.attrs.get('scenario', '')}: dispatch")
    if w.sizes.get("storage", 0):
        ax2 = ax.twinx()
        ax2.plot(t, w.storage_soc.mean("storage").values * 100, color="k", lw=1.2,
                 label="SOC (mean)")
        ax2.set_ylabel("state of charge [%]")
        ax2.set_ylim(0, 100)
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: str | Path) -> None:
    """Save a figure atomically; the format follows the suffix (.png or .svg)."""
    p = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=p.suffix.lstrip(".") or "png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(p, buf.getvalue())


def save_dispatch_week(ds: xr.Dataset, path: str | Path) -> None:
    """Dispatch stack of the busiest week, saved to ``path``."""
    save_figure(dispatch_stack(ds), path)
