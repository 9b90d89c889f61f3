"""Plots of results and sweeps (matplotlib), saved as PNG or SVG.

Every function takes a result dataset (see ``docs/results.md``; dims ``time``, ``pv``, ``storage``,
``ev_group``, ``flex``, ``month``) or plain arrays, and returns a :class:`matplotlib.figure.Figure`
that the caller saves with :func:`save_figure` or embeds with :func:`figure_bytes`. Figures of one
result: :func:`dispatch_stack`, :func:`monthly_energy_balance`, :func:`import_duration_curve`,
:func:`schedule_heatmaps`, :func:`monthly_emissions`, :func:`cost_breakdown_chart`; of a sweep:
:func:`kpi_line`, :func:`kpi_surface`, :func:`pareto_front`. Powers are drawn in MW and energies
in MWh; inputs stay in kW/kWh as everywhere in zeropark. Figures are made without pyplot, so
importing this module never changes the matplotlib backend.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from zeropark.errors import ScenarioError
from zeropark.io import atomic_write_bytes
from zeropark.model.data import KGCE_PER_KWH_EQUAL_VALUE

__all__ = [
    "COLORS", "cost_breakdown_chart", "day_hour_grid", "dispatch_stack", "figure_bytes",
    "import_duration_curve",
    "kpi_line", "kpi_surface", "monthly_emissions", "monthly_energy_balance", "monthly_sums",
    "pareto_front", "pareto_mask", "percent_shares", "report_figures", "save_dispatch_week", "save_figure",
    "schedule_heatmaps",
]

# One colour per flow, the same in every figure.
COLORS = {
    "PV": "#f2b701", "green direct": "#3c9d4e", "grid import": "#8c8c8c",
    "storage discharge": "#7b4fa0", "load": "#2f4b7c", "flexible": "#2a9d8f", "EV": "#e76f51",
    "storage charge": "#b79fd1", "export": "#c9c9c9", "fuels": "#a0522d", "credits": "#3c9d4e",
}


# Axis numbers as 12,345,678 rather than 1.2e7 with an offset.
_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}")

# Fonts with Chinese glyphs, tried after DejaVu Sans for park and asset names such as 苏州.
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
              "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC")


@functools.cache
def font_fallback() -> list[str]:
    """The font families figures draw with: DejaVu Sans, then the installed Chinese fonts."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in _CJK_FONTS if name in installed]]


@contextlib.contextmanager
def _drawing() -> Iterator[None]:
    """Chinese fallback fonts where installed; where not, names draw as boxes — not an error.

    Mathtext is off: names come from scenario files, and a name such as ``park $\\foo$ bar``
    must draw as written, not fail as an unknown TeX command."""
    rc: dict[Any, Any] = {"font.sans-serif": font_fallback(), "svg.fonttype": "none",  # SVG text stays text
          "text.parse_math": False}
    with warnings.catch_warnings(), matplotlib.rc_context(rc):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from",
                                category=UserWarning)
        yield


def _plot(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build a figure inside :func:`_drawing`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _drawing():
            return fn(*args, **kwargs)

    return wrapper


def _subplots(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1,
              layout: Literal["constrained", "compressed", "tight"] | None = None,
              **kw: Any) -> tuple[Figure, Any]:
    """A figure outside pyplot: no GUI backend, no global figure registry to leak into; in
    Jupyter a returned figure still displays inline. ``layout="constrained"`` makes room for a
    legend placed outside the axes."""
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kw)


