"""Readable names of the model's rows and columns: block name → words, flat index → labels with
step numbers shown as local timestamps. Used by every message the reliability tools produce."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeropark.model.data import ModelData
from zeropark.model.lp import Block, MatrixLP

ROW_WORDS: dict[str, str] = {
    "balance.power": "power balance",
    "grid.peak": "monthly peak",
    "grid.import_if_on": "import/export exclusivity",
    "grid.export_if_off": "import/export exclusivity",
    "storage.soc_balance": "storage energy balance",
    "storage.end": "storage end condition",
    "storage.charge_if_on": "charge/discharge exclusivity",
    "storage.discharge_if_off": "charge/discharge exclusivity",
    "storage.daily_cycles": "storage daily cycle limit",
    "ev.energy_balance": "EV energy balance",
    "ev.unmet_sum": "EV unmet energy",
    "ev.delivered_nonneg": "EV energy returned by V2G",
    "flex.ramp": "flexible-load ramp limit",
    "flex.ramp_start": "flexible-load ramp limit from its initial power",
    "flex.min_on": "flexible-load minimum-on power",
    "flex.max_on": "flexible-load on/off",
    "dr.qualify": "demand-response qualification",
    "dr.cap": "demand-response payment cap",
    "dr.paid": "demand-response paid delivery",
    "dr.minimum": "demand-response minimum response",
    "dr.shortfall": "demand-response shortfall",
    "green.min_take": "green direct minimum take",
    "offsets.cap": "CCER offset cap",
    "certificates.within_import": "certificates within the grid import",
    "certificates.max": "certificate purchase limit",
    "targets.offsets_within_priced": "offsets within the carbon-priced emissions",
    "targets.carbon_cost_def": "carbon cost",
    "targets.green_share": "green-power share target",
    "targets.emission_cap": "emission cap",
    "targets.indicator": "zero-carbon indicator",
}

COL_WORDS: dict[str, str] = {
    "grid.import_kw": "grid import [kW]",
    "grid.export_kw": "grid export [kW]",
    "grid.peak_kw": "monthly peak import [kW]",
    "grid.exclusive": "import/export on-off",
    "pv.power_kw": "PV power (availability) [kW]",
    "green.direct_kw": "green direct supply (contract profile) [kW]",
    "storage.charge_kw": "storage charge power [kW]",
    "storage.discharge_kw": "storage discharge power [kW]",
    "storage.soc_kwh": "storage SOC window [kWh]",
    "storage.soc_start_kwh": "storage start SOC (free, cyclic) [kWh]",
    "storage.mode": "storage charge/discharge on-off",
    "ev.power_kw": "EV charging power (plugged-in limit) [kW]",
    "ev.flex_kwh": "EV charging envelope (energy ahead of the minimum) [kWh]",
    "ev.writeoff_kwh": "EV energy written off as unmet [kWh]",
    "ev.unmet_kwh": "EV unmet energy [kWh]",
    "ev.v2g_kw": "V2G power [kW]",
    "flex.power_kw": "flexible-load power band [kW]",
    "flex.on": "flexible-load on/off",
    "dr.accept": "demand-response participation",
    "dr.qualified": "demand-response minimum reached",
    "dr.paid_kwh": "demand-response settled delivery [kWh]",
    "dr.short_kwh": "demand-response shortfall [kWh]",
    "certificates.covered_kw": "certificate-covered import [kW]",
    "certificates.covered_kwh": "certificate-covered import of the horizon [kWh]",
    "offsets.ccer_t": "CCER offsets [t]",
}


def words(name: str, *, row: bool) -> str:
    """Words for a block name (``flex.window_energy_0`` → energy window of flexible load 0)."""
    if row and name.startswith("flex.window_energy_"):
        return f"energy window of flexible load {name.rsplit('_', 1)[1]}"
    table = ROW_WORDS if row else COL_WORDS
    return table.get(name, name)


def when(d: ModelData, t: int) -> str:
    """Step ``t`` as a local timestamp, e.g. ``2025-07-15 14:00``."""
    if 0 <= t < d.T:
        return pd.Timestamp(d.prof.time[t]).strftime("%Y-%m-%d %H:%M")
    return f"step {t}"


def _is_time_axis(block: Block, axis: int, d: ModelData) -> bool:
    labels = block.labels[axis]
    if block.name.startswith("flex.window_energy_") or block.name == "storage.daily_cycles":
        return False
    return isinstance(labels, range) and labels.stop <= d.T and len(labels) >= d.T - 1


def locate(blocks: dict[str, Block], index: int) -> tuple[Block, tuple[int, ...]]:
    """Block holding flat ``index`` and the position inside it."""
    for block in blocks.values():
        if block.start <= index < block.start + block.size:
            pos = np.unravel_index(index - block.start, block.shape) if block.labels else ()
            return block, tuple(int(p) for p in pos)
    raise IndexError(index)


def label(block: Block, pos: tuple[int, ...], d: ModelData) -> str:
    """``name[label, …]`` with time steps shown as timestamps."""
    if not block.labels:
        return block.name
    parts = []
    for axis, p in enumerate(pos):
        value = list(block.labels[axis])[p] if not isinstance(block.labels[axis], range) \
            else block.labels[axis][p]
        if _is_time_axis(block, axis, d):
            parts.append(when(d, int(value)))
        elif isinstance(value, str) and "," in value and block.name.startswith("dr."):
            event, t = value.rsplit(",", 1)
            parts.append(f"{event}, {when(d, int(t))}")
        else:
            parts.append(str(value))
    return f"{block.name}[{', '.join(parts)}]"


def row_label(lp: MatrixLP, index: int, d: ModelData) -> str:
    block, pos = locate(lp.row_blocks, index)
    return label(block, pos, d)


def col_label(lp: MatrixLP, index: int, d: ModelData) -> str:
    block, pos = locate(lp.var_blocks, index)
    return label(block, pos, d)
