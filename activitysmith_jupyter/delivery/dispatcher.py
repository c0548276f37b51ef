"""One background sender per client: the user's code submits and returns at once.

* Stream updates coalesce per stream key: the newest state replaces one still waiting.
* Ends (``DELETE`` of a stream) and pushes are terminal and delivered **at least once**: never dropped,
  never coalesced away, an end always after the updates of its key, and sent again after a 5xx, a 429,
  a dropped connection or a timeout until they land (see `_delivery`).
* Budget: at most ``requests_per_minute`` requests in any 60 s across every stream and push, with
  ``reserve`` of them kept for terminal sends; a 429 pauses everything (backing off even when it says
  ``Retry-After: 0``); update pacing per activity follows `UpdatePolicy` (the iOS budget, policy.py).
* A 401 stops the dispatcher (`auth_failed`): the key will not heal, so nothing more is sent.
* A start the device has no room for (4 Live Activities) waits for a free slot (`waiting`).
* Failures are kept in ``last_error`` and logged to ``logging.getLogger("activitysmith_jupyter")``, one
  line naming the send: the first of each kind at WARNING (what the user sees), later ones at INFO
  (`report.py`); they are never raised into the caller. Bad input is: every submit validates with
  `payloads` first and raises `PayloadError` in the caller.
* At interpreter/kernel exit an ``atexit`` hook gives pending sends ``exit_timeout`` (5 s) to land, within
  the process's one exit budget (``exit_budget.py``: at most 5 s in all, the watchdog's hand-over included).
* Lifecycle: `DispatcherState` UNOPENED -> OPENED (first submit starts the thread) -> CLOSED.

Imports no tqdm and no IPython.
"""
from __future__ import annotations

import atexit
import enum
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import payloads
from .exit_budget import begin_exit, keep_interrupted_exit
from ..api.simulator_notice import announce
from .report import describe, subject
from .resend import Notice, Verdict, notice, plan_failure
from .queue import Job, JobQueue
from ..clock import SYSTEM_CLOCK, Clock
from .policy import RequestBudget, UpdatePolicy

__all__ = ["Dispatcher", "DispatcherState", "DispatchStats", "dispatcher_for", "UpdatePolicy"]

logger = logging.getLogger("activitysmith_jupyter")

DEFAULT_EXIT_TIMEOUT = 5.0
DEFAULT_RESERVE = 10


class DispatcherState(enum.Enum):
    """Where a dispatcher is in its life (like httpx's ``ClientState``)."""

    UNOPENED = "unopened"  # nothing submitted yet: no sender thread
    OPENED = "opened"  # the sender thread runs
    CLOSED = "closed"  # close() was called: submits are dropped; `dispatcher_for` makes a new one


@dataclass(frozen=True, kw_only=True)
class DispatchStats:
    """Counters for a status line and tests. pending = waiting + in flight."""

    sent: int = 0
    coalesced: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0


