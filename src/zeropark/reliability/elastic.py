"""The elastic version of the dispatch model, and the best value each hard target can reach.

The elastic model is the matrix model of :func:`zeropark.model.builder.build_matrix` plus one
non-negative slack column per business constraint that can make a park infeasible:

==============================  ==========================  =======================================
slack block                     relaxes                     meaning
==============================  ==========================  =======================================
``slack.unserved_kw``           ``balance.power`` (+)       load the grid connection cannot serve
``slack.surplus_kw``            ``balance.power`` (−)       supply that can be neither used nor
                                                            exported
``slack.flex_short_kwh_<i>``    ``flex.window_energy_<i>``  window energy a flexible load cannot
                                                            take
``slack.flex_excess_kwh_<i>``   ``flex.window_energy_<i>``  energy it must draw beyond its window
``slack.ramp_up_kw`` / ``_down``  ``flex.ramp``             power change beyond the ramp limit
``slack.ramp_start_up_kw`` /     ``flex.ramp_start``         first-step change from the initial
``slack.ramp_start_down_kw``                                power beyond the ramp limit
``slack.storage_end_short_kwh``  ``storage.end``            end SOC below the end condition
``slack.storage_end_excess_kwh``  ``storage.end``           end SOC above it (cyclic)
``slack.min_take_short_kwh``    ``green.min_take``          green direct minimum take missed
``slack.target_<name>``         hard target rows            only in the integer stage
==============================  ==========================  =======================================

The physical stage frees the hard target rows and minimises the weighted slack energy [kWh]
(balance slacks weigh 1, the others 1.5, so that a plain shortage of grid capacity is blamed on
the grid connection rather than on a window or an end condition). The grid import limit is the
import column's upper bound; unserved load at a step where import sits at that bound is what
the limit cannot carry. EV charging keeps its unmet-energy column, so EV demand is shed before
any load is called unserved, as the real model would do.

With the physical slacks fixed at their minimum, :func:`best_target_value` finds the best value
a target can reach (largest green share, least emissions, lowest tCO2/tce) by Dinkelbach's
method on the target row, whose coefficients and limits are affine in the target value: the
row is built at two target values and interpolated, so this module does not restate the
formulation of :mod:`zeropark.model.carbon`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import highspy
import numpy as np

from zeropark.model import carbon, flexload, pv, storage
from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.model.family import BALANCE_POWER
from zeropark.model.lp import INF, MatrixLP

#: hard target key → (row block, attribute holding its value, "max" or "min")
TARGETS: dict[str, tuple[str, str, str]] = {
    "green_share": (carbon.GREEN_SHARE, "value", "max"),
    "emission_cap": (carbon.EMISSION_CAP, "value_t", "min"),
    "zero_carbon_indicator": (carbon.INDICATOR, "threshold_t_per_tce", "min"),
}
_MAX_ITER = 30


@dataclass(frozen=True)
class SlackBlock:
    """Slack columns relaxing one row block.

    ``kwh_per_unit`` converts the slack's value to energy (``dt_h`` for a kW slack, 1 for kWh).
    """

    name: str
    row_block: str
    cols: np.ndarray
    weight: float
    kwh_per_unit: float


@dataclass
class Elastic:
    """The elastic model: the dispatch model plus slack columns (appended after its columns)."""

    d: ModelData
    lp: MatrixLP
    n_model: int
    slacks: dict[str, SlackBlock]
    target_slacks: dict[str, SlackBlock]
    hard: dict[str, int]  # hard target key → row index

    def model(self, *, integer: bool = False, targets: tuple[str, ...] = (),
              target_slack: bool = False) -> highspy.HighsLp:
        """HiGHS model: physical slacks weighted, hard targets in ``targets`` kept (others free).

        With ``target_slack`` the kept targets may be missed at a cost (weight 1 per kWh or kg).
        """
        model = self.lp.to_highs(relax=not integer)
        cost = np.zeros(self.lp.n_cols)
        for s in self.slacks.values():
            cost[s.cols.ravel()] = s.weight * s.kwh_per_unit
        ub = np.asarray(model.col_upper_, float).copy()
        for key, s in self.target_slacks.items():
            cost[s.cols.ravel()] = 1.0 if target_slack else 0.0
            ub[s.cols.ravel()] = INF if (target_slack and key in targets) else 0.0
        lo = np.asarray(model.row_lower_, float).copy()
        hi = np.asarray(model.row_upper_, float).copy()
        for key, r in self.hard.items():
            if key not in targets:
                lo[r], hi[r] = -INF, INF
        model.col_cost_ = cost
        model.col_upper_ = ub
        model.row_lower_ = lo
        model.row_upper_ = hi
        model.offset_ = 0.0
        return model

    def slack_values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {name: np.asarray(x)[s.cols] for name, s in {**self.slacks,
                                                            **self.target_slacks}.items()}


def build_elastic(d: ModelData) -> Elastic:
    """The elastic model of prepared model data (see the module docstring)."""
    lp = build_matrix(d)
    n_model = lp.n_cols
    slacks: dict[str, SlackBlock] = {}

    def add(name: str, row_block: str, sign: float, weight: float, kwh_per_unit: float,
            into: dict[str, SlackBlock], ub: float = INF) -> None:
        block = lp.row_blocks[row_block]
        cols = lp.var(name, block.labels, 0.0, ub, 0.0)
        lp.add(block.index(), cols, sign)
        into[name] = SlackBlock(name, row_block, cols, weight, kwh_per_unit)

    dt = d.dt_h
    add("slack.unserved_kw", BALANCE_POWER, 1.0, 1.0, dt, slacks)
    add("slack.surplus_kw", BALANCE_POWER, -1.0, 1.0, dt, slacks)
    for row_block in [b for b in lp.row_blocks if b.startswith(flexload.WINDOW_ENERGY_PREFIX)]:
        i = row_block.rsplit("_", 1)[1]
        add(f"slack.flex_short_kwh_{i}", row_block, 1.0, 1.5, 1.0, slacks)
        add(f"slack.flex_excess_kwh_{i}", row_block, -1.0, 1.5, 1.0, slacks)
    if flexload.RAMP in lp.row_blocks:
        add("slack.ramp_up_kw", flexload.RAMP, -1.0, 1.5, dt, slacks)
        add("slack.ramp_down_kw", flexload.RAMP, 1.0, 1.5, dt, slacks)
    if flexload.RAMP_START in lp.row_blocks:
        add("slack.ramp_start_up_kw", flexload.RAMP_START, -1.0, 1.5, dt, slacks)
        add("slack.ramp_start_down_kw", flexload.RAMP_START, 1.0, 1.5, dt, slacks)
    if storage.END in lp.row_blocks:
        add("slack.storage_end_short_kwh", storage.END, 1.0, 1.5, 1.0, slacks)
        add("slack.storage_end_excess_kwh", storage.END, -1.0, 1.5, 1.0, slacks)
    if pv.GREEN_MIN_TAKE in lp.row_blocks:
        add("slack.min_take_short_kwh", pv.GREEN_MIN_TAKE, 1.0, 1.0, 1.0, slacks)
    hard: dict[str, int] = {}
    target_slacks: dict[str, SlackBlock] = {}
    for key, (row_block, _, sense) in TARGETS.items():
        spec = getattr(d.sc.targets, key)
        if spec is None or spec.mode != "hard" or row_block not in lp.row_blocks:
            continue
        hard[key] = int(lp.row_blocks[row_block].start)
        add(f"slack.target_{key}", row_block, 1.0 if sense == "max" else -1.0, 1.0, 1.0,
            target_slacks, ub=0.0)
    return Elastic(d, lp, n_model, slacks, target_slacks, hard)


def new_highs(model: highspy.HighsLp, d: ModelData, time_limit_s: float | None = None
              ) -> highspy.Highs:
    """A quiet HiGHS instance holding ``model`` with the scenario's solver options."""
    opts = d.sc.solver
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    limit = opts.time_limit_s if time_limit_s is None else min(time_limit_s, opts.time_limit_s)
    h.setOptionValue("time_limit", float(max(limit, 1e-3)))
    h.setOptionValue("threads", int(opts.threads))
    h.setOptionValue("random_seed", int(opts.seed))
    h.setOptionValue("mip_rel_gap", float(max(opts.mip_gap, 1e-4)))
    h.passModel(model)
    return h


