"""Benchmark the two model builders (matrix, Pyomo) on the demo park, LP and MILP, over horizon size.

Every case runs in a fresh Python process (``python benchmarks/run.py --case ...``) with HiGHS on
``--threads`` threads (default 1) and prints one JSON line prefixed ``BENCH_JSON``. Phases [s]:

- ``import_s``: importing zeropark (pvlib included) and warming xarray's lazy imports (excluded
  from the phases);
- ``profiles_s``: ``zeropark.prepare`` — pvlib PV, load, tariff, EV envelopes for the whole year,
  then the window of ``steps`` steps;
- ``build_s``: ``build_matrix`` or ``build_pyomo`` (from ``Result.timings``);
- ``handoff_s``: getting the model into HiGHS. Matrix: COO → CSC, ``HighsLp`` and ``passModel``
  (timed by ``solve_matrix``). Pyomo: the Pyomo HiGHS interface's ``set_instance``, which walks
  the Pyomo expressions and adds columns and rows to highspy; measured by wrapping that method in
  the benchmark process only (``solve_pyomo`` reports it as part of its solve time, so it is
  subtracted from there);
- ``solve_s``: HiGHS (for the MILP: the matrix engine's relaxation, rounded warm start and branch
  and bound; the Pyomo engine's plain MILP);
- ``extract_s``: solution values, xarray dataset and KPIs (``zeropark.api.finish``).

``solve_data`` may solve up to four times when its exclusivity safeguard adds binaries; the phase
times are then sums. ``model_s`` is the wall time of build → Result, ``e2e_s`` adds loading the
scenario and the profiles. Peak RSS is ``ru_maxrss`` of the case's process (interpreter, libraries
and model).

The peer comparison against PyPSA (``benchmarks/pypsa_peer.py``, needs the ``bench`` extra) runs
the same reduced LP in both tools, again one fresh process per side.

Start-up rows (``--startup-runs``, default 5): wall time of ``python -m zeropark --version``,
``python -c "import zeropark"`` and a bare interpreter, each in fresh processes, min and median.

Usage::

    python benchmarks/run.py                                  # the full table (≈ 15–30 min)
    python benchmarks/run.py --sizes 24 --engines matrix,pyomo --out /tmp/bench.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEMO = REPO / "scenarios" / "demo-park.yaml"
MARKER = "BENCH_JSON "
DEFAULT_SIZES = (24, 168, 720, 2190, 4380, 8760)
ENGINES = ("matrix", "pyomo")
MODES = ("lp", "milp")
PHASES = ("build_s", "handoff_s", "solve_s", "extract_s")
OBJECTIVE_RTOL = 1e-6  # LP objectives of two builders / two tools must agree to this
TARGET_STEPS = 8760
TARGET_BUILD_HANDOFF_S = 0.5
TARGET_SPEEDUP = 10.0
TARGET_MILP_S = 60.0
TARGET_MILP_GAP = 1e-3
TARGET_RSS_MB = 1024.0


# -- one case, in this process -------------------------------------------------------------------
@contextmanager
def pyomo_handoff_probe() -> Iterator[dict[str, float]]:
    """Time Pyomo's hand-off to HiGHS (``Highs.set_instance``) and read the size it produced.

    The method is wrapped for the duration of the ``with`` block only and restored after; the
    wrapper calls the original unchanged.
    """
    import highspy
    from pyomo.contrib.solver.solvers.highs import Highs

    rec: dict[str, float] = {"handoff_s": 0.0, "calls": 0}
    original = Highs.set_instance

    def timed(self: Any, model: Any) -> Any:
        t0 = time.perf_counter()
        out = original(self, model)
        rec["handoff_s"] += time.perf_counter() - t0
        rec["calls"] += 1
        h = self._solver_model
        lp = h.getLp()
        rec.update(rows=h.getNumRow(), cols=h.getNumCol(), nnz=h.getNumNz(),
                   integers=sum(1 for v in lp.integrality_
                                if v == highspy.HighsVarType.kInteger))
        return out

    Highs.set_instance = timed
    try:
        yield rec
    finally:
        Highs.set_instance = original


def _rss_mb() -> float:
    """Peak resident set size of this process so far [MB] (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(steps: int, engine: str, mode: str, *, scenario_path: Path = DEMO,
             time_limit_s: float = 300.0, threads: int = 1,
             step: str | None = None) -> dict[str, Any]:
    """Run one benchmark case in this process and return its measurements.

    Parameters
    ----------
    steps : int
        Horizon length from the scenario's start [steps].
    engine : {"matrix", "pyomo"}
    mode : {"lp", "milp"}
        ``lp`` solves the LP relaxation (``relax=True``).
    scenario_path : Path
        Scenario YAML (default: the demo park).
    time_limit_s : float [s]
        HiGHS time limit per solve.
    threads : int
        HiGHS threads.
    step : str, optional
        Step length replacing the scenario's ``time.step`` (``15min``: 35,040 steps a year).
    """
    t0 = time.perf_counter()
    import numpy as np
    import xarray as xr

    import zeropark as zp
    import zeropark.diagnose  # noqa: F401  (imported lazily by finish on failure)
    from zeropark.profiles import build, solar  # noqa: F401  (pvlib: imported by the PV profile)

    if engine == "pyomo":
        import pyomo.contrib.solver.solvers.highs  # noqa: F401
    xr.DataArray(np.zeros(2), dims="time")  # xarray imports its duck-array modules on first use
    import_s = time.perf_counter() - t0
    rss_import = _rss_mb()

    t1 = time.perf_counter()
    changes: dict[str, Any] = {"solver.threads": threads, "solver.time_limit_s": time_limit_s,
                               "solver.engine": engine}
    if step is not None:
        changes["time.step"] = step
    sc = zp.load_scenario(scenario_path).replace(changes)
    load_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    d = zp.prepare(sc, steps=steps)
    t3, cpu3 = time.perf_counter(), time.process_time()
    probe: dict[str, float] = {}
    if engine == "pyomo":
        with pyomo_handoff_probe() as probe:
            res = zp.solve_data(d, engine=engine, relax=mode == "lp")
    else:
        res = zp.solve_data(d, engine=engine, relax=mode == "lp")
    t4, cpu4 = time.perf_counter(), time.process_time()

    tm = {k: float(res.timings.get(k, 0.0)) for k in PHASES}
    size = {k: res.size.get(k) for k in ("rows", "cols", "nnz", "integers")}
    if engine == "pyomo":
        # the warm start (the matrix engine's rounded relaxation) is part of the solve
        tm["solve_s"] += float(res.timings.get("warm_start_s", 0.0)) - probe.get("handoff_s", 0.0)
        tm["handoff_s"] = probe.get("handoff_s", 0.0)
        size = {k: int(probe[k]) if k in probe else None for k in size}
    return {
        "kind": "case", "scenario": sc.name, "steps": int(d.T), "step": sc.time.step,
        "engine": engine, "mode": mode,
        "threads": threads, "time_limit_s": time_limit_s, "status": str(res.status),
        "objective": _num(res.objective), "bound": _num(res.bound), "gap": _num(res.gap),
        "import_s": import_s, "load_s": load_s, "profiles_s": t3 - t2, **tm,
        "model_s": t4 - t3, "model_cpu_s": cpu4 - cpu3, "e2e_s": t4 - t1,
        "rss_after_import_mb": rss_import, "peak_rss_mb": _rss_mb(), **size,
        "solves": int(probe["calls"]) if "calls" in probe else None,
        "load_1min": os.getloadavg()[0],  # other work on the machine while this case ran
    }


def _num(x: float | None) -> float | None:
    """JSON-safe float (NaN → None)."""
    return None if x is None or x != x else float(x)


# -- orchestration: fresh processes --------------------------------------------------------------
def run_subprocess(argv: list[str], timeout_s: float) -> dict[str, Any]:
    """Run ``python argv...`` from the repository root and parse its ``BENCH_JSON`` line."""
    try:
        proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              timeout=timeout_s, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "killed", "error": f"no result within {timeout_s:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    err = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return {"status": "crashed", "error": err[-1] if err else f"exit code {proc.returncode}"}


def case_argv(steps: int, engine: str, mode: str, scenario: Path, time_limit_s: float,
              threads: int, step: str | None = None) -> list[str]:
    """Command line of one case."""
    return [str(HERE / "run.py"), "--case", "--sizes", str(steps), "--engines", engine,
            "--modes", mode, "--scenario", str(scenario), "--time-limit", str(time_limit_s),
            "--threads", str(threads), *(["--step", step] if step else [])]


def machine_info() -> dict[str, Any]:
    """CPU, memory, OS and library versions of this machine."""
    cpu = platform.processor() or "?"
    mem_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    versions = {}
    for pkg in ("numpy", "scipy", "pandas", "xarray", "highspy", "pyomo", "pypsa", "linopy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "os": platform.platform(), "python": platform.python_version(),
            "versions": versions}


# -- derived tables ------------------------------------------------------------------------------
def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _rel(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(abs(b), 1e-9)


def _ok(c: dict[str, Any] | None) -> bool:
    return c is not None and "build_s" in c and c.get("objective") is not None


def find(cases: list[dict[str, Any]], steps: int, engine: str, mode: str) -> dict[str, Any] | None:
    """The case with these coordinates, if it was run."""
    for c in cases:
        if (c.get("steps"), c.get("engine"), c.get("mode")) == (steps, engine, mode):
            return c
    return None


def ratios(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pyomo / matrix time per phase for every (size, mode) that has both engines."""
    out = []
    keys = sorted({(c["steps"], c["mode"]) for c in cases if "build_s" in c})
    for steps, mode in keys:
        m, p = find(cases, steps, "matrix", mode), find(cases, steps, "pyomo", mode)
        if m is None or p is None or "build_s" not in m or "build_s" not in p:
            continue  # a crashed case has no phases; one without a solution still has them
        row: dict[str, Any] = {"steps": steps, "mode": mode}
        for k in PHASES + ("model_s",):
            row[k] = _div(p[k], m[k])
        row["build_handoff"] = _div(p["build_s"] + p["handoff_s"], m["build_s"] + m["handoff_s"])
        row["objective_rel_diff"] = _rel(p.get("objective"), m.get("objective"))
        row["note"] = ", ".join(f"{c['engine']} {c['status']}" for c in (m, p)
                                if c.get("status") != "optimal")
        out.append(row)
    return out


def _with_imports(side: dict[str, Any]) -> float:
    """A peer side's time including its imports, scenario and profiles [s]."""
    return float(sum(side.get(k, 0.0) for k in ("import_s", "load_s", "profiles_s", "total_s")))


def peer_table(peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objective agreement and time ratio PyPSA / zeropark per size."""
    out = []
    for steps in sorted({p["steps"] for p in peers if "steps" in p}):
        z = next((p for p in peers if p.get("steps") == steps and p.get("side") == "zeropark"), None)
        y = next((p for p in peers if p.get("steps") == steps and p.get("side") == "pypsa"), None)
        if not (z and y and "total_s" in z and "total_s" in y):
            continue
        rel = _rel(y["objective"], z["objective"])
        out.append({"steps": steps, "zeropark_objective": z["objective"],
                    "pypsa_objective": y["objective"], "objective_rel_diff": rel,
                    "agree": rel is not None and rel <= OBJECTIVE_RTOL,
                    "zeropark_s": z["total_s"], "pypsa_s": y["total_s"],
                    # the whole process's work: imports, scenario, profiles, then the above
                    "zeropark_with_imports_s": _with_imports(z),
                    "pypsa_with_imports_s": _with_imports(y),
                    "zeropark_cpu_s": z.get("total_cpu_s"), "pypsa_cpu_s": y.get("total_cpu_s"),
                    "pypsa_over_zeropark": _div(y["total_s"], z["total_s"]),
                    "zeropark_solve_s": z["solve_s"], "pypsa_solve_s": y["solve_s"],
                    "zeropark_rss_mb": z["peak_rss_mb"], "pypsa_rss_mb": y["peak_rss_mb"],
                    "zeropark_size": [z["rows"], z["cols"], z["nnz"]],
                    "pypsa_size": [y["rows"], y["cols"], y["nnz"]]})
    return out


def targets(cases: list[dict[str, Any]], peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The project's performance targets (benchmarks/README.md) at the largest size run (8760 in
    the full table)."""
    sizes = [c["steps"] for c in cases if "steps" in c]
    if not sizes:
        return []
    n = max(sizes)
    at = "" if n == TARGET_STEPS else f" (at {n} steps; the target is for {TARGET_STEPS})"
    rows: list[dict[str, Any]] = []

    def add(name: str, measured: float | None, limit: str, met: bool | None, note: str) -> None:
        rows.append({"target": name + at, "measured": measured, "limit": limit, "met": met,
                     "note": note})

    mats = [c for c in (find(cases, n, "matrix", m) for m in MODES) if _ok(c)]
    if mats:
        bh = max(c["build_s"] + c["handoff_s"] for c in mats)
        add("matrix build + hand-off [s]", bh, f"≤ {TARGET_BUILD_HANDOFF_S}",
            bh <= TARGET_BUILD_HANDOFF_S, "worst of LP and MILP")
    speed = [r["build_handoff"] for r in ratios(cases) if r["steps"] == n and r["build_handoff"]]
    if speed:
        add("Pyomo / matrix build + hand-off [×]", min(speed), f"≥ {TARGET_SPEEDUP:g}",
            min(speed) >= TARGET_SPEEDUP, "worst of LP and MILP")
    peer = [r for r in peer_table(peers) if r["steps"] == n]
    if peer:
        r = peer[0]
        add("PyPSA / zeropark LP end-to-end [×]", r["pypsa_over_zeropark"], "≥ 1",
            (r["pypsa_over_zeropark"] or 0) >= 1.0 and r["agree"],
            f"objectives differ by {r['objective_rel_diff']:.1e} (relative)")
    milp = find(cases, n, "matrix", "milp")
    if _ok(milp):
        gap = milp["gap"] or 0.0
        met = milp["status"] == "optimal" and gap <= TARGET_MILP_GAP and milp["e2e_s"] <= TARGET_MILP_S
        add("matrix MILP to 0.1 % end-to-end [s]", milp["e2e_s"], f"≤ {TARGET_MILP_S:g}", met,
            f"status {milp['status']}, gap {gap:.2e}, {milp['threads']} thread(s)")
    if mats:
        rss = max(c["peak_rss_mb"] for c in mats)
        add("matrix peak RSS [MB]", rss, f"≤ {TARGET_RSS_MB:g}", rss <= TARGET_RSS_MB,
            "whole process: interpreter, libraries, model")
    return rows


# -- start-up: fresh interpreters, no model ---------------------------------------------------------
STARTUP_COMMANDS: dict[str, list[str]] = {
    "zeropark --version": ["-m", "zeropark", "--version"],
    "import zeropark": ["-c", "import zeropark"],
    "python (bare interpreter)": ["-c", "pass"],
}
TARGET_VERSION_S = 0.3


def startup_rows(runs: int) -> list[dict[str, Any]]:
    """Wall time of each start-up command over ``runs`` fresh processes: min and median [s]."""
    rows = []
    for what, argv in STARTUP_COMMANDS.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                                  cwd=REPO, check=False, timeout=120)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise RuntimeError(f"{what}: exit {proc.returncode}: {proc.stderr[-500:]}")
        rows.append({"what": what, "runs": runs, "min_s": min(times),
                     "median_s": statistics.median(times)})
    return rows


def startup_markdown(rows: list[dict[str, Any]]) -> list[str]:
    """The start-up table (and its target) as markdown lines."""
    if not rows:
        return []
    table = _table(["start-up", "runs", "min s", "median s"],
                   [[r["what"], str(r["runs"]), _t(r["min_s"]), _t(r["median_s"])] for r in rows])
    version = next(r for r in rows if r["what"] == "zeropark --version")
    met = "yes" if version["median_s"] <= TARGET_VERSION_S else "**no**"
    return ["", "Start-up (fresh processes):", "", table, "",
            f"`zeropark --version` ≤ {TARGET_VERSION_S:g} s (median): {met}"]


# -- markdown ------------------------------------------------------------------------------------
def _t(x: float | None) -> str:
    """A time or ratio for a table: 3 significant digits."""
    if x is None:
        return "–"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """The report as markdown tables (what ``benchmarks/README.md`` records)."""
    mi = report["machine"]
    v = ", ".join(f"{k} {val}" for k, val in mi["versions"].items() if val)
    s = report["settings"]
    parts = [f"Machine: {mi['cpu']}, {mi['cores']} cores, {mi['memory_gb']} GB, {mi['os']}, "
             f"Python {mi['python']}; {v}. Load average at the end "
             f"{mi.get('load_average_1min', '?')}. HiGHS threads {s['threads']}, time limit "
             f"{s['time_limit_s']:g} s per solve.", ""]
    rows = []
    for c in report["cases"]:
        if "build_s" not in c:  # crashed or killed: no measurements
            rows.append([str(c.get("steps")), c.get("engine", "?"), c.get("mode", "?"),
                         c.get("status", "?"), c.get("error", "")[:80]] + ["–"] * 15)
            continue
        gap = "–" if c["gap"] is None else f"{c['gap']:.1e}"
        obj = "–" if c["objective"] is None else f"{c['objective']:.8g}"
        rows.append([str(c["steps"]), c["engine"], c["mode"], c["status"], obj, gap,
                     *(_t(c.get(k)) for k in ("profiles_s", *PHASES, "model_s",
                                              "model_cpu_s", "e2e_s")),
                     f"{c['peak_rss_mb']:.0f}",
                     *(str(c.get(k, "–")) for k in ("rows", "cols", "nnz", "integers")),
                     _t(c.get("load_1min"))])
    parts.append(_table(["steps", "engine", "mode", "status", "objective", "gap", "profiles s",
                         "build s", "hand-off s", "solve s", "extract s", "build→result s",
                         "build→result CPU s", "end-to-end s", "peak RSS MB", "rows", "cols",
                         "nnz", "ints", "load"], rows))
    rat = report["ratios"]
    if rat:
        parts += ["", "Pyomo / matrix (time ratio per phase; objective relative difference):", ""]
        parts.append(_table(
            ["steps", "mode", "build", "hand-off", "build + hand-off", "solve", "extract",
             "build→result", "objective diff"],
            [[str(r["steps"]), r["mode"], _t(r["build_s"]), _t(r["handoff_s"]),
              _t(r["build_handoff"]), _t(r["solve_s"]), _t(r["extract_s"]), _t(r["model_s"]),
              ("–" if r["objective_rel_diff"] is None else f"{r['objective_rel_diff']:.1e}")
              + (f" ({r['note']})" if r.get("note") else "")]
             for r in rat]))
    peer = report["peer"]
    if peer:
        parts += ["", "Peer: the same PV + battery + grid LP in zeropark (matrix) and PyPSA "
                  "(from the same arrays; time = arrays → solved model, imports excluded; *with imports* "
                  "adds each process's imports, scenario and profiles):", ""]
        parts.append(_table(
            ["steps", "zeropark objective", "PyPSA objective", "rel. diff", "agree",
             "zeropark s", "PyPSA s", "PyPSA / zeropark", "CPU s (zp / PyPSA)",
             "HiGHS s (zp / PyPSA)", "with imports s (zp / PyPSA)",
             "peak RSS MB (zp / PyPSA)", "rows×cols, nnz (zp / PyPSA)"],
            [[str(r["steps"]), f"{r['zeropark_objective']:.8g}", f"{r['pypsa_objective']:.8g}",
              f"{r['objective_rel_diff']:.1e}", "yes" if r["agree"] else "**NO**",
              _t(r["zeropark_s"]), _t(r["pypsa_s"]), _t(r["pypsa_over_zeropark"]),
              f"{_t(r['zeropark_cpu_s'])} / {_t(r['pypsa_cpu_s'])}",
              f"{_t(r['zeropark_solve_s'])} / {_t(r['pypsa_solve_s'])}",
              f"{_t(r['zeropark_with_imports_s'])} / {_t(r['pypsa_with_imports_s'])}",
              f"{r['zeropark_rss_mb']:.0f} / {r['pypsa_rss_mb']:.0f}",
              "{}×{}, {} / {}×{}, {}".format(*r["zeropark_size"], *r["pypsa_size"])]
             for r in peer]))
    elif report["settings"].get("peer_note"):
        parts += ["", f"Peer: {report['settings']['peer_note']}"]
    tg = report["targets"]
    if tg:
        parts += ["", "Targets:", ""]
        parts.append(_table(["target", "measured", "limit", "met", "note"],
                            [[r["target"], _t(r["measured"]), r["limit"],
                              {True: "yes", False: "**no**", None: "–"}[r["met"]], r["note"]]
                             for r in tg]))
    parts += startup_markdown(report.get("startup", []))
    return "\n".join(parts) + "\n"


# -- command line --------------------------------------------------------------------------------
def _csv(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"got {bad}; allowed: {', '.join(allowed)}")
    return items


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in _csv(s)],
                    default=list(DEFAULT_SIZES), help="steps, comma-separated")
    ap.add_argument("--engines", type=lambda s: _csv(s, ENGINES), default=list(ENGINES))
    ap.add_argument("--modes", type=lambda s: _csv(s, MODES), default=list(MODES))
    ap.add_argument("--time-limit", type=float, default=300.0, dest="time_limit_s",
                    help="HiGHS time limit per solve [s]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--scenario", type=Path, default=DEMO)
    ap.add_argument("--step", choices=("1h", "30min", "15min"), default=None,
                    help="replace the scenario's time.step (15min: a year is 35,040 steps)")
    ap.add_argument("--peer", choices=("auto", "on", "off"), default="auto",
                    help="PyPSA comparison (auto: when pypsa is installed)")
    ap.add_argument("--peer-sizes", type=lambda s: [int(x) for x in _csv(s)], default=None,
                    help="sizes of the PyPSA comparison (default: --sizes)")
    ap.add_argument("--out", type=Path, default=None, help="write the full report as JSON")
    ap.add_argument("--jobs", type=int, default=1,
                    help="cases run at once (1 for timings; more only for smoke runs)")
    ap.add_argument("--startup-runs", type=int, default=5,
                    help="fresh processes per start-up row (0: no start-up rows)")
    ap.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if any(n < 1 for n in args.sizes + (args.peer_sizes or [])):
        ap.error(f"--sizes: got {args.sizes}; positive step counts")
    if args.jobs < 1 or args.threads < 1 or args.time_limit_s <= 0:
        ap.error("--jobs and --threads must be ≥ 1, --time-limit > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark table (or, with ``--case``, one case) and print it."""
    args = parse_args(argv)
    if args.case:
        out = run_case(args.sizes[0], args.engines[0], args.modes[0],
                       scenario_path=args.scenario, time_limit_s=args.time_limit_s,
                       threads=args.threads, step=args.step)
        sys.stdout.write(MARKER + json.dumps(out) + "\n")
        return 0
    has_pypsa = importlib.util.find_spec("pypsa") is not None
    if args.peer == "on" and not has_pypsa:
        print("--peer on: pypsa is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 2
    # generous: the exclusivity safeguard may solve up to four times, each up to the time limit
    timeout_s = 4 * args.time_limit_s + 600
    jobs: list[tuple[dict[str, Any], list[str]]] = [
        ({"steps": n, "engine": e, "mode": m},
         case_argv(n, e, m, args.scenario, args.time_limit_s, args.threads, args.step))
        for n in args.sizes for m in args.modes for e in args.engines]
    note = ""
    if args.peer != "off" and has_pypsa:
        jobs += [({"steps": n, "side": side},
                  [str(HERE / "pypsa_peer.py"), "--side", side, "--steps", str(n),
                   "--scenario", str(args.scenario), "--threads", str(args.threads),
                   "--time-limit", str(args.time_limit_s)])
                 for n in (args.peer_sizes or args.sizes) for side in ("zeropark", "pypsa")]
    elif args.peer != "off":
        note = "skipped, pypsa is not installed (pip install -e '.[bench]')"

    def one(job: tuple[dict[str, Any], list[str]]) -> dict[str, Any]:
        key, argv_ = job
        print("running " + " ".join(str(v) for v in key.values()), file=sys.stderr, flush=True)
        return {**key, **run_subprocess(argv_, timeout_s)}

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        done = list(pool.map(one, jobs))
    cases = [r for r in done if "engine" in r]
    peers = [r for r in done if "side" in r]
    report = {"machine": machine_info(),
              "settings": {"sizes": args.sizes, "engines": args.engines, "modes": args.modes,
                           "time_limit_s": args.time_limit_s, "threads": args.threads,
                           "scenario": str(args.scenario), "step": args.step,
                           "peer_note": note,
                           "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
              "cases": cases, "peers": peers, "ratios": ratios(cases),
              "peer": peer_table(peers), "targets": targets(cases, peers)}
    report["startup"] = startup_rows(args.startup_runs) if args.startup_runs > 0 else []
    sys.stdout.write(markdown(report))
    if args.out is not None:
        from zeropark.io import atomic_write_text

        atomic_write_text(args.out, json.dumps(report, indent=2))
    failed = [c for c in cases + peers if c.get("status") in ("crashed", "killed")]
    disagree = [r for r in report["peer"] if not r["agree"]]
    return 1 if failed or disagree else 0


if __name__ == "__main__":
    sys.exit(main())