def percent_shares(values: Sequence[float], total: float, decimals: int = 1) -> list[float]:
    """Percentages of ``total`` rounded so that shares of parts adding up to ``total`` also add
    up to exactly 100 after rounding (largest remainder); other values are rounded as usual.

    Parameters
    ----------
    values : sequence of float
        The parts (costs, energies); negative parts (revenues) get negative shares.
    total : float
        What 100 % is (e.g. the gross cost, the sum of the positive parts).
    """
    if total == 0:
        return [0.0 for _ in values]
    unit = 10.0 ** -decimals
    raw = np.asarray(values, float) / total * 100 / unit
    out = np.round(raw)
    pos = raw > 0
    if abs(raw[pos].sum() - 100 / unit) < 1e-6 * max(1.0, 100 / unit):
        floor = np.floor(raw[pos])
        missing = int(round(100 / unit - floor.sum()))
        order = np.argsort(-(raw[pos] - floor), kind="stable")
        floor[order[:missing]] += 1
        out[pos] = floor
    return [round(float(v) * unit, decimals) + 0.0 for v in out]


def _title(ds: xr.Dataset, what: str) -> str:
    name = ds.attrs.get("scenario", "")
    return f"{name}: {what}" if name else what


def _steps_of(ds: xr.Dataset, start: Any, days: float) -> slice:
    dt = float(ds.attrs.get("dt_h", 1.0))
    n = max(int(round(days * 24 / dt)), 1)
    T = ds.sizes["time"]
    if isinstance(start, (int, np.integer)):
        first = int(start)
    else:
        time = pd.DatetimeIndex(ds.time.values)
        try:
            ts = pd.Timestamp(start)
        except (ValueError, TypeError):
            raise ScenarioError("start", start, "an ISO datetime or a step index") from None
        first = int(time.searchsorted(ts)) if time[0] <= ts <= time[-1] else -1
    if not 0 <= first < T:
        raise ScenarioError("start", start, f"a time between {ds.time.values[0]} and "
                                            f"{ds.time.values[-1]}")
    return slice(first, min(first + n, T))


def _busiest_week(ds: xr.Dataset) -> slice:
    """Steps of the week (or whole horizon if shorter) with the highest grid import; the week
    starts at midnight (00:00) wherever the horizon allows."""
    dt = float(ds.attrs.get("dt_h", 1.0))
    n = int(round(168 / dt))
    T = ds.sizes["time"]
    if T <= n:
        return slice(0, T)
    cum = np.concatenate([[0.0], np.cumsum(ds.grid_import_kw.values)])
    week = cum[n:] - cum[:-n]  # import of the week starting at each step
    time = pd.DatetimeIndex(ds.time.values[: T - n + 1])
    midnight = np.flatnonzero(time == time.normalize())
    start = int(midnight[np.argmax(week[midnight])]) if len(midnight) else int(np.argmax(week))
    return slice(start, start + n)


@_plot
def dispatch_stack(ds: xr.Dataset, steps: slice | None = None, *, start: Any = None,
                   days: float = 7.0) -> Figure:
    """Dispatch stack: supply above zero, demand below, mean storage SOC on a second axis.

    Parameters
    ----------
    ds : xarray.Dataset
        A result dataset.
    steps : slice, optional
        Steps to draw. Default: ``days`` from ``start``, or the week with the most grid import.
    start : str, Timestamp or int, optional
        First instant (ISO) or step index of the window.
    days : float [d]
        Window length when ``start`` is given.
    """
    if steps is None:
        steps = _busiest_week(ds) if start is None else _steps_of(ds, start, days)
    w = ds.isel(time=steps)
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
    # flows that are zero all week (no export, no EVs …) get no band and no legend entry
    supply = {k: v for k, v in supply.items() if np.abs(v).max(initial=0.0) > 1e-9}
    demand = {k: v for k, v in demand.items() if k == "load" or np.abs(v).max(initial=0.0) > 1e-9}
    fig, ax = _subplots((12, 5), layout="constrained")
    if supply:
        ax.stackplot(t, *[v / 1e3 for v in supply.values()], labels=list(supply), step="post",
                     colors=[COLORS[k] for k in supply])
    ax.stackplot(t, *[-v / 1e3 for v in demand.values()], labels=list(demand), step="post",
                 colors=[COLORS[k] for k in demand], alpha=0.85)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("power [MW] (supply + / demand −)")
    ax.set_title(_title(ds, f"dispatch {pd.Timestamp(t[0]):%Y-%m-%d %H:%M} – "
                            f"{pd.Timestamp(t[-1]):%Y-%m-%d %H:%M}"))
    handles, labels = ax.get_legend_handles_labels()
    if w.sizes.get("storage", 0):
        ax2 = ax.twinx()
        line = ax2.plot(t, w.storage_soc.mean("storage").values * 100, color="k", lw=1.2,
                        label="SOC (mean)")
        ax2.set_ylabel("state of charge [%]")
        ax2.set_ylim(0, 100)
        handles, labels = handles + line, labels + ["SOC (mean)"]
    # outside the axes, right of the SOC scale: never over the data, never cut
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    ax.tick_params(axis="x", labelrotation=30)
    return fig


