"""Guards on every file zeropark reads: where it may be, what it may be, how big it may be.

A scenario is data that may come from someone else. Every file it references (library folders
and their YAML files, CSV profiles, weather files, EV sessions) is resolved with symbolic links
followed and must lie inside the scenario's folder, unless the user allowed another folder on
the command line (``zeropark --allow-outside PATH …``) or in Python (:func:`allow_outside`).
Every input file (scenario, library, CSV, weather, state, schedule, report inputs) must be a
regular file — not a FIFO, a device such as ``/dev/zero``, a socket or a folder — and at most
:func:`max_input_bytes` long (default 64 MB; ``zeropark --max-input-mb N`` or the environment
variable ``ZEROPARK_MAX_INPUT_MB``). Both are checked before a byte is read, and the read itself
stops after the limit, so a file that grows or lies about its size cannot exhaust memory.

Error messages never show more of a file's content than :func:`snippet` (a short, escaped
excerpt).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zeropark.errors import ScenarioError

__all__ = [
    "DEFAULT_MAX_INPUT_MB",
    "allow_outside",
    "allowed_outside",
    "allowing_outside",
    "check_input_file",
    "inside_folder",
    "max_input_bytes",
    "read_input_bytes",
    "read_input_text",
    "set_allowed_outside",
    "set_max_input_mb",
    "snippet",
]

#: Default size limit of an input file [MB] (a year of 1-minute data is ~16 MB of CSV).
DEFAULT_MAX_INPUT_MB = 64.0
_ENV_LIMIT = ENV_LIMIT = "ZEROPARK_MAX_INPUT_MB"
ENV_ALLOW = "ZEROPARK_ALLOW_OUTSIDE"
_allowed: list[Path] = []
_limit_mb: float | None = None


def allow_outside(*folders: str | Path) -> None:
    """Allow scenario references into ``folders`` (and below), for the rest of the process.

    Parameters
    ----------
    *folders : str or Path
        Folders (resolved, symbolic links followed) that referenced files may lie in besides the
        scenario's own folder.
    """
    for folder in folders:
        full = Path(folder).expanduser().resolve()
        if full not in _allowed:
            _allowed.append(full)


def set_allowed_outside(*folders: str | Path) -> None:
    """Replace the allowed folders by ``folders`` (the CLI's ``--allow-outside`` options)."""
    _allowed.clear()
    allow_outside(*folders)


def allowed_outside() -> tuple[Path, ...]:
    """The folders allowed by :func:`allow_outside`, then those the command line passed on to
    this process (``ZEROPARK_ALLOW_OUTSIDE``, folders separated by ``os.pathsep``: how
    ``--allow-outside`` reaches a sweep's worker processes)."""
    passed = os.environ.get(ENV_ALLOW, "")
    return (*_allowed, *(Path(p).resolve() for p in passed.split(os.pathsep) if p))


@contextmanager
def allowing_outside(*folders: str | Path) -> Iterator[None]:
    """Context manager form of :func:`allow_outside`; the previous allowance is restored."""
    saved = list(_allowed)
    allow_outside(*folders)
    try:
        yield
    finally:
        _allowed[:] = saved


def set_max_input_mb(limit_mb: float | None) -> None:
    """Set the size limit of input files [MB]; ``None`` restores the default."""
    global _limit_mb
    if limit_mb is not None and not (limit_mb > 0 and limit_mb < 1e9):
        raise ScenarioError("--max-input-mb", limit_mb, "a size in MB between 0 and 1e9")
    _limit_mb = limit_mb


def max_input_bytes() -> int:
    """Current size limit of an input file [bytes]."""
    limit_mb = _limit_mb
    if limit_mb is None:
        raw = os.environ.get(_ENV_LIMIT)
        limit_mb = DEFAULT_MAX_INPUT_MB
        if raw:
            try:
                limit_mb = float(raw)
            except ValueError:
                raise ScenarioError(_ENV_LIMIT, raw, "a size in MB, e.g. 64") from None
            if not 0 < limit_mb < 1e9:
                raise ScenarioError(_ENV_LIMIT, raw, "a size in MB between 0 and 1e9")
    return int(limit_mb * 1_000_000)


def snippet(value: Any, limit: int = 40) -> str:
    """A short, escaped excerpt of ``value`` for an error message (control and bidi characters
    escaped, at most ``limit`` characters)."""
    text = value if isinstance(value, str) else repr(value)
    # printable text (Chinese names included) stays readable; controls, bidi overrides (U+202E),
    # line breaks and other invisible characters are escaped
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in text[: limit * 2])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def inside_folder(path: str | Path, base: str | Path, field: str) -> Path:
    """Resolve ``path`` (relative to ``base``) with symbolic links followed; it must lie in
    ``base`` or in a folder allowed by :func:`allow_outside`.

    Returns
    -------
    Path
        The resolved path.

    Raises
    ------
    ScenarioError
        Naming ``field`` when the path leads outside.
    """
    p = Path(path).expanduser()
    base_full = Path(base).resolve()
    full = (p if p.is_absolute() else base_full / p).resolve()
    for root in (base_full, *allowed_outside()):
        if full == root or root in full.parents:
            return full
    raise ScenarioError(
        field, str(path),
        f"a path inside the scenario's folder {base_full} (symbolic links followed); to read "
        f"from another folder, allow it with 'zeropark --allow-outside FOLDER …'",
    )


