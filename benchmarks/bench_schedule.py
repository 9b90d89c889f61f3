"""Benchmark of the nightly day-ahead schedule: 48 h at 15 min, 200 piles, end to end.

Target: from the shell ≤ 2 s (benchmarks/README.md). Measured in-process from loading the
scenario and state to both files written (the optimised path with forecast, state with plugged-in
EVs, a committed DR event, month-to-date peak and ledger; and the fallback path forced by a zero
time limit), and the same through the ``zeropark schedule`` command in a fresh process (which adds
Python's import of pandas, pvlib, xarray, …). Not a test: it prints a table.

Usage::

    python benchmarks/bench_schedule.py [--repeat 3] [--no-cli]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "demo-park.yaml"
STATE = REPO / "tests" / "data" / "ops" / "state-demo.json"
FORECAST = REPO / "tests" / "data" / "ops" / "forecast-demo-48h.csv"
START = "2026-11-29T00:00"


def run_once(time_limit_s: float | None) -> dict[str, float]:
    """One end-to-end run in this process; phase times [s]."""
    from zeropark.operations.publish import publish
    from zeropark.operations.schedule import make_schedule
    from zeropark.operations.state import load_state
    from zeropark.scenario import load_scenario

    cpu0, t0 = time.process_time(), time.perf_counter()
    sc = load_scenario(SCENARIO)
    state = load_state(STATE)
    t1 = time.perf_counter()
    s = make_schedule(sc, state, start=START, horizon_h=48, step="15min", forecast=FORECAST,
                      time_limit_s=time_limit_s)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        publish(s, out)
    t3 = time.perf_counter()
    meta = s.doc["metadata"]
    ts = meta["timings_s"]
    piles = sum(len(v) for v in s.doc["intervals"][0]["ev_piles_kw"].values())
    return {
        "load_s": t1 - t0, "inputs_s": ts["inputs_s"], "optimise_s": ts["optimise_s"],
        "assemble_check_s": ts["total_s"] - ts["inputs_s"] - ts["optimise_s"],
        "publish_s": t3 - t2, "total_s": t3 - t0, "cpu_s": time.process_time() - cpu0,
        "fallback": float(meta["fallback"]), "intervals": float(meta["n_intervals"]),
        "piles": float(piles), "sessions": float(len(s.doc["ev_sessions"])),
        "solve_s": (s.result.timings.get("solve_s", float("nan")) if s.result else float("nan")),
    }


def run_cli(time_limit_s: float | None) -> tuple[float, float, int]:
    """Wall and CPU time [s] and exit code of ``zeropark schedule`` in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        # the command a user runs (``zeropark`` is ``python -m zeropark``: the same entry point)
        cmd = [sys.executable, "-m", "zeropark", "schedule",
               str(SCENARIO), "--start", START,
               "--horizon", "48h", "--step", "15min", "--state", str(STATE), "--forecast",
               str(FORECAST), "-o", out]
        if time_limit_s is not None:
            cmd += ["--time-limit", str(time_limit_s)]
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        return wall, cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the fresh-process runs")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import zeropark.operations.schedule  # noqa: F401 - import time reported separately

    import_s = time.perf_counter() - t0
    run_once(None)  # warm caches (library YAML, schema, pvlib tables)
    cases = {"optimised": None, "fallback (time limit 0)": 0.0}
    cols = ["total_s", "cpu_s", "load_s", "inputs_s", "optimise_s", "solve_s",
            "assemble_check_s", "publish_s"]
    print(f"zeropark schedule benchmark: demo park, 48 h × 15 min, piles/sessions below; "
          f"{os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}; import {import_s:.2f} s")
    print(f"{'case':<26}" + "".join(f"{c:>17}" for c in cols))
    for name, limit in cases.items():
        runs = [run_once(limit) for _ in range(args.repeat)]
        med = {c: statistics.median(r[c] for r in runs) for c in cols}
        print(f"{name:<26}" + "".join(f"{med[c]:>17.3f}" for c in cols))
        r = runs[0]
        print(f"{'':<26}median of {args.repeat}; {int(r['intervals'])} intervals, "
              f"{int(r['piles'])} piles, {int(r['sessions'])} sessions, "
              f"fallback={bool(r['fallback'])}, min total {min(x['total_s'] for x in runs):.3f} s")
    if not args.no_cli:
        for name, limit in cases.items():
            runs = [run_cli(limit) for _ in range(args.repeat)]
            print(f"CLI {name:<22} wall median {statistics.median(r[0] for r in runs):.2f} s, "
                  f"CPU {statistics.median(r[1] for r in runs):.2f} s (exit codes "
                  f"{sorted({r[2] for r in runs})}; includes Python imports)")


if __name__ == "__main__":
    main()
