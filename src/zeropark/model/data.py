"""Numbers both builders use, derived once from a scenario and its profiles.

Keeping the data preparation in one place means the Pyomo form and the matrix form of each
component can only differ in structure, never in the numbers they put into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zeropark.profiles.base import Profiles
from zeropark.scenario import Scenario

KGCE_PER_KWH_EQUAL_VALUE = 0.1229  # GB/T 2589-2020 equal-value (当量值) electricity factor
KGCE_PER_M3_GAS = 1.2143  # GB/T 2589-2020
KGCO2_PER_M3_GAS = 2.162  # GB/T 32150 default, 2.162 tCO2 per 1000 m3
KGCE_PER_T_COAL = 714.3  # raw coal, GB/T 2589-2020 (0.7143 kgce/kg)
KGCO2_PER_T_COAL = 2070.0  # bituminous coal ≈ 2.07 tCO2/t (China default)
KGCE_PER_GJ_HEAT = 34.12  # GB/T 2589-2020 heat, 0.03412 kgce/MJ
KGCO2_PER_GJ_HEAT = 110.0  # purchased heat default 0.11 tCO2/GJ (GB/T 32150 guidance)
HOURS_PER_YEAR = 8760.0
PRICE_TOL = 1e-9


@dataclass(frozen=True)
class Ledger:
    """Totals already realised before the horizon (rolling horizon, nightly operations).

    Ratio targets (green share, CO2 per tce) then hold for ledger + horizon together, so a
    shortfall earlier in the year is made up later and a surplus is not wasted.
    """

    consumption_kwh: float = 0.0
    green_kwh: float = 0.0
    co2_kg: float = 0.0
    kgce: float = 0.0


@dataclass(frozen=True)
class ModelData:
    """All arrays of one model instance (T steps, M billing months)."""

    sc: Scenario
    prof: Profiles
    T: int
    dt_h: float
    horizon_fraction: float
    fuel_co2_kg: float
    fuel_kgce: float
    grid_binary_steps: np.ndarray  # int indices where simultaneous import/export could pay
    export_blocked_steps: np.ndarray  # int indices where export is impossible without import
    storage_binary_steps: np.ndarray  # int indices where simultaneous charge/discharge could pay
    day_index: np.ndarray  # day of each step (0..D-1) for daily limits
    n_days: int
    ledger: Ledger = Ledger()
    # end-of-horizon SOC target [kWh] per storage unit for its end condition, in place of
    # soc_initial · energy_kwh (a rolling horizon's last window ends at the ORIGINAL initial SOC)
    storage_end_kwh: np.ndarray | None = None
    # power of each flexible load just before the first step [kW], in sc.flexible_loads order
    # (nightly operations: the last executed power); None or NaN = unknown, the first step is then
    # free of the ramp limit
    flex_initial_kw: np.ndarray | None = None
    # Each storage unit's net power (discharge − charge) before the first step [kW] (nightly
    # operations: the last executed setpoint); None or NaN = unknown, the first step is then free
    # of the ramp limit
    storage_initial_kw: np.ndarray | None = None

    @property
    def storage_names(self) -> list[str]:
        return [s.name for s in self.sc.storage]

    @property
    def pv_names(self) -> list[str]:
        return [a.name for a in self.sc.pv]

    @property
    def ev_names(self) -> list[str]:
        return [g.name for g in self.sc.ev.groups]

    @property
    def flex_names(self) -> list[str]:
        return [f.name for f in self.sc.flexible_loads]

    @property
    def dr_names(self) -> list[str]:
        return [e.name for e in self.prof.dr_events]

    @property
    def months(self) -> int:
        return len(self.prof.month_labels)


def binary_rule_steps(sc: Scenario, prof: Profiles) -> tuple[np.ndarray, np.ndarray]:
    """Steps where exclusivity binaries can change the optimum ("could pay").

    Grid: importing and exporting in the same step only pays where the export price is at least
    the import price or importing is paid (negative price); elsewhere it strictly costs money and
    changes nothing else (net import, emissions and the green balance all see import − export).
    Storage: charging and discharging at once burns energy in losses; that only pays where energy
    has negative value — a negative import price. (Burning green energy can also raise a ratio
    target such as the green share; that case is caught exactly by the solve loop in
    :func:`zeropark.api.solve_data`, which adds binaries in any step whose solution flows both
    ways and solves again.)
    """
    mode = sc.solver.exclusivity
    steps = np.arange(prof.n_steps)
    if mode == "all":
        return steps, steps
    if mode == "none":
        return steps[:0], steps[:0]
    imp = prof.import_price_per_kwh
    exp = prof.export_price_per_kwh
    grid = steps[(exp >= imp - PRICE_TOL) | (imp < 0)] if sc.grid.export_limit_kw > 0 else steps[:0]
    dump = imp < 0
    return grid, steps[dump]


def pv_bus_efficiency(sc: Scenario) -> np.ndarray:
    """Per array, the factor from available PV power to AC-bus supply (the DC/DC converter
    efficiency for DC-coupled arrays, 1 otherwise)."""
    return np.array([a.converter_efficiency if a.dc_coupled else 1.0 for a in sc.pv])


def max_surplus_kw(sc: Scenario, prof: Profiles) -> np.ndarray:
    """Upper bound of on-site supply minus on-site demand per step [kW].

    Where it is ≤ 0 the park cannot export without importing in the same step, so under
    import/export exclusivity its export is zero: no binary is needed there, export is fixed to 0.
    """
    eta = pv_bus_efficiency(sc)
    supply = (eta[:, None] * prof.pv_avail_kw).sum(axis=0) if len(sc.pv) else 0.0
    if prof.green_direct_kw is not None and sc.green_power.direct is not None:
        supply = supply + prof.green_direct_kw
    supply = supply + sum(u.power_kw for u in sc.storage)
    for g in sc.ev.groups:
        if g.v2g and g.name in prof.ev:
            supply = supply + prof.ev[g.name].p_max_kw
    demand = prof.load_kw + sum(
        f.min_power_kw if f.min_on_power_kw is None else 0.0 for f in sc.flexible_loads)
    return supply - demand


def max_deficit_kw(sc: Scenario, prof: Profiles) -> np.ndarray:
    """Upper bound of on-site demand (all supply off) per step [kW]: a tight big-M for import."""
    demand = prof.load_kw + sum(f.max_power_kw for f in sc.flexible_loads)
    demand = demand + sum(u.power_kw for u in sc.storage)
    for g in sc.ev.groups:
        if g.name in prof.ev:
            demand = demand + prof.ev[g.name].p_max_kw
    return np.minimum(demand, sc.grid.import_limit_kw)


def model_data(sc: Scenario, prof: Profiles) -> ModelData:
    """Derive the arrays both builders share."""
    T = prof.n_steps
    frac = T * prof.dt_h / HOURS_PER_YEAR
    f = sc.fuels
    co2 = (f.natural_gas_m3_per_year * KGCO2_PER_M3_GAS + f.coal_t_per_year * KGCO2_PER_T_COAL
           + f.heat_gj_per_year * KGCO2_PER_GJ_HEAT) * frac
    kgce = (f.natural_gas_m3_per_year * KGCE_PER_M3_GAS + f.coal_t_per_year * KGCE_PER_T_COAL
            + f.heat_gj_per_year * KGCE_PER_GJ_HEAT) * frac
    days = prof.time.normalize()
    _, day_index = np.unique(days.values, return_inverse=True)
    grid_b, storage_b = binary_rule_steps(sc, prof)
    blocked = grid_b[max_surplus_kw(sc, prof)[grid_b] <= 0]
    grid_b = np.setdiff1d(grid_b, blocked)
    return ModelData(
        sc=sc, prof=prof, T=T, dt_h=prof.dt_h, horizon_fraction=frac, fuel_co2_kg=co2,
        fuel_kgce=kgce, grid_binary_steps=grid_b, export_blocked_steps=blocked,
        storage_binary_steps=storage_b,
        day_index=day_index.astype(int), n_days=int(day_index.max()) + 1 if T else 0,
    )
