"""One background sender per client: the user's code submits and returns at once.

* Stream updates coalesce per stream key: the newest state replaces one still waiting.
* Ends (``DELETE`` of a stream) and pushes are terminal: never dropped, never coalesced away, an end
  always after the updates of its key, a push never sent twice.
* Budget: at most ``requests_per_minute`` requests in any 60 s across every stream and push, with
  ``reserve`` of them kept for terminal sends; a 429 pauses everything for its Retry-After; update
  pacing per activity follows `UpdatePolicy` (the iOS budget, see policy.py).
* Failures are logged to ``logging.getLogger("activitysmith_jupyter")``, kept in ``last_error`` and
  warned about once (``warnings.warn``); they are never raised into the caller. Bad input is: every
  submit validates with `payloads` first and raises `PayloadError` in the caller.
* At interpreter/kernel exit an ``atexit`` hook gives pending sends ``exit_timeout`` (5 s) to land.

Imports no tqdm and no IPython.
"""
from __future__ import annotations

import atexit
import logging
import math
import threading
import time
import warnings
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import payloads
from ._retry import Failure, classify_failure, exponential_backoff, is_retryable
from .clock import SYSTEM_CLOCK, Clock
from .errors import APIConnectionError, APIError, LiveActivityLimitError, NotFoundError, RateLimitError
from .policy import RequestBudget, StreamPacing, UpdatePolicy

__all__ = ["Dispatcher", "DispatchStats", "dispatcher_for", "UpdatePolicy"]

logger = logging.getLogger("activitysmith_jupyter")

DEFAULT_EXIT_TIMEOUT = 5.0
DEFAULT_RESERVE = 10
MAX_BACKOFF = 30.0  # seconds between two attempts of one send, at most
MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this
LIVE_ACTIVITY_LIMIT_BACKOFF = 15.0  # device full (4 activities): try the start again later
_PUSH_KEY = "\x00push"  # pushes keep their order among themselves


@dataclass(frozen=True, kw_only=True)
class DispatchStats:
    """Counters for a status line and tests. pending = waiting + in flight."""

    sent: int = 0
    coalesced: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0


