"""Report sections that summarise a scenario and a sweep or Pareto study (used by ``html.py``).

Kept apart from the page layout so each part stays small. Summary rows are plain
``(label, text)`` pairs; the page escapes them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

FigureHtml = Callable[[Any, str, str], str]

# KPIs a sweep is usually about, in the order they are plotted.
SWEEP_KPIS = ("total_cost", "co2_t", "green_share", "co2_per_tce", "clean_energy_share",
              "self_sufficiency", "import_kwh")
_X_COLUMNS = ("co2_t", "emissions_t", "co2", "co2_per_tce")
_Y_COLUMNS = ("total_cost", "annualized_cost", "annual_cost", "cost", "objective")



# Bidirectional controls (U+202E turns "txt.exe" into "exe.txt" on screen) and other invisible
# format or control characters are shown as visible code points instead.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f"
                        "\u2028-\u202e\u2060-\u2069\ufeff]")


def esc(value: Any) -> str:
    """HTML-escaped text of a value; bidi and other invisible controls shown as ``[U+202E]``."""
    text = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value))
    return html.escape(text, quote=True)

def _horizon_text(ds: xr.Dataset) -> str:
    t = pd.DatetimeIndex(ds.time.values)
    dt_h = float(ds.attrs.get("dt_h", 1.0))
    end = t[-1] + pd.Timedelta(hours=dt_h)
    return (f"{t[0]:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
            f"({len(t)} steps of {dt_h * 60:g} min)")


def _names(values: Any) -> list[str]:
    return [str(v) for v in np.asarray(values).ravel()]


def scenario_rows_from_scenario(sc: Any, ds: xr.Dataset | None) -> list[tuple[str, str]]:
    """Summary of a :class:`zeropark.Scenario` with nameplate capacities and targets."""
    cur = sc.currency
    rows = [("park", sc.name + (f" — {sc.description}" if sc.description else "")),
            ("site", f"{sc.site.name} ({sc.site.latitude:.2f}° N, {sc.site.longitude:.2f}° E, "
                     f"{sc.site.timezone})")]
    if ds is not None:
        rows.append(("horizon solved", _horizon_text(ds)))
    else:
        rows.append(("horizon", f"from {sc.time.start}, step {sc.time.step}"))
    rows.append(("PV", ", ".join(f"{a.name} {a.capacity_kw:,.0f} kWp" for a in sc.pv)
                 or "none"))
    rows.append(("storage", ", ".join(f"{u.name} {u.energy_kwh:,.0f} kWh / {u.power_kw:,.0f} kW"
                                      for u in sc.storage) or "none"))
    rows.append(("EV charging piles", ", ".join(
        f"{g.name} {g.count} × {g.power_kw:g} kW" + (" (V2G)" if g.v2g else "")
        for g in sc.ev.groups) or "none"))
    rows.append(("flexible loads", ", ".join(
        f"{f.name} ({f.kind}) {f.min_power_kw:,.0f}–{f.max_power_kw:,.0f} kW, "
        f"{f.energy_per_window_kwh:,.0f} kWh per {f.window_h} h" for f in sc.flexible_loads)
        or "none"))
    g = sc.grid
    rows.append(("grid", f"import ≤ {g.import_limit_kw:,.0f} kW, export ≤ "
                         f"{g.export_limit_kw:,.0f} kW"
                         + (" (anti-backflow)" if g.export_limit_kw == 0 else "")
                         + f"; tariff {g.tariff or 'from file'}; emission factor "
                           f"{g.emission_factor or 'from file'}"))
    gp = sc.green_power
    green = []
    if gp.direct is not None:
        green.append(f"direct {gp.direct.capacity_kw:,.0f} kW ({gp.direct.shape}) at "
                     f"{gp.direct.price_per_kwh:g} {cur}/kWh")
    if gp.certificates is not None:
        green.append(f"certificates at {gp.certificates.price_per_mwh:g} {cur}/MWh")
    if gp.offsets is not None:
        green.append(f"CCER offsets at {gp.offsets.price_per_t:g} {cur}/t "
                     f"(≤ {gp.offsets.max_share:.0%} of emissions)")
    rows.append(("green power", "; ".join(green) or "none"))
    tg = sc.targets
    targets = []
    if tg.green_share is not None:
        targets.append(f"green share ≥ {tg.green_share.value:.0%} ({tg.green_share.mode})")
    if tg.emission_cap is not None:
        targets.append(f"emissions ≤ {tg.emission_cap.value_t:,.0f} t ({tg.emission_cap.mode})")
    if tg.zero_carbon_indicator is not None:
        z = tg.zero_carbon_indicator
        targets.append(f"core indicator ≤ {z.threshold_t_per_tce:g} tCO2/tce ({z.mode})")
    if tg.carbon_price_per_t:
        targets.append(f"carbon price {tg.carbon_price_per_t:g} {cur}/t")
    rows.append(("targets", "; ".join(targets) or "none"))
    events = sc.demand_response.events
    if events:
        rows.append(("demand response", f"{len(events)} events: "
                                         + ", ".join(e.name for e in events)))
    if sc.sources:
        rows.append(("sources", "; ".join(sc.sources)))
    return rows


def scenario_rows_from_dataset(ds: xr.Dataset, kpis: dict[str, Any]) -> list[tuple[str, str]]:
    """Summary read from a result dataset alone (sizes as observed in the solution)."""
    rows = [("park", str(ds.attrs.get("scenario", kpis.get("scenario", "")))),
            ("horizon solved", _horizon_text(ds)),
            ("peak load (inflexible)", f"{float(ds.load_kw.max()):,.0f} kW")]
    if ds.sizes.get("pv"):
        peak = ds.pv_available_kw.max("time")
        rows.append(("PV (peak available output)", ", ".join(
            f"{n} {float(v):,.0f} kW" for n, v in zip(_names(ds.pv.values), peak.values,
                                                       strict=True))))
    if ds.sizes.get("storage"):
        soc, kwh = ds.storage_soc.values, ds.storage_soc_kwh.values
        ratio = np.divide(kwh, soc, out=np.zeros_like(kwh), where=soc > 1e-9)
        power = np.maximum(ds.storage_charge_kw.max("time").values,
                           ds.storage_discharge_kw.max("time").values)
        rows.append(("storage (capacity; highest power used)", ", ".join(
            f"{n} {cap:,.0f} kWh; {p:,.0f} kW" for n, cap, p in zip(
                _names(ds.storage.values), ratio.max(axis=1), power, strict=True))))
    if ds.sizes.get("ev_group"):
        rows.append(("EV pile groups", ", ".join(_names(ds.ev_group.values))))
    if ds.sizes.get("flex"):
        rows.append(("flexible loads", ", ".join(_names(ds.flex.values))))
    rows.append(("note", "run the report with --scenario FILE for nameplate capacities, "
                         "tariff and targets"))
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:,.4g}" if abs(float(value)) < 1e4 else f"{value:,.0f}"
    return str(value)


def _frame_table(df: pd.DataFrame, max_rows: int = 100) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{esc(_fmt(v))}</td>' for v in row) + "</tr>"
        for row in df.head(max_rows).itertuples(index=False))
    more = (f'<p class="sub">{len(df) - max_rows} more rows in the file.</p>'
            if len(df) > max_rows else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _kpi_vars(sweep: xr.Dataset) -> list[str]:
    numeric = [str(n) for n, da in sweep.data_vars.items()
               if np.issubdtype(da.dtype, np.number)
               and 1 <= sum(1 for d in da.dims if sweep.sizes[d] > 1) <= 2]
    preferred = [n for n in SWEEP_KPIS if n in numeric]
    return (preferred or numeric)[:4]


def sweep_section(sweep: xr.Dataset, figure_html: FigureHtml) -> str:
    """Figures and a table of a sweep dataset (KPIs over scenario dimensions)."""
    from zeropark.plots import kpi_line, kpi_surface, pareto_front

    dims = [d for d in sweep.dims if sweep.sizes[d] > 1]
    listing = "; ".join(f"{d}: " + ", ".join(_fmt(v) for v in sweep[d].values[:12])
                        + (" …" if sweep.sizes[d] > 12 else "") for d in dims if d in sweep.coords)
    parts = [f'<section id="sweep"><h2>Sweep</h2><p class="sub">{esc(listing)}</p>']
    names = _kpi_vars(sweep)
    if not names:
        parts.append('<p class="note">sweep.nc holds no KPI over one or two swept dimensions to '
                     "plot.</p></section>")
        return "".join(parts)
    for name in names:
        da = sweep[name].squeeze(drop=True)
        fig = kpi_surface(da) if da.ndim == 2 else kpi_line(da)
        parts.append(figure_html(fig, f"{name} across the sweep", f"sweep-{name}"))
    if {"co2_t", "total_cost"} <= set(sweep.data_vars):
        flat = sweep[["co2_t", "total_cost"]].to_dataframe().reset_index()
        labels = flat[dims].astype(str).agg(", ".join, axis=1) if dims else None
        fig = pareto_front(flat["co2_t"], flat["total_cost"], labels=labels,
                           title="cost vs CO2 over the sweep")
        parts.append(figure_html(fig, "Cost against CO2 of every sweep point; the line joins the "
                                      "non-dominated ones.", "sweep-pareto"))
    table = sweep[names].to_dataframe().reset_index()
    keep = [c for c in table.columns if c in dims or c in names]
    parts.append(_frame_table(table[keep]))
    parts.append("</section>")
    return "".join(parts)


def pareto_section(df: pd.DataFrame, figure_html: FigureHtml) -> str:
    """The Pareto front of a ``pareto.csv`` (one row per point; CO2 and cost columns)."""
    from zeropark.plots import pareto_front

    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    x = next((c for c in _X_COLUMNS if c in numeric), None)
    y = next((c for c in _Y_COLUMNS if c in numeric), None)
    if x is None or y is None:
        rest = [c for c in numeric if c not in (x, y)]
        x, y = x or (rest.pop(0) if rest else None), y or (rest.pop(0) if rest else None)
    parts = ['<section id="pareto"><h2>Pareto front</h2>']
    if x is None or y is None:
        parts.append('<p class="note">pareto.csv needs two numeric columns (e.g. co2_t and '
                     "total_cost).</p>")
    else:
        fig = pareto_front(df[x], df[y], x_label=x, y_label=y, title=f"{y} vs {x}")
        parts.append(figure_html(fig, f"Pareto front: {y} against {x}.", "pareto"))
    parts.append(_frame_table(df))
    parts.append("</section>")
    return "".join(parts)


def sizing_section(sizing: dict[str, Any], currency: str) -> str:
    """Sizes chosen by ``zeropark.planning`` (``kpis["sizing"]``): what to build and its cost."""
    rows = []
    for a in sizing.get("assets", []):
        unit = esc(a.get("unit", ""))
        rows.append(
            f"<tr><td>{esc(a.get('asset', ''))}</td>"
            f'<td class="num">{a.get("existing", 0):,.0f} {unit}</td>'
            f'<td class="num" data-kpi="sizing.{esc(a.get("asset", ""))}" '
            f'data-value="{a.get("size", 0)!r}"><strong>{a.get("size", 0):,.0f} {unit}</strong></td>'
            f'<td class="num">{a.get("cap", 0):,.0f} {unit}</td>'
            f'<td class="num">{a.get("investment", 0):,.0f}</td>'
            f'<td class="num">{a.get("annualized_cost_per_year", 0):,.0f}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("asset", "existing", "chosen", "cap",
                                              f"investment [{currency}]",
                                              f"annualised [{currency}/year]"))
    total = (f'<p class="sub">Investment {sizing.get("investment", 0):,.0f} {currency}; '
             f'annualised {sizing.get("annualized_cost_per_year", 0):,.0f} {currency}/year.</p>')
    return (f'<section id="sizing"><h2>Sizing</h2><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{total}</section>")
