"""tqdm as a source of progress: notices bars created by any code (a library's too), with no work in
their loops, and feeds the outermost one into an Activity.

`BarObserver` looks at tqdm's live-instance set every `interval` seconds (from one shared background
thread) and reports the outermost live bar when it changed, and once more when it closes.
`BarSource` is the `ProgressSource` the cell magic attaches: it feeds those reports to its Activity.
While any observer is active, ``activitysmith_jupyter.tqdm`` bars start no stream of their own.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tqdm.std import tqdm as std_tqdm

from .bars import BarSnapshot, hub_snapshot, snapshot

if TYPE_CHECKING:
    from ...hub.activity import Activity

__all__ = ["BarObserver", "BarSnapshot", "BarSource", "observe_bars", "observers_active"]

logger = logging.getLogger("activitysmith_jupyter")

_count_lock = threading.Lock()
_observers = 0  # active BarObservers


_real_decr: Any = std_tqdm.__dict__["_decr_instances"]  # tqdm's classmethod, called by every close()


def _decr_and_report(cls: Any, instance: Any) -> None:
    _real_decr.__func__(cls, instance)
    for observer in _poller.observers():
        observer.closed(instance)


def _hook_closes(on: bool) -> None:
    """While observers are active, a closing bar tells them at once: a bar that opened and closed
    between two looks (a short loop, a loop that failed) is still seen, with its final count."""
    setattr(std_tqdm, "_decr_instances", classmethod(_decr_and_report) if on else _real_decr)  # private in tqdm


def observers_active() -> bool:
    """Whether some BarObserver is looking at bars now (then drop-in bars leave the stream to it)."""
    return _observers > 0


# Lightning's sanity-check bar (leave=False, "Sanity Checking DataLoader 0") runs a few validation
# batches before training starts: not the run's progress, so never followed
_PRELUDE_DESCS = ("Sanity Checking",)


def _followed(bar: Any, *, closing: bool = False) -> bool:
    """Not disabled (a closing bar is, by then), not Lightning's sanity-check bar, and not opted out with
    ``bar.activitysmith_follow = False`` (what a framework callback does to the framework's own bars while
    it feeds the activity)."""
    if (getattr(bar, "disable", True) and not closing) or getattr(bar, "activitysmith_follow", True) is False:
        return False
    return not (getattr(bar, "leave", True) is False and str(getattr(bar, "desc", "")).startswith(_PRELUDE_DESCS))


def _live_bars() -> list[Any]:
    """A defensive copy of tqdm's class-level set of open bars (shared by every subclass), without
    disabled bars and Lightning's sanity-check bar."""
    for _ in range(5):
        try:
            return [b for b in list(getattr(std_tqdm, "_instances", ())) if _followed(b)]
        except RuntimeError:  # the set changed while copying: try again
            continue
    return []


def _outermost(bars: Iterable[Any]) -> Any:
    best = None
    for bar in bars:
        rank = (abs(getattr(bar, "pos", 0) or 0), getattr(bar, "start_t", math.inf))
        if best is None or rank < best[0]:
            best = (rank, bar)
    return best[1] if best else None