class _Job:
    __slots__ = ("kind", "key", "body", "attempts", "not_before", "ambiguous")

    def __init__(self, kind: str, key: str, body: dict[str, Any] | None) -> None:
        self.kind = kind  # "update" | "end" | "push"
        self.key = key
        self.body = body
        self.attempts = 0
        self.not_before = -math.inf
        self.ambiguous = False  # an earlier attempt may have reached the server

    @property
    def terminal(self) -> bool:
        return self.kind != "update"


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
        self.policy = policy if policy is not None else UpdatePolicy()
        self.exit_timeout = exit_timeout
        self._sender = _without_retries(client)
        self._budget = RequestBudget(requests_per_minute, reserve=reserve)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # pending work went down / worker stopped
        self._wake = threading.Event()  # new work, or close()
        self._queue: list[_Job] = []
        self._waiting: dict[str, _Job] = {}  # stream key -> its queued update
        self._pacing: dict[str, StreamPacing] = {}
        self._policies: dict[str, UpdatePolicy] = {}  # per-stream overrides of `policy`
        self._in_flight: _Job | None = None
        self._paused_until = -math.inf  # 429 Retry-After, for every request
        self._rush = 0  # > 0 while someone flushes: waiting updates skip the pacing
        self._closing = False
        self._thread: threading.Thread | None = None
        self._counts = dict.fromkeys(("sent", "coalesced", "retried", "failed"), 0)
        self._warned = False
        self.last_error: BaseException | None = None
        _register(self)

    # ------------------------------------------------------------------------------ submitting

    def update_stream(self, key: str, request: Mapping[str, Any], *, policy: UpdatePolicy | None = None) -> None:
        """Queue a stream PUT; it replaces an update of `key` that is still waiting.

        `policy`: pacing for this stream until its end (default: the dispatcher's `policy`).
        """
        body = payloads.prepare("stream", request, key=key)
        with self._lock:
            if not self._accepting("update", key):
                return
            if policy is not None:
                self._policies[key] = policy
            job = self._waiting.get(key)
            if job is not None:
                job.body = body
                self._counts["coalesced"] += 1
            else:
                job = self._waiting[key] = _Job("update", key, body)
                self._queue.append(job)
        self._kick()

    def end_stream(self, key: str, request: Mapping[str, Any] | None = None) -> None:
        """Queue the end of a stream (terminal). Without a request the server keeps the latest state."""
        body = payloads.prepare("end_stream", request, key=key) or None
        with self._lock:
            if not self._accepting("end", key):
                return
            waiting = self._waiting.pop(key, None)
            pacing = self._pacing.get(key)
            # A waiting update is superseded by an end that carries a state -- unless it would start
            # the activity (none started, or it waits behind the end of the last one): then it goes
            # first, so there is something to end.
            if (waiting is not None and body and "content_state" in body and pacing and pacing.started is not None
                    and not self._ending(key)):
                self._queue.remove(waiting)
                self._counts["coalesced"] += 1
            self._queue.append(_Job("end", key, body))
        self._kick()

    def push(self, request: Mapping[str, Any]) -> None:
        """Queue a push notification (terminal: never dropped, never sent twice)."""
        body = payloads.prepare("push", request)
        with self._lock:
            if not self._accepting("push", None):
                return
            self._queue.append(_Job("push", _PUSH_KEY, body))
        self._kick()

    def next_update_time(self, key: str) -> float:
        """Earliest ``clock.monotonic()`` time an update of `key` is worth building.

        ``inf`` while one is waiting or in flight (it will carry the state); ``-inf`` for a stream
        that has not started, or whose end is pending (the next update starts a new activity: the
        ended one's pacing is not its). Cheap: callers poll it from their own display cadence.
        """
        with self._lock:
            flying = self._in_flight
            if key in self._waiting or (flying is not None and flying.key == key and flying.kind == "update"):
                return math.inf
            return -math.inf if self._ending(key) else self._next_time(key)

    def _ending(self, key: str) -> bool:
        """An end of `key` is queued or in flight (its pacing is dropped only once the end was sent)."""
        flying = self._in_flight
        return (flying is not None and flying.key == key and flying.kind == "end") or any(
            job.key == key and job.kind == "end" for job in self._queue)

    def _next_time(self, key: str) -> float:
        pacing = self._pacing.get(key)
        if pacing is None:
            return -math.inf
        return pacing.next_time(self._policies.get(key, self.policy))

    # ------------------------------------------------------------------------------ waiting

    @property
    def stats(self) -> DispatchStats:
        with self._lock:
            pending = len(self._queue) + (self._in_flight is not None)
            return DispatchStats(pending=pending, **self._counts)

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now (waiting updates skip the per-activity pacing) and wait.

        `timeout` is in real seconds (None: no bound). True when nothing is pending any more.
        """
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._lock:
            self._rush += 1
        self._kick()
        try:
            with self._lock:
                while self._queue or self._in_flight is not None:
                    if self._thread is None or not self._thread.is_alive():
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._changed.wait(0.05 if remaining is None else min(remaining, 0.05))
                return not self._queue and self._in_flight is None
        finally:
            with self._lock:
                self._rush -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Flush within `timeout` (real seconds), then stop the sender. Later submits are dropped."""
        done = self.flush(timeout)
        with self._lock:
            self._closing = True
            left = len(self._queue)
        self._kick()
        if left:
            logger.warning("activitysmith_jupyter: %d send(s) still pending at close were abandoned", left)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.5 if timeout is None else max(0.05, min(timeout, 0.5)))
        return done

    def __repr__(self) -> str:
        s = self.stats
        return (f"Dispatcher(sent={s.sent}, pending={s.pending}, coalesced={s.coalesced}, "
                f"retried={s.retried}, failed={s.failed})")

    # ------------------------------------------------------------------------------ worker

    def _accepting(self, kind: str, key: str | None) -> bool:
        if self._closing:
            logger.warning("activitysmith_jupyter: dispatcher closed; %s for %r dropped", kind, key)
            return False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="activitysmith-dispatch", daemon=True)
            self._thread.start()
        return True

    def _kick(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.clear()
            with self._lock:
                if self._closing and (not self._queue or self._rush == 0):
                    self._changed.notify_all()
                    return
                job, ready_at = self._take(self.clock.monotonic())
                if job is not None:
                    self._in_flight = job
            if job is None:
                if ready_at is None:
                    self._wake.wait()
                else:
                    self.clock.wait(self._wake, max(0.0, ready_at - self.clock.monotonic()))
                continue
            try:
                self._send(job)
            except BaseException as exc:  # noqa: BLE001 - a bug must not kill the sender
                self._report(exc, job, "internal error")
                with self._lock:
                    self._counts["failed"] += 1
            finally:
                with self._lock:
                    self._in_flight = None
                    self._changed.notify_all()

    def _take(self, now: float) -> tuple[_Job | None, float | None]:
        """The first job that may go now (removed from the queue), or the earliest time one may."""
        earliest: float | None = None
        blocked: set[str] = set()
        for index, job in enumerate(self._queue):
            if job.key in blocked:
                continue
            blocked.add(job.key)  # later jobs of this key wait for this one
            ready = max(job.not_before, self._paused_until)
            if job.kind == "update" and not self._rush:
                ready = max(ready, self._next_time(job.key))
            ready = max(ready, now + self._budget.wait_time(now, terminal=job.terminal))
            if ready <= now:
                del self._queue[index]
                if job.kind == "update" and self._waiting.get(job.key) is job:
                    del self._waiting[job.key]
                return job, None
            earliest = ready if earliest is None else min(earliest, ready)
        return None, earliest

    def _send(self, job: _Job) -> None:
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
        with self._lock:
            self._budget.record(answered)
            self._counts["sent"] += 1
            if job.kind == "update":
                operation = _field(response, "operation")
                self._pacing.setdefault(job.key, StreamPacing()).record(
                    operation=operation, sent_at=sent_at, answered_at=answered)
            elif job.kind == "end":  # the next PUT starts a new activity
                self._pacing.pop(job.key, None)
                self._policies.pop(job.key, None)
        warning = _field(response, "warning")
        if warning:
            logger.info("activitysmith_jupyter: %s %r: %s", job.kind, job.key, warning)

    def _failed(self, job: _Job, exc: Exception, sent_at: float) -> None:
        now = self.clock.monotonic()
        failure = classify_failure(exc.__cause__) if isinstance(exc, APIConnectionError) and exc.__cause__ else None
        reached = not (isinstance(exc, APIConnectionError) and failure is Failure.NOT_SENT)
        if job.kind == "end" and job.ambiguous and isinstance(exc, NotFoundError):
            # an earlier attempt ended it but its answer was lost
            with self._lock:
                self._budget.record(now)
                self._counts["sent"] += 1
                self._pacing.pop(job.key, None)
            return
        retry, delay = self._retry_plan(job, exc, failure)
        with self._lock:
            if reached:
                self._budget.record(now)
            if isinstance(exc, RateLimitError) and not isinstance(exc, LiveActivityLimitError):
                self._paused_until = max(self._paused_until, now + delay)
            if retry and not self._superseded(job):
                job.attempts += 1
                job.ambiguous = job.ambiguous or reached
                job.not_before = now + delay
                self._queue.insert(0, job)  # it was the first of its key
                if job.kind == "update":
                    self._waiting[job.key] = job
                self._counts["retried"] += 1
            elif retry:
                self._counts["coalesced"] += 1
            else:
                self._counts["failed"] += 1
                if job.kind == "update":  # refused (400/402/403...): do not hammer it with the next states
                    self._pacing.setdefault(job.key, StreamPacing()).refused(now)
        # 429s are flow control: logged, but the user hears only of real trouble
        quiet = retry and isinstance(exc, RateLimitError)
        self._report(exc, job, f"will retry in {delay:.0f} s" if retry else "given up", warn=not quiet)

    def _retry_plan(self, job: _Job, exc: Exception, failure: Failure | None) -> tuple[bool, float]:
        attempt_delay = exponential_backoff(job.attempts, base=1.0, cap=MAX_BACKOFF)
        if isinstance(exc, LiveActivityLimitError):
            # The device shows 4 activities already: a start waits for a free slot.
            return job.kind == "update", max(attempt_delay, LIVE_ACTIVITY_LIMIT_BACKOFF)
        if isinstance(exc, RateLimitError):  # refused before acting: safe for every kind
            after = exc.retry_after
            return True, min(after, MAX_RETRY_AFTER) if after is not None else attempt_delay
        if isinstance(exc, APIError):
            if job.kind == "push":  # 503: the server says it did not handle it
                return exc.status == 503, attempt_delay
            return is_retryable(exc.method or "PUT", exc.path or "", status=exc.status), attempt_delay
        if isinstance(exc, APIConnectionError):
            if job.kind == "push":
                return failure is Failure.NOT_SENT, attempt_delay
            return failure is not Failure.OTHER, attempt_delay
        return False, 0.0

    def _superseded(self, job: _Job) -> bool:
        """A failed update need not be retried when a newer update of its key is queued, or an end
        is and the activity has started (a start is kept: the end needs something to end)."""
        if job.kind != "update":
            return False
        pacing = self._pacing.get(job.key)
        started = pacing is not None and pacing.started is not None
        return any(other.key == job.key and (other.kind == "update" or started) for other in self._queue)

    def _report(self, exc: BaseException, job: _Job, what: str, *, warn: bool = True) -> None:
        self.last_error = exc
        logger.log(logging.WARNING if warn else logging.INFO, "activitysmith_jupyter: %s for %r failed (%s): %s",
                   job.kind, None if job.key == _PUSH_KEY else job.key, what, exc)
        if warn and not self._warned:
            self._warned = True
            try:
                warnings.warn(f"activitysmith_jupyter: sending to ActivitySmith failed ({exc}); "
                              "your code keeps running, details in the 'activitysmith_jupyter' log",
                              RuntimeWarning, stacklevel=2)
            except Exception:  # noqa: BLE001 - e.g. warnings turned into errors in this thread
                logger.debug("could not show the warning", exc_info=True)


def _field(response: Any, name: str) -> Any:
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
            atexit.register(_flush_at_exit)
            _hook_installed = True


def dispatcher_for(client: Any = None) -> Dispatcher:
    """The dispatcher of `client` (default: `default_client()`), created on first use."""
    if client is None:
        from .client import default_client

        client = default_client()
    with _registry_lock:
        entry = _by_client.get(id(client))
        if entry is not None and entry[0] is client:
            return entry[1]
    dispatcher = Dispatcher(client)
    with _registry_lock:
        entry = _by_client.setdefault(id(client), (client, dispatcher))
        if entry[1] is not dispatcher:  # another thread won
            _all.discard(dispatcher)
        return entry[1]


def _flush_at_exit() -> None:
    """atexit: give every dispatcher's pending sends one shared bound (the largest exit_timeout)."""
    with _registry_lock:
        dispatchers = [d for d in _all if d._thread is not None]
    if not dispatchers:
        return
    deadline = time.monotonic() + max(d.exit_timeout for d in dispatchers)
    for d in dispatchers:
        try:
            d.close(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - exit must go on
            logger.debug("flush at exit failed", exc_info=True)

