"""Start-up stays light: heavy libraries are imported only by the code paths that use them.

Each check runs in a fresh interpreter (``sys.modules`` of the test process is already full) and
reads which modules are loaded; there are no timing assertions. What is checked:

- ``import zeropark`` and the CLI module (all ``zeropark --version`` needs) load none of numpy,
  pandas, Pyomo, matplotlib, dask, scipy.stats, tsam or openpyxl;
- a matrix-engine solve through the public API, its dataset and KPIs included, loads no Pyomo,
  matplotlib, scipy.stats or ``dask.array`` (xarray would import ``dask.array``, when installed,
  to recognise dask arrays in its general array conversion; zeropark's dataset avoids that path;
  only ``import dask`` itself may happen, as xarray checks whether dask is installed);
- the Pyomo form still loads Pyomo when used, so the lazy binding is not a dead stub.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo-park.yaml"
HEAVY = ("pyomo", "matplotlib", "dask", "scipy.stats", "scipy.signal", "tsam", "openpyxl")


def _loaded_after(code: str, names: tuple[str, ...]) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of ``names`` are in ``sys.modules`` after it."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{n: n in sys.modules for n in {names!r}}}))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), *sys.path])}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_zeropark_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import zeropark", (*HEAVY, "numpy", "pandas", "xarray", "holidays"))
    assert not any(loaded.values()), {n for n, v in loaded.items() if v}


def test_cli_module_loads_only_click() -> None:
    """``zeropark --version`` imports zeropark.cli and nothing of the numeric stack."""
    loaded = _loaded_after("import zeropark.cli", (*HEAVY, "numpy", "pandas", "xarray", "highspy",
                                                   "zeropark.operations.commands",
                                                   "zeropark.planning.commands"))
    assert not any(loaded.values()), {n for n, v in loaded.items() if v}


def test_public_names_resolve_on_first_use() -> None:
    loaded = _loaded_after("import zeropark as zp\nassert callable(zp.run) and zp.Status.OPTIMAL",
                           ("zeropark.api", "zeropark.solve", "pyomo"))
    assert loaded == {"zeropark.api": True, "zeropark.solve": True, "pyomo": False}


def test_matrix_engine_solve_loads_no_pyomo_matplotlib_or_scipy_stats() -> None:
    code = (
        "import sys\nimport zeropark as zp\n"
        f"d = zp.prepare(zp.load_scenario({str(DEMO)!r}), steps=24)\n"
        "from zeropark.model.builder import build_matrix\nbuild_matrix(d)\n"
        "before_dataset = 'dask' in sys.modules\n"
        "r = zp.solve_data(d, relax=True)\nassert r.ok, r.explanation\n"
        "assert r.kpis['ev_energy_kwh'] > 0 and r.dataset.ev_unmet_kwh.size\n"
        "assert not before_dataset, 'dask imported before any xarray dataset was made'\n"
    )
    loaded = _loaded_after(code, (*HEAVY, "dask.array", "distributed"))
    loaded.pop("dask")  # checked above, up to the dataset (see module docstring)
    assert not any(loaded.values()), {n for n, v in loaded.items() if v}


def test_pyomo_form_imports_pyomo_when_used() -> None:
    code = (
        "import zeropark as zp\n"
        f"m = zp.build_pyomo({str(DEMO)!r}, steps=2)\n"
        "import pyomo.environ as pyo\nassert isinstance(m, pyo.ConcreteModel)\n"
        "assert m.grid.import_kw[0].lb == 0\n"
    )
    assert _loaded_after(code, ("pyomo.environ",)) == {"pyomo.environ": True}


def test_cli_lists_and_loads_every_lazy_command() -> None:
    """Every name in LAZY_COMMANDS resolves to a command of that name, and --help lists it."""
    from click.testing import CliRunner

    from zeropark.cli import LAZY_COMMANDS, main

    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0, res.output
    listed = {line.split()[0] for line in res.output.split("Commands:")[1].splitlines() if line.strip()}
    assert set(LAZY_COMMANDS) <= listed
    for name in LAZY_COMMANDS:
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0 and f"{name} [OPTIONS]" in sub.output, (name, sub.output)


def test_benchmark_startup_rows_and_table() -> None:
    """``benchmarks/run.py`` measures start-up in fresh processes (one run each here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("zeropark_bench_run", REPO / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    rows = run.startup_rows(1)
    assert [r["what"] for r in rows] == list(run.STARTUP_COMMANDS)
    assert all(r["runs"] == 1 and 0 < r["min_s"] == r["median_s"] for r in rows)
    text = "\n".join(run.startup_markdown(rows))
    assert "| zeropark --version | 1 |" in text and "`zeropark --version` ≤ 0.3 s" in text


def _imports_of(module: str) -> set[str]:
    """Every ``zeropark`` module a module imports, at top level or inside functions (AST)."""
    import ast

    path = REPO / "src" / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zeropark"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("zeropark"))
    return found


def test_no_cycle_between_the_solver_and_the_checks_nor_report_and_cli() -> None:
    """solve.py and the checks share solver_quality instead of importing each other; the report
    package never imports the CLI, and the CLI imports neither report/ nor docgen/ (their commands
    load by name, LAZY_COMMANDS), so the CLI-reference generator reading the CLI closes no cycle."""
    assert not {m for m in _imports_of("zeropark.solve") if m.startswith("zeropark.reliability")}
    assert "zeropark.solve" not in _imports_of("zeropark.solver_quality")
    assert "zeropark.solve" not in _imports_of("zeropark.reliability.numerics")
    for module in ("zeropark.report.commands", "zeropark.report.html", "zeropark.report.sections"):
        assert "zeropark.cli" not in _imports_of(module), module
    assert not {m for m in _imports_of("zeropark.cli") if m.startswith(("zeropark.report",
                                                                         "zeropark.docgen"))}


def _entry(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120, check=False)


def test_quick_exit_still_runs_atexit_handlers_and_keeps_the_exit_code(tmp_path: Path) -> None:
    # the command ends without the interpreter's teardown, but not without its atexit handlers
    ok = _entry("import atexit\n"
                "atexit.register(lambda: print('handler ran', flush=True))\n"
                "from zeropark.entry import main\n"
                "main(['--version'])\n", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == "handler ran" and "version" in ok.stdout
    bad = _entry("from zeropark.entry import main\nmain(['run', 'missing.yaml'])\n", tmp_path)
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr


def test_exit_waits_for_a_thread_that_is_still_working(tmp_path: Path) -> None:
    # a non-daemon thread still running when the command returns is joined, as Python would
    done = tmp_path / "done.txt"
    proc = _entry("import threading, time\n"
                  "def work():\n"
                  "    time.sleep(0.5)\n"
                  f"    open({str(done)!r}, 'w').write('finished')\n"
                  "threading.Thread(target=work).start()\n"
                  "from zeropark.entry import main\n"
                  "main(['--version'])\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "finished"


def test_collector_paused_while_a_command_starts_and_back_once_it_solves(tmp_path: Path) -> None:
    # atexit handlers run after the command: the collector is on again, with the command's
    # start-up objects frozen out of its scans
    probe = ("import atexit, gc\n"
             "atexit.register(lambda: print('gc', gc.isenabled(), gc.get_freeze_count() > 10000,"
             " flush=True))\n"
             "from zeropark.entry import main\n")
    run = _entry(probe + f"main(['-q', 'run', {str(DEMO)!r}, '--horizon', '24h', '--no-plot',"
                         f" '-o', 'out'])\n", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "gc True True"


def _assert_python_ok(code: str) -> None:
    """``code`` runs in a fresh interpreter (with zeropark on the path) without an error."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")}, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def test_gcpause_leaves_library_use_alone() -> None:
    code = ("import gc\n"
            "from zeropark import gcpause\n"
            "gcpause.resume(); gcpause.settle()\n"
            "assert gc.isenabled() and gc.get_freeze_count() == 0\n"
            "gcpause.pause(limit_s=0.2)\n"
            "assert not gc.isenabled()\n"
            "import time\n"
            "deadline = time.monotonic() + 30\n"
            "while not gc.isenabled() and time.monotonic() < deadline:\n"
            "    time.sleep(0.05)\n"
            "assert gc.isenabled() and gc.get_freeze_count() > 0, 'the time limit resumes it'\n"
            "gc.disable(); gcpause.pause(); gcpause.resume()\n"
            "assert not gc.isenabled(), 'a collector the user turned off stays off'\n")
    _assert_python_ok(code)


def test_a_process_forked_during_the_pause_collects_again() -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    code = ("import gc, os\n"
            "from zeropark import gcpause\n"
            "gcpause.pause(limit_s=60)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os._exit(0 if gc.isenabled() else 7)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "assert os.waitstatus_to_exitcode(status) == 0, 'child without a collector'\n"
            "assert not gc.isenabled(), 'the parent stays paused'\n")
    _assert_python_ok(code)
