"""A self-contained HTML report of a run folder, for planners to hand to their management.

``write_report(DIR, "report.html")`` reads what ``zeropark run`` wrote into DIR (``kpis.json``,
``results.nc``; ``sweep.nc`` and ``pareto.csv`` when a sweep or a Pareto study wrote them) and
writes one HTML file with everything embedded (PNG figures as data URIs, inline CSS, no external
resource: a Content-Security-Policy forbids any), so it can be mailed or archived as it is.

Sections: scenario summary, the zero-carbon park check (core indicator value vs threshold, clean
energy share vs 90 %, green share vs target), KPI table, cost breakdown, the sizes chosen (runs of
``zeropark.planning``), figures, sweep/Pareto results, solver details. Every KPI cell carries
``data-kpi`` (its key in ``kpis.json``) and ``data-value`` (the raw number), so the shown values
can be checked against the file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from zeropark.errors import ScenarioError
from zeropark.guard import read_input_bytes, read_input_text
from zeropark.io import atomic_write_text
from zeropark.report.sections import (
    esc,
    pareto_section,
    scenario_rows_from_dataset,
    scenario_rows_from_scenario,
    sizing_section,
    sweep_section,
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;margin:0;color:#1d2733;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 10px;font-size:19px;border-bottom:2px solid
#e2e6ea;padding-bottom:4px}.sub{color:#5b6773;margin:6px 0 16px;font-size:14px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid #e2e6ea;text-align:left;vertical-align:top}
#scenario td:first-child{white-space:nowrap;width:1%;color:#5b6773}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;gap:14px;flex-wrap:wrap}.card{flex:1 1 250px;border:1px solid #d8dde2;
border-radius:8px;padding:12px 16px}.card .big{font-size:24px;font-weight:600}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;font-size:13px;
color:#fff}.pass{background:#2e8b57}.fail{background:#c0392b}.info{background:#6c7a89}
figure{margin:16px 0;page-break-inside:avoid}figure img{max-width:100%;height:auto;
border:1px solid #eef0f2}figcaption{color:#5b6773;font-size:13px}
.note{background:#fff8e1;border-left:4px solid #f2b701;padding:8px 12px;font-size:14px}
footer{margin-top:40px;color:#8a96a3;font-size:12px}
@media print{body{background:#fff}main{padding:0}}
"""

# Records script errors, broken images and whether Chinese text renders with real glyphs on
# <body> (checked by the headless-browser test); the report reads fine without it. The Chinese
# check draws 园 and 区 in the page's font at 40 px: real glyphs are about 1 em wide and differ;
# "tofu" boxes (no CJK font installed) are all the same picture.
SCRIPT = """
(function(){var b=document.body,n=0;window.addEventListener('error',function(){n+=1;
b.setAttribute('data-js-errors',String(n));});
function cjk(){var c=document.createElement('canvas');c.width=c.height=48;
var x=c.getContext('2d',{willReadFrequently:true});x.font='40px '+getComputedStyle(b).fontFamily;
var w=x.measureText('\u56ed').width/40,p=[];['\u56ed','\u533a'].forEach(function(ch){
x.clearRect(0,0,48,48);x.fillText(ch,2,40);p.push(Array.prototype.join.call(
x.getImageData(0,0,48,48).data));});b.setAttribute('data-cjk-width-em',w.toFixed(2));
b.setAttribute('data-cjk-distinct',p[0]!==p[1]?'1':'0');}
window.addEventListener('load',function(){
var imgs=Array.prototype.slice.call(document.images),bad=imgs.filter(function(i){
return !(i.complete&&i.naturalWidth>0);});b.setAttribute('data-images',String(imgs.length));
b.setAttribute('data-images-broken',String(bad.length));cjk();b.setAttribute('data-js-errors',
String(n));b.setAttribute('data-ready','1');});})();
"""



