"""The registry of component families, in build order.

The power-balance rows come first (built by the core), then each family in this order;
``carbon`` is last because its certificates, offsets and targets read other families' columns.
Adding a family is one module ending in ``FAMILY = Family(...)`` and one line here.
"""

from __future__ import annotations

from zeropark.model import carbon, dr, ev, flexload, grid, heat, heatstore, pv, storage
from zeropark.model.family import Family

FAMILIES: tuple[Family, ...] = (
    grid.FAMILY,
    pv.FAMILY,
    storage.FAMILY,
    ev.FAMILY,
    flexload.FAMILY,
    dr.FAMILY,
    heatstore.FAMILY,  # before heat: its charge/discharge enter the heat balance rows
    heat.FAMILY,  # before carbon: the fuel it burns is in the ledger's Scope 1 and tce lines
    carbon.FAMILY,
)
