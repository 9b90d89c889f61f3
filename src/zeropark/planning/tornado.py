"""Sensitivity tornado of a sizing answer: cost (operation + annualised investment), CO2, core
indicator and sizes when each uncertain input moves by ±δ (default 20 %) on its own, the others
at their base values.

Inputs (:data:`INPUTS`), each a factor ``f = 1 ± δ`` applied to the scenario or its profiles:

- ``capex``: every capex of the technology library × f (``sizing.capex_factor``; fixed O&M not
  scaled);
- ``tariff``: the grid's energy price in every step and its demand and capacity charges × f (the
  export price is a contract of its own and stays);
- ``pv_yield``: the available PV power per kWp in every step × f (weather, soiling, degradation;
  an array sized from 0 kWp is simulated by pvlib at 1 kWp and is not scaled);
- ``emission_factor``: the grid's emission factor in every step × f (location-based; the
  residual-mix factor of market-based accounting stays);
- ``gec_price``: the price of green certificates × f (when the scenario has certificates).

Each case is the same run as ``zeropark size`` (or a dispatch when nothing has a cap) with the
same window; 1 + 2 × inputs runs. The bars are sorted by the span of the cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario, load_scenario

TORNADO_TABLE = "tornado.csv"
TORNADO_PLOT = "tornado.png"
Apply = Callable[[Scenario, Profiles, float], tuple[Scenario, Profiles]]


def _capex(sc: Scenario, prof: Profiles, f: float) -> tuple[Scenario, Profiles]:
    return sc.replace({"sizing.capex_factor": sc.sizing.capex_factor * f}), prof


def _tariff(sc: Scenario, prof: Profiles, f: float) -> tuple[Scenario, Profiles]:
    return sc, dataclasses.replace(
        prof, import_price_per_kwh=prof.import_price_per_kwh * f,
        demand_charge_per_kw_month=prof.demand_charge_per_kw_month * f,
        capacity_charge_per_month=prof.capacity_charge_per_month * f)


def _pv_yield(sc: Scenario, prof: Profiles, f: float) -> tuple[Scenario, Profiles]:
    return sc, dataclasses.replace(prof, pv_avail_kw=prof.pv_avail_kw * f)


def _ef(sc: Scenario, prof: Profiles, f: float) -> tuple[Scenario, Profiles]:
    return sc, dataclasses.replace(prof, ef_kg_per_kwh=prof.ef_kg_per_kwh * f)


def _gec(sc: Scenario, prof: Profiles, f: float) -> tuple[Scenario, Profiles]:
    cert = sc.green_power.certificates
    if cert is None:
        return sc, prof
    return sc.replace({"green_power.certificates.price_per_mwh": cert.price_per_mwh * f}), prof


#: Uncertain inputs by name: (words, how to apply a factor).
INPUTS: dict[str, tuple[str, Apply]] = {
    "capex": ("capex of every technology", _capex),
    "tariff": ("grid tariff (energy, demand and capacity charges)", _tariff),
    "pv_yield": ("PV yield per kWp", _pv_yield),
    "emission_factor": ("grid emission factor", _ef),
    "gec_price": ("green certificate price", _gec),
}
DEFAULT_INPUTS = ("capex", "tariff", "pv_yield", "emission_factor", "gec_price")


@dataclass
class TornadoResult:
    """Outcome of :func:`tornado`.

    Attributes
    ----------
    base : dict
        The base case's row (:func:`case_row`).
    table : pandas.DataFrame
        One row per input and side (``input``, ``side`` low/high, ``factor``) with the case's
        ``cost``, ``co2_t``, ``indicator`` and sizes, and the differences to the base
        (``d_cost``, ``d_co2_t``, ``d_indicator``, ``d_<size>``).
    delta : float
    """

    base: dict[str, Any]
    table: pd.DataFrame
    delta: float


def case_row(result: Result) -> dict[str, Any]:
    """Cost over the horizon (``sizing.total_cost_with_investment``: operation + the horizon's
    share of the annualised investment; else ``total_cost``), CO2, indicator (the scenario's tce
    factor) and sizes of one run; ``outcome`` when there is no solution."""
    if not result.ok:
        return {"outcome": str(result.status)}
    k = result.kpis
    sizing = k.get("sizing")
    row: dict[str, Any] = {
        "outcome": "solved",
        "cost": float(sizing["total_cost_with_investment"] if sizing else k["total_cost"]),
        "co2_t": float(k["co2_t"]),
        "indicator": float(k["zero_carbon_indicator"]["value"]),
    }
    if sizing:
        row["investment"] = float(sizing["investment"])
        row.update({f"size.{key}": float(v) for key, v in sizing["sizes"].items()})
    return row


def tornado(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
            delta: float = 0.2, inputs: Sequence[str] = DEFAULT_INPUTS, start: int = 0,
            steps: int | None = None, all_factor: float | None = None,
            roof_m2: Mapping[str, float] | None = None,
            out_dir: str | Path | None = None) -> TornadoResult:
    """The sizing answer at each input × (1 − δ) and × (1 + δ), the others at base.

    Parameters
    ----------
    scenario : Scenario or path
    profiles : Profiles, optional
        Full-horizon profiles (default: built once).
    delta : float
        Relative change, 0 < δ < 1 (0.2 = ±20 %).
    inputs : sequence of str
        Keys of :data:`INPUTS`.
    start, steps, all_factor, roof_m2
        As in :func:`zeropark.planning.sizing.size`.
    out_dir : path, optional
        Writes ``tornado.csv`` and ``tornado.png``.
    """
    from zeropark.planning.path import solve_min_cost

    if not (isinstance(delta, int | float) and 0 < delta < 1):
        raise ScenarioError("--delta", delta, "a relative change between 0 and 1, e.g. 0.2")
    unknown = [i for i in inputs if i not in INPUTS]
    if unknown or not inputs:
        raise ScenarioError("--inputs", unknown[0] if unknown else "", f"some of {list(INPUTS)}")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if "gec_price" in inputs and sc.green_power.certificates is None:
        inputs = [i for i in inputs if i != "gec_price"]
    if profiles is None:
        from zeropark.planning.sizing import sizing_profiles

        profiles = sizing_profiles(sc)[0]
    def solve(sc_f: Scenario, prof_f: Profiles) -> Result:
        return solve_min_cost(sc_f, prof_f, start=start, steps=steps, all_factor=all_factor,
                              roof_m2=roof_m2)

    base = case_row(solve(sc, profiles))
    if base["outcome"] != "solved":
        from zeropark.errors import SolveError

        raise SolveError(f"{sc.name}: the base case has no solution ({base['outcome']})")
    rows = []
    for name in inputs:
        words, apply = INPUTS[name]
        for side, f in (("low", 1 - delta), ("high", 1 + delta)):
            sc_f, prof_f = apply(sc, profiles, f)
            row = {"input": name, "label": words, "side": side, "factor": f,
                   **case_row(solve(sc_f, prof_f))}
            for key, val in base.items():
                if isinstance(val, float) and isinstance(row.get(key), float):
                    row[f"d_{key}"] = row[key] - val
            rows.append(row)
    table = pd.DataFrame(rows)
    result = TornadoResult(base, table, float(delta))
    if out_dir is not None:
        write_tornado(result, out_dir)
    return result


def spans(result: TornadoResult, column: str = "cost") -> pd.Series:
    """|high − low| of ``column`` by input, largest first (the tornado's order)."""
    t = result.table.pivot(index="input", columns="side", values=column)
    return (t["high"] - t["low"]).abs().sort_values(ascending=False, kind="stable")


def tornado_figure(result: TornadoResult, currency: str = "CNY") -> Any:
    """Two tornado panels: Δ cost [thousand currency] and Δ core indicator [t/tce] per
    input at −δ and +δ, sorted by the cost span (largest on top)."""
    from matplotlib.figure import Figure

    order = list(spans(result).index)[::-1]
    t = result.table.set_index(["input", "side"])
    fig = Figure(figsize=(9, 0.6 * len(order) + 1.8))
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(order))
    pct = f"{result.delta * 100:g} %"
    for ax, col, scale, unit in ((axes[0], "d_cost", 1e-3, f"thousand {currency}"),
                                 (axes[1], "d_indicator", 1.0, "tCO2/tce")):
        for side, color, off in (("low", "tab:blue", -0.19), ("high", "tab:orange", 0.19)):
            vals = [float(t.loc[(i, side)].get(col, np.nan)) * scale for i in order]
            ax.barh(y + off, np.nan_to_num(vals), color=color, height=0.36,
                    label=f"input −{pct}" if side == "low" else f"input +{pct}")
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlabel(f"change against the base [{unit}]")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [str(t.loc[(i, "low")]["label"]) for i in order], fontsize=8)
    axes[0].set_title(f"cost incl. annualised investment (base {result.base['cost']:,.0f} "
                      f"{currency})", fontsize=9)
    axes[1].set_title(f"core indicator (base {result.base['indicator']:.3f} t/tce)", fontsize=9)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"sensitivity of the sizing answer to ±{pct} of each input", fontsize=10)
    fig.tight_layout()
    return fig


