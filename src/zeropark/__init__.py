"""zeropark: source-grid-load-storage dispatch and planning for zero-carbon industrial parks.

Public API::

    import zeropark as zp
    sc = zp.load_scenario("scenarios/demo-park.yaml")
    variant = sc.replace({"storage.0.energy_kwh": 20000})
    result = zp.run(variant)            # Result: status, objective, gap, dataset, kpis, timings
    m = zp.build_pyomo(sc, steps=168)   # Pyomo model to extend, then zp.solve_model(m, sc)

The names are imported on first use (PEP 562), so ``import zeropark`` itself is instant: the
command line can answer Ctrl-C during its imports with one line and exit code 130.
"""

from __future__ import annotations

import importlib

from zeropark.errors import ScenarioError, SolveError, ZeroparkError

# ``typing.TYPE_CHECKING`` without importing typing (with re and enum, 8 ms): the ``zeropark``
# command installs its Ctrl-C handler only once this package is imported (zeropark.entry)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from zeropark.api import build_pyomo, prepare, run, solve_data, solve_model
    from zeropark.profiles.base import Profiles
    from zeropark.results import Result
    from zeropark.scenario import Scenario, load_scenario, scenario_from_dict
    from zeropark.solve import Status

__version__ = "0.1.0"

# Public names and the module that defines each. They are imported on first use (PEP 562), so
# ``import zeropark`` and ``zeropark --version`` stay fast and never load numpy, pandas, Pyomo or
# matplotlib before they are needed.
_LAZY = {
    "build_pyomo": "zeropark.api", "prepare": "zeropark.api", "run": "zeropark.api",
    "solve_data": "zeropark.api", "solve_model": "zeropark.api",
    "Profiles": "zeropark.profiles.base", "Result": "zeropark.results",
    "Scenario": "zeropark.scenario", "load_scenario": "zeropark.scenario",
    "scenario_from_dict": "zeropark.scenario", "Status": "zeropark.solve",
}

__all__ = [
    "Profiles", "Result", "Scenario", "ScenarioError", "SolveError", "Status", "ZeroparkError",
    "build_pyomo", "load_scenario", "prepare", "run", "scenario_from_dict", "solve_data",
    "solve_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zeropark' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
