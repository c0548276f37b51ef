"""How a tqdm bar was closed: completed, stopped early (a ``break``), failed or interrupted.

A for-loop's bar is closed by its generator, where an exception in the loop body shows only as
``GeneratorExit``; the frame that dropped the iterator tells the two apart (a ``break`` drops it at a
quiet opcode, an exception at the call or ``raise`` that failed), and under IPython the cell's result
says what the exception was.
"""
from __future__ import annotations

import dis
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import tqdm as _tqdm_pkg

from ..outcome import Outcome

__all__ = ["UNKNOWN_ERROR", "after_this_cell", "close_outcome", "describe"]

# Opcodes at which a frame drops a for-loop's iterator without an exception in flight:
# break/return (POP_TOP, POP_ITER, RETURN_*), loop end (END_FOR, FOR_ITER: e.g. a shorter zip partner),
# rebinding or deleting a name that held it.
_QUIET_OPS = frozenset(op for op in dis.opmap if op.startswith(("POP_", "RETURN_", "JUMP", "END_", "STORE_", "DELETE_"))
                       ) | {"FOR_ITER", "NOP", "RESUME"}
_SKIPPED_DIRS = (  # tqdm's frames and this package's
    os.path.dirname(os.path.abspath(_tqdm_pkg.__file__ or "")) + os.sep,
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
)


class _UnknownError(Exception):
    pass


UNKNOWN_ERROR = _UnknownError()  # "an exception left the loop; which one, only the cell's result says"


def close_outcome(bar: Any, exc: BaseException | None) -> tuple[Outcome, str | None]:
    """How a bar ended: (``completed``|``stopped``|``failed``|``interrupted``, detail).

    `exc`: the exception in flight, when known (``__exit__``, or ``sys.exc_info()`` in ``close()``).
    """
    if isinstance(exc, GeneratorExit):
        exc = None if _dropped_quietly() else UNKNOWN_ERROR
    aio = sys.modules.get("asyncio")
    if isinstance(exc, KeyboardInterrupt) or (aio is not None and isinstance(exc, aio.CancelledError)):
        return "interrupted", type(exc).__name__
    if exc is not None and not isinstance(exc, (StopIteration, StopAsyncIteration, SystemExit)):
        return "failed", None if exc is UNKNOWN_ERROR else describe(exc)
    total, n = getattr(bar, "total", None), getattr(bar, "n", 0)
    if total is None or n >= total:
        return "completed", None
    return "stopped", None


def after_this_cell(callback: Callable[[BaseException | None], Any]) -> bool:
    """Under IPython, call ``callback(error_in_exec)`` once when the running cell ends; False elsewhere."""
    ipython = sys.modules.get("IPython")
    if ipython is None or threading.current_thread() is not threading.main_thread():  # cells run in main
        return False
    shell = ipython.get_ipython()
    events = getattr(shell, "events", None)
    if events is None:
        return False

    def once(result: Any) -> None:
        events.unregister("post_run_cell", once)
        callback(getattr(result, "error_in_exec", None))

    events.register("post_run_cell", once)
    return True


def describe(exc: BaseException) -> str:
    """``KeyError: 'shard-7'``: the type and the first line of the message, short."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:80] if text else type(exc).__name__


def _dropped_quietly() -> bool:
    """Whether the first frame outside tqdm and this package stands at a quiet opcode (see above)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_SKIPPED_DIRS):
            break
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_lasti < 0:
        return True
    try:
        op = dis.opname[frame.f_code.co_code[frame.f_lasti]]
    except IndexError:
        return True
    return op in _QUIET_OPS
