"""Run something when the running IPython cell ends (with its error), without importing IPython."""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["after_this_cell"]


def after_this_cell(callback: Callable[[BaseException | None], Any]) -> bool:
    """Under IPython, call ``callback(error_in_exec)`` once when the running cell ends; False when no cell
    is running (no IPython, another thread, or a shell that exists but is not running a cell)."""
    ipython = sys.modules.get("IPython")
    if ipython is None or threading.current_thread() is not threading.main_thread():  # cells run in main
        return False
    shell = ipython.get_ipython()
    events = getattr(shell, "events", None)
    # IPython keeps the running cell's result on its displayhook from the cell's start to its end
    if events is None or getattr(getattr(shell, "displayhook", None), "exec_result", None) is None:
        return False

    def once(result: Any = None) -> None:  # some kernels (Colab's, once) trigger it without the result
        events.unregister("post_run_cell", once)
        error = getattr(result, "error_in_exec", None)
        callback(error if isinstance(error, BaseException) else None)

    events.register("post_run_cell", once)
    return True