class BarObserver:
    """Notices tqdm bars created by any code, with no work in their loops: every `interval` seconds it
    looks at tqdm's live-instance set (from one shared background thread) and calls
    ``callback(BarSnapshot)`` for the outermost live bar when it changed, and once more with
    ``closed=True`` when that bar closes.

    While any observer is active, ``activitysmith_jupyter.tqdm`` bars start no stream of their own.
    Callback exceptions are logged and the observer goes on.
    """

    def __init__(self, callback: Callable[[BarSnapshot], Any], *, interval: float = 0.5,
                 ignore: frozenset[int] = frozenset()) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.callback = callback
        self.interval = interval
        self.ignore = ignore  # id()s of bars that are not this observer's (e.g. left open earlier)
        self._poll_lock = threading.Lock()  # one look at a time; guards _running
        self._running = False
        self._due = -math.inf  # monotonic time of the next look (the shared poller's bookkeeping)
        self._tracked: Any = None  # the outermost live bar at the last look
        self._last: tuple[Any, ...] | None = None

    @property
    def active(self) -> bool:
        return self._running

    def start(self) -> BarObserver:
        """Start looking (the first look happens at once). Cheap: no thread per observer."""
        global _observers
        with self._poll_lock:
            if self._running:
                return self
            self._running = True
        with _count_lock:
            _observers += 1
            if _observers == 1:
                _hook_closes(True)
        _poller.add(self)
        return self

    def stop(self) -> None:
        """Stop looking, after one last look (so a bar that just closed is reported)."""
        global _observers
        with self._poll_lock:  # waits for a look in progress; none starts after this
            if not self._running:
                return
            self._running = False
        _poller.discard(self)
        with _count_lock:
            _observers -= 1
            if _observers == 0:
                _hook_closes(False)
        self.poll()
        self._tracked = self._last = None

    def __enter__(self) -> BarObserver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def poll(self) -> None:
        """One look at the live bars (also callable directly, e.g. from tests)."""
        with self._poll_lock:
            self._look()

    def closed(self, bar: Any) -> None:
        """`bar` just closed (tqdm's close, any thread): if it came and went between two looks with no
        other bar open, report it now (the tracked bar's close is reported by the next look)."""
        if id(bar) in self.ignore or not _followed(bar, closing=True):  # (close() has set bar.disable already)
            return
        with self._poll_lock:
            if not self._running:
                return
            if self._tracked is None and not [b for b in _live_bars() if id(b) not in self.ignore]:
                try:
                    self.callback(snapshot(bar, closed=True))
                except Exception:  # noqa: BLE001 - a broken callback must not break the user's close()
                    logger.warning("activitysmith_jupyter: bar observer callback failed", exc_info=True)

    def _poll_if_running(self) -> None:
        with self._poll_lock:
            if self._running:
                self._look()

    def _look(self) -> None:
        try:
            self._poll()
        except Exception:  # noqa: BLE001 - a broken callback must not end the observer
            logger.warning("activitysmith_jupyter: bar observer callback failed", exc_info=True)

    def _poll(self) -> None:
        bars = [b for b in _live_bars() if id(b) not in self.ignore] if self.ignore else _live_bars()
        tracked = self._tracked  # held strongly: a closed bar's final count stays readable
        if tracked is not None and not any(b is tracked for b in bars):
            self._tracked, self._last = None, None
            self.callback(snapshot(tracked, closed=True))
        bar = _outermost(bars)
        if bar is None:
            return
        snap = snapshot(bar)
        state = (id(bar), snap.n, snap.total, snap.desc)
        self._tracked = bar
        if state != self._last:
            self._last = state
            self.callback(snap)


class _Poller:
    """One daemon thread for every active `BarObserver` of the process: starting an observer (once
    per magic cell) costs no thread start, and stopping it no join."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._observers: list[BarObserver] = []
        self._thread: threading.Thread | None = None

    def add(self, observer: BarObserver) -> None:
        with self._lock:
            observer._due = -math.inf
            self._observers.append(observer)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="activitysmith-bar-observer", daemon=True)
                self._thread.start()
        self._wake.set()

    def discard(self, observer: BarObserver) -> None:
        with self._lock:
            self._observers = [o for o in self._observers if o is not observer]

    def observers(self) -> list[BarObserver]:
        with self._lock:
            return list(self._observers)

    def _run(self) -> None:
        while True:
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [o for o in self._observers if o._due <= now]
                for o in due:
                    o._due = now + o.interval
            for o in due:
                o._poll_if_running()
            with self._lock:
                nxt = min((o._due for o in self._observers), default=None)
            self._wake.wait(None if nxt is None else max(0.0, nxt - time.monotonic()))


_poller = _Poller()


def observe_bars(callback: Callable[[BarSnapshot], Any], *, interval: float = 0.5) -> BarObserver:
    """A `BarObserver` calling `callback(BarSnapshot)` for the outermost live tqdm bar (not started:
    call ``.start()`` or use it as a context manager)."""
    return BarObserver(callback, interval=interval)


class BarSource:
    """The outermost live tqdm bar as a `ProgressSource`: ``activity.attach(BarSource())`` feeds it the
    bar's snapshots ("train: 250/1,000 · 12.50it/s · ETA 14:32") until the activity ends. Bars already
    open when it is attached (left open by an earlier cell) are not this activity's progress."""

    def __init__(self, *, interval: float = 0.5) -> None:
        self.interval = interval
        self._activity: Activity | None = None
        self.observer: BarObserver | None = None

    def attach(self, activity: Activity) -> None:
        stale = frozenset(id(b) for b in list(getattr(std_tqdm, "_instances", ())))
        self._activity = activity
        self.observer = BarObserver(self._on_bar, interval=self.interval, ignore=stale).start()

    def detach(self) -> None:
        observer, self.observer = self.observer, None
        if observer is not None:
            observer.stop()  # its last look reports a bar that just closed
        self._activity = None

    def _on_bar(self, bar: BarSnapshot) -> None:
        activity = self._activity
        if activity is not None:  # a cell's activity tells a bar from other sources (feed_bar)
            getattr(activity, "feed_bar", activity.feed)(hub_snapshot(bar, described=True))
