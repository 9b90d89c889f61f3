"""Command line interface ``zeropark`` — a thin layer over :mod:`zeropark.api`.

Exit codes: 0 success; 2 invalid input (scenario, CSV, options); 3 no solution (infeasible,
time limit without incumbent — the explanation is printed); 4 ``schedule`` published the flagged
rule-based fallback plan; 5 an output could not be written (read-only folder, disk full — earlier
outputs are left as they were); 130 interrupted (Ctrl-C); 1 unexpected internal error.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zeropark import __version__
from zeropark.clitools import handle_errors, kpi_lines, progress_options, quiet_requested, window_of
from zeropark.errors import SolveError

if TYPE_CHECKING:
    from zeropark.scenario import Scenario

# Commands defined in other packages: name -> module whose ``COMMANDS`` list holds it. A module is
# imported only when one of its commands runs (or ``--help`` lists them all), so start-up and
# ``zeropark --version`` load nothing but click.
LAZY_COMMANDS = {
    "schedule": "zeropark.operations.commands", "ledger": "zeropark.operations.commands",
    "replay": "zeropark.operations.commands",
    "size": "zeropark.planning.commands", "sweep": "zeropark.planning.commands",
    "pareto": "zeropark.planning.commands", "path": "zeropark.planning.commands",
    "tornado": "zeropark.planning.commands", "export-pypsa": "zeropark.pypsa_export",
    "report": "zeropark.report.commands", "plot": "zeropark.report.commands",
    "docs": "zeropark.docgen.commands",
    "diagnose": "zeropark.reliability.commands", "repair-csv": "zeropark.reliability.commands",
}


class LazyGroup(click.Group):
    """A click group that imports the module of a command in :data:`LAZY_COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            for command in importlib.import_module(LAZY_COMMANDS[cmd_name]).COMMANDS:
                _refuse_empty_paths(command)
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--allow-outside", "allow_outside", multiple=True, metavar="FOLDER",
              type=click.Path(file_okay=False),
              help="Let a scenario read files (library, CSV, weather) in FOLDER, outside its own "
                   "folder; repeatable. Without it such paths are refused.")
@click.option("--max-input-mb", type=float, default=None, metavar="MB",
              help="Largest input file read [MB; default 64, or $ZEROPARK_MAX_INPUT_MB].")
@progress_options
@click.version_option(version=__version__, package_name="zeropark")
def main(debug: bool, allow_outside: tuple[str, ...], max_input_mb: float | None) -> None:
    """zeropark — plan and dispatch a zero-carbon industrial park (源网荷储一体化).

    Long work shows its progress on stderr when stderr is a terminal: the phase (profiles, build,
    LP relaxation, rounding, MILP), elapsed time, and HiGHS's incumbent, bound and gap. -v adds
    the full HiGHS log, -q turns it off, --progress turns it on for a log file.
    """
    import os

    from zeropark import guard

    if max_input_mb is not None and not 0 < max_input_mb < 1e9:
        raise click.UsageError(f"--max-input-mb: got {max_input_mb}; a size in MB between 0 "
                               "and 1e9")
    # passed through the environment, so that worker processes (sweep) apply them too; restored
    # when the command ends (several commands may run in one process, e.g. in tests)
    saved = {key: os.environ.get(key) for key in (guard.ENV_ALLOW, guard.ENV_LIMIT)}
    if allow_outside:
        os.environ[guard.ENV_ALLOW] = os.pathsep.join(
            str(Path(folder).expanduser().resolve()) for folder in allow_outside)
    else:
        os.environ.pop(guard.ENV_ALLOW, None)
    if max_input_mb is not None:
        os.environ[guard.ENV_LIMIT] = repr(max_input_mb)

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    click.get_current_context().call_on_close(restore)


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
    from zeropark.io import atomic_write_bytes, netcdf_bytes
    from zeropark.profiles.build import build_profiles
    from zeropark.profiles.export import profiles_dataset, summary_lines
    from zeropark.scenario import load_scenario

    sc = load_scenario(scenario)
    prof = build_profiles(sc)
    ds = profiles_dataset(sc, prof)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "profiles.nc", netcdf_bytes(ds))
    for line in summary_lines(sc, prof):
        click.echo(line)
    click.echo(f"wrote {out / 'profiles.nc'}")


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
@click.option("--excel", is_flag=True,
              help="Also write results.xlsx: KPIs, monthly table, time series (needs openpyxl).")
@progress_options
@handle_errors
def run(scenario: str, out_dir: str, start: str | None, horizon: str | None,
        time_limit: float | None, gap: float | None, engine: str | None, relax: bool,
        rolling: str | None, no_plot: bool, excel: bool) -> None:
    """Solve the dispatch; write results.nc, kpis.json, timeseries.csv, dispatch.png (and
    results.xlsx with --excel)."""
    from zeropark.profiles.forked import SolarJob

    # the whole horizon's pvlib part is computed in a second process meanwhile (profiles.forked)
    whole = start is None and horizon is None and rolling is None
    job = SolarJob.start(lambda: _load_scenario(scenario)) if whole else None
    try:
        sc = _load_scenario(scenario)
        changes: dict[str, Any] = {}
        if time_limit is not None:
            changes["solver.time_limit_s"] = time_limit
        if gap is not None:
            changes["solver.mip_gap"] = gap
        if changes:
            sc = sc.replace(changes)
        first, steps = window_of(sc, start, horizon)
        from zeropark.io import check_writable

        out = Path(out_dir)
        check_writable(out)  # fail before a long solve, not after it
        if excel:
            from zeropark.excel import require_openpyxl

            require_openpyxl()
        from zeropark.api import prepare, solve_data

        if not quiet_requested():
            click.echo(f"building {sc.name} …", err=True)
        from zeropark import warmup

        # what the files need after the solve is imported while HiGHS solves (zeropark.warmup)
        warmup.request("results", *(() if no_plot else ("plot",)), *(("excel",) if excel else ()))
        if rolling is not None:
            from zeropark.rolling import run_rolling

            result = run_rolling(sc, rolling, start=first, steps=steps, engine=engine)
        else:
            d = prepare(sc, start=first, steps=steps,
                        solar_from=None if job is None else job.result)
            result = solve_data(d, engine=engine, relax=relax or None)
    finally:
        if job is not None:
            job.close()
    warmup.wait()
    figure: dict[str, bytes] = {}
    if result.ok and not no_plot:
        from zeropark.plots import dispatch_stack, figure_bytes

        figure["dispatch.png"] = figure_bytes(dispatch_stack(result.dataset))
    if result.ok and excel:
        from zeropark.excel import workbook_bytes

        assert result.dataset is not None  # a solved result has its dataset
        figure["results.xlsx"] = workbook_bytes(result.dataset, result.kpis)
    # all-or-nothing, the figure and workbook included; a failed run writes only failure.json
    result.write(out, extra=figure)
    if not result.ok:
        raise SolveError(result.explanation)
    if no_plot:  # never leave an earlier run's figure next to these results
        (out / "dispatch.png").unlink(missing_ok=True)
    if not excel:  # nor an earlier run's workbook
        (out / "results.xlsx").unlink(missing_ok=True)
    for line in kpi_lines(result.kpis):
        click.echo(line)
    if "rolling" in result.kpis:
        from zeropark.rolling import rolling_lines

        for line in rolling_lines(result.kpis):
            click.echo(line)
    click.echo(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if not p.name.startswith('.')))}"
               f" in {out}")


def _load_scenario(path: str) -> Scenario:
    from zeropark.scenario import load_scenario

    return load_scenario(path)


class NonEmptyPath(click.Path):
    """A path option or argument that refuses the empty string: ``-o ""`` would otherwise mean
    the current folder, and a run would scatter its files there."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path; give a file or folder name ('.' for the current folder)",
                      param, ctx)
        return super().convert(value, param, ctx)


def _refuse_empty_paths(command: click.Command) -> None:
    """Make every path parameter of ``command`` and its subcommands a :class:`NonEmptyPath`."""
    for param in command.params:
        if type(param.type) is click.Path:
            param.type.__class__ = NonEmptyPath
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _refuse_empty_paths(sub)


_refuse_empty_paths(main)

if __name__ == "__main__":  # pragma: no cover
    main()
