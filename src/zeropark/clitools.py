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
    import pandas as pd

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


_PROGRESS_FLAGS = ("verbose", "quiet", "progress")


def _remember_flag(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:  # ``meta`` is shared by the group's and the command's contexts
        ctx.meta[f"zeropark.{param.name}"] = True
    return value


def progress_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-v/--verbose``, ``-q/--quiet`` and ``--progress``, on the group and on ``run``.

    They are recorded in the click context and applied by :func:`handle_errors`, which installs
    the progress reporter (:func:`zeropark.progress.for_terminal`) around the command.
    """
    options = [
        click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_remember_flag,
                     help="Progress lines and the full HiGHS log on stderr."),
        click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_remember_flag,
                     help="No progress output (for scripts); wins over -v and --progress."),
        click.option("--progress", is_flag=True, expose_value=False, callback=_remember_flag,
                     help="Progress lines on stderr even when it is not a terminal "
                          "(default: only on a terminal)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _progress_context() -> Any:
    """The progress reporter the command line asked for, installed for the current command."""
    from zeropark.progress import for_terminal, reporting

    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    flags = {name: bool(meta.get(f"zeropark.{name}")) for name in _PROGRESS_FLAGS}
    return reporting(for_terminal(verbose=flags["verbose"], quiet=flags["quiet"],
                                  force=flags["progress"]))


def quiet_requested() -> bool:
    """Whether ``-q/--quiet`` was given (commands then skip their own "working on …" lines)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("zeropark.quiet"))


