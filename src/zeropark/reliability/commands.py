"""CLI commands of zeropark.reliability: ``diagnose`` (why a scenario has no solution, and the
numerical health of its model) and ``repair-csv`` (documented repair of a messy time series).

Registered by naming its commands in ``zeropark.cli.LAZY_COMMANDS``.
"""

from __future__ import annotations

import sys

import click

from zeropark.clitools import EXIT_NO_SOLUTION, handle_errors
from zeropark.errors import SolveError


@click.command("diagnose")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--start", default=None, help="ISO start inside the scenario horizon.")
@click.option("--horizon", default=None, help="Duration to check, e.g. 7d [default: all].")
@handle_errors
def diagnose_command(scenario: str, start: str | None, horizon: str | None) -> None:
    """Solve, and explain in plain terms why there is no solution (exit 3) or report the model's
    numerical health and the EV energy the piles cannot deliver (exit 0)."""
    import zeropark as zp
    from zeropark.clitools import window_of
    from zeropark.diagnose import diagnose
    from zeropark.model.builder import build_matrix
    from zeropark.reliability.datacheck import ev_conflicts
    from zeropark.reliability.numerics import scaling_report

    sc = zp.load_scenario(scenario)
    first, steps = window_of(sc, start, horizon)
    d = zp.prepare(sc, start=first, steps=steps)
    click.echo(f"model of {sc.name}: {d.T} steps of {d.dt_h:g} h from {d.prof.time[0]}")
    for line in scaling_report(build_matrix(d)).lines():
        click.echo(f"  {line}")
    for conflict in ev_conflicts(d):
        click.echo(f"  note: {conflict.sentence(d)}")
    result = zp.solve_data(d)
    if result.ok:
        click.echo(f"solvable: {result.status}, objective {result.objective:,.2f} "
                   f"{sc.currency}, gap {result.gap:.2e}")
        return
    diag = diagnose(d, None) if result.status == zp.Status.INFEASIBLE else None
    if diag is not None:
        click.echo(f"no solution ({result.status}); found by {diag.method}:")
        for cause in diag.causes:
            click.echo(f"  - {cause.sentence}")
        sys.exit(EXIT_NO_SOLUTION)  # explained above: not a second time by handle_errors
    raise SolveError(result.explanation)


@click.command("repair-csv")
@click.argument("source", type=click.Path(dir_okay=False, exists=True))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["power", "price", "factor"]), default="power",
              show_default=True, help="What the values are (power is converted to kW).")
@click.option("--column", default=None, help="Value column, when there are several.")
@click.option("--decimal", type=click.Choice([",", "."]), default=None,
              help="Decimal separator [default: '.', or ',' for ';' files that use it].")
@click.option("--timezone", default=None,
              help="IANA zone of daylight-saving wall-clock times, e.g. Europe/Berlin.")
@click.option("--dayfirst", is_flag=True, help="Dates like 30.03.2025 01:00.")
@click.option("--fill-gaps", type=click.IntRange(min=0), default=0, show_default=True,
              help="Fill gaps of at most this many steps.")
@handle_errors
def repair_csv(source: str, target: str, kind: str, column: str | None, decimal: str | None,
               timezone: str | None, dayfirst: bool, fill_gaps: int) -> None:
    """Write a clean copy of a messy time-series CSV and list every change made."""
    from zeropark.reliability.csvrepair import repair_series_csv

    rep = repair_series_csv(source, target, kind=kind, column=column, decimal=decimal,
                            timezone=timezone, dayfirst=dayfirst, fill_gaps_max_steps=fill_gaps)
    for action in rep.actions or ["nothing to repair"]:
        click.echo(f"  {action}")
    click.echo(f"wrote {rep.target} ({rep.rows_in} rows in, {rep.rows_out} out)")


COMMANDS: list[click.Command] = [diagnose_command, repair_csv]
