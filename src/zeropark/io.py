"""Atomic file output: write to a temporary file in the same folder, fsync, then rename, so a
reader never sees a partial file and an earlier good file survives any failure; and
:func:`netcdf_bytes`, a dataset as NetCDF4 file bytes for those writers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` atomically (temp file + ``os.replace``)."""
    atomic_write_group({Path(path): data})


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_group(files: Mapping[Path, bytes | memoryview]) -> None:
    """Write several files so that either all are replaced or none is.

    Every temporary file is written and synced first (this is where a full disk fails, and then
    all temporaries are removed and the old files stay); only then are they renamed into place,
    which does not need space.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in temps:
        os.replace(tmp, path)


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written there (before a long solve).

    Raises
    ------
    OSError
        When the folder cannot be created or written (read-only, no space, no permission).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zeropark-write-check.", dir=folder)
    try:
        os.write(fd, b"ok")
        os.fsync(fd)
    finally:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)


def netcdf_bytes(ds: Any) -> bytes | memoryview:
    """An ``xarray.Dataset`` as the bytes of a NetCDF4 file, for the atomic writers above.

    Written in memory by the netCDF-C library (xarray's ``netcdf4`` engine): a year of results
    in ≈ 0.03 s, against ≈ 0.2 s through h5netcdf, whose per-variable bookkeeping in h5py
    dominates. Both make NetCDF4 (HDF5) files that read back to the identical dataset with either
    engine. An xarray that cannot write ``netcdf4`` to memory (older releases accept only scipy
    and h5netcdf there) gets the h5netcdf path.
    """
    try:
        return ds.to_netcdf(engine="netcdf4")
    except (ValueError, TypeError, NotImplementedError):
        return ds.to_netcdf(engine="h5netcdf")
