"""The ``zeropark`` command's entry point: the CLI inside a guard that turns Ctrl-C at any moment
(while importing, parsing, running, or during interpreter shutdown) into one line on stderr and
exit code 130.

Kept free of imports beyond the standard library, so that it is running before anything slow is
imported.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the handler comes first
if TYPE_CHECKING:
    from typing import Any, NoReturn

EXIT_INTERRUPTED = 130
_LINE = "interrupted; no partial output was written\n"


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a stream may be closed; the exit code counts
            pass


def _exit_interrupted() -> NoReturn:
    """Exit 130 now, without running atexit handlers (they could be interrupted too).

    Also past interpreter shutdown: a KeyboardInterrupt raised inside ``exec`` of source text
    (``dataclasses`` and ``namedtuple`` build their methods that way, so it happens while
    modules are being imported) makes CPython note it as unhandled even when the command catches
    it, and a ``python -m zeropark`` run then ends by killing itself with SIGINT: exit -2
    instead of 130, about 1 run in 100 of Ctrl-C during imports (``tests/test_hardening.py``).
    """
    _flush()
    os._exit(EXIT_INTERRUPTED)


_ctrl_c = False  # set once a Ctrl-C has reached the running command


def _raise_interrupt(*_: Any) -> None:
    """Python's own Ctrl-C behaviour (``KeyboardInterrupt``), noting that it happened.

    A Ctrl-C that lands inside a compiled extension's module initialisation can come out as
    another error (Cython modules report an ``ImportError``); the command still has to end as
    an interruption (:func:`ctrl_c_received`).
    """
    global _ctrl_c
    _ctrl_c = True
    raise KeyboardInterrupt


def ctrl_c_received() -> bool:
    """Whether a Ctrl-C has reached the running command."""
    return _ctrl_c


def _interrupted(*_: Any) -> NoReturn:
    """One line and exit 130 (:func:`_exit_interrupted`)."""
    _flush()
    os.write(2, _LINE.encode())
    os._exit(EXIT_INTERRUPTED)


def _exit_quickly(code: int) -> NoReturn:
    """Exit with ``code`` as the interpreter would, without tearing down its modules.

    The atexit handlers run (logging, temporary folders, multiprocessing and Dask clean-up) and
    the standard streams are flushed; what is skipped is CPython freeing every module and object
    one by one, which after a run's imports (pandas, pvlib with SciPy, xarray) takes 0.15–0.25 s
    and does nothing a user can see: every output file is written and closed by then. While a
    thread other than the main one still runs (and is not a daemon), the normal exit joins it.
    """
    import threading

    if any(t is not threading.main_thread() and not t.daemon and t.is_alive()
           for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    _flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI; exit codes as documented in :mod:`zeropark.cli`, 130 on Ctrl-C."""
    signal.signal(signal.SIGINT, _interrupted)  # until the CLI is imported: imports are not
    try:                                        # interruptible cleanly otherwise
        from zeropark import gcpause

        gcpause.pause()  # no collector scans while the command imports (zeropark.gcpause)
        import click

        from zeropark.cli import main as cli
    except KeyboardInterrupt:
        _interrupted()
    signal.signal(signal.SIGINT, _raise_interrupt)  # commands catch KeyboardInterrupt
    code: Any = 0
    try:
        code = cli.main(args=argv, prog_name="zeropark", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _interrupted()
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code
    if code == EXIT_INTERRUPTED:  # the command said its one line for a Ctrl-C
        _exit_interrupted()
    # whatever happens while the interpreter shuts down (atexit handlers, thread joins), a
    # Ctrl-C now ends with the same one line and 130, never a traceback
    signal.signal(signal.SIGINT, _interrupted)
    if code is None or isinstance(code, click.Context):
        code = 0
    if isinstance(code, int) and 0 <= code <= 255:
        _exit_quickly(code)
    sys.exit(code)
