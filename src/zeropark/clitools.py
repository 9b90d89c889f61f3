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
    rows = [
        ("total cost", f"{k['total_cost']:,.0f} {cur}"),
        *[(f"  {name}", f"{val:,.0f} {cur}") for name, val in k["cost_breakdown"].items()],
        ("consumption", f"{k['consumption_kwh'] / 1e3:,.1f} MWh"),
        ("grid import / export", f"{k['import_kwh'] / 1e3:,.1f} / {k['export_kwh'] / 1e3:,.1f} MWh"),
        ("PV used / curtailed", f"{k['pv_generation_kwh'] / 1e3:,.1f} / "
                                f"{k['pv_curtailed_kwh'] / 1e3:,.1f} MWh"),
        ("self-consumption / sufficiency", f"{k['self_consumption']:.1%} / "
                                           f"{k['self_sufficiency']:.1%}"),
        ("green-power share (certificates)", f"{k['green_share']:.1%}"
                              + (f" (target {k['green_share_target']:.0%})"
                                 if k.get("green_share_target") is not None else "")),
        ("physical renewable share", f"{k['physical_green_share']:.1%} (on-site PV + direct "
                                     "supply, no certificates)"),
        *emission_rows(k),
        *indicator_rows(k),
        ("max monthly peak import", f"{max(k['peak_import_kw_by_month'].values()):,.0f} kW"),
        ("EV energy / unmet", f"{k['ev_energy_kwh'] / 1e3:,.1f} MWh / {k['ev_unmet_kwh']:,.1f} kWh"),
        ("DR revenue", f"{k['dr_revenue']:,.0f} {cur} ({len(k['dr_events_accepted'])} accepted)"),
        ("solver", f"{k['solver']['status']}, gap {k['solver']['gap']:.2e}"),
        ("timings", ", ".join(f"{n} {v:.2f}s" for n, v in k.get("timings", {}).items())),
    ]
    width = max(len(r[0]) for r in rows)
    return [f"{name:<{width}}  {val}" for name, val in rows]


_LINE_LABELS = (
    ("scope1_fuels_t", "CO2 Scope 1 (fuels)"),
    ("scope2_location_t", "CO2 Scope 2 location-based"),
    ("certificate_covered_t", "  certificate-covered (credited)"),
    ("scope2_market_t", "CO2 Scope 2 market-based"),
    ("indicator_t", "CO2 indicator line"),
    ("offsets_t", "CCER offsets"),
)


def emission_rows(k: dict[str, Any]) -> list[tuple[str, str]]:
    """One row per emissions-ledger line, each named; the carbon price says its line."""
    e = k.get("emissions")
    if not e:
        return [("CO2", f"{k['co2_t']:,.1f} t")]
    rows = [(label, f"{e[key]:,.1f} t") for key, label in _LINE_LABELS]
    rows[4] = (rows[4][0], rows[4][1] + f" (Scope 1 + {e['scope2_method']}-based Scope 2 after "
               "certificates" + (", minus offsets)" if e["offsets_in_indicator"] else ")"))
    rows.append(("carbon price applies to", f"{e['carbon_price_scope']}: "
                                            f"{e['carbon_priced_t']:,.1f} t before offsets"))
    return rows


def indicator_rows(k: dict[str, Any]) -> list[tuple[str, str]]:
    """The core indicator (with the CO2 and tce it divides), its scope, the value with offsets,
    the other tce factor when its verdict differs, and the "1 + 5" check."""
    zc = k["zero_carbon_indicator"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    rows = [("CO2 per tce (core indicator)",
             f"{zc['value']:.3f} t/tce = {k['co2_t']:,.1f} t / {k['energy_tce']:,.1f} tce "
             f"vs ≤ {zc['threshold']} → {verdict(zc['pass'])}")]
    if "value_with_offsets" not in zc:
        return rows
    counted = "counted" if zc["offsets_counted"] else "not counted in the indicator"
    rows.append(("  with offsets", f"{zc['value_with_offsets']:.3f} t/tce → "
                                   f"{verdict(zc['pass_with_offsets'])} (offsets {counted})"))
    rows.append(("  tce factor", zc["tce_factor"].replace("_", " ")))
    if zc["verdicts_differ"]:
        for name, alt in zc["by_tce_factor"].items():
            rows.append((f"  at {name.replace('_', ' ')} tce",
                         f"{alt['value']:.3f} t/tce ({alt['energy_tce']:,.1f} tce) → "
                         f"{verdict(alt['pass'])}"))
    rows.append(("  threshold from", zc["threshold_source"]))
    if zc["band_changed"]:
        rows.append(("  band re-check", f"annual use after the solve {zc['annual_tce']:,.0f} "
                                        f"tce/yr falls in band {zc['band_after_solve']}, not "
                                        f"{zc['band']}: re-run with that threshold"))
    var = k.get("clean_energy_share_variants", {})
    rows.append(("clean energy share (≥ 90 %)",
                 f"{k['clean_energy_share']:.1%} (with gas {var.get('with_gas', 0):.1%}, "
                 f"without {var.get('without_gas', 0):.1%})"))
    check = k.get("zero_carbon_check", {})
    if check:
        rows.append(("zero-carbon check (1 + 5)", ", ".join(
            f"{name.replace('_', ' ')} {item['verdict']}" for name, item in check.items())))
    return rows