def monthly_sums(ds: xr.Dataset, values: np.ndarray) -> np.ndarray:
    """Sum a per-step array [kW] to energy per billing month [kWh] (months of ``ds.month``).

    Parameters
    ----------
    ds : xarray.Dataset
        A result dataset (gives ``time``, ``month`` and ``dt_h``).
    values : ndarray [kW], shape (T,)
    """
    dt = float(ds.attrs.get("dt_h", 1.0))
    labels = pd.DatetimeIndex(ds.time.values).to_period("M").astype(str)
    months = [str(m) for m in ds.month.values]
    idx = pd.Index(months).get_indexer(labels)
    return np.bincount(idx, weights=np.asarray(values, float) * dt, minlength=len(months))


def _headroom(ax: Any, share: float = 0.35) -> None:
    """Free the top ``share`` of the axes for the legend."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + (hi - lo) * share / (1 - share))


def _month_axis(ax: Any, months: Sequence[str]) -> np.ndarray:
    x = np.arange(len(months))
    ax.set_xticks(x, months, rotation=45 if len(months) > 6 else 0, ha="right"
                  if len(months) > 6 else "center")
    return x


@_plot
def monthly_energy_balance(ds: xr.Dataset, kpis: Mapping[str, Any] | None = None) -> Figure:
    """Monthly supply (PV, green direct, grid import) vs export, with the green share per month.

    The monthly green share is physical: (PV used + green direct − export) / consumption.
    Certificates (GEC) are bought for the whole horizon; the overall share with them comes
    from ``kpis["green_share"]`` and is shown as a dashed line with the target.
    """
    months = [str(m) for m in ds.month.values]
    pv = monthly_sums(ds, ds.pv_power_kw.sum("pv").values)
    gd = monthly_sums(ds, ds.green_direct_kw.values)
    imp = monthly_sums(ds, ds.grid_import_kw.values)
    exp = monthly_sums(ds, ds.grid_export_kw.values)
    cons = pv + gd + imp - exp
    fig, ax = _subplots((10, 4.5))
    x = _month_axis(ax, months)
    bottom = np.zeros(len(months))
    for name, val in (("PV", pv), ("green direct", gd), ("grid import", imp)):
        ax.bar(x, val / 1e3, 0.7, bottom=bottom, color=COLORS[name], label=name)
        bottom += val / 1e3
    ax.bar(x, -exp / 1e3, 0.7, color=COLORS["export"], label="export")
    ax.plot(x, cons / 1e3, "k_", ms=22, mew=2, label="consumption")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("energy [MWh]")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    _headroom(ax)
    ax2 = ax.twinx()
    share = np.divide(pv + gd - exp, cons, out=np.zeros_like(cons), where=cons > 0)
    ax2.plot(x, share * 100, "o-", color=COLORS["green direct"], label="green share (physical)")
    if kpis is not None:
        ax2.axhline(100 * kpis["green_share"], color=COLORS["green direct"], ls="--", lw=1,
                    label=f"green share incl. certificates {kpis['green_share']:.0%}")
        if kpis.get("green_share_target") is not None:
            ax2.axhline(100 * kpis["green_share_target"], color="r", ls=":", lw=1,
                        label=f"target {kpis['green_share_target']:.0%}")
    ax2.set_ylim(0, 160)
    ax2.set_yticks(range(0, 101, 20))
    ax2.set_ylabel("green share [%]")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", ncol=2)
    ax.set_title(_title(ds, "monthly energy balance"))
    fig.tight_layout()
    return fig


@_plot
def import_duration_curve(ds: xr.Dataset, kpis: Mapping[str, Any] | None = None) -> Figure:
    """Grid import sorted from highest to lowest, with each month's billed peak marked.

    A month's peak sits at the hours the park imports at least that much; a peak at 0 h above
    the whole curve is a month-to-date peak carried in from operations.
    """
    dt = float(ds.attrs.get("dt_h", 1.0))
    imp = np.sort(ds.grid_import_kw.values)[::-1]
    hours = np.arange(1, len(imp) + 1) * dt
    fig, ax = _subplots((10, 4.5))
    ax.step(hours, imp / 1e3, where="pre", color=COLORS["grid import"], lw=1.5,
            label="grid import")
    peaks = ds.peak_import_kw.values
    # hours at or above the peak: the right end of the peak's plateau on the curve
    rank_h = (imp[None, :] >= peaks[:, None] - 1e-6).sum(axis=1) * dt
    ax.scatter(rank_h, peaks / 1e3, color="r", zorder=3,
               label=f"billed monthly peak ({len(peaks)} months)")
    # a year of labels would overlap: name every month only for short horizons
    shown = range(len(peaks)) if len(peaks) <= 4 else {int(np.argmax(peaks)), int(np.argmin(peaks))}
    for i in shown:
        ax.annotate(str(ds.month.values[i]), (rank_h[i], peaks[i] / 1e3), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    note = ""
    if kpis is not None:
        note = (f" — demand charge {kpis['cost_breakdown']['demand']:,.0f} "
                f"{kpis.get('currency', '')}")
    ax.set_xlabel("hours at or above [h]")
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_ylabel("grid import [MW]")
    ax.set_xlim(0, hours[-1] if len(hours) else 1)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title(_title(ds, "duration curve of grid import" + note))
    fig.tight_layout()
    return fig


def day_hour_grid(time: Any, values: np.ndarray, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Arrange a series as days × steps-of-day (NaN where the horizon has no step).

    Parameters
    ----------
    time : array of datetime64
        Step starts.
    values : ndarray, shape (T,)
    dt_h : float [h]
        Step length.

    Returns
    -------
    grid : ndarray, shape (D, 24 / dt_h)
    days : ndarray of datetime64[D], shape (D,)
    """
    t = pd.DatetimeIndex(time)
    day = t.normalize()
    days, d_idx = np.unique(day.values, return_inverse=True)
    slot = np.round((t - day) / pd.Timedelta(hours=dt_h)).astype(int)
    grid = np.full((len(days), int(round(24 / dt_h))), np.nan)
    grid[d_idx, slot] = values
    return grid, days.astype("datetime64[D]")


