"""Deferred imports of heavy optional modules (Pyomo, matplotlib, …).

``import zeropark`` and the default matrix engine must not pay for Pyomo (which also drags in
``scipy.stats`` through its deferred-import hooks) or matplotlib. Modules that use such a library
only inside some functions bind a :func:`lazy_module` proxy at import time; the real import happens
on the first attribute access, i.e. only when that code path runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for module ``name`` that imports it on first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _load(self) -> ModuleType:
        target = self.__dict__["_lazy_target"]
        if target is None:
            target = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = target
        return target

    def __getattr__(self, attr: str) -> Any:
        # only called for names not found on the proxy itself
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self.__dict__["_lazy_target"] is not None else "not loaded yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_module(name: str) -> ModuleType:
    """A proxy for module ``name``; the module is imported when an attribute is first read.

    Parameters
    ----------
    name : str
        Absolute module name, e.g. ``"pyomo.environ"``.

    Returns
    -------
    ModuleType
        The proxy (type checkers see it as a module; bind it under ``TYPE_CHECKING`` to the
        real import to keep attribute types).
    """
    return LazyModule(name)
