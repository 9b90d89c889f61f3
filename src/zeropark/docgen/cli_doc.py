"""The command-line reference (docs/cli.md), generated from the click commands.

Every command registered on ``zeropark.cli.main`` (including those of the operations, planning and
report packages) is listed with its usage line, help text and options, so the page follows the
code; a test regenerates it and compares it with the committed file.
"""

from __future__ import annotations

import enum
import inspect

import click

HEADER = """<!-- Generated from the click commands by `zeropark docs cli -o docs/cli.md`.
     Do not edit by hand: change the help texts in the code and regenerate. -->

# Command-line reference

`zeropark` is a thin layer over the Python API (`import zeropark`). Every command prints one line
on standard error and exits with a documented code when something is wrong, never a traceback
(add `--debug` before the command to see one for internal errors).

| Exit code | Meaning |
| --- | --- |
| 0 | success |
| 1 | unexpected internal error (please report it, with `zeropark --debug …`) |
| 2 | invalid input (scenario, CSV, options, paths): the message names field, value and what is allowed |
| 3 | no solution: infeasible, unbounded or time limit without a solution; the explanation is printed |
| 4 | `schedule` only: the flagged rule-based fallback schedule was published (reasons printed) |
| 5 | an output could not be written (read-only folder, disk full); earlier outputs are unchanged |
| 130 | interrupted (Ctrl-C); nothing partial is left behind |

A typical session:

```console
$ zeropark validate scenarios/demo-park.yaml
$ zeropark run scenarios/demo-park.yaml --horizon 7d -o out/week
$ zeropark report out/week -o out/week/report.html
```
"""


def _type_name(param: click.Parameter) -> str:
    if isinstance(param, click.Option) and param.is_flag:
        return "flag"
    kind = param.type
    if isinstance(kind, click.Choice):
        return " \\| ".join(f"`{c}`" for c in kind.choices)
    if isinstance(kind, click.Path):
        return "directory" if not kind.file_okay else "file" if not kind.dir_okay else "path"
    return kind.name


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: click.Parameter) -> str:
    if isinstance(param, click.Argument) or (isinstance(param, click.Option) and param.is_flag):
        return ""
    value = param.default
    # click >= 8.3 marks "no default" with an enum sentinel
    if value is None or callable(value) or value == () or isinstance(value, enum.Enum):
        return ""
    return f"`{value}`"


def _options_table(cmd: click.Command, ctx: click.Context) -> list[str]:
    rows = []
    for param in cmd.get_params(ctx):
        if isinstance(param, click.Argument):
            name = f"`{param.human_readable_name}`"
            help_text = "argument" + ("" if param.required else " (optional)")
        elif isinstance(param, click.Option):
            if param.hidden or param.name == "help" or "--help" in param.opts:
                continue
            name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
            help_text = ("**required.** " if param.required else "") + (param.help or "")
        else:  # pragma: no cover - click has only the two kinds
            continue
        rows.append(f"| {name} | {_type_name(param)} | {_default(param)} | {_cell(help_text)} |")
    if not rows:
        return []
    return ["| Argument / option | Type | Default | Description |",
            "| --- | --- | --- | --- |", *rows]


def _command_section(cmd: click.Command, ctx: click.Context, level: int) -> list[str]:
    out = [f"{'#' * level} `{ctx.command_path}`", ""]
    usage = cmd.get_usage(ctx).replace("Usage: ", "")
    out += ["```console", f"$ {usage}", "```", ""]
    if cmd.help:
        out += [inspect.cleandoc(click.unstyle(cmd.help)), ""]
    table = _options_table(cmd, ctx)
    if table:
        out += [*table, ""]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            out += _command_section(sub, click.Context(sub, info_name=name, parent=ctx),
                                    level + 1)
    return out


def cli_reference_markdown(group: click.Group | None = None) -> str:
    """The CLI reference as Markdown (default: every command of ``zeropark.cli.main``)."""
    if group is None:
        from zeropark.cli import main

        group = main
    ctx = click.Context(group, info_name="zeropark")
    out = [HEADER.rstrip(), ""]
    out += ["## Commands", ""]
    names = sorted(group.list_commands(ctx))
    for name in names:
        sub = group.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            summary = sub.get_short_help_str(limit=100)
            out.append(f"- [`zeropark {name}`](#zeropark-{name}) — {summary}")
    out.append("")
    out += _command_section(group, ctx, 2)
    return "\n".join(out).rstrip() + "\n"
