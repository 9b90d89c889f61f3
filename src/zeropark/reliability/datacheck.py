"""Data conflicts that can be found without solving: EV envelopes the piles cannot follow, and
bounds or limits whose lower end lies above the upper end.

Profiles built by :func:`zeropark.profiles.build.build_profiles` are consistent by construction;
these checks matter for profiles made by hand, by operations code (EVs already plugged in, state
carried over) or by :func:`dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeropark.model.data import ModelData
from zeropark.model.lp import MatrixLP
from zeropark.profiles.base import EvGroupProfile
from zeropark.reliability.names import col_label, row_label, when, words

# Energy below this is round-off [kWh].
_KWH_TOL = 1e-6


@dataclass(frozen=True)
class EvConflict:
    """An EV group that must receive more energy in a window than its piles can deliver.

    ``first`` and ``last`` are the first and last step of the window; ``needed_kwh`` is what must
    arrive within it (envelope lower end at ``last`` minus upper end before ``first``) and
    ``deliverable_kwh`` what the plugged-in piles can deliver in it at full power.
    """

    group: str
    first: int
    last: int
    needed_kwh: float
    deliverable_kwh: float
    inverted: bool = False  # e_lo > e_hi at ``last``: no schedule at all, not even with unmet energy

    @property
    def shortfall_kwh(self) -> float:
        return self.needed_kwh - self.deliverable_kwh

    def sentence(self, d: ModelData) -> str:
        def end(t: int) -> str:
            return (d.prof.time[t] + pd.Timedelta(hours=d.dt_h)).strftime("%Y-%m-%d %H:%M")

        if self.inverted:
            later = "by then" if self.first == self.last else f"by {end(self.last)}"
            return (f"EV group {self.group} must have received {self.needed_kwh:,.0f} kWh by "
                    f"{end(self.first)} but may have received at most "
                    f"{self.deliverable_kwh:,.0f} kWh {later} (its charging envelope is "
                    f"inconsistent)")
        return (f"EV group {self.group} needs {self.needed_kwh:,.0f} kWh between "
                f"{when(d, self.first)} and {end(self.last)} but its piles deliver at most "
                f"{self.deliverable_kwh:,.0f} kWh")


def ev_group_conflict(name: str, g: EvGroupProfile, dt_h: float, *,
                      v2g: bool = False) -> EvConflict | None:
    """The worst conflict of one group's envelope (None when there is none).

    Two kinds, the first one making the model infeasible:

    - inconsistent: energy that must have arrived by ``t1`` exceeds what may have arrived by some
      ``t2 ≥ t1`` (``e_lo[t1] > e_hi[t2]``; delivered energy never decreases without V2G, so
      with V2G only ``t1 = t2`` counts);
    - undeliverable: cumulative delivered energy ``e`` obeys
      ``e[t2] − e[t1] ≤ Σ_(t1<k≤t2) p_max[k]·dt``, ``e_lo[t2] ≤ e[t2]`` and ``e[t1] ≤ e_hi[t1]``;
      a window (t1, t2] whose ``e_lo[t2] − e_hi[t1]`` exceeds the deliverable energy leaves
      energy unmet (at the unmet-energy penalty).

    Both are found for every ``t2`` at once with running maxima/minima (O(T)).
    """
    lo = np.asarray(g.e_lo_kwh, float)
    hi = np.asarray(g.e_hi_kwh, float)
    if not lo.size:
        return None
    first_lo = _running_arg(lo if not v2g else np.full_like(lo, -np.inf), np.greater_equal)
    need = lo if v2g else np.maximum.accumulate(lo)
    gap = need - hi
    t2 = int(np.argmax(gap))
    if gap[t2] > _KWH_TOL:
        t1 = t2 if v2g else int(first_lo[t2])
        return EvConflict(name, t1, t2, float(lo[t1]), float(hi[t2]), inverted=True)
    cap = np.cumsum(np.maximum(np.asarray(g.p_max_kw, float), 0.0) * dt_h)
    # e_hi[t1] − C[t1] for t1 = −1 ("before the horizon": 0 − 0), 0, …, T − 1
    before = np.concatenate([[0.0], hi - cap])
    best_before = np.minimum.accumulate(before)[:-1]  # min over t1 < t2
    arg = _running_arg(-before, np.greater_equal)[:-1]
    excess = (lo - cap) - best_before
    t2 = int(np.argmax(excess))
    if excess[t2] <= _KWH_TOL:
        return None
    t1 = int(arg[t2]) - 1  # −1: the window starts with the horizon
    needed = float(lo[t2] - (hi[t1] if t1 >= 0 else 0.0))
    deliverable = float(cap[t2] - (cap[t1] if t1 >= 0 else 0.0))
    return EvConflict(name, t1 + 1, t2, needed, deliverable)


def _running_arg(values: np.ndarray, better: np.ufunc) -> np.ndarray:
    """Index of the running maximum of ``values`` at each position (latest on ties)."""
    run = np.maximum.accumulate(values)
    at = np.where(better(values, run), np.arange(len(values)), 0)
    return np.maximum.accumulate(at)


def ev_conflicts(d: ModelData) -> list[EvConflict]:
    """EV envelope conflicts of every group (empty when all are deliverable)."""
    out = []
    for name in d.ev_names:
        v2g = any(g.v2g for g in d.sc.ev.groups if g.name == name)
        c = ev_group_conflict(name, d.prof.ev[name], d.dt_h, v2g=v2g)
        if c is not None:
            out.append(c)
    return out


def inverted_bounds(lp: MatrixLP, d: ModelData, limit: int = 5) -> list[str]:
    """Columns whose lower bound exceeds the upper bound and rows whose lower limit exceeds the
    upper limit (such a model is infeasible before any constraint interacts)."""
    arr = lp.arrays()
    found: list[str] = []
    for lo, hi, row in ((arr["lb"], arr["ub"], False), (arr["row_lo"], arr["row_hi"], True)):
        tol = 1e-9 * np.maximum(1.0, np.abs(lo))
        for i in np.flatnonzero(lo > hi + tol)[: limit - len(found)]:
            name = row_label(lp, int(i), d) if row else col_label(lp, int(i), d)
            block = name.split("[", 1)[0]
            found.append(f"{words(block, row=row)} {name}: lower end {lo[i]:,.6g} above upper "
                         f"end {hi[i]:,.6g}")
    return found
