"""Rolling-horizon dispatch: solve windows of W hours, commit the first S hours, carry state.

Carried between windows: each storage unit's SOC, the month-to-date peak import (never re-paid:
it becomes the floor of the month's peak variable) and the green/carbon ledger (so ratio targets
hold for everything committed so far plus the window; certificates bought for a window count in
proportion to its committed import, offsets to its committed steps). Windows before the last
end free; the last window ends under the scenario's end condition measured against the
scenario's initial SOC (not the carried one), so the rolling run and the full run meet the same
condition at the end of the whole horizon and their costs compare like with like. Committed
steps are stitched into one result on the full horizon (cumulative EV energy runs on across
windows), reported like a full-horizon run, with its cost gap to the full run.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from zeropark.api import finish, prepare, solve_data
from zeropark.errors import ScenarioError, SolveError
from zeropark.model import carbon, dr, ev, flexload, grid, storage
from zeropark.model import emissions as em
from zeropark.model.data import Ledger, ModelData, model_data
from zeropark.model.dr import settle
from zeropark.model.ev import delivered_and_unmet, ev_envelope_kwh
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario
from zeropark.solve import SolveOutcome, Status


def parse_rolling(spec: str, dt_h: float) -> tuple[int, int]:
    """'48h:24h' -> (window steps, step steps)."""
    from zeropark.clitools import parse_duration_h

    parts = spec.split(":")
    if len(parts) != 2:
        raise ScenarioError("--rolling", spec, "WINDOW:STEP such as 48h:24h")
    window = int(round(parse_duration_h(parts[0], "--rolling") / dt_h))
    step = int(round(parse_duration_h(parts[1], "--rolling") / dt_h))
    if not 1 <= step <= window:
        raise ScenarioError("--rolling", spec, "a step of at least one time step, at most the window")
    return window, step


def _scalar_shares(d: ModelData, values: dict[str, np.ndarray], n: int) -> dict[str, float]:
    """Share of a window's horizon-wide purchases that the first ``n`` committed steps keep.

    Certificates are capped by the window's grid import (``certificates.within_import``), so they
    are committed in proportion to the committed import: a window that covers all of its import
    commits exactly the committed import, and the cap holds for the stitched run too (a share of
    steps would lose cover whenever the committed day imports more than the window's mean and
    leave a deficit the last window cannot buy back). Everything else goes by the share of steps.
    """
    imp = values[grid.IMPORT_KW]
    total = float(imp.sum())
    by_import = float(imp[:n].sum()) / total if total > 1e-9 else n / d.T
    return {"certificates.gec_mwh": by_import}


def _committed_ledger(d: ModelData, values: dict[str, np.ndarray], n: int) -> Ledger:
    """Totals of the first ``n`` steps of a window's solution, from the emissions ledger's lines;
    offsets of the window count in proportion to the committed share of its steps."""
    ln = em.lines(d)

    def part(line: em.Line) -> float:
        return line.value(values, steps=n, total=d.T)

    return Ledger(consumption_kwh=part(ln["consumption"]), green_kwh=part(ln["green"]),
                  co2_kg=part(em.indicator_line(d)), kgce=part(ln["tce"]))


def _target_slacks(d: ModelData, values: dict[str, np.ndarray], led: Ledger) -> dict[str, float]:
    """Target shortfalls of the stitched horizon, from its final totals (not window sums)."""
    tg, out = d.sc.targets, {}
    if tg.green_share is not None and tg.green_share.mode == "soft":
        out[carbon.GREEN_SHORT_KWH] = max(0.0, tg.green_share.value * led.consumption_kwh
                                             - led.green_kwh)
    if tg.emission_cap is not None and tg.emission_cap.mode == "soft":
        net = em.indicator_line(d).value(values)
        out[carbon.CAP_OVER_T] = max(0.0, net / 1000.0 - tg.emission_cap.value_t)
    ind = tg.zero_carbon_indicator
    if ind is not None and ind.mode == "soft":
        thr, _ = em.indicator_threshold(d)
        out[carbon.INDICATOR_OVER_T] = max(0.0, (led.co2_kg - thr * led.kgce) / 1000.0)
    return out


def run_rolling(sc: Scenario, spec: str, *, start: int = 0, steps: int | None = None,
                engine: str | None = None, compare_full: bool = True,
                profiles: Profiles | None = None) -> Result:
    """Solve the horizon window by window; see the module docstring.

    ``profiles`` are built from the scenario when not given (as :func:`zeropark.prepare`).
    """
    t0 = time.perf_counter()
    full = prepare(sc, profiles, start=start, steps=steps)
    prof = full.prof
    T = prof.n_steps
    window, step = parse_rolling(spec, prof.dt_h)
    for i, u in enumerate(sc.storage):
        if u.free_start:
            raise ScenarioError(f"storage.{i}.soc_initial", "free",
                                "a share in [soc_min, soc_max] for a rolling run (a free cyclic "
                                "start needs the whole horizon in one solve)")
    heat = getattr(sc, "heat", None)
    if heat is not None and heat.storage:  # heat-family limit, see docs/heat.md
        raise ScenarioError("heat.storage", [s.name for s in heat.storage],
                            "no thermal stores in a rolling run yet (their heat content is not "
                            "carried from one window to the next): solve the horizon at once")
    soc = [float(u.soc_initial) for u in sc.storage]
    # the end condition of the whole horizon refers to the scenario's initial SOC
    end_kwh = np.array([float(u.soc_initial) * u.energy_kwh for u in sc.storage])
    peaks = np.zeros(len(prof.month_labels)) if prof.peak_floor_kw is None else prof.peak_floor_kw.copy()
    ledger = Ledger()
    flex_last: dict[int, float] = {}
    pieces: list[dict[str, np.ndarray]] = []
    accept: dict[str, float] = {}
    scalars: dict[str, float] = {}
    timings: dict[str, float] = {}
    pos = n_windows = 0
    while pos < T:
        stop = min(pos + window, T)
        last = stop == T
        commit = stop - pos if last else min(step, stop - pos)
        changes: dict[str, object] = {
            f"storage.{i}.soc_initial": float(min(max(s, u.soc_min), u.soc_max))
                   for i, (s, u) in enumerate(zip(soc, sc.storage, strict=True))}
        if not last:
            changes.update({f"storage.{i}.end_condition": "free" for i in range(len(sc.storage))})
        changes.update({f"flexible_loads.{i}.initial_power_kw": p for i, p in flex_last.items()})
        sc_w = sc.replace(changes) if changes else sc
        prof_w = prof.window(pos, stop)
        used = np.unique(prof.month_index[pos:stop])
        # the window bills each month's peak at the share of the month the whole horizon covers;
        # an event accepted earlier stays accepted
        prof_w = dataclasses.replace(
            prof_w, peak_floor_kw=peaks[used].copy(),
            month_fraction=None if prof.month_fraction is None
            else prof.month_fraction[used].copy(),
            dr_events=[dataclasses.replace(e, committed=True) if accept.get(e.name, 0.0) > 0.5
                       else e for e in prof_w.dr_events])
        d_w = dataclasses.replace(model_data(sc_w, prof_w), ledger=ledger,
                                  storage_end_kwh=end_kwh if last else None)
        r = solve_data(d_w, engine=engine)
        n_windows += 1
        for k, seconds in r.timings.items():
            timings[k] = timings.get(k, 0.0) + seconds
        if not r.ok:
            raise SolveError(f"rolling window {n_windows} ({prof.time[pos]} – {prof.time[stop - 1]})"
                             f": {r.explanation}")
        v = dict(r.values)
        if d_w.ev_names:  # the window's own cumulative EV energy, stitched below
            v[ev.DELIVERED_KWH] = delivered_and_unmet(d_w, r.values)[0]
        pieces.append({k: a[..., :commit] for k, a in v.items()
                       if np.ndim(a) >= 1 and a.shape[-1] == stop - pos
                       and k not in dr.COLUMNS})
        shares = _scalar_shares(d_w, v, commit)
        for k, a in v.items():
            if np.ndim(a) == 0:
                scalars[k] = scalars.get(k, 0.0) + float(a) * shares.get(k, commit / (stop - pos))
        for i, e in enumerate(d_w.prof.dr_events):
            if e.mask[:commit].any() and e.name not in accept:
                accept[e.name] = float(v[dr.ACCEPT][i])
        imp = v[grid.IMPORT_KW][:commit]
        rise = prof.peak_excursion_kw[pos:pos + commit]  # billed: highest 15-min average
        np.maximum.at(peaks, prof.month_index[pos:pos + commit], imp + rise)
        if sc.flexible_loads:  # the ramp continues from the last committed power
            flex_last = {i: float(v[flexload.POWER_KW][i, commit - 1])
                         for i in range(len(sc.flexible_loads))}
        if sc.storage:
            soc = list(v[storage.SOC_KWH][:, commit - 1]
                       / np.maximum([u.energy_kwh for u in sc.storage], 1e-9))
        add = _committed_ledger(d_w, v, commit)
        ledger = Ledger(*(a + b for a, b in zip(dataclasses.astuple(ledger),
                                                dataclasses.astuple(add), strict=True)))
        pos += commit
    # stitched arrays, then the scalars summed over the windows
    values: dict[str, Any] = {k: np.concatenate([p[k] for p in pieces], axis=-1)
                              for k in pieces[0]}
    if ev.DELIVERED_KWH in values:  # each window counts from 0: stitch the steps, sum up
        steps_kwh = np.concatenate([np.diff(p[ev.DELIVERED_KWH], axis=-1, prepend=0.0)
                                    for p in pieces], axis=-1)
        values[ev.DELIVERED_KWH] = np.cumsum(steps_kwh, axis=-1)
        # unmet energy of the stitched charging against the whole horizon's envelope: the least
        # non-decreasing write-off u with e + u ≥ E_lo (a window does not know what an earlier
        # one delivered to a car plugged in across their boundary, so its own write-offs are not
        # the horizon's)
        e_lo = ev_envelope_kwh(full)
        short = np.maximum(e_lo - values[ev.DELIVERED_KWH], 0.0)
        values[ev.UNMET_CUM_KWH] = np.maximum.accumulate(short, axis=-1)
    values.update(scalars)
    values.update(_target_slacks(full, values, ledger))
    values[grid.PEAK_KW] = peaks
    values[dr.ACCEPT] = np.array([accept.get(e.name, 0.0) for e in prof.dr_events])
    # each event settled once on the stitched dispatch, by the same rule as the model
    st = [settle(e, values[grid.IMPORT_KW] - values[grid.EXPORT_KW], prof.dt_h, a > 0.5)
          for e, a in zip(prof.dr_events, values[dr.ACCEPT], strict=True)]
    values[dr.QUALIFIED] = np.array([float(x.qualified) for x in st])
    values[dr.PAID_KWH] = np.array([x.paid_kwh for x in st])
    values[dr.SHORT_KWH] = np.array([x.short_kwh for x in st])
    out = SolveOutcome(Status.OPTIMAL, float("nan"), float("nan"), 0.0, values,
                       size={"windows": n_windows}, message=f"rolling {spec}")
    result = finish(full, out, engine or sc.solver.engine, timings)
    result.objective = result.bound = result.kpis["total_cost"]
    result.kpis["solver"]["objective"] = result.objective
    result.kpis["solver"]["note"] = (f"rolling {spec}: {n_windows} windows, each solved on its own; "
                                     "not the optimum of the whole horizon")
    info: dict[str, float | str | None] = {"spec": spec, "windows": n_windows,
                                           "wall_s": time.perf_counter() - t0}
    if compare_full:
        ref = solve_data(full, engine=engine)
        if ref.ok:
            info["full_horizon_cost"] = ref.kpis["total_cost"]
            info["cost_gap_vs_full"] = (result.objective - ref.objective) / abs(ref.objective)
            info["full_horizon_mip_gap"] = ref.gap
            info["full_horizon_indicator"] = ref.kpis["zero_carbon_indicator"]["value"]
    result.kpis["rolling"] = info
    return result


def rolling_lines(kpis: dict) -> list[str]:
    """How the rolling run compares with the full-horizon optimum, for the CLI."""
    info = kpis["rolling"]
    cur = kpis.get("currency", "CNY")
    lines = [f"rolling {info['spec']}: {info['windows']} windows, cost {kpis['total_cost']:,.0f} {cur}"]
    if info.get("full_horizon_cost") is not None:
        gap = info["cost_gap_vs_full"]
        lines.append(f"  vs the full-horizon run: {info['full_horizon_cost']:,.0f} {cur}, "
                     f"gap {100 * gap:+.3f} % (the full run is solved to a MIP gap of "
                     f"{100 * info['full_horizon_mip_gap']:.3g} %, so |gap| below that is noise)")
        lines.append(f"  CO2 per tce: rolling {kpis['zero_carbon_indicator']['value']:.3f}, "
                     f"full run {info['full_horizon_indicator']:.3f} t/tce")
    else:
        lines.append("  the full-horizon run found no solution to compare with")
    return lines
