"""Progress of long work on stderr: the phase, elapsed time, and HiGHS's incumbent, bound and gap.

A run goes through the phases *profiles* → *build* → *LP relaxation* → *rounding* (the LP with
the rounded binaries fixed, the MILP's warm start) → *MILP* (or *LP* for a relaxation). A
:class:`Progress` reporter writes one line when a phase starts and, while HiGHS runs, a status line
at a throttled rate::

    [   0.0 s] profiles …
    [   1.9 s] build …
    [   2.2 s] LP relaxation …
    [   7.2 s] LP relaxation: running (5.0 s)
    [  15.0 s] MILP …
    [  17.0 s] MILP: incumbent 15,951,370, bound 15,951,365, gap 0.00003 % (2.0 s)

Incumbent, bound and gap are HiGHS's own numbers (its MIP logging and improving-solution
callbacks, which run in the solver thread and only store them); the lines are written by the
thread that waits for HiGHS (:func:`zeropark.solve.solve_interruptibly`), so a silent stretch of
HiGHS still gets a "running" line every few seconds. With ``highs_log`` the full HiGHS log goes to
the same stream (never to stdout, which the CLI keeps for its tables and JSON).

The library is silent by default; the CLI installs a reporter with :func:`reporting` for one
command (see ``zeropark --help``: progress on a terminal, ``-v`` for the HiGHS log, ``-q`` for
none). The active reporter is a context variable, so solves in worker threads stay silent.
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import highspy

#: Shortest spacing of status lines when HiGHS reported something new [s].
NEWS_EVERY_S = 1.0
#: Spacing of "running" lines while nothing new is known [s].
HEARTBEAT_EVERY_S = 5.0


class Progress:
    """A progress reporter.

    Parameters
    ----------
    stream : TextIO, optional
        Where lines go (default: ``sys.stderr`` at the time of writing).
    lines : bool
        Write phase and status lines.
    highs_log : bool
        Forward HiGHS's full log to ``stream``.
    news_every_s, heartbeat_every_s : float
        Throttle [s]: shortest spacing of status lines with new numbers, and of those without.
    """

    def __init__(self, stream: TextIO | None = None, *, lines: bool = True, highs_log: bool = False,
                 news_every_s: float = NEWS_EVERY_S,
                 heartbeat_every_s: float = HEARTBEAT_EVERY_S) -> None:
        self._stream = stream
        self.lines = lines
        self.highs_log = highs_log
        self.news_every_s = news_every_s
        self.heartbeat_every_s = heartbeat_every_s
        self._t0 = time.perf_counter()
        self._phase = ""
        self._phase_t0 = self._t0
        self._last_line = self._t0
        self._lock = threading.Lock()
        self._mip: tuple[float, float, float] | None = None  # incumbent, bound, gap (HiGHS)
        self._news = False

    @property
    def active(self) -> bool:
        """Whether anything is written at all."""
        return self.lines or self.highs_log

    # -- called by the code doing the work (main thread) -----------------------------------------
    def phase(self, name: str) -> None:
        """A new phase starts: write its line and forget the previous phase's numbers."""
        now = time.perf_counter()
        with self._lock:
            self._phase, self._phase_t0 = name, now
            self._mip, self._news = None, False
        if self.lines:
            self._write(f"{name} …", now)

    def note(self, text: str) -> None:
        """Write one line (e.g. how a solve ended) when lines are on."""
        if self.lines:
            self._write(text, time.perf_counter())

    def tick(self) -> None:
        """Write a status line if the throttle allows; called often while HiGHS runs."""
        if not self.lines:
            return
        now = time.perf_counter()
        since = now - self._last_line
        with self._lock:
            news, mip = self._news, self._mip
            if not (news and since >= self.news_every_s) and since < self.heartbeat_every_s:
                return
            self._news = False
        self._write(self.status(mip, now - self._phase_t0), now)

    def status(self, mip: tuple[float, float, float] | None, in_phase_s: float) -> str:
        """The status text of the current phase."""
        if mip is None:
            return f"{self._phase}: running ({in_phase_s:.1f} s)"
        incumbent, bound, gap = mip
        if incumbent != incumbent or abs(incumbent) == float("inf"):  # NaN or inf: none yet
            return f"{self._phase}: no incumbent yet, bound {bound:,.0f} ({in_phase_s:.1f} s)"
        return (f"{self._phase}: incumbent {incumbent:,.0f}, bound {bound:,.0f}, "
                f"gap {percent(gap)} ({in_phase_s:.1f} s)")

    # -- HiGHS -----------------------------------------------------------------------------------
    def attach(self, h: highspy.Highs) -> None:
        """Subscribe to ``h``'s log and MIP callbacks as this reporter needs.

        HiGHS's console log stays off (it would go to stdout); with ``log_to_console`` off and
        ``output_flag`` on, HiGHS still calls the logging and MIP-logging callbacks.
        """
        if not self.active:
            return
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        if self.highs_log:
            h.cbLogging.subscribe(self._on_log)
        if self.lines:
            h.cbMipLogging.subscribe(self._on_mip)
            h.cbMipImprovingSolution.subscribe(self._on_mip)

    def _on_log(self, event: highspy.highs.HighsCallbackEvent) -> None:  # HiGHS thread
        self.stream.write(event.message)
        self.stream.flush()

    def _on_mip(self, event: highspy.highs.HighsCallbackEvent) -> None:  # HiGHS thread
        out = event.data_out
        numbers = (float(out.mip_primal_bound), float(out.mip_dual_bound), float(out.mip_gap))
        with self._lock:
            if numbers != self._mip:
                self._mip, self._news = numbers, True

    # -- output ----------------------------------------------------------------------------------
    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def _write(self, text: str, now: float) -> None:
        self._last_line = now
        self.stream.write(f"[{now - self._t0:8.1f} s] {text}\n")
        self.stream.flush()


def percent(gap: float) -> str:
    """A relative gap as a percentage with enough digits to see it move."""
    if gap != gap or gap == float("inf"):
        return "∞"
    pct = 100.0 * gap
    return f"{pct:.2f} %" if pct >= 0.01 or pct == 0 else f"{pct:.1e} %"


_SILENT = Progress(lines=False)
_CURRENT: contextvars.ContextVar[Progress] = contextvars.ContextVar("zeropark_progress",
                                                                    default=_SILENT)


def current() -> Progress:
    """The reporter of this context (a silent one unless :func:`reporting` installed one)."""
    return _CURRENT.get()


@contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the reporter of the work done inside the ``with`` block."""
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)


def for_terminal(*, verbose: bool = False, quiet: bool = False, force: bool = False,
                 stream: TextIO | None = None) -> Progress:
    """The CLI's reporter: lines when ``stream`` (default stderr) is a terminal or ``force``;
    the full HiGHS log too with ``verbose``; nothing with ``quiet`` (which wins)."""
    target = stream if stream is not None else sys.stderr
    if quiet:
        return Progress(target, lines=False)
    is_tty = bool(getattr(target, "isatty", lambda: False)())
    return Progress(target, lines=is_tty or force or verbose, highs_log=verbose)
