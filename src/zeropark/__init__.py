"""zeropark: source-grid-load-storage dispatch and planning for zero-carbon industrial parks.

Public API::

    import zeropark as zp
    sc = zp.load_scenario("scenarios/demo-park.yaml")
    variant = sc.replace({"storage.0.energy_kwh": 20000})
    result = zp.run(variant)            # Result: status, objective, gap, dataset, kpis, timings
    m = zp.build_pyomo(sc, steps=168)   # Pyomo model to extend, then zp.solve_model(m, sc)
"""

from zeropark.api import build_pyomo, prepare, run, solve_data, solve_model
from zeropark.errors import ScenarioError, SolveError, ZeroparkError
from zeropark.profiles.base import Profiles
from zeropark.results import Result
from zeropark.scenario import Scenario, load_scenario, scenario_from_dict
from zeropark.solve import Status

__version__ = "0.1.0"
__all__ = [
    "Profiles", "Result", "Scenario", "ScenarioError", "SolveError", "Status", "ZeroparkError",
    "build_pyomo", "load_scenario", "prepare", "run", "scenario_from_dict", "solve_data",
    "solve_model",
]
