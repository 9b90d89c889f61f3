"""A dispatch plan for one horizon, whichever way it was made (optimised or rule-based).

The plan holds group-level EV power; :mod:`zeropark.operations.schedule` turns it into per-pile
setpoints and the published schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zeropark.results import Result


@dataclass(frozen=True)
class Plan:
    """Setpoints of every asset over the horizon (T steps).

    Attributes
    ----------
    grid_import_kw, grid_export_kw : ndarray [kW], shape (T,)
    pv_kw : ndarray [kW], shape (A, T)
        PV supply on the AC bus (after the DC/DC converter of DC-coupled arrays).
    green_direct_kw : ndarray [kW], shape (T,)
    storage_charge_kw, storage_discharge_kw : ndarray [kW], shape (S, T)
    storage_soc_kwh : ndarray [kWh], shape (S, T), end of step
    ev_group_kw : ndarray [kW], shape (G, T), grid-side charging power per pile group
    flex_kw : ndarray [kW], shape (F, T)
    dr_accepted : list of str
        DR events the plan takes part in.
    certificates_mwh, offsets_t : float
        Green certificates and CCER offsets the plan buys for the horizon.
    unserved_kw : ndarray [kW], shape (T,)
        Load the plan cannot supply (rule-based plans only; zero when optimised).
    """

    grid_import_kw: np.ndarray
    grid_export_kw: np.ndarray
    pv_kw: np.ndarray
    green_direct_kw: np.ndarray
    storage_charge_kw: np.ndarray
    storage_discharge_kw: np.ndarray
    storage_soc_kwh: np.ndarray
    ev_group_kw: np.ndarray
    flex_kw: np.ndarray
    dr_accepted: list[str] = field(default_factory=list)
    certificates_mwh: float = 0.0
    offsets_t: float = 0.0
    unserved_kw: np.ndarray | None = None


def plan_from_result(result: Result) -> Plan:
    """The plan of a solved :class:`~zeropark.results.Result` (must have a solution)."""
    ds = result.dataset
    if ds is None:
        raise ValueError("the result has no solution")
    ev = ds.ev_power_kw.values
    if "ev_v2g_kw" in ds:
        ev = ev - ds.ev_v2g_kw.values
    k = result.kpis
    return Plan(
        grid_import_kw=ds.grid_import_kw.values, grid_export_kw=ds.grid_export_kw.values,
        pv_kw=ds.pv_power_kw.values, green_direct_kw=ds.green_direct_kw.values,
        storage_charge_kw=ds.storage_charge_kw.values,
        storage_discharge_kw=ds.storage_discharge_kw.values,
        storage_soc_kwh=ds.storage_soc_kwh.values, ev_group_kw=ev, flex_kw=ds.flex_power_kw.values,
        dr_accepted=list(k.get("dr_events_accepted", [])),
        certificates_mwh=float(k.get("certificates_mwh", 0.0)),
        offsets_t=float(k.get("offsets_t", 0.0)),
        unserved_kw=np.zeros(ds.sizes["time"]),
    )