def tornado_lines(result: TornadoResult, currency: str = "CNY") -> list[str]:
    """The CLI table: per input (largest cost span first), the cost, indicator and the
    sizes that move at −δ and +δ."""
    from zeropark.planning.path import format_table

    b = result.base
    lines = [f"base: cost {b['cost']:,.0f} {currency}, CO2 {b['co2_t']:,.1f} t, "
             f"indicator {b['indicator']:.3f} t/tce"]
    t = result.table.set_index(["input", "side"])
    size_cols = [c for c in result.table.columns if c.startswith("d_size.")]
    body = []
    for name in spans(result).index:
        cells: list[str] = [name]
        for side in ("low", "high"):
            r = t.loc[(name, side)]
            if r.get("outcome") != "solved":
                cells += [str(r.get("outcome")), "", ""]
                continue
            moved = [f"{c[7:]} {r[c]:+,.0f}" for c in size_cols
                     if isinstance(r.get(c), float) and abs(r[c]) > 1e-6 * max(1.0, abs(
                         b.get(c[2:], 0.0)))]
            cells += [f"{round(r['d_cost']) + 0.0:+,.0f}",
                      f"{round(r['d_indicator'], 3) + 0.0:+.3f}",
                      "; ".join(moved) or "—"]
        body.append(tuple(cells))
    pct = f"{result.delta * 100:g}%"
    head = ("input", f"Δcost −{pct}", f"Δind −{pct}", f"sizes −{pct}", f"Δcost +{pct}",
            f"Δind +{pct}", f"sizes +{pct}")
    return lines + format_table(head, body)


def write_tornado(result: TornadoResult, out_dir: str | Path) -> None:
    """``tornado.csv`` (the base first, then a row per input and side) and ``tornado.png``."""
    from zeropark.io import atomic_write_bytes, atomic_write_text
    from zeropark.plots import figure_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = pd.DataFrame([{"input": "base", "side": "", "factor": 1.0, **result.base}])
    atomic_write_text(out / TORNADO_TABLE,
                      pd.concat([base, result.table], ignore_index=True).to_csv(index=False))
    atomic_write_bytes(out / TORNADO_PLOT, figure_bytes(tornado_figure(result)))