@_plot
def schedule_heatmaps(ds: xr.Dataset) -> Figure:
    """Day × hour heatmaps: storage net power (discharge − charge) and flexible-load power.

    One panel per storage unit and per flexible load; red is discharge, blue is charge.
    """
    dt = float(ds.attrs.get("dt_h", 1.0))
    panels: list[tuple[str, np.ndarray, str]] = []
    for unit in ds.storage.values:
        net = (ds.storage_discharge_kw.sel(storage=unit) - ds.storage_charge_kw.sel(storage=unit))
        panels.append((f"storage {unit}: discharge − charge [MW]", net.values / 1e3, "RdBu_r"))
    for load in ds.flex.values:
        panels.append((f"flexible load {load} [MW]", ds.flex_power_kw.sel(flex=load).values / 1e3,
                       "viridis"))
    n = max(len(panels), 1)
    fig, axes = _subplots((min(5.5 * n, 16), 5), 1, n, squeeze=False)
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no storage or flexible loads", ha="center", va="center")
        axes[0, 0].set_axis_off()
    for ax, (title, values, cmap) in zip(axes[0], panels, strict=False):
        grid, days = day_hour_grid(ds.time.values, values, dt)
        kw: dict[str, Any] = {"cmap": cmap, "aspect": "auto", "interpolation": "nearest",
                              "extent": (0, 24, len(days), 0)}
        if cmap == "RdBu_r":
            lim = max(float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0, 1e-3)
            kw.update(vmin=-lim, vmax=lim)
        im = ax.imshow(grid, **kw)
        fig.colorbar(im, ax=ax, shrink=0.85)
        ax.set_xticks(range(0, 25, 6))
        ax.set_xlabel("hour of day")
        ticks = np.unique(np.linspace(0, len(days) - 1, min(len(days), 8)).astype(int))
        ax.set_yticks(ticks + 0.5, [str(days[i]) for i in ticks], fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.suptitle(_title(ds, "schedules by day and hour"))
    fig.tight_layout()
    return fig


@_plot
def monthly_emissions(ds: xr.Dataset, kpis: Mapping[str, Any] | None = None, *,
                      cap_t: float | None = None) -> Figure:
    """Monthly CO2 [t] against the zero-carbon indicator allowance (threshold × tce).

    Bars: grid electricity and fixed fuels (fuels pro rata to time, as in the model); the
    difference to the indicator's CO2 (certificates, and offsets when they count) is shown as
    credits pro rata to consumption, so the monthly net values add up to the indicator's CO2
    (``value × energy_tce``) in ``kpis``.
    ``cap_t`` (an emission cap over the horizon [tCO2]) is drawn pro rata to time.
    """
    months = [str(m) for m in ds.month.values]
    T = ds.sizes["time"]
    elec_t = monthly_sums(ds, ds.emissions_kg.values / float(ds.attrs.get("dt_h", 1.0))) / 1e3
    cons = monthly_sums(ds, ds.pv_power_kw.sum("pv").values + ds.green_direct_kw.values
                        + ds.grid_import_kw.values - ds.grid_export_kw.values)
    share_t = monthly_sums(ds, np.full(T, 1.0 / T / float(ds.attrs.get("dt_h", 1.0))))
    fig, ax = _subplots((10, 4.5))
    x = _month_axis(ax, months)
    ax.bar(x, elec_t, 0.7, color=COLORS["grid import"], label="grid electricity")
    title = "monthly emissions"
    if kpis is not None:
        ledger = kpis.get("emissions")
        fuel_t = (ledger["scope1_fuels_t"] if ledger else
                  kpis["co2_t"] + kpis.get("offsets_t", 0.0) - float(elec_t.sum()))
        ind = kpis["zero_carbon_indicator"]
        tce = kpis["energy_tce"]
        k = ind.get("kgce_per_kwh", KGCE_PER_KWH_EQUAL_VALUE)
        elec_tce = k * kpis["consumption_kwh"] / 1e3
        tce_m = k * cons / 1e3 + (tce - elec_tce) * share_t
        credits_t = float(elec_t.sum()) + fuel_t - ind["value"] * tce
        cons_share = cons / cons.sum() if cons.sum() > 0 else share_t
        if abs(fuel_t) > 1e-9:
            ax.bar(x, fuel_t * share_t, 0.7, bottom=elec_t, color=COLORS["fuels"], label="fuels")
        ax.bar(x, -credits_t * cons_share, 0.7, color=COLORS["credits"], alpha=0.6,
               label="certificates & offsets (pro rata)")
        net = elec_t + fuel_t * share_t - credits_t * cons_share
        ax.plot(x, net, "kD", ms=5, label="net (indicator)")
        ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[ind["threshold"] * tce_m,
                                                     ind["threshold"] * tce_m[-1]],
                where="post", color="r", lw=1.5,
                label=f"allowance {ind['threshold']} tCO2/tce")
        verdict = "PASS" if ind["pass"] else "FAIL"
        title += f" — indicator {ind['value']:.3f} vs ≤ {ind['threshold']} tCO2/tce: {verdict}"
    if cap_t is not None:
        ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[cap_t * share_t, cap_t * share_t[-1]],
                where="post", color="k", ls="--", lw=1, label="emission cap (pro rata)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("CO2 [t]")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    _headroom(ax)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    ax.set_title(_title(ds, title), fontsize=10)
    fig.tight_layout()
    return fig


