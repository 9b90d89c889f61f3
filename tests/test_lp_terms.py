"""The expression layer of ``MatrixLP``: row families as (coefficient, columns[, shift]) terms, on
tiny hand-written blocks whose matrices are written out in full."""

from __future__ import annotations

import numpy as np
import pytest

from zeropark.model.lp import INF, MatrixLP


def dense(lp: MatrixLP) -> np.ndarray:
    return lp.matrix().toarray()


def test_soc_balance_with_shift_matches_hand_written_matrix() -> None:
    # two units a, b over three steps; soc[s,t] − k[s]·soc[s,t−1] − 0.5·ch[s,t] = rhs[s,t] with
    # k = (0.9, 0.8); row t = 0 has no soc[t−1] term (the initial SOC is in its bounds)
    lp = MatrixLP()
    S, steps = ["a", "b"], range(3)
    soc = lp.var("soc", (S, steps))  # columns 0..5: a0 a1 a2 b0 b1 b2
    ch = lp.var("ch", (S, steps))  # columns 6..11
    keep = np.array([0.9, 0.8])
    rhs = np.array([[4.5, 0, 0], [8.0, 0, 0]])
    rows = lp.constrain("soc_balance", (S, steps),
                        [(1.0, soc), (-keep[:, None], soc, 1), (-0.5, ch)], lo=rhs, hi=rhs)
    assert rows.tolist() == [[0, 1, 2], [3, 4, 5]]
    expected = np.array([
        # a0    a1    a2    b0    b1    b2   ch:a0 a1    a2    b0    b1    b2
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-0.9, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0],
        [0.0, -0.9, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0],
        [0.0, 0.0, 0.0, -0.8, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0],
        [0.0, 0.0, 0.0, 0.0, -0.8, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5],
    ])
    assert np.array_equal(dense(lp), expected)
    arr = lp.arrays()
    assert arr["row_lo"].tolist() == [4.5, 0, 0, 8.0, 0, 0] == arr["row_hi"].tolist()
    assert lp.row_names()[:2] == ["soc_balance[a,0]", "soc_balance[a,1]"]


def test_terms_give_the_same_triplets_in_the_same_order_as_rows_and_add() -> None:
    def build(with_terms: bool) -> MatrixLP:
        lp = MatrixLP()
        x = lp.var("x", (["u", "v"], range(4)), 0.0, 5.0, 1.0)
        y = lp.var("y", (range(4),))
        c = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])
        if with_terms:
            lp.constrain("r", (["u", "v"], range(4)), [(c, x), (-2.0, x, 1), (3.0, y)], hi=7.0)
        else:
            r = lp.rows("r", (["u", "v"], range(4)), hi=7.0)
            lp.add(r, x, c)
            lp.add(r[:, 1:], x[:, :-1], -2.0)
            lp.add(r, y, 3.0)
        return lp

    a, b = build(True), build(False)
    for attr in ("_r", "_c", "_v"):
        assert np.array_equal(np.concatenate(getattr(a, attr)), np.concatenate(getattr(b, attr)))
    assert all(np.array_equal(a.arrays()[k], b.arrays()[k]) for k in a.arrays())
    assert a.row_names() == b.row_names() and a.col_names() == b.col_names()


def test_a_step_varying_coefficient_is_shifted_with_its_row() -> None:
    # row t gets coef[t]·x[t−1]: coef[0] is dropped with row 0, not x's last step
    lp = MatrixLP()
    x = lp.var("x", (range(3),))
    lp.constrain("r", (range(3),), [(np.array([10.0, 20.0, 30.0]), x, 1)])
    assert np.array_equal(dense(lp), [[0, 0, 0], [20, 0, 0], [0, 30, 0]])


def test_negative_shift_reads_ahead_and_the_last_row_gets_nothing() -> None:
    lp = MatrixLP()
    x = lp.var("x", (range(3),))
    lp.constrain("r", (range(3),), [(1.0, x), (-1.0, x, -1)])  # x[t] − x[t+1]
    assert np.array_equal(dense(lp), [[1, -1, 0], [0, 1, -1], [0, 0, 1]])


