"""Sentences in the user's terms for the slacks of the elastic model and for target bounds.

Each sentence names the thing (grid import limit, flexible load, storage unit, target), the
value asked for, what is reachable, and where it happens (local timestamp of the worst step and
the span of affected steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zeropark.model import ev, flexload, grid, pv, storage
from zeropark.model.data import ModelData
from zeropark.model.flexload import ramp_start
from zeropark.model.lp import MatrixLP
from zeropark.reliability.names import when, words

Found = tuple[str, str, dict[str, Any]]


def _kw(v: float) -> str:
    return f"{v:,.0f} kW" if abs(v) >= 10 else f"{v:,.3g} kW"


def _kwh(v: float) -> str:
    return f"{v:,.0f} kWh" if abs(v) >= 10 else f"{v:,.3g} kWh"


def _end(d: ModelData, t: int) -> str:
    return (d.prof.time[t] + pd.Timedelta(hours=d.dt_h)).strftime("%Y-%m-%d %H:%M")


def _span(d: ModelData, energy: np.ndarray, tol: float) -> str:
    steps = np.flatnonzero(energy > tol)
    if len(steps) <= 1:
        return ""
    return (f"; {len(steps)} steps affected, {_kwh(float(energy.sum()))} in total, between "
            f"{when(d, int(steps[0]))} and {when(d, int(steps[-1]))}")


def _sum_rows(values: dict[str, np.ndarray], name: str, t: int) -> float:
    v = values.get(name)
    if v is None or np.ndim(v) == 0:
        return 0.0
    v = np.asarray(v, float)
    return float(v[..., t].sum())


def _unserved(d: ModelData, values: dict[str, np.ndarray], energy: np.ndarray) -> Found:
    s_kw = np.asarray(values["slack.unserved_kw"], float)
    t = int(np.argmax(s_kw))
    limit = d.sc.grid.import_limit_kw
    imp = float(values[grid.IMPORT_KW][t])
    load = float(d.prof.load_kw[t])
    need = imp + float(s_kw[t])
    at_limit = imp >= limit - 1e-6 * max(1.0, limit)
    extra = {"flexible loads": _sum_rows(values, flexload.POWER_KW, t),
             "EV charging": _sum_rows(values, ev.POWER_KW, t),
             "storage charging": _sum_rows(values, storage.CHARGE_KW, t)}
    parts = ", ".join(f"{k} {_kw(v)}" for k, v in extra.items() if v > 1e-6 * max(1.0, need))
    data = {"limit_kw": limit, "time": when(d, t), "load_kw": load, "need_kw": need,
            "unserved_kw": float(s_kw[t]), "unserved_kwh": float(energy.sum()),
            "steps": int((energy > 1e-6 * max(1.0, float(energy.max()))).sum())}
    tol = 1e-6 * max(1.0, float(energy.max()))
    if at_limit and load > limit + 1e-9 * max(1.0, limit):
        sentence = f"import limit {_kw(limit)} below load {_kw(load)} at {when(d, t)}"
        if need > load + 1e-6 * max(1.0, need) and parts:
            sentence += (f" (the park needs {_kw(need)} from the grid there: with {parts}, net of "
                         f"on-site supply)")
        elif need < load - 1e-6 * max(1.0, need):
            sentence += f" (after on-site supply the park still needs {_kw(need)} from the grid)"
    elif at_limit:
        sentence = (f"import limit {_kw(limit)} below the {_kw(need)} the park needs from the grid "
                    f"at {when(d, t)} (load {_kw(load)}" + (f", {parts}" if parts else "") + ")")
    else:
        sentence = (f"the power balance cannot be met at {when(d, t)}: {_kw(float(s_kw[t]))} "
                    f"short while importing {_kw(imp)} of the {_kw(limit)} import limit")
    return "import_limit", sentence + _span(d, energy, tol), data


def _surplus(d: ModelData, values: dict[str, np.ndarray], energy: np.ndarray) -> Found:
    s_kw = np.asarray(values["slack.surplus_kw"], float)
    t = int(np.argmax(s_kw))
    limit = d.sc.grid.export_limit_kw
    load = float(d.prof.load_kw[t])
    gd = _sum_rows(values, pv.GREEN_DIRECT_KW, t)
    why = []
    if load < 0:
        why.append(f"the load is negative ({_kw(load)}), i.e. generation the park must absorb")
    direct = d.sc.green_power.direct
    if gd > 0 and direct is not None and direct.min_take_kwh > 0:
        why.append(f"the green direct minimum take forces {_kw(gd)} of contract supply there")
    sentence = (f"{_kw(float(s_kw[t]))} of supply can be neither used nor exported at {when(d, t)} "
                f"(export limit {_kw(limit)}" + (" — anti-backflow" if limit == 0 else "")
                + (f"; {'; '.join(why)}" if why else "") + ")")
    data = {"limit_kw": limit, "time": when(d, t), "surplus_kw": float(s_kw[t]),
            "surplus_kwh": float(energy.sum())}
    return "surplus", sentence + _span(d, energy, 1e-6 * max(1.0, float(energy.max()))), data


def _flex(d: ModelData, name: str, energy: np.ndarray) -> Found:
    from zeropark.model.flexload import windows

    i = int(name.rsplit("_", 1)[1])
    f = d.sc.flexible_loads[i]
    w, window_kwh = windows(d, i)
    j = int(np.argmax(energy))
    steps = np.flatnonzero(w == j)
    span = f"{when(d, int(steps[0]))}–{_end(d, int(steps[-1]))}"
    band = f"power band {_kw(f.min_power_kw)}–{_kw(f.max_power_kw)}"
    if f.min_on_power_kw is not None:
        band = f"off or {_kw(f.min_on_power_kw)}–{_kw(f.max_power_kw)}"
    if f.ramp_kw_per_h is not None:
        band += f", ramp {_kw(f.ramp_kw_per_h)}/h"
    need, miss = float(window_kwh[j]), float(energy[j])
    data = {"load": f.name, "window_start": when(d, int(steps[0])), "window_kwh": need,
            "missing_kwh": miss}
    if "short" in name:
        return "flex_window", (f"flexible load {f.name} cannot take its {_kwh(need)} in the window "
                               f"{span}: at most {_kwh(need - miss)} ({band})"), data
    return "flex_window", (f"flexible load {f.name} must draw at least {_kwh(need + miss)} in the "
                           f"window {span} ({band}) but its window energy is {_kwh(need)}"), data


def _ramp(d: ModelData, values: dict[str, np.ndarray], name: str) -> Found:
    s = np.asarray(values[name], float)
    k, t = np.unravel_index(int(np.argmax(s)), s.shape)
    ramped = [f for f in d.sc.flexible_loads if f.ramp_kw_per_h is not None]
    f = ramped[int(k)]
    assert f.ramp_kw_per_h is not None  # ramped loads only
    step = int(t) + 1
    sentence = (f"flexible load {f.name} must change its power by {_kw(float(s[k, t]))} more than "
                f"its ramp limit of {_kw(f.ramp_kw_per_h)}/h allows at {when(d, step)}")
    return "flex_ramp", sentence, {"load": f.name, "time": when(d, step),
                                   "excess_kw": float(s[k, t])}


def _ramp_start(d: ModelData, values: dict[str, np.ndarray], name: str) -> Found:
    s = np.asarray(values[name], float)
    k = int(np.argmax(s))
    i, p0, _ = ramp_start(d)[k]
    f = d.sc.flexible_loads[i]
    assert f.ramp_kw_per_h is not None  # ramp_start lists ramped loads only
    sentence = (f"flexible load {f.name} must change its power by {_kw(float(s[k]))} more than "
                f"its ramp limit of {_kw(f.ramp_kw_per_h)}/h allows from its initial "
                f"{_kw(p0)} at {when(d, 0)}")
    return "flex_ramp", sentence, {"load": f.name, "time": when(d, 0), "initial_kw": p0,
                                   "excess_kw": float(s[k])}


def _storage(d: ModelData, name: str, energy: np.ndarray) -> Found:
    ends = [u for u in d.sc.storage if u.end_condition != "free"]
    k = int(np.argmax(energy))
    u = ends[k]
    miss = float(energy[k])
    if u.free_start:
        return "storage_end", (f"storage {u.name} must end at its start SOC (soc_initial free, "
                               f"cyclic) but misses it by {_kwh(miss)}"), \
            {"storage": u.name, "initial_kwh": None, "missing_kwh": miss}
    init = float(u.soc_initial) * u.energy_kwh
    data = {"storage": u.name, "initial_kwh": init, "missing_kwh": miss}
    if "short" in name:
        return "storage_end", (f"storage {u.name} cannot end at or above its initial "
                               f"{_kwh(init)}: at most {_kwh(init - miss)} at the end"), data
    return "storage_end", (f"storage {u.name} must end at its initial {_kwh(init)} (cyclic) but "
                           f"cannot get below {_kwh(init + miss)}"), data


def _min_take(d: ModelData, energy: np.ndarray) -> Found:
    from zeropark.model.pv import min_take_kwh

    need = min_take_kwh(d)
    offered = float(np.sum(d.prof.green_direct_kw)) * d.dt_h if d.prof.green_direct_kw is not None \
        else 0.0
    miss = float(np.sum(energy))
    sentence = (f"green direct minimum take {_kwh(need)} over the horizon unreachable: at most "
                f"{_kwh(need - miss)} can be taken (the contract profile offers {_kwh(offered)}, "
                f"export limit {_kw(d.sc.grid.export_limit_kw)})")
    return "min_take", sentence, {"min_take_kwh": need, "reachable_kwh": need - miss,
                                  "offered_kwh": offered}


def _target_slack(d: ModelData, name: str, energy: np.ndarray) -> Found:
    key = name.removeprefix("slack.target_")
    miss = float(np.sum(energy))
    unit = "kWh of green supply" if key == "green_share" else "kgCO2"
    return "target", f"{TARGET_WORDS[key]} missed by {miss:,.0f} {unit}", {"target": key,
                                                                            "missing": miss}


def describe(d: ModelData, name: str, values: dict[str, np.ndarray],
             energy: np.ndarray) -> list[Found]:
    """(kind, sentence, data) for one slack block with non-zero energy [kWh]."""
    if name == "slack.unserved_kw":
        return [_unserved(d, values, energy)]
    if name == "slack.surplus_kw":
        return [_surplus(d, values, energy)]
    if name.startswith("slack.flex_"):
        return [_flex(d, name, energy)]
    if name.startswith("slack.ramp_start_"):
        return [_ramp_start(d, values, name)]
    if name.startswith("slack.ramp_"):
        return [_ramp(d, values, name)]
    if name.startswith("slack.storage_end_"):
        return [_storage(d, name, energy)]
    if name == "slack.min_take_short_kwh":
        return [_min_take(d, energy)]
    if name.startswith("slack.target_"):
        return [_target_slack(d, name, energy)]
    return [("slack", f"{name}: {_kwh(float(np.sum(energy)))}", {})]


# -- targets -------------------------------------------------------------------------------------
TARGET_WORDS = {"green_share": "green share", "emission_cap": "emission cap",
                "zero_carbon_indicator": "zero-carbon indicator"}


def target_value(d: ModelData, key: str) -> float:
    from zeropark.reliability.elastic import TARGETS

    return float(getattr(getattr(d.sc.targets, key), TARGETS[key][1]))


def fmt_target(key: str, v: float) -> str:
    if key == "green_share":
        pct = f"{100 * v:.1f}".removesuffix(".0")
        return f"{pct} %"
    if key == "emission_cap":
        return f"{v:,.1f} t" if abs(v) >= 10 else f"{v:.3g} t"
    return f"{v:.3f} tCO2/tce"


def reachable(key: str, value: float, best: float) -> bool:
    if np.isnan(best):
        return False
    tol = 1e-7 * max(1.0, abs(value))
    return best >= value - tol if key == "green_share" else best <= value + tol


def target_sentence(key: str, value: float, best: float) -> str:
    if np.isnan(best):
        return f"{TARGET_WORDS[key]} {fmt_target(key, value)}: its best value could not be computed"
    limit = "at most" if key == "green_share" else "at least"
    return (f"{TARGET_WORDS[key]} {fmt_target(key, value)} unreachable: {limit} "
            f"{fmt_target(key, best)} with the assets given")


def joint_sentence(d: ModelData, kept: list[str], key: str, best: float) -> str:
    def hold(k: str) -> str:
        sign = "≥" if k == "green_share" else "≤"
        return f"{TARGET_WORDS[k]} {sign} {fmt_target(k, target_value(d, k))}"

    names = " and ".join([hold(k) for k in kept] + [hold(key)])
    quantity = {"green_share": "the green share is at most", "emission_cap": "emissions are at least",
                "zero_carbon_indicator": "the indicator is at least"}[key]
    return (f"{names} cannot all be met: with {' and '.join(hold(k) for k in kept)}, "
            f"{quantity} {fmt_target(key, best)}")


def integer_families(lp: MatrixLP) -> str:
    """The integer blocks of ``lp`` in their families' words, e.g. "no simultaneous
    import/export, minimum-on power of flexible loads"."""
    ints = lp.arrays()["integer"]
    names = [b.name for b in lp.var_blocks.values()
             if b.size and ints[b.start:b.start + b.size].any()]
    return ", ".join(words(n, row=False) for n in names)
