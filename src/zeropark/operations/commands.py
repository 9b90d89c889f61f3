"""CLI commands of zeropark.operations (registered by zeropark.cli).

``zeropark schedule`` — the nightly day-ahead schedule; ``zeropark ledger init|update`` — the
operations state and closing the loop with metered actuals.

Exit codes of ``schedule``: 0 an optimised schedule was written; 4 a rule-based fallback schedule
was written (``fallback: true``; the reasons are printed); 2 invalid scenario, state or options
(nothing written, an earlier schedule is untouched); 1 internal error (nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

EXIT_FALLBACK = 4


def _billing_options(fn: Any) -> Any:
    """The options both ``schedule`` and ``replay`` take: how a plan bills the intra-step peak and
    where its storage end condition is counted from."""
    fn = click.option("--horizon-end", type=click.Choice(["state", "reference"]), default="state",
                      show_default=True,
                      help="Storage end condition counted from the state's SOC, or from the "
                      "scenario's soc_initial.")(fn)
    return click.option("--intra-step-peak", type=click.Choice(["average", "scenario"]),
                        default="scenario", show_default=True,
                        help="Steps coarser than 15 min: billed as their average, or with the "
                        "scenario's intra-step peak ratio on the forecast load (see "
                        "docs/operations.md).")(fn)


def _lookahead_option(fn: Any) -> Any:
    """``--lookahead-z``: the lookahead discount of :mod:`zeropark.operations.margins`."""
    from zeropark.operations.margins import LOOKAHEAD_Z

    return click.option("--lookahead-z", type=float, default=LOOKAHEAD_Z, show_default=True,
                        help="Bill the steps after the executed day (first 24 h) at their "
                        "forecast less this many σ of the load/PV error (0: as forecast).")(fn)


@click.command("schedule")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--start", required=True, help="First interval start, e.g. 2026-11-29T00:00.")
@click.option("--horizon", default="48h", show_default=True, help="Horizon, e.g. 48h, 2d.")
@click.option("--step", type=click.Choice(["15min", "30min", "1h"]), default="15min",
              show_default=True)
@click.option("--state", "state_path", required=True, type=click.Path(dir_okay=False),
              help="State JSON (see 'zeropark ledger init').")
@click.option("--forecast", default=None, type=click.Path(dir_okay=False),
              help="Forecast CSV; absent columns use the scenario's profiles.")
@click.option("--time-limit", type=float, default=None, help="Solver time limit [s].")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default="schedules",
              show_default=True)
@click.option("--peak-margin", default="auto", show_default=True,
              help="Keep the plan this many kW below the month's peak (kW), or 'auto': "
              "1.28 σ of the load/PV forecast error per step.")
@click.option("--dr-margin", default="auto", show_default=True,
              help="Plan DR events this many kW below their import cap (kW), or 'auto': "
              "1.645 σ of the window's forecast error; an offered event is accepted only with "
              "its margin kept.")
@click.option("--load-error", type=float, default=0.05, show_default=True,
              help="Relative standard deviation of the load forecast (for 'auto' margins).")
@click.option("--pv-error", type=float, default=0.25, show_default=True,
              help="Relative standard deviation of the PV forecast (for 'auto' margins).")
@_lookahead_option
@_billing_options
def schedule(scenario: str, start: str, horizon: str, step: str, state_path: str,
             forecast: str | None, time_limit: float | None, out_dir: str, peak_margin: str,
             dr_margin: str, load_error: float, pv_error: float, lookahead_z: float,
             intra_step_peak: str, horizon_end: str) -> None:
    """Make the day-ahead schedule DIR/schedule-<start>.json and .csv — always a plan.

    Exit 0: optimised schedule; 4: rule-based fallback schedule written (reasons printed);
    2: invalid input, nothing written.
    """
    from zeropark.clitools import handle_errors

    code = handle_errors(_schedule)(scenario, start, horizon, step, state_path, forecast,
                                    time_limit, out_dir, (peak_margin, dr_margin, load_error,
                                                          pv_error, lookahead_z),
                                    (intra_step_peak, horizon_end))
    sys.exit(code)


def _schedule(scenario: str, start: str, horizon: str, step: str, state_path: str,
              forecast: str | None, time_limit: float | None, out_dir: str,
              margin_options: tuple[str, str, float, float, float | None] = (
                  "auto", "auto", 0.05, 0.25, None),
              rules: tuple[str, str] = ("scenario", "state")) -> int:
    from zeropark.clitools import parse_duration_h
    from zeropark.errors import ScenarioError
    from zeropark.operations.horizon import horizon_steps
    from zeropark.operations.margins import LOOKAHEAD_Z, Margins, parse_margin
    from zeropark.operations.publish import publish
    from zeropark.operations.schedule import make_schedule
    from zeropark.operations.state import check_against, load_state, salvage_state
    from zeropark.scenario import load_scenario

    if time_limit is not None and time_limit < 0:
        raise ScenarioError("--time-limit", time_limit, "a time limit ≥ 0 s")
    peak_m, dr_m, load_err, pv_err, look_z = margin_options
    margins = Margins(peak_margin_kw=parse_margin(peak_m, "--peak-margin"),
                      dr_margin_kw=parse_margin(dr_m, "--dr-margin"), load_error=load_err,
                      pv_error=pv_err, lookahead_z=LOOKAHEAD_Z if look_z is None else look_z)
    sc = load_scenario(scenario)
    horizon_h = parse_duration_h(horizon, "--horizon")
    horizon_steps(horizon_h, step)  # refuse an unreasonable horizon before reading anything else
    try:
        state, ignored = load_state(state_path), None
        check_against(state, sc)
    except ScenarioError as err:
        # always a schedule: a broken state gives the flagged fallback, naming what was ignored
        click.echo(f"warning: state not usable as it is: {err}", err=True)
        state, ignored = salvage_state(state_path, sc, _start_text(start))
    s = make_schedule(sc, state, start=start, horizon_h=horizon_h, step=step,
                      forecast=forecast, time_limit_s=time_limit, state_ignored=ignored,
                      margins=margins, intra_step_peak=rules[0], horizon_end=rules[1])
    paths = publish(s, out_dir)
    meta = s.doc["metadata"]
    exp = meta["expected"]
    click.echo(f"{'FALLBACK' if s.fallback else 'optimised'} schedule {meta['start']} – "
               f"{meta['end']} ({meta['n_intervals']} × {meta['step']}), solver {meta['status']}"
               + (f", objective {meta['objective']:,.0f} {meta['currency']}, gap "
                  f"{meta['gap']:.2e}" if meta["objective"] is not None else ""))
    click.echo(f"import {exp['import_kwh']:,.0f} kWh, export {exp['export_kwh']:,.0f} kWh, "
               f"green share {exp['green_share']:.1%}, CO2 {exp['emissions_kg'] / 1000:,.2f} t, "
               f"EV {exp['ev_energy_kwh']:,.0f} kWh")
    for w in meta["warnings"]:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"wrote {', '.join(str(p) for p in paths)} (revision {meta['revision']}: "
               f"{paths[0].name.split('.')[0]}.r{meta['revision']}.json/.csv; CSV metadata in "
               ".meta.json; long format in .long.csv)")
    if s.fallback:
        for r in meta["reasons"]:
            click.echo(f"fallback: {r}", err=True)
        return EXIT_FALLBACK
    return 0


def _start_text(start: str) -> str:
    """``--start`` as the ``as_of`` of a default state (a bad start is refused later)."""
    import pandas as pd

    try:
        return pd.Timestamp(start).isoformat()
    except (ValueError, TypeError):
        return str(start)


@click.group("ledger")
def ledger() -> None:
    """Operations state: create it, and roll metered actuals into it."""


@ledger.command("init")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--as-of", "as_of", required=True, help="Instant of the state, e.g. the first "
              "schedule start 2026-11-29T00:00.")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), default="state.json",
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing state file.")
def ledger_init(scenario: str, as_of: str, out_path: str, force: bool) -> None:
    """Write a fresh state: the scenario's initial SOCs, no peak yet, empty ledger, no EVs."""
    from zeropark.clitools import handle_errors

    handle_errors(_init)(scenario, as_of, out_path, force)


