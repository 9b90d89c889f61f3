"""CLI commands of zeropark.report (registered by zeropark.cli): ``report``, ``plot``."""

from __future__ import annotations

from pathlib import Path

import click

from zeropark.clitools import handle_errors
from zeropark.errors import ScenarioError

PLOTS = ("dispatch", "monthly_balance", "import_duration", "schedules", "emissions", "costs")


@click.command("report")
@click.argument("run_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write [default: DIR/report.html].")
@click.option("--scenario", type=click.Path(dir_okay=False), default=None,
              help="The scenario YAML solved, for nameplate sizes, tariff and targets.")
@click.option("--title", default=None, help="Heading of the report.")
@handle_errors
def report(run_dir: str, out: str | None, scenario: str | None, title: str | None) -> None:
    """Write one self-contained HTML report of a run folder (figures embedded)."""
    from zeropark.report.html import write_report

    path = write_report(run_dir, out, scenario=scenario, title=title)
    click.echo(f"wrote {path}")


@click.command("plot")
@click.argument("run_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the figures [default: DIR].")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png",
              show_default=True)
@click.option("--week", default=None,
              help="ISO start of the dispatch week [default: the week with most grid import].")
@handle_errors
def plot(run_dir: str, out_dir: str | None, fmt: str, week: str | None) -> None:
    """Save the standard figures of a run folder (PNG or SVG)."""
    from zeropark.plots import dispatch_stack, report_figures, save_figure
    from zeropark.report.html import read_run_dir

    run = read_run_dir(run_dir)
    if run.dataset is None:
        raise ScenarioError("DIR", run_dir, "a run folder with results.nc (a solved run)")
    out = Path(out_dir) if out_dir is not None else Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = report_figures(run.dataset, run.kpis)
    if week is not None:
        figures["dispatch"] = dispatch_stack(run.dataset, start=week)
    for name, fig in figures.items():
        save_figure(fig, out / f"{name}.{fmt}")
    click.echo(f"wrote {', '.join(f'{n}.{fmt}' for n in figures)} in {out}")


COMMANDS: list[click.Command] = [report, plot]
