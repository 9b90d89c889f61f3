"""Report section of a decarbonisation path (``kpis["path"]``, written by ``zeropark path``):
the verdict, the runs with the core indicator under both tce factors, the lever table and the
lever figure (:func:`zeropark.planning.path.levers_figure`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from zeropark.report.sections import esc

_FACTORS = ("equal_value", "coal_equivalent")


def _num(value: Any, fmt: str = "{:,.0f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return fmt.format(value)


def _row(cells: list[str], num_from: int = 1) -> str:
    return "<tr>" + "".join(f'<td class="num">{c}</td>' if i >= num_from else f"<td>{c}</td>"
                            for i, c in enumerate(cells)) + "</tr>"


def path_section(p: Mapping[str, Any], figure_html: Callable[[Any, str, str], str]) -> str:
    """The section: verdict, what is missing, runs, levers and the figure."""
    from zeropark.planning.path import levers_figure

    cur = esc(p.get("currency", "CNY"))
    verdict = ("a plan passes" if p.get("passes") else "no plan passes")
    parts = ['<section id="path"><h2>Decarbonisation path and levers</h2>',
             f'<p class="sub" data-kpi="path.passes" data-value="{bool(p.get("passes"))!r}">'
             f"Core indicator ≤ {esc(p.get('threshold_t_per_tce'))} tCO2/tce as a hard target "
             f"({esc(str(p.get('tce_factor', '')).replace('_', ' '))} tce): "
             f"<strong>{verdict}</strong>. {esc(p.get('plan', ''))}.</p>"]
    for m in p.get("missing", []):
        parts.append(f'<p class="note">Missing: {esc(m)}</p>')
    head = ["run", f"cost [{cur}]", "CO2 [t]"] + [
        f"{h} {f.replace('_', ' ')}" for f in _FACTORS for h in ("t/tce", "gap [t]")]
    rows = []
    for r in p.get("runs", []):
        if r.get("outcome") != "solved":
            rows.append(_row([esc(r.get("run")), esc(r.get("outcome", ""))]))
            continue
        cells = [esc(r["run"]), _num(r.get("cost")), _num(r.get("co2_t"), "{:,.1f}")]
        for f in _FACTORS:
            cells += [_num(r.get(f"indicator_{f}"), "{:.3f}"), _num(r.get(f"gap_t_{f}"), "{:,.1f}")]
        rows.append(_row(cells))
    parts.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
                 + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    head = ["lever", f"alone [{cur}/t]", "alone [t]", f"potential [{cur}/t]", "potential [t]",
            "plan without it"]
    rows = []
    for r in p.get("levers", []):
        if r.get("without_passes"):
            wo = f"passes, +{_num(r.get('without_extra_cost'))} {cur}"
        elif "without_indicator_equal_value" in r:
            wo = (f"fails (best {_num(r['without_indicator_equal_value'], '{:.3f}')} / "
                  f"{_num(r.get('without_indicator_coal_equivalent'), '{:.3f}')} t/tce)")
        else:
            wo = esc(r.get("note", "")) or "fails"
        rows.append(_row([esc(r.get("label", r.get("lever"))), _num(r.get("alone_cost_per_t")),
                          _num(r.get("alone_abated_t"), "{:,.1f}"),
                          _num(r.get("potential_cost_per_t")),
                          _num(r.get("potential_abated_t"), "{:,.1f}"), wo], num_from=1))
    parts.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
                 + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if any("alone_abated_t" in r or "potential_abated_t" in r for r in p.get("levers", [])):
        parts.append(figure_html(levers_figure(p), "Cost per tonne of each lever against the "
                                 "park without levers, and the core indicator under both tce "
                                 "factors.", "levers"))
    parts.append("</section>")
    return "".join(parts)