@_plot
def cost_breakdown_chart(kpis: Mapping[str, Any]) -> Figure:
    """Horizontal bars of the cost breakdown: costs to the right, revenues to the left, total."""
    cur = kpis.get("currency", "")
    revenues = ("export_revenue", "dr_revenue")
    # every part of at least half a cent, however small next to the rest (penalties, revenues)
    items = [(k.replace("_", " "), -v if k in revenues else v)
             for k, v in kpis["cost_breakdown"].items() if abs(v) >= 0.005]
    items.append(("total", kpis["total_cost"]))
    names = [n for n, _ in items]
    signed = [v for _, v in items]
    gross = sum(v for v in signed[:-1] if v > 0)
    shares = percent_shares(signed, gross)
    values = np.array(signed) / 1e3
    fig, ax = _subplots((8, 0.45 * len(items) + 1.2))
    colors = ["#2f4b7c" if n == "total" else "#3c9d4e" if v < 0 else "#e76f51"
              for n, v in zip(names, values, strict=True)]
    y = np.arange(len(items))[::-1]
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, names)
    for yi, v, share in zip(y, values, shares, strict=True):
        ax.annotate(f"{v:,.1f} ({share:.1f} %)", (v, yi), xytext=(4 if v >= 0 else -4, 0),
                    textcoords="offset points", va="center", ha="left" if v >= 0 else "right",
                    fontsize=8)
    ax.axvline(0, color="k", lw=0.6)
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel(f"thousand {cur}; (share of the gross cost: costs add up to 100 %, "
                  "revenues negative)".strip())
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.15 * (hi - lo) * (lo < 0), hi + 0.3 * (hi - lo))
    ax.set_title(f"cost breakdown, total {kpis['total_cost']:,.0f} {cur}")
    fig.tight_layout()
    return fig


