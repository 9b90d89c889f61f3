"""Sweep throughput: cases per minute with 1, 2, … Dask worker processes (and serially).

Each case is a week (168 h) of the demo park with the storage size and PV capacity varied; every
worker builds the profiles of each PV variant once (later cases reuse them). The cluster start
(worker processes importing zeropark) is timed separately from the sweep, and both rates are
printed: cases/min of the sweep alone and including the cluster start.

    python benchmarks/bench_sweep.py                    # 8 cases, serial + 1 and 2 workers
    python benchmarks/bench_sweep.py --steps 336 --workers 1,2 --energies 0,5000,10000,20000,40000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cases(args: argparse.Namespace) -> list:
    import zeropark as zp
    from zeropark.planning.sweep import CaseOptions, grid_cases

    sc = zp.load_scenario(REPO / "scenarios" / "demo-park.yaml")
    grid = {"storage.0.energy_kwh": [float(v) for v in args.energies.split(",")],
            "pv.0.capacity_kw": [float(v) for v in args.pv.split(",")]}
    return grid_cases([sc], grid, CaseOptions(), windows=[(args.start, args.steps)])


def _check(result, n: int) -> None:
    bad = result.table[result.table["outcome"] != "solved"]
    if len(result.table) != n or len(bad):
        raise SystemExit(f"benchmark cases failed:\n{bad[['outcome', 'error']]}")


def _warm_up() -> None:
    import zeropark.api  # noqa: F401
    import zeropark.planning.sweep  # noqa: F401
    import zeropark.profiles.build  # noqa: F401


def run_serial(cases: list) -> dict[str, float]:
    from zeropark.planning.sweep import run_sweep

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = run_sweep(cases, serial=True, out_dir=Path(tmp))
    wall = time.perf_counter() - t0
    _check(res, len(cases))
    return {"start_s": 0.0, "wall_s": wall, "case_s": float(res.table["wall_s"].mean())}


def run_workers(cases: list, workers: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    from zeropark.planning.sweep import run_sweep

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                      silence_logs=50) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        client.run(_warm_up)  # imports on every worker belong to the start, not the sweep
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            res = run_sweep(cases, client=client, out_dir=Path(tmp))
        t2 = time.perf_counter()
    _check(res, len(cases))
    return {"start_s": t1 - t0, "wall_s": t2 - t1,
            "case_s": float(res.table["wall_s"].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--steps", type=int, default=168, help="steps per case [h]")
    ap.add_argument("--start", type=int, default=4344, help="first step (default: July 1)")
    ap.add_argument("--energies", default="0,5000,10000,20000", help="storage.0.energy_kwh values")
    ap.add_argument("--pv", default="4000,8000", help="pv.0.capacity_kw values")
    ap.add_argument("--no-serial", action="store_true", help="skip the serial reference")
    args = ap.parse_args()
    cases = _cases(args)
    n = len(cases)
    rows = []
    if not args.no_serial:
        rows.append(("serial", run_serial(cases)))
    for w in (int(x) for x in args.workers.split(",")):
        rows.append((f"{w} worker{'s' if w > 1 else ''}", run_workers(cases, w)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{n} cases of {args.steps} h (demo park), {os.cpu_count()} cores, "
          f"load average {load:.1f}")
    print(f"{'run':<11} {'start [s]':>9} {'sweep [s]':>9} {'case [s]':>8} {'cases/min':>9} "
          f"{'incl. start':>11}")
    for name, r in rows:
        rate = n / r["wall_s"] * 60
        total = n / (r["wall_s"] + r["start_s"]) * 60
        print(f"{name:<11} {r['start_s']:>9.1f} {r['wall_s']:>9.1f} {r['case_s']:>8.2f} "
              f"{rate:>9.1f} {total:>11.1f}")
    print("case [s]: mean wall time of one case inside its worker (profiles built once per "
          "PV variant and worker)")


if __name__ == "__main__":
    main()
