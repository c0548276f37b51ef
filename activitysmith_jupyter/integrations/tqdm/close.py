"""How a tqdm bar was closed: completed, stopped early (a ``break``), failed or interrupted.

A for-loop's bar is closed by its generator, where an exception in the loop body shows only as
``GeneratorExit``; the frame that dropped the iterator tells the two apart (a ``break`` drops it at a
quiet opcode, an exception at the call or ``raise`` that failed), and under IPython the cell's result
says what the exception was.
"""
from __future__ import annotations

import atexit
import dis
import os
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import tqdm as _tqdm_pkg
from tqdm.std import tqdm as _std_tqdm

from ...hub.outcome import Outcome
from ...hub.wording import MAX_EXC_MESSAGE, truncate
from .try_blocks import is_protected

__all__ = ["SCRIPT_EXIT", "UNKNOWN_ERROR", "after_script_exit", "close_outcome", "describe",
           "dropped_iterator_error", "exception_in_flight"]

# Opcodes at which a frame drops a for-loop's iterator without an exception in flight:
# break/return (POP_TOP, POP_ITER, RETURN_*), loop end (END_FOR, FOR_ITER: e.g. a shorter zip partner),
# rebinding or deleting a name that held it.
_QUIET_OPS = frozenset(op for op in dis.opmap if op.startswith(("POP_", "RETURN_", "JUMP", "END_", "STORE_", "DELETE_"))
                       ) | {"FOR_ITER", "NOP", "RESUME"}
_SKIPPED_DIRS = (  # tqdm's frames and this package's
    os.path.dirname(os.path.abspath(_tqdm_pkg.__file__ or "")) + os.sep,
    os.path.dirname(os.path.abspath(sys.modules[__name__.partition(".")[0]].__file__ or "")) + os.sep,
)


class _UnknownError(Exception):
    pass


UNKNOWN_ERROR = _UnknownError()  # "an exception left the loop; which one, only the cell's result says"
SCRIPT_EXIT = _UnknownError()  # an exception left the loop and nothing up the stack catches it: the script
# is exiting (an uncaught exception, which sys.excepthook will name, or SystemExit, which it will not)
_ITER_CODE = _std_tqdm.__iter__.__code__


def exception_in_flight(bar: Any, caller: FrameType | None) -> BaseException | None:
    """The exception that closes `bar` (``close()`` called from `caller`), if it is the bar's own.

    ``sys.exc_info()`` also shows an exception some outer code is merely handling (``except KeyError:``
    around the loop; joblib consumes its iterator under ``except queue.Empty``): a for-loop's own close
    counts only an exception raised in its iteration (the iterable failed, or ``GeneratorExit``); a
    manual ``close()`` counts the handled exception only when the bar stopped short of its total."""
    exc = sys.exc_info()[1]
    if exc is None:
        return None
    if caller is not None and caller.f_code is _ITER_CODE:
        return exc if _raised_in(exc.__traceback__, caller) else None
    total, n = getattr(bar, "total", None), getattr(bar, "n", 0)
    return exc if total is not None and n < total else None


def _raised_in(tb: TracebackType | None, frame: FrameType) -> bool:
    while tb is not None:
        if tb.tb_frame is frame:
            return True
        tb = tb.tb_next
    return False


def close_outcome(bar: Any, exc: BaseException | None) -> tuple[Outcome, str | None]:
    """How a bar ended: (``completed``|``stopped``|``failed``|``interrupted``, detail).

    `exc`: the exception in flight, when known (``__exit__``, or ``sys.exc_info()`` in ``close()``).
    """
    if isinstance(exc, GeneratorExit):
        exc = dropped_iterator_error()
    aio = sys.modules.get("asyncio")
    if isinstance(exc, KeyboardInterrupt) or (aio is not None and isinstance(exc, aio.CancelledError)):
        return "interrupted", type(exc).__name__
    if exc is not None and not isinstance(exc, (StopIteration, StopAsyncIteration, SystemExit)):
        return "failed", None if isinstance(exc, _UnknownError) else describe(exc)
    total, n = getattr(bar, "total", None), getattr(bar, "n", 0)
    if total is None or n >= total:
        return "completed", None
    return "stopped", None


def describe(exc: BaseException) -> str:
    """``KeyError: 'shard-7'``: the type and the first line of the message, short."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return truncate(f"{type(exc).__name__}: {text}", MAX_EXC_MESSAGE) if text else type(exc).__name__


def dropped_iterator_error() -> BaseException | None:
    """What a ``GeneratorExit`` in a bar's iteration means: None (the loop was left quietly: a break,
    a return ...), `SCRIPT_EXIT` (an exception no frame up the stack handles) or `UNKNOWN_ERROR`."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_SKIPPED_DIRS):
            break
        frame = frame.f_back
    if frame is None or frame.f_lasti < 0:
        return None
    try:
        op = dis.opname[frame.f_code.co_code[frame.f_lasti]]
    except IndexError:
        return None
    if op in _QUIET_OPS:
        return None
    return SCRIPT_EXIT if _unhandled(frame) and threading.current_thread() is threading.main_thread() else UNKNOWN_ERROR


def _unhandled(frame: FrameType | None) -> bool:
    """Whether no frame from `frame` down to the bottom of the stack has a handler (``try``, ``with``)
    around the instruction it is at: an exception there ends the program."""
    while frame is not None:
        try:
            if is_protected(frame.f_code, frame.f_lasti):
                return False
        except Exception:  # noqa: BLE001 - an unknown code format: assume it is handled
            return False
        frame = frame.f_back
    return True


_exit_lock = threading.Lock()
_exit_waiting: list[Callable[[BaseException], Any]] = []
_exit_hooked = False


def after_script_exit(callback: Callable[[BaseException], Any]) -> bool:
    """Call ``callback(exc)`` once the script's exit tells how it ended: the uncaught exception (from
    ``sys.excepthook``), else ``SystemExit()`` at exit (``sys.exit``: its code is not known there)."""
    global _exit_hooked
    if "IPython" in sys.modules and getattr(sys.modules["IPython"], "get_ipython", lambda: None)() is not None:
        return False
    with _exit_lock:
        _exit_waiting.append(callback)
        if not _exit_hooked:
            _exit_hooked = True
            previous = sys.excepthook

            def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
                _resolve_exit(exc)
                previous(kind, exc, tb)

            sys.excepthook = hook
            atexit.register(_resolve_exit, None)  # after the dispatcher's exit flush: runs before it
    return True


def _resolve_exit(exc: BaseException | None) -> None:
    with _exit_lock:
        waiting = list(_exit_waiting)
        _exit_waiting.clear()
    for callback in waiting:
        try:
            callback(exc if exc is not None else SystemExit())
        except Exception:  # noqa: BLE001 - at exit nothing may raise; the activity keeps its last state
            pass
