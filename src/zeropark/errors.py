"""Error types of zeropark.

Every error a user can cause names the field path, the value received and what is allowed, so the
CLI can print one clear line instead of a traceback.
"""

from __future__ import annotations

import reprlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see zeropark/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from pydantic import ValidationError

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
        #: Every error found, one line each (several when pydantic found more than one).
        self.lines: list[str] = []
        shown = _SHORT.repr(value)  # bounded: YAML aliases can nest huge shared structures
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{field}: got {shown}; {allowed}")


def _one_error(error: Any, prefix: str) -> ScenarioError:
    loc = ".".join(str(p) for p in error["loc"])
    inner = (error.get("ctx") or {}).get("error")
    if isinstance(inner, ScenarioError):
        # a validator that knows a finer place (a key of the value it checks) raised it with a
        # field path relative to the value it validated
        loc = ".".join(p for p in (loc, inner.field) if p)
        value, msg = inner.value, inner.allowed
    else:
        value, msg = error.get("input"), str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            msg = ("unknown field (check spelling); allowed fields are in the README's scenario "
                   "reference")
        elif error["type"] == "missing":
            msg = "this field is required"
    field = ".".join(p for p in (prefix, loc) if p) or "(scenario)"
    return ScenarioError(field, value, msg)


def from_validation_error(err: ValidationError, prefix: str = "") -> ScenarioError:
    """One :class:`ScenarioError` for a pydantic ``ValidationError``.

    The first error, its message counting the others; ``.lines`` holds every error, one line each
    (the CLI prints them all). A validator may raise a :class:`ScenarioError` whose ``field`` is a
    path relative to the value it validates; it is appended to pydantic's location.

    Parameters
    ----------
    err : pydantic.ValidationError
        The errors pydantic found.
    prefix : str
        Field path (or ``"<file>:<key>"``) of the validated value, put before every location.
    """
    errors = [_one_error(e, prefix) for e in err.errors()]
    first, more = errors[0], len(errors) - 1
    if more:
        first = ScenarioError(first.field, first.value,
                              f"{first.allowed} (and {more} more error{'s' if more > 1 else ''})")
    first.lines = [str(e) for e in errors]
    return first


class SolveError(ZeroparkError, RuntimeError):
    """The solver failed, or the model is infeasible; the message explains why in the user's terms."""
