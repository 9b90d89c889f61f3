"""The benchmark script runs end to end at a tiny size, so it never rots (no timing asserts).

``benchmarks/run.py`` starts one fresh process per case; this test runs it on 24 steps of the demo
park for both engines, LP and MILP (and the PyPSA peer when ``pypsa`` is installed) and checks the
report's structure and the invariants that do not depend on the machine: both builders hand HiGHS
the same model and reach the same optimum, and PyPSA agrees on the shared LP.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "benchmarks" / "run.py"
HAS_PYPSA = importlib.util.find_spec("pypsa") is not None


def _load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zeropark_bench_run", RUN)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "24", "--engines", "matrix,pyomo",
         "--modes", "lp,milp", "--time-limit", "60", "--jobs", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_case_runs_in_its_own_process_and_reports_all_phases(smoke: tuple[dict, str]) -> None:
    report, _ = smoke
    cases = report["cases"]
    assert {(c["engine"], c["mode"]) for c in cases} == {
        ("matrix", "lp"), ("pyomo", "lp"), ("matrix", "milp"), ("pyomo", "milp")}
    for c in cases:
        assert c["status"] == "optimal", c
        assert c["steps"] == 24 and c["threads"] == 1
        for k in ("profiles_s", "build_s", "handoff_s", "solve_s", "extract_s", "model_s"):
            assert c[k] >= 0.0, (k, c)
        # phases are parts of build→result, and build→result is part of end-to-end
        parts = c["build_s"] + c["handoff_s"] + c["solve_s"] + c["extract_s"]
        assert parts <= c["model_s"] * 1.05 + 1e-3
        assert c["model_s"] + c["profiles_s"] <= c["e2e_s"] + 1e-6
        assert c["peak_rss_mb"] >= c["rss_after_import_mb"] > 50.0
        assert c["rows"] > 24 and c["cols"] > 24 and c["nnz"] > c["cols"]
    pyomo = [c for c in cases if c["engine"] == "pyomo"]
    assert all(c["solves"] >= 1 and c["handoff_s"] > 0.0 for c in pyomo)


def test_both_builders_hand_highs_the_same_model(smoke: tuple[dict, str]) -> None:
    report, _ = smoke
    by = {(c["engine"], c["mode"]): c for c in report["cases"]}
    for mode in ("lp", "milp"):
        m, p = by["matrix", mode], by["pyomo", mode]
        assert (p["rows"], p["cols"], p["nnz"]) == (m["rows"], m["cols"], m["nnz"])
        assert p["objective"] == pytest.approx(m["objective"], rel=1e-6)
    assert by["matrix", "lp"]["integers"] == 0
    ratios = {r["mode"]: r for r in report["ratios"]}
    assert set(ratios) == {"lp", "milp"}
    for r in ratios.values():
        assert r["objective_rel_diff"] <= 1e-6
        assert r["build_s"] > 0 and r["build_handoff"] > 0


def test_markdown_table_and_targets_are_printed(smoke: tuple[dict, str]) -> None:
    report, stdout = smoke
    assert "| 24 | matrix | lp | optimal |" in stdout
    assert "| 24 | pyomo | milp | optimal |" in stdout
    assert "Pyomo / matrix" in stdout and "Targets:" in stdout
    names = [t["target"] for t in report["targets"]]
    assert any(n.startswith("matrix build + hand-off") for n in names)
    assert all("(at 24 steps; the target is for 8760)" in n for n in names)
    assert report["machine"]["cores"] >= 1 and report["machine"]["versions"]["highspy"]


def test_pypsa_peer_solves_the_same_lp(smoke: tuple[dict, str]) -> None:
    report, stdout = smoke
    if not HAS_PYPSA:
        assert "pypsa is not installed" in report["settings"]["peer_note"]
        pytest.skip("pypsa (bench extra) not installed")
    (row,) = report["peer"]
    assert row["steps"] == 24 and row["agree"]
    assert row["pypsa_objective"] == pytest.approx(row["zeropark_objective"], rel=1e-6)
    assert row["zeropark_objective"] > 0
    assert "| 24 |" in stdout.split("Peer:")[1]
    # the whole process's work: imports, scenario and profiles on top of arrays → solved model
    for side in ("zeropark", "pypsa"):
        assert row[f"{side}_with_imports_s"] > row[f"{side}_s"]


def test_targets_are_judged_from_the_largest_size() -> None:
    run = _load_run()

    def case(engine: str, mode: str, build: float, handoff: float, **kw: float) -> dict:
        c = {"steps": 8760, "engine": engine, "mode": mode, "status": "optimal",
             "objective": 100.0, "gap": 0.0, "build_s": build, "handoff_s": handoff,
             "solve_s": 1.0, "extract_s": 0.1, "model_s": 2.0, "e2e_s": 2.5,
             "peak_rss_mb": 500.0, "threads": 1}
        c.update(kw)
        return c

    cases = [case("matrix", "lp", 0.1, 0.1), case("pyomo", "lp", 2.0, 3.0),
             case("matrix", "milp", 0.2, 0.2, e2e_s=70.0, gap=5e-4),
             case("pyomo", "milp", 2.0, 2.0), {**case("matrix", "lp", 9, 9), "steps": 24}]
    peers = [{"steps": 8760, "side": "zeropark", "objective": 50.0, "total_s": 1.0,
              "solve_s": 0.5, "peak_rss_mb": 300.0, "rows": 1, "cols": 2, "nnz": 3},
             {"steps": 8760, "side": "pypsa", "objective": 50.0 * (1 + 1e-9), "total_s": 2.5,
              "solve_s": 0.5, "peak_rss_mb": 400.0, "rows": 1, "cols": 2, "nnz": 3}]
    got = {t["target"]: t for t in run.targets(cases, peers)}
    assert got["matrix build + hand-off [s]"]["measured"] == pytest.approx(0.4)
    assert got["matrix build + hand-off [s]"]["met"] is True
    # worst mode: MILP 4.0 / 0.4 = 10×, LP 5.0 / 0.2 = 25×
    assert got["Pyomo / matrix build + hand-off [×]"]["measured"] == pytest.approx(10.0)
    assert got["PyPSA / zeropark LP end-to-end [×]"]["measured"] == pytest.approx(2.5)
    assert got["PyPSA / zeropark LP end-to-end [×]"]["met"] is True
    assert got["matrix MILP to 0.1 % end-to-end [s]"]["met"] is False  # 70 s > 60 s
    assert got["matrix peak RSS [MB]"]["met"] is True
    table = run.markdown({"machine": run.machine_info(), "settings": {
        "threads": 1, "time_limit_s": 300.0, "peer_note": ""}, "cases": cases, "peers": peers,
        "ratios": run.ratios(cases), "peer": run.peer_table(peers),
        "targets": run.targets(cases, peers)})
    assert "| 8760 | lp | 20 | 30 | 25 |" in table  # Pyomo / matrix: build, hand-off, both
    assert "**no**" in table and "| yes |" in table


@pytest.mark.slow
def test_lp_ablation_runs_every_variant_at_24_steps(tmp_path: Path) -> None:
    """``benchmarks/lp_ablation.py`` end to end at 24 steps: every family and option variant
    solves, removing a family never adds rows, and the HiGHS options agree on the optimum."""
    out = tmp_path / "ablation.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "lp_ablation.py"), "--steps", "24",
         "--time-limit", "60", "--out", str(out)],
        capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    fam = {r["variant"]: r for r in rows if r["group"] == "families"}
    opt = {r["variant"]: r for r in rows if r["group"] == "options"}
    assert fam and opt and all(r["status"] == "Optimal" for r in rows)
    whole = fam["all families"]
    assert all(r["rows"] <= whole["rows"] for r in fam.values())
    assert fam["without EV groups"]["rows"] < whole["rows"]
    for r in opt.values():  # same LP, other algorithm: same optimum
        assert r["objective"] == pytest.approx(whole["objective"], rel=1e-6)
    assert "| all families |" in proc.stdout and "| IPM, no crossover |" in proc.stdout


def test_benchmark_step_option_runs_quarter_hours() -> None:
    """``run.py --step 15min`` solves the demo park at 15-minute steps (96 steps = one day)."""
    run = _load_run()
    case = run.run_case(96, "matrix", "lp", step="15min", time_limit_s=60.0)
    assert case["status"] == "optimal" and case["steps"] == 96 and case["step"] == "15min"
    hourly = run.run_case(24, "matrix", "lp", time_limit_s=60.0)
    assert hourly["step"] == "1h"
    assert case["rows"] > 3 * hourly["rows"]  # four steps an hour: about four times the rows


def test_bench_run_splits_wall_time_into_highs_and_the_rest() -> None:
    """``benchmarks/bench_run.py`` on one demo day in fresh processes: each figure is printed and
    the part outside HiGHS is the wall time less the process's own HiGHS time."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_run.py"), "--runs", "1",
         "--horizon", "24h"], capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]]
            for line in proc.stdout.splitlines() if line.split()[:1] in (
                ["wall_s"], ["highs_s"], ["outside_s"])}
    assert set(rows) == {"wall_s", "highs_s", "outside_s"}
    assert 0 < rows["highs_s"][0] < rows["wall_s"][0]
    assert rows["outside_s"][0] == pytest.approx(rows["wall_s"][0] - rows["highs_s"][0], abs=0.02)
    assert "outside HiGHS ≤ 1.5 s (median):" in proc.stdout
