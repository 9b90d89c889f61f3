"""Command line interface ``zeropark`` — a thin layer over :mod:`zeropark.api`.

Exit codes: 0 success; 2 invalid input (scenario, CSV, options); 3 no solution (infeasible,
time limit without incumbent — the explanation is printed); 4 ``schedule`` published the flagged
rule-based fallback plan; 130 interrupted (Ctrl-C); 1 unexpected internal error.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from zeropark.errors import ScenarioError, SolveError, ZeroparkError

EXIT_INVALID = 2
EXIT_NO_SOLUTION = 3


def parse_duration_h(text: str, field: str) -> float:
    """'168h', '7d', '30min', '2w' -> hours."""
    t = text.strip().lower()
    units = {"min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
    for suffix, factor in units.items():
        if t.endswith(suffix):
            try:
                value = float(t[: -len(suffix)])
            except ValueError:
                break
            if value > 0:
                return value * factor
    raise ScenarioError(field, text, "a positive duration such as 48h, 7d, 30min")


def window_of(sc: Any, start: str | None, horizon: str | None) -> tuple[int, int | None]:
    """Step offset and count of a ``--start``/``--horizon`` window within the scenario."""
    time = sc.time_index()
    first = 0
    if start is not None:
        try:
            ts = pd.Timestamp(start)
        except ValueError:
            raise ScenarioError("--start", start, "an ISO datetime inside the horizon") from None
        pos = (ts - time[0]) / pd.Timedelta(hours=sc.dt_h)
        if pos < 0 or pos >= len(time) or pos != int(pos):
            raise ScenarioError("--start", start,
                                f"a step start between {time[0]} and {time[-1]}")
        first = int(pos)
    steps = None
    if horizon is not None:
        steps = max(int(round(parse_duration_h(horizon, "--horizon") / sc.dt_h)), 1)
    return first, steps


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn zeropark errors into one line on stderr and a documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_INVALID)
        except SolveError as err:
            click.echo(f"no solution: {err}", err=True)
            sys.exit(EXIT_NO_SOLUTION)
        except ZeroparkError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_INVALID)
        except KeyboardInterrupt:
            click.echo("interrupted; no partial output was written", err=True)
            sys.exit(130)
        except OSError as err:
            click.echo(f"error: {err.strerror or err} ({err.filename or ''})", err=True)
            sys.exit(EXIT_INVALID)
        except Exception as err:  # noqa: BLE001 - last resort: one line, trace only on request
            click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            sys.exit(1)

    return wrapper


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.version_option(package_name="zeropark")
def main(debug: bool) -> None:
    """zeropark — plan and dispatch a zero-carbon industrial park (源网荷储一体化)."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@handle_errors
def validate(scenario: str) -> None:
    """Check a scenario file; exit 0 when valid, 2 when not."""
    from zeropark.scenario import load_scenario

    sc = load_scenario(scenario)
    n = len(sc.time_index())
    click.echo(f"ok: {sc.name} — {n} steps of {sc.time.step} from {sc.time.start}, "
               f"{len(sc.pv)} PV arrays, {len(sc.storage)} storage units, "
               f"{sum(g.count for g in sc.ev.groups)} piles, "
               f"{len(sc.flexible_loads)} flexible loads, {len(sc.demand_response.events)} DR events")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out",
              show_default=True)
@handle_errors
def profiles(scenario: str, out_dir: str) -> None:
    """Build the profiles, write DIR/profiles.nc and print annual totals."""
    from zeropark.io import atomic_write_bytes
    from zeropark.profiles.build import build_profiles
    from zeropark.profiles.export import profiles_dataset, summary_lines
    from zeropark.scenario import load_scenario

    sc = load_scenario(scenario)
    prof = build_profiles(sc)
    ds = profiles_dataset(sc, prof)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "profiles.nc", ds.to_netcdf(engine="h5netcdf"))
    for line in summary_lines(sc, prof):
        click.echo(line)
    click.echo(f"wrote {out / 'profiles.nc'}")


