"""PySpark as a source of progress: jobs -> stages -> tasks, "stage 3/5 · 1.24k/2k tasks".

Classic sessions are followed the way Spark's own ``status_api_demo.py`` and console progress bar do it:
one daemon thread (shared by every activity) polls ``SparkContext``'s status tracker, at most once per
`interval` (1 s) per activity; no JVM listener jar, no SparkConf change. The tracker is weakly
consistent (a job or stage may be missing, only ``spark.ui.retainedJobs/Stages`` are kept): what is
missing is left out of the count until it shows up. Spark Connect sessions (pyspark >= 4.0) have no
tracker: a progress handler is registered instead (``_spark_connect``).

Whose jobs: a source attached on the thread that runs them (``activity()``, :func:`spark_activity`) adds a
job tag of its own there (``SparkContext.addJobTag``, Spark >= 3.5; the user's job group is left alone)
and follows the jobs with that tag; the zero-code source of a magic cell or an auto-mode run follows
every job the SparkContext starts while the activity is current.

A failing job's exception ends its cell / block red; the push names its first meaningful line
(``ZeroDivisionError: division by zero``, not a JVM stack: ``_spark_errors``).

>>> from activitysmith_jupyter.integrations.spark import spark_activity
>>> with spark_activity("Nightly ETL", spark):          # outside a magic cell: one line
...     spark.table("events").groupBy("day").count().write.parquet("out")
"""
from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyspark

from ..hub.failure import add_describer
from ._spark_connect import ConnectProgress, is_connect_session
from ._spark_errors import describe_spark_error
from ._spark_jobs import ClassicJobs

if TYPE_CHECKING:
    from ..hub.activity import Activity
    from ..hub.outcome import Snapshot
    from ..hub.script import activity

__all__ = ["SparkSource", "install", "spark_activity"]

log = logging.getLogger("activitysmith_jupyter")

_TICK = 0.1  # the poller's look at whether a poll is due (no JVM call unless one is)

add_describer(describe_spark_error)  # any front end that ends on a Spark error names it this way


