"""Stalled runs: progress that has not moved for `stall_after` seconds gets one push and a subtitle that
says so; when it moves again the subtitle recovers, with no push. Pure bookkeeping (the caller passes
the monotonic time); the `Activity` calls it from its ticker (every `tick_interval`) and from `feed`.

A process stuck in C code holding the GIL runs no thread at all, so it cannot notice its own stall;
its watchdog does (no heartbeat for `stall_after`, see ``watchdog/main.py``). When the interpreter
comes back after such a silence, the stall is taken as announced already (no second push).
"""
from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

from .ticker import TICK_SECONDS
from .wording import push_request, stall_push_title, stall_subtitle

__all__ = ["DEFAULT_STALL_AFTER", "StallWatch", "check_stall_after", "stall_notice", "tick_interval"]

DEFAULT_STALL_AFTER = 600.0
MIN_STALL_AFTER = 1.0
STALL_TICK_FLOOR = 2.0  # seconds: the shortest tick period a short stall_after asks for


def tick_interval(stall_after: float | None) -> float:
    """How often an activity's stall is checked: a stall is seen within max(1.5 × stall_after,
    stall_after + 5 s) of the last progress. It is seen at most two ticks after `stall_after` (the tick
    that notices the last move, then the one that finds it stale): a fifth of it, between
    STALL_TICK_FLOOR and the ticker's own period."""
    if stall_after is None:
        return TICK_SECONDS
    return min(TICK_SECONDS, max(STALL_TICK_FLOOR, stall_after / 5))


def check_stall_after(value: Any, name: str = "stall_after") -> float | None:
    """`value` as seconds (> 0), or None (0 and None turn stall detection off); ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r}: seconds without progress before the stall push "
                         f"(a number >= {MIN_STALL_AFTER:g}), or 0 / None to turn it off")
    if value == 0:
        return None
    if value < MIN_STALL_AFTER:
        raise ValueError(f"{name}={value!r}: at least {MIN_STALL_AFTER:g} s, or 0 / None to turn it off")
    return float(value)


class StallWatch:
    """When the progress of one activity last moved, and whether its current stall was announced.

    Only progress counts: a run that never reported any is not "stuck at" anything.
    """

    def __init__(self, stall_after: float | None, now: float) -> None:
        self.stall_after = stall_after
        self.last_moved = now
        self.marker: Hashable = None
        self.stalled = False
        self.saved_subtitle: str | None = None  # what the stall notice replaced

    @property
    def enabled(self) -> bool:
        return self.stall_after is not None

    def moved(self, marker: Hashable, now: float) -> bool:
        """Progress is now at `marker` (a count, a step ...). True when this ends an announced stall
        (the subtitle must recover)."""
        if marker == self.marker:
            return False
        self.marker, self.last_moved = marker, now
        recovered, self.stalled = self.stalled, False
        return recovered

    def due(self, now: float, *, silence: float = 0.0) -> tuple[float, bool] | None:
        """(seconds without progress, push?) when a stall begins now, else None (once per stall).

        `silence`: the longest time since the progress last moved in which the interpreter did not run
        (the watchdog's handle measures it); one of `stall_after` or more was the watchdog's to push."""
        if self.stall_after is None or self.stalled or self.marker is None:
            return None
        quiet = now - self.last_moved
        if quiet <= self.stall_after:
            return None
        self.stalled = True
        return quiet, silence < self.stall_after


def stall_notice(activity: Any, quiet: float, push: bool) -> None:
    """An Activity's stall (``StallWatch.due`` said so): the subtitle says it, and when `push` (the
    trouble policy's word, ``hub/trouble.py``), one push. Never raises (it runs on the ticker thread)."""
    try:
        with activity._lock:
            activity._stall.saved_subtitle = activity._content.get("subtitle")
            activity._content = {**activity._content, "subtitle": stall_subtitle(quiet, activity._content)}
            activity._send_update()
        if push and getattr(activity.rank, "mirrors", True):  # rank 0 speaks
            buttons = getattr(activity, "_buttons", None)  # a run in a Jupyter kernel: a tap opens its notebook
            activity.dispatcher.push(push_request(stall_push_title(activity.title, quiet, activity._content),
                                                  channels=activity.channels,
                                                  redirection=getattr(buttons, "redirection", None)))
    except Exception as exc:  # noqa: BLE001 - a notice must not stop the ticker
        activity._remember(exc, "the stall notice failed")
