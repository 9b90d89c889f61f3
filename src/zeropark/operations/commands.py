"""CLI commands of zeropark.operations (registered by zeropark.cli)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
