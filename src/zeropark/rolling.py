"""Rolling-horizon dispatch: solve windows of W hours, commit the first S hours, carry state.

Carried between windows: each storage unit's SOC, the month-to-date peak import (never re-paid:
it becomes the floor of the month's peak variable) and the green/carbon ledger (so ratio targets
hold for everything committed so far plus the window). Committed steps are stitched into one
result on the full horizon, reported like a full-horizon run, with its cost gap to the full run.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from zeropark.api import finish, prepare, solve_data
from zeropark.errors import ScenarioError, SolveError
from zeropark.model import emissions as em
from zeropark.model.data import Ledger, ModelData, model_data
from zeropark.model.dr import pairs
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
        out["targets.green_short_kwh"] = max(0.0, tg.green_share.value * led.consumption_kwh
                                             - led.green_kwh)
    if tg.emission_cap is not None and tg.emission_cap.mode == "soft":
        net = em.indicator_line(d).value(values)
        out["targets.cap_over_t"] = max(0.0, net / 1000.0 - tg.emission_cap.value_t)
    ind = tg.zero_carbon_indicator
    if ind is not None and ind.mode == "soft":
        thr, _ = em.indicator_threshold(d)
        out["targets.indicator_over_t"] = max(0.0, (led.co2_kg - thr * led.kgce) / 1000.0)
    return out


def run_rolling(sc: Scenario, spec: str, *, start: int = 0, steps: int | None = None,
                engine: str | None = None, compare_full: bool = True) -> Result:
    """Solve the horizon window by window; see the module docstring."""
    t0 = time.perf_counter()
    full = prepare(sc, start=start, steps=steps)
    prof = full.prof
    T = prof.n_steps
    window, step = parse_rolling(spec, prof.dt_h)
    soc = [u.soc_initial for u in sc.storage]
    peaks = np.zeros(len(prof.month_labels)) if prof.peak_floor_kw is None else prof.peak_floor_kw.copy()
    ledger = Ledger()
    flex_last: dict[int, float] = {}
    pieces: list[dict[str, np.ndarray]] = []
    accept: dict[str, float] = {}
    short: dict[tuple[str, int], float] = {}
    scalars: dict[str, float] = {}
    timings: dict[str, float] = {}
    pos = n_windows = 0
    while pos < T:
        stop = min(pos + window, T)
        last = stop == T
        commit = stop - pos if last else min(step, stop - pos)
        changes = {f"storage.{i}.soc_initial": float(min(max(s, u.soc_min), u.soc_max))
                   for i, (s, u) in enumerate(zip(soc, sc.storage, strict=True))}
        if not last:
            changes.update({f"storage.{i}.end_condition": "free" for i in range(len(sc.storage))})
        changes.update({f"flexible_loads.{i}.initial_power_kw": p for i, p in flex_last.items()})
        sc_w = sc.replace(changes) if changes else sc
        prof_w = prof.window(pos, stop)
        used = np.unique(prof.month_index[pos:stop])
        prof_w = dataclasses.replace(prof_w, peak_floor_kw=peaks[used].copy())
        d_w = dataclasses.replace(model_data(sc_w, prof_w), ledger=ledger)
        r = solve_data(d_w, engine=engine)
        n_windows += 1
        for k, v in r.timings.items():
            timings[k] = timings.get(k, 0.0) + v
        if not r.ok:
            raise SolveError(f"rolling window {n_windows} ({prof.time[pos]} – {prof.time[stop - 1]})"
                             f": {r.explanation}")
        v = r.values
        pieces.append({k: a[..., :commit] for k, a in v.items()
                       if np.ndim(a) >= 1 and a.shape[-1] == stop - pos})
        for k, a in v.items():
            if np.ndim(a) == 0:
                scalars[k] = scalars.get(k, 0.0) + float(a) * (commit / (stop - pos))
        for i, e in enumerate(d_w.prof.dr_events):
            if e.mask[:commit].any() and e.name not in accept:
                accept[e.name] = float(v["dr.accept"][i])
        for (name, t), val in zip(pairs(d_w), v.get("dr.short_kw", []), strict=False):
            if t < commit:
                short[(name, pos + t)] = float(val)
        imp = v["grid.import_kw"][:commit]
        np.maximum.at(peaks, prof.month_index[pos:pos + commit], imp)
        if sc.flexible_loads:  # the ramp continues from the last committed power
            flex_last = {i: float(v["flex.power_kw"][i, commit - 1])
                         for i in range(len(sc.flexible_loads))}
        if sc.storage:
            soc = list(v["storage.soc_kwh"][:, commit - 1]
                       / np.maximum([u.energy_kwh for u in sc.storage], 1e-9))
        add = _committed_ledger(d_w, v, commit)
        ledger = Ledger(*(a + b for a, b in zip(dataclasses.astuple(ledger),
                                                dataclasses.astuple(add), strict=True)))
        pos += commit
    values = {k: np.concatenate([p[k] for p in pieces], axis=-1) for k in pieces[0]}
    values.update(scalars)
    values.update(_target_slacks(full, values, ledger))
    values["grid.peak_kw"] = peaks
    values["dr.accept"] = np.array([accept.get(e.name, 0.0) for e in prof.dr_events])
    values["dr.short_kw"] = np.array([short.get(p, 0.0) for p in pairs(full)])
    out = SolveOutcome(Status.OPTIMAL, float("nan"), float("nan"), 0.0, values,
                       size={"windows": n_windows}, message=f"rolling {spec}")
    result = finish(full, out, engine or sc.solver.engine, timings)
    result.objective = result.bound = result.kpis["total_cost"]
    result.kpis["solver"]["objective"] = result.objective
    info: dict[str, float | str | None] = {"spec": spec, "windows": n_windows,
                                           "wall_s": time.perf_counter() - t0}
    if compare_full:
        ref = solve_data(full, engine=engine)
        if ref.ok:
            info["full_horizon_cost"] = ref.kpis["total_cost"]
            info["cost_gap_vs_full"] = (result.objective - ref.objective) / abs(ref.objective)
    result.kpis["rolling"] = info
    return result
