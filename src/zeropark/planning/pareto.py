"""Cost–carbon (or cost–green-share) Pareto front by the ε-constraint method.

Two anchors bound the front: the minimum-cost dispatch (its emissions / green share) and the
best achievable emissions (minimum) or green share (maximum). The points in between minimize cost
under a *hard* target at ε: ``targets.emission_cap`` ≤ ε tCO2, or ``targets.green_share`` ≥ ε.
The ε points are solved as cases of a sweep (:mod:`zeropark.planning.sweep`), so they run on
Dask like any sweep and are skipped on a rerun.

Anchor models are the normal dispatch matrix with the objective replaced (no change to
``src/zeropark/model``): the emission-cap row's coefficients are the emissions of a solution;
for the green share G/C (a ratio), Dinkelbach's iteration maximizes G − s·C and updates
s = G/C until it stops improving, with a row G ≤ C bounding the share at 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from zeropark.api import prepare, solve_data
from zeropark.errors import ScenarioError, SolveError
from zeropark.io import atomic_write_text
from zeropark.model import carbon
from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP
from zeropark.planning.lpedit import own_arrays, row_vector, set_objective
from zeropark.planning.sweep import CaseOptions, SweepResult, make_case, profiles_digest, run_sweep
from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario, load_scenario
from zeropark.solve import solve_matrix

Versus = Literal["co2", "green_share"]
PARETO_TABLE = "pareto.csv"
PARETO_PLOT = "pareto.png"
_DINKELBACH_MAX_ITER = 20
_REL_TOL = 1e-6
#: Scenario fields of the targets the ε-constraint sets (their rows are ``carbon.EMISSION_CAP``
#: and ``carbon.GREEN_SHARE``, which happen to read the same).
CAP_FIELD = "targets.emission_cap"  # scenario field path
SHARE_FIELD = "targets.green_share"  # scenario field path


@dataclass
class ParetoResult:
    """The front.

    Attributes
    ----------
    versus : {"co2", "green_share"}
    table : pandas.DataFrame
        One row per point: ``point``, ``epsilon`` (tCO2 cap or share target), ``total_cost``
        (operating cost), ``co2_t``, ``green_share``, ``objective`` (with sizing: operating cost
        + the horizon's annualized investment), ``outcome``, ``status``, ``error``; with sizing
        also ``sizing.investment`` and the sizes; against CO2 also ``mac_per_t``, the marginal
        abatement cost against the previous point (:func:`marginal_abatement_cost`).
    anchors : dict
        ``min_cost`` (emissions or share of the minimum-cost solution), ``best`` (minimum
        emissions / maximum share) and ``min_cost_objective``.
    sweep : SweepResult
        The ε cases as a sweep (dimension ``point``).
    """

    versus: str
    table: pd.DataFrame
    anchors: dict[str, float]
    sweep: SweepResult


def _base(sc: Scenario, versus: Versus) -> Scenario:
    """The scenario without the target the ε-constraint replaces."""
    key = CAP_FIELD if versus == "co2" else SHARE_FIELD
    current = sc.targets.emission_cap if versus == "co2" else sc.targets.green_share
    return sc.replace({key: None}) if current is not None else sc


def _target(versus: Versus, eps: float) -> dict[str, Any]:
    if versus == "co2":
        return {CAP_FIELD: {"value_t": float(eps), "mode": "hard"}}
    return {SHARE_FIELD: {"value": float(eps), "mode": "hard"}}


def _matrix(sc: Scenario, profiles: Profiles | None, start: int, steps: int | None,
            sizing: bool, all_factor: float | None) -> tuple[MatrixLP, ModelData]:
    """The dispatch model of ``sc`` — or, with ``sizing``, its sizing model."""
    if not sizing:
        d = prepare(sc, profiles, start=start, steps=steps)
        return build_matrix(d), d
    from zeropark.planning.sizing import sizing_matrix, sizing_model

    m = sizing_model(sc, profiles, start=start, steps=steps, all_factor=all_factor)
    return sizing_matrix(m.data, m.plan, m.per_kwp), m.data


def min_emissions_t(sc: Scenario, profiles: Profiles | None = None, *, start: int = 0,
                    steps: int | None = None, sizing: bool = False,
                    all_factor: float | None = None) -> float:
    """Lowest achievable emissions over the horizon [tCO2] (net of offsets, as ``co2_t``).

    With ``sizing`` the capacities are free up to their caps (see
    :func:`zeropark.planning.sizing.size`).
    """
    probe = sc.replace({CAP_FIELD: {"value_t": 1e9, "mode": "hard"}})
    lp, d = _matrix(probe, profiles, start, steps, sizing, all_factor)
    row = int(lp.row_blocks[carbon.EMISSION_CAP].index())
    set_objective(lp, row_vector(lp, row))
    out = solve_matrix(lp, sc.solver)
    if not out.status.has_solution:
        raise SolveError(f"{sc.name}: minimum-emission anchor has no solution ({out.message})")
    return (out.objective + d.fuel_co2_kg) / 1000.0


def max_green_share(sc: Scenario, profiles: Profiles | None = None, *, start: int = 0,
                    steps: int | None = None, s0: float = 0.0, sizing: bool = False,
                    all_factor: float | None = None) -> float:
    """Highest achievable green-power share G/C (≤ 1) by Dinkelbach's iteration from ``s0``."""
    def model(s: float) -> tuple[Any, np.ndarray]:
        probe = sc.replace({SHARE_FIELD: {"value": s, "mode": "hard"}})
        lp, _ = _matrix(probe, profiles, start, steps, sizing, all_factor)
        row = int(lp.row_blocks[carbon.GREEN_SHARE].index())
        return lp, row_vector(lp, row)

    lp, g = model(0.0)  # row at s = 0: G
    _, g_minus_c = model(1.0)  # row at s = 1: G − C
    c = g - g_minus_c
    arr = own_arrays(lp)
    row = int(lp.row_blocks[carbon.GREEN_SHARE].index())
    arr["row_lo"][row] = -np.inf  # the probe's G ≥ 0 is not a constraint here
    cap = lp.rows("pareto.share_at_most_one", (), hi=0.0)
    nz = np.flatnonzero(g_minus_c)
    lp.add(cap, nz, g_minus_c[nz])
    s = float(s0)
    for _ in range(_DINKELBACH_MAX_ITER):
        set_objective(lp, -(g - s * c))
        out = solve_matrix(lp, sc.solver)
        if not out.status.has_solution:
            raise SolveError(f"{sc.name}: maximum green-share anchor has no solution "
                             f"({out.message})")
        x = np.concatenate([np.ravel(out.values[name]) for name in lp.var_blocks])
        consumption = float(c @ x)
        if consumption <= 0:
            raise SolveError(f"{sc.name}: no electricity consumption, green share undefined")
        new = min(float(g @ x) / consumption, 1.0)
        if new <= s + _REL_TOL:
            return max(s, new)
        s = new
    return s


def epsilons(low: float, high: float, points: int) -> np.ndarray:
    """``points`` ε values from ``low`` to ``high`` (both included)."""
    if points < 2:
        raise ScenarioError("--points", points, "at least 2 points")
    return np.linspace(low, high, points)


def pareto(scenario: Scenario | str | Path, profiles: Profiles | None = None, *,
           versus: Versus = "co2", points: int = 10, start: int = 0, steps: int | None = None,
           sizing: bool = False, all_factor: float | None = None,
           out_dir: str | Path | None = None, **run: Any) -> ParetoResult:
    """Cost vs emissions (or vs green share) by the ε-constraint method.

    Parameters
    ----------
    scenario : Scenario or path
        An existing emission cap (``co2``) or green-share target (``green_share``) is replaced
        by the ε-constraint; every other target, price and penalty stays in the cost.
    profiles : Profiles, optional
    versus : {"co2", "green_share"}
    points : int
        Number of points including both anchors (≥ 2).
    start, steps : int
        Horizon window.
    sizing : bool
        Size the capacities at every point (anchors and ε points are sizing runs, see
        :func:`zeropark.planning.sizing.size`); ``all_factor`` as there.
    out_dir : path, optional
        Writes the sweep files (``cases/``, ``sweep.nc``, ``sweep.csv``), ``pareto.csv`` and
        ``pareto.png``.
    **run
        Passed to :func:`zeropark.planning.sweep.run_sweep` (``serial``, ``client``,
        ``scheduler``, ``workers``, ``progress``).
    """
    if versus not in ("co2", "green_share"):
        raise ScenarioError("--versus", versus, "one of 'co2', 'green_share'")
    sc = _base(scenario if isinstance(scenario, Scenario) else load_scenario(scenario), versus)
    if profiles is None:
        from zeropark.planning.sizing import sizing_profiles

        profiles = sizing_profiles(sc)[0]  # builds 0 kWp arrays too (as zeros)
    epsilons(0.0, 1.0, points)  # validate before solving anything
    if sizing:
        from zeropark.planning.sizing import size

        cheapest = size(sc, profiles, all_factor=all_factor, start=start, steps=steps)
    else:
        cheapest = solve_data(prepare(sc, profiles, start=start, steps=steps))
    if not cheapest.ok:
        raise SolveError(f"minimum-cost anchor: {cheapest.explanation}")
    if versus == "co2":
        a = float(cheapest.kpis["co2_t"])
        b = min(min_emissions_t(sc, profiles, start=start, steps=steps, sizing=sizing,
                                all_factor=all_factor), a)
        eps = epsilons(a, b, points)
        eps[-1] = b + _REL_TOL * max(abs(b), 1.0)  # solver tolerance at the extreme point
    else:
        a = float(cheapest.kpis["green_share"])
        b = max(max_green_share(sc, profiles, s0=a, start=start, steps=steps, sizing=sizing,
                                all_factor=all_factor), a)
        eps = epsilons(min(a, 1.0), b, points)
        eps[-1] = max(b - _REL_TOL, 0.0)
    options = CaseOptions(mode="size" if sizing else "run", all_factor=all_factor)
    token = profiles_digest(profiles)
    cases = [make_case(sc, _target(versus, e), {"point": k}, options, start=start, steps=steps,
                       info={"epsilon": float(e)}, profiles_token=token)
             for k, e in enumerate(eps)]
    result = run_sweep(cases, options, out_dir=out_dir, profiles=profiles, **run)
    cols = ["point", "epsilon", "total_cost", "co2_t", "green_share", "objective", "outcome",
            "status", "error"]
    cols += [c for c in result.table.columns
             if c == "sizing.investment" or c.startswith("sizing.sizes.")]
    table = result.table.reindex(columns=cols)
    if versus == "co2":
        table["mac_per_t"] = marginal_abatement_cost(
            table, cost="objective" if sizing else "total_cost")
    anchors = {"min_cost": a, "best": b, "min_cost_objective": float(cheapest.objective)}
    if out_dir is not None:
        out = Path(out_dir)
        atomic_write_text(out / PARETO_TABLE, table.to_csv(index=False))
        save_pareto_plot(table, versus, out / PARETO_PLOT, title=sc.name, currency=sc.currency,
                         cost="objective" if sizing else "total_cost")
    return ParetoResult(versus, table, anchors, result)


def marginal_abatement_cost(table: pd.DataFrame, cost: str = "total_cost") -> pd.Series:
    """Marginal abatement cost of each point against the previous one on the front [currency/t].

    ``MAC_k = (cost_k − cost_{k−1}) / (CO2_{k−1} − CO2_k)`` between adjacent solved points in
    order of falling emissions (the cost of the last tonnes avoided); NaN for the first point,
    for unsolved points and where the emissions do not fall.

    Parameters
    ----------
    table : pandas.DataFrame
        With ``co2_t``, ``outcome`` and the ``cost`` column.
    cost : str
        ``objective`` (sizing: operation + annualized investment) or ``total_cost``.
    """
    out = pd.Series(np.nan, index=table.index, dtype=float)
    ok = table[table["outcome"] == "solved"].sort_values("co2_t", ascending=False, kind="stable")
    prev = None
    for i, row in zip(ok.index, ok.to_dict("records"), strict=True):
        if prev is not None:
            d_co2 = float(prev["co2_t"]) - float(row["co2_t"])
            if d_co2 > 1e-9:
                out.loc[i] = (float(row[cost]) - float(prev[cost])) / d_co2
        prev = row
    return out


def save_pareto_plot(table: pd.DataFrame, versus: str, path: str | Path, *, title: str = "",
                     currency: str = "CNY", cost: str = "total_cost") -> None:
    """Cost (column ``cost``) against emissions or green share of the solved points."""
    from matplotlib.figure import Figure

    from zeropark.plots import save_figure

    ok = table[table["outcome"] == "solved"]
    x = ok["co2_t"] if versus == "co2" else ok["green_share"] * 100
    y = ok[cost] / 1e3
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ax.plot(x, y, "o-", color="tab:green")
    mac = ok["mac_per_t"] if "mac_per_t" in ok else pd.Series(np.nan, index=ok.index)
    for k, xi, yi, m in zip(ok["point"], x, y, mac, strict=True):
        label = str(k) if not np.isfinite(m) else f"{k}: {m:,.0f} {currency}/t"
        ax.annotate(label, (xi, yi), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("CO2 [t]" if versus == "co2" else "green-power share [%]")
    what = "operating cost + annualized investment" if cost == "objective" else "total cost"
    ax.set_ylabel(f"{what} [thousand {currency}]")
    ax.set_title(f"{title}: Pareto front (ε-constraint)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
