"""Dask on the local schedulers (threaded, processes, synchronous) as a source of progress.

While attached, a ``dask.callbacks.Callback`` is registered globally (Dask's own extension point, the
one ``dask.diagnostics.ProgressBar`` uses, so both work side by side): every ``dask.compute``,
``.compute()`` and ``.persist()`` feeds tasks done / total, at most every `interval` seconds, and its
final count when it finishes. ``dask.distributed`` clusters run their own scheduler and are not seen.

>>> from activitysmith_jupyter.integrations.dask import DaskSource
>>> act.attach(DaskSource())                    # act: an Activity (activity() does this for you)
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dask.callbacks import Callback

from ..hub.outcome import Snapshot

if TYPE_CHECKING:
    from ..hub.activity import Activity

__all__ = ["DaskSource", "install", "task_counts"]

_STATES = ("ready", "waiting", "running")


def task_counts(state: Mapping[str, Any]) -> tuple[int, int]:
    """(done, total) from a local scheduler's state, as ``dask.diagnostics.ProgressBar`` counts them."""
    done = len(state.get("finished", ()))
    return done, done + sum(len(state.get(k, ())) for k in _STATES)


class _Callback(Callback):
    def __init__(self, source: DaskSource) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._source = source

    def _start_state(self, dsk: Any, state: Mapping[str, Any]) -> None:
        self._source._begin(state)

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Mapping[str, Any], worker_id: Any) -> None:
        self._source._progress(state, final=False)

    def _finish(self, dsk: Any, state: Mapping[str, Any], errored: bool) -> None:
        self._source._progress(state, final=True)


class DaskSource:
    """Feeds Dask task counts into an activity (or, with `follow_current`, into ``current_activity()``)."""

    def __init__(self, *, interval: float = 0.5, follow_current: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.follow_current = follow_current
        self._clock = clock
        self._activity: Activity | None = None
        self._callback = _Callback(self)
        self._lock = threading.Lock()
        self._started_at = 0.0
        self._last_feed = float("-inf")
        self._last: Snapshot | None = None

    def attach(self, activity: Activity | None) -> None:
        self._activity = activity
        self._callback.register()

    def detach(self) -> None:
        try:
            self._callback.unregister()
        except KeyError:  # already gone (Callback.active was cleared by someone else)
            pass

    def _begin(self, state: Mapping[str, Any]) -> None:
        with self._lock:
            self._started_at = self._clock()
            self._last_feed = float("-inf")
        self._progress(state, final=False)

    def _progress(self, state: Mapping[str, Any], *, final: bool) -> None:
        now = self._clock()
        with self._lock:
            if not final and now - self._last_feed < self.interval:
                return
            self._last_feed = now
        done, total = task_counts(state)
        snap = Snapshot(n=float(done), total=float(total) if total else None, unit="tasks",
                        description="dask", elapsed=now - self._started_at,
                        rate=done / (now - self._started_at) if done and now > self._started_at else None)
        self._last = snap
        target = self._target()
        if target is not None:
            target.feed(snap)

    def _target(self) -> Activity | None:
        if not self.follow_current:
            return self._activity
        from ..hub.activity import current_activity

        return current_activity()


def install() -> Callable[[], None]:
    """Follow Dask computations inside every current activity until the returned function is called."""
    source = DaskSource(follow_current=True)
    source.attach(None)
    return source.detach
