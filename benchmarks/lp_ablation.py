"""What makes the year-long LP relaxation slow: one family switched off at a time, and HiGHS options.

Every variant is the demo park's LP relaxation (the plain ``--relax`` model, matrix engine), solved
in this one process one after the other, so the ratios between rows were taken at the same load:

- *families*: the whole model, then the same scenario with one family removed by
  ``Scenario.replace`` (EV groups, storage, flexible loads, DR events, targets and the carbon
  ledger, the demand charge, grid exclusivity binaries), HiGHS defaults (dual simplex, presolve
  on, 1 thread);
- *options*: the whole model with one HiGHS option changed (primal simplex, IPM with and without
  crossover, presolve off, parallel dual simplex on 2 threads, PDLP).

Simplex/IPM iteration counts do not depend on the load; times do (the 1-minute load average is
printed with the table). Usage::

    python benchmarks/lp_ablation.py                      # demo year, 8,760 steps (2–4 min)
    python benchmarks/lp_ablation.py --steps 24           # smoke run (what the tests do)
    python benchmarks/lp_ablation.py --only families --time-limit 60 --out ablation.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-park.yaml"

#: scenario changes that switch one family off (dotted paths of ``Scenario.replace``)
FAMILY_VARIANTS: dict[str, dict[str, Any]] = {
    "all families": {},
    "without EV groups": {"ev.groups": []},
    "without storage": {"storage": []},
    "without flexible loads": {"flexible_loads": []},
    "without DR events": {"demand_response.events": []},
    "without targets, certificates, offsets, carbon price": {
        "targets": {}, "green_power": {}},
    "without certificates": {"green_power.certificates": None},
    "without offsets": {"green_power.offsets": None},
    "without green-share target": {"targets.green_share": None},
    "without zero-carbon indicator": {"targets.zero_carbon_indicator": None},
    "demand charge 0 (peak rows without cost)": {"grid.demand_charge_per_kw_month": 0.0},
    "without grid exclusivity": {"solver.exclusivity": "none"},
}

#: HiGHS option changes tried on the whole model
OPTION_VARIANTS: dict[str, dict[str, Any]] = {
    "dual simplex (default)": {},
    "primal simplex": {"simplex_strategy": 4},
    "IPM + crossover": {"solver": "ipm"},
    "IPM, no crossover": {"solver": "ipm", "run_crossover": "off"},
    "presolve off": {"presolve": "off"},
    "parallel dual simplex, 2 threads": {"simplex_strategy": 2, "threads": 2, "parallel": "on"},
    "PDLP": {"solver": "pdlp"},
}


def load_avg() -> float:
    """1-minute load average (NaN where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def solve_lp(lp: Any, options: dict[str, Any], time_limit_s: float) -> dict[str, Any]:
    """Solve ``lp``'s relaxation with HiGHS under ``options``; time, iterations, objective."""
    import highspy

    from zeropark.solve import new_highs

    model = lp.to_highs(relax=True)
    # HiGHS keeps one global thread pool, sized by the first solve of the process: reset it so
    # the parallel variant gets its threads and the 1-thread variants after it run on one
    highspy.Highs.resetGlobalScheduler(True)
    h = new_highs()
    base = {"output_flag": False, "threads": 1, "presolve": "on", "random_seed": 0,
            "time_limit": float(time_limit_s)}
    for key, value in {**base, **options}.items():
        h.setOptionValue(key, value)
    h.passModel(model)
    t0, c0 = time.perf_counter(), time.process_time()
    h.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    info = h.getInfo()
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": float(info.objective_function_value),
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "crossover_iterations": int(info.crossover_iteration_count),
        "pdlp_iterations": max(int(getattr(info, "pdlp_iteration_count", 0)), 0),
        "solve_s": wall, "solve_cpu_s": cpu,
        "rows": lp.n_rows, "cols": lp.n_cols, "nnz": int(model.a_matrix_.start_[-1]),
        "load": load_avg(),
    }


def run(scenario: Path, steps: int | None, only: str, time_limit_s: float) -> list[dict[str, Any]]:
    """All variants, one after the other in this process."""
    from zeropark.api import prepare
    from zeropark.model.builder import build_matrix
    from zeropark.profiles.build import build_profiles
    from zeropark.scenario import load_scenario

    base = load_scenario(scenario)
    rows: list[dict[str, Any]] = []
    if only in ("all", "families"):
        for name, changes in FAMILY_VARIANTS.items():
            sc = base.replace(changes) if changes else base
            d = prepare(sc, build_profiles(sc), steps=steps)
            rows.append({"group": "families", "variant": name,
                         **solve_lp(build_matrix(d), {}, time_limit_s)})
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    if only in ("all", "options"):
        d = prepare(base, build_profiles(base), steps=steps)
        lp = build_matrix(d)
        for name, options in OPTION_VARIANTS.items():
            rows.append({"group": "options", "variant": name,
                         **solve_lp(lp, options, time_limit_s)})
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _line(r: dict[str, Any]) -> str:
    its = str(r["simplex_iterations"])
    if r["ipm_iterations"]:
        its = f"{r['ipm_iterations']} IPM + {r['crossover_iterations']} crossover"
    if r["pdlp_iterations"]:
        its = f"{r['pdlp_iterations']} PDLP"
    return (f"| {r['variant']} | {r['rows']:,} | {r['cols']:,} | {r['nnz']:,} | {r['status']} | "
            f"{r['objective']:,.0f} | {its} | {r['solve_s']:.2f} | {r['solve_cpu_s']:.2f} | "
            f"{r['load']:.1f} |")


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    head = ("| variant | rows | cols | nnz | status | objective | iterations | solve s | CPU s | load |"
            "\n|---|---|---|---|---|---|---|---|---|---|")
    out = [f"Machine: {machine['cpu']}, {machine['cores']} cores; commit {machine['commit']}; "
           f"{machine['date']}; load {machine['load_start']:.1f} at start."]
    for group in ("families", "options"):
        part = [r for r in rows if r["group"] == group]
        if part:
            out += ["", head, *(_line(r) for r in part)]
    return "\n".join(out)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpu": cpu, "cores": os.cpu_count(), "commit": commit or "?",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load_avg()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", type=Path, default=DEMO)
    p.add_argument("--steps", type=int, default=None, help="first N steps only (default: all)")
    p.add_argument("--only", choices=("all", "families", "options"), default="all")
    p.add_argument("--time-limit", type=float, default=120.0, help="HiGHS limit per solve, s")
    p.add_argument("--out", type=Path, default=None, help="write rows and machine info as JSON")
    a = p.parse_args(argv)
    machine = machine_info()
    rows = run(a.scenario, a.steps, a.only, a.time_limit)
    print(markdown(rows, machine))
    if a.out is not None:
        a.out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    return 0 if all(r["status"] in ("Optimal", "Time limit reached") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
