"""What every framework callback does, written once: follow one training run on an `Activity`.

A callback's framework hooks store their counters on the callback (plain attribute stores) and call
`TrainingFollower.tick()`, whose hot path is one clock read and one comparison. Only when a snapshot is due
does the follower ask the callback for one (``build``) and feed it to the activity, which paces what it
sends with its update policy: metrics never add a request, they ride on the next paced update. A
snapshot is due when the activity's dispatcher would send the next update, checked no more often than
once a second and at least every 10 s (what an activity's owner ends with is never older).

Whose activity:

* inside ``%%activitysmith_progress`` / ``activity()`` (`current_activity()` is open) the run feeds that
  activity and never ends it: the cell or block owns it and ends it with its own outcome;
* otherwise the follower owns a fresh `Activity` per run and ends it: the framework's end hook says
  "completed" or "stopped" (an early-stop request), an exception says "failed".

Most frameworks have no hook for an exception (Keras, XGBoost) or for an early stop (LightGBM, Optuna),
so an owned run still open is settled, first match wins, when: the framework's end hook runs; the
callback's ``with`` block exits (it sees the exception); the IPython cell that ran it ends (its
``error_in_exec``); the same callback begins another run; the interpreter exits (``sys.last_value``
is the uncaught exception of a dying script). Unsettled and without an exception, a run that reached
its total is "completed", else the callback's ``unfinished`` outcome.
"""
from __future__ import annotations

import atexit
import logging
import math
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ..hub.activity import Activity, current_activity
from ..hub.options import RunOptions
from ..hub.after_cell import after_this_cell
from ..clock import SYSTEM_CLOCK, Clock
from ..hub.outcome import Outcome, Snapshot, outcome_for
from ..hub.trouble import FRONT_END_NOTIFY

__all__ = ["TrainingFollower", "SettlesOnExit", "FEED_INTERVAL", "MAX_STALE", "ordered_metrics", "positive_int"]

log = logging.getLogger("activitysmith_jupyter")

FEED_INTERVAL = 1.0  # seconds between two snapshots handed to the activity, at least
MAX_STALE = 10.0  # ... and at most: what the activity last saw is never older (its owner may end it)

_open_runs: set[TrainingFollower] = set()  # owned runs not ended yet (held until settled, at exit at the latest)
_open_lock = threading.Lock()


def positive_int(name: str, value: Any) -> int | None:
    """``value`` as a count >= 1, or None; anything else raises naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: must be a whole number >= 1 or None; got {value!r}")
    return value


def ordered_metrics(values: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Numbers and short strings only, training metrics first with ``loss`` leading, then validation
    ones (``val_``/``valid``/``eval``/``test`` prefixes) with their loss leading: the phone shows the first few."""
    def rank(name: str) -> tuple[int, int]:
        held_out = name.startswith(("val_", "valid", "eval", "test"))
        return (1 if held_out else 0, 0 if name.endswith("loss") else 1)

    kept: dict[str, float | int | str] = {}
    for name in sorted(values, key=rank):  # sorted() is stable: the framework's order within a rank
        value = values[name]
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float, str)):
            kept[str(name)] = value
        else:
            try:
                kept[str(name)] = float(value)  # numpy scalars, 0-d arrays
            except (TypeError, ValueError):
                continue
    return kept


