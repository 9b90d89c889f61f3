"""Progress output of long work: phases, HiGHS's incumbent/bound/gap, -v, -q, --progress, terminals.

Everything runs real solves with HiGHS (no mocks); nothing depends on how long a phase takes:
status lines are either forced (throttle 0) or not asserted.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import highspy
import numpy as np
import pytest
from click.testing import CliRunner

from zeropark.cli import main
from zeropark.progress import Progress, current, for_terminal, reporting
from zeropark.solve import new_highs, solve_interruptibly

ROOT = Path(__file__).parents[1]
LINE = re.compile(r"^\[\s*(\d+\.\d) s\] (.*)$")


def _knapsack() -> highspy.HighsLp:
    """min −5x − 4y  s.t.  6x + 4y ≤ 24,  x + 2y ≤ 6,  x, y ∈ {0..10} integer.

    LP optimum x = 3, y = 1.5 (−21). Integer points on the boundary: (4, 0) → −20, (3, 1) → −19,
    (2, 2) → −18, (0, 3) → −12; (4, 1) breaks 6x + 4y ≤ 24. So the MILP optimum is −20.
    """
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 2
    lp.col_cost_ = np.array([-5.0, -4.0])
    lp.col_lower_, lp.col_upper_ = np.zeros(2), np.full(2, 10.0)
    lp.row_lower_, lp.row_upper_ = np.full(2, -highspy.kHighsInf), np.array([24.0, 6.0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 2, 4], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 1, 0, 1], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([6.0, 1.0, 4.0, 2.0])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * 2
    return lp


def _lines(text: str) -> list[tuple[float, str]]:
    return [(float(m[1]), m[2]) for m in map(LINE.match, text.splitlines()) if m]


def test_status_line_carries_highs_incumbent_bound_and_gap() -> None:
    buf = io.StringIO()
    progress = Progress(buf, news_every_s=0.0, heartbeat_every_s=1e9)
    h = new_highs()
    h.setOptionValue("presolve", "off")  # keep the branch and bound (and its callbacks) in play
    progress.attach(h)
    h.passModel(_knapsack())
    progress.phase("MILP")
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(-20.0)
    progress.tick()  # news from HiGHS's callbacks, throttle 0: one status line
    progress.tick()  # nothing new since: no second line
    lines = [text for _, text in _lines(buf.getvalue())]
    assert lines == ["MILP …", "MILP: incumbent -20, bound -20, gap 0.00 % (" + lines[1].split("(")[1]]


def test_heartbeat_without_news_and_silence_within_the_throttle() -> None:
    buf = io.StringIO()
    quiet = Progress(buf, news_every_s=1e9, heartbeat_every_s=1e9)
    quiet.phase("LP relaxation")
    quiet.tick()
    assert [t for _, t in _lines(buf.getvalue())] == ["LP relaxation …"]
    beating = Progress(buf, news_every_s=1e9, heartbeat_every_s=0.0)
    beating.phase("LP")
    beating.tick()
    assert _lines(buf.getvalue())[-1][1].startswith("LP: running (")


def test_status_before_an_incumbent_and_tiny_gaps() -> None:
    p = Progress(io.StringIO())
    p.phase("MILP")
    assert p.status((float("inf"), 12.0, float("inf")), 3.0) == \
        "MILP: no incumbent yet, bound 12 (3.0 s)"
    assert "gap 1.0e-03 %" in p.status((100.0, 99.99999, 1e-5), 1.0)
    assert "gap 0.32 %" in p.status((1000.0, 996.8, 0.0032), 1.0)


def test_solve_interruptibly_reports_through_the_active_reporter() -> None:
    buf = io.StringIO()
    h = new_highs()
    h.setOptionValue("presolve", "off")
    with reporting(Progress(buf, news_every_s=0.0, heartbeat_every_s=0.0)) as progress:
        assert current() is progress
        progress.attach(h)
        h.passModel(_knapsack())
        progress.phase("MILP")
        solve_interruptibly(h)
    assert current() is not progress and not current().active  # silent again outside
    assert h.getInfo().objective_function_value == pytest.approx(-20.0)
    assert _lines(buf.getvalue())[0][1] == "MILP …"


# Two days of this park are a MILP whose relaxation is fractional (all MILP phases run).
PARK = ROOT / "scenarios" / "inner-mongolia-park.yaml"


def _run(*args: str, tmp_path: Path) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, [*args[:1], "run", str(PARK), "--horizon", "48h",
                                    "-o", str(tmp_path / "out"), "--no-plot", *args[1:]])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def test_run_with_progress_shows_every_phase_in_order(tmp_path: Path) -> None:
    code, out, err = _run("--progress", tmp_path=tmp_path)
    assert code == 0, err
    lines = _lines(err)
    phases = [text[:-2] for _, text in lines if text.endswith(" …")]
    assert phases == ["profiles", "build", "LP relaxation", "rounding", "MILP", "results"], err
    times = [t for t, _ in lines]
    assert times == sorted(times)  # elapsed time since the command started
    assert any(text.startswith("HiGHS: Optimal, objective ") for _, text in lines), err
    assert "total cost" in out and not _lines(out)  # stdout keeps only the table


def test_progress_flag_also_accepted_after_the_command(tmp_path: Path) -> None:
    code, _, err = _run("--debug", "--progress", tmp_path=tmp_path)
    assert code == 0 and [t for _, t in _lines(err)][0] == "profiles …", err


def test_not_a_terminal_means_no_progress_lines(tmp_path: Path) -> None:
    code, out, err = _run("--debug", tmp_path=tmp_path)
    assert code == 0 and "total cost" in out
    assert err.strip() == "building inner-mongolia-park …"


def test_quiet_wins_and_silences_the_building_line(tmp_path: Path) -> None:
    code, out, err = _run("-q", "--progress", "-v", tmp_path=tmp_path)
    assert code == 0 and "total cost" in out
    assert err == ""


def test_verbose_forwards_the_highs_log_to_stderr_only(tmp_path: Path) -> None:
    code, out, err = _run("-v", tmp_path=tmp_path)
    assert code == 0, err
    assert "Presolving model" in err and "Model status" in err  # HiGHS's own log lines
    assert "MILP …" in err
    assert "Presolving" not in out and "Model status" not in out


def test_for_terminal_follows_isatty() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty, io.StringIO() as pipe:
        assert tty.isatty()
        assert for_terminal(stream=tty).lines and not for_terminal(stream=tty).highs_log
        assert not for_terminal(stream=tty, quiet=True).active
        assert not for_terminal(stream=pipe).active
        assert for_terminal(stream=pipe, force=True).lines
        verbose = for_terminal(stream=pipe, verbose=True)
        assert verbose.lines and verbose.highs_log
    os.close(master)
