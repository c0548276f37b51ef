"""The number IPython shows for the cell about to run (``In [7]``), as a ``pre_run_cell`` callback sees it.

IPython 9.8 moved ``execution_count += 1`` before the ``pre_run_cell`` event: from then on the shell's
count is already the next cell's there; earlier releases (all of IPython 8) count the cell after it ran.
A cell run without history (``store_history=False``) takes no number: the shell's count is left as it is.
"""
from __future__ import annotations

from typing import Any

from IPython.core.release import version_info

__all__ = ["COUNTED_BEFORE_PRE_RUN_CELL", "running_cell_number"]

COUNTED_BEFORE_PRE_RUN_CELL = tuple(version_info[:2]) >= (9, 8)


def running_cell_number(shell: Any, info: Any = None, *, counted_before: bool = COUNTED_BEFORE_PRE_RUN_CELL
                        ) -> int | None:
    """The running cell's number from ``pre_run_cell(info)``; None when the shell keeps no count.
    `info` may be missing (a kernel calling the event without it): then the cell is taken as a usual one."""
    count = getattr(shell, "execution_count", None)
    if not isinstance(count, int):
        return None
    if counted_before and getattr(info, "store_history", True):
        return count - 1
    return count
