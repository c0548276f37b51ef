"""Stalled runs: progress that has not moved for `stall_after` seconds gets one push and a subtitle that
says so; when it moves again the subtitle recovers, with no push. Pure bookkeeping (the caller passes
the monotonic time); the `Activity` calls it from its ticker and from `feed`.

A process stuck in C code holding the GIL runs no thread at all, so it cannot notice its own stall;
its watchdog does (no heartbeat for `stall_after`, see ``watchdog/main.py``). When the interpreter
comes back after such a silence, the stall is taken as announced already (no second push).
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from .wording import format_duration

__all__ = [
    "DEFAULT_STALL_AFTER",
    "StallWatch",
    "check_stall_after",
    "clip",
    "format_minutes",
    "percent_text",
    "stall_notice",
    "stall_push",
    "stall_subtitle",
]

DEFAULT_STALL_AFTER = 600.0
MIN_STALL_AFTER = 1.0
MAX_SUBTITLE = 80
MAX_PUSH_TITLE = 120


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
    """An Activity's stall (``StallWatch.due`` said so): the subtitle says it, and per `push` and the
    activity's `notify`, one push. Never raises (it runs on the ticker thread)."""
    try:
        with activity._lock:
            activity._stall.saved_subtitle = activity._content.get("subtitle")
            activity._content = {**activity._content, "subtitle": stall_subtitle(quiet, activity._content)}
            activity._send_update()
        if push and activity.notify != "never" and getattr(activity.rank, "mirrors", True):  # rank 0 speaks
            activity.dispatcher.push(stall_push(activity.title, quiet, activity._content, channels=activity.channels))
    except Exception as exc:  # noqa: BLE001 - a notice must not stop the ticker
        activity._remember(exc, "the stall notice failed")


# ---------------------------------------------------------------------------------------- wording


def format_minutes(seconds: float) -> str:
    """``20 min``, ``1h 05m`` (``45s`` under a minute): how long nothing moved."""
    if seconds < 60:
        return format_duration(seconds)
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 60 else format_duration(minutes * 60.0)


def percent_text(state: Mapping[str, Any]) -> str | None:
    """Where a content state stands: ``47 %``, ``step 2 of 5``, or None."""
    pct = state.get("percentage")
    if isinstance(pct, (int, float)) and not isinstance(pct, bool) and math.isfinite(pct):
        return f"{pct:.0f} %"
    steps, current = state.get("number_of_steps"), state.get("current_step")
    if isinstance(steps, int) and isinstance(current, int):
        return f"step {current} of {steps}"
    return None


def clip(text: str, limit: int = MAX_SUBTITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stall_subtitle(stalled_for: float, state: Mapping[str, Any]) -> str:
    """``⚠️ No progress for 20 min · stuck at 47 %``."""
    where = percent_text(state)
    return clip(f"⚠️ No progress for {format_minutes(stalled_for)}" + (f" · stuck at {where}" if where else ""))


def stall_push(title: str, stalled_for: float, state: Mapping[str, Any], *, why: str | None = None,
               channels: Sequence[str] = ()) -> dict[str, Any]:
    """``⚠️ Training has made no progress for 20 min — stuck at 47 %`` (`why`: the push's message)."""
    where = percent_text(state)
    push: dict[str, Any] = {"title": clip(f"⚠️ {title} has made no progress for {format_minutes(stalled_for)}"
                                          + (f" — stuck at {where}" if where else ""), MAX_PUSH_TITLE)}
    if why:
        push["message"] = why
    if channels:
        push["channels"] = list(channels)
    return push