def _csp_source(text: str) -> str:
    """CSP hash source of an inline element's exact text (no 'unsafe-inline' needed)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Only the report's own <style> and <script> may run: they are allowed by their hashes, so an
# injected script or style (a name from a scenario file, say) would be blocked.
CSP = (f"default-src 'none'; img-src data:; style-src {_csp_source(CSS)}; "
       f"script-src {_csp_source(SCRIPT)}")


@dataclass
class RunOutputs:
    """What a run folder holds."""

    path: Path
    kpis: dict[str, Any]
    dataset: xr.Dataset | None
    sweep: xr.Dataset | None
    pareto: pd.DataFrame | None


def read_run_dir(path: str | Path) -> RunOutputs:
    """Read ``kpis.json`` and, when present, ``results.nc``, ``sweep.nc`` and ``pareto.csv``.

    Raises
    ------
    ScenarioError
        If the folder or its ``kpis.json`` is missing or unreadable.
    """
    p = Path(path)
    kpis_file, failure = p / "kpis.json", p / "failure.json"
    failed = failure.is_file() and (not kpis_file.is_file()
                                    or failure.stat().st_mtime >= kpis_file.stat().st_mtime)
    if failed:
        kpis_file = failure  # the latest run found no solution: report that, not older results
    if not kpis_file.is_file():
        raise ScenarioError("DIR", str(path), "a folder written by `zeropark run` "
                                              "(with kpis.json and results.nc)")
    field = f"DIR/{kpis_file.name}"
    text = read_input_text(kpis_file, field, what="JSON file")  # regular file, size limit
    try:
        kpis = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ScenarioError(field, str(kpis_file), f"valid JSON ({err})") from None
    _check_kpis(kpis, field)
    dataset = None if failed else _load_nc(p / "results.nc")
    return RunOutputs(p, kpis, dataset, _load_nc(p / "sweep.nc"), _load_csv(p / "pareto.csv"))


#: KPIs the report computes with: each must be a number when present.
_NUMERIC_KPIS = ("total_cost", "objective", "consumption_kwh", "import_kwh", "export_kwh",
                 "pv_generation_kwh", "pv_curtailed_kwh", "self_consumption", "self_sufficiency",
                 "green_share", "green_share_target", "co2_t", "clean_energy_share",
                 "ev_energy_kwh", "ev_unmet_kwh", "dr_revenue")


def _check_kpis(kpis: Any, field: str) -> None:
    """A hand-edited or foreign ``kpis.json``: refuse what the report cannot show correctly."""
    if not isinstance(kpis, dict):
        raise ScenarioError(field, type(kpis).__name__, "a JSON object of KPIs")
    for key in _NUMERIC_KPIS:
        value = kpis.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ScenarioError(f"{field}:{key}", value, "a number")


def _load_nc(path: Path) -> xr.Dataset | None:
    if not path.is_file():
        return None
    try:
        return xr.load_dataset(path, engine="h5netcdf")
    except (OSError, ValueError) as err:
        raise ScenarioError(path.name, str(path), f"a NetCDF file written by zeropark ({err})") \
            from None


def _load_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    raw = read_input_bytes(path, path.name, what="CSV file")  # size limit
    try:
        return pd.read_csv(io.BytesIO(raw))
    except (ValueError, OSError) as err:
        raise ScenarioError(path.name, str(path), f"a CSV table ({err})") from None


# -- formatting ------------------------------------------------------------------------------


def _mwh(v: float) -> str:
    return f"{v / 1e3:,.1f} MWh"


def _pct(v: float) -> str:
    return f"{v:.1%}"


def _t(v: float) -> str:
    return f"{v:,.1f} t"


def kpi_rows(currency: str) -> list[tuple[str, str, Callable[[float], str]]]:
    """(key in kpis.json, label, formatter) of the KPI table."""
    def money(v: float) -> str:
        return f"{v:,.0f} {currency}"

    return [
        ("total_cost", "Total cost", money),
        ("consumption_kwh", "Electricity consumption", _mwh),
        ("import_kwh", "Grid import", _mwh),
        ("export_kwh", "Grid export", _mwh),
        ("pv_generation_kwh", "PV used on site", _mwh),
        ("pv_curtailed_kwh", "PV curtailed", _mwh),
        ("green_direct_kwh", "Direct green power (绿电直连)", _mwh),
        ("certificates_mwh", "Green certificates (GEC) bought", lambda v: f"{v:,.1f} MWh"),
        ("offsets_t", "CCER offsets used", _t),
        ("self_consumption", "PV self-consumption (share of PV used on site, not exported)", _pct),
        ("self_sufficiency", "Self-sufficiency (share of consumption from on-site PV)", _pct),
        ("green_share", "Green-power share (incl. certificates)", _pct),
        ("physical_green_share", "Physical renewable share (PV + direct supply)", _pct),
        ("co2_t", "CO2 of the core indicator (ledger line indicator_t)", _t),
        ("energy_tce", "Energy consumption", lambda v: f"{v:,.1f} tce"),
        ("co2_per_tce", "CO2 per tce", lambda v: f"{v:.3f} tCO2/tce"),
        ("clean_energy_share", "Clean-energy share of energy use in tce (incl. certificates)",
         _pct),
        ("ev_energy_kwh", "EV charging energy", _mwh),
        ("ev_unmet_kwh", "EV energy not delivered", lambda v: f"{v:,.1f} kWh"),
        ("dr_revenue", "Demand-response revenue", money),
        ("dr_penalty", "Demand-response penalty", money),
    ]


def _num_attr(v: Any) -> str:
    return esc(json.dumps(v)) if isinstance(v, (int, float)) else ""


def _kpi_td(key: str, value: Any, text: str) -> str:
    return f'<td class="num" data-kpi="{esc(key)}" data-value="{_num_attr(value)}">{esc(text)}</td>'


def _badge(ok: bool | None, yes: str = "PASS", no: str = "FAIL") -> str:
    if ok is None:
        return '<span class="badge info">no target</span>'
    return f'<span class="badge {"pass" if ok else "fail"}">{yes if ok else no}</span>'


def _table(head: list[str], rows: list[str], num_cols: tuple[int, ...] = ()) -> str:
    th = "".join(f'<th class="num">{esc(h)}</th>' if i in num_cols else f"<th>{esc(h)}</th>"
                 for i, h in enumerate(head))
    thead = f"<thead><tr>{th}</tr></thead>" if any(head) else ""
    return f"<table>{thead}<tbody>{''.join(rows)}</tbody></table>"


def _signed(value: float, digits: int = 0) -> float:
    """``value`` without a negative zero once rounded (so -0.3 shows as 0)."""
    return round(value, digits) + 0.0


def image_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def figure_html(fig: Any, caption: str, key: str) -> str:
    """Render a matplotlib figure into an embedded ``<figure>`` (the figure is closed)."""
    from zeropark.plots import figure_bytes

    return (f'<figure data-figure="{esc(key)}">{image_tag(figure_bytes(fig), caption)}'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


# -- sections --------------------------------------------------------------------------------
def indicator_section(k: dict[str, Any], horizon_days: float | None) -> str:
    """The zero-carbon park check: core indicator, clean-energy share, green share."""
    zc = k["zero_carbon_indicator"]
    clean = k.get("clean_energy_share")
    clean_ok = k.get("clean_energy_share_pass_90pct",
                     None if clean is None else clean >= 0.9 - 1e-9)
    target = k.get("green_share_target")
    share_ok = None if target is None else k["green_share"] >= target - 1e-9
    cards = [
        ('<div class="card" data-check="indicator"><div>Core indicator: CO2 per unit of energy '
         f'consumption</div><div class="big" data-kpi="zero_carbon_indicator.value" '
         f'data-value="{_num_attr(zc["value"])}">{zc["value"]:.3f} tCO2/tce</div>'
         f'<div>threshold ≤ <span data-kpi="zero_carbon_indicator.threshold" '
         f'data-value="{_num_attr(zc["threshold"])}">{zc["threshold"]:g}</span> tCO2/tce '
         f'{_badge(bool(zc["pass"]))}</div></div>'),
    ]
    if clean is not None:
        cards.append(
            '<div class="card" data-check="clean-energy"><div>Clean-energy share of energy '
            f'consumption</div><div class="big" data-kpi="clean_energy_share" '
            f'data-value="{_num_attr(clean)}">{_pct(clean)}</div><div>guideline ≥ 90 % '
            f"{_badge(clean_ok)}</div></div>")
    cards.append(
        '<div class="card" data-check="green-share"><div>Green-power share of electricity '
        '(PV, direct green power and certificates)</div>'
        f'<div class="big" data-kpi="green_share" data-value="{_num_attr(k["green_share"])}">'
        f'{_pct(k["green_share"])}</div><div>target '
        f'{"none" if target is None else _pct(target)} {_badge(share_ok, "MET", "MISSED")}'
        "</div></div>")
    note = ledger_html(k)
    note += ("<p class=\"sub\">Indicators of the national zero-carbon park notice (2025): CO2 "
            "per tce of comprehensive energy consumption at most 0.2 or 0.3 tCO2/tce by park "
            "size; clean energy should cover about 90 % of consumption. Certificates and direct "
            "green power count as zero-emission where the scenario says so.</p>")
    if horizon_days is not None and horizon_days < 360:
        note += (f'<p class="note">Evaluated over the solved horizon of {horizon_days:,.1f} '
                 "days, not a calendar year: seasonal PV and load make a short window "
                 "unrepresentative of the annual indicator.</p>")
    return ('<section id="zero-carbon"><h2>Zero-carbon park check (零碳园区核心指标)</h2>'
            f'<div class="cards">{"".join(cards)}</div>{note}</section>')


def ledger_html(k: dict[str, Any]) -> str:
    """The emissions ledger (each CO2 figure named by its line), how the core indicator was
    judged, and the "1 + 5" check; empty for KPIs written before the ledger existed."""
    from zeropark.clitools import emission_rows, indicator_rows

    if "emissions" not in k:
        return ""
    rows = [f"<tr><td>{esc(label.strip())}</td><td>{esc(text)}</td></tr>"
            for label, text in emission_rows(k) + indicator_rows(k)[1:]
            if not label.startswith("zero-carbon check")]
    check = []
    for name, item in k.get("zero_carbon_check", {}).items():
        value = "" if item["value"] is None else f"{item['value']:.3g}"
        check.append(f'<tr data-check-item="{esc(name)}"><td>{esc(name.replace("_", " "))}</td>'
                     f'<td class="num">{esc(value)}</td><td>{esc(item["limit"] or "")}</td>'
                     f'<td>{esc(item["verdict"])}</td></tr>')
    return ("<h3>Emissions ledger</h3>" + _table(["line", "value"], rows)
            + "<h3>The “1 + 5” check</h3>"
            + _table(["indicator", "value", "limit", "verdict"], check, (1,)))


def kpi_section(k: dict[str, Any]) -> str:
    """KPI table, including peaks per month and storage cycles."""
    rows = [f"<tr><td>{esc(label)}</td>{_kpi_td(key, k[key], fmt(k[key]))}</tr>"
            for key, label, fmt in kpi_rows(k.get("currency", "CNY"))
            if isinstance(k.get(key), (int, float))]
    for month, peak in k.get("peak_import_kw_by_month", {}).items():
        rows.append(f"<tr><td>Billed peak import {esc(month)}</td>"
                    f"{_kpi_td(f'peak_import_kw_by_month.{month}', peak, f'{peak:,.0f} kW')}"
                    "</tr>")
    for unit, cycles in k.get("storage_equivalent_cycles", {}).items():
        rows.append(f"<tr><td>Storage {esc(unit)}: equivalent full cycles</td>"
                    f"{_kpi_td(f'storage_equivalent_cycles.{unit}', cycles, f'{cycles:,.1f}')}"
                    "</tr>")
    accepted = k.get("dr_events_accepted")
    if accepted is not None:
        rows.append(f"<tr><td>Demand-response events accepted</td><td class=\"num\" "
                    f"data-kpi=\"dr_events_accepted\">{esc(', '.join(accepted) or 'none')}"
                    "</td></tr>")
    for name, ev in k.get("dr_events", {}).items():
        if not ev["accepted"]:
            continue
        text = (f"{ev['delivered_kwh']:,.0f} of {ev['requested_kwh']:,.0f} kWh "
                f"({ev['delivered_ratio']:.0%}{'' if ev['qualified'] else ', below the minimum'})")
        rows.append(f"<tr><td>DR {esc(name)}: delivered reduction</td>"
                    f"{_kpi_td(f'dr_events.{name}.delivered_kwh', ev['delivered_kwh'], text)}"
                    "</tr>")
    return f'<section id="kpis"><h2>Key figures</h2>{_table(["KPI", "value"], rows, (1,))}</section>'


def cost_section(k: dict[str, Any]) -> str:
    """Cost breakdown table; revenues are shown negative and the rows add up to the total."""
    cur = k.get("currency", "CNY")
    revenues = {"export_revenue", "dr_revenue"}
    gross = sum(v for key, v in k["cost_breakdown"].items() if key not in revenues) or 1.0
    from zeropark.plots import percent_shares

    parts = {key: -v if key in revenues else v for key, v in k["cost_breakdown"].items()}
    # rounded so that the costs' shares add up to exactly 100.0 %
    shares = dict(zip(parts, percent_shares(list(parts.values()), gross), strict=True))
    rows = []
    for key, value in k["cost_breakdown"].items():
        signed = parts[key]
        rows.append(f"<tr><td>{esc(key.replace('_', ' '))}</td>"
                    f"{_kpi_td(f'cost_breakdown.{key}', value, f'{_signed(signed):,.0f} {cur}')}"
                    f'<td class="num">{shares[key]:.1f} %</td></tr>')
    total = k["total_cost"]
    rows.append(f'<tr><th>total</th><td class="num" data-kpi="total_cost" '
                f'data-value="{_num_attr(total)}"><strong>{total:,.0f} {esc(cur)}</strong></td>'
                f'<td class="num">{total / gross:.1%}</td></tr>')
    return ('<section id="costs"><h2>Cost breakdown</h2>'
            + _table(["item", "amount", "share of gross cost"], rows, (1, 2)) + "</section>")


def solver_section(k: dict[str, Any]) -> str:
    """Solver status, objective, bound, gap, model size and timings."""
    s = k.get("solver", {})
    rows = [f"<tr><td>{esc(n)}</td><td class=\"num\">{esc(v)}</td></tr>" for n, v in [
        ("status", s.get("status", "")), ("engine", k.get("engine", "")),
        ("objective", f"{s['objective']:,.2f}" if isinstance(s.get("objective"), float) else ""),
        ("bound", f"{s['bound']:,.2f}" if isinstance(s.get("bound"), float) else ""),
        ("relative gap", f"{s['gap']:.2e}" if isinstance(s.get("gap"), float) else ""),
        *[(f"model {n}", f"{v:,}") for n, v in k.get("model_size", {}).items()],
        *[(f"time {n.removesuffix('_s')}", f"{v:.2f} s") for n, v in k.get("timings", {}).items()],
    ]]
    return f'<section id="solver"><h2>Solver</h2>{_table(["", ""], rows, (1,))}</section>'


def figures_section(ds: xr.Dataset, k: dict[str, Any]) -> str:
    """The standard figures of a result, embedded."""
    from zeropark.plots import report_figures

    captions = {
        "dispatch": "Dispatch of the week with the most grid import: supply above zero, demand "
                    "below, storage state of charge on the right axis.",
        "monthly_balance": "Monthly energy balance and green-power share.",
        "import_duration": "Duration curve of grid import with each month's billed peak "
                           "(demand charge) marked.",
        "schedules": "Storage and flexible-load schedules by day and hour of day.",
        "emissions": "Monthly emissions against the core-indicator allowance (threshold × "
                     "energy consumption).",
        "costs": "Cost breakdown (thousand currency units); revenues are negative.",
    }
    parts = [figure_html(fig, captions.get(name, name), name)
             for name, fig in report_figures(ds, k).items()]
    return f'<section id="figures"><h2>Figures</h2>{"".join(parts)}</section>'


def failure_section(k: dict[str, Any]) -> str:
    """What to show when the run has no solution."""
    s = k.get("solver", {})
    why = k.get("explanation") or s.get("message") or "no explanation recorded"
    return ('<section id="no-solution"><h2>No solution</h2><p class="note">'
            f'Solver status <strong data-kpi="solver.status">{esc(s.get("status", "unknown"))}'
            f"</strong>: {esc(why)}</p></section>")


def _horizon_days(ds: xr.Dataset | None) -> float | None:
    if ds is None or not ds.sizes.get("time"):
        return None
    return ds.sizes["time"] * float(ds.attrs.get("dt_h", 1.0)) / 24.0


def _scenario_block(run: RunOutputs, scenario: Any) -> str:
    ds = run.dataset
    note = ""
    if scenario is not None:
        sc = _as_scenario(scenario)
        rows = scenario_rows_from_scenario(sc, ds)
        solved = None if ds is None else ds.attrs.get("scenario_hash")
        if solved and solved != sc.content_hash():
            note = (f'<p class="note">The scenario file given ({esc(sc.content_hash())}) is not '
                    f"the one solved ({esc(solved)}): the summary may not match the results.</p>")
    elif ds is not None:
        rows = scenario_rows_from_dataset(ds, run.kpis)
    else:
        rows = [("scenario", str(run.kpis.get("scenario", "")))]
    body = "".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td></tr>" for a, b in rows)
    return (f'<section id="scenario"><h2>Scenario</h2>{note}'
            f"<table><tbody>{body}</tbody></table></section>")


def _as_scenario(scenario: Any) -> Any:
    from zeropark.scenario import Scenario, load_scenario

    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def render_report(run_dir: str | Path | RunOutputs, *, scenario: Any = None,
                  title: str | None = None) -> str:
    """The report of a run folder as one self-contained HTML document.

    Parameters
    ----------
    run_dir : path or RunOutputs
        A folder written by ``zeropark run`` (or :meth:`zeropark.Result.write`).
    scenario : Scenario or path, optional
        The scenario solved, for a summary with nameplate capacities; without it the summary is
        read from the results.
    title : str, optional
        Heading (default: "Energy plan — <scenario name>").
    """
    run = run_dir if isinstance(run_dir, RunOutputs) else read_run_dir(run_dir)
    k, ds = run.kpis, run.dataset
    name = str(k.get("scenario") or (ds.attrs.get("scenario") if ds is not None else "") or "")
    heading = title or f"Energy plan — {name}"
    status = k.get("solver", {}).get("status", "unknown")
    body = [f"<header><h1>{esc(heading)}</h1><p class=\"sub\">zeropark source-grid-load-storage "
            f"plan · status <strong>{esc(status)}</strong>"]
    if ds is not None:
        t = pd.DatetimeIndex(ds.time.values)
        end = t[-1] + pd.Timedelta(hours=float(ds.attrs.get("dt_h", 1.0)))
        body.append(f" · {t[0]:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
    body.append("</p></header>")
    body.append(_scenario_block(run, scenario))
    if ds is None or "zero_carbon_indicator" not in k:
        body.append(failure_section(k))
    else:
        body += [indicator_section(k, _horizon_days(ds)), kpi_section(k), cost_section(k)]
        if isinstance(k.get("sizing"), dict):
            body.append(sizing_section(k["sizing"], k.get("currency", "CNY")))
        if isinstance(k.get("path"), dict):
            from zeropark.report.levers import path_section

            body.append(path_section(k["path"], figure_html))
        body.append(figures_section(ds, k))
    if run.sweep is not None:
        body.append(sweep_section(run.sweep, figure_html))
    if run.pareto is not None:
        body.append(pareto_section(run.pareto, figure_html))
    if "zero_carbon_indicator" in k:
        body.append(solver_section(k))
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ds.attrs.get("versions", "") if ds is not None else ""
    body.append(f"<footer>Generated {esc(created)} by zeropark from {esc(run.path.name)}"
                + (f" · scenario hash {esc(ds.attrs.get('scenario_hash', ''))}"
                   if ds is not None else "")
                + (f" · {esc(_versions_text(versions))}" if versions else "") + "</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(heading)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(body)}</main><script>{SCRIPT}</script></body></html>\n")


def _versions_text(raw: str) -> str:
    try:
        return ", ".join(f"{k} {v}" for k, v in json.loads(raw).items())
    except (json.JSONDecodeError, AttributeError):
        return str(raw)


def write_report(run_dir: str | Path, out: str | Path | None = None, *, scenario: Any = None,
                 title: str | None = None) -> Path:
    """Write the report of ``run_dir`` atomically to ``out`` (default ``run_dir/report.html``)."""
    run = read_run_dir(run_dir)
    target = Path(out) if out is not None else run.path / "report.html"
    if not target.parent.is_dir():
        raise ScenarioError("-o", str(target), "a file in an existing folder")
    try:
        page = render_report(run, scenario=scenario, title=title)
    except (TypeError, KeyError, ValueError, AttributeError, IndexError) as err:
        if isinstance(err, ScenarioError):
            raise
        # the run folder's files do not hold what zeropark writes (edited, foreign, truncated)
        raise ScenarioError("DIR", str(run.path), "a folder as written by `zeropark run` "
                            f"({type(err).__name__}: {str(err)[:160]})") from None
    atomic_write_text(target, page)
    return target


__all__ = ["RunOutputs", "esc", "figure_html", "image_tag", "kpi_rows", "read_run_dir",
           "render_report", "write_report"]
