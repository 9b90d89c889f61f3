"""Investment cost data of the sized assets: capex, fixed O&M, lifetime and their annualization.

Numbers come from the technology library (``models/technologies.yaml``, with the scenario's own
library folders applied); lifetimes may be overridden by ``sizing.lifetime_years`` keyed by asset
name, technology key or family (``pv``, ``storage``, ``charger``), in that order of precedence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zeropark.errors import ScenarioError
from zeropark.scenario import Scenario
from zeropark.scenario.resolve import library_for

#: Technology whose costs a storage unit without a ``technology`` key is sized with.
DEFAULT_STORAGE_TECHNOLOGY = "lfp-2h"
#: Shortest storage duration (energy / power) when the technology names none [h].
DEFAULT_DURATION_H = 2.0


def capital_recovery_factor(rate: float, years: float) -> float:
    """Share of an investment paid back each year as an annuity.

    ``CRF = r (1 + r)^n / ((1 + r)^n − 1)``, and ``1 / n`` for ``r = 0``.

    Parameters
    ----------
    rate : float [1/yr]
        Discount rate, ≥ 0.
    years : float [yr]
        Economic lifetime, > 0.

    Returns
    -------
    float [1/yr]
    """
    if years <= 0:
        raise ScenarioError("sizing.lifetime_years", years, "a lifetime > 0 years")
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


@dataclass(frozen=True)
class UnitCost:
    """Cost of one unit of a sized decision (one kWp, kWh, kW or pile).

    Attributes
    ----------
    technology : str
        Library key the numbers come from.
    capex : float [currency/unit]
        Investment per unit.
    fixed_om_per_year : float [currency/(unit·yr)]
    lifetime_years : float [yr]
    crf : float [1/yr]
        Capital recovery factor at the scenario's discount rate.
    """

    technology: str
    capex: float
    fixed_om_per_year: float
    lifetime_years: float
    crf: float

    @property
    def annualized_per_year(self) -> float:
        """Annualized capex plus fixed O&M [currency/(unit·yr)]."""
        return self.capex * self.crf + self.fixed_om_per_year


def _entry(sc: Scenario, key: str, field: str) -> dict[str, Any]:
    return library_for(sc).get("technologies", key, field)


def _lifetime(sc: Scenario, name: str, key: str, family: str, entry: dict[str, Any],
              field: str) -> float:
    overrides = sc.sizing.lifetime_years
    for k in (name, key, family):
        if k in overrides:
            return float(overrides[k])
    if "lifetime_years" not in entry:
        raise ScenarioError(field, key, "a technology with lifetime_years, or set "
                                        f"sizing.lifetime_years.{name}")
    return float(entry["lifetime_years"])


def _number(entry: dict[str, Any], name: str, key: str, field: str) -> float:
    if name not in entry:
        raise ScenarioError(field, key, f"a technology entry with '{name}' to size this asset")
    return float(entry[name])


def _unit(sc: Scenario, name: str, key: str, family: str, capex_field: str,
          om_field: str | None, field: str) -> UnitCost:
    entry = _entry(sc, key, field)
    life = _lifetime(sc, name, key, family, entry, field)
    om = float(entry.get(om_field, 0.0)) if om_field else 0.0
    capex = _number(entry, capex_field, key, field) * sc.sizing.capex_factor
    return UnitCost(key, capex, om, life, capital_recovery_factor(sc.sizing.discount_rate, life))


def pv_cost(sc: Scenario, i: int) -> UnitCost:
    """Cost per kWp of PV array ``i`` (its ``technology``, default ``pv-rooftop``)."""
    a = sc.pv[i]
    return _unit(sc, a.name, a.technology, "pv", "capex_per_kwp", "fixed_om_per_kwp_year",
                 f"pv.{i}.technology")


def storage_costs(sc: Scenario, i: int) -> tuple[UnitCost, UnitCost, float]:
    """Cost per kWh and per kW of storage unit ``i``, and its shortest duration [h].

    A unit without a ``technology`` key is costed as :data:`DEFAULT_STORAGE_TECHNOLOGY`.
    """
    u = sc.storage[i]
    key = u.technology or DEFAULT_STORAGE_TECHNOLOGY
    field = f"storage.{i}.technology"
    energy = _unit(sc, u.name, key, "storage", "capex_per_kwh", "fixed_om_per_kwh_year", field)
    power = _unit(sc, u.name, key, "storage", "capex_per_kw", "fixed_om_per_kw_year", field)
    duration = float(_entry(sc, key, field).get("duration_h", DEFAULT_DURATION_H))
    return energy, power, duration


def pile_cost(sc: Scenario, i: int) -> UnitCost:
    """Cost per pile of EV group ``i`` (needs a pile ``technology`` key)."""
    g = sc.ev.groups[i]
    field = f"ev.groups.{i}.technology"
    if g.technology is None:
        raise ScenarioError(field, None, "a pile technology key (e.g. dc-60kw) with "
                                         "capex_per_pile to size this group")
    return _unit(sc, g.name, g.technology, "charger", "capex_per_pile", "fixed_om_per_pile_year",
                 field)
