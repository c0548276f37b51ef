"""Spark Connect (pyspark >= 4.0): a progress handler, ``session.registerProgressHandler(handler)``.

The server streams each query's stages to the client; pyspark calls the handler with
``(stages, inflight_tasks, operation_id, done)`` on the thread that runs the query. There is no
SparkContext and no status tracker under Connect: this is the only view of the work. A query may end
(``done``) with stages that never ran (a shuffle already written): 100 % comes from ``done``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._spark_tally import StageCount, tally

if TYPE_CHECKING:
    from ..hub.activity import Activity
    from ..hub.outcome import Snapshot

__all__ = ["ConnectProgress", "is_connect_session"]

log = logging.getLogger("activitysmith_jupyter")


def is_connect_session(spark: Any) -> bool:
    """A Spark Connect session (not a classic one), without importing the Connect client."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


class ConnectProgress:
    """A progress handler feeding the queries it sees, since its target last changed, to `target()`
    (an activity, or ``current_activity``): at most one snapshot per `interval`, and each query's end."""

    def __init__(self, target: Callable[[], Activity | None], *, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._target = target
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._for: Activity | None = None
        self._queries: dict[str, tuple[list[StageCount], bool]] = {}
        self._started = 0.0
        self._last_feed = float("-inf")
        self.last: Snapshot | None = None

    def __call__(self, stages: Iterable[Any] | None, inflight_tasks: int, operation_id: str | None,
                 done: bool) -> None:
        try:  # pyspark calls handlers inside the query: an exception here would fail the user's query
            self._on_progress(stages, operation_id, done)
        except Exception:  # noqa: BLE001
            log.debug("following a Spark Connect query failed", exc_info=True)

    def _on_progress(self, stages: Iterable[Any] | None, operation_id: str | None, done: bool) -> None:
        target = self._target()
        if target is None:
            return
        now = self._clock()
        with self._lock:
            if target is not self._for:  # a new activity counts its own queries only
                self._for, self._queries, self._started = target, {}, now
            self._queries[operation_id or "?"] = (_counts(stages, done), bool(done))
            if not done and now - self._last_feed < self.interval:
                return
            self._last_feed = now
            snap = self.snapshot(now)
        if snap is not None:
            target.feed(snap)

    def snapshot(self, now: float | None = None) -> Snapshot | None:
        """The tally of every query seen for the current target."""
        queries = list(self._queries.values())
        stages = [stage for counts, _ in queries for stage in counts]
        elapsed = (self._clock() if now is None else now) - self._started
        snap = tally(stages, done=bool(queries) and all(done for _, done in queries), elapsed=elapsed)
        self.last = snap if snap is not None else self.last
        return snap


def _counts(stages: Iterable[Any] | None, query_done: bool) -> list[StageCount]:
    """pyspark's ``StageInfo`` records as counts; a stage of an ended query that never ran is skipped."""
    counts = []
    for s in stages or ():
        tasks, completed, finished = int(s.num_tasks), int(s.num_completed_tasks), bool(s.done)
        skipped = query_done and not finished and completed == 0
        counts.append(StageCount(int(s.stage_id), tasks, completed, finished=finished or query_done,
                                 skipped=skipped))
    return counts
