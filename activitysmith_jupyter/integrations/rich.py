"""rich.progress (``track``, ``Progress`` tasks) as a source of progress.

rich keeps no registry of live ``Progress`` objects, so while a source is attached ``Progress.start``
and ``Progress.stop`` are wrapped (once, however many sources are attached; restored when the last one
detaches) to remember the started ones. A daemon thread looks every `interval` seconds; the outermost
task drives the activity: the first visible, unfinished task of the first started, still-live
``Progress`` (a ``track()`` loop's only task, the "overall" task above per-file ones; once all are
done, the first). A ``Progress``
that stops is looked at once more, so its final count is shown.

>>> from activitysmith_jupyter.integrations.rich import RichProgressSource
>>> act.attach(RichProgressSource())            # act: an Activity (activity() does this for you)
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.progress import Progress
from rich.text import Text

from ..hub.outcome import Snapshot

if TYPE_CHECKING:
    from ..hub.activity import Activity

__all__ = ["RichProgressSource", "install", "live_progress", "outermost_task", "snapshot_of"]

log = logging.getLogger("activitysmith_jupyter")

_lock = threading.RLock()
_live: list[weakref.ref[Progress]] = []  # started and not stopped, in start order
_sources: list[RichProgressSource] = []
_originals: tuple[Callable[..., Any], Callable[..., Any]] | None = None


def _started(progress: Progress) -> None:
    with _lock:
        if all(ref() is not progress for ref in _live):
            _live.append(weakref.ref(progress))


def _stopping(progress: Progress) -> None:
    with _lock:
        sources = list(_sources)
    for source in sources:  # the final count, before it leaves the registry
        source.poll()
    with _lock:
        _live[:] = [ref for ref in _live if ref() is not None and ref() is not progress]


def _patch() -> None:
    global _originals
    if _originals is not None:
        return
    start, stop = Progress.start, Progress.stop

    def patched_start(self: Progress) -> None:
        start(self)
        if not self.disable:
            _started(self)

    def patched_stop(self: Progress) -> None:
        try:
            _stopping(self)
        finally:
            stop(self)

    patched_start.__wrapped__ = start  # type: ignore[attr-defined]
    patched_stop.__wrapped__ = stop  # type: ignore[attr-defined]
    Progress.start, Progress.stop = patched_start, patched_stop  # type: ignore[method-assign]
    _originals = (start, stop)


def _unpatch() -> None:
    global _originals
    if _originals is None:
        return
    Progress.start, Progress.stop = _originals  # type: ignore[method-assign]
    _originals = None
    _live.clear()


def live_progress() -> list[Progress]:
    with _lock:
        return [p for p in (ref() for ref in _live) if p is not None]


def outermost_task(progresses: list[Progress]) -> Any:
    """The task that drives the activity, or None."""
    for progress in progresses:
        tasks = [t for t in progress.tasks if t.visible]
        for task in tasks:
            if not task.finished:
                return task
        if tasks:  # every task finished: the outermost one, until this Progress stops
            return tasks[0]
    return None


def snapshot_of(task: Any) -> Snapshot:
    description = Text.from_markup(str(task.description)).plain.strip().rstrip(":") or None
    total = task.total if task.total else None
    return Snapshot(n=float(task.completed), total=total, description=description,
                    rate=task.speed if task.speed else task.finished_speed, elapsed=task.elapsed)


class RichProgressSource:
    """Feeds the outermost rich task into an activity (or, with `follow_current`, into whatever
    ``current_activity()`` is at each look)."""

    def __init__(self, *, interval: float = 0.5, follow_current: bool = False) -> None:
        self.interval = interval
        self.follow_current = follow_current
        self._activity: Activity | None = None
        self._seen: tuple[Any, ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(self, activity: Activity | None) -> None:
        self._activity = activity
        with _lock:
            _patch()
            if self not in _sources:
                _sources.append(self)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="activitysmith-rich", daemon=True)
        self._thread.start()

    def detach(self) -> None:
        self.poll()
        self._stop.set()
        with _lock:
            if self in _sources:
                _sources.remove(self)
            if not _sources:
                _unpatch()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def poll(self) -> None:
        """Look once and feed the activity if the outermost task changed."""
        target = self._target()
        if target is None:
            return
        task = outermost_task(live_progress())
        if task is None:
            return
        snap = snapshot_of(task)
        key = (id(task), snap.n, snap.total, snap.description)
        if key == self._seen:
            return
        self._seen = key
        target.feed(snap)

    def _target(self) -> Activity | None:
        if not self.follow_current:
            return self._activity
        from ..hub.activity import current_activity

        return current_activity()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a task changing under us: look again next time
                log.debug("looking at rich progress failed", exc_info=True)


def install() -> Callable[[], None]:
    """Follow rich progress inside every current activity (a cell, an ``activity()`` block) until the
    returned function is called."""
    source = RichProgressSource(follow_current=True)
    source.attach(None)
    return source.detach