class SparkSource:
    """Feeds Spark's progress into an activity (or, with `follow_current`, into ``current_activity()``).

    spark: a ``SparkSession`` (classic or Connect) or a ``SparkContext``; None: the active one, looked up
    at `attach` (and, while none exists yet, at each poll). interval: seconds between two polls.
    """

    def __init__(self, spark: Any = None, *, interval: float = 1.0, follow_current: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spark = spark
        self.interval = interval
        self.follow_current = follow_current
        self._clock = clock
        self._activity: Activity | None = None
        self._lock = threading.RLock()
        self._jobs: ClassicJobs | None = None
        self._jobs_for: Activity | None = None
        self._tag: tuple[Any, str] | None = None  # (SparkContext, tag) added by attach
        self._connect: list[tuple[Any, ConnectProgress]] = []  # (session, handler) registered
        self._seen: tuple[Any, ...] | None = None
        self._due = float("-inf")
        self.last: Snapshot | None = None

    # -- ProgressSource --------------------------------------------------------------------------
    def attach(self, activity: Activity | None) -> None:
        with self._lock:
            self._activity, self._jobs, self._jobs_for, self._seen = activity, None, None, None
        session, context = _resolve(self.spark)
        if session is not None and is_connect_session(session):
            self._register_handler(session)
        elif context is not None and not self.follow_current:
            self._tag_jobs(context)
        _poller.add(self)

    def detach(self) -> None:
        _poller.remove(self)
        try:
            self.poll()  # the final count (a job that ended since the last poll)
        finally:
            with self._lock:
                tagged, self._tag = self._tag, None
                handlers, self._connect = self._connect, []
            if tagged is not None:
                _quietly(lambda: tagged[0].removeJobTag(tagged[1]))
            for session, handler in handlers:
                _quietly(lambda: session.removeProgressHandler(handler))

    # -- polling (the poller's thread; detach's) --------------------------------------------------
    def tick(self) -> None:
        """The poller's look every `_TICK`: poll when `interval` passed, or at once for a new current
        activity (so its first jobs are known from its start); otherwise nothing reaches the JVM."""
        now = self._clock()
        if now >= self._due or (self.follow_current and self._target() is not self._jobs_for):
            self._due = now + self.interval
            self.poll()

    def poll(self) -> None:
        """Look at the jobs once and feed the activity when the count changed."""
        target = self._target()
        if target is None:
            return
        with self._lock:
            jobs = self._classic_jobs(target)
            if jobs is None:
                return
            try:
                snap = jobs.snapshot()
            except Exception:  # a stopped SparkContext: look it up again next time
                self._jobs = self._jobs_for = None
                raise
            if snap is None:
                return
            key = (snap.n, snap.total, snap.subtitle)
            if key == self._seen:
                return
            self._seen, self.last = key, snap
        target.feed(snap)

    def _classic_jobs(self, target: Activity) -> ClassicJobs | None:
        if self._jobs is not None and (self._jobs_for is target or not self.follow_current):
            return self._jobs
        session, context = _resolve(self.spark)
        if session is not None and is_connect_session(session):
            self._register_handler(session)  # a Connect session created after attach
            return None
        if context is None:
            return None
        tag = self._tag[1] if self._tag is not None and self._tag[0] is context else None
        self._jobs, self._jobs_for = ClassicJobs(context, tag=tag, clock=self._clock), target
        self._seen = None
        return self._jobs

    def _tag_jobs(self, context: Any) -> None:
        if not hasattr(context, "addJobTag"):  # Spark < 3.5: every job from now on
            return
        tag = f"activitysmith-{uuid.uuid4().hex[:12]}"
        context.addJobTag(tag)  # this thread's jobs carry it (a thread-local property in the JVM)
        self._tag = (context, tag)

    def _register_handler(self, session: Any) -> None:
        if not hasattr(session, "registerProgressHandler"):  # Spark Connect before pyspark 4.0: no progress
            return
        with self._lock:
            if any(s is session for s, _ in self._connect):
                return
            handler = ConnectProgress(self._target, interval=self.interval, clock=self._clock)
            session.registerProgressHandler(handler)
            self._connect.append((session, handler))

    def _target(self) -> Activity | None:
        if not self.follow_current:
            return self._activity
        from ..hub.activity import current_activity

        return current_activity()


def _resolve(spark: Any) -> tuple[Any, Any]:
    """(session or None, classic SparkContext or None) for `spark` (None: the active ones)."""
    if spark is None:
        connect = sys.modules.get("pyspark.sql.connect.session")
        if connect is not None:
            session = getattr(connect.SparkSession, "_default_session", None)
            if session is not None:
                return session, None
        return None, pyspark.SparkContext._active_spark_context
    if is_connect_session(spark):
        return spark, None
    if isinstance(spark, pyspark.SparkContext):
        return None, spark
    return spark, getattr(spark, "sparkContext", None)


def _quietly(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - a stopped session: nothing left to undo
        log.debug("spark clean-up: %s", exc)


class _Poller:
    """The one daemon thread that polls every attached source, each `interval` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: list[SparkSource] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, source: SparkSource) -> None:
        with self._lock:
            if source not in self._sources:
                self._sources.append(source)
            self._wake.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="activitysmith-spark", daemon=True)
                self._thread.start()

    def remove(self, source: SparkSource) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)
            if not self._sources:
                self._wake.set()  # the thread ends; the next add starts a new one

    def _run(self) -> None:
        while True:
            with self._lock:
                sources = list(self._sources)
                if not sources:
                    self._thread = None
                    return
            for source in sources:
                try:
                    source.tick()
                except Exception:  # noqa: BLE001 - a stopped context, a job that vanished: next time
                    log.debug("polling Spark failed", exc_info=True)
            self._wake.wait(_TICK)


_poller = _Poller()


def spark_activity(title: str, spark: Any = None, **options: Any) -> activity:
    """``activity()`` following `spark`'s jobs (and the other loaded sources): ``with spark_activity(
    "Nightly ETL", spark):`` or ``@spark_activity("Nightly ETL")``. Options are ``activity()``'s."""
    from ..hub.script import activity, default_sources

    sources = [s for s in default_sources() if not isinstance(s, SparkSource)]
    return activity(title, sources=[*sources, SparkSource(spark)], **options)


def install() -> Callable[[], None]:
    """Follow Spark jobs inside every current activity (a magic cell, an auto-mode run) until the
    returned function is called."""
    source = SparkSource(follow_current=True)
    source.attach(None)
    return source.detach
