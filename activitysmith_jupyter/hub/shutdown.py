"""SIGTERM: open activities end as "terminated" and their closing sends land before the process dies.

SLURM time limits, Kubernetes and ``kill`` send SIGTERM. Python's default is to die at once, so an
activity open at that moment would stay "running" on the phone. Every `Activity` registers here when
it starts (``opened``) and counts as gone once it has an ``outcome``. The first start, on the main thread,
installs a SIGTERM handler unless the signal is ignored:

* it ends every open activity as "terminated" and flushes their dispatchers within `FLUSH_SECONDS`
  (the same 5 s bound as at exit), from a helper thread, so a lock the interrupted code holds can
  delay the closing sends but never hang the process;
* then it does what was there before: a handler the user installed is called (it decides whether the
  process exits); with the default disposition it restores ``SIG_DFL`` and re-raises the signal, so
  the process ends exactly as SIGTERM would have ended it (status 143 / ``-SIGTERM``).

A handler the user installs after ours replaces ours; that is their choice and it is kept. A forked
child (a multiprocessing worker) starts with an empty registry: its SIGTERM never ends the parent's
activities. No IPython, no framework imports; the registry holds activities weakly.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol, TypeVar, Union

__all__ = [
    "FLUSH_SECONDS",
    "Endable",
    "closed",
    "end_open_activities",
    "final_snapshot",
    "install_sigterm_handler",
    "open_activities",
    "opened",
    "sigterm_handler_installed",
]

log = logging.getLogger("activitysmith_jupyter")

FLUSH_SECONDS = 5.0

_Handler = Union[Callable[[int, Union[FrameType, None]], Any], int, signal.Handlers, None]


E = TypeVar("E", bound="Endable")


class Endable(Protocol):
    """What the registry needs of an activity (the hub's `Activity` is one)."""

    def end(self, outcome: Any, *, error: BaseException | str | None = None) -> None: ...


_lock = threading.Lock()
_open: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_last_of: weakref.WeakKeyDictionary[Any, Callable[[], Any]] = weakref.WeakKeyDictionary()
_order = 0
_installed = False
_previous: _Handler = None


def _forget_in_child() -> None:
    """A forked child (a multiprocessing worker) inherits the registry, but those activities are the
    parent's: a worker that gets SIGTERM (``Pool.terminate()``) must not end them."""
    global _lock
    _lock = threading.Lock()  # it may have been held by another thread at the fork
    _open.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def opened(activity: E) -> E:
    """An activity started: remember it until it ends (its ``outcome`` is set), install the SIGTERM
    handler if this is the first, and return it."""
    global _order
    with _lock:
        for k, v in list(_open.items()):  # forget the ones that ended since
            if getattr(v, "outcome", None) is not None:
                del _open[k]
        _order += 1
        _open[_order] = activity
        installed = _installed
    if not installed:
        install_sigterm_handler()
    return activity


def final_snapshot(activity: Endable, provider: Callable[[], Any]) -> None:
    """At SIGTERM, end `activity` with ``last=provider()`` (a front end that feeds only when its pacing
    lets an update go, like the tqdm drop-in, knows a newer count than it fed)."""
    with _lock:
        _last_of[activity] = provider


def closed(activity: Endable) -> None:
    """Forget `activity` now (an ended one is forgotten anyway: its ``outcome`` is set)."""
    with _lock:
        for k, v in list(_open.items()):
            if v is activity:
                del _open[k]


def open_activities() -> list[Any]:
    """The activities started and not yet ended, oldest first."""
    with _lock:
        return [v for _, v in sorted(_open.items()) if getattr(v, "outcome", None) is None]


def end_open_activities(outcome: str = "terminated", *, error: str | None = None,
                        timeout: float = FLUSH_SECONDS) -> bool:
    """End every open activity with `outcome` (innermost first) and flush their sends within `timeout`
    seconds. Runs on a helper thread; True when everything landed in time."""
    done = threading.Event()
    result: list[bool] = []

    def work() -> None:
        try:
            result.append(_end_and_flush(outcome, error, time.monotonic() + timeout))
        finally:
            done.set()

    threading.Thread(target=work, name="activitysmith-sigterm", daemon=True).start()
    done.wait(timeout + 0.5)
    return bool(result and result[0])


def _end_and_flush(outcome: str, error: str | None, deadline: float) -> bool:
    activities = open_activities()
    dispatchers: list[Any] = []
    for activity in reversed(activities):
        with _lock:
            provider = _last_of.get(activity)
        try:
            if provider is None:
                activity.end(outcome, error=error)
            else:
                activity.end(outcome, error=error, last=provider())
        except Exception:  # noqa: BLE001 - the others must still end
            log.debug("ending %r at SIGTERM failed", activity, exc_info=True)
        d = getattr(activity, "dispatcher", None) or getattr(activity, "_dispatcher", None)
        if d is not None and all(d is not seen for seen in dispatchers):
            dispatchers.append(d)
    ok = True
    for d in dispatchers:
        try:
            ok = bool(d.flush(max(0.0, deadline - time.monotonic()))) and ok
        except Exception:  # noqa: BLE001 - exit must go on
            log.debug("flush at SIGTERM failed", exc_info=True)
            ok = False
    from ..watchdog.parent import confirm_delivered  # what landed, its watchdog must not end again (issue 13)

    confirm_delivered()
    return ok


def sigterm_handler_installed() -> bool:
    return _installed and signal.getsignal(signal.SIGTERM) is _on_sigterm


def install_sigterm_handler() -> bool:
    """Install the handler once (main thread only; not when SIGTERM is ignored). True if ours is in place."""
    global _installed, _previous
    with _lock:
        if _installed:
            return signal.getsignal(signal.SIGTERM) is _on_sigterm
        if threading.current_thread() is not threading.main_thread():
            return False  # signal.signal works only there; a later start on the main thread installs it
        try:
            previous = signal.getsignal(signal.SIGTERM)
            if previous == signal.SIG_IGN:
                _installed = True  # the user (or nohup-like parent) chose to ignore it: leave it so
                return False
            signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError) as exc:  # an embedded interpreter without signals
            log.debug("cannot install the SIGTERM handler: %s", exc)
            return False
        _previous = previous
        _installed = True
        return True


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    end_open_activities("terminated", error="SIGTERM")
    previous = _previous
    if callable(previous):
        previous(signum, frame)
        return
    # SIG_DFL (or a handler installed from C, which Python reports as None): die as SIGTERM would
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1.0)  # the signal is delivered on return to the interpreter loop; do not run on meanwhile
    os._exit(128 + signal.SIGTERM)


def _reset_for_tests() -> None:  # pragma: no cover - used by in-process tests only
    global _installed, _previous
    with _lock:
        if _installed and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, _previous if _previous is not None else signal.SIG_DFL)
        _installed = False
        _previous = None
        _open.clear()