@pytest.mark.parametrize("shift", [3, 5, -3])
def test_a_shift_past_the_horizon_adds_no_coefficient(shift: int) -> None:
    lp = MatrixLP()
    x = lp.var("x", (range(3),))
    lp.constrain("r", (range(3),), [(1.0, x, shift)])
    assert lp.matrix().nnz == 0 and lp.n_rows == 3


def test_per_step_rows_sum_the_columns_of_every_unit_with_per_unit_coefficients() -> None:
    # balance row t: 0.9·pv[a,t] + 0.95·pv[b,t] − load_col[t]
    lp = MatrixLP()
    bal = lp.rows("balance", (range(2),), 1.0, 1.0)
    pv = lp.var("pv", (["a", "b"], range(2)))  # a0 a1 b0 b1
    flex = lp.var("flex", (range(2),))
    lp.add_terms(bal, [(np.array([0.9, 0.95])[:, None], pv), (-1.0, flex)])
    assert np.allclose(dense(lp), [[0.9, 0, 0.95, 0, -1, 0], [0, 0.9, 0, 0.95, 0, -1]])


def test_a_single_row_sums_a_block_and_mapped_rows_take_their_steps() -> None:
    lp = MatrixLP()
    g = lp.var("g", (range(4),))
    lp.constrain("take", (), [(0.25, g)], lo=1.0)  # Σ_t 0.25·g[t] ≥ 1
    month = lp.rows("month", (["jan", "feb"],))
    lp.add_terms(month[np.array([0, 0, 1, 1])], [(2.0, g)])  # row m(t) gets 2·g[t]
    assert np.array_equal(dense(lp), [[0.25] * 4, [2, 2, 0, 0], [0, 0, 2, 2]])
    assert lp.arrays()["row_lo"].tolist() == [1.0, -INF, -INF]


def test_shape_mismatch_names_the_row_family_and_adds_nothing() -> None:
    lp = MatrixLP()
    x = lp.var("x", (["a", "b"], range(4)))
    with pytest.raises(ValueError, match=r"ramp: term 1 does not broadcast: rows \(2, 3\), "
                                         r"columns \(2, 4\), coefficient \(\)"):
        lp.constrain("ramp", (["a", "b"], range(1, 4)), [(1.0, x[:, 1:]), (-1.0, x)])
    assert lp.n_rows == 0 and "ramp" not in lp.row_blocks and lp.matrix().nnz == 0


def test_a_coefficient_of_the_wrong_length_is_an_error() -> None:
    lp = MatrixLP()
    x = lp.var("x", (["a", "b"], range(4)))
    with pytest.raises(ValueError, match=r"r: term 0 does not broadcast: .*coefficient \(3,\)"):
        lp.constrain("r", (["a", "b"], range(4)), [(np.ones(3), x)])


def test_a_shift_needs_a_shared_time_axis() -> None:
    lp = MatrixLP()
    x = lp.var("x", (range(4),))
    with pytest.raises(ValueError, match=r"total: term 0 has shift 1 but rows \(\) and columns "
                                         r"\(4,\) do not share a time axis"):
        lp.constrain("total", (), [(1.0, x, 1)])
    with pytest.raises(ValueError, match="shift must be an integer"):
        lp.constrain("r", (range(4),), [(1.0, x, 0.5)])


def test_malformed_terms_are_errors() -> None:
    lp = MatrixLP()
    x = lp.var("x", (range(2),))
    with pytest.raises(ValueError, match=r"r: term 0 must be \(coefficient, columns\)"):
        lp.constrain("r", (range(2),), [(1.0,)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="r: term 0 columns must be column indices"):
        lp.constrain("r", (range(2),), [(1.0, np.array([0.0, 1.0]))])
    with pytest.raises(ValueError, match="balance: term 1 does not broadcast"):
        lp.add_terms(np.arange(2), [(1.0, x), (1.0, np.arange(3))], "balance")
    assert lp.n_rows == 0 and lp.matrix().nnz == 0