class TrainingFollower:
    """Follows one training run at a time for one callback object (thread-safe; hot path lock-free).

    title / options: the owned `Activity`'s title and keyword options (`RunOptions`' fields, and `clock`);
    `notify` defaults to "failure" (``hub/trouble.py``).
    They are checked here, when the callback is made: bad input raises before anything is sent.
    build: returns the `Snapshot` fields of the run as it is now (n, total, unit, description, metrics...).
    unfinished: the outcome of a run that was never ended by the framework, short of its total, with
    no exception known ("stopped" where an early stop leaves no trace, "failed" where only an exception can).
    """

    def __init__(self, title: str, options: Mapping[str, Any], *, build: Callable[[], dict[str, Any]],
                 unfinished: Outcome) -> None:
        rest = dict(options)
        rest.setdefault("notify", FRONT_END_NOTIFY["callbacks"])  # trouble pushes; a finished fit does not
        self.clock: Clock = rest.pop("clock", None) or SYSTEM_CLOCK
        self.options = RunOptions(title=title, **rest)  # checks every option now: bad input raises here
        self._spare: Activity | None = Activity(self.options, clock=self.clock)  # sends nothing yet
        self.title = title
        self._build = build
        self.unfinished: Outcome = unfinished  # an adapter may change it per run
        self.activity: Activity | None = None
        self.owned = False
        self.due = math.inf  # monotonic time the next snapshot is due; inf while no run is followed
        self._started = 0.0
        self._last: Snapshot | None = None
        self._lock = threading.RLock()  # begin / feed / settle (never on the per-batch path)

    # -- the run's lifecycle ----------------------------------------------------------------------
    def begin(self) -> Activity:
        """A run starts (its counters are set): settle a previous one left open, then feed the open
        activity or start one of our own with the first snapshot."""
        self.settle(None)
        with self._lock:
            borrowed = current_activity()
            if borrowed is not None:
                act, self.owned = borrowed, False
                self.clock = getattr(borrowed, "clock", None) or self.clock
            else:
                act, self.owned = self._spare or Activity(self.options, clock=self.clock), True
                self._spare = None
            self.activity = act
            self._started = self.clock.monotonic()
            self._last = None
            self.feed()  # an activity not started yet starts with this first snapshot
            if self.owned:
                act.start()  # idempotent
                _track(self)
                _settle_after_this_cell(weakref.WeakMethod(self.settle))
            return act

    def tick(self) -> None:
        """The hot path: feed a snapshot when one is due. Counters were stored by the caller."""
        if self.clock.monotonic() >= self.due:
            self.feed()

    def feed(self) -> None:
        """Build the current snapshot and hand it to the activity (newest wins; it paces the sends)."""
        with self._lock:
            act = self.activity
            if act is None:
                return
            now = self.clock.monotonic()
            try:
                act.feed(self._snapshot(now))
                self.due = _next_due(act, now)
            except Exception as exc:  # a bug of ours must never stop the user's training
                self.due = now + MAX_STALE
                log.warning("following the run failed (%s): %s", self.title, exc, exc_info=True)

    def finish(self, outcome: Outcome, *, error: BaseException | str | None = None) -> None:
        """The run ended: end our activity with its last snapshot, or feed that to its owner. Idempotent."""
        with self._lock:
            act, owned = self.activity, self.owned
            if act is None:
                return
            self.activity, self.owned, self.due = None, False, math.inf
            _untrack(self)
            try:
                last: Snapshot | None = self._snapshot(self.clock.monotonic())
            except Exception as exc:
                last = None
                log.warning("the last snapshot failed (%s): %s", self.title, exc, exc_info=True)
        try:
            if last is not None and last.metrics:
                act.metrics(**last.metrics)  # the closing push names them (the owner's too)
            if owned:
                act.end(outcome, error=error, last=last)
            elif last is not None:
                act.feed(last)  # the owner ends it, with this as its last look
        except Exception as exc:
            log.warning("ending the run failed (%s): %s", self.title, exc, exc_info=True)

    def settle(self, exc: BaseException | None) -> None:
        """End an owned run no framework hook ended: ``exc`` (if any) decides, else how far it got."""
        with self._lock:
            if self.activity is None or not self.owned:
                return
            self.finish(self.outcome_without_end(exc), error=exc)

    def outcome_without_end(self, exc: BaseException | None) -> Outcome:
        if exc is not None:
            return outcome_for(exc)
        return "completed" if self.reached_total() else self.unfinished

    def reached_total(self) -> bool:
        try:
            fields = self._build()
        except Exception:
            return False
        n, total = fields.get("n"), fields.get("total")
        return n is not None and total is not None and n >= total

    @property
    def following(self) -> bool:
        return self.activity is not None

    @property
    def last_snapshot(self) -> Snapshot | None:
        return self._last

    # -- internals ---------------------------------------------------------------------------------
    def _snapshot(self, now: float) -> Snapshot:
        fields = self._build()
        elapsed = max(0.0, now - self._started)
        n = fields.get("n")
        if n and "rate" not in fields and elapsed > 0:
            fields["rate"] = n / elapsed
        fields.setdefault("elapsed", elapsed)
        snap = Snapshot(**fields)
        self._last = snap
        return snap


class SettlesOnExit:
    """``with ActivitySmithCallback(...) as cb: train(..., callbacks=[cb])``: the block's exception
    (or its quiet end) settles a run the framework left open; nothing is swallowed."""

    _run: TrainingFollower

    def __enter__(self: _Settles) -> _Settles:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._run.settle(exc)


_Settles = TypeVar("_Settles", bound=SettlesOnExit)


def _next_due(act: Activity, now: float) -> float:
    """When the next snapshot is worth building: when the activity's dispatcher would send an update
    (no earlier than FEED_INTERVAL, no later than MAX_STALE from now)."""
    due = now + FEED_INTERVAL
    dispatcher = getattr(act, "dispatcher", None)
    next_update_time = getattr(dispatcher, "next_update_time", None)
    if next_update_time is None:
        return due
    allowed = float(next_update_time(act.key))  # -inf: not started yet; inf: one is waiting to go
    return min(max(due, allowed), now + MAX_STALE)


# ---------------------------------------------------------------------------------------------
# settling runs that no framework hook ended


def _track(run: TrainingFollower) -> None:
    with _open_lock:
        _open_runs.add(run)
    # re-registered after each owned start, so it runs before the dispatcher's exit flush (LIFO)
    atexit.unregister(_settle_at_exit)
    atexit.register(_settle_at_exit)


def _untrack(run: TrainingFollower) -> None:
    with _open_lock:
        _open_runs.discard(run)


def _settle_at_exit() -> None:
    """A script that dies of an exception leaves it in ``sys.last_value`` before atexit runs."""
    exc = getattr(sys, "last_value", None)
    with _open_lock:
        runs = list(_open_runs)
    for run in runs:
        run.settle(exc if isinstance(exc, BaseException) else None)


def _settle_after_this_cell(settle: weakref.WeakMethod[Callable[[BaseException | None], None]]) -> bool:
    """Settle once when the running cell ends (a weak reference: a dropped callback is not kept alive)."""
    def call(error: BaseException | None) -> None:
        method = settle()
        if method is not None:
            method(error)

    return after_this_cell(call)