class Dispatcher:
    """Background sender for one client. All public methods are thread-safe and never block on I/O.

    clock: time source for pacing, budget and backoff (inject a FakeClock in tests).
    requests_per_minute / reserve: the account budget, and the part only ends and pushes may use.
    policy: per-activity update pacing (`UpdatePolicy()`: within the iOS budget for any job length).
    exit_timeout: seconds the exit hook waits for pending sends.
    """

    def __init__(self, client: Any, *, clock: Clock = SYSTEM_CLOCK, requests_per_minute: int = 60,
                 reserve: int = DEFAULT_RESERVE, policy: UpdatePolicy | None = None,
                 exit_timeout: float = DEFAULT_EXIT_TIMEOUT) -> None:
        self.client = client
        self.clock = clock
        self.exit_timeout = exit_timeout
        self._sender = _without_retries(client)
        self._budget = RequestBudget(requests_per_minute, reserve=reserve)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # pending work went down / worker stopped
        self._wake = threading.Event()  # new work, or close()
        self._queue = JobQueue(policy if policy is not None else UpdatePolicy())
        self._state = DispatcherState.UNOPENED
        self._rush = 0  # > 0 while someone flushes: waiting updates skip the pacing
        self._throttled = 0  # 429 answers in a row, across every job
        self._thread: threading.Thread | None = None
        self._counts = dict.fromkeys(("sent", "coalesced", "retried", "failed"), 0)
        self._warned: set[str] = set()  # kinds of trouble already told at WARNING (one line each)
        self.last_error: BaseException | None = None
        self.auth_failed = False  # a 401: the key was refused, nothing more is sent
        _register(self)

    @property
    def policy(self) -> UpdatePolicy:
        """Pacing of every stream without its own policy (assignable)."""
        return self._queue.policy

    @policy.setter
    def policy(self, policy: UpdatePolicy) -> None:
        with self._lock:
            self._queue.policy = policy

    # ------------------------------------------------------------------------------ submitting

    def update_stream(self, key: str, request: Mapping[str, Any], *, policy: UpdatePolicy | None = None) -> None:
        """Queue a stream PUT; it replaces an update of `key` that is still waiting.

        `policy`: pacing for this stream until its end (default: the dispatcher's `policy`).
        """
        body = payloads.prepare("stream", request, key=key)
        with self._lock:
            if not self._accepting("update", key):
                return
            if self._queue.add_update(key, body, policy):
                self._counts["coalesced"] += 1
        self._wake.set()

    def end_stream(self, key: str, request: Mapping[str, Any] | None = None) -> None:
        """Queue the end of a stream (terminal). Without a request the server keeps the latest state."""
        body = payloads.prepare("end_stream", request, key=key) or None
        with self._lock:
            if not self._accepting("end", key):
                return
            if self._queue.add_end(key, body):
                self._counts["coalesced"] += 1
        self._wake.set()

    def push(self, request: Mapping[str, Any]) -> None:
        """Queue a push notification (terminal: delivered at least once)."""
        body = payloads.prepare("push", request)
        with self._lock:
            if not self._accepting("push", None, body):
                return
            self._queue.add_push(body)
        self._wake.set()

    def next_update_time(self, key: str) -> float:
        """Earliest ``clock.monotonic()`` time an update of `key` is worth building.

        ``inf`` while one is waiting or in flight (it will carry the state); ``-inf`` for a stream
        that has not started, or whose end is pending (the next update starts a new activity: the
        ended one's pacing is not its); ``inf`` for good once the dispatcher is closed or its API key was
        refused (nothing would be sent). Cheap: callers poll it from their own display cadence.
        """
        with self._lock:
            if self.auth_failed or self._state is DispatcherState.CLOSED:
                return math.inf
            return self._queue.next_update_time(key)

    # ------------------------------------------------------------------------------ reading, waiting

    @property
    def state(self) -> DispatcherState:
        return self._state

    @property
    def waiting(self) -> tuple[str, ...]:
        """Stream keys whose start waits for a free Live Activity slot (the device shows 4)."""
        with self._lock:
            return self._queue.waiting_for_slot

    @property
    def stats(self) -> DispatchStats:
        with self._lock:
            return DispatchStats(pending=self._queue.pending, **self._counts)

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now (waiting updates skip the per-activity pacing) and wait.

        `timeout` is in real seconds (None: no bound). True when nothing is pending any more.
        """
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._lock:
            self._rush += 1
        self._wake.set()
        try:
            with self._lock:
                while self._queue.pending:
                    if self._thread is None or not self._thread.is_alive():
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._changed.wait(0.05 if remaining is None else min(remaining, 0.05))
                return not self._queue.pending
        finally:
            with self._lock:
                self._rush -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Flush within `timeout` (real seconds), then stop the sender. Later submits are dropped."""
        done = self.flush(timeout)
        with self._lock:
            already = self._state is DispatcherState.CLOSED
            self._state = DispatcherState.CLOSED
            left = len(self._queue.jobs)
        self._wake.set()
        if left and not already:
            logger.warning("activitysmith_jupyter: %d send(s) still pending at close were abandoned", left)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.5 if timeout is None else max(0.05, min(timeout, 0.5)))
        return done

    def status_lines(self) -> list[str]:
        """What `%activitysmith status` should add: a refused key, starts waiting for a slot (or nothing)."""
        lines = []
        if self.auth_failed:
            lines.append(f"stopped:    the API key was refused (HTTP 401); nothing more is sent ({self.stats.failed} "
                         "send(s) dropped)")
        waiting = self.waiting
        if waiting:
            lines.append(f"waiting:    {', '.join(waiting)} (for a free Live Activity slot; the device shows 4)")
        return lines

    def _after_fork_in_child(self) -> None:
        """A forked child (multiprocessing, joblib): fresh locks and no sender yet; the parent's queued
        sends stay the parent's (sending them here too would duplicate them)."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._thread = None
        self._rush = 0
        self._queue.drop_all()
        self._queue.in_flight = None
        if self._state is DispatcherState.OPENED:
            self._state = DispatcherState.UNOPENED

    def __repr__(self) -> str:
        s = self.stats
        return (f"Dispatcher(state={self._state.value}, sent={s.sent}, pending={s.pending}, "
                f"coalesced={s.coalesced}, retried={s.retried}, failed={s.failed})")

    # ------------------------------------------------------------------------------ worker

    def _accepting(self, kind: str, key: str | None, body: Mapping[str, Any] | None = None) -> bool:
        if self._state is DispatcherState.CLOSED:
            logger.warning("activitysmith_jupyter: dispatcher closed; %s dropped", subject(kind, key, body))
            return False
        if self.auth_failed:
            self._counts["failed"] += 1
            logger.debug("activitysmith_jupyter: API key refused earlier; %s dropped", subject(kind, key, body))
            return False
        if self._thread is None or not self._thread.is_alive():  # first use, or in a forked child
            self._thread = threading.Thread(target=self._run, name="activitysmith-dispatch", daemon=True)
            self._thread.start()
            self._state = DispatcherState.OPENED
            announce(self.client)  # no key: the first send says where it went, on the caller's thread
        return True

    def _run(self) -> None:
        while True:
            self._wake.clear()
            with self._lock:
                if self._state is DispatcherState.CLOSED and (not self._queue.jobs or self._rush == 0):
                    self._changed.notify_all()
                    return
                job, ready_at = self._queue.take(self.clock.monotonic(), self._budget, rush=self._rush > 0)
                self._queue.in_flight = job
            if job is None:
                if ready_at is None:
                    self._wake.wait()
                else:
                    self.clock.wait(self._wake, max(0.0, ready_at - self.clock.monotonic()))
                continue
            try:
                self._send(job)
            except BaseException as exc:  # noqa: BLE001 - a bug must not kill the sender
                self._report(exc, job, Notice(topic="internal", what=(
                    "dropped: a bug in activitysmith_jupyter (please report it); your code keeps running")))
                with self._lock:
                    self._counts["failed"] += 1
            finally:
                with self._lock:
                    self._queue.in_flight = None
                    self._changed.notify_all()

    def _send(self, job: Job) -> None:
        sent_at = self.clock.monotonic()
        try:
            if job.kind == "update":
                response = self._sender.live_activities.stream(job.key, job.body)
            elif job.kind == "end":
                response = self._sender.live_activities.end_stream(job.key, job.body)
            else:
                response = self._sender.notifications.send(job.body)
        except Exception as exc:  # noqa: BLE001 - sorted out below, never raised to the user
            self._failed(job, exc, sent_at)
            return
        answered = self.clock.monotonic()
        operation = _field(response, "operation")  # outside the lock: see `_field`
        with self._lock:
            self._delivered(job, operation=operation, sent_at=sent_at, answered_at=answered)
        warning = _field(response, "warning")
        if warning:
            logger.info("activitysmith_jupyter: %s %r: %s", job.kind, job.label, warning)

    def _delivered(self, job: Job, *, operation: str | None, sent_at: float, answered_at: float) -> None:
        self._queue.in_flight = None  # in the same critical section as the outcome: pending never counts it twice
        self._budget.record(answered_at)
        self._counts["sent"] += 1
        self._throttled = 0
        self._queue.delivered(job, operation=operation, sent_at=sent_at, answered_at=answered_at)

    def _failed(self, job: Job, exc: Exception, sent_at: float) -> None:
        now = self.clock.monotonic()
        plan = plan_failure(job.kind, exc, attempts=job.attempts, ambiguous=job.ambiguous,
                            throttled=self._throttled)  # only this thread changes `_throttled`
        # Reported while the job still counts as pending: a flush() that returns has seen its warning.
        self._report(exc, job, notice(plan, exc, job.label))
        with self._lock:
            self._queue.in_flight = None  # a requeued job must not count as queued and in flight at once
            if plan.reached:
                self._budget.record(now)
            if plan.throttled:  # a 429 pauses every send
                self._throttled += 1
                self._queue.paused_until = max(self._queue.paused_until, now + plan.delay)
            elif plan.verdict is not Verdict.WAIT_FOR_SLOT:
                self._throttled = 0
            if plan.verdict is Verdict.DELIVERED:
                self._delivered(job, operation=None, sent_at=sent_at, answered_at=now)
            elif plan.verdict is Verdict.STOP:
                self.auth_failed = True
                self._counts["failed"] += 1 + self._queue.drop_all()
            elif plan.verdict is Verdict.GIVE_UP:
                self._counts["failed"] += 1
                self._queue.refused(job, now)  # do not hammer a refused stream with its next states
            else:
                if plan.verdict is Verdict.WAIT_FOR_SLOT:
                    self._queue.wait_for_slot(job.key, now + plan.delay)
                    not_before = now
                else:
                    not_before = now + plan.delay
                requeued = self._queue.requeue(job, not_before=not_before, reached=plan.reached)
                self._counts["retried" if requeued else "coalesced"] += 1

    def _report(self, exc: BaseException, job: Job, note: Notice) -> None:
        """Keep `exc` in `last_error` and log one line naming the send (report.py): the first failure of
        each kind at WARNING, the later ones (and quiet flow control) at INFO. Never prints, never warns."""
        self.last_error = exc
        with self._lock:
            first = not note.quiet and note.topic not in self._warned
            self._warned.add(note.topic)
        if first or logger.isEnabledFor(logging.INFO):
            logger.log(logging.WARNING if first else logging.INFO, "%s",
                       describe(job.kind, job.label, job.body, exc, note.what, first=first))

def _field(response: Any, name: str) -> Any:
    """A field of a response. Never called under the dispatcher's lock: the ABC check may collect garbage,
    and a finalizer that takes tqdm's lock (a bar's, or tqdm.contrib's file wrapper's) would then wait
    for a thread that holds tqdm's lock and waits for ours."""
    if isinstance(response, Mapping):
        return response.get(name)
    return getattr(response, name, None)


