"""Error types of zeropark.

Every error a user can cause names the field path, the value received and what is allowed, so the
CLI can print one clear line instead of a traceback.
"""

from __future__ import annotations

import reprlib
from typing import Any

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6
_SHORT.maxstring = _SHORT.maxother = 120


class ZeroparkError(Exception):
    """Base class of all errors zeropark raises on purpose."""


class ScenarioError(ZeroparkError, ValueError):
    """Invalid scenario or input data.

    Parameters
    ----------
    field : str
        Dotted path of the offending field, e.g. ``"storage.0.soc_min"`` or ``"loads.path"``.
    value : Any
        The value received.
    allowed : str
        What would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = _SHORT.repr(value)  # bounded: YAML aliases can nest huge shared structures
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{field}: got {shown}; {allowed}")


class SolveError(ZeroparkError, RuntimeError):
    """The solver failed, or the model is infeasible; the message explains why in the user's terms."""