def kpi_lines(k: dict[str, Any]) -> list[str]:
    """A readable KPI table."""
    cur = k.get("currency", "CNY")
    zc = k["zero_carbon_indicator"]
    rows = [
        ("total cost", f"{k['total_cost']:,.0f} {cur}"),
        *[(f"  {name}", f"{val:,.0f} {cur}") for name, val in k["cost_breakdown"].items()],
        ("consumption", f"{k['consumption_kwh'] / 1e3:,.1f} MWh"),
        ("grid import / export", f"{k['import_kwh'] / 1e3:,.1f} / {k['export_kwh'] / 1e3:,.1f} MWh"),
        ("PV used / curtailed", f"{k['pv_generation_kwh'] / 1e3:,.1f} / "
                                f"{k['pv_curtailed_kwh'] / 1e3:,.1f} MWh"),
        ("self-consumption / sufficiency", f"{k['self_consumption']:.1%} / "
                                           f"{k['self_sufficiency']:.1%}"),
        ("green-power share", f"{k['green_share']:.1%}"
                              + (f" (target {k['green_share_target']:.0%})"
                                 if k.get("green_share_target") is not None else "")),
        ("CO2", f"{k['co2_t']:,.1f} t"),
        ("CO2 per tce (core indicator)", f"{zc['value']:.3f} t/tce vs ≤ {zc['threshold']} "
                                         f"→ {'PASS' if zc['pass'] else 'FAIL'}"),
        ("clean energy share (≥ 90 %)", f"{k['clean_energy_share']:.1%}"),
        ("max monthly peak import", f"{max(k['peak_import_kw_by_month'].values()):,.0f} kW"),
        ("EV energy / unmet", f"{k['ev_energy_kwh'] / 1e3:,.1f} MWh / {k['ev_unmet_kwh']:,.1f} kWh"),
        ("DR revenue", f"{k['dr_revenue']:,.0f} {cur} ({len(k['dr_events_accepted'])} accepted)"),
        ("solver", f"{k['solver']['status']}, gap {k['solver']['gap']:.2e}"),
        ("timings", ", ".join(f"{n} {v:.2f}s" for n, v in k.get("timings", {}).items())),
    ]
    width = max(len(r[0]) for r in rows)
    return [f"{name:<{width}}  {val}" for name, val in rows]


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="out",
              show_default=True)
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to solve, e.g. 168h, 7d.")
@click.option("--time-limit", type=float, default=None, help="Solver time limit [s].")
@click.option("--gap", type=float, default=None, help="Relative MIP gap, e.g. 0.001.")
@click.option("--engine", type=click.Choice(["matrix", "pyomo"]), default=None)
@click.option("--relax", is_flag=True, help="Solve the LP relaxation only.")
@click.option("--rolling", default=None, help="Rolling horizon WINDOW:STEP, e.g. 48h:24h.")
@click.option("--no-plot", is_flag=True, help="Skip dispatch.png.")
@handle_errors
def run(scenario: str, out_dir: str, start: str | None, horizon: str | None,
        time_limit: float | None, gap: float | None, engine: str | None, relax: bool,
        rolling: str | None, no_plot: bool) -> None:
    """Solve the dispatch; write results.nc, kpis.json, timeseries.csv, dispatch.png."""
    from zeropark.api import prepare, solve_data
    from zeropark.scenario import load_scenario

    sc = load_scenario(scenario)
    changes: dict[str, Any] = {}
    if time_limit is not None:
        changes["solver.time_limit_s"] = time_limit
    if gap is not None:
        changes["solver.mip_gap"] = gap
    if changes:
        sc = sc.replace(changes)
    first, steps = window_of(sc, start, horizon)
    click.echo(f"building {sc.name} …", err=True)
    if rolling is not None:
        from zeropark.rolling import run_rolling

        result = run_rolling(sc, rolling, start=first, steps=steps, engine=engine)
    else:
        d = prepare(sc, start=first, steps=steps)
        result = solve_data(d, engine=engine, relax=relax or None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not result.ok:
        result.write(out)
        raise SolveError(result.explanation)
    result.write(out)
    if not no_plot:
        from zeropark.plots import save_dispatch_week

        save_dispatch_week(result.dataset, out / "dispatch.png")
    for line in kpi_lines(result.kpis):
        click.echo(line)
    click.echo(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if not p.name.startswith('.')))}"
               f" in {out}")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_jsonable)


def _register_commands() -> None:
    """Add the commands of the operations, planning and report packages."""
    import importlib

    for module in ("zeropark.operations.commands", "zeropark.planning.commands",
                   "zeropark.report.commands"):
        for command in importlib.import_module(module).COMMANDS:
            main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