def _exit_if_interrupted() -> None:
    """Exit 130 with the interruption's line if a Ctrl-C reached the command: whatever error it
    turned into (e.g. an ``ImportError`` from an extension module interrupted while it loaded),
    the user pressed Ctrl-C (:func:`zeropark.entry.ctrl_c_received`; only the ``zeropark``
    command's entry point notes it)."""
    entry = sys.modules.get("zeropark.entry")
    if entry is not None and entry.ctrl_c_received():
        click.echo("interrupted; no partial output was written", err=True)
        sys.exit(130)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn zeropark errors into one line on stderr and a documented exit code; run the command
    with the progress reporter of ``-v``/``-q``/``--progress`` (see :func:`progress_options`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _progress_context():
                return fn(*args, **kwargs)
        except ScenarioError as err:
            lines = getattr(err, "lines", None) or [str(err)]  # every validation error, one line each
            for line in lines:
                click.echo(f"error: {line}", err=True)
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
            _exit_if_interrupted()
            where = f" ({err.filename})" if err.filename else ""
            click.echo(f"error: could not write or read a file: {err.strerror or err}{where}; "
                       "earlier outputs are unchanged", err=True)
            sys.exit(EXIT_IO)
        except Exception as err:  # noqa: BLE001 - last resort: one line, trace only on request
            _exit_if_interrupted()
            click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            sys.exit(1)

    return wrapper


def _undeliverable_note(k: dict[str, Any]) -> str:
    groups = k.get("ev_unmet_by_group", {}).values()
    lost = sum(g.get("undeliverable_kwh", 0.0) for g in groups)
    away = sum(g.get("turned_away_kwh", 0.0) for g in groups)
    parts = ([f"{lost:,.1f} kWh cannot fit the stay"] if lost > 1e-6 else []) + (
        [f"{away:,.1f} kWh of cars turned away"] if away > 1e-6 else [])
    return f" (of which {'; '.join(parts)})" if parts else ""


# cost_breakdown entries that are revenues: subtracted from the total, so printed negative
REVENUES = ("export_revenue", "dr_revenue")


def fmt(value: float, digits: int = 0) -> str:
    """``value`` with thousands separators and ``digits`` decimals, never ``-0``."""
    return f"{round(value, digits) + 0.0:,.{digits}f}"


def pct(share: float) -> str:
    """A share as a percentage with one decimal, never ``-0.0 %``."""
    return f"{fmt(100 * share, 1)} %"


def cost_lines(k: dict[str, Any]) -> list[tuple[str, str]]:
    """Total cost and its parts; revenues are shown negative, so the parts add up to the total."""
    cur = k.get("currency", "CNY")
    return [("total cost", f"{fmt(k['total_cost'])} {cur}"),
            *[(f"  {name}", f"{fmt(-val if name in REVENUES else val)} {cur}")
              for name, val in k["cost_breakdown"].items()]]


def share_lines(k: dict[str, Any]) -> list[tuple[str, str]]:
    """Every share with what it counts: physical PV shares apart from the green-power share, which
    also counts direct green power and bought certificates (GEC)."""
    cons = k["consumption_kwh"]
    parts = [("on-site PV", k["pv_generation_kwh"] - k["export_kwh"]),
             ("direct green", k.get("green_direct_kwh", 0.0)),
             ("certificates", 1e3 * k.get("certificates_mwh", 0.0))]
    split = " + ".join(f"{name} {pct(kwh / cons if cons > 0 else 0.0)}" for name, kwh in parts
                       if abs(kwh) > 1e-9)
    if k.get("certificates_mwh", 0.0) > 0:
        split += f" ({fmt(k['certificates_mwh'], 1)} MWh of certificates)"
    target = (f"; target {pct(k['green_share_target'])}"
              if k.get("green_share_target") is not None else "")
    return [
        ("PV self-consumption", f"{pct(k['self_consumption'])} of PV used on site (not exported)"),
        ("self-sufficiency", f"{pct(k['self_sufficiency'])} of consumption from on-site PV"),
        ("green-power share", f"{pct(k['green_share'])} of consumption"
                              + (f" = {split}" if split else "") + target),
        ("clean energy share (≥ 90 %)", f"{pct(k['clean_energy_share'])} of energy use in tce, "
                                        "green power incl. certificates"),
    ]


def solver_line(k: dict[str, Any]) -> tuple[str, str]:
    """Solver status; an LP relaxation says so instead of reading "optimal, gap 0"."""
    s = k["solver"]
    if s.get("relaxation"):
        return ("solver", f"LP relaxation ({s['status']}): integer decisions relaxed, the cost is a "
                          "lower bound, not a dispatch the park can run")
    if s.get("note"):
        return ("solver", f"{s['status']}; {s['note']}")
    return ("solver", f"{s['status']}, gap {s['gap']:.2e}")


_BASIS_NAMES = {"demand": "actual maximum demand", "contract": "contracted demand (合同最大需量)",
                "capacity": "transformer capacity (kVA)"}


def billing_lines(k: dict[str, Any]) -> list[tuple[str, str]]:
    """KPI rows of the two-part tariff: the basis chosen (per basis period), the contracts, and
    what each basis would cost for the same dispatch (why the basis was chosen)."""
    b = k.get("billing")
    if not b:
        return []
    cur = k.get("currency", "CNY")
    basis = "; ".join(_BASIS_NAMES.get(v, v) if q == "horizon" else f"{q} {v}"
                      for q, v in b["basis"].items())
    rows = [("billing basis", f"{basis}, basic charge {b['basic_charge']:,.0f} {cur}")]
    contracts = {m: v for m, v in (b.get("contract_kw_by_month") or {}).items() if v is not None}
    if contracts:
        excess = b.get("excess_kw_by_month") or {}
        rows.append(("  contract per month", ", ".join(
            f"{m} {v:,.0f} kW" + (f" (+{excess[m]:,.0f} kW excess)" if (excess.get(m) or 0) > 1e-6
                                  else "") for m, v in contracts.items())))
    alt = {n: v for n, v in b["basis_costs_same_dispatch"].items() if v is not None}
    if len(alt) > 1:
        rows.append(("  same dispatch on each basis", ", ".join(
            f"{'actual demand' if n == 'demand' else n} {v:,.0f}"
            for n, v in sorted(alt.items(), key=lambda kv: kv[1])) + f" {cur}"))
    return rows


def kpi_lines(k: dict[str, Any]) -> list[str]:
    """A readable KPI table."""
    cur = k.get("currency", "CNY")
    dr_kwh = sum(e["delivered_kwh"] for e in k.get("dr_events", {}).values() if e["accepted"])
    shares = share_lines(k)
    rows = [
        *cost_lines(k),
        ("consumption", f"{fmt(k['consumption_kwh'] / 1e3, 1)} MWh"),
        ("grid import / export", f"{fmt(k['import_kwh'] / 1e3, 1)} / "
                                 f"{fmt(k['export_kwh'] / 1e3, 1)} MWh"),
        ("PV used / curtailed", f"{fmt(k['pv_generation_kwh'] / 1e3, 1)} / "
                                f"{fmt(k['pv_curtailed_kwh'] / 1e3, 1)} MWh"),
        *shares[:3],
        ("physical renewable share", f"{pct(k['physical_green_share'])} of consumption (on-site "
                                     "PV + direct supply, no certificates)"),
        *heat_rows(k),
        *emission_rows(k),
        *indicator_rows(k),
        ("max monthly peak import", f"{max(k['peak_import_kw_by_month'].values()):,.0f} kW"),
        *billing_lines(k),
        ("EV energy / unmet", f"{fmt(k['ev_energy_kwh'] / 1e3, 1)} MWh / "
                              f"{fmt(k['ev_unmet_kwh'], 1)} kWh" + _undeliverable_note(k)),
        ("DR revenue / penalty", f"{fmt(k['dr_revenue'])} / {fmt(k.get('dr_penalty', 0.0))} {cur} "
                                 f"({len(k['dr_events_accepted'])} accepted, "
                                 f"{fmt(dr_kwh)} kWh delivered)"),
        solver_line(k),
        ("timings", ", ".join(f"{n} {v:.2f}s" for n, v in k.get("timings", {}).items())),
    ]
    width = max(len(r[0]) for r in rows)
    return [f"{name:<{width}}  {val}" for name, val in rows]


def heat_rows(k: dict[str, Any]) -> list[tuple[str, str]]:
    """Heat delivered by source, fuel burned and electricity drawn (only with a heat section)."""
    h = k.get("heat") or {}
    if not h:
        return []
    total = sum(h["heat_by_source_kwh"].values())
    by = ", ".join(f"{name} {v / total:.0%}" if total > 0 else f"{name} 0 %"
                   for name, v in h["heat_by_source_kwh"].items())
    rows = [("heat delivered", f"{fmt(total / 1e3, 1)} MWh ({by}); unserved "
                               f"{fmt(h['unserved_kwh'], 1)} kWh"),
            ("heat fuel / electricity", f"gas {fmt(h['natural_gas_m3'])} m³, coal "
                                        f"{fmt(h['coal_t'], 1)} t, Scope 1 {fmt(h['scope1_t'], 1)} t; "
                                        f"electricity {fmt(h['electricity_kwh'] / 1e3, 1)} MWh")]
    if h["chp_electricity_kwh"] > 0:
        rows.append(("CHP electricity", f"{fmt(h['chp_electricity_kwh'] / 1e3, 1)} MWh"))
    return rows


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
    rows = [(label, f"{fmt(e[key], 1)} t") for key, label in _LINE_LABELS]
    rows[4] = (rows[4][0], rows[4][1] + f" (Scope 1 + {e['scope2_method']}-based Scope 2 after "
               "certificates" + (", minus offsets)" if e["offsets_in_indicator"] else ")"))
    rows.append(("carbon price applies to", f"{e['carbon_price_scope']}: "
                                            f"{fmt(e['carbon_priced_t'], 1)} t before offsets"))
    return rows


def indicator_rows(k: dict[str, Any]) -> list[tuple[str, str]]:
    """The core indicator (with the CO2 and tce it divides), its scope, the value with offsets,
    the other tce factor when its verdict differs, and the "1 + 5" check."""
    zc = k["zero_carbon_indicator"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    rows = [("CO2 per tce (core indicator)",
             f"{zc['value']:.3f} t/tce = {k['co2_t']:,.1f} t / {k['energy_tce']:,.1f} tce "
             f"vs ≤ {zc['threshold']} → {verdict(zc['pass'])}"
             + (f" ({zc['not_served']}: not a pass)" if zc.get("not_served") else ""))]
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
                 f"{pct(k['clean_energy_share'])} of energy use in tce, green power incl. "
                 f"certificates (with gas {pct(var.get('with_gas', 0))}, without "
                 f"{pct(var.get('without_gas', 0))})"))
    check = k.get("zero_carbon_check", {})
    if check:
        rows.append(("zero-carbon check (1 + 5)", ", ".join(
            f"{name.replace('_', ' ')} {item['verdict']}" for name, item in check.items())))
    return rows
