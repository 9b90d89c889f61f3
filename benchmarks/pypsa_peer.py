"""Peer comparison: the same PV + battery + grid LP solved by zeropark (matrix engine) and PyPSA.

Both sides start from the same arrays: zeropark builds the profiles of a *reduced* demo park once
(pvlib PV, synthetic load, TOU tariff) and the PyPSA side turns exactly those arrays into a
one-bus network. The reduced park keeps only what both tools model the same way:

- one bus; the inflexible load (PyPSA ``Load``);
- the PV array, curtailable, available power as ``p_max_pu`` (PyPSA ``Generator``, cost 0);
- grid import up to the transformer limit at the TOU import price (PyPSA ``Generator`` whose
  marginal cost is the price series); export 0 (anti-backflow), so no export component is needed;
- the battery (PyPSA ``StorageUnit``): charge/discharge efficiencies, self-discharge as
  ``standing_loss`` (per hour in both; PyPSA compounds it over a step, zeropark applies it
  linearly: the same for hourly steps), power, ``max_hours`` = energy / power, initial SOC,
  throughput cost on discharge as ``marginal_cost``, and zeropark's ``at_least_initial`` end
  condition as one extra linopy constraint. PyPSA has no lower SOC bound on a ``StorageUnit``,
  so the window is set to 0–100 % on the zeropark side.

Removed from the demo park: EV groups, flexible loads, DR events, targets and carbon price, green
power, fixed fuels and the heat section, the demand charge. (zeropark still builds its
``grid.peak`` rows, at zero cost; HiGHS presolve drops them.)

Each side runs in its own process (``--side zeropark|pypsa``) and prints one JSON line prefixed
``BENCH_JSON``; :mod:`run` starts both and compares objectives and times. Run alone::

    python benchmarks/pypsa_peer.py --side pypsa --steps 8760
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo-park.yaml"
MARKER = "BENCH_JSON "


def reduced_changes(threads: int = 1, time_limit_s: float = 300.0) -> dict[str, Any]:
    """``Scenario.replace`` changes that reduce the demo park to PV + battery + grid with TOU.

    Parameters
    ----------
    threads : int
        HiGHS threads.
    time_limit_s : float [s]
        HiGHS time limit.
    """
    return {
        "ev.groups": [], "flexible_loads": [], "demand_response.events": [], "targets": {},
        "green_power": {}, "fuels": {}, "heat": None, "grid.export_limit_kw": 0.0,
        "grid.demand_charge_per_kw_month": 0.0, "storage.0.soc_min": 0.0,
        "storage.0.soc_max": 1.0, "solver.threads": threads, "solver.time_limit_s": time_limit_s,
    }


def reduced_data(scenario_path: Path = DEMO, steps: int = 8760, threads: int = 1,
                 time_limit_s: float = 300.0) -> tuple[Any, dict[str, float]]:
    """The reduced scenario's :class:`zeropark.model.data.ModelData` of ``steps`` steps.

    Returns
    -------
    data : ModelData
    timings : dict
        ``load_s`` (scenario), ``profiles_s`` (pvlib, load, tariff arrays) [s].
    """
    import zeropark as zp
    from zeropark.profiles.build import build_profiles

    t0 = time.perf_counter()
    sc = zp.load_scenario(scenario_path).replace(reduced_changes(threads, time_limit_s))
    _check_reducible(sc)
    t1 = time.perf_counter()
    prof = build_profiles(sc)
    d = zp.prepare(sc, prof, steps=steps)
    return d, {"load_s": t1 - t0, "profiles_s": time.perf_counter() - t1}


def _check_reducible(sc: Any) -> None:
    """The PyPSA network below models one AC-coupled PV array and one battery."""
    from zeropark.errors import ScenarioError

    if len(sc.pv) != 1 or sc.pv[0].dc_coupled:
        raise ScenarioError("pv", len(sc.pv), "exactly one AC-coupled PV array for the peer LP")
    if len(sc.storage) != 1:
        raise ScenarioError("storage", len(sc.storage), "exactly one storage unit for the peer LP")
    if sc.storage[0].end_condition == "cyclic":
        raise ScenarioError("storage.0.end_condition", "cyclic",
                            "'free' or 'at_least_initial' for the peer LP")


def pypsa_network(d: Any) -> Any:
    """A one-bus PyPSA network with the same data as the reduced zeropark model ``d``.

    Units are zeropark's (kW, kWh, currency per kWh); PyPSA does not convert them, and with
    hourly snapshots of weight ``dt_h`` the objective is in the same currency.
    """
    import pandas as pd
    import pypsa

    p, u, sc = d.prof, d.sc.storage[0], d.sc
    n = pypsa.Network()
    n.set_snapshots(pd.RangeIndex(d.T, name="snapshot"))
    n.snapshot_weightings.loc[:, :] = d.dt_h
    n.add("Carrier", ["AC", "solar", "grid", "battery"])
    n.add("Bus", "park", carrier="AC")
    n.add("Load", "load", bus="park", p_set=pd.Series(np.asarray(p.load_kw, float), n.snapshots))
    avail_kw = np.asarray(p.pv_avail_kw[0], float)
    pv_nom_kw = max(float(avail_kw.max(initial=0.0)), 1.0)
    n.add("Generator", "pv", bus="park", carrier="solar", p_nom=pv_nom_kw,
          p_max_pu=pd.Series(avail_kw / pv_nom_kw, n.snapshots), marginal_cost=0.0)
    n.add("Generator", "grid", bus="park", carrier="grid", p_nom=sc.grid.import_limit_kw,
          marginal_cost=pd.Series(np.asarray(p.import_price_per_kwh, float), n.snapshots))
    n.add("StorageUnit", "battery", bus="park", carrier="battery", p_nom=u.power_kw,
          max_hours=u.energy_kwh / u.power_kw, efficiency_store=u.charge_efficiency,
          efficiency_dispatch=u.discharge_efficiency,
          standing_loss=u.self_discharge_per_h,
          # PyPSA applies no standing loss to the initial SOC in the first step, zeropark does
          # (e[0] = keep·e_init + flows): hand PyPSA the initial SOC after that loss.
          state_of_charge_initial=(1.0 - u.self_discharge_per_h * d.dt_h)
          * u.soc_initial * u.energy_kwh,
          marginal_cost=u.throughput_cost_per_kwh, cyclic_state_of_charge=False)
    return n


def _end_condition(n: Any, d: Any) -> None:
    """zeropark's ``at_least_initial``: SOC at the last step ≥ initial SOC."""
    u = d.sc.storage[0]
    if u.end_condition != "at_least_initial":
        return
    soc = n.model["StorageUnit-state_of_charge"]
    last = n.snapshots[-1]
    n.model.add_constraints(soc.loc[last] >= u.soc_initial * u.energy_kwh,
                            name="StorageUnit-end_at_least_initial")


