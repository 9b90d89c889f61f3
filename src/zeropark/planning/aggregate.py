"""The aggregated model of representative-period sizing (periods chosen by
:mod:`zeropark.planning.periods`).

The aggregated model is the normal dispatch + sizing matrix built on the concatenated
representative periods, with these changes (``w_r`` = number of original periods represented by
period r, ``t`` a step of r):

- objective: every time-indexed cost ``c_t x_t`` becomes ``w_r c_t x_t``; horizon-wide rows
  (certificates, offsets, targets, green take) sum ``w_r a_t x_t``, with their right-hand sides
  and their coefficients on horizon-wide columns taken from the full-year model; capex, fixed
  charges and fuels are charged for the full year;
- chronology inside a period is kept; across representative periods the chains are cut: EV
  energy restarts at the period start (its envelope rebased to the energy due by the end of the
  period, ``E_lo[t] − E_lo[start−1]``, ``E_hi[t] − E_lo[start−1]``, and the balance of its
  first step reads ``f − Δt·p + … − w = −E_lo[t]``, with no flexibility or unmet energy carried
  in), the written-off energy w is penalised per step with the period's weight; pile counts keep
  the full horizon's lower bound (the most cars plugged in at once in the year); ramp limits
  do not apply across the cut;
- monthly demand charge: ``peak[m] ≥ import[t]`` for every step t of a representative period r
  and every month m in which one of the periods r represents has that step;
- storage (Kotzur et al. 2018, "Time series aggregation for energy system design: modeling
  seasonal storage", Applied Energy 213): inside period r the SOC column is the *intra-period*
  state ``s_r[t]`` (``s_r`` starts from 0 at the period start, same balance row). For each original
  period i of the year (chronological, N of them) an *inter-period* state ``S_i`` is the SOC at
  its start:

  - ``S_{i+1} = κ^{L_i} S_i + s_{r(i)}[end]`` (κ = 1 − self-discharge per step),
  - ``S_0 = soc_initial · E``, and ``S_N = S_0`` (cyclic) or ``S_N ≥ S_0`` (min) as the end
    condition says,
  - ``S_i + max_t s_{r(i)}[t] ≤ soc_max · E`` and ``κ^{L_i} S_i + min_t s_{r(i)}[t] ≥ soc_min · E``
    (max/min over the period, including its start; conservative with self-discharge),

  so energy can be carried across days and weeks in the order the year has them.
"""

from __future__ import annotations

import numpy as np

from zeropark.errors import ScenarioError
from zeropark.model import ev, flexload, grid, pv, storage
from zeropark.model.builder import build_matrix
from zeropark.model.data import ModelData
from zeropark.model.family import SizingPlan
from zeropark.model.lp import INF, MatrixLP
from zeropark.model.storage import params as storage_params
from zeropark.planning.lpedit import own_arrays
from zeropark.planning.periods import Selection

#: Row blocks whose rows link a step to the previous one (cut at period starts).
_CHAINS_DROP_PREVIOUS = (ev.ENERGY_BALANCE, ev.UNMET_SUM)
_CHAINS_DROP_ROW = (flexload.RAMP,)
#: Column blocks labelled by a subset of the steps (binaries placed only where they can pay).
_STEP_SUBSET_BLOCKS = (grid.EXCLUSIVE, storage.MODE, grid.IMPORT_IF_ON, grid.EXPORT_IF_OFF,
                       storage.CHARGE_IF_ON, storage.DISCHARGE_IF_OFF)