def _refuse(field: str, shown: str, what: str, st: os.stat_result, limit: int,
            configurable: bool) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(field, shown,
                            f"a regular {what} (not a folder, FIFO, device or socket)")
    if st.st_size > limit:
        hint = (f"; raise the limit with 'zeropark --max-input-mb N' or {_ENV_LIMIT}"
                if configurable else "")
        raise ScenarioError(field, shown,
                            f"a {what} of at most {limit:,} bytes (it has {st.st_size:,}){hint}")


def check_input_file(path: str | Path, field: str, *, what: str = "file",
                     max_bytes: int | None = None, shown: str | Path | None = None) -> Path:
    """Check, without opening it, that ``path`` is an existing regular file within the limit.

    Parameters
    ----------
    path : str or Path
        The file.
    field : str
        Field path named in errors.
    what : str
        What the file is, in words (``"CSV file"``).
    max_bytes : int, optional
        A fixed limit instead of :func:`max_input_bytes`.
    shown : str or Path, optional
        The path as the user wrote it, for errors (default ``path``).

    Raises
    ------
    ScenarioError
        Missing, not a regular file, or too large.
    """
    limit = max_input_bytes() if max_bytes is None else max_bytes
    label = str(path if shown is None else shown)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(field, label, f"an existing {what}") from None
    except OSError as err:
        raise ScenarioError(field, label, f"a readable {what} ({err.strerror})") from None
    _refuse(field, label, what, st, limit, max_bytes is None)
    return Path(path)


def read_input_bytes(path: str | Path, field: str, *, what: str = "file",
                     max_bytes: int | None = None) -> bytes:
    """Read a whole input file, refusing non-regular and oversized files before reading.

    The file is opened non-blocking (a FIFO swapped in after the check cannot hang the read),
    checked again on the open descriptor, and read up to the limit only.

    Raises
    ------
    ScenarioError
        Missing, unreadable, not a regular file, or larger than the limit.
    """
    limit = max_input_bytes() if max_bytes is None else max_bytes
    check_input_file(path, field, what=what, max_bytes=limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise ScenarioError(field, str(path), f"a readable {what} ({err.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        _refuse(field, str(path), what, os.fstat(fd), limit, max_bytes is None)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ScenarioError(field, str(path), f"a {what} of at most {limit:,} bytes")
    return data


def read_input_text(path: str | Path, field: str, *, what: str = "file",
                    max_bytes: int | None = None) -> str:
    """:func:`read_input_bytes` decoded as UTF-8 (a BOM is dropped)."""
    raw = read_input_bytes(path, field, what=what, max_bytes=max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(field, str(path),
                            f"a UTF-8 text {what} (byte {err.start} is not UTF-8)") from None