def _init(scenario: str, as_of: str, out_path: str, force: bool) -> None:
    from zeropark.errors import ScenarioError
    from zeropark.operations.state import check_against, initial_state, save_state
    from zeropark.scenario import load_scenario

    if Path(out_path).exists() and not force:
        raise ScenarioError("--out", out_path, "a new file (or --force to overwrite the state)")
    sc = load_scenario(scenario)
    state = initial_state(sc, as_of)
    check_against(state, sc)
    save_state(state, out_path)
    click.echo(f"wrote {out_path} (as of {state.as_of})")


@ledger.command("update")
@click.option("--state", "state_path", required=True, type=click.Path(dir_okay=False))
@click.option("--actuals", "actuals_path", required=True, type=click.Path(dir_okay=False),
              help="Metered actuals CSV.")
@click.option("--schedule", "schedule_path", default=None, type=click.Path(),
              help="The schedule JSON the day ran on, or a folder of schedules (the one "
                   "covering the actuals' start is used). Enables the drift report.")
@click.option("--certificates-mwh", type=float, default=0.0, show_default=True,
              help="Green certificates bought since the last update [MWh].")
@click.option("--offsets-t", type=float, default=0.0, show_default=True,
              help="CCER offsets retired since the last update [t].")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the new state here (default: replace --state, atomically).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write the drift report as JSON.")
