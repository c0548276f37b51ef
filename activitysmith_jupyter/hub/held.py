"""Work an activity waits for before it ends: what its owner started and left running.

A cell that starts Dask futures returns at once while the cluster works on. Ending the cell's activity
then would say "Done" (and push "finished") while the tasks still run, so a source that follows such
work ``hold``s the activity. The owner's end (the cell's, the block's) is then deferred while anything is
held; the last ``release`` ends the activity with the worst outcome of the work (failed over stopped over
completed), at that moment. An owner's own trouble (an exception, Ctrl-C, SIGTERM) ends it at once.

Pure bookkeeping, thread-safe (releases come from a library's threads): no I/O. An activity whose end is
still deferred when the process exits has failed: its work will not finish now.
"""
from __future__ import annotations

import atexit
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from .outcome import Outcome, Snapshot

__all__ = ["Ending", "at_end", "hold", "holding", "release"]

log = logging.getLogger("activitysmith_jupyter")

EXIT_REASON = "exited before the work it started finished"
_RANK: dict[str, int] = {"completed": 0, "stopped": 1, "failed": 2}  # which held outcome wins


@dataclass(frozen=True)
class Ending:
    """How an activity ends: its outcome, the error a failure names, the last snapshot to show."""

    outcome: Outcome
    error: BaseException | str | None = None
    last: Snapshot | None = None


class _Held:
    def __init__(self) -> None:
        self.work: list[object] = []  # what is still running (identity, not equality)
        self.worst: Ending | None = None  # the worst outcome of the work that finished
        self.deferred = False  # the owner's end came while work ran


_lock = threading.Lock()
_held: weakref.WeakKeyDictionary[Any, _Held] = weakref.WeakKeyDictionary()
_deferred: weakref.WeakSet[Any] = weakref.WeakSet()
_exit_hook = False


def hold(activity: Any, work: object) -> None:
    """`activity`'s end waits for `work` until ``release(activity, work, ...)``."""
    with _lock:
        _held.setdefault(activity, _Held()).work.append(work)


def holding(activity: Any) -> int:
    """How much work `activity` waits for."""
    with _lock:
        held = _held.get(activity)
        return len(held.work) if held is not None else 0


def release(activity: Any, work: object, outcome: Outcome, *, error: BaseException | str | None = None,
            last: Snapshot | None = None) -> None:
    """`work` is over with `outcome`; if the owner's end waited for it and nothing else is held, the
    activity ends now."""
    with _lock:
        held = _held.get(activity)
        if held is None or not any(w is work for w in held.work):
            return
        held.work = [w for w in held.work if w is not work]
        worst = held.worst
        rank, worst_rank = _RANK.get(outcome, 2), _RANK.get(worst.outcome, 2) if worst is not None else -1
        if rank > worst_rank or rank == worst_rank == 0:  # the first of the worst trouble, else the newest count
            held.worst = Ending(outcome, error, last)
        due = held.deferred and not held.work
    if due:
        activity.end("completed", last=last)  # at_end turns it into the work's outcome


def at_end(activity: Any, outcome: Outcome, error: BaseException | str | None,
           last: Snapshot | None) -> Ending | None:
    """Called by ``Activity.end``: the ending to show now, or None while held work defers it."""
    with _lock:
        held = _held.get(activity)
        if held is None or outcome != "completed":  # the owner's own trouble ends it at once
            _forget(activity)
            return Ending(outcome, error, last)
        if held.work:
            held.deferred = True
            _deferred.add(activity)
            _end_at_exit()
            return None
        worst = held.worst
        _forget(activity)
    if worst is None or worst.outcome == "completed":
        return Ending(outcome, error, (worst.last if worst is not None else None) or last)
    return Ending(worst.outcome, worst.error, worst.last or last)


def _forget(activity: Any) -> None:
    _held.pop(activity, None)
    _deferred.discard(activity)


def _end_at_exit() -> None:
    global _exit_hook
    if not _exit_hook:
        _exit_hook = True
        atexit.register(_end_deferred)  # after the dispatcher's exit flush hook: runs before it


def _end_deferred() -> None:
    with _lock:
        waiting = list(_deferred)
    for activity in waiting:
        try:
            activity.end("failed", error=EXIT_REASON)
        except Exception as exc:  # noqa: BLE001 - exit goes on
            log.debug("ending a held activity at exit failed: %s", exc)