def _own_triplets(lp: MatrixLP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.concatenate(lp._r) if lp._r else np.zeros(0, int)
    c = np.concatenate(lp._c) if lp._c else np.zeros(0, int)
    v = np.concatenate(lp._v) if lp._v else np.zeros(0)
    return r, c, v


def _set_triplets(lp: MatrixLP, r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
    lp._r, lp._c, lp._v = [r], [c], [v]


def _steps_of(blocks: dict, n: int, T: int) -> np.ndarray:
    """Step of every column (or row) of a model: −1 where the block has no time axis."""
    out = np.full(n, -1, int)
    for name, b in blocks.items():
        if not b.labels:
            continue
        axis = None
        for k, lab in enumerate(b.labels):
            if isinstance(lab, range) and lab.step == 1 and (
                    (lab.start == 0 and lab.stop == T) or (lab.start == 1 and lab.stop == T)):
                axis = k
            elif name in _STEP_SUBSET_BLOCKS and k == len(b.labels) - 1:
                axis = k
        if axis is None:
            continue
        steps = np.asarray(list(b.labels[axis]), int)
        shape = [1] * len(b.labels)
        shape[axis] = len(steps)
        out[b.index().ravel()] = np.broadcast_to(steps.reshape(shape), b.shape).ravel()
    return out


def _scalar_rows(lp: MatrixLP) -> dict[str, int]:
    return {n: b.start for n, b in lp.row_blocks.items() if not b.labels}


def _scalar_cols(lp: MatrixLP) -> dict[str, int]:
    return {n: b.start for n, b in lp.var_blocks.items() if not b.labels}


def aggregate_lp(lp: MatrixLP, d: ModelData, sel: Selection, full: MatrixLP,
                 month_of_full_step: np.ndarray, energy_cols: dict[int, int],
                 link_storage: bool = True) -> None:
    """Turn ``lp`` (dispatch + sizing on the concatenated representative periods) into the
    aggregated model described in the module docstring.

    Parameters
    ----------
    lp : MatrixLP
        Built from :func:`aggregated_data`, with the sizing columns added.
    d : ModelData
        The aggregated data ``lp`` was built from.
    sel : Selection
    full : MatrixLP
        The dispatch model of the full horizon (source of horizon-wide right-hand sides).
    month_of_full_step : ndarray[int]
        Billing month of every step of the full horizon.
    energy_cols : dict of storage index to column of its sized energy E
        Storage units being sized (others keep their fixed energy).
    link_storage : bool
        Link the SOC across the year's periods (default); ``False`` makes every representative
        period cyclic on its own (the classic typical-day model, kept for comparison).
    """
    T = d.T
    arr = own_arrays(lp)
    col_step = _steps_of(lp.var_blocks, lp.n_cols, T)
    row_step = _steps_of(lp.row_blocks, lp.n_rows, T)
    rep_starts = sel.rep_starts
    rep_len = sel.lengths[sel.reps]
    rep_of_step = np.repeat(np.arange(len(sel.reps)), rep_len)
    w_step = sel.weights[rep_of_step]
    is_start = np.zeros(T, bool)
    is_start[rep_starts] = True
    r, c, v = _own_triplets(lp)
    # EV: every period starts from its own rebased envelope (E_lo(start−1) = 0, f = u = 0)
    _reset_ev_starts(lp, arr, d, rep_starts)
    # objective: time-indexed costs weighted
    timed = col_step >= 0
    arr["cost"][timed] *= w_step[col_step[timed]]
    # cut the chains at period starts
    rs = row_step[r]
    cs = np.where(c >= 0, col_step[c], -1)
    at_start = (rs >= 0) & is_start[np.maximum(rs, 0)]
    cross = at_start & (cs >= 0) & (cs != rs)
    soc_rows = _block_rows(lp, storage.SOC_BALANCE)
    drop_prev = np.zeros(lp.n_rows, bool)
    for name in _CHAINS_DROP_PREVIOUS:
        drop_prev[_block_rows(lp, name)] = True
    drop_prev[soc_rows] = True
    drop_row = np.zeros(lp.n_rows, bool)
    for name in _CHAINS_DROP_ROW:
        drop_row[_block_rows(lp, name)] = True
    bad = cross & ~drop_prev[r] & ~drop_row[r]
    if bad.any():
        name = _block_of(lp.row_blocks, int(r[bad][0]))
        raise ScenarioError("periods", name, "rows that do not link steps across periods: "
                                             "size this scenario over the full horizon")
    starts_rows = np.flatnonzero((row_step >= 0) & is_start[np.maximum(row_step, 0)])
    kill = drop_row[starts_rows]
    arr["row_lo"][starts_rows[kill]] = -INF
    arr["row_hi"][starts_rows[kill]] = INF
    killed = np.zeros(lp.n_rows, bool)
    killed[starts_rows[kill]] = True
    keep = ~(cross & drop_prev[r]) & ~killed[r]
    # storage intra-period SOC: the start rows keep only same-step terms, right-hand side 0
    is_soc_start = np.zeros(lp.n_rows, bool)
    is_soc_start[soc_rows] = True
    is_soc_start &= (row_step >= 0) & is_start[np.maximum(row_step, 0)]
    keep &= ~(is_soc_start[r] & (cs != rs))
    arr["row_lo"][is_soc_start] = 0.0
    arr["row_hi"][is_soc_start] = 0.0
    # horizon-wide rows: time-indexed terms weighted, bounds and other terms from the full model
    scalar = np.zeros(lp.n_rows, bool)
    full_rows = _scalar_rows(full)
    full_r, full_c, full_v = _own_triplets(full)
    full_arr = full.arrays()
    full_cols = {full.var_blocks[n].start: n for n in _scalar_cols(full)}
    for name, row in _scalar_rows(lp).items():
        scalar[row] = True
        if name not in full_rows:
            continue
        fr = full_rows[name]
        arr["row_lo"][row] = full_arr["row_lo"][fr]
        arr["row_hi"][row] = full_arr["row_hi"][fr]
        for fc, fv in zip(full_c[full_r == fr], full_v[full_r == fr], strict=True):
            if fc in full_cols and full_cols[fc] in lp.var_blocks:
                col = lp.var_blocks[full_cols[fc]].start
                hit = (r == row) & (c == col)
                v[hit] = 0.0
                v[np.flatnonzero(hit)[:1]] = fv
    take = _scalar_rows(lp).get(pv.GREEN_MIN_TAKE)
    if take is not None and d.prof.green_direct_kw is not None:
        # never more than the representative periods can deliver, as over a full horizon
        # (energy_preserving makes the two equal unless the contract's peak clips the rescale)
        avail_kwh = float(np.sum(w_step * np.asarray(d.prof.green_direct_kw))) * d.dt_h
        arr["row_lo"][take] = min(arr["row_lo"][take], avail_kwh)
    wt = scalar[r] & (cs >= 0)
    v = np.where(wt, v * w_step[np.maximum(cs, 0)], v)
    # other multi-step rows must stay inside one period
    local = ~scalar[r] & (cs >= 0) & keep
    if local.any():
        rr, rep = r[local], rep_of_step[cs[local]]
        first = np.full(lp.n_rows, -1)
        first[rr[::-1]] = rep[::-1]
        spread = rep != first[rr]
        if spread.any():
            name = _block_of(lp.row_blocks, int(rr[spread][0]))
            raise ScenarioError("periods", name, "rows within one period: the period length "
                                                 "must be a multiple of every flexible load's "
                                                 "window_h")
    _set_triplets(lp, r[keep], c[keep], v[keep])
    _add_peaks(lp, sel, month_of_full_step)
    _add_storage_linking(lp, d, sel, energy_cols, link_storage)


def _reset_ev_starts(lp: MatrixLP, arr: dict[str, np.ndarray], d: ModelData,
                     rep_starts: np.ndarray) -> None:
    """Right-hand side of the EV energy balance at every period start.

    The balance of step t is ``f(t) − f(t−1) − Δt·p(t) + … − w(t) = −(E_lo(t) − E_lo(t−1))``
    (:mod:`zeropark.model.ev`). Each period's envelope is rebased to start from 0
    (:func:`_ev_window`) and its previous-step terms are cut, so its first step must read
    ``f(t) − Δt·p(t) + … − w(t) = −E_lo(t)`` (``E_lo(t−1) = 0``), not the difference to the
    previous representative period's last value, which is an unrelated day of the year (and made
    the model infeasible). The unmet written-off energy is charged per step (``w``), weighted
    like every time-indexed cost, so nothing else is needed at period ends.
    """
    if not lp.has(ev.FLEX_KWH) or ev.ENERGY_BALANCE not in lp.row_blocks:
        return
    rows = lp.row_blocks[ev.ENERGY_BALANCE].index()[:, rep_starts]
    rhs = -ev.ev_envelope_kwh(d)[:, rep_starts]
    arr["row_lo"][rows] = rhs
    arr["row_hi"][rows] = rhs


def full_horizon_piles(lp: MatrixLP, d_full: ModelData, plan: SizingPlan) -> None:
    """Lower bound of every sized pile count in the aggregated model: the most sessions of the
    group plugged in at once over the *full* horizon (capped), as in a full-year sizing.

    The representative periods carry only their envelopes, no session table, so without this
    the aggregated model could buy fewer piles than the year's cars need at once, and the
    full-year check (sizes fixed) would then dispatch a physically impossible pile count.
    """
    sized = plan.of(ev.PILES)
    if not sized or not lp.has(ev.PILES):
        return
    names = [d_full.ev_names[s.index] for s in sized]
    caps = np.array([s.cap for s in sized])
    cols = lp.cols(ev.PILES)
    arr = own_arrays(lp)
    floor = np.minimum(ev.plugged_at_once(d_full, names), caps)
    arr["lb"][cols] = np.maximum(arr["lb"][cols], floor)


def _block_rows(lp: MatrixLP, name: str) -> np.ndarray:
    b = lp.row_blocks.get(name)
    return np.zeros(0, int) if b is None else b.index().ravel()


def _block_of(blocks: dict, i: int) -> str:
    for name, b in blocks.items():
        if b.start <= i < b.start + b.size:
            return name
    return "?"


def sized_energy_cols(lp: MatrixLP, plan: SizingPlan) -> dict[int, int]:
    """Column of the sized energy E of each sized storage unit (by unit index) in a sizing
    model, for :func:`aggregate_lp`."""
    return {s.index: int(lp.cols(storage.ENERGY_CAP_KWH)[k])
            for k, s in enumerate(plan.of(storage.ENERGY_CAP_KWH))}


def _add_peaks(lp: MatrixLP, sel: Selection, month_of_full_step: np.ndarray) -> None:
    """``peak[m] ≥ import[t]`` for the months the periods represented by t's period fall in."""
    if not lp.has(grid.PEAK_KW):
        return
    peak, imp = lp.cols(grid.PEAK_KW), lp.cols(grid.IMPORT_KW)
    rep_starts = sel.rep_starts
    pairs: set[tuple[int, int]] = set()
    for p in range(len(sel.starts)):
        k = sel.rep_of[p]
        rep = sel.reps[k]
        n = min(sel.lengths[p], sel.lengths[rep])
        months = month_of_full_step[sel.starts[p]:sel.starts[p] + n]
        own = month_of_full_step[sel.starts[rep]:sel.starts[rep] + n]
        for j in np.flatnonzero(months != own):
            pairs.add((int(months[j]), int(rep_starts[k] + j)))
    if not pairs:
        return
    mt = np.array(sorted(pairs))
    rows = lp.rows("periods.peak", (range(len(mt)),), lo=0.0)
    lp.add(rows, peak[mt[:, 0]], 1.0)
    lp.add(rows, imp[mt[:, 1]], -1.0)


def _cap_terms(lp: MatrixLP, rows: np.ndarray, share: float, e_col: int | None,
               e_fixed: float) -> float:
    """Put ``−share·E`` on the rows when E is sized; returns the constant ``share·E`` when it is
    fixed (0 otherwise), the right-hand side the rows need."""
    if e_col is not None:
        lp.add(rows, e_col, -share)
        return 0.0
    return share * e_fixed


def _add_storage_linking(lp: MatrixLP, d: ModelData, sel: Selection,
                         energy_cols: dict[int, int], link: bool = True) -> None:
    """Inter-period SOC S_i of every original period, linked through the intra-period SOC
    (``link=False``: one start state per representative period, which must return to it)."""
    if not lp.has(storage.SOC_KWH):
        return
    arr = own_arrays(lp)
    p = storage_params(d)
    soc = lp.cols(storage.SOC_KWH)
    names = d.storage_names
    arr["lb"][soc.ravel()] = -INF
    arr["ub"][soc.ravel()] = INF
    for block in (storage.SOC_MAX_CAP, storage.SOC_MIN_CAP, storage.END):
        rows = _block_rows(lp, block)
        arr["row_lo"][rows] = -INF
        arr["row_hi"][rows] = INF
    R = len(sel.reps)
    N = len(sel.starts) if link else R
    rep_starts, rep_len = sel.rep_starts, sel.lengths[sel.reps]
    units = d.sc.storage
    for s, name in enumerate(names):
        u = units[s]
        keep = float(p["keep"][s])
        e_col = energy_cols.get(s)
        e_fixed = float(p["E"][s])
        inter = lp.var(f"periods.soc_start_kwh[{name}]", (range(N + 1),), 0.0, INF)
        hi_i = lp.var(f"periods.intra_max_kwh[{name}]", (range(R),), 0.0, INF)
        lo_i = lp.var(f"periods.intra_min_kwh[{name}]", (range(R),), -INF, 0.0)
        steps = np.arange(d.T)
        rep_of_step = np.repeat(np.arange(R), rep_len)
        r1 = lp.rows(f"periods.intra_max[{name}]", (range(d.T),), lo=0.0)
        lp.add(r1, hi_i[rep_of_step], 1.0)
        lp.add(r1, soc[s, steps], -1.0)
        r2 = lp.rows(f"periods.intra_min[{name}]", (range(d.T),), hi=0.0)
        lp.add(r2, lo_i[rep_of_step], 1.0)
        lp.add(r2, soc[s, steps], -1.0)
        if link:
            k = sel.rep_of
            decay = keep ** sel.lengths.astype(float)
            ends = rep_starts[k] + sel.lengths - 1  # last step of each period's representative
            row = lp.rows(f"periods.soc_link[{name}]", (range(N),), 0.0, 0.0)
            lp.add(row, inter[1:], 1.0)
            lp.add(row, inter[:-1], -decay)
            lp.add(row, soc[s, ends], -1.0)
        else:  # every representative period returns to its own start state
            k = np.arange(R)
            decay = keep ** rep_len.astype(float)
            row = lp.rows(f"periods.soc_cyclic[{name}]", (range(R),), 0.0, 0.0)
            lp.add(row, inter[:-1], 1.0 - decay)
            lp.add(row, soc[s, rep_starts + rep_len - 1], -1.0)

        up = lp.rows(f"periods.soc_max[{name}]", (range(N),), hi=0.0)
        lp.add(up, inter[:-1], 1.0)
        lp.add(up, hi_i[k], 1.0)
        own_arrays(lp)["row_hi"][up] = _cap_terms(lp, up, u.soc_max, e_col, e_fixed)
        down = lp.rows(f"periods.soc_min[{name}]", (range(N),), lo=0.0)
        lp.add(down, inter[:-1], decay)
        lp.add(down, lo_i[k], 1.0)
        own_arrays(lp)["row_lo"][down] = _cap_terms(lp, down, u.soc_min, e_col, e_fixed)
        if not link:
            continue
        if not u.free_start:  # soc_initial 'free': the optimiser chooses the first state
            start = lp.rows(f"periods.soc_initial[{name}]", (), 0.0, 0.0)
            lp.add(start, inter[0], 1.0)
            const = _cap_terms(lp, start, u.start_share, e_col, e_fixed)
            own_arrays(lp)["row_lo"][start] = const
            own_arrays(lp)["row_hi"][start] = const
        if u.end_condition != "free":
            end = lp.rows(f"periods.soc_end[{name}]", (), 0.0,
                          0.0 if u.end_condition == "cyclic" else INF)
            lp.add(end, inter[N], 1.0)
            lp.add(end, inter[0], -1.0)


def full_matrix(d_full: ModelData) -> MatrixLP:
    """The full-horizon dispatch matrix (source of the horizon-wide rows)."""
    return build_matrix(d_full)
