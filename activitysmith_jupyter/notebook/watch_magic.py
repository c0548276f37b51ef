"""The magics' side of the watchdog and of stall detection: ``%activitysmith monitor on|off`` and the
``stall_after`` option (``--stall-after``, ``%config ActivitySmithMagics.stall_after``). Imported by
``magics.py`` only; user mistakes raise IPython's ``UsageError``."""
from __future__ import annotations

from typing import Any

__all__ = ["STALL_AFTER_HELP", "monitor_command", "stall_after_option"]

STALL_AFTER_HELP = ("Seconds a cell's progress may stand still before one push (\"⚠️ <title> has made no "
                    "progress for 20 min — stuck at 47 %\") and a subtitle that says so. 0 or None: off.")


def _usage(message: str) -> Exception:
    from IPython.core.error import UsageError

    return UsageError(message)


def stall_after_option(option: float | None, configured: float | None) -> float | None:
    """``--stall-after`` over ``%config ActivitySmithMagics.stall_after``, checked."""
    from ..hub.stall import check_stall_after

    try:
        return check_stall_after(option if option is not None else configured)
    except ValueError as exc:
        raise _usage(str(exc).replace("stall_after=", "--stall-after ", 1)) from None


def monitor_command(switch: str, dispatcher: Any) -> str:
    """``%activitysmith monitor on|off``: what to print; UsageError for anything else, or without a
    watchdog (the embedded simulator lives inside the kernel, so nothing outside could show it)."""
    from .. import watchdog

    if switch not in ("on", "off"):
        raise _usage("%activitysmith monitor needs on or off")
    if watchdog.monitor(switch == "on", client=getattr(dispatcher, "client", None)) is None and switch == "on":
        raise _usage("the monitor needs a live client (ACTIVITYSMITH_API_KEY, or ACTIVITYSMITH_BASE_URL for a "
                     "simulator server): the embedded simulator lives inside this kernel")
    return f"resource monitor {switch} (stream {watchdog.MONITOR_KEY!r}, sampled by the watchdog process)"
