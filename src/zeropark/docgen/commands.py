"""CLI command ``docs`` (registered by zeropark.cli): regenerate the reference pages."""

from __future__ import annotations

from pathlib import Path

import click

from zeropark.clitools import handle_errors


@click.group("docs")
def docs() -> None:
    """Regenerate the reference pages (scenario format, CLI) from the code."""


def _emit(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    from zeropark.io import atomic_write_text

    atomic_write_text(Path(out), text)
    click.echo(f"wrote {out}", err=True)


@docs.command("scenario")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="File to write [default: standard output].")
@handle_errors
def docs_scenario(out: str | None) -> None:
    """The scenario format reference (docs/scenario-reference.md) from the pydantic schema."""
    from zeropark.docgen.schema_doc import scenario_reference_markdown

    _emit(scenario_reference_markdown(), out)


@docs.command("cli")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="File to write [default: standard output].")
@handle_errors
def docs_cli(out: str | None) -> None:
    """The command-line reference (docs/cli.md) from the click commands."""
    from zeropark.docgen.cli_doc import cli_reference_markdown

    _emit(cli_reference_markdown(), out)


COMMANDS: list[click.Command] = [docs]
