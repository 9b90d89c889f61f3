"""Helpers shared by every ``zeropark`` command: exit codes, error handling, durations, windows,
the KPI table. Kept apart from :mod:`zeropark.cli` so command modules can import them without
importing (and re-entering) the CLI group that registers them."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click
import pandas as pd

from zeropark.errors import ScenarioError, SolveError, ZeroparkError

EXIT_INVALID = 2
EXIT_NO_SOLUTION = 3
EXIT_IO = 5


#: Longest duration any option accepts [h]: a scenario holds at most two leap years.
_MAX_DURATION_H = 2 * 8784.0


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
            if 0 < value * factor <= _MAX_DURATION_H:  # 'infh', '1e400h' are refused here
                return value * factor
    raise ScenarioError(field, text, "a positive duration such as 48h, 7d, 30min (at most "
                        f"{_MAX_DURATION_H:g} h)")


def window_of(sc: Any, start: str | None, horizon: str | None) -> tuple[int, int | None]:
    """Step offset and count of a ``--start``/``--horizon`` window within the scenario."""
    time = sc.time_index()
    first = 0
    if start is not None:
        try:
            ts = pd.Timestamp(start)
        except (ValueError, TypeError, OverflowError):
            raise ScenarioError("--start", start, "an ISO datetime inside the horizon") from None
        if ts.tzinfo is not None:
            raise ScenarioError("--start", start, "local standard time without a UTC offset "
                                "(as the scenario's time axis)")
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
            where = f" ({err.filename})" if err.filename else ""
            click.echo(f"error: could not write or read a file: {err.strerror or err}{where}; "
                       "earlier outputs are unchanged", err=True)
            sys.exit(EXIT_IO)
        except Exception as err:  # noqa: BLE001 - last resort: one line, trace only on request
            click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            sys.exit(1)

    return wrapper


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
