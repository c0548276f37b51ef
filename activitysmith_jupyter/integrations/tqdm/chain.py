"""Many short bars in a row continue one Live Activity (the tqdm drop-in; issue 8).

``for f in files: for x in tqdm(read(f), desc=f.name)`` would otherwise start and end an activity per
file, flooding the phone and the request budget. The rule, per thread and dispatcher:

* a *streak* is a run of outermost bars each starting within `WINDOW` seconds (the dispatcher's
  clock) of the previous one's close;
* the first `ALONE` bars of a streak are their own activities, as always (a few bars in a row each
  show and end at once);
* from the next one on, a completed or stopped (a ``break``) bar does not end its activity: it rests
  for `WINDOW` seconds. A bar starting meanwhile continues it (new title from its desc, its own
  count); else the end is sent when the window is over (a timer), when a later bar comes too late, or
  at interpreter exit, with the duration up to the last bar's close.

Bars with an explicit ``stream_key``, failed or interrupted bars, and bars under an observer (the cell
magic) never rest.
"""
from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ALONE", "STREAKS", "WINDOW", "Streaks", "finish_now", "settle"]

WINDOW = 3.0  # seconds between a bar's close and the next bar's start that still continue a streak
ALONE = 3  # bars of a streak that are their own activities before the next ones continue one


@dataclass
class _Resting:
    mirror: Any  # the drop-in's _Mirror, its activity open
    finish: Callable[[], None]  # sends the deferred end
    timer: threading.Timer | None = None


@dataclass
class _Streak:
    dispatcher: Any
    closed_at: float  # when the streak's last bar closed (dispatcher clock)
    count: int = 0  # bars in the streak so far
    resting: _Resting | None = None


@dataclass
class Streaks:
    """Every thread's streak (one table: the timer and the exit hook end resting activities of any thread)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _by_thread: dict[int, _Streak] = field(default_factory=dict)
    _exit_hook: bool = False

    def starting(self, dispatcher: Any) -> tuple[int, _Resting | None]:
        """A bar of this thread starts: (its place in the streak, 1 = the first; the resting activity it
        may continue -- ``.mirror`` -- or else end with `finish_now`). A streak left too long ago, or on
        another dispatcher, is over (its resting activity ends now)."""
        now = dispatcher.clock.monotonic()
        ident = threading.get_ident()
        stale: _Resting | None = None
        with self._lock:
            streak = self._by_thread.get(ident)
            if streak is None or streak.dispatcher is not dispatcher or now - streak.closed_at > WINDOW:
                stale = streak.resting if streak is not None else None
                streak = self._by_thread[ident] = _Streak(dispatcher, now)
            rest, streak.resting = streak.resting, None
            streak.count += 1
            place = streak.count
        if stale is not None:
            _finish(stale)
        if rest is not None and rest.timer is not None:
            rest.timer.cancel()
        return place, rest

    def closed(self, dispatcher: Any, place: int, mirror: Any, finish: Callable[[], None]) -> bool:
        """A completed bar closed: True when its activity rests (`finish` sends its end later), False when
        the caller ends it now (one of the first `ALONE` bars of its streak)."""
        now = dispatcher.clock.monotonic()
        ident = threading.get_ident()
        with self._lock:
            streak = self._by_thread.get(ident)
            if streak is None or streak.dispatcher is not dispatcher:
                return False
            streak.closed_at = now
            if place <= ALONE:
                return False
            rest = streak.resting = _Resting(mirror, finish)
            rest.timer = threading.Timer(WINDOW, self._expire, args=(ident, rest))
            rest.timer.daemon = True
            if not self._exit_hook:
                self._exit_hook = True
                atexit.register(self.settle)  # after the dispatcher's exit flush: runs before it
        rest.timer.start()
        return True

    def failed(self) -> None:
        """A bar of this thread ended otherwise (failed, stopped ...): its streak is over."""
        with self._lock:
            self._by_thread.pop(threading.get_ident(), None)

    def _expire(self, ident: int, rest: _Resting) -> None:
        with self._lock:
            streak = self._by_thread.get(ident)
            if streak is None or streak.resting is not rest:
                return  # a bar continued it meanwhile
            streak.resting = None
        _finish(rest)

    def settle(self) -> None:
        """End every resting activity now (interpreter exit; tests)."""
        with self._lock:
            resting = [s.resting for s in self._by_thread.values() if s.resting is not None]
            for streak in self._by_thread.values():
                streak.resting = None
        for rest in resting:
            if rest.timer is not None:
                rest.timer.cancel()
            _finish(rest)


def finish_now(rest: _Resting) -> None:
    """Send a resting activity's end now (the bar that found it could not continue it)."""
    if rest.timer is not None:
        rest.timer.cancel()
    _finish(rest)


def _finish(rest: _Resting) -> None:
    try:
        rest.finish()
    except Exception:  # noqa: BLE001 - the drop-in's own end already logs and remembers its failures
        pass


STREAKS = Streaks()


def settle() -> None:
    """End now every activity a finished bar left open for a following bar."""
    STREAKS.settle()
