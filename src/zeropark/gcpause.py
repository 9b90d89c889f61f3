"""Python's cyclic garbage collector while a ``zeropark`` command starts.

Importing pandas, pvlib with SciPy, xarray and netCDF4 creates about a million long-lived
objects and almost no garbage, yet the collector scans all of them again and again as they
accumulate: in a ``zeropark run`` of the demo year, four full collections took 0.11 s of the time
before and after HiGHS (13, 29 and 66 ms on the main thread, one more during the solve).

The command-line entry point therefore pauses the collector (:func:`pause`) until the first
solve has started or ``limit_s`` has passed, whichever comes first (:func:`resume`). Resuming
first moves every object that exists at that moment out of the collector's reach
(:func:`gc.freeze`), so later collections scan only what the command creates afterwards;
:func:`settle` does the same again once the work done during the solve
(:mod:`zeropark.warmup`) has imported what the results need. Objects are still freed as soon as
nothing refers to them; only reference cycles among frozen objects stay until the process ends,
which for one command's modules, scenario and profiles is nothing worth collecting.

A process forked while the collector is paused gets it back at once (it has no timer thread).
Library use (``import zeropark``) never changes the collector: :func:`resume` and :func:`settle`
do nothing unless :func:`pause` turned it off.
"""

from __future__ import annotations

import gc
import os
import threading

__all__ = ["pause", "resume", "settle"]

#: Longest pause [s]: a command that does not solve (a report, profiles of a long year) gets
#: the collector back after this long.
LIMIT_S = 5.0

#: Name of the thread that ends the pause after :data:`LIMIT_S`.
TIMER_NAME = "zeropark-gcpause"

_lock = threading.Lock()
_state = {"paused": False, "managed": False}


def pause(limit_s: float | None = None) -> None:
    """Turn the collector off, for at most ``limit_s`` seconds (default :data:`LIMIT_S`); nothing
    to do if it is already off."""
    with _lock:
        if not gc.isenabled():
            return
        gc.disable()
        _state["paused"] = True
    timer = threading.Timer(LIMIT_S if limit_s is None else limit_s, resume)
    timer.name = TIMER_NAME
    timer.daemon = True  # never keeps the process alive
    timer.start()


def resume() -> None:
    """Freeze what exists and turn the collector back on, if :func:`pause` turned it off."""
    with _lock:
        if not _state["paused"]:
            return
        _state["paused"] = False
        _state["managed"] = True
        gc.freeze()
        gc.enable()


def _after_fork_in_child() -> None:
    """A process forked while the collector is paused has no timer thread to resume it: the
    child gets the collector back at once."""
    if _state["paused"]:
        _state["paused"] = False
        gc.enable()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


def settle() -> None:
    """Freeze what exists again (after more imports), if the collector is managed here."""
    with _lock:
        if _state["managed"] and not _state["paused"]:
            gc.freeze()