def ledger_update(state_path: str, actuals_path: str, schedule_path: str | None,
                  certificates_mwh: float, offsets_t: float, out_path: str | None,
                  report_path: str | None) -> None:
    """Roll metered actuals (import, export, SOC, EV energy) into the state; report drift."""
    from zeropark.clitools import handle_errors

    handle_errors(_update)(state_path, actuals_path, schedule_path, certificates_mwh, offsets_t,
                           out_path, report_path)


def find_schedule(folder: Path, at: str) -> Path | None:
    """The current ``schedule-<start>.json`` in ``folder`` whose horizon covers ``at`` (revision
    files ``.r<N>.json`` are history, not candidates; only the files needed are validated)."""
    from zeropark.operations.publish import find_current, local_time

    return find_current(folder, local_time(at))


def _update(state_path: str, actuals_path: str, schedule_path: str | None,
            certificates_mwh: float, offsets_t: float, out_path: str | None,
            report_path: str | None) -> None:
    from zeropark.errors import ScenarioError
    from zeropark.io import atomic_write_text
    from zeropark.operations.ledger import drift_lines, read_actuals, update_state
    from zeropark.operations.publish import InvalidScheduleError, read_schedule
    from zeropark.operations.state import load_state, save_state

    if certificates_mwh < 0 or offsets_t < 0:
        raise ScenarioError("--certificates-mwh/--offsets-t", (certificates_mwh, offsets_t),
                            "values ≥ 0")
    state = load_state(state_path)
    actuals = read_actuals(actuals_path, field="--actuals")
    plan = None
    if schedule_path is not None:
        path = Path(schedule_path)
        if path.is_dir():
            found = find_schedule(path, actuals.time[0].isoformat())
            if found is None:
                raise ScenarioError("--schedule", schedule_path,
                                    f"a folder holding a schedule that covers {actuals.time[0]}")
            path = found
        try:
            plan = read_schedule(path)
        except InvalidScheduleError as err:
            raise ScenarioError("--schedule", str(path), f"a valid schedule JSON ({err})") from None
        click.echo(f"plan: {path}")
    up = update_state(state, actuals, plan, certificates_mwh=certificates_mwh,
                      offsets_t=offsets_t)
    target = Path(out_path or state_path)
    save_state(up.state, target)
    for w in up.warnings:
        click.echo(f"warning: {w}", err=True)
    for line in drift_lines(up.drift, plan_given=plan is not None):
        click.echo(line)
    if report_path is not None:
        atomic_write_text(Path(report_path), json.dumps(
            {"drift": up.drift, "warnings": up.warnings}, indent=2) + "\n")
    lg = up.state.ledger
    click.echo(f"state as of {up.state.as_of}: ledger {lg.consumption_kwh / 1e3:,.1f} MWh "
               f"consumed, {lg.emissions_kg / 1e3:,.1f} t CO2 since {lg.period_start}; "
               + (f"month peak {up.state.month_to_date.peak_import_kw:,.1f} kW"
                  if up.state.month_to_date is not None else "no month peak yet"))
    click.echo(f"wrote {target}")


@click.command("replay")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--start", required=True, help="First night, a local date, e.g. 2025-07-24.")
@click.option("--days", type=int, required=True, help="Number of nights to replay.")
@click.option("--horizon", default="48h", show_default=True, help="Each night's horizon.")
@click.option("--step", type=click.Choice(["15min", "30min", "1h"]), default="1h",
              show_default=True)
