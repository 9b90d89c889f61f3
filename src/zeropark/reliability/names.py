"""Readable names of the model's rows and columns: block name → words, flat index → labels with
step numbers shown as local timestamps. Used by every message the reliability tools produce."""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeropark.model import registry
from zeropark.model.data import ModelData
from zeropark.model.dr import ACCEPT as DR_ACCEPT
from zeropark.model.family import BALANCE_POWER
from zeropark.model.flexload import WINDOW_ENERGY_PREFIX
from zeropark.model.lp import Block, MatrixLP
from zeropark.model.storage import DAILY_CYCLES

_DR = DR_ACCEPT.partition(".")[0] + "."  # demand-response blocks: labels may be "event,step"

#: Words of the rows the core builds; every other block's words come from its family.
CORE_ROW_WORDS: dict[str, str] = {BALANCE_POWER: "power balance"}


def row_words() -> dict[str, str]:
    """Row block name → words, over the core and every registered family."""
    out = dict(CORE_ROW_WORDS)
    for family in registry.FAMILIES:
        out.update(family.row_words)
    return out


def col_words() -> dict[str, str]:
    """Column block name → words, over every registered family."""
    out: dict[str, str] = {}
    for family in registry.FAMILIES:
        out.update(family.col_words)
    return out


ROW_WORDS: dict[str, str] = row_words()
COL_WORDS: dict[str, str] = col_words()


def words(name: str, *, row: bool) -> str:
    """Words for a block name, from the family that owns it.

    A family's words for a name prefix ending in ``_`` (one block per component, e.g.
    ``flex.window_energy_0``) read "<words> <suffix>": energy window of flexible load 0.
    """
    table = row_words() if row else col_words()
    if name in table:
        return table[name]
    for key, text in table.items():
        if key.endswith("_") and name.startswith(key):
            return f"{text} {name[len(key):]}"
    return name


def when(d: ModelData, t: int) -> str:
    """Step ``t`` as a local timestamp, e.g. ``2025-07-15 14:00``."""
    if 0 <= t < d.T:
        return pd.Timestamp(d.prof.time[t]).strftime("%Y-%m-%d %H:%M")
    return f"step {t}"


def _is_time_axis(block: Block, axis: int, d: ModelData) -> bool:
    labels = block.labels[axis]
    if block.name.startswith(WINDOW_ENERGY_PREFIX) or block.name == DAILY_CYCLES:
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
        elif isinstance(value, str) and "," in value and block.name.startswith(_DR):
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