def run_pypsa(d: Any) -> dict[str, Any]:
    """Build and solve the PyPSA LP; phases [s], objective, size."""
    t0 = time.perf_counter()
    n = pypsa_network(d)
    t1 = time.perf_counter()
    n.optimize.create_model(include_objective_constant=False)
    _end_condition(n, d)
    t2 = time.perf_counter()
    opts = d.sc.solver
    status, condition = n.optimize.solve_model(
        solver_name="highs", io_api="direct",
        solver_options={"threads": int(opts.threads), "time_limit": float(opts.time_limit_s),
                        "presolve": "on", "output_flag": False, "random_seed": int(opts.seed)})
    t3 = time.perf_counter()
    h = n.model.solver_model
    run_s = float(h.getRunTime())
    return {
        "status": "optimal" if condition == "optimal" else f"{status}/{condition}",
        "objective": float(n.objective), "network_s": t1 - t0, "build_s": t2 - t1,
        "solve_model_s": t3 - t2, "solve_s": run_s, "handoff_extract_s": t3 - t2 - run_s,
        "total_s": t3 - t0, "rows": int(h.getNumRow()), "cols": int(h.getNumCol()),
        "nnz": int(h.getNumNz()),
    }


def run_zeropark(d: Any) -> dict[str, Any]:
    """Build and solve the zeropark LP (matrix engine, ``relax=True``); phases [s], objective."""
    import zeropark as zp

    t0 = time.perf_counter()
    res = zp.solve_data(d, engine="matrix", relax=True)
    t1 = time.perf_counter()
    tm = res.timings
    return {
        "status": str(res.status), "objective": float(res.objective),
        "build_s": tm.get("build_s", 0.0), "handoff_s": tm.get("handoff_s", 0.0),
        "solve_s": tm.get("solve_s", 0.0), "extract_s": tm.get("extract_s", 0.0),
        "total_s": t1 - t0, "rows": res.size.get("rows"), "cols": res.size.get("cols"),
        "nnz": res.size.get("nnz"),
    }


def _warm_imports(side: str) -> None:
    """Import what the first solve would otherwise import lazily, so phases time work only."""
    import xarray as xr

    xr.DataArray(np.zeros(2), dims="time")  # xarray imports its duck-array modules on first use
    import zeropark.profiles.solar  # noqa: F401  (pvlib: imported by the PV profile)

    if side == "pypsa":
        import linopy  # noqa: F401
        import pypsa

        pypsa.options.api.legacy_string_dtype = False
        for name in ("pypsa", "linopy"):
            logging.getLogger(name).setLevel(logging.ERROR)


def run_side(side: str, steps: int, scenario_path: Path = DEMO, threads: int = 1,
             time_limit_s: float = 300.0) -> dict[str, Any]:
    """One side of the comparison in this process (call it in a fresh one)."""
    t0 = time.perf_counter()
    import zeropark  # noqa: F401

    _warm_imports(side)
    import_s = time.perf_counter() - t0
    d, prep = reduced_data(scenario_path, steps, threads, time_limit_s)
    cpu0 = time.process_time()
    out = run_pypsa(d) if side == "pypsa" else run_zeropark(d)
    out["total_cpu_s"] = time.process_time() - cpu0
    return {"kind": "peer", "side": side, "steps": int(d.T), "threads": threads,
            "import_s": import_s, **prep, **out,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "load_1min": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    """Command line: run one side and print its JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", choices=("zeropark", "pypsa"), required=True)
    ap.add_argument("--steps", type=int, default=8760)
    ap.add_argument("--scenario", type=Path, default=DEMO)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=300.0, dest="time_limit_s")
    args = ap.parse_args(argv)
    out = run_side(args.side, args.steps, args.scenario, args.threads, args.time_limit_s)
    sys.stdout.write(MARKER + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