def _label(da: xr.DataArray) -> str:
    units = da.attrs.get("units")
    return f"{da.name} [{units}]" if units else str(da.name)


@_plot
def kpi_line(da: xr.DataArray, x: str | None = None, hue: str | None = None) -> Figure:
    """A KPI of a sweep against one swept parameter, one line per value of a second one.

    Parameters
    ----------
    da : xarray.DataArray
        A KPI with one or two sweep dimensions (other dimensions must have length 1).
    x, hue : str, optional
        Dimension on the x axis and dimension per line (default: the first / second dim).
    """
    da = da.squeeze(drop=True)
    dims = [str(d) for d in da.dims]
    if not 1 <= len(dims) <= 2:
        raise ScenarioError("kpi_line.da", dims, "a KPI with one or two sweep dimensions")
    x = x or dims[0]
    hue = hue or next((d for d in dims if d != x), None)
    fig, ax = _subplots((8, 4.5))
    if hue is None:
        ax.plot(da[x].values, da.values, "o-")
    else:
        for value in da[hue].values:
            ax.plot(da[x].values, da.sel({hue: value}).values, "o-", label=f"{hue} = {value}")
        ax.legend(fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(_label(da))
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.grid(alpha=0.3)
    ax.set_title(f"{da.name} by {x}" + (f" and {hue}" if hue else ""))
    fig.tight_layout()
    return fig


@_plot
def kpi_surface(da: xr.DataArray, x: str | None = None, y: str | None = None) -> Figure:
    """A KPI over two swept parameters as a colour map with the values written in each cell."""
    da = da.squeeze(drop=True)
    if da.ndim != 2:
        raise ScenarioError("kpi_surface.da", list(da.dims), "a KPI with two sweep dimensions")
    x = x or str(da.dims[1])
    y = y or next(str(d) for d in da.dims if d != x)
    z = da.transpose(y, x).values.astype(float)
    fig, ax = _subplots((8, 5))
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(im, ax=ax, label=_label(da))
    ax.set_xticks(range(z.shape[1]), [f"{v:g}" if np.isreal(v) else str(v)
                                      for v in da[x].values])
    ax.set_yticks(range(z.shape[0]), [f"{v:g}" if np.isreal(v) else str(v)
                                      for v in da[y].values])
    mid = np.nanmean(z) if np.isfinite(z).any() else 0.0
    for (i, j), val in np.ndenumerate(z):
        ax.text(j, i, f"{val:.3g}", ha="center", va="center", fontsize=7,
                color="w" if val < mid else "k")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{da.name} over {x} × {y}")
    fig.tight_layout()
    return fig


def pareto_mask(x: Any, y: Any) -> np.ndarray:
    """Non-dominated points when both ``x`` and ``y`` are minimised (e.g. CO2 and cost).

    A point is dominated if another is no worse in both and better in one. NaN points are never
    on the front.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    no_worse = (x[None, :] <= x[:, None]) & (y[None, :] <= y[:, None])
    better = (x[None, :] < x[:, None]) | (y[None, :] < y[:, None])
    dominated = (no_worse & better).any(axis=1)
    return ~dominated & np.isfinite(x) & np.isfinite(y)


@_plot
def pareto_front(x: Any, y: Any, *, labels: Sequence[Any] | None = None,
                 x_label: str = "CO2 [t]", y_label: str = "total cost",
                 title: str = "Pareto front") -> Figure:
    """All evaluated points, the non-dominated ones joined as the Pareto front.

    Parameters
    ----------
    x, y : array-like
        Both minimised, e.g. CO2 [t] and cost [currency].
    labels : sequence, optional
        A label per point; the points on the front are annotated with theirs.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    front = pareto_mask(x, y)
    order = np.argsort(x[front])
    fig, ax = _subplots((8, 5))
    ax.scatter(x[~front], y[~front], color="0.6", label="dominated")
    ax.plot(x[front][order], y[front][order], "o-", color="C3", label="Pareto front")
    if labels is not None:
        texts = np.asarray([str(lab) for lab in labels])
        for i, (xi, yi, lab) in enumerate(zip(x[front][order], y[front][order],
                                              texts[front][order], strict=True)):
            # alternate above/below so neighbours on a flat front stay readable
            ax.annotate(lab, (xi, yi), fontsize=7, xytext=(4, 6 if i % 2 == 0 else -12),
                        textcoords="offset points")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def report_figures(ds: xr.Dataset, kpis: Mapping[str, Any] | None = None) -> dict[str, Figure]:
    """The standard figures of one result, by name (as used in the HTML report)."""
    return {
        "dispatch": dispatch_stack(ds),
        "monthly_balance": monthly_energy_balance(ds, kpis),
        "import_duration": import_duration_curve(ds, kpis),
        "schedules": schedule_heatmaps(ds),
        "emissions": monthly_emissions(ds, kpis),
        **({"costs": cost_breakdown_chart(kpis)} if kpis is not None else {}),
    }


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 110) -> bytes:
    """Render a figure; ``fmt`` is ``"png"`` or ``"svg"``."""
    if fmt not in ("png", "svg"):
        raise ScenarioError("format", fmt, "'png' or 'svg'")
    buf = io.BytesIO()
    with _drawing():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> None:
    """Save a figure atomically; the format follows the suffix (.png or .svg)."""
    p = Path(path)
    atomic_write_bytes(p, figure_bytes(fig, p.suffix.lstrip(".").lower() or "png", dpi))


def save_dispatch_week(ds: xr.Dataset, path: str | Path) -> None:
    """Dispatch stack of the busiest week, saved to ``path``."""
    save_figure(dispatch_stack(ds), path)
