"""CLI commands of zeropark.planning (registered by zeropark.cli): ``size``, ``sweep``, ``pareto``,
``path``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import click

from zeropark.clitools import handle_errors
from zeropark.errors import ScenarioError, SolveError


def _load(path: str) -> Any:
    """Load a scenario with an absolute base folder (remote Dask workers resolve files by it)."""
    from zeropark.scenario import load_scenario

    return load_scenario(Path(path).resolve())


def _single_sets(sets: tuple[str, ...]) -> dict[str, Any]:
    from zeropark.planning.sweep import parse_set

    changes = {}
    for text in sets:
        path, values = parse_set(text)
        if len(values) != 1:
            raise ScenarioError("--set", text, "one value per path here: PATH=VALUE")
        changes[path] = values[0]
    return changes


def _variant(path: str, sets: tuple[str, ...], time_limit: float | None = None,
             gap: float | None = None) -> Any:
    sc = _load(path)
    changes = _single_sets(sets)
    if time_limit is not None:
        changes["solver.time_limit_s"] = time_limit
    if gap is not None:
        changes["solver.mip_gap"] = gap
    return sc.replace(changes) if changes else sc


def _roof(items: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for text in items:
        name, sep, value = text.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ScenarioError("--roof", text, "ARRAY=M2, e.g. rooftop=40000") from None
        if not sep or not name.strip():
            raise ScenarioError("--roof", text, "ARRAY=M2, e.g. rooftop=40000")
    return out


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "" if math.isnan(x) else f"{x:,.6g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return str(x)


def _echo_table(rows: Sequence[Mapping[Any, Any]], cols: list[str]) -> None:
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    width = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
             for i, c in enumerate(cols)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(cols, width, strict=True)))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, width, strict=True)))


_SET_HELP = "Change a scenario field first, PATH=VALUE (repeatable), e.g. storage.0.max_energy_kwh=4e4."
_RUN_OPTIONS = [
    click.option("--scheduler", default=None,
                 help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                      "[default: an in-process LocalCluster, one worker per core]."),
    click.option("--workers", type=click.IntRange(min=1), default=None,
                 help="Worker processes of the LocalCluster [default: number of cores]."),
    click.option("--serial", is_flag=True, help="Run the cases in this process, without Dask."),
]


def _run_options(fn: Any) -> Any:
    for option in reversed(_RUN_OPTIONS):
        fn = option(fn)
    return fn


def _sizing_options(all_words: str) -> Any:
    """``--set``, ``--all`` and ``--roof``, shared by the commands that size."""
    def apply(fn: Any) -> Any:
        fn = click.option("--roof", multiple=True,
                          help="Cap a PV array by its roof area, ARRAY=M2 (0.15 kWp/m²; "
                               "repeatable).")(fn)
        fn = click.option("--all", "all_factor", type=float, default=None,
                          help=f"{all_words}, capped at FACTOR × its present size.")(fn)
        return click.option("--set", "sets", multiple=True, help=_SET_HELP)(fn)
    return apply


@click.command("size")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out-size",
              show_default=True, help="Output folder.")
@_sizing_options("Also size every asset without a cap")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to optimize, e.g. 7d [default: all].")
@click.option("--time-limit", type=float, default=None, help="Solver time limit [s].")
@click.option("--gap", type=float, default=None, help="Relative MIP gap, e.g. 0.001.")
@click.option("--relax", is_flag=True, help="Solve the LP relaxation (fractional pile counts).")
@click.option("--periods", default=None, metavar="typical-days:K",
              help="Size on K typical days (or typical-weeks:K) plus extreme periods, with the "
                   "storage SOC linked over the year, then dispatch the full year at those sizes.")
@click.option("--widen-caps", "widen", type=float, default=None, metavar="FACTOR",
              help="While a cap binds, multiply it by FACTOR and size again (≤ 6 rounds).")
@click.option("--budget", type=float, default=None,
              help="With --widen-caps: stop before the investment exceeds this [CNY].")
@click.option("--no-plot", is_flag=True, help="Skip dispatch.png.")
@handle_errors
def size(scenario: str, out_dir: str, sets: tuple[str, ...], all_factor: float | None,
         roof: tuple[str, ...], start: str | None, horizon: str | None,
         time_limit: float | None, gap: float | None, relax: bool, periods: str | None,
         widen: float | None, budget: float | None, no_plot: bool) -> None:
    """Size PV (kWp), storage (kWh, kW), pile counts and heat assets with the dispatch; write
    the run files.

    Only assets with a cap are sized: pv.N.max_capacity_kw, storage.N.max_energy_kwh,
    ev.groups.N.max_count, heat.supply.N.max_capacity_kw, heat.storage.N.max_energy_kwh (set
    them in the scenario, with --set, or use --all FACTOR).
    Capex is annualized (capital recovery factor at sizing.discount_rate) plus fixed O&M.
    """
    from zeropark.clitools import kpi_lines, window_of
    from zeropark.io import atomic_write_text
    from zeropark.planning.sizing import size as run_size

    sc = _variant(scenario, sets, time_limit, gap)
    first, steps = window_of(sc, start, horizon)
    click.echo(f"sizing {sc.name} …", err=True)
    spec = None
    if periods is not None:
        from zeropark.planning.periods import parse_periods

        spec = parse_periods(periods)
    options: dict[str, Any] = {"start": first, "steps": steps, "all_factor": all_factor,
                               "roof_m2": _roof(roof), "relax": relax or None, "periods": spec}
    if widen is not None:
        from zeropark.planning.sizing import size_widening

        result = size_widening(sc, factor=widen, budget=budget, **options)
    elif budget is not None:
        raise click.UsageError("--budget needs --widen-caps")
    else:
        result = run_size(sc, **options)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.write(out)
    if not result.ok:
        raise SolveError(result.explanation)
    sizing = result.kpis["sizing"]
    import pandas as pd

    atomic_write_text(out / "sizing.csv", pd.DataFrame(sizing["assets"]).to_csv(index=False))
    if not no_plot:  # sizes, monthly energy and peaks of the whole horizon, the busiest week
        from zeropark.planning.views import save_sizing_overview

        assert result.dataset is not None  # a solved result has its dataset
        save_sizing_overview(result.dataset, {**sizing, "currency": result.kpis.get("currency")},
                             out / "dispatch.png")
    cur = result.kpis.get("currency", "CNY")
    _echo_table(sizing["assets"], ["asset", "size", "unit", "existing", "cap", "investment"])
    click.echo(f"investment {sizing['investment']:,.0f} {cur}; annualized "
               f"{sizing['annualized_cost_per_year']:,.0f} {cur}/yr "
               f"({sizing['annualized_cost_horizon']:,.0f} {cur} over the horizon)")
    units = {a["asset"]: a["unit"] for a in sizing["assets"]}
    for a in sizing["assets"]:
        if a.get("at_cap"):
            price = a.get("shadow_price_per_unit_year")
            worth = ("" if price is None else
                     f": one more {units[a['asset']]} of cap would save {price:,.0f} {cur}/yr")
            click.echo(f"cap binds: {a['asset']} = {_fmt(a['cap'])} {a['unit']}{worth}")
    if "widening" in sizing:
        w = sizing["widening"]
        click.echo(f"caps widened ×{w['factor']:g} in {len(w['rounds'])} round(s), stopped: "
                   f"{w['stopped']}")
    if "periods" in sizing:
        p = sizing["periods"]
        click.echo(f"{p['spec']}: {p['typical_periods']} typical + {p['extreme_periods']} extreme "
                   f"periods of {p['original_periods']}; aggregated objective "
                   f"{p['objective']:,.0f} {cur} (MIP gap {100 * p['gap']:.2f} %), full-horizon "
                   f"dispatch of these sizes "
                   f"{p['full_year_objective']:,.0f} {cur} ({p['difference_pct']:+.2f} %)")
    for line in kpi_lines(result.kpis):
        click.echo(line)
    click.echo(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if not p.name.startswith('.')))}"
               f" in {out}")


def _summary(result: Any, dims: list[str]) -> None:
    rows = result.table.to_dict("records")
    cols = [*dims, "outcome", "total_cost", "co2_t", "green_share"]
    if any(c.startswith("sizing.investment") for c in result.table.columns):
        cols.append("sizing.investment")
    _echo_table(rows, [c for c in cols if c in result.table.columns])
    for r in rows:
        if r["outcome"] != "solved":
            where = ", ".join(f"{d}={r[d]}" for d in dims)
            click.echo(f"case {where}: {r['outcome']}: {r['error'][:300]}", err=True)
    click.echo(f"{len(rows)} cases: {result.ran} run, {result.skipped} already done, "
               f"{result.failed} failed")


@click.command("sweep")
@click.argument("scenario", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--scenarios", "more", multiple=True, type=click.Path(dir_okay=False),
              help="More scenarios (a 'scenario' dimension); repeatable.")
@click.option("--set", "sets", multiple=True,
              help="A swept field and its values, PATH=V1,V2,... (repeatable; full factorial).")
@_run_options
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out-sweep",
              show_default=True, help="Output folder.")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to solve per case, e.g. 7d.")
@click.option("--engine", type=click.Choice(["matrix", "pyomo"]), default=None,
              help="Model builder [default: the scenario's solver.engine].")
@click.option("--relax", is_flag=True, help="Solve LP relaxations only.")
@click.option("--size", "sizing", is_flag=True, help="Each case is a sizing run (see 'size').")
@click.option("--all", "all_factor", type=float, default=None,
              help="With --size: cap of assets without a cap = FACTOR × present size.")
@click.option("--time-series", is_flag=True,
              help="Also keep every case's dispatch time series in sweep.nc.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Run more than 10,000 cases.")
@handle_errors
def sweep(scenario: tuple[str, ...], more: tuple[str, ...], sets: tuple[str, ...],
          scheduler: str | None, workers: int | None, serial: bool, out_dir: str,
          start: str | None, horizon: str | None, engine: str | None, relax: bool,
          sizing: bool, all_factor: float | None, time_series: bool, no_progress: bool,
          force: bool) -> None:
    """Run every combination of --set values (× scenarios) on Dask; write DIR/sweep.nc + .csv.

    Cases already done in DIR (DIR/cases/) are skipped; a failing case is recorded with its error
    and the others go on. Exit 3 only when no case has a solution.
    """
    from zeropark.clitools import window_of
    from zeropark.planning.sweep import (
        MAX_CASES,
        CaseOptions,
        count_cases,
        grid_cases,
        parse_set,
        run_sweep,
    )

    paths = list(dict.fromkeys([*scenario, *more]))
    grid: dict[str, list[Any]] = {}
    for text in sets:
        path, values = parse_set(text)
        if path in grid:
            raise ScenarioError("--set", text, f"each path once ({path} repeated)")
        grid[path] = values
    n = count_cases(len(paths), grid)  # before loading anything: 10⁸ cases are refused at once
    if n > MAX_CASES and not force:
        raise ScenarioError("--set", f"{n:,} cases",
                            f"at most {MAX_CASES:,} cases (fewer values, or --force)")
    scs = [_load(p) for p in paths]
    windows = [window_of(sc, start, horizon) for sc in scs]
    options = CaseOptions(mode="size" if sizing else "run", engine=engine, relax=relax or None,
                          all_factor=all_factor, time_series=time_series)
    cases = grid_cases(scs, grid, options, windows=windows, force=force)
    click.echo(f"{len(cases)} cases on "
               f"{'this process' if serial else scheduler or 'a local Dask cluster'} …", err=True)
    result = run_sweep(cases, options, out_dir=out_dir, scheduler=scheduler, workers=workers,
                       serial=serial, progress=not no_progress)
    dims = (["scenario"] if len(scs) > 1 else []) + list(grid)
    _summary(result, dims or ["case"])
    click.echo(f"wrote sweep.nc, sweep.csv, cases/ in {out_dir}")
    if not (result.table["outcome"] == "solved").any():
        first = result.table["error"].iloc[0] if len(result.table) else ""
        raise SolveError(f"no case has a solution; first error: {first[:300]}")


@click.command("pareto")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--versus", type=click.Choice(["co2", "green_share", "green-share"]),
              default="co2", show_default=True,
              help="Trade cost against emissions (tCO2) or the green-power share.")
@click.option("--points", type=click.IntRange(min=2), default=10, show_default=True,
              help="Points on the front, both anchors included.")
@click.option("--set", "sets", multiple=True, help=_SET_HELP)
@_run_options
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out-pareto",
              show_default=True, help="Output folder.")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to solve, e.g. 7d [default: all].")
@click.option("--size", "sizing", is_flag=True,
              help="Size the capacities at every point (cost includes annualized investment).")
@click.option("--all", "all_factor", type=float, default=None,
              help="With --size: cap of assets without a cap = FACTOR × present size.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@handle_errors
def pareto(scenario: str, versus: str, points: int, sets: tuple[str, ...],
           scheduler: str | None, workers: int | None, serial: bool, out_dir: str,
           start: str | None, horizon: str | None, sizing: bool, all_factor: float | None,
           no_progress: bool) -> None:
    """Cost vs emissions (or green share) front by the ε-constraint method.

    Anchors: the minimum-cost dispatch and the lowest achievable emissions (highest share); the
    points between minimize cost under a hard cap (share target) at ε. Writes pareto.csv,
    pareto.png and the sweep files of the points.
    """
    from zeropark.clitools import window_of
    from zeropark.planning.pareto import pareto as run_pareto

    sc = _variant(scenario, sets)
    first, steps = window_of(sc, start, horizon)
    vs: Literal["co2", "green_share"] = "co2" if versus == "co2" else "green_share"
    click.echo(f"anchors of {sc.name} …", err=True)
    result = run_pareto(sc, versus=vs, points=points, start=first, steps=steps,
                        sizing=sizing, all_factor=all_factor, out_dir=out_dir,
                        scheduler=scheduler, workers=workers, serial=serial,
                        progress=not no_progress)
    cols = ["point", "epsilon", "total_cost", "co2_t", "green_share", "outcome"]
    if sizing:
        cols[2:3] = ["objective", "sizing.investment"]
    _echo_table(result.table.to_dict("records"), cols)
    click.echo(f"wrote pareto.csv, pareto.png, sweep.nc in {out_dir}")
    if not (result.table["outcome"] == "solved").any():
        raise SolveError("no point of the front has a solution")


@click.command("path")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out-path",
              show_default=True, help="Output folder.")
@_sizing_options("Size every asset without a cap")
@click.option("--lever", "extra", multiple=True, metavar="NAME:PATH=VALUE",
              help="A lever of the scenario, by the change that takes it out of the park "
                   "(repeatable; several changes with the same NAME make one lever).")
@click.option("--only", default=None, metavar="KEY,...",
              help="Compare only these levers (the plan still uses every lever).")
@click.option("--ceiling", type=float, default=5000.0, show_default=True,
              help="Price ceiling per tCO2: the most a tonne is worth in the best-achievable "
                   "plan and the full-potential runs.")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to optimize, e.g. 7d [default: all].")
@click.option("--time-limit", type=float, default=None, help="Solver time limit per run [s].")
@click.option("--gap", type=float, default=None, help="Relative MIP gap, e.g. 0.001.")
@handle_errors
def path_command(scenario: str, out_dir: str, sets: tuple[str, ...], all_factor: float | None,
                 roof: tuple[str, ...], extra: tuple[str, ...], only: str | None,
                 ceiling: float, start: str | None, horizon: str | None, time_limit: float | None,
                 gap: float | None) -> None:
    """Cheapest plan passing the core indicator (hard) and each lever's cost per tonne CO2.

    Levers: on-site PV, storage, green certificates, direct green power, offsets (when they
    count toward the indicator), and --lever NAME:PATH=VALUE. Each is priced alone against the
    park without any lever (cost-optimal and at its full potential) and by the plan without it.
    The indicator is reported under both tce factors. If no plan passes, the best achievable is
    reported with what is missing. Writes the plan's run files, levers.csv, path.csv and
    levers.png.
    """
    from zeropark.clitools import window_of
    from zeropark.planning.path import LEVERS, lever_from_changes, lever_lines, parse_lever
    from zeropark.planning.path import path as run_path

    sc = _variant(scenario, sets, time_limit, gap)
    first, steps = window_of(sc, start, horizon)
    declared: dict[str, dict[str, Any]] = {}
    for text in extra:
        name, field, value = parse_lever(text)
        declared.setdefault(name, {})[field] = value
    levers = list(LEVERS)
    known = {lv.key for lv in levers}
    for name, changes in declared.items():
        if name in known:
            raise ScenarioError("--lever", name, f"a new lever name, not one of {sorted(known)}")
        levers.append(lever_from_changes(name, changes))
    keys = [k.strip() for k in only.split(",") if k.strip()] if only is not None else None
    click.echo(f"path of {sc.name} …", err=True)
    result = run_path(sc, start=first, steps=steps, all_factor=all_factor, roof_m2=_roof(roof),
                      levers=levers, only=keys, ceiling_per_t=ceiling, out_dir=out_dir)
    for line in lever_lines(result, result.plan.kpis.get("currency", "CNY")):
        click.echo(line)
    out = Path(out_dir)
    click.echo(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if not p.name.startswith('.')))}"
               f" in {out}")


@click.command("tornado")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out-tornado",
              show_default=True, help="Output folder.")
@_sizing_options("Size every asset without a cap")
@click.option("--delta", type=float, default=0.2, show_default=True,
              help="Relative change of each input, low = 1 − DELTA, high = 1 + DELTA.")
@click.option("--inputs", default=",".join(("capex", "tariff", "pv_yield", "emission_factor",
                                             "gec_price")), show_default=True,
              help="Inputs to vary, comma-separated.")
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to optimize, e.g. 7d [default: all].")
@click.option("--time-limit", type=float, default=None, help="Solver time limit per run [s].")
@click.option("--gap", type=float, default=None, help="Relative MIP gap, e.g. 0.001.")
@handle_errors
def tornado_command(scenario: str, out_dir: str, sets: tuple[str, ...],
                    all_factor: float | None, roof: tuple[str, ...], delta: float, inputs: str,
                    start: str | None, horizon: str | None, time_limit: float | None,
                    gap: float | None) -> None:
    """Sensitivity of the sizing answer (annual cost, CO2, indicator, sizes) to each input ±DELTA.

    Inputs: capex, tariff (energy, demand and capacity charges), pv_yield, emission_factor,
    gec_price. Writes tornado.csv and tornado.png.
    """
    from zeropark.clitools import window_of
    from zeropark.planning.tornado import tornado, tornado_lines

    sc = _variant(scenario, sets, time_limit, gap)
    first, steps = window_of(sc, start, horizon)
    keys = [k.strip() for k in inputs.split(",") if k.strip()]
    click.echo(f"tornado of {sc.name}: {1 + 2 * len(keys)} runs …", err=True)
    result = tornado(sc, delta=delta, inputs=keys, start=first, steps=steps,
                     all_factor=all_factor, roof_m2=_roof(roof), out_dir=out_dir)
    for line in tornado_lines(result, sc.currency):
        click.echo(line)
    click.echo(f"wrote tornado.csv, tornado.png in {out_dir}")


COMMANDS: list[click.Command] = [size, sweep, pareto, path_command, tornado_command]