def solution(h: highspy.Highs) -> np.ndarray | None:
    """Primal solution of the last run, or None when HiGHS has no feasible point."""
    if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    return np.asarray(h.getSolution().col_value, float)


# -- target bounds ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetRow:
    """A target row as an affine function of the target value v:
    ``(a0 + v·a1)·x`` within ``[lo0 + v·lo1, hi0 + v·hi1]`` (one side infinite)."""

    key: str
    index: int
    a0: np.ndarray
    a1: np.ndarray
    b0: float  # the finite limit at v = 0
    b1: float  # its change per unit of v
    sense: str  # "max": row ≥ limit (share); "min": row ≤ limit (cap, indicator)

    def ratio(self, x: np.ndarray) -> tuple[float, float]:
        """Numerator N and denominator D: the target holds at v iff N ≥ v·D ("max") or
        N ≤ v·D ("min")."""
        return float(self.a0 @ x - self.b0), float(self.b1 - self.a1 @ x)


def _with_value(d: ModelData, key: str, value: float) -> ModelData:
    changes: dict[str, object] = {TARGETS[key][1]: value}
    if key == "zero_carbon_indicator":  # the value probed, not the national band's
        changes["threshold_rule"] = "own"
    targets = d.sc.targets  # the scenario is frozen: copy the changed blocks
    target = getattr(targets, key).model_copy(update=changes)
    sc = d.sc.model_copy(update={"targets": targets.model_copy(update={key: target})})
    return dataclasses.replace(d, sc=sc)


