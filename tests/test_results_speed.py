"""The fast paths of the results module give what the general ones give.

``build_dataset`` hands NumPy arrays to xarray without its general conversion (which would import
``dask.array``); the dataset must be identical to the one the general constructors make from the
same outputs and coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zeropark.api import prepare, solve_outcome
from zeropark.model import registry
from zeropark.model.family import Output
from zeropark.results import build_dataset
from zeropark.scenario import load_scenario

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo-park.yaml"


def _demo_two_days():  # noqa: ANN202 - (ModelData, SolveOutcome)
    """The demo park (PV, battery, EV groups, flexible loads, DR, heat) over 48 h, relaxed."""
    d = prepare(load_scenario(DEMO), steps=48)
    d, out, _ = solve_outcome(d, relax=True)
    assert out.status.has_solution
    return d, out


def test_dataset_is_identical_to_the_general_construction() -> None:
    d, out = _demo_two_days()
    ds = build_dataset(d, out, "matrix")
    outputs = [Output("load_kw", ("time",), d.prof.load_kw, "kW",
                      "inflexible load (mean power over the step)")]
    coords: dict = {"time": d.prof.time}
    for family in registry.FAMILIES:
        outputs.extend(family.outputs(d, out.values))
        coords.update(family.coords(d))
    ref = xr.Dataset({o.name: xr.DataArray(o.data, dims=o.dims, attrs=o.attrs())
                      for o in outputs}, coords=coords)
    ref.attrs.update(ds.attrs)
    xr.testing.assert_identical(ds, ref)
    for name in ds.variables:  # same dtypes, coordinates included (strings stay strings)
        assert ds[name].dtype == ref[name].dtype, name
    assert {"storage", "ev_group", "heat_unit"} <= set(ds.coords)
    assert ds.sizes["time"] == 48 and np.isfinite(ds.grid_import_kw.values).all()