@click.option("--load-error", type=float, default=0.05, show_default=True,
              help="Forecast error model: relative standard deviation of the day's load.")
@click.option("--pv-error", type=float, default=0.25, show_default=True,
              help="Forecast error model: relative standard deviation of the day's PV.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the forecast errors (one draw per date).")
@click.option("--perfect", is_flag=True, help="Perfect forecasts (no error model).")
@click.option("--peak-margin", default="auto", show_default=True,
              help="The schedules' peak guard (kW or 'auto'; see 'zeropark schedule').")
@click.option("--dr-margin", default="auto", show_default=True,
              help="The schedules' DR delivery margin (kW or 'auto').")
@_lookahead_option
@_billing_options
@click.option("--demand-basis", type=click.Choice(["pro_rata", "month"]), default="month",
              show_default=True,
              help="Demand charge of the benchmark and the replayed dispatch: the stretch's "
              "share of each month, or each month in full (as the nightly plans bill it).")
@click.option("--time-limit", type=float, default=None, help="Solver time limit per night [s].")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the report as JSON here (and replay.png beside it).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the plot (per-night regret, planned vs actual peak, DR shortfall) "
              "here [default: replay.png beside the -o report; none without -o].")
def replay_command(scenario: str, start: str, days: int, horizon: str, step: str,
                   load_error: float, pv_error: float, seed: int, perfect: bool,
                   peak_margin: str, dr_margin: str, lookahead_z: float, intra_step_peak: str,
                   horizon_end: str, demand_basis: str, time_limit: float | None,
                   out_path: str | None, plot_path: str | None) -> None:
    """Replay N nights (schedule, execute against the truth, ledger update) and report the
    regret against perfect foresight: energy, demand charge, DR delivery, peak exceedances,
    ramp violations, fallbacks, per night and in total."""
    from zeropark.clitools import handle_errors

    handle_errors(_replay)(scenario, start, days, horizon, step, (load_error, pv_error, seed,
                                                                  perfect),
                           (peak_margin, dr_margin, lookahead_z), time_limit, out_path,
                           (intra_step_peak, horizon_end, demand_basis), plot_path)


def _replay(scenario: str, start: str, days: int, horizon: str, step: str,
            error_options: tuple[float, float, int, bool],
            margin_options: tuple[str, str, float],
            time_limit: float | None, out_path: str | None,
            rules: tuple[str, str, str] = ("scenario", "state", "month"),
            plot_path: str | None = None) -> None:
    from zeropark.clitools import parse_duration_h
    from zeropark.errors import ScenarioError
    from zeropark.io import atomic_write_text
    from zeropark.operations.horizon import horizon_steps
    from zeropark.operations.margins import Margins, parse_margin
    from zeropark.operations.replay import (
        ForecastError,
        replay_lines,
        run_replay,
        write_replay_plot,
    )
    from zeropark.scenario import load_scenario

    load_error, pv_error, seed, perfect = error_options
    if time_limit is not None and time_limit < 0:
        raise ScenarioError("--time-limit", time_limit, "a time limit ≥ 0 s")
    error = None if perfect else ForecastError(load_error=load_error, pv_error=pv_error,
                                               seed=seed)
    margins = Margins(peak_margin_kw=parse_margin(margin_options[0], "--peak-margin"),
                      dr_margin_kw=parse_margin(margin_options[1], "--dr-margin"),
                      load_error=load_error, pv_error=pv_error,
                      lookahead_z=margin_options[2])
    horizon_h = parse_duration_h(horizon, "--horizon")
    horizon_steps(horizon_h, step)
    sc = load_scenario(scenario)
    report, _ = run_replay(sc, start=start, days=days, horizon_h=horizon_h, step=step,
                           error=error, margins=margins, time_limit_s=time_limit,
                           intra_step_peak=rules[0], horizon_end=rules[1],
                           demand_basis=rules[2])
    for line in replay_lines(report):
        click.echo(line)
    if out_path is not None:
        atomic_write_text(Path(out_path), json.dumps(report, indent=1, allow_nan=False) + "\n")
        click.echo(f"wrote {out_path}")
    if plot_path is None and out_path is not None:
        plot_path = str(Path(out_path).with_name("replay.png"))
    if plot_path is not None:
        click.echo(f"wrote {write_replay_plot(report, plot_path, sc.currency)}")


COMMANDS: list[click.Command] = [schedule, ledger, replay_command]
