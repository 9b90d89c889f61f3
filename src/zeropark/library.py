"""The model library: named default data (tariffs, emission factors, technologies, ...) in YAML.

This module owns finding, reading and validating the library folders. Each ``*.yaml`` file in a
folder is one *kind* (its file stem, e.g. ``tariffs``) and maps *keys* (e.g. ``jiangsu-2025``) to
entries. Every entry is a mapping that says where its numbers come from (``source``) and of which
year (``year``). The bundled folder is read first, then each user folder in order; an entry with
the same (kind, key) as an earlier one replaces it whole.

Every entry is validated on load with the pydantic models of :mod:`zeropark.entries`
(:class:`~zeropark.entries.LibraryEntry`, and :class:`~zeropark.entries.Tariff` for ``tariffs``),
so a broken override fails when the library is loaded rather than deep inside a model build.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from zeropark import guard
from zeropark.entries import Tariff, check_entry
from zeropark.errors import ScenarioError
from zeropark.guard import snippet
from zeropark.strictload import yaml_data

_Entries = dict[str, dict[str, dict[str, Any]]]
_Origins = dict[tuple[str, str], str]


def bundled_library_dir() -> Traversable:
    """Folder of the library shipped with zeropark.

    Returns
    -------
    importlib.resources.abc.Traversable
        ``zeropark/models`` inside an installed wheel (pyproject force-includes the repository's
        top-level ``models/`` there); otherwise, for an editable or source checkout, the
        repository's top-level ``models/`` folder.

    Raises
    ------
    ScenarioError
        If neither folder exists.
    """
    packaged = importlib.resources.files("zeropark") / "models"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "models"
    if checkout.is_dir():
        return checkout
    raise ScenarioError(
        "library", str(checkout), "zeropark/models in the installed package or models/ in the repo"
    )


def _read_folder(folder: Traversable, entries: _Entries, origins: _Origins,
                 user: tuple[Path | None, str] | None = None) -> None:
    """Read every ``*.yaml`` of ``folder`` into ``entries``, overriding existing (kind, key).

    A user folder (``user = (base, field)``) is untrusted: every file must be a regular file
    within the input size limit, and with a ``base`` it is resolved with symbolic links followed
    and must lie inside ``base`` (or a folder allowed by :func:`zeropark.guard.allow_outside`);
    errors name ``field``.
    """
    files = sorted(
        (item for item in folder.iterdir() if item.name.endswith(".yaml")
         and (user is not None or item.is_file())),
        key=lambda item: item.name,
    )
    for item in files:
        kind = item.name.removesuffix(".yaml")
        location = str(item)
        if user is not None:
            base, field = user
            full = Path(str(item))
            if base is not None:
                full = guard.inside_folder(full, base, f"{field} ({item.name})")
            if full.is_dir():
                continue
            text = guard.read_input_text(full, f"{field} ({item.name})", what="YAML file")
        else:
            try:
                text = item.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise ScenarioError(location, snippet(str(exc)), "a UTF-8 text file") from exc
        data = yaml_data(text, location)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise ScenarioError(location, type(data).__name__, "a mapping of key -> entry")
        bucket = entries.setdefault(kind, {})
        for key, entry in data.items():
            if not isinstance(key, str) or not key:
                raise ScenarioError(f"{location}:{snippet(key, 24)}", snippet(key, 24),
                                    "a non-empty string key")
            check_entry(entry, kind, f"{location}:{key}")
            bucket[key] = entry
            origins[(kind, key)] = location


@functools.lru_cache(maxsize=1)
def _load_bundled() -> tuple[_Entries, _Origins]:
    entries: _Entries = {}
    origins: _Origins = {}
    _read_folder(bundled_library_dir(), entries, origins)
    return entries, origins


class Library:
    """Named library entries by kind and key.

    Build it with :meth:`Library.load`. Entries are never handed out by reference:
    :meth:`get` returns a deep copy, so callers may modify what they get.
    """

    def __init__(self, entries: _Entries, origins: _Origins) -> None:
        self._entries = entries
        self._origins = origins

    @classmethod
    def load(cls, extra_dirs: Sequence[str | Path] = (), *,
             confine_to: str | Path | None = None) -> Library:
        """Load the bundled library, then each extra folder in order.

        Parameters
        ----------
        extra_dirs : sequence of str or Path
            User folders of ``*.yaml`` files; a later folder's entry replaces an earlier entry
            with the same kind (file stem) and key, as a whole.
        confine_to : str or Path, optional
            A scenario's folder: every file of the extra folders, symbolic links followed, must
            lie inside it (or in a folder allowed with ``--allow-outside``).

        Returns
        -------
        Library

        Raises
        ------
        ScenarioError
            Field ``library`` if an extra folder does not exist; ``"<file>:<key>"`` for a
            malformed file or entry.
        """
        if isinstance(extra_dirs, str | Path):
            extra_dirs = [extra_dirs]
        bundled, bundled_origins = _load_bundled()
        # the cached bundled dicts are shared: copy the containers, never mutate entries
        entries = {kind: dict(bucket) for kind, bucket in bundled.items()}
        origins = dict(bundled_origins)
        for i, folder in enumerate(extra_dirs):
            path = Path(folder).expanduser()
            field = f"library.{i}"
            if confine_to is not None:
                path = guard.inside_folder(path, confine_to, field)
            if not path.is_dir():
                raise ScenarioError("library", str(folder), "an existing folder of *.yaml files")
            _read_folder(path, entries, origins,
                         (None if confine_to is None else Path(confine_to), field))
        return cls(entries, origins)

    def kinds(self) -> list[str]:
        """Sorted names of the kinds loaded (file stems)."""
        return sorted(self._entries)

    def keys(self, kind: str) -> list[str]:
        """Sorted keys of one kind.

        Raises
        ------
        ScenarioError
            Field ``library`` if ``kind`` is unknown.
        """
        if kind not in self._entries:
            raise ScenarioError(
                "library", kind, f"a library kind, one of: {', '.join(self.kinds())}"
            )
        return sorted(self._entries[kind])

    def get(self, kind: str, key: str, field: str) -> dict[str, Any]:
        """Deep copy of one entry.

        Parameters
        ----------
        kind : str
            Library kind (file stem), e.g. ``"tariffs"``.
        key : str
            Entry key, e.g. ``"jiangsu-2025"``.
        field : str
            Field path of the scenario value that named the key, for the error message.

        Returns
        -------
        dict

        Raises
        ------
        ScenarioError
            If kind or key is unknown; lists the known keys.
        """
        bucket = self._entries.get(kind)
        if bucket is None:
            raise ScenarioError(
                field, key,
                f"no library kind {kind!r}; kinds are one of: {', '.join(self.kinds())}",
            )
        if key not in bucket:
            raise ScenarioError(field, key, f"one of: {', '.join(sorted(bucket))}")
        return copy.deepcopy(dict(bucket[key]))

    def tariff(self, key: str, field: str) -> Tariff:
        """The validated TOU tariff ``key`` (kind ``tariffs``).

        Raises
        ------
        ScenarioError
            If the key is unknown (listing the known keys), naming ``field``.
        """
        return Tariff.parse(self.get("tariffs", key, field), field)

    def origin(self, kind: str, key: str) -> str:
        """File an entry was read from (the last one, after overrides)."""
        self.get(kind, key, "library")
        return self._origins[(kind, key)]

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}={len(self._entries[kind])}" for kind in self.kinds())
        return f"Library({counts})"