def _without_retries(client: Any) -> Any:
    """A view of `client` that makes one attempt per call: the dispatcher retries itself, on its own
    clock and budget (a client retry would sleep in the sender and spend budget unseen)."""
    with_options = getattr(client, "with_options", None)
    return with_options(max_retries=0) if with_options is not None else client


# ------------------------------------------------------------------------------ one per client

_registry_lock = threading.Lock()
_by_client: dict[int, tuple[Any, Dispatcher]] = {}
_all: weakref.WeakSet[Dispatcher] = weakref.WeakSet()
_hook_installed = False


def _register(dispatcher: Dispatcher) -> None:
    global _hook_installed
    with _registry_lock:
        _all.add(dispatcher)
        if not _hook_installed:
            atexit.register(keep_interrupted_exit)  # first, so it runs last (atexit is LIFO)
            atexit.register(_flush_at_exit)
            _hook_installed = True


def dispatcher_for(client: Any = None) -> Dispatcher:
    """The dispatcher of `client` (default: `default_client()`), created on first use, and again after
    the last one was closed."""
    if client is None:
        from ..api.client import default_client

        client = default_client()
    with _registry_lock:
        entry = _by_client.get(id(client))
        if entry is not None and entry[0] is client and entry[1].state is not DispatcherState.CLOSED:
            return entry[1]
    dispatcher = Dispatcher(client)
    with _registry_lock:
        entry = _by_client.get(id(client))
        if entry is not None and entry[0] is client and entry[1].state is not DispatcherState.CLOSED:
            _all.discard(dispatcher)  # another thread won
            return entry[1]
        _by_client[id(client)] = (client, dispatcher)
        return dispatcher


def _after_fork_in_child() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    for dispatcher in list(_all):
        dispatcher._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _flush_at_exit() -> None:
    """atexit: give every dispatcher's pending sends one shared bound (the largest exit_timeout), within
    the process's exit budget (``exit_budget``: the watchdog's hand-over may have spent part of it)."""
    with _registry_lock:
        dispatchers = [d for d in _all if d.state is DispatcherState.OPENED]
    if not dispatchers:
        return
    deadline = min(time.monotonic() + max(d.exit_timeout for d in dispatchers), begin_exit())
    for d in dispatchers:
        try:
            d.close(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - exit must go on
            logger.debug("flush at exit failed", exc_info=True)
