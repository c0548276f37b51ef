"""rich.progress (``track``, ``Progress`` tasks) as a source of progress.

rich keeps no registry of live ``Progress`` objects, so while a source is attached ``Progress.start``
and ``Progress.stop`` are wrapped (once, however many sources are attached; restored when the last one
detaches) to remember the started ones. The outermost task drives the activity: the first visible,
unfinished task of the first started, still-live ``Progress`` (a ``track()`` loop's only task, the
"overall" task above per-file ones; once all are done, the first). A ``Progress`` that stops is looked at
once more, so its final count is shown.

Attaching costs no thread: a cell that never starts a ``Progress`` (rich is often imported by httpx's
command-line module, not by the user) pays two attribute swaps. One process-wide looker thread runs only
while a ``Progress`` is live and a source is attached, and ends by itself when either is gone.

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

__all__ = ["RichProgressSource", "install", "live_progress", "looker_running", "outermost_task", "snapshot_of"]

log = logging.getLogger("activitysmith_jupyter")

_lock = threading.RLock()
_live: list[weakref.ref[Progress]] = []  # started and not stopped, in start order
_sources: list[RichProgressSource] = []
_originals: tuple[Callable[..., Any], Callable[..., Any]] | None = None
_looker: threading.Thread | None = None  # the one thread that looks, only while a Progress is live
_poke = threading.Event()  # wakes the looker early: the last Progress stopped or the last source left


def _started(progress: Progress) -> None:
    with _lock:
        if all(ref() is not progress for ref in _live):
            _live.append(weakref.ref(progress))
        _ensure_looker()


def _stopping(progress: Progress) -> None:
    with _lock:
        sources = list(_sources)
    for source in sources:  # the final count, before it leaves the registry
        source.poll()
    with _lock:
        _live[:] = [ref for ref in _live if ref() is not None and ref() is not progress]
        if not _live:
            _poke.set()


def _ensure_looker() -> None:
    """Start the looker thread if a Progress is live, a source attached and none runs (under `_lock`)."""
    global _looker
    if _looker is not None or not _sources or not _live:
        return
    _looker = threading.Thread(target=_look, name="activitysmith-rich", daemon=True)
    _looker.start()


def _look() -> None:
    """Poll every attached source at the shortest interval until no Progress is live or none is attached."""
    global _looker
    while True:
        with _lock:
            _live[:] = [ref for ref in _live if ref() is not None]
            if not _sources or not _live:
                _looker = None
                return
            interval = min(source.interval for source in _sources)
        _poke.wait(interval)
        _poke.clear()  # state is looked at again above before the next wait: no wake is lost
        with _lock:
            sources = list(_sources)
        for source in sources:
            if source not in _sources:  # detached while we waited: its activity may have ended
                continue
            try:
                source.poll()
            except Exception:  # noqa: BLE001 - a task changing under us: look again next time
                log.debug("looking at rich progress failed", exc_info=True)


def looker_running() -> bool:
    """Whether the looker thread runs (it does only while a Progress is live and a source attached)."""
    with _lock:
        return _looker is not None


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
    ``current_activity()`` is at each look). `interval`: seconds between two looks while a Progress is
    live (the shortest of the attached sources' wins)."""

    def __init__(self, *, interval: float = 0.5, follow_current: bool = False) -> None:
        self.interval = interval
        self.follow_current = follow_current
        self._activity: Activity | None = None
        self._seen: tuple[Any, ...] | None = None

    def attach(self, activity: Activity | None) -> None:
        self._activity = activity
        with _lock:
            _patch()
            if self not in _sources:
                _sources.append(self)
            _ensure_looker()  # a Progress already running (attached mid-loop)

    def detach(self) -> None:
        """Look once more, then stop following. Never waits for a thread: the looker ends by itself."""
        self.poll()
        with _lock:
            if self in _sources:
                _sources.remove(self)
            if not _sources:
                _unpatch()
                _poke.set()

    def poll(self) -> None:
        """Look once and feed the activity if the outermost task changed."""
        if not _live:  # nothing started: the common case of a cell without rich progress
            return
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


def install() -> Callable[[], None]:
    """Follow rich progress inside every current activity (a cell, an ``activity()`` block) until the
    returned function is called."""
    source = RichProgressSource(follow_current=True)
    source.attach(None)
    return source.detach
