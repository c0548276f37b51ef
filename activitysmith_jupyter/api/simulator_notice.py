"""The one line a newcomer without a key sees: where the activity went, how to watch it, what to set.

Without ``ACTIVITYSMITH_API_KEY`` (and without ``ACTIVITYSMITH_BASE_URL``) everything goes to the embedded
simulator, in this process, and nothing reaches a phone. A script, ``activitysmith run`` or papermill would
otherwise say nothing about it. So the first time something is queued or sent to the embedded simulator,
this prints one line, once per process: on stderr, or in a notebook (an ipykernel process) on stdout,
which is the cell's output. Never with a key or a base URL.

Background threads never print: a first send from one (auto mode's timer, the dispatcher) leaves the line
pending; the notebook prints it at the cell's end (``say_pending``), a script at exit.
"""
from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["NOTEBOOK_NOTICE", "SCRIPT_NOTICE", "announce", "notice_text", "say_pending", "set_printer"]

_HEAD = ("activitysmith_jupyter: no ACTIVITYSMITH_API_KEY is set, so this goes to the embedded simulator, "
         "not to your iPhone. Set ACTIVITYSMITH_API_KEY to reach the phone; to watch it here, ")
SCRIPT_NOTICE = _HEAD + ("run `activitysmith simulator` in another terminal, set "
                         "ACTIVITYSMITH_BASE_URL=http://127.0.0.1:8765 and open that address.")
NOTEBOOK_NOTICE = _HEAD + "print(activitysmith_jupyter.default_client().simulator.timeline())."

_lock = threading.Lock()
_said = False
_pending = False
_at_exit = False
_printer: Callable[[str], None] | None = None  # None: stdout in a kernel, else stderr


def in_kernel() -> bool:
    """A running Jupyter kernel's process (its app initialized; looked up, never imported). A process that
    merely imported ipykernel (tqdm.autonotebook, a test run) prints on stderr like any script."""
    app = sys.modules.get("ipykernel.kernelapp")
    kernel_app = getattr(app, "IPKernelApp", None) if app is not None else None
    return kernel_app is not None and bool(kernel_app.initialized())


def notice_text() -> str:
    """The line for this process: a notebook's names the timeline, a script's the simulator server."""
    return NOTEBOOK_NOTICE if in_kernel() else SCRIPT_NOTICE


def set_printer(printer: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Where the line goes (None: the default stream); returns the previous printer."""
    global _printer
    with _lock:
        old, _printer = _printer, printer
    return old


def announce(client: Any) -> None:
    """Something is about to go to `client`: the first time it is the embedded simulator, say so (once
    per process). Cheap after that: one flag."""
    global _pending
    if _said or not getattr(client, "embedded", False):
        return
    if threading.current_thread() is not threading.main_thread():
        with _lock:
            _pending = True
        _print_at_exit()
        return
    _say()


def say_pending() -> None:
    """Print the line a background thread could not (a cell's end; the process's exit)."""
    if _pending and not _said and threading.current_thread() is threading.main_thread():
        _say()


def _say() -> None:
    global _said, _pending
    with _lock:
        if _said:
            return
        _said, _pending = True, False
        printer = _printer
    try:
        if printer is not None:
            printer(notice_text())
        else:
            stream: TextIO = sys.stdout if in_kernel() else sys.stderr
            print(notice_text(), file=stream, flush=True)
    except Exception:  # noqa: BLE001 - a closed stream never stops the user's work
        pass


def _print_at_exit() -> None:
    global _at_exit
    with _lock:
        if _at_exit:
            return
        _at_exit = True
    atexit.register(say_pending)
