"""The fast paths of the results module give what the general ones give.

``build_dataset`` hands NumPy arrays to xarray without its general conversion (which would import
``dask.array``); the dataset must be identical to the one the general constructors make from the
same outputs and coordinates. ``timeseries.csv`` is formatted directly; its text must be what
``DataFrame.to_csv`` writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from zeropark.api import prepare, solve_outcome
from zeropark.model import registry
from zeropark.model.family import Output
from zeropark.results import _variable, build_dataset, timeseries_csv, timeseries_frame
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


def test_timeseries_csv_is_the_text_pandas_writes() -> None:
    d, out = _demo_two_days()
    frame = timeseries_frame(build_dataset(d, out, "matrix"))
    assert any("," in c for c in frame.columns)  # heat_supply_kw[unit,level]: quoted
    assert timeseries_csv(frame) == frame.to_csv()
    tricky = [0.1, 1 / 3, -0.0, 1e-5, 1e-4, 123456.789, 1e16, 9.999999999999999e15, -2.5e-300,
              np.nan, np.inf, -np.inf, 4999.5]
    for freq in ("15min", "1h", "D"):  # "D": pandas writes dates without a time
        time = pd.date_range("2025-01-01", periods=len(tricky), freq=freq, name="time")
        f = pd.DataFrame({"a": tricky, 'b"q': tricky[::-1], "c[x,y]": np.arange(13.0)},
                         index=time)
        assert timeseries_csv(f) == f.to_csv(), freq
    assert timeseries_csv(f.iloc[:0]) == f.iloc[:0].to_csv()
    mixed = f.assign(n=np.arange(13))  # an integer column: pandas writes it
    assert timeseries_csv(mixed) == mixed.to_csv()


def test_variable_is_the_general_variable_for_every_kind_of_data() -> None:
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    cases = [np.array([1.5, np.nan]), np.array([1, 2]), np.array([True, False]),
             ["lfp-main", "second"], [], np.array(["a", "bc"]), masked,
             np.array(["2025-01-01", "2025-01-02"], dtype="datetime64[ns]"),
             np.array([{"a": 1}, None], dtype=object), pd.Series([1.0, 2.0]), 2.5]
    for data in cases:
        dims = () if np.ndim(data) == 0 else ("x",)
        got, ref = _variable(dims, data, {"units": "kW"}), xr.Variable(dims, data, {"units": "kW"})
        xr.testing.assert_identical(got, ref)
        assert got.dtype == ref.dtype, data
    assert np.isnan(_variable(("x",), masked).values[1])  # the mask is kept (as NaN)


def test_results_nc_bytes_read_back_identical_with_either_engine(tmp_path: Path) -> None:
    """``results.nc`` is written by the netCDF-C library (``netcdf_bytes``); read back through
    netCDF4 or h5netcdf, it is the dataset that was written, strings, times and attributes
    included, and the same as the h5netcdf writer's file."""
    from zeropark.io import netcdf_bytes

    d, out = _demo_two_days()
    ds = build_dataset(d, out, "matrix")
    fast, slow = tmp_path / "fast.nc", tmp_path / "slow.nc"
    fast.write_bytes(bytes(netcdf_bytes(ds)))
    slow.write_bytes(bytes(ds.to_netcdf(engine="h5netcdf")))
    assert fast.read_bytes()[:4] == b"\x89HDF"  # NetCDF4 = HDF5 container
    for engine in ("netcdf4", "h5netcdf"):
        back = xr.load_dataset(fast, engine=engine)
        xr.testing.assert_identical(back, xr.load_dataset(slow, engine=engine))
        xr.testing.assert_identical(back, ds)


def test_results_nc_bytes_fall_back_to_h5netcdf_where_netcdf4_cannot_write_to_memory() -> None:
    """An xarray that refuses the netcdf4 engine for in-memory writes (as releases before it
    could) gets the h5netcdf path; any other error is not swallowed."""
    from zeropark.io import netcdf_bytes

    class OldXarray(xr.Dataset):
        __slots__ = ()

        def to_netcdf(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if kwargs.get("engine") == "netcdf4":
                raise ValueError("invalid engine for creating bytes with to_netcdf: 'netcdf4'")
            return super().to_netcdf(*args, **kwargs)

    ds = OldXarray({"x": ("i", np.arange(3.0))}, coords={"i": ["a", "b", "c"]})
    assert bytes(netcdf_bytes(ds))[:4] == b"\x89HDF"

    class Broken(xr.Dataset):
        __slots__ = ()

        def to_netcdf(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise ValueError("invalid attribute")

    with pytest.raises(ValueError, match="invalid attribute"):
        netcdf_bytes(Broken({"x": ("i", np.arange(3.0))}))
