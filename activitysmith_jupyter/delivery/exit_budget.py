"""How long a process may wait at exit for its closing sends: one budget shared by every exit hook.

A dead network must not hold the user's exit. The watchdog's hand-over, the dispatchers' atexit flush and
``activitysmith run``'s wait for its child's last reports all end by one deadline, set when the exit
begins (the first hook, or ``begin_exit()``): the process is gone at most `EXIT_SECONDS` after its last
line. What is still undelivered then is the watchdog's: it was told every queued end and closing push
(``watchdog/parent.ending``), and keeps trying in the background for ``watchdog.main.DEATH_FLUSH_SECONDS``.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["EXIT_MARGIN", "EXIT_SECONDS", "begin_exit", "keep_interrupted_exit", "time_left"]

EXIT_SECONDS = 5.0  # the promise: exit comes at most this long after the process's last line
EXIT_MARGIN = 1.0  # kept back for what runs after the last flush: pipes closed, threads joined, teardown

_lock = threading.Lock()
_deadline: float | None = None


def begin_exit() -> float:
    """The exit has begun (idempotent): the monotonic time by which every exit hook is done sending."""
    global _deadline
    with _lock:
        if _deadline is None:
            _deadline = time.monotonic() + EXIT_SECONDS - EXIT_MARGIN
        return _deadline


def time_left() -> float:
    """Seconds of the exit budget left (starting it if it has not begun)."""
    return max(0.0, begin_exit() - time.monotonic())


def keep_interrupted_exit() -> None:
    """atexit, registered before the exit hooks that send (so it runs after them): a script that ended on
    an uncaught Ctrl-C still dies of SIGINT, as a shell expects (status 130). CPython does this itself
    only while nothing ran Python module code after the interrupt; the exit hooks' sends may import
    httpx (lazily, at the first request), and that import makes the interpreter exit with status 1."""
    if not isinstance(getattr(sys, "last_exc", None) or getattr(sys, "last_value", None), KeyboardInterrupt):
        return
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover - atexit runs there
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream must not keep the status from the shell
            pass
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def _forget_in_child() -> None:
    """A forked child's exit is its own."""
    global _lock, _deadline
    _lock, _deadline = threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
