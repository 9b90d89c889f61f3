"""CLI commands of zeropark.report (registered by zeropark.cli)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