def target_row(e: Elastic, key: str) -> TargetRow:
    """The target row of ``key`` at target values 0 and 1, padded to the elastic columns."""
    row_block, _, sense = TARGETS[key]
    rows = []
    for value in (0.0, 1.0):
        lp = build_matrix(_with_value(e.d, key, value))
        r = lp.row_blocks[row_block].start
        a = np.zeros(e.lp.n_cols)
        a[: lp.n_cols] = lp.matrix().tocsr()[r].toarray().ravel()
        arr = lp.arrays()
        rows.append((a, float(arr["row_lo"][r] if sense == "max" else arr["row_hi"][r])))
    (a0, b0), (a1_full, b1_full) = rows
    return TargetRow(key, e.hard[key], a0, a1_full - a0, b0, b1_full - b0, sense)


def best_target_value(h: highspy.Highs, row: TargetRow, x0: np.ndarray | None) -> float:
    """Best value of a target over the model held by ``h`` (its own row must be free there).

    Dinkelbach's method: for "max", repeat ``λ ← N(x)/D(x)`` with ``x`` maximising
    ``N − λ·D`` until that maximum is zero (within round-off); for "min" the mirror image.
    Returns ±inf when the ratio is unbounded (e.g. unlimited certificates).
    """
    n = len(row.a0)
    idx = np.arange(n, dtype=np.int32)
    sign = -1.0 if row.sense == "max" else 1.0  # HiGHS minimises
    lam = 0.0
    if x0 is not None:
        num, den = row.ratio(x0)
        lam = num / den if den > 1e-9 else 0.0
    for _ in range(_MAX_ITER):
        h.changeColsCost(n, idx, sign * (row.a0 + lam * row.a1))
        h.run()
        status = h.getModelStatus()
        if status in (highspy.HighsModelStatus.kUnbounded,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return np.inf if row.sense == "max" else -np.inf
        x = solution(h)
        if x is None:
            return np.nan
        num, den = row.ratio(x)
        f = num - lam * den
        tol = 1e-9 * max(1.0, abs(num), abs(lam * den))
        done = f <= tol if row.sense == "max" else f >= -tol
        if done:
            return lam
        if den <= 1e-9:
            return np.inf if row.sense == "max" else -np.inf
        lam = num / den
    return lam
