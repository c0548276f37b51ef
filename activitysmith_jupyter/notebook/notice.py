"""The no-key line in a notebook: printed once, in the output of the cell whose activity went to the
embedded simulator first, and shown by ``%activitysmith status`` (see ``api/simulator_notice.py``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..api.simulator_notice import NOTEBOOK_NOTICE, say_pending, set_printer

__all__ = ["install_notice", "status_lines", "uninstall_notice"]

WATCH = "print(activitysmith_jupyter.default_client().simulator.timeline())"

_previous: list[Callable[[str], None] | None] = []


def _print(_text: str) -> None:
    print(NOTEBOOK_NOTICE, flush=True)  # the cell's output (stdout), never stderr


def _at_cell_end(result: Any = None) -> None:
    say_pending()  # an activity started by a background thread (auto mode's timer) during this cell


def install_notice(shell: Any) -> None:
    """The line goes to the running cell's output; one left pending goes out at the cell's end."""
    _previous.append(set_printer(_print))
    shell.events.register("post_run_cell", _at_cell_end)


def uninstall_notice(shell: Any) -> None:
    set_printer(_previous.pop() if _previous else None)
    try:
        shell.events.unregister("post_run_cell", _at_cell_end)
    except ValueError:
        pass


def status_lines(client: Any) -> list[str]:
    """What ``%activitysmith status`` adds for the embedded simulator: how to watch it, what to set."""
    if not getattr(client, "embedded", False):
        return []
    return [f"watch it:   {WATCH}",
            "to go live: set ACTIVITYSMITH_API_KEY in the kernel's environment (none is set)"]
