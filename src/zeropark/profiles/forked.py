"""The pvlib part of a scenario's profiles, computed in a forked process while the command goes on.

Importing pvlib (with the SciPy it pulls in) and computing the weather and PV output of a year
takes 0.3–0.45 s, and nothing else a ``zeropark run`` does before its solve needs it until every
other profile is built. On a machine with two cores the command therefore forks a copy of itself
that computes :func:`zeropark.profiles.build.solar_parts` while the main process imports the
model code and builds the load, tariff, EV and heat profiles; the main process then reads the
result through a pipe (:meth:`SolarJob.result`).

The copy is an accelerator only, never the source of an answer the main process could not give:

- it runs the very same function on the very same scenario, so the arrays are bit-for-bit those
  of the main process (``tests/test_forked_profiles.py``);
- if it fails in any way -- an error (a missing weather file), a warning or log record it would
  otherwise show, a crash, a result that cannot be read -- it sends nothing, and the main process
  computes the part itself, where errors and warnings surface exactly as without it;
- it ignores Ctrl-C (the main process handles it) and :meth:`SolarJob.close` kills and reaps it
  whatever happens, so no process outlives the command; an answer that takes longer than
  :data:`WAIT_S` is not waited for;
- the command forks only while no other thread runs (the collector pause's timer aside), so no
  lock can be held in the copy by a thread that does not exist there;
- it ends with ``os._exit``: no atexit handler, no flush of the main process's buffers.

Only where ``os.fork`` exists, on Linux (macOS frameworks are not safe after fork), with more
than one core, and never in library use: the command line starts it (``zeropark run`` over the
scenario's whole horizon), before it loads the scenario, so that both processes import what that
needs at the same time. ``ZEROPARK_NO_FORK=1`` turns it off.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zeropark.profiles.build import SolarParts
    from zeropark.scenario import Scenario

__all__ = ["SolarJob"]

#: Longest wait for the forked part [s]; past it the main process computes the part itself.
WAIT_S = 60.0


class _Capture(logging.Handler):
    """Remembers whether anything worth showing was logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


def _payload(scenario: Callable[[], Scenario]) -> bytes:
    """The pickled :class:`SolarParts` of the scenario, or nothing if computing them said
    anything."""
    root = logging.getLogger()
    capture = _Capture()
    root.handlers, root.level = [capture], logging.WARNING
    logging.lastResort = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sc = scenario()
            from zeropark.profiles.build import solar_parts

            parts = solar_parts(sc)
        if caught or capture.seen:
            return b""  # the main process computes them again and shows what is to be shown
        return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 -- the main process computes it and reports the error
        return b""


def _other_threads() -> bool:
    """Whether a thread besides the main one (and the collector pause's timer) runs: a lock it
    holds at the fork would stay held in the copy forever, so the command does not fork then."""
    from zeropark.gcpause import TIMER_NAME

    return threading.current_thread() is not threading.main_thread() or any(
        t is not threading.main_thread() and t.name != TIMER_NAME
        for t in threading.enumerate())


class SolarJob:
    """A forked process computing :func:`zeropark.profiles.build.solar_parts` of a scenario."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid: int | None = pid
        self._fd: int | None = fd

    @classmethod
    def start(cls, scenario: Callable[[], Scenario]) -> SolarJob | None:
        """Fork the job, or None where it does not apply (see the module docstring).

        ``scenario`` gives the scenario in the forked process: the command forks before it has
        loaded the scenario (and the libraries that takes), so both processes do that at once.
        """
        if (sys.platform != "linux" or not hasattr(os, "fork")
                or os.environ.get("ZEROPARK_NO_FORK", "") not in ("", "0")
                or (os.cpu_count() or 1) < 2 or _other_threads()):
            return None
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # the copy: compute, send, vanish
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                gc.disable()  # short-lived: no collections (zeropark.gcpause)
                os.close(read_fd)
                data = memoryview(_payload(scenario))
                while data:
                    data = data[os.write(write_fd, data):]
            finally:
                os._exit(0)
        os.close(write_fd)
        return cls(pid, read_fd)

    def result(self) -> SolarParts | None:
        """Wait for the job; its :class:`SolarParts`, or None if it has none to give."""
        if self._fd is None:
            return None
        chunks = []
        deadline = time.monotonic() + WAIT_S
        try:
            while True:
                ready, _, _ = select.select([self._fd], [], [], max(deadline - time.monotonic(), 0))
                if not ready:  # stuck: computed in this process instead
                    return None
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            self.close()
        try:
            parts = pickle.loads(b"".join(chunks)) if chunks else None
        except Exception:  # noqa: BLE001 -- unreadable: computed in this process instead
            return None
        return parts

    def close(self) -> None:
        """Stop the job if it still runs, reap it, close the pipe (safe to call again)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            pid, self._pid = self._pid, None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
