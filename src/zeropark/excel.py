"""Results as an Excel workbook (``results.xlsx``) for planners who work in spreadsheets.

Sheets: ``KPIs`` (every KPI of ``kpis.json`` with its unit; cost lines with revenues negative, so
they add up to the total cost), ``Monthly`` (energy, peak, emissions and cost per billing month),
``Time series`` (the table of ``timeseries.csv``) and ``About`` (scenario, solver status, sign
conventions, time zone). Written with openpyxl, an optional dependency
(``pip install "zeropark[excel]"``), imported only when a workbook is written.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from zeropark.errors import ZeroparkError
from zeropark.io import atomic_write_bytes

REVENUES = ("export_revenue", "dr_revenue")

# unit of a KPI by the end of its name (longest suffix first)
_SUFFIX_UNITS = (("_per_tce", "tCO2/tce"), ("_kwh", "kWh"), ("_mwh", "MWh"), ("_kw", "kW"),
                 ("_tce", "tce"), ("_t", "t"), ("_s", "s"))
_SHARES = ("self_consumption", "self_sufficiency", "green_share", "green_share_target",
           "clean_energy_share")


def require_openpyxl() -> Any:
    """The openpyxl module, or a one-line error saying how to install it."""
    try:
        import openpyxl
    except ImportError:
        raise ZeroparkError("writing Excel needs openpyxl: pip install \"zeropark[excel]\" "
                            "(or pip install openpyxl)") from None
    return openpyxl


def _unit(key: str, currency: str) -> str:
    leaf = key.split(".")[-1]
    if key == "total_cost" or key.startswith("cost_breakdown.") or leaf in ("dr_revenue",
                                                                             "objective", "bound"):
        return currency
    if leaf in _SHARES:
        return "1"
    if key.startswith("zero_carbon_indicator.") and leaf in ("value", "threshold"):
        return "tCO2/tce"
    if key.startswith("peak_import_kw_by_month."):
        return "kW"
    if key.startswith("timings."):
        return "s"
    return next((unit for suffix, unit in _SUFFIX_UNITS if leaf.endswith(suffix)), "")


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += _flat(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, (list, tuple)):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return [(prefix, value)]


def kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(key, value, unit) of every KPI, dotted keys for nested ones; revenues negative."""
    cur = kpis.get("currency", "CNY")
    rows = []
    for key, value in _flat(kpis):
        leaf = key.split(".")[-1]
        if key.startswith("cost_breakdown.") and leaf in REVENUES and isinstance(value, float):
            value = -value
        rows.append((key, value, _unit(key, cur)))
    return rows


def monthly_table(ds: xr.Dataset) -> pd.DataFrame:
    """Energy [MWh], billed peak [kW], emissions [t] and grid cost per billing month."""
    dt = float(ds.attrs.get("dt_h", 1.0))
    months = pd.DatetimeIndex(ds.time.values).to_period("M").astype(str)

    def per_month(values: Any, factor: float = dt / 1e3) -> pd.Series:
        return pd.Series(np.asarray(values, float) * factor, index=months).groupby(level=0).sum()

    imp, exp = ds.grid_import_kw.values, ds.grid_export_kw.values
    pv = ds.pv_power_kw.sum("pv").values
    gd = ds.green_direct_kw.values
    cur = ds.attrs.get("currency", "CNY")
    table = pd.DataFrame({
        "consumption_mwh": per_month(pv + gd + imp - exp),
        "pv_used_mwh": per_month(pv),
        "pv_curtailed_mwh": per_month(ds.pv_curtailed_kw.sum("pv").values),
        "green_direct_mwh": per_month(gd),
        "grid_import_mwh": per_month(imp),
        "grid_export_mwh": per_month(exp),
        "ev_energy_mwh": per_month(ds.ev_power_kw.sum("ev_group").values),
        "emissions_t": per_month(ds.emissions_kg.values, 1e-3),
        f"energy_cost_{cur}": per_month(ds.import_price_per_kwh.values * imp, dt),
        f"export_revenue_{cur}": per_month(ds.export_price_per_kwh.values * exp, dt),
    })
    peaks = pd.Series(ds.peak_import_kw.values, index=[str(m) for m in ds.month.values])
    table.insert(6, "billed_peak_import_kw", peaks.reindex(table.index))
    table.index.name = "month"
    return table


def _about(ds: xr.Dataset, kpis: dict[str, Any]) -> list[tuple[str, Any]]:
    solver = kpis.get("solver", {})
    rows = [
        ("scenario", ds.attrs.get("scenario", "")),
        ("scenario_hash", ds.attrs.get("scenario_hash", "")),
        ("solver status", str(solver.get("status", ""))),
        ("LP relaxation", "yes: " + solver["note"] if solver.get("relaxation") else "no"),
        ("time", f"step starts in local standard time, UTC{ds.attrs.get('time_utc_offset', '')} "
                 f"({ds.attrs.get('time_zone', '')}); powers are means over the step"),
        ("signs", "cost lines: costs positive, revenues (export, demand response) negative; "
                  "they add up to total_cost"),
        ("units", "in each column or KPI name (_kw, _kwh, _mwh, _t) or the KPIs sheet's unit "
                  "column; shares as fractions (0.25 = 25 %)"),
        ("versions", ds.attrs.get("versions", "")),
    ]
    note = solver.get("note") if not solver.get("relaxation") else None
    if note:
        rows.append(("note", note))
    return rows


def workbook_bytes(ds: xr.Dataset, kpis: dict[str, Any]) -> bytes:
    """The workbook of one result as bytes (see the module docstring)."""
    openpyxl = require_openpyxl()
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from zeropark.results import timeseries_frame

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: Any, widths: Sequence[float]) -> None:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "B2"
        for i, width in enumerate(widths):
            ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = width
        cells = []
        for name in header:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            ws.append(row)

    sheet("KPIs", ["kpi", "value", "unit"], kpi_rows(kpis), [44, 20, 12])
    monthly = monthly_table(ds)
    sheet("Monthly", ["month", *monthly.columns],
          ([m, *(float(v) for v in row)] for m, row in zip(monthly.index, monthly.to_numpy(),
                                                           strict=True)),
          [10] + [18] * len(monthly.columns))
    frame = timeseries_frame(ds)
    stamps = pd.DatetimeIndex(frame.index).to_pydatetime()
    sheet("Time series", ["time", *frame.columns],
          ([t, *(float(v) for v in row)] for t, row in zip(stamps, frame.to_numpy(float),
                                                           strict=True)),
          [18] + [16] * len(frame.columns))
    sheet("About", ["item", "value"], _about(ds, kpis), [16, 100])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_excel(result: Any, path: str | Path) -> Path:
    """Write ``results.xlsx`` of a solved :class:`~zeropark.Result` atomically."""
    if result.dataset is None:
        raise ZeroparkError("no workbook: the solve produced no solution")
    target = Path(path)
    atomic_write_bytes(target, workbook_bytes(result.dataset, result.kpis))
    return target
