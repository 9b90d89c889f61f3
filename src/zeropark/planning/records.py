"""Case records of a sweep: flat KPIs, one JSON (+ NetCDF) file per finished case, and the merge
of all records into the sweep table and the sweep ``xarray.Dataset`` on the case dimensions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from zeropark.io import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from zeropark.planning.sweep import Case, CaseOptions

SWEEP_FILE = "sweep.nc"
TABLE_FILE = "sweep.csv"
CASES_DIR = "cases"
TEXT_COLUMNS = ("case_id", "outcome", "status", "error", "worker")


def netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The dataset as NetCDF4 bytes (h5netcdf), independent of any active Dask client.

    With a ``distributed.Client`` as the default scheduler, xarray would take a distributed
    write lock for an in-memory file, which fails; the synchronous scheduler avoids it.
    """
    try:
        import dask
    except ImportError:  # pragma: no cover - dask is optional
        return bytes(ds.to_netcdf(engine="h5netcdf"))
    with dask.config.set(scheduler="synchronous"):
        return bytes(ds.to_netcdf(engine="h5netcdf"))


def _load_netcdf(path: Path) -> xr.Dataset:
    try:
        import dask
    except ImportError:  # pragma: no cover - dask is optional
        return xr.load_dataset(path, engine="h5netcdf")
    with dask.config.set(scheduler="synchronous"):
        return xr.load_dataset(path, engine="h5netcdf")


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric KPIs as a flat mapping with dotted names; booleans as 0/1."""
    out: dict[str, float] = {}
    for key, val in kpis.items():
        name = f"{prefix}{key}"
        if key == "peak_import_kw_by_month" and isinstance(val, dict):
            out["peak_import_kw_max"] = float(max(val.values(), default=0.0))
        elif isinstance(val, Mapping):
            out.update(flatten_kpis(val, f"{name}."))
        elif isinstance(val, bool | np.bool_):
            out[name] = float(val)
        elif isinstance(val, int | float | np.number):
            out[name] = float(val)
    return out


def save_record(out: Path, record: dict[str, Any]) -> None:
    folder = out / CASES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ts = record.get("timeseries")
    if ts is not None:
        atomic_write_bytes(folder / f"{record['case_id']}.nc", netcdf_bytes(ts))
    plain = {k: v for k, v in record.items() if k != "timeseries"}
    atomic_write_text(folder / f"{record['case_id']}.json",
                      json.dumps(plain, indent=1, default=str))


def load_record(out: Path, case: Case, options: CaseOptions) -> dict[str, Any] | None:
    """An earlier record of ``case`` that counts as done, else None."""
    path = out / CASES_DIR / f"{case.case_id}.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("outcome") not in ("solved", "no_solution"):
        return None
    if options.time_series and record["outcome"] == "solved":
        nc = out / CASES_DIR / f"{case.case_id}.nc"
        if not nc.is_file():
            return None
        record["timeseries"] = _load_netcdf(nc)
    record.update(coords=case.coords, info=case.info, scenario=case.label)
    return record


def _dims(records: Sequence[dict[str, Any]]) -> list[str]:
    dims: list[str] = []
    for r in records:
        dims += [k for k in r["coords"] if k not in dims]
    return dims or ["case"]


def records_table(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per case: coordinates, info, outcome, status, error, objective, KPIs."""
    dims = _dims(records)
    rows = []
    for i, r in enumerate(records):
        row: dict[str, Any] = dict(r["coords"]) if r["coords"] else {"case": i}
        row.update(r.get("info", {}))
        row.update(case_id=r["case_id"], outcome=r["outcome"], status=r["status"],
                   error=r["error"], objective=r["objective"], wall_s=r.get("wall_s", np.nan),
                   worker=r.get("worker", ""))
        row.update(r["kpis"])
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in TEXT_COLUMNS:
        table[col] = table[col].fillna("").astype(str)
    front = dims + [c for c in table.columns if c not in dims]
    return table[front]


def _coord_frame(records: Sequence[dict[str, Any]], dims: list[str]) -> pd.DataFrame:
    return pd.DataFrame([r["coords"] if r["coords"] else {"case": i}
                         for i, r in enumerate(records)], columns=dims)


def _to_grid(ds: xr.Dataset, coords: pd.DataFrame) -> xr.Dataset:
    """A dataset over a flat ``case`` dimension reshaped onto the case dimensions."""
    dims = list(coords.columns)
    if len(dims) == 1:
        return ds.rename({"case": dims[0]}).assign_coords({dims[0]: coords[dims[0]].to_numpy()})
    index = pd.MultiIndex.from_frame(coords)
    mindex = xr.Coordinates.from_pandas_multiindex(index, "case")
    # unstack sorts each dimension; keep the order the values were given in instead
    order = {d: pd.unique(coords[d].to_numpy()) for d in dims}
    return ds.assign_coords(mindex).unstack("case").reindex(order)


def records_dataset(records: Sequence[dict[str, Any]], table: pd.DataFrame) -> xr.Dataset:
    """The sweep dataset: case dimensions × KPIs (+ time series of solved cases if kept)."""
    dims = _dims(records)
    table = table.drop_duplicates(subset=dims, keep="first")
    flat = table.drop(columns=dims).reset_index(drop=True)
    for col in flat.columns:
        if flat[col].dtype == object:
            flat[col] = flat[col].astype(str)
    kpi = xr.Dataset({c: ("case", flat[c].to_numpy()) for c in flat.columns})
    keep = [i for i in table.index]
    ds = _to_grid(kpi, _coord_frame([records[i] for i in keep], dims))
    with_ts = [r for r in records if r.get("timeseries") is not None]
    if with_ts:
        ts = xr.concat([r["timeseries"] for r in with_ts], dim="case", join="outer",
                       coords="minimal", compat="override", combine_attrs="drop")
        ts = _to_grid(ts, _coord_frame(with_ts, dims))
        ds = xr.merge([ds, ts], join="outer", compat="no_conflicts", combine_attrs="drop")
    for name in TEXT_COLUMNS:
        if name in ds:
            ds[name] = ds[name].fillna("").astype(str)
    order = [d for d in dims if d in ds.dims]
    ds = ds.transpose(*order, ...)
    ds.attrs.update({"title": "zeropark sweep", "dimensions": json.dumps(dims),
                     "cases": len(records)})
    return ds


def write_outputs(out: Path, ds: xr.Dataset, table: pd.DataFrame) -> list[Path]:
    """Write ``sweep.nc`` and ``sweep.csv`` atomically."""
    atomic_write_bytes(out / SWEEP_FILE, netcdf_bytes(ds))
    atomic_write_text(out / TABLE_FILE, table.to_csv(index=False))
    return [out / SWEEP_FILE, out / TABLE_FILE]
